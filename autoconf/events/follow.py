"""Reading Dovecot logs into the store: a file, standard input, or a live file followed.

The only I/O of events/. Complete lines are parsed in chunks; each batch of session
patches and mail records is written in ONE transaction together with the byte position
after its last line (and the file's inode). A crash at any moment therefore leaves the
store at a batch boundary, and a restart continues exactly there: nothing lost, nothing
counted twice. Following survives rotation by rename (the old file is read to its end,
then the new one from the start) and by copytruncate (the file shrinks: start again at 0).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import structlog

from autoconf.events.dovecot_log import Parser
from autoconf.events.sessions import FOLDS, MailRecord, Session, fold
from autoconf.store.base import Checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import tzinfo
    from pathlib import Path

    from autoconf.store.base import Store

log = structlog.get_logger("autoconf.ingest")
CHUNK = 1 << 20
# Lines parsed between two turns of the event loop while a batch is being written: each
# statement of the write resumes only on a turn, and reading a chunk gives too few of them.
# A 20,000-line batch is written in 10 to 30 statements (of up to 512 rows, see
# SQLiteStore.apply): 80 turns per batch keep the writer busy at a cost of a few ms.
SLICE = 250


@dataclass
class Summary:
    """What an ingest run read and wrote."""

    lines: int = 0
    events: int = 0
    sessions: int = 0  # distinct sessions read
    mail_events: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0

    def as_dict(self) -> dict[str, object]:
        """For --json and the log."""
        return {
            "lines": self.lines,
            "events": self.events,
            "sessions": self.sessions,
            "mail_events": self.mail_events,
            "skipped": dict(sorted(self.skipped.items())),
            "bytes": self.bytes_read,
        }


@dataclass
class Options:
    """How to parse and how often to write."""

    year: int
    zone: tzinfo
    default_domain: str | None = None
    batch_lines: int = 20_000
    batch_seconds: float = 0.5
    poll_seconds: float = 0.25


class Ingest:
    """Parses lines, turns events into patches and writes them with the read position."""

    def __init__(
        self,
        store: Store,
        options: Options,
        progress: Callable[[Summary, int, int], None] | None = None,
        on_commit: Callable[[list[Session], list[MailRecord]], None] | None = None,
    ) -> None:
        self.store = store
        self.on_commit = on_commit  # each batch once it is in the store (metrics)
        self.options = options
        self.parser = Parser(year=options.year, default_domain=options.default_domain)
        self.summary = Summary()
        self._progress = progress
        # the batch's session patches, merged per session (a login and its logout usually
        # share a batch: one row to write instead of an insert and an update)
        self._sessions: dict[str, Session] = {}
        self._mail: list[MailRecord] = []
        self._pending_lines = 0
        self._last_write = time.monotonic()
        self._inflight: asyncio.Task[None] | None = None
        self._inflight_batch: tuple[list[Session], list[MailRecord]] = ([], [])
        self._open: set[str] = set()  # sessions counted whose end has not been read yet

    def _take(self, lines: list[str] | list[bytes]) -> None:
        zone = self.options.zone
        sessions, mail, seen = self._sessions, self._mail, self._open
        get = FOLDS.get
        for event in self.parser.parse(lines):
            # each event merged into the batch's session (in place, as the store would merge
            # the patches in order), or added as a mail record
            new = (get(type(event)) or fold)(event, zone, sessions, mail)
            if new is not None and new not in seen:
                seen.add(new)
                self.summary.sessions += 1
        self._pending_lines += len(lines)

    async def _feed(self, lines: list[str]) -> None:
        """``_take`` the lines, in slices while a write is in flight so that it advances."""
        if self._inflight is None or self._inflight.done():
            self._take(lines)
            return
        for start in range(0, len(lines), SLICE):
            self._take(lines[start : start + SLICE])
            await asyncio.sleep(0)

    def _due(self) -> bool:
        return self._pending_lines >= self.options.batch_lines or (
            self._pending_lines > 0
            and time.monotonic() - self._last_write >= self.options.batch_seconds
        )

    async def _write(self, checkpoint: Checkpoint | None) -> None:
        """Hand the batch to the store and go on parsing while it is written.

        Batches are written one after the other, each with its checkpoint, so a crash
        still leaves the store at a batch boundary; only the waiting overlaps.
        """
        await self.settle()
        sessions, mail = list(self._sessions.values()), self._mail
        self._inflight = asyncio.get_running_loop().create_task(
            self.store.apply(sessions, mail, checkpoint), name="ingest-write"
        )
        self._inflight_batch = (sessions, mail)
        # sessions whose end was read are forgotten, so memory stays flat on a long log
        self._open.difference_update([s.key for s in sessions if s.ended_at is not None])
        self.summary.mail_events += len(mail)
        self._sessions, self._mail = {}, []
        self._pending_lines = 0
        self._last_write = time.monotonic()
        self.summary.lines = self.parser.lines
        self.summary.events = self.parser.events
        self.summary.skipped = dict(self.parser.skipped)

    async def settle(self) -> None:
        """Wait until the batch being written is in the store (errors surface here)."""
        if self._inflight is not None:
            task, self._inflight = self._inflight, None
            await task
            batch, self._inflight_batch = self._inflight_batch, ([], [])
            if self.on_commit is not None:
                self.on_commit(*batch)

    async def stream(self, source: BinaryIO) -> Summary:
        """Read a stream (standard input) to its end; no checkpoint, it cannot be re-read."""
        rest = b""
        while True:
            # read1: whatever a pipe has now, so a live `tail -f | autoconf ingest -` flows
            chunk = await asyncio.to_thread(getattr(source, "read1", source.read), CHUNK)
            if not chunk:
                break
            self.summary.bytes_read += len(chunk)
            data = rest + chunk
            end = data.rfind(b"\n") + 1
            rest = data[end:]
            await self._feed(_lines(data[:end]))
            if self._due():
                await self._write(None)
        if rest:
            self._take([rest])
        await self._write(None)
        await self.settle()
        return self.summary

    async def file(
        self, path: Path, *, follow: bool = False, stop: asyncio.Event | None = None
    ) -> Summary:
        """Read ``path`` from its checkpoint; with ``follow`` keep reading until ``stop``."""
        source = str(path.resolve())
        saved = await self.store.checkpoint(source)
        handle, inode, position = await self._open_at(path, source, saved)
        try:
            while True:
                position = await self._drain(handle, inode, position, source)
                if not follow or (stop is not None and stop.is_set()):
                    break
                moved = await self._wait_for_more(path, Checkpoint(source, inode, position), stop)
                if moved == "rotated":
                    position = await self._drain(handle, inode, position, source, final=True)
                    handle.close()
                    log.info("ingest.rotated", source=source)
                    handle = path.open("rb")
                    inode, position = os.fstat(handle.fileno()).st_ino, 0
                elif moved == "truncated":
                    log.info("ingest.truncated", source=source)
                    handle.seek(0)
                    position = 0
                elif moved == "stopped":
                    break
            await self._write(Checkpoint(source, inode, position))
            await self.settle()
        finally:
            handle.close()
        return self.summary

    async def _open_at(
        self, path: Path, source: str, saved: Checkpoint | None
    ) -> tuple[BinaryIO, int, int]:
        handle = path.open("rb")
        stat = os.fstat(handle.fileno())
        if saved is None:
            return handle, stat.st_ino, 0
        if saved.inode == stat.st_ino:
            position = saved.position if saved.position <= stat.st_size else 0
            handle.seek(position)
            return handle, stat.st_ino, position
        rotated = _find_inode(path, saved.inode)
        if rotated is not None:  # the file was rotated while we were stopped: finish it first
            log.info("ingest.catch_up", source=source, rotated=str(rotated))
            with rotated.open("rb") as old:
                old.seek(saved.position)
                await self._drain(old, saved.inode, saved.position, source, final=True)
        return handle, stat.st_ino, 0

    async def _drain(
        self, handle: BinaryIO, inode: int, position: int, source: str, *, final: bool = False
    ) -> int:
        """Read complete lines to the end of the file; return the position after them."""
        total = os.fstat(handle.fileno()).st_size
        while True:
            chunk = await asyncio.to_thread(handle.read, CHUNK)
            if not chunk:
                break
            end = chunk.rfind(b"\n")
            if end < 0:
                if final or len(chunk) >= CHUNK:  # a line longer than a chunk: take it as is
                    end = len(chunk) - 1
                else:
                    handle.seek(position)  # an incomplete last line: read it again later
                    break
            complete = chunk[: end + 1]
            if end + 1 < len(chunk):
                handle.seek(position + end + 1)
            await self._feed(_lines(complete))
            position += len(complete)
            self.summary.bytes_read += len(complete)
            if self._due():
                await self._write(Checkpoint(source, inode, position))
            if self._progress is not None:
                self._progress(self.summary, position, total)
        return position

    async def _wait_for_more(self, path: Path, at: Checkpoint, stop: asyncio.Event | None) -> str:
        """Write what is pending, then sleep until the file changes or ``stop`` is set.

        Returns "grown", "rotated", "truncated" or "stopped".
        """
        inode, position = at.inode, at.position
        while True:
            if self._pending_lines:
                await self._write(at)
            await self.settle()
            if stop is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.options.poll_seconds)
                if stop.is_set():
                    return "stopped"
            else:
                await asyncio.sleep(self.options.poll_seconds)
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue  # between the rename and the new file
            if stat.st_ino != inode:
                return "rotated"
            if stat.st_size < position:
                return "truncated"
            if stat.st_size > position:
                return "grown"


def _lines(complete: bytes) -> list[str]:
    """The lines of ``complete`` (which ends with a newline, or is empty), decoded at once.

    One decode of the whole chunk instead of one per line. Bytes that are not UTF-8 become
    lone surrogates, which the parser counts as ``binary`` as it would the bytes line.
    """
    lines = complete.decode("utf-8", "surrogateescape").split("\n")
    lines.pop()
    return lines


def _find_inode(path: Path, inode: int) -> Path | None:
    """A file beside ``path`` (its rotated copy, e.g. mail.log.1) with the given inode."""
    for candidate in path.parent.glob(path.name + "*"):
        try:
            if candidate.stat().st_ino == inode and candidate.is_file():
                return candidate
        except OSError:
            continue
    return None

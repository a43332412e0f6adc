"""Reading Dovecot logs into the store: a file, standard input, or a live file followed.

The I/O of events/, with workers.py (the worker processes) and the worker's own loop in
pieces.py; the parsers are pure. Complete lines are folded into batches of session rows
and mail rows; each batch is written in ONE transaction together with the byte position
after its last line (and the file's inode). A crash at any moment therefore leaves the store at a
batch boundary, and a restart continues exactly there: nothing lost, nothing counted twice.
Following survives rotation by rename (the old file is read to its end, then the new one
from the start) and by copytruncate (the file shrinks: start again at 0).

The folding runs in this process (``Options.workers`` 0) or in worker processes
(workers.py): pieces of a quarter of ``batch_lines`` go to the workers in turn and come back
as rows, which are written in the order of the log while the workers fold the next pieces.
Either way the store ends up with the same rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

import structlog

from autoconf.events.dovecot_log import Parser
from autoconf.events.pieces import Folded, fold_piece, predict_year
from autoconf.events.sessions import SESSION_COLUMNS
from autoconf.events.workers import Workers
from autoconf.store.base import Checkpoint

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import tzinfo
    from pathlib import Path

    from autoconf.events.sessions import MailRow, Row
    from autoconf.store.base import Store

log = structlog.get_logger("autoconf.ingest")
CHUNK = 1 << 20
_ENDED_AT = SESSION_COLUMNS.index("ended_at")


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
    """How to parse, how often to write, and where to fold."""

    year: int
    zone: tzinfo
    default_domain: str | None = None
    batch_lines: int = 20_000
    batch_seconds: float = 0.5
    poll_seconds: float = 0.25
    workers: int = 0
    """Worker processes that fold the log (0: fold in this process)."""


WORKERS_FROM = 8 << 20
"""Below this much to read, starting worker processes (0.1 s) costs more than they save."""


def workers_for(size: int | None) -> int:
    """Worker processes for an input of ``size`` bytes (``None``: a stream, size unknown).

    One per core, at most 4 (the ingest process writes the store: more workers wait on it),
    for a stream or a file of ``WORKERS_FROM`` or more; none for a smaller file.
    """
    if size is not None and size < WORKERS_FROM:
        return 0
    return min(os.cpu_count() or 1, 4)


@dataclass
class _Batch:
    """Rows to write in one transaction, with the read position after their lines."""

    sessions: list[Row]
    mail: list[MailRow]
    checkpoint: Checkpoint | None


@dataclass
class _Piece:
    """A piece handed to a worker, until its rows are written."""

    seq: int
    data: bytes
    checkpoint: Checkpoint | None
    start: tuple[int, int]  # the year state it was handed out with


class Ingest:
    """Folds lines into session and mail rows and writes them with the read position."""

    def __init__(
        self,
        store: Store,
        options: Options,
        progress: Callable[[Summary, int, int], None] | None = None,
        on_commit: Callable[[list[Row], list[MailRow]], None] | None = None,
    ) -> None:
        self.store = store
        self.on_commit = on_commit  # each batch once it is in the store (metrics)
        self.options = options
        self.parser = Parser(year=options.year, default_domain=options.default_domain)
        self.summary = Summary()
        self._progress = progress
        # the batch's session rows, merged per session (a login and its logout usually
        # share a batch: one row to write instead of an insert and an update)
        self._sessions: dict[str, Row] = {}
        self._mail: list[MailRow] = []
        self._checkpoint: Checkpoint | None = None  # after the last line of the batch
        self._counted = 0  # the parser's lines at the last batch
        self._pending_lines = 0
        self._last_write = time.monotonic()
        # batches handed to the writer (one written, one waiting at most), and the writer
        self._batches: asyncio.Queue[_Batch] = asyncio.Queue(maxsize=1)
        self._writer: asyncio.Task[None] | None = None
        self._failed: BaseException | None = None  # a write that failed: nothing after it
        self._writing = False  # the writer is writing a batch now
        self._open: set[str] = set()  # sessions counted whose end has not been read yet
        # with workers: the pieces handed out and not yet written, oldest first
        self._workers: Workers | None = None
        self._gathered: list[bytes] = []  # whole lines read, not handed out yet
        self._gathered_lines = 0
        self._gathered_end: Checkpoint | None = None  # the read position after them
        self._gathered_since = 0.0
        self._pieces: deque[_Piece] = deque()
        self._piece_lines = max(1, options.batch_lines // 4)
        self._sessions_out: list[Row] = []  # the rows of the pieces back, not yet written
        self._seq = 0
        self._handed = self.parser.year_state  # the year state after the last piece handed out

    async def _read(self, data: bytes, checkpoint: Checkpoint | None) -> None:
        """Whole lines read, and the read position after them: fold them, write when due."""
        if self.options.workers > 0:
            await self._hand_out(data, checkpoint)
            return
        self.parser.fold(
            data.decode("utf-8", "surrogateescape"), self.options.zone, self._sessions, self._mail
        )
        self._checkpoint = checkpoint
        self._pending_lines = self.parser.lines - self._counted
        if self._pending_lines >= self.options.batch_lines or (
            time.monotonic() - self._last_write >= self.options.batch_seconds
        ):
            await self._write_batch()

    async def _write_batch(self) -> None:
        """Write the batch folded in this process (if it holds any line)."""
        parser = self.parser
        if parser.lines == self._counted:
            return
        self._counted = parser.lines
        sessions, mail = list(self._sessions.values()), self._mail
        self._sessions, self._mail = {}, []
        self._pending_lines = 0
        await self._commit(sessions, mail, self._checkpoint)
        summary = self.summary
        summary.lines, summary.events = parser.lines, parser.events
        summary.skipped = dict(parser.skipped)

    async def _hand_out(self, data: bytes, checkpoint: Checkpoint | None) -> None:
        """Gather whole lines into pieces for the workers, write them as they come back.

        A piece is a quarter of a batch (``batch_lines``), so that the workers share even a
        short log; the rows of consecutive pieces are written in one transaction of about
        ``batch_lines`` lines, as SQLite writes large batches best. A piece is handed out
        when it is full, or when its oldest line waited ``batch_seconds``.
        """
        if not self._gathered:
            self._gathered_since = time.monotonic()
        self._gathered.append(data)
        self._gathered_lines += data.count(b"\n")
        self._gathered_end = checkpoint
        if self._gathered_lines >= self._piece_lines:
            await self._hand_gathered(whole=False)
        elif time.monotonic() - self._gathered_since >= self.options.batch_seconds:
            await self._hand_gathered()

    async def _hand_gathered(self, *, whole: bool = True) -> None:
        """Hand what was gathered to the workers, in pieces of about ``_piece_lines`` lines.

        Unless ``whole``, lines short of a full piece are kept for the next one.
        """
        if not self._gathered:
            return
        if self._workers is None:
            self._workers = Workers(
                self.options.workers, self.options.default_domain, self.options.zone
            )
            await self._workers.start()
        data = b"".join(self._gathered)
        end_at = self._gathered_end
        self._gathered, self._gathered_lines, self._gathered_end = [], 0, None
        start = 0
        for end, lines in _cuts(data, self._piece_lines):
            if not whole and end == len(data) and lines < self._piece_lines:
                # the rest, short of a piece: the start of the next one
                self._gathered, self._gathered_lines = [data[start:]], lines
                self._gathered_end = end_at
                self._gathered_since = time.monotonic()
                break
            at = None
            if end_at is not None:  # the position after this piece
                at = Checkpoint(end_at.source, end_at.inode, end_at.position - len(data) + end)
            piece = data[start:end]
            self._pieces.append(_Piece(self._seq, piece, at, self._handed))
            self._workers.submit(self._seq, self._handed, piece)
            self._handed = predict_year(self._handed, piece)
            self._seq += 1
            start = end
            while len(self._pieces) > self._workers.count + 1:  # every worker busy, one ready
                await self._write_piece()

    async def _write_piece(self, *, last: bool = False) -> None:
        """Take the oldest piece handed out, once its worker has folded it, into the batch.

        The batch is written when it holds ``batch_lines`` lines, or when ``last`` and no
        piece is out any more.
        """
        if self._workers is None or not self._pieces:
            return
        piece = self._pieces.popleft()
        folded = await self._workers.result(piece.seq)
        if folded.start != self.parser.year_state:
            # folded from a wrong guess of the year (a year boundary inside a piece): again,
            # here, from the year the pieces before it really ended with
            log.info("ingest.refold", piece=piece.seq, guessed=folded.start[0],
                     year=self.parser.year)  # fmt: skip
            folded = fold_piece(self.parser, piece.seq, piece.data, self.options.zone)
            state = folded.end
            for later in self._pieces:  # what the pieces after it will be checked against
                state = predict_year(state, later.data)
            self._handed = state
        self.parser.year_state = folded.end
        self._add(folded)
        self._sessions_out.extend(folded.sessions)  # a session in two pieces: two rows, in order
        self._mail.extend(folded.mail)
        self._checkpoint = piece.checkpoint
        self._pending_lines += folded.lines
        # a batch is written once it holds batch_lines lines and the writer is free; while
        # the writer is still busy it grows (to three times that at most): a larger
        # transaction rewrites fewer index pages per line, which is what SQLite waits on
        full = self._pending_lines >= self.options.batch_lines
        if (
            (full and not self._writing)
            or (last and not self._pieces)
            or (self._pending_lines >= 3 * self.options.batch_lines)
        ):
            sessions, mail = self._sessions_out, self._mail
            self._sessions_out, self._mail, self._pending_lines = [], [], 0
            await self._commit(sessions, mail, self._checkpoint)

    def _add(self, folded: Folded) -> None:
        summary = self.summary
        summary.lines += folded.lines
        summary.events += folded.events
        for kind, count in folded.skipped.items():
            summary.skipped[kind] = summary.skipped.get(kind, 0) + count

    async def _commit(
        self, sessions: list[Row], mail: list[MailRow], checkpoint: Checkpoint | None
    ) -> None:
        """Hand a batch to the writer and go on folding while it is written.

        Batches are written one after the other, each with its checkpoint, so a crash
        still leaves the store at a batch boundary; only the waiting overlaps. This waits
        only while an earlier batch is still waiting to be written.
        """
        if self._failed is not None:
            raise self._failed
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(
                self._write_batches(), name="ingest-writer"
            )
        await self._batches.put(_Batch(sessions, mail, checkpoint))
        self._last_write = time.monotonic()
        # distinct sessions: a key is counted when first seen, and forgotten once its end
        # was read (memory stays flat on a long log)
        seen = self._open
        for row in sessions:
            if row[0] not in seen:
                seen.add(row[0])
                self.summary.sessions += 1
        seen.difference_update([row[0] for row in sessions if row[_ENDED_AT] is not None])
        self.summary.mail_events += len(mail)

    async def _write_batches(self) -> None:
        """The writer: each batch in turn, in the order it was handed over."""
        while True:
            batch = await self._batches.get()
            self._writing = True
            try:
                if self._failed is None:  # after a failed write, nothing more is written
                    await self.store.apply_rows(batch.sessions, batch.mail, batch.checkpoint)
                    if self.on_commit is not None:
                        self.on_commit(batch.sessions, batch.mail)
            except Exception as exc:  # noqa: BLE001 - handed to whoever waits (settle, commit)
                self._failed = exc
            finally:
                self._writing = False
                self._batches.task_done()

    async def flush(self) -> None:
        """Write everything read so far (and wait until it is in the store)."""
        if self.options.workers > 0:
            await self._hand_gathered()
        else:
            await self._write_batch()
        while self._pieces:
            await self._write_piece(last=True)
        await self.settle()

    async def settle(self) -> None:
        """Wait until every batch handed over is in the store (errors surface here)."""
        if self._writer is not None:
            await self._batches.join()
        if self._failed is not None:
            raise self._failed

    async def close(self) -> None:
        """Stop the writer and the workers (what was not written is read again next time)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        if self._workers is not None:
            workers, self._workers = self._workers, None
            self._pieces.clear()
            await workers.close()

    async def stream(self, source: BinaryIO) -> Summary:
        """Read a stream (standard input) to its end; no checkpoint, it cannot be re-read.

        What was read is written when the stream has been quiet for ``batch_seconds``, so
        the lines of a live ``tail -f | autoconf ingest -`` reach the store within that.
        """
        rest = b""
        await self.store.for_ingest()
        # read1: whatever a pipe has now, so a live stream flows
        read = getattr(source, "read1", source.read)
        try:
            while True:
                reading = asyncio.ensure_future(asyncio.to_thread(read, CHUNK))
                while not (await asyncio.wait({reading}, timeout=self.options.batch_seconds))[0]:
                    await self.flush()  # quiet: write what was read, keep waiting
                chunk = reading.result()
                if not chunk:
                    break
                self.summary.bytes_read += len(chunk)
                data = rest + chunk
                end = data.rfind(b"\n") + 1
                rest = data[end:]
                if end:
                    await self._read(data[:end], None)
            if rest:
                await self._read(rest + b"\n", None)
            await self.flush()
        finally:
            await self.close()
        return self.summary

    async def file(
        self, path: Path, *, follow: bool = False, stop: asyncio.Event | None = None
    ) -> Summary:
        """Read ``path`` from its checkpoint; with ``follow`` keep reading until ``stop``."""
        source = str(path.resolve())
        await self.store.for_ingest()
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
            await self.flush()
        finally:
            handle.close()
            await self.close()
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
            position += len(complete)
            self.summary.bytes_read += len(complete)
            await self._read(complete, Checkpoint(source, inode, position))
            if self._progress is not None:
                self._progress(self.summary, position, total)
        return position

    async def _wait_for_more(self, path: Path, at: Checkpoint, stop: asyncio.Event | None) -> str:
        """Write what is pending, then sleep until the file changes or ``stop`` is set.

        Returns "grown", "rotated", "truncated" or "stopped".
        """
        inode, position = at.inode, at.position
        while True:
            await self.flush()
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


def _cuts(data: bytes, lines: int) -> Iterator[tuple[int, int]]:
    """Where to cut ``data`` (whole lines) into pieces of about ``lines`` lines.

    Yields each piece's end and its number of lines. The length of a piece is guessed from
    the average line of ``data``, then moved to the end of the line it falls in: a count of
    newlines instead of a walk over the lines.
    """
    size = len(data)
    count = data.count(b"\n")
    step = size if count <= lines else max(1, size * lines // count)
    start = 0
    while start < size:
        end = data.find(b"\n", min(start + step, size) - 1) + 1
        end = size if end <= 0 else end
        yield end, data.count(b"\n", start, end)
        start = end


def _find_inode(path: Path, inode: int) -> Path | None:
    """A file beside ``path`` (its rotated copy, e.g. mail.log.1) with the given inode."""
    for candidate in path.parent.glob(path.name + "*"):
        try:
            if candidate.stat().st_ino == inode and candidate.is_file():
                return candidate
        except OSError:
            continue
    return None

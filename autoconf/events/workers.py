"""The worker processes of one ingest: pieces of the log handed out, their rows read back.

The parent side of pieces.py. ``Workers`` starts ``count`` workers, hands piece ``seq`` to
worker ``seq % count`` and reads each worker's results as soon as they come, so that each
comes back in the order it was handed out and no pipe waits on the other.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import marshal
import os
import sys
from typing import TYPE_CHECKING

import structlog

from autoconf.errors import AutoconfError
from autoconf.events.pieces import FRAME, Folded, frame, zone_key

if TYPE_CHECKING:
    from datetime import tzinfo

log = structlog.get_logger("autoconf.ingest")


class Workers:
    """The worker processes of one ingest, fed and read in turn.

    Piece ``seq`` goes to worker ``seq % count``, so each worker's results come back in the
    order they were handed out.
    """

    def __init__(self, count: int, domain: str | None, zone: tzinfo) -> None:
        self.count = count
        self._config = (domain, zone_key(zone))
        self._procs: list[asyncio.subprocess.Process] = []
        # each worker's results, read as soon as they come (a worker that cannot write its
        # result would stop reading its next piece, and the two pipes would block each other)
        self._results: list[asyncio.Queue[Folded | None]] = []
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start the workers (a new Python each: this module and the parser only)."""
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        for _ in range(self.count):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "autoconf.events.pieces",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
            )  # fmt: skip
            self._procs.append(proc)
            queue: asyncio.Queue[Folded | None] = asyncio.Queue()
            self._results.append(queue)
            self._readers.append(asyncio.get_running_loop().create_task(
                self._read(proc, queue), name="ingest-worker-results"
            ))  # fmt: skip
            self._send(proc, self._config)

    def submit(self, seq: int, state: tuple[int, int], data: bytes) -> None:
        """Hand piece ``seq`` to its worker, to be folded from the year state ``state``.

        Does not wait for the worker to take it: the pipe's transport holds what the worker
        has not read yet (the ingest bounds how many pieces are out).
        """
        self._send(self._procs[seq % self.count], (seq, *state, data))

    async def result(self, seq: int) -> Folded:
        """Piece ``seq`` folded (the next result of its worker)."""
        index = seq % self.count
        folded = await self._results[index].get()
        if folded is None:
            proc = self._procs[index]
            code = await proc.wait()
            msg = f"An ingest worker (pid {proc.pid}) stopped with exit code {code}."
            raise AutoconfError(msg)
        if folded.seq != seq:  # pragma: no cover - a bug
            raise AutoconfError(f"An ingest worker answered out of turn (piece {seq}).")
        return folded

    @staticmethod
    async def _read(proc: asyncio.subprocess.Process, queue: asyncio.Queue[Folded | None]) -> None:
        """Queue every result of ``proc``; ``None`` once its output ends."""
        stdout = proc.stdout
        try:
            while stdout is not None:
                (size,) = FRAME.unpack(await stdout.readexactly(FRAME.size))
                payload = await stdout.readexactly(size)
                # unmarshalled with the collector paused: rows are many small containers
                collecting = gc.isenabled()
                gc.disable()
                try:
                    folded = Folded(*marshal.loads(payload))  # noqa: S302 - our worker's
                finally:
                    if collecting:
                        gc.enable()
                queue.put_nowait(folded)
        except asyncio.IncompleteReadError:
            pass
        except Exception:  # pragma: no cover - a bug: the ingest stops with the exit code
            log.exception("ingest.worker_output", pid=proc.pid)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        finally:
            queue.put_nowait(None)

    async def close(self) -> None:
        """End the workers: close their input, wait a moment, then kill what is left."""
        for proc in self._procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self._procs:
            try:
                await asyncio.wait_for(proc.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        for reader in self._readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._procs, self._results, self._readers = [], [], []

    @staticmethod
    def _send(proc: asyncio.subprocess.Process, value: object) -> None:
        stdin = proc.stdin
        if stdin is None:  # pragma: no cover - always a pipe
            raise AutoconfError("An ingest worker takes no input.")
        if stdin.is_closing():  # it died; its result() says how
            return
        stdin.write(frame(value))

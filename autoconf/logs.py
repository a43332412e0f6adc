"""Configure structlog once: JSON lines in production, readable lines on a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import select
import sys
import time
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _js
from typing import Any, TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_CONTROL = {i: f"\\x{i:02x}" for i in (*range(32), 127)}
_state: dict[str, Any] = {"access_stream": None}


def _escape_controls(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """Console lines: a request value can never forge a line break or terminal escape."""
    for key, value in event.items():
        if isinstance(value, str) and not value.isprintable():
            event[key] = value.translate(_CONTROL)
    return event


def configure(
    level: str = "info", fmt: str = "auto", stream: TextIO | None = None, *, cache: bool = True
) -> None:
    """Set up structlog for the process; ``fmt`` is json, console or auto.

    ``cache`` binds loggers on first use (fast); tests that reconfigure pass False.
    """
    out = stream or sys.stderr
    console = fmt == "console" or (fmt == "auto" and out.isatty())
    _state["access_stream"] = None if console or _LEVELS[level] > logging.INFO else out
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if console:
        processors += [_escape_controls, structlog.dev.ConsoleRenderer(colors=False)]
    else:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.WriteLoggerFactory(file=out),
        cache_logger_on_first_use=cache,
    )


def access_stream() -> TextIO | None:
    """Where JSON access lines go, if configure() chose JSON at info level; else None."""
    stream: TextIO | None = _state["access_stream"]
    return stream


class AccessLog:
    """The per-request log line, written in batches (every ``interval`` s or ``batch`` lines).

    JSON like every other line, but built without structlog's processor chain: one
    structlog line with a flush cost about 20 us, a fifth of a request; this costs a few.
    Values are JSON-escaped, so a request can never forge a line.
    """

    def __init__(self, stream: TextIO, *, interval: float = 0.1, batch: int = 256) -> None:
        self._stream = stream
        self._interval = interval
        self._batch = batch
        self._lines: list[str] = []
        self._ms = -1
        self._stamp = ""
        self._prefix = os.urandom(3).hex() + "-"
        self._ids = itertools.count(1)
        self._task: asyncio.Task[None] | None = None
        self._quoted: dict[str, str] = {}  # paths, peers, names repeat: escape each once

    def _q(self, value: str) -> str:
        quoted = self._quoted.get(value)
        if quoted is None:
            if len(self._quoted) >= 4096:  # noqa: PLR2004 - bounded, then start afresh
                self._quoted.clear()
            quoted = self._quoted[value] = _js(value)
        return quoted

    def request(  # noqa: PLR0917 - the canonical request line's fields
        self, method: str, path: str, status: int, ms: float, endpoint: str, client: str,
        peer: str,
    ) -> None:  # fmt: skip
        """Queue the canonical line of one request."""
        now = time.time()
        millis = int(now * 1000)
        if millis != self._ms:
            self._ms = millis
            self._stamp = (
                datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
            )
        q = self._q
        self._lines.append(
            f'{{"method": {q(method)}, "path": {q(path)}, "status": {status}, '
            f'"ms": {ms:.3f}, "endpoint": {q(endpoint)}, "client": {q(client)}, '
            f'"peer": {q(peer)}, "request_id": "{self._prefix}{next(self._ids):x}", '
            f'"event": "http.request", "level": "info", "timestamp": "{self._stamp}"}}\n'
        )
        if len(self._lines) >= self._batch:
            self.flush()

    def flush(self) -> None:
        """Write what is queued, in whole lines.

        On a real file descriptor each write holds whole lines and stays within PIPE_BUF,
        so lines of several worker processes sharing one pipe or file never mix.
        """
        if not self._lines:
            return
        lines, self._lines = self._lines, []
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):  # StringIO and friends
            self._stream.write("".join(lines))
            self._stream.flush()
            return
        self._stream.flush()  # structlog's lines first, in order
        piece: list[bytes] = []
        size = 0
        for line in lines:
            data = line.encode()
            if piece and size + len(data) > select.PIPE_BUF:
                _write_all(fd, b"".join(piece))
                piece, size = [], 0
            piece.append(data)
            size += len(data)
        _write_all(fd, b"".join(piece))

    def start(self) -> None:
        """Flush periodically until stop()."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="access-log")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.flush()

    async def stop(self) -> None:
        """Stop the periodic flush and write the rest."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.flush()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def reset() -> None:
    """Back to structlog's defaults (tests that configured logging undo it with this)."""
    structlog.reset_defaults()
    _state["access_stream"] = None

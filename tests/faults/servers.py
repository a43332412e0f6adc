"""Scripted IMAP and POP3 servers on 127.0.0.1:0 that fail in one chosen way each.

``FakeIMAP`` speaks just enough IMAP for the probe (greeting, CAPABILITY, STARTTLS, LOGIN /
AUTHENTICATE, LOGOUT); subclasses override ``greeting`` or ``handle`` to misbehave. A
reply of ``HANG`` makes the server go silent; ``UPGRADE`` sends the reply and then waits for
a TLS handshake (or, with ``tls_stall``, never answers it).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, ClassVar, Self

if TYPE_CHECKING:
    import ssl

HANG = b"<hang>"
UPGRADE = b"<upgrade>"

IMAP_CAPS = b"IMAP4rev1 SASL-IR STARTTLS AUTH=PLAIN"
AUTH_FAILED = b"NO [AUTHENTICATIONFAILED] Authentication failed."


class FaultyServer:
    """Base: accept connections, send ``greeting``, answer each line with ``handle``."""

    greeting: bytes | None = b""
    tls_stall = False

    def __init__(self, tls: ssl.SSLContext | None = None, *, implicit: bool = False) -> None:
        self.tls = tls
        self.implicit = implicit
        self.server: asyncio.Server | None = None
        self.lines: list[bytes] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    async def __aenter__(self) -> Self:
        self.server = await asyncio.start_server(
            self._connection, "127.0.0.1", 0, ssl=self.tls if self.implicit else None
        )
        self.port = int(self.server.sockets[0].getsockname()[1])  # port 0: read it back
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._dialog(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _dialog(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.greeting is None:
            await asyncio.sleep(3600)
        writer.write(self.greeting or b"")
        await writer.drain()
        while line := await reader.readline():
            self.lines.append(line)
            reply = self.handle(line)
            if reply == HANG:
                await asyncio.sleep(3600)
            if reply.startswith(UPGRADE):
                writer.write(reply[len(UPGRADE) :])
                await writer.drain()
                if self.tls_stall:
                    await asyncio.sleep(3600)
                assert self.tls is not None
                await writer.start_tls(self.tls)
                continue
            writer.write(reply)
            await writer.drain()

    def handle(self, line: bytes) -> bytes:
        """The reply to one line."""
        raise NotImplementedError


class FakeIMAP(FaultyServer):
    """Enough IMAP for the probe; refuses every login."""

    greeting = b"* OK [CAPABILITY " + IMAP_CAPS + b"] fake ready\r\n"
    capabilities: ClassVar[bytes] = IMAP_CAPS

    def handle(self, line: bytes) -> bytes:
        """Answer CAPABILITY, STARTTLS, LOGIN/AUTHENTICATE and LOGOUT."""
        tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
        command = rest.split(b" ", 1)[0].upper()
        if command == b"CAPABILITY":
            return b"* CAPABILITY " + self.capabilities + b"\r\n" + tag + b" OK done\r\n"
        if command == b"STARTTLS":
            return UPGRADE + tag + b" OK Begin TLS negotiation now.\r\n"
        if command in (b"LOGIN", b"AUTHENTICATE"):
            return tag + b" " + AUTH_FAILED + b"\r\n"
        if command == b"LOGOUT":
            return b"* BYE bye\r\n" + tag + b" OK done\r\n"
        return tag + b" BAD unknown\r\n"


class HangsAt(FakeIMAP):
    """Goes silent at one command (``at``), or before the greeting when ``at`` is None."""

    def __init__(self, at: bytes | None, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(tls)
        self.at = at
        if at is None:
            self.greeting = None

    def handle(self, line: bytes) -> bytes:
        """Hang at the chosen command."""
        if self.at is not None and self.at in line.upper():
            return HANG
        return super().handle(line)


class StallsTLS(FakeIMAP):
    """Accepts STARTTLS, then never answers the handshake."""

    tls_stall = True


class GarbageGreeting(FakeIMAP):
    """Greets like a web server."""

    greeting = b"HTTP/1.1 400 Bad Request\r\n"


class NoStartTLS(FakeIMAP):
    """Offers no STARTTLS."""

    greeting = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n"
    capabilities = b"IMAP4rev1 AUTH=PLAIN"


class StartTLSRefused(FakeIMAP):
    """Offers STARTTLS, then refuses it."""

    def handle(self, line: bytes) -> bytes:
        """NO to STARTTLS."""
        if line.upper().endswith(b"STARTTLS\r\n"):
            return line.split(b" ", 1)[0] + b" NO not today\r\n"
        return super().handle(line)


class CleartextIMAP(FakeIMAP):
    """Plain IMAP that accepts passwords without TLS (no LOGINDISABLED, no STARTTLS)."""

    greeting = b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=LOGIN] fake ready\r\n"
    capabilities = b"IMAP4rev1 AUTH=PLAIN AUTH=LOGIN"


class FakePOP3(FaultyServer):
    """Enough POP3 for the probe; refuses every login."""

    greeting = b"+OK fake POP3 ready\r\n"

    def handle(self, line: bytes) -> bytes:
        """Answer CAPA, STLS, AUTH/USER/PASS and QUIT."""
        command = line.split(b" ", 1)[0].strip().upper()
        if command == b"CAPA":
            return b"+OK\r\nCAPA\r\nSTLS\r\nUIDL\r\nSASL PLAIN\r\n.\r\n"
        if command == b"STLS":
            return UPGRADE + b"+OK Begin TLS negotiation now.\r\n"
        if command in (b"AUTH", b"USER", b"PASS"):
            return b"-ERR [AUTH] Authentication failed.\r\n"
        if command == b"QUIT":
            return b"+OK bye\r\n"
        return b"-ERR unknown\r\n"


class Pop3StlsRefused(FakePOP3):
    """Offers STLS, then refuses it."""

    def handle(self, line: bytes) -> bytes:
        """-ERR to STLS."""
        if line.upper().startswith(b"STLS"):
            return b"-ERR TLS not available today\r\n"
        return super().handle(line)


class Pop3Garbage(FakePOP3):
    """Greets with an SMTP banner."""

    greeting = b"220 mail.example.com ESMTP ready\r\n"

r"""POP3 dialog for the probe: bytes in, facts out; it never changes the mailbox.

Commands used: CAPA, STLS, AUTH PLAIN / USER+PASS, STAT, UIDL, QUIT. Never RETR (it sets
\Seen), TOP or DELE. The session always ends with QUIT, and since nothing was marked for
deletion, QUIT expunges nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconf.probe.errors import DialogError
from autoconf.probe.imap import plain_response

if TYPE_CHECKING:
    from autoconf.probe.imap import Transport

MAX_LINES = 1_000_000


@dataclass(frozen=True, slots=True)
class Reply:
    """A status line (+OK / -ERR) and, for multi-line replies, the lines after it."""

    ok: bool
    line: bytes
    lines: tuple[bytes, ...] = ()


def parse_status(line: bytes) -> bool:
    """True for +OK, False for -ERR; DialogError for anything else."""
    if line.startswith(b"+OK"):
        return True
    if line.startswith(b"-ERR"):
        return False
    raise DialogError("a line that is not POP3", line)


def parse_greeting(line: bytes) -> str:
    """The greeting text; DialogError unless it is a +OK line."""
    if not line.endswith(b"\n") or not line.startswith((b"+OK", b"-ERR")):
        raise DialogError("a greeting that is not POP3", line)
    if line.startswith(b"-ERR"):
        raise DialogError("an -ERR greeting (the server turned the connection away)", line)
    return line.decode("utf-8", "replace").strip()


def parse_capa(lines: tuple[bytes, ...]) -> tuple[frozenset[str], list[str]]:
    """CAPA lines -> (capability names, SASL mechanisms)."""
    names: set[str] = set()
    sasl: list[str] = []
    for raw in lines:
        words = raw.decode("ascii", "replace").split()
        if not words:
            continue
        names.add(words[0].upper())
        if words[0].upper() == "SASL":
            sasl = sorted(w.upper() for w in words[1:])
    return frozenset(names), sasl


def parse_uidl(lines: tuple[bytes, ...]) -> list[tuple[int, str]]:
    """UIDL lines ``1 000000656b0b8048`` -> [(1, "000000656b0b8048"), ...]."""
    out = []
    for raw in lines:
        number, _, uidl = raw.decode("ascii", "replace").strip().partition(" ")
        if not number.isdigit() or not uidl:
            raise DialogError("a UIDL line that is not one", raw)
        out.append((int(number), uidl.strip()))
    return out


class Pop3Client:
    """A minimal POP3 client over a Transport."""

    def __init__(self, transport: Transport) -> None:
        self.t = transport
        self.capabilities: frozenset[str] = frozenset()
        self.sasl: list[str] = []

    async def greeting(self) -> str:
        """Read and parse the greeting."""
        return parse_greeting(await self.t.readline())

    async def command(self, command: bytes, *, multiline: bool = False) -> Reply:
        """Send one command; read its status line and, on +OK, its lines up to '.'."""
        self.t.write(command + b"\r\n")
        await self.t.drain()
        line = await self.t.readline()
        ok = parse_status(line)
        if not (ok and multiline):
            return Reply(ok, line)
        lines: list[bytes] = []
        while True:
            raw = await self.t.readline()
            if raw in (b".\r\n", b".\n"):
                return Reply(ok, line, tuple(lines))
            if len(lines) >= MAX_LINES:
                raise DialogError("a reply of more than a million lines", raw)
            lines.append(raw[1:] if raw.startswith(b"..") else raw)

    async def capa(self) -> frozenset[str]:
        """CAPA (an -ERR means the server has no CAPA: nothing known)."""
        reply = await self.command(b"CAPA", multiline=True)
        if reply.ok:
            self.capabilities, self.sasl = parse_capa(reply.lines)
        return self.capabilities

    async def stls(self) -> Reply:
        """STLS; the caller upgrades the transport on +OK."""
        return await self.command(b"STLS")

    async def login(self, login: str, password: str) -> Reply:
        """AUTH PLAIN with an initial response when offered, else USER and PASS."""
        if "PLAIN" in self.sasl:
            return await self.command(b"AUTH PLAIN " + plain_response(login, password))
        for value in (login, password):
            if any(c in value for c in "\r\n\0"):
                raise DialogError("a value with line breaks cannot be sent")
        user = await self.command(b"USER " + login.encode())
        if not user.ok:
            return user
        return await self.command(b"PASS " + password.encode())

    async def stat(self) -> tuple[int, int]:
        """STAT -> (messages, octets)."""
        reply = await self.command(b"STAT")
        words = reply.line.split()
        if not reply.ok or len(words) < 3 or not words[1].isdigit() or not words[2].isdigit():  # noqa: PLR2004
            raise DialogError("a STAT reply that is not one", reply.line)
        return int(words[1]), int(words[2])

    async def uidl(self) -> list[tuple[int, str]] | None:
        """UIDL for every message; None when the server has no UIDL."""
        reply = await self.command(b"UIDL", multiline=True)
        return parse_uidl(reply.lines) if reply.ok else None

    async def quit(self) -> None:
        """QUIT."""
        await self.command(b"QUIT")

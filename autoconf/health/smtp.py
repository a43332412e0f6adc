"""SMTP submission dialog for the health check: greeting, EHLO, STARTTLS, QUIT; bytes in, facts out.

Nothing is sent but those commands: no MAIL, no AUTH. The transport is any object with
``readline``/``write``/``drain`` (probe.connect.Connection in use, scripted bytes in tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconf.probe.errors import DialogError

if TYPE_CHECKING:
    from autoconf.probe.imap import Transport

MAX_LINES = 200
EHLO_NAME = b"autoconf-health.invalid"


@dataclass(frozen=True, slots=True)
class Reply:
    """A (possibly multi-line) reply: its code and the text of each line."""

    code: int
    lines: tuple[str, ...]


def parse_line(line: bytes) -> tuple[int, bool, str]:
    """``250-SIZE 100`` -> (250, more lines follow, "SIZE 100"); DialogError if not SMTP."""
    if len(line) < 4 or not line[:3].isdigit() or line[3:4] not in (b" ", b"-", b"\r", b"\n"):  # noqa: PLR2004
        raise DialogError("a line that is not SMTP", line)
    return int(line[:3]), line[3:4] == b"-", line[4:].decode("utf-8", "replace").strip()


def parse_ehlo(reply: Reply) -> tuple[frozenset[str], list[str]]:
    """EHLO lines after the first -> (extension keywords, AUTH mechanisms)."""
    names: set[str] = set()
    mechanisms: list[str] = []
    for line in reply.lines[1:]:
        words = line.upper().split()
        if not words:
            continue
        names.add(words[0])
        if words[0] == "AUTH":
            mechanisms = sorted(set(words[1:]))
    return frozenset(names), mechanisms


class SmtpClient:
    """A minimal SMTP client over a Transport."""

    def __init__(self, transport: Transport) -> None:
        self.t = transport
        self.extensions: frozenset[str] = frozenset()
        self.mechanisms: list[str] = []

    async def read_reply(self) -> Reply:
        """One reply, continuation lines included."""
        lines: list[str] = []
        while True:
            code, more, text = parse_line(await self.t.readline())
            lines.append(text)
            if not more:
                return Reply(code, tuple(lines))
            if len(lines) >= MAX_LINES:
                raise DialogError("a reply of more than 200 lines")

    async def command(self, command: bytes) -> Reply:
        """Send one command and read its reply."""
        self.t.write(command + b"\r\n")
        await self.t.drain()
        return await self.read_reply()

    async def greeting(self) -> str:
        """The 220 banner; DialogError for anything else (554: turned away)."""
        reply = await self.read_reply()
        if reply.code != 220:  # noqa: PLR2004
            what = f"a {reply.code} greeting instead of 220"
            raise DialogError(what, f"{reply.code} {reply.lines[0]}".encode())
        return f"220 {reply.lines[0]}"

    async def ehlo(self) -> frozenset[str]:
        """EHLO; the extensions and AUTH mechanisms are kept."""
        reply = await self.command(b"EHLO " + EHLO_NAME)
        if reply.code != 250:  # noqa: PLR2004
            raise DialogError("an error for EHLO", f"{reply.code} {reply.lines[0]}".encode())
        self.extensions, self.mechanisms = parse_ehlo(reply)
        return self.extensions

    async def starttls(self) -> Reply:
        """STARTTLS; the caller upgrades the transport on 220."""
        return await self.command(b"STARTTLS")

    async def quit(self) -> None:
        """QUIT (the reply is read but not judged)."""
        await self.command(b"QUIT")

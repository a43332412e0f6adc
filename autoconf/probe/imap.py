"""IMAP dialog for the probe: bytes in, facts out; read-only commands only.

Commands used: CAPABILITY, STARTTLS, AUTHENTICATE PLAIN / LOGIN, ENABLE, STATUS, EXAMINE,
LIST, UID SEARCH, UID FETCH and FETCH of BODY.PEEK header fields, LOGOUT. Never SELECT,
STORE, COPY, MOVE or EXPUNGE: nothing here can change a mailbox. The transport is any
object with ``readline``/``readexactly``/``write``/``drain`` (connect.Connection in use,
scripted bytes in tests).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from autoconf.probe.errors import DialogError

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_LITERAL = 16 << 20
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r?\n\Z")
_CODE = re.compile(rb"\[([^\]]*)\]")
_NUMBER_ITEM = re.compile(rb"([A-Z]+) (\d+)")
_UID = re.compile(rb"\bUID (\d+)")
_HEADER_LITERAL = re.compile(rb"BODY\[HEADER\.FIELDS \(MESSAGE-ID\)\] (?:\{\d+\}|NIL|\"([^\"]*)\")")
_LIST = re.compile(rb'^\* LIST \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*?)\r?\n\Z', re.DOTALL)
_EXISTS = re.compile(rb"^\* (\d+) EXISTS\r?\n\Z", re.IGNORECASE)
_MSGID = re.compile(rb"^message-id:\s*(.*?)\s*\Z", re.IGNORECASE | re.DOTALL)
FETCH_MSGID = b"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"


class Transport(Protocol):
    """What the dialog needs from a connection."""

    async def readline(self) -> bytes:
        """One line, CRLF included."""
        ...

    async def readexactly(self, n: int) -> bytes:
        """Exactly n bytes."""
        ...

    def write(self, data: bytes) -> None:
        """Queue bytes."""

    async def drain(self) -> None:
        """Flush."""


@dataclass(frozen=True, slots=True)
class Response:
    """One server response: its lines joined (literal markers kept) and the literal payloads."""

    text: bytes
    literals: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Greeting:
    """The first line: OK (login needed) or PREAUTH, with capabilities if it lists them."""

    preauth: bool
    capabilities: frozenset[str] | None
    text: str


@dataclass(frozen=True, slots=True)
class Done:
    """A finished command: tagged status, its line, and the untagged responses before it."""

    ok: bool
    line: bytes
    untagged: list[Response]

    @property
    def status(self) -> str:
        """OK, NO or BAD."""
        return self.line.split(b" ", 2)[1].decode("ascii", "replace").upper()


@dataclass(slots=True)
class Mailbox:
    """What EXAMINE (or STATUS) reports about a mailbox."""

    uidvalidity: int | None = None
    uidnext: int | None = None
    highestmodseq: int | None = None
    messages: int | None = None
    vanished: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Folder:
    """One LIST entry."""

    name: str
    flags: frozenset[str]

    @property
    def selectable(self) -> bool:
        r"""False for \Noselect and \\NonExistent."""
        return not {"\\noselect", "\\nonexistent"} & self.flags


# ------------------------------------------------------------------ pure parsers


def parse_greeting(line: bytes) -> Greeting:
    """``* OK [CAPABILITY ...] text`` or ``* PREAUTH``; anything else raises DialogError."""
    upper = line[:12].upper()
    if upper.startswith(b"* BYE"):
        raise DialogError("a BYE greeting (the server turned the connection away)", line)
    if not (upper.startswith((b"* OK", b"* PREAUTH"))) or not line.endswith(b"\n"):
        raise DialogError("a greeting that is not IMAP", line)
    caps = None
    code = _CODE.search(line)
    if code and code.group(1).upper().startswith(b"CAPABILITY "):
        caps = parse_capability(b"* " + code.group(1))
    text = line.decode("utf-8", "replace").strip()
    return Greeting(upper.startswith(b"* PREAUTH"), caps, text)


def parse_capability(line: bytes) -> frozenset[str]:
    """``* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN`` -> upper-case names."""
    words = line.decode("ascii", "replace").split()
    if len(words) < 2 or words[1].upper() != "CAPABILITY":  # noqa: PLR2004
        raise DialogError("a CAPABILITY response that is not one", line)
    return frozenset(w.upper() for w in words[2:])


def mechanisms(capabilities: Iterable[str]) -> list[str]:
    """SASL mechanisms from AUTH=... capabilities, sorted."""
    return sorted(c[5:] for c in capabilities if c.startswith("AUTH="))


def parse_numbers(text: bytes) -> dict[str, int]:
    """``MESSAGES 3 UIDNEXT 9`` (STATUS list or response codes) -> {"MESSAGES": 3, ...}."""
    return {k.decode(): int(v) for k, v in _NUMBER_ITEM.findall(text.upper())}


def parse_uid_set(text: bytes | str) -> list[int]:
    """``1:3,7`` -> [1, 2, 3, 7] (ranges either way round)."""
    raw = text.decode("ascii") if isinstance(text, bytes) else text
    out: list[int] = []
    for part in raw.strip().split(","):
        if not part:
            continue
        lo, _, hi = part.partition(":")
        if hi:
            a, b = sorted((int(lo), int(hi)))
            out.extend(range(a, b + 1))
        else:
            out.append(int(lo))
    return out


def format_uid_set(uids: Iterable[int]) -> str:
    """[1, 2, 3, 7] -> ``1:3,7``."""
    parts: list[str] = []
    run: list[int] = []
    for uid in sorted(set(uids)):
        if run and uid == run[-1] + 1:
            run[-1] = uid
            continue
        if run:
            parts.append(f"{run[0]}:{run[1]}" if run[0] != run[1] else str(run[0]))
        run = [uid, uid]
    if run:
        parts.append(f"{run[0]}:{run[1]}" if run[0] != run[1] else str(run[0]))
    return ",".join(parts)


def parse_list(line: bytes) -> Folder | None:
    r"""``* LIST (\HasNoChildren \\Trash) "/" Trash`` -> Folder; None if it does not parse."""
    m = _LIST.match(line)
    if m is None:
        return None
    name = m.group(3).strip()
    if name.startswith(b'"') and name.endswith(b'"') and len(name) >= 2:  # noqa: PLR2004
        name = re.sub(rb"\\(.)", rb"\1", name[1:-1])
    flags = frozenset(f.lower() for f in m.group(1).decode("ascii", "replace").split())
    return Folder(name.decode("utf-8", "replace"), flags)


def message_id(header: bytes) -> str:
    """The Message-ID from a ``Message-ID: <...>`` header block ('' when there is none)."""
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", header).strip()
    m = _MSGID.match(unfolded)
    return m.group(1).decode("utf-8", "replace") if m else ""


def parse_fetch_msgid(resp: Response) -> tuple[int, str] | None:
    """(uid, Message-ID) from a FETCH response with UID and the header literal."""
    uid = _UID.search(resp.text)
    if uid is None or b" FETCH " not in resp.text[:40]:
        return None
    m = _HEADER_LITERAL.search(resp.text)
    if m is None:
        return int(uid.group(1)), ""
    if m.group(1) is not None:
        return int(uid.group(1)), message_id(m.group(1))
    if resp.literals and m.group(0).endswith(b"}"):
        return int(uid.group(1)), message_id(resp.literals[-1])
    return int(uid.group(1)), ""


def quote(text: str) -> bytes:
    """An IMAP quoted string (for ASCII without CR/LF); DialogError otherwise."""
    raw = text.encode("utf-8")
    if b"\r" in raw or b"\n" in raw or b"\0" in raw:
        raise DialogError("a value with line breaks cannot be sent")
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def plain_response(login: str, password: str) -> bytes:
    """Base64 of the SASL PLAIN message (empty authzid)."""
    return base64.b64encode(b"\0" + login.encode() + b"\0" + password.encode())


# ------------------------------------------------------------------ the client


class ImapClient:
    """A minimal IMAP client over a Transport."""

    def __init__(self, transport: Transport) -> None:
        self.t = transport
        self._tag = 0
        self.capabilities: frozenset[str] = frozenset()

    async def read_response(self) -> Response:
        """One response, literals included."""
        line = await self.t.readline()
        if not line.endswith(b"\n"):
            raise DialogError("a truncated line", line)
        m = _LITERAL.search(line)
        if m is None:
            return Response(line)
        text = [line]
        literals = []
        while m is not None:
            size = int(m.group(1))
            if size > MAX_LITERAL:
                raise DialogError(f"a literal of {size} bytes", line)
            literals.append(await self.t.readexactly(size))
            line = await self.t.readline()
            text.append(line)
            m = _LITERAL.search(line)
        return Response(b"".join(text), tuple(literals))

    async def greeting(self) -> Greeting:
        """Read and parse the greeting."""
        g = parse_greeting((await self.read_response()).text)
        if g.capabilities is not None:
            self.capabilities = g.capabilities
        return g

    async def command(self, command: bytes, *, logout: bool = False) -> Done:
        """Send one tagged command; collect untagged responses up to its tagged reply."""
        self._tag += 1
        tag = b"p%d" % self._tag
        self.t.write(tag + b" " + command + b"\r\n")
        await self.t.drain()
        return await self._until(tag, logout=logout)

    async def _until(self, tag: bytes, *, logout: bool = False) -> Done:
        untagged: list[Response] = []
        prefix = tag + b" "
        while True:
            resp = await self.read_response()
            text = resp.text
            if text.startswith(prefix):
                ok = text[len(prefix) : len(prefix) + 2].upper() == b"OK"
                if not ok and text[len(prefix) : len(prefix) + 2].upper() not in (b"NO", b"BA"):
                    raise DialogError("a tagged reply that is not OK, NO or BAD", text)
                self._capability_code(text)
                return Done(ok, text, untagged)
            if text.startswith(b"* "):
                if text[2:5].upper() == b"BYE" and not logout:
                    raise DialogError("BYE (the server closed the session)", text)
                if text[2:13].upper() == b"CAPABILITY ":
                    self.capabilities = parse_capability(text)
                untagged.append(resp)
            elif text.startswith(b"+"):
                raise DialogError("an unexpected continuation request", text)
            else:
                raise DialogError("a line that is not IMAP", text)

    def _capability_code(self, text: bytes) -> None:
        code = _CODE.search(text)
        if code and code.group(1).upper().startswith(b"CAPABILITY "):
            self.capabilities = parse_capability(b"* " + code.group(1))

    async def capability(self) -> frozenset[str]:
        """CAPABILITY."""
        done = await self.command(b"CAPABILITY")
        if not done.ok:
            raise DialogError("an error for CAPABILITY", done.line)
        return self.capabilities

    async def identify(self, name: str, version: str) -> None:
        """IMAP ID, when offered: the probe names itself so its logins are told apart."""
        if "ID" in self.capabilities:
            await self.command(b"ID (" + quote("name") + b" " + quote(name) + b" "
                               + quote("version") + b" " + quote(version) + b")")  # fmt: skip

    async def starttls(self) -> Done:
        """STARTTLS; the caller upgrades the transport on OK."""
        return await self.command(b"STARTTLS")

    async def login(self, login: str, password: str) -> Done:
        """AUTHENTICATE PLAIN (SASL-IR when offered) or LOGIN; capabilities are re-read."""
        if "AUTH=PLAIN" in self.capabilities:
            secret = plain_response(login, password)
            if "SASL-IR" in self.capabilities:
                done = await self.command(b"AUTHENTICATE PLAIN " + secret)
            else:
                done = await self._authenticate_plain(secret)
        else:
            done = await self.command(b"LOGIN " + quote(login) + b" " + quote(password))
        if done.ok and not _CODE.search(done.line):
            self.capabilities = frozenset()
        return done

    async def _authenticate_plain(self, secret: bytes) -> Done:
        self._tag += 1
        tag = b"p%d" % self._tag
        self.t.write(tag + b" AUTHENTICATE PLAIN\r\n")
        await self.t.drain()
        line = await self.t.readline()
        if line.startswith(tag + b" "):
            return Done(line[len(tag) + 1 :].upper().startswith(b"OK"), line, [])
        if not line.startswith(b"+"):
            raise DialogError("no continuation for AUTHENTICATE", line)
        self.t.write(secret + b"\r\n")
        await self.t.drain()
        return await self._until(tag)

    async def enable(self, *extensions: str) -> frozenset[str]:
        """ENABLE; the extensions the server confirmed."""
        done = await self.command(b"ENABLE " + " ".join(extensions).encode())
        enabled: set[str] = set()
        for r in done.untagged:
            if r.text[2:10].upper() == b"ENABLED ":
                enabled.update(w.upper() for w in r.text[10:].decode("ascii", "replace").split())
        return frozenset(enabled)

    async def status(self, mailbox: str, items: str) -> dict[str, int]:
        """STATUS mailbox (items) -> numbers."""
        done = await self.command(b"STATUS " + quote(mailbox) + b" (" + items.encode() + b")")
        if not done.ok:
            raise DialogError("an error for STATUS", done.line)
        numbers: dict[str, int] = {}
        for r in done.untagged:
            if r.text[2:9].upper() == b"STATUS ":
                start = r.text.rfind(b"(")
                numbers.update(parse_numbers(r.text[start:]))
        return numbers

    async def examine(self, mailbox: str, qresync: tuple[int, int] | None = None) -> Mailbox:
        """EXAMINE (read-only select), with QRESYNC (uidvalidity modseq) when given."""
        command = b"EXAMINE " + quote(mailbox)
        if qresync is not None:
            command += b" (QRESYNC (%d %d))" % qresync
        done = await self.command(command)
        if not done.ok:
            raise DialogError(f"an error for EXAMINE {mailbox}", done.line)
        box = Mailbox()
        for r in done.untagged:
            text = r.text
            head = text[2:40].upper()
            if head.startswith(b"OK ["):
                numbers = parse_numbers(text[4 : text.find(b"]")])
                box.uidvalidity = numbers.get("UIDVALIDITY", box.uidvalidity)
                box.uidnext = numbers.get("UIDNEXT", box.uidnext)
                box.highestmodseq = numbers.get("HIGHESTMODSEQ", box.highestmodseq)
            elif head.startswith(b"VANISHED (EARLIER) "):
                box.vanished.extend(parse_uid_set(text[21:].strip()))
            elif (m := _EXISTS.match(text)) is not None:
                box.messages = int(m.group(1))
        return box

    async def uid_search(self, criteria: bytes) -> list[int]:
        """UID SEARCH criteria -> UIDs."""
        done = await self.command(b"UID SEARCH " + criteria)
        if not done.ok:
            raise DialogError("an error for UID SEARCH", done.line)
        uids: list[int] = []
        for r in done.untagged:
            if r.text[2:9].upper() == b"SEARCH ":
                uids.extend(int(w) for w in r.text[9:].split())
        return uids

    async def message_ids(self, which: bytes, *, by_uid: bool = True) -> dict[int, str]:
        """UID -> Message-ID for a UID set (or a sequence set with by_uid=False)."""
        verb = b"UID FETCH " if by_uid else b"FETCH "
        done = await self.command(verb + which + b" (UID " + FETCH_MSGID + b")")
        if not done.ok:
            raise DialogError("an error for FETCH of Message-IDs", done.line)
        found: dict[int, str] = {}
        for r in done.untagged:
            parsed = parse_fetch_msgid(r)
            if parsed is not None:
                found[parsed[0]] = parsed[1]
        return found

    async def list_folders(self) -> list[Folder]:
        """LIST "" "*"."""
        done = await self.command(b'LIST "" "*"')
        if not done.ok:
            raise DialogError("an error for LIST", done.line)
        folders = [parse_list(r.text) for r in done.untagged if r.text[2:7].upper() == b"LIST "]
        return [f for f in folders if f is not None]

    async def logout(self) -> None:
        """LOGOUT (BYE expected)."""
        await self.command(b"LOGOUT", logout=True)

"""Dovecot 2.3 log lines -> typed events: a pure parser that never raises.

A line is ``<timestamp> [<host> dovecot[<pid>]: ]<prefix>: [<Level>: ]<message>``:

- timestamp: Dovecot's ``log_timestamp`` (``2026-11-29 01:34:23.613589``, the stock
  ``Nov 29 01:34:23``), syslog/journald (``Nov 29 01:34:23[.usecs] host dovecot[pid]:``) or
  ISO 8601 (``2026-11-29T01:34:23.613589+01:00 host dovecot:``). Stamps without a year take
  the ``year`` argument.
- prefix: a login process (``imap-login``), a mail process with ``mail_log_prefix``
  (``imap(alice)<pid><session>[<rip>]``, or ``imap(alice)`` on old defaults), ``auth``, …

Speed: the message kind is found with ``startswith``/``find`` on fixed strings and the
``key=value, key=<value>`` lists are split with str methods; there is no regular expression
on the hot path. Lines that yield no event are counted by kind (see ``SKIP_KINDS``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING, Final

from autoconf.events.model import (
    AbortedLogin,
    AuthFailure,
    ClientId,
    Disconnected,
    Event,
    ImapLogout,
    Login,
    MailAction,
    MailEvent,
    Pop3Logout,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MAX_LINE: Final = 64 * 1024
"""Longer lines are skipped as ``overlong`` without being looked at."""

SKIP_KINDS: Final = (
    "empty",  # blank line
    "binary",  # NUL bytes, undecodable bytes or U+FFFD replacement characters
    "overlong",  # more than MAX_LINE characters
    "truncated",  # cut short: no message, or a known line missing its end
    "unknown",  # no timestamp or no Dovecot prefix: not a Dovecot log line
    "foreign",  # a syslog line of another program
    "json",  # ``stats: {json}`` event-export lines (handled by dovecot_json)
    "ignored",  # a Dovecot line that carries no event we use (errors, lmtp connects, …)
    "malformed",  # looked like a known kind but its fields did not parse
)

_MONTHS: Final = {
    "Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
    "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}  # fmt: skip
_LEVELS: Final = ("Error: ", "Warning: ", "Fatal: ", "Panic: ", "Debug: ")
_MAIL_LOG: Final[dict[str, MailAction]] = {
    "expunge": "expunge",
    "save": "save",
    "flag_change": "flag_change",
    "delete": "delete",
    "undelete": "undelete",
    "copy": "copy",
    "mailbox_create": "mailbox_create",
    "mailbox_delete": "mailbox_delete",
    "mailbox_rename": "mailbox_rename",
}
_MAIL_LOG_STARTS: Final = (
    "expunge: ", "save: ", "flag_change: ", "delete: ", "undelete: ", "copy from ",
    "copy: ", "mailbox_create: ", "mailbox_delete: ", "mailbox_rename: ",
)  # fmt: skip
_MAIL_LOG_KEYS: Final = frozenset(
    ("box", "uid", "msgid", "size", "vsize", "flags", "from", "subject", "user", "mailbox")
)
_ABORTED_STARTS: Final = ("Disconnected", "Aborted login", "Login aborted")
_IP_CHARS: Final = "0123456789abcdefABCDEF:."
_DIGITS: Final = "0123456789"
_TS_CACHE: dict[tuple[str, int], datetime] = {}
_TS_CACHE_MAX: Final = 4096
_PREFIXES: dict[str, _Prefix] = {}
_PREFIXES_MAX: Final = 8192
_fromiso = datetime.fromisoformat


class _Bad(Exception):
    """A field did not parse: the line is counted as truncated or malformed."""


def parse_line(line: str, *, year: int, default_domain: str | None = None) -> Event | None:
    """One log line -> its event, or ``None`` for a line without one. Never raises."""
    result = _classify(line, year, default_domain)
    return None if isinstance(result, str) else result


def classify_line(line: str, *, year: int, default_domain: str | None = None) -> Event | str:
    """One log line -> its event, or the ``SKIP_KINDS`` name of why it has none."""
    return _classify(line, year, default_domain)


class Parser:
    """Parses an iterable of lines (str or bytes), counting what it skips and why.

    Syslog-style stamps carry no year: the parser starts at ``year`` and moves to the next
    year when the month drops from December to January.
    """

    def __init__(self, *, year: int, default_domain: str | None = None) -> None:
        self.year = year
        self.default_domain = default_domain
        self.lines = 0
        self.events = 0
        self.skipped: Counter[str] = Counter()
        self._last_month = 0

    def parse(self, lines: Iterable[str | bytes]) -> Iterator[Event]:
        """Yield the events of ``lines`` in order; every line is counted exactly once."""
        skipped = self.skipped
        domain = self.default_domain
        for raw in lines:
            self.lines += 1
            if isinstance(raw, bytes):
                if len(raw) > MAX_LINE:
                    skipped["overlong"] += 1
                    continue
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError:
                    skipped["binary"] += 1
                    continue
            else:
                line = raw
            month = _MONTHS.get(line[:3])
            if month is not None:
                if month < self._last_month - 6:
                    self.year += 1
                self._last_month = month
            try:
                result = _classify(line, self.year, domain)
            except Exception:  # noqa: BLE001 - the contract is to count, never to raise
                result = "malformed"
            if isinstance(result, str):
                skipped[result] += 1
            else:
                self.events += 1
                yield result

    def summary(self) -> dict[str, int]:
        """Lines read, events produced and skipped lines by kind (only kinds seen)."""
        return {"lines": self.lines, "events": self.events, **dict(sorted(self.skipped.items()))}


# ---------------------------------------------------------------- line structure


def _classify(line: str, year: int, domain: str | None) -> Event | str:  # noqa: C901, PLR0911, PLR0912
    if len(line) > MAX_LINE:
        return "overlong"
    if line[-1:] == "\n":
        line = line.rstrip("\r\n")
    if not line or line.isspace():
        return "empty"
    if "\x00" in line or (not line.isascii() and _is_binary(line)):
        return "binary"

    # timestamp
    first = line[0]
    if first in _DIGITS:
        sp = line.find(" ", 19 if line[10:11] == " " else 0)
        if sp < 0:
            return "truncated"
        try:
            time = _fromiso(line[:sp])
        except ValueError:
            return "unknown" if len(line) > 26 else "truncated"  # noqa: PLR2004
    elif first in "ADFJMNOS":
        time_or_kind = _syslog_time(line, year)
        if isinstance(time_or_kind, str):
            return time_or_kind
        time = time_or_kind
        sp = line.find(" ", 15)
        if sp < 0:
            return "truncated"
    else:
        return "unknown"

    # "<prefix>: [Info: ]<message>", with syslog's "host tag: " in front of the prefix
    prefix, sep, msg = line[sp + 1 :].partition(": ")
    if not sep:
        return "truncated"
    if " " in prefix:
        host_end = prefix.find(" ")
        if prefix.startswith("dovecot", host_end + 1):
            prefix, sep, msg = msg.partition(": ")
            if not sep:
                return "truncated"
        elif "(" not in prefix[:host_end]:
            return "foreign"
    if msg[:6] == "Info: ":
        msg = msg[6:]
    elif msg.startswith(_LEVELS):
        return "ignored"

    entry = _PREFIXES.get(prefix)
    if entry is None or entry[0] != domain:
        entry = _prefix(prefix, domain)
    kind = entry[1]
    if kind == "mail":
        return _mail_process(msg, entry, time)
    if kind == "login":
        return _login_process(msg, entry[2], time, domain)
    if kind == "auth":
        return _auth(msg, time, domain)
    if kind == "stats" and msg[:1] == "{":
        return "json"
    return "ignored"


_Prefix = tuple[
    str | None, str, str, str, str, int | None, str | None, str | None
]  # domain, kind, service, user, mailbox, pid, session, rip


def _prefix(prefix: str, domain: str | None) -> _Prefix:
    """Parse and remember a line prefix: a mail process prefix repeats on every session line."""
    service, paren, rest = prefix.partition("(")
    entry: _Prefix
    if not paren:
        if service[-6:] == "-login":
            entry = (domain, "login", service[:-6], "", "", None, None, None)
        elif service == "auth":
            entry = (domain, "auth", service, "", "", None, None, None)
        else:
            entry = (domain, "stats" if service == "stats" else "other", service, "", "", None,
                     None, None)  # fmt: skip
    elif service.startswith("auth"):
        entry = (domain, "auth", service, "", "", None, None, None)
    else:
        user, close, tail = rest.rpartition(")")
        if not close or (not tail and user.isdigit()):  # "lmtp(6898)": no user
            entry = (domain, "other", service, "", "", None, None, None)
        else:
            pid, session, rip = _groups(tail)
            entry = (domain, "mail", service, user, _mailbox(user, domain), pid, session, rip)
    if len(_PREFIXES) >= _PREFIXES_MAX:
        _PREFIXES.clear()
    _PREFIXES[prefix] = entry
    return entry


def _is_binary(line: str) -> bool:
    if "\ufffd" in line:
        return True
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes read with surrogateescape
        return True
    return False


def _syslog_time(line: str, year: int) -> datetime | str:
    """``Nov 29 01:34:23[.usecs]``; the day may be space-padded."""
    if len(line) < 16:  # noqa: PLR2004
        return "truncated"
    key = line[:15]
    cached = _TS_CACHE.get((key, year))
    if cached is None:
        month = _MONTHS.get(line[:3])
        if month is None or line[3] != " " or line[6] != " ":
            return "unknown"
        try:
            cached = datetime(  # noqa: DTZ001 - syslog stamps carry no zone
                year, month, int(line[4:6]), int(line[7:9]), int(line[10:12]), int(line[13:15])
            )
        except ValueError:
            return "unknown"
        if len(_TS_CACHE) >= _TS_CACHE_MAX:
            _TS_CACHE.clear()
        _TS_CACHE[key, year] = cached
    if line[15] == ".":
        end = line.find(" ", 16)
        frac = line[16:end] if end > 0 else ""
        if not frac.isdigit() or len(frac) > 6:  # noqa: PLR2004
            return "truncated" if end < 0 else "unknown"
        return cached.replace(microsecond=int(frac.ljust(6, "0")))
    return cached


def _groups(tail: str) -> tuple[int | None, str | None, str | None]:
    """``<pid><session><rip>`` of a mail process prefix; any may be absent."""
    if tail[:1] != "<" or tail[-1:] != ">":
        return None, None, None
    parts = tail[1:-1].split("><")
    if len(parts) == 3 and parts[0].isdigit():  # noqa: PLR2004 - the common custom prefix
        return int(parts[0]), parts[1], parts[2]
    pid = session = rip = None
    for part in parts:
        if part.isdigit() and pid is None:
            pid = int(part)
        elif ("." in part or ":" in part) and not part.strip(_IP_CHARS):
            rip = part
        elif session is None:
            session = part
    return pid, session, rip


def _mailbox(user: str, domain: str | None) -> str:
    if domain is None or "@" in user:
        return user
    return f"{user}@{domain}"


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise _Bad from None


# ---------------------------------------------------------------- login processes


def _elements(text: str) -> tuple[dict[str, str], bool, bool, str | None]:
    """``user=<a>, method=PLAIN, rip=…, TLS, TLSv1.3 …, session=<…>`` -> values, TLS flags.

    Values keep their angle brackets. Raises ``_Bad`` when a ``<…>`` value is cut short.
    """
    values: dict[str, str] = {}
    for part in text.split(", "):
        key, eq, value = part.partition("=")
        if eq:
            values[key] = value
    user = values.get("user")
    session = values.get("session")
    if (user is not None and user[-1:] != ">") or (session is not None and session[-1:] != ">"):
        values = _elements_careful(text)
    tls = ", TLS," in text or text.endswith(", TLS") or text.startswith("TLS,")
    secured = ", secured" in text
    details = None
    if tls:
        at = text.find(", TLSv")
        if at >= 0:
            end = text.find(", ", at + 2)
            details = text[at + 2 : end] if end > 0 else text[at + 2 :]
    return values, tls, secured, details


def _elements_careful(text: str) -> dict[str, str]:
    """The slow path of ``_elements``: a ``<…>`` value that contains ", "."""
    values: dict[str, str] = {}
    parts = text.split(", ")
    i = 0
    count = len(parts)
    while i < count:
        key, eq, value = parts[i].partition("=")
        i += 1
        if not eq or " " in key:
            continue
        if value[:1] == "<":
            while value[-1:] != ">" and i < count:
                value = f"{value}, {parts[i]}"
                i += 1
            if value[-1:] != ">":
                raise _Bad
        values[key] = value
    return values


def _bracketed(value: str | None) -> str | None:
    """``<alice>`` -> ``alice``; ``<>`` -> ``None``."""
    if value is None or len(value) <= 2:  # noqa: PLR2004
        return None
    return value[1:-1]


def _login_process(msg: str, protocol: str, time: datetime, domain: str | None) -> Event | str:
    if msg[:7] == "Login: ":
        try:
            values, tls, secured, details = _elements(msg[7:])
            user = _bracketed(values.get("user"))
            if user is None:
                return "truncated"
            get = values.get
            rport = get("rport")
            lport = get("lport")
            mpid = get("mpid")
            return Login(
                time=time,
                session=_bracketed(get("session")),
                user=user,
                mailbox=_mailbox(user, domain),
                protocol=protocol,
                method=get("method"),
                rip=get("rip"),
                rport=None if rport is None else int(rport),
                lip=get("lip"),
                lport=None if lport is None else int(lport),
                mpid=None if mpid is None else int(mpid),
                tls=tls,
                secured=secured,
                tls_details=details,
            )
        except (_Bad, ValueError):
            return "truncated"
    if msg[:9] == "ID sent: ":
        return _client_id(msg[9:], protocol, None, None, None, time, domain)
    if msg.startswith(_ABORTED_STARTS):
        return _aborted(msg, protocol, time, domain)
    return "ignored"


def _aborted(msg: str, protocol: str, time: datetime, domain: str | None) -> Event | str:
    cut = msg.find(": user=<")
    if cut < 0:
        cut = msg.rfind("): ")
        if cut < 0:
            return "ignored"
        cut += 1
    reason = msg[:cut]
    reason = reason.removeprefix("Disconnected: ")
    try:
        values, tls, secured, _ = _elements(msg[cut + 2 :])
        user = _bracketed(values.get("user"))
        attempts = None
        failed = "auth failed" in reason
        if failed:
            tail = reason[reason.find("auth failed, ") + 13 :]
            number = tail[: tail.find(" ")]
            attempts = int(number) if number.isdigit() else None
        return AbortedLogin(
            time=time,
            session=_bracketed(values.get("session")),
            user=user,
            mailbox=None if user is None else _mailbox(user, domain),
            protocol=protocol,
            method=values.get("method"),
            rip=values.get("rip"),
            rport=_int(values.get("rport")),
            lip=values.get("lip"),
            lport=_int(values.get("lport")),
            tls=tls,
            secured=secured,
            reason=reason,
            auth_failed=failed,
            attempts=attempts,
        )
    except _Bad:
        return "truncated"


def _client_id(  # noqa: PLR0917 - internal, called from two places
    msg: str,
    protocol: str,
    user: str | None,
    session: str | None,
    rip: str | None,
    time: datetime,
    domain: str | None,
) -> Event | str:
    """``name=iPhone Mail, version=…, os=iOS[: user=<>, rip=…, session=<…>]``."""
    rport = lip = lport = None
    mailbox = None if user is None else _mailbox(user, domain)
    if user is None:  # before login: the login elements follow the ID
        cut = msg.rfind(": user=<")
        if cut < 0:
            return "truncated"
        try:
            values, _, _, _ = _elements(msg[cut + 2 :])
            session = _bracketed(values.get("session"))
            rip = values.get("rip")
            rport = _int(values.get("rport"))
            lip = values.get("lip")
            lport = _int(values.get("lport"))
        except _Bad:
            return "truncated"
        msg = msg[:cut]
    pairs: list[tuple[str, str]] = []
    for part in msg.split(", "):
        key, eq, value = part.partition("=")
        if not eq or " " in key:
            if pairs:  # a comma inside a value
                pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}, {part}")
            continue
        pairs.append((key.lower(), value))
    found = dict(pairs)
    return ClientId(
        time=time,
        session=session,
        user=user,
        mailbox=mailbox,
        protocol=protocol,
        rip=rip,
        rport=rport,
        lip=lip,
        lport=lport,
        fields=tuple(pairs),
        name=found.get("name"),
        version=found.get("version"),
        os=found.get("os"),
        os_version=found.get("os-version"),
        vendor=found.get("vendor"),
    )


# ---------------------------------------------------------------- auth


def _auth(msg: str, time: datetime, domain: str | None) -> Event | str:
    """``passwd-file(alice,127.0.0.1,<session>): Password mismatch``."""
    paren = msg.find("(")
    close = msg.find("): ", paren)
    if paren <= 0 or close < 0 or " " in msg[:paren]:
        return "ignored"
    inner = msg[paren + 1 : close].rsplit(",", 2)
    session = None
    if len(inner) == 3 and inner[2][:1] == "<" and inner[2][-1:] == ">":  # noqa: PLR2004
        session = inner[2][1:-1]
        inner = inner[:2]
    elif len(inner) == 3:  # noqa: PLR2004 - a comma in the user name, no session
        inner = [f"{inner[0]},{inner[1]}", inner[2]]
    user: str | None = inner[0]
    if user in {"", "?"}:
        user = None
    return AuthFailure(
        time=time,
        session=session,
        user=user,
        mailbox=None if user is None else _mailbox(user, domain),
        rip=inner[1] if len(inner) > 1 else None,
        source=msg[:paren],
        reason=msg[close + 3 :],
    )


# ---------------------------------------------------------------- mail processes


def _mail_process(msg: str, entry: _Prefix, time: datetime) -> Event | str:  # noqa: PLR0911
    try:
        if msg.startswith(_MAIL_LOG_STARTS):
            return _mail_log(msg, entry, time)
        service = entry[2]
        if service == "pop3":
            if "del=" in msg:
                return _pop3_logout(msg, entry, time)
        elif service == "imap":
            if msg[:9] == "ID sent: ":
                domain, _, _, user, _, _, session, rip = entry
                return _client_id(msg[9:], "imap", user, session, rip, time, domain)
            if " out=" in msg and "in=" in msg:
                return _imap_logout(msg, entry, time)
        elif msg[:6] == "msgid=" or msg[:13] == "sieve: msgid=":
            return _delivered(msg, entry, time)
        if msg[:12] == "Disconnected":
            return Disconnected(
                time=time,
                session=entry[6],
                user=entry[3],
                mailbox=entry[4],
                service=service,
                pid=entry[5],
                rip=entry[7],
                reason=msg[14:] if msg[:14] == "Disconnected: " else msg,
            )
    except (_Bad, ValueError):
        return "truncated"
    return "ignored"


def _split_reason(msg: str) -> tuple[str, str]:
    """``Disconnected: Logged out top=…`` -> (``Logged out``, ``top=…``)."""
    eq = msg.find("=")
    sp = msg.rfind(" ", 0, eq)
    reason = msg[:sp] if sp > 0 else ""
    if reason[:14] == "Disconnected: ":
        reason = reason[14:]
    return reason, msg[sp + 1 :]


def _pop3_logout(msg: str, entry: _Prefix, time: datetime) -> Event:
    reason, stats = _split_reason(msg)
    values: dict[str, str] = {}
    for part in stats.split(", "):
        key, _, value = part.partition("=")
        values[key] = value
    get = values.get
    top, top_bytes = _pair(get("top"))
    retr, retr_bytes = _pair(get("retr"))
    deleted, messages = _pair(get("del"))
    if deleted is None:
        raise _Bad
    size = get("size")
    deleted_bytes = get("deleted_bytes")
    bytes_in = get("in")
    bytes_out = get("out")
    return Pop3Logout(
        time=time,
        session=entry[6],
        user=entry[3],
        mailbox=entry[4],
        pid=entry[5],
        rip=entry[7],
        reason=reason,
        top=top,
        top_bytes=top_bytes,
        retr=retr,
        retr_bytes=retr_bytes,
        deleted=deleted,
        messages=messages,
        size=None if size is None else int(size),
        deleted_bytes=None if deleted_bytes is None else int(deleted_bytes),
        uidl_hash=get("uidl_hash"),
        bytes_in=None if bytes_in is None else int(bytes_in),
        bytes_out=None if bytes_out is None else int(bytes_out),
    )


def _pair(value: str | None) -> tuple[int | None, int | None]:
    """``5/5897`` -> (5, 5897)."""
    if value is None:
        return None, None
    first, slash, second = value.partition("/")
    return int(first), int(second) if slash else None


def _imap_logout(msg: str, entry: _Prefix, time: datetime) -> Event:
    reason, stats = _split_reason(msg)
    values: dict[str, int] = {}
    for part in stats.split():
        key, _, value = part.partition("=")
        if value.isdigit():
            values[key] = int(value)
    get = values.get
    return ImapLogout(
        time=time,
        session=entry[6],
        user=entry[3],
        mailbox=entry[4],
        pid=entry[5],
        rip=entry[7],
        reason=reason,
        bytes_in=get("in"),
        bytes_out=get("out"),
        deleted=get("deleted"),
        expunged=get("expunged"),
        trashed=get("trashed"),
        hdr_count=get("hdr_count"),
        hdr_bytes=get("hdr_bytes"),
        body_count=get("body_count"),
        body_bytes=get("body_bytes"),
    )


def _mail_log(msg: str, entry: _Prefix, time: datetime) -> Event | str:
    """``expunge: box=INBOX, uid=101, msgid=<…>, size=…, from=…, subject=…, flags=()``."""
    head, _, body = msg.partition(": ")
    source_box = None
    if head[:10] == "copy from ":
        source_box = head[10:]
        head = "copy"
    action = _MAIL_LOG.get(head)
    if action is None:
        return "ignored"
    values: dict[str, str] = {}
    key = ""
    for part in body.split(", "):
        name, eq, value = part.partition("=")
        if eq and name in _MAIL_LOG_KEYS:
            key = name
            values[name] = value
        elif key:  # a comma inside a value (subject, from)
            values[key] = f"{values[key]}, {part}"
    get = values.get
    uid = get("uid")
    size = get("size")
    vsize = get("vsize")
    return MailEvent(
        time=time,
        session=entry[6],
        user=entry[3],
        mailbox=entry[4],
        service=entry[2],
        pid=entry[5],
        rip=entry[7],
        action=action,
        box=get("box"),
        uid=None if uid is None else int(uid),
        msgid=get("msgid"),
        size=None if size is None else int(size),
        vsize=None if vsize is None else int(vsize),
        flags=get("flags"),
        sender=get("from"),
        subject=get("subject"),
        source_box=source_box,
    )


def _delivered(msg: str, entry: _Prefix, time: datetime) -> Event | str:
    """``msgid=<…>: saved mail to INBOX`` / ``sieve: msgid=<…>: stored mail into mailbox 'X'``."""
    if msg[:7] == "sieve: ":
        msg = msg[7:]
    for marker in (": saved mail to ", ": stored mail into mailbox "):
        cut = msg.rfind(marker)
        if cut > 0:
            box = msg[cut + len(marker) :]
            if box[:1] == "'" and box[-1:] == "'":
                box = box[1:-1]
            msgid = msg[6:cut]
            return MailEvent(
                time=time,
                session=entry[6],
                user=entry[3],
                mailbox=entry[4],
                service=entry[2],
                pid=entry[5],
                rip=entry[7],
                action="delivered",
                box=box,
                msgid=None if msgid in {"", "unspecified"} else msgid,
            )
    return "ignored"

"""Dovecot 2.3 log lines -> typed events, the general reader: every shape, never raises.

A line is ``<timestamp> [<host> dovecot[<pid>]: ]<prefix>: [<Level>: ]<message>``:

- timestamp: Dovecot's ``log_timestamp`` (``2026-11-29 01:34:23.613589``, the stock
  ``Nov 29 01:34:23``), syslog/journald (``Nov 29 01:34:23[.usecs] host dovecot[pid]:``) or
  ISO 8601 (``2026-11-29T01:34:23.613589+01:00 host dovecot:``). Stamps without a year take
  the ``year`` argument.
- prefix: a login process (``imap-login``), a mail process with ``mail_log_prefix``
  (``imap(alice)<pid><session>[<rip>]``, or ``imap(alice)`` on old defaults), ``auth``, …

``classify`` reads one line: a line is dispatched once, by its prefix (parsed once and
cached, with the handler for its kind) and a fixed-string test on its message; only the
lines that carry an event are taken apart. The usual shapes of the fields (login elements,
the mail process prefix, logout counters, mail_log fields) are read by one anchored regex
each; any other shape falls back to str methods. ``dovecot_usual`` reads the most frequent
whole lines in one match and leaves every other line to this reader.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from autoconf.events.build import NUMBERS, positional
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
    from collections.abc import Callable

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

MONTHS: Final = {
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
_MAIL_LOG_HEADS: Final = frozenset(start[:4] for start in _MAIL_LOG_STARTS)
"""The first four characters of every ``_MAIL_LOG_STARTS``: one set lookup rules out most
other messages before the ten ``startswith`` tests."""
_MAIL_LOG_KEYS: Final = frozenset(
    ("box", "uid", "msgid", "size", "vsize", "flags", "from", "subject", "user", "mailbox")
)
_ABORTED_STARTS: Final = ("Disconnected", "Aborted login", "Login aborted")
_IP_CHARS: Final = "0123456789abcdefABCDEF:."
DIGITS: Final = frozenset("0123456789")
_MONTH_INITIALS: Final = frozenset("ADFJMNOS")
_TS_CACHE: dict[tuple[str, int], datetime] = {}
_TS_CACHE_MAX: Final = 4096
_PREFIXES: dict[str, _Prefix] = {}
_PREFIXES_MAX: Final = 8192
_fromiso = datetime.fromisoformat


# The usual shapes of the fields, read in one step; anything else takes the str-method path.
# No value holds a comma, so each is exactly one ", "-separated part and a match reads what
# the str-method path would read. ("[^,]" rather than a narrower class: sre scans a single
# excluded character several times faster than a set.)
_ELEMENTS: Final = re.compile(
    r"user=<([^,]*)>(?:, method=([^,]+))?, rip=([^,]+)(?:, rport=([0-9]+))?, lip=([^,]+)"
    r"(?:, lport=([0-9]+))?(?:, mpid=([0-9]+))?, (?:(TLS), (?:(TLSv[^,]*), )?|(secured), )?"
    r"session=<([^,]+)>"
)
_POP3_LOGOUT: Final = re.compile(
    r"(?:Disconnected: )?([^=]*) top=([0-9]+)/([0-9]+), retr=([0-9]+)/([0-9]+), "
    r"del=([0-9]+)/([0-9]+), size=([0-9]+)"
    r"(?:, deleted_bytes=([0-9]+), uidl_hash=([^,]*), in=([0-9]+), out=([0-9]+))?"
)
_IMAP_LOGOUT: Final = re.compile(
    r"(?:Disconnected: )?([^=]*) in=([0-9]+) out=([0-9]+)(?: deleted=([0-9]+) "
    r"expunged=([0-9]+) trashed=([0-9]+) hdr_count=([0-9]+) hdr_bytes=([0-9]+) "
    r"body_count=([0-9]+) body_bytes=([0-9]+))?"
)
_MAIL_LOG_FIELDS: Final = re.compile(  # mail_log_fields in the order Dovecot writes them
    r"box=([^,]*)(?:, uid=([0-9]+))?(?:, msgid=([^,]*))?(?:, size=([0-9]+))?"
    r"(?:, vsize=([0-9]+))?(?:, from=([^,]*))?(?:, subject=([^,]*))?(?:, flags=([^,]*))?"
)
_MAIL_PREFIX: Final = re.compile(r"([^(]*)\(([^)]*)\)<([0-9]+)><([^>)]*)>(?:<([^>)]*)>)?")

new_login = positional(
    Login,
    "time session user mailbox protocol method rip rport lip lport mpid tls secured tls_details",
)
new_client_id = positional(
    ClientId,
    "time session user mailbox protocol rip rport lip lport fields name version os os_version "
    "vendor",
)
new_pop3_logout = positional(
    Pop3Logout,
    "time session user mailbox pid rip reason top top_bytes retr retr_bytes deleted messages "
    "size deleted_bytes uidl_hash bytes_in bytes_out",
)
new_imap_logout = positional(
    ImapLogout,
    "time session user mailbox pid rip reason bytes_in bytes_out deleted expunged trashed "
    "hdr_count hdr_bytes body_count body_bytes",
)
new_disconnected = positional(Disconnected, "time session user mailbox service pid rip reason")
new_mail_event = positional(
    MailEvent,
    "time session user mailbox service pid rip action box uid msgid size vsize flags sender "
    "subject source_box",
)
new_auth_failure = positional(AuthFailure, "time session user mailbox rip source reason")
new_aborted = positional(
    AbortedLogin,
    "time session user mailbox protocol method rip rport lip lport tls secured reason "
    "auth_failed attempts",
)


class _Bad(Exception):
    """A field did not parse: the line is counted as truncated or malformed."""


# ---------------------------------------------------------------- line structure


def classify(line: str, year: int, domain: str | None) -> Event | str:  # noqa: C901, PLR0911, PLR0912
    """One log line -> its event, or the ``SKIP_KINDS`` name of why it has none."""
    if len(line) > MAX_LINE:
        return "overlong"
    if line[-1:] == "\n":
        line = line.rstrip("\r\n")
    if "\x00" in line or (not line.isascii() and is_binary(line)):
        return "binary"

    # timestamp
    first = line[:1]
    if first in DIGITS:
        sp = line.find(" ", 19 if line[10:11] == " " else 0)
        if sp < 0:
            return "truncated"
        try:
            time = _fromiso(line[:sp])
        except ValueError:
            return "unknown" if len(line) > 26 else "truncated"  # noqa: PLR2004
    elif first in _MONTH_INITIALS:
        time_or_kind = syslog_time(line, year)
        if isinstance(time_or_kind, str):
            return time_or_kind
        time = time_or_kind
        sp = line.find(" ", 15)
        if sp < 0:
            return "truncated"
    elif not line or line.isspace():  # (whitespace is never binary: the order is free)
        return "empty"
    else:
        return "unknown"

    # "<prefix>: [Info: ]<message>", with syslog's "host tag: " in front of the prefix
    colon = line.find(": ", sp + 1)
    if colon < 0:
        return "truncated"
    prefix = line[sp + 1 : colon]
    if " " in prefix:
        msg = line[colon + 2 :]
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
    elif line.startswith("Info: ", colon + 2):
        msg = line[colon + 8 :]
    elif line.startswith(_LEVELS, colon + 2):
        return "ignored"
    else:
        msg = line[colon + 2 :]

    entry = _PREFIXES.get(prefix)
    if entry is None or entry[0] != domain:
        entry = _prefix(prefix, domain)
    return entry[1](msg, entry, time)


_Prefix = tuple[
    str | None,
    "Callable[[str, Any, datetime], Event | str]",
    str,
    str,
    str,
    int | None,
    str | None,
    str | None,
]  # domain, handler, service, user, mailbox, pid, session, rip


def _prefix(prefix: str, domain: str | None) -> _Prefix:
    """Parse and remember a line prefix: a mail process prefix repeats on every session line."""
    entry: _Prefix
    match = _MAIL_PREFIX.fullmatch(prefix)
    if match is not None and match[1][:4] != "auth":  # svc(user)<pid><session>[<rip>]
        service, user, pid, session, rip = match.groups()
        if rip is None and ("." in session or ":" in session) and not session.strip(_IP_CHARS):
            session, rip = None, session  # "<pid><rip>": no session
        mailbox = user if domain is None or "@" in user else f"{user}@{domain}"
        entry = (domain, _mail_process, service, user, mailbox, NUMBERS[pid], session, rip)
    else:
        entry = _prefix_general(prefix, domain)
    if len(_PREFIXES) >= _PREFIXES_MAX:
        _PREFIXES.clear()
    _PREFIXES[prefix] = entry
    return entry


def _prefix_general(prefix: str, domain: str | None) -> _Prefix:
    service, paren, rest = prefix.partition("(")
    if not paren:
        if service[-6:] == "-login":
            return (domain, _login_process, service[:-6], "", "", None, None, None)
        if service == "auth":
            return (domain, _auth, service, "", "", None, None, None)
        return (domain, _stats if service == "stats" else _other, service, "", "", None, None,
                None)  # fmt: skip
    if service.startswith("auth"):
        return (domain, _auth, service, "", "", None, None, None)
    user, close, tail = rest.rpartition(")")
    if not close or (not tail and user.isdigit()):  # "lmtp(6898)": no user
        return (domain, _other, service, "", "", None, None, None)
    pid, session, rip = _groups(tail)
    return (domain, _mail_process, service, user, _mailbox(user, domain), pid, session, rip)


def _stats(msg: str, _entry: _Prefix, _time: datetime) -> str:
    return "json" if msg[:1] == "{" else "ignored"


def _other(_msg: str, _entry: _Prefix, _time: datetime) -> str:
    return "ignored"


def is_binary(line: str) -> bool:
    """A line beyond ASCII that holds U+FFFD or lone surrogates (bytes that were not UTF-8)."""
    if "\ufffd" in line:
        return True
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes read with surrogateescape
        return True
    return False


def syslog_time(line: str, year: int) -> datetime | str:
    """``Nov 29 01:34:23[.usecs]``; the day may be space-padded."""
    if len(line) < 16:  # noqa: PLR2004
        return "truncated"
    key = line[:15]
    cached = _TS_CACHE.get((key, year))
    if cached is None:
        month = MONTHS.get(line[:3])
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


_Fields = tuple[
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    bool,
    bool,
    str | None,
]  # user, session, method, rip, rport, lip, lport, mpid (ints as logged), tls, secured, details


def _login_fields(text: str) -> _Fields:
    """The login elements with user and session unbracketed (``<>`` -> ``None``).

    The usual shape is read by ``_ELEMENTS``; any other by ``_elements``, which raises
    ``_Bad`` when a ``<…>`` value is cut short.
    """
    match = _ELEMENTS.fullmatch(text)
    if match is not None:
        user, method, rip, rport, lip, lport, mpid, tls, details, secured, session = match.groups()
        return (user or None, session, method, rip, rport, lip, lport, mpid, tls is not None,
                secured is not None, details)  # fmt: skip
    values, tls_on, secured_on, details = _elements(text)
    get = values.get
    return (_bracketed(get("user")), _bracketed(get("session")), get("method"), get("rip"),
            get("rport"), get("lip"), get("lport"), get("mpid"), tls_on, secured_on,
            details)  # fmt: skip


def _bracketed(value: str | None) -> str | None:
    """``<alice>`` -> ``alice``; ``<>`` -> ``None``."""
    if value is None or len(value) <= 2:  # noqa: PLR2004
        return None
    return value[1:-1]


def _login_process(msg: str, entry: _Prefix, time: datetime) -> Event | str:  # noqa: PLR0911
    domain = entry[0]
    protocol = entry[2]
    if msg[:7] == "Login: ":
        match = _ELEMENTS.fullmatch(msg, 7)
        if match is not None:  # the usual shape: no "<…>" value to rejoin, no odd number
            user, method, rip, rport, lip, lport, mpid, tls, details, secured, session = (
                match.groups()
            )
            if not user:
                return "truncated"
            return new_login(
                time,
                session,
                user,
                user if domain is None or "@" in user else f"{user}@{domain}",
                protocol,
                method,
                rip,
                None if rport is None else NUMBERS[rport],
                lip,
                None if lport is None else NUMBERS[lport],
                None if mpid is None else NUMBERS[mpid],
                tls is not None,
                secured is not None,
                details,
            )
        try:
            user, session, method, rip, rport, lip, lport, mpid, tls, secured, details = (
                _login_fields(msg[7:])
            )
            if user is None:
                return "truncated"
            return new_login(
                time,
                session,
                user,
                user if domain is None or "@" in user else f"{user}@{domain}",
                protocol,
                method,
                rip,
                None if rport is None else int(rport),
                lip,
                None if lport is None else int(lport),
                None if mpid is None else int(mpid),
                tls,
                secured,
                details,
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
        user, session, method, rip, rport, lip, lport, _, tls, secured, _ = _login_fields(
            msg[cut + 2 :]
        )
        attempts = None
        failed = "auth failed" in reason
        if failed:
            tail = reason[reason.find("auth failed, ") + 13 :]
            number = tail[: tail.find(" ")]
            attempts = int(number) if number.isdigit() else None
        return new_aborted(
            time,
            session,
            user,
            None if user is None else _mailbox(user, domain),
            protocol,
            method,
            rip,
            _int(rport),
            lip,
            _int(lport),
            tls,
            secured,
            reason,
            failed,
            attempts,
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
            _, session, _, rip, rport_text, lip, lport_text, _, _, _, _ = _login_fields(
                msg[cut + 2 :]
            )
            rport = _int(rport_text)
            lport = _int(lport_text)
        except _Bad:
            return "truncated"
        msg = msg[:cut]
    pairs, name, version, os, os_version, vendor = client_fields(msg)
    return new_client_id(
        time, session, user, mailbox, protocol, rip, rport, lip, lport, pairs, name, version,
        os, os_version, vendor,
    )  # fmt: skip


ClientFields = tuple[
    tuple[tuple[str, str], ...], str | None, str | None, str | None, str | None, str | None
]  # every pair, then name, version, os, os-version, vendor
_CLIENT_FIELDS: dict[str, ClientFields] = {}
_CLIENT_FIELDS_MAX: Final = 4096


def client_fields(text: str) -> ClientFields:
    """The pairs of an IMAP ID as logged (``name=iPhone Mail, version=…``), keys lower-cased.

    A fleet has a few hundred distinct ID strings (client and version), so each is read once
    and remembered (up to ``_CLIENT_FIELDS_MAX``).
    """
    known = _CLIENT_FIELDS.get(text)
    if known is not None:
        return known
    pairs: list[tuple[str, str]] = []
    for part in text.split(", "):
        key, eq, value = part.partition("=")
        if not eq or " " in key:
            if pairs:  # a comma inside a value
                pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]}, {part}")
            continue
        pairs.append((key.lower(), value))
    get = dict(pairs).get
    fields = (tuple(pairs), get("name"), get("version"), get("os"), get("os-version"),
              get("vendor"))  # fmt: skip
    if len(_CLIENT_FIELDS) >= _CLIENT_FIELDS_MAX:
        _CLIENT_FIELDS.clear()
    _CLIENT_FIELDS[text] = fields
    return fields


# ---------------------------------------------------------------- auth


def _auth(msg: str, entry: _Prefix, time: datetime) -> Event | str:
    """``passwd-file(alice,127.0.0.1,<session>): Password mismatch``."""
    domain = entry[0]
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
    return new_auth_failure(
        time,
        session,
        user,
        None if user is None else _mailbox(user, domain),
        inner[1] if len(inner) > 1 else None,
        msg[:paren],
        msg[close + 3 :],
    )


# ---------------------------------------------------------------- mail processes


def _mail_process(msg: str, entry: _Prefix, time: datetime) -> Event | str:  # noqa: PLR0911
    try:
        if msg[:4] in _MAIL_LOG_HEADS and msg.startswith(_MAIL_LOG_STARTS):
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
            return new_disconnected(
                time,
                entry[6],
                entry[3],
                entry[4],
                service,
                entry[5],
                entry[7],
                msg[14:] if msg[:14] == "Disconnected: " else msg,
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
    match = _POP3_LOGOUT.fullmatch(msg)
    if match is not None:
        (reason, top, top_bytes, retr, retr_bytes, deleted, messages, size, deleted_bytes,
         uidl_hash, bytes_in, bytes_out) = match.groups()  # fmt: skip
        rich = deleted_bytes is not None
        numbers = NUMBERS
        return new_pop3_logout(
            time,
            entry[6],
            entry[3],
            entry[4],
            entry[5],
            entry[7],
            reason,
            numbers[top],
            numbers[top_bytes],
            numbers[retr],
            numbers[retr_bytes],
            numbers[deleted],
            numbers[messages],
            numbers[size],
            numbers[deleted_bytes] if rich else None,
            uidl_hash,
            numbers[bytes_in] if rich else None,
            numbers[bytes_out] if rich else None,
        )
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
    return new_pop3_logout(
        time,
        entry[6],
        entry[3],
        entry[4],
        entry[5],
        entry[7],
        reason,
        top,
        top_bytes,
        retr,
        retr_bytes,
        deleted,
        messages,
        None if size is None else int(size),
        None if deleted_bytes is None else int(deleted_bytes),
        get("uidl_hash"),
        None if bytes_in is None else int(bytes_in),
        None if bytes_out is None else int(bytes_out),
    )


def _pair(value: str | None) -> tuple[int | None, int | None]:
    """``5/5897`` -> (5, 5897)."""
    if value is None:
        return None, None
    first, slash, second = value.partition("/")
    return int(first), int(second) if slash else None


def _imap_logout(msg: str, entry: _Prefix, time: datetime) -> Event:
    match = _IMAP_LOGOUT.fullmatch(msg)
    if match is not None:
        (reason, bytes_in, bytes_out, deleted, expunged, trashed, hdr_count, hdr_bytes,
         body_count, body_bytes) = match.groups()  # fmt: skip
        numbers = NUMBERS
        if deleted is None:
            return new_imap_logout(time, entry[6], entry[3], entry[4], entry[5], entry[7],
                                    reason, numbers[bytes_in], numbers[bytes_out], None, None,
                                    None, None, None, None, None)  # fmt: skip
        return new_imap_logout(
            time,
            entry[6],
            entry[3],
            entry[4],
            entry[5],
            entry[7],
            reason,
            numbers[bytes_in],
            numbers[bytes_out],
            numbers[deleted],
            numbers[expunged],
            numbers[trashed],
            numbers[hdr_count],
            numbers[hdr_bytes],
            numbers[body_count],
            numbers[body_bytes],
        )
    reason, stats = _split_reason(msg)
    values: dict[str, int] = {}
    for part in stats.split():
        key, _, value = part.partition("=")
        if value.isdigit():
            values[key] = int(value)
    get = values.get
    return new_imap_logout(
        time,
        entry[6],
        entry[3],
        entry[4],
        entry[5],
        entry[7],
        reason,
        get("in"),
        get("out"),
        get("deleted"),
        get("expunged"),
        get("trashed"),
        get("hdr_count"),
        get("hdr_bytes"),
        get("body_count"),
        get("body_bytes"),
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
    match = _MAIL_LOG_FIELDS.fullmatch(body)
    if match is not None:  # no value with a comma: each field is exactly one ", " part
        box, uid, msgid, size, vsize, sender, subject, flags = match.groups()
        return new_mail_event(
            time,
            entry[6],
            entry[3],
            entry[4],
            entry[2],
            entry[5],
            entry[7],
            action,
            box,
            None if uid is None else NUMBERS[uid],
            msgid,
            None if size is None else NUMBERS[size],
            None if vsize is None else NUMBERS[vsize],
            flags,
            sender,
            subject,
            source_box,
        )
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
    return new_mail_event(
        time,
        entry[6],
        entry[3],
        entry[4],
        entry[2],
        entry[5],
        entry[7],
        action,
        get("box"),
        None if uid is None else int(uid),
        get("msgid"),
        None if size is None else int(size),
        None if vsize is None else int(vsize),
        get("flags"),
        get("from"),
        get("subject"),
        source_box,
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
            return new_mail_event(
                time,
                entry[6],
                entry[3],
                entry[4],
                entry[2],
                entry[5],
                entry[7],
                "delivered",
                box,
                None,
                None if msgid in {"", "unspecified"} else msgid,
                None,
                None,
                None,
                None,
                None,
                None,
            )
    return "ignored"

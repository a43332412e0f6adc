"""The usual Dovecot log lines, each read by one regex match: the parser's fast path.

A handful of shapes make up almost every line of a mail server's log: logins, pre- and
post-login IMAP IDs, IMAP and POP3 logouts with their counters, mail_log events, LMTP
deliveries, aborted logins, auth verdicts, lines that carry nothing (LMTP connects, errors)
and event-export JSON. ``USUAL`` matches a whole line of any of them (Dovecot's own stamp or
the stock/syslog one, with or without syslog's ``host dovecot:``) and tells the shape by
``lastindex``. Per shape, a builder turns the groups into the event (``Parser.parse``) and
a folder merges what ingest keeps straight into the batch's rows (``Parser.fold``). Any
other line, and any line a builder or folder declines (a service the shape does not belong
to, a stamp that is no date, a value the general reader would cut elsewhere), goes to the
general reader (``dovecot_general.classify``), which reads every shape.

For every line it reads, this gives exactly what the general reader gives: its parts are
the general reader's field patterns, made possessive where that cannot change a match, and
its prefixes leave out the characters that would send the general reader down another
branch (a space: a syslog host; a colon: the end of the prefix; a session id of hex digits
only: it could be an address). tests/test_dovecot_usual.py holds the two readers to the
same events, skip kinds and rows over real logs and thousands of mangled lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from autoconf.events.build import NUMBERS
from autoconf.events.dovecot_general import (
    client_fields,
    new_client_id,
    new_imap_logout,
    new_login,
    new_mail_event,
    new_pop3_logout,
)
from autoconf.events.sessions import (
    MailRow,
    Sessions,
    fold_client,
    fold_imap_logout,
    fold_login,
    fold_pop3_logout,
    uidl_sent,
)

if TYPE_CHECKING:
    from datetime import datetime

    from autoconf.events.model import Event


# The general reader's field patterns (dovecot_general), written for speed: an optional part
# or a run of characters that the next literal cannot start is possessive (?+, ++, *+), so
# sre keeps no state to come back to. A possessive part gives up nothing that could have led
# to another match, so where these match they read what the general reader's patterns read.
_ELEMENTS: Final = (
    r"user=<([^,]*)>(?:, method=([^,]++))?+, rip=([^,]++)(?:, rport=([0-9]++))?+, lip=([^,]++)"
    r"(?:, lport=([0-9]++))?+(?:, mpid=([0-9]++))?+, (?:(TLS), (?:(TLSv[^,]*+), )?+"
    r"|(secured), )?+session=<([^,]+)>"
)
_IMAP_COUNTERS: Final = (
    r"([^=]*) in=([0-9]++) out=([0-9]++)(?: deleted=([0-9]++) expunged=([0-9]++) "
    r"trashed=([0-9]++) hdr_count=([0-9]++) hdr_bytes=([0-9]++) body_count=([0-9]++) "
    r"body_bytes=([0-9]++))?+"
)
_POP3_COUNTERS: Final = (
    r"([^=]*) top=([0-9]++)/([0-9]++), retr=([0-9]++)/([0-9]++), del=([0-9]++)/([0-9]++), "
    r"size=([0-9]++)(?:, deleted_bytes=([0-9]++), uidl_hash=([^,]*+), in=([0-9]++), "
    r"out=([0-9]++))?+"
)
_MAIL_LOG_FIELDS: Final = (  # mail_log_fields in the order Dovecot writes them
    r"box=([^,]*+)(?:, uid=([0-9]++))?+(?:, msgid=([^,]*+))?+(?:, size=([0-9]++))?+"
    r"(?:, vsize=([0-9]++))?+(?:, from=([^,]*+))?+(?:, subject=([^,]*+))?+"
    r"(?:, flags=([^,]*+))?+"
)
_MAIL_SERVICES: Final = "imap|pop3|lmtp|lda"

USUAL: Final = re.compile(
    # the stamp: Dovecot's log_timestamp (%Y-%m-%d %H:%M:%S[.%{usecs}]) or the stock/syslog one
    r"(?:(?P<iso>(?P<second>[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<usec>[0-9]{6}))?+)"
    r"|(?P<syslog>[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?+)"
    r"(?: [^ :]++ dovecot(?:\[[0-9]++\])?+:)?+) "
    r"(?:"
    # mail processes with mail_log_prefix %s(%u)<%{pid}><%{session}>[<%{rip}>]
    rf"(?P<service>{_MAIL_SERVICES})\((?P<user>[^()<>: ]++)\)<(?P<pid>[0-9]++)>"
    # (a session id with a letter that is no hex digit: never an address, which the
    # general reader would take for the rip when no <rip> follows; LMTP's end in :T1, :T2)
    r"<(?P<session>(?=[^()<>. ]*?[g-zG-Z+/])[^()<>. ]++)>(?:<(?P<rip>[^()<> ]*+)>)?+: "
    r"(?:Info: )?+(?:"
    rf"(?P<imap_logout>Disconnected: {_IMAP_COUNTERS})"
    rf"|(?P<pop3_logout>Disconnected: {_POP3_COUNTERS})"
    r"|(?P<mail_log>(expunge|save|flag_change|delete|undelete|copy|copy from [^:]*+): "
    rf"{_MAIL_LOG_FIELDS})"
    r"|(?P<delivered>msgid=([^:]*+): saved mail to ([^:]*+))"
    r"|(?P<client_id>ID sent: (.*))"
    r")"
    # lines without an event: a mail process without a session (lmtp(6898): Connect from),
    # and every line of an error level
    rf"|(?P<ignored>(?:{_MAIL_SERVICES})\([0-9]++\): .*"
    r"|[^ :]++: (?:Error|Warning|Fatal|Panic|Debug): .*)"
    # login processes: imap-login, pop3-login, …
    r"|(?P<login_service>[^ :(]*)-login: (?:Info: )?+(?:"
    rf"(?P<login>Login: {_ELEMENTS})"
    rf"|(?P<id>ID sent: (.*): ({_ELEMENTS}))"
    rf"|(?P<aborted>(?:Disconnected|Aborted login|Login aborted)(.*?): {_ELEMENTS})"
    r")"
    # the auth process's verdicts (auth_verbose): passwd-file(alice,rip,<session>): reason
    r"|(?P<auth_failure>auth: (?:Info: )?+[^ (]++\((.*?)\): .*)"
    r"|(?P<json>stats: (?:Info: )?+\{.*)"
    r")",
    re.DOTALL,  # a value is what the general reader reads: the line as it is, \r or \n in it
)
"""``USUAL.fullmatch(line)``: one of the usual shapes, told apart by ``lastindex``."""

_G: Final = USUAL.groupindex
assert USUAL.groups == _G["json"], "the JSON shape must be the last group"
STAMP: Final = (_G["iso"], _G["second"], _G["usec"])
"""The groups every shape's tuple starts with: the log_timestamp stamp (``None`` for a
syslog-style one), its second (``2026-11-29 01:34:23``) and its microseconds, if any."""
SKIPPED: Final = {_G["ignored"]: "ignored", _G["json"]: "json"}
"""``lastindex`` of the shapes without an event -> the kind they are counted as."""


def _groups(
    prefix: str, shape: str, inner: int | tuple[int, ...], stamp: tuple[int, ...] = STAMP
) -> tuple[int, ...]:
    """``stamp``, the named groups ``prefix``, then the shape's own groups ``inner``.

    ``inner`` counts a shape's groups from 1 (they are numbered right after its named
    group); an int takes that many from the first.
    """
    first = _G[shape]
    wanted = range(1, inner + 1) if isinstance(inner, int) else inner
    return (*stamp, *(_G[name] for name in prefix.split()), *(first + i for i in wanted))


_LOGIN: Final = _groups("login_service", "login", 11)
_ID: Final = _groups("login_service", "id", 13)
_MAIL: Final = "service user pid session rip"
_IMAP: Final = _groups(_MAIL, "imap_logout", 10)
_POP3: Final = _groups(_MAIL, "pop3_logout", 12)
_MAIL_LOG: Final = _groups(_MAIL, "mail_log", 9)
_DELIVERED: Final = _groups(_MAIL, "delivered", 2)
_CLIENT_ID: Final = _groups(_MAIL, "client_id", 1)
_ABORTED: Final = _groups("", "aborted", 1, ())  # what a folder needs: the reason
# what the folders read: only the columns a session row or mail row keeps (the stamp is
# read from the line: it starts it)
_FOLD_LOGIN: Final = _groups("login_service", "login", (1, 2, 3, 5, 6, 8, 11), ())
_FOLD_ID: Final = _groups("login_service", "id", (1, 2, 5, 13), ())
_FOLD_IMAP: Final = _groups("service user session rip", "imap_logout", (1, 4, 5, 6), ())
_FOLD_POP3: Final = _groups("service user session rip", "pop3_logout", (1, 2, 4, 6, 7, 9, 10), ())
_FOLD_MAIL_LOG: Final = _groups("service user session", "mail_log", (1, 2, 3, 4, 5), ())
_FOLD_DELIVERED: Final = _groups("service user session", "delivered", 2, ())
_FOLD_CLIENT_ID: Final = _groups("service user session rip", "client_id", 1, ())

# Counters that are small (messages, ports) are read through NUMBERS; byte counts, sizes,
# uids and pids are often beyond its 10,000 and go to int() straight away.
Groups = tuple[Any, ...]
"""``match.group(*GROUPS[shape])``: a shape's groups, the stamp first. Each is a ``str``, or
``None`` where the pattern makes the group optional (typed Any: the pattern, not the type
checker, knows which)."""


def _login(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, method, rip, rport, lip, lport, mpid, tls, details, secured, session = g[3:]
    if not user:
        return "truncated"
    return new_login(
        time, session, user, user if domain is None or "@" in user else f"{user}@{domain}",
        service, method, rip, None if rport is None else NUMBERS[rport], lip,
        None if lport is None else NUMBERS[lport], None if mpid is None else NUMBERS[mpid],
        tls is not None, secured is not None, details,
    )  # fmt: skip


def _id(g: Groups, time: datetime, _domain: str | None) -> Event | str | None:
    service, text, tail, _, _, rip, rport, lip, lport, _, _, _, _, session = g[3:]
    if ": user=<" in text or ": user=<" in tail:  # the general reader cuts at the last one
        return None
    pairs, name, version, os, os_version, vendor = client_fields(text)
    return new_client_id(
        time, session, None, None, service, rip, None if rport is None else NUMBERS[rport], lip,
        None if lport is None else NUMBERS[lport], pairs, name, version, os, os_version, vendor,
    )  # fmt: skip


def _imap_logout(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, pid, session, rip, reason, bytes_in, bytes_out, deleted, expunged, \
        trashed, hdr_count, hdr_bytes, body_count, body_bytes = g[3:]  # fmt: skip
    if service != "imap" or user is None or pid is None:
        return None
    n = NUMBERS
    mailbox = user if domain is None or "@" in user else f"{user}@{domain}"
    if deleted is None:
        return new_imap_logout(time, session, user, mailbox, int(pid), rip, reason,
                               int(bytes_in), int(bytes_out), None, None, None, None, None, None,
                               None)  # fmt: skip
    return new_imap_logout(
        time, session, user, mailbox, int(pid), rip, reason, int(bytes_in), int(bytes_out),
        n[deleted], n[expunged], n[trashed], n[hdr_count], int(hdr_bytes), n[body_count],
        int(body_bytes),
    )  # fmt: skip


def _pop3_logout(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, pid, session, rip, reason, top, top_bytes, retr, retr_bytes, deleted, \
        messages, size, deleted_bytes, uidl_hash, bytes_in, bytes_out = g[3:]  # fmt: skip
    if service != "pop3" or user is None or pid is None:
        return None
    n = NUMBERS
    rich = deleted_bytes is not None
    return new_pop3_logout(
        time, session, user, user if domain is None or "@" in user else f"{user}@{domain}",
        int(pid), rip, reason, n[top], int(top_bytes), n[retr], int(retr_bytes), n[deleted],
        n[messages], int(size), int(deleted_bytes) if rich else None, uidl_hash,
        int(bytes_in) if rich else None, int(bytes_out) if rich else None,
    )  # fmt: skip


def _mail_log(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, pid, session, rip, action, box, uid, msgid, size, vsize, sender, subject, \
        flags = g[3:]  # fmt: skip
    if service is None or user is None or pid is None or action is None:
        return None
    source_box = None
    if action[:10] == "copy from ":
        action, source_box = "copy", action[10:]
    return new_mail_event(
        time, session, user, user if domain is None or "@" in user else f"{user}@{domain}",
        service, int(pid), rip, action, box, None if uid is None else int(uid), msgid,
        None if size is None else int(size), None if vsize is None else int(vsize), flags, sender,
        subject, source_box,
    )  # fmt: skip


def _delivered(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, pid, session, rip, msgid, box = g[3:]
    if service in {"imap", "pop3"} or user is None or pid is None or box is None:
        return None  # imap and pop3 processes log no deliveries: the general reader says
    if box[:1] == "'" and box[-1:] == "'":
        box = box[1:-1]
    return new_mail_event(
        time, session, user, user if domain is None or "@" in user else f"{user}@{domain}",
        service, int(pid), rip, "delivered", box, None,
        None if msgid in {"", "unspecified"} else msgid, None, None, None, None, None, None,
    )  # fmt: skip


def _client_id(g: Groups, time: datetime, domain: str | None) -> Event | str | None:
    service, user, _, session, rip, text = g[3:]
    if service != "imap" or user is None or text is None:
        return None
    pairs, name, version, os, os_version, vendor = client_fields(text)
    return new_client_id(
        time, session, user, user if domain is None or "@" in user else f"{user}@{domain}",
        "imap", rip, None, None, None, pairs, name, version, os, os_version, vendor,
    )  # fmt: skip


# ---------------------------------------------------------------- the same shapes, folded
# What ingest keeps of each shape, merged straight into the batch's session rows (or added
# as a mail row): the columns that FOLDS would take from the builder's event, without
# building it. Each folder declines (False) exactly where its builder does; otherwise it
# returns what the row folder returns (the key of a session new in the batch, or None).


def _fold_login(g: Groups, at: float, domain: str | None, sessions: Sessions,
                _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, method, rip, lip, lport, tls, session = g
    if not user:
        return False
    return fold_login(sessions, session,
                      user if domain is None or "@" in user else f"{user}@{domain}", service,
                      rip, lip, None if lport is None else NUMBERS[lport], tls is not None,
                      method, at)  # fmt: skip


def _fold_id(g: Groups, _at: float, _domain: str | None, sessions: Sessions,
             _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, text, tail, rip, session = g
    if ": user=<" in text or ": user=<" in tail:
        return False
    _, name, version, os, os_version, vendor = client_fields(text)
    return fold_client(sessions, session, None, service, rip, name, version, os, os_version,
                       vendor)  # fmt: skip


def _fold_imap_logout(g: Groups, at: float, domain: str | None, sessions: Sessions,
                      _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, session, rip, reason, deleted, expunged, trashed = g
    if service != "imap":
        return False
    mailbox = user if domain is None or "@" in user else f"{user}@{domain}"
    if deleted is None:
        return fold_imap_logout(sessions, session, mailbox, "imap", rip, at, reason, None,
                                None, None, None)  # fmt: skip
    n = NUMBERS
    return fold_imap_logout(sessions, session, mailbox, "imap", rip, at, reason, n[deleted],
                            n[expunged], n[trashed], None)  # fmt: skip


def _fold_pop3_logout(g: Groups, at: float, domain: str | None, sessions: Sessions,
                      _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, session, rip, reason, top, retr, deleted, messages, deleted_bytes, \
        uidl_hash = g  # fmt: skip
    if service != "pop3":
        return False
    n = NUMBERS
    return fold_pop3_logout(
        sessions, session, user if domain is None or "@" in user else f"{user}@{domain}",
        "pop3", rip, at, reason, n[top], n[retr], n[deleted], n[messages],
        None if deleted_bytes is None else int(deleted_bytes), uidl_sent(uidl_hash), None,
    )  # fmt: skip


def _fold_mail_log(g: Groups, at: float, domain: str | None, _sessions: Sessions,
                   mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, session, action, box, uid, msgid, size = g
    if action[:10] == "copy from ":
        action = "copy"
    mail.append((session, user if domain is None or "@" in user else f"{user}@{domain}", at,
                 service, action, box, None if uid is None else int(uid), msgid,
                 None if size is None else int(size)))  # fmt: skip
    return None


def _fold_delivered(g: Groups, at: float, domain: str | None, _sessions: Sessions,
                    mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, session, msgid, box = g
    if service in {"imap", "pop3"}:
        return False
    if box[:1] == "'" and box[-1:] == "'":
        box = box[1:-1]
    mail.append((session, user if domain is None or "@" in user else f"{user}@{domain}", at,
                 service, "delivered", box, None,
                 None if msgid in {"", "unspecified"} else msgid, None))  # fmt: skip
    return None


def _fold_aborted(g: Groups, _at: float, _domain: str | None, _sessions: Sessions,
                  _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    """An aborted login says nothing of a session: an event all the same (a count)."""
    return False if ": user=<" in g else None  # the general reader cuts at the first one


def _fold_auth_failure(_g: Groups, _at: float, _domain: str | None, _sessions: Sessions,
                       _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    """An auth verdict says nothing of a session either: an event, counted."""
    return None


def _fold_client_id(g: Groups, _at: float, domain: str | None, sessions: Sessions,
                    _mail: list[MailRow]) -> str | bool | None:  # fmt: skip
    service, user, session, rip, text = g
    if service != "imap":
        return False
    _, name, version, os, os_version, vendor = client_fields(text)
    return fold_client(sessions, session,
                       user if domain is None or "@" in user else f"{user}@{domain}", "imap",
                       rip, name, version, os, os_version, vendor)  # fmt: skip


Builder = Callable[[Groups, "datetime", str | None], "Event | str | None"]
Folder = Callable[[Groups, float, str | None, Sessions, list[MailRow]], str | bool | None]
_SHAPES: Final = (
    ("login", _LOGIN, _login, _FOLD_LOGIN, _fold_login),
    ("id", _ID, _id, _FOLD_ID, _fold_id),
    ("imap_logout", _IMAP, _imap_logout, _FOLD_IMAP, _fold_imap_logout),
    ("pop3_logout", _POP3, _pop3_logout, _FOLD_POP3, _fold_pop3_logout),
    ("mail_log", _MAIL_LOG, _mail_log, _FOLD_MAIL_LOG, _fold_mail_log),
    ("delivered", _DELIVERED, _delivered, _FOLD_DELIVERED, _fold_delivered),
    ("client_id", _CLIENT_ID, _client_id, _FOLD_CLIENT_ID, _fold_client_id),
    # read here for ingest only; their events come from the general reader
    ("aborted", (), None, _ABORTED, _fold_aborted),
    ("auth_failure", (), None, (), _fold_auth_failure),
)
_SIZE: Final = USUAL.groups + 1
GROUPS: Final[list[tuple[int, ...]]] = [STAMP] * _SIZE
"""``match.group(*GROUPS[match.lastindex])``: the stamp's groups, then the shape's own."""
FOLD_GROUPS: Final[list[tuple[int, ...]]] = [()] * _SIZE
"""The same for the folders: the groups whose values a row keeps, without the stamp."""
SKIPS: Final[list[str | None]] = [None] * _SIZE
"""By ``lastindex``: the kind a shape without an event is counted as."""
BUILDERS: Final[list[Builder | None]] = [None] * _SIZE
"""By ``lastindex``: ``build(groups, time, domain)`` -> the event, a skip kind, or ``None``
when the general reader must decide."""
FOLDERS: Final[list[Folder | None]] = [None] * _SIZE
"""By ``lastindex``: ``fold(groups, at, domain, sessions, mail)`` for ingest."""
for _name, _groups_of, _build, _fold_groups, _fold in _SHAPES:
    GROUPS[_G[_name]] = _groups_of or STAMP
    BUILDERS[_G[_name]] = _build
    FOLD_GROUPS[_G[_name]] = _fold_groups
    FOLDERS[_G[_name]] = _fold
for _index, _kind in SKIPPED.items():
    SKIPS[_index] = _kind

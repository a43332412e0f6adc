"""Events -> session patches: what one event says about its mail session, keyed by session id.

A patch carries only what its event knows; the store merges patches of the same session
(later non-empty values win, counters are set, never added). Applying a patch twice
therefore changes nothing, and a login, its IMAP ID and its logout join through the
session id whatever order and batches they arrive in. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any, cast

from autoconf.events.build import positional
from autoconf.events.model import (
    AbortedLogin,
    AuthFailure,
    ClientId,
    Disconnected,
    ImapLogout,
    Login,
    MailEvent,
    Pop3Logout,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from autoconf.events.model import Event


@dataclass(slots=True, kw_only=True)
class Session:
    """One mail session as far as it is known; every field but ``key`` may be unknown.

    Not frozen: ingest builds one per event, and a frozen dataclass sets each of its 25
    fields through object.__setattr__. Treat it as a value all the same (only ``absorb``
    changes one, on patches its caller made itself).
    """

    key: str
    mailbox: str | None = None
    protocol: str | None = None
    rip: str | None = None
    lip: str | None = None
    lport: int | None = None
    tls: bool | None = None
    method: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    client_name: str | None = None
    client_version: str | None = None
    client_os: str | None = None
    client_os_version: str | None = None
    client_vendor: str | None = None
    top: int | None = None
    retrieved: int | None = None
    deleted: int | None = None
    messages: int | None = None
    deleted_bytes: int | None = None
    uidl: bool | None = None
    expunged: int | None = None
    trashed: int | None = None
    mail_age_days: float | None = None

    @property
    def deletes(self) -> bool:
        """The session removed mail from the server (POP3 DELE, IMAP expunge)."""
        return bool(self.deleted) if self.protocol == "pop3" else bool(self.expunged)


SESSION_COLUMNS = tuple(f.name for f in fields(Session))
# Counts that only grow during a session: a merge keeps the larger (a late or replayed patch
# with a smaller count, e.g. from an event receiver that restarted, cannot shrink them).
COUNTERS = frozenset({"top", "retrieved", "deleted", "deleted_bytes", "expunged", "trashed"})


def _absorber() -> Callable[[Session, Session], None]:
    """``absorb``, written out field by field: no loop, no getattr (ingest runs it per event)."""
    body = []
    for name in SESSION_COLUMNS:
        if name == "key":
            continue
        if name == "started_at":
            body.append(f"    if old.{name} is None:\n        old.{name} = new.{name}\n")
        elif name in COUNTERS:
            body.append(
                f"    v = new.{name}\n    if v is not None:\n        w = old.{name}\n"
                f"        if w is None or v > w:\n            old.{name} = v\n"
            )
        else:
            body.append(f"    v = new.{name}\n    if v is not None:\n        old.{name} = v\n")
    namespace: dict[str, object] = {}
    exec("def absorb(old, new):\n" + "".join(body), namespace)  # noqa: S102 - our own text
    return cast("Callable[[Session, Session], None]", namespace["absorb"])


absorb = _absorber()
absorb.__doc__ = """Merge ``new`` into ``old`` in place: what ``merge`` returns, minus a new object.

For patches the caller owns (ingest merges the patches of one batch before writing them).
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class MailRecord:
    """A message-level event of a session (mail_log or delivery), as stored."""

    session: str | None
    mailbox: str
    at: float
    service: str
    action: str
    box: str | None = None
    uid: int | None = None
    msgid: str | None = None
    size: int | None = None


MAIL_COLUMNS = tuple(f.name for f in fields(MailRecord))


_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 - naive on purpose, see _ts
_MICROSECOND = timedelta(microseconds=1)


_DAY_US: dict[int, int] = {}  # proleptic ordinal of a day -> microseconds from the epoch
_OFFSET_US: dict[tzinfo, int] = {}  # fixed-offset zone -> its offset in microseconds
_EPOCH_ORDINAL = _EPOCH.toordinal()


def _ts(moment: datetime, zone: tzinfo) -> float:
    """Epoch seconds; a naive log time is read in the log's time zone."""
    if moment.tzinfo is None and type(zone) is timezone:
        # a fixed offset (UTC): the same float as .replace(tzinfo=zone).timestamp(), which
        # also divides the exact microseconds since the epoch by 10**6, at a fifth of the
        # cost (small-int arithmetic instead of datetime and timedelta objects)
        day = moment.toordinal()
        base = _DAY_US.get(day)
        if base is None:
            if len(_DAY_US) >= 4096:  # noqa: PLR2004 - a bound, never reached by one log
                _DAY_US.clear()
            base = _DAY_US[day] = (day - _EPOCH_ORDINAL) * 86_400_000_000
        offset = _OFFSET_US.get(zone)
        if offset is None:
            offset = _OFFSET_US[zone] = zone.utcoffset(None) // _MICROSECOND
        return (
            base
            - offset
            + ((moment.hour * 60 + moment.minute) * 60 + moment.second) * 1_000_000
            + moment.microsecond
        ) / 1_000_000
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()


def micros(moment: datetime, zone: tzinfo) -> int:
    """Microseconds from the epoch; a naive log time is read in the log's time zone.

    ``_ts(moment, zone)`` is this divided by 10**6 (the same float: both divide the exact
    integer), so a cache of each second's ``micros`` gives every stamp of that second.
    """
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    return (aware - _EPOCH_UTC) // _MICROSECOND


_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


# Positional constructors (see build.positional): ingest builds one object per event, and
# the keyword __init__ of a 25-field (or frozen) dataclass costs several times as much.
_new_mail = positional(MailRecord, "session mailbox at service action box uid msgid size")
_new_login = positional(Session, "key mailbox protocol rip lip lport tls method started_at")
_new_client_id = positional(
    Session,
    "key mailbox protocol rip client_name client_version client_os client_os_version client_vendor",
)
_new_pop3_logout = positional(
    Session,
    "key mailbox protocol rip ended_at end_reason top retrieved deleted messages "
    "deleted_bytes uidl mail_age_days",
)
_new_imap_logout = positional(
    Session,
    "key mailbox protocol rip ended_at end_reason deleted expunged trashed mail_age_days",
)
_new_disconnected = positional(Session, "key mailbox protocol rip ended_at end_reason")


def _mail(event: MailEvent, zone: tzinfo) -> MailRecord:
    return _new_mail(
        event.session, event.mailbox, _ts(event.time, zone), event.service, event.action,
        event.box, event.uid, event.msgid, event.size,
    )  # fmt: skip


def _login(event: Login, zone: tzinfo) -> Session | None:
    if not event.session:
        return None
    return _new_login(
        event.session, event.mailbox, event.protocol, event.rip, event.lip, event.lport,
        event.tls, event.method, _ts(event.time, zone),
    )  # fmt: skip


def _client_id(event: ClientId, _zone: tzinfo) -> Session | None:
    if not event.session:
        return None
    return _new_client_id(
        event.session, event.mailbox, event.protocol, event.rip, event.name, event.version,
        event.os, event.os_version, event.vendor,
    )  # fmt: skip


def _pop3_logout(event: Pop3Logout, zone: tzinfo) -> Session | None:
    if not event.session:
        return None
    return _new_pop3_logout(
        event.session, event.mailbox, "pop3", event.rip, _ts(event.time, zone), event.reason,
        event.top, event.retr, event.deleted, event.messages, event.deleted_bytes,
        None if event.uidl_hash is None else bool(event.uidl_hash.strip()),
        event.mail_age_days,
    )  # fmt: skip


def _imap_logout(event: ImapLogout, zone: tzinfo) -> Session | None:
    if not event.session:
        return None
    return _new_imap_logout(
        event.session, event.mailbox, "imap", event.rip, _ts(event.time, zone), event.reason,
        event.deleted, event.expunged, event.trashed, event.mail_age_days,
    )  # fmt: skip


def _disconnected(event: Disconnected, zone: tzinfo) -> Session | None:
    if not event.session:
        return None
    return _new_disconnected(
        event.session, event.mailbox, event.service, event.rip, _ts(event.time, zone),
        event.reason,
    )  # fmt: skip


def _nothing(_event: object, _zone: tzinfo) -> None:
    return None


# What each kind of event says (auth failures and aborted logins: nothing).
_PATCHES: dict[type, Callable[[Any, tzinfo], Session | MailRecord | None]] = {
    MailEvent: _mail,
    Login: _login,
    ClientId: _client_id,
    Pop3Logout: _pop3_logout,
    ImapLogout: _imap_logout,
    Disconnected: _disconnected,
    AuthFailure: _nothing,
    AbortedLogin: _nothing,
}


def patch_for(event: Event, zone: tzinfo = UTC) -> Session | MailRecord | None:
    """What an event says: a session patch, a mail record, or nothing worth keeping."""
    make = _PATCHES.get(type(event))
    if make is None:  # a subclass, or a kind of event that says nothing
        make = next((f for t, f in _PATCHES.items() if isinstance(event, t)), None)
        if make is None:
            return None
    return make(event, zone)


# ---------------------------------------------------------------- folding events into a batch

Row = list[Any]
"""A session of a batch as the values of ``SESSION_COLUMNS``, merged in place."""
MailRow = tuple[Any, ...]
"""A mail record as the values of ``MAIL_COLUMNS``."""
_INDEX = {name: i for i, name in enumerate(SESSION_COLUMNS)}


def _row_folder(columns: str) -> Callable[..., str | None]:
    """``fold(sessions, key, *values)``: what one event says of the columns ``columns``.

    A key new in ``sessions`` gets a row (``None`` in every other column) and is returned;
    a known row takes the values by the rules of ``absorb`` (later known values win, the
    start stays once known, counters keep the larger value) and ``None`` is returned. The
    ingest folds every event of a batch into its session's row this way: one row per
    session to write, and no patch object per event.
    """
    names = columns.split()
    row = ["None"] * len(SESSION_COLUMNS)
    row[0] = "key"
    for name in names:
        row[_INDEX[name]] = name
    lines = [
        f"def fold(sessions, key, {', '.join(names)}):\n",
        "    row = sessions.get(key)\n    if row is None:\n",
        f"        sessions[key] = [{', '.join(row)}]\n        return key\n",
    ]
    for name in names:
        i = _INDEX[name]
        if name == "started_at":
            lines.append(f"    if row[{i}] is None:\n        row[{i}] = {name}\n")
        elif name in COUNTERS:
            lines.append(
                f"    if {name} is not None:\n        w = row[{i}]\n"
                f"        if w is None or {name} > w:\n            row[{i}] = {name}\n"
            )
        else:
            lines.append(f"    if {name} is not None:\n        row[{i}] = {name}\n")
    lines.append("    return None\n")
    namespace: dict[str, object] = {}
    exec("".join(lines), namespace)  # noqa: S102 - our own text, from the column names
    return cast("Callable[..., str | None]", namespace["fold"])


fold_login = _row_folder("mailbox protocol rip lip lport tls method started_at")
fold_client = _row_folder(
    "mailbox protocol rip client_name client_version client_os client_os_version client_vendor"
)
fold_pop3_logout = _row_folder(
    "mailbox protocol rip ended_at end_reason top retrieved deleted messages deleted_bytes uidl "
    "mail_age_days"
)
fold_imap_logout = _row_folder(
    "mailbox protocol rip ended_at end_reason deleted expunged trashed mail_age_days"
)
fold_disconnected = _row_folder("mailbox protocol rip ended_at end_reason")
_absorb_row = _row_folder(" ".join(SESSION_COLUMNS[1:]))


def uidl_sent(uidl_hash: str | None) -> bool | None:
    """Whether the POP3 client asked for UIDLs (``%u`` is empty when it never did)."""
    return None if uidl_hash is None else bool(uidl_hash.strip())


Sessions = dict[str, Row]


def _fold_login(e: Login, zone: tzinfo, sessions: Sessions, _mail: list[MailRow]) -> str | None:
    if not e.session:
        return None
    return fold_login(sessions, e.session, e.mailbox, e.protocol, e.rip, e.lip, e.lport, e.tls,
                      e.method, _ts(e.time, zone))  # fmt: skip


def _fold_client(
    e: ClientId, _zone: tzinfo, sessions: Sessions, _mail: list[MailRow]
) -> str | None:
    if not e.session:
        return None
    return fold_client(sessions, e.session, e.mailbox, e.protocol, e.rip, e.name, e.version,
                       e.os, e.os_version, e.vendor)  # fmt: skip


def _fold_pop3(e: Pop3Logout, zone: tzinfo, sessions: Sessions, _mail: list[MailRow]) -> str | None:
    if not e.session:
        return None
    return fold_pop3_logout(
        sessions, e.session, e.mailbox, "pop3", e.rip, _ts(e.time, zone), e.reason, e.top,
        e.retr, e.deleted, e.messages, e.deleted_bytes, uidl_sent(e.uidl_hash), e.mail_age_days,
    )  # fmt: skip


def _fold_imap(e: ImapLogout, zone: tzinfo, sessions: Sessions, _mail: list[MailRow]) -> str | None:
    if not e.session:
        return None
    return fold_imap_logout(
        sessions, e.session, e.mailbox, "imap", e.rip, _ts(e.time, zone), e.reason, e.deleted,
        e.expunged, e.trashed, e.mail_age_days,
    )  # fmt: skip


def _fold_ended(
    e: Disconnected, zone: tzinfo, sessions: Sessions, _mail: list[MailRow]
) -> str | None:
    if not e.session:
        return None
    return fold_disconnected(sessions, e.session, e.mailbox, e.service, e.rip,
                             _ts(e.time, zone), e.reason)  # fmt: skip


def _fold_mail(e: MailEvent, zone: tzinfo, _sessions: Sessions, mail: list[MailRow]) -> None:
    mail.append((e.session, e.mailbox, _ts(e.time, zone), e.service, e.action, e.box, e.uid,
                 e.msgid, e.size))  # fmt: skip


def _fold_nothing(_e: object, _zone: tzinfo, _sessions: Sessions, _mail: list[MailRow]) -> None:
    return None


FOLDS: dict[type, Callable[[Any, tzinfo, Sessions, list[MailRow]], str | None]] = {
    MailEvent: _fold_mail,
    Login: _fold_login,
    ClientId: _fold_client,
    Pop3Logout: _fold_pop3,
    ImapLogout: _fold_imap,
    Disconnected: _fold_ended,
    AuthFailure: _fold_nothing,
    AbortedLogin: _fold_nothing,
}
"""``FOLDS[type(event)](event, zone, sessions, mail)`` adds what the event says to a batch:
a mail row to ``mail``, or its session's columns merged into the row of ``sessions`` (keyed
by session id) as ``absorb`` would merge its patch. Returns the session key when it is new
in ``sessions``. The same result as ``patch_for`` and ``absorb``, at a fraction of the cost."""


def fold(event: Event, zone: tzinfo, sessions: Sessions, mail: list[MailRow]) -> str | None:
    """``FOLDS`` for any event, subclasses included (through ``patch_for``)."""
    folder = FOLDS.get(type(event))
    if folder is not None:
        return folder(event, zone, sessions, mail)
    patch = patch_for(event, zone)
    if isinstance(patch, MailRecord):
        mail.append(tuple(getattr(patch, name) for name in MAIL_COLUMNS))
    elif patch is not None:
        return _absorb_row(sessions, *(getattr(patch, name) for name in SESSION_COLUMNS))
    return None


def merge(old: Session, new: Session) -> Session:
    """What the store does with two patches of one session.

    Known values of ``new`` win, except the start, which the first patch knowing it sets,
    and the counters, which keep the larger value.
    """
    values = {
        name: (getattr(new, name) if getattr(new, name) is not None else getattr(old, name))
        for name in SESSION_COLUMNS
    }
    if old.started_at is not None:
        values["started_at"] = old.started_at
    for name in COUNTERS:
        before, after = getattr(old, name), getattr(new, name)
        if before is not None and after is not None:
            values[name] = max(before, after)
    return Session(**values)

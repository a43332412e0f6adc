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

from autoconf.events.dovecot_log import _maker
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


# Positional constructors (see dovecot_log._maker): ingest builds one object per event, and
# the keyword __init__ of a 25-field (or frozen) dataclass costs several times as much.
_new_mail = _maker(MailRecord, "session mailbox at service action box uid msgid size")
_new_login = _maker(Session, "key mailbox protocol rip lip lport tls method started_at")
_new_client_id = _maker(
    Session,
    "key mailbox protocol rip client_name client_version client_os client_os_version client_vendor",
)
_new_pop3_logout = _maker(
    Session,
    "key mailbox protocol rip ended_at end_reason top retrieved deleted messages "
    "deleted_bytes uidl mail_age_days",
)
_new_imap_logout = _maker(
    Session,
    "key mailbox protocol rip ended_at end_reason deleted expunged trashed mail_age_days",
)
_new_disconnected = _maker(Session, "key mailbox protocol rip ended_at end_reason")


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


def _folder(cls: type, fields_from_event: str) -> Any:
    """``fold`` for events of ``cls``: what ``patch_for`` + ``absorb`` do, with no patch.

    ``fields_from_event`` lists ``column=expression`` pairs (``e`` is the event, ``zone``
    the log's zone; no spaces inside an expression). The generated function builds the
    session when its key is new in ``sessions`` (and returns the key), else merges only the
    columns this kind of event knows, by the rules of ``absorb``; an event without a session
    id changes nothing.
    """
    pairs = [pair.split("=", 1) for pair in fields_from_event.split()]
    lines = ["def fold(e, zone, sessions, mail):\n    key = e.session\n    if not key:\n",
             "        return None\n"]  # fmt: skip
    lines += [f"    {name} = {expr}\n" for name, expr in pairs]
    names = ", ".join(name for name, _ in pairs)
    lines.append(
        f"    old = sessions.get(key)\n    if old is None:\n"
        f"        sessions[key] = make(key, {names})\n        return key\n"
    )
    for name, _ in pairs:
        if name == "started_at":
            lines.append(f"    if old.{name} is None:\n        old.{name} = {name}\n")
        elif name in COUNTERS:
            lines.append(
                f"    if {name} is not None:\n        w = old.{name}\n"
                f"        if w is None or {name} > w:\n            old.{name} = {name}\n"
            )
        else:
            lines.append(f"    if {name} is not None:\n        old.{name} = {name}\n")
    lines.append("    return None\n")
    make = _maker(Session, "key " + " ".join(name for name, _ in pairs))
    namespace: dict[str, object] = {"make": make, "_ts": _ts, "_uidl": _uidl}
    exec("".join(lines), namespace)  # noqa: S102 - our own text
    fold = namespace["fold"]
    cast("Any", fold).__qualname__ = f"fold_{cls.__name__}"
    return fold


def _uidl(uidl_hash: str | None) -> bool | None:
    return None if uidl_hash is None else bool(uidl_hash.strip())


def _fold_mail(e: MailEvent, zone: tzinfo, _sessions: object, mail: list[MailRecord]) -> None:
    mail.append(_mail(e, zone))


def _fold_nothing(_e: object, _zone: tzinfo, _sessions: object, _mail: object) -> None:
    return None


FOLDS: dict[type, Callable[[Any, tzinfo, dict[str, Session], list[MailRecord]], str | None]] = {
    MailEvent: _fold_mail,
    Login: _folder(
        Login,
        "mailbox=e.mailbox protocol=e.protocol rip=e.rip lip=e.lip lport=e.lport tls=e.tls "
        "method=e.method started_at=_ts(e.time,zone)",
    ),
    ClientId: _folder(
        ClientId,
        "mailbox=e.mailbox protocol=e.protocol rip=e.rip client_name=e.name "
        "client_version=e.version client_os=e.os client_os_version=e.os_version "
        "client_vendor=e.vendor",
    ),
    Pop3Logout: _folder(
        Pop3Logout,
        "mailbox=e.mailbox protocol='pop3' rip=e.rip ended_at=_ts(e.time,zone) "
        "end_reason=e.reason top=e.top retrieved=e.retr deleted=e.deleted messages=e.messages "
        "deleted_bytes=e.deleted_bytes "
        "uidl=_uidl(e.uidl_hash) "
        "mail_age_days=e.mail_age_days",
    ),
    ImapLogout: _folder(
        ImapLogout,
        "mailbox=e.mailbox protocol='imap' rip=e.rip ended_at=_ts(e.time,zone) "
        "end_reason=e.reason deleted=e.deleted expunged=e.expunged trashed=e.trashed "
        "mail_age_days=e.mail_age_days",
    ),
    Disconnected: _folder(
        Disconnected,
        "mailbox=e.mailbox protocol=e.service rip=e.rip ended_at=_ts(e.time,zone) "
        "end_reason=e.reason",
    ),
    AuthFailure: _fold_nothing,
    AbortedLogin: _fold_nothing,
}
"""``FOLDS[type(event)](event, zone, sessions, mail)`` adds what the event says to a batch:
a mail record to ``mail``, or its session patch merged into ``sessions`` (keyed by session
id, merged in place as ``absorb`` would). Returns the session key when it is new in
``sessions``. The same result as ``patch_for`` and ``absorb``, at a fraction of the cost:
no patch object per event, and only the columns the event knows are merged."""


def fold(
    event: Event, zone: tzinfo, sessions: dict[str, Session], mail: list[MailRecord]
) -> str | None:
    """``FOLDS`` for any event, subclasses included (through ``patch_for``)."""
    folder = FOLDS.get(type(event))
    if folder is not None:
        return folder(event, zone, sessions, mail)
    patch = patch_for(event, zone)
    if isinstance(patch, MailRecord):
        mail.append(patch)
    elif patch is not None:
        old = sessions.get(patch.key)
        if old is None:
            sessions[patch.key] = patch
            return patch.key
        absorb(old, patch)
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

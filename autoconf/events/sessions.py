"""Events -> session patches: what one event says about its mail session, keyed by session id.

A patch carries only what its event knows; the store merges patches of the same session
(later non-empty values win, counters are set, never added). Applying a patch twice
therefore changes nothing, and a login, its IMAP ID and its logout join through the
session id whatever order and batches they arrive in. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING

from autoconf.events.model import (
    ClientId,
    Disconnected,
    ImapLogout,
    Login,
    MailEvent,
    Pop3Logout,
)

if TYPE_CHECKING:
    from autoconf.events.model import Event


@dataclass(slots=True, kw_only=True)
class Session:
    """One mail session as far as it is known; every field but ``key`` may be unknown.

    Not frozen: ingest builds one per event, and a frozen dataclass sets each of its 25
    fields through object.__setattr__. Treat it as a value all the same.
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


def _ts(moment: datetime, zone: tzinfo) -> float:
    """Epoch seconds; a naive log time is read in the log's time zone."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()


def patch_for(event: Event, zone: tzinfo = UTC) -> Session | MailRecord | None:  # noqa: PLR0911
    """What an event says: a session patch, a mail record, or nothing worth keeping."""
    if isinstance(event, MailEvent):
        return MailRecord(
            session=event.session,
            mailbox=event.mailbox,
            at=_ts(event.time, zone),
            service=event.service,
            action=event.action,
            box=event.box,
            uid=event.uid,
            msgid=event.msgid,
            size=event.size,
        )
    key = getattr(event, "session", None)
    if not key:
        return None
    at = _ts(event.time, zone)
    if isinstance(event, Login):
        return Session(
            key=key, mailbox=event.mailbox, protocol=event.protocol, rip=event.rip,
            lip=event.lip, lport=event.lport, tls=event.tls, method=event.method, started_at=at,
        )  # fmt: skip
    if isinstance(event, ClientId):
        return Session(
            key=key, mailbox=event.mailbox, protocol=event.protocol, rip=event.rip,
            client_name=event.name, client_version=event.version, client_os=event.os,
            client_os_version=event.os_version, client_vendor=event.vendor,
        )  # fmt: skip
    if isinstance(event, Pop3Logout):
        return Session(
            key=key, mailbox=event.mailbox, protocol="pop3", rip=event.rip, ended_at=at,
            end_reason=event.reason, top=event.top, retrieved=event.retr, deleted=event.deleted,
            messages=event.messages, deleted_bytes=event.deleted_bytes,
            uidl=None if event.uidl_hash is None else bool(event.uidl_hash.strip()),
            mail_age_days=event.mail_age_days,
        )  # fmt: skip
    if isinstance(event, ImapLogout):
        return Session(
            key=key, mailbox=event.mailbox, protocol="imap", rip=event.rip, ended_at=at,
            end_reason=event.reason, deleted=event.deleted, expunged=event.expunged,
            trashed=event.trashed, mail_age_days=event.mail_age_days,
        )  # fmt: skip
    if isinstance(event, Disconnected):
        return Session(
            key=key, mailbox=event.mailbox, protocol=event.service, rip=event.rip, ended_at=at,
            end_reason=event.reason,
        )  # fmt: skip
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

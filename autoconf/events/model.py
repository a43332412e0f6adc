"""Typed mail-server events: what one Dovecot log line (or exported event) says happened.

Every event is a frozen, slotted dataclass built only with keyword arguments. The fields
shared by all events:

- ``time``: the line's own timestamp. Syslog-style stamps have no year; the parser is given
  one. Naive unless the line carried an offset (ISO 8601 journald/rsyslog stamps).
- ``session``: Dovecot's session id (``session=<…>`` on login lines, the ``<…>`` of the mail
  process prefix, ``session`` in JSON events). It joins a POP3 logout to its login.
- ``user``: the user name exactly as Dovecot logged it; ``mailbox``: that name as a mail
  address (``user@default_domain`` when the name has no ``@`` and a default domain is set).
  Both ``None`` when the line names no user (``user=<>`` before login).
- ``rip``: the remote address where the line has it (login lines always, mail process lines
  only with a ``mail_log_prefix`` that includes ``%{rip}``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from datetime import datetime

MailAction = Literal[
    "save",
    "copy",
    "delete",
    "undelete",
    "expunge",
    "flag_change",
    "delivered",
    "mailbox_create",
    "mailbox_delete",
    "mailbox_rename",
]
"""mail_log events, plus ``delivered``: the stock LMTP/LDA line ``msgid=…: saved mail to BOX``
(or Sieve's ``stored mail into mailbox``), present without ``mail_log``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Login:
    """A successful login: ``<proto>-login: Login: user=<…>, method=…, rip=…, …, session=<…>``."""

    time: datetime
    session: str | None
    user: str
    mailbox: str
    protocol: str
    """imap, pop3, submission, managesieve: the login service without ``-login``."""
    method: str | None
    rip: str | None
    rport: int | None
    lip: str | None
    lport: int | None
    mpid: int | None
    """Pid of the post-login mail process (the ``<pid>`` of its later lines)."""
    tls: bool
    """The connection used TLS (``%c`` = ``TLS``)."""
    secured: bool
    """Plaintext that Dovecot trusts (``%c`` = ``secured``: rip == lip or trusted network)."""
    tls_details: str | None = None
    """``%k``, e.g. ``TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientId:
    """An IMAP ID the client sent (``imap_id_log``), before login (user ``None``) or after."""

    time: datetime
    session: str | None
    user: str | None
    mailbox: str | None
    protocol: str
    rip: str | None
    rport: int | None
    lip: str | None
    lport: int | None
    fields: tuple[tuple[str, str], ...]
    """Every ID pair in the order logged, keys lower-cased."""
    name: str | None
    version: str | None
    os: str | None
    os_version: str | None
    vendor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Pop3Logout:
    """End of a POP3 session with ``pop3_logout_format`` counters.

    Stock format ``top=%t/%p, retr=%r/%b, del=%d/%m, size=%s``; the richer one adds
    ``deleted_bytes``, ``uidl_hash`` (``%u``), ``in``, ``out``. A counter the format lacks is
    ``None``. ``deleted`` > 0 is the central fact: the client deleted mail on the server.
    """

    time: datetime
    session: str | None
    user: str
    mailbox: str
    pid: int | None
    rip: str | None
    reason: str
    """What ended it, e.g. ``Logged out`` or ``Connection closed``."""
    top: int | None
    top_bytes: int | None
    retr: int | None
    retr_bytes: int | None
    deleted: int | None
    """``del=N/M``: N, messages the client deleted (DELE then QUIT)."""
    messages: int | None
    """``del=N/M``: M, messages in the maildrop at login."""
    size: int | None
    deleted_bytes: int | None = None
    uidl_hash: str | None = None
    """``%u`` as logged: ``old_count/crc [-> new_count/crc]``; empty if UIDL was never sent."""
    bytes_in: int | None = None
    bytes_out: int | None = None
    mail_age_days: float | None = None
    """Age of the youngest message the session deleted, in days (event export only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImapLogout:
    """End of an IMAP session with ``imap_logout_format`` counters (2.3 default format)."""

    time: datetime
    session: str | None
    user: str
    mailbox: str
    pid: int | None
    rip: str | None
    reason: str
    bytes_in: int | None
    bytes_out: int | None
    deleted: int | None
    """Messages flagged \\Deleted."""
    expunged: int | None
    trashed: int | None
    """Messages copied or moved to the \\Trash mailbox."""
    hdr_count: int | None = None
    hdr_bytes: int | None = None
    body_count: int | None = None
    body_bytes: int | None = None
    mail_age_days: float | None = None
    """Age of the youngest message the session expunged, in days (event export only)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disconnected:
    """End of a post-login session whose counters are not known (other services, formats)."""

    time: datetime
    session: str | None
    user: str
    mailbox: str
    service: str
    pid: int | None
    rip: str | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MailEvent:
    """One message-level event: a ``mail_log`` line or the stock delivery line."""

    time: datetime
    session: str | None
    user: str
    mailbox: str
    service: str
    """The process that did it: imap, pop3, lmtp, doveadm, …"""
    pid: int | None
    rip: str | None
    action: MailAction
    box: str | None
    """The mailbox folder (``box=``); for ``copy`` the destination."""
    uid: int | None = None
    msgid: str | None = None
    """The Message-ID as logged, angle brackets included."""
    size: int | None = None
    vsize: int | None = None
    flags: str | None = None
    """As logged, e.g. ``(\\Seen)``."""
    sender: str | None = None
    """``from=``, as logged."""
    subject: str | None = None
    source_box: str | None = None
    """``copy from INBOX: box=Trash``: INBOX."""
    reason: str | None = None
    """The event export's first ``reason_code``, e.g. ``pop3:cmd_quit`` or ``imap:cmd_uid_move``."""
    mail_age_days: int | None = None
    """Days since the message was saved (the export's ``mail_age_days``, on expunge requests)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthFailure:
    """An auth process verdict (``auth_verbose``): ``passwd-file(alice,rip,<session>): reason``."""

    time: datetime
    session: str | None
    user: str | None
    mailbox: str | None
    rip: str | None
    source: str
    """The passdb or mechanism that answered: passwd-file, sql, pam, ldap, …"""
    reason: str
    """E.g. ``Password mismatch`` or ``unknown user``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AbortedLogin:
    """A connection that ended before login (failed auth, no auth attempt, timeouts)."""

    time: datetime
    session: str | None
    user: str | None
    mailbox: str | None
    protocol: str
    method: str | None
    rip: str | None
    rport: int | None
    lip: str | None
    lport: int | None
    tls: bool
    secured: bool
    reason: str
    """E.g. ``Connection closed (auth failed, 1 attempts in 2 secs)``."""
    auth_failed: bool
    attempts: int | None


Event: TypeAlias = (
    Login
    | ClientId
    | Pop3Logout
    | ImapLogout
    | Disconnected
    | MailEvent
    | AuthFailure
    | AbortedLogin
)

"""Dovecot 2.3 exported events (JSON) -> the typed events of the log parser; never raises.

An exported event is ``{"event": name, "start_time", "end_time", "categories": [...],
"fields": {...}}`` (``format = json``; times RFC 3339 with ``format_args = time-rfc3339``,
else Unix seconds). What maps to what (reference/dovecot.md §4.6):

- ``auth_request_finished`` / ``auth_client_request_finished`` with a user and no error:
  ``Login`` (service, remote/local ip+port, session, ``transport`` TLS/trusted/insecure);
  with ``success=no`` or an ``error``: ``AuthFailure``.
- ``imap_command_finished`` of the ``ID`` command (sent after login): ``ClientId``. An ID sent
  before login is handled by imap-login, which exports no command event.
- ``mail_user_session_finished``: ``Pop3Logout`` / ``ImapLogout`` (``Disconnected`` for other
  mail services). The export carries no logout counters: ``Parser`` fills them in from the
  session's mail events.
- ``mail_expunge_requested`` / ``mail_expunged``: ``MailEvent`` ``expunge`` (with
  ``reason_code`` and, on the request, ``mail_age_days``); ``mail_delivery_finished``:
  ``MailEvent`` ``delivered``. POP3 ``mail_opened`` (``pop3:cmd_retr``/``pop3:cmd_top``) only
  feeds the counters.

Events from the pop3 process carry no remote address: they join their login by ``session``.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final, NamedTuple

from autoconf.events.model import (
    AuthFailure,
    ClientId,
    Disconnected,
    Event,
    ImapLogout,
    Login,
    MailEvent,
    Pop3Logout,
)

SKIP_KINDS: Final = (
    "not_event",  # not a JSON object with an "event" name and a "fields" object
    "unknown",  # an event name this parser does not know
    "ignored",  # a known event that says nothing we keep (dict/LMTP connections, IMAP commands)
    "anonymous",  # no user or no session where the event needs both
    "malformed",  # a required field is missing or has the wrong type (times, uid)
    "counted",  # POP3 mail_opened: only counted into its session by Parser
)

END_REASON: Final = "session finished"
"""``reason`` of logouts built from ``mail_user_session_finished`` (the export has none)."""

_MOVE_REASONS: Final = frozenset(("imap:cmd_move", "imap:cmd_uid_move"))
_LOGIN_EVENTS: Final = frozenset(("auth_request_finished", "auth_client_request_finished"))
_EXPUNGE_EVENTS: Final = frozenset(("mail_expunge_requested", "mail_expunged"))
_IGNORED: Final = frozenset(
    (
        "client_connection_connected",
        "client_connection_disconnected",
        "auth_client_request_started",
        "auth_client_request_continued",
        "auth_request_started",
        "auth_passdb_request_finished",
        "auth_userdb_request_finished",
        "auth_policy_request_finished",
        "mail_opened",  # IMAP opens (prefetch, search): not a fact about deletion
        "mailbox_opened",
        "smtp_server_command_finished",
        "smtp_server_transaction_finished",
        "proxy_session_started",
        "proxy_session_established",
        "proxy_session_finished",
    )
)
_NO_SESSION_SERVICES: Final = frozenset(("lmtp", "lda", "doveadm", "indexer-worker"))


class _Opened(NamedTuple):
    """A POP3 ``mail_opened``: which message a RETR or TOP touched."""

    session: str
    uid: int | None
    reason: str | None


class _Bad(Exception):
    """A required field is missing or of the wrong type."""


def parse_event(obj: object, *, default_domain: str | None) -> Event | None:
    """One exported event (decoded JSON) -> its event, or ``None``. Never raises."""
    result = classify_event(obj, default_domain=default_domain)
    return None if isinstance(result, str) else result


def classify_event(obj: object, *, default_domain: str | None) -> Event | str:
    """One exported event -> its event, or the ``SKIP_KINDS`` name of why it has none."""
    result = _safe(obj, default_domain)
    return "counted" if isinstance(result, _Opened) else result


def _safe(obj: object, domain: str | None) -> Event | _Opened | str:
    try:
        return _classify(obj, domain)
    except _Bad:
        return "malformed"
    except Exception:  # noqa: BLE001 - the contract is to count, never to raise
        return "malformed"


# ---------------------------------------------------------------- the stateful side


@dataclass(slots=True)
class _Tally:
    """What the mail events of one session added up to so far (sets: replays count once)."""

    protocol: str | None = None
    top: set[int | None] = field(default_factory=set)
    retr: set[int | None] = field(default_factory=set)
    expunged: set[tuple[str | None, int | None]] = field(default_factory=set)
    moved: set[tuple[str | None, int | None]] = field(default_factory=set)
    youngest: int | None = None
    mail: set[tuple[str, str, str | None, int | None, str | None]] = field(default_factory=set)
    logout: Pop3Logout | ImapLogout | None = None


class Parser:
    """Turns exported events into events to store, counting what it skips and why.

    It keeps a tally per session (bounded: the least recently used sessions are forgotten
    beyond ``max_sessions``) to give the logouts the counters the export lacks: POP3
    ``deleted`` (distinct messages expunged), ``retr`` and ``top`` (distinct messages opened
    by RETR and TOP), IMAP ``expunged`` (expunges other than moves), and the age of the
    youngest deleted message. A mail event arriving after its session's end re-sends the
    logout with the new counts. The same expunge (requested, then done) or a replayed event
    yields one mail event only. No I/O, no clock.
    """

    def __init__(self, *, default_domain: str | None = None, max_sessions: int = 50_000) -> None:
        self.default_domain = default_domain
        self.max_sessions = max_sessions
        self.received = 0
        self.events = 0
        self.skipped: Counter[str] = Counter()
        self._tallies: OrderedDict[str, _Tally] = OrderedDict()

    def feed(self, obj: object) -> list[Event]:
        """The events one exported event yields (none, one, or a mail event and a logout)."""
        self.received += 1
        result = _safe(obj, self.default_domain)
        if isinstance(result, str):
            self.skipped[result] += 1
            return []
        try:
            out = self._join(result)
        except Exception:  # noqa: BLE001 - never raise; an unexpected state is counted
            self.skipped["malformed"] += 1
            return []
        if isinstance(result, _Opened):
            self.skipped["counted"] += 1
        self.events += len(out)
        return out

    def summary(self) -> dict[str, int]:
        """Events received, events produced and skipped ones by kind (only kinds seen)."""
        return {
            "received": self.received,
            "events": self.events,
            **dict(sorted(self.skipped.items())),
        }

    def _tally(self, session: str) -> _Tally:
        tally = self._tallies.get(session)
        if tally is None:
            tally = self._tallies[session] = _Tally()
            if len(self._tallies) > self.max_sessions:
                self._tallies.popitem(last=False)
        else:
            self._tallies.move_to_end(session)
        return tally

    def _join(self, event: Event | _Opened) -> list[Event]:
        if isinstance(event, _Opened):
            tally = self._tally(event.session)
            tally.protocol = "pop3"
            if event.reason == "pop3:cmd_top":
                tally.top.add(event.uid)
            elif event.reason == "pop3:cmd_retr":
                tally.retr.add(event.uid)
            return _counted(tally)
        if isinstance(event, Pop3Logout | ImapLogout) and event.session:
            tally = self._tally(event.session)
            tally.logout = event
            return [_with_counts(event, tally)]
        if isinstance(event, MailEvent) and event.session:
            tally = self._tally(event.session)
            out: list[Event] = []
            key = (event.action, event.mailbox, event.box, event.uid, event.msgid)
            if key not in tally.mail:
                tally.mail.add(key)
                out.append(event)
            if event.action == "expunge":
                tally.protocol = event.service
                where = (event.box, event.uid)
                if event.reason in _MOVE_REASONS:
                    tally.moved.add(where)
                tally.expunged.add(where)
                age = event.mail_age_days
                if age is not None and (tally.youngest is None or age < tally.youngest):
                    tally.youngest = age
                out.extend(_counted(tally))
            return out
        return [event]


def _counted(tally: _Tally) -> list[Event]:
    """The session's logout again with fresh counts, if it already ended."""
    return [] if tally.logout is None else [_with_counts(tally.logout, tally)]


def _with_counts(logout: Pop3Logout | ImapLogout, tally: _Tally) -> Pop3Logout | ImapLogout:
    if not (tally.top or tally.retr or tally.expunged):
        return logout
    age = None if tally.youngest is None else float(tally.youngest)
    if isinstance(logout, Pop3Logout):
        return replace(
            logout,
            top=len(tally.top),
            retr=len(tally.retr),
            deleted=len(tally.expunged),
            mail_age_days=age,
        )
    return replace(logout, expunged=len(tally.expunged - tally.moved), mail_age_days=age)


# ---------------------------------------------------------------- one event


def _classify(obj: object, domain: str | None) -> Event | _Opened | str:  # noqa: PLR0911
    if not isinstance(obj, dict):
        return "not_event"
    name = obj.get("event")
    fields = obj.get("fields")
    if not isinstance(name, str) or not isinstance(fields, dict):
        return "not_event"
    if name in _LOGIN_EVENTS:
        return _auth(name, obj, fields, domain)
    if name in _EXPUNGE_EVENTS or name == "mail_delivery_finished":
        return _mail(name, obj, fields, domain)
    if name == "mail_opened":
        return _opened(obj, fields)
    if name == "mail_user_session_finished":
        return _session_end(obj, fields, domain)
    if name == "imap_command_finished":
        if _text(fields, "cmd_name") != "ID":
            return "ignored"
        return _client_id(obj, fields, domain)
    if name in _IGNORED:
        return "ignored"
    return "unknown"


def _opened(obj: dict[str, object], fields: dict[str, object]) -> _Opened | str:
    if _service(obj, fields) != "pop3":
        return "ignored"
    session = _text(fields, "session")
    if session is None:
        return "anonymous"
    return _Opened(session, _number(fields, "uid"), _reason(fields))


def _time(obj: dict[str, object]) -> datetime:
    """``end_time`` (else ``start_time``): RFC 3339 text or Unix seconds, in UTC."""
    value = obj.get("end_time")
    if value is None:
        value = obj.get("start_time")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Bad from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise _Bad from None
    raise _Bad


def _text(fields: dict[str, object], key: str) -> str | None:
    value = fields.get(key)
    return value if isinstance(value, str) and value else None


def _number(fields: dict[str, object], key: str) -> int | None:
    """An integer field; a decimal string counts, anything else is unknown."""
    value = fields.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 20:  # noqa: PLR2004
        return int(value)
    return None


def _reason(fields: dict[str, object]) -> str | None:
    """The first ``reason_code`` (a list in 2.3, tolerated as a string)."""
    value = fields.get("reason_code")
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return value if isinstance(value, str) and value else None


def _service(obj: dict[str, object], fields: dict[str, object]) -> str | None:
    """The process that sent it: the ``service:`` category, else the service/protocol field."""
    categories = obj.get("categories")
    if isinstance(categories, list):
        for category in categories:
            if isinstance(category, str) and category.startswith("service:") and category[8:]:
                return category[8:]
    return _text(fields, "service") or _text(fields, "protocol")


def _mailbox(user: str, domain: str | None) -> str:
    if domain is None or "@" in user:
        return user
    return f"{user}@{domain}"


def _auth(
    name: str, obj: dict[str, object], fields: dict[str, object], domain: str | None
) -> Event | str:
    session = _text(fields, "session")
    user = _text(fields, "user")
    error = _text(fields, "error")
    success = fields.get("success")
    failed = error is not None or (name == "auth_request_finished" and success not in {"yes", True})
    time = _time(obj)
    if failed:
        return AuthFailure(
            time=time,
            session=session,
            user=user,
            mailbox=None if user is None else _mailbox(user, domain),
            rip=_text(fields, "remote_ip"),
            source=_text(fields, "mechanism") or "auth",
            reason=error or "authentication failed",
        )
    protocol = _text(fields, "service")
    if session is None or user is None:
        return "anonymous"
    if protocol is None:
        raise _Bad
    transport = _text(fields, "transport")
    return Login(
        time=time,
        session=session,
        user=user,
        mailbox=_mailbox(user, domain),
        protocol=protocol,
        method=_text(fields, "mechanism"),
        rip=_text(fields, "remote_ip"),
        rport=_number(fields, "remote_port"),
        lip=_text(fields, "local_ip"),
        lport=_number(fields, "local_port"),
        mpid=None,
        tls=transport == "TLS",
        secured=transport == "trusted",
    )


def _session_end(
    obj: dict[str, object], fields: dict[str, object], domain: str | None
) -> Event | str:
    service = _service(obj, fields)
    if service is None or service in _NO_SESSION_SERVICES:
        return "ignored"
    session = _text(fields, "session")
    user = _text(fields, "user")
    if session is None or user is None:
        return "anonymous"
    time = _time(obj)
    mailbox = _mailbox(user, domain)
    rip = _text(fields, "remote_ip")
    if service == "pop3":
        return Pop3Logout(
            time=time, session=session, user=user, mailbox=mailbox, pid=None, rip=rip,
            reason=END_REASON, top=None, top_bytes=None, retr=None, retr_bytes=None,
            deleted=None, messages=None, size=None,
        )  # fmt: skip
    if service == "imap":
        return ImapLogout(
            time=time, session=session, user=user, mailbox=mailbox, pid=None, rip=rip,
            reason=END_REASON, bytes_in=None, bytes_out=None, deleted=None, expunged=None,
            trashed=None,
        )  # fmt: skip
    return Disconnected(
        time=time, session=session, user=user, mailbox=mailbox, service=service, pid=None,
        rip=rip, reason=END_REASON,
    )  # fmt: skip


def _mail(
    name: str, obj: dict[str, object], fields: dict[str, object], domain: str | None
) -> Event | str:
    service = _service(obj, fields)
    user = _text(fields, "user")
    if user is None:
        return "anonymous"
    if service is None:
        raise _Bad
    delivered = name == "mail_delivery_finished"
    uid = _number(fields, "uid")
    if uid is None and not delivered:
        raise _Bad
    return MailEvent(
        time=_time(obj),
        session=_text(fields, "session"),
        user=user,
        mailbox=_mailbox(user, domain),
        service=service,
        pid=None,
        rip=_text(fields, "remote_ip"),
        action="delivered" if delivered else "expunge",
        box=_text(fields, "mailbox"),
        uid=uid,
        msgid=_text(fields, "message_id"),
        size=_number(fields, "message_size"),
        vsize=_number(fields, "message_vsize"),
        sender=_text(fields, "message_from"),
        subject=_text(fields, "message_subject"),
        reason=_reason(fields),
        mail_age_days=_number(fields, "mail_age_days"),
    )


def _client_id(
    obj: dict[str, object], fields: dict[str, object], domain: str | None
) -> Event | str:
    """``ID ("name" "iPhone Mail" "version" "21E236")`` sent after login."""
    session = _text(fields, "session")
    if session is None:
        return "anonymous"
    if _text(fields, "tagged_reply_state") not in {None, "OK"}:
        return "ignored"
    args = _text(fields, "cmd_args") or ""
    words = _imap_strings(args)
    pairs = [
        (key.lower(), value)
        for key, value in zip(words[::2], words[1::2], strict=False)
        if key is not None and value is not None
    ]
    found = dict(pairs)
    user = _text(fields, "user")
    return ClientId(
        time=_time(obj),
        session=session,
        user=user,
        mailbox=None if user is None else _mailbox(user, domain),
        protocol="imap",
        rip=_text(fields, "remote_ip"),
        rport=_number(fields, "remote_port"),
        lip=_text(fields, "local_ip"),
        lport=_number(fields, "local_port"),
        fields=tuple(pairs),
        name=found.get("name"),
        version=found.get("version"),
        os=found.get("os"),
        os_version=found.get("os-version"),
        vendor=found.get("vendor"),
    )


def _imap_strings(text: str) -> list[str | None]:
    """The quoted strings, atoms and NILs (``None``) of an IMAP list, parentheses dropped."""
    words: list[str | None] = []
    i, end = 0, len(text)
    while i < end:
        char = text[i]
        if char in " ()":
            i += 1
        elif char == '"':
            chunk: list[str] = []
            i += 1
            while i < end and text[i] != '"':
                if text[i] == "\\" and i + 1 < end:
                    i += 1
                chunk.append(text[i])
                i += 1
            words.append("".join(chunk))
            i += 1
        else:
            stop = i
            while stop < end and text[stop] not in ' ()"':
                stop += 1
            atom = text[i:stop]
            words.append(None if atom.upper() == "NIL" else atom)
            i = stop
    return words

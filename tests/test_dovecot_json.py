"""The event-export parser: every reference event kind, counters joined by session, odd input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from autoconf.events import AuthFailure, ClientId, ImapLogout, Login, MailEvent, Pop3Logout
from autoconf.events.dovecot_json import (
    END_REASON,
    SKIP_KINDS,
    Parser,
    classify_event,
    parse_event,
)
from autoconf.events.sessions import patch_for

DATA = Path(__file__).parent / "data" / "dovecot"
DOMAIN = "lab.test"
FETCHMAIL = "qZUES2BhCop/AAAB"

AUTH_FIELDS: dict[str, object] = {
    "success": "yes", "mechanism": "PLAIN", "transport": "TLS", "service": "pop3",
    "session": "w44cS2Bhr+F/AAAD", "local_ip": "127.0.0.1", "remote_ip": "127.0.0.3",
    "local_port": 10995, "remote_port": 57775, "user": "alice",
}  # fmt: skip
AUTH_OK: dict[str, object] = {
    "event": "auth_request_finished",
    "start_time": "2026-11-29T01:34:25.181345Z",
    "end_time": "2026-11-29T01:34:25.181468Z",
    "categories": ["auth", "service:auth"],
    "fields": AUTH_FIELDS,
}


def _event(name: str, service: str, **fields: object) -> dict[str, object]:
    return {
        "event": name,
        "end_time": "2026-11-29T01:34:23.636634Z",
        "categories": [f"service:{service}", "mailbox"],
        "fields": {"user": "alice", **fields},
    }


def _expunge(session: str, uid: int, reason: str = "pop3:cmd_quit", age: int | None = 0) -> dict:
    service = reason.partition(":")[0]
    fields: dict[str, object] = {"session": session, "mailbox": "INBOX", "uid": uid}
    fields["reason_code"] = [reason]
    if age is not None:
        fields["mail_age_days"] = age
    return _event("mail_expunge_requested", service, **fields)


def _finished(session: str, service: str = "pop3") -> dict[str, object]:
    return _event("mail_user_session_finished", service, session=session)


def _opened(session: str, uid: int, reason: str) -> dict[str, object]:
    return _event("mail_opened", "pop3", session=session, uid=uid, reason_code=[reason])


def reference() -> list[dict[str, object]]:
    """The events of reference/dovecot/logs/pop-delete.events.jsonl, without the wrapper."""
    with (DATA / "pop-delete.events.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["event"] for line in fh]


# ---------------------------------------------------------------- one event of each kind


def test_successful_auth_is_a_login() -> None:
    """auth_request_finished with success=yes gives the login: ips, ports, TLS, session."""
    login = parse_event(AUTH_OK, default_domain=DOMAIN)
    assert login == Login(
        time=datetime(2026, 11, 29, 1, 34, 25, 181468, tzinfo=UTC),
        session="w44cS2Bhr+F/AAAD",
        user="alice",
        mailbox="alice@lab.test",
        protocol="pop3",
        method="PLAIN",
        rip="127.0.0.3",
        rport=57775,
        lip="127.0.0.1",
        lport=10995,
        mpid=None,
        tls=True,
        secured=False,
    )


@pytest.mark.parametrize(
    ("transport", "tls", "secured"),
    [("TLS", True, False), ("trusted", False, True), ("insecure", False, False)],
)
def test_transport_says_tls_or_secured(transport: str, tls: bool, secured: bool) -> None:
    """The login process's transport maps onto the log's TLS and secured words."""
    event = {**AUTH_OK, "event": "auth_client_request_finished"}
    event["fields"] = {**AUTH_FIELDS, "transport": transport}
    login = parse_event(event, default_domain=DOMAIN)
    assert isinstance(login, Login)
    assert (login.tls, login.secured) == (tls, secured)


def test_failed_auth_is_an_auth_failure() -> None:
    """success=no (or an error) is an auth failure, not a login."""
    fields = {**AUTH_FIELDS, "success": "no", "error": "Password mismatch"}
    event = {**AUTH_OK, "fields": fields}
    failure = parse_event(event, default_domain=DOMAIN)
    assert isinstance(failure, AuthFailure)
    assert (failure.reason, failure.rip, failure.session) == (
        "Password mismatch",
        "127.0.0.3",
        "w44cS2Bhr+F/AAAD",
    )
    assert patch_for(failure) is None


def test_imap_id_after_login_is_a_client_id() -> None:
    """The ID command's arguments become the ClientId fields (quotes, escapes, NIL)."""
    event = _event(
        "imap_command_finished", "imap", session="jD2tSmBhCZJ/AAAC", remote_ip="127.0.0.2",
        cmd_name="ID", tagged_reply_state="OK",
        cmd_args='("name" "iPhone \\"Mail\\"" "version" "21E236" "os" "iOS" "os-version" '
        '"17.4.1 (21E236)" "vendor" NIL)',
    )  # fmt: skip
    client = parse_event(event, default_domain=DOMAIN)
    assert isinstance(client, ClientId)
    assert (client.name, client.version, client.os, client.os_version, client.vendor) == (
        'iPhone "Mail"',
        "21E236",
        "iOS",
        "17.4.1 (21E236)",
        None,
    )
    assert client.mailbox == "alice@lab.test"
    assert client.rip == "127.0.0.2"


def test_other_imap_commands_are_ignored() -> None:
    """Only the ID command says who the client is."""
    event = _event("imap_command_finished", "imap", session="s", cmd_name="UID MOVE")
    assert classify_event(event, default_domain=DOMAIN) == "ignored"


def test_session_end_is_a_logout_without_counters() -> None:
    """mail_user_session_finished is the logout; the export carries no counters."""
    pop3 = parse_event(_finished(FETCHMAIL), default_domain=DOMAIN)
    assert isinstance(pop3, Pop3Logout)
    assert (pop3.session, pop3.mailbox, pop3.reason) == (FETCHMAIL, "alice@lab.test", END_REASON)
    assert pop3.deleted is pop3.retr is pop3.rip is None
    imap = parse_event(_finished("x", "imap"), default_domain=DOMAIN)
    assert isinstance(imap, ImapLogout)
    assert imap.expunged is None


def test_expunge_request_carries_reason_and_age() -> None:
    """mail_expunge_requested is an expunge with its reason_code and mail_age_days."""
    event = parse_event(_expunge(FETCHMAIL, 101, age=14), default_domain=DOMAIN)
    assert isinstance(event, MailEvent)
    assert (event.action, event.service, event.box, event.uid) == ("expunge", "pop3", "INBOX", 101)
    assert (event.reason, event.mail_age_days) == ("pop3:cmd_quit", 14)


def test_delivery_is_a_delivered_mail_event() -> None:
    """mail_delivery_finished names the Message-ID and size of the delivered message."""
    event = next(e for e in reference() if e["event"] == "mail_delivery_finished")
    delivered = parse_event(event, default_domain=DOMAIN)
    assert isinstance(delivered, MailEvent)
    assert delivered.action == "delivered"
    assert delivered.msgid is not None
    assert delivered.msgid.startswith("<pop-delete-r1.1.")
    assert (delivered.mailbox, delivered.service) == ("alice@lab.test", "lmtp")
    assert delivered.size == 1146


def test_unix_timestamps_are_read_as_utc() -> None:
    """Without time-rfc3339 the exporter sends Unix seconds."""
    event = {**AUTH_OK, "end_time": 1795916065.181468}
    login = parse_event(event, default_domain=None)
    assert isinstance(login, Login)
    assert login.time == datetime.fromtimestamp(1795916065.181468, UTC)
    assert login.mailbox == "alice"  # no default domain: the name as logged


# ---------------------------------------------------------------- the reference export


def test_reference_export_counts_each_deleting_pop3_session() -> None:
    """pop-delete.events.jsonl: fetchmail (TOP), mpop and getmail (RETR) each delete 5."""
    parser = Parser(default_domain=DOMAIN)
    events = [e for obj in reference() for e in parser.feed(obj)]
    logouts = {e.session: e for e in events if isinstance(e, Pop3Logout)}
    counted = {
        key: (e.top, e.retr, e.deleted, e.mail_age_days)
        for key, e in logouts.items()
        if e.deleted is not None
    }
    assert counted == {
        FETCHMAIL: (5, 0, 5, 0.0),
        "w44cS2Bhr+F/AAAD": (0, 5, 5, 0.0),
        "LdcjS2BhEop/AAAB": (0, 5, 5, 0.0),
    }
    assert len(logouts) == 8  # the probe's UIDL-only sessions have no counters
    expunges = [e for e in events if isinstance(e, MailEvent) and e.action == "expunge"]
    assert len(expunges) == 15  # requested + done: one event per message
    assert parser.summary() == {"received": 269, "events": 96, "counted": 15, "ignored": 143}


def test_logout_before_its_expunges_is_sent_again_with_the_counts() -> None:
    """Events may arrive out of order: a late expunge re-sends the logout with the new count."""
    parser = Parser(default_domain=DOMAIN)
    assert [type(e) for e in parser.feed(_finished("s1"))] == [Pop3Logout]
    out = parser.feed(_expunge("s1", 7))
    assert [type(e) for e in out] == [MailEvent, Pop3Logout]
    logout = out[1]
    assert isinstance(logout, Pop3Logout)
    assert (logout.deleted, logout.reason) == (1, END_REASON)
    out = parser.feed(_opened("s1", 8, "pop3:cmd_retr"))
    assert [(e.retr, e.deleted) for e in out if isinstance(e, Pop3Logout)] == [(1, 1)]


def test_replayed_events_change_no_count_and_repeat_no_mail_event() -> None:
    """Counts are sets of messages: the same events twice give the same logout."""
    parser = Parser(default_domain=DOMAIN)
    stream = [_opened("s1", 1, "pop3:cmd_retr"), _expunge("s1", 1), _finished("s1")]
    first = [e for obj in stream for e in parser.feed(obj)]
    second = [e for obj in stream for e in parser.feed(obj)]
    assert first[-1] == second[-1]
    assert sum(isinstance(e, MailEvent) for e in second) == 0


def test_imap_moves_are_not_counted_as_expunged() -> None:
    """As in the IMAP logout line, a MOVE's expunge is not in ``expunged``."""
    parser = Parser(default_domain=DOMAIN)
    parser.feed(_expunge("i1", 91, reason="imap:cmd_uid_move"))
    parser.feed(_expunge("i1", 92, reason="imap:cmd_uid_expunge", age=3))
    (logout,) = parser.feed(_finished("i1", "imap"))
    assert isinstance(logout, ImapLogout)
    assert (logout.expunged, logout.mail_age_days) == (1, 0.0)
    patch = patch_for(logout)
    assert patch is not None
    assert getattr(patch, "mail_age_days", None) == 0.0


def test_youngest_deleted_message_gives_the_session_age() -> None:
    """'Remove from server after 14 days' deletes nothing younger than 14 days."""
    parser = Parser(default_domain=DOMAIN)
    parser.feed(_expunge("s1", 1, age=30))
    parser.feed(_expunge("s1", 2, age=14))
    (logout,) = parser.feed(_finished("s1"))
    assert isinstance(logout, Pop3Logout)
    assert (logout.deleted, logout.mail_age_days) == (2, 14.0)


def test_tallies_are_bounded() -> None:
    """Beyond max_sessions the least recently used session is forgotten."""
    parser = Parser(default_domain=DOMAIN, max_sessions=2)
    for key in ("a", "b", "c"):
        parser.feed(_expunge(key, 1))
    assert list(parser._tallies) == ["b", "c"]


# ---------------------------------------------------------------- odd input


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        (None, "not_event"),
        (42, "not_event"),
        ("mail_expunged", "not_event"),
        ([AUTH_OK], "not_event"),
        ({}, "not_event"),
        ({"event": 7, "fields": {}}, "not_event"),
        ({"event": "mail_expunged"}, "not_event"),
        ({"event": "mail_expunged", "fields": ["uid", 1]}, "not_event"),
        ({"event": "no_such_event", "fields": {}}, "unknown"),
        ({"event": "client_connection_connected", "fields": {}}, "ignored"),
        (_event("mail_expunged", "pop3", session="s", uid="x1"), "malformed"),
        (_event("mail_expunged", "pop3", session="s", uid=True), "malformed"),
        (_event("mail_expunged", "pop3", session="s"), "malformed"),
        ({**_event("mail_expunged", "pop3", uid=1), "end_time": "yesterday"}, "malformed"),
        ({**_event("mail_expunged", "pop3", uid=1), "end_time": 1e300}, "malformed"),
        ({**_event("mail_expunged", "pop3", uid=1), "end_time": None}, "malformed"),
        ({**_event("mail_expunged", "pop3", uid=1), "categories": "x"}, "malformed"),
        ({**_event("mail_expunged", "pop3", uid=1), "fields": {"uid": 1, "user": 5}}, "anonymous"),
        ({**AUTH_OK, "fields": {**AUTH_FIELDS, "session": ["x"]}}, "anonymous"),
        ({**AUTH_OK, "fields": {**AUTH_FIELDS, "service": None}}, "malformed"),
        (_finished(""), "anonymous"),
        ({**_finished("s"), "categories": ["service:lmtp"]}, "ignored"),
        (_event("mail_opened", "imap", session="s", uid=1), "ignored"),
        (_opened("s", 1, "pop3:cmd_retr"), "counted"),
    ],
)
def test_odd_events_are_skipped_by_kind(obj: object, kind: str) -> None:
    """Wrong types, missing fields and garbage give None and a named skip kind."""
    assert kind in SKIP_KINDS
    assert classify_event(obj, default_domain=DOMAIN) == kind
    assert parse_event(obj, default_domain=DOMAIN) is None
    parser = Parser(default_domain=DOMAIN)
    assert parser.feed(obj) == []
    assert parser.summary() == {"received": 1, "events": 0, kind: 1}


def test_deep_nesting_and_huge_values_never_raise() -> None:
    """Nothing a sender can put into JSON makes the parser raise."""
    deep: object = {}
    for _ in range(10_000):
        deep = {"fields": deep, "event": "mail_expunged"}
    odd = [
        deep,
        _event("mail_expunged", "pop3", session="s", uid=10**400, mail_age_days=-(10**400)),
        _event("imap_command_finished", "imap", session="s", cmd_name="ID", cmd_args='("a'),
        _event("imap_command_finished", "imap", session="s", cmd_name="ID", cmd_args=["x"]),
        {**AUTH_OK, "end_time": float("nan")},
        {**AUTH_OK, "end_time": "9999-99-99T00:00:00Z"},
    ]
    parser = Parser(default_domain=DOMAIN)
    for obj in odd:
        parser.feed(obj)
        classify_event(obj, default_domain=DOMAIN)
    assert parser.received == len(odd)

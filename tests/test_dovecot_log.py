"""The Dovecot log parser: the reference logs, hostile input, and logs a real Dovecot wrote."""

from __future__ import annotations

import tracemalloc
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from autoconf.events import (
    AbortedLogin,
    AuthFailure,
    ClientId,
    ImapLogout,
    Login,
    MailEvent,
    Parser,
    Pop3Logout,
    parse_line,
)
from autoconf.events.dovecot_log import classify_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from autoconf.events.model import Event
    from tests.servers.dovecot import DovecotServer

from tests.clients import SourceIMAP, SourcePOP3, fetchmail, message

pytest_plugins = ["tests.servers.dovecot"]

DATA = Path(__file__).parent / "data" / "dovecot"
YEAR = 2026
DOMAIN = "example.com"
IPHONE_ID = '("name" "iPhone Mail" "version" "21A329" "os" "iOS" "os-version" "17.0")'
IPHONE_IP = "127.0.0.2"
POPLIB_IP = "127.0.0.3"
FETCHMAIL_IP = "127.0.0.1"  # fetchmail has no option to pick its source address
ALICE = ("alice@example.com", "alice-pw-1")  # as in tests/servers/dovecot.py

LOGIN = (
    "2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<alice>, method=PLAIN, "
    "rip=127.0.0.1, rport=35338, lip=127.0.0.1, lport=10110, mpid=3799, secured, "
    "session=<qZUES2BhCop/AAAB>"
)
POP3_LOGOUT = (
    "2026-11-29 01:34:23.637168 pop3(alice)<3799><qZUES2BhCop/AAAB><127.0.0.1>: Info: "
    "Disconnected: Logged out top=5/5897, retr=0/0, del=5/5, size=5872, deleted_bytes=5872, "
    "uidl_hash=5/7a7c5607 -> 0/00000000, in=184, out=6307"
)


def parse_file(name: str) -> tuple[Parser, list[Event]]:
    """Parse one of the reference logs as bytes, the way ingest reads a file."""
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    with (DATA / name).open("rb") as fh:
        return parser, list(parser.parse(fh))


def pop3_sessions(events: list[Event]) -> list[tuple[Login, Pop3Logout]]:
    """Each POP3 logout with the login of the same session."""
    logins = {e.session: e for e in events if isinstance(e, Login)}
    return [(logins[e.session], e) for e in events if isinstance(e, Pop3Logout)]


# ---------------------------------------------------------------- the reference logs


def test_pop_delete_log_joins_each_deleting_logout_to_its_login() -> None:
    """pop-delete.log: fetchmail, mpop and getmail each delete 5 messages, joined by session."""
    parser, events = parse_file("pop-delete.log")
    deleting = [
        (login.rip, login.lport, login.tls, logout.top, logout.retr, logout.deleted,
         logout.messages, logout.deleted_bytes)
        for login, logout in pop3_sessions(events)
        if logout.deleted
    ]  # fmt: skip
    assert deleting == [
        ("127.0.0.1", 10110, False, 5, 0, 5, 5, 5872),  # fetchmail: TOP, not RETR
        ("127.0.0.3", 10995, True, 0, 5, 5, 5, 5872),  # mpop over POP3S
        ("127.0.0.1", 10110, False, 0, 5, 5, 5, 5872),  # getmail
    ]
    fetchmail = pop3_sessions(events)[2]
    assert fetchmail[0].session == fetchmail[1].session == "qZUES2BhCop/AAAB"
    assert fetchmail[0].secured
    assert fetchmail[1].uidl_hash == "5/7a7c5607 -> 0/00000000"
    assert fetchmail[1].mailbox == "alice@example.com"
    expunged = Counter(
        e.session for e in events if isinstance(e, MailEvent) and e.service == "pop3"
        and e.action == "expunge"
    )  # fmt: skip
    assert expunged == {"qZUES2BhCop/AAAB": 5, "w44cS2Bhr+F/AAAD": 5, "LdcjS2BhEop/AAAB": 5}
    assert parser.summary() == {"lines": 161, "events": 99, "ignored": 6, "json": 56}


def test_pop_keep_log_has_no_deleting_logout() -> None:
    """pop-keep.log: keeping clients retrieve but never delete."""
    parser, events = parse_file("pop-keep.log")
    sessions = pop3_sessions(events)
    assert len(sessions) == 12
    assert all(logout.deleted == 0 for _, logout in sessions)
    assert sum(logout.retr or 0 for _, logout in sessions) == 5 + 10 + 15 + 10
    assert parser.summary() == {"lines": 158, "events": 107, "ignored": 6, "json": 45}


def test_imap_only_log_shows_imap_deletions_and_ids() -> None:
    """imap-only.log: IMAP logouts count deletes; the pre-login IDs join their logins."""
    parser, events = parse_file("imap-only.log")
    logins = {e.session: e for e in events if isinstance(e, Login)}
    ids = [e for e in events if isinstance(e, ClientId)]
    assert {(e.name, e.os, e.os_version, e.version) for e in ids} == {
        ("iPhone Mail", "iOS", "17.4.1 (21E236)", "21E236"),
        ("mailbox-probe", None, None, "0.1"),
    }
    for client_id in ids:
        assert client_id.user is None  # sent before login
        assert logins[client_id.session].rip == client_id.rip
    iphone = [logins[e.session].rip for e in ids if e.name == "iPhone Mail"]
    assert set(iphone) == {"127.0.0.2"}
    totals: Counter[str] = Counter()
    for e in events:
        if isinstance(e, ImapLogout):
            totals.update(deleted=e.deleted or 0, expunged=e.expunged or 0, trashed=e.trashed or 0)
    assert totals == {"deleted": 2, "expunged": 2, "trashed": 1}  # a UID MOVE is not "expunged"
    imap_expunges = [
        e for e in events if isinstance(e, MailEvent) and e.action == "expunge"
    ]  # the MOVE's expunge shows in mail_log
    assert [(e.service, e.uid) for e in imap_expunges] == [("imap", 91), ("imap", 92), ("imap", 95)]
    assert all(e.deleted == 0 for e in events if isinstance(e, Pop3Logout))
    copy = next(e for e in events if isinstance(e, MailEvent) and e.action == "copy")
    assert (copy.source_box, copy.box, copy.uid) == ("INBOX", "Trash", 4)
    assert parser.summary() == {"lines": 99, "events": 64, "ignored": 4, "json": 31}


def test_every_kind_of_reference_line() -> None:
    """One line of each kind from reference/dovecot.md becomes the right event."""
    login = parse_line(LOGIN, year=YEAR, default_domain=DOMAIN)
    assert login == Login(
        time=datetime(2026, 11, 29, 1, 34, 23, 613589),  # noqa: DTZ001
        session="qZUES2BhCop/AAAB",
        user="alice",
        mailbox="alice@example.com",
        protocol="pop3",
        method="PLAIN",
        rip="127.0.0.1",
        rport=35338,
        lip="127.0.0.1",
        lport=10110,
        mpid=3799,
        tls=False,
        secured=True,
    )
    logout = parse_line(POP3_LOGOUT, year=YEAR, default_domain=None)
    assert isinstance(logout, Pop3Logout)
    assert (logout.reason, logout.deleted, logout.messages, logout.top, logout.top_bytes) == (
        "Logged out",
        5,
        5,
        5,
        5897,
    )
    assert (logout.mailbox, logout.pid, logout.rip, logout.bytes_in) == (
        "alice",
        3799,
        "127.0.0.1",
        184,
    )
    tls = parse_line(
        "2026-11-29 01:34:25.184718 pop3-login: Info: Login: user=<alice>, method=PLAIN, "
        "rip=127.0.0.3, rport=57775, lip=127.0.0.1, lport=10995, mpid=4089, TLS, TLSv1.3 with "
        "cipher TLS_AES_256_GCM_SHA384 (256/256 bits), session=<w44cS2Bhr+F/AAAD>",
        year=YEAR,
        default_domain=DOMAIN,
    )
    assert isinstance(tls, Login)
    assert tls.tls
    assert tls.tls_details == "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
    failure = parse_line(
        "2026-11-29 01:34:20.1 auth: Info: passwd-file(alice,127.0.0.1,<TnrpR2Bh1sR/AAAB>): "
        "Password mismatch",
        year=YEAR,
        default_domain=DOMAIN,
    )
    assert failure == AuthFailure(
        time=datetime(2026, 11, 29, 1, 34, 20, 100000),  # noqa: DTZ001
        session="TnrpR2Bh1sR/AAAB",
        user="alice",
        mailbox="alice@example.com",
        rip="127.0.0.1",
        source="passwd-file",
        reason="Password mismatch",
    )
    aborted = parse_line(
        "2026-11-29 01:34:20.2 pop3-login: Info: Disconnected: Connection closed (auth failed, "
        "1 attempts in 2 secs): user=<alice>, method=PLAIN, rip=127.0.0.1, rport=50390, "
        "lip=127.0.0.1, lport=10110, secured, session=<TnrpR2Bh1sR/AAAB>",
        year=YEAR,
        default_domain=DOMAIN,
    )
    assert isinstance(aborted, AbortedLogin)
    assert (aborted.auth_failed, aborted.attempts, aborted.user, aborted.session) == (
        True,
        1,
        "alice",
        "TnrpR2Bh1sR/AAAB",
    )
    no_auth = parse_line(
        "2026-11-29 01:34:20.3 pop3-login: Info: Disconnected: Connection closed (no auth "
        "attempts in 0 secs): user=<>, rip=127.0.0.1, rport=50400, lip=127.0.0.1, lport=10110, "
        "secured, session=<y4YASGBh4MR/AAAB>",
        year=YEAR,
        default_domain=DOMAIN,
    )
    assert isinstance(no_auth, AbortedLogin)
    assert (no_auth.user, no_auth.mailbox, no_auth.auth_failed) == (None, None, False)
    post_login_id = parse_line(
        "2026-11-29 01:34:20.4 imap(alice)<3067><jD2tSmBhCZJ/AAAC>: Info: ID sent: "
        "name=Thunderbird, version=128.3.1, vendor=Mozilla, Inc.",
        year=YEAR,
        default_domain=DOMAIN,
    )
    assert isinstance(post_login_id, ClientId)
    assert (post_login_id.mailbox, post_login_id.session, post_login_id.vendor) == (
        "alice@example.com",
        "jD2tSmBhCZJ/AAAC",
        "Mozilla, Inc.",
    )


def test_default_mail_log_prefix_without_rip_joins_by_session() -> None:
    """The stock prefix ``svc(user)<pid><session>:`` has no rip; the session id still joins."""
    lines = [
        (
            "Nov 29 01:34:23 pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=192.0.2.7, "
            "lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
        (
            "Nov 29 01:34:24 pop3(alice)<3799><qZUES2BhCop/AAAB>: Info: Disconnected: Logged out "
            "top=0/0, retr=2/2400, del=2/2, size=2380"
        ),
        (
            "Nov 29 01:34:25 lmtp(bob)<6898><2NLcExmBC2vyGgAAg+zDdQ:T2>: Info: "
            "msgid=<x@y>: saved mail to INBOX"
        ),
    ]
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    login, logout, delivered = parser.parse(lines)
    assert isinstance(login, Login)
    assert isinstance(logout, Pop3Logout)
    assert (logout.session, logout.rip, logout.pid) == (login.session, None, 3799)
    assert (logout.deleted, logout.messages, logout.retr, logout.deleted_bytes) == (2, 2, 2, None)
    assert logout.time == datetime(2026, 11, 29, 1, 34, 24)  # noqa: DTZ001
    assert isinstance(delivered, MailEvent)
    assert (delivered.action, delivered.mailbox, delivered.msgid, delivered.box) == (
        "delivered",
        "bob@example.com",
        "<x@y>",
        "INBOX",
    )


@pytest.mark.parametrize(
    "line",
    [
        (
            "Nov 29 01:34:23 mail dovecot: pop3-login: Login: user=<alice>, method=PLAIN, "
            "rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
        (
            "Nov  9 01:34:23 mail dovecot[812]: pop3-login: Login: user=<alice>, method=PLAIN, "
            "rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
        (
            "Nov 29 01:34:23.613589 mail dovecot[812]: pop3-login: Login: user=<alice>, "
            "method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
        (
            "2026-11-29T01:34:23.613589+01:00 mail dovecot[812]: pop3-login: Login: user=<alice>, "
            "method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
        (
            "Nov 29 01:34:23 pop3-login: Info: Login: user=<alice@example.com>, method=PLAIN, "
            "rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
        ),
    ],
    ids=["syslog", "journald-pid-padded-day", "journald-precise", "iso8601", "dovecot-stock"],
)
def test_syslog_and_journald_prefixes(line: str) -> None:
    """Syslog, journald and Dovecot's stock stamps all give the same login."""
    login = parse_line(line, year=YEAR, default_domain=DOMAIN)
    assert isinstance(login, Login)
    assert (login.mailbox, login.protocol, login.rip, login.session, login.tls) == (
        "alice@example.com",
        "pop3",
        "192.0.2.7",
        "qZUES2BhCop/AAAB",
        True,
    )
    assert (login.time.year, login.time.month, login.time.minute) == (2026, 11, 34)


def test_parser_moves_to_the_next_year_after_december() -> None:
    """Year-less stamps roll over from Dec 31 to Jan 1."""
    parser = Parser(year=2026, default_domain=None)
    lines = [
        "Dec 31 23:59:59 pop3-login: Info: Login: user=<a>, rip=192.0.2.7, session=<s1>",
        "Jan  1 00:00:01 pop3-login: Info: Login: user=<a>, rip=192.0.2.7, session=<s2>",
    ]
    assert [e.time.year for e in parser.parse(lines)] == [2026, 2027]


# ---------------------------------------------------------------- hostile input


HOSTILE: list[tuple[str | bytes, str]] = [
    ("", "empty"),
    ("\n", "empty"),
    ("   \t \r\n", "empty"),
    (b"\xff\xfe\x00garbage\x9c\n", "binary"),
    ("2026-11-29 01:34:23.613589 imap-login: Info: Login: user=<al\x00ice>", "binary"),
    ("2026-11-29 01:34:23.613589 imap-login: Info: Login: user=<al\ufffdice>", "binary"),
    ("2026-11-29 01:34:23 imap(\udcff)<1><s>: Info: x", "binary"),
    ("x" * (1024 * 1024), "overlong"),
    ("2026-11-29 01:34:23.613589 pop3-login: Info: Login: " + "a" * 70_000, "overlong"),
    ("2026-11-29 01:3", "truncated"),
    ("2026-11-29 01:34:23.613589 pop3-log", "truncated"),
    (
        (
            "2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=1"
            "27.0.0.1, session=<qZUES2Bh"
        ),
        "truncated",
    ),
    ("2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<ali", "truncated"),
    ("2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<alice>, rport=35", "event"),
    (
        (
            "2026-11-29 01:34:23.613589 pop3(alice)<3799><qZUES2BhCop/AAAB>: Info: Disconnected: "
            "Logged out top=5/5897, retr=0/0, del=5/"
        ),
        "truncated",
    ),
    (
        (
            "2026-11-29 01:34:23.613589 imap-login: Info: ID sent: name=iPhone Mail: user=<>, rip=1"
            "27.0.0.2, session=<jD2t"
        ),
        "truncated",
    ),
    (
        (
            "2026-11-29 01:34:23.613589 imap(alice)<3067><jD2tSmBhCZJ/AAAC>: Info: expunge: box=IN"
            "BOX, uid=9"
        ),
        "event",
    ),
    ("Nov 29 01:34:23 mail postfix/smtpd[123]: connect from unknown[192.0.2.1]", "foreign"),
    ("Nov 99 01:34:23 pop3-login: Info: Login: user=<a>", "unknown"),
    ("hello world", "unknown"),
    ("2026-13-45 99:99:99.1 pop3-login: Info: Login: user=<a>, rip=1.2.3.4", "unknown"),
    ('2026-11-29 01:34:23.613589 stats: Info: {"event":"mail_expunged"}', "json"),
    ("2026-11-29 01:34:23.613589 imap(alice)<1><s>: Error: Mailbox INBOX: broken", "ignored"),
    ("2026-11-29 01:34:23.613589 lmtp(6898): Info: Connect from 127.0.0.1", "ignored"),
    (
        (
            "2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<alice>, method=PLAIN, "
            "lip=127.0.0.1, secured, session=<qZUES2BhCop/AAAB>"
        ),
        "event",
    ),
]


@pytest.mark.parametrize(("line", "kind"), HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_lines_never_raise_and_are_counted(line: str | bytes, kind: str) -> None:
    """Truncated, binary, huge, empty and foreign lines are counted by kind, never raised."""
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    events = list(parser.parse([line]))
    if kind == "event":
        assert len(events) == 1
        assert getattr(events[0], "rip", None) is None  # e.g. a login line without rip
    else:
        assert events == []
        assert parser.skipped == {kind: 1}
    assert parser.lines == 1
    if isinstance(line, str):
        result = classify_line(line, year=YEAR, default_domain=DOMAIN)
        assert (result if isinstance(result, str) else "event") == kind


def test_a_stream_of_garbage_between_good_lines() -> None:
    """Good lines around garbage all come through; every line is counted once."""
    lines: list[str | bytes] = [LOGIN, *(line for line, _ in HOSTILE), POP3_LOGOUT]
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    events = list(parser.parse(lines))
    assert isinstance(events[0], Login)
    assert isinstance(events[-1], Pop3Logout)
    assert parser.lines == len(lines)
    assert parser.events + sum(parser.skipped.values()) == len(lines)


def test_every_prefix_of_a_line_is_safe() -> None:
    """Cutting a real line at any byte never raises."""
    for source in (LOGIN, POP3_LOGOUT):
        for cut in range(len(source)):
            classify_line(source[:cut], year=YEAR, default_domain=DOMAIN)


# ---------------------------------------------------------------- a real Dovecot


def _iphone(server: DovecotServer) -> None:
    imap = SourceIMAP(server.host, server.ports.imap, IPHONE_IP)
    try:
        typ, _ = imap.xatom("ID", IPHONE_ID)
        assert typ == "OK"
        imap.login(*ALICE)
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", "ALL")
        assert typ == "OK"
        assert data[0]
    finally:
        imap.logout()


def _poplib_deletes_all(server: DovecotServer) -> int:
    pop = SourcePOP3(server.host, server.ports.pop3, POPLIB_IP)
    try:
        pop.user(ALICE[0])
        pop.pass_(ALICE[1])
        count, _ = pop.stat()
        for number in range(1, count + 1):
            pop.retr(number)
            pop.dele(number)
    finally:
        pop.quit()
    return count


def _fetchmail(server: DovecotServer, home: Path) -> str:
    """Debian's fetchmail in its default mode: download, then delete on the server."""
    return fetchmail(server, home, *ALICE)


def _run_clients(server: DovecotServer, tmp_path: Path, tag: str) -> tuple[int, str]:
    """Deliver 3; the iPhone reads; poplib deletes all; deliver 2; fetchmail deletes them."""
    assert server.users[ALICE[0]] == ALICE[1]
    for number in range(1, 4):
        server.deliver(ALICE[0], message(number, f"{tag}-r1"))
    _iphone(server)
    deleted = _poplib_deletes_all(server)
    for number in range(1, 3):
        server.deliver(ALICE[0], message(number, f"{tag}-r2"))
    fetched = _fetchmail(server, tmp_path)
    return deleted, fetched


def _parse_server_log(server: DovecotServer, pop3_logouts: int) -> tuple[Parser, list[Event]]:
    lines = server.wait_for_log(
        lambda lines: (
            sum("pop3(" in line and "del=" in line for line in lines) >= pop3_logouts
            and sum("imap(" in line and "Logged out" in line for line in lines) >= 1
        )
    )
    parser = Parser(year=datetime.now().year, default_domain=server.domain)  # noqa: DTZ005
    return parser, list(parser.parse(lines))


def _assert_clients(events: list[Event], deleted_by_poplib: int) -> dict[str | None, Pop3Logout]:
    logins = [e for e in events if isinstance(e, Login) and e.mailbox == ALICE[0]]
    by_client = {(e.protocol, e.rip): e for e in logins}
    assert ("imap", IPHONE_IP) in by_client
    assert ("pop3", POPLIB_IP) in by_client
    assert ("pop3", FETCHMAIL_IP) in by_client
    iphone_login = by_client["imap", IPHONE_IP]
    assert not iphone_login.tls
    assert by_client["pop3", FETCHMAIL_IP].tls  # POP3S with the test certificate

    ids = {e.session: e for e in events if isinstance(e, ClientId)}
    iphone = ids[iphone_login.session]
    assert (iphone.name, iphone.version, iphone.os, iphone.os_version) == (
        "iPhone Mail",
        "21A329",
        "iOS",
        "17.0",
    )
    assert iphone.user is None
    assert iphone.rip == IPHONE_IP

    sessions = {login.rip: logout for login, logout in pop3_sessions(events)}
    poplib_logout = sessions[POPLIB_IP]
    assert (poplib_logout.deleted, poplib_logout.messages, poplib_logout.retr) == (
        deleted_by_poplib,
        deleted_by_poplib,
        deleted_by_poplib,
    )
    fetchmail_logout = sessions[FETCHMAIL_IP]
    assert (fetchmail_logout.deleted, fetchmail_logout.messages) == (2, 2)
    assert (fetchmail_logout.top or 0) + (fetchmail_logout.retr or 0) == 2
    return sessions


def test_real_dovecot_rich_logging(dovecot_rich: DovecotServer, tmp_path: Path) -> None:
    """A real Dovecot with mail_log: logins, the iPhone's ID, and both POP3 clients' deletes."""
    deleted, fetched = _run_clients(dovecot_rich, tmp_path, "rich")
    assert deleted == 3
    assert fetched.count("Message-ID: <rich-r2.") == 2
    parser, events = _parse_server_log(dovecot_rich, pop3_logouts=2)
    sessions = _assert_clients(events, deleted)
    assert sessions[FETCHMAIL_IP].uidl_hash is not None
    assert sessions[FETCHMAIL_IP].deleted_bytes
    expunged = Counter(
        e.session for e in events
        if isinstance(e, MailEvent) and e.service == "pop3" and e.action == "expunge"
    )  # fmt: skip
    assert expunged == {sessions[POPLIB_IP].session: 3, sessions[FETCHMAIL_IP].session: 2}
    saved = [e for e in events if isinstance(e, MailEvent) and e.action == "save"]
    assert [e.msgid for e in saved][:3] == [f"<rich-r1.{n}@lab.test>" for n in (1, 2, 3)]
    assert parser.skipped["truncated"] == parser.skipped["malformed"] == 0
    assert parser.skipped["unknown"] == 0


def test_real_dovecot_stock_logging(dovecot: DovecotServer, tmp_path: Path) -> None:
    """Stock logging is enough: each POP3 logout's del=N/M joins its login by session."""
    deleted, fetched = _run_clients(dovecot, tmp_path, "stock")
    assert fetched.count("Message-ID: <stock-r2.") == 2
    parser, events = _parse_server_log(dovecot, pop3_logouts=2)
    sessions = _assert_clients(events, deleted)
    assert sessions[POPLIB_IP].rip is None  # the stock prefix has no rip: joined by session
    assert sessions[POPLIB_IP].deleted_bytes is None  # not in the stock logout format
    # this test's own deliveries (the server is shared: other tests deliver to it too)
    delivered = [e for e in events if isinstance(e, MailEvent) and e.action == "delivered"
                 and (e.msgid or "").startswith("<stock-")]  # fmt: skip
    assert len(delivered) == 5
    assert parser.skipped["truncated"] == parser.skipped["malformed"] == 0
    assert parser.skipped["unknown"] == 0


def test_fixture_message_names_the_install_command() -> None:
    """The fixture's failure tells how to install Dovecot."""
    from tests.servers.dovecot import NOT_INSTALLED  # noqa: PLC0415 - loaded as a plugin

    assert "apt-get install dovecot-imapd dovecot-pop3d dovecot-lmtpd" in NOT_INSTALLED


# ---------------------------------------------------------------- fast paths and streaming


def test_fast_constructors_build_what_the_dataclass_builds() -> None:
    """An event from the parser is the exact class, equal and hashed like one from __init__."""
    login = parse_line(LOGIN, year=YEAR, default_domain=DOMAIN)
    assert type(login) is Login
    assert login == Login(**{name: getattr(login, name) for name in Login.__slots__})
    assert hash(login) == hash(Login(**{name: getattr(login, name) for name in Login.__slots__}))
    with pytest.raises(AttributeError):  # still frozen
        login.user = "mallory"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (  # a user name with ", " inside its brackets: the general reader rejoins it
            (
                "2026-11-29 01:34:23.613589 imap-login: Info: Login: user=<a, b>, method=PLAIN, "
                "rip=192.0.2.7, lip=192.0.2.1, session=<s1>"
            ),
            ("user", "a, b"),
        ),
        (  # a subject with ", " in it: not the one-step shape, same reading
            (
                "2026-11-29 01:34:23.613589 imap(bob)<1><s>: Info: expunge: box=INBOX, uid=9, "
                "subject=Hello, world, flags=()"
            ),
            ("subject", "Hello, world"),
        ),
        (  # an IMAP logout format with a field more than 2.3's default
            (
                "2026-11-29 01:34:23.613589 imap(bob)<1><s>: Info: Disconnected: Logged out in=1 "
                "out=2 deleted=3 expunged=4 trashed=5 hdr_count=0 hdr_bytes=0 body_count=0 "
                "body_bytes=0 autoexpunged=7"
            ),
            ("trashed", 5),
        ),
        (  # a prefix whose only <…> after the pid is an address, not a session
            (
                "2026-11-29 01:34:23.613589 imap(bob)<1><192.0.2.7>: Info: Disconnected: Logged "
                "out in=1 out=2"
            ),
            ("rip", "192.0.2.7"),
        ),
    ],
    ids=["user-with-comma", "subject-with-comma", "extra-counter", "prefix-rip-only"],
)
def test_shapes_outside_the_fast_paths(line: str, expected: tuple[str, object]) -> None:
    """Lines the one-step readers do not take are read by the general path, as before."""
    event = parse_line(line, year=YEAR, default_domain=DOMAIN)
    assert event is not None
    assert getattr(event, expected[0]) == expected[1]


def test_parse_streams_without_holding_the_input() -> None:
    """Events come out while lines go in, the counters are current, memory stays flat."""
    consumed = 0

    def lines(count: int) -> Iterator[bytes]:
        nonlocal consumed
        for number in range(count):
            consumed += 1
            yield (LOGIN.replace("qZUES2BhCop/AAAB", f"s{number}") + "\n").encode()

    parser = Parser(year=YEAR, default_domain=DOMAIN)
    stream = parser.parse(lines(10**9))
    next(stream)
    assert consumed == 1
    assert (parser.lines, parser.events) == (1, 1)

    def peak(count: int) -> int:
        tracemalloc.start()
        try:
            for _ in Parser(year=YEAR, default_domain=DOMAIN).parse(lines(count)):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(2_000), peak(20_000)
    assert large < small * 2 + 64 * 1024  # ten times the lines, not ten times the memory

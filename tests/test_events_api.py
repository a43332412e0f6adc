"""POST /api/v1/events/dovecot through a real socket: the reference export and a live Dovecot."""

from __future__ import annotations

import asyncio
import base64
import imaplib
import json
import ssl
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from autoconf.web.events_api import SECRET_HEADER
from autoconf.web.keys import STORE

if TYPE_CHECKING:
    import poplib
    from collections.abc import Awaitable, Callable

    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from autoconf.events.sessions import Session
    from tests.servers.dovecot import DovecotServer

    Client = TestClient[web.Request, web.Application]

from tests.clients import SourceIMAP, SourcePOP3, SourcePOP3S, message

pytest_plugins = ["tests.servers.dovecot"]

DATA = Path(__file__).parent / "data" / "dovecot"
PATH = "/api/v1/events/dovecot"
SECRET = "events-secret-0123456789"
REF_DOMAIN = "lab.test"  # the reference run's domain (LMTP recipients alice@lab.test)
REF_MAILBOX = "alice@lab.test"
ALICE = ("alice@example.com", "alice-pw-1")  # as in tests/servers/dovecot.py
IPHONE_ID = '("name" "iPhone Mail" "version" "21A329" "os" "iOS" "os-version" "17.0")'
IPHONE_IP = "127.0.0.2"
POPLIB_IP = "127.0.0.3"
POPLIB_TLS_IP = "127.0.0.4"
NO_CONTENT = 204
BASIC = "Basic " + base64.b64encode(f"dovecot:{SECRET}".encode()).decode()


def reference() -> list[dict[str, object]]:
    """Every event of reference/dovecot/logs/pop-delete.events.jsonl, without the wrapper."""
    with (DATA / "pop-delete.events.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["event"] for line in fh]


async def replay(client: Client, events: list[dict[str, object]]) -> None:
    """POST each event as Dovecot does: one request per event."""
    for event in events:
        response = await client.post(PATH, json=event, headers={SECRET_HEADER: SECRET})
        assert response.status == NO_CONTENT, await response.text()


async def sessions_of(client: Client, mailbox: str) -> dict[str, Session]:
    """The stored sessions of a mailbox by session id."""
    return {s.key: s for s in await client.app[STORE].sessions(mailbox)}


@pytest.fixture
async def receiver(service: Callable[..., Awaitable[Client]]) -> Client:
    """The service with an events secret, reading user names in the reference's domain."""
    return await service(events_secret=SECRET, default_domain=REF_DOMAIN)


# ---------------------------------------------------------------- the reference export


async def test_reference_export_joins_pop3_deletions_to_their_logins(receiver: Client) -> None:
    """fetchmail, mpop and getmail: each deleting session has its count, address and port."""
    await replay(receiver, reference())
    sessions = await sessions_of(receiver, REF_MAILBOX)
    deleting = sorted(
        (s.rip, s.lport, s.tls, s.top, s.retrieved, s.deleted, s.mail_age_days)
        for s in sessions.values()
        if s.protocol == "pop3" and s.deletes
    )
    assert deleting == [
        ("127.0.0.1", 10110, False, 0, 5, 5, 0.0),  # getmail
        ("127.0.0.1", 10110, False, 5, 0, 5, 0.0),  # fetchmail: TOP, not RETR
        ("127.0.0.3", 10995, True, 0, 5, 5, 0.0),  # mpop over POP3S
    ]
    fetchmail = sessions["qZUES2BhCop/AAAB"]
    assert (fetchmail.mailbox, fetchmail.method, fetchmail.end_reason) == (
        REF_MAILBOX,
        "PLAIN",
        "session finished",
    )
    assert fetchmail.started_at is not None
    assert fetchmail.ended_at is not None
    assert fetchmail.started_at < fetchmail.ended_at
    imap = [s for s in sessions.values() if s.protocol == "imap"]
    assert len(imap) == 14
    assert {s.rip for s in imap} == {"127.0.0.1", "127.0.0.2", "127.0.0.9"}
    assert all(s.ended_at is not None and s.lport in {10143, 10993} for s in imap)
    probes = [s for s in sessions.values() if s.protocol == "pop3" and s.rip == "127.0.0.9"]
    assert len(probes) == 5
    assert not any(s.deletes for s in probes)
    mail = await receiver.app[STORE].mail_events(REF_MAILBOX)
    assert sum(m.action == "expunge" and m.service == "pop3" for m in mail) == 15
    assert sum(m.action == "delivered" for m in mail) == 15


async def test_replaying_the_export_changes_nothing(receiver: Client) -> None:
    """The same events twice leave sessions and mail events as they were."""
    events = reference()
    await replay(receiver, events)
    first = await sessions_of(receiver, REF_MAILBOX)
    mail = await receiver.app[STORE].mail_events(REF_MAILBOX)
    await replay(receiver, events)
    assert await sessions_of(receiver, REF_MAILBOX) == first
    assert await receiver.app[STORE].mail_events(REF_MAILBOX) == mail


async def test_concurrent_posts_are_written_together(receiver: Client) -> None:
    """Requests arriving at once share transactions; every one is stored when answered."""
    events = reference()

    async def post(event: dict[str, object]) -> int:
        response = await receiver.post(PATH, json=event, params={"secret": SECRET})
        return response.status

    statuses = await asyncio.gather(*(post(e) for e in events))
    assert set(statuses) == {NO_CONTENT}
    sessions = await sessions_of(receiver, REF_MAILBOX)
    assert sorted(s.deleted for s in sessions.values() if s.deletes) == [5, 5, 5]


# ---------------------------------------------------------------- the door


@pytest.mark.parametrize(
    "how",
    [
        {"params": {"secret": SECRET}},
        {"headers": {SECRET_HEADER: SECRET}},
        {"headers": {"Authorization": BASIC}},
    ],
    ids=["query", "header", "basic-auth-from-url-userinfo"],
)
async def test_the_secret_opens_the_door(receiver: Client, how: dict[str, object]) -> None:
    """Query parameter, header, or the password of the URL's user info."""
    response = await receiver.post(PATH, json=reference()[0], **how)
    assert response.status == NO_CONTENT


@pytest.mark.parametrize(
    "how",
    [
        {},
        {"params": {"secret": "not-the-secret-at-all"}},
        {"headers": {SECRET_HEADER: SECRET[:-1]}},
        {"headers": {"Authorization": "Basic !!!"}},
    ],
    ids=["missing", "wrong-query", "wrong-header", "garbage-basic"],
)
async def test_missing_or_wrong_secret_is_401(receiver: Client, how: dict[str, object]) -> None:
    """Without the right secret nothing is read."""
    response = await receiver.post(PATH, json=reference()[0], **how)
    assert response.status == 401
    body = await response.json()
    assert body["error"] == "unauthorized"
    assert "secret" in body["message"]


async def test_no_secret_configured_is_403(service: Callable[..., Awaitable[Client]]) -> None:
    """A receiver without events_secret refuses everyone, and says why."""
    client = await service()
    response = await client.post(PATH, json={}, params={"secret": SECRET})
    assert response.status == 403
    body = await response.json()
    assert body["error"] == "forbidden"
    assert "events_secret" in body["message"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe\x00garbage", b"[" * 30_000 + b"]" * 30_000],
    ids=["broken", "empty", "not-utf8", "deeply-nested"],
)
async def test_malformed_json_is_400(receiver: Client, body: bytes) -> None:
    """A body that is not JSON is a 400 with a sentence, never a 500."""
    response = await receiver.post(
        PATH, data=body, headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"}
    )
    assert response.status == 400
    payload = await response.json()
    assert payload["error"] == "bad_request"
    assert payload["message"].startswith("The request body is not JSON")


async def test_body_over_64_kib_is_413(receiver: Client) -> None:
    """A 70 KiB event is refused before it is parsed."""
    event = {"event": "mail_expunged", "fields": {"pad": "x" * 70 * 1024}}
    response = await receiver.post(PATH, json=event, headers={SECRET_HEADER: SECRET})
    assert response.status == 413
    assert (await response.json())["error"] == "payload_too_large"


async def test_valid_json_that_is_no_event_is_accepted_and_skipped(receiver: Client) -> None:
    """Dovecot cannot act on an error, so odd events are counted, not refused."""
    for body in ("42", '"text"', "[]", '[{"event": "x", "fields": {}}, null]', "{}"):
        response = await receiver.post(PATH, data=body, headers={SECRET_HEADER: SECRET})
        assert response.status == NO_CONTENT
    assert await sessions_of(receiver, REF_MAILBOX) == {}


# ---------------------------------------------------------------- a live Dovecot


def _delete_all(pop: poplib.POP3) -> int:
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


def _clients(server: DovecotServer) -> None:
    """Deliver 3; the iPhone sends ID after login; poplib deletes; deliver 2; POP3S deletes."""
    for number in range(1, 4):
        server.deliver(ALICE[0], message(number, "events-r1"))
    imap = SourceIMAP(server.host, server.ports.imap, IPHONE_IP)
    try:
        imap.login(*ALICE)
        typ, _ = imap.xatom("ID", IPHONE_ID)
        assert typ == "OK"
        imap.select("INBOX")
    finally:
        imap.logout()
    assert _delete_all(SourcePOP3(server.host, server.ports.pop3, POPLIB_IP)) == 3
    for number in range(1, 3):
        server.deliver(ALICE[0], message(number, "events-r2"))
    context = ssl.create_default_context(cafile=str(server.cert))
    pop3s = SourcePOP3S(server.host, server.ports.pop3s, POPLIB_TLS_IP, context)
    assert _delete_all(pop3s) == 2


async def test_live_dovecot_exports_sessions_with_pop3_deletions(
    service: Callable[..., Awaitable[Client]],
    dovecot_events: Callable[[str], DovecotServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real Dovecot POSTs its events here; the POP3 deletions join their logins."""
    monkeypatch.setitem(imaplib.Commands, "ID", ("NONAUTH", "AUTH", "SELECTED"))  # ID after login
    client = await service(events_secret=SECRET, default_domain="example.com")
    url = client.make_url(PATH).with_query(secret=SECRET)
    server = await asyncio.to_thread(dovecot_events, str(url))  # the receiver listens already
    await asyncio.to_thread(_clients, server)  # blocking clients off the service's loop

    wanted = {(POPLIB_IP, 3), (POPLIB_TLS_IP, 2)}
    deadline = time.monotonic() + 15
    while True:
        sessions = await sessions_of(client, ALICE[0])
        found = {(s.rip, s.deleted) for s in sessions.values() if s.protocol == "pop3"}
        iphone = [s for s in sessions.values() if s.rip == IPHONE_IP]
        if wanted <= found and iphone and iphone[0].client_name and iphone[0].ended_at:
            break
        if time.monotonic() > deadline:
            log = "".join(server.log_lines()[-30:])
            pytest.fail(f"events did not arrive: {sorted(found)} {iphone}\n{log}")
        await asyncio.sleep(0.1)

    by_rip = {s.rip: s for s in sessions.values()}
    plain, tls = by_rip[POPLIB_IP], by_rip[POPLIB_TLS_IP]
    assert (plain.protocol, plain.deleted, plain.retrieved, plain.top, plain.tls) == (
        "pop3", 3, 3, 0, False,
    )  # fmt: skip
    assert plain.lport == server.ports.pop3
    assert (tls.deleted, tls.retrieved, tls.tls, tls.lport) == (2, 2, True, server.ports.pop3s)
    assert plain.mail_age_days == tls.mail_age_days == 0.0
    phone = by_rip[IPHONE_IP]
    assert (phone.protocol, phone.client_name, phone.client_os, phone.client_version) == (
        "imap", "iPhone Mail", "iOS", "21A329",
    )  # fmt: skip
    assert not phone.deletes
    mail = await client.app[STORE].mail_events(ALICE[0])
    assert sorted(m.uid for m in mail if m.action == "expunge") == [1, 2, 3, 4, 5]
    assert sum(m.action == "delivered" for m in mail) == 5

"""Devices: sessions and setup sightings grouped into the clients of a mailbox."""

from __future__ import annotations

import json

import pytest

from autoconf.events import devices
from autoconf.events.sessions import Session
from autoconf.sightings import ClientKind, Endpoint, Sighting
from autoconf.store.sqlite import SQLiteStore
from autoconf.web.auth import new_token
from autoconf.web.keys import STORE

NOW = 1_800_000_000.0
MAILBOX = "alice@example.com"


def session(key: str, **fields: object) -> Session:
    """A finished session of alice, ten minutes ago unless told otherwise."""
    base: dict[str, object] = {
        "mailbox": MAILBOX, "started_at": NOW - 600, "ended_at": NOW - 590,
    }  # fmt: skip
    return Session(key=key, **{**base, **fields})  # type: ignore[arg-type]


def pop3(key: str, rip: str = "203.0.113.7", **fields: object) -> Session:
    """A POP3 session on port 995 with TLS."""
    return session(key, protocol="pop3", rip=rip, lport=995, tls=True, **fields)


def iphone(key: str, rip: str = "198.51.100.23") -> Session:
    """An IMAP session of an iPhone that sent its ID."""
    return session(key, protocol="imap", rip=rip, client_name="iPhone Mail", client_os="iOS")


def test_outlook_deleting_and_iphone_reading():
    """A POP3 PC deleting after download and an iPhone over IMAP are two devices."""
    found = devices.build(
        [pop3("p1", retrieved=4, deleted=4, messages=4), pop3("p2", messages=0), iphone("i1")]
    )
    by_protocol = {d.protocol: d for d in found}
    assert set(by_protocol) == {"pop3", "imap"}
    pc = by_protocol["pop3"]
    assert pc.behaviour == "deletes after download"
    assert pc.deletes_on_download
    assert pc.sessions == 2  # the idle check joined the device that downloads
    assert pc.network == "203.0.113.0/24"
    assert devices.describe(pc, NOW) == (
        "POP3 client (TLS, port 995, fetches with RETR) at 203.0.113.0/24, deletes after "
        "download (4 messages removed in 1 session), last seen 9 minutes ago"
    )
    phone = by_protocol["imap"]
    assert phone.family is ClientKind.APPLE
    assert phone.behaviour == "reads mail over IMAP"


def test_keeping_client():
    """A POP3 client that never deletes keeps mail on the server."""
    (pc,) = devices.build([pop3("p1", retrieved=3, deleted=0)])
    assert pc.behaviour == "keeps mail on the server"
    assert not pc.deletes_on_download


def test_same_network_different_patterns_are_two_clients():
    """Two POP3 clients behind one address, one fetching with TOP and one with RETR."""
    found = devices.build([pop3("a", top=2, deleted=2), pop3("b", retrieved=2, deleted=2)])
    assert len(found) == 2


def test_sighting_merges_into_its_device():
    """A setup request from the iPhone's network joins the iPhone; others stand alone."""
    sightings = [
        Sighting("example.com", MAILBOX, ClientKind.APPLE, Endpoint.MOBILECONFIG,
                 "198.51.100.99", "iPhone", NOW - 86400, NOW - 86400, 1),
        Sighting("example.com", MAILBOX, ClientKind.OUTLOOK, Endpoint.AUTODISCOVER,
                 "192.0.2.1", "Outlook", NOW - 60, NOW - 30, 3),
    ]  # fmt: skip
    found = devices.build([iphone("i1")], sightings)
    phone = next(d for d in found if d.protocol == "imap")
    assert phone.setup_requests == 1
    assert phone.first_seen == NOW - 86400
    outlook = next(d for d in found if d.protocol == "setup")
    assert outlook.setup_requests == 3
    assert devices.describe(outlook, NOW) == (
        "Outlook at 192.0.2.0/24 asked for settings 3 times, last just now"
    )


@pytest.mark.parametrize(
    ("ip", "network"),
    [("203.0.113.7", "203.0.113.0/24"), ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
     ("10.1.2.3", "10.1.2.3"), ("127.0.0.1", "127.0.0.1"), ("garbage", "unknown"),
     (None, "unknown")],
)  # fmt: skip
def test_network_of(ip, network):
    """Public addresses group by /24 or /64; private ones stay whole."""
    assert devices.network_of(ip) == network


def test_ago():
    """Relative times read naturally."""
    assert devices.ago(5) == "just now"
    assert devices.ago(61) == "1 minute ago"
    assert devices.ago(7200) == "2 hours ago"
    assert devices.ago(3 * 86400) == "3 days ago"


async def test_devices_api(service):
    """GET /api/v1/mailboxes/<email>/devices needs a token and lists the devices."""
    token, digest = new_token()
    client = await service(api_tokens=(digest,))
    store = client.app[STORE]
    import time  # noqa: PLC0415

    now = time.time()
    await store.apply(
        [Session(key="s1", mailbox=MAILBOX, protocol="pop3", rip="203.0.113.7", lport=995,
                 tls=True, started_at=now - 60, ended_at=now - 50, retrieved=2, deleted=2)],
        [],
    )  # fmt: skip
    url = f"/api/v1/mailboxes/{MAILBOX}/devices"
    assert (await client.get(url)).status == 401
    bad = await client.get(url, headers={"Authorization": "Bearer wrong"})
    assert bad.status == 401
    assert "not valid" in (await bad.json())["message"]
    resp = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200
    data = await resp.json()
    assert data["mailbox"] == MAILBOX
    (device,) = data["devices"]
    assert device["behaviour"] == "deletes after download"
    assert "203.0.113.0/24" in device["summary"]
    assert json.dumps(data)  # plain JSON


async def test_api_closed_without_tokens(service):
    """With no tokens configured the API says it is closed, and why."""
    client = await service()
    resp = await client.get(f"/api/v1/mailboxes/{MAILBOX}/devices")
    assert resp.status == 401
    assert "no api_tokens are configured" in (await resp.json())["message"]


async def test_purge_removes_old_data(tmp_path):
    """Retention: sessions, mail events and sightings older than the cut are deleted."""
    store = SQLiteStore(tmp_path / "s.db")
    await store.open()
    try:
        await store.apply([session("old", started_at=100.0, ended_at=110.0), session("new")], [])
        old = Sighting("example.com", MAILBOX, ClientKind.K9, Endpoint.AUTOCONFIG, "1.2.3.4",
                       "k9", 50.0, 60.0)  # fmt: skip
        await store.add_sightings([old])
        removed = await store.purge(NOW - 3600)
        assert removed == 2
        assert [s.key for s in await store.sessions(MAILBOX)] == ["new"]
        assert await store.sightings(mailbox=MAILBOX) == []
    finally:
        await store.close()


def test_probe_sessions_are_no_device():
    """The probe's own IMAP logins (IMAP ID autoconf-probe) are not shown as a device."""
    probe = session("p", protocol="imap", rip="198.51.100.1", client_name=devices.PROBE_CLIENT)
    assert devices.build([probe, iphone("i1")]) == devices.build([iphone("i1")])

"""Every setup request leaves a sighting in the store, off the request path, never lost."""

from __future__ import annotations

import asyncio
import re

from autoconf.sightings import ClientKind, Endpoint, classify
from autoconf.store.sqlite import SQLiteStore
from autoconf.web.keys import SIGHTINGS, STORE
from tests.conftest import ALICE, pox

IPHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
OUTLOOK_UA = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
TB_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
K9_UA = "K-9 Mail/6.800"


async def wait_for(predicate, timeout=3.0):
    """Poll an async predicate until it is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_each_endpoint_records_a_sighting(service):
    """Each setup request is stored with mailbox, client kind, endpoint and source address."""
    client = await service()
    await client.get(f"/mail/config-v1.1.xml?emailaddress={ALICE}", headers={"User-Agent": TB_UA})
    await client.post(
        "/autodiscover/autodiscover.xml", data=pox(ALICE), headers={"User-Agent": OUTLOOK_UA}
    )
    await client.get(
        f"/apple/mail.mobileconfig?emailaddress={ALICE}", headers={"User-Agent": IPHONE_UA}
    )
    await client.get("/v1.1/example.com", headers={"User-Agent": K9_UA})
    store = client.app[STORE]

    async def four() -> bool:
        return len(await store.sightings(domain="example.com")) == 4

    await wait_for(four)
    rows = await store.sightings(mailbox=ALICE)
    got = sorted((r.endpoint.value, r.client.value) for r in rows)
    assert got == [
        ("autoconfig", "thunderbird"),
        ("autodiscover", "outlook"),
        ("mobileconfig", "apple"),
    ]
    assert {r.ip for r in rows} == {"127.0.0.1"}
    (domain_only,) = [r for r in await store.sightings(domain="example.com") if r.mailbox is None]
    assert domain_only.client is ClientKind.K9


async def test_alias_sighting_names_the_real_mailbox(service, catalog_file):
    """A request for an alias address is recorded under the hosted mailbox."""
    client = await service(catalog_file())
    await client.get("/mail/config-v1.1.xml?emailaddress=Bob@alias.example")
    store = client.app[STORE]

    async def one() -> bool:
        return len(await store.sightings(mailbox="Bob@example.org")) == 1

    await wait_for(one)


async def test_full_buffer_drops_and_counts(service):
    """With the buffer full, new clients are dropped and counted; known ones still count."""
    client = await service(sightings_buffer=2, sightings_flush_seconds=3600, sightings_batch=1000)
    for n in range(5):
        resp = await client.get("/v1.1/example.com", headers={"User-Agent": f"agent/{n}"})
        assert resp.status == 200
    await client.get("/v1.1/example.com", headers={"User-Agent": "agent/0"})
    text = await (await client.get("/metrics")).text()
    assert "autoconf_sightings_dropped_total 3.0" in text
    assert "autoconf_sightings_pending 2.0" in text


async def test_repeated_requests_share_a_row(service):
    """Identical requests in one flush window become one row that counts them all."""
    client = await service(sightings_flush_seconds=3600, sightings_batch=1000)
    url = f"/mail/config-v1.1.xml?emailaddress={ALICE}"
    for _ in range(7):
        await client.get(url, headers={"User-Agent": TB_UA})
    await client.get(url, headers={"User-Agent": K9_UA})
    await client.app[SIGHTINGS].flush()
    rows = {r.user_agent: r for r in await client.app[STORE].sightings(mailbox=ALICE)}
    assert rows[TB_UA].requests == 7
    assert rows[TB_UA].first_seen <= rows[TB_UA].last_seen
    assert rows[K9_UA].requests == 1
    text = await (await client.get("/metrics")).text()
    assert "autoconf_sightings_written_total 8.0" in text


async def test_shutdown_flushes_pending(service, settings):
    """Sightings still in memory are written when the service stops."""
    client = await service(sightings_flush_seconds=3600, sightings_batch=1000)
    for _ in range(3):
        await client.get(f"/mail/config-v1.1.xml?emailaddress={ALICE}")
    await client.close()
    store = SQLiteStore(settings.sqlite_path)
    await store.open()
    try:
        assert sum(r.requests for r in await store.sightings(mailbox=ALICE)) == 3
    finally:
        await store.close()


async def test_metrics_count_requests_without_addresses(service):
    """/metrics counts requests by endpoint, client and status, and never shows an address."""
    client = await service()
    await client.get(f"/mail/config-v1.1.xml?emailaddress={ALICE}", headers={"User-Agent": TB_UA})
    await client.get("/mail/config-v1.1.xml?emailaddress=eve@unhosted.test")
    text = await (await client.get("/metrics")).text()
    assert re.search(
        r'autoconf_http_requests_total\{client="thunderbird",endpoint="autoconfig",'
        r'status="200"\} 1\.0',
        text,
    )
    assert 'endpoint="autoconfig",status="404"' in text
    assert "autoconf_http_request_duration_seconds_bucket" in text
    assert "example.com" not in text
    assert "alice" not in text
    assert "unhosted" not in text


def test_classify():
    """User-Agent decides the client kind; the endpoint decides when the agent says nothing."""
    assert classify(TB_UA, Endpoint.AUTODISCOVER) is ClientKind.THUNDERBIRD
    assert classify(OUTLOOK_UA, Endpoint.AUTODISCOVER) is ClientKind.OUTLOOK
    assert classify("", Endpoint.AUTODISCOVER) is ClientKind.OUTLOOK
    assert classify(IPHONE_UA, Endpoint.AUTOCONFIG) is ClientKind.APPLE
    assert classify("", Endpoint.MOBILECONFIG) is ClientKind.APPLE
    assert classify(K9_UA, Endpoint.AUTOCONFIG) is ClientKind.K9
    assert classify("curl/8.0", Endpoint.AUTOCONFIG) is ClientKind.OTHER

"""Fleet checks, their store rows on both backends, metrics, and the two API calls."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest

from autoconf.health.api import FLEET
from autoconf.store.base import DomainHealth
from autoconf.web.auth import new_token
from autoconf.web.keys import STORE
from tests.servers.health import CATALOG, world

pytest_plugins = ["tests.servers.postgres"]
pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def row(domain, status, at, summary=""):
    """A stored health check."""
    return DomainHealth(domain=domain, status=status, checked_at=at, summary=summary,
                        report={"domain": domain, "status": status})  # fmt: skip


async def test_store_keeps_the_latest_check_per_domain(store):
    """Both backends: a save replaces the domain's row; lists put failures first; counts."""
    assert await store.domain_health("example.com") is None
    await store.save_domain_health(row("example.com", "fail", 10.0, "broken"))
    await store.save_domain_health(row("example.com", "pass", 20.0, "fine"))
    await store.save_domain_health(row("b.example", "fail", 15.0, "cert expired"))
    await store.save_domain_health(row("a.example", "warn", 5.0))
    await store.save_domain_health(row("c.example", "fail", 12.0))
    got = await store.domain_health("example.com")
    assert got == row("example.com", "pass", 20.0, "fine")
    listed = await store.domain_healths()
    assert [r.domain for r in listed] == ["c.example", "b.example", "a.example", "example.com"]
    failing = await store.domain_healths(status="fail", limit=1, offset=1)
    assert [(r.domain, r.summary) for r in failing] == [("b.example", "cert expired")]
    assert await store.domain_health_counts() == {"pass": 1, "warn": 1, "fail": 2}


@pytest.fixture
async def api_world(service, catalog_file, tmp_path):
    """The service with a support token, serving the health world's domain."""
    async with contextlib.AsyncExitStack() as stack:

        async def build(**knobs):
            token, digest = new_token()
            client = await service(catalog_file(CATALOG), api_tokens=(f"support:desk:{digest}",))
            found = await world(stack, tmp_path, client, **knobs)
            client.app[FLEET].options = found.options()
            client.app[FLEET].jitter = 0.01
            found.client = client
            found.extra["headers"] = {"Authorization": f"Bearer {token}"}
            return found

        yield build


async def get(w, url, status=200):
    """GET with the support token; the JSON (or text) answer after checking the status."""
    resp = await w.client.get(url, headers=w.extra["headers"])
    body = await resp.text()
    assert resp.status == status, body
    return json.loads(body) if resp.content_type == "application/json" else body


async def test_api_checks_a_catalog_domain_now(api_world):
    """GET /api/v1/domains/<d>/health runs the check, keeps it, answers the report."""
    w = await api_world()
    report = await get(w, "/api/v1/domains/Example.COM/health")
    assert report["status"] == "pass", report["summary"]
    assert report["steps"][0]["name"] == "autoconfig-https"
    assert report["summary"]["thunderbird"] == "Thunderbird: works, IMAP over TLS."
    stored = await w.client.app[STORE].domain_health("example.com")
    assert stored is not None
    assert stored.status == "pass"


async def test_api_refuses_unknown_and_bad_domains(api_world):
    """Not in the catalog: 404 naming nothing; not a domain: 400 with a sentence; no token: 401."""
    w = await api_world()
    missing = await get(w, "/api/v1/domains/elsewhere.example/health", 404)
    assert "elsewhere" not in missing["message"]
    bad = await get(w, "/api/v1/domains/no_dots/health", 400)
    assert bad["message"]
    resp = await w.client.get("/api/v1/domains")
    assert resp.status == 401
    assert (await get(w, "/api/v1/domains?status=broken", 400))["message"] == (
        "Query parameter status: Input should be 'pass', 'warn' or 'fail'."
    )
    assert "limit" in (await get(w, "/api/v1/domains?limit=-1", 400))["message"]


async def test_fleet_stores_failures_and_exports_metrics(api_world):
    """A fleet run over the catalog: the failing domain is listed, gauges are bounded."""
    w = await api_world(mail_days=(-30, -3))
    fleet = w.client.app[FLEET]
    counts = await fleet.run_once()
    assert counts == {"fail": 1}
    failing = await get(w, "/api/v1/domains?status=fail")
    assert [d["domain"] for d in failing["domains"]] == ["example.com"]
    assert "certificate has expired" in failing["domains"][0]["summary"]
    assert (await get(w, "/api/v1/domains?status=pass"))["domains"] == []
    dashboard = await w.client.app[STORE].domain_healths(status="fail")
    assert dashboard[0].report["status"] == "fail"
    metrics = await get(w, "/metrics")
    assert 'autoconf_domains_health{status="fail"} 1.0' in metrics
    assert 'autoconf_domains_health{status="pass"} 0.0' in metrics
    assert 'autoconf_certificate_days_left{host="imap.example.com",port="993"} -' in metrics
    assert "autoconf.example.com" not in metrics  # only catalog server hosts are labels
    assert 'host="example.com"' not in metrics


async def test_fleet_job_runs_only_when_switched_on(service):
    """health_interval_hours = 0 (the default) starts no job; a positive interval does."""
    await service()
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "health-fleet" not in names
    await service(health_interval_hours=6.0)
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "health-fleet" in names

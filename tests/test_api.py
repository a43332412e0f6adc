"""The JSON API under /api/v1: roles, pagination, search, audit log, notices (real socket)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from structlog.testing import capture_logs

from autoconf.config import load_settings
from autoconf.events.sessions import Session
from autoconf.sightings import ClientKind, Endpoint, Sighting
from autoconf.store.base import AuditEntry, Incident, ProbeRun
from autoconf.web.api_admin import redacted
from autoconf.web.auth import new_token
from autoconf.web.keys import STORE
from autoconf.web.routes import ROUTES
from tests.conftest import free_port
from tests.test_probe_cli import catalog as probe_catalog
from tests.test_probe_cli import master_env

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from autoconf.store.base import Store
    from tests.servers.probe_dovecot import ProbeDovecot

pytest_plugins = ["tests.servers.postgres", "tests.servers.probe_dovecot"]

NOW = 1_800_000_000.0
# What the rules put into the evidence of these codes (the message templates need it all).
EVIDENCE = {
    "pop-delete-multi-device": {
        "deleting_device": "POP3 client (TLS, port 995)", "deleting_sessions": 3, "removed": 7,
        "last_deleted_at": NOW, "other_devices": "iPhone Mail (iOS 18)", "window_days": 30,
    },
    "cleartext-login": {"last_at": NOW, "networks": "203.0.113.0/24", "protocols": "imap",
                        "sessions": 2},
}  # fmt: skip


def sighting(mailbox: str) -> Sighting:
    """A Thunderbird autoconfig request for ``mailbox``."""
    return Sighting(mailbox.partition("@")[2], mailbox, ClientKind.THUNDERBIRD,
                    Endpoint.AUTOCONFIG, "203.0.113.7", "Thunderbird/128", NOW, NOW, 1)  # fmt: skip


def incident(mailbox: str, severity: str = "critical", code: str = "pop-delete-multi-device",
             at: float = NOW) -> Incident:  # fmt: skip
    """An open incident of ``mailbox``."""
    return Incident(mailbox=mailbox, code=code, severity=severity, opened_at=at,
                    updated_at=at, cause_at=at, evidence=EVIDENCE[code])  # fmt: skip


# ------------------------------------------------------------------ the stores


async def test_mailboxes_by_prefix(store):
    """Mailboxes from sessions, sightings and incidents come back distinct and sorted."""
    sessions = [Session(key="s1", mailbox="anna@example.com", started_at=NOW),
                Session(key="s2", mailbox="bob@example.com", started_at=NOW)]  # fmt: skip
    await store.apply(sessions, [])
    await store.add_sightings([sighting("anna@example.com"), sighting("andy@example.org")])
    await store.save_incident(incident("ann_e@example.com"), "opened")
    await store.save_incident(incident("bob@example.com"), "opened")
    assert await store.mailboxes("an") == ["andy@example.org", "ann_e@example.com",
                                           "anna@example.com"]  # fmt: skip
    assert await store.mailboxes("ann_") == ["ann_e@example.com"]  # _ is no wildcard
    assert await store.mailboxes("an%") == []
    assert await store.mailboxes("") == ["andy@example.org", "ann_e@example.com",
                                         "anna@example.com", "bob@example.com"]  # fmt: skip
    assert await store.mailboxes("", limit=2) == ["andy@example.org", "ann_e@example.com"]
    assert await store.mailboxes("bob@example.com") == ["bob@example.com"]
    assert await store.mailboxes("zed") == []


async def test_audit_round_trip(store):
    """Audit entries come back newest first, by mailbox, paged."""
    for n, box in enumerate(["anna@example.com", "bob@example.com", "anna@example.com"]):
        await store.add_audit(AuditEntry(at=NOW + n, actor="desk", role="support",
                                         action="probe", mailbox=box, outcome="ok"))  # fmt: skip
    rows = await store.audit()
    assert [(r.at, r.mailbox) for r in rows] == [
        (NOW + 2, "anna@example.com"), (NOW + 1, "bob@example.com"), (NOW, "anna@example.com"),
    ]  # fmt: skip
    assert rows[0] == AuditEntry(at=NOW + 2, actor="desk", role="support", action="probe",
                                 mailbox="anna@example.com", outcome="ok")  # fmt: skip
    assert [r.at for r in await store.audit(mailbox="anna@example.com")] == [NOW + 2, NOW]
    assert [r.at for r in await store.audit(limit=1, offset=1)] == [NOW + 1]


# ------------------------------------------------------------------ the service


@dataclass
class Api:
    """The service with a support and an admin token."""

    client: TestClient[web.Request, web.Application]
    support: dict[str, str]
    admin: dict[str, str]

    @property
    def store(self) -> Store:
        """The service's store."""
        return self.client.app[STORE]

    async def json(self, method: str, url: str, status: int = 200, *, admin: bool = False,
                   headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        """Call ``url`` with a token, check the status, return the JSON answer."""
        sent = headers if headers is not None else self.admin if admin else self.support
        resp = await self.client.request(method, url, headers=sent)
        body = await resp.text()
        assert resp.status == status, body
        assert resp.content_type == "application/json"
        return json.loads(body)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(service) -> Callable[..., Awaitable[Api]]:
    """Start the service with tokens for desk (support) and ops (admin)."""

    async def start(catalog: Path | None = None, **overrides: object) -> Api:
        support, support_digest = new_token()
        admin, admin_digest = new_token()
        tokens = (f"support:desk:{support_digest}", f"admin:ops:{admin_digest}")
        client = await service(catalog, api_tokens=tokens, **overrides)
        return Api(client, bearer(support), bearer(admin))

    return start


def concrete(path: str) -> str:
    """A route path with its parameters filled in."""
    return (path.replace("{email}", "anna@example.com").replace("{id}", "1")
            .replace("{domain}", "example.org"))  # fmt: skip


API_ROUTES = [(method, path) for method, path, _, name in ROUTES
              if path.startswith("/api/v1/") and name != "events-dovecot"]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
async def test_every_api_call_needs_a_token(api, method, path):
    """Without a token (or with a wrong one) every /api/v1 call answers 401 as JSON."""
    a = await api()
    url = concrete(path)
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic eDp5"}):
        data = await a.json("GET" if method == "*" else method, url, 401, headers=headers)
        assert data["error"] == "unauthorized"
        assert data["message"]
    assert await a.store.audit() == []


async def test_open_routes_need_no_token(api):
    """Setup endpoints, /healthz, /readyz and /metrics answer without a token."""
    a = await api()
    for url in ("/healthz", "/readyz", "/metrics", "/apple/",
                "/mail/config-v1.1.xml?emailaddress=anna@example.com",
                "/autodiscover/autodiscover.json/v1.0/anna@example.com?Protocol=AutodiscoverV1",
                ):  # fmt: skip
        resp = await a.client.get(url)
        assert resp.status == 200, (url, await resp.text())


async def test_events_endpoint_uses_its_own_secret(api):
    """The Dovecot events receiver ignores API tokens: its shared secret decides."""
    a = await api(events_secret="s" * 20)
    resp = await a.client.post("/api/v1/events/dovecot", data=b"[]", headers=a.admin)
    assert resp.status in (401, 403)
    resp = await a.client.post("/api/v1/events/dovecot?secret=" + "s" * 20, data=b"[]")
    assert resp.status == 204, await resp.text()


ADMIN_CALLS = [("POST", "/api/v1/catalog/reload"), ("GET", "/api/v1/settings"),
               ("GET", "/api/v1/audit")]  # fmt: skip


@pytest.mark.parametrize(("method", "url"), ADMIN_CALLS)
async def test_admin_calls_refuse_the_support_role(api, method, url):
    """The support role gets 403 on admin calls; the admin role gets 200."""
    a = await api()
    data = await a.json(method, url, 403)
    assert data == {"error": "forbidden",
                    "message": "This needs the admin role; desk is support."}  # fmt: skip
    await a.json(method, url, admin=True)


async def test_catalog_reload(api, catalog_file):
    """Reload reads the file again (a new generation); a broken file keeps the old catalog."""
    path = catalog_file()
    a = await api(path)
    before = await a.json("GET", "/api/v1/health")
    first = await a.json("POST", "/api/v1/catalog/reload", admin=True)
    assert first["domains"] == before["catalog_domains"]
    assert first["generation"] == before["catalog_generation"] + 1
    path.write_text("[[providers]]\nid = 1\n", encoding="utf-8")
    bad = await a.json("POST", "/api/v1/catalog/reload", 422, admin=True)
    assert bad["error"] == "catalog_invalid"
    assert "old one keeps serving" in bad["message"]
    health = await a.json("GET", "/api/v1/health")
    assert (health["catalog_domains"], health["catalog_generation"]) == (
        first["domains"], first["generation"])  # fmt: skip


async def test_settings_are_redacted(api, tmp_path):
    """Secrets, token digests and database passwords never leave the service."""
    a = await api(events_secret="very-secret-value-123")
    data = (await a.json("GET", "/api/v1/settings", admin=True))["settings"]
    text = json.dumps(data)
    assert "very-secret-value-123" not in text
    assert data["events_secret"] == "(redacted)"
    assert [e.rsplit(":", 1)[0] for e in data["api_tokens"]] == ["support:desk", "admin:ops"]
    assert all(e.endswith(":(redacted)") for e in data["api_tokens"])
    assert data["retention_days"] == 90
    url = "postgresql://autoconf:hunter2@db.example/autoconf"
    shown = redacted(load_settings(data_dir=tmp_path, database_url=url))["database_url"]
    assert shown == "postgresql://autoconf:(redacted)@db.example/autoconf"


async def test_health_names_the_caller(api):
    """GET /api/v1/health: the store answers, schema version, who is asking."""
    a = await api()
    data = await a.json("GET", "/api/v1/health")
    assert (data["status"], data["store"], data["principal"], data["role"]) == (
        "ok", "ok", "desk", "support")  # fmt: skip
    assert data["schema_version"] >= 6


# ------------------------------------------------------------------ search, lists


async def seed(store: Store) -> None:
    """Sessions, sightings and incidents of a few mailboxes."""
    sessions = [Session(key="s1", mailbox="anna@example.com", started_at=NOW),
                Session(key="s2", mailbox="bob@example.com", started_at=NOW)]  # fmt: skip
    await store.apply(sessions, [])
    await store.add_sightings([sighting("anna@example.org"), sighting("andy@example.com")])
    for n in range(5):
        box = f"user{n}@example.com"
        await store.save_incident(incident(box, "critical" if n % 2 else "warning",
                                           at=NOW + n), "opened")  # fmt: skip


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> dict[str, object]:
    """Settings for each store in turn."""
    if request.param == "sqlite":
        return {}
    return {"database_url": request.getfixturevalue("postgres_dsn")}


async def test_search_by_prefix(api, backend):
    """Mailboxes are found by the start of their address, domain part in any case."""
    a = await api(**backend)
    await seed(a.store)
    data = await a.json("GET", "/api/v1/mailboxes?q=an")
    found = ["andy@example.com", "anna@example.com", "anna@example.org"]
    assert data == {"query": "an", "limit": 50, "mailboxes": found}
    data = await a.json("GET", "/api/v1/mailboxes?q=%20anna@EXAMPLE.C")
    assert data["mailboxes"] == ["anna@example.com"]
    assert (await a.json("GET", "/api/v1/mailboxes?limit=2"))["mailboxes"] == [
        "andy@example.com", "anna@example.com"]  # fmt: skip
    assert (await a.json("GET", "/api/v1/mailboxes?q=zz"))["mailboxes"] == []


@pytest.mark.parametrize(("query", "word"), [
    ("limit=0", "limit"), ("limit=x", "limit"), ("limit=501", "limit"),
    ("q=%01a", "control character"), ("q=" + "a" * 300, "q"),
])  # fmt: skip
async def test_search_refuses_bad_parameters(api, query, word):
    """Bad search parameters get a 400 that names the parameter."""
    a = await api()
    data = await a.json("GET", f"/api/v1/mailboxes?{query}", 400)
    assert data["error"] == "bad_request"
    assert word in data["message"]


async def test_incidents_paginate_and_filter(api):
    """Incidents come in pages (next_offset), filtered by state, severity and mailbox."""
    a = await api()
    await seed(a.store)
    page = await a.json("GET", "/api/v1/incidents?limit=2")
    assert [i["mailbox"] for i in page["incidents"]] == ["user4@example.com", "user3@example.com"]
    assert (page["limit"], page["offset"], page["next_offset"]) == (2, 0, 2)
    seen = [i["id"] for i in page["incidents"]]
    while page["next_offset"] is not None:
        page = await a.json("GET", f"/api/v1/incidents?limit=2&offset={page['next_offset']}")
        seen += [i["id"] for i in page["incidents"]]
    assert len(seen) == len(set(seen)) == 5
    critical = await a.json("GET", "/api/v1/incidents?severity=critical")
    assert {i["mailbox"] for i in critical["incidents"]} == {"user1@example.com",
                                                             "user3@example.com"}  # fmt: skip
    one = await a.json("GET", "/api/v1/incidents?mailbox=user2@example.com&state=all")
    assert [i["severity"] for i in one["incidents"]] == ["warning"]
    assert (await a.json("GET", "/api/v1/incidents?state=resolved"))["incidents"] == []
    bad = await a.json("GET", "/api/v1/incidents?state=closed", 400)
    assert "state" in bad["message"]


async def test_one_incident_with_transitions(api):
    """GET /api/v1/incidents/<id>: the incident and its steps; unknown ids are 404."""
    a = await api()
    saved = await a.store.save_incident(incident("anna@example.com"), "opened")
    await a.store.claim_notice(saved.id, NOW + 5, "<n@x>")
    data = await a.json("GET", f"/api/v1/incidents/{saved.id}")
    assert data["incident"]["notice_id"] == "<n@x>"
    assert [t["transition"] for t in data["transitions"]] == ["opened", "notified"]
    for missing in ("999", "0", "abc", "99999999999999999999999"):
        assert (await a.json("GET", f"/api/v1/incidents/{missing}", 404))["error"] == "not_found"


async def test_findings_paginate_in_the_asked_language(api):
    """Findings across mailboxes: paged, filtered by mailbox and severity, worded in ?lang=."""
    a = await api()
    await seed(a.store)
    page = await a.json("GET", "/api/v1/findings?limit=3&lang=de")
    assert len(page["findings"]) == 3
    assert page["next_offset"] == 3
    rest = await a.json("GET", "/api/v1/findings?limit=3&offset=3")
    assert rest["next_offset"] is None
    assert len(rest["findings"]) == 2
    one = await a.json("GET", "/api/v1/findings?mailbox=user1@example.com&severity=critical")
    assert [f["mailbox"] for f in one["findings"]] == ["user1@example.com"]
    assert (await a.json("GET", "/api/v1/findings?severity=bad", 400))["error"] == "bad_request"


async def test_probe_runs_of_a_mailbox(api):
    """GET /api/v1/mailboxes/<email>/probe-runs: stored runs, oldest first, bounded."""
    a = await api()
    for n in range(3):
        await a.store.add_probe_run(ProbeRun(mailbox="anna@example.com", probed_at=NOW + n,
                                             finished_at=NOW + n + 1, gone=n))  # fmt: skip
    data = await a.json("GET", "/api/v1/mailboxes/anna@example.com/probe-runs?limit=2")
    assert [r["gone"] for r in data["runs"]] == [1, 2]
    assert (await a.json("GET", "/api/v1/mailboxes/nobody/probe-runs", 400))["error"] == (
        "bad_address")  # fmt: skip


# ------------------------------------------------------------------ probe, notice, audit

NOTICE_HEADER = b"X-Autoconf-Notice:"


def notice_count(dovecot: ProbeDovecot, address: str) -> int:
    """Notice mails in the user's Maildir."""
    return sum(1 for path in dovecot.maildir(address).rglob("*")
               if path.is_file() and path.parent.name in ("cur", "new")
               and NOTICE_HEADER in path.read_bytes())  # fmt: skip


async def test_probe_is_audited(api, probe_dovecot, tmp_path):
    """A probe through the API is written to the audit log with its outcome."""
    address, _ = probe_dovecot.fresh_user()
    env = master_env(probe_dovecot, tmp_path)
    a = await api(probe_catalog(probe_dovecot, tmp_path),
                  probe_master_user=env["AUTOCONF_PROBE_MASTER_USER"],
                  probe_master_password_file=tmp_path / "master.pw",
                  probe_ca_file=probe_dovecot.cert)  # fmt: skip
    with capture_logs() as logs:
        result = await a.json("POST", f"/api/v1/mailboxes/{address}/probe")
    assert result["ok"] is True
    (entry,) = await a.store.audit()
    assert (entry.actor, entry.role, entry.action, entry.mailbox, entry.outcome) == (
        "desk", "support", "probe", address, "ok")  # fmt: skip
    (line,) = [e for e in logs if e["event"] == "audit"]
    assert (line["actor"], line["mailbox"], line["outcome"]) == ("desk", address, "ok")
    listed = await a.json("GET", "/api/v1/audit", admin=True)
    assert listed["entries"][0]["mailbox"] == address


async def test_refused_probe_is_audited_too(api):
    """A probe that cannot run (no master user) answers 409 and is audited as such."""
    a = await api()
    data = await a.json("POST", "/api/v1/mailboxes/anna@example.org/probe", 409)
    assert data["error"] == "probe_unavailable"
    (entry,) = await a.store.audit(mailbox="anna@example.org")
    assert (entry.action, entry.outcome) == ("probe", "probe_unavailable")


async def test_notice_is_sent_once_and_audited(api, probe_dovecot):
    """Two agents pressing "send" at once: one notice arrives, the other call gets 409."""
    address, _ = probe_dovecot.fresh_user()
    a = await api(notice_transport="lmtp", notice_host=probe_dovecot.host,
                  notice_port=probe_dovecot.ports.lmtp, notice_sender="postmaster@example.com",
                  notice_interval_hours=0)  # fmt: skip
    saved = await a.store.save_incident(incident(address), "opened")
    url = f"/api/v1/mailboxes/{address}/notice?lang=fr"
    first, second = await asyncio.gather(a.client.post(url, headers=a.support),
                                         a.client.post(url, headers=a.admin))  # fmt: skip
    assert sorted([first.status, second.status]) == [200, 409]
    ok = first if first.status == 200 else second
    data = await ok.json()
    assert (data["incident"], data["language"], data["code"]) == (
        saved.id, "fr", "pop-delete-multi-device")  # fmt: skip
    refused = await (second if ok is first else first).json()
    assert refused["error"] == "already_sent"
    again = await a.json("POST", url, 409)
    assert again["error"] == "already_sent"
    assert notice_count(probe_dovecot, address) == 1
    stored = await a.store.incident(saved.id)
    assert stored.notice_id == data["message_id"]
    outcomes = sorted(e.outcome for e in await a.store.audit(mailbox=address))
    assert outcomes == ["already_sent", "already_sent", f"sent {data['message_id']}"]


async def test_notice_refusals(api):
    """Notices off, no incident, and a failed delivery answer sentences, never a 500."""
    off = await api()
    await off.store.save_incident(incident("anna@example.com"), "opened")
    data = await off.json("POST", "/api/v1/mailboxes/anna@example.com/notice", 409)
    assert data["error"] == "notices_off"
    a = await api(notice_transport="smtp", notice_host="127.0.0.1", notice_port=free_port())
    data = await a.json("POST", "/api/v1/mailboxes/bob@example.com/notice", 404)
    assert "no open incident" in data["message"]
    saved = await a.store.save_incident(incident("carl@example.com"), "opened")
    data = await a.json("POST", "/api/v1/mailboxes/carl@example.com/notice", 502)
    assert data["error"] == "notice_failed"
    assert (await a.store.incident(saved.id)).notified_at is None  # the claim was released
    outcomes = [e.outcome for e in await a.store.audit()]
    assert outcomes == ["notice_failed", "not_found", "notices_off"]  # one store: newest first


async def test_notice_waits_for_the_interval(api):
    """A second incident of a mailbox notified an hour ago is deferred with a sentence."""
    a = await api(notice_transport="smtp", notice_port=free_port(), notice_interval_hours=24)
    done = await a.store.save_incident(incident("anna@example.com", code="cleartext-login",
                                                severity="warning"), "opened")  # fmt: skip
    await a.store.claim_notice(done.id, time.time() - 3600, "<old@x>")
    await a.store.save_incident(incident("anna@example.com"), "opened")
    data = await a.json("POST", "/api/v1/mailboxes/anna@example.com/notice", 409)
    assert data["error"] == "notice_deferred"
    assert "23.0 hours" in data["message"]

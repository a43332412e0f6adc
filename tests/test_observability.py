"""/metrics of the whole service, the ingest's own metrics, the Grafana dashboard, the alerts."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest
import structlog.testing
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.parser import text_string_to_metric_families

from autoconf.cli import main as cli_main
from autoconf.diagnosis.findings import POP_DELETE_MULTI
from autoconf.notify.mail import send_notices
from autoconf.probe.connect import Endpoint, TlsMode
from autoconf.probe.result import Finding, ProbeResult, ServerResult
from autoconf.store.base import Incident
from autoconf.store.sqlite import SQLiteStore
from autoconf.web.auth import new_token
from autoconf.web.events_api import SECRET_HEADER
from autoconf.web.keys import METRICS, STORE
from autoconf.web.metrics import GAUGE_MERGE, Metrics
from autoconf.web.metrics_merge import SharedDir, retire
from tests.conftest import ALICE, free_port, start_serve

if TYPE_CHECKING:
    from aiohttp.test_utils import TestClient

    from autoconf.store.base import Store

pytest_plugins = ["tests.servers.postgres"]

ROOT = Path(__file__).parent.parent
DASHBOARD = ROOT / "deploy" / "grafana" / "autoconf-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERTS_TEST = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DATA = Path(__file__).parent / "data" / "dovecot"
SECRET = "events-secret-0123456789"
REF_DOMAIN = "lab.test"  # the reference run's domain (its users have none)
EVIDENCE = {"deleting_device": "POP3 client (TLS, port 995)", "deleting_sessions": 3,
            "removed": 7, "other_devices": "iPhone Mail (iOS 18)", "window_days": 30}  # fmt: skip
# Series Prometheus makes itself, not the service.
BUILT_IN = {"up"}
METRIC_NAME = re.compile(r"\b(?:autoconf_[a-z0-9_]+|up)\b")
SETUP_URL = "/mail/config-v1.1.xml?emailaddress=" + ALICE


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition: (name, sorted labels) -> value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: str, name: str, **labels: str) -> float | None:
    """One sample's value, or None when the exposition lacks it."""
    return samples(text).get((name, tuple(sorted(labels.items()))))


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(
        v
        for (n, pairs), v in samples(text).items()
        if n == name and all(dict(pairs).get(k) == want for k, want in labels.items())
    )


async def scrape(client: TestClient) -> str:  # type: ignore[type-arg]
    """GET /metrics through the real socket."""
    answer = await client.get("/metrics")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    return await answer.text()


def reference_events() -> list[dict[str, object]]:
    """Dovecot's exported events of the reference POP3-deletion run."""
    with (DATA / "pop-delete.events.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line)["event"] for line in fh]


async def exercised(service) -> tuple[TestClient, str]:  # type: ignore[type-arg]
    """The service after setup requests, exported events and an open incident: scraped."""
    client = await service(events_secret=SECRET, default_domain=REF_DOMAIN)
    for _ in range(3):
        assert (await client.get(SETUP_URL)).status == 200
    for event in reference_events():
        answer = await client.post("/api/v1/events/dovecot", json=event,
                                   headers={SECRET_HEADER: SECRET})  # fmt: skip
        assert answer.status == 204
    store = client.app[STORE]
    now = time.time()
    await store.save_incident(incident("bob@example.com", "critical", now), "opened")
    await client.app[METRICS].refresh(store)
    return client, await scrape(client)


def incident(mailbox: str, severity: str, at: float, code: str = POP_DELETE_MULTI) -> Incident:
    """An open incident of one mailbox."""
    return Incident(mailbox=mailbox, code=code, severity=severity, opened_at=at, updated_at=at,
                    cause_at=at, evidence={**EVIDENCE, "last_deleted_at": at})  # fmt: skip


# ---------------------------------------------------------------- one process


async def test_events_ingest_counted_with_lag(service):
    """Exported events show as read, parsed, logins by protocol and the lag of the newest."""
    events = reference_events()
    client, text = await exercised(service)
    assert value(text, "autoconf_ingest_lines_total", source="events") == len(events)
    parsed = value(text, "autoconf_ingest_events_total", source="events")
    assert parsed is not None
    assert 0 < parsed <= len(events)
    sessions = await client.app[STORE].sessions("alice@" + REF_DOMAIN)
    assert sessions, "the reference run's sessions are in the store"
    logins = total(text, "autoconf_ingest_logins_total", source="events")
    assert logins == sum(1 for s in sessions if s.started_at is not None)
    assert value(text, "autoconf_ingest_logins_total", source="events", protocol="pop3")
    newest = max(max(s.started_at or 0, s.ended_at or 0) for s in sessions)
    lag = value(text, "autoconf_ingest_lag_seconds", source="events")
    assert lag is not None
    assert abs(lag - (time.time() - newest)) < 30
    assert value(
        text, "autoconf_ingest_newest_event_timestamp_seconds", source="events"
    ) == pytest.approx(newest, abs=1)


async def test_setup_requests_and_build_info(service):
    """Setup requests are counted by endpoint and client; the version is exported."""
    _client, text = await exercised(service)
    assert (
        value(
            text,
            "autoconf_http_requests_total",
            endpoint="autoconfig",
            client="other",
            status="200",
        )
        == 3
    )
    assert value(text, "autoconf_build_info", version=__import__("autoconf").__version__) == 1


async def test_mailboxes_at_risk_refreshed_from_the_store(service):
    """The periodic refresh counts mailboxes by open finding severity, not per scrape."""
    client = await service(metrics_refresh_seconds=1)
    store = client.app[STORE]
    now = time.time()
    await store.save_incident(incident("a@example.com", "critical", now), "opened")
    await store.save_incident(incident("b@example.com", "warning", now), "opened")
    deadline = time.monotonic() + 5
    while True:
        text = await scrape(client)
        if value(text, "autoconf_mailboxes_at_risk", severity="critical") == 1:
            break
        assert time.monotonic() < deadline, text
        await asyncio.sleep(0.2)
    assert value(text, "autoconf_mailboxes_at_risk", severity="warning") == 1
    assert value(text, "autoconf_mailboxes_at_risk", severity="info") == 0
    assert value(text, "autoconf_metrics_refresh_failures_total") == 0


async def test_mailboxes_at_risk_query(store: Store):
    """Per severity, distinct mailboxes with an open incident; resolved ones do not count."""
    now = time.time()
    await store.save_incident(incident("a@example.com", "critical", now), "opened")
    await store.save_incident(
        incident("a@example.com", "critical", now, code="pop-clients-racing"), "opened"
    )
    await store.save_incident(incident("b@example.com", "critical", now), "opened")
    await store.save_incident(incident("b@example.com", "warning", now, code="tls-weak"), "opened")
    gone = await store.save_incident(incident("c@example.com", "critical", now), "opened")
    await store.save_incident(
        Incident(**{**gone.as_dict(), "state": "resolved", "resolved_at": now}), "resolved"
    )
    assert await store.mailboxes_at_risk() == {"critical": 2, "warning": 1}


async def test_refresh_failure_counted_and_survived(tmp_path):
    """A store that does not answer is counted as a failed refresh; the loop goes on."""
    metrics = Metrics()
    with structlog.testing.capture_logs() as logged:
        task = asyncio.create_task(metrics.run(SQLiteStore(tmp_path / "never.sqlite3"), 1.0))
        try:
            deadline = time.monotonic() + 5
            while not metrics.registry.get_sample_value("autoconf_metrics_refresh_failures_total"):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            assert not task.done()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert {"event": "metrics.refresh_failed", "error": "The store is not open.",
            "log_level": "warning"} in logged  # fmt: skip
    assert (
        metrics.registry.get_sample_value("autoconf_mailboxes_at_risk", {"severity": "critical"})
        is None
    )


async def test_probe_results_counted_by_protocol_and_outcome(service):
    """Each probed server counts once: ok, or the code of its first error; never a host."""
    client = await service()
    metrics = client.app[METRICS]
    good = ServerResult(Endpoint("imap", "imap.example.com", 993, TlsMode.SSL))
    bad = ServerResult(Endpoint("pop3", "pop.example.com", 995, TlsMode.SSL))
    bad.findings.append(Finding("tls_handshake_failed", "error", "tls", "pop.example.com:995"))
    metrics.count_probe(ProbeResult(ALICE, time.time(), servers=[good, bad]))
    text = await scrape(client)
    assert value(text, "autoconf_probes_total", protocol="imap", outcome="ok") == 1
    assert (
        value(text, "autoconf_probes_total", protocol="pop3", outcome="tls_handshake_failed") == 1
    )
    assert "example.com" not in "".join(line for line in text.splitlines() if "probes" in line)


REFUSING_CATALOG = """
[[providers]]
id = "mail.example.org"
name = "Example Org Mail"
domains = ["example.org"]

[[providers.servers]]
protocol = "imap"
host = "127.0.0.1"
port = {imap}
socket = "SSL"

[[providers.servers]]
protocol = "pop3"
host = "127.0.0.1"
port = {pop3}
socket = "SSL"

[[providers.servers]]
protocol = "smtp"
host = "127.0.0.1"
port = 587
socket = "STARTTLS"
"""


async def test_api_probe_and_notice_are_counted(service, catalog_file, tmp_path):
    """Through the API: a probe of refused servers and a notice that cannot be delivered."""
    token, digest = new_token()
    (tmp_path / "master.pw").write_text("secret\n")
    path = catalog_file(REFUSING_CATALOG.format(imap=free_port(), pop3=free_port()))
    client = await service(
        path,
        api_tokens=(f"support:desk:{digest}",),
        probe_master_user="master",
        probe_master_password_file=tmp_path / "master.pw",
        notice_transport="smtp",
        notice_port=free_port(),
    )
    auth = {"Authorization": f"Bearer {token}"}
    answer = await client.post("/api/v1/mailboxes/anna@example.org/probe", headers=auth)
    assert answer.status == 200, await answer.text()
    await client.app[STORE].save_incident(incident("anna@example.org", "critical", time.time()),
                                          "opened")  # fmt: skip
    answer = await client.post("/api/v1/mailboxes/anna@example.org/notice", headers=auth)
    assert answer.status == 502, await answer.text()
    text = await scrape(client)
    assert value(text, "autoconf_probes_total", protocol="imap", outcome="connection_refused") == 1
    assert value(text, "autoconf_probes_total", protocol="pop3", outcome="connection_refused") == 1
    assert value(text, "autoconf_notices_total", outcome="failed") == 1
    assert value(text, "autoconf_notices_total", outcome="sent") == 0


async def test_notices_counted_by_outcome(tmp_path, settings):
    """A refused delivery counts as failed, a second notice within the interval as deferred."""
    store = SQLiteStore(tmp_path / "n.sqlite3")
    await store.open()
    outcomes: list[str] = []
    try:
        now = time.time()
        first = await store.save_incident(incident("a@example.com", "critical", now), "opened")
        cfg = settings.model_copy(
            update={"notice_transport": "smtp", "notice_port": free_port(),
                    "notice_interval_hours": 24}
        )  # fmt: skip
        assert await send_notices(store, cfg, [first], "en", now=now, count=outcomes.append) == []
        await store.claim_notice(first.id or 0, now, "<earlier@example.com>")
        second = await store.save_incident(
            incident("a@example.com", "critical", now, code="pop-clients-racing"), "opened"
        )
        await send_notices(store, cfg, [second], "en", now=now + 60, count=outcomes.append)
    finally:
        await store.close()
    assert outcomes == ["failed", "deferred"]


# ---------------------------------------------------------------- merging workers


async def test_merge_sums_counters_and_keeps_the_dead(tmp_path):
    """Counters add up across workers (a dead one's too); gauges merge as each one says."""
    registries = []
    for n in range(3):
        r = CollectorRegistry()
        Counter("autoconf_x", "x", ["k"], registry=r).labels("a").inc(n + 1)
        Gauge("autoconf_sightings_pending", "p", registry=r).set(10 * (n + 1))
        Gauge("autoconf_ingest_lag_seconds", "l", ["source"], registry=r).labels("e").set(5 - n)
        Gauge("autoconf_catalog_domains", "d", registry=r).set(7 + n)
        registries.append(r)
    for pid, r in zip((101, 102), registries[1:], strict=True):
        SharedDir(tmp_path, pid).write(r, GAUGE_MERGE)
    retire(tmp_path, 102)
    text = (await SharedDir(tmp_path, 100).merged(registries[0], GAUGE_MERGE)).decode()
    assert value(text, "autoconf_x_total", k="a") == 1 + 2 + 3
    assert value(text, "autoconf_sightings_pending") == 10 + 20  # the dead one's left
    assert value(text, "autoconf_ingest_lag_seconds", source="e") == 4  # min of 5 and 4
    assert value(text, "autoconf_catalog_domains") == 8  # max of 7 and 8
    assert "_created" not in text


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return str(answer.read().decode())


async def test_workers_scrape_counts_every_request(tmp_path):
    """serve --workers 2: every scrape, whichever worker answers, totals all N requests."""
    port = free_port()
    log = tmp_path / "serve.log"
    proc = start_serve(tmp_path / "data", "--demo", "--port", str(port), "--workers", "2", log=log)
    base = f"http://127.0.0.1:{port}"
    requests = 60
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count('"serve.started"') < 2:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        metrics_dir = next(Path(tempfile.gettempdir()).glob(f"autoconf-metrics-{proc.pid}-*"))
        # a new connection per request, so that the kernel spreads them over both workers
        connector = aiohttp.TCPConnector(force_close=True)
        async with aiohttp.ClientSession(base, connector=connector) as session:
            for _ in range(requests):
                async with session.get(SETUP_URL) as answer:
                    assert answer.status == 200

            async def counted() -> float:
                async with session.get("/metrics") as answer:
                    text = await answer.text()
                return total(text, "autoconf_http_requests_total", endpoint="autoconfig")

            # no waiting: a scrape counts every request answered before it began
            assert [await counted() for _ in range(12)] == [requests] * 12
            await asyncio.sleep(0.3)  # the access log is written every 0.1 s
            answered_by = {
                json.loads(line)["request_id"].split("-")[0]
                for line in log.read_text().splitlines()
                if '"endpoint": "metrics"' in line
            }
            assert len(answered_by) == 2, "both workers answered scrapes"
            # a worker killed: its counts stay in the totals, the new one starts at zero
            started = [json.loads(line) for line in log.read_text().splitlines()
                       if '"serve.started"' in line]  # fmt: skip
            os.kill(started[0]["pid"], signal.SIGKILL)
            while log.read_text().count('"serve.started"') < 3:
                assert time.monotonic() < deadline + 20
                await asyncio.sleep(0.1)
            assert [await counted() for _ in range(6)] == [requests] * 6
            assert (metrics_dir / f"{started[0]['pid']}.dead.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 20) == 0
    assert not metrics_dir.exists(), "the supervisor removes its metrics directory"


# ---------------------------------------------------------------- autoconf ingest


def test_ingest_follow_serves_its_metrics(tmp_path):
    """`ingest --follow --metrics-port`: lines, skipped kinds, logins and lag, as it reads."""
    log = tmp_path / "dovecot.log"
    lines = (DATA / "pop-delete.log").read_bytes()
    log.write_bytes(lines + b"\x00\x01 binary junk\n")
    port = free_port()
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data"),
           "AUTOCONF_DEFAULT_DOMAIN": "example.com", "AUTOCONF_LOG_FORMAT": "json"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoconf", "ingest", "--follow", str(log), "--year", "2026",
         "--metrics-port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    expected = lines.count(b"\n") + 1
    try:
        deadline = time.monotonic() + 30
        text = ""
        while value(text, "autoconf_ingest_lines_total", source="file") != expected:
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            try:
                text = _get(url)
            except OSError:
                continue
        assert value(text, "autoconf_ingest_skipped_lines_total", source="file", kind="binary") == 1
        assert value(text, "autoconf_ingest_events_total", source="file") == 99
        assert value(text, "autoconf_build_info", version=__import__("autoconf").__version__) == 1
        while value(text, "autoconf_ingest_lag_seconds", source="file") is None:
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            text = _get(url)
        pop3 = value(text, "autoconf_ingest_logins_total", source="file", protocol="pop3")
        imap = value(text, "autoconf_ingest_logins_total", source="file", protocol="imap")
        assert pop3
        assert imap
        with log.open("ab") as fh:
            fh.write(b"garbage that is not a dovecot line\n")
        while value(text, "autoconf_ingest_lines_total", source="file") != expected + 1:
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
            text = _get(url)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    import sqlite3  # noqa: PLC0415

    with sqlite3.connect(tmp_path / "data" / "autoconf.sqlite3") as conn:
        stored = dict(conn.execute(
            "SELECT protocol, count(*) FROM sessions WHERE started_at IS NOT NULL GROUP BY protocol"
        ).fetchall())  # fmt: skip
    assert (pop3, imap) == (stored["pop3"], stored["imap"])


def test_ingest_metrics_port_taken(tmp_path):
    """A metrics port that is in use is a sentence and exit status 1, not a traceback."""
    log = tmp_path / "dovecot.log"
    log.write_bytes((DATA / "pop-keep.log").read_bytes())
    import socket  # noqa: PLC0415

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "autoconf", "ingest", str(log), "--metrics-port", str(port)],
            env={**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data")},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 1
    assert f"metrics port 127.0.0.1:{port} cannot be opened" in done.stderr
    assert "Traceback" not in done.stderr


def test_ingest_metrics_port_out_of_range(tmp_path, capsys):
    """--metrics-port 99999 is bad usage: exit status 2 and a sentence."""
    with pytest.raises(SystemExit) as stopped:
        cli_main(["ingest", str(tmp_path / "any.log"), "--metrics-port", "99999"])
    assert stopped.value.code == 2
    assert "'99999' is not a port number (1-65535)" in capsys.readouterr().err


# ---------------------------------------------------------------- Grafana and Prometheus


def _names_in(expressions: list[str]) -> set[str]:
    found = set()
    for expr in expressions:
        found |= set(METRIC_NAME.findall(expr))
    return found


def _exposed(text: str) -> set[str]:
    """Every sample name (with _total, _bucket, …) and family name of a scrape."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names |= {s.name for s in family.samples}
    return names


def _dashboard_queries(node: object) -> list[str]:
    """Every PromQL text of the dashboard: panel targets and template variable queries."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, item in node.items():
            if key in {"expr", "definition"} and isinstance(item, str):
                found.append(item)
            elif key == "query" and isinstance(item, str | dict):
                found += [item] if isinstance(item, str) else _dashboard_queries(item)
            else:
                found += _dashboard_queries(item)
    elif isinstance(node, list):
        for item in node:
            found += _dashboard_queries(item)
    return found


async def test_dashboard_uses_only_metrics_the_service_exports(service):
    """The Grafana dashboard is valid JSON; each metric in its queries is in a real scrape."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["title"]
    assert dashboard["panels"]
    queries = _dashboard_queries(dashboard)
    assert len(queries) >= 15
    _client, text = await exercised(service)
    used = _names_in(queries)
    missing = used - _exposed(text) - BUILT_IN
    assert not missing, f"the dashboard queries metrics the service does not export: {missing}"
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for needed in (
        "setup requests by endpoint",
        "by client",
        "error rate",
        "p99",
        "at risk",
        "pop3 vs imap",
        "ingest lag",
        "skipped",
        "probe",
        "notices",
    ):
        assert needed in titles, needed


def _rule_exprs() -> list[str]:
    text = ALERTS.read_text(encoding="utf-8")
    # expr: one line, or a folded block (>-) of the lines indented below it
    exprs = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("expr:"):
            continue
        rest = stripped.removeprefix("expr:").strip()
        if rest not in {">-", ">", "|"}:
            exprs.append(rest)
            continue
        indent = len(line) - len(line.lstrip())
        block = []
        for following in lines[i + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            block.append(following.strip())
        exprs.append(" ".join(block))
    return exprs


async def test_alert_rules_use_only_exported_metrics(service):
    """Every metric the alert rules name is in a real scrape (or is Prometheus's `up`)."""
    exprs = _rule_exprs()
    assert len(exprs) >= 4
    _client, text = await exercised(service)
    missing = _names_in(exprs) - _exposed(text) - BUILT_IN
    assert not missing, f"the alert rules use metrics the service does not export: {missing}"
    names = ALERTS.read_text(encoding="utf-8")
    for alert in ("AutoconfDown", "AutoconfIngestStalled", "AutoconfMailboxesAtRiskRising",
                  "AutoconfSetupErrors"):  # fmt: skip
        assert f"alert: {alert}" in names


PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package prometheus)"
)


@needs_promtool
def test_promtool_checks_the_rules():
    """`promtool check rules` accepts deploy/prometheus/alerts.yml."""
    done = subprocess.run([PROMTOOL or "promtool", "check", "rules", str(ALERTS)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_promtool_unit_tests_of_the_alerts():
    """The alerts fire (and stay quiet) as alerts_test.yml says, under `promtool test rules`."""
    done = subprocess.run([PROMTOOL or "promtool", "test", "rules", str(ALERTS_TEST)],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=ALERTS_TEST.parent)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_prometheus_scrapes_the_jobs_the_alerts_name():
    """prometheus.yml passes `promtool check config` and scrapes the jobs the alerts name.

    The ingest unit serves its metrics on the port that the ingest job scrapes.
    """
    config = ALERTS.parent / "prometheus.yml"
    done = subprocess.run([PROMTOOL or "promtool", "check", "config", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = config.read_text()
    for job in ("autoconf", "autoconf-ingest"):
        assert f"job_name: {job}\n" in text
        assert f'job="{job}"' in ALERTS.read_text()
    unit = (ALERTS.parent.parent / "systemd" / "autoconf-ingest.service").read_text()
    assert "--metrics-port 9188" in unit
    assert '"127.0.0.1:9188"' in text

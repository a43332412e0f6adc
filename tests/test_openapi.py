"""schemas/openapi.json: in sync with the models, valid, and obeyed by the live service.

The schemathesis run starts ``autoconf serve`` as a process on a free port, with a store
seeded with a few mailboxes and incidents, and fuzzes every documented operation with an
admin token: no 500, every status documented, every answer inside its schema.
POST .../probe is fuzzed too, safely: no master user is configured, so it answers 409 before
it would contact a server (its 200 shape is checked by tests/test_api.py against Dovecot).
POST .../notice likewise answers 409 (notices are off).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from autoconf import cli
from autoconf.events.sessions import Session
from autoconf.store.base import Incident, ProbeRun
from autoconf.store.sqlite import SQLiteStore
from autoconf.web import api_openapi
from autoconf.web.auth import new_token
from autoconf.web.routes import ROUTES
from tests.conftest import free_port
from tests.test_api import EVIDENCE, NOW, sighting

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schemas" / "openapi.json"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
EXAMPLES = 15  # per operation: the whole run stays well under 40 s

# A live domain check fetches URLs and resolves names of the demo catalog's domains: only
# its refusals (404 for names outside the catalog) would be fuzzed, so it is left out here and
# tested against real DNS, HTTP and TLS servers in test_health_check.py.
schema = schemathesis.openapi.from_dict(api_openapi.document()).exclude(
    operation_id="checkDomainHealth"
)


def test_committed_document_is_current():
    """schemas/openapi.json is what the models give now (run: autoconf openapi -o ...)."""
    assert COMMITTED.read_text(encoding="utf-8") == api_openapi.render()


def test_cli_writes_and_checks_the_document(tmp_path, capsys):
    """`autoconf openapi -o FILE` writes the document; --check fails on a stale file."""
    target = tmp_path / "openapi.json"
    args = ["openapi", "-o", str(target)]
    assert cli.main(args) == 0
    assert json.loads(target.read_text())["openapi"] == "3.1.0"
    assert cli.main([*args, "--check"]) == 0
    target.write_text("{}")
    assert cli.main([*args, "--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert cli.main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == api_openapi.document()


def test_every_api_route_is_documented():
    """Each /api/v1 call of the route table (but the Dovecot events receiver) is described."""
    documented = {(op.method.upper(), op.path) for op in api_openapi.OPERATIONS}
    mine = {(method, path) for method, path, handler, name in ROUTES
            if path.startswith("/api/v1/") and name != "events-dovecot"
            and handler.__module__ in {"autoconf.web.api", "autoconf.web.api_admin",
                                       "autoconf.web.api_incidents", "autoconf.diagnosis.api",
                                       "autoconf.probe.api", "autoconf.health.api"}}  # fmt: skip
    assert mine <= documented
    assert len(mine) == 15


def test_document_shape():
    """Bearer security by default; open health checks; errors share one schema."""
    doc = api_openapi.document()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    reload_ = doc["paths"]["/api/v1/catalog/reload"]["post"]
    assert "admin role" in reload_["description"]
    assert reload_["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"error", "message"}


async def _seed(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    try:
        sessions = [Session(key=f"s{n}", mailbox=f"user{n}@example.org", protocol="pop3",
                            started_at=NOW + n, ended_at=NOW + n + 5, deleted=n, retrieved=n)
                    for n in range(4)]  # fmt: skip
        await store.apply(sessions, [])
        await store.add_sightings([sighting("anna@example.org"), sighting("bob@example.com")])
        for n, code in enumerate(EVIDENCE):
            await store.save_incident(
                Incident(mailbox=f"user{n}@example.org", code=code, severity="critical",
                         opened_at=NOW, updated_at=NOW, cause_at=NOW, evidence=EVIDENCE[code]),
                "opened",
            )  # fmt: skip
        await store.add_probe_run(ProbeRun(mailbox="user1@example.org", probed_at=NOW,
                                           finished_at=NOW + 1, gone=2))  # fmt: skip
    finally:
        await store.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`autoconf serve` on a free port with a seeded store: (base URL, admin auth header)."""
    data = tmp_path_factory.mktemp("live") / "data"
    asyncio.run(_seed(data / "autoconf.sqlite3"))
    token, digest = new_token()
    port = free_port()
    env = {**os.environ, "AUTOCONF_API_TOKENS": json.dumps([f"admin:fuzz:{digest}"]),
           "AUTOCONF_ACCESS_LOG": "false"}  # fmt: skip
    env.pop("AUTOCONF_CONFIG", None)
    cmd = [sys.executable, "-m", "autoconf", "serve", "--demo", "--data-dir", str(data),
           "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"autoconf serve did not come up: {err[-2000:]}")
                time.sleep(0.1)
        yield base, {"Authorization": f"Bearer {token}"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_live_service_obeys_the_document(case, live):
    """Fuzzed calls with an admin token: no 500, documented statuses, answers in schema."""
    base, auth = live
    case.call_and_validate(base_url=base, headers=auth, checks=CHECKS)

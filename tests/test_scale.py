"""Scale-out with real processes: SIGTERM under mixed load, two instances on one PostgreSQL.

Every service and follower here is `python -m autoconf …` in its own process, as an operator
runs it; the tests talk to them over real sockets and look into the store afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from autoconf.catalog.live import LiveCatalog
from autoconf.events.follow import Ingest, Options
from autoconf.store.postgres import PostgresStore
from autoconf.store.sqlite import SQLiteStore
from autoconf.web.auth import new_token
from tests.conftest import ALICE, CATALOG_TOML, free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from autoconf.store.base import Store

pytest_plugins = ["tests.servers.postgres"]

DATA = Path(__file__).parent / "data" / "dovecot"
SECRET = "scale-events-secret-0123"
EVENTS = "/api/v1/events/dovecot"
REF_MAILBOX = "alice@lab.test"  # the reference run's mailbox
NEW_DOMAIN = "new.example"
OK, NO_CONTENT, NOT_FOUND = 200, 204, 404
START_TIMEOUT = 20.0


def _login_event(session: str) -> dict[str, object]:
    """One exported auth_request_finished: a session of its own in the store."""
    return {
        "event": "auth_request_finished",
        "hostname": "mx1",
        "start_time": "2026-11-29T01:34:23.107345Z",
        "end_time": "2026-11-29T01:34:23.107467Z",
        "categories": ["auth"],
        "fields": {
            "success": "yes",
            "mechanism": "PLAIN",
            "transport": "insecure",
            "service": "imap",
            "session": session,
            "local_ip": "127.0.0.1",
            "remote_ip": "127.0.0.9",
            "local_port": 143,
            "remote_port": 40000,
            "user": "alice",
        },
    }


class Serve:
    """`autoconf serve` in a child process, its log in a file."""

    def __init__(self, tmp: Path, name: str, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.log = tmp / f"{name}.log"
        self.data = tmp / name
        env = {
            **os.environ,
            "AUTOCONF_DATA_DIR": str(self.data),
            "AUTOCONF_LOG_FORMAT": "json",
            "AUTOCONF_SIGHTINGS_FLUSH_SECONDS": "0.05",
            **env,
        }
        with self.log.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autoconf", "serve", "--port", str(self.port), *args],
                env=env, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Wait until /healthz answers (fail with the log if the process ends)."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                async with session.get(f"{self.url}/healthz") as resp:
                    if resp.status == OK:
                        return
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, self.log.read_text()
            await asyncio.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


# ------------------------------------------------------------------ SIGTERM under load


async def test_sigterm_mid_load_loses_no_sighting_and_no_event(tmp_path):
    """Two workers, GETs and event POSTs at once, SIGTERM twice: every 2xx is in the store."""
    serve = Serve(
        tmp_path, "serve", ["--demo", "--workers", "2"], {"AUTOCONF_EVENTS_SECRET": SECRET}
    )
    answered_gets = 0
    acked: set[str] = set()
    numbers = itertools.count()
    url = f"{serve.url}/mail/config-v1.1.xml?emailaddress={ALICE}"
    try:
        async with aiohttp.ClientSession() as session:
            await serve.ready(session)

            async def gets() -> None:
                nonlocal answered_gets
                while True:
                    try:
                        async with session.get(url) as resp:
                            await resp.read()
                            answered_gets += resp.status == OK
                    except (TimeoutError, aiohttp.ClientError):
                        return

            async def posts() -> None:
                while True:
                    key = f"sigterm-{next(numbers)}"
                    try:
                        async with session.post(
                            f"{serve.url}{EVENTS}?secret={SECRET}", json=_login_event(key)
                        ) as resp:
                            await resp.read()
                            if resp.status == NO_CONTENT:
                                acked.add(key)
                    except (TimeoutError, aiohttp.ClientError):
                        return

            tasks = [asyncio.create_task(gets()) for _ in range(10)]
            tasks += [asyncio.create_task(posts()) for _ in range(6)]
            await asyncio.sleep(1.5)
            workers = [
                e["pid"]
                for e in _records(serve)
                if e["event"] == "serve.started" and e["worker"] is not None
            ]
            assert len(workers) == 2, workers
            # as systemd's default KillMode does: every process of the group, while the
            # parent forwards its own SIGTERM to the workers as well
            for pid in [serve.proc.pid, *workers]:
                os.kill(pid, signal.SIGTERM)
            await asyncio.wait_for(asyncio.gather(*tasks), 30)
    finally:
        code = await asyncio.to_thread(serve.stop)
    assert code == 0, serve.log.read_text()[-3000:]
    assert answered_gets > 50, serve.log.read_text()[-3000:]
    assert len(acked) > 20, serve.log.read_text()[-3000:]
    with sqlite3.connect(serve.data / "autoconf.sqlite3") as db:
        sightings = db.execute("SELECT sum(requests) FROM sightings").fetchone()[0]
        stored = {row[0] for row in db.execute("SELECT key FROM sessions")}
    problems = [ln for ln in serve.log.read_text().splitlines() if '"level": "info"' not in ln]
    assert sightings >= answered_gets, problems[-20:]
    assert acked <= stored, sorted(acked - stored)[:5]
    assert "serve.stopping" in serve.log.read_text()


# ------------------------------------------------------------- two instances, one database


@pytest.fixture
async def pair(
    tmp_path: Path, postgres_dsn: str
) -> AsyncIterator[tuple[Serve, Serve, str, Path, aiohttp.ClientSession]]:
    """Instances A and B (one with two workers) on one PostgreSQL; a catalog file; a token."""
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(CATALOG_TOML.format(extra="").replace('"shop.example."', '"lab.test"'))
    token, digest = new_token()
    env = {
        "AUTOCONF_DATABASE_URL": postgres_dsn,
        "AUTOCONF_EVENTS_SECRET": SECRET,
        "AUTOCONF_DEFAULT_DOMAIN": "lab.test",
        "AUTOCONF_API_TOKENS": json.dumps([f"admin:ops:{digest}"]),
        "AUTOCONF_CATALOG_POLL_SECONDS": "0.2",
    }
    a = Serve(tmp_path, "a", ["--catalog", str(catalog), "--workers", "2"], env)
    b = Serve(tmp_path, "b", ["--catalog", str(catalog)], env)  # both migrate at once
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            await a.ready(session)
            await b.ready(session)
            yield a, b, token, catalog, session
    finally:
        codes = await asyncio.gather(asyncio.to_thread(a.stop), asyncio.to_thread(b.stop))
        assert codes == [0, 0], a.log.read_text()[-2000:] + b.log.read_text()[-2000:]


async def _json(session: aiohttp.ClientSession, method: str, url: str) -> dict[str, object]:
    async with session.request(method, url) as resp:
        text = await resp.text()
        assert resp.status == OK, f"{method} {url}: {resp.status} {text}"
        data: dict[str, object] = json.loads(text)
        return data


async def _replay(session: aiohttp.ClientSession, base: str) -> None:
    """The reference export of the pop-delete run, one POST per event as Dovecot sends it."""
    with (DATA / "pop-delete.events.jsonl").open(encoding="utf-8") as fh:
        events = [json.loads(line)["event"] for line in fh]
    for event in events:
        async with session.post(f"{base}{EVENTS}?secret={SECRET}", json=event) as resp:
            assert resp.status == NO_CONTENT, await resp.text()


async def _setup_status(session: aiohttp.ClientSession, base: str, email: str) -> int:
    async with session.get(f"{base}/mail/config-v1.1.xml?emailaddress={email}") as resp:
        await resp.read()
        return resp.status


async def test_two_instances_serve_the_same_data(pair):
    """Sightings, events and findings written through one instance are seen through the other."""
    a, b, _token, _catalog, session = pair
    thunderbird = {"User-Agent": "Mozilla/5.0 Thunderbird/128.0"}
    async with session.get(
        f"{a.url}/mail/config-v1.1.xml?emailaddress={REF_MAILBOX}", headers=thunderbird
    ) as resp:
        assert resp.status == OK
    await _replay(session, b.url)  # Dovecot's events reach B

    devices_path = f"/api/v1/mailboxes/{REF_MAILBOX}/devices"
    deadline = time.monotonic() + 10
    while True:  # A's sighting is written within its flush interval
        through_a = await _json(session, "GET", a.url + devices_path)
        clients = {d["client"] for d in through_a["devices"]}  # type: ignore[union-attr]
        if any("thunderbird" in str(c).lower() for c in clients):
            break
        assert time.monotonic() < deadline, through_a
        await asyncio.sleep(0.1)
    through_b = await _json(session, "GET", b.url + devices_path)
    assert _stable(through_a) == _stable(through_b)
    assert any(d["deleted"] for d in through_a["devices"])  # type: ignore[union-attr]

    diagnosis = await _json(session, "GET", f"{a.url}/api/v1/mailboxes/{REF_MAILBOX}/diagnosis")
    assert diagnosis["findings"], diagnosis
    found_a = await _json(session, "GET", f"{a.url}/api/v1/findings")
    found_b = await _json(session, "GET", f"{b.url}/api/v1/findings")
    assert found_b["findings"], found_b
    assert found_a["findings"] == found_b["findings"]
    assert {f["mailbox"] for f in found_b["findings"]} == {REF_MAILBOX}  # type: ignore[union-attr,index]


def _stable(answer: dict[str, object]) -> object:
    """The devices answer without what depends on the moment it was made."""
    devices = answer["devices"]
    assert isinstance(devices, list)
    return [{k: v for k, v in d.items() if "ago" not in k and k != "age"} for d in devices]


async def test_catalog_reload_reaches_every_instance_and_worker(pair):
    """A broken catalog is refused everywhere; a good one reaches A's other worker and B too."""
    a, b, _token, catalog, session = pair
    original = catalog.read_text()
    catalog.write_text(original + "\n[[providers]]\nid = 3\n")
    async with session.post(f"{a.url}/api/v1/catalog/reload") as resp:
        assert 400 <= resp.status < 500, await resp.text()
    deadline = time.monotonic() + 10
    while "catalog.reload_failed" not in _logged(b):  # B polled, read it, refused it
        assert time.monotonic() < deadline, b.log.read_text()[-2000:]
        await asyncio.sleep(0.1)
    email = f"bob@{NEW_DOMAIN}"
    for base in (a.url, b.url):
        assert await _setup_status(session, base, REF_MAILBOX) == OK  # the old one serves
        assert await _setup_status(session, base, email) == NOT_FOUND
    assert "catalog.reloaded" not in _logged(a, b)

    catalog.write_text(original.replace('"lab.test"', f'"lab.test", "{NEW_DOMAIN}"'))
    reloaded = await _json(session, "POST", f"{a.url}/api/v1/catalog/reload")
    assert (reloaded["domains"], reloaded["generation"]) == (5, 2), reloaded  # 4 + 1 alias
    deadline = time.monotonic() + 10
    while (count := _logged(a, b).count("catalog.reloaded")) < 3:
        assert time.monotonic() < deadline, f"{count} of 3 processes reloaded"
        await asyncio.sleep(0.1)
    fresh = aiohttp.TCPConnector(force_close=True)  # a new connection, so any worker answers
    async with aiohttp.ClientSession(connector=fresh) as each:
        statuses = [await _setup_status(each, s.url, email) for s in (a, b) for _ in range(8)]
    assert set(statuses) == {OK}
    assert _logged(a, b).count("catalog.reloaded") == 3  # A's two workers and B, once each


def _records(*services: Serve) -> list[dict[str, object]]:
    """The log records the services have written so far."""
    lines = "".join(s.log.read_text() for s in services).splitlines()
    return [json.loads(ln) for ln in lines if ln.startswith("{") and ln.endswith("}")]


def _logged(*services: Serve) -> list[object]:
    """The event names the services have logged so far."""
    return [record["event"] for record in _records(*services)]


# ---------------------------------------------------------------- two ingest followers


def _follower(path: Path, dsn: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AUTOCONF_DATABASE_URL": dsn, "AUTOCONF_DEFAULT_DOMAIN": "lab.test",
           "AUTOCONF_LOG_FORMAT": "json"}  # fmt: skip
    with path.with_suffix(".err").open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "autoconf", "ingest", "--follow", str(path), "--json"],
            env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip


def _pieces(name: str, parts: int) -> list[bytes]:
    lines = (DATA / name).read_bytes().splitlines(keepends=True)
    size = len(lines) // parts + 1
    return [b"".join(lines[i : i + size]) for i in range(0, len(lines), size)]


async def _rows(store: Store) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    sessions = sorted(
        dataclasses.astuple(s) for s in await store.sessions(REF_MAILBOX, limit=10**5)
    )
    mail = sorted(
        (dataclasses.astuple(m) for m in await store.mail_events(REF_MAILBOX, limit=10**5)),
        key=repr,
    )
    return sessions, mail


async def _settled(store: Store, want: Callable[[object], bool], logs: list[Path]) -> None:
    deadline = time.monotonic() + 30
    while not want(rows := await _rows(store)):
        if time.monotonic() > deadline:
            tails = "\n".join(p.read_text()[-1500:] for p in logs if p.exists())
            pytest.fail(f"the followers did not catch up: {len(rows[0])} sessions\n{tails}")
        await asyncio.sleep(0.1)


async def test_two_followers_on_two_logs_never_double_count(tmp_path, postgres_dsn):
    """Two `ingest --follow` on two hosts' logs, one restarted midway: the store holds each once."""
    logs = {"mx1.log": "pop-delete.log", "mx2.log": "imap-only.log"}
    reference = SQLiteStore(tmp_path / "reference.sqlite3")
    await reference.open()
    try:
        for name in logs.values():
            options = Options(year=2026, zone=UTC, default_domain="lab.test")
            await Ingest(reference, options).file(DATA / name)
        expected = await _rows(reference)
    finally:
        await reference.close()

    pieces = {mine: _pieces(ref, 3) for mine, ref in logs.items()}
    paths = {mine: tmp_path / mine for mine in logs}
    for mine, path in paths.items():
        path.write_bytes(pieces[mine][0])
    followers = {mine: _follower(path, postgres_dsn) for mine, path in paths.items()}
    store = PostgresStore(postgres_dsn)
    await store.open()
    try:
        errs = [path.with_suffix(".err") for path in paths.values()]
        await _settled(store, lambda rows: bool(rows[0]), errs)
        for mine, path in paths.items():
            with path.open("ab") as fh:
                fh.write(pieces[mine][1])
        await asyncio.sleep(0.5)
        first = followers["mx1.log"]  # restarted: it continues at its checkpoint
        first.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(first.wait, 20)
        assert code == 0, (tmp_path / "mx1.err").read_text()[-3000:]
        for mine, path in paths.items():
            with path.open("ab") as fh:
                fh.write(pieces[mine][2])
        followers["mx1.log"] = _follower(paths["mx1.log"], postgres_dsn)
        await _settled(store, lambda rows: len(rows[0]) >= len(expected[0]), errs)
        await asyncio.sleep(0.5)  # anything counted twice would arrive now
        got = await _rows(store)
    finally:
        for proc in followers.values():
            proc.send_signal(signal.SIGTERM)
        codes = [await asyncio.to_thread(p.wait, 20) for p in followers.values()]
        await store.close()
    assert codes == [0, 0]
    assert got[0] == expected[0]
    assert got[1] == expected[1]


# ---------------------------------------------------------------- the catalog poll itself


async def test_poll_reloads_changed_content_only(catalog_file):
    """Touching or rewriting the same bytes reloads nothing; new content reloads once."""
    path = catalog_file()
    live = LiveCatalog(path)
    reloads: list[int] = []
    task = asyncio.create_task(live.poll(0.02, lambda: reloads.append(len(live.reload()))))
    try:
        os.utime(path, (time.time() + 5, time.time() + 5))
        path.write_text(path.read_text())
        await asyncio.sleep(0.2)
        assert reloads == []
        path.write_text(path.read_text().replace('"shop.example."', '"shop.example", "x.test"'))
        for _ in range(100):
            if reloads:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        assert reloads == [0]  # one reload, no errors
        assert live.current.account_for_domain("x.test").domain == "x.test"
    finally:
        task.cancel()

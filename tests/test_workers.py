"""serve --workers: pre-forked processes on one port; SIGTERM under load loses nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import aiohttp

from tests.conftest import ALICE, free_port, start_serve


async def test_sigterm_under_load_loses_nothing(tmp_path):
    """Every request answered 200 before SIGTERM has its sighting and its log line."""
    port = free_port()
    log = tmp_path / "serve.log"
    proc = start_serve(tmp_path / "data", "--demo", "--port", str(port), "--workers", "2", log=log)
    url = f"http://127.0.0.1:{port}/mail/config-v1.1.xml?emailaddress={ALICE}"
    ok = 0
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        break
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)

        async def hammer() -> None:
            nonlocal ok
            while True:
                try:
                    async with session.get(url) as resp:
                        await resp.read()
                        if resp.status == 200:
                            ok += 1
                except (TimeoutError, aiohttp.ClientError):
                    return

        tasks = [asyncio.create_task(hammer()) for _ in range(16)]
        await asyncio.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
    assert await asyncio.to_thread(proc.wait, 20) == 0
    assert ok > 100
    with sqlite3.connect(tmp_path / "data" / "autoconf.sqlite3") as conn:
        recorded = conn.execute("SELECT sum(requests) FROM sightings").fetchone()[0]
    assert recorded == ok
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert sum(e["event"] == "http.request" and e["status"] == 200 for e in events) >= ok
    workers = {e["pid"] for e in events if e["event"] == "serve.started"}
    assert len(workers) == 2
    assert not (tmp_path / "data" / "autoconf.pid").exists()


def test_workers_need_a_fixed_port(tmp_path):
    """--workers with port 0 is refused with a sentence."""
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "autoconf", "serve", "--demo", "--port", "0", "--workers", "2"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "several workers need a fixed port" in done.stderr


def test_reload_reaches_every_worker(tmp_path, catalog_file):
    """`autoconf reload` makes each worker load the new catalog."""
    path = catalog_file()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data")}  # for `autoconf reload`
    proc = start_serve(tmp_path / "data", "--catalog", str(path), "--port", str(port),
                       "--workers", "3", log=log)  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while log.read_text().count('"serve.started"') < 3:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        done = subprocess.run(
            [sys.executable, "-m", "autoconf", "reload", "--catalog", str(path)],
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        while log.read_text().count('"catalog.reloaded"') < 3:
            assert time.monotonic() < deadline + 10, log.read_text()
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


async def test_page_sign_in_holds_on_every_worker(tmp_path):
    """Without session_secret, the workers still share one key: a signed-in agent stays in."""
    from tests.test_pages import AGENT, CSRF, PASSWORD  # noqa: PLC0415 - reuse the page fixtures

    port = free_port()
    proc = start_serve(tmp_path / "data", "--demo", "--port", str(port), "--workers", "2",
                       env={"AUTOCONF_PAGE_USERS": json.dumps([AGENT])})  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # a new connection per request: the kernel spreads them over both workers
        connector = aiohttp.TCPConnector(force_close=True)
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 too
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/readyz") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
            async with session.get(f"{base}/login") as form:
                token = CSRF.search(await form.text())
            assert token is not None
            data = {"csrf": token.group(1), "name": "anna", "password": PASSWORD,
                    "next": "/support/"}  # fmt: skip
            async with session.post(f"{base}/login", data=data, allow_redirects=False) as resp:
                assert resp.status == 303
            statuses = []
            for _ in range(40):
                async with session.get(f"{base}/support/", allow_redirects=False) as resp:
                    statuses.append(resp.status)
            assert statuses == [200] * 40
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 20)

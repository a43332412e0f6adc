"""The autoconf command as an operator runs it: serve, reload, sightings, dns-records."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ALICE, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `autoconf ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "autoconf", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )


def get(url: str) -> tuple[int, bytes]:
    """Status and body of a GET, errors included."""
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Service:
    """`autoconf serve` in a child process, as the README starts it."""

    def __init__(self, args: list[str], data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.log = log
        env = {**os.environ, "AUTOCONF_DATA_DIR": str(data_dir), "AUTOCONF_LOG_FORMAT": "json"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autoconf", "serve", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            env=env,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if get(self.url("/healthz"))[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"service did not start: {log.read_text()}")
            time.sleep(0.1)

    def url(self, path: str) -> str:
        """The URL of a path on this service."""
        return f"http://127.0.0.1:{self.port}{path}"

    def events(self) -> list[dict[str, object]]:
        """The JSON log lines written so far."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> int:
        """SIGTERM, then the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Service]]:
    """Start services; every one still running is stopped at the end."""
    started: list[Service] = []

    def start(*args: str) -> Service:
        service = Service(list(args), tmp_path / "data", tmp_path / f"serve{len(started)}.log")
        started.append(service)
        return service

    yield start  # type: ignore[misc]
    for service in started:
        if service.proc.poll() is None:
            service.proc.kill()
            service.proc.wait()


def test_quick_start_demo(serve, tmp_path):
    """`autoconf serve --demo` answers alice@example.com and keeps her sightings after SIGTERM."""
    service = serve("--demo")
    status, body = get(service.url(f"/mail/config-v1.1.xml?emailaddress={ALICE}"))
    assert status == 200
    assert b"imap.example.com" in body
    assert service.stop() == 0
    assert (tmp_path / "data" / "autoconf.sqlite3").exists()
    assert not (tmp_path / "data" / "autoconf.pid").exists()
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data")}
    listed = run("sightings", ALICE, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["endpoint"] == "autoconfig"
    assert row["requests"] == 1
    assert row["ip"] == "127.0.0.1"
    human = run("sightings", ALICE, env=env)
    assert "autoconfig" in human.stdout
    events = [e["event"] for e in service.events()]
    assert events[0] == "serve.started"
    assert "http.request" in events


def test_reload_picks_up_new_domain(serve, catalog_file, tmp_path):
    """After editing the catalog, `autoconf reload` makes the running service serve it."""
    path = catalog_file()
    service = serve("--catalog", str(path))
    assert get(service.url("/v1.1/new.example"))[0] == 404
    path.write_text(path.read_text().replace('"shop.example."', '"shop.example", "new.example"'))
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data")}
    result = run("reload", "--catalog", str(path), env=env)
    assert result.returncode == 0, result.stderr
    assert "asked the service" in result.stdout
    deadline = time.monotonic() + 10
    while get(service.url("/v1.1/new.example"))[0] != 200:
        assert time.monotonic() < deadline, "reload did not take effect"
        time.sleep(0.1)
    metrics = get(service.url("/metrics"))[1].decode()
    assert 'autoconf_catalog_reloads_total{result="ok"} 1.0' in metrics


def test_broken_catalog_on_reload_keeps_old(serve, catalog_file, tmp_path):
    """A broken file: `reload` exits 2 with the reasons; SIGHUP logs them and keeps serving."""
    path = catalog_file()
    service = serve("--catalog", str(path))
    path.write_text(path.read_text().replace("port = 993", "port = 0"))
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "data")}
    result = run("reload", "--catalog", str(path), env=env)
    assert result.returncode == 2
    assert f"{path}: providers[0].servers[0].port: Input should be greater than or equal to 1" in (
        result.stderr
    )
    service.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not any(e["event"] == "catalog.reload_failed" for e in service.events()):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    failed = next(e for e in service.events() if e["event"] == "catalog.reload_failed")
    assert any("servers[0].port" in line for line in failed["errors"])  # type: ignore[union-attr]
    assert get(service.url("/v1.1/example.org"))[0] == 200


def test_reload_without_service(tmp_path):
    """`reload` with no service running says so and exits 1."""
    env = {**os.environ, "AUTOCONF_DATA_DIR": str(tmp_path / "nothing")}
    result = run("reload", "--demo", env=env)
    assert result.returncode == 1
    assert "no running service" in result.stderr


def test_serve_without_catalog_exits_2(tmp_path):
    """Without --catalog or --demo, serve names the options and exits 2."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONF_")}
    env["AUTOCONF_DATA_DIR"] = str(tmp_path)
    result = run("serve", env=env)
    assert result.returncode == 2
    assert "--catalog FILE" in result.stderr


def test_bad_setting_exits_2(tmp_path):
    """A bad AUTOCONF_* variable is one line naming the variable; exit 2."""
    env = {**os.environ, "AUTOCONF_PORT": "eighty", "AUTOCONF_DATA_DIR": str(tmp_path)}
    result = run("serve", "--demo", env=env)
    assert result.returncode == 2
    assert "AUTOCONF_PORT: Input should be a valid integer" in result.stderr


def test_settings_file(tmp_path):
    """A settings file is read; an unknown key in it is reported with the file name."""
    config = tmp_path / "autoconf.toml"
    config.write_text('public_host = "autoconfig.provider.example"\nlisten = 1\n')
    result = run("--config", str(config), "dns-records", "--demo", "example.com")
    assert result.returncode == 2
    assert f"{config}: listen: Extra inputs are not permitted" in result.stderr
    config.write_text('public_host = "autoconfig.provider.example"\n')
    result = run("--config", str(config), "dns-records", "--demo", "example.com")
    assert result.returncode == 0
    assert "autoconfig.example.com.\t3600\tIN\tCNAME\tautoconfig.provider.example." in result.stdout


def test_dns_records():
    """dns-records prints RFC 6186/8314 SRV lines, IMAP preferred, and the Autodiscover SRV."""
    result = run("dns-records", "--demo", "Example.COM.")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "_imaps._tcp.example.com.\t3600\tIN\tSRV\t0 1 993 imap.example.com." in lines
    assert "_imap._tcp.example.com.\t3600\tIN\tSRV\t10 1 143 imap.example.com." in lines
    assert "_pop3s._tcp.example.com.\t3600\tIN\tSRV\t20 1 995 pop.example.com." in lines
    assert "_pop3._tcp.example.com.\t3600\tIN\tSRV\t0 0 0 ." in lines
    assert "_submissions._tcp.example.com.\t3600\tIN\tSRV\t0 1 465 smtp.example.com." in lines
    assert "_submission._tcp.example.com.\t3600\tIN\tSRV\t10 1 587 smtp.example.com." in lines
    assert "_autodiscover._tcp.example.com.\t3600\tIN\tSRV\t0 1 443 autodiscover.example.com." in (
        lines
    )


def test_dns_records_unhosted():
    """dns-records for a domain nobody hosts exits 1 with a sentence."""
    result = run("dns-records", "--demo", "unhosted.test")
    assert result.returncode == 1
    assert "No mail settings" in result.stderr


def test_readme_lists_every_setting():
    """The README's settings table names every setting there is."""
    from pathlib import Path  # noqa: PLC0415

    from autoconf.config import Settings  # noqa: PLC0415

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"| `{name}` |" not in readme]
    assert missing == []

"""`autoconf probe` as an operator runs it, against the real Dovecot; and the probe API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from autoconf.web.auth import new_token

if TYPE_CHECKING:
    from pathlib import Path

    from tests.servers.probe_dovecot import ProbeDovecot

pytest_plugins = ["tests.servers.probe_dovecot"]

CATALOG = """
[[providers]]
id = "example.com"
name = "Example Mail"
domains = ["example.com"]

[[providers.servers]]
protocol = "imap"
host = "localhost"
port = {imap}
socket = "STARTTLS"

[[providers.servers]]
protocol = "imap"
host = "localhost"
port = {imaps}
socket = "SSL"

[[providers.servers]]
protocol = "pop3"
host = "localhost"
port = {pop3s}
socket = "SSL"

[[providers.servers]]
protocol = "smtp"
host = "localhost"
port = 587
socket = "STARTTLS"
"""


def catalog(dovecot: ProbeDovecot, folder: Path) -> Path:
    """A catalog whose provider's servers are the test Dovecot."""
    path = folder / "catalog.toml"
    ports = dovecot.ports
    path.write_text(CATALOG.format(imap=ports.imap, imaps=ports.imaps, pop3s=ports.pop3s))
    return path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`autoconf ARGS` with stdin closed (no terminal: no prompt)."""
    return subprocess.run(
        [sys.executable, "-m", "autoconf", *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def master_env(dovecot: ProbeDovecot, folder: Path) -> dict[str, str]:
    """Settings for the master user, as environment variables."""
    secret = folder / "master.pw"
    secret.write_text(dovecot.master[1] + "\n")
    return {
        "AUTOCONF_PROBE_MASTER_USER": dovecot.master[0],
        "AUTOCONF_PROBE_MASTER_PASSWORD_FILE": str(secret),
        "AUTOCONF_PROBE_CA_FILE": str(dovecot.cert),
    }


def test_probe_json_with_password_file(probe_dovecot, tmp_path):
    """--json lists each server (TLS, certificate, methods, login) and the snapshot."""
    address, password = probe_dovecot.fresh_user()
    probe_dovecot.deliver(address, b"Subject: hi\r\nMessage-ID: <cli-1@example.org>\r\n\r\nhi\r\n")
    pw = tmp_path / "pw"
    pw.write_text(password + "\n")
    common = ["--catalog", str(catalog(probe_dovecot, tmp_path)), "--data-dir", str(tmp_path)]
    args = ["probe", address, "--json", "--password-file", str(pw), "--ca-file"]
    done = run(*args, str(probe_dovecot.cert), *common)
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["mailbox"] == address
    assert [(s["protocol"], s["tls"]["mode"]) for s in data["servers"]] == [
        ("imap", "starttls"),
        ("imap", "ssl"),
        ("pop3", "ssl"),
    ]
    for server in data["servers"]:
        assert server["login"] == "ok"
        assert server["host"] == "localhost"
        assert server["certificate"]["names"] == ["localhost", "127.0.0.1"]
        assert server["mechanisms"]["after_tls"] == ["LOGIN", "PLAIN"]
        assert all(
            {"code", "severity", "step", "message", "advice"} <= f.keys()
            for f in server["findings"]
        )
    snapshot = data["snapshot"]
    assert snapshot["messages"] == 1
    assert snapshot["gone"] == []
    assert snapshot["moved"] == []
    assert snapshot["method"] == "first"

    again = run(*args, str(probe_dovecot.cert), *common)
    assert json.loads(again.stdout)["snapshot"]["method"] == "unchanged"  # stored, then reused


def test_probe_text_with_explicit_server(probe_dovecot, tmp_path):
    """--imap HOST:PORT --tls ssl needs no catalog; the text output names TLS and login."""
    address, password = probe_dovecot.fresh_user()
    pw = tmp_path / "pw"
    pw.write_text(password)
    done = run(
        "probe", address, "--imap", f"127.0.0.1:{probe_dovecot.ports.imaps}", "--tls", "ssl",
        "--ca-file", str(probe_dovecot.cert), "--password-file", str(pw),
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"IMAP 127.0.0.1:{probe_dovecot.ports.imaps} (ssl)  TLSv1.3" in done.stdout
    assert "login ok" in done.stdout
    assert "INBOX snapshot from" in done.stdout


def test_probe_without_password_source_fails(probe_dovecot, tmp_path):
    """No password file, no master user, no terminal: a sentence and exit 1."""
    done = run(
        "probe", "someone@example.com", "--imap", f"127.0.0.1:{probe_dovecot.ports.imaps}",
        "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1
    assert "No password" in done.stderr


def test_probe_bad_certificate_exits_1(probe_dovecot, tmp_path):
    """Without the test CA the certificate does not verify: exit 1 and the sentence."""
    address, password = probe_dovecot.fresh_user()
    pw = tmp_path / "pw"
    pw.write_text(password)
    done = run(
        "probe", address, "--imap", f"localhost:{probe_dovecot.ports.imaps}",
        "--password-file", str(pw), "--data-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1
    assert "presented a certificate that does not verify" in done.stdout


def test_probe_from_file(probe_dovecot, tmp_path):
    """--from probes each listed mailbox as the master user and prints a summary."""
    users = [probe_dovecot.fresh_user()[0] for _ in range(3)]
    listing = tmp_path / "mailboxes.txt"
    listing.write_text("# mailboxes to check\n" + "\n".join(users) + "\n\n")
    env = master_env(probe_dovecot, tmp_path)
    common = ["--catalog", str(catalog(probe_dovecot, tmp_path)), "--data-dir", str(tmp_path)]
    done = run("probe", "--from", str(listing), *common, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "probed 3 mailbox(es)" in done.stdout
    assert "3 ok, 0 with errors" in done.stdout
    assert probe_dovecot.master[1] not in done.stdout + done.stderr

    as_json = run("probe", "--from", str(listing), "--json", *common, env=env)
    data = json.loads(as_json.stdout)
    assert data["summary"]["mailboxes"] == 3
    assert [r["mailbox"] for r in data["results"]] == users
    assert {r["snapshot"]["method"] for r in data["results"]} == {"unchanged"}


def test_probe_usage_errors(tmp_path):
    """Neither an address nor --from (or both): exit 2."""
    assert run("probe", "--data-dir", str(tmp_path)).returncode == 2
    both = run("probe", "a@example.com", "--from", "x", "--data-dir", str(tmp_path))
    assert both.returncode == 2


async def test_probe_api(service, probe_dovecot, tmp_path):
    """POST /api/v1/mailboxes/<email>/probe needs a token and answers the result JSON."""
    address, _ = probe_dovecot.fresh_user()
    probe_dovecot.deliver(address, b"Subject: api\r\nMessage-ID: <api-1@example.org>\r\n\r\nx\r\n")
    token, digest = new_token()
    env = master_env(probe_dovecot, tmp_path)
    client = await service(
        catalog(probe_dovecot, tmp_path),
        api_tokens=(digest,),
        probe_master_user=env["AUTOCONF_PROBE_MASTER_USER"],
        probe_master_password_file=tmp_path / "master.pw",
        probe_ca_file=probe_dovecot.cert,
    )
    url = f"/api/v1/mailboxes/{address}/probe"
    assert (await client.post(url)).status == 401
    resp = await client.post(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert [s["login"] for s in data["servers"]] == ["ok", "ok", "ok"]
    assert data["snapshot"]["messages"] == 1
    assert data["snapshot"]["gone"] == []


async def test_probe_api_without_master_user(service, probe_dovecot, tmp_path):
    """Without a master user the API says so (409) instead of probing."""
    token, digest = new_token()
    client = await service(catalog(probe_dovecot, tmp_path), api_tokens=(digest,))
    resp = await client.post(
        "/api/v1/mailboxes/user0001@example.com/probe",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 409
    assert "probe_master_user" in (await resp.json())["message"]

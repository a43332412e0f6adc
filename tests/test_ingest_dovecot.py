"""End to end: real clients against a real Dovecot, its log ingested, the devices listed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.test_dovecot_log import FETCHMAIL_IP, IPHONE_IP, POPLIB_IP, _run_clients
from tests.test_ingest import cli

if TYPE_CHECKING:
    from pathlib import Path

    from tests.servers.dovecot import DovecotServer

pytest_plugins = ["tests.servers.dovecot"]


def test_devices_from_a_real_dovecot_log(dovecot: DovecotServer, tmp_path: Path) -> None:
    """The iPhone, the deleting poplib client and fetchmail each show up as their own device."""
    _run_clients(dovecot, tmp_path, "devices")
    dovecot.wait_for_log(
        lambda lines: sum("pop3(" in line and "del=" in line for line in lines) >= 2
    )
    log = dovecot.base / "log" / "dovecot.log"
    done = cli("ingest", str(log), "--json", data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["skipped"].get("unknown", 0) == 0
    shown = cli("devices", "alice@example.com", "--json", data_dir=tmp_path / "data")
    assert shown.returncode == 0, shown.stderr
    found = {(d["protocol"], d["network"]): d for d in json.loads(shown.stdout)}
    iphone = found["imap", IPHONE_IP]
    assert iphone["client"] == "iPhone Mail 21A329 (iOS 17.0)"
    assert iphone["behaviour"] == "reads mail over IMAP"
    poplib = found["pop3", POPLIB_IP]
    assert poplib["behaviour"] == "deletes after download"
    assert poplib["deleted"] >= 3
    assert "RETR" in poplib["pop3_commands"]
    fetchmail = found["pop3", FETCHMAIL_IP]
    assert fetchmail["behaviour"] == "deletes after download"
    assert "TLS" in fetchmail["client"]

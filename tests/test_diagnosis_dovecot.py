"""End to end: real clients, a Dovecot of this module's own, ingest, diagnose, the notice.

The log is ingested, ``autoconf diagnose`` run, and the notice mail read back over IMAP.
"""

from __future__ import annotations

import email
import imaplib
import json
import shutil
import tempfile
import time
from email import policy
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.clients import SourceIMAP, fetchmail, message
from tests.test_dovecot_log import IPHONE_ID, IPHONE_IP
from tests.test_ingest import cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.servers.dovecot import DovecotServer

pytest_plugins = ["tests.servers.dovecot"]

# One user per scenario, so the scenarios' sessions never mix.
USERS = {
    "alice@example.com": "alice-pw-1",  # (a) iPhone + fetchmail deleting
    "bob@example.com": "bob-pw-2",  # (b) iPhone + fetchmail keeping
    "carol@example.com": "carol-pw-3",  # (c) IMAP only
    "dave@example.com": "dave-pw-4",  # (d) fetchmail alone
}
OTHER_IMAP_IP = "127.0.0.4"
SENDER = "postmaster@example.com"


@pytest.fixture(scope="module")
def server() -> Iterator[DovecotServer]:
    """A Dovecot with stock logging used only by this module."""
    from tests.servers.dovecot import DOVECOT, NOT_INSTALLED, DovecotServer  # noqa: PLC0415

    if not Path(DOVECOT).exists():
        pytest.fail(NOT_INSTALLED)
    base = Path(tempfile.mkdtemp(prefix="autoconf-dovecot-diagnosis-"))
    instance = DovecotServer(base, rich=False)
    instance.users = dict(USERS)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(base, ignore_errors=True)


def iphone(server: DovecotServer, user: str, source: str = IPHONE_IP, *, ident: bool = True) -> int:
    """An IMAP client that names itself as iPhone Mail, reads the INBOX and logs out."""
    imap = SourceIMAP(server.host, server.ports.imap, source)
    try:
        if ident:
            typ, _ = imap.xatom("ID", IPHONE_ID)
            assert typ == "OK"
        imap.login(user, USERS[user])
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", "ALL")
        assert typ == "OK"
        return len(data[0].split())
    finally:
        imap.logout()


def run_fetchmail(server: DovecotServer, home: Path, user: str, *, keep: bool) -> str:
    """Debian's fetchmail over POP3S: deleting after download (default) or --keep."""
    return fetchmail(server, home, user, USERS[user], keep=keep)


def pop3_logouts(server: DovecotServer, user: str, count: int) -> None:
    """Wait until the log holds ``count`` POP3 logouts of ``user``."""
    local = user.split("@", maxsplit=1)[0]
    server.wait_for_log(
        lambda lines: sum(f"pop3({local})" in ln and "del=" in ln for ln in lines) >= count
    )


def imap_logouts(server: DovecotServer, user: str, count: int) -> None:
    """Wait until the log holds ``count`` IMAP logouts of ``user``."""
    local = user.split("@", maxsplit=1)[0]
    server.wait_for_log(
        lambda lines: sum(f"imap({local})" in ln and "Logged out" in ln for ln in lines) >= count
    )


def diagnose(server: DovecotServer, data: Path, user: str, *args: str) -> dict[str, object]:
    """Ingest the whole log into ``data`` and diagnose ``user`` as JSON."""
    done = cli("ingest", str(server.log_path), data_dir=data)
    assert done.returncode == 0, done.stderr
    shown = cli("diagnose", user, "--json", *args, data_dir=data)
    assert shown.returncode == 0, shown.stderr
    answer: dict[str, object] = json.loads(shown.stdout)
    return answer


def by_code(answer: dict[str, object]) -> dict[str, dict[str, object]]:
    """The answer's findings by code."""
    findings = answer["findings"]
    assert isinstance(findings, list)
    return {f["code"]: f for f in findings}


def notices(server: DovecotServer, user: str) -> list[email.message.EmailMessage]:
    """The notice mails in the user's INBOX, read over IMAP."""
    imap = imaplib.IMAP4(server.host, server.ports.imap, timeout=10)
    try:
        imap.login(user, USERS[user])
        imap.select("INBOX", readonly=True)
        typ, data = imap.uid("SEARCH", "HEADER", "X-Autoconf-Notice", '""')
        assert typ == "OK"
        found = []
        for uid in data[0].split():
            typ, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            assert typ == "OK"
            raw = parts[0][1]
            found.append(email.message_from_bytes(raw, policy=policy.default))
        return found  # type: ignore[return-value]
    finally:
        imap.logout()


def test_a_iphone_and_deleting_fetchmail_is_critical_and_the_user_gets_a_notice(
    server: DovecotServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """iPhone over IMAP + fetchmail deleting: critical, 5 removed, 2 never seen; one notice."""
    user = "alice@example.com"
    for number in (1, 2, 3):
        server.deliver(user, message(number, "diag-a1", user))
    assert iphone(server, user) == 3
    imap_logouts(server, user, 1)
    time.sleep(1.1)  # stock log stamps have whole seconds: the next mail arrives after
    for number in (1, 2):
        server.deliver(user, message(number, "diag-a2", user))
    fetched = run_fetchmail(server, tmp_path / "fm", user, keep=False)
    assert fetched.count("Message-ID: <diag-a") == 5
    pop3_logouts(server, user, 1)

    monkeypatch.setenv("AUTOCONF_NOTICE_TRANSPORT", "lmtp")
    monkeypatch.setenv("AUTOCONF_NOTICE_HOST", server.host)
    monkeypatch.setenv("AUTOCONF_NOTICE_PORT", str(server.ports.lmtp))
    monkeypatch.setenv("AUTOCONF_NOTICE_SENDER", SENDER)
    answer = diagnose(server, tmp_path / "data", user, "--lang", "de")
    finding = by_code(answer)["pop-delete-multi-device"]
    assert finding["severity"] == "critical"
    evidence = finding["evidence"]
    assert isinstance(evidence, dict)
    assert evidence["removed"] == 5
    assert evidence["unseen"] == 2  # the two that arrived after the iPhone's session
    assert evidence["mode"] == "on-download"
    assert "POP3 client" in evidence["deleting_device"]
    assert "iPhone Mail" in evidence["other_devices"]
    assert "Gerät" in str(finding["title"]) or "POP3" in str(finding["title"])
    assert "iPhone Mail" in str(finding["explanation"])
    assert len(answer["notices_sent"]) == 1  # type: ignore[arg-type]

    found = notices(server, user)
    assert len(found) == 1
    notice = found[0]
    assert notice["Auto-Submitted"] == "auto-generated"
    assert notice["Message-ID"] == answer["notices_sent"][0]  # type: ignore[index]
    assert notice["From"] == SENDER
    text = notice.get_body(preferencelist=("plain",))
    html = notice.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "IMAP" in text.get_content()
    assert "Thunderbird" in text.get_content()
    assert "<li>" in html.get_content()

    again = diagnose(server, tmp_path / "data", user)
    assert again["notices_sent"] == []
    assert len(notices(server, user)) == 1  # never repeated


def test_b_fetchmail_keeping_is_no_critical(server: DovecotServer, tmp_path: Path) -> None:
    """iPhone over IMAP + fetchmail --keep: pop-keep info, nothing critical."""
    user = "bob@example.com"
    for number in (1, 2, 3):
        server.deliver(user, message(number, "diag-b", user))
    assert iphone(server, user) == 3
    run_fetchmail(server, tmp_path / "fm", user, keep=True)
    pop3_logouts(server, user, 1)
    imap_logouts(server, user, 1)
    answer = diagnose(server, tmp_path / "data", user)
    found = by_code(answer)
    assert all(f["severity"] != "critical" for f in found.values())
    assert "pop-delete-multi-device" not in found
    assert found["pop-keep"]["severity"] == "info"


def test_c_imap_only_has_no_finding_but_the_healthy_line(
    server: DovecotServer, tmp_path: Path
) -> None:
    """Two IMAP clients only: no finding, and the line that says all is well."""
    user = "carol@example.com"
    for number in (1, 2):
        server.deliver(user, message(number, "diag-c", user))
    assert iphone(server, user) == 2
    assert iphone(server, user, OTHER_IMAP_IP, ident=False) == 2
    imap_logouts(server, user, 2)
    answer = diagnose(server, tmp_path / "data", user, "--lang", "fr")
    assert answer["findings"] == []
    assert "IMAP" in str(answer["healthy"])
    assert len(answer["devices"]) == 2  # type: ignore[arg-type]


def test_d_fetchmail_alone_is_single_device_info(server: DovecotServer, tmp_path: Path) -> None:
    """fetchmail deleting on a mailbox nobody else uses: pop-delete-single-device, info."""
    user = "dave@example.com"
    for number in (1, 2):
        server.deliver(user, message(number, "diag-d", user))
    run_fetchmail(server, tmp_path / "fm", user, keep=False)
    pop3_logouts(server, user, 1)
    answer = diagnose(server, tmp_path / "data", user, "--lang", "it")
    found = by_code(answer)
    assert set(found) == {"pop-delete-single-device"}
    assert found["pop-delete-single-device"]["severity"] == "info"
    assert found["pop-delete-single-device"]["evidence"]["removed"] == 2  # type: ignore[index]

"""Probe runs: stored per probe (both stores), turned into probe facts, and (e) end to end.

(e) is the probe-only path of ``pop-delete-multi-device``: a Dovecot of this module's own with
the last_login plugin, probed before and after an iPhone-like IMAP session and a deleting
fetchmail, then ``autoconf diagnose --json`` with no log ingested.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from autoconf.diagnosis import rules
from autoconf.diagnosis.service import probe_facts
from autoconf.probe import Credentials, Target
from autoconf.probe.connect import Endpoint, TlsMode
from autoconf.probe.mailbox import last_login_file, probe_and_store
from autoconf.store.base import MAX_GONE_IDS, ProbeRun
from autoconf.store.sqlite import SQLiteStore
from tests.clients import SourceIMAP, fetchmail
from tests.test_dovecot_log import IPHONE_ID, IPHONE_IP
from tests.test_ingest import cli

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.servers.probe_dovecot import ProbeDovecot

pytest_plugins = ["tests.servers.postgres"]

NOW = 1_800_000_000.0
BOX = "alice@example.com"


def run(at: float, **kw: object) -> ProbeRun:
    """A probe run at ``at`` that took one second."""
    return ProbeRun(mailbox=kw.pop("mailbox", BOX), probed_at=at, finished_at=at + 1, **kw)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the stores


async def test_probe_runs_round_trip(store):
    """Runs come back oldest first, from ``since`` on, per mailbox, with their JSON."""
    assert await store.probe_runs(BOX) == []
    gone = [{"uid": 4, "message_id": "<a@x>"}, {"uid": 9, "message_id": None}]
    facts = {"servers": [{"server": "imap.example.com:993", "tls": "TLSv1.3"}],
             "last_login": {"pop3": NOW - 5.0}}  # fmt: skip
    second = run(NOW, previous_at=NOW - 3600, method="qresync", gone=2, gone_unseen=1,
                 gone_ids=gone, moved=1, new=3, facts=facts)  # fmt: skip
    await store.add_probe_run(second)
    await store.add_probe_run(run(NOW - 3600, method="first"))
    await store.add_probe_run(run(NOW, mailbox="bob@example.com"))
    assert await store.probe_runs(BOX) == [run(NOW - 3600, method="first"), second]
    assert await store.probe_runs(BOX, since=NOW - 60) == [second]
    assert await store.probe_runs(BOX, limit=1) == [second]


async def test_probe_runs_gone_list_is_bounded(store):
    """At most MAX_GONE_IDS gone messages are kept per run; the count stays whole."""
    gone = [{"uid": n, "message_id": f"<{n}@x>"} for n in range(MAX_GONE_IDS + 50)]
    await store.add_probe_run(run(NOW, gone=len(gone), gone_ids=gone))
    (back,) = await store.probe_runs(BOX)
    assert back.gone == MAX_GONE_IDS + 50
    assert back.gone_ids == gone[:MAX_GONE_IDS]


async def test_purge_removes_old_probe_runs(store):
    """Retention deletes the probe runs before the cut."""
    await store.add_probe_run(run(10.0))
    await store.add_probe_run(run(5000.0))
    assert await store.purge(1000.0) == 1
    assert [r.probed_at for r in await store.probe_runs(BOX)] == [5000.0]


# ------------------------------------------------------------------ runs -> facts


def test_no_runs_no_facts():
    """Nothing probed: no facts (the probe rules stay silent)."""
    assert probe_facts([], NOW - 86400) is None


def test_the_probes_own_logins_do_not_count():
    """Last-login times up to the end of the run before are the probe's own logins."""
    first = run(NOW - 7200, method="first", facts={"last_login": {}})
    # read before the second run logged in: the first run's own IMAP and POP3 logins
    second = run(NOW - 3600, previous_at=NOW - 7200, gone=2, method="qresync",
                 facts={"last_login": {"imap": NOW - 7200, "pop3": NOW - 7199}})  # fmt: skip
    facts = probe_facts([first, second], NOW - 30 * 86400)
    assert facts is not None
    assert (facts.gone, facts.pop3_last_login, facts.imap_last_login) == (2, None, None)
    diagnosis = rules.diagnose(BOX, [], [], now=NOW, probe=facts)
    assert diagnosis.findings == ()


def test_gone_between_probes_with_pop3_and_imap_logins_is_multi_device():
    """Gone messages, a POP3 login in between and another IMAP login: the rule fires."""
    first = run(NOW - 7200, method="first")
    logins = {"imap": NOW - 5000, "pop3": NOW - 4000}
    gone = [{"uid": 1, "message_id": "<1@x>"}, {"uid": 7, "message_id": None}]
    second = run(NOW - 3600, previous_at=NOW - 7200, gone=2, gone_unseen=1, gone_ids=gone,
                 method="qresync", facts={"last_login": logins})  # fmt: skip
    third = run(NOW - 60, previous_at=NOW - 3600, method="unchanged",
                facts={"last_login": logins, "certificate_problems": [["a:993", "expired"]],
                       "servers": [{"server": "a:993", "tls": "TLSv1.1"}]})  # fmt: skip
    facts = probe_facts([first, second, third], NOW - 30 * 86400)
    assert facts is not None
    assert (facts.gone, facts.gone_unseen, facts.message_ids) == (2, 1, ("<1@x>",))
    assert (facts.previous_at, facts.probed_at) == (NOW - 7200, NOW - 3600)
    assert facts.pop3_last_login == NOW - 4000
    diagnosis = rules.diagnose(BOX, [], [], now=NOW, probe=facts)
    found = {f.code: f for f in diagnosis.findings}
    assert found["pop-delete-multi-device"].severity == "critical"
    assert found["pop-delete-multi-device"].evidence["removed"] == 2
    assert set(found) == {"pop-delete-multi-device", "tls-weak", "certificate-problem"}


def test_runs_outside_the_window_are_left_out():
    """Gone messages of a run before the window do not count."""
    old = run(NOW - 40 * 86400, previous_at=NOW - 41 * 86400, gone=3,
              facts={"last_login": {"pop3": NOW - 40.5 * 86400}})  # fmt: skip
    facts = probe_facts([old], NOW - 30 * 86400)
    assert facts is None


# ------------------------------------------------------------------ (e) end to end

_LAST_LOGIN = """
plugin {{
  last_login_dict = proxy::lastlogin
  last_login_key = last-login/%s/%u
}}
dict {{
  lastlogin = file:{base}/lastlogin/last-login.dict
}}
service dict {{
  unix_listener dict {{
    mode = 0666
  }}
}}
protocol imap {{
  mail_plugins = $mail_plugins last_login
}}
protocol pop3 {{
  mail_plugins = $mail_plugins last_login
}}
"""

MESSAGE = (
    "From: sender@example.org\r\nTo: {to}\r\nSubject: message {n}\r\n"
    "Message-ID: <runs-{n}-{tag}@example.org>\r\n\r\nBody {n}.\r\n"
)


@pytest.fixture(scope="module")
def server() -> Iterator[ProbeDovecot]:
    """A Dovecot of this module's own: numbered users and the last_login plugin."""
    from tests.servers.dovecot import DOVECOT, NOT_INSTALLED  # noqa: PLC0415
    from tests.servers.probe_dovecot import ProbeDovecot  # noqa: PLC0415

    class LastLoginDovecot(ProbeDovecot):
        def prepare(self) -> None:
            super().prepare()
            folder = self.base / "lastlogin"
            folder.mkdir(exist_ok=True)
            with contextlib.suppress(KeyError, PermissionError, LookupError):
                shutil.chown(folder, user="dovecot", group="dovecot")
            with self.config.open("a") as fh:
                fh.write(_LAST_LOGIN.format(base=self.base))

    if not Path(DOVECOT).exists():
        pytest.fail(NOT_INSTALLED)
    base = Path(tempfile.mkdtemp(prefix="autoconf-dovecot-probe-runs-"))
    instance = LastLoginDovecot(base, users=4)
    try:
        instance.start()
        yield instance
    finally:
        instance.stop()
        shutil.rmtree(base, ignore_errors=True)


def deliver(server: ProbeDovecot, address: str, count: int, tag: str) -> list[str]:
    """Deliver ``count`` messages by LMTP; their Message-IDs."""
    for n in range(1, count + 1):
        server.deliver(address, MESSAGE.format(to=address, n=n, tag=tag).encode())
    return [f"<runs-{n}-{tag}@example.org>" for n in range(1, count + 1)]


def iphone(server: ProbeDovecot, address: str, password: str) -> int:
    """An IMAP client naming itself iPhone Mail: reads the INBOX, logs out."""
    imap = SourceIMAP(server.host, server.ports.imap, IPHONE_IP)
    try:
        typ, _ = imap.xatom("ID", IPHONE_ID)
        assert typ == "OK"
        imap.login(address, password)
        imap.select("INBOX")
        typ, data = imap.uid("SEARCH", "ALL")
        assert typ == "OK"
        return len(data[0].split())
    finally:
        imap.logout()


def wait_for_login(path: Path, service: str, user: str, after: float) -> None:
    """Until the last-login dict holds a ``service`` login of ``user`` from ``after`` on."""
    key = f"shared/last-login/{service}/{user}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        values = dict(zip(lines[::2], lines[1::2], strict=False))
        if key in values and float(values[key]) >= int(after):
            return
        time.sleep(0.05)
    pytest.fail(f"no {service} login of {user} in {path}")


async def test_e_probe_only_iphone_and_deleting_fetchmail_is_critical(
    server: ProbeDovecot, tmp_path: Path
) -> None:
    """No log at all: two probes around an iPhone and a deleting fetchmail -> critical."""
    address, password = server.fresh_user()
    local = address.split("@", maxsplit=1)[0]
    data = tmp_path / "data"
    store = SQLiteStore(data / "autoconf.sqlite3")
    targets = [
        Target(Endpoint("imap", "localhost", server.ports.imap, TlsMode.STARTTLS), address),
        Target(Endpoint("pop3", "localhost", server.ports.pop3s, TlsMode.SSL), address),
    ]
    dict_file = server.base / "lastlogin" / "last-login.dict"
    reader = last_login_file(dict_file)
    seen = deliver(server, address, 2, "before")

    await store.open()
    try:
        first = await probe_and_store(
            store, address, targets, Credentials(password), ca_file=server.cert,
            last_login=reader,
        )  # fmt: skip
        assert first.snapshot is not None
        assert first.ok, first.as_dict()
        await asyncio.sleep(1.1)  # last-login times are whole seconds
        started = time.time()
        assert iphone(server, address, password) == 2
        wait_for_login(dict_file, "imap", local, started)
        deliver(server, address, 3, "after")  # never seen by the probe
        await asyncio.sleep(1.1)
        started = time.time()
        fetched = fetchmail(server, tmp_path / "fetchmail", address, password)
        assert fetched.count("Message-ID: <runs-") == 5
        wait_for_login(dict_file, "pop3", local, started)
        second = await probe_and_store(
            store, address, targets, Credentials(password), ca_file=server.cert,
            last_login=reader,
        )  # fmt: skip
        assert second.changes is not None
        runs = await store.probe_runs(address)
    finally:
        await store.close()
    assert [r.gone for r in runs] == [0, 5]
    assert runs[1].gone_unseen == 3
    assert {g["message_id"] for g in runs[1].gone_ids} >= set(seen)
    assert [s["tls"] for s in runs[1].facts["servers"]] != [None, None]

    shown = cli("diagnose", address, "--json", "--no-notify", data_dir=data)
    assert shown.returncode == 0, shown.stderr
    answer = json.loads(shown.stdout)
    found = {f["code"]: f for f in answer["findings"]}
    # the fixture's certificate ends within two days: the stored facts say so as well
    assert set(found) == {"pop-delete-multi-device", "certificate-problem"}, answer
    assert "expires in" in found["certificate-problem"]["evidence"]["problems"]
    finding = found["pop-delete-multi-device"]
    assert finding["severity"] == "critical"
    evidence = finding["evidence"]
    assert evidence["removed"] == 5
    assert evidence["never_seen_by_probe"] == 3
    assert evidence["basis"] == "probe"
    assert set(evidence["message_ids"]) == set(seen)
    assert answer["devices"] == []  # nothing ingested: the probe alone told

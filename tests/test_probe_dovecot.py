"""The probe against a real Dovecot: IMAP STARTTLS, IMAPS, POP3, POP3S; gone vs moved."""

from __future__ import annotations

import imaplib
import poplib
import ssl
from typing import TYPE_CHECKING

from autoconf.probe import Credentials, Options, Target, probe_mailbox
from autoconf.probe.connect import Endpoint, TlsMode
from autoconf.probe.snapshot import Snapshot

if TYPE_CHECKING:
    from tests.servers.probe_dovecot import ProbeDovecot

pytest_plugins = ["tests.servers.probe_dovecot"]

MESSAGE = (
    "From: sender@example.org\r\nTo: {to}\r\nSubject: message {n}\r\n"
    "Message-ID: <probe-{n}-{tag}@example.org>\r\n\r\nBody {n}.\r\n"
)


def deliver(dovecot: ProbeDovecot, address: str, count: int, tag: str = "a") -> list[str]:
    """Deliver ``count`` messages by LMTP; their Message-IDs in order."""
    ids = []
    for n in range(1, count + 1):
        dovecot.deliver(address, MESSAGE.format(to=address, n=n, tag=tag).encode())
        ids.append(f"<probe-{n}-{tag}@example.org>")
    return ids


def target(dovecot: ProbeDovecot, protocol: str, tls: TlsMode, address: str) -> Target:
    """The Dovecot listener for a protocol and TLS mode."""
    ports = dovecot.ports
    port = {
        ("imap", TlsMode.STARTTLS): ports.imap,
        ("imap", TlsMode.SSL): ports.imaps,
        ("imap", TlsMode.NONE): ports.imap,
        ("pop3", TlsMode.STARTTLS): ports.pop3,
        ("pop3", TlsMode.SSL): ports.pop3s,
    }[(protocol, tls)]
    return Target(Endpoint(protocol, "localhost", port, tls), address)


def all_targets(dovecot: ProbeDovecot, address: str) -> list[Target]:
    """IMAP STARTTLS, IMAPS, POP3 STLS, POP3S."""
    return [
        target(dovecot, "imap", TlsMode.STARTTLS, address),
        target(dovecot, "imap", TlsMode.SSL, address),
        target(dovecot, "pop3", TlsMode.STARTTLS, address),
        target(dovecot, "pop3", TlsMode.SSL, address),
    ]


async def probe(dovecot, address, password, targets, previous=None, **kw):
    """Probe with the fixture's certificate as the only trusted CA."""
    return await probe_mailbox(
        address,
        targets,
        Credentials(password),
        previous=previous,
        ca_file=dovecot.cert,
        **kw,
    )


async def test_imap_starttls_with_the_test_ca(probe_dovecot):
    """IMAP on 143 with STARTTLS: TLS, certificate, login methods before and after, snapshot."""
    address, password = probe_dovecot.fresh_user()
    ids = deliver(probe_dovecot, address, 3)
    result = await probe(
        probe_dovecot, address, password, [target(probe_dovecot, "imap", TlsMode.STARTTLS, address)]
    )
    data = result.as_dict()
    server = data["servers"][0]
    assert server["login"] == "ok"
    assert server["tls"]["mode"] == "starttls"
    assert server["tls"]["version"] in {"TLSv1.2", "TLSv1.3"}
    assert server["tls"]["cipher"]
    assert server["certificate"]["names"] == ["localhost", "127.0.0.1"]
    assert server["certificate"]["verified"] is True
    assert "STARTTLS" in server["capabilities"]["before_tls"]
    assert "STARTTLS" not in server["capabilities"]["after_tls"]
    assert "QRESYNC" in server["capabilities"]["after_login"]
    assert server["mechanisms"] == {
        "before_tls": ["LOGIN", "PLAIN"],
        "after_tls": ["LOGIN", "PLAIN"],
    }
    # the fixture allows plaintext auth, so the probe says so
    assert "cleartext_login" in [f["code"] for f in server["findings"]]
    snap = data["snapshot"]
    assert snap["method"] == "first"
    probe_dovecot.wait_for_log(
        lambda lines: any("ID sent: name=autoconf-probe" in line for line in lines)
    )
    assert snap["messages"] == 3
    assert snap["uidnext"] == 4
    assert snap["highestmodseq"] >= 1
    assert snap["gone"] == []
    assert result.snapshot is not None
    assert sorted(result.snapshot.uids.values()) == sorted(ids)


async def test_imaps_pop3_and_pop3s(probe_dovecot):
    """IMAPS, POP3 with STLS and POP3S all answer, verify and log in; POP3 reports STAT/UIDL."""
    address, password = probe_dovecot.fresh_user()
    deliver(probe_dovecot, address, 2)
    targets = all_targets(probe_dovecot, address)[1:]
    result = await probe(probe_dovecot, address, password, targets)
    imaps, pop3, pop3s = result.servers
    assert [s.login for s in result.servers] == ["ok", "ok", "ok"]
    assert imaps.tls is not None
    assert imaps.tls.version
    assert "before_tls" not in imaps.capabilities
    assert pop3.capabilities["before_tls"].count("STLS") == 1
    assert pop3.mechanisms["after_tls"] == ["LOGIN", "PLAIN"]
    assert pop3.mailbox["messages"] == 2
    assert pop3.mailbox["uidl"] == 2
    assert pop3s.mailbox["messages"] == 2
    assert result.snapshot_server == str(imaps.endpoint)
    assert result.ok


async def test_master_user_login(probe_dovecot):
    """The Dovecot master user logs in as user*master and sees the user's INBOX."""
    address, _ = probe_dovecot.fresh_user()
    deliver(probe_dovecot, address, 2)
    master, master_password = probe_dovecot.master
    creds = Credentials(master_password, master)
    targets = all_targets(probe_dovecot, address)
    result = await probe_mailbox(address, targets, creds, ca_file=probe_dovecot.cert)
    assert [s.login for s in result.servers] == ["ok"] * 4
    assert result.servers[0].login_name == f"{address}*{master}"
    assert result.snapshot is not None
    assert result.snapshot.messages == 2


async def test_wrong_password(probe_dovecot):
    """A wrong password is an authentication_failed finding on every server."""
    address, _ = probe_dovecot.fresh_user()
    result = await probe(probe_dovecot, address, "wrong", all_targets(probe_dovecot, address))
    for server in result.servers:
        assert server.login == "failed"
        assert "authentication_failed" in [f.code for f in server.findings]
    assert "no_snapshot" in [f.code for f in result.findings]
    assert not result.ok


def pop3_delete(dovecot: ProbeDovecot, address: str, password: str, numbers: list[int]) -> None:
    """A POP3 client that downloads (RETR) and deletes (DELE) messages, then QUITs."""
    pop = poplib.POP3(dovecot.host, dovecot.ports.pop3, timeout=10)
    try:
        pop.user(address)
        pop.pass_(password)
        for n in numbers:
            pop.retr(n)
            pop.dele(n)
    finally:
        pop.quit()


def imap_move(dovecot: ProbeDovecot, address: str, password: str, message_id: str) -> None:
    """An IMAP client that moves one message (found by Message-ID) to Trash."""
    ctx = ssl.create_default_context(cafile=str(dovecot.cert))
    with imaplib.IMAP4_SSL("localhost", dovecot.ports.imaps, ssl_context=ctx) as imap:
        imap.login(address, password)
        imap.select("INBOX")
        status, data = imap.uid("SEARCH", "HEADER", "Message-ID", message_id)
        assert status == "OK"
        (uid,) = data[0].split()
        status, _ = imap.uid("MOVE", uid, "Trash")
        assert status == "OK"
        imap.logout()


async def test_three_gone_one_moved(probe_dovecot):
    """After POP3 deletes three and IMAP moves one to Trash, the probe says 3 gone, 1 moved."""
    address, password = probe_dovecot.fresh_user()
    ids = deliver(probe_dovecot, address, 6)
    targets = all_targets(probe_dovecot, address)
    first = await probe(probe_dovecot, address, password, targets)
    assert first.snapshot is not None
    assert first.snapshot.messages == 6

    pop3_delete(probe_dovecot, address, password, [1, 2, 3])
    imap_move(probe_dovecot, address, password, ids[4])
    deliver(probe_dovecot, address, 1, tag="later")

    second = await probe(
        probe_dovecot, address, password, targets, previous=first.snapshot.to_bytes()
    )
    snap = second.as_dict()["snapshot"]
    assert snap["method"] == "qresync"
    assert snap["gone"] == [
        {"uid": 1, "message_id": ids[0]},
        {"uid": 2, "message_id": ids[1]},
        {"uid": 3, "message_id": ids[2]},
    ]
    assert snap["moved"] == [{"uid": 5, "message_id": ids[4], "folder": "Trash"}]
    assert snap["new"] == 1
    assert snap["messages"] == 3
    codes = [f["code"] for f in second.as_dict()["findings"]]
    assert "messages_gone" in codes
    assert "messages_moved" in codes

    third = await probe(
        probe_dovecot, address, password, targets[:1], previous=second.snapshot.to_bytes()
    )
    assert third.changes is not None
    assert third.changes.method == "unchanged"
    assert third.changes.gone == []


async def test_uid_range_path_without_qresync(probe_dovecot, monkeypatch):
    """Without QRESYNC the diff comes from a UID SEARCH over the known range, same answer."""
    address, password = probe_dovecot.fresh_user()
    ids = deliver(probe_dovecot, address, 4)
    targets = [target(probe_dovecot, "imap", TlsMode.SSL, address)]
    first = await probe(probe_dovecot, address, password, targets)
    pop3_delete(probe_dovecot, address, password, [2])
    imap_move(probe_dovecot, address, password, ids[3])

    from autoconf.probe import imap  # noqa: PLC0415 - patched for this test only

    async def no_enable(self, *extensions):
        return frozenset()

    monkeypatch.setattr(imap.ImapClient, "enable", no_enable)
    second = await probe(
        probe_dovecot, address, password, targets, previous=first.snapshot.to_bytes()
    )
    snap = second.as_dict()["snapshot"]
    assert snap["method"] == "uid-range"
    assert snap["gone"] == [{"uid": 2, "message_id": ids[1]}]
    assert snap["moved"] == [{"uid": 4, "message_id": ids[3], "folder": "Trash"}]


async def test_uidvalidity_change_is_not_mass_deletion(probe_dovecot):
    """A snapshot from another UIDVALIDITY is reported as a renumbering, with nothing gone."""
    address, password = probe_dovecot.fresh_user()
    deliver(probe_dovecot, address, 3)
    targets = [target(probe_dovecot, "imap", TlsMode.SSL, address)]
    first = await probe(probe_dovecot, address, password, targets)
    old = first.snapshot
    assert old is not None
    stale = Snapshot(old.uidvalidity - 7, old.uidnext, old.highestmodseq, 3, dict(old.uids))
    second = await probe(probe_dovecot, address, password, targets, previous=stale.to_bytes())
    snap = second.as_dict()["snapshot"]
    assert snap["uidvalidity_changed"] == {"old": old.uidvalidity - 7, "new": old.uidvalidity}
    assert snap["gone"] == []
    assert snap["method"] == "uidvalidity-changed"
    assert "uidvalidity_changed" in [f.code for f in second.findings]


async def test_snapshot_is_bounded(probe_dovecot):
    """With a cap of 3, a 5-message INBOX keeps the newest 3 UIDs and says it is capped."""
    address, password = probe_dovecot.fresh_user()
    ids = deliver(probe_dovecot, address, 5)
    targets = [target(probe_dovecot, "imap", TlsMode.SSL, address)]
    result = await probe(probe_dovecot, address, password, targets, options=Options(max_messages=3))
    snap = result.as_dict()["snapshot"]
    assert snap["capped"] is True
    assert snap["tracked"] == 3
    assert snap["messages"] == 5
    assert result.snapshot is not None
    assert sorted(result.snapshot.uids.values()) == sorted(ids[2:])
    assert Snapshot.from_bytes(result.snapshot.to_bytes()) == result.snapshot


async def test_probes_leave_the_mailbox_unchanged(probe_dovecot):
    """Message files and their flags are byte-for-byte the same after repeated probes."""
    address, password = probe_dovecot.fresh_user()
    deliver(probe_dovecot, address, 4)
    imap_move(probe_dovecot, address, password, "<probe-4-a@example.org>")
    # a first client session moves new/ to cur/, as any client would; start after it
    pop = poplib.POP3(probe_dovecot.host, probe_dovecot.ports.pop3, timeout=10)
    pop.user(address)
    pop.pass_(password)
    pop.quit()
    before = probe_dovecot.message_files(address)
    assert len(before) == 4

    targets = all_targets(probe_dovecot, address)
    previous = None
    for _ in range(2):
        result = await probe(probe_dovecot, address, password, targets, previous=previous)
        assert [s.login for s in result.servers] == ["ok"] * 4
        assert result.snapshot is not None
        previous = result.snapshot.to_bytes()
    assert probe_dovecot.message_files(address) == before
    log = "".join(probe_dovecot.log_lines())
    assert "retr=0/0, del=0/3" in log

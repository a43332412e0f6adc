"""Each fault becomes a finding: host:port, the step, and what to do (tiny loopback servers)."""

from __future__ import annotations

import time

import pytest

from autoconf.probe import Credentials, Options, Target, probe_mailbox
from autoconf.probe.connect import Endpoint, Timeouts, TlsMode
from tests.conftest import free_port
from tests.faults.certs import make_cert
from tests.faults.servers import (
    CleartextIMAP,
    FakeIMAP,
    FakePOP3,
    GarbageGreeting,
    HangsAt,
    NoStartTLS,
    Pop3Garbage,
    Pop3StlsRefused,
    StallsTLS,
    StartTLSRefused,
)

MAILBOX = "alice@example.com"
CREDS = Credentials("secret-pw")
FAST = Options(Timeouts(connect=1.0, step=0.3, tls=0.3))


async def probe_one(protocol: str, port: int, tls: TlsMode, ca_file=None, creds=CREDS):
    """Probe one loopback server; its ServerResult."""
    target = Target(Endpoint(protocol, "127.0.0.1", port, tls), MAILBOX)
    result = await probe_mailbox(MAILBOX, [target], creds, ca_file=ca_file, options=FAST)
    return result.servers[0]


def only(server, code: str):
    """The one finding with this code."""
    found = [f for f in server.findings if f.code == code]
    assert len(found) == 1, [f.as_dict() for f in server.findings]
    return found[0]


async def test_connection_refused():
    """A closed port yields connection_refused naming host:port and the connect step."""
    port = free_port()
    server = await probe_one("imap", port, TlsMode.STARTTLS)
    finding = only(server, "connection_refused")
    assert finding.step == "connect"
    assert f"127.0.0.1:{port} (imap) refused the connection" in finding.message
    assert finding.advice


@pytest.mark.parametrize(
    ("at", "step"),
    [(None, "greeting"), (b"CAPABILITY", "capability"), (b"STARTTLS", "starttls")],
)
async def test_timeout_at_each_dialog_step(at, step):
    """A server that goes silent at a step yields a timeout naming that step and the limit."""
    async with HangsAt(at) as fake:
        if at == b"CAPABILITY":
            fake.greeting = b"* OK fake ready without capabilities\r\n"
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS)
    finding = only(server, "timeout")
    assert finding.step == step
    assert f"127.0.0.1:{fake.port} (imap) sent no answer to the {step} step within 0.3s" == (
        finding.message
    )


async def test_timeout_in_tls_handshake(tmp_path):
    """STARTTLS accepted but no handshake: a timeout at the tls step."""
    cert = make_cert(tmp_path)
    async with StallsTLS(cert.server_context()) as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS, cert.cert)
    assert only(server, "timeout").step == "tls"


async def test_timeout_at_login(tmp_path):
    """A server that hangs on LOGIN/AUTHENTICATE yields a timeout at the login step."""
    cert = make_cert(tmp_path)
    async with HangsAt(b"AUTHENTICATE", cert.server_context()) as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS, cert.cert)
    assert only(server, "timeout").step == "login"
    assert server.tls is not None
    assert server.tls.version


async def test_garbage_greeting():
    """A web server's answer on the IMAP port is called out, with what it sent."""
    async with GarbageGreeting() as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS)
    finding = only(server, "garbage_reply")
    assert finding.step == "greeting"
    assert "a greeting that is not IMAP" in finding.message
    assert "HTTP/1.1 400" in finding.message


async def test_pop3_garbage_greeting():
    """An SMTP banner on a POP3 port is a garbage reply at the greeting."""
    async with Pop3Garbage() as fake:
        server = await probe_one("pop3", fake.port, TlsMode.STARTTLS)
    assert "not POP3" in only(server, "garbage_reply").message


async def test_starttls_not_offered():
    """No STARTTLS capability: starttls_not_offered, and no login is tried."""
    async with NoStartTLS() as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS)
    finding = only(server, "starttls_not_offered")
    assert finding.step == "starttls"
    assert "does not offer STARTTLS" in finding.message
    assert server.login == "not tried"
    assert not any(b"LOGIN" in line or b"AUTHENTICATE" in line for line in fake.lines)


async def test_starttls_refused():
    """A NO to STARTTLS yields starttls_refused quoting the reply."""
    async with StartTLSRefused() as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS)
    finding = only(server, "starttls_refused")
    assert "refused STARTTLS" in finding.message
    assert "not today" in finding.message


async def test_pop3_stls_refused():
    """A -ERR to STLS yields starttls_refused for POP3."""
    async with Pop3StlsRefused() as fake:
        server = await probe_one("pop3", fake.port, TlsMode.STARTTLS)
    assert "refused STLS" in only(server, "starttls_refused").message


async def test_tls_handshake_failure():
    """A plain-text server on a port named implicit TLS fails the handshake."""
    async with FakeIMAP() as fake:
        server = await probe_one("imap", fake.port, TlsMode.SSL)
    finding = only(server, "tls_handshake_failed")
    assert finding.step == "tls"
    assert f"127.0.0.1:{fake.port} (imap) failed the TLS handshake" in finding.message


async def test_expired_certificate(tmp_path):
    """An expired certificate is named as expired, and no password is sent."""
    cert = make_cert(tmp_path, "expired", days_valid=(-30, -1))
    async with FakeIMAP(cert.server_context(), implicit=True) as fake:
        server = await probe_one("imap", fake.port, TlsMode.SSL, cert.cert)
    finding = only(server, "certificate_expired")
    assert "certificate has expired" in finding.message
    assert "Renew" in finding.advice
    assert server.login == "not tried"


async def test_certificate_for_another_name(tmp_path):
    """A certificate for other names is a name mismatch (STARTTLS path)."""
    cert = make_cert(tmp_path, "other", names=("mail.other.example",))
    async with FakeIMAP(cert.server_context()) as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS, cert.cert)
    finding = only(server, "certificate_name_mismatch")
    assert finding.step == "tls"
    assert "127.0.0.1" in finding.message


async def test_untrusted_certificate(tmp_path):
    """A self-signed certificate not in the CA file does not verify."""
    cert = make_cert(tmp_path)
    other = make_cert(tmp_path, "other-ca")
    async with FakeIMAP(cert.server_context(), implicit=True) as fake:
        server = await probe_one("imap", fake.port, TlsMode.SSL, other.cert)
    assert "does not verify" in only(server, "certificate_untrusted").message


async def test_cleartext_login_offered():
    """Plain IMAP that takes passwords: a warning, and the password is not sent."""
    async with CleartextIMAP() as fake:
        server = await probe_one("imap", fake.port, TlsMode.NONE)
    finding = only(server, "cleartext_login")
    assert finding.severity == "warning"
    assert "offers password login without TLS" in finding.message
    assert server.login == "not tried"
    assert not any(b"secret-pw" in line for line in fake.lines)


async def test_authentication_failed(tmp_path):
    """A refused login yields authentication_failed with the server's words, not the password."""
    cert = make_cert(tmp_path)
    async with FakeIMAP(cert.server_context()) as fake:
        server = await probe_one("imap", fake.port, TlsMode.STARTTLS, cert.cert)
    finding = only(server, "authentication_failed")
    assert finding.step == "login"
    assert "refused the login of alice@example.com" in finding.message
    assert "AUTHENTICATIONFAILED" in finding.message
    assert "secret-pw" not in finding.message
    assert server.login == "failed"


async def test_pop3_authentication_failed(tmp_path):
    """POP3: STLS, then a refused AUTH PLAIN."""
    cert = make_cert(tmp_path)
    async with FakePOP3(cert.server_context()) as fake:
        server = await probe_one("pop3", fake.port, TlsMode.STARTTLS, cert.cert)
    assert server.tls is not None
    assert server.tls.certificate["names"] == ["localhost", "127.0.0.1"]
    assert only(server, "authentication_failed").step == "login"
    assert fake.lines[-1] == b"QUIT\r\n"


async def test_one_hanging_server_does_not_stall_the_others(tmp_path):
    """Three servers hang; the fourth answers at once and the whole probe ends at the limit."""
    cert = make_cert(tmp_path)
    async with (
        HangsAt(None) as silent,
        HangsAt(b"CAPABILITY") as slow,
        StallsTLS(cert.server_context()) as stall,
        FakeIMAP(cert.server_context()) as good,
    ):
        slow.greeting = b"* OK no caps\r\n"
        targets = [
            Target(Endpoint("imap", "127.0.0.1", s.port, TlsMode.STARTTLS), MAILBOX)
            for s in (silent, slow, stall, good)
        ]
        started = time.monotonic()
        result = await probe_mailbox(MAILBOX, targets, CREDS, ca_file=cert.cert, options=FAST)
        elapsed = time.monotonic() - started
    assert elapsed < 1.0
    codes = [[f.code for f in s.findings if f.severity == "error"] for s in result.servers]
    assert codes[:3] == [["timeout"], ["timeout"], ["timeout"]]
    assert "authentication_failed" in codes[3]
    assert result.servers[3].ms < 300

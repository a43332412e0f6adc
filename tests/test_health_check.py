"""Domain health end to end: real DNS, the setup service over real sockets, real TLS servers.

The checker's HTTP goes to the service itself (through HTTPS and HTTP on loopback) or, where
a foreign server must misbehave, to aioresponses. Every problem must be named in a sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import sys

import pytest
from structlog.testing import capture_logs

from autoconf import logs
from autoconf.cli import main
from autoconf.health.model import Status
from autoconf.health.service import check
from tests.faults.servers import NoStartTLS
from tests.servers.health import CATALOG, POX_SSL_OFF_HINT, mocked, world

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

ANY_URL = re.compile(r"^https?://")
TB_ORDER = ["autoconfig-https", "well-known-https", "autoconfig-http", "well-known-http"]


@pytest.fixture
async def make_world(service, catalog_file, tmp_path):
    """Build a world (DNS, service over HTTP+HTTPS, mail servers) with the knobs given."""
    async with contextlib.AsyncExitStack() as stack:

        async def build(**knobs):
            client = await service(catalog_file(CATALOG))
            found = await world(stack, tmp_path, client, **knobs)
            found.client = client
            return found

        yield build


def steps_of(report, client):
    """The steps of one client, in order."""
    return [s for s in report.steps if s.client == client]


def named(report, name):
    """The step of this name."""
    return next(s for s in report.steps if s.name == name)


async def test_our_own_service_works_in_client_order(make_world):
    """Our own setup service: every step passes, in order Thunderbird, Outlook, DNS, servers."""
    w = await make_world()
    report = await check("alice@example.com", w.options())
    assert report.status is Status.PASS, report.summary["text"]
    clients = list(dict.fromkeys(s.client for s in report.steps))
    assert clients == ["thunderbird", "outlook", "dns", "server"]
    tb = steps_of(report, "thunderbird")
    assert [s.name for s in tb[:4]] == TB_ORDER
    assert all(s.status is Status.PASS for s in tb[:4])
    assert tb[0].message.startswith("Thunderbird would accept https://autoconfig.example.com/")
    assert tb[0].facts["certificate"]["names"]  # the HTTPS certificate was looked at
    assert named(report, "pox-root").status is Status.PASS
    assert named(report, "pox-autodiscover").status is Status.SKIP  # Outlook stopped before
    assert "simplified account creation" in named(report, "simplified-setup").message
    servers = steps_of(report, "server")
    assert [s.target for s in servers] == [
        "imap.example.com:993", "pop.example.com:995", "smtp.example.com:465",
        "smtp.example.com:587",
    ]  # fmt: skip
    assert all(s.status is Status.PASS for s in servers), [s.message for s in servers]
    assert servers[0].facts["tls_versions"]["TLS 1.3"] is True
    assert servers[0].facts["tls_versions"]["TLS 1.0"] is False
    assert "STARTTLS" in servers[3].message
    assert report.summary["thunderbird"] == "Thunderbird: works, IMAP over TLS."
    assert report.summary["outlook"].startswith("Outlook: autodiscover answers.")
    dns = {s.name: s.status for s in steps_of(report, "dns")}
    assert dns["_imaps"] is dns["_submissions"] is Status.PASS
    assert dns["_imap"] is Status.INFO  # "0 0 0 .": not offered, as published


async def test_missing_srv_record_is_named(make_world):
    """A missing _submissions._tcp record is a warning whose sentence names the record."""
    w = await make_world(zone={"_submissions._tcp.example.com": [],
                               "_submission._tcp.example.com": []})  # fmt: skip
    report = await check("example.com", w.options())
    step = named(report, "_submissions")
    assert step.status is Status.WARN
    assert step.message.startswith(
        "There is no _submissions._tcp.example.com SRV record, so clients that follow RFC 6186"
    )
    assert "missing: _submissions._tcp.example.com" in report.summary["dns"]
    assert report.status is Status.WARN


async def test_expired_certificate_is_named(make_world):
    """An expired certificate on the mail servers fails them with the days since it ended."""
    w = await make_world(mail_days=(-30, -3))
    report = await check("example.com", w.options())
    step = named(report, "imap:imap.example.com:993")
    assert step.status is Status.FAIL
    assert "presented a certificate that does not verify: certificate has expired" in step.message
    assert "(it ended 3 day(s) ago" in step.message or "(it ended 4 day(s) ago" in step.message
    assert "Renew the certificate" in step.message
    assert report.status is Status.FAIL
    assert report.summary["thunderbird"].startswith("Thunderbird: finds the settings, but ")
    assert "certificate has expired" in report.summary["thunderbird"]


async def test_expired_web_certificate_leaves_only_plain_http(make_world):
    """An expired HTTPS certificate: the HTTPS lookups fail by name, Thunderbird falls to HTTP."""
    w = await make_world(web_days=(-30, -2))
    report = await check("example.com", w.options())
    https = named(report, "autoconfig-https")
    assert https.status is Status.SKIP
    assert "the certificate of autoconfig.example.com does not verify" in https.message
    assert "it expired 2 day(s) ago" in https.message or "it expired 3 day(s)" in https.message
    assert named(report, "autoconfig-http").status is Status.PASS
    assert "only over plain HTTP (http://autoconfig.example.com/" in report.summary["thunderbird"]


async def test_certificate_expiring_soon_is_named_in_the_summary(make_world):
    """Six days left on the web certificate: Outlook works, but the summary says so."""
    w = await make_world(web_days=(-30, 6))
    report = await check("example.com", w.options())
    assert report.summary["outlook"].startswith(
        "Outlook: autodiscover answers, but the certificate of example.com expires in "
    )
    assert report.status is Status.WARN


async def test_wrong_certificate_name_is_named(make_world):
    """A certificate for other names fails the server with 'Hostname mismatch'."""
    w = await make_world(imap_names=("mail.other.example",))
    report = await check("example.com", w.options())
    step = named(report, "imap:imap.example.com:993")
    assert step.status is Status.FAIL
    assert "does not verify" in step.message
    assert "Hostname mismatch" in step.message or "mismatch" in step.message.lower()


async def test_starttls_not_offered_is_named(make_world):
    """An IMAP server that offers no STARTTLS where the configuration says STARTTLS."""
    w = await make_world()
    options = w.options()
    from autoconf.health.model import ServerRef  # noqa: PLC0415
    from autoconf.health.tls import ServerOptions, check_server  # noqa: PLC0415
    from autoconf.probe.connect import Timeouts, TlsMode  # noqa: PLC0415

    async with NoStartTLS() as plain:
        options.lookup.port_map["imap.example.com:143"] = plain.port
        step = await check_server(
            ServerRef("imap", "imap.example.com", 143, TlsMode.STARTTLS),
            options.lookup,
            ServerOptions(Timeouts(3, 3, 3), w.ca_file),
        )
    assert step.status is Status.FAIL
    assert "does not offer STARTTLS, so the connection stays unencrypted" in step.message


WRONG_TYPE_BODY = b"""<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="example.com"><domain>example.com</domain>
<incomingServer type="imap"><hostname>imap.example.com</hostname><port>993</port>
<socketType>SSL</socketType><username>%EMAILADDRESS%</username>
<authentication>password-cleartext</authentication></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.example.com</hostname><port>465</port>
<socketType>SSL</socketType><username>%EMAILADDRESS%</username>
<authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>"""


async def test_wrong_content_type_and_ssl_off_from_a_foreign_server(make_world):
    """A provider that serves text/plain and SSL off + STARTTLS: each named in a sentence."""
    w = await make_world()
    options = w.options(health_ispdb_url="https://autoconfig.thunderbird.net/v1.1/")
    with mocked() as mock:
        base = "autoconfig.example.com/mail/config-v1.1.xml?emailaddress=autoconf-check@example.com"
        mock.get(f"https://{base}", body=WRONG_TYPE_BODY, content_type="text/plain")
        well_known = ("example.com/.well-known/autoconfig/mail/config-v1.1.xml"
                      "?emailaddress=autoconf-check@example.com")  # fmt: skip
        for url in (f"https://{well_known}", f"http://{base}", f"http://{well_known}",
                    "https://autoconfig.thunderbird.net/v1.1/example.com"):  # fmt: skip
            mock.get(url, status=404)
        mock.post("https://example.com/autodiscover/autodiscover.xml", body=POX_SSL_OFF_HINT,
                  content_type="text/xml")  # fmt: skip
        report = await check("example.com", options)
    tb = named(report, "autoconfig-https")
    assert tb.status is Status.FAIL
    assert "was served as 'text/plain'; Thunderbird reads only text/xml" in tb.message
    assert named(report, "ispdb").status is Status.SKIP
    pox = named(report, "pox-root")
    assert pox.status is Status.FAIL
    assert ("Thunderbird would configure an unencrypted connection for SMTP "
            "smtp.example.com:587, because SSL is off") in pox.message  # fmt: skip
    assert report.status is Status.FAIL


async def test_nothing_published_ends_in_guessing(make_world):
    """No autoconfig, no Autodiscover: Thunderbird guesses host names and ports."""
    w = await make_world()
    with mocked() as mock:
        mock.get(ANY_URL, status=404, repeat=True)
        mock.post(ANY_URL, status=404, repeat=True)
        report = await check("example.com", w.options())
    assert report.status is Status.FAIL
    guess = named(report, "guess")
    assert guess.status is Status.WARN
    assert "IMAP imap.example.com:993 (implicit TLS)" in guess.message
    assert report.summary["outlook"].startswith("Outlook: no usable Autodiscover answer")


async def test_cli_check_on_our_service(make_world):
    """`autoconf check` as a child process: exit 0, steps grouped in client order, summary."""
    w = await make_world()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "autoconf", "check", "example.com", env={**os.environ, **w.env()},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "Thunderbird: works, IMAP over TLS." in text
    assert text.index("Thunderbird\n") < text.index("Outlook\n") < text.index("Servers\n")
    assert "[ok  ] Thunderbird would accept https://autoconfig.example.com/" in text


async def test_cli_json(make_world, monkeypatch, capsys):
    """`autoconf check EMAIL --json` prints the whole report; the address is the one given."""
    w = await make_world()
    for key, value in w.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(logs, "configure", lambda *_a, **_k: None)  # keep this process's logging
    with capture_logs():  # log lines would otherwise land on the captured stdout
        code = await asyncio.to_thread(main, ["check", "alice@example.com", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (data["status"], data["address"]) == ("pass", "alice@example.com")
    assert data["steps"][0]["name"] == "autoconfig-https"


def test_cli_refuses_a_non_domain(capsys, monkeypatch):
    """A target that is neither a domain nor an address: exit 1 with a sentence."""
    monkeypatch.setattr(logs, "configure", lambda *_a, **_k: None)  # keep this process's logging
    assert main(["check", "not a domain"]) == 1
    err = capsys.readouterr().err
    assert "autoconf: The domain needs at least two labels, like example.com." in err


async def test_missing_host_is_named_and_the_client_moves_on(make_world):
    """No A record for autoconfig.<domain>: that step says NXDOMAIN, the .well-known URL works."""
    w = await make_world(zone={"autoconfig.example.com": []})
    report = await check("example.com", w.options())
    step = named(report, "autoconfig-https")
    assert step.status is Status.SKIP
    assert "autoconfig.example.com does not exist in DNS (NXDOMAIN)" in step.message
    assert named(report, "well-known-https").status is Status.PASS
    assert report.summary["thunderbird"] == "Thunderbird: works, IMAP over TLS."

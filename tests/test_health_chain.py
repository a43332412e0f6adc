"""The pure parts of domain health: candidate URLs, judging answers with the client rules, SRV."""

from __future__ import annotations

from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog
from autoconf.formats import mozilla
from autoconf.health import chain
from autoconf.health.chain import Answer, Candidate, SrvAnswer
from autoconf.health.model import Report, ServerRef, Status, Step, worst
from autoconf.probe.connect import TlsMode

ADDRESS = "alice@example.com"
AUTOCONFIG = Candidate("autoconfig-https", "the autoconfig host",
                       "https://autoconfig.example.com/mail/config-v1.1.xml")  # fmt: skip
POX = Candidate("pox-root", "the root domain", "https://example.com/autodiscover/autodiscover.xml",
                "POST")  # fmt: skip
POX_SSL_OFF = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
  <Account><AccountType>email</AccountType><Action>settings</Action>
   <Protocol><Type>IMAP</Type><Server>imap.example.com</Server><Port>993</Port>
    <LoginName>alice@example.com</LoginName><SPA>off</SPA><SSL>on</SSL></Protocol>
   <Protocol><Type>SMTP</Type><Server>smtp.example.com</Server><Port>587</Port>
    <LoginName>alice@example.com</LoginName><SPA>off</SPA><SSL>off</SSL>
    <Encryption>TLS</Encryption></Protocol>
  </Account></Response></Autodiscover>"""


def demo_document() -> bytes:
    """The clientConfig our service renders for the demo domain."""
    account = demo_catalog().account_for(Address.parse(ADDRESS))
    return mozilla.render(account)


def test_thunderbird_tries_https_before_http_and_sends_the_address():
    """Provider URLs come in Thunderbird's order, each with ?emailaddress=."""
    urls = [c.url for c in chain.thunderbird_candidates("example.com", ADDRESS)]
    assert urls == [
        "https://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=alice@example.com",
        "https://example.com/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@example.com",
        "http://autoconfig.example.com/mail/config-v1.1.xml?emailaddress=alice@example.com",
        "http://example.com/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice@example.com",
    ]


def test_outlook_posts_to_the_root_domain_first():
    """Outlook's order: root domain, then autodiscover.<domain>; the redirect GET is plain HTTP."""
    assert [c.url for c in chain.outlook_candidates("example.com")] == [
        "https://example.com/autodiscover/autodiscover.xml",
        "https://autodiscover.example.com/autodiscover/autodiscover.xml",
    ]
    assert chain.redirect_url("example.com").startswith("http://autodiscover.example.com/")
    assert b"<EMailAddress>a&amp;b@example.com</EMailAddress>" in chain.pox_body("a&b@example.com")


def test_our_own_document_is_accepted_and_its_servers_are_read():
    """The service's own clientConfig passes the shared rules; its servers are listed in order."""
    body = demo_document()
    step = chain.judge("thunderbird", AUTOCONFIG, Answer(AUTOCONFIG.url, 200, "text/xml", body),
                       chain.rules.thunderbird_autoconfig, "Thunderbird")  # fmt: skip
    assert step.status is Status.PASS, step.message
    assert step.message == f"Thunderbird would accept {AUTOCONFIG.url}."
    servers = chain.autoconfig_servers(body, ADDRESS)
    assert servers[0] == ServerRef("imap", "imap.example.com", 993, TlsMode.SSL)
    assert ServerRef("smtp", "smtp.example.com", 587, TlsMode.STARTTLS) in servers


def test_wrong_content_type_is_named():
    """A clientConfig served as text/plain is refused, and the sentence says why."""
    answer = Answer(AUTOCONFIG.url, 200, "text/plain; charset=utf-8", demo_document())
    step = chain.judge("thunderbird", AUTOCONFIG, answer, chain.rules.thunderbird_autoconfig,
                       "Thunderbird")  # fmt: skip
    assert step.status is Status.FAIL
    assert "was served as 'text/plain; charset=utf-8'" in step.message
    assert step.message.startswith(f"Thunderbird would not use {AUTOCONFIG.url}:")
    assert step.problems[0]["code"] == "content-type-wrong"


def test_broken_xml_is_named():
    """Malformed XML is a failure whose sentence quotes the parser."""
    answer = Answer(AUTOCONFIG.url, 200, "text/xml", b"<clientConfig><emailProvider>")
    step = chain.judge("thunderbird", AUTOCONFIG, answer, chain.rules.thunderbird_autoconfig,
                       "Thunderbird")  # fmt: skip
    assert step.status is Status.FAIL
    assert "is not well-formed XML" in step.message


def test_nothing_there_is_a_skip_and_a_server_error_a_failure():
    """404 and connection errors mean 'nothing there'; a 500 is a failure."""
    missing = chain.judge("thunderbird", AUTOCONFIG, Answer(AUTOCONFIG.url, 404), chain.rules.
                          thunderbird_autoconfig, "Thunderbird")  # fmt: skip
    assert missing.status is Status.SKIP
    assert "HTTP 404" in missing.message
    broken = chain.judge("thunderbird", AUTOCONFIG, Answer(AUTOCONFIG.url, 500), chain.rules.
                         thunderbird_autoconfig, "Thunderbird")  # fmt: skip
    assert broken.status is Status.FAIL
    refused = Answer(AUTOCONFIG.url, error="autoconfig.example.com has no address record")
    gone = chain.judge("thunderbird", AUTOCONFIG, refused, chain.rules.thunderbird_autoconfig,
                       "Thunderbird")  # fmt: skip
    assert gone.status is Status.SKIP
    assert "no address record" in gone.message


def test_ssl_off_with_starttls_is_named_and_read_as_unencrypted():
    """SSL off with Encryption TLS: the sentence says Thunderbird would go unencrypted."""
    answer = Answer(POX.url, 200, "text/xml; charset=utf-8", POX_SSL_OFF)
    step = chain.judge("outlook", POX, answer, chain.rules.thunderbird_pox, "Outlook")
    assert step.status is Status.FAIL
    assert ("Thunderbird would configure an unencrypted connection for SMTP "
            "smtp.example.com:587, because SSL is off") in step.message  # fmt: skip
    servers = chain.pox_servers(POX_SSL_OFF)
    assert servers == (ServerRef("imap", "imap.example.com", 993, TlsMode.SSL),
                       ServerRef("smtp", "smtp.example.com", 587, TlsMode.STARTTLS))  # fmt: skip


def test_placeholders_in_host_names_are_expanded():
    """%EMAILDOMAIN% in a hostname becomes the domain of the address checked."""
    body = demo_document().replace(b"imap.example.com", b"imap.%EMAILDOMAIN%")
    assert chain.autoconfig_servers(body, "bob@example.net")[0].host == "imap.example.net"


def test_srv_records_as_clients_read_them():
    """Best priority wins; '.' means not offered; a missing record is a warning sentence."""
    found = SrvAnswer("_imaps._tcp.example.com", ((10, 1, 993, "b.example.com."),
                                                  (0, 1, 993, "a.example.com.")))  # fmt: skip
    step, server = chain.srv_step(found, "imap", TlsMode.SSL)
    assert step.status is Status.PASS
    assert server == ServerRef("imap", "a.example.com", 993, TlsMode.SSL)
    step, server = chain.srv_step(SrvAnswer("_pop3._tcp.example.com", ((0, 0, 0, "."),)),
                                  "pop3", TlsMode.STARTTLS)  # fmt: skip
    assert (step.status, server) == (Status.INFO, None)
    step, server = chain.srv_step(SrvAnswer("_submissions._tcp.example.com", missing=True),
                                  "smtp", TlsMode.SSL)  # fmt: skip
    assert step.status is Status.WARN
    assert step.message.startswith("There is no _submissions._tcp.example.com SRV record")
    assert (
        chain.autodiscover_srv_target(
            SrvAnswer("_autodiscover._tcp.example.com", ((0, 0, 443, "ad.example.net."),))
        )
        == "ad.example.net"
    )


def test_mx_domains():
    """%MXFULLDOMAIN% drops the first label; %MXBASEDOMAIN% keeps the last two."""
    assert chain.mx_domains("mx1.mail.provider.example.") == ("mail.provider.example",
                                                              "provider.example")  # fmt: skip
    assert chain.mx_domains("provider.example") == ("provider.example", "provider.example")


def test_report_round_trips_through_json():
    """A report stored as JSON reads back equal; worst() ranks fail over warn over pass."""
    report = Report("example.com", ADDRESS, 1.0, [Step("dns", "_imaps", Status.WARN, "x")],
                    {"text": "t"}, Status.WARN, 3.0)  # fmt: skip
    assert Report.from_dict(report.as_dict()) == report
    assert worst([Status.PASS, Status.SKIP, Status.WARN]) is Status.WARN
    assert worst([Status.SKIP, Status.INFO]) is Status.PASS
    assert worst([Status.WARN, Status.FAIL]) is Status.FAIL


async def test_smtp_dialog_reads_multiline_replies_and_refuses_garbage():
    """EHLO lines become extensions and AUTH mechanisms; a non-SMTP line is a DialogError."""
    import pytest  # noqa: PLC0415

    from autoconf.health.smtp import SmtpClient, parse_line  # noqa: PLC0415
    from autoconf.probe.errors import DialogError  # noqa: PLC0415

    class Script:
        def __init__(self, lines):
            self.lines = list(lines)
            self.sent = b""

        async def readline(self):
            return self.lines.pop(0)

        async def readexactly(self, n):
            raise AssertionError(n)

        def write(self, data):
            self.sent += data

        async def drain(self):
            pass

    t = Script([b"220 mx ESMTP\r\n", b"250-mx\r\n", b"250-AUTH PLAIN LOGIN\r\n",
                b"250 STARTTLS\r\n"])  # fmt: skip
    client = SmtpClient(t)
    assert await client.greeting() == "220 mx ESMTP"
    assert await client.ehlo() == frozenset({"AUTH", "STARTTLS"})
    assert client.mechanisms == ["LOGIN", "PLAIN"]
    assert t.sent == b"EHLO autoconf-health.invalid\r\n"
    with pytest.raises(DialogError):
        parse_line(b"* OK IMAP4rev1 ready\r\n")
    with pytest.raises(DialogError, match="a 554 greeting instead of 220"):
        await SmtpClient(Script([b"554 go away\r\n"])).greeting()

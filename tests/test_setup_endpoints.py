"""The setup endpoints answer real clients' requests through a real socket."""

from __future__ import annotations

import plistlib
from xml.etree import ElementTree as ET

import pytest

from autoconf.formats.autodiscover import NS_OUTLOOK_RESPONSE, NS_RESPONSE
from tests.conftest import ALICE, MOBILESYNC_SCHEMA, pox

NS = {"r": NS_RESPONSE, "o": NS_OUTLOOK_RESPONSE}
THUNDERBIRD_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"


def servers(body: bytes) -> list[tuple[str, str, str, str]]:
    """(type, host, port, socketType) of every server in a clientConfig document."""
    root = ET.fromstring(body)
    return [
        (
            s.get("type", ""),
            s.findtext("hostname", ""),
            s.findtext("port", ""),
            s.findtext("socketType", ""),
        )
        for s in root.iter()
        if s.tag in ("incomingServer", "outgoingServer")
    ]


async def test_autoconfig_with_address(service):
    """Thunderbird's request gets the demo servers, IMAP first, POP3 keeping mail."""
    client = await service()
    resp = await client.get(
        "/mail/config-v1.1.xml",
        params={"emailaddress": ALICE},
        headers={"User-Agent": THUNDERBIRD_UA},
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    body = await resp.read()
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert servers(body) == [
        ("imap", "imap.example.com", "993", "SSL"),
        ("imap", "imap.example.com", "143", "STARTTLS"),
        ("pop3", "pop.example.com", "995", "SSL"),
        ("smtp", "smtp.example.com", "465", "SSL"),
        ("smtp", "smtp.example.com", "587", "STARTTLS"),
    ]
    root = ET.fromstring(body)
    assert root.findtext(".//leaveMessagesOnServer") == "true"
    assert {u.text for u in root.iter("username")} == {"%EMAILADDRESS%"}
    assert {a.text for a in root.iter("authentication")} == {"password-cleartext"}
    assert [d.text for d in root.iter("domain")] == ["example.com"]


async def test_autoconfig_from_host_header(service):
    """Without ?emailaddress= the domain comes from the Host header autoconfig.<domain>."""
    client = await service()
    resp = await client.get("/mail/config-v1.1.xml", headers={"Host": "autoconfig.example.net"})
    assert resp.status == 200
    assert [d.text for d in ET.fromstring(await resp.read()).iter("domain")] == ["example.net"]


async def test_autoconfig_host_without_domain_is_400(service):
    """A bare IP Host and no address is a 400 that says how to ask."""
    client = await service()
    resp = await client.get("/mail/config-v1.1.xml", headers={"Host": "127.0.0.1:8080"})
    assert resp.status == 400
    assert "emailaddress" in (await resp.json())["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.com",
        "/v1.1/example.com",
        "/v1.1/EXAMPLE.com.",
        "/MAIL/Config-v1.1.xml?emailaddress=alice%40example.com",
    ],
)
async def test_autoconfig_variants(service, path):
    """Every Mozilla URL form, in any case, answers the same document."""
    client = await service()
    reference = await (await client.get("/v1.1/example.com")).read()
    resp = await client.get(path)
    assert resp.status == 200
    assert await resp.read() == reference


async def test_unknown_and_known_local_part_same_answer(service):
    """No account enumeration: any local part of a hosted domain gets the same document."""
    client = await service()
    known = await (await client.get("/mail/config-v1.1.xml?emailaddress=alice@example.com")).read()
    unknown = await (
        await client.get("/mail/config-v1.1.xml?emailaddress=nobody-here@example.com")
    ).read()
    assert known == unknown
    a = await (await client.post("/autodiscover/autodiscover.xml", data=pox(ALICE))).read()
    b = await (
        await client.post("/autodiscover/autodiscover.xml", data=pox("nobody-here@example.com"))
    ).read()
    assert a.replace(b"alice", b"X") == b.replace(b"nobody-here", b"X")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/mail/config-v1.1.xml?emailaddress=eve@unhosted.test", {}),
        ("GET", "/v1.1/unhosted.test", {}),
        ("POST", "/autodiscover/autodiscover.xml", {"data": pox("eve@unhosted.test")}),
        (
            "GET",
            "/autodiscover/autodiscover.json?Email=eve@unhosted.test&Protocol=AutodiscoverV1",
            {},
        ),
        ("GET", "/apple/mail.mobileconfig?emailaddress=eve@unhosted.test", {}),
    ],
)
async def test_unhosted_domain_is_clean_404(service, method, path, kwargs):
    """An unhosted domain gets a 404 whose body does not repeat or hint at the request."""
    client = await service()
    resp = await client.request(method, path, **kwargs)
    assert resp.status == 404
    text = await resp.text()
    assert "unhosted" not in text
    assert "eve" not in text


async def test_autodiscover_settings(service):
    """Outlook's POX request gets IMAP, POP3, SMTP with Thunderbird-safe on/off values."""
    client = await service()
    resp = await client.post(
        "/autodiscover/autodiscover.xml",
        data=pox(ALICE),
        headers={"Content-Type": "text/xml; charset=utf-8"},
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(await resp.read())
    protocols = root.findall("o:Response/o:Account/o:Protocol", NS)
    types = [p.findtext("o:Type", namespaces=NS) for p in protocols]
    assert types == ["IMAP", "IMAP", "POP3", "SMTP", "SMTP"]
    for p in protocols:
        assert p.findtext("o:LoginName", namespaces=NS) == ALICE
        assert p.findtext("o:SPA", namespaces=NS) == "off"
        assert p.findtext("o:SSL", namespaces=NS) == "on"
    starttls = [p for p in protocols if p.findtext("o:Port", namespaces=NS) in ("143", "587")]
    assert {p.findtext("o:Encryption", namespaces=NS) for p in starttls} == {"TLS"}


@pytest.mark.parametrize(
    ("path", "content_type", "namespace_scheme"),
    [
        ("/autodiscover/autodiscover.xml", "text/xml", "http"),
        ("/Autodiscover/Autodiscover.xml", "application/xml", "https"),
        ("/AUTODISCOVER/AUTODISCOVER.XML", "text/xml; charset=utf-8", "http"),
    ],
)
async def test_autodiscover_variants(service, path, content_type, namespace_scheme):
    """Path case, content type and http/https namespace forms all get settings."""
    client = await service()
    body = pox(ALICE).replace(b"http://", f"{namespace_scheme}://".encode())
    resp = await client.post(path, data=body, headers={"Content-Type": content_type})
    assert resp.status == 200
    root = ET.fromstring(await resp.read())
    assert root.findtext("o:Response/o:Account/o:Action", namespaces=NS) == "settings"


async def test_autodiscover_alias_redirects(service, catalog_file):
    """An alias domain answers redirectAddr to the hosted address."""
    client = await service(catalog_file())
    resp = await client.post("/autodiscover/autodiscover.xml", data=pox("bob@alias.example"))
    root = ET.fromstring(await resp.read())
    account = root.find("o:Response/o:Account", NS)
    assert account is not None
    assert account.findtext("o:Action", namespaces=NS) == "redirectAddr"
    assert account.findtext("o:RedirectAddr", namespaces=NS) == "bob@example.org"


async def test_mobilesync_without_activesync_is_601(service):
    """The new Outlook's mobilesync schema gets MS error 601 when no ActiveSync is offered."""
    client = await service()
    resp = await client.post("/autodiscover/autodiscover.xml", data=pox(ALICE, MOBILESYNC_SCHEMA))
    assert resp.status == 200
    root = ET.fromstring(await resp.read())
    assert root.findtext("r:Response/r:Error/r:ErrorCode", namespaces=NS) == "601"


async def test_mobilesync_with_activesync(service, catalog_file):
    """With an ActiveSync URL in the catalog, mobilesync gets that URL."""
    path = catalog_file(
        extra='activesync_url = "https://eas.example.org/Microsoft-Server-ActiveSync"'
    )
    client = await service(path)
    resp = await client.post(
        "/autodiscover/autodiscover.xml", data=pox("bob@example.org", MOBILESYNC_SCHEMA)
    )
    body = await resp.read()
    assert b"<Url>https://eas.example.org/Microsoft-Server-ActiveSync</Url>" in body
    assert b"<Type>MobileSync</Type>" in body


async def test_autodiscover_get_is_600(service):
    """GET on the POX URL answers the MS error document 600 with HTTP 200."""
    client = await service()
    resp = await client.get("/autodiscover/autodiscover.xml")
    assert resp.status == 200
    root = ET.fromstring(await resp.read())
    error = root.find("r:Response/r:Error", NS)
    assert error is not None
    assert error.findtext("r:ErrorCode", namespaces=NS) == "600"
    assert error.get("Time")
    assert error.get("Id", "").isdigit()


@pytest.mark.parametrize(
    "url",
    [
        "/autodiscover/autodiscover.json?Email=alice@example.com&Protocol=AutodiscoverV1",
        "/autodiscover/autodiscover.json?email=alice@example.com&protocol=autodiscoverv1",
        "/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=Autodiscoverv1",
        "/Autodiscover/Autodiscover.json/v1.0/alice@example.com?Protocol=AUTODISCOVERV1",
    ],
)
async def test_autodiscover_json(service, url):
    """Autodiscover v2 points at the POX URL; Protocol matches in any case."""
    client = await service()
    resp = await client.get(url)
    assert resp.status == 200
    assert await resp.json() == {
        "Protocol": "AutodiscoverV1",
        "Url": "https://autodiscover.example.com/autodiscover/autodiscover.xml",
    }


async def test_autodiscover_json_unknown_protocol(service):
    """An unknown Protocol is a 400 in Exchange's ErrorCode shape."""
    client = await service()
    resp = await client.get("/autodiscover/autodiscover.json/v1.0/alice@example.com?Protocol=Rest")
    assert resp.status == 400
    data = await resp.json()
    assert data["ErrorCode"] == "InvalidProtocol"
    assert "'Rest'" in data["ErrorMessage"]
    assert "AutodiscoverV1" in data["ErrorMessage"]


async def test_mobileconfig_profile(service):
    """iOS gets an installable IMAP profile: right type, attachment, no password, no empties."""
    client = await service()
    resp = await client.get("/apple/mail.mobileconfig", params={"emailaddress": ALICE})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-apple-aspen-config"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert ".mobileconfig" in resp.headers["Content-Disposition"]
    profile = plistlib.loads(await resp.read())
    (mail,) = profile["PayloadContent"]
    assert mail["EmailAccountType"] == "EmailTypeIMAP"
    assert mail["IncomingMailServerHostName"] == "imap.example.com"
    assert mail["IncomingMailServerPortNumber"] == 993
    assert mail["IncomingMailServerUseSSL"] is True
    assert mail["OutgoingMailServerPortNumber"] == 465
    assert mail["IncomingMailServerUsername"] == ALICE
    assert "IncomingPassword" not in mail
    assert "OutgoingPassword" not in mail

    def values(obj: object) -> list[object]:
        if isinstance(obj, dict):
            return [v for x in obj.values() for v in values(x)]
        if isinstance(obj, list):
            return [v for x in obj for v in values(x)]
        return [obj]

    assert all(v not in ("", None) for v in values(profile))


async def test_mobileconfig_ids_stable_per_address(service):
    """A re-download replaces the installed profile: same identifier and UUIDs per address."""
    client = await service()
    first = plistlib.loads(
        await (await client.get("/apple/mail.mobileconfig?emailaddress=alice@example.com")).read()
    )
    again = plistlib.loads(
        await (await client.get("/apple/mail.mobileconfig?emailaddress=Alice@EXAMPLE.com")).read()
    )
    other = plistlib.loads(
        await (await client.get("/apple/mail.mobileconfig?emailaddress=bob@example.com")).read()
    )
    assert first["PayloadIdentifier"] == again["PayloadIdentifier"]
    assert first["PayloadUUID"] == again["PayloadUUID"]
    assert first["PayloadIdentifier"] != other["PayloadIdentifier"]
    assert first["PayloadUUID"] != other["PayloadUUID"]


async def test_mobileconfig_needs_address(service):
    """Without an address the profile URL says how to ask."""
    client = await service()
    resp = await client.get("/apple/mail.mobileconfig")
    assert resp.status == 400
    assert "emailaddress" in (await resp.json())["message"]


async def test_apple_page(service):
    """The Apple page asks for the address and submits to the profile URL."""
    client = await service()
    resp = await client.get("/apple/")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    text = await resp.text()
    assert 'action="/apple/mail.mobileconfig"' in text
    assert 'name="emailaddress"' in text


async def test_health_endpoints(service):
    """healthz answers; readyz reports the catalog and that the store answers."""
    client = await service()
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    data = await ready.json()
    assert data["status"] == "ready"
    assert data["domains"] == 2


async def test_head_request(service):
    """HEAD on a setup URL answers like GET, without a body."""
    client = await service()
    resp = await client.head("/mail/config-v1.1.xml?emailaddress=alice@example.com")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    assert await resp.read() == b""

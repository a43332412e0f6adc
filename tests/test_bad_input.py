"""Hostile and broken requests get a 4xx or an MS error with a sentence, never a 500."""

from __future__ import annotations

import asyncio
import io
from xml.etree import ElementTree as ET

import pytest

from autoconf import logs
from autoconf.formats.autodiscover import NS_RESPONSE
from tests.conftest import ALICE, pox

NS = {"r": NS_RESPONSE}
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
<Request><EMailAddress>&lol3;</EMailAddress></Request></Autodiscover>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
<Request><EMailAddress>&xxe;</EMailAddress></Request></Autodiscover>"""
TWO_REQUESTS = pox(ALICE).replace(b"</Autodiscover>", b"<Request/></Autodiscover>")


def ms_error(body: bytes) -> tuple[str, str]:
    """(ErrorCode, Message) of an Autodiscover error document."""
    root = ET.fromstring(body)
    error = root.find("r:Response/r:Error", NS)
    assert error is not None, body
    return error.findtext("r:ErrorCode", "", NS), error.findtext("r:Message", "", NS)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "no body"),
        (b"   \n", "no body"),
        (b"<Autodiscover><Request>", "not well-formed"),
        (b"\xff\xfe<\x00A\x00", "not UTF-8"),
        ("<?xml version='1.0' encoding='latin-1'?><a>\xe9</a>".encode("latin-1"), "not UTF-8"),
        (BILLION_LAUGHS, "DTD or entities"),
        (EXTERNAL_ENTITY, "DTD or entities"),
        (TWO_REQUESTS, "exactly one Request"),
        (b"<Other xmlns='urn:x'/>", "root element"),
        (pox(""), "no EMailAddress"),
        (pox("not-an-address"), "local part, an @ and a domain"),
        (pox("a" * 300 + "@example.com"), "longer than 254"),
        (pox("alice@exa mple.com"), "label"),
    ],
)
async def test_bad_autodiscover_bodies_get_600(service, body, says):
    """Malformed, hostile, non-UTF-8, multi-request and bad-address bodies get MS error 600."""
    client = await service()
    resp = await client.post("/autodiscover/autodiscover.xml", data=body)
    assert resp.status == 200
    code, message = ms_error(await resp.read())
    assert code == "600"
    assert says in message


async def test_oversized_body_is_413_before_reading(service):
    """A body over 64 KiB is refused with 413 and a sentence naming the limit."""
    client = await service()
    resp = await client.post("/autodiscover/autodiscover.xml", data=b"x" * (64 * 1024 + 1))
    assert resp.status == 413
    assert "65536 bytes" in (await resp.json())["message"]


async def test_oversized_chunked_body_is_413(service):
    """A chunked body (no Content-Length) that grows past the limit is refused with 413."""
    client = await service()

    async def chunks():
        for _ in range(100):
            yield b"y" * 4096

    resp = await client.post("/autodiscover/autodiscover.xml", data=chunks())
    assert resp.status == 413


async def test_huge_declared_length_refused_quickly(service):
    """A client announcing 1 GB is refused at once, without the service waiting for the body."""
    client = await service()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: text/xml\r\nContent-Length: 1000000000\r\n\r\n<Autodiscover"
    )
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 2)
    writer.close()
    assert status.startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize(
    ("address", "says"),
    [
        ("alice\x00@example.com", "control character"),
        ("alice\r\nX-Injected: 1@example.com", "control character"),
        ("a" * 255 + "@example.com", "longer than 254"),
        ("x" * 70 + "@example.com", "longer than 64"),
        ("@example.com", "local part"),
        ("alice@", "domain is empty"),
        ("alice@localhost", "two labels"),
        ("alice@-bad-.com", "label"),
        ("<script>@example.com", "characters"),
        ("alice@[127.0.0.1]", "label"),
        ("alice@192.168.0.1", "IP address"),
    ],
)
@pytest.mark.parametrize(
    "url",
    ["/mail/config-v1.1.xml?emailaddress=", "/apple/mail.mobileconfig?emailaddress="],
)
async def test_bad_addresses_get_400_with_sentence(service, url, address, says):
    """Absurd or malicious addresses get a 400 whose message says what is wrong."""
    client = await service()
    resp = await client.get(url.split("?")[0], params={"emailaddress": address})
    assert resp.status == 400
    data = await resp.json()
    assert data["error"] == "bad_address"
    assert says in data["message"]
    assert "<script>" not in data["message"]


async def test_bad_address_in_json_autodiscover(service):
    """Autodiscover v2 with a broken address answers its own 400 shape."""
    client = await service()
    resp = await client.get(
        "/autodiscover/autodiscover.json",
        params={"Email": "x\x01@example.com", "Protocol": "AutodiscoverV1"},
    )
    assert resp.status == 400
    assert (await resp.json())["ErrorCode"] == "InvalidUser"


async def test_idn_address_works(service, catalog_file):
    """An internationalised domain is matched through its punycode form."""
    client = await service(catalog_file())
    resp = await client.get("/mail/config-v1.1.xml", params={"emailaddress": "anna@BÜCHER.example"})
    assert resp.status == 200
    assert b"<domain>xn--bcher-kva.example</domain>" in await resp.read()


async def test_apple_page_escapes_address(service):
    """A script in the prefilled address is escaped on the Apple page."""
    client = await service()
    resp = await client.get("/apple/", params={"emailaddress": '"><script>alert(1)</script>'})
    text = await resp.text()
    assert "<script>alert(1)" not in text
    assert "&quot;&gt;&lt;script&gt;" in text


async def test_address_is_escaped_in_xml(service):
    """An address with XML metacharacters comes back escaped, the document stays well-formed."""
    client = await service()
    resp = await client.post("/autodiscover/autodiscover.xml", data=pox("a&amp;b'c@example.com"))
    body = await resp.read()
    root = ET.fromstring(body)  # well-formed
    assert b"a&amp;b'c@example.com" in body
    assert root is not None


@pytest.mark.parametrize("fmt", ["console", "json"])
async def test_control_characters_never_reach_the_log(service, fmt):
    """A path with an encoded newline and escape code is logged escaped: no forged line."""
    stream = io.StringIO()
    logs.configure("info", fmt, stream, cache=False)
    try:
        client = await service()
        resp = await client.get("/nothing%0Afake-line%1b[31m")
        await client.close()  # the access log is written in batches: flush it
    finally:
        logs.reset()
    assert resp.status == 404
    lines = [ln for ln in stream.getvalue().splitlines() if "http.request" in ln]
    assert len(lines) == 1
    assert not any(ln.startswith("fake-line") for ln in stream.getvalue().splitlines())
    assert r"\x1b" in lines[0] or r"\u001b" in lines[0]
    assert "\x1b" not in lines[0]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/mail/config-v1.1.xml"),
        ("GET", "/no/such/page"),
        ("PUT", "/apple/mail.mobileconfig"),
        ("GET", "/v1.1/" + "a" * 300),
        ("GET", "/v1.1/%00"),
        ("GET", "/autodiscover/autodiscover.json/v1.0/%FF%FE"),
    ],
)
async def test_odd_requests_never_500(service, method, path):
    """Wrong methods, unknown paths and garbage path segments get a 4xx JSON answer."""
    client = await service()
    resp = await client.request(method, path)
    assert 400 <= resp.status < 500
    data = await resp.json()
    assert data.get("message") or data.get("ErrorMessage")


async def test_wrong_method_is_405_with_allow(service):
    """A known path with the wrong method says 405 and which methods it takes."""
    client = await service()
    resp = await client.delete("/Mail/Config-v1.1.xml")
    assert resp.status == 405
    assert set(resp.headers["Allow"].split(",")) == {"GET", "HEAD"}
    assert (await resp.json())["error"] == "method_not_allowed"

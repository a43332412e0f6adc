"""The fast POX request reader agrees with a defusedxml ElementTree reader on every input."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET
import pytest

from autoconf.formats import pox_request
from autoconf.formats.pox_request import (
    NS_MOBILESYNC_REQUEST,
    NS_MOBILESYNC_RESPONSE,
    NS_OUTLOOK_REQUEST,
    NS_OUTLOOK_RESPONSE,
    InvalidRequest,
    Request,
    http_form,
    parse_request,
    parse_with_expat,
)
from tests.conftest import pox
from tests.test_bad_input import BILLION_LAUGHS, EXTERNAL_ENTITY, TWO_REQUESTS

NS = NS_OUTLOOK_REQUEST


def oracle(body: bytes) -> Request | str:
    """The reference reader: defusedxml's ElementTree, forbid_dtd, the same rules."""

    def split(tag: str) -> tuple[str, str]:
        if tag.startswith("{"):
            namespace, _, local = tag[1:].partition("}")
            return http_form(namespace), local
        return "", tag

    if not body.strip():
        return "empty"
    try:
        body.decode("utf-8")
        root = SafeET.fromstring(body, forbid_dtd=True)
    except UnicodeDecodeError:
        return "utf-8"
    except defusedxml.DefusedXmlException:
        return "dtd"
    except ET.ParseError:
        return "xml"
    namespace, local = split(root.tag)
    if local != "Autodiscover" or namespace not in (NS_OUTLOOK_REQUEST, NS_MOBILESYNC_REQUEST):
        return "root"
    requests = [child for child in root if split(child.tag) == (namespace, "Request")]
    if len(requests) != 1:
        return "requests"
    fields = {split(child.tag)[1]: (child.text or "").strip() for child in requests[0]}
    if not fields.get("EMailAddress"):
        return "email"
    default = NS_OUTLOOK_RESPONSE if namespace == NS_OUTLOOK_REQUEST else NS_MOBILESYNC_RESPONSE
    return Request(
        fields["EMailAddress"], http_form(fields.get("AcceptableResponseSchema") or default)
    )


def ours(body: bytes) -> Request | str:
    """The reader the service uses, its errors reduced to the oracle's words."""
    try:
        return parse_request(body)
    except InvalidRequest as exc:
        text = str(exc)
        for needle, word in (
            ("no body", "empty"),
            ("UTF-8", "utf-8"),
            ("DTD", "dtd"),
            ("well-formed", "xml"),
            ("root element", "root"),
            ("exactly one", "requests"),
            ("EMailAddress", "email"),
        ):
            if needle in text:
                return word
        raise


CORPUS = [
    pox("alice@example.com"),
    pox("alice@example.com").replace(b"http://", b"https://"),
    pox("alice@example.com", NS_MOBILESYNC_RESPONSE),
    pox("alice@example.com").replace(NS_OUTLOOK_REQUEST.encode(), NS_MOBILESYNC_REQUEST.encode()),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a@b.c</EMailAddress></Request>'
    "</Autodiscover>".encode(),
    f'<a:Autodiscover xmlns:a="{NS}"><a:Request><a:EMailAddress> x@y.z </a:EMailAddress>'
    "</a:Request></a:Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a@b.c<i>x</i>tail</EMailAddress>'
    "</Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a@b.c</EMailAddress>'
    "<EMailAddress>d@e.f</EMailAddress></Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress><![CDATA[c@d.e]]></EMailAddress>'
    "</Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a&amp;b@c.d</EMailAddress>'
    "</Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>&#x61;@b.c</EMailAddress>'
    "</Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>&nope;</EMailAddress>'
    "</Request></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Other><Request><EMailAddress>a@b.c</EMailAddress>'
    "</Request></Other></Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request xmlns="urn:other"><EMailAddress>a@b.c</EMailAddress>'
    "</Request></Autodiscover>".encode(),
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- hi -->' + pox("a@b.c").split(b"?>", 1)[1],
    b"\xef\xbb\xbf" + pox("bom@example.com"),
    "<?xml version='1.0' encoding='latin-1'?><a>\xe9</a>".encode("latin-1"),
    b'<!DOCTYPE Autodiscover SYSTEM "http://evil.example/x.dtd">' + pox("a@b.c").split(b"?>", 1)[1],
    b"<Autodiscover",
    b"",
    b"   ",
    b"\x00\x01\x02",
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    TWO_REQUESTS,
    b"<Autodiscover/>",
    f'<Autodiscover xmlns="{NS}"/>'.encode(),
    pox(""),
    pox("é@example.com"),
    b"<?xml version='1.0' encoding='UTF-8'?>" + pox("q@example.com").split(b"?>", 1)[1],
    b"<?xml version='1.0'?>\r\n" + pox("r@example.com").split(b"?>", 1)[1],
    pox("s@example.com").replace(b"<Request>", b"<Request >"),
    pox("t@example.com").replace(b"  <Request>", b"\t<Request>\r\n"),
    pox("u@example.com").split(b"?>", 1)[1],
    pox("tab\there@example.com"),
    pox("x]]>y@example.com"),
    pox("v@example.com").replace(b"</EMailAddress>", b"</EMailAddress><Extra/>"),
    pox("w@example.com", ""),
    pox("w@example.com", "  "),
    pox("  spaced@example.com  "),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a@b.c</EMailAddress></Request>'
    "</Autodiscover>trailing".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><EMailAddress>a@b.c</EMailAddress></Request>'
    "</Autodiscover><!-- after -->".encode(),
    f"<Autodiscover xmlns='{NS}'><Request><EMailAddress>a@b.c</EMailAddress></Request>"
    "</Autodiscover>".encode(),
    f'<Autodiscover xmlns="{NS}"><Request><AcceptableResponseSchema>{NS_MOBILESYNC_RESPONSE}'
    "</AcceptableResponseSchema><EMailAddress>a@b.c</EMailAddress></Request>"
    "</Autodiscover>".encode(),
]


@pytest.mark.parametrize("body", CORPUS)
def test_agrees_with_defusedxml(body):
    """Accepted documents give the same address and schema; refused ones the same reason."""
    assert ours(body) == oracle(body)


@pytest.mark.parametrize("body", CORPUS)
def test_fast_path_agrees_with_expat(body):
    """Whatever the canonical pattern accepts, the full reader reads the same way."""
    fast = pox_request._CANONICAL.match(body)
    if fast is not None and fast.group(4).strip():
        assert parse_request(body) == parse_with_expat(body)


@pytest.mark.parametrize(
    "body",
    [
        pox("alice@example.com"),
        pox("alice@example.com").replace(b"http://", b"https://"),
        pox("alice@example.com", NS_MOBILESYNC_RESPONSE),
        pox("alice@example.com").split(b"?>", 1)[1].replace(b"\n", b""),
    ],
)
def test_clients_requests_take_the_fast_path(body, monkeypatch):
    """Requests as Outlook and Thunderbird send them never reach the slower reader."""

    def refuse(_body: bytes) -> Request:
        raise AssertionError("took the expat path")

    monkeypatch.setattr(pox_request, "parse_with_expat", refuse)
    assert parse_request(body).email == "alice@example.com"

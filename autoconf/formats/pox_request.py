"""The Autodiscover POX request, read on the hot path of every POST.

The request as Outlook and Thunderbird send it is matched by one strict pattern that only
accepts plain text between the expected tags (no markup, entity or control character), so
what it accepts is well-formed and declares nothing. Every other document goes to a
hardened single-pass expat reader: entity expansion and external entities are off exactly
as defusedxml switches them off (any DOCTYPE, entity declaration or external reference stops
the parse with defusedxml's own exceptions), and it keeps only what the answer needs.
Tests compare both with a defusedxml ElementTree reader on hostile and odd documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

_MS = "schemas.microsoft.com/exchange/autodiscover"
NS_OUTLOOK_REQUEST = f"http://{_MS}/outlook/requestschema/2006"
NS_OUTLOOK_RESPONSE = f"http://{_MS}/outlook/responseschema/2006a"
NS_MOBILESYNC_REQUEST = f"http://{_MS}/mobilesync/requestschema/2006"
NS_MOBILESYNC_RESPONSE = f"http://{_MS}/mobilesync/responseschema/2006"
_REQUEST_NAMESPACES = (NS_OUTLOOK_REQUEST, NS_MOBILESYNC_REQUEST)


class InvalidRequest(ValueError):
    """The request cannot be understood; answered with MS error 600 and this sentence."""


@dataclass(frozen=True, slots=True)
class Request:
    """What an Autodiscover request asks: an address and the schema it accepts."""

    email: str
    response_schema: str

    @property
    def wants_outlook(self) -> bool:
        """The Outlook (IMAP/POP/SMTP) response schema."""
        return self.response_schema == NS_OUTLOOK_RESPONSE

    @property
    def wants_mobilesync(self) -> bool:
        """The ActiveSync (mobilesync) response schema."""
        return self.response_schema == NS_MOBILESYNC_RESPONSE


def http_form(namespace: str) -> str:
    """Microsoft's examples print https:// namespaces, clients send http://: accept both."""
    return "http://" + namespace[8:] if namespace.startswith("https://") else namespace


def _split(name: str) -> tuple[str, str]:
    namespace, _, local = name.rpartition(" ")
    return http_form(namespace), local


def _forbid_dtd(name: str, sysid: str | None, pubid: str | None, _subset: bool) -> None:
    raise DTDForbidden(name, sysid, pubid)


def _forbid_entity(name: str, *_rest: object) -> None:
    raise EntitiesForbidden(name, None, None, None, None, None)


def _forbid_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


class _Reader:
    """Collects the root, the Request elements and the text of the Request's children."""

    __slots__ = ("depth", "field", "fields", "first_child_seen", "requests", "root", "text")

    def __init__(self) -> None:
        self.depth = 0
        self.root = ""
        self.requests = 0
        self.fields: dict[str, str] = {}
        self.field: str | None = None
        self.text: list[str] = []
        self.first_child_seen = False

    def start(self, name: str, _attrs: object) -> None:
        depth = self.depth = self.depth + 1
        if depth == 1:
            self.root = name
        elif depth == 2:  # noqa: PLR2004 - a child of the root
            if _split(name) == (_split(self.root)[0], "Request"):
                self.requests += 1
        elif depth == 3 and self.requests == 1:  # noqa: PLR2004 - a field of the Request
            self.field = _split(name)[1]
            self.text = []
            self.first_child_seen = False
        elif depth == 4:  # noqa: PLR2004 - ElementTree's .text stops at the first child
            self.first_child_seen = True

    def end(self, _name: str) -> None:
        if self.depth == 3 and self.field is not None:  # noqa: PLR2004
            self.fields[self.field] = "".join(self.text).strip()
            self.field = None
        self.depth -= 1

    def data(self, text: str) -> None:
        if self.depth == 3 and self.field is not None and not self.first_child_seen:  # noqa: PLR2004
            self.text.append(text)


_WS = rb"[ \t\r\n]*"
_TEXT = rb"([^<&>\x00-\x1f\x7f-\xff]*)"  # plain ASCII text: no markup, entity or control
# The request exactly as Outlook and Thunderbird send it. A document this matches is
# well-formed, declares nothing and references no entity; anything else goes to expat.
_CANONICAL = re.compile(
    _WS
    + rb"(?:<\?xml[ \t\r\n]+version=([\"'])1\.0\1(?:[ \t\r\n]+encoding=([\"'])(?i:utf-8)\2)?"
    + _WS
    + rb"\?>)?"
    + _WS
    + rb"<Autodiscover[ \t\r\n]+xmlns=\"(https?://schemas\.microsoft\.com/exchange/autodiscover/"
    + rb"(?:outlook|mobilesync)/requestschema/2006)\""
    + _WS
    + rb">"
    + _WS
    + rb"<Request>"
    + _WS
    + rb"<EMailAddress>"
    + _TEXT
    + rb"</EMailAddress>"
    + _WS
    + rb"(?:<AcceptableResponseSchema>"
    + _TEXT
    + rb"</AcceptableResponseSchema>"
    + _WS
    + rb")?</Request>"
    + _WS
    + rb"</Autodiscover>"
    + _WS
    + rb"\Z"
)


def parse_request(body: bytes) -> Request:
    """Parse a POX request body; raise InvalidRequest with a sentence when it is unusable."""
    match = _CANONICAL.match(body)
    if match is not None:
        namespace = http_form(match.group(3).decode())
        email = match.group(4).decode().strip()
        if email:
            schema = (match.group(5) or b"").decode().strip()
            default = (
                NS_OUTLOOK_RESPONSE if namespace == NS_OUTLOOK_REQUEST else NS_MOBILESYNC_RESPONSE
            )
            return Request(email=email, response_schema=http_form(schema or default))
    return parse_with_expat(body)


def parse_with_expat(body: bytes) -> Request:
    """The full reader, for every document the canonical pattern does not match."""
    if not body.strip():
        raise InvalidRequest("The request has no body; POST an Autodiscover request document.")
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("The request body is not UTF-8 encoded.") from None
    reader = _Reader()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _forbid_dtd
    parser.EntityDeclHandler = _forbid_entity
    parser.UnparsedEntityDeclHandler = _forbid_entity
    parser.ExternalEntityRefHandler = _forbid_external
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.buffer_text = True
    try:
        parser.Parse(body, True)  # noqa: FBT003 - expat's isfinal flag
    except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden):
        raise InvalidRequest(
            "The request declares a DTD or entities; Autodiscover requests must not."
        ) from None
    except expat.ExpatError as exc:
        raise InvalidRequest(f"The request is not well-formed XML ({exc}).") from None
    namespace, local = _split(reader.root)
    if local != "Autodiscover" or namespace not in _REQUEST_NAMESPACES:
        raise InvalidRequest(
            "The root element must be Autodiscover in the Outlook or mobilesync request namespace."
        )
    if reader.requests != 1:
        raise InvalidRequest(f"The request must hold exactly one Request, not {reader.requests}.")
    email = reader.fields.get("EMailAddress", "")
    if not email:
        raise InvalidRequest("The Request has no EMailAddress.")
    default = NS_OUTLOOK_RESPONSE if namespace == NS_OUTLOOK_REQUEST else NS_MOBILESYNC_RESPONSE
    schema = http_form(reader.fields.get("AcceptableResponseSchema") or default)
    return Request(email=email, response_schema=schema)

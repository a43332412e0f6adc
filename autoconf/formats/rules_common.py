"""What every client-rule module shares: the Problem type, safe XML parsing, name checks."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from xml.etree import ElementTree as ET

import defusedxml
import defusedxml.ElementTree as SafeET

# Thunderbird's FetchHTTP parses a body as XML only for these Content-Type prefixes.
XML_CONTENT_TYPES = ("text/xml", "application/xml", "text/rdf")
KNOWN_PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")

# Thunderbird Sanitizer.hostname(): a name with %PLACEHOLDER% parts is allowed as is.
_PLACEHOLDER_HOST = re.compile(r"^[a-zA-Z0-9\-.]*(%[A-Z0-9]+%[a-zA-Z0-9\-.]*)+$")
_LABEL = r"[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,255}}$){_LABEL}(?:\.{_LABEL})*\.?$")
_PLACEHOLDER = re.compile(r"%[A-Za-z0-9]+%")


class Severity(StrEnum):
    """How bad a problem is for the client the rule describes."""

    REJECT = "reject"  # the client refuses the document or drops the server, or misreads it
    WARN = "warn"  # the client accepts it, but it is not what a provider should publish


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken client rule: a stable short code and a sentence a support agent reads."""

    code: str
    severity: Severity
    message: str


def reject(code: str, message: str) -> Problem:
    """A problem that makes the client refuse the document or drop a part of it."""
    return Problem(code, Severity.REJECT, message)


def warn(code: str, message: str) -> Problem:
    """A problem the client tolerates but a provider should fix."""
    return Problem(code, Severity.WARN, message)


def content_type_problem(content_type: str | None, what: str) -> Problem | None:
    """Thunderbird reads XML only when the Content-Type starts with an XML media type."""
    if content_type is None or not content_type.strip():
        return reject(
            "content-type-missing",
            f"The {what} was served without a Content-Type header, so Thunderbird does not read "
            "it as XML; serve it as text/xml.",
        )
    if not content_type.strip().lower().startswith(XML_CONTENT_TYPES):
        return reject(
            "content-type-wrong",
            f"The {what} was served as {content_type.strip()!r}; Thunderbird reads only text/xml, "
            "application/xml or text/rdf as XML, so it ignores the document.",
        )
    return None


def parse_xml(body: bytes, what: str) -> tuple[ET.Element | None, list[Problem]]:
    """Parse untrusted XML with DTDs and entities forbidden; the root or a problem."""
    problems: list[Problem] = []
    if body.startswith(b"\xef\xbb\xbf"):
        problems.append(
            warn("xml-bom", f"The {what} starts with a byte order mark; send UTF-8 without one.")
        )
    if not body.strip():
        problems.append(reject("xml-empty", f"The {what} is empty."))
        return None, problems
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        problems.append(
            reject(
                "xml-dtd",
                f"The {what} declares a DTD or entities; this check refuses to expand them, and "
                "a client setup document needs neither.",
            )
        )
        return None, problems
    except ET.ParseError as exc:
        problems.append(
            reject(
                "xml-malformed",
                f"The {what} is not well-formed XML ({exc}), so clients reject it.",
            )
        )
        return None, problems
    return root, problems


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rpartition("}")[2] if tag.startswith("{") else tag


def namespace(tag: str) -> str:
    """An element's namespace in its http:// form ('' when it has none)."""
    if not tag.startswith("{"):
        return ""
    uri = tag[1:].partition("}")[0]
    return "http://" + uri[8:] if uri.startswith("https://") else uri


def children(element: ET.Element, name: str) -> list[ET.Element]:
    """Child elements with this local name, in document order, namespaces ignored."""
    return [child for child in element if local(child.tag) == name]


def child(element: ET.Element, name: str) -> ET.Element | None:
    """The first child with this local name, as Thunderbird's JXON reads it."""
    found = children(element, name)
    return found[0] if found else None


def text(element: ET.Element | None) -> str | None:
    """The stripped text of an element; None when the element is absent."""
    if element is None:
        return None
    return (element.text or "").strip()


def is_hostname(value: str, *, placeholders: bool = False) -> bool:
    """A DNS name or IP literal (Thunderbird hostnameUtils); %X% placeholders if allowed."""
    if placeholders and _PLACEHOLDER_HOST.match(value):
        return True
    if _HOSTNAME.match(value):
        return True
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def placeholder_problem(value: str, where: str) -> Problem | None:
    """A warning for %-signs that are not one of the placeholders clients expand."""
    unknown = [p for p in _PLACEHOLDER.findall(value) if p not in KNOWN_PLACEHOLDERS]
    rest = _PLACEHOLDER.sub("", value)
    if not unknown and "%" not in rest:
        return None
    shown = ", ".join(unknown) if unknown else value
    return warn(
        "placeholder-unknown",
        f"{where} contains {shown}, which is not one of the placeholders "
        f"{', '.join(KNOWN_PLACEHOLDERS)}; clients would use it literally.",
    )


def port_value(raw: str | None) -> int | None:
    """A port number in 1-65535 written in decimal digits, or None."""
    if raw is None or not raw.isdigit():
        return None
    port = int(raw)
    return port if 1 <= port <= 65535 else None  # noqa: PLR2004 - the TCP port range

"""The lookups Thunderbird and Outlook make, and what they make of each answer: pure.

Candidate URLs and SRV names for a domain, and the judgement of one HTTP answer through the
shared client rules (autoconf/formats/rules.py): "Thunderbird would accept this" or exactly
why not. Sources: reference/formats.md §1 (lookup order), autodiscover-apple.md §1.1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from autoconf.formats import rules
from autoconf.formats.rules_common import child, children, parse_xml, port_value, text
from autoconf.formats.rules_pox import STARTTLS_PORTS
from autoconf.health.model import ServerRef, Status, Step
from autoconf.probe.connect import TlsMode

if TYPE_CHECKING:
    from collections.abc import Callable

    from autoconf.formats.rules_common import Problem

AUTOCONFIG_PATH = "/mail/config-v1.1.xml"
WELL_KNOWN_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"
POX_PATH = "/autodiscover/autodiscover.xml"
POX_REQUEST = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
    'requestschema/2006"><Request><EMailAddress>{address}</EMailAddress>'
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    "responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)
# RFC 6186 / RFC 8314 services: (label, protocol, TLS mode), implicit TLS first.
MAIL_SRV = (
    ("_imaps._tcp", "imap", TlsMode.SSL),
    ("_imap._tcp", "imap", TlsMode.STARTTLS),
    ("_pop3s._tcp", "pop3", TlsMode.SSL),
    ("_pop3._tcp", "pop3", TlsMode.STARTTLS),
    ("_submissions._tcp", "smtp", TlsMode.SSL),
    ("_submission._tcp", "smtp", TlsMode.STARTTLS),
)
SOCKET_MODES = {"SSL": TlsMode.SSL, "STARTTLS": TlsMode.STARTTLS, "plain": TlsMode.NONE}
# Thunderbird's GuessConfig: host names and ports in the order it tries them.
GUESS_HOSTS = {
    "imap": ("imap.{d}", "mail.{d}", "{d}"),
    "pop3": ("pop3.{d}", "pop.{d}", "mail.{d}", "{d}"),
    "smtp": ("smtp.{d}", "mail.{d}", "{d}"),
}
GUESS_PORTS = {
    "imap": ((993, TlsMode.SSL), (143, TlsMode.STARTTLS)),
    "pop3": ((995, TlsMode.SSL), (110, TlsMode.STARTTLS)),
    "smtp": ((587, TlsMode.STARTTLS), (465, TlsMode.SSL), (25, TlsMode.STARTTLS)),
}


@dataclass(frozen=True, slots=True)
class Answer:
    """What one HTTP request brought back (or the sentence why nothing came)."""

    url: str
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    location: str | None = None
    error: str | None = None
    certificate: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One URL a client tries: the step's name, what it is, method and URL."""

    name: str
    what: str
    url: str
    method: str = "GET"


def thunderbird_candidates(domain: str, address: str) -> list[Candidate]:
    """Thunderbird's provider URLs: HTTPS conf1, conf2, then HTTP conf1, conf2 (formats.md §1)."""
    query = "?emailaddress=" + quote(address, safe="@")
    return [
        Candidate(
            f"{kind}-{scheme}",
            f"the {'autoconfig host' if kind == 'autoconfig' else '.well-known URL'} "
            f"over {scheme.upper()}",
            f"{scheme}://{host}{path}{query}",
        )
        for scheme in ("https", "http")
        for kind, host, path in (
            ("autoconfig", f"autoconfig.{domain}", AUTOCONFIG_PATH),
            ("well-known", domain, WELL_KNOWN_PATH),
        )
    ]


def ispdb_candidate(base: str, domain: str, name: str = "ispdb") -> Candidate:
    """The ISPDB lookup (``https://autoconfig.thunderbird.net/v1.1/<domain>``)."""
    return Candidate(name, f"the ISPDB entry of {domain}", f"{base}{domain}")


def mx_domains(mx_host: str) -> tuple[str, str]:
    """%MXFULLDOMAIN% (the MX host minus its first label) and %MXBASEDOMAIN% (last two labels).

    Thunderbird takes the base domain from the public suffix list; the last two labels are
    the same for most domains (not for co.uk and the like).
    """
    labels = mx_host.rstrip(".").lower().split(".")
    full = ".".join(labels[1:]) if len(labels) > 2 else ".".join(labels)  # noqa: PLR2004
    return full, ".".join(labels[-2:])


def outlook_candidates(domain: str) -> list[Candidate]:
    """Outlook's POST targets in its order: root domain, then autodiscover.<domain>."""
    return [
        Candidate("pox-root", f"the root domain {domain}", f"https://{domain}{POX_PATH}", "POST"),
        Candidate(
            "pox-autodiscover",
            f"autodiscover.{domain}",
            f"https://autodiscover.{domain}{POX_PATH}",
            "POST",
        ),
    ]


def redirect_url(domain: str) -> str:
    """The unauthenticated GET of the HTTP redirect method (MS-OXDISCO)."""
    return f"http://autodiscover.{domain}/Autodiscover/Autodiscover.xml"


def pox_body(address: str) -> bytes:
    """The POX request Outlook sends (the address escaped, unlike Thunderbird does)."""
    from xml.sax.saxutils import escape  # noqa: PLC0415 - only needed here

    return POX_REQUEST.format(address=escape(address)).encode()


# ------------------------------------------------------------------ judging answers


def _problems(found: list[Problem]) -> tuple[dict[str, str], ...]:
    return tuple(
        {"code": p.code, "severity": p.severity.value, "message": p.message} for p in found
    )


def not_there(name: str, client: str, candidate: Candidate, answer: Answer) -> Step | None:
    """A SKIP step when there is simply nothing at the URL; None when there is an answer."""
    if answer.error is not None:
        return Step(client, name, Status.SKIP, f"{candidate.url}: {answer.error}", candidate.url)
    if answer.status is not None and answer.status in (204, 404, 410):
        return Step(
            client,
            name,
            Status.SKIP,
            f"{candidate.url} answered HTTP {answer.status}: nothing there.",
            candidate.url,
        )
    if answer.status is not None and not 200 <= answer.status < 300:  # noqa: PLR2004
        return Step(
            client,
            name,
            Status.FAIL,
            f"{candidate.url} answered HTTP {answer.status}, so the client gets no settings "
            "from it.",
            candidate.url,
        )
    return None


def judge(
    client: str,
    candidate: Candidate,
    answer: Answer,
    check: Callable[[bytes, str | None], list[Problem]],
    reader: str,
) -> Step:
    """A 2xx answer through the client rules: accepted, accepted with warnings, or why not."""
    gone = not_there(candidate.name, client, candidate, answer)
    if gone is not None:
        return gone
    found = check(answer.body, answer.content_type)
    rejects = [p for p in found if p.severity is rules.Severity.REJECT]
    warns = [p for p in found if p.severity is rules.Severity.WARN]
    facts: dict[str, Any] = {"http_status": answer.status, "content_type": answer.content_type}
    if answer.certificate:
        facts["certificate"] = answer.certificate
    if rejects:
        more = f" ({len(found) - 1} more problem(s) listed)" if len(found) > 1 else ""
        message = f"{reader} would not use {candidate.url}: {rejects[0].message}{more}"
        return Step(client, candidate.name, Status.FAIL, message, candidate.url,
                    _problems(found), facts)  # fmt: skip
    if warns:
        message = f"{reader} would accept {candidate.url}, but: " + " ".join(
            p.message for p in warns
        )
        return Step(client, candidate.name, Status.WARN, message, candidate.url,
                    _problems(found), facts)  # fmt: skip
    message = f"{reader} would accept {candidate.url}."
    return Step(client, candidate.name, Status.PASS, message, candidate.url, (), facts)


def expand(value: str, address: str) -> str:
    """Fill the placeholders a client fills (%EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%)."""
    local, _, domain = address.partition("@")
    return (
        value.replace("%EMAILADDRESS%", address)
        .replace("%EMAILLOCALPART%", local)
        .replace("%EMAILDOMAIN%", domain)
    )


def autoconfig_servers(body: bytes, address: str) -> tuple[ServerRef, ...]:
    """The IMAP/POP3/SMTP servers of a clientConfig document, in its order."""
    root, _ = parse_xml(body, "autoconfig file")
    provider = child(root, "emailProvider") if root is not None else None
    if provider is None:
        return ()
    found: list[ServerRef] = []
    for element in (*children(provider, "incomingServer"), *children(provider, "outgoingServer")):
        kind = element.get("type", "")
        host = expand(text(child(element, "hostname")) or "", address).lower()
        port = port_value(text(child(element, "port")))
        sockets = [SOCKET_MODES.get(text(s) or "") for s in children(element, "socketType")]
        mode = next((s for s in sockets if s is not None), None)
        if kind in ("imap", "pop3", "smtp") and host and port and mode is not None:
            found.append(ServerRef(kind, host, port, mode))
    return tuple(dict.fromkeys(found))


def pox_mode(protocol_element: Any, port: int) -> TlsMode:
    """How Outlook connects: Encryption wins, then SSL off, then the port decides."""
    encryption = (text(child(protocol_element, "Encryption")) or "").lower()
    if encryption in ("ssl", "tls", "none"):
        return {"ssl": TlsMode.SSL, "tls": TlsMode.STARTTLS, "none": TlsMode.NONE}[encryption]
    if (text(child(protocol_element, "SSL")) or "on").lower() == "off":
        return TlsMode.NONE
    return TlsMode.STARTTLS if port in STARTTLS_PORTS else TlsMode.SSL


def pox_servers(body: bytes) -> tuple[ServerRef, ...]:
    """The IMAP/POP3/SMTP servers of an Autodiscover POX answer, in its order."""
    root, _ = parse_xml(body, "Autodiscover answer")
    response = child(root, "Response") if root is not None else None
    account = child(response, "Account") if response is not None else None
    if account is None:
        return ()
    found: list[ServerRef] = []
    for element in children(account, "Protocol"):
        kind = (text(child(element, "Type")) or "").lower()
        host = (text(child(element, "Server")) or "").lower()
        port = port_value(text(child(element, "Port")))
        if kind in ("imap", "pop3", "smtp") and host and port:
            found.append(ServerRef(kind, host, port, pox_mode(element, port)))
    return tuple(dict.fromkeys(found))


def pox_redirect(body: bytes) -> tuple[str, str] | None:
    """``("redirectUrl", url)`` or ``("redirectAddr", address)`` when the answer redirects."""
    root, _ = parse_xml(body, "Autodiscover answer")
    response = child(root, "Response") if root is not None else None
    account = child(response, "Account") if response is not None else None
    if account is None:
        return None
    action = text(child(account, "Action")) or ""
    if action in ("redirectUrl", "redirectAddr"):
        target = text(child(account, "RedirectUrl" if action == "redirectUrl" else "RedirectAddr"))
        return (action, target) if target else None
    return None


def servers_sentence(servers: tuple[ServerRef, ...]) -> str:
    """``IMAP imap.example.com:993 (implicit TLS), SMTP ...``."""
    return ", ".join(s.label for s in servers) or "no mail servers"


# ------------------------------------------------------------------ SRV records


@dataclass(frozen=True, slots=True)
class SrvAnswer:
    """The records found for one SRV name: (priority, weight, port, target), or an error."""

    name: str
    records: tuple[tuple[int, int, int, str], ...] = ()
    missing: bool = False  # NXDOMAIN or no SRV record at the name
    error: str | None = None


def srv_step(answer: SrvAnswer, protocol: str, mode: TlsMode) -> tuple[Step, ServerRef | None]:
    """One RFC 6186/8314 SRV name as clients read it: the server it points to, or why none."""
    name = answer.name
    service = name.split(".", 1)[0]
    if answer.error is not None:
        return Step("dns", service, Status.WARN, f"{name}: {answer.error}", name), None
    if answer.missing or not answer.records:
        message = (
            f"There is no {name} SRV record, so clients that follow RFC 6186 (Apple Mail, "
            f"K-9, Evolution and others) cannot find the {protocol.upper()} server by DNS; "
            "'autoconf dns-records' prints the records to publish."
        )
        return Step("dns", service, Status.WARN, message, name), None
    best = min(answer.records, key=lambda r: (r[0], -r[1]))
    priority, weight, port, target = best
    if target in (".", ""):
        message = f"{name} says the service is not offered here (target '.'), as RFC 6186 allows."
        return Step("dns", service, Status.INFO, message, name), None
    server = ServerRef(protocol, target.rstrip(".").lower(), port, mode)
    message = f"{name} points to {server.label} (priority {priority}, weight {weight})."
    step = Step("dns", service, Status.PASS, message, name, facts={"records": answer.records})
    return step, server


def autodiscover_srv_target(answer: SrvAnswer) -> str | None:
    """The host Outlook and Thunderbird take from ``_autodiscover._tcp`` (port ignored)."""
    usable = [r for r in answer.records if r[3] not in (".", "")]
    if not usable:
        return None
    return min(usable, key=lambda r: (r[0], r[1]))[3].rstrip(".").lower()

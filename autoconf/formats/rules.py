"""Client acceptance rules: would Thunderbird, Outlook or Apple Mail read a document as meant.

One pure implementation, shared by the renderer tests and the domain-health checker: bytes
in (a document as served, with its Content-Type), a list of ``Problem`` out. No I/O, no clock.
XML is parsed with defusedxml (no DTD, no entities), profiles with ``plistlib``.

- ``thunderbird_autoconfig``: Mozilla clientConfig as Thunderbird's ``readFromXML`` and
  ``FetchHTTP`` read it (reference/formats.md §2).
- ``thunderbird_pox``: Autodiscover POX as Thunderbird's ``readAutoDiscoverXML`` reads it,
  plus the interop rules for Outlook (reference/autodiscover-apple.md §1.3-1.6, §2).
- ``apple_profile``: a com.apple.mail.managed profile (reference/autodiscover-apple.md §3).

Severity ``reject``: the client refuses the document, drops a server, or sets up something
other than the document means (an unencrypted connection). ``warn``: accepted, but not what a
provider should publish.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoconf.formats.rules_apple import apple_profile
from autoconf.formats.rules_common import (
    Problem,
    Severity,
    child,
    children,
    content_type_problem,
    is_hostname,
    local,
    parse_xml,
    placeholder_problem,
    port_value,
    reject,
    text,
    warn,
)
from autoconf.formats.rules_pox import thunderbird_pox

if TYPE_CHECKING:
    from xml.etree import ElementTree as ET

__all__ = [
    "OAUTH2_HOSTS",
    "Problem",
    "Severity",
    "apple_profile",
    "thunderbird_autoconfig",
    "thunderbird_pox",
]

INCOMING_TYPES = frozenset({"imap", "pop3", "nntp", "exchange"})
# clientConfig 1.2 draft types that carry a URL; Thunderbird's autoconfig reader skips them.
URL_TYPES = frozenset({"jmap", "ews", "owa", "graph", "activesync", "activeSync"})
SOCKET_TYPES = ("plain", "SSL", "STARTTLS")
PASSWORD_AUTH = frozenset({"password-cleartext", "plain", "password-encrypted", "secure"})
INCOMING_AUTH = PASSWORD_AUTH | {"GSSAPI", "NTLM", "OAuth2"}
NO_AUTH = frozenset({"none", "client-IP-address", "smtp-after-pop"})
OUTGOING_AUTH = INCOMING_AUTH | NO_AUTH
DEPRECATED_AUTH = {"plain": "password-cleartext", "secure": "password-encrypted"}
# Well-known hosts for which Thunderbird ships an OAuth2 client registration. Modelled on the
# table in comm-central OAuth2Providers.sys.mjs, but kept by hand and not checked against
# it: extend it when a real provider is missing. For any host not listed, Thunderbird skips
# <authentication>OAuth2</authentication> and tries the next method (formats.md §2).
OAUTH2_HOSTS = frozenset(
    {
        "imap.gmail.com", "pop.gmail.com", "smtp.gmail.com",
        "imap.googlemail.com", "pop.googlemail.com", "smtp.googlemail.com",
        "outlook.office365.com", "smtp.office365.com", "smtp-mail.outlook.com",
        "imap.mail.yahoo.com", "pop.mail.yahoo.com", "smtp.mail.yahoo.com",
        "imap.aol.com", "pop.aol.com", "smtp.aol.com",
        "imap.yandex.com", "pop.yandex.com", "smtp.yandex.com",
        "imap.mail.ru", "smtp.mail.ru",
        "imap.fastmail.com", "pop.fastmail.com", "smtp.fastmail.com",
        "imap.comcast.net", "smtp.comcast.net",
    }
)  # fmt: skip
_WHAT = "autoconfig file"


def _rejected(problems: list[Problem]) -> bool:
    return any(p.severity is Severity.REJECT for p in problems)


def _boolean(element: ET.Element | None, where: str) -> Problem | None:
    """ClientConfig booleans are literally ``true`` or ``false``."""
    value = text(element)
    if value is None or value in ("true", "false"):
        return None
    name = local(element.tag) if element is not None else ""
    if value.lower() in ("true", "false"):
        return warn(
            "boolean-case",
            f"{where}: {name} is {value!r}; write it in lower case (true or false), as the "
            "format defines and other clients expect.",
        )
    return reject(
        "boolean-invalid",
        f"{where}: {name} is {value!r}, not true or false, so Thunderbird drops this server.",
    )


def _endpoint(server: ET.Element, where: str, problems: list[Problem]) -> str:
    """Check hostname, port and socketType; return the host name ('' if missing)."""
    host = text(child(server, "hostname"))
    if not host:
        problems.append(reject("hostname-missing", f"{where} has no hostname, so it is dropped."))
    elif not is_hostname(host, placeholders=True):
        problems.append(
            reject(
                "hostname-invalid",
                f"{where}: {host!r} is not a valid host name, so Thunderbird drops this server.",
            )
        )
    else:
        found = placeholder_problem(host, f"{where}: the hostname")
        if found:
            problems.append(found)
    raw_port = text(child(server, "port"))
    if port_value(raw_port) is None:
        shown = "missing" if raw_port is None else repr(raw_port)
        problems.append(
            reject(
                "port-invalid",
                f"{where}: the port is {shown}, not a number from 1 to 65535, so Thunderbird "
                "drops this server.",
            )
        )
    sockets = [text(s) or "" for s in children(server, "socketType")]
    chosen = next((s for s in sockets if s in SOCKET_TYPES), None)
    if chosen is None:
        shown = ", ".join(repr(s) for s in sockets) or "missing"
        problems.append(
            reject(
                "socket-type-invalid",
                f"{where}: socketType is {shown}; Thunderbird accepts only plain, SSL or "
                "STARTTLS, spelled exactly so, and drops this server.",
            )
        )
    elif chosen == "plain":
        problems.append(
            warn(
                "socket-plain",
                f"{where} uses socketType plain, so Thunderbird would configure an unencrypted "
                "connection and the login and mail travel in clear text.",
            )
        )
    return host or ""


def _authentication(
    server: ET.Element, host: str, allowed: frozenset[str], where: str, problems: list[Problem]
) -> str | None:
    """The first method Thunderbird can use, reporting skipped OAuth2 and deprecated names."""
    methods = [text(a) or "" for a in children(server, "authentication")]
    skipped_oauth = False
    chosen = None
    for method in methods:
        if method not in allowed:
            continue
        if method == "OAuth2" and host.lower() not in OAUTH2_HOSTS:
            skipped_oauth = True
            continue
        chosen = method
        break
    if skipped_oauth:
        tail = (
            f"it falls back to {chosen}."
            if chosen
            else "no other method is listed, so it drops this server."
        )
        problems.append(
            Problem(
                "oauth2-unknown-host",
                Severity.WARN if chosen else Severity.REJECT,
                f"{where} offers OAuth2, but Thunderbird has no OAuth2 registration for {host} "
                f"and ignores it; {tail}",
            )
        )
    elif chosen is None:
        shown = ", ".join(repr(m) for m in methods) or "none listed"
        problems.append(
            reject(
                "authentication-invalid",
                f"{where}: the authentication ({shown}) names no method Thunderbird accepts "
                "here, so it drops this server.",
            )
        )
    if chosen in DEPRECATED_AUTH:
        problems.append(
            warn(
                "authentication-deprecated",
                f"{where} uses the deprecated authentication name {chosen!r}; write "
                f"{DEPRECATED_AUTH[chosen]!r} instead.",
            )
        )
    return chosen


def _username(server: ET.Element, where: str, problems: list[Problem], *, needed: bool) -> None:
    username = text(child(server, "username"))
    if not username:
        if not needed:
            return
        state = "missing" if username is None else "empty"
        problems.append(
            reject(
                "username-missing",
                f"{where}: the username is {state}, so Thunderbird would log in with a "
                "meaningless name (or drop the server); use %EMAILADDRESS% or a real template.",
            )
        )
        return
    found = placeholder_problem(username, f"{where}: the username")
    if found:
        problems.append(found)


def _pop3_policy(server: ET.Element, where: str, problems: list[Problem]) -> None:
    pop3 = child(server, "pop3")
    for name in ("leaveMessagesOnServer", "downloadOnBiff"):
        found = _boolean(child(pop3, name) if pop3 is not None else None, where)
        if found:
            problems.append(found)
    days = text(child(pop3, "daysToLeaveMessagesOnServer") if pop3 is not None else None)
    if days is not None and not days.isdigit():
        problems.append(
            reject(
                "pop3-days-invalid",
                f"{where}: daysToLeaveMessagesOnServer is {days!r}, not a whole number, so "
                "Thunderbird drops this server.",
            )
        )
    leave = text(child(pop3, "leaveMessagesOnServer") if pop3 is not None else None)
    if leave is None or leave.lower() != "true":
        problems.append(
            warn(
                "pop3-deletes",
                f"{where} does not set leaveMessagesOnServer to true, so Thunderbird deletes "
                "each message from the server after downloading it and other devices lose it.",
            )
        )


def _incoming(server: ET.Element, number: int, problems: list[Problem]) -> str | None:
    """Check one incomingServer; return its type if Thunderbird keeps it."""
    kind = server.get("type", "")
    where = f"Incoming server {number} ({kind or 'no type'})"
    if kind in URL_TYPES:
        problems.append(
            warn(
                "server-type-skipped",
                f"{where} is a {kind} server, which Thunderbird's autoconfig reader skips; it "
                "needs an IMAP or POP3 server beside it.",
            )
        )
        return None
    if kind not in INCOMING_TYPES:
        problems.append(
            reject(
                "server-type-invalid",
                f"{where}: type {kind!r} is not imap, pop3, nntp or exchange, so Thunderbird "
                "drops this server.",
            )
        )
        return None
    before = len(problems)
    host = _endpoint(server, where, problems)
    _username(server, where, problems, needed=True)
    _authentication(server, host, INCOMING_AUTH, where, problems)
    if kind == "pop3":
        _pop3_policy(server, where, problems)
    found = _boolean(child(server, "useGlobalPreferredServer"), where)
    if found:
        problems.append(found)
    return None if _rejected(problems[before:]) else kind


def _outgoing(server: ET.Element, number: int, problems: list[Problem]) -> bool:
    """Check one outgoingServer; return whether Thunderbird keeps it."""
    kind = server.get("type", "")
    where = f"Outgoing server {number} ({kind or 'no type'})"
    if kind != "smtp":
        problems.append(
            reject(
                "server-type-invalid",
                f"{where}: type {kind!r} is not smtp, so Thunderbird drops this server.",
            )
        )
        return False
    before = len(problems)
    host = _endpoint(server, where, problems)
    auth = _authentication(server, host, OUTGOING_AUTH, where, problems)
    _username(server, where, problems, needed=auth is not None and auth not in NO_AUTH)
    for name in ("useGlobalPreferredServer", "addThisServer"):
        found = _boolean(child(server, name), where)
        if found:
            problems.append(found)
    return not _rejected(problems[before:])


def _provider(provider: ET.Element, problems: list[Problem]) -> None:
    provider_id = provider.get("id")
    if not provider_id or not is_hostname(provider_id, placeholders=True):
        problems.append(
            reject(
                "provider-id-invalid",
                f"The emailProvider id {provider_id!r} is not a host name (letters, digits, "
                "hyphens and dots), so Thunderbird rejects the whole file.",
            )
        )
    domains = [text(d) or "" for d in children(provider, "domain")]
    good = [d for d in domains if is_hostname(d, placeholders=True)]
    if not good:
        problems.append(
            reject(
                "domain-missing",
                "The emailProvider lists no valid domain, so Thunderbird rejects the file.",
            )
        )
    problems.extend(
        warn("domain-invalid", f"The domain {bad!r} is not a valid domain name; it is skipped.")
        for bad in sorted(set(domains) - set(good))
    )
    kinds = [
        _incoming(server, number, problems)
        for number, server in enumerate(children(provider, "incomingServer"), 1)
    ]
    kept = [k for k in kinds if k]
    if not kept:
        problems.append(
            reject(
                "no-incoming",
                "No incoming server is usable, so Thunderbird rejects the file.",
            )
        )
    elif "imap" in kept and "pop3" in kept and kept.index("pop3") < kept.index("imap"):
        problems.append(
            warn(
                "pop3-before-imap",
                "A POP3 server is listed before the IMAP server, so Thunderbird offers POP3 "
                "first; list IMAP first so the mailbox stays in sync on every device.",
            )
        )
    outgoing = [
        _outgoing(server, number, problems)
        for number, server in enumerate(children(provider, "outgoingServer"), 1)
    ]
    if not any(outgoing):
        problems.append(
            reject(
                "no-smtp",
                "No usable SMTP outgoing server is listed, and Thunderbird requires one, so it "
                "rejects the file.",
            )
        )


def thunderbird_autoconfig(body: bytes, content_type: str | None) -> list[Problem]:
    """Every way Thunderbird would reject or misread this clientConfig document."""
    problems: list[Problem] = []
    found = content_type_problem(content_type, _WHAT)
    if found:
        problems.append(found)
    root, parse_problems = parse_xml(body, _WHAT)
    problems.extend(parse_problems)
    if root is None:
        return problems
    if not body.lstrip(b"\xef\xbb\xbf").startswith(b"<?xml"):
        problems.append(
            warn("xml-declaration", "The autoconfig file has no <?xml ...?> declaration.")
        )
    providers = children(root, "emailProvider")
    if local(root.tag) != "clientConfig" or not providers:
        problems.append(
            reject(
                "no-email-provider",
                "The document has no clientConfig/emailProvider element, so Thunderbird "
                "rejects it.",
            )
        )
        return problems
    if len(providers) > 1:
        problems.append(
            warn(
                "email-provider-repeated",
                f"The file has {len(providers)} emailProvider elements; Thunderbird reads only "
                "the first.",
            )
        )
    _provider(providers[0], problems)
    return problems

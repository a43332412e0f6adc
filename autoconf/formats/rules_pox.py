"""Autodiscover POX answers as Thunderbird reads them, plus the interop rules Outlook needs.

Sources: reference/autodiscover-apple.md §1.3 (settings and interop rules), §1.4 (redirects),
§1.5 (errors), §1.6 (mobilesync) and §2 (Thunderbird's ``readAutoDiscoverXML``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from autoconf.formats.rules_common import (
    Problem,
    Severity,
    child,
    children,
    content_type_problem,
    is_hostname,
    local,
    namespace,
    parse_xml,
    port_value,
    reject,
    text,
    warn,
)

if TYPE_CHECKING:
    from xml.etree import ElementTree as ET

# Written out here rather than imported from the renderer, so a typo there cannot hide.
_MS = "http://schemas.microsoft.com/exchange/autodiscover"
NS_RESPONSE = f"{_MS}/responseschema/2006"
NS_OUTLOOK = f"{_MS}/outlook/responseschema/2006a"
NS_MOBILESYNC = f"{_MS}/mobilesync/responseschema/2006"

MAIL_TYPES = ("IMAP", "POP3", "SMTP")
ON_OFF = ("SSL", "SPA", "AuthRequired", "DomainRequired", "UsePOPAuth", "SMTPLast")
ENCRYPTION = ("None", "SSL", "TLS", "Auto")
# Thunderbird picks STARTTLS on these ports and implicit TLS on every other one.
STARTTLS_PORTS = frozenset({143, 110, 25, 587})
ERROR_CODES = frozenset({500, 501, 600, 601, 602, 603})
# Rejects after which Thunderbird keeps the server, but with the wrong connection security.
_MISREAD = frozenset({"pox-ssl-off-encrypted", "pox-tls-port-mismatch"})
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?$")
_WHAT = "Autodiscover answer"


def _on_off(protocol: ET.Element, where: str, problems: list[Problem]) -> bool:
    """Check the on/off children; False when Thunderbird would drop the Protocol."""
    kept = True
    for name in ON_OFF:
        value = text(child(protocol, name))
        if value is None or value in ("on", "off"):
            continue
        if value.lower() in ("true", "false"):
            problems.append(
                reject(
                    "pox-boolean",
                    f"{where}: {name} is {value!r} instead of on or off; Thunderbird fails on it "
                    "and silently drops this Protocol.",
                )
            )
            kept = False
        elif value.lower() in ("on", "off"):
            problems.append(
                warn(
                    "pox-on-off-case",
                    f"{where}: {name} is {value!r}; write on or off in lower case.",
                )
            )
        else:
            problems.append(
                warn("pox-on-off-invalid", f"{where}: {name} is {value!r}, not on or off.")
            )
    return kept


def _security(
    protocol: ET.Element, kind: str, host: str, port: int, problems: list[Problem]
) -> None:
    """Compare what Thunderbird makes of SSL/Encryption/port with what the document means."""
    where = f"{kind} {host}:{port}"
    ssl = (text(child(protocol, "SSL")) or "on").lower()
    encryption = text(child(protocol, "Encryption"))
    if encryption is not None and encryption not in ENCRYPTION:
        problems.append(
            warn(
                "pox-encryption-invalid",
                f"{where}: Encryption is {encryption!r}, not one of None, SSL, TLS or Auto.",
            )
        )
    wanted = (encryption or "").lower()
    if ssl == "off" and wanted in ("ssl", "tls", "auto"):
        problems.append(
            reject(
                "pox-ssl-off-encrypted",
                f"Thunderbird would configure an unencrypted connection for {where}, because "
                f"SSL is off; Encryption {encryption} is not honoured. Set SSL to on.",
            )
        )
        return
    if ssl == "off" or wanted == "none":
        problems.append(
            warn(
                "pox-unencrypted",
                f"Clients would configure an unencrypted connection for {where}, so the login "
                "and the mail travel in clear text.",
            )
        )
        return
    thunderbird = "STARTTLS" if port in STARTTLS_PORTS else "implicit TLS"
    meant = {"tls": "STARTTLS", "ssl": "implicit TLS"}.get(wanted)
    if meant and meant != thunderbird:
        problems.append(
            reject(
                "pox-tls-port-mismatch",
                f"Thunderbird would use {thunderbird} for {where}, because it decides by the "
                f"port, while Encryption {encryption} means {meant}; use the standard port.",
            )
        )


def _protocol(protocol: ET.Element, number: int, problems: list[Problem]) -> str | None:
    """Check one Protocol; return its Type if Thunderbird keeps it as a mail server."""
    kind = text(child(protocol, "Type")) or ""
    if kind not in MAIL_TYPES:
        if kind.upper() in (*MAIL_TYPES, "POP"):
            problems.append(
                reject(
                    "pox-type-case",
                    f"Protocol {number} has Type {kind!r}; Thunderbird only knows IMAP, POP3 and "
                    "SMTP, spelled exactly so, and ignores this Protocol.",
                )
            )
        return None  # EXCH, WEB, DAV and friends: not for mail clients, silently skipped
    before = len(problems)
    where = f"Protocol {number} ({kind})"
    host = text(child(protocol, "Server"))
    if not host or not is_hostname(host):
        problems.append(
            reject(
                "pox-server-invalid",
                f"{where}: Server is {host or 'missing'!r}, not a valid host name, so "
                "Thunderbird rejects it.",
            )
        )
    raw_port = text(child(protocol, "Port"))
    port = port_value(raw_port)
    if port is None:
        problems.append(
            reject(
                "pox-port-invalid",
                f"{where}: Port is {raw_port or 'missing'!r}, not a number from 1 to 65535, "
                "so Thunderbird drops this Protocol.",
            )
        )
    login = child(protocol, "LoginName")
    if login is not None and not text(login):
        problems.append(
            reject(
                "pox-login-empty",
                f"{where} has an empty LoginName, which Thunderbird turns into the user name "
                "'true'; leave it out or give the real login name.",
            )
        )
    kept = _on_off(protocol, where, problems)
    if child(protocol, "SPA") is None:
        problems.append(
            warn(
                "pox-spa-missing",
                f"{where} has no SPA element, which means on: Outlook tries NTLM and "
                "Thunderbird 'secure' authentication; write <SPA>off</SPA> for passwords.",
            )
        )
    if host and port is not None:
        _security(protocol, kind, host, port, problems)
    dropped = [p for p in problems[before:] if p.severity is Severity.REJECT]
    if not kept or any(p.code not in _MISREAD for p in dropped):
        return None
    return kind


def _settings(account: ET.Element, problems: list[Problem]) -> None:
    kinds = [
        _protocol(protocol, number, problems)
        for number, protocol in enumerate(children(account, "Protocol"), 1)
    ]
    kept = [k for k in kinds if k]
    if "IMAP" not in kept and "POP3" not in kept:
        problems.append(
            reject(
                "pox-no-incoming",
                "No usable IMAP or POP3 Protocol is listed, so Thunderbird finds no incoming "
                "server in this answer.",
            )
        )
    elif "IMAP" in kept and "POP3" in kept and kept.index("POP3") < kept.index("IMAP"):
        problems.append(
            warn(
                "pox-pop3-before-imap",
                "POP3 is listed before IMAP, so Thunderbird sets the account up with POP3; "
                "list IMAP first so the mailbox stays in sync on every device.",
            )
        )
    if "SMTP" not in kept:
        problems.append(
            reject(
                "pox-no-smtp",
                "No usable SMTP Protocol is listed, so Thunderbird cannot complete the account.",
            )
        )


def _account(response: ET.Element, problems: list[Problem]) -> None:
    account = child(response, "Account")
    if account is None:
        problems.append(
            reject("pox-no-account", "The Response has no Account, so clients find no settings.")
        )
        return
    if text(child(account, "AccountType")) != "email":
        problems.append(
            warn("pox-account-type", "The Account should have AccountType email for IMAP/POP/SMTP.")
        )
    action = text(child(account, "Action"))
    if action == "redirectAddr":
        address = text(child(account, "RedirectAddr")) or ""
        user, _, domain = address.rpartition("@")
        if not user or not is_hostname(domain):
            problems.append(
                reject(
                    "pox-redirect-addr",
                    f"The redirect names {address or 'no address'!r}, not an e-mail address.",
                )
            )
        return
    if action == "redirectUrl":
        url = text(child(account, "RedirectUrl")) or ""
        if not url.startswith("https://"):
            problems.append(
                reject("pox-redirect-url", f"The RedirectUrl {url!r} is not an https:// URL.")
            )
        problems.append(
            warn(
                "pox-redirect-url-thunderbird",
                "Thunderbird ignores Action redirectUrl and finds no settings here; only "
                "Outlook follows it. An HTTP redirect works for both.",
            )
        )
        return
    if action != "settings":
        problems.append(
            warn("pox-action", f"The Account's Action is {action!r}; settings is expected here.")
        )
    _settings(account, problems)


def _error(response: ET.Element, error: ET.Element, problems: list[Problem]) -> None:
    """An MS error document: Response in the 2006 namespace, Error with a numeric ErrorCode."""
    if namespace(response.tag) == NS_OUTLOOK:
        problems.append(
            reject(
                "pox-error-namespace",
                "The error Response is in the Outlook 2006a namespace; Exchange-style clients "
                "expect it to inherit the responseschema/2006 namespace, so they do not "
                "recognise the error.",
            )
        )
    if error not in list(response):
        problems.append(
            warn("pox-error-place", "The Error sits inside Account; put it directly in Response.")
        )
    code = text(child(error, "ErrorCode")) or ""
    if not code.isdigit():
        problems.append(
            reject("pox-error-code", f"The ErrorCode {code or 'missing'!r} is not a number.")
        )
    elif int(code) not in ERROR_CODES:
        problems.append(
            warn("pox-error-code-unknown", f"The ErrorCode {code} is not a documented code.")
        )
    if not _TIME.match(error.get("Time", "")):
        problems.append(
            warn("pox-error-time", "The Error's Time attribute is not in HH:MM:SS.fraction form.")
        )
    if not error.get("Id", "").isdigit():
        problems.append(warn("pox-error-id", "The Error's Id attribute is not an unsigned number."))
    if child(error, "Message") is None:
        problems.append(warn("pox-error-message", "The Error has no Message."))


def _mobilesync(response: ET.Element, problems: list[Problem]) -> None:
    """An ActiveSync answer: Action with Settings/Server, Redirect or Error."""
    action = child(response, "Action")
    if action is None:
        problems.append(reject("eas-no-action", "The mobilesync Response has no Action."))
        return
    if child(action, "Redirect") is not None or child(action, "Error") is not None:
        return
    settings = child(action, "Settings")
    servers = children(settings, "Server") if settings is not None else []
    if not servers:
        problems.append(reject("eas-no-server", "The mobilesync Action lists no Settings/Server."))
    for server in servers:
        url = text(child(server, "Url")) or ""
        if text(child(server, "Type")) == "MobileSync" and not url.startswith("https://"):
            problems.append(
                reject("eas-url", f"The MobileSync server URL {url!r} is not an https:// URL.")
            )


def thunderbird_pox(body: bytes, content_type: str | None) -> list[Problem]:
    """Every way Thunderbird (and Outlook, for the interop rules) would misread this answer."""
    problems: list[Problem] = []
    found = content_type_problem(content_type, _WHAT)
    if found:
        problems.append(found)
    root, parse_problems = parse_xml(body, _WHAT)
    problems.extend(parse_problems)
    if root is None:
        return problems
    response = child(root, "Response")
    if local(root.tag) != "Autodiscover" or response is None:
        problems.append(
            reject(
                "pox-no-response",
                "The document is not an Autodiscover element holding a Response, so clients "
                "find no settings in it.",
            )
        )
        return problems
    if namespace(root.tag) != NS_RESPONSE:
        problems.append(
            warn(
                "pox-root-namespace",
                f"The Autodiscover element is not in the {NS_RESPONSE} namespace; Thunderbird "
                "does not mind, but Outlook does.",
            )
        )
    account = child(response, "Account")
    error = child(response, "Error")
    if error is None and account is not None:
        error = child(account, "Error")
    if error is not None:
        _error(response, error, problems)
    elif namespace(response.tag) == NS_MOBILESYNC:
        _mobilesync(response, problems)
    else:
        if namespace(response.tag) != NS_OUTLOOK:
            problems.append(
                warn(
                    "pox-response-namespace",
                    f"The Response is not in the {NS_OUTLOOK} namespace; Thunderbird accepts "
                    "that, but Outlook and exchangelib find no settings.",
                )
            )
        _account(response, problems)
    return problems

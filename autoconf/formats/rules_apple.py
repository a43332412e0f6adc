"""Apple configuration profiles: the checks of reference/autodiscover-apple.md §3.

Parses with ``plistlib`` (it refuses entity declarations) and checks the top-level keys, the
keys every payload carries, and the keys of each com.apple.mail.managed payload.
"""

from __future__ import annotations

import plistlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.parsers.expat import ExpatError

from autoconf.formats.rules_common import Problem, is_hostname, port_value, reject, warn

MAIL_PAYLOAD = "com.apple.mail.managed"
_UUID = r"^[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}$"
_REVERSE_DNS = r"^[A-Za-z0-9-]+(\.[A-Za-z0-9_-]+)+$"
_IMPLICIT_TLS = frozenset({993, 995, 465})
_STARTTLS = frozenset({143, 110, 587, 25})
_PLIST_TYPE = {
    str: "<string>",
    int: "<integer>",
    bool: "<boolean>",
    float: "<real>",
    list: "<array>",
    dict: "<dict>",
    bytes: "<data>",
    datetime: "<date>",
}


@dataclass(frozen=True, slots=True)
class Key:
    """One payload key: its plist type, whether it is required, allowed values, format."""

    type: type
    required: bool = False
    rangelist: tuple[Any, ...] = ()
    pattern: str = ""


_AUTH = ("EmailAuthNone", "EmailAuthPassword", "EmailAuthCRAMMD5", "EmailAuthNTLM",
         "EmailAuthHTTPMD5")  # fmt: skip

# TopLevel.yaml of apple/device-management, as summarised in reference/autodiscover-apple.md §3.
TOP_LEVEL: dict[str, Key] = {
    "PayloadType": Key(str, required=True, rangelist=("Configuration",)),
    "PayloadVersion": Key(int, required=True, rangelist=(1,)),
    "PayloadIdentifier": Key(str, required=True, pattern=_REVERSE_DNS),
    "PayloadUUID": Key(str, required=True, pattern=_UUID),
    "PayloadContent": Key(list, required=True),
    "PayloadDisplayName": Key(str),
    "PayloadDescription": Key(str),
    "PayloadOrganization": Key(str),
    "PayloadRemovalDisallowed": Key(bool),
    "PayloadScope": Key(str, rangelist=("User", "System")),
    "RemovalDate": Key(datetime),
    "DurationUntilRemoval": Key(float),
    "PayloadExpirationDate": Key(datetime),
    "IsEncrypted": Key(bool),
    "EncryptedPayloadContent": Key(bytes),
    "HasRemovalPasscode": Key(bool),
    "ConsentText": Key(dict),
}

# CommonPayloadKeys.yaml (same source); PayloadEnabled is seen in the wild, not in the YAML.
COMMON: dict[str, Key] = {
    "PayloadType": Key(str, required=True),
    "PayloadVersion": Key(int, required=True, rangelist=(1,)),
    "PayloadIdentifier": Key(str, required=True, pattern=_REVERSE_DNS),
    "PayloadUUID": Key(str, required=True, pattern=_UUID),
    "PayloadDisplayName": Key(str),
    "PayloadDescription": Key(str),
    "PayloadOrganization": Key(str),
    "PayloadEnabled": Key(bool),
}

# Transcribed from Apple's mdm/profiles/com.apple.mail.managed.yaml (apple/device-management,
# last changed in commit 39e2a822, 2024-03-05; MIT licence, (c) 2022-2024 Apple Inc.; copy
# and licence in reference/apple/). Key order follows the YAML.
MAIL: dict[str, Key] = {
    "EmailAccountDescription": Key(str),
    "EmailAccountName": Key(str),
    "EmailAccountType": Key(str, required=True, rangelist=("EmailTypeIMAP", "EmailTypePOP")),
    "EmailAddress": Key(str),
    "IncomingMailServerAuthentication": Key(str, required=True, rangelist=_AUTH),
    "IncomingMailServerHostName": Key(str, required=True),
    "IncomingMailServerPortNumber": Key(int),
    "IncomingMailServerUseSSL": Key(bool),
    "IncomingMailServerUsername": Key(str),
    "IncomingPassword": Key(str),
    "OutgoingPassword": Key(str),
    "OutgoingPasswordSameAsIncomingPassword": Key(bool),
    "OutgoingMailServerAuthentication": Key(str, required=True, rangelist=_AUTH),
    "OutgoingMailServerHostName": Key(str, required=True),
    "OutgoingMailServerPortNumber": Key(int),
    "OutgoingMailServerUseSSL": Key(bool),
    "OutgoingMailServerUsername": Key(str),
    "PreventMove": Key(bool),
    "PreventAppSheet": Key(bool),
    "SMIMEEnabled": Key(bool),
    "SMIMESigningEnabled": Key(bool),
    "SMIMESigningCertificateUUID": Key(str, pattern=_UUID),
    "SMIMEEncryptionEnabled": Key(bool),
    "SMIMEEncryptionCertificateUUID": Key(str, pattern=_UUID),
    "SMIMEEnablePerMessageSwitch": Key(bool),
    "disableMailRecentsSyncing": Key(bool),
    "allowMailDrop": Key(bool),
    "IncomingMailServerIMAPPathPrefix": Key(str),
    "SMIMESigningUserOverrideable": Key(bool),
    "SMIMESigningCertificateUUIDUserOverrideable": Key(bool),
    "SMIMEEncryptByDefault": Key(bool),
    "SMIMEEncryptByDefaultUserOverrideable": Key(bool),
    "SMIMEEncryptionCertificateUUIDUserOverrideable": Key(bool),
    "SMIMEEnableEncryptionPerMessageSwitch": Key(bool),
    "VPNUUID": Key(str),
}
MAIL_KEYS = COMMON | MAIL


def _type_name(value: object) -> str:
    return next((n for t, n in _PLIST_TYPE.items() if type(value) is t), type(value).__name__)


def _empties(value: object, where: str, problems: list[Problem]) -> None:
    """Flag every empty string or data value: iOS refuses profiles that carry one."""
    if isinstance(value, dict):
        for key, item in value.items():
            _empties(item, f"{where}.{key}" if where else str(key), problems)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _empties(item, f"{where}[{index}]", problems)
    elif isinstance(value, str | bytes) and not value.strip():
        problems.append(
            reject(
                "apple-empty-value",
                f"{where} is an empty {_type_name(value)}; iOS refuses a profile with empty "
                "values, so leave the key out instead.",
            )
        )


def _keys(payload: dict[str, Any], table: dict[str, Key], where: str, *, strict: bool,
          problems: list[Problem]) -> None:  # fmt: skip
    """Presence, type, allowed values and format of each key; unknown keys if ``strict``."""
    for name, key in table.items():
        if name not in payload:
            if key.required:
                problems.append(
                    reject("apple-key-missing", f"{where} lacks the required key {name}.")
                )
            continue
        value = payload[name]
        if type(value) is not key.type:  # exact: a plist <true/> is not an <integer>
            problems.append(
                reject(
                    "apple-key-type",
                    f"{where}: {name} is {_type_name(value)} {value!r}, but Apple devices need "
                    f"{_PLIST_TYPE[key.type]}, so they refuse the profile.",
                )
            )
        elif key.rangelist and value not in key.rangelist:
            allowed = ", ".join(str(v) for v in key.rangelist)
            problems.append(
                reject(
                    "apple-key-value",
                    f"{where}: {name} is {value!r}, which is not one of {allowed}.",
                )
            )
        elif key.pattern and isinstance(value, str) and value and not re.match(key.pattern, value):
            problems.append(
                reject("apple-key-format", f"{where}: {name} {value!r} has the wrong format.")
            )
    if strict:
        problems.extend(
            warn("apple-key-unknown", f"{where}: {name} is not a key Apple defines here.")
            for name in sorted(set(payload) - set(table))
        )


def _server(payload: dict[str, Any], side: str, where: str, problems: list[Problem]) -> None:
    """One incoming or one outgoing server: a single host name, an integer port, TLS sense."""
    host = payload.get(f"{side}MailServerHostName")
    if isinstance(host, str) and host.strip() and not is_hostname(host):
        problems.append(
            reject(
                "apple-hostname",
                f"{where}: {side}MailServerHostName {host!r} is not one valid host name.",
            )
        )
    port = payload.get(f"{side}MailServerPortNumber")
    if type(port) is int and port_value(str(port)) is None:
        problems.append(
            reject("apple-port", f"{where}: {side}MailServerPortNumber {port} is out of range.")
        )
    use_ssl = payload.get(f"{side}MailServerUseSSL", False)
    if type(port) is int and type(use_ssl) is bool:
        if port in _IMPLICIT_TLS and not use_ssl:
            problems.append(
                warn(
                    "apple-ssl-port",
                    f"{where}: {side} port {port} is an implicit-TLS port but "
                    f"{side}MailServerUseSSL is false, so the device cannot connect.",
                )
            )
        elif port in _STARTTLS and use_ssl:
            problems.append(
                warn(
                    "apple-ssl-port",
                    f"{where}: {side} port {port} expects STARTTLS but {side}MailServerUseSSL is "
                    "true, so the device tries implicit TLS and fails.",
                )
            )


def _mail(payload: dict[str, Any], where: str, problems: list[Problem]) -> None:
    _keys(payload, MAIL_KEYS, where, strict=True, problems=problems)
    for side in ("Incoming", "Outgoing"):
        _server(payload, side, where, problems)
    problems.extend(
        reject(
            "apple-password",
            f"{where} contains {name}; a downloadable profile must never carry a password, "
            "the device asks for it during installation.",
        )
        for name in ("IncomingPassword", "OutgoingPassword")
        if name in payload
    )


def _payloads(content: list[Any], problems: list[Problem]) -> None:
    if not content:
        problems.append(reject("apple-no-payload", "PayloadContent is empty."))
    seen: dict[str, set[str]] = {"PayloadIdentifier": set(), "PayloadUUID": set()}
    mail = 0
    for index, payload in enumerate(content):
        where = f"Payload {index + 1}"
        if not isinstance(payload, dict):
            problems.append(reject("apple-payload-type", f"{where} is not a <dict>."))
            continue
        for name, values in seen.items():
            value = payload.get(name)
            if isinstance(value, str) and value in values:
                problems.append(reject("apple-duplicate", f"{where} repeats the {name} {value!r}."))
            values.add(str(value))
        if payload.get("PayloadType") == MAIL_PAYLOAD:
            mail += 1
            _mail(payload, f"{where} ({MAIL_PAYLOAD})", problems)
        else:
            _keys(payload, COMMON, where, strict=False, problems=problems)
    if content and not mail:
        problems.append(reject("apple-no-mail", f"The profile contains no {MAIL_PAYLOAD} payload."))


def apple_profile(plist: bytes) -> list[Problem]:
    """Every way Apple Mail would refuse this unsigned profile, or take it not as meant."""
    if plist[:1] == b"\x30":
        return [
            reject(
                "apple-signed",
                "The profile is CMS-signed; unwrap it first (openssl cms -verify -noverify "
                "-inform DER) and check the plist inside.",
            )
        ]
    try:
        profile = plistlib.loads(plist)
    except (ValueError, AttributeError, ExpatError) as exc:
        return [
            reject(
                "apple-plist-invalid",
                f"The profile is not a valid property list ({exc}); typed-empty values such as "
                "<integer></integer> make iOS refuse the whole profile.",
            )
        ]
    if not isinstance(profile, dict):
        return [reject("apple-plist-invalid", "The profile's top level is not a <dict>.")]
    problems: list[Problem] = []
    _empties(profile, "", problems)
    _keys(profile, TOP_LEVEL, "The profile", strict=True, problems=problems)
    content = profile.get("PayloadContent")
    if isinstance(content, list):
        _payloads(content, problems)
        top = profile.get("PayloadIdentifier")
        inner = {p.get("PayloadIdentifier") for p in content if isinstance(p, dict)}
        if top in inner:
            problems.append(
                reject(
                    "apple-duplicate",
                    f"A payload reuses the profile's PayloadIdentifier {top!r}.",
                )
            )
    return problems

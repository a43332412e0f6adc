"""Microsoft Autodiscover POX: parse the request, render settings, redirects and MS errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from autoconf.catalog.account import Account, expand
from autoconf.catalog.model import AuthMethod, Protocol, Provider, Server, SocketType
from autoconf.formats.pox_request import (
    NS_MOBILESYNC_REQUEST,
    NS_MOBILESYNC_RESPONSE,
    NS_OUTLOOK_REQUEST,
    NS_OUTLOOK_RESPONSE,
    InvalidRequest,
    Request,
    parse_request,
)
from autoconf.formats.xml import serialize, sub

__all__ = [
    "NS_MOBILESYNC_REQUEST",
    "NS_MOBILESYNC_RESPONSE",
    "NS_OUTLOOK_REQUEST",
    "NS_OUTLOOK_RESPONSE",
    "NS_RESPONSE",
    "ErrorCode",
    "InvalidRequest",
    "Request",
    "SettingsTemplate",
    "parse_request",
    "render_error",
    "render_mobilesync",
    "render_redirect",
    "render_settings",
]

if TYPE_CHECKING:
    from autoconf.catalog.address import Address

CONTENT_TYPE = "text/xml; charset=utf-8"
NS_RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
_SPA_METHODS = frozenset({AuthMethod.NTLM, AuthMethod.GSSAPI, AuthMethod.PASSWORD_ENCRYPTED})
_NO_AUTH = frozenset({AuthMethod.NONE, AuthMethod.CLIENT_IP})
_POX_TYPE = {Protocol.IMAP: "IMAP", Protocol.POP3: "POP3", Protocol.SMTP: "SMTP"}


class ErrorCode(IntEnum):
    """MS-OXDSCLI error codes that this service sends."""

    INVALID_REQUEST = 600
    SCHEMA_UNAVAILABLE = 601


def _root() -> ET.Element:
    return ET.Element("Autodiscover", xmlns=NS_RESPONSE)


def _onoff(value: bool) -> str:
    return "on" if value else "off"


def _ordered(servers: tuple[Server, ...]) -> list[Server]:
    """Implicit-TLS ports first within each protocol: every client reads those the same way."""
    return sorted(servers, key=lambda s: s.socket is not SocketType.SSL)


def _protocol(parent: ET.Element, account: Account, server: Server) -> None:
    element = sub(parent, "Protocol")
    sub(element, "Type", _POX_TYPE[server.protocol])
    sub(element, "Server", server.host)
    sub(element, "Port", server.port)
    sub(element, "DomainRequired", "off")
    sub(element, "LoginName", account.username(server))
    sub(element, "SPA", _onoff(server.auth[0] in _SPA_METHODS))
    # Never SSL=off with Encryption=TLS: Thunderbird reads that as a plain connection.
    sub(element, "SSL", _onoff(server.socket is not SocketType.PLAIN))
    sub(element, "Encryption", {"SSL": "SSL", "STARTTLS": "TLS", "plain": "None"}[server.socket])
    sub(element, "AuthRequired", _onoff(server.auth[0] not in _NO_AUTH))
    if server.protocol is Protocol.SMTP:
        sub(element, "UsePOPAuth", "off")
        sub(element, "SMTPLast", "off")


def render_settings(account: Account) -> bytes:
    """Outlook-schema settings for ``account.address``: IMAP, then POP3, then SMTP."""
    root = _root()
    response = sub(root, "Response", xmlns=NS_OUTLOOK_RESPONSE)
    acc = sub(response, "Account")
    sub(acc, "AccountType", "email")
    sub(acc, "Action", "settings")
    for protocol in (Protocol.IMAP, Protocol.POP3, Protocol.SMTP):
        for server in _ordered(account.provider.ordered(protocol)):
            _protocol(acc, account, server)
    return serialize(root)


@dataclass(frozen=True, slots=True)
class SettingsTemplate:
    """``render_settings`` compiled once per provider: the builder's bytes cut at each LoginName.

    ``fill`` puts a mailbox's escaped login names into the gaps, so a request costs a join
    instead of building and serialising a tree; a test proves it equals ``render_settings``.
    """

    parts: tuple[bytes, ...]
    slots: tuple[str, ...]  # the username template of each gap, in document order
    distinct: tuple[str, ...]  # each template once, so a request expands each only once

    @classmethod
    def compile(cls, provider: Provider) -> SettingsTemplate:
        """Render with a marker as every login name and cut the bytes there."""
        slots = tuple(
            server.username
            for protocol in (Protocol.IMAP, Protocol.POP3, Protocol.SMTP)
            for server in _ordered(provider.ordered(protocol))
        )
        marker = f"\x1e{uuid.uuid4().hex}\x1e"  # cannot occur in any catalog value
        parked = provider.model_copy(
            update={
                "servers": tuple(
                    s.model_copy(update={"username": marker}) for s in provider.servers
                )
            }
        )
        domain = provider.domains[0]
        body = render_settings(Account(parked, domain, domain))
        parts = tuple(body.split(marker.encode()))
        return cls(parts, slots, tuple(dict.fromkeys(slots)))

    def fill(self, mailbox: Address) -> bytes:
        """The settings document for one mailbox."""
        if len(self.distinct) == 1:  # the usual case: one login name everywhere
            value = escape(expand(self.distinct[0], mailbox)).encode()
            return value.join(self.parts)
        values = {slot: escape(expand(slot, mailbox)).encode() for slot in self.distinct}
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out += (values[slot], part)
        return b"".join(out)


def render_redirect(address: str) -> bytes:
    """Outlook-schema redirect to another address (alias domains)."""
    root = _root()
    response = sub(root, "Response", xmlns=NS_OUTLOOK_RESPONSE)
    acc = sub(response, "Account")
    sub(acc, "AccountType", "email")
    sub(acc, "Action", "redirectAddr")
    sub(acc, "RedirectAddr", address)
    return serialize(root)


def render_mobilesync(url: str, email: str) -> bytes:
    """mobilesync-schema settings pointing at the provider's ActiveSync URL."""
    root = _root()
    response = sub(root, "Response", xmlns=NS_MOBILESYNC_RESPONSE)
    sub(response, "Culture", "en:us")
    user = sub(response, "User")
    sub(user, "EMailAddress", email)
    settings = sub(sub(response, "Action"), "Settings")
    server = sub(settings, "Server")
    sub(server, "Type", "MobileSync")
    sub(server, "Url", url)
    sub(server, "Name", url)
    return serialize(root)


def render_error(code: ErrorCode, message: str, time: str, server_id: int) -> bytes:
    """The MS error document; ``Response`` inherits the 2006 namespace, as Exchange sends it.

    ``time`` is ``HH:MM:SS.ffffff`` and ``server_id`` an unsigned int naming this instance.
    """
    root = _root()
    error = sub(sub(root, "Response"), "Error", Time=time, Id=str(server_id))
    sub(error, "ErrorCode", int(code))
    sub(error, "Message", message)
    sub(error, "DebugData")
    return serialize(root)

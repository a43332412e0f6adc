"""Mozilla clientConfig 1.1 (Thunderbird autoconfig, also read by K-9, Evolution and others)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from autoconf.catalog.model import Protocol, Server
from autoconf.formats.xml import serialize, sub

if TYPE_CHECKING:
    from autoconf.catalog.account import Account

CONTENT_TYPE = "text/xml; charset=utf-8"


def _server(parent: ET.Element, account: Account, server: Server) -> None:
    tag = "incomingServer" if server.incoming else "outgoingServer"
    element = sub(parent, tag, type=server.protocol.value)
    sub(element, "hostname", server.host)
    sub(element, "port", server.port)
    sub(element, "socketType", server.socket.value)
    sub(element, "username", account.username_template(server))
    for method in server.auth:
        sub(element, "authentication", method.value)
    if server.protocol is Protocol.POP3:
        policy = account.pop3
        pop3 = sub(element, "pop3")
        sub(pop3, "leaveMessagesOnServer", "true" if policy.leave_on_server else "false")
        if policy.leave_on_server and policy.days_on_server is not None:
            sub(pop3, "daysToLeaveMessagesOnServer", policy.days_on_server)
        sub(pop3, "downloadOnBiff", "true")


def render(account: Account) -> bytes:
    """The clientConfig document for ``account.domain``, placeholders left for the client.

    IMAP servers come before POP3; only the requested domain is listed, so a provider's
    other customer domains are not disclosed.
    """
    provider = account.provider
    root = ET.Element("clientConfig", version="1.1")
    ep = sub(root, "emailProvider", id=provider.id)
    sub(ep, "domain", account.domain)
    sub(ep, "displayName", provider.name)
    sub(ep, "displayShortName", provider.display_short_name)
    for server in account.incoming + account.outgoing:
        _server(ep, account, server)
    if provider.documentation_url:
        doc = sub(ep, "documentation", url=provider.documentation_url)
        sub(doc, "descr", f"Setting up {provider.name} in a mail program", lang="en")
    return serialize(root)

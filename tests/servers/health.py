"""A small world for domain-health tests: DNS, the setup service over HTTP and HTTPS, mail servers.

Everything runs on 127.0.0.1: the DNS server (tests/servers/dns.py) answers A records with
127.0.0.1 and the SRV records of the test zone; ``health_port_map`` sends port 443/80/993/...
to the loopback port of the right server. Certificates come from a trustme CA that the
checker trusts through ``health_ca_file``.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import trustme
from aiohttp import ClientResponse, web
from aioresponses import aioresponses

from autoconf.config import load_settings
from autoconf.health.service import CheckOptions
from tests.faults.servers import UPGRADE, FakeIMAP, FakePOP3, FaultyServer
from tests.servers.dns import DnsServer, a_records

if TYPE_CHECKING:
    import contextlib
    from pathlib import Path

    from autoconf.config import Settings

DOMAIN = "example.com"
WEB_NAMES = ("example.com", "autoconfig.example.com", "autodiscover.example.com")
MAIL_NAMES = ("imap.example.com", "pop.example.com", "smtp.example.com")
CATALOG = """
[[providers]]
id = "example.com"
name = "Example Mail"
domains = ["example.com"]

[[providers.servers]]
protocol = "imap"
host = "imap.example.com"
port = 993
socket = "SSL"

[[providers.servers]]
protocol = "pop3"
host = "pop.example.com"
port = 995
socket = "SSL"

[[providers.servers]]
protocol = "smtp"
host = "smtp.example.com"
port = 465
socket = "SSL"

[[providers.servers]]
protocol = "smtp"
host = "smtp.example.com"
port = 587
socket = "STARTTLS"
"""
SRV = {
    "_imaps._tcp.example.com": [("SRV", "0 1 993 imap.example.com.")],
    "_imap._tcp.example.com": [("SRV", "0 0 0 .")],
    "_pop3s._tcp.example.com": [("SRV", "10 1 995 pop.example.com.")],
    "_pop3._tcp.example.com": [("SRV", "0 0 0 .")],
    "_submissions._tcp.example.com": [("SRV", "0 1 465 smtp.example.com.")],
    "_submission._tcp.example.com": [("SRV", "10 1 587 smtp.example.com.")],
    "_autodiscover._tcp.example.com": [("SRV", "0 0 443 autodiscover.example.com.")],
}
NOW = dt.datetime.now(dt.UTC)


class FakeSMTP(FaultyServer):
    """Enough SMTP submission for the health check: 220, EHLO, STARTTLS, QUIT."""

    greeting = b"220 smtp.example.com ESMTP fake\r\n"
    extensions: ClassVar[bytes] = (
        b"250-smtp.example.com\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"
    )

    def handle(self, line: bytes) -> bytes:
        """Answer EHLO, STARTTLS and QUIT."""
        command = line.split(b" ", 1)[0].strip().upper()
        if command == b"EHLO":
            return self.extensions
        if command == b"STARTTLS":
            return UPGRADE + b"220 2.0.0 Ready to start TLS\r\n"
        if command == b"QUIT":
            return b"221 2.0.0 Bye\r\n"
        return b"502 5.5.2 unknown\r\n"


class StartTlsSMTP(FakeSMTP):
    """Port 587: STARTTLS offered, no AUTH before TLS."""

    extensions: ClassVar[bytes] = b"250-smtp.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n"


def server_context(ca: trustme.CA, names: tuple[str, ...], days: tuple[int, int] | None = None
                   ) -> ssl.SSLContext:  # fmt: skip
    """A server context with a certificate for ``names`` valid from/to days around now."""
    kwargs: dict[str, Any] = {}
    if days is not None:
        kwargs = {"not_before": NOW + dt.timedelta(days=days[0]),
                  "not_after": NOW + dt.timedelta(days=days[1])}  # fmt: skip
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names, **kwargs).configure_cert(ctx)
    return ctx


@dataclass
class World:
    """What a test needs: the ports, the settings pointing at them, the check's options."""

    dns: DnsServer
    ports: dict[int, int]
    ca_file: Path
    data_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)
    client: Any = None

    def settings(self, **overrides: Any) -> Settings:
        """Settings whose health checks see this world."""
        values: dict[str, Any] = {
            "data_dir": self.data_dir,
            "health_nameservers": (self.dns.nameserver,),
            "health_port_map": tuple(f"{k}={v}" for k, v in self.ports.items()),
            "health_ca_file": self.ca_file,
            "health_ispdb_url": "",
            "health_timeout": 3.0,
            "access_log": False,
            **self.extra,
            **overrides,
        }
        return load_settings(**values)

    def options(self, **overrides: Any) -> CheckOptions:
        """The check's options from those settings."""
        return CheckOptions.from_settings(self.settings(**overrides))

    def env(self) -> dict[str, str]:
        """The same settings as AUTOCONF_* variables, for the CLI as a child process."""
        s = self.settings()
        return {
            "AUTOCONF_HEALTH_NAMESERVERS": f'["{self.dns.nameserver}"]',
            "AUTOCONF_HEALTH_PORT_MAP": "[" + ",".join(f'"{e}"' for e in s.health_port_map) + "]",
            "AUTOCONF_HEALTH_CA_FILE": str(self.ca_file),
            "AUTOCONF_HEALTH_ISPDB_URL": "",
            "AUTOCONF_HEALTH_TIMEOUT": "3",
            "AUTOCONF_DATA_DIR": str(self.data_dir),
        }


async def serve_tls(client: Any, ctx: ssl.SSLContext) -> int:
    """Serve the service of a TestClient over TLS as well, on a new loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(client.server.runner, sock, ssl_context=ctx)
    await site.start()
    return int(sock.getsockname()[1])


async def world(
    stack: contextlib.AsyncExitStack,
    tmp_path: Path,
    client: Any,
    *,
    zone: dict[str, list[tuple[str, str]]] | None = None,
    web_days: tuple[int, int] | None = None,
    mail_days: tuple[int, int] | None = None,
    imap_names: tuple[str, ...] = MAIL_NAMES,
    imap: type[FakeIMAP] = FakeIMAP,
) -> World:
    """Start DNS and the mail servers, serve the service (a TestClient) over TLS too."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    https = await serve_tls(client, server_context(ca, WEB_NAMES, web_days))
    mail = server_context(ca, MAIL_NAMES, mail_days)
    records = {**a_records((*WEB_NAMES, *MAIL_NAMES)), **SRV, **(zone or {})}
    dns = await stack.enter_async_context(DnsServer({k: v for k, v in records.items() if v}))
    imap_ctx = mail if imap_names == MAIL_NAMES else server_context(ca, imap_names, mail_days)
    servers = {
        993: await stack.enter_async_context(imap(imap_ctx, implicit=True)),
        995: await stack.enter_async_context(FakePOP3(mail, implicit=True)),
        465: await stack.enter_async_context(FakeSMTP(mail, implicit=True)),
        587: await stack.enter_async_context(StartTlsSMTP(mail)),
    }
    ports = {443: https, 80: int(client.server.port)} | {k: s.port for k, s in servers.items()}
    return World(dns, ports, ca_file, tmp_path / "data")


# An Autodiscover answer with the automx2 mistake: SSL off with Encryption TLS for STARTTLS.
POX_SSL_OFF_HINT = b"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
 <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
  <Account><AccountType>email</AccountType><Action>settings</Action>
   <Protocol><Type>IMAP</Type><Server>imap.example.com</Server><Port>993</Port>
    <LoginName>alice@example.com</LoginName><SPA>off</SPA><SSL>on</SSL></Protocol>
   <Protocol><Type>SMTP</Type><Server>smtp.example.com</Server><Port>587</Port>
    <LoginName>alice@example.com</LoginName><SPA>off</SPA><SSL>off</SSL>
    <Encryption>TLS</Encryption></Protocol>
  </Account></Response></Autodiscover>"""


class _MockResponse(ClientResponse):
    """aioresponses 0.7 builds responses without aiohttp 3.14's ``stream_writer``; add one."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class mocked(aioresponses):  # noqa: N801 - used like aioresponses itself
    """aioresponses with a response class that works on aiohttp 3.14."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        """Register a mocked answer (see aioresponses.add)."""
        kwargs.setdefault("response_class", _MockResponse)
        super().add(*args, **kwargs)

"""DNS for the health checks: SRV, MX and address lookups, and where to connect.

With ``health_nameservers`` set, every name (also the hosts of HTTP requests and mail
servers) is resolved through those servers with dnspython; otherwise SRV/MX use the system's
resolver configuration and addresses come from the operating system. ``health_port_map``
(tests only) sends a connection to another port of the same address.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver
from aiohttp.abc import AbstractResolver, ResolveResult

from autoconf.errors import ConfigError
from autoconf.health.chain import SrvAnswer

if TYPE_CHECKING:
    from collections.abc import Sequence


class NameError_(Exception):  # noqa: N801 - "NameError" is a builtin
    """A host name does not resolve; the message is a sentence."""


def parse_nameservers(entries: Sequence[str]) -> list[dns.nameserver.Do53Nameserver]:
    """``127.0.0.1`` or ``127.0.0.1:5353`` or ``[::1]:53``; ConfigError on a bad entry."""
    servers = []
    for entry in entries:
        host, port = entry, 53
        if entry.startswith("["):
            host, _, rest = entry[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else 53
        elif entry.count(":") == 1:
            host, _, raw = entry.partition(":")
            if not raw.isdigit():
                raise ConfigError([f"settings: health_nameservers: {entry!r} has no port number"])
            port = int(raw)
        try:
            servers.append(dns.nameserver.Do53Nameserver(host, port))
        except ValueError:
            msg = f"settings: health_nameservers: {entry!r} is not an IP address (with :port)"
            raise ConfigError([msg]) from None
    return servers


def parse_port_map(entries: Sequence[str]) -> dict[str, int]:
    """``993=40001`` or ``imap.example.com:993=40001`` -> {"993": 40001, ...}."""
    found: dict[str, int] = {}
    for entry in entries:
        key, sep, value = entry.partition("=")
        port = key.rpartition(":")[2]
        if not sep or not value.isdigit() or not port.isdigit():
            msg = f"settings: health_port_map: {entry!r} is not [host:]port=port"
            raise ConfigError([msg])
        found[key.lower()] = int(value)
    return found


@dataclass(slots=True)
class Dns:
    """Lookups with one timeout; own nameservers or the system's."""

    nameservers: list[dns.nameserver.Do53Nameserver] = field(default_factory=list)
    timeout: float = 5.0
    port_map: dict[str, int] = field(default_factory=dict)
    _resolver: dns.asyncresolver.Resolver | None = None

    @property
    def resolver(self) -> dns.asyncresolver.Resolver:
        """The dnspython resolver (made on first use: reading resolv.conf is I/O)."""
        if self._resolver is None:
            own = bool(self.nameservers)
            try:
                resolver = dns.asyncresolver.Resolver(configure=not own)
            except dns.resolver.NoResolverConfiguration:
                resolver = dns.asyncresolver.Resolver(configure=False)
                resolver.nameservers = ["127.0.0.1"]
            if own:
                resolver.nameservers = list(self.nameservers)
            resolver.lifetime = self.timeout
            resolver.timeout = self.timeout
            self._resolver = resolver
        return self._resolver

    async def _query(self, name: str, kind: str) -> list[Any]:
        answer = await self.resolver.resolve(name, kind, raise_on_no_answer=False)
        return list(answer.rrset) if answer.rrset is not None else []

    async def srv(self, name: str) -> SrvAnswer:
        """The SRV records at ``name``; missing or an error sentence."""
        try:
            rows = await self._query(name, "SRV")
        except dns.resolver.NXDOMAIN:
            return SrvAnswer(name, missing=True)
        except dns.exception.DNSException as exc:
            return SrvAnswer(name, error=f"the SRV lookup failed ({_reason(exc)})")
        records = tuple(
            (int(r.priority), int(r.weight), int(r.port), r.target.to_text()) for r in rows
        )
        return SrvAnswer(name, records, missing=not records)

    async def mx(self, domain: str) -> tuple[list[str], str | None]:
        """MX hosts, best first; or an error sentence (no MX at all is an empty list)."""
        try:
            rows = await self._query(domain, "MX")
        except dns.resolver.NXDOMAIN:
            return [], f"{domain} does not exist in DNS (NXDOMAIN)"
        except dns.exception.DNSException as exc:
            return [], f"the MX lookup of {domain} failed ({_reason(exc)})"
        ordered = sorted(rows, key=lambda r: int(r.preference))
        return [r.exchange.to_text().rstrip(".").lower() for r in ordered], None

    async def addresses(self, host: str) -> list[str]:
        """IPv4 then IPv6 addresses of ``host``; NameError_ with a sentence when there are none."""
        if not self.nameservers:
            return await self._system(host)
        found: list[str] = []
        for kind in ("A", "AAAA"):
            try:
                found += [r.to_text() for r in await self._query(host, kind)]
            except dns.resolver.NXDOMAIN:
                raise NameError_(f"{host} does not exist in DNS (NXDOMAIN)") from None
            except dns.exception.DNSException as exc:
                raise NameError_(f"the address lookup of {host} failed ({_reason(exc)})") from None
        if not found:
            raise NameError_(f"{host} has no address record (A or AAAA)")
        return found

    async def _system(self, host: str) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (socket.gaierror, TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, socket.gaierror) else "timeout"
            raise NameError_(f"{host} does not resolve ({reason})") from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def port(self, host: str, port: int) -> int:
        """The port to connect to: the test map's choice, or ``port`` itself."""
        return self.port_map.get(f"{host.lower()}:{port}", self.port_map.get(str(port), port))

    async def connect_to(self, host: str, port: int) -> tuple[str, int]:
        """Address and port to connect to for ``host:port``."""
        return (await self.addresses(host))[0], self.port(host, port)


def _reason(exc: Exception) -> str:
    if isinstance(exc, dns.exception.Timeout):
        return "no answer in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return "no nameserver answered"
    return str(exc) or type(exc).__name__


class HttpResolver(AbstractResolver):
    """aiohttp's resolver hook: names through ``Dns``, ports through the test map."""

    def __init__(self, lookup: Dns) -> None:
        self.lookup = lookup

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Every address of ``host``; OSError (as aiohttp expects) when there is none."""
        try:
            addresses = await self.lookup.addresses(host)
        except NameError_ as exc:
            raise OSError(str(exc)) from None
        target = self.lookup.port(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=target,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
            if family in (socket.AF_UNSPEC, socket.AF_INET6 if ":" in address else socket.AF_INET)
        ]

    async def close(self) -> None:
        """Nothing to release."""

"""The client's address and scheme, believing X-Forwarded-* only from trusted proxies.

Behind nginx every request comes from the proxy; the proxy names the client in
``X-Forwarded-For`` (appending the address it saw to what the request already carried) and
the scheme in ``X-Forwarded-Proto``. Anyone can send those headers, so they count only when
the peer is one of ``trusted_proxies``. The list is then read from the right, skipping
further trusted proxies: the first address that is not one is the client. With no trusted
proxies (the default) the peer address is the client and the headers are ignored.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import TYPE_CHECKING

from autoconf.web.keys import SETTINGS

if TYPE_CHECKING:
    from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDED_FOR = "X-Forwarded-For"
FORWARDED_PROTO = "X-Forwarded-Proto"
MAX_HOPS = 16  # addresses of one X-Forwarded-For looked at; beyond, the header is not believed


@functools.lru_cache(maxsize=8)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The parsed ``trusted_proxies`` (validated by Settings, parsed once per tuple)."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


@functools.lru_cache(maxsize=4096)
def _trusted(address: str, entries: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks(entries))


def _from_proxy(request: web.Request) -> tuple[str, ...] | None:
    """The trusted-proxy list when the peer is one of them, else None."""
    entries = request.app[SETTINGS].trusted_proxies
    if not entries:
        return None
    peer = request.remote
    if peer is None or not _trusted(peer, entries):
        return None
    return entries


def client_address(request: web.Request) -> str:
    """The address of the client: the peer, or what a trusted proxy says it saw."""
    peer = request.remote or ""
    entries = _from_proxy(request)
    if entries is None:
        return peer
    hops = [h.strip() for v in request.headers.getall(FORWARDED_FOR, ()) for h in v.split(",")]
    if not hops or len(hops) > MAX_HOPS:
        return peer
    for hop in reversed(hops):
        if not _trusted(hop, entries):
            return _valid(hop) or peer
    return _valid(hops[0]) or peer  # all proxies: the first one is as near as we get


def _valid(hop: str) -> str | None:
    """``hop`` as a plain address, or None when it is not one (garbage is never logged)."""
    try:
        return str(ipaddress.ip_address(hop.removeprefix("[").removesuffix("]")))
    except ValueError:
        return None


def client_scheme(request: web.Request) -> str:
    """``https`` or ``http`` as the client used it: X-Forwarded-Proto from a trusted proxy."""
    if _from_proxy(request) is not None:
        proto = request.headers.get(FORWARDED_PROTO, "").split(",")[0].strip().lower()
        if proto in {"http", "https"}:
            return proto
    return request.scheme

"""Zone-file lines a provider publishes for a hosted domain (RFC 6186, RFC 8314, Autodiscover)."""

from __future__ import annotations

from autoconf.catalog.model import Protocol, Provider, Server, SocketType

# RFC 6186/8314 service labels by (protocol, implicit TLS?)
_SERVICE = {
    (Protocol.IMAP, True): "_imaps._tcp",
    (Protocol.IMAP, False): "_imap._tcp",
    (Protocol.POP3, True): "_pop3s._tcp",
    (Protocol.POP3, False): "_pop3._tcp",
    (Protocol.SMTP, True): "_submissions._tcp",
    (Protocol.SMTP, False): "_submission._tcp",
}
# Priorities put IMAP before POP3 (RFC 6186 §3.4: lower value is preferred).
_PRIORITY = {Protocol.IMAP: 0, Protocol.POP3: 20, Protocol.SMTP: 0}


def _srv(domain: str, service: str, ttl: int, *, priority: int, port: int, target: str) -> str:
    return f"{service}.{domain}.\t{ttl}\tIN\tSRV\t{priority} 1 {port} {target}."


def render(domain: str, provider: Provider, public_host: str | None, ttl: int = 3600) -> str:
    """Every record for ``domain``; services the provider lacks get the RFC 6186 "." target."""
    lines = [f"; mail client setup records for {domain} ({provider.name})"]
    seen: dict[str, list[Server]] = {}
    for server in provider.servers:
        if server.socket is SocketType.PLAIN:
            continue  # never advertise cleartext in DNS
        key = _SERVICE[(server.protocol, server.socket is SocketType.SSL)]
        seen.setdefault(key, []).append(server)
    for (protocol, tls), service in _SERVICE.items():
        servers = seen.get(service)
        if not servers:
            lines.append(f"{service}.{domain}.\t{ttl}\tIN\tSRV\t0 0 0 .")
            continue
        for rank, server in enumerate(servers):
            prio = _PRIORITY[protocol] + (0 if tls else 10) + rank  # RFC 8314: TLS first
            lines.append(
                _srv(domain, service, ttl, priority=prio, port=server.port, target=server.host)
            )
    if public_host:
        target = public_host.rstrip(".")
        lines.append(f"autoconfig.{domain}.\t{ttl}\tIN\tCNAME\t{target}.")
        lines.append(f"autodiscover.{domain}.\t{ttl}\tIN\tCNAME\t{target}.")
    else:
        lines.append(
            f"; point autoconfig.{domain} and autodiscover.{domain} (A/AAAA or CNAME) at this "
            "service; set AUTOCONF_PUBLIC_HOST to print CNAME records here"
        )
    # RFC 2782: an SRV target must not be an alias, so with a CNAME it names the CNAME's target.
    target = public_host.rstrip(".") if public_host else f"autodiscover.{domain}"
    lines.append(_srv(domain, "_autodiscover._tcp", ttl, priority=0, port=443, target=target))
    return "\n".join(lines) + "\n"

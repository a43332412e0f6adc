"""Devices: the clients that use a mailbox, told apart by protocol, identity and network.

A device is a fingerprint on a mailbox: the protocol, the client's identity and the network
of its source address (/24 for IPv4, /64 for IPv6; private addresses whole). IMAP clients
name themselves with IMAP ID. POP3 clients send no identity, so their command pattern
stands in for it: the port they use (with or without TLS) and whether they fetch with TOP
or RETR; a session that found nothing to fetch joins the POP3 device it most resembles.
Sessions and setup sightings of one fingerprint merge into one device with first and last
seen. Pure: ``now`` comes in.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from autoconf.sightings import ClientKind

if TYPE_CHECKING:
    from collections.abc import Iterable

    from autoconf.events.sessions import Session
    from autoconf.sightings import Sighting

# The name the probe sends with IMAP ID: its own sessions are no device of the user.
PROBE_CLIENT = "autoconf-probe"
_FAMILIES = (
    ("thunderbird", ClientKind.THUNDERBIRD),
    ("k-9", ClientKind.K9),
    ("k9", ClientKind.K9),
    ("outlook", ClientKind.OUTLOOK),
    ("microsoft", ClientKind.OUTLOOK),
    ("iphone", ClientKind.APPLE),
    ("ipad", ClientKind.APPLE),
    ("ios", ClientKind.APPLE),
    ("mac os", ClientKind.APPLE),
    ("macos", ClientKind.APPLE),
    ("apple", ClientKind.APPLE),
)


# Networks inside a provider or a home (RFC 1918, RFC 4193), where one address is one host.
# (ipaddress's is_private also covers the documentation ranges, which are public here.)
_LOCAL_NETS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def network_of(ip: str | None) -> str:
    """The /24 (IPv4) or /64 (IPv6) network of a public address, or "unknown".

    A private or loopback address names one host of the provider's own network (an office
    LAN, a test bed), so it is kept whole.
    """
    if not ip:
        return "unknown"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return "unknown"
    if address.is_loopback or address.is_link_local or any(address in n for n in _LOCAL_NETS):
        return str(address)
    prefix = 24 if address.version == 4 else 64  # noqa: PLR2004
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def family_of(*names: str | None) -> ClientKind:
    """The client family an IMAP ID name or OS points to."""
    text = " ".join(n for n in names if n).lower()
    for needle, kind in _FAMILIES:
        if needle in text:
            return kind
    return ClientKind.OTHER


@dataclass
class Device:
    """One client on a mailbox, with what it did."""

    key: str
    protocol: str
    client: str
    family: ClientKind
    network: str
    first_seen: float
    last_seen: float
    sessions: int = 0
    retrieved: int = 0
    deleted: int = 0
    deleting_sessions: int = 0
    retrieving_sessions: int = 0
    setup_requests: int = 0
    setup_endpoints: set[str] = field(default_factory=set)
    pop3_commands: set[str] = field(default_factory=set)

    @property
    def behaviour(self) -> str:  # noqa: PLR0911 - one answer per case, read top to bottom
        """What the device does with the mail on the server, in a few words."""
        if self.protocol == "pop3":
            if self.deleting_sessions and self.retrieving_sessions:
                return "deletes after download"
            if self.deleting_sessions:
                return "deletes mail it downloaded earlier"
            if self.retrieving_sessions:
                return "keeps mail on the server"
            return "checks for mail"
        if self.protocol == "imap":
            return "deletes messages" if self.deleted else "reads mail over IMAP"
        if self.protocol == "setup":
            return "asked for settings"
        return "uses the mailbox"

    @property
    def deletes_on_download(self) -> bool:
        """A POP3 client removing messages in the sessions that download them."""
        return self.protocol == "pop3" and self.behaviour == "deletes after download"

    def as_dict(self, now: float) -> dict[str, object]:
        """For JSON answers."""
        return {
            "key": self.key,
            "protocol": self.protocol,
            "client": self.client,
            "family": self.family.value,
            "network": self.network,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "sessions": self.sessions,
            "retrieved": self.retrieved,
            "deleted": self.deleted,
            "behaviour": self.behaviour,
            "pop3_commands": sorted(self.pop3_commands),
            "setup_requests": self.setup_requests,
            "setup_endpoints": sorted(self.setup_endpoints),
            "summary": describe(self, now),
        }


def _identity(s: Session) -> tuple[str, str, ClientKind]:
    """(key part, display name, family) of a session's client."""
    if s.protocol == "imap" and (s.client_name or s.client_os):
        name = " ".join(p for p in (s.client_name, s.client_version) if p)
        os = " ".join(p for p in (s.client_os, s.client_os_version) if p)
        shown = f"{name} ({os})" if name and os else name or os
        key = f"{(s.client_name or '').lower()}|{(s.client_os or '').lower()}"
        return key, shown, family_of(s.client_name, s.client_os)
    if s.protocol == "pop3":
        fetch = {"TOP": ", fetches with TOP", "RETR": ", fetches with RETR"}.get(
            _pop3_pattern(s) or "", ""
        )
        port = f", port {s.lport}" if s.lport else ""
        return "", f"POP3 client ({'TLS' if s.tls else 'no TLS'}{port}{fetch})", ClientKind.OTHER
    return "", "IMAP client (no ID sent)", ClientKind.OTHER


def _pop3_commands(s: Session) -> set[str]:
    found = set()
    if s.retrieved:
        found.add("RETR")
    if s.top:
        found.add("TOP")
    if s.deleted:
        found.add("DELE")
    if s.uidl:
        found.add("UIDL")
    return found


def _pop3_pattern(s: Session) -> str | None:
    """How a POP3 client fetches: TOP or RETR; None for a session that fetched nothing."""
    if s.top:
        return "TOP"
    if s.retrieved:
        return "RETR"
    return None


def _pop3_key(s: Session, network: str, devices: dict[str, Device]) -> str:
    base = f"pop3|{s.lport or ''}|"
    pattern = _pop3_pattern(s)
    if pattern is not None:
        return f"{base}{pattern}|{network}"
    for known in sorted(devices.values(), key=lambda d: d.last_seen, reverse=True):
        if known.key.startswith(base) and known.network == network:
            return known.key
    return f"{base}-|{network}"


def build(sessions: Iterable[Session], sightings: Iterable[Sighting] = ()) -> list[Device]:
    """Group a mailbox's sessions and setup sightings into devices, most recent first."""
    devices: dict[str, Device] = {}
    ordered = sorted(
        (s for s in sessions if s.protocol in ("imap", "pop3") and s.client_name != PROBE_CLIENT),
        key=lambda s: (_pop3_pattern(s) is None, s.started_at or s.ended_at or 0.0),
    )
    for s in ordered:
        start = s.started_at if s.started_at is not None else s.ended_at
        end = s.ended_at if s.ended_at is not None else s.started_at
        if start is None or end is None:
            continue
        ident, shown, family = _identity(s)
        network = network_of(s.rip)
        pop3 = s.protocol == "pop3"
        key = _pop3_key(s, network, devices) if pop3 else f"imap|{ident}|{network}"
        device = devices.get(key)
        if device is None:
            device = devices[key] = Device(
                key, "pop3" if pop3 else "imap", shown, family, network, start, end
            )
        device.first_seen = min(device.first_seen, start)
        device.last_seen = max(device.last_seen, end)
        device.sessions += 1
        device.retrieved += s.retrieved or 0
        removed = (s.deleted or 0) if s.protocol == "pop3" else (s.expunged or 0)
        device.deleted += removed
        device.deleting_sessions += 1 if removed else 0
        device.retrieving_sessions += 1 if (s.retrieved or s.top) else 0
        if s.protocol == "pop3":
            device.pop3_commands |= _pop3_commands(s)
    for sighting in sightings:
        _merge_sighting(devices, sighting)
    return sorted(devices.values(), key=lambda d: d.last_seen, reverse=True)


def _merge_sighting(devices: dict[str, Device], sighting: Sighting) -> None:
    """Attach a setup request to the device of the same family and network, or add one."""
    network = network_of(sighting.ip)
    for device in devices.values():
        if (
            device.protocol != "setup"
            and device.network == network
            and device.family is sighting.client
            and sighting.client is not ClientKind.OTHER
        ):
            target = device
            break
    else:
        key = f"setup|{sighting.client.value}|{network}"
        target = devices.get(key) or devices.setdefault(
            key,
            Device(key, "setup", _SETUP_NAMES[sighting.client], sighting.client, network,
                   sighting.first_seen, sighting.last_seen),
        )  # fmt: skip
    target.first_seen = min(target.first_seen, sighting.first_seen)
    target.last_seen = max(target.last_seen, sighting.last_seen)
    target.setup_requests += sighting.requests
    target.setup_endpoints.add(sighting.endpoint.value)


_SETUP_NAMES = {
    ClientKind.THUNDERBIRD: "Thunderbird",
    ClientKind.OUTLOOK: "Outlook",
    ClientKind.APPLE: "Apple Mail (iPhone, iPad or Mac)",
    ClientKind.K9: "K-9 Mail",
    ClientKind.OTHER: "a mail program",
}


def ago(seconds: float) -> str:
    """'just now', '10 minutes ago', '3 hours ago', '2 days ago'."""
    if seconds < 60:  # noqa: PLR2004
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def describe(device: Device, now: float) -> str:
    """One line for a support agent.

    E.g. 'POP3 client at 203.0.113.0/24, deletes after download, last seen 10 minutes ago'.
    """
    counts = ""
    if device.protocol == "pop3" and device.deleted:
        n = device.deleting_sessions
        counts = f" ({device.deleted} messages removed in {n} session{'s' if n != 1 else ''})"
    if device.protocol == "setup":
        return (
            f"{device.client} at {device.network} asked for settings "
            f"{device.setup_requests} time{'s' if device.setup_requests != 1 else ''}, "
            f"last {ago(now - device.last_seen)}"
        )
    return (
        f"{device.client} at {device.network}, {device.behaviour}{counts}, "
        f"last seen {ago(now - device.last_seen)}"
    )

"""Check one domain (or address) as the clients see it: discovery, server checks, summary."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from autoconf.catalog.address import Address, normalize_domain
from autoconf.health.discovery import Discovery, Http
from autoconf.health.dns import Dns, parse_nameservers, parse_port_map
from autoconf.health.model import Report, Status, Step
from autoconf.health.report import SIMPLIFIED, summarize
from autoconf.health.tls import ServerOptions, check_server
from autoconf.probe.connect import Timeouts

if TYPE_CHECKING:
    from pathlib import Path

    from autoconf.config import Settings
    from autoconf.health.model import ServerRef

log = structlog.get_logger("autoconf.health")

LOCAL_PART = "autoconf-check"  # the address used when only a domain is given
SERVERS_AT_ONCE = 4


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Everything a check needs from the settings."""

    timeout: float = 5.0
    nameservers: tuple[str, ...] = ()
    port_map: tuple[str, ...] = ()
    ca_file: Path | None = None
    ispdb_url: str = ""
    lookup: Dns = field(default_factory=Dns)

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckOptions:
        """Read the health_* settings; ConfigError names a bad entry."""
        lookup = Dns(
            parse_nameservers(settings.health_nameservers),
            settings.health_timeout,
            parse_port_map(settings.health_port_map),
        )
        return cls(
            settings.health_timeout,
            settings.health_nameservers,
            settings.health_port_map,
            settings.health_ca_file,
            settings.health_ispdb_url,
            lookup,
        )


def target_of(raw: str) -> tuple[str, str]:
    """(domain, address) from ``example.com`` or ``alice@example.com``; BadAddress if neither."""
    text = raw.strip()
    if "@" in text:
        address = Address.parse(text)
        return address.domain, str(address)
    domain = normalize_domain(text)  # BadAddress (a BadRequest) with a sentence
    return domain, f"{LOCAL_PART}@{domain}"


async def _reachable(host: str, port: int, limit: float) -> bool:
    try:
        async with asyncio.timeout(limit):
            _, writer = await asyncio.open_connection(host, port)
    except (OSError, TimeoutError):
        return False
    writer.close()
    return True


async def check(raw: str, options: CheckOptions, now: float | None = None) -> Report:
    """The whole check, steps in the order clients run them."""
    domain, address = target_of(raw)
    started = time.monotonic()
    report = Report(domain, address, now if now is not None else time.time())
    lookup = options.lookup
    async with Http(lookup, options.ca_file, options.timeout) as http:
        run = Discovery(http, lookup, options.ispdb_url, domain, address)
        await run.thunderbird()
        await run.outlook()
        if run.result.thunderbird is None and run.result.outlook is None:
            await run.guess(lambda h, p: _reachable(h, p, options.timeout))
        if run.result.outlook is not None:
            run.result.steps.append(Step("outlook", "simplified-setup", Status.INFO, SIMPLIFIED))
        await run.mail_srv()
    found = run.result
    report.steps = found.steps
    servers: list[ServerRef] = []
    for group in (found.thunderbird, found.outlook):
        servers += group.servers if group is not None else ()
    servers = list(dict.fromkeys([*servers, *found.srv, *found.guessed]))
    report.steps += await _check_servers(servers, lookup, options)
    summarize(report, found)
    report.ms = (time.monotonic() - started) * 1000
    log.info("health.checked", domain=domain, status=report.status.value,
             steps=len(report.steps), ms=round(report.ms))  # fmt: skip
    return report


async def _check_servers(
    servers: list[ServerRef], lookup: Dns, options: CheckOptions
) -> list[Step]:
    limit = asyncio.Semaphore(SERVERS_AT_ONCE)
    t = options.timeout
    server_options = ServerOptions(Timeouts(connect=t, step=t, tls=t), options.ca_file)

    async def one(server: ServerRef) -> Step:
        async with limit:
            return await check_server(server, lookup, server_options)

    return list(await asyncio.gather(*(one(s) for s in servers)))

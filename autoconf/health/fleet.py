"""Fleet checks: every catalog domain, now and then, with bounded concurrency and jitter.

Each result replaces the domain's row in the store (``save_domain_health``); failures are
listed by ``Store.domain_healths(status="fail")`` and ``GET /api/v1/domains?status=fail``.
Metrics: domains per status, and certificate days left per server host of the catalog
(bounded: hosts the catalog names, never a customer domain or an address).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Gauge

from autoconf.errors import StoreError
from autoconf.health.model import Status
from autoconf.health.service import check
from autoconf.store.base import DomainHealth

if TYPE_CHECKING:
    from collections.abc import Callable

    from prometheus_client import CollectorRegistry

    from autoconf.catalog.load import Catalog
    from autoconf.health.model import Report
    from autoconf.health.service import CheckOptions
    from autoconf.store.base import Store

log = structlog.get_logger("autoconf.health")

STATUSES = (Status.PASS.value, Status.WARN.value, Status.FAIL.value)
FIRST_RUN_DELAY = 60.0  # seconds after start-up, plus jitter


class HealthMetrics:
    """The two gauges, on the application's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.domains = Gauge(
            "autoconf_domains_health",
            "Catalog domains by the status of their last health check",
            ["status"],
            registry=registry,
        )
        self.days_left = Gauge(
            "autoconf_certificate_days_left",
            "Days until the certificate of a catalog server expires (last health check)",
            ["host", "port"],
            registry=registry,
        )

    def counts(self, counts: dict[str, int]) -> None:
        """Domains per status, every status present (0 when none)."""
        for status in STATUSES:
            self.domains.labels(status).set(counts.get(status, 0))


def catalog_hosts(catalog: Catalog) -> frozenset[str]:
    """Every server host the catalog names (the bound of the certificate gauge's labels)."""
    return frozenset(s.host.lower() for p in catalog.model.providers for s in p.servers)


def certificates(report: Report, hosts: frozenset[str]) -> dict[tuple[str, str], int]:
    """Days left per (host, port) of the catalog's servers the report checked."""
    found: dict[tuple[str, str], int] = {}
    for step in report.steps:
        if step.client != "server":
            continue
        host, _, port = step.target.rpartition(":")
        days = (step.facts.get("certificate") or {}).get("days_left")
        if host in hosts and isinstance(days, int):
            found[(host, port)] = days
    return found


def record(report: Report) -> DomainHealth:
    """The store row of a report."""
    return DomainHealth(
        domain=report.domain,
        status=report.status.value,
        checked_at=report.checked_at,
        summary=report.summary.get("text", ""),
        report=report.as_dict(),
    )


@dataclass(slots=True)
class Fleet:
    """Checks every domain of the current catalog and keeps the results."""

    store: Store
    catalog: Callable[[], Catalog]
    options: CheckOptions
    metrics: HealthMetrics | None = None
    concurrency: int = 8
    jitter: float = 2.0  # most seconds a worker waits before each domain
    last_run: dict[str, float] = field(default_factory=dict)

    async def run_once(self) -> dict[str, int]:
        """Check every catalog domain once; the count of domains per status."""
        current = self.catalog()
        hosts = catalog_hosts(current)
        queue: asyncio.Queue[str] = asyncio.Queue()
        for domain in current.domains():
            queue.put_nowait(domain)
        started = time.monotonic()
        workers = [
            asyncio.create_task(self._worker(queue, hosts), name=f"health-{n}")
            for n in range(min(self.concurrency, queue.qsize()) or 1)
        ]
        await asyncio.gather(*workers)
        counts = await self.store.domain_health_counts()
        if self.metrics is not None:
            self.metrics.counts(counts)
        self.last_run = {"at": time.time(), "seconds": time.monotonic() - started}
        log.info("health.fleet_checked", domains=current.domain_count, **counts)
        return counts

    async def _worker(self, queue: asyncio.Queue[str], hosts: frozenset[str]) -> None:
        while not queue.empty():
            domain = queue.get_nowait()
            if self.jitter > 0:
                await asyncio.sleep(random.uniform(0, self.jitter))  # noqa: S311 - not a secret
            try:
                report = await check(domain, self.options)
                await self.store.save_domain_health(record(report))
            except Exception as exc:  # noqa: BLE001 - one broken domain never stops the others
                log.warning("health.check_failed", domain=domain, error=repr(exc))
                continue
            if self.metrics is not None:
                for (host, port), days in certificates(report, hosts).items():
                    self.metrics.days_left.labels(host, port).set(days)

    async def run_forever(self, interval_hours: float) -> None:
        """The service's background job: a first run a minute after start, then each interval."""
        await asyncio.sleep(FIRST_RUN_DELAY + random.uniform(0, FIRST_RUN_DELAY))  # noqa: S311
        while True:
            try:
                await self.run_once()
            except StoreError as exc:
                log.warning("health.fleet_failed", error=str(exc))
            await asyncio.sleep(interval_hours * 3600)

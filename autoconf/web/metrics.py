"""Prometheus metrics of the service and of ingest; labels are bounded, never an address."""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from autoconf import __version__
from autoconf.diagnosis.findings import SEVERITIES
from autoconf.errors import StoreError
from autoconf.events.sessions import MAIL_COLUMNS, SESSION_COLUMNS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized

    from prometheus_client.core import Metric

    from autoconf.probe.result import ProbeResult
    from autoconf.store.base import Store
    from autoconf.web.metrics_merge import SharedDir

log = structlog.get_logger("autoconf.metrics")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
# Login services of Dovecot; anything else a log line names is counted as "other".
PROTOCOLS = frozenset({"imap", "pop3", "submission", "managesieve", "lmtp"})
NOTICE_OUTCOMES = ("sent", "failed", "deferred")
RECENT_SESSIONS = 20_000  # session keys remembered so that a login is counted once
_STARTED_AT = SESSION_COLUMNS.index("started_at")
_ENDED_AT = SESSION_COLUMNS.index("ended_at")
_PROTOCOL = SESSION_COLUMNS.index("protocol")
_AT = MAIL_COLUMNS.index("at")
PROBE_OUTCOME_MAX = 40  # error codes are class attributes; more than this is a bug: "error"
# How the gauges of several worker processes add up (counters and histograms are summed).
GAUGE_MERGE = {
    "autoconf_sightings_pending": "sum",
    "autoconf_ingest_lag_seconds": "min",
}


class RequestStats(Collector):
    """Request counts and latency histograms kept in plain dicts and lists.

    prometheus-client's labelled Counter and Histogram take a lock and several calls per
    observation; on the request path a dictionary increment does the same job, and the
    families are built only when /metrics is scraped.
    """

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, list[float]] = {}  # endpoint -> per-bucket counts + [sum]

    def observe(self, endpoint: str, client: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        key = (endpoint, client, status)
        self.counts[key] = self.counts.get(key, 0) + 1
        row = self.latency.get(endpoint)
        if row is None:
            row = self.latency[endpoint] = [0.0] * (len(BUCKETS) + 2)
        row[bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        """The two families, built at scrape time."""
        requests = CounterMetricFamily(
            "autoconf_http_requests",
            "HTTP requests answered, by endpoint, client kind and status code",
            labels=["endpoint", "client", "status"],
        )
        for (endpoint, client, status), count in sorted(self.counts.items()):
            requests.add_metric([endpoint, client, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "autoconf_http_request_duration_seconds",
            "Time from request to response, by endpoint",
            labels=["endpoint"],
        )
        for endpoint, row in sorted(self.latency.items()):
            cumulative = 0.0
            buckets: list[tuple[str, float]] = []
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), row[:-1], strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            latency.add_metric([endpoint], buckets, sum_value=row[-1])
        yield latency


class IngestStats(Collector):
    """One ingest source kind (``file``, ``stdin``, ``events``): read, skipped, committed.

    ``read`` returns the parser's own running totals (lines or exported events read, events
    parsed, skipped by kind), looked at only when scraped, so the parsing loop pays nothing;
    ``committed`` runs once per batch written to the store, for the logins and the lag.
    """

    def __init__(
        self,
        source: str,
        read: Callable[[], tuple[int, int, Mapping[str, int]]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self._read = read
        self._clock = clock
        self.newest: float | None = None  # time of the newest event in the store
        self.logins: dict[str, int] = {}
        # sessions counted lately: the event export reports a login twice (auth request
        # and auth client request), often in separate batches
        self._counted: dict[str, None] = {}

    def committed(self, sessions: Iterable[Sequence[Any]], mail: Sequence[Sequence[Any]]) -> None:
        """A batch of rows is in the store: count its logins, move the newest event time."""
        newest = self.newest if self.newest is not None else float("-inf")
        logins, counted = self.logins, self._counted
        for s in sessions:
            started, ended = s[_STARTED_AT], s[_ENDED_AT]
            if started is not None:  # a login's patch
                key = s[0]
                if key not in counted:
                    protocol = s[_PROTOCOL] if s[_PROTOCOL] in PROTOCOLS else "other"
                    logins[protocol] = logins.get(protocol, 0) + 1
                    counted[key] = None
                    if len(counted) > RECENT_SESSIONS:
                        del counted[next(iter(counted))]
                newest = max(newest, started)
            if ended is not None:
                newest = max(newest, ended)
        if mail:
            newest = max(newest, *(m[_AT] for m in mail))
        if newest != float("-inf"):
            self.newest = newest

    def collect(self) -> Iterator[Metric]:
        """Counters of what was read, gauges of how far behind the newest event is."""
        lines, events, skipped = self._read()
        skipped = dict(skipped)  # a copy: the ingest loop may be counting meanwhile
        source = [self.source]
        read = CounterMetricFamily(
            "autoconf_ingest_lines",
            "Log lines (file, stdin) or exported events (events) read, by source kind",
            labels=["source"],
        )
        read.add_metric(source, lines)
        yield read
        parsed = CounterMetricFamily(
            "autoconf_ingest_events",
            "Dovecot events recognised in what was read, by source kind",
            labels=["source"],
        )
        parsed.add_metric(source, events)
        yield parsed
        broken = CounterMetricFamily(
            "autoconf_ingest_skipped_lines",
            "Lines or exported events skipped, by source kind and why",
            labels=["source", "kind"],
        )
        for kind, n in sorted(skipped.items()):
            broken.add_metric([self.source, kind], n)
        yield broken
        logins = CounterMetricFamily(
            "autoconf_ingest_logins",
            "Mail sessions (logins) written to the store, by source kind and protocol",
            labels=["source", "protocol"],
        )
        for protocol, n in sorted(self.logins.items()):
            logins.add_metric([self.source, protocol], n)
        yield logins
        if self.newest is not None:
            newest = GaugeMetricFamily(
                "autoconf_ingest_newest_event_timestamp_seconds",
                "Time of the newest event written to the store, by source kind",
                labels=["source"],
            )
            newest.add_metric(source, self.newest)
            yield newest
            lag = GaugeMetricFamily(
                "autoconf_ingest_lag_seconds",
                "Seconds between now and the newest event written to the store, by source kind",
                labels=["source"],
            )
            lag.add_metric(source, self._clock() - self.newest)
            yield lag


class Metrics:
    """One registry per application, so tests and several apps never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.shared: SharedDir | None = None
        self.requests = RequestStats()
        r.register(self.requests)
        self.sightings_written = Counter(
            "autoconf_sightings_written", "Setup requests written to the store", registry=r
        )
        self.sightings_dropped = Counter(
            "autoconf_sightings_dropped",
            "Setup requests not recorded because the sighting buffer was full",
            registry=r,
        )
        self.sightings_pending = Gauge(
            "autoconf_sightings_pending", "Distinct sightings waiting to be written", registry=r
        )
        self.catalog_domains = Gauge(
            "autoconf_catalog_domains", "Domains (hosted and alias) in the catalog", registry=r
        )
        self.catalog_reloads = Counter(
            "autoconf_catalog_reloads", "Catalog reloads, by result", ["result"], registry=r
        )
        self.mailboxes_at_risk = Gauge(
            "autoconf_mailboxes_at_risk",
            "Mailboxes with an open finding of this severity (from the store, refreshed)",
            ["severity"],
            registry=r,
        )
        self.refresh_failures = Counter(
            "autoconf_metrics_refresh_failures",
            "Refreshes of the store gauges that failed or timed out",
            registry=r,
        )
        self.probes = Counter(
            "autoconf_probes",
            "Servers probed by the service, by protocol and outcome (ok or the error code)",
            ["protocol", "outcome"],
            registry=r,
        )
        self.notices = Counter(
            "autoconf_notices", "Notice mails, by outcome (sent, failed, deferred)", ["outcome"],
            registry=r,
        )  # fmt: skip
        for outcome in NOTICE_OUTCOMES:
            self.notices.labels(outcome)
        for result in ("ok", "failed"):
            self.catalog_reloads.labels(result)
        for protocol in ("imap", "pop3"):
            self.probes.labels(protocol, "ok")
        Gauge(
            "autoconf_build_info", "Always 1; the version of autoconf", ["version"], registry=r
        ).labels(__version__).set(1)

    def watch(self, sightings: Sized, ingest: IngestStats) -> None:
        """Read the sighting backlog at scrape time and export an ingest source's stats."""
        self.sightings_pending.set_function(lambda: len(sightings))
        self.registry.register(ingest)

    def count_probe(self, result: ProbeResult) -> None:
        """Count each server of a probe by protocol and outcome (ok, or its first error)."""
        for server in result.servers:
            errors = [f.code for f in server.findings if f.severity == "error"]
            outcome = errors[0] if errors else "ok"
            if len(outcome) > PROBE_OUTCOME_MAX or not outcome.replace("_", "").isalnum():
                outcome = "error"
            protocol = server.endpoint.protocol
            self.probes.labels(protocol if protocol in PROTOCOLS else "other", outcome).inc()

    def count_notice(self, outcome: str) -> None:
        """Count one notice mail: sent, failed or deferred."""
        self.notices.labels(outcome if outcome in NOTICE_OUTCOMES else "failed").inc()

    def share(self, shared: SharedDir) -> None:
        """Take part in the metrics of several workers (serve --workers)."""
        self.shared = shared

    async def exposition(self) -> bytes:
        """The text a scrape gets: this process's metrics, or those of every worker."""
        if self.shared is not None:
            return await self.shared.merged(self.registry, GAUGE_MERGE)
        return generate_latest(self.registry)

    async def refresh(self, store: Store) -> None:
        """Set the gauges that come from the store (one grouped query, with a time limit)."""
        at_risk = await store.mailboxes_at_risk()
        for severity in SEVERITIES:
            self.mailboxes_at_risk.labels(severity).set(at_risk.get(severity, 0))

    async def run(self, store: Store, every: float) -> None:
        """Refresh the store gauges every ``every`` s; with workers, write snapshots too."""
        shared = self.shared
        writer = None
        if shared is not None:
            writer = asyncio.get_running_loop().create_task(
                shared.run(self.registry, GAUGE_MERGE), name="metrics-snapshots"
            )
        try:
            while True:
                try:
                    async with asyncio.timeout(max(every / 2, 1.0)):
                        await self.refresh(store)
                except (StoreError, TimeoutError) as exc:
                    self.refresh_failures.inc()
                    log.warning("metrics.refresh_failed", error=str(exc) or "timeout")
                except Exception:  # a driver's own error must not end the refreshes
                    self.refresh_failures.inc()
                    log.exception("metrics.refresh_failed")
                await asyncio.sleep(every)
        finally:
            if writer is not None:
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)


def expose_ingest(stats: IngestStats, host: str, port: int) -> Callable[[], None]:
    """Serve an ingest process's metrics on ``host:port`` (a thread); returns the stopper."""
    from prometheus_client import start_http_server  # noqa: PLC0415 - only with --metrics-port

    registry = CollectorRegistry(auto_describe=True)
    registry.register(stats)
    Gauge(
        "autoconf_build_info", "Always 1; the version of autoconf", ["version"], registry=registry
    ).labels(__version__).set(1)
    server, thread = start_http_server(port, host, registry)

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(5)

    return stop

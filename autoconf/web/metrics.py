"""Prometheus metrics of the HTTP service; labels are bounded, never an address."""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterator

    from prometheus_client.core import Metric

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


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


class Metrics:
    """One registry per application, so tests and several apps never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
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

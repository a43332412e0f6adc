"""Prometheus metrics of the HTTP service; labels are bounded, never an address."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from collections.abc import Callable

_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    """One registry per application, so tests and several apps never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "autoconf_http_requests",
            "HTTP requests answered, by endpoint, client kind and status code",
            ["endpoint", "client", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "autoconf_http_request_duration_seconds",
            "Time from request to response, by endpoint",
            ["endpoint"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.sightings_written = Counter(
            "autoconf_sightings_written", "Setup sightings written to the store", registry=r
        )
        self.sightings_dropped = Counter(
            "autoconf_sightings_dropped",
            "Setup sightings dropped because the buffer was full",
            registry=r,
        )
        self.sightings_pending = Gauge(
            "autoconf_sightings_pending", "Setup sightings waiting to be written", registry=r
        )
        self.catalog_domains = Gauge(
            "autoconf_catalog_domains", "Domains (hosted and alias) in the catalog", registry=r
        )
        self.catalog_reloads = Counter(
            "autoconf_catalog_reloads", "Catalog reloads, by result", ["result"], registry=r
        )
        self._children: dict[tuple[str, str, int], Callable[[], None]] = {}
        self._timers: dict[str, Callable[[float], None]] = {}

    def observe(self, endpoint: str, client: str, status: int, seconds: float) -> None:
        """Count one request and its latency; label children are cached for speed."""
        key = (endpoint, client, status)
        inc = self._children.get(key)
        if inc is None:
            inc = self.requests.labels(endpoint, client, str(status)).inc
            self._children[key] = inc
        inc()
        timer = self._timers.get(endpoint)
        if timer is None:
            timer = self.latency.labels(endpoint).observe
            self._timers[endpoint] = timer
        timer(seconds)

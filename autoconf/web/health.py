"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from autoconf.errors import StoreError
from autoconf.web.keys import CATALOG, METRICS, SIGHTINGS, STORE


async def healthz(_request: web.Request) -> web.Response:
    """The process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when the catalog is loaded and the store answers."""
    catalog = request.app[CATALOG].current
    try:
        await request.app[STORE].ping()
    except StoreError as exc:
        return web.json_response({"status": "unavailable", "reason": str(exc)}, status=503)
    return web.json_response(
        {"status": "ready", "catalog": catalog.source, "domains": catalog.domain_count}
    )


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    m = request.app[METRICS]
    m.sightings_pending.set(len(request.app[SIGHTINGS]))
    m.catalog_domains.set(request.app[CATALOG].current.domain_count)
    return web.Response(
        body=generate_latest(m.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )

"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from autoconf.errors import StoreError
from autoconf.web.keys import CATALOG, METRICS, STORE


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
    """Prometheus text exposition: of the whole service when it runs several workers."""
    m = request.app[METRICS]
    m.catalog_domains.set(request.app[CATALOG].current.domain_count)
    return web.Response(
        body=await m.exposition(),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )

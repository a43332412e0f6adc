"""Typed application keys (what handlers find in ``request.app``) and per-request values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from autoconf.catalog.live import LiveCatalog
from autoconf.config import Settings
from autoconf.sightings import SightingBuffer
from autoconf.store.base import Store
from autoconf.web.metrics import Metrics

if TYPE_CHECKING:
    from autoconf.formats.mobileconfig import Signer
    from autoconf.web.events_api import EventsReceiver

SETTINGS = web.AppKey("settings", Settings)
CATALOG = web.AppKey("catalog", LiveCatalog)
STORE = web.AppKey("store", Store)
SIGHTINGS = web.AppKey("sightings", SightingBuffer)
METRICS = web.AppKey("metrics", Metrics)
SIGNER: web.AppKey[Signer | None] = web.AppKey("signer")
EVENTS: web.AppKey[EventsReceiver] = web.AppKey("events")
# Per-request values set by handlers and read by the middleware.
CLIENT = web.RequestKey("client", str)
ENDPOINT = web.RequestKey("endpoint", str)
PARAMS: web.RequestKey[dict[str, str]] = web.RequestKey("params")


def param(request: web.Request, name: str) -> str:
    """A path parameter, also when the route was found by its case-insensitive form."""
    params: dict[str, str] | None = request.get(PARAMS)
    if params is not None:
        return params.get(name, "")
    return request.match_info.get(name, "")

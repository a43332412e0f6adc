"""make_app: the aiohttp application with its store, sighting writer and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from autoconf import logs
from autoconf.errors import ConfigError, StoreError
from autoconf.formats.mobileconfig import Signer
from autoconf.health.api import FLEET
from autoconf.health.fleet import Fleet, HealthMetrics
from autoconf.health.service import CheckOptions
from autoconf.logs import AccessLog
from autoconf.sightings import SightingBuffer
from autoconf.store import make_store
from autoconf.web import support
from autoconf.web.body import MAX_BODY
from autoconf.web.events_api import EventsReceiver
from autoconf.web.keys import CATALOG, EVENTS, METRICS, SETTINGS, SIGHTINGS, SIGNER, STORE
from autoconf.web.metrics import Metrics
from autoconf.web.observe import Observer
from autoconf.web.routes import add_routes

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from autoconf.catalog.live import LiveCatalog
    from autoconf.config import Settings
    from autoconf.store.base import Store


log = structlog.get_logger("autoconf.app")


def load_signer(settings: Settings) -> Signer | None:
    """Read the profile-signing certificate, key and chain; ConfigError names the bad file."""
    if settings.mobileconfig_cert is None or settings.mobileconfig_key is None:
        return None
    lines: list[str] = []
    try:
        cert = x509.load_pem_x509_certificate(settings.mobileconfig_cert.read_bytes())
        key = serialization.load_pem_private_key(
            settings.mobileconfig_key.read_bytes(), password=None
        )
        chain: tuple[x509.Certificate, ...] = ()
        if settings.mobileconfig_chain is not None:
            chain = tuple(x509.load_pem_x509_certificates(settings.mobileconfig_chain.read_bytes()))
    except (OSError, ValueError) as exc:
        lines.append(f"mobileconfig signing: {exc}")
        raise ConfigError(lines) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ConfigError(["mobileconfig_key: only RSA and EC keys can sign profiles"])
    return Signer(cert, key, chain)


def make_app(
    settings: Settings, catalog: LiveCatalog, store: Store | None = None
) -> web.Application:
    """The service; the store comes from the settings unless one is given."""
    metrics = Metrics()
    stream = logs.access_stream() if settings.access_log else None
    access = AccessLog(stream) if stream is not None else None
    app = web.Application(client_max_size=MAX_BODY)
    metrics.catalog_domains.set(catalog.current.domain_count)
    the_store: Store = store if store is not None else make_store(settings)
    app[SETTINGS] = settings
    app[CATALOG] = catalog
    app[METRICS] = metrics
    app[STORE] = the_store
    app[SIGNER] = load_signer(settings)
    app[EVENTS] = EventsReceiver(the_store, settings.zone, settings.default_domain)
    app[SIGHTINGS] = SightingBuffer(
        the_store,
        capacity=settings.sightings_buffer,
        batch=settings.sightings_batch,
        interval=settings.sightings_flush_seconds,
        on_drop=metrics.sightings_dropped.inc,
        on_flush=metrics.sightings_written.inc,
    )
    support.install(app, settings)  # page sessions; also lets the API accept them
    app[FLEET] = Fleet(
        the_store,
        lambda: catalog.current,
        CheckOptions.from_settings(settings),
        HealthMetrics(metrics.registry),
        settings.health_concurrency,
    )
    add_routes(app, Observer(metrics, access, log_requests=settings.access_log))
    metrics.watch(app[SIGHTINGS], app[EVENTS].stats)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        store = app[STORE]
        await store.open()
        buffer = app[SIGHTINGS]
        buffer.start()
        if access is not None:
            access.start()
        loop = asyncio.get_running_loop()
        background = [
            loop.create_task(_retention(store, settings.retention_days), name="retention"),
            loop.create_task(metrics.run(store, settings.metrics_refresh_seconds), name="metrics"),
        ]
        if settings.health_interval_hours > 0:
            fleet = app[FLEET].run_forever(settings.health_interval_hours)
            background.append(loop.create_task(fleet, name="health-fleet"))
        if settings.catalog_poll_seconds > 0 and app[CATALOG].path is not None:
            watch = app[CATALOG].poll(settings.catalog_poll_seconds, lambda: reload_catalog(app))
            background.append(loop.create_task(watch, name="catalog-poll"))
        yield
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app[EVENTS].close()
        await buffer.stop()
        await store.close()
        if access is not None:
            await access.stop()

    app.cleanup_ctx.append(lifecycle)
    return app


async def _retention(store: Store, days: float, every: float = 3600.0) -> None:
    """Delete personal data older than ``days`` once an hour (first run after a minute)."""
    await asyncio.sleep(60 + random.uniform(0, 60))  # noqa: S311 - jitter, not a secret
    while True:
        try:
            removed = await store.purge(time.time() - days * 86400)
            log.info("retention.purged", rows=removed, days=days)
        except StoreError as exc:
            log.warning("retention.failed", error=str(exc))
        await asyncio.sleep(every)


def reload_catalog(app: web.Application) -> list[str]:
    """Reload the catalog file (SIGHUP); the old catalog keeps serving if the new one is bad."""
    errors = app[CATALOG].reload()
    metrics = app[METRICS]
    metrics.catalog_reloads.labels("failed" if errors else "ok").inc()
    metrics.catalog_domains.set(app[CATALOG].current.domain_count)
    return errors

"""JSON API under /api/v1/ (support role): mailboxes, their devices and probe runs, health.

Incidents and notices live in ``api_incidents``, admin calls in ``api_admin``, diagnosis and
findings in ``diagnosis/api.py``, probe now in ``probe/api.py``. Every answer goes through a
model of ``api_models``.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

from autoconf import __version__
from autoconf.catalog.address import Address
from autoconf.errors import BadRequest, StoreError
from autoconf.events import devices
from autoconf.web import api_models as m
from autoconf.web.auth import Role, require
from autoconf.web.keys import CATALOG, SETTINGS, SIGHTINGS, STORE, param

if TYPE_CHECKING:
    from aiohttp import web


def mailbox_param(request: web.Request) -> str:
    """The ``{email}`` of the path as the store keeps it; BadAddress (400) if it is none."""
    return str(Address.parse(param(request, "email")))


def search_prefix(raw: str) -> str:
    """What an agent typed, as stored addresses begin: trimmed, the domain part lower-case."""
    text = raw.strip()
    if not text.isprintable():
        raise BadRequest("The search text contains a control character.")
    local, at, domain = text.partition("@")
    return f"{local}{at}{domain.lower()}"


async def mailboxes(request: web.Request) -> web.Response:
    """GET /api/v1/mailboxes?q=&limit=: known mailboxes whose address starts with q."""
    require(request, Role.SUPPORT)
    q = m.query(request, m.SearchQuery)
    prefix = search_prefix(q.q)
    found = await request.app[STORE].mailboxes(prefix, limit=q.limit)
    return m.answer(m.MailboxList, {"query": prefix, "limit": q.limit, "mailboxes": found})


async def mailbox_devices(request: web.Request) -> web.Response:
    """GET /api/v1/mailboxes/<email>/devices: each device and what it did recently."""
    require(request, Role.SUPPORT)
    mailbox = mailbox_param(request)
    store = request.app[STORE]
    now = time.time()
    since = now - request.app[SETTINGS].retention_days * 86400
    sessions = await store.sessions(mailbox, since=since, limit=5000)
    sightings = await store.sightings(mailbox=mailbox, limit=1000)
    found = devices.build(sessions, sightings)
    return m.answer(m.Devices, {"mailbox": mailbox, "devices": [d.as_dict(now) for d in found]})


async def probe_runs(request: web.Request) -> web.Response:
    """GET /api/v1/mailboxes/<email>/probe-runs?limit=: stored probes, oldest first."""
    require(request, Role.SUPPORT)
    mailbox = mailbox_param(request)
    q = m.query(request, m.LimitQuery)
    runs = await request.app[STORE].probe_runs(mailbox, limit=q.limit)
    return m.answer(
        m.ProbeRuns, {"mailbox": mailbox, "runs": [dataclasses.asdict(r) for r in runs]}
    )


async def health(request: web.Request) -> web.Response:
    """GET /api/v1/health: catalog, store and sighting buffer, and who is asking."""
    principal = require(request, Role.SUPPORT)
    live = request.app[CATALOG]
    store = request.app[STORE]
    version: int | None = None
    try:
        await store.ping()
        version = await store.schema_version()
        state = "ok"
    except StoreError as exc:
        state = str(exc)
    return m.answer(
        m.Health,
        {
            "status": "ok" if version is not None else "degraded",
            "version": __version__,
            "catalog_source": live.current.source,
            "catalog_domains": live.current.domain_count,
            "catalog_generation": live.generation,
            "store": state,
            "schema_version": version,
            "sightings_pending": len(request.app[SIGHTINGS]),
            "principal": principal.name,
            "role": principal.role.label,
        },
    )

"""JSON API under /api/v1/ (bearer token): what the service knows about a mailbox."""

from __future__ import annotations

import time

from aiohttp import web

from autoconf.catalog.address import Address
from autoconf.events import devices
from autoconf.web.auth import require_token
from autoconf.web.keys import SETTINGS, STORE, param


async def mailbox_devices(request: web.Request) -> web.Response:
    """GET /api/v1/mailboxes/<email>/devices: each device and what it did recently."""
    require_token(request)
    address = Address.parse(param(request, "email"))
    mailbox = str(address)
    store = request.app[STORE]
    now = time.time()
    since = now - request.app[SETTINGS].retention_days * 86400
    sessions = await store.sessions(mailbox, since=since, limit=5000)
    sightings = await store.sightings(mailbox=mailbox, limit=1000)
    found = devices.build(sessions, sightings)
    return web.json_response(
        {"mailbox": mailbox, "devices": [d.as_dict(now) for d in found]},
        headers={"Cache-Control": "no-store"},
    )

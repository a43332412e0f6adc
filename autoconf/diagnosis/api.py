"""GET /api/v1/mailboxes/<email>/diagnosis and GET /api/v1/findings (bearer token)."""

from __future__ import annotations

import time

from aiohttp import web

from autoconf.catalog.address import Address
from autoconf.diagnosis import messages, service
from autoconf.diagnosis.findings import SEVERITIES
from autoconf.errors import BadRequest
from autoconf.web.auth import require_token
from autoconf.web.keys import SETTINGS, STORE, param

MAX_LIMIT = 500
NO_STORE = {"Cache-Control": "no-store"}


def _lang(request: web.Request) -> str:
    default = request.app[SETTINGS].default_language
    return messages.pick_language(
        request.query.get("lang") or request.headers.get("Accept-Language"), default
    )


async def diagnosis(request: web.Request) -> web.Response:
    """The mailbox's findings in the request's language, its devices; incidents tracked."""
    require_token(request)
    mailbox = str(Address.parse(param(request, "email")))
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    now = time.time()
    found = await service.run(store, settings, mailbox, now=now)
    await service.track(store, found, now, settings.incident_resolve_days)
    lang = _lang(request)
    return web.json_response(
        service.report(found, lang, now),
        headers={**NO_STORE, "Content-Language": lang, "Vary": "Accept-Language"},
    )


def _int(request: web.Request, name: str, default: int, top: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a whole number, not {raw!r}.") from None
    if not 0 <= value <= top:
        raise BadRequest(f"{name} must be between 0 and {top}.")
    return value


async def findings(request: web.Request) -> web.Response:
    """Open findings across mailboxes, newest first: ?severity=&limit=&offset=."""
    require_token(request)
    severity = request.query.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise BadRequest(f"severity must be one of {', '.join(SEVERITIES)}.")
    limit = _int(request, "limit", 100, MAX_LIMIT)
    offset = _int(request, "offset", 0, 10**9)
    rows = await request.app[STORE].incidents(severity=severity, limit=limit + 1, offset=offset)
    lang = _lang(request)
    page = [service.incident_finding(i, lang) for i in rows[:limit]]
    return web.json_response(
        {
            "findings": page,
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if len(rows) > limit else None,
        },
        headers={**NO_STORE, "Content-Language": lang, "Vary": "Accept-Language"},
    )

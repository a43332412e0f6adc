"""GET /api/v1/mailboxes/<email>/diagnosis and GET /api/v1/findings (support role)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from autoconf.catalog.address import Address
from autoconf.diagnosis import messages, service
from autoconf.web import api_models as m
from autoconf.web.auth import Role, require
from autoconf.web.keys import SETTINGS, STORE, param

if TYPE_CHECKING:
    from aiohttp import web

LANGUAGE_HEADERS = {"Vary": "Accept-Language"}


def _lang(request: web.Request) -> str:
    default = request.app[SETTINGS].default_language
    requested = m.query(request, m.LanguageQuery).lang
    return messages.pick_language(requested or request.headers.get("Accept-Language"), default)


async def diagnosis(request: web.Request) -> web.Response:
    """The mailbox's findings in the request's language, its devices; incidents tracked."""
    require(request, Role.SUPPORT)
    mailbox = str(Address.parse(param(request, "email")))
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    now = time.time()
    found = await service.run(store, settings, mailbox, now=now)
    await service.track(store, found, now, settings.incident_resolve_days)
    lang = _lang(request)
    response = m.answer(m.Diagnosis, service.report(found, lang, now))
    response.headers.update({**LANGUAGE_HEADERS, "Content-Language": lang})
    return response


async def findings(request: web.Request) -> web.Response:
    """Open findings across mailboxes, last updated first: ?severity=&mailbox=&limit=&offset=."""
    require(request, Role.SUPPORT)
    q = m.query(request, m.FindingQuery)
    mailbox = str(Address.parse(q.mailbox)) if q.mailbox else None
    rows = await request.app[STORE].incidents(
        mailbox=mailbox, severity=q.severity, limit=q.limit + 1, offset=q.offset
    )
    lang = _lang(request)
    page = [service.incident_finding(i, lang) for i in rows[: q.limit]]
    response = m.answer(
        m.FindingPage,
        {
            "findings": page,
            "limit": q.limit,
            "offset": q.offset,
            "next_offset": q.offset + q.limit if len(rows) > q.limit else None,
        },
    )
    response.headers.update({**LANGUAGE_HEADERS, "Content-Language": lang})
    return response

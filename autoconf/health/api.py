"""GET /api/v1/domains/<domain>/health (check now) and GET /api/v1/domains (stored results).

Both need the support role. A live check runs only for domains of the catalog (hosted or
alias): the service then sends requests to hosts named by a customer's DNS, which it
should not do for any name a caller types. ``autoconf check`` on the command line has no
such limit.
"""

from __future__ import annotations

from aiohttp import web

from autoconf.health.fleet import Fleet, record
from autoconf.health.service import check, target_of
from autoconf.web import api_models as m
from autoconf.web.auth import Role, require
from autoconf.web.keys import CATALOG, STORE, param

FLEET: web.AppKey[Fleet] = web.AppKey("health_fleet")


async def domain_health(request: web.Request) -> web.Response:
    """Run the health check of a catalog domain now, keep it, and answer the report."""
    require(request, Role.SUPPORT)
    domain, _ = target_of(param(request, "domain"))
    request.app[CATALOG].current.account_for_domain(domain)  # NotHosted: 404 naming nothing
    fleet = request.app[FLEET]
    report = await check(domain, fleet.options)
    await request.app[STORE].save_domain_health(record(report))
    return m.answer(m.DomainHealthReport, report.as_dict())


async def domains(request: web.Request) -> web.Response:
    """The last health check of each domain, failing and oldest first: ?status=&limit=&offset=."""
    require(request, Role.SUPPORT)
    q = m.query(request, m.DomainQuery)
    rows = await request.app[STORE].domain_healths(
        status=q.status, limit=q.limit + 1, offset=q.offset
    )
    return m.answer(
        m.DomainHealthPage,
        {
            "domains": [
                {
                    "domain": r.domain,
                    "status": r.status,
                    "checked_at": r.checked_at,
                    "summary": r.summary,
                }
                for r in rows[: q.limit]
            ],
            "limit": q.limit,
            "offset": q.offset,
            "next_offset": q.offset + q.limit if len(rows) > q.limit else None,
        },
    )

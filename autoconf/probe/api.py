"""POST /api/v1/mailboxes/<email>/probe: probe a mailbox now as the master user (support).

Every probe asked for through the API is written to the audit log with what came of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoconf.catalog.address import Address
from autoconf.errors import AutoconfError
from autoconf.probe.mailbox import (
    last_login_from,
    master_credentials,
    options_from,
    probe_and_store,
    targets_for,
)
from autoconf.web import api_models as m
from autoconf.web import audit
from autoconf.web.auth import Role, require
from autoconf.web.keys import CATALOG, METRICS, SETTINGS, STORE, param

if TYPE_CHECKING:
    from aiohttp import web

    from autoconf.probe.result import ProbeResult


async def run_probe(request: web.Request, address: Address) -> ProbeResult:
    """Probe the mailbox's servers for the caller, store and count it, audit what came of it.

    The one path of "probe now" for the API and the support pages; a refusal or failure is
    audited and raised as the AutoconfError it is.
    """
    settings = request.app[SETTINGS]
    try:
        creds = master_credentials(settings)
        account = request.app[CATALOG].current.account_for(address)
        mailbox = str(account.mailbox or address)
        result = await probe_and_store(
            request.app[STORE],
            mailbox,
            targets_for(account),
            creds,
            ca_file=settings.probe_ca_file,
            options=options_from(settings),
            last_login=last_login_from(settings),
        )
    except AutoconfError as exc:
        await audit.record(request, audit.PROBE, str(address), exc.code)
        raise
    await audit.record(request, audit.PROBE, mailbox, "ok" if result.ok else "problems")
    request.app[METRICS].count_probe(result)
    return result


async def probe(request: web.Request) -> web.Response:
    """Probe every incoming server of the mailbox's provider; answer the result JSON."""
    require(request, Role.SUPPORT)
    result = await run_probe(request, Address.parse(param(request, "email")))
    return m.answer(m.ProbeResult, result.as_dict())

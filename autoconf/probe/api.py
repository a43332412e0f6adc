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


async def probe(request: web.Request) -> web.Response:
    """Probe every incoming server of the mailbox's provider; answer the result JSON."""
    require(request, Role.SUPPORT)
    address = Address.parse(param(request, "email"))
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
    return m.answer(m.ProbeResult, result.as_dict())

"""POST /api/v1/mailboxes/<email>/probe: probe a mailbox now as the master user (token)."""

from __future__ import annotations

from aiohttp import web

from autoconf.catalog.address import Address
from autoconf.probe.mailbox import (
    last_login_from,
    master_credentials,
    options_from,
    probe_and_store,
    targets_for,
)
from autoconf.web.auth import require_token
from autoconf.web.keys import CATALOG, SETTINGS, STORE, param


async def probe(request: web.Request) -> web.Response:
    """Probe every incoming server of the mailbox's provider; answer the result JSON."""
    require_token(request)
    address = Address.parse(param(request, "email"))
    settings = request.app[SETTINGS]
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
    return web.json_response(result.as_dict(), headers={"Cache-Control": "no-store"})

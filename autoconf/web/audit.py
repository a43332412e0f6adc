"""The audit log: who probed or sent a notice to which mailbox, from the API or the pages."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog

from autoconf.store.base import AuditEntry
from autoconf.web.auth import PRINCIPAL
from autoconf.web.keys import STORE

if TYPE_CHECKING:
    from aiohttp import web

log = structlog.get_logger("autoconf.audit")

PROBE = "probe"
NOTICE = "notice"


async def record(request: web.Request, action: str, mailbox: str, outcome: str) -> None:
    """Store and log one action of the caller that ``require()`` identified on ``request``.

    ``action`` is a short word (``probe``, ``notice``); ``outcome`` says what came of it
    (``ok``, ``sent``, ``already_sent``, ``failed: …``).
    """
    principal = request[PRINCIPAL]
    entry = AuditEntry(
        at=time.time(),
        actor=principal.name,
        role=principal.role.label,
        action=action,
        mailbox=mailbox,
        outcome=outcome,
    )
    log.info(
        "audit",
        actor=entry.actor,
        role=entry.role,
        action=action,
        mailbox=mailbox,
        outcome=outcome,
    )
    await request.app[STORE].add_audit(entry)

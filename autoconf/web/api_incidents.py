"""Incidents and notices in the JSON API (support role); the notice step the pages reuse.

A notice goes out once per incident, ever: ``notify_mailbox`` picks the mailbox's worst open
incident that calls for one and hands it to ``notify.mail.send_notices``, which claims it in
the store before delivering. Every attempt through the API is written to the audit log.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconf.diagnosis import messages
from autoconf.diagnosis.findings import severity_rank
from autoconf.errors import AutoconfError
from autoconf.notify.mail import NOTIFY_CODES, NoticeError, send_notices, wants_notice
from autoconf.web import api_models as m
from autoconf.web import audit
from autoconf.web.api import mailbox_param
from autoconf.web.auth import Role, require
from autoconf.web.keys import METRICS, SETTINGS, STORE, param

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiohttp import web

    from autoconf.config import Settings
    from autoconf.store.base import Store

MAX_ID = 2**63 - 1


class NoIncident(AutoconfError):
    """Nothing to answer or to notify about."""

    status = 404
    code = "not_found"


class NoticeRefused(AutoconfError):
    """A notice that may not go out now: already sent, deferred, or notices are off."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class NoticeSent:
    """The notice that went out."""

    mailbox: str
    incident: int
    code: str
    language: str
    message_id: str


async def notify_mailbox(
    store: Store,
    settings: Settings,
    mailbox: str,
    lang: str,
    now: float,
    *,
    count: Callable[[str], None] | None = None,
) -> NoticeSent:
    """Send the notice for the mailbox's worst open incident that calls for one.

    Raises NoticeRefused (409: ``notices_off``, ``already_sent``, ``notice_deferred``),
    NoIncident (404) or NoticeError (502, delivery failed; the claim is released).
    """
    if settings.notice_transport == "off":
        raise NoticeRefused("notices_off", "Notices are switched off (notice_transport is off).")
    open_ = await store.incidents(mailbox=mailbox, state="open", limit=200)
    due = sorted((i for i in open_ if wants_notice(i)), key=lambda i: severity_rank(i.severity))
    if not due:
        if any(i.code in NOTIFY_CODES and i.notified_at is not None for i in open_):
            raise NoticeRefused(
                "already_sent", f"The notice for {mailbox}'s open incident was already sent."
            )
        raise NoIncident(f"{mailbox} has no open incident that calls for a notice.")
    target = due[0]
    last = await store.last_notice_at(mailbox)
    interval = settings.notice_interval_hours * 3600
    if last is not None and now - last < interval:
        hours = (interval - (now - last)) / 3600
        if count is not None:
            count("deferred")
        raise NoticeRefused(
            "notice_deferred",
            f"{mailbox} got a notice less than {settings.notice_interval_hours:g} hours ago;"
            f" the next one may go out in {hours:.1f} hours.",
        )
    sent = await send_notices(store, settings, [target], lang, now=now, count=count)
    if not sent:
        assert target.id is not None
        again = await store.incident(target.id)
        if again is not None and again.notified_at is not None:  # another instance was first
            raise NoticeRefused("already_sent", f"The notice for {mailbox} was already sent.")
        msg = (
            f"The notice to {mailbox} could not be delivered over {settings.notice_transport}"
            f" to {settings.notice_host}:{settings.notice_port}; see the service log."
        )
        raise NoticeError(msg)
    assert target.id is not None
    return NoticeSent(mailbox, target.id, target.code, lang, sent[0])


def _lang(request: web.Request) -> str:
    """The user's language for a notice: ?lang=, else the default (not the agent's)."""
    default = request.app[SETTINGS].default_language
    return messages.pick_language(m.query(request, m.LanguageQuery).lang, default)


async def notice(request: web.Request) -> web.Response:
    """POST /api/v1/mailboxes/<email>/notice?lang=: send the notice of the open incident."""
    require(request, Role.SUPPORT)
    mailbox = mailbox_param(request)
    lang = _lang(request)
    try:
        sent = await notify_mailbox(
            request.app[STORE], request.app[SETTINGS], mailbox, lang, time.time(),
            count=request.app[METRICS].count_notice,
        )  # fmt: skip
    except AutoconfError as exc:
        await audit.record(request, audit.NOTICE, mailbox, exc.code)
        raise
    await audit.record(request, audit.NOTICE, mailbox, f"sent {sent.message_id}")
    return m.answer(m.NoticeResult, dataclasses.asdict(sent))


async def incidents(request: web.Request) -> web.Response:
    """GET /api/v1/incidents?mailbox=&state=&severity=&limit=&offset=: last updated first."""
    require(request, Role.SUPPORT)
    q = m.query(request, m.IncidentQuery)
    rows = await request.app[STORE].incidents(
        mailbox=q.mailbox or None,
        state=None if q.state == "all" else q.state,
        severity=q.severity,
        limit=q.limit + 1,
        offset=q.offset,
    )
    return m.answer(
        m.IncidentPage,
        {
            "incidents": [i.as_dict() for i in rows[: q.limit]],
            "limit": q.limit,
            "offset": q.offset,
            "next_offset": q.offset + q.limit if len(rows) > q.limit else None,
        },
    )


async def incident(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/<id>: one incident and its transitions, oldest first."""
    require(request, Role.SUPPORT)
    raw = param(request, "id")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 19 else 0  # noqa: PLR2004
    found = await request.app[STORE].incident(number) if 0 < number <= MAX_ID else None
    if found is None:
        raise NoIncident(f"There is no incident {raw[:40]!r}.")
    steps = await request.app[STORE].incident_transitions(number)
    return m.answer(
        m.IncidentDetail,
        {"incident": found.as_dict(), "transitions": [dataclasses.asdict(t) for t in steps]},
    )

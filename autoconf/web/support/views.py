"""The support pages an agent uses with a customer on the line: search, mailbox, incidents.

The mailbox page runs the diagnosis (tracking incidents, like the API), shows the devices
on a timeline, each finding with the agent's explanation and what to tell the customer,
and the buttons "probe now" and "send the notice" (POST forms with the CSRF token; both
written to the audit log).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from markupsafe import Markup

from autoconf.catalog.address import Address
from autoconf.diagnosis import messages, service
from autoconf.diagnosis.findings import SEVERITIES
from autoconf.errors import AutoconfError, BadRequest
from autoconf.notify.mail import wants_notice
from autoconf.probe.api import run_probe
from autoconf.web import audit
from autoconf.web.api_incidents import notify_mailbox
from autoconf.web.keys import METRICS, SETTINGS, STORE, param
from autoconf.web.support import timeline
from autoconf.web.support.render import (
    Refused,
    current,
    form,
    language,
    message,
    page,
    render,
    see_other,
)
from autoconf.web.support.words import LANGUAGES, WORDS

if TYPE_CHECKING:
    from aiohttp import web

    from autoconf.probe.result import ProbeResult

SEARCH_LIMIT = 50
PAGE_SIZE = 50
MAX_QUERY = 254
PROBE_RUNS_SHOWN = 5


def mailbox_url(mailbox: str) -> str:
    """The mailbox page of an address."""
    return "/support/mailbox/" + quote(mailbox, safe="@")


@page
async def search(request: web.Request) -> web.StreamResponse:
    """GET /support/?q=: an address goes to its page, a beginning lists known mailboxes."""
    current(request)
    query = request.query.get("q", "").strip()[:MAX_QUERY]
    if not query:
        return render(request, "search.html", query="", results=None, direct=None)
    results = await request.app[STORE].mailboxes(query, limit=SEARCH_LIMIT)
    direct = None
    if "@" in query:
        try:
            direct = str(Address.parse(query))
        except BadRequest:
            direct = None
    if direct is not None and results in ([], [direct]):
        return see_other(mailbox_url(direct))
    links = [(m, mailbox_url(m)) for m in results]
    return render(request, "search.html", query=query, results=links, direct=direct)


def _address(request: web.Request) -> str:
    try:
        return str(Address.parse(param(request, "email")))
    except BadRequest as exc:
        raise Refused(message(request, 400, str(exc))) from None


def _worded(device: dict[str, object], lang: str) -> dict[str, object]:
    """A device's client and behaviour in the page's language."""
    for key in ("client", "behaviour"):
        device[key] = messages.device_text(str(device[key]), lang)
    return device


async def _mailbox_page(
    request: web.Request, mailbox: str, *, status: int = 200, **extra: Any
) -> web.Response:
    lang = language(request)
    words = WORDS[lang]
    settings = request.app[SETTINGS]
    store = request.app[STORE]
    now = time.time()
    found = await service.run(store, settings, mailbox, now=now)
    await service.track(store, found, now, settings.incident_resolve_days)
    since = now - settings.diagnosis_window_days * 86400
    sessions = await store.sessions(mailbox, since=since, limit=service.SESSION_LIMIT)
    findings = []
    for finding in found.findings:
        worded = messages.localize(finding, lang)
        findings.append(
            {
                "code": finding.code,
                "severity": finding.severity,
                "title": worded.title,
                "explanation": worded.explanation,
                "recommendation": worded.recommendation,
                "customer": messages.user_text(finding, lang),
            }
        )
    healthy = None
    if found.healthy is not None and not findings:
        healthy = messages.render(found.healthy, {}, lang)["title"]
    incidents = await store.incidents(mailbox=mailbox, state="open", limit=200)
    drawing = timeline.draw(
        found.devices,
        sessions,
        now,
        timeline.Labels(words["timeline"], words["deleted_n"]),
        lambda text: messages.device_text(text, lang),
    )
    runs = await store.probe_runs(mailbox, limit=PROBE_RUNS_SHOWN)
    return render(
        request,
        "mailbox.html",
        status=status,
        mailbox=mailbox,
        url=mailbox_url(mailbox),
        findings=findings,
        healthy=healthy,
        devices=[_worded(d.as_dict(now), lang) for d in found.devices],
        timeline=Markup(drawing),  # noqa: S704 - built by timeline.draw, every label escaped
        incidents=incidents,
        notice_due=any(wants_notice(i) for i in incidents),
        notices_on=settings.notice_transport != "off",
        window_days=f"{settings.diagnosis_window_days:g}",
        last_probe=runs[-1] if runs else None,
        notice_languages=[(code, WORDS[code]["language_name"]) for code in LANGUAGES],
        **{"probe": None, "probe_error": None, "notice_text": None, **extra},
    )


@page
async def mailbox(request: web.Request) -> web.StreamResponse:
    """GET /support/mailbox/<email>: findings, devices on a timeline, actions."""
    current(request)
    return await _mailbox_page(request, _address(request))


def _probe_lines(result: ProbeResult, lang: str) -> list[str]:
    words = WORDS[lang]
    lines = []
    for server in result.servers:
        tls = server.tls.version if server.tls is not None else words["unknown"]
        lines.append(
            words["probe_server"].format(server=server.endpoint, login=server.login, tls=tls)
        )
        lines += [f.message for f in server.findings]
    changes = result.changes
    if changes is not None and changes.previous_at is not None:
        gone = len(changes.gone) + len(changes.vanished_unseen)
        lines.append(
            words["probe_changes"].format(gone=gone, moved=len(changes.moved), new=changes.new)
        )
    return lines


@page
async def probe(request: web.Request) -> web.StreamResponse:
    """POST /support/mailbox/<email>/probe: probe now; the page shows what came of it."""
    session = current(request)
    await form(request, session)
    address = _address(request)
    lang = language(request)
    try:
        result = await run_probe(request, Address.parse(address))
    except AutoconfError as exc:  # audited by run_probe
        reason = WORDS[lang]["probe_failed"].format(reason=exc)
        return await _mailbox_page(request, address, status=exc.status, probe_error=reason)
    return await _mailbox_page(
        request, address, probe={"ok": result.ok, "lines": _probe_lines(result, lang)}
    )


@page
async def notice(request: web.Request) -> web.StreamResponse:
    """POST /support/mailbox/<email>/notice: send the notice of the open incident."""
    session = current(request)
    data = await form(request, session)
    mailbox = _address(request)
    words = WORDS[language(request)]
    chosen = data.get("notice_lang")
    lang = chosen if isinstance(chosen, str) and chosen in LANGUAGES else language(request)
    settings = request.app[SETTINGS]
    try:
        sent = await notify_mailbox(
            request.app[STORE], settings, mailbox, lang, time.time(),
            count=request.app[METRICS].count_notice,
        )  # fmt: skip
    except AutoconfError as exc:
        await audit.record(request, audit.NOTICE, mailbox, exc.code)
        text = {
            "notices_off": words["notice_off"],
            "already_sent": words["notice_none"],
            "not_found": words["notice_none"],
        }.get(exc.code, words["notice_failed"].format(reason=exc))
        return await _mailbox_page(request, mailbox, status=exc.status, notice_text=text)
    await audit.record(request, audit.NOTICE, mailbox, f"sent {sent.message_id}")
    text = words["notice_sent"].format(count=sent.message_id)
    return await _mailbox_page(request, mailbox, notice_text=text)


@page
async def incidents(request: web.Request) -> web.StreamResponse:
    """GET /support/incidents?state=&severity=&offset=: the incident list, worst first."""
    current(request)
    lang = language(request)
    state = request.query.get("state", "open")
    state = state if state in ("open", "resolved", "all") else "open"
    severity = request.query.get("severity") or None
    severity = severity if severity in SEVERITIES else None
    raw = request.query.get("offset", "0")
    offset = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0  # noqa: PLR2004
    rows = await request.app[STORE].incidents(
        state=None if state == "all" else state,
        severity=severity,
        limit=PAGE_SIZE + 1,
        offset=offset,
    )
    listed = []
    for incident in rows[:PAGE_SIZE]:
        worded = service.incident_finding(incident, lang)
        listed.append({"incident": incident, "title": worded["title"],
                       "url": mailbox_url(incident.mailbox)})  # fmt: skip
    base = {"state": state, "severity": severity or ""}
    return render(
        request,
        "incidents.html",
        rows=listed,
        state=state,
        severity=severity or "",
        severities=SEVERITIES,
        newer=_page_url(base, offset - PAGE_SIZE) if offset > 0 else None,
        older=_page_url(base, offset + PAGE_SIZE) if len(rows) > PAGE_SIZE else None,
    )


def _page_url(base: dict[str, str], offset: int) -> str:
    query = "&".join(f"{k}={quote(v)}" for k, v in base.items() if v)
    return f"/support/incidents?{query}&offset={max(0, offset)}"

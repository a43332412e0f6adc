"""Diagnosis with I/O: load a mailbox's data from the store, run the rules, track incidents.

An incident is opened per mailbox and code when a finding appears, updated (and the update
stored as a transition) when its severity or evidence changes, and resolved once its cause
has not been seen for ``incident_resolve_days``. Every transition is logged.
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

import structlog

from autoconf.diagnosis import messages
from autoconf.diagnosis.findings import Finding, severity_rank
from autoconf.diagnosis.rules import DAY, Diagnosis, ProbeFacts, diagnose
from autoconf.events import devices as device_model
from autoconf.store.base import Incident

if TYPE_CHECKING:
    from autoconf.config import Settings
    from autoconf.store.base import Store

log = structlog.get_logger("autoconf.diagnosis")

SESSION_LIMIT = 5000
MAIL_LIMIT = 5000
SIGHTING_LIMIT = 1000


async def run(
    store: Store,
    settings: Settings,
    mailbox: str,
    *,
    now: float | None = None,
    probe: ProbeFacts | None = None,
) -> Diagnosis:
    """Load a mailbox's sessions, mail events and sightings of the window; run the rules."""
    now = time.time() if now is None else now
    since = now - settings.diagnosis_window_days * DAY
    sessions = await store.sessions(mailbox, since=since, limit=SESSION_LIMIT)
    mail = [m for m in await store.mail_events(mailbox, limit=MAIL_LIMIT) if m.at >= since]
    sightings = await store.sightings(mailbox=mailbox, limit=SIGHTING_LIMIT)
    found = device_model.build(sessions, sightings)
    return diagnose(
        mailbox,
        found,
        sessions,
        mail,
        now=now,
        probe=probe,
        window_days=settings.diagnosis_window_days,
    )


_EVENTS = {w: f"incident.{w}" for w in ("opened", "updated", "resolved")}


def _transition(incident: Incident, what: str) -> None:
    log.info(
        _EVENTS[what],
        incident=incident.id,
        mailbox=incident.mailbox,
        code=incident.code,
        severity=incident.severity,
    )


async def track(
    store: Store, diagnosis: Diagnosis, now: float, resolve_days: float
) -> list[Incident]:
    """Open, update and resolve the mailbox's incidents; the ones open afterwards."""
    resolve_after = resolve_days * DAY
    known = await store.incidents(mailbox=diagnosis.mailbox, state=None, limit=200)
    open_by_code = {i.code: i for i in known if i.state == "open"}
    resolved_cause: dict[str, float] = {}
    for i in known:
        if i.state == "resolved":
            resolved_cause[i.code] = max(resolved_cause.get(i.code, 0.0), i.cause_at)
    still_open: list[Incident] = []
    found = {f.code: f for f in diagnosis.findings}
    for code, finding in found.items():
        cause = finding.cause_at if finding.cause_at is not None else now
        current = open_by_code.pop(code, None)
        if current is None:
            if now - cause >= resolve_after or cause <= resolved_cause.get(code, float("-inf")):
                continue  # a cause that stopped long ago, or one already resolved
            incident = Incident(
                mailbox=diagnosis.mailbox, code=code, severity=finding.severity,
                opened_at=now, updated_at=now, cause_at=cause, evidence=finding.evidence,
                variant=finding.variant,
            )  # fmt: skip
            incident = await store.save_incident(incident, "opened")
            _transition(incident, "opened")
            still_open.append(incident)
            continue
        cause = max(cause, current.cause_at)
        if now - cause >= resolve_after:
            await _resolve(store, current, now)
            continue
        changed = (current.severity, current.evidence, current.variant) != (
            finding.severity,
            finding.evidence,
            finding.variant,
        )
        if changed:
            current = dataclasses.replace(
                current, severity=finding.severity, evidence=finding.evidence,
                variant=finding.variant, updated_at=now, cause_at=cause,
            )  # fmt: skip
            current = await store.save_incident(current, "updated")
            _transition(current, "updated")
        still_open.append(current)
    for current in open_by_code.values():  # open, but no longer found
        if now - current.cause_at >= resolve_after:
            await _resolve(store, current, now)
        else:
            still_open.append(current)
    return still_open


async def _resolve(store: Store, incident: Incident, now: float) -> None:
    done = dataclasses.replace(incident, state="resolved", resolved_at=now, updated_at=now)
    done = await store.save_incident(done, "resolved")
    _transition(done, "resolved")


def report(diagnosis: Diagnosis, lang: str, now: float) -> dict[str, Any]:
    """The JSON answer of ``autoconf diagnose --json`` and the diagnosis API."""
    worded = [messages.localize(f, lang) for f in diagnosis.findings]
    healthy = None
    if diagnosis.healthy is not None:
        healthy = messages.render(diagnosis.healthy, {}, lang)["title"]
    return {
        "mailbox": diagnosis.mailbox,
        "language": lang,
        "findings": [f.as_dict() for f in worded],
        "healthy": healthy,
        "devices": [d.as_dict(now) for d in diagnosis.devices],
    }


def incident_finding(incident: Incident, lang: str) -> dict[str, Any]:
    """A stored incident as a finding in ``lang`` (for the findings list across mailboxes)."""
    finding = Finding(
        incident.code,
        incident.severity,  # type: ignore[arg-type]
        incident.evidence,
        incident.variant,
        incident.cause_at,
    )
    worded = messages.localize(finding, lang).as_dict()
    return {
        "mailbox": incident.mailbox,
        **worded,
        "incident": incident.id,
        "opened_at": incident.opened_at,
        "updated_at": incident.updated_at,
        "notified_at": incident.notified_at,
    }


def worst_first(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Findings sorted by severity, then by mailbox."""
    return sorted(findings, key=lambda f: (severity_rank(f["severity"]), f["mailbox"]))

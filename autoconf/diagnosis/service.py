"""Diagnosis with I/O: load a mailbox's data from the store, run the rules, track incidents.

An incident is opened per mailbox and code when a finding appears, updated (and the update
stored as a transition) when its severity or evidence changes, and resolved once its cause
has not been seen for ``incident_resolve_days``. Every transition is logged.

Without probe facts passed in, the stored probe runs feed the probe rules (``probe_facts``).
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
    from collections.abc import Sequence

    from autoconf.config import Settings
    from autoconf.store.base import ProbeRun, Store

log = structlog.get_logger("autoconf.diagnosis")

SESSION_LIMIT = 5000
MAIL_LIMIT = 5000
SIGHTING_LIMIT = 1000
PROBE_RUN_LIMIT = 500


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
    if probe is None:  # the run before the window too: its logins are the probe's own
        probe = probe_facts(await store.probe_runs(mailbox, limit=PROBE_RUN_LIMIT), since)
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


def _logins(runs: Sequence[ProbeRun]) -> list[dict[str, float]]:
    """Per run, the last logins of other clients than the probe.

    A run reads Dovecot's last-login times before it logs in, so a time after the end of
    the run before is another client's login between the two; one up to that end may be the
    probe's own login of that run and is not counted.
    """
    found = []
    before: float | None = None
    for run in runs:
        times = run.facts.get("last_login") or {}
        found.append(
            {
                service: float(at)
                for service, at in times.items()
                if isinstance(at, int | float) and (before is None or at > before)
            }
        )
        before = run.finished_at
    return found


def probe_facts(runs: Sequence[ProbeRun], since: float) -> ProbeFacts | None:
    """The stored probe runs (oldest first) as the facts the probe rules take.

    Gone messages add up over the runs of the window; when POP3 logins are known between
    some of those runs, only those count. TLS and certificate facts are the latest run's.
    """
    if not runs:
        return None
    logins = _logins(runs)
    window = [(r, seen) for r, seen in zip(runs, logins, strict=True) if r.probed_at >= since]
    if not window:
        return None
    latest = window[-1][0]
    imap = [seen["imap"] for _, seen in window if "imap" in seen]
    gone = [(r, seen) for r, seen in window if r.gone > 0 and r.previous_at is not None]
    popped = [(r, seen) for r, seen in gone if "pop3" in seen]
    gone = popped or gone
    servers = latest.facts.get("servers") or []
    tls = tuple(
        (str(s.get("server")), str(s["tls"]))
        for s in servers
        if isinstance(s, dict) and s.get("tls")
    )
    problems = tuple(
        (str(p[0]), str(p[1]))
        for p in latest.facts.get("certificate_problems") or []
        if len(p) == 2  # noqa: PLR2004
    )
    ids = [str(g["message_id"]) for r, _ in gone for g in r.gone_ids if g.get("message_id")]
    return ProbeFacts(
        probed_at=max((r.probed_at for r, _ in gone), default=latest.probed_at),
        previous_at=min((r.previous_at or r.probed_at for r, _ in gone), default=None),
        gone=sum(r.gone for r, _ in gone),
        gone_unseen=sum(r.gone_unseen for r, _ in gone),
        message_ids=tuple(ids),
        tls=tls,
        certificate_problems=problems,
        pop3_last_login=max((seen["pop3"] for _, seen in popped), default=None),
        imap_last_login=max(imap, default=None),
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

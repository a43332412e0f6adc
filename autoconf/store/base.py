"""The Store interface every backend implements; only store/ knows SQL."""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from autoconf.events.sessions import (
    COUNTERS,
    MAIL_COLUMNS,
    SESSION_COLUMNS,
    MailRecord,
    Session,
)
from autoconf.sightings import ClientKind, Endpoint, Sighting

if TYPE_CHECKING:
    from collections.abc import Sequence


class Store(Protocol):
    """What the service persists and reads back."""

    async def open(self) -> None:
        """Connect and run pending migrations."""

    async def close(self) -> None:
        """Flush and release the connection."""

    async def ping(self) -> None:
        """Raise StoreError unless the store answers."""

    async def schema_version(self) -> int:
        """The number of the last migration applied."""
        ...

    async def add_sightings(self, rows: Sequence[Sighting]) -> None:
        """Write a batch of sightings in one transaction."""

    async def sightings(
        self, mailbox: str | None = None, domain: str | None = None, limit: int = 100
    ) -> list[Sighting]:
        """Sightings of a mailbox (or of a domain), newest first."""
        ...

    async def apply(
        self,
        sessions: Sequence[Session],
        mail: Sequence[MailRecord],
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """Merge session patches, add mail records and move the checkpoint: one transaction."""

    async def for_ingest(self) -> None:
        """Tune this connection for writing large batches (one ingest, see events/follow.py)."""

    async def apply_rows(
        self,
        sessions: Sequence[Sequence[object]],
        mail: Sequence[Sequence[object]],
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """``apply`` for patches and records already as rows (``session_row``, ``mail_row``).

        What ingest writes: it folds a batch straight into rows, so nothing is converted.
        """

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """Where ``source`` was read up to, if it was read before."""
        ...

    async def sessions(self, mailbox: str, since: float = 0.0, limit: int = 1000) -> list[Session]:
        """A mailbox's sessions that started (or ended) after ``since``, newest first."""
        ...

    async def mail_events(self, mailbox: str, limit: int = 1000) -> list[MailRecord]:
        """A mailbox's message events, newest first."""
        ...

    async def purge(self, before: float) -> int:
        """Delete sessions, mail events and sightings older than ``before``; rows removed."""
        ...

    async def save_snapshot(self, mailbox: str, data: bytes) -> None:
        """Keep ``data`` as the mailbox's last probe snapshot (replacing the one before)."""

    async def load_snapshot(self, mailbox: str) -> bytes | None:
        """The mailbox's last probe snapshot, if one was saved."""
        ...

    async def save_incident(self, incident: Incident, transition: str) -> Incident:
        """Insert (no id) or update an incident and record the transition; with its id."""
        ...

    async def incidents(
        self,
        *,
        mailbox: str | None = None,
        state: str | None = "open",
        severity: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Incident]:
        """Incidents (of a mailbox, in a state, of a severity), last updated first."""
        ...

    async def incident(self, incident_id: int) -> Incident | None:
        """One incident by its id, if it exists."""
        ...

    async def incident_transitions(self, incident_id: int) -> list[Transition]:
        """The transitions of an incident, oldest first."""
        ...

    async def claim_notice(self, incident_id: int, at: float, notice_id: str) -> bool:
        """Mark an incident's notice as sent; False when it already was (never twice)."""
        ...

    async def release_notice(self, incident_id: int) -> None:
        """Undo a claim whose notice could not be delivered."""

    async def last_notice_at(self, mailbox: str) -> float | None:
        """When the last notice to a mailbox was sent, if ever."""
        ...

    async def mailboxes_at_risk(self) -> dict[str, int]:
        """Mailboxes with an open incident, per severity (one grouped query; /metrics).

        A mailbox with open incidents of two severities counts under both.
        """
        ...

    async def session_counts(self, since: float, bucket: float) -> list[tuple[float, str, int]]:
        """IMAP and POP3 sessions started from ``since`` on, per time bucket and protocol.

        Rows ``(bucket start, protocol, sessions)``, oldest first; the probe's own sessions
        are left out. For the dashboard.
        """
        ...

    async def at_risk(self, moments: Sequence[float]) -> list[tuple[float, str, int]]:
        """Mailboxes with an incident open at each moment, by severity.

        Rows ``(moment, severity, mailboxes)``; a moment without open incidents gives no row.
        """
        ...

    async def setup_requests(self, since: float) -> list[tuple[str, str, int]]:
        """Setup requests seen from ``since`` on: ``(endpoint, client kind, requests)``."""
        ...

    async def imap_clients(self, since: float, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent IMAP ID names of sessions from ``since`` on, with their sessions.

        A session that sent no ID counts under the empty name.
        """
        ...

    async def ingest_state(self) -> IngestState:
        """When the newest session event happened, and when each log source last moved."""
        ...

    async def add_probe_run(self, run: ProbeRun) -> None:
        """Record one probe of a mailbox."""

    async def probe_runs(
        self, mailbox: str, since: float = 0.0, limit: int = 1000
    ) -> list[ProbeRun]:
        """A mailbox's probe runs from ``since`` on, oldest first (the newest ``limit``)."""
        ...

    async def save_domain_health(self, health: DomainHealth) -> None:
        """Keep a domain's latest health check (replacing the one before)."""

    async def domain_health(self, domain: str) -> DomainHealth | None:
        """A domain's latest health check, if it was checked."""
        ...

    async def domain_healths(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[DomainHealth]:
        """Latest checks (of one status: pass, warn, fail), failing and oldest first.

        The dashboard lists failing domains with ``domain_healths(status="fail")``.
        """
        ...

    async def domain_health_counts(self) -> dict[str, int]:
        """How many domains are in each health status (for /metrics)."""
        ...

    async def login_failures(self, keys: Sequence[str], since: float) -> int:
        """The most failed sign-ins any of ``keys`` had from ``since`` on."""
        ...

    async def add_login_failure(self, keys: Sequence[str], at: float, forget_before: float) -> None:
        """Count one failed sign-in under each key; forget failures before ``forget_before``."""

    async def mailboxes(self, prefix: str, limit: int = 50) -> list[str]:
        """Known mailbox addresses starting with ``prefix``: distinct, sorted.

        From sessions, sightings and incidents; the prefix matches case as stored.
        """
        ...

    async def add_audit(self, entry: AuditEntry) -> None:
        """Record who did what to which mailbox (web/audit.py)."""

    async def audit(
        self, *, mailbox: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """Audit entries (of a mailbox), newest first."""
        ...


SIGHTING_COLUMNS = (
    "domain", "mailbox", "client", "endpoint", "ip", "user_agent", "first_seen", "last_seen",
    "requests",
)  # fmt: skip


def sighting_row(s: Sighting) -> tuple[object, ...]:
    """A sighting as the values of SIGHTING_COLUMNS."""
    return (s.domain, s.mailbox, s.client.value, s.endpoint.value, s.ip, s.user_agent,
            s.first_seen, s.last_seen, s.requests)  # fmt: skip


def sighting_from_row(r: tuple[Any, ...]) -> Sighting:
    """A sighting from the values of SIGHTING_COLUMNS."""
    return Sighting(r[0], r[1], ClientKind(r[2]), Endpoint(r[3]), r[4], r[5], r[6], r[7], r[8])


@dataclass(frozen=True, slots=True)
class IngestState:
    """How far ingest has come: the newest session time and each log file's last write."""

    newest_event_at: float | None
    sources: list[tuple[str, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """How far a log file was read.

    ``position`` is the byte after the last complete line whose data is in the store.
    """

    source: str
    inode: int
    position: int


def session_upsert(placeholders: Sequence[str]) -> str:
    """INSERT of a session patch that merges into an existing row (same SQL for both).

    Known values of the patch win, but the start is kept once known and counters keep the
    larger value. Applying a patch twice changes nothing.
    """
    columns = ", ".join(SESSION_COLUMNS)

    def rule(c: str) -> str:
        if c == "started_at":
            return f"{c} = coalesce(sessions.{c}, excluded.{c})"
        if c in COUNTERS:  # counters only grow within a session: the larger one is right
            return (
                f"{c} = CASE WHEN excluded.{c} IS NULL THEN sessions.{c}"
                f" WHEN sessions.{c} IS NULL OR excluded.{c} > sessions.{c} THEN excluded.{c}"
                f" ELSE sessions.{c} END"
            )
        return f"{c} = coalesce(excluded.{c}, sessions.{c})"

    merged = ", ".join(rule(c) for c in SESSION_COLUMNS if c != "key")
    return (
        f"INSERT INTO sessions ({columns}) VALUES ({', '.join(placeholders)})"  # noqa: S608
        f" ON CONFLICT (key) DO UPDATE SET {merged}"
    )


_SESSION_VALUES = operator.attrgetter(*SESSION_COLUMNS)
_MAIL_VALUES = operator.attrgetter(*MAIL_COLUMNS)


def session_row(s: Session) -> tuple[object, ...]:
    """A session patch as the values of SESSION_COLUMNS."""
    values: tuple[object, ...] = _SESSION_VALUES(s)
    return values


def session_from_row(r: Sequence[Any]) -> Session:
    """A session from the values of SESSION_COLUMNS (SQLite gives booleans as 0/1)."""
    values = dict(zip(SESSION_COLUMNS, r, strict=True))
    for flag in ("tls", "uidl"):
        if values[flag] is not None:
            values[flag] = bool(values[flag])
    return Session(**values)


def mail_row(m: MailRecord) -> tuple[object, ...]:
    """A mail record as the values of MAIL_COLUMNS."""
    values: tuple[object, ...] = _MAIL_VALUES(m)
    return values


INCIDENT_COLUMNS = (
    "id", "mailbox", "code", "variant", "severity", "state", "opened_at", "updated_at",
    "cause_at", "resolved_at", "evidence", "notified_at", "notice_id",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """A finding of one code on one mailbox over time: open until its cause stops."""

    id: int | None = None
    mailbox: str
    code: str
    severity: str
    state: str = "open"  # open | resolved
    opened_at: float
    updated_at: float
    cause_at: float
    resolved_at: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    variant: str = ""
    notified_at: float | None = None
    notice_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {name: getattr(self, name) for name in INCIDENT_COLUMNS}


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an incident: opened, updated, resolved or notified."""

    at: float
    transition: str
    severity: str
    evidence: dict[str, Any]


def incident_row(i: Incident) -> tuple[object, ...]:
    """An incident as the values of INCIDENT_COLUMNS without the id."""
    return (i.mailbox, i.code, i.variant, i.severity, i.state, i.opened_at, i.updated_at,
            i.cause_at, i.resolved_at, json.dumps(i.evidence, sort_keys=True), i.notified_at,
            i.notice_id)  # fmt: skip


def incident_from_row(r: Sequence[Any]) -> Incident:
    """An incident from the values of INCIDENT_COLUMNS."""
    values = dict(zip(INCIDENT_COLUMNS, r, strict=True))
    values["evidence"] = json.loads(values["evidence"])
    return Incident(**values)


PROBE_RUN_COLUMNS = (
    "mailbox", "probed_at", "finished_at", "previous_at", "method", "gone", "gone_unseen",
    "gone_ids", "moved", "new", "facts",
)  # fmt: skip
MAX_GONE_IDS = 100  # gone messages listed per probe run


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeRun:
    """One probe of a mailbox: what left the INBOX since the probe before, and server facts.

    ``gone_ids`` lists up to MAX_GONE_IDS gone messages as ``{"uid", "message_id"}``;
    ``facts`` holds the servers' TLS versions, certificate problems, login results and the
    last-login times read before the probe logged in (see autoconf/probe/mailbox.py).
    """

    mailbox: str
    probed_at: float
    finished_at: float
    previous_at: float | None = None
    method: str | None = None
    gone: int = 0
    gone_unseen: int = 0  # of ``gone``: arrived after the probe before, never seen by it
    gone_ids: list[dict[str, Any]] = field(default_factory=list)
    moved: int = 0
    new: int = 0
    facts: dict[str, Any] = field(default_factory=dict)


def probe_run_row(r: ProbeRun) -> tuple[object, ...]:
    """A probe run as the values of PROBE_RUN_COLUMNS."""
    return (r.mailbox, r.probed_at, r.finished_at, r.previous_at, r.method, r.gone,
            r.gone_unseen, json.dumps(r.gone_ids[:MAX_GONE_IDS]),
            r.moved, r.new, json.dumps(r.facts, sort_keys=True))  # fmt: skip


def probe_run_from_row(r: Sequence[Any]) -> ProbeRun:
    """A probe run from the values of PROBE_RUN_COLUMNS."""
    values = dict(zip(PROBE_RUN_COLUMNS, r, strict=True))
    values["gone_ids"] = json.loads(values["gone_ids"])
    values["facts"] = json.loads(values["facts"])
    return ProbeRun(**values)


AUDIT_COLUMNS = ("at", "actor", "role", "action", "mailbox", "outcome")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One action a caller took on a mailbox: probe, notice (and what came of it)."""

    at: float
    actor: str
    role: str
    action: str
    mailbox: str
    outcome: str


def audit_row(e: AuditEntry) -> tuple[object, ...]:
    """An audit entry as the values of AUDIT_COLUMNS."""
    return (e.at, e.actor, e.role, e.action, e.mailbox, e.outcome)


def audit_from_row(r: Sequence[Any]) -> AuditEntry:
    """An audit entry from the values of AUDIT_COLUMNS."""
    return AuditEntry(**dict(zip(AUDIT_COLUMNS, r, strict=True)))


def prefix_pattern(prefix: str) -> str:
    r"""A LIKE pattern (escape character ``\``) matching text that starts with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


DOMAIN_HEALTH_COLUMNS = ("domain", "status", "checked_at", "summary", "report")


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainHealth:
    """The latest health check of a domain: status, time, summary, the report as JSON."""

    domain: str
    status: str  # pass | warn | fail
    checked_at: float
    summary: str = ""
    report: dict[str, Any] = field(default_factory=dict)


def domain_health_row(h: DomainHealth) -> tuple[object, ...]:
    """A health check as the values of DOMAIN_HEALTH_COLUMNS."""
    return (h.domain, h.status, h.checked_at, h.summary, json.dumps(h.report, sort_keys=True))


def domain_health_from_row(r: Sequence[Any]) -> DomainHealth:
    """A health check from the values of DOMAIN_HEALTH_COLUMNS."""
    return DomainHealth(domain=r[0], status=r[1], checked_at=float(r[2]), summary=r[3],
                        report=json.loads(r[4]))  # fmt: skip


# SQL that reads the same in both dialects (no placeholders); only store/ knows SQL.
SELECT_SIGHTINGS = "SELECT " + ", ".join(SIGHTING_COLUMNS) + " FROM sightings"  # noqa: S608
SELECT_SESSIONS = f"SELECT {', '.join(SESSION_COLUMNS)} FROM sessions"  # noqa: S608
SELECT_MAIL = f"SELECT {', '.join(MAIL_COLUMNS)} FROM mail_events"  # noqa: S608
INCIDENT_FIELDS = INCIDENT_COLUMNS[1:]
SELECT_INCIDENTS = f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM incidents"  # noqa: S608
SELECT_PROBE_RUNS = f"SELECT {', '.join(PROBE_RUN_COLUMNS)} FROM probe_runs"  # noqa: S608
AT_RISK_NOW = (
    "SELECT severity, count(DISTINCT mailbox) FROM incidents WHERE state = 'open' GROUP BY severity"
)
SELECT_AUDIT = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit"  # noqa: S608
SELECT_DOMAIN_HEALTH = f"SELECT {', '.join(DOMAIN_HEALTH_COLUMNS)} FROM domain_health"  # noqa: S608
HEALTH_ORDER = (
    " ORDER BY CASE status WHEN 'fail' THEN 0 WHEN 'warn' THEN 1 ELSE 2 END, checked_at, domain"
)

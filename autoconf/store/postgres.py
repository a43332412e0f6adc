"""PostgreSQL store (asyncpg): for providers that run several service instances."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import TYPE_CHECKING

import asyncpg

from autoconf.errors import StoreError
from autoconf.events.sessions import MAIL_COLUMNS, SESSION_COLUMNS, MailRecord
from autoconf.store.base import (
    AT_RISK_NOW,
    AUDIT_COLUMNS,
    DOMAIN_HEALTH_COLUMNS,
    HEALTH_ORDER,
    INCIDENT_FIELDS,
    PROBE_RUN_COLUMNS,
    SELECT_AUDIT,
    SELECT_DOMAIN_HEALTH,
    SELECT_INCIDENTS,
    SELECT_MAIL,
    SELECT_PROBE_RUNS,
    SELECT_SESSIONS,
    SELECT_SIGHTINGS,
    SIGHTING_COLUMNS,
    AuditEntry,
    Checkpoint,
    DomainHealth,
    Incident,
    IngestState,
    Transition,
    audit_from_row,
    audit_row,
    domain_health_from_row,
    domain_health_row,
    incident_from_row,
    incident_row,
    mail_row,
    prefix_pattern,
    probe_run_from_row,
    probe_run_row,
    session_from_row,
    session_row,
    session_upsert,
    sighting_from_row,
    sighting_row,
)
from autoconf.store.migrate import migrations

if TYPE_CHECKING:
    from collections.abc import Sequence

    from autoconf.events.sessions import Session
    from autoconf.sightings import Sighting
    from autoconf.store.base import ProbeRun

# Any fixed number: instances starting together migrate one after the other.
_MIGRATION_LOCK = 0x6175746F636F6E66  # "autoconf"
_VERSION = "SELECT coalesce(max(version), 0) FROM schema_migrations"
_UPSERT_SESSION = session_upsert([f"${n}" for n in range(1, len(SESSION_COLUMNS) + 1)])
_SAVE_CHECKPOINT = (
    "INSERT INTO checkpoints (source, inode, position, updated_at) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (source) DO UPDATE SET inode = excluded.inode,"
    " position = excluded.position, updated_at = excluded.updated_at"
)
_SAVE_SNAPSHOT = (
    "INSERT INTO snapshots (mailbox, data, saved_at) VALUES ($1, $2, $3)"
    " ON CONFLICT (mailbox) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at"
)
_INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_FIELDS)})"  # noqa: S608 - fixed names
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(INCIDENT_FIELDS) + 1))}) RETURNING id"
)
_UPDATE_INCIDENT = (
    "UPDATE incidents SET "  # noqa: S608 - fixed column names
    + ", ".join(f"{c} = ${n}" for n, c in enumerate(INCIDENT_FIELDS, 1))
    + f" WHERE id = ${len(INCIDENT_FIELDS) + 1}"
)
# Dashboard aggregates (the probe's own sessions are no client's).
_SESSION_COUNTS = (
    "SELECT floor(started_at / $1) * $1 AS t, protocol, count(*) FROM sessions"
    " WHERE started_at >= $2 AND protocol IN ('imap', 'pop3')"
    " AND coalesce(client_name, '') != 'autoconf-probe'"
    " GROUP BY t, protocol ORDER BY t, protocol"
)
_AT_RISK = (
    "SELECT m.t, i.severity, count(DISTINCT i.mailbox)"
    " FROM unnest($1::double precision[]) AS m(t) JOIN incidents AS i"
    " ON i.opened_at <= m.t AND (i.resolved_at IS NULL OR i.resolved_at > m.t)"
    " GROUP BY m.t, i.severity ORDER BY m.t, i.severity"
)
_SETUP_REQUESTS = (
    "SELECT endpoint, client, sum(requests) FROM sightings WHERE last_seen >= $1"
    " GROUP BY endpoint, client ORDER BY endpoint, client"
)
_IMAP_CLIENTS = (
    "SELECT coalesce(client_name, '') AS name, count(*) AS n FROM sessions"
    " WHERE protocol = 'imap' AND started_at >= $1"
    " AND coalesce(client_name, '') != 'autoconf-probe'"
    " GROUP BY 1 ORDER BY n DESC, 1 LIMIT $2"
)
_INSERT_PROBE_RUN = (
    f"INSERT INTO probe_runs ({', '.join(PROBE_RUN_COLUMNS)})"  # noqa: S608 - fixed names
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(PROBE_RUN_COLUMNS) + 1))})"
)
_INSERT_AUDIT = (
    f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join(f'${n}' for n in range(1, len(AUDIT_COLUMNS) + 1))})"
)
_SAVE_DOMAIN_HEALTH = (
    f"INSERT INTO domain_health ({', '.join(DOMAIN_HEALTH_COLUMNS)})"  # noqa: S608
    " VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (domain) DO UPDATE SET status = excluded.status,"
    " checked_at = excluded.checked_at, summary = excluded.summary, report = excluded.report"
)
# LIKE 'prefix%' uses the text_pattern_ops indexes of migration 0006.
_SELECT_MAILBOXES = (
    "SELECT mailbox FROM (SELECT mailbox FROM sessions WHERE mailbox LIKE $1"
    " UNION SELECT mailbox FROM sightings WHERE mailbox LIKE $1"
    " UNION SELECT mailbox FROM incidents WHERE mailbox LIKE $1) AS known"
    ' ORDER BY mailbox COLLATE "C" LIMIT $2'
)


class PostgresStore:
    """The Store on a PostgreSQL database named by a DSN."""

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 10) -> None:
        self.dsn = dsn
        self._min = min_size
        self._max = max_size
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        """The open pool; StoreError before open()."""
        if self._pool is None:
            raise StoreError("The store is not open.")
        return self._pool

    async def open(self) -> None:
        """Connect, then apply pending migrations under an advisory lock."""
        try:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=self._min, max_size=self._max)
            await self._migrate()
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The PostgreSQL store cannot be opened: {exc}") from exc

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            try:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
                )
                done = await conn.fetchval(_VERSION)
                for migration in migrations("postgres"):
                    if migration.version <= done:
                        continue
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                            migration.version,
                            migration.name,
                            time.time(),
                        )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)

    async def schema_version(self) -> int:
        """The last migration applied."""
        return int(await self.pool.fetchval(_VERSION))

    async def close(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def ping(self) -> None:
        """Raise StoreError unless the database answers."""
        try:
            await self.pool.fetchval("SELECT 1")
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The PostgreSQL store does not answer: {exc}") from exc

    async def add_sightings(self, rows: Sequence[Sighting]) -> None:
        """Copy a batch in (one round trip, one transaction)."""
        try:
            await self.pool.copy_records_to_table(
                "sightings",
                columns=SIGHTING_COLUMNS,
                records=[sighting_row(r) for r in rows],
            )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"Sightings could not be written: {exc}") from exc

    async def sightings(
        self, mailbox: str | None = None, domain: str | None = None, limit: int = 100
    ) -> list[Sighting]:
        """Newest first; by mailbox, else by domain, else all."""
        query = SELECT_SIGHTINGS
        args: list[object] = []
        if mailbox is not None:
            query += " WHERE mailbox = $1"
            args.append(mailbox)
        elif domain is not None:
            query += " WHERE domain = $1"
            args.append(domain)
        query += f" ORDER BY last_seen DESC, id DESC LIMIT ${len(args) + 1}"
        rows = await self.pool.fetch(query, *args, limit)
        return [sighting_from_row(tuple(r)) for r in rows]

    async def for_ingest(self) -> None:
        """Nothing to tune: the server does the writing (COPY and one upsert per row)."""

    async def apply(
        self,
        sessions: Sequence[Session],
        mail: Sequence[MailRecord],
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """Merge session patches, add mail records and move the checkpoint: one transaction."""
        await self.apply_rows(
            [session_row(s) for s in sessions], [mail_row(m) for m in mail], checkpoint
        )

    async def apply_rows(
        self,
        sessions: Sequence[Sequence[object]],
        mail: Sequence[Sequence[object]],
        checkpoint: Checkpoint | None = None,
    ) -> None:
        """``apply`` for rows (the values of SESSION_COLUMNS and MAIL_COLUMNS)."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                if sessions:
                    await conn.executemany(_UPSERT_SESSION, sessions)
                if mail:
                    await conn.copy_records_to_table(
                        "mail_events", columns=MAIL_COLUMNS, records=mail
                    )
                if checkpoint is not None:
                    await conn.execute(
                        _SAVE_CHECKPOINT,
                        checkpoint.source,
                        checkpoint.inode,
                        checkpoint.position,
                        time.time(),
                    )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"Events could not be written: {exc}") from exc

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """Where ``source`` was read up to, if it was read before."""
        row = await self.pool.fetchrow(
            "SELECT inode, position FROM checkpoints WHERE source = $1", source
        )
        return None if row is None else Checkpoint(source, int(row[0]), int(row[1]))

    async def sessions(self, mailbox: str, since: float = 0.0, limit: int = 1000) -> list[Session]:
        """A mailbox's sessions that started (or ended) after ``since``, newest first."""
        rows = await self.pool.fetch(
            SELECT_SESSIONS + " WHERE mailbox = $1 AND coalesce(ended_at, started_at, 0) >= $2"
            " ORDER BY coalesce(started_at, ended_at) DESC LIMIT $3",
            mailbox,
            since,
            limit,
        )
        return [session_from_row(tuple(r)) for r in rows]

    async def mail_events(self, mailbox: str, limit: int = 1000) -> list[MailRecord]:
        """A mailbox's message events, newest first."""
        rows = await self.pool.fetch(
            SELECT_MAIL + " WHERE mailbox = $1 ORDER BY at DESC, id DESC LIMIT $2", mailbox, limit
        )
        return [MailRecord(**dict(zip(MAIL_COLUMNS, r, strict=True))) for r in rows]

    async def purge(self, before: float) -> int:
        """Delete sessions, mail events and sightings older than ``before``; rows removed."""
        removed = 0
        async with self.pool.acquire() as conn, conn.transaction():
            for statement in (
                "DELETE FROM sessions WHERE coalesce(ended_at, started_at, 0) < $1",
                "DELETE FROM mail_events WHERE at < $1",
                "DELETE FROM sightings WHERE last_seen < $1",
                "DELETE FROM probe_runs WHERE probed_at < $1",
            ):
                status = await conn.execute(statement, before)
                removed += int(status.rsplit(" ", 1)[-1])
        return removed

    async def save_snapshot(self, mailbox: str, data: bytes) -> None:
        """Keep ``data`` as the mailbox's last probe snapshot (replacing the one before)."""
        try:
            await self.pool.execute(_SAVE_SNAPSHOT, mailbox, data, time.time())
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The snapshot of {mailbox} could not be written: {exc}") from exc

    async def load_snapshot(self, mailbox: str) -> bytes | None:
        """The mailbox's last probe snapshot, if one was saved."""
        data = await self.pool.fetchval("SELECT data FROM snapshots WHERE mailbox = $1", mailbox)
        return None if data is None else bytes(data)

    async def save_incident(self, incident: Incident, transition: str) -> Incident:
        """Insert (no id) or update an incident and record the transition; with its id."""
        row = incident_row(incident)
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                if incident.id is None:
                    new_id = await conn.fetchval(_INSERT_INCIDENT, *row)
                    incident = dataclasses.replace(incident, id=int(new_id))
                else:
                    await conn.execute(_UPDATE_INCIDENT, *row, incident.id)
                await conn.execute(
                    "INSERT INTO incident_transitions"
                    " (incident_id, at, transition, severity, evidence)"
                    " VALUES ($1, $2, $3, $4, $5)",
                    incident.id, incident.updated_at, transition, incident.severity,
                    json.dumps(incident.evidence, sort_keys=True),
                )  # fmt: skip
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The incident could not be written: {exc}") from exc
        return incident

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
        where: list[str] = []
        args: list[object] = []
        for column, value in (("mailbox", mailbox), ("state", state), ("severity", severity)):
            if value is not None:
                args.append(value)
                where.append(f"{column} = ${len(args)}")
        query = SELECT_INCIDENTS + (" WHERE " + " AND ".join(where) if where else "")
        query += (
            f" ORDER BY updated_at DESC, id DESC LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}"
        )
        rows = await self.pool.fetch(query, *args, limit, offset)
        return [incident_from_row(tuple(r)) for r in rows]

    async def incident(self, incident_id: int) -> Incident | None:
        """One incident by its id, if it exists."""
        row = await self.pool.fetchrow(SELECT_INCIDENTS + " WHERE id = $1", incident_id)
        return None if row is None else incident_from_row(tuple(row))

    async def incident_transitions(self, incident_id: int) -> list[Transition]:
        """The transitions of an incident, oldest first."""
        rows = await self.pool.fetch(
            "SELECT at, transition, severity, evidence FROM incident_transitions"
            " WHERE incident_id = $1 ORDER BY at, id",
            incident_id,
        )
        return [Transition(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    async def claim_notice(self, incident_id: int, at: float, notice_id: str) -> bool:
        """Mark an incident's notice as sent; False when it already was (never twice)."""
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute(
                "UPDATE incidents SET notified_at = $1, notice_id = $2"
                " WHERE id = $3 AND notified_at IS NULL",
                at,
                notice_id,
                incident_id,
            )
            if status != "UPDATE 1":
                return False
            await conn.execute(
                "INSERT INTO incident_transitions (incident_id, at, transition, severity,"
                " evidence) SELECT id, $1, 'notified', severity, $2 FROM incidents"
                " WHERE id = $3",
                at,
                json.dumps({"notice_id": notice_id}),
                incident_id,
            )
        return True

    async def release_notice(self, incident_id: int) -> None:
        """Undo a claim whose notice could not be delivered."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE incidents SET notified_at = NULL, notice_id = NULL WHERE id = $1",
                incident_id,
            )
            await conn.execute(
                "DELETE FROM incident_transitions WHERE incident_id = $1"
                " AND transition = 'notified'",
                incident_id,
            )

    async def last_notice_at(self, mailbox: str) -> float | None:
        """When the last notice to a mailbox was sent, if ever."""
        value = await self.pool.fetchval(
            "SELECT max(notified_at) FROM incidents WHERE mailbox = $1", mailbox
        )
        return None if value is None else float(value)

    async def mailboxes_at_risk(self) -> dict[str, int]:
        """Mailboxes with an open incident, per severity (index incidents_state)."""
        rows = await self.pool.fetch(AT_RISK_NOW)
        return {str(r[0]): int(r[1]) for r in rows}

    async def session_counts(self, since: float, bucket: float) -> list[tuple[float, str, int]]:
        """IMAP and POP3 sessions per time bucket and protocol, oldest first."""
        rows = await self.pool.fetch(_SESSION_COUNTS, bucket, since)
        return [(float(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def at_risk(self, moments: Sequence[float]) -> list[tuple[float, str, int]]:
        """Mailboxes with an incident open at each moment, by severity."""
        if not moments:
            return []
        rows = await self.pool.fetch(_AT_RISK, [float(m) for m in moments])
        return [(float(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def setup_requests(self, since: float) -> list[tuple[str, str, int]]:
        """Setup requests from ``since`` on by endpoint and client kind."""
        rows = await self.pool.fetch(_SETUP_REQUESTS, since)
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def imap_clients(self, since: float, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent IMAP ID names with their sessions."""
        rows = await self.pool.fetch(_IMAP_CLIENTS, since, limit)
        return [(str(r[0]), int(r[1])) for r in rows]

    async def ingest_state(self) -> IngestState:
        """The newest session time and each log source's last checkpoint."""
        newest = await self.pool.fetchval(
            "SELECT max(coalesce(ended_at, started_at)) FROM sessions"
        )
        rows = await self.pool.fetch("SELECT source, updated_at FROM checkpoints ORDER BY source")
        return IngestState(
            float(newest) if newest is not None else None,
            [(str(r[0]), float(r[1])) for r in rows],
        )

    async def add_probe_run(self, run: ProbeRun) -> None:
        """Record one probe of a mailbox."""
        try:
            await self.pool.execute(_INSERT_PROBE_RUN, *probe_run_row(run))
        except (OSError, asyncpg.PostgresError) as exc:
            msg = f"The probe run of {run.mailbox} could not be written: {exc}"
            raise StoreError(msg) from exc

    async def probe_runs(
        self, mailbox: str, since: float = 0.0, limit: int = 1000
    ) -> list[ProbeRun]:
        """A mailbox's probe runs from ``since`` on, oldest first (the newest ``limit``)."""
        rows = await self.pool.fetch(
            SELECT_PROBE_RUNS + " WHERE mailbox = $1 AND probed_at >= $2"
            " ORDER BY probed_at DESC, id DESC LIMIT $3",
            mailbox,
            since,
            limit,
        )
        return [probe_run_from_row(tuple(r)) for r in reversed(rows)]

    async def mailboxes(self, prefix: str, limit: int = 50) -> list[str]:
        """Known mailbox addresses starting with ``prefix``: distinct, sorted."""
        rows = await self.pool.fetch(_SELECT_MAILBOXES, prefix_pattern(prefix), limit)
        return [str(r[0]) for r in rows]

    async def login_failures(self, keys: Sequence[str], since: float) -> int:
        """The most failed sign-ins any of ``keys`` had from ``since`` on."""
        found = await self.pool.fetchval(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM login_failures"
            " WHERE key = ANY($1::text[]) AND at >= $2 GROUP BY key) AS counts",
            list(keys),
            since,
        )
        return int(found or 0)

    async def add_login_failure(self, keys: Sequence[str], at: float, forget_before: float) -> None:
        """Count one failed sign-in under each key; forget failures before ``forget_before``."""
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("DELETE FROM login_failures WHERE at < $1", forget_before)
                await conn.executemany(
                    "INSERT INTO login_failures (key, at) VALUES ($1, $2)", [(k, at) for k in keys]
                )
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The failed sign-in could not be written: {exc}") from exc

    async def add_audit(self, entry: AuditEntry) -> None:
        """Record who did what to which mailbox."""
        try:
            await self.pool.execute(_INSERT_AUDIT, *audit_row(entry))
        except (OSError, asyncpg.PostgresError) as exc:
            raise StoreError(f"The audit entry could not be written: {exc}") from exc

    async def audit(
        self, *, mailbox: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """Audit entries (of a mailbox), newest first."""
        if mailbox is None:
            rows = await self.pool.fetch(
                SELECT_AUDIT + " ORDER BY at DESC, id DESC LIMIT $1 OFFSET $2", limit, offset
            )
        else:
            rows = await self.pool.fetch(
                SELECT_AUDIT + " WHERE mailbox = $1 ORDER BY at DESC, id DESC LIMIT $2 OFFSET $3",
                mailbox,
                limit,
                offset,
            )
        return [audit_from_row(tuple(r)) for r in rows]

    async def save_domain_health(self, health: DomainHealth) -> None:
        """Keep a domain's latest health check (replacing the one before)."""
        try:
            await self.pool.execute(_SAVE_DOMAIN_HEALTH, *domain_health_row(health))
        except (OSError, asyncpg.PostgresError) as exc:
            msg = f"The health check of {health.domain} could not be written: {exc}"
            raise StoreError(msg) from exc

    async def domain_health(self, domain: str) -> DomainHealth | None:
        """A domain's latest health check, if it was checked."""
        row = await self.pool.fetchrow(SELECT_DOMAIN_HEALTH + " WHERE domain = $1", domain)
        return None if row is None else domain_health_from_row(tuple(row))

    async def domain_healths(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[DomainHealth]:
        """Latest checks (of one status), failing and oldest first."""
        if status is None:
            rows = await self.pool.fetch(
                SELECT_DOMAIN_HEALTH + HEALTH_ORDER + " LIMIT $1 OFFSET $2", limit, offset
            )
        else:
            rows = await self.pool.fetch(
                SELECT_DOMAIN_HEALTH + " WHERE status = $1" + HEALTH_ORDER + " LIMIT $2 OFFSET $3",
                status,
                limit,
                offset,
            )
        return [domain_health_from_row(tuple(r)) for r in rows]

    async def domain_health_counts(self) -> dict[str, int]:
        """How many domains are in each health status."""
        rows = await self.pool.fetch("SELECT status, count(*) FROM domain_health GROUP BY status")
        return {str(r[0]): int(r[1]) for r in rows}

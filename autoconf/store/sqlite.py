"""SQLite store (aiosqlite, WAL): the embedded default, created on first start."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import itertools
import json
import sqlite3
import time
from typing import TYPE_CHECKING

import aiosqlite

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
    from collections.abc import AsyncIterator, Sequence
    from pathlib import Path

    from autoconf.events.sessions import Session
    from autoconf.sightings import Sighting
    from autoconf.store.base import ProbeRun

_INSERT_SIGHTING = (
    f"INSERT INTO sightings ({', '.join(SIGHTING_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join('?' * len(SIGHTING_COLUMNS))})"
)

_UPSERT_SESSION = session_upsert(["?"] * len(SESSION_COLUMNS))
_INSERT_MAIL = (
    f"INSERT INTO mail_events ({', '.join(MAIL_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join('?' * len(MAIL_COLUMNS))})"
)
_SAVE_CHECKPOINT = (
    "INSERT INTO checkpoints (source, inode, position, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (source) DO UPDATE SET inode = excluded.inode,"
    " position = excluded.position, updated_at = excluded.updated_at"
)
_SAVE_SNAPSHOT = (
    "INSERT INTO snapshots (mailbox, data, saved_at) VALUES (?, ?, ?)"
    " ON CONFLICT (mailbox) DO UPDATE SET data = excluded.data, saved_at = excluded.saved_at"
)
_INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_FIELDS)})"  # noqa: S608 - fixed names
    f" VALUES ({', '.join('?' * len(INCIDENT_FIELDS))})"
)
_UPDATE_INCIDENT = (
    "UPDATE incidents SET "  # noqa: S608 - fixed column names
    + ", ".join(f"{c} = ?" for c in INCIDENT_FIELDS)
    + " WHERE id = ?"
)
# Dashboard aggregates (the probe's own sessions are no client's).
_SESSION_COUNTS = (
    "SELECT CAST(started_at / ?1 AS INTEGER) * ?1 AS t, protocol, count(*) FROM sessions"
    " WHERE started_at >= ?2 AND protocol IN ('imap', 'pop3')"
    " AND coalesce(client_name, '') != 'autoconf-probe'"
    " GROUP BY t, protocol ORDER BY t, protocol"
)
_AT_RISK = (
    "SELECT m.t, i.severity, count(DISTINCT i.mailbox) FROM moments AS m JOIN incidents AS i"
    " ON i.opened_at <= m.t AND (i.resolved_at IS NULL OR i.resolved_at > m.t)"
    " GROUP BY m.t, i.severity ORDER BY m.t, i.severity"
)
_SETUP_REQUESTS = (
    "SELECT endpoint, client, sum(requests) FROM sightings WHERE last_seen >= ?"
    " GROUP BY endpoint, client ORDER BY endpoint, client"
)
_IMAP_CLIENTS = (
    "SELECT coalesce(client_name, ''), count(*) AS n FROM sessions"
    " WHERE protocol = 'imap' AND started_at >= ?"
    " AND coalesce(client_name, '') != 'autoconf-probe'"
    " GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
)
_INSERT_PROBE_RUN = (
    f"INSERT INTO probe_runs ({', '.join(PROBE_RUN_COLUMNS)})"  # noqa: S608 - fixed names
    f" VALUES ({', '.join('?' * len(PROBE_RUN_COLUMNS))})"
)
_INSERT_AUDIT = (
    f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)})"  # noqa: S608 - fixed column names
    f" VALUES ({', '.join('?' * len(AUDIT_COLUMNS))})"
)
_SAVE_DOMAIN_HEALTH = (
    f"INSERT INTO domain_health ({', '.join(DOMAIN_HEALTH_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"  # noqa: S608
    " ON CONFLICT (domain) DO UPDATE SET status = excluded.status,"
    " checked_at = excluded.checked_at, summary = excluded.summary, report = excluded.report"
)
# Prefix search as a range over the mailbox indexes: [prefix, prefix + U+10FFFF).
_SELECT_MAILBOXES = (
    "SELECT mailbox FROM sessions WHERE mailbox >= ?1 AND mailbox < ?2"
    " UNION SELECT mailbox FROM sightings WHERE mailbox >= ?1 AND mailbox < ?2"
    " UNION SELECT mailbox FROM incidents WHERE mailbox >= ?1 AND mailbox < ?2"
    " ORDER BY 1 LIMIT ?3"
)
_TOP = "\U0010ffff"


_ROWS_PER_STATEMENT = 512  # 512 sessions x 25 columns: below SQLite's 32,766 parameters

# sqlite3 binds only exact int, float, str and bytes directly; None and bool first go through
# its adaptation protocol, which misses three lookups (adapters, __adapt__, __conform__) and
# costs several times the binding itself. Most session columns of a patch are None. These
# adapters bind the same values (NULL; 1 and 0, as int(True) is what sqlite3 binds for a bool)
# through one dict lookup and a call of a builtin.
_NONE: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NONE.get)
sqlite3.register_adapter(bool, int)


@functools.cache
def _many_rows(one: str, rows: int) -> str:
    """The INSERT ``one`` (``… VALUES (?, …, ?) …``) with ``rows`` rows of values."""
    head, _, rest = one.partition(" VALUES (")
    values, _, tail = rest.partition(")")
    return f"{head} VALUES {', '.join([f'({values})'] * rows)}{tail}"


class SQLiteStore:
    """The Store on one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._write = asyncio.Lock()  # one connection: one write transaction at a time

    @property
    def db(self) -> aiosqlite.Connection:
        """The open connection; StoreError before open()."""
        if self._db is None:
            raise StoreError("The store is not open.")
        return self._db

    async def open(self) -> None:
        """Create the data directory and database if needed, then migrate."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            # a new database gets 16 KB pages (SQLite's default is 4 KB): ingest's batches
            # touch index pages all over, and larger pages write 15-25 % faster, in fewer
            # WAL frames; reading a mailbox's rows costs the same. No effect on a database
            # that has pages already (VACUUM would rewrite it: not done behind anyone's back).
            await self._db.execute("PRAGMA page_size=16384")
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.execute("PRAGMA busy_timeout=5000")
            await self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"The SQLite store at {self.path} cannot be opened: {exc}") from exc

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = await self.schema_version()
        for migration in migrations("sqlite"):
            if migration.version <= done:
                continue
            await self.db.executescript(
                "BEGIN;\n"
                + migration.sql
                + "\nINSERT INTO schema_migrations VALUES"
                + f" ({migration.version}, '{migration.name}', {time.time()});\nCOMMIT;"
            )

    async def schema_version(self) -> int:
        """The last migration applied (0 for a new database)."""
        async with self.db.execute("SELECT max(version) FROM schema_migrations") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def ping(self) -> None:
        """Raise StoreError unless a trivial query answers."""
        try:
            await self.db.execute("SELECT 1")
        except sqlite3.Error as exc:
            raise StoreError(f"The SQLite store does not answer: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[None]:
        """BEGIN … COMMIT; on an error ROLLBACK and StoreError naming ``what``.

        A write whose task is cancelled (at shutdown, say) is rolled back too, so the
        transaction never stays open for the next writer.
        """
        try:
            await self.db.execute("BEGIN")
            yield
            await self.db.execute("COMMIT")
        except asyncio.CancelledError:
            await self._rollback_cancelled()
            raise
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                await self.db.execute("ROLLBACK")
            raise StoreError(f"{what} could not be written: {exc}") from exc

    async def _rollback_cancelled(self) -> None:
        """End the transaction of a write whose task was cancelled (at shutdown, say).

        The statements already handed to aiosqlite's thread still run; ROLLBACK is queued
        after them, so the transaction never stays open for the next writer. Shielded, so a
        second cancel cannot skip it.
        """
        with contextlib.suppress(sqlite3.Error):  # no transaction was open after all
            await asyncio.shield(self.db.execute("ROLLBACK"))

    async def add_sightings(self, rows: Sequence[Sighting]) -> None:
        """Insert a batch in one transaction."""
        async with self._write:
            await self._insert_sightings(rows)

    async def _insert_sightings(self, rows: Sequence[Sighting]) -> None:
        async with self._transaction("Sightings"):
            await self.db.executemany(
                _INSERT_SIGHTING,
                [sighting_row(r) for r in rows],
            )

    async def sightings(
        self, mailbox: str | None = None, domain: str | None = None, limit: int = 100
    ) -> list[Sighting]:
        """Newest first; by mailbox, else by domain, else all."""
        query = SELECT_SIGHTINGS
        args: tuple[object, ...] = ()
        if mailbox is not None:
            query += " WHERE mailbox = ?"
            args = (mailbox,)
        elif domain is not None:
            query += " WHERE domain = ?"
            args = (domain,)
        query += " ORDER BY last_seen DESC, id DESC LIMIT ?"
        async with self.db.execute(query, (*args, limit)) as cur:
            rows = await cur.fetchall()
        return [sighting_from_row(tuple(r)) for r in rows]

    async def for_ingest(self) -> None:
        """Tune this connection for ingest's large batches.

        A batch touches pages all over the session and mail indexes, and every commit
        writes each page it changed to the WAL: a page cache that holds the hot index pages
        (16 MB, a fixed bound: memory stays flat) and a checkpoint every 10,000 WAL pages
        (40 MB) instead of every 1,000 halve the time of a write. Only this connection.
        """
        await self.db.execute("PRAGMA cache_size=-16384")
        await self.db.execute("PRAGMA wal_autocheckpoint=10000")

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
        async with self._write, self._transaction("Events"):
            if sessions:
                await self._rows(_UPSERT_SESSION, sessions)
            if mail:
                await self._rows(_INSERT_MAIL, mail)
            if checkpoint is not None:
                await self.db.execute(
                    _SAVE_CHECKPOINT,
                    (checkpoint.source, checkpoint.inode, checkpoint.position, time.time()),
                )

    async def _rows(self, one: str, rows: Sequence[Sequence[object]]) -> None:
        """Run ``one`` (an INSERT of one row) for every row, in statements of many rows.

        One statement of many rows instead of ``executemany``: its values are bound in one
        call and SQLite inserts all its rows in one step, without Python's GIL, so the write
        runs beside the ingest parsing the next batch. (executemany takes the GIL back after
        every row, and waits up to the switch interval, 5 ms, for it while the parser holds
        it: the writer would crawl.) Statements hold ``_ROWS_PER_STATEMENT`` rows, the rest
        goes in statements of 256, 128, … 1 rows: a few prepared statements, reused.
        """
        start, left = 0, len(rows)
        while left:
            count = min(_ROWS_PER_STATEMENT, 1 << (left.bit_length() - 1))
            values = list(itertools.chain.from_iterable(rows[start : start + count]))
            await self.db.execute(_many_rows(one, count), values)
            start += count
            left -= count

    async def checkpoint(self, source: str) -> Checkpoint | None:
        """Where ``source`` was read up to, if it was read before."""
        async with self.db.execute(
            "SELECT inode, position FROM checkpoints WHERE source = ?", (source,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else Checkpoint(source, int(row[0]), int(row[1]))

    async def sessions(self, mailbox: str, since: float = 0.0, limit: int = 1000) -> list[Session]:
        """A mailbox's sessions that started (or ended) after ``since``, newest first."""
        async with self.db.execute(
            SELECT_SESSIONS + " WHERE mailbox = ? AND coalesce(ended_at, started_at, 0) >= ?"
            " ORDER BY coalesce(started_at, ended_at) DESC LIMIT ?",
            (mailbox, since, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [session_from_row(tuple(r)) for r in rows]

    async def mail_events(self, mailbox: str, limit: int = 1000) -> list[MailRecord]:
        """A mailbox's message events, newest first."""
        async with self.db.execute(
            SELECT_MAIL + " WHERE mailbox = ? ORDER BY at DESC, id DESC LIMIT ?", (mailbox, limit)
        ) as cur:
            rows = await cur.fetchall()
        return [MailRecord(**dict(zip(MAIL_COLUMNS, r, strict=True))) for r in rows]

    async def purge(self, before: float) -> int:
        """Delete sessions, mail events and sightings older than ``before``; rows removed."""
        statements = (
            "DELETE FROM sessions WHERE coalesce(ended_at, started_at, 0) < ?",
            "DELETE FROM mail_events WHERE at < ?",
            "DELETE FROM sightings WHERE last_seen < ?",
            "DELETE FROM probe_runs WHERE probed_at < ?",
        )
        removed = 0
        async with self._write, self._transaction("The removal of old records"):
            for statement in statements:
                cur = await self.db.execute(statement, (before,))
                removed += cur.rowcount
        return removed

    async def save_snapshot(self, mailbox: str, data: bytes) -> None:
        """Keep ``data`` as the mailbox's last probe snapshot (replacing the one before)."""
        async with self._write:
            try:
                await self.db.execute(_SAVE_SNAPSHOT, (mailbox, data, time.time()))
            except sqlite3.Error as exc:
                raise StoreError(f"The snapshot of {mailbox} could not be written: {exc}") from exc

    async def load_snapshot(self, mailbox: str) -> bytes | None:
        """The mailbox's last probe snapshot, if one was saved."""
        async with self.db.execute(
            "SELECT data FROM snapshots WHERE mailbox = ?", (mailbox,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None else bytes(row[0])

    async def save_incident(self, incident: Incident, transition: str) -> Incident:
        """Insert (no id) or update an incident and record the transition; with its id."""
        row = incident_row(incident)
        async with self._write, self._transaction("The incident"):
            if incident.id is None:
                cur = await self.db.execute(_INSERT_INCIDENT, row)
                incident = dataclasses.replace(incident, id=cur.lastrowid)
            else:
                await self.db.execute(_UPDATE_INCIDENT, (*row, incident.id))
            await self.db.execute(
                "INSERT INTO incident_transitions"
                " (incident_id, at, transition, severity, evidence) VALUES (?, ?, ?, ?, ?)",
                (incident.id, incident.updated_at, transition, incident.severity,
                 json.dumps(incident.evidence, sort_keys=True)),
            )  # fmt: skip
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
        where, args = [], []
        for column, value in (("mailbox", mailbox), ("state", state), ("severity", severity)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        query = SELECT_INCIDENTS + (" WHERE " + " AND ".join(where) if where else "")
        query += " ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?"
        async with self.db.execute(query, (*args, limit, offset)) as cur:
            rows = await cur.fetchall()
        return [incident_from_row(tuple(r)) for r in rows]

    async def incident(self, incident_id: int) -> Incident | None:
        """One incident by its id, if it exists."""
        async with self.db.execute(SELECT_INCIDENTS + " WHERE id = ?", (incident_id,)) as cur:
            row = await cur.fetchone()
        return None if row is None else incident_from_row(tuple(row))

    async def incident_transitions(self, incident_id: int) -> list[Transition]:
        """The transitions of an incident, oldest first."""
        async with self.db.execute(
            "SELECT at, transition, severity, evidence FROM incident_transitions"
            " WHERE incident_id = ? ORDER BY at, id",
            (incident_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [Transition(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    async def claim_notice(self, incident_id: int, at: float, notice_id: str) -> bool:
        """Mark an incident's notice as sent; False when it already was (never twice)."""
        async with self._write:
            cur = await self.db.execute(
                "UPDATE incidents SET notified_at = ?, notice_id = ?"
                " WHERE id = ? AND notified_at IS NULL",
                (at, notice_id, incident_id),
            )
            if cur.rowcount != 1:
                return False
            await self.db.execute(
                "INSERT INTO incident_transitions (incident_id, at, transition, severity,"
                " evidence) SELECT id, ?, 'notified', severity, ? FROM incidents WHERE id = ?",
                (at, json.dumps({"notice_id": notice_id}), incident_id),
            )
        return True

    async def release_notice(self, incident_id: int) -> None:
        """Undo a claim whose notice could not be delivered."""
        async with self._write:
            await self.db.execute(
                "UPDATE incidents SET notified_at = NULL, notice_id = NULL WHERE id = ?",
                (incident_id,),
            )
            await self.db.execute(
                "DELETE FROM incident_transitions WHERE incident_id = ? AND transition ="
                " 'notified'",
                (incident_id,),
            )

    async def last_notice_at(self, mailbox: str) -> float | None:
        """When the last notice to a mailbox was sent, if ever."""
        async with self.db.execute(
            "SELECT max(notified_at) FROM incidents WHERE mailbox = ?", (mailbox,)
        ) as cur:
            row = await cur.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    async def mailboxes_at_risk(self) -> dict[str, int]:
        """Mailboxes with an open incident, per severity (index incidents_state)."""
        async with self.db.execute(AT_RISK_NOW) as cur:
            rows = await cur.fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

    async def session_counts(self, since: float, bucket: float) -> list[tuple[float, str, int]]:
        """IMAP and POP3 sessions per time bucket and protocol, oldest first."""
        async with self.db.execute(_SESSION_COUNTS, (bucket, since)) as cur:
            rows = await cur.fetchall()
        return [(float(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def at_risk(self, moments: Sequence[float]) -> list[tuple[float, str, int]]:
        """Mailboxes with an incident open at each moment, by severity."""
        if not moments:
            return []
        values = ", ".join("(?)" for _ in moments)
        query = f"WITH moments(t) AS (VALUES {values}) {_AT_RISK}"
        async with self.db.execute(query, tuple(float(m) for m in moments)) as cur:
            rows = await cur.fetchall()
        return [(float(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def setup_requests(self, since: float) -> list[tuple[str, str, int]]:
        """Setup requests from ``since`` on by endpoint and client kind."""
        async with self.db.execute(_SETUP_REQUESTS, (since,)) as cur:
            rows = await cur.fetchall()
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    async def imap_clients(self, since: float, limit: int = 10) -> list[tuple[str, int]]:
        """The most frequent IMAP ID names with their sessions."""
        async with self.db.execute(_IMAP_CLIENTS, (since, limit)) as cur:
            rows = await cur.fetchall()
        return [(str(r[0]), int(r[1])) for r in rows]

    async def ingest_state(self) -> IngestState:
        """The newest session time and each log source's last checkpoint."""
        async with self.db.execute(
            "SELECT max(coalesce(ended_at, started_at)) FROM sessions"
        ) as cur:
            row = await cur.fetchone()
        async with self.db.execute(
            "SELECT source, updated_at FROM checkpoints ORDER BY source"
        ) as cur:
            sources = [(str(r[0]), float(r[1])) for r in await cur.fetchall()]
        newest = float(row[0]) if row is not None and row[0] is not None else None
        return IngestState(newest, sources)

    async def add_probe_run(self, run: ProbeRun) -> None:
        """Record one probe of a mailbox."""
        async with self._write:
            try:
                await self.db.execute(_INSERT_PROBE_RUN, probe_run_row(run))
            except sqlite3.Error as exc:
                msg = f"The probe run of {run.mailbox} could not be written: {exc}"
                raise StoreError(msg) from exc

    async def probe_runs(
        self, mailbox: str, since: float = 0.0, limit: int = 1000
    ) -> list[ProbeRun]:
        """A mailbox's probe runs from ``since`` on, oldest first (the newest ``limit``)."""
        async with self.db.execute(
            SELECT_PROBE_RUNS + " WHERE mailbox = ? AND probed_at >= ?"
            " ORDER BY probed_at DESC, id DESC LIMIT ?",
            (mailbox, since, limit),
        ) as cur:
            rows = await cur.fetchall()
        return [probe_run_from_row(tuple(r)) for r in list(rows)[::-1]]

    async def mailboxes(self, prefix: str, limit: int = 50) -> list[str]:
        """Known mailbox addresses starting with ``prefix``: distinct, sorted."""
        async with self.db.execute(_SELECT_MAILBOXES, (prefix, prefix + _TOP, limit)) as cur:
            rows = await cur.fetchall()
        return [str(r[0]) for r in rows]

    async def login_failures(self, keys: Sequence[str], since: float) -> int:
        """The most failed sign-ins any of ``keys`` had from ``since`` on."""
        marks = ", ".join("?" * len(keys))
        query = (
            "SELECT count(*) FROM login_failures"  # noqa: S608 - placeholders only
            f" WHERE key IN ({marks}) AND at >= ? GROUP BY key"
        )
        async with self.db.execute(query, (*keys, since)) as cur:
            rows = await cur.fetchall()
        return max((int(r[0]) for r in rows), default=0)

    async def add_login_failure(self, keys: Sequence[str], at: float, forget_before: float) -> None:
        """Count one failed sign-in under each key; forget failures before ``forget_before``."""
        async with self._write, self._transaction("The failed sign-in"):
            await self.db.execute("DELETE FROM login_failures WHERE at < ?", (forget_before,))
            await self.db.executemany(
                "INSERT INTO login_failures (key, at) VALUES (?, ?)", [(k, at) for k in keys]
            )

    async def add_audit(self, entry: AuditEntry) -> None:
        """Record who did what to which mailbox."""
        async with self._write:
            try:
                await self.db.execute(_INSERT_AUDIT, audit_row(entry))
            except sqlite3.Error as exc:
                raise StoreError(f"The audit entry could not be written: {exc}") from exc

    async def audit(
        self, *, mailbox: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[AuditEntry]:
        """Audit entries (of a mailbox), newest first."""
        query = SELECT_AUDIT + (" WHERE mailbox = ?" if mailbox is not None else "")
        args: tuple[object, ...] = () if mailbox is None else (mailbox,)
        async with self.db.execute(
            query + " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?", (*args, limit, offset)
        ) as cur:
            rows = await cur.fetchall()
        return [audit_from_row(tuple(r)) for r in rows]

    async def save_domain_health(self, health: DomainHealth) -> None:
        """Keep a domain's latest health check (replacing the one before)."""
        async with self._write:
            try:
                await self.db.execute(_SAVE_DOMAIN_HEALTH, domain_health_row(health))
            except sqlite3.Error as exc:
                msg = f"The health check of {health.domain} could not be written: {exc}"
                raise StoreError(msg) from exc

    async def domain_health(self, domain: str) -> DomainHealth | None:
        """A domain's latest health check, if it was checked."""
        async with self.db.execute(SELECT_DOMAIN_HEALTH + " WHERE domain = ?", (domain,)) as cur:
            row = await cur.fetchone()
        return None if row is None else domain_health_from_row(tuple(row))

    async def domain_healths(
        self, *, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[DomainHealth]:
        """Latest checks (of one status), failing and oldest first."""
        where = " WHERE status = ?" if status is not None else ""
        args: tuple[object, ...] = () if status is None else (status,)
        async with self.db.execute(
            SELECT_DOMAIN_HEALTH + where + HEALTH_ORDER + " LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ) as cur:
            rows = await cur.fetchall()
        return [domain_health_from_row(tuple(r)) for r in rows]

    async def domain_health_counts(self) -> dict[str, int]:
        """How many domains are in each health status."""
        async with self.db.execute(
            "SELECT status, count(*) FROM domain_health GROUP BY status"
        ) as cur:
            rows = await cur.fetchall()
        return {str(r[0]): int(r[1]) for r in rows}

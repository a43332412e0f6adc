"""Diagnosis of one mailbox in a store holding a million mailboxes' devices, SQLite and PostgreSQL.

The target (ARCHITECTURE.md §6): diagnosing one mailbox stays under 20 ms p99 in a store
holding 1,000,000 mailboxes' devices. The bench builds such a store (in a temp dir for
SQLite, in a fresh database for PostgreSQL, both removed afterwards unless ``--keep``), then
times what ``autoconf diagnose --no-notify`` does per mailbox — ``service.run`` (sessions,
mail events and sightings of the window, then the pure rules) followed by ``service.track``
(reads the mailbox's incidents; writes one when a finding is new) — for random mailboxes,
each sampled once, on one open store (the CLI's own open/close and process start are not
included). ``run`` alone and a per-call breakdown are printed too.

Data per mailbox (30 days plus a few older sessions that the window filters out):
1-3 IMAP devices (client, version, OS from IMAP ID; one network each) with 2-6 sessions
each; about 5 % also have a POP3 client that downloads and deletes (4-10 sessions, with
lmtp deliveries and pop3 expunges in mail_events); about 20 % of the others have a few
deliveries; about 30 % have 1-2 setup sightings.

    .venv/bin/python bench/diagnosis_bench.py --mailboxes 100000 --samples 2000
    .venv/bin/python bench/diagnosis_bench.py                     # 1,000,000 mailboxes, both
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import asyncpg

from autoconf import logs
from autoconf.config import Settings
from autoconf.diagnosis import service
from autoconf.diagnosis.rules import diagnose
from autoconf.events import devices as device_model
from autoconf.events.sessions import MAIL_COLUMNS, SESSION_COLUMNS
from autoconf.store.base import SIGHTING_COLUMNS
from autoconf.store.postgres import PostgresStore
from autoconf.store.sqlite import SQLiteStore

DAY = 86400.0
TARGET_MS = 20.0
ADMIN_DSN = os.environ.get(
    "AUTOCONF_TEST_POSTGRES_DSN", "postgresql:///postgres?host=/var/run/postgresql"
)
CHUNK = 20_000  # mailboxes per transaction / COPY

IMAP_CLIENTS = (
    ("Thunderbird", "115.10.1", "Windows", "10", "Mozilla"),
    ("Thunderbird", "128.3.0", "Linux", None, "Mozilla"),
    ("iPhone Mail", "21E236", "iOS", "17.4.1", "Apple Inc"),
    ("Mac OS X Mail", "16.0 (3774.500.171.1.1)", "macOS", "14.4.1", "Apple Inc"),
    ("com.google.android.gm", "2024.03.24", "Android", "14", "Google"),
    ("K-9 Mail", "6.802", "Android", "13", None),
    ("Microsoft Outlook", "16.0.17531", "Windows", "11", "Microsoft"),
    (None, None, None, None, None),  # clients that send no IMAP ID
)
USER_AGENTS = (
    ("thunderbird", "autoconfig", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Thunderbird/128.3.0"),
    ("outlook", "autodiscover", "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)"),
    ("apple", "mobileconfig", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"),
    ("k9", "autoconfig", "K-9 Mail/6.802"),
)


def _ip(rng: random.Random) -> str:
    a, b, c = rng.randint(11, 223), rng.randint(0, 255), rng.randint(0, 255)
    return f"{a}.{b}.{c}.{rng.randint(1, 254)}"


def _key(rng: random.Random) -> str:
    return f"{rng.getrandbits(96):024x}"


def mailbox_name(i: int) -> str:
    return f"u{i:07d}@d{i % 2000}.example"


def generate(first: int, last: int, now: float, seed: int) -> tuple[list, list, list, int]:
    """Session, mail event and sighting rows of mailboxes first..last-1 (deterministic)."""
    rng = random.Random(seed * 1_000_003 + first)
    sessions: list[tuple] = []
    mail: list[tuple] = []
    sightings: list[tuple] = []
    deleting = 0
    for i in range(first, last):
        mb = mailbox_name(i)
        domain = mb.split("@", 1)[1]
        n_imap = rng.choices((1, 2, 3), (50, 35, 15))[0]
        for _ in range(n_imap):
            name, version, os_, os_version, vendor = rng.choice(IMAP_CLIENTS)
            ip = _ip(rng)
            for _ in range(rng.randint(2, 6)):
                start = now - rng.uniform(0, 33 * DAY)  # a few fall before the 30-day window
                end = start + rng.uniform(30, 4 * 3600)
                if end > now:
                    end = None  # still connected
                expunged = rng.choice((0, 0, 0, 1, 2))
                sessions.append((
                    _key(rng), mb, "imap", ip, "192.0.2.10", 993, True, "PLAIN", start, end,
                    None if end is None else rng.choice(("Logged out", "Disconnected")),
                    name, version, os_, os_version, vendor,
                    None, None, 0, None, None, None, expunged, expunged,
                    None if end is None else rng.uniform(0, 400),
                ))  # fmt: skip
        if rng.random() < 0.05:  # a POP3 client that deletes what it downloads
            deleting += 1
            ip = _ip(rng)
            for _ in range(rng.randint(4, 10)):
                start = now - rng.uniform(0, 30 * DAY)
                end = start + rng.uniform(1, 20)
                k = rng.choice((0, 0, 1, 1, 2, 3, 5))
                key = _key(rng)
                sessions.append((
                    key, mb, "pop3", ip, "192.0.2.10", 995, True, "PLAIN", start, end,
                    "Logged out", None, None, None, None, None,
                    0, k, k, k, k * 45_000, True, None, None, 0.0 if k else None,
                ))  # fmt: skip
                for n in range(k):
                    msgid = f"<{rng.getrandbits(64):016x}@mx.example>"
                    at = start - rng.uniform(60, 6 * 3600)
                    mail.append((None, mb, at, "lmtp", "delivered", "INBOX", None, msgid, 40_000))
                    mail.append((key, mb, end, "pop3", "expunge", "INBOX", n + 1, msgid, 40_000))
        elif rng.random() < 0.2:  # deliveries logged for this mailbox
            for _ in range(rng.randint(1, 5)):
                at = now - rng.uniform(0, 30 * DAY)
                msgid = f"<{rng.getrandbits(64):016x}@mx.example>"
                mail.append((None, mb, at, "lmtp", "delivered", "INBOX", None, msgid, 30_000))
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 2)):
                client, endpoint, ua = rng.choice(USER_AGENTS)
                seen = now - rng.uniform(0, 30 * DAY)
                sightings.append(
                    (domain, mb, client, endpoint, _ip(rng), ua, seen, seen + 5, rng.randint(1, 3))
                )
    return sessions, mail, sightings, deleting


def _insert(table: str, columns: tuple[str, ...]) -> str:
    marks = ", ".join("?" * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


class SQLiteBuild:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def start(self) -> None:
        store = SQLiteStore(self.path)  # the store's own schema (migrations)
        await store.open()
        await store.close()
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-1000000")  # 1 GB while building

    async def add(self, sessions: list, mail: list, sightings: list) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(_insert("sessions", SESSION_COLUMNS), sessions)
        self.db.executemany(_insert("mail_events", MAIL_COLUMNS), mail)
        self.db.executemany(_insert("sightings", SIGHTING_COLUMNS), sightings)
        self.db.execute("COMMIT")

    async def finish(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()

    def store(self) -> SQLiteStore:
        return SQLiteStore(self.path)

    def size(self) -> str:
        return f"{self.path.stat().st_size / 1e9:.2f} GB file"


class PostgresBuild:
    def __init__(self) -> None:
        self.name = f"autoconf_bench_{secrets.token_hex(4)}"
        base, _, query = ADMIN_DSN.partition("?")
        self.dsn = base.rsplit("/", 1)[0] + "/" + self.name + (f"?{query}" if query else "")

    async def start(self) -> None:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await admin.close()
        store = PostgresStore(self.dsn)  # the store's own schema (migrations)
        await store.open()
        await store.close()
        self.conn = await asyncpg.connect(self.dsn)
        await self.conn.execute("SET synchronous_commit = off")

    async def add(self, sessions: list, mail: list, sightings: list) -> None:
        async with self.conn.transaction():
            await self.conn.copy_records_to_table(
                "sessions", columns=SESSION_COLUMNS, records=sessions
            )
            if mail:
                await self.conn.copy_records_to_table(
                    "mail_events", columns=MAIL_COLUMNS, records=mail
                )
            if sightings:
                await self.conn.copy_records_to_table(
                    "sightings", columns=SIGHTING_COLUMNS, records=sightings
                )

    async def finish(self) -> None:
        await self.conn.execute("VACUUM ANALYZE")  # what autovacuum does soon after a load
        self.size_text = await self.conn.fetchval(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        )
        await self.conn.close()

    def store(self) -> PostgresStore:
        return PostgresStore(self.dsn)

    def size(self) -> str:
        return f"database {self.size_text}"

    async def drop(self) -> None:
        admin = await asyncpg.connect(ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await admin.close()


async def build(builders: dict[str, object], mailboxes: int, now: float, seed: int) -> None:
    for b in builders.values():
        await b.start()
    t0 = time.perf_counter()
    spent = dict.fromkeys(builders, 0.0)
    totals = [0, 0, 0, 0]
    for first in range(0, mailboxes, CHUNK):
        rows = generate(first, min(first + CHUNK, mailboxes), now, seed)
        for i, n in enumerate(rows[:3]):
            totals[i] += len(n)
        totals[3] += rows[3]
        for name, b in builders.items():
            t = time.perf_counter()
            await b.add(*rows[:3])
            spent[name] += time.perf_counter() - t
        done = min(first + CHUNK, mailboxes)
        if done % (CHUNK * 10) == 0 or done == mailboxes:
            rate = done / (time.perf_counter() - t0)
            print(
                f"  {done:>9,} mailboxes  {totals[0]:>10,} sessions  {totals[1]:>9,} mail events"
                f"  {totals[2]:>8,} sightings  ({rate:,.0f} mailboxes/s; "
                + ", ".join(f"{k} {v:.0f}s" for k, v in spent.items())
                + ")",
                flush=True,
            )
    for name, b in builders.items():
        t = time.perf_counter()
        await b.finish()
        spent[name] += time.perf_counter() - t
        print(f"  {name}: built in {spent[name]:.0f}s of inserts, {b.size()}", flush=True)
    print(f"  {totals[3]:,} mailboxes with a deleting POP3 client", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


async def measure(store, settings: Settings, sample: list[str], now: float) -> dict[str, object]:
    """Time run + track per mailbox (as ``autoconf diagnose --no-notify``), then a breakdown."""
    await store.open()
    try:
        warm = sample[: max(1, len(sample) // 20)]  # a few calls to open connections, prepare
        for mb in warm:
            await service.run(store, settings, mb, now=now)
        full, run_only, written = [], [], 0
        for mb in sample:
            t0 = time.perf_counter()
            diagnosis = await service.run(store, settings, mb, now=now)
            t1 = time.perf_counter()
            opened = await service.track(store, diagnosis, now, settings.incident_resolve_days)
            t2 = time.perf_counter()
            written += sum(1 for i in opened if i.opened_at == now)
            run_only.append((t1 - t0) * 1000)
            full.append((t2 - t0) * 1000)
        # the same mailboxes again, call by call (their incidents now exist: track only reads)
        since = now - settings.diagnosis_window_days * DAY
        parts: dict[str, list[float]] = {
            k: []
            for k in ("sessions", "mail_events", "sightings(+probe_runs)", "rules", "incidents")
        }
        counts = [0, 0, 0]
        probe_runs = getattr(store, "probe_runs", None)
        for mb in sample:
            t0 = time.perf_counter()
            sessions = await store.sessions(mb, since=since, limit=service.SESSION_LIMIT)
            t1 = time.perf_counter()
            mail = [
                m for m in await store.mail_events(mb, limit=service.MAIL_LIMIT) if m.at >= since
            ]
            t2 = time.perf_counter()
            sightings = await store.sightings(mailbox=mb, limit=service.SIGHTING_LIMIT)
            if probe_runs is not None:  # newer stores: the probe runs feed the probe rules
                await probe_runs(mb, limit=getattr(service, "PROBE_RUN_LIMIT", 500))
            t3 = time.perf_counter()
            found = device_model.build(sessions, sightings)
            diagnose(mb, found, sessions, mail, now=now, window_days=settings.diagnosis_window_days)
            t4 = time.perf_counter()
            await store.incidents(mailbox=mb, state=None, limit=200)
            t5 = time.perf_counter()
            for k, a, b in zip(parts, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5), strict=True):
                parts[k].append((b - a) * 1000)
            counts[0] += len(sessions)
            counts[1] += len(mail)
            counts[2] += len(sightings)
    finally:
        await store.close()
    n = len(sample)
    return {
        "diagnose": summary(full),
        "run_only": summary(run_only),
        "incidents_opened": written,
        "breakdown_mean_ms": {k: statistics.fmean(v) for k, v in parts.items()},
        "breakdown_p99_ms": {k: pct(v, 99) for k, v in parts.items()},
        "rows_per_mailbox": {
            "sessions": counts[0] / n,
            "mail_events": counts[1] / n,
            "sightings": counts[2] / n,
        },
    }


def _print_result(name: str, r: dict) -> None:
    d, ro = r["diagnose"], r["run_only"]
    ok = "yes" if d["p99"] <= TARGET_MS else "NO"
    print(
        f"\n{name}: run + track, ms  p50 {d['p50']:.2f}  p95 {d['p95']:.2f}  p99 {d['p99']:.2f}"
        f"  max {d['max']:.2f}  mean {d['mean']:.2f}   p99 <= {TARGET_MS:.0f} ms: {ok}"
    )
    print(
        f"  run only,    ms  p50 {ro['p50']:.2f}  p95 {ro['p95']:.2f}  p99 {ro['p99']:.2f}"
        f"  max {ro['max']:.2f}"
    )
    print(f"  incidents opened during the timed pass: {r['incidents_opened']}")
    print(
        "  breakdown (mean / p99 ms): "
        + ", ".join(
            f"{k} {r['breakdown_mean_ms'][k]:.2f}/{r['breakdown_p99_ms'][k]:.2f}"
            for k in r["breakdown_mean_ms"]
        )
    )
    rows = r["rows_per_mailbox"]
    print(f"  rows loaded per mailbox: {rows['sessions']:.1f} sessions, "
          f"{rows['mail_events']:.1f} mail events, {rows['sightings']:.1f} sightings")  # fmt: skip


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--mailboxes", type=int, default=1_000_000)
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file and PG database")
    ap.add_argument("--dir", type=Path, help="where the SQLite file goes (default: a temp dir)")
    ap.add_argument("--json", type=Path, help="write the results as JSON")
    args = ap.parse_args()

    logs.configure("warning", "json")  # as the CLI: incident transitions are info, not shown
    settings = Settings()
    now = time.time()
    tmp = None
    if args.dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="diagnosis-bench-"))
        args.dir = tmp
    builders: dict[str, object] = {}
    if args.backend in ("sqlite", "both"):
        builders["sqlite"] = SQLiteBuild(args.dir / "autoconf.sqlite3")
    if args.backend in ("postgres", "both"):
        builders["postgres"] = PostgresBuild()
    results: dict[str, object] = {"mailboxes": args.mailboxes, "samples": args.samples}
    try:
        print(f"building {args.mailboxes:,} mailboxes into {', '.join(builders)}", flush=True)
        t = time.perf_counter()
        await build(builders, args.mailboxes, now, args.seed)
        print(f"built in {time.perf_counter() - t:.0f}s", flush=True)
        sample = [
            mailbox_name(i)
            for i in random.Random(args.seed).sample(range(args.mailboxes), args.samples)
        ]
        for name, b in builders.items():
            r = await measure(b.store(), settings, sample, now)
            results[name] = r
            _print_result(name, r)
    finally:
        if args.keep:
            for name, b in builders.items():
                where = b.path if name == "sqlite" else b.dsn
                print(f"kept {name}: {where}")
        else:
            if "postgres" in builders:
                await builders["postgres"].drop()
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

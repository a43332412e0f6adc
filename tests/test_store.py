"""The same store tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from autoconf.errors import StoreError
from autoconf.events.sessions import MailRecord, Session
from autoconf.sightings import ClientKind, Endpoint, Sighting
from autoconf.store.base import Checkpoint
from autoconf.store.migrate import migrations
from autoconf.store.postgres import PostgresStore
from autoconf.store.sqlite import SQLiteStore

pytest_plugins = ["tests.servers.postgres"]


def sighting(n: int, mailbox: str | None = "alice@example.com") -> Sighting:
    """The n-th sighting, one second after the previous one."""
    return Sighting(
        domain="example.com",
        mailbox=mailbox,
        client=ClientKind.THUNDERBIRD,
        endpoint=Endpoint.AUTOCONFIG,
        ip="203.0.113.7",
        user_agent=f"Thunderbird/{n}",
        first_seen=1_800_000_000.0 + n - 0.5,
        last_seen=1_800_000_000.0 + n,
        requests=n + 1,
    )


async def test_migrations_applied(store):
    """A new store is at the latest migration of its dialect."""
    dialect = "sqlite" if isinstance(store, SQLiteStore) else "postgres"
    assert await store.schema_version() == len(migrations(dialect))


async def test_reopen_does_not_migrate_twice(store, tmp_path):
    """Opening an existing store again keeps its data and version."""
    await store.add_sightings([sighting(1)])
    version = await store.schema_version()
    await store.close()
    await store.open()
    assert await store.schema_version() == version
    assert len(await store.sightings(mailbox="alice@example.com")) == 1


async def test_sightings_round_trip(store):
    """What is written comes back, newest first, by mailbox or by domain."""
    await store.add_sightings([sighting(n) for n in range(5)] + [sighting(9, mailbox=None)])
    rows = await store.sightings(mailbox="alice@example.com")
    assert [r.user_agent for r in rows] == [f"Thunderbird/{n}" for n in (4, 3, 2, 1, 0)]
    assert rows[0] == sighting(4)
    assert len(await store.sightings(domain="example.com")) == 6
    assert len(await store.sightings(mailbox="alice@example.com", limit=2)) == 2
    assert await store.sightings(mailbox="bob@example.com") == []


async def test_concurrent_batches(store):
    """Batches written at the same time are all kept."""
    await asyncio.gather(
        *(store.add_sightings([sighting(b * 100 + i) for i in range(50)]) for b in range(8))
    )
    assert len(await store.sightings(domain="example.com", limit=1000)) == 400


async def test_ping(store):
    """An open store answers ping."""
    await store.ping()


async def test_service_on_postgres(service, postgres_dsn):
    """The service records sightings in PostgreSQL when database_url is set."""
    client = await service(database_url=postgres_dsn)
    from autoconf.web.keys import STORE  # noqa: PLC0415

    assert isinstance(client.app[STORE], PostgresStore)
    await client.get("/mail/config-v1.1.xml?emailaddress=alice@example.com")
    for _ in range(100):
        if await client.app[STORE].sightings(mailbox="alice@example.com"):
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("no sighting reached PostgreSQL")


def _session(key: str, **fields: object) -> Session:
    return Session(key=key, **fields)  # type: ignore[arg-type]


async def test_session_patches_merge(store):
    """Login, ID and logout patches of one session merge into one row, in any order."""
    login = _session("s1", mailbox="alice@example.com", protocol="pop3", rip="203.0.113.7",
                     lport=995, tls=True, started_at=100.0)  # fmt: skip
    logout = _session("s1", mailbox="alice@example.com", protocol="pop3", ended_at=160.0,
                      retrieved=4, deleted=4, messages=4, uidl=True)  # fmt: skip
    await store.apply([logout], [])
    await store.apply([login, login], [])
    (row,) = await store.sessions("alice@example.com")
    assert (row.rip, row.lport, row.tls, row.started_at, row.ended_at) == (
        "203.0.113.7", 995, True, 100.0, 160.0,
    )  # fmt: skip
    assert (row.retrieved, row.deleted, row.messages, row.uidl) == (4, 4, 4, True)


async def test_apply_with_checkpoint_is_one_transaction(store):
    """The checkpoint is written with the data; a failing batch writes neither."""
    mail = MailRecord(session="s1", mailbox="alice@example.com", at=120.0, service="pop3",
                      action="expunge", box="INBOX", uid=7, msgid="<m@x>", size=10)  # fmt: skip
    await store.apply([_session("s1", mailbox="alice@example.com")], [mail],
                      Checkpoint("/var/log/mail.log", 42, 1000))  # fmt: skip
    assert await store.checkpoint("/var/log/mail.log") == Checkpoint("/var/log/mail.log", 42, 1000)
    assert await store.checkpoint("/other.log") is None
    broken = MailRecord(session="s2", mailbox=None, at=1.0, service="x", action="save")  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await store.apply([_session("s2", mailbox="bob@example.com")], [broken],
                          Checkpoint("/var/log/mail.log", 42, 2000))  # fmt: skip
    assert await store.checkpoint("/var/log/mail.log") == Checkpoint("/var/log/mail.log", 42, 1000)
    assert await store.sessions("bob@example.com") == []
    assert [m.msgid for m in await store.mail_events("alice@example.com")] == ["<m@x>"]


async def test_purge(store):
    """Retention removes what ended before the cut and keeps the rest."""
    await store.apply(
        [_session("old", mailbox="a@example.com", started_at=10.0, ended_at=20.0),
         _session("new", mailbox="a@example.com", started_at=5000.0)],
        [MailRecord(session="old", mailbox="a@example.com", at=15.0, service="imap",
                    action="expunge")],
    )  # fmt: skip
    await store.add_sightings([sighting(1)])
    assert await store.purge(1000.0) == 2
    assert [s.key for s in await store.sessions("a@example.com")] == ["new"]
    assert await store.mail_events("a@example.com") == []


async def test_counters_never_shrink(store):
    """A late patch with a smaller count (a restarted receiver) cannot undo a larger one."""
    await store.apply([_session("s9", mailbox="c@example.com", protocol="pop3", deleted=5)], [])
    await store.apply([_session("s9", mailbox="c@example.com", deleted=2, retrieved=3)], [])
    (row,) = await store.sessions("c@example.com")
    assert (row.deleted, row.retrieved) == (5, 3)


async def test_cancelled_write_leaves_no_transaction_open(sqlite_store):
    """A write cancelled mid-transaction (shutdown) is rolled back; the next write works."""
    batch = [sighting(n) for n in range(5000)]
    for _ in range(20):  # cancel at different points of the transaction
        task = asyncio.create_task(sqlite_store.add_sightings(batch))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await sqlite_store.add_sightings([sighting(1, mailbox="after@example.com")])
    kept = await sqlite_store.sightings(mailbox="after@example.com", limit=100)
    assert len(kept) == 20
    # a cancelled batch is all or nothing
    assert len(await sqlite_store.sightings(mailbox="alice@example.com", limit=10**6)) % 5000 == 0

"""A fresh PostgreSQL database per test, on the server this machine runs; open stores.

The admin DSN comes from AUTOCONF_TEST_POSTGRES_DSN, else the local socket as the current
user (scripts/install makes sure a server runs and that this role may create databases).
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

import asyncpg
import pytest

from autoconf.store.postgres import PostgresStore
from autoconf.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from autoconf.store.base import Store

ADMIN_DSN = os.environ.get(
    "AUTOCONF_TEST_POSTGRES_DSN", "postgresql:///postgres?host=/var/run/postgresql"
)


def _with_database(dsn: str, name: str) -> str:
    base, _, query = dsn.partition("?")
    base = base.rsplit("/", 1)[0] + "/" + name
    return f"{base}?{query}" if query else base


@pytest.fixture
async def postgres_dsn() -> AsyncIterator[str]:
    """Create an empty database, yield its DSN, drop it afterwards."""
    try:
        admin = await asyncpg.connect(ADMIN_DSN)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_DSN} ({exc}); run scripts/install, or set "
            "AUTOCONF_TEST_POSTGRES_DSN to a server where this user may create databases"
        )
    name = f"autoconf_test_{secrets.token_hex(6)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(ADMIN_DSN, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[Store]:
    """An open, migrated, empty SQLite store."""
    store = SQLiteStore(tmp_path / "data" / "autoconf.sqlite3")
    await store.open()
    yield store
    await store.close()


@pytest.fixture
async def postgres_store(postgres_dsn: str) -> AsyncIterator[Store]:
    """An open, migrated, empty PostgreSQL store in a database of its own."""
    store = PostgresStore(postgres_dsn)
    await store.open()
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Store:
    """Each kind of store in turn (the same tests run on both)."""
    value: Store = request.getfixturevalue(f"{request.param}_store")
    return value

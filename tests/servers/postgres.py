"""A fresh PostgreSQL database per test, on the server this machine runs.

The admin DSN comes from AUTOCONF_TEST_POSTGRES_DSN, else the local socket as the current
user (scripts/install makes sure a server runs and that this role may create databases).
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

import asyncpg
import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

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

"""Persistence: the Store interface, SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autoconf.config import Settings
    from autoconf.store.base import Store


def make_store(settings: Settings) -> Store:
    """PostgreSQL when ``database_url`` is set, else SQLite in the data directory."""
    if settings.database_url:
        from autoconf.store.postgres import PostgresStore  # noqa: PLC0415 - optional backend

        return PostgresStore(settings.database_url)
    from autoconf.store.sqlite import SQLiteStore  # noqa: PLC0415

    return SQLiteStore(settings.sqlite_path)

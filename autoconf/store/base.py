"""The Store interface every backend implements; only store/ knows SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from autoconf.sightings import Sighting


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

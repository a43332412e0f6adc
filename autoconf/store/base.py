"""The Store interface every backend implements; only store/ knows SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

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

"""Sightings: who asked for setup, with which client, from where, and when.

Recording is off the request's critical path: a bounded in-memory buffer that a background
task writes to the store in batches. When the buffer is full new sightings are dropped and
counted, never blocking a client.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from collections.abc import Callable

    from autoconf.store.base import Store

log = structlog.get_logger("autoconf.sightings")
MAX_USER_AGENT = 256


class ClientKind(StrEnum):
    """Mail client families told apart by User-Agent and endpoint."""

    THUNDERBIRD = "thunderbird"
    OUTLOOK = "outlook"
    APPLE = "apple"
    K9 = "k9"
    OTHER = "other"


class Endpoint(StrEnum):
    """The setup endpoints, as bounded metric and sighting labels."""

    AUTOCONFIG = "autoconfig"
    WELL_KNOWN = "well-known"
    ISPDB = "ispdb"
    AUTODISCOVER = "autodiscover"
    AUTODISCOVER_JSON = "autodiscover-json"
    MOBILECONFIG = "mobileconfig"


_UA_RULES: tuple[tuple[str, ClientKind], ...] = (
    ("thunderbird", ClientKind.THUNDERBIRD),
    ("k-9", ClientKind.K9),
    ("k9mail", ClientKind.K9),
    ("outlook", ClientKind.OUTLOOK),
    ("microsoft office", ClientKind.OUTLOOK),
    ("ms-office", ClientKind.OUTLOOK),
    ("iphone", ClientKind.APPLE),
    ("ipad", ClientKind.APPLE),
    ("macintosh", ClientKind.APPLE),
    ("darwin", ClientKind.APPLE),
    ("cfnetwork", ClientKind.APPLE),
)


def classify(user_agent: str, endpoint: Endpoint) -> ClientKind:
    """The client family: the User-Agent decides, else what the endpoint implies."""
    ua = user_agent.lower()
    for needle, kind in _UA_RULES:
        if needle in ua:
            return kind
    if endpoint is Endpoint.AUTODISCOVER or endpoint is Endpoint.AUTODISCOVER_JSON:
        return ClientKind.OUTLOOK
    if endpoint is Endpoint.MOBILECONFIG:
        return ClientKind.APPLE
    return ClientKind.OTHER


@dataclass(frozen=True, slots=True)
class Sighting:
    """One setup request: the mailbox (or just the domain), client, source and time."""

    seen_at: float
    domain: str
    mailbox: str | None
    client: ClientKind
    endpoint: Endpoint
    ip: str
    user_agent: str


class SightingBuffer:
    """Bounded buffer written to the store in batches by one background task."""

    def __init__(
        self,
        store: Store,
        *,
        capacity: int,
        batch: int,
        interval: float,
        on_drop: Callable[[int], None] = lambda _n: None,
        on_flush: Callable[[int], None] = lambda _n: None,
    ) -> None:
        self._store = store
        self._capacity = capacity
        self._batch = batch
        self._interval = interval
        self._on_drop = on_drop
        self._on_flush = on_flush
        self._pending: list[Sighting] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        self.written = 0

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, sighting: Sighting) -> None:
        """Queue a sighting; never blocks, drops (and counts) when the buffer is full."""
        if len(self._pending) >= self._capacity:
            self.dropped += 1
            self._on_drop(1)
            return
        self._pending.append(sighting)
        if len(self._pending) >= self._batch:
            self._wake.set()

    def start(self) -> None:
        """Start the background writer."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="sightings")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write everything pending; on a store error keep the rows for the next try."""
        while self._pending:
            rows = self._pending[: self._batch]
            try:
                await self._store.add_sightings(rows)
            except Exception:
                log.warning("sightings.write_failed", pending=len(self._pending), exc_info=True)
                return
            del self._pending[: len(rows)]
            self.written += len(rows)
            self._on_flush(len(rows))

    async def stop(self) -> None:
        """Stop the writer and flush what is left (service shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

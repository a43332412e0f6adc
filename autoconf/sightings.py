"""Sightings: who asked for setup, with which client, from where, and when.

Recording is off the request's critical path: a bounded in-memory buffer that a background
task writes to the store in batches. When the buffer is full new sightings are dropped and
counted, never blocking a client.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
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


@functools.lru_cache(maxsize=4096)
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
    """Setup requests of one client for one mailbox (or domain) from one address.

    Identical requests within one flush window become one row with their number, first and
    last time: a busy client costs one row a second, not one per request, and nothing is lost.
    """

    domain: str
    mailbox: str | None
    client: ClientKind
    endpoint: Endpoint
    ip: str
    user_agent: str
    first_seen: float
    last_seen: float
    requests: int = 1


_Key = tuple[str, "str | None", ClientKind, Endpoint, str, str]


class SightingBuffer:
    """Bounded buffer of distinct sightings, written to the store by one background task."""

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
        self._pending: dict[_Key, list[float]] = {}  # key -> [first, last, requests]
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()
        self.dropped = 0
        self.written = 0

    def __len__(self) -> int:
        return len(self._pending)

    def add(  # noqa: PLR0917 - one request's fields, passed without building an object
        self,
        domain: str,
        mailbox: str | None,
        client: ClientKind,
        endpoint: Endpoint,
        ip: str,
        user_agent: str,
        now: float,
    ) -> None:
        """Count one request; never blocks, drops (and counts) when the buffer is full."""
        key = (domain, mailbox, client, endpoint, ip, user_agent)
        entry = self._pending.get(key)
        if entry is not None:
            entry[1] = now
            entry[2] += 1
            return
        if len(self._pending) >= self._capacity:
            self.dropped += 1
            self._on_drop(1)
            return
        self._pending[key] = [now, now, 1]
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
        async with self._flushing:
            taken, self._pending = self._pending, {}
            rows = [
                Sighting(*key, first_seen=v[0], last_seen=v[1], requests=int(v[2]))
                for key, v in taken.items()
            ]
            for start in range(0, len(rows), self._batch):
                chunk = rows[start : start + self._batch]
                try:
                    await self._store.add_sightings(chunk)
                except Exception:
                    log.warning("sightings.write_failed", pending=len(rows) - start, exc_info=True)
                    self._put_back(rows[start:])
                    return
                done = sum(r.requests for r in chunk)
                self.written += done
                self._on_flush(done)

    def _put_back(self, rows: list[Sighting]) -> None:
        """Merge unwritten rows with what arrived meanwhile (over capacity is fine: no loss)."""
        for r in rows:
            key = (r.domain, r.mailbox, r.client, r.endpoint, r.ip, r.user_agent)
            entry = self._pending.get(key)
            if entry is None:
                self._pending[key] = [r.first_seen, r.last_seen, r.requests]
            else:
                entry[0] = min(entry[0], r.first_seen)
                entry[2] += r.requests

    async def stop(self) -> None:
        """Stop the writer and flush what is left (service shutdown).

        The writer is cancelled only between flushes (under the flush lock): cancelled in
        the middle of one, the rows it had taken would be neither written nor put back,
        and the store's transaction would be left open.
        """
        if self._task is not None:
            async with self._flushing:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

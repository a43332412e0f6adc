"""Probe snapshots in both stores: saved, replaced, read back byte for byte."""

from __future__ import annotations

import pytest

from autoconf.probe.snapshot import Snapshot

pytest_plugins = ["tests.servers.postgres"]


def snapshot(count: int, uidvalidity: int = 1700000000) -> Snapshot:
    """A snapshot of ``count`` messages."""
    uids = {n: f"<m{n}@example.org>" for n in range(1, count + 1)}
    return Snapshot(uidvalidity, count + 1, count * 3, count, uids, taken_at=1_800_000_000.0)


async def test_no_snapshot_yet(store):
    """A mailbox never probed has no snapshot."""
    assert await store.load_snapshot("alice@example.com") is None


async def test_save_and_load(store):
    """The bytes come back unchanged and parse to the same snapshot."""
    data = snapshot(3).to_bytes()
    await store.save_snapshot("alice@example.com", data)
    assert await store.load_snapshot("alice@example.com") == data
    assert Snapshot.from_bytes(data) == snapshot(3)
    assert await store.load_snapshot("bob@example.com") is None


async def test_save_replaces_the_last_one(store):
    """Only the last snapshot of a mailbox is kept."""
    await store.save_snapshot("alice@example.com", snapshot(3).to_bytes())
    await store.save_snapshot("alice@example.com", snapshot(5).to_bytes())
    await store.save_snapshot("bob@example.com", snapshot(1).to_bytes())
    loaded = await store.load_snapshot("alice@example.com")
    assert loaded is not None
    assert Snapshot.from_bytes(loaded).messages == 5


async def test_large_snapshot(store):
    """A 50,000-message snapshot (the default cap) round-trips."""
    data = snapshot(50_000).to_bytes()
    await store.save_snapshot("big@example.com", data)
    assert await store.load_snapshot("big@example.com") == data


def test_unreadable_snapshot_bytes():
    """Bytes that are not a snapshot raise ValueError."""
    for raw in (b"", b"{}", b'{"format": 99}', b"\xff"):
        with pytest.raises(ValueError, match="snapshot"):
            Snapshot.from_bytes(raw)

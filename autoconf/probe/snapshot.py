"""INBOX snapshots and what changed between two: gone, moved, new, UIDVALIDITY resets.

A snapshot holds UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, the message count and the map
UID -> Message-ID of the newest ``max_messages`` messages (``capped`` says when older ones
were left out). Re-probes are incremental: with QRESYNC, ``EXAMINE INBOX (QRESYNC (v m))``
reports the expunged UIDs as ``VANISHED (EARLIER)``; without it, a UID SEARCH over the
known range shows which are missing. Only new UIDs are fetched. Vanished messages are
looked up by Message-ID in the other folders: found there is *moved*, else *gone*.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autoconf.probe.errors import DialogError
from autoconf.probe.imap import Folder, ImapClient, format_uid_set, quote

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractAsyncContextManager

    Step = Callable[[str], AbstractAsyncContextManager[None]]

FORMAT = 1
SEARCH_BATCH = 50  # Message-IDs per UID SEARCH in another folder
MAX_FOLDERS = 100  # folders searched for moved messages
_FIRST_FOLDERS = ("\\trash", "\\archive", "\\all", "\\junk")


@dataclass(slots=True)
class Snapshot:
    """The INBOX as one probe saw it."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None
    messages: int
    uids: dict[int, str]
    capped: bool = False
    taken_at: float = field(default_factory=time.time)

    def to_bytes(self) -> bytes:
        """Compact JSON: UIDs and Message-IDs as two parallel lists."""
        ordered = sorted(self.uids)
        data = {
            "format": FORMAT,
            "uidvalidity": self.uidvalidity,
            "uidnext": self.uidnext,
            "highestmodseq": self.highestmodseq,
            "messages": self.messages,
            "capped": self.capped,
            "taken_at": self.taken_at,
            "uids": ordered,
            "ids": [self.uids[u] for u in ordered],
        }
        return json.dumps(data, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Snapshot:
        """Parse ``to_bytes`` output; ValueError when it is not one."""
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"not a snapshot: {exc}") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a snapshot of a known format")
        try:
            uids = dict(zip(data["uids"], data["ids"], strict=True))
            return cls(
                int(data["uidvalidity"]),
                int(data["uidnext"]),
                None if data["highestmodseq"] is None else int(data["highestmodseq"]),
                int(data["messages"]),
                {int(k): str(v) for k, v in uids.items()},
                bool(data["capped"]),
                float(data["taken_at"]),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"not a snapshot: {exc}") from exc


@dataclass(slots=True)
class Changes:
    """What happened to the INBOX since the previous snapshot."""

    method: str  # first | unchanged | qresync | uid-range | uidvalidity-changed
    previous_at: float | None = None
    uidvalidity_changed: tuple[int, int] | None = None
    vanished: list[tuple[int, str]] = field(default_factory=list)
    vanished_unseen: list[int] = field(default_factory=list)
    new: int = 0
    gone: list[tuple[int, str]] = field(default_factory=list)
    moved: list[tuple[int, str, str]] = field(default_factory=list)
    folders_searched: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: gone and moved with uid and message_id (and folder)."""
        return {
            "method": self.method,
            "previous_at": self.previous_at,
            "uidvalidity_changed": None
            if self.uidvalidity_changed is None
            else {"old": self.uidvalidity_changed[0], "new": self.uidvalidity_changed[1]},
            "new": self.new,
            "gone": [{"uid": u, "message_id": m or None} for u, m in self.gone],
            "moved": [{"uid": u, "message_id": m, "folder": f} for u, m, f in self.moved],
            "vanished_unseen": self.vanished_unseen,
            "folders_searched": self.folders_searched,
        }


def keep_newest(uids: dict[int, str], limit: int) -> tuple[dict[int, str], bool]:
    """The map cut to its ``limit`` highest UIDs, and whether anything was cut."""
    if len(uids) <= limit:
        return uids, False
    keep = sorted(uids)[-limit:]
    return {u: uids[u] for u in keep}, True


async def take(
    client: ImapClient,
    previous: Snapshot | None,
    step: Step,
    max_messages: int,
) -> tuple[Snapshot, Changes]:
    """Snapshot the INBOX (incrementally when ``previous`` fits) and what vanished since."""
    qresync = False
    if "QRESYNC" in client.capabilities:
        async with step("enable"):
            qresync = "QRESYNC" in await client.enable("QRESYNC")
    resync = None
    if qresync and previous is not None and previous.highestmodseq:
        resync = (previous.uidvalidity, previous.highestmodseq)
    async with step("examine"):
        box = await client.examine("INBOX", resync)
    if box.uidvalidity is None or box.uidnext is None or box.messages is None:
        raise DialogError("an EXAMINE INBOX reply without UIDVALIDITY, UIDNEXT or EXISTS")
    now = Snapshot(box.uidvalidity, box.uidnext, box.highestmodseq, box.messages, {})
    if previous is None or previous.uidvalidity != now.uidvalidity:
        async with step("fetch"):
            now.uids, now.capped = await _full(client, now.messages, max_messages)
        if previous is None:
            return now, Changes("first")
        return now, Changes(
            "uidvalidity-changed",
            previous.taken_at,
            uidvalidity_changed=(previous.uidvalidity, now.uidvalidity),
        )
    changes = await _incremental(client, previous, now, step, box.vanished if resync else None)
    now.uids, cut = keep_newest(now.uids, max_messages)
    now.capped = previous.capped or cut
    return now, changes


async def _incremental(
    client: ImapClient,
    previous: Snapshot,
    now: Snapshot,
    step: Step,
    reported: list[int] | None,
) -> Changes:
    """Fill ``now.uids`` from ``previous``: drop what vanished, fetch only the new UIDs.

    ``reported`` holds the server's VANISHED (EARLIER) UIDs under QRESYNC, else None.
    """
    now.uids = dict(previous.uids)
    changes = Changes("qresync" if reported is not None else "uid-range", previous.taken_at)
    unchanged = now.uidnext == previous.uidnext and now.messages == previous.messages
    if reported is not None:
        vanished = reported
    elif unchanged:
        vanished = []
    else:
        vanished = await _missing(client, now.uids, step)
    for uid in sorted(set(vanished)):
        if uid in now.uids:
            changes.vanished.append((uid, now.uids.pop(uid)))
        elif uid >= previous.uidnext:
            changes.vanished_unseen.append(uid)
    if now.uidnext > previous.uidnext:
        async with step("fetch"):
            fetched = await client.message_ids(b"%d:*" % previous.uidnext)
        fresh = {u: m for u, m in fetched.items() if u >= previous.uidnext}
        changes.new = len(fresh)
        now.uids.update(fresh)
    if reported is not None and not previous.capped and len(now.uids) != now.messages:
        # The server reported fewer expunges than happened: reconcile by UID range.
        for uid in await _missing(client, now.uids, step):
            changes.vanished.append((uid, now.uids.pop(uid)))
        changes.method = "qresync+uid-range"
    elif unchanged and not vanished:
        changes.method = "unchanged"
    return changes


async def _full(client: ImapClient, messages: int, limit: int) -> tuple[dict[int, str], bool]:
    if messages == 0:
        return {}, False
    if messages <= limit:
        return await client.message_ids(b"1:*"), False
    newest = await client.message_ids(b"%d:*" % (messages - limit + 1), by_uid=False)
    return newest, True


async def _missing(client: ImapClient, uids: dict[int, str], step: Step) -> list[int]:
    """UIDs of the map that are no longer in the INBOX (UID SEARCH over the map's range)."""
    if not uids:
        return []
    async with step("search"):
        present = set(await client.uid_search(b"UID %d:%d" % (min(uids), max(uids))))
    return [u for u in uids if u not in present]


def _order(folders: list[Folder]) -> list[Folder]:
    def rank(f: Folder) -> int:
        for i, flag in enumerate(_FIRST_FOLDERS):
            if flag in f.flags:
                return i
        return len(_FIRST_FOLDERS)

    usable = [f for f in folders if f.selectable and f.name.upper() != "INBOX"]
    return sorted(usable, key=rank)[:MAX_FOLDERS]


async def find_moved(client: ImapClient, changes: Changes, step: Step) -> None:
    """Sort ``changes.vanished`` into moved (found by Message-ID elsewhere) and gone."""
    wanted: dict[str, list[int]] = {}
    for uid, mid in changes.vanished:
        if mid and mid.isascii():
            wanted.setdefault(mid, []).append(uid)
    found: dict[str, str] = {}
    if wanted:
        async with step("list"):
            folders = _order(await client.list_folders())
        for folder in folders:
            if len(found) == len(wanted):
                break
            async with step("search"):
                await client.examine(folder.name)
                changes.folders_searched += 1
                await _search_folder(client, folder.name, wanted, found)
    for uid, mid in changes.vanished:
        if mid in found:
            changes.moved.append((uid, mid, found[mid]))
        else:
            changes.gone.append((uid, mid))


async def _search_folder(
    client: ImapClient, folder: str, wanted: dict[str, list[int]], found: dict[str, str]
) -> None:
    todo = [m for m in wanted if m not in found]
    for start in range(0, len(todo), SEARCH_BATCH):
        batch = todo[start : start + SEARCH_BATCH]
        criteria = b"OR " * (len(batch) - 1) + b" ".join(
            b"HEADER Message-ID " + quote(m) for m in batch
        )
        hits = await client.uid_search(criteria)
        if not hits:
            continue
        for mid in (await client.message_ids(format_uid_set(hits).encode())).values():
            if mid in wanted and mid not in found:
                found[mid] = folder

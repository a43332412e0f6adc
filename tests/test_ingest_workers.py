"""Ingest with worker processes: the same store as one process, on SQLite and PostgreSQL.

The workers fold pieces of the log in parallel; the ingest writes them in order. These
tests hold that to the store and summary of an ingest that folds everything itself, across
a year boundary of syslog-style stamps (guessed, checked, and folded again when the guess
was wrong), and when a worker dies.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from structlog.testing import capture_logs

from autoconf.errors import AutoconfError
from autoconf.events import follow
from autoconf.events.follow import Ingest, Options
from autoconf.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from autoconf.events.sessions import MailRow, Row
    from autoconf.store.base import Store

pytest_plugins = ["tests.servers.postgres"]

DATA = Path(__file__).parent / "data" / "dovecot"
DOMAIN = "example.com"


def mixed_log(path: Path, copies: int) -> None:
    """The reference logs repeated with fresh session ids, a few copies syslog-stamped."""
    texts = [log.read_text() for log in sorted(DATA.glob("*.log"))]
    with path.open("w") as out:
        for n in range(copies):
            text = texts[n % len(texts)]
            for sid in sorted(set(re.findall(r"<([A-Za-z0-9+/]{16})>", text))):
                text = text.replace(f"<{sid}>", f"<{sid[:10]}{n:06d}>")
            text = text.replace("alice", f"user{n % 13}")
            if n % 5 == 4:  # Dovecot's stock stamp instead of log_timestamp
                text = re.sub(
                    r"^2026-11-29 (\d\d:\d\d:\d\d)\.\d+", r"Nov 29 \1", text, flags=re.MULTILINE
                )
            out.write(text)
        out.write("2026-11-29 01:40:00.000000 imap(zo\ufffd)<1><sxyz>: Info: x\n")  # binary


def year_boundary_log(path: Path) -> None:
    """Syslog-style stamps from Dec 30 to Jan 2, a Dovecot-stamped line between each."""
    lines = []
    for n, stamp in enumerate(
        [f"Dec 30 23:{m:02d}:00" for m in range(30)]
        + [f"Dec 31 23:59:{s:02d}" for s in range(30)]
        + [f"Jan  1 00:00:{s:02d}" for s in range(30)]
        + [f"Jan  2 08:{m:02d}:00" for m in range(30)]
    ):
        lines.append(
            f"{stamp} pop3-login: Info: Login: user=<u{n % 7}>, method=PLAIN, rip=192.0.2.{n % 9},"
            f" lip=192.0.2.1, mpid={n}, session=<sess{n:012d}>"
        )
        lines.append(
            f"2026-12-31 12:00:{n % 60:02d}.000000 lmtp(u{n % 7})<6898><lmtp{n:08d}:T1>: Info: "
            f"msgid=<m{n}@example.net>: saved mail to INBOX"
        )
    path.write_text("\n".join(lines) + "\n")


async def run(store: Store, log: Path, workers: int, batch_lines: int) -> Ingest:
    """One ingest of ``log`` into ``store``."""
    options = Options(year=2026, zone=UTC, default_domain=DOMAIN, batch_lines=batch_lines,
                      workers=workers)  # fmt: skip
    ingest = Ingest(store, options)
    await ingest.file(log)
    return ingest


async def content(store: Store) -> list[tuple[str, list[object], list[object]]]:
    """Every mailbox with its sessions and mail events as the store gives them back.

    Sorted: copies of one log have equal times, which each backend orders its own way.
    """
    return [
        (
            mailbox,
            sorted(await store.sessions(mailbox, limit=100_000), key=repr),
            sorted(await store.mail_events(mailbox, limit=100_000), key=repr),
        )
        for mailbox in await store.mailboxes("", limit=10_000)
    ]


async def one_process(tmp_path: Path, log: Path) -> tuple[list[object], dict[str, object]]:
    """The store and summary that an ingest folding everything itself gives."""
    store = SQLiteStore(tmp_path / "one-process.db")
    await store.open()
    try:
        done = await run(store, log, 0, 20_000)
        return await content(store), done.summary.as_dict()
    finally:
        await store.close()


@pytest.mark.parametrize("batch_lines", [37, 5000])
async def test_workers_write_what_one_process_writes(
    tmp_path: Path, store: Store, batch_lines: int
) -> None:
    """Two workers, small or large pieces, SQLite or PostgreSQL: the same rows and counts."""
    log = tmp_path / "mixed.log"
    mixed_log(log, 60)  # 25,000 lines, one in five copies with the stock stamp
    expected, summary = await one_process(tmp_path, log)
    done = await run(store, log, 2, batch_lines)
    assert await content(store) == expected
    assert done.summary.as_dict() == summary
    assert summary["skipped"]["binary"] == 1  # type: ignore[index]
    assert summary["sessions"] > 1000  # type: ignore[operator]


async def test_a_year_boundary_in_syslog_stamps(tmp_path: Path, store: Store) -> None:
    """Dec 31 to Jan 1 in year-less stamps: the workers' sessions fall in the same years."""
    log = tmp_path / "new-year.log"
    year_boundary_log(log)
    expected, summary = await one_process(tmp_path, log)
    done = await run(store, log, 2, 9)
    assert await content(store) == expected
    assert done.summary.as_dict() == summary
    starts = sorted(s.started_at for _, sessions, _ in expected for s in sessions)  # type: ignore[attr-defined]
    assert starts[0] < 1798761600 <= starts[-1]  # 2027-01-01 00:00 UTC lies between


async def test_a_wrong_guess_of_the_year_is_folded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each piece folded from a wrong year is folded again from the right one, here."""
    log = tmp_path / "new-year.log"
    year_boundary_log(log)
    expected, summary = await one_process(tmp_path, log)
    monkeypatch.setattr(follow, "predict_year", lambda state, _data: (state[0] - 1, state[1]))
    store = SQLiteStore(tmp_path / "refolded.db")
    await store.open()
    try:
        with capture_logs() as logs:
            done = await run(store, log, 2, 9)
        assert await content(store) == expected
    finally:
        await store.close()
    assert done.summary.as_dict() == summary
    refolded = [entry for entry in logs if entry["event"] == "ingest.refold"]
    assert len(refolded) >= 20


async def test_a_worker_that_dies_stops_the_ingest_with_a_sentence(tmp_path: Path) -> None:
    """A worker killed mid-file: the ingest stops saying so; a restart finishes the file."""
    log = tmp_path / "mixed.log"
    mixed_log(log, 120)
    expected, _ = await one_process(tmp_path, log)
    store = SQLiteStore(tmp_path / "killed.db")
    await store.open()
    try:
        options = Options(year=2026, zone=UTC, default_domain=DOMAIN, batch_lines=200, workers=2)
        ingest = Ingest(store, options)

        def kill_a_worker(_sessions: list[Row], _mail: list[MailRow]) -> None:
            workers = ingest._workers
            assert workers is not None
            workers._procs[1].kill()
            ingest.on_commit = None

        ingest.on_commit = kill_a_worker
        with pytest.raises(AutoconfError, match=r"An ingest worker \(pid \d+\) stopped with exit"):
            await ingest.file(log)
        assert ingest._workers is None
        written = await content(store)
        assert 0 < sum(len(m) for _, _, m in written) < sum(len(m) for _, _, m in expected)
        await run(store, log, 2, 200)
        assert await content(store) == expected
    finally:
        await store.close()


def test_workers_is_a_number_of_processes(tmp_path: Path) -> None:
    """--workers takes 0 to 64; anything else is one sentence and exit 2."""
    done = subprocess.run(
        [sys.executable, "-m", "autoconf", "ingest", str(DATA / "pop-delete.log"),
         "--workers", "many"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"AUTOCONF_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "'many' is not a number of processes (0-64)" in done.stderr


async def test_workers_end_with_the_ingest(tmp_path: Path) -> None:
    """No worker process outlives its ingest."""
    log = tmp_path / "mixed.log"
    mixed_log(log, 10)
    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    try:
        options = Options(year=2026, zone=UTC, default_domain=DOMAIN, batch_lines=50, workers=3)
        ingest = Ingest(store, options)
        pids: list[int] = []

        def note(_sessions: list[Row], _mail: list[MailRow]) -> None:
            if not pids and ingest._workers is not None:
                pids.extend(p.pid for p in ingest._workers._procs)

        ingest.on_commit = note
        await ingest.file(log)
    finally:
        await store.close()
    assert len(pids) == 3
    await asyncio.sleep(0)
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()

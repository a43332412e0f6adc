"""Ingest of Dovecot logs: checkpoints, rotation, standard input, and kill -9 mid-file."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC
from pathlib import Path

import pytest

from autoconf.events.dovecot_log import Parser
from autoconf.events.follow import Ingest, Options
from autoconf.events.sessions import MailRecord, Session, absorb, fold, patch_for
from autoconf.store.base import mail_row, session_row
from autoconf.store.sqlite import SQLiteStore

DATA = Path(__file__).parent / "data" / "dovecot"
POP_DELETE = DATA / "pop-delete.log"
YEAR = "2026"


def cli(*args: str, data_dir: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """`autoconf ARGS` with its store in ``data_dir`` and example.com as default domain."""
    env = {
        **os.environ,
        "AUTOCONF_DATA_DIR": str(data_dir),
        "AUTOCONF_DEFAULT_DOMAIN": "example.com",
        "AUTOCONF_LOG_FORMAT": "json",
    }
    return subprocess.run(
        [sys.executable, "-m", "autoconf", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


def snapshot(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every session row and every mail event (without row ids), sorted: a store's content."""
    with sqlite3.connect(db) as conn:
        sessions = sorted(conn.execute("SELECT * FROM sessions").fetchall(), key=repr)
        mail = sorted(
            conn.execute(
                "SELECT session, mailbox, at, service, action, box, uid, msgid, size"
                " FROM mail_events"
            ).fetchall(),
            key=repr,
        )
    return sessions, mail


def options(workers: int = 0) -> Options:
    """Ingest options as the CLI builds them, small batches to cross many boundaries."""
    return Options(
        year=int(YEAR), zone=UTC, default_domain="example.com", batch_lines=7, workers=workers
    )


async def ingest(path: Path, db: Path, workers: int = 0, **kwargs: object) -> dict[str, object]:
    """Run one Ingest.file over ``path`` into the SQLite store at ``db``."""
    store = SQLiteStore(db)
    await store.open()
    try:
        run = Ingest(store, options(workers))
        return (await run.file(path, **kwargs)).as_dict()  # type: ignore[arg-type]
    finally:
        await store.close()


# Folding in this process, and in two worker processes (pieces of 7 lines handed out in
# turn): every test of reading, following and restarting runs both ways.
WORKERS = pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-workers"])


def test_cli_ingest_and_devices(tmp_path):
    """`autoconf ingest` reads the log; `autoconf devices` shows each client as its own device."""
    done = cli("ingest", str(POP_DELETE), "--year", YEAR, "--json", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["lines"] == 161
    assert summary["events"] == 99
    assert summary["skipped"] == {"ignored": 6, "json": 56}
    shown = cli("devices", "alice@example.com", "--json", data_dir=tmp_path)
    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    deleters = sorted(
        (d["network"], d["pop3_commands"])
        for d in found
        if d["behaviour"] == "deletes after download"
    )
    assert deleters == [
        ("127.0.0.1", ["DELE", "RETR", "UIDL"]),  # getmail
        ("127.0.0.1", ["DELE", "TOP", "UIDL"]),  # fetchmail
        ("127.0.0.3", ["DELE", "RETR", "UIDL"]),  # mpop, over POP3S
    ]
    assert all(d["deleted"] == 5 for d in found if d["behaviour"] == "deletes after download")
    iphone = [d for d in found if d["client"].startswith("iPhone Mail")]
    assert len(iphone) == 1
    assert iphone[0]["family"] == "apple"
    text = cli("devices", "alice@example.com", data_dir=tmp_path).stdout
    assert "deletes after download (5 messages removed in 1 session)" in text


def test_second_run_reads_nothing_new(tmp_path):
    """A second ingest of the same file starts at its checkpoint and adds nothing."""
    first = cli("ingest", str(POP_DELETE), "--year", YEAR, "--json", data_dir=tmp_path)
    before = snapshot(tmp_path / "autoconf.sqlite3")
    again = cli("ingest", str(POP_DELETE), "--year", YEAR, "--json", data_dir=tmp_path)
    assert first.returncode == again.returncode == 0
    assert json.loads(again.stdout)["lines"] == 0
    assert snapshot(tmp_path / "autoconf.sqlite3") == before


def test_missing_file_is_a_sentence(tmp_path):
    """A path that is not a file: one sentence, exit 1."""
    done = cli("ingest", str(tmp_path / "nope.log"), data_dir=tmp_path)
    assert done.returncode == 1
    assert "is not a readable file" in done.stderr


def test_stdin_equals_file(tmp_path):
    """Standard input gives the same store as the file."""
    cli("ingest", str(POP_DELETE), "--year", YEAR, data_dir=tmp_path / "a")
    done = cli(
        "ingest", "-", "--year", YEAR, data_dir=tmp_path / "b", stdin=POP_DELETE.read_bytes()
    )
    assert done.returncode == 0, done.stderr
    assert snapshot(tmp_path / "a" / "autoconf.sqlite3") == snapshot(
        tmp_path / "b" / "autoconf.sqlite3"
    )


@pytest.mark.parametrize("workers", ["0", "2"], ids=["in-process", "2-workers"])
def test_a_live_stream_reaches_the_store_while_it_flows(tmp_path, workers):
    """`tail -f | autoconf ingest -`: lines are written while the stream stays open."""
    env = {
        **os.environ,
        "AUTOCONF_DATA_DIR": str(tmp_path),
        "AUTOCONF_DEFAULT_DOMAIN": "example.com",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoconf", "ingest", "-", "--year", YEAR, "--workers", workers],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdin is not None
    try:
        proc.stdin.write(POP_DELETE.read_bytes())
        proc.stdin.flush()
        db = tmp_path / "autoconf.sqlite3"
        deadline = time.monotonic() + 20
        while _mail_count(db) < 45:  # the 45 mail events of pop-delete.log, stream still open
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "nothing reached the store while streaming"
            time.sleep(0.05)
    finally:
        proc.stdin.close()
    assert proc.wait(timeout=30) == 0


@WORKERS
async def test_appended_in_pieces_equals_whole(tmp_path, workers):
    """A log written in pieces (a line cut in half at the end) ingests like the whole file."""
    whole = POP_DELETE.read_bytes()
    await ingest(POP_DELETE, tmp_path / "whole.db")
    growing = tmp_path / "growing.log"
    cut = whole.index(b"\n", len(whole) // 2) + 20  # mid-line
    growing.write_bytes(whole[:cut])
    first = await ingest(growing, tmp_path / "pieces.db", workers)
    with growing.open("ab") as f:
        f.write(whole[cut:])
    await ingest(growing, tmp_path / "pieces.db", workers)
    assert snapshot(tmp_path / "pieces.db") == snapshot(tmp_path / "whole.db")
    assert first["lines"] < 161


async def _follow(path: Path, db: Path, stop: asyncio.Event, workers: int) -> dict[str, object]:
    store = SQLiteStore(db)
    await store.open()
    try:
        opts = options(workers)
        opts.poll_seconds = 0.02
        return (await Ingest(store, opts).file(path, follow=True, stop=stop)).as_dict()
    finally:
        await store.close()


async def _settle(db: Path, expected: int) -> None:
    for _ in range(400):
        if db.exists():
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT count(*) FROM mail_events").fetchone()[0] >= expected:
                    return
        await asyncio.sleep(0.02)
    pytest.fail("the follower did not catch up")


@WORKERS
@pytest.mark.parametrize("rotation", ["rename", "copytruncate"])
async def test_follow_survives_rotation(tmp_path, rotation, workers):
    """Following a log across rotation (rename or copytruncate) misses and repeats nothing."""
    lines = POP_DELETE.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    await ingest(POP_DELETE, tmp_path / "whole.db")
    expected = len(snapshot(tmp_path / "whole.db")[1])
    log = tmp_path / "mail.log"
    log.write_bytes(b"".join(lines[:half]))
    stop = asyncio.Event()
    task = asyncio.create_task(_follow(log, tmp_path / "follow.db", stop, workers))
    await asyncio.sleep(0.2)
    if rotation == "rename":
        with log.open("ab") as f:
            f.write(b"".join(lines[half : half + 10]))
        log.rename(tmp_path / "mail.log.1")
        log.write_bytes(b"".join(lines[half + 10 :]))
    else:
        await asyncio.sleep(0.2)  # the follower has read the first half
        (tmp_path / "mail.log.1").write_bytes(log.read_bytes())
        with log.open("r+b") as f:
            f.truncate(0)
        await asyncio.sleep(0.1)
        with log.open("ab") as f:
            f.write(b"".join(lines[half:]))
    await _settle(tmp_path / "follow.db", expected)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert snapshot(tmp_path / "follow.db") == snapshot(tmp_path / "whole.db")


@WORKERS
async def test_rotated_while_stopped_is_finished_first(tmp_path, workers):
    """Rotated while ingest was not running: the rest of the old file is read, then the new."""
    lines = POP_DELETE.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    await ingest(POP_DELETE, tmp_path / "whole.db")
    log = tmp_path / "mail.log"
    log.write_bytes(b"".join(lines[:half]))
    await ingest(log, tmp_path / "stopped.db", workers)
    with log.open("ab") as f:
        f.write(b"".join(lines[half : half + 5]))
    log.rename(tmp_path / "mail.log.1")
    log.write_bytes(b"".join(lines[half + 5 :]))
    await ingest(log, tmp_path / "stopped.db", workers)
    assert snapshot(tmp_path / "stopped.db") == snapshot(tmp_path / "whole.db")


def _big_log(path: Path, copies: int) -> None:
    """The reference log repeated with fresh session ids per copy: many sessions, many lines."""
    text = POP_DELETE.read_text()
    sessions = sorted(set(re.findall(r"<([A-Za-z0-9+/]{16})>", text)))
    with path.open("w") as out:
        for n in range(copies):
            chunk = text
            for sid in sessions:
                chunk = chunk.replace(f"<{sid}>", f"<{sid[:10]}{n:06d}>")
            out.write(chunk)


def _mail_count(db: Path) -> int:
    """Mail events committed so far (0 before the store exists)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT count(*) FROM mail_events").fetchone()[0])
    except sqlite3.OperationalError:  # created but not yet migrated
        return 0


@pytest.mark.parametrize("workers", ["0", "2"], ids=["in-process", "2-workers"])
def test_kill_9_loses_and_doubles_nothing(tmp_path, workers):
    """kill -9 at random moments mid-file, then a restart: the store equals a clean run's."""
    log = tmp_path / "big.log"
    _big_log(log, 1500)  # 241,500 lines: a run takes a second or more, kills land mid-file
    clean = cli(
        "ingest", str(log), "--year", YEAR, "--batch-lines", "500", "--workers", "0",
        data_dir=tmp_path / "clean",
    )  # fmt: skip
    assert clean.returncode == 0, clean.stderr
    env = {
        **os.environ,
        "AUTOCONF_DATA_DIR": str(tmp_path / "killed"),
        "AUTOCONF_DEFAULT_DOMAIN": "example.com",
        "AUTOCONF_LOG_FORMAT": "json",
    }
    db = tmp_path / "killed" / "autoconf.sqlite3"
    kills = 0
    for delay in (0.05, 0.2, 0.35):
        before = _mail_count(db)
        proc = subprocess.Popen(
            [sys.executable, "-m", "autoconf", "ingest", str(log), "--year", YEAR,
             "--batch-lines", "500", "--workers", workers],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 30  # kill once this run has committed something
        while _mail_count(db) <= before and proc.poll() is None:
            assert time.monotonic() < deadline, "the ingest wrote nothing"
            time.sleep(0.01)
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1, "every run finished before the kill: make the log bigger"
    with sqlite3.connect(db) as conn:
        partial = conn.execute("SELECT count(*) FROM mail_events").fetchone()[0]
    final = cli(
        "ingest", str(log), "--year", YEAR, "--batch-lines", "500", "--workers", workers,
        data_dir=tmp_path / "killed",
    )  # fmt: skip
    assert final.returncode == 0, final.stderr
    clean_snapshot = snapshot(tmp_path / "clean" / "autoconf.sqlite3")
    assert 0 < partial < len(clean_snapshot[1])
    assert snapshot(db) == clean_snapshot


def test_fold_equals_patch_then_absorb():
    """Ingest's fold merges each event into its batch's rows as patch_for + absorb would."""
    events = []
    for log in sorted(DATA.glob("*.log")):
        parser = Parser(year=2026, default_domain="example.com")
        events += parser.parse(log.read_bytes().split(b"\n"))
    kinds = {type(e).__name__ for e in events}
    assert {"Login", "ClientId", "Pop3Logout", "ImapLogout", "MailEvent"} <= kinds
    # in order, reversed (logouts before logins: the start and counters rules) and twice
    for order in (events, events[::-1], events + events[: len(events) // 2]):
        folded: dict[str, list[object]] = {}
        folded_mail: list[tuple[object, ...]] = []
        new = [fold(e, UTC, folded, folded_mail) for e in order]
        patched: dict[str, Session] = {}
        patched_mail: list[MailRecord] = []
        for event in order:
            patch = patch_for(event, UTC)
            if isinstance(patch, Session):
                if patch.key in patched:
                    absorb(patched[patch.key], patch)
                else:
                    patched[patch.key] = patch
            elif patch is not None:
                patched_mail.append(patch)
        assert folded == {key: list(session_row(s)) for key, s in patched.items()}
        assert folded_mail == [mail_row(m) for m in patched_mail]
        assert [k for k in new if k is not None] == list(patched)  # each new key once


async def test_many_rows_per_statement_equal_row_by_row(tmp_path):
    """Batches written many rows per statement give the rows that one-row writes give."""

    def logins(n: int) -> list[Session]:
        return [Session(key=f"s{i}", mailbox=f"u{i % 37}@example.com", protocol="pop3",
                        rip="203.0.113.7", started_at=float(i)) for i in range(n)]  # fmt: skip

    def logouts(n: int) -> list[Session]:
        return [Session(key=f"s{i}", ended_at=float(i + 5), retrieved=i % 4, deleted=i % 3,
                        uidl=i % 2 == 0) for i in range(0, n, 2)]  # fmt: skip

    mail = [MailRecord(session=f"s{i}", mailbox=f"u{i % 37}@example.com", at=float(i),
                       service="pop3", action="expunge", uid=i) for i in range(433)]  # fmt: skip
    batches = [(logins(450), mail), (logouts(900), mail[:7]), (logins(430), [])]
    many, single = SQLiteStore(tmp_path / "many.db"), SQLiteStore(tmp_path / "single.db")
    for store in (many, single):
        await store.open()
    try:
        for sessions, records in batches:
            await many.apply(sessions, records)
            for session in sessions:
                await single.apply([session], [])
            for record in records:
                await single.apply([], [record])
    finally:
        for store in (many, single):
            await store.close()
    rows, events = snapshot(tmp_path / "many.db")
    assert (rows, events) == snapshot(tmp_path / "single.db")
    assert len(rows) == 450 + 225  # s450..s898 came from the logouts
    assert len(events) == 440


async def test_undecodable_lines_are_counted_as_binary(tmp_path):
    """Chunks are decoded at once: a line that is not UTF-8 is still one ``binary`` line."""
    login = (
        "2026-11-29 01:34:29.262245 imap-login: Info: Login: user=<{user}>, method=PLAIN, "
        "rip=127.0.0.9, rport=32783, lip=127.0.0.1, lport=10143, mpid=4468, session=<{session}>\n"
    )
    log = tmp_path / "mail.log"
    log.write_bytes(
        login.format(user="alice", session="s1").encode()
        + login.format(user="al\xffice", session="s2").encode("latin-1")  # not UTF-8
        + login.format(user="zoë", session="s3").encode()  # UTF-8 beyond ASCII: a login
        + b"\xc3\n"  # a UTF-8 sequence cut short
        + login.format(user="bob", session="s4").encode()
    )
    summary = await ingest(log, tmp_path / "store.db")
    assert summary["lines"] == 5
    assert summary["skipped"] == {"binary": 2}
    rows, _ = snapshot(tmp_path / "store.db")
    assert sorted(row[:2] for row in rows) == [
        ("s1", "alice@example.com"), ("s3", "zoë@example.com"), ("s4", "bob@example.com"),
    ]  # fmt: skip


async def test_memory_of_a_long_log_stays_flat(tmp_path):
    """Sessions whose logout was read are forgotten: a long log keeps only open sessions."""
    login = (
        "2026-11-29 01:34:23.128186 pop3-login: Info: Login: user=<u{n}>, method=PLAIN, "
        "rip=127.0.0.9, rport=59625, lip=127.0.0.1, lport=10110, mpid={n}, session=<s{n}>\n"
    )
    logout = (
        "2026-11-29 01:34:23.587080 pop3(u{n})<{n}><s{n}><127.0.0.9>: Info: Disconnected: "
        "Logged out top=0/0, retr=1/10, del=1/5, size=10, deleted_bytes=10, uidl_hash=, "
        "in=12, out=42\n"
    )
    sessions = 3000
    text = "".join(login.format(n=n) + logout.format(n=n) for n in range(sessions))
    # one session stays open across the whole file, and is counted once
    log = tmp_path / "mail.log"
    log.write_text(
        login.format(n="open") + text + logout.format(n="open").replace("del=1", "del=2")
    )
    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    try:
        run = Ingest(store, Options(year=2026, zone=UTC, default_domain="example.com",
                                    batch_lines=500))  # fmt: skip
        summary = (await run.file(log)).as_dict()
        assert summary["sessions"] == sessions + 1
        assert run._open == set()  # the memory this test is about
        rows, _ = snapshot(tmp_path / "store.db")
        assert len(rows) == sessions + 1
    finally:
        await store.close()

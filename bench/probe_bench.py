"""Mailbox probe speed against a real Dovecot, with a minimal client as the baseline.

Starts a Dovecot (tests/servers/probe_dovecot.py: the test fixture's configuration plus a
master user) whose maildirs are written directly before it starts: ``--mailboxes`` users
with ``--messages`` messages each, and one user with ``--big`` messages. After a warm-up
pass (Dovecot builds its indexes), each case runs the probe and then a minimal client that
sends the same IMAP (or POP3) commands over the same TLS port and only waits for each
tagged reply, on the same event loop, ``--rounds`` times; the best round counts.

Cases: first probe (no snapshot: EXAMINE + UID FETCH of every Message-ID), unchanged
re-probe (ENABLE QRESYNC + EXAMINE INBOX (QRESYNC ...), nothing fetched), POP3 (CAPA,
AUTH PLAIN, STAT, UIDL, QUIT). Target: unchanged re-probe of the big mailbox <= 2x.

    .venv/bin/python bench/probe_bench.py [--mailboxes 1000] [--messages 20] [--big 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import functools
import os
import pwd
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoconf import logs
from autoconf.probe import Credentials, Options, Target, probe_mailbox
from autoconf.probe.connect import Endpoint, TlsMode, tls_context
from autoconf.probe.snapshot import Snapshot
from tests.servers.dovecot import MAIL_USER
from tests.servers.probe_dovecot import ProbeDovecot, user

if TYPE_CHECKING:
    import ssl

BODY = "x" * 400


# ---------------------------------------------------------------- mailboxes on disk


def write_maildir(root: Path, count: int, tag: str, uid: int, gid: int) -> None:
    """``count`` messages as maildir files in cur/ (seen), plus new/ tmp/ and Trash."""
    for sub in ("cur", "new", "tmp", ".Trash/cur", ".Trash/new", ".Trash/tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    stamp = int(time.time()) - 86400
    for n in range(1, count + 1):
        text = (
            f"From: sender@example.org\r\nTo: {tag}@example.com\r\nSubject: message {n}\r\n"
            f"Message-ID: <bench-{n}-{tag}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000"
            f"\r\n\r\n{BODY}\r\n"
        ).encode()
        name = f"{stamp + n}.M{n}P1.bench,S={len(text)}:2,S"
        (root / "cur" / name).write_bytes(text)
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, gid)


def populate(server: ProbeDovecot, mailboxes: int, messages: int, big: int) -> None:
    account = pwd.getpwnam(MAIL_USER)
    mail = server.base / "mail"
    for n in range(1, mailboxes + 2):
        local = user(n)[0].split("@", 1)[0]
        count = big if n == 1 else messages
        write_maildir(mail / local / "Maildir", count, local, account.pw_uid, account.pw_gid)
        os.chown(mail / local, account.pw_uid, account.pw_gid)


# ---------------------------------------------------------------- the minimal client


class Minimal:
    """Sends commands and waits for each tagged reply in raw chunks; parses nothing."""

    def __init__(self, port: int, ctx: ssl.SSLContext) -> None:
        self.port = port
        self.ctx = ctx

    async def imap(self, login: str, password: str, commands: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(
            "localhost", self.port, ssl=self.ctx, server_hostname="localhost"
        )
        await reader.readuntil(b"\r\n")
        secret = base64.b64encode(f"\0{login}\0{password}".encode())
        for n, command in enumerate([b"AUTHENTICATE PLAIN " + secret, *commands, b"LOGOUT"]):
            tag = b"m%d " % n
            writer.write(tag + command + b"\r\n")
            await self._until(reader, b"\n" + tag)
        writer.close()

    async def pop3(self, login: str, password: str) -> None:
        reader, writer = await asyncio.open_connection(
            "localhost", self.port, ssl=self.ctx, server_hostname="localhost"
        )
        await reader.readuntil(b"\r\n")
        secret = base64.b64encode(f"\0{login}\0{password}".encode())
        writer.write(b"CAPA\r\n")
        await self._until(reader, b"\n.\r\n")
        writer.write(b"AUTH PLAIN " + secret + b"\r\n")
        await reader.readuntil(b"\r\n")
        writer.write(b"STAT\r\n")
        await reader.readuntil(b"\r\n")
        writer.write(b"UIDL\r\n")
        await self._until(reader, b"\n.\r\n")
        writer.write(b"QUIT\r\n")
        await reader.readuntil(b"\r\n")
        writer.close()

    @staticmethod
    async def _until(reader: asyncio.StreamReader, marker: bytes) -> None:
        tail = b"\n"
        while True:
            chunk = await reader.read(1 << 16)
            if not chunk:
                raise ConnectionError("closed")
            window = tail + chunk
            if marker in window:
                return
            tail = window[-64:]


# ---------------------------------------------------------------- cases


async def gather_limited(jobs, limit: int) -> float:
    gate = asyncio.Semaphore(limit)

    async def one(job):
        async with gate:
            return await job()

    started = time.perf_counter()
    await asyncio.gather(*(one(j) for j in jobs))
    return time.perf_counter() - started


async def run(args: argparse.Namespace, server: ProbeDovecot) -> None:
    ports = server.ports
    ca = server.cert
    ctx = tls_context(ca)
    master, master_pw = server.master
    creds = Credentials(master_pw, master)
    options = Options()
    imap_min = Minimal(ports.imaps, ctx)
    pop_min = Minimal(ports.pop3s, ctx)
    many = [user(n)[0] for n in range(2, args.mailboxes + 2)]
    big = user(1)[0]
    fetch = b"UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
    snaps: dict[str, bytes] = {}

    def imap_target(address: str) -> list[Target]:
        return [Target(Endpoint("imap", "localhost", ports.imaps, TlsMode.SSL), address)]

    def pop_target(address: str) -> list[Target]:
        return [Target(Endpoint("pop3", "localhost", ports.pop3s, TlsMode.SSL), address)]

    async def probe_first(address: str) -> None:
        result = await probe_mailbox(
            address, imap_target(address), creds, ca_file=ca, options=options
        )
        assert result.snapshot is not None, result.as_dict()
        snaps[address] = result.snapshot.to_bytes()

    async def probe_again(address: str) -> None:
        result = await probe_mailbox(
            address,
            imap_target(address),
            creds,
            previous=snaps[address],
            ca_file=ca,
            options=options,
        )
        assert result.changes is not None
        assert result.changes.method == "unchanged", result.changes.method
        assert result.snapshot is not None
        snaps[address] = result.snapshot.to_bytes()

    async def probe_pop(address: str) -> None:
        result = await probe_mailbox(
            address, pop_target(address), creds, ca_file=ca, options=options
        )
        assert result.servers[0].login == "ok"

    def login(address: str) -> str:
        return f"{address}*{master}"

    async def min_first(address: str) -> None:
        await imap_min.imap(login(address), master_pw, [b"ENABLE QRESYNC", b"EXAMINE INBOX", fetch])

    async def min_again(address: str) -> None:
        snap = Snapshot.from_bytes(snaps[address])
        examine = b"EXAMINE INBOX (QRESYNC (%d %d))" % (snap.uidvalidity, snap.highestmodseq or 0)
        await imap_min.imap(login(address), master_pw, [b"ENABLE QRESYNC", examine])

    async def min_pop(address: str) -> None:
        await pop_min.pop3(login(address), master_pw)

    # warm-up: Dovecot indexes and caches every mailbox once
    started = time.perf_counter()
    everyone = [big, *many]
    await gather_limited([functools.partial(min_first, a) for a in everyone], args.concurrency)
    await gather_limited([functools.partial(min_pop, a) for a in everyone], args.concurrency)
    print(
        f"warm-up (index build) of {len(many) + 1} mailboxes: {time.perf_counter() - started:.2f}s"
    )

    cases = [
        (f"{len(many)} mailboxes, first probe", many, probe_first, min_first),
        (f"{len(many)} mailboxes, unchanged re-probe", many, probe_again, min_again),
        (f"{len(many)} mailboxes, POP3 STAT+UIDL", many, probe_pop, min_pop),
        (f"{args.big:,}-message mailbox, first probe", [big], probe_first, min_first),
        (f"{args.big:,}-message mailbox, unchanged re-probe", [big], probe_again, min_again),
        (f"{args.big:,}-message mailbox, POP3 STAT+UIDL", [big], probe_pop, min_pop),
    ]
    print(f"\n{'case':<44}{'probe':>10}{'minimal':>10}{'ratio':>8}")
    for name, addresses, ours, theirs in cases:
        best_ours = best_theirs = float("inf")
        rounds = args.rounds if len(addresses) > 1 else args.rounds * 4
        for _ in range(rounds):
            jobs = [functools.partial(ours, a) for a in addresses]
            best_ours = min(best_ours, await gather_limited(jobs, args.concurrency))
            jobs = [functools.partial(theirs, a) for a in addresses]
            best_theirs = min(best_theirs, await gather_limited(jobs, args.concurrency))
        print(
            f"{name:<44}{best_ours * 1000:>8.1f}ms{best_theirs * 1000:>8.1f}ms"
            f"{best_ours / best_theirs:>7.2f}x"
        )
    print(
        f"\n(best of {args.rounds} rounds for the many-mailbox cases, {args.rounds * 4} for the "
        f"big one; {args.concurrency} connections at a time; IMAPS/POP3S with TLS on loopback)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mailboxes", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20, help="messages per small mailbox")
    parser.add_argument("--big", type=int, default=10_000, help="messages in the big mailbox")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logs.configure("warning", "console")
    base = Path(tempfile.mkdtemp(prefix="autoconf-probe-bench-"))
    server = ProbeDovecot(base, users=args.mailboxes + 1)
    try:
        server.prepare()
        started = time.perf_counter()
        populate(server, args.mailboxes, args.messages, args.big)
        print(
            f"wrote {args.mailboxes} x {args.messages} + {args.big} messages in "
            f"{time.perf_counter() - started:.1f}s"
        )
        server.start()
        try:
            import uvloop  # noqa: PLC0415

            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        runner(run(args, server))
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

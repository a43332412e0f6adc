"""Dovecot log parsing: autoconf's parser against a plain one-big-regex-per-line parser.

Writes a realistic Dovecot 2.3 log of N lines to a local temporary file (line shapes from
reference/dovecot.md: logins with and without TLS, pre-login IMAP IDs, POP3 logouts that
keep and that delete, IMAP logouts, mail_log save/expunge/flag_change/copy/delete lines,
LMTP deliveries, auth failures and the usual noise), reads it back, then times both parsers
over the same lines in the same run and prints lines/s and the ratio.

    .venv/bin/python bench/ingest_parse_bench.py --lines 1000000 [--mix stock|mail_log]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoconf.events.dovecot_log import Parser

# ---------------------------------------------------------------- the log generator

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ID_IPHONE = "name=iPhone Mail, version=21E236, os=iOS, os-version=17.4.1 (21E236)"
_ID_TB = "name=Thunderbird, version=128.3.1"
_TLS = "TLS, TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"


class _Gen:
    def __init__(self, seed: int, mail_log: bool) -> None:
        self.rnd = random.Random(seed)
        self.mail_log = mail_log
        self.now = datetime(2026, 11, 29, 1, 34, 17)  # noqa: DTZ001 - log time is naive
        self.pid = 3000
        self.uid: dict[str, int] = {}

    def ts(self) -> str:
        self.now += timedelta(microseconds=self.rnd.randint(50, 4000))
        return self.now.strftime("%Y-%m-%d %H:%M:%S.%f")

    def session(self) -> str:
        return "".join(self.rnd.choice(_B64) for _ in range(16))

    def user(self) -> str:
        return f"user{self.rnd.randint(1, 50000)}"

    def ip(self) -> str:
        return f"198.51.{self.rnd.randint(0, 255)}.{self.rnd.randint(1, 254)}"

    def mail(self, action: str, prefix: str, uid: int, box: str, flags: str) -> str:
        n = f"{uid}.{self.rnd.randint(10**12, 10**13)}"
        return (
            f"{self.ts()} {prefix}Info: {action}: box={box}, uid={uid}, "
            f"msgid=<m{n}@example.net>, size={self.rnd.randint(900, 90000)}, "
            f"vsize={self.rnd.randint(900, 90000)}, from=Sender Person <s{uid}@example.org>, "
            f"subject=Order {n} shipped, flags={flags}"
        )

    def imap_session(self) -> list[str]:
        user, ip, sess = self.user(), self.ip(), self.session()
        self.pid += 1
        port, tls = self.rnd.choice(((143, ""), (993, _TLS + ", ")))
        rport = self.rnd.randint(1024, 65535)
        out: list[str] = []
        if self.rnd.random() < 0.5:
            ident = self.rnd.choice((_ID_IPHONE, _ID_TB))
            out.append(
                f"{self.ts()} imap-login: Info: ID sent: {ident}: user=<>, rip={ip}, "
                f"rport={rport}, lip=192.0.2.10, lport={port}, session=<{sess}>"
            )
        out.append(
            f"{self.ts()} imap-login: Info: Login: user=<{user}>, method=PLAIN, rip={ip}, "
            f"rport={rport}, lip=192.0.2.10, lport={port}, mpid={self.pid}, {tls}session=<{sess}>"
        )
        prefix = f"imap({user})<{self.pid}><{sess}>: "
        deleted = expunged = trashed = 0
        if self.mail_log:
            for _ in range(self.rnd.choice((0, 0, 1, 2))):
                uid = self.rnd.randint(1, 9000)
                if self.rnd.random() < 0.5:
                    out.append(self.mail("copy from INBOX", prefix, uid, "Trash", "()"))
                    trashed += 1
                else:
                    out.append(self.mail("delete", prefix, uid, "INBOX", "(\\Deleted)"))
                    deleted += 1
                out.append(self.mail("expunge", prefix, uid, "INBOX", "()"))
                expunged += 1
        out.append(
            f"{self.ts()} {prefix}Info: Disconnected: Logged out in={self.rnd.randint(50, 900)} "
            f"out={self.rnd.randint(500, 90000)} deleted={deleted} expunged={expunged} "
            f"trashed={trashed} hdr_count=5 hdr_bytes=280 body_count=0 body_bytes=0"
        )
        return out

    def pop3_session(self) -> list[str]:
        user, ip, sess = self.user(), self.ip(), self.session()
        self.pid += 1
        port, tls = self.rnd.choice(((110, ""), (995, _TLS + ", ")))
        out = [
            (
                f"{self.ts()} pop3-login: Info: Login: user=<{user}>, method=PLAIN, rip={ip}, "
                f"rport={self.rnd.randint(1024, 65535)}, lip=192.0.2.10, lport={port}, "
                f"mpid={self.pid}, {tls}session=<{sess}>"
            )
        ]
        prefix = f"pop3({user})<{self.pid}><{sess}>: "
        count = self.rnd.randint(0, 6)
        deletes = self.rnd.random() < 0.4
        if self.mail_log:
            for i in range(count):
                action, flags = ("expunge", "()") if deletes else ("flag_change", "(\\Seen)")
                out.append(self.mail(action, prefix, 100 + i, "INBOX", flags))
        deleted = count if deletes else 0
        out.append(
            f"{self.ts()} {prefix}Info: Disconnected: Logged out top=0/0, "
            f"retr={count}/{count * 1190}, del={deleted}/{count}, size={count * 1170}, "
            f"deleted_bytes={deleted * 1170}, uidl_hash=0/00000000, in=104, out=6339"
        )
        return out

    def delivery(self) -> list[str]:
        user, sess = self.user(), self.session() + "AAAAAA"
        uid = self.uid[user] = self.uid.get(user, 0) + 1
        prefix = f"lmtp({user})<6898><{sess}>: "
        out = [f"{self.ts()} lmtp(6898): Info: Connect from 127.0.0.1"]
        if self.mail_log:
            out.append(self.mail("save", prefix, uid, "INBOX", "()"))
        out.append(
            f"{self.ts()} {prefix}Info: msgid=<d{uid}.{sess}@example.net>: saved mail to INBOX"
        )
        out.append(
            f"{self.ts()} lmtp(6898): Info: Disconnect from 127.0.0.1: Logged out (state=READY)"
        )
        return out

    def noise(self) -> list[str]:
        ip, sess, user = self.ip(), self.session(), self.user()
        return self.rnd.choice(
            (
                [
                    f"{self.ts()} auth: Info: passwd-file({user},{ip},<{sess}>): Password mismatch",
                    (
                        f"{self.ts()} imap-login: Info: Disconnected: Connection closed "
                        f"(auth failed, 1 attempts in 2 secs): user=<{user}>, method=PLAIN, "
                        f"rip={ip}, rport=50390, lip=192.0.2.10, lport=143, session=<{sess}>"
                    ),
                ],
                [
                    (
                        f"{self.ts()} pop3-login: Info: Disconnected: Connection closed (no auth "
                        f"attempts in 0 secs): user=<>, rip={ip}, rport=50400, lip=192.0.2.10, "
                        f"lport=110, secured, session=<{sess}>"
                    )
                ],
                [
                    (
                        f"{self.ts()} imap({user})<{self.pid}><{sess}>: Error: Mailbox INBOX: "
                        "UID=12: read() failed: Broken pipe"
                    )
                ],
                [
                    (
                        f'{self.ts()} stats: Info: {{"event":"mail_user_session_finished",'
                        f'"hostname":"vm","categories":["service:pop3","storage"],"fields":'
                        f'{{"user":"{user}","session":"{sess}","duration":1990}}}}'
                    )
                ],
            )
        )

    def lines(self, total: int) -> list[str]:
        out: list[str] = []
        kinds = (self.imap_session, self.imap_session, self.pop3_session, self.delivery,
                 self.delivery, self.noise)  # fmt: skip
        while len(out) < total:
            out.extend(self.rnd.choice(kinds)())
        return out[:total]


# ---------------------------------------------------------------- the plain baseline

_PLAIN = re.compile(
    r"""^(?P<ts>\d{4}-\d\d-\d\d\ \d\d:\d\d:\d\d(?:\.\d+)?)\ (?P<svc>[\w-]+)
    (?:\((?P<user>[^)]*)\))?(?:<(?P<pid>\d+)>)?(?:<(?P<sess>[^>]*)>)?(?:<(?P<prip>[^>]*)>)?
    :\ (?P<level>\w+):\ (?:
     Login:\ user=<(?P<l_user>[^>]*)>,\ method=(?P<method>[^,]*),\ rip=(?P<rip>[^,]*),
       (?:\ rport=(?P<rport>\d+),)?\ lip=(?P<lip>[^,]*),(?:\ lport=(?P<lport>\d+),)?
       (?:\ mpid=(?P<mpid>\d+),)?(?P<tls>.*?)\ ?session=<(?P<l_sess>[^>]*)>
    |ID\ sent:\ (?P<id>.*?)(?::\ user=<(?P<id_user>[^>]*)>,\ rip=(?P<id_rip>[^,]*),
       .*session=<(?P<id_sess>[^>]*)>)?
    |Disconnected:\ (?P<p_reason>.*?)\ top=(?P<top>\d+)/(?P<top_bytes>\d+),
       \ retr=(?P<retr>\d+)/(?P<retr_bytes>\d+),\ del=(?P<del>\d+)/(?P<msgs>\d+),
       \ size=(?P<size>\d+)(?:,\ deleted_bytes=(?P<deleted_bytes>\d+))?
       (?:,\ uidl_hash=(?P<uidl>[^,]*))?.*
    |Disconnected:\ (?P<i_reason>.*?)\ in=(?P<in>\d+)\ out=(?P<out>\d+)
       (?:\ deleted=(?P<deleted>\d+)\ expunged=(?P<expunged>\d+)\ trashed=(?P<trashed>\d+))?.*
    |(?P<action>expunge|save|flag_change|delete|undelete|copy\ from\ [^:]*):
       \ box=(?P<box>[^,]*),\ uid=(?P<uid>\d+),\ msgid=(?P<msgid><[^>]*>)
       ,\ size=(?P<msize>\d+).*?flags=(?P<flags>\(.*\))
    |msgid=(?P<d_msgid>[^:]*):\ saved\ mail\ to\ (?P<d_box>.*)
    |Disconnected:?\ (?P<a_reason>.*?):\ user=<(?P<a_user>[^>]*)>,.*?rip=(?P<a_rip>[^,]*),
       .*session=<(?P<a_sess>[^>]*)>
    |(?P<db>[\w-]+)\((?P<f_user>[^,]*),(?P<f_rip>[^,]*),<(?P<f_sess>[^>]*)>\):\ (?P<f_why>.*)
    )$""",
    re.VERBOSE,
)
_INTS = frozenset(
    ("pid", "rport", "lport", "mpid", "top", "top_bytes", "retr", "retr_bytes", "del", "msgs",
     "size", "deleted_bytes", "in", "out", "deleted", "expunged", "trashed", "uid", "msize")
)  # fmt: skip


def plain_parse(lines: list[str]) -> tuple[int, int]:
    """What a straightforward parser does: one regex per line, a dict per event."""
    events = skipped = 0
    fromiso = datetime.fromisoformat
    for line in lines:
        m = _PLAIN.match(line.rstrip("\n"))
        if m is None:
            skipped += 1
            continue
        event = {k: v for k, v in m.groupdict().items() if v is not None}
        event["ts"] = fromiso(event["ts"])
        for key in _INTS.intersection(event):
            event[key] = int(event[key])
        events += 1
    return events, skipped


def ours(lines: list[str]) -> tuple[int, int]:
    """autoconf's parser: typed, frozen events."""
    parser = Parser(year=2026, default_domain="example.com")
    for _ in parser.parse(lines):
        pass
    return parser.events, parser.lines - parser.events


def _race(lines: list[str], rounds: int) -> dict[str, tuple[float, tuple[int, int]]]:
    """Best CPU time of each parser, alternating them round by round.

    CPU time of this thread (not wall time) and alternation keep other load on the machine
    from favouring whichever parser happened to run in a quiet moment.
    """
    best: dict[str, tuple[float, tuple[int, int]]] = {}
    for _ in range(rounds):
        for name, fn in (("plain", plain_parse), ("ours", ours)):
            start = time.thread_time()
            result = fn(lines)
            took = time.thread_time() - start
            if name not in best or took < best[name][0]:
                best[name] = (took, result)
    return best


def main() -> None:
    """Generate, read back, time both, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--mix", choices=("mail_log", "stock"), default="mail_log")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="autoconf-bench-") as tmp:
        path = Path(tmp) / "dovecot.log"
        generated = _Gen(args.seed, args.mix == "mail_log").lines(args.lines)
        path.write_text("\n".join(generated) + "\n", encoding="utf-8")
        size = path.stat().st_size
        with path.open(encoding="utf-8", newline="") as fh:
            lines = fh.readlines()

    best = _race(lines, args.rounds)
    t_plain, (e_plain, s_plain) = best["plain"]
    t_ours, (e_ours, s_ours) = best["ours"]
    n = len(lines)
    print(f"log: {n:,} lines, {size / 1e6:.1f} MB, mix={args.mix}, best CPU time of {args.rounds}")
    print(f"plain regex parser : {n / t_plain:>12,.0f} lines/s  ({e_plain:,} events, "
          f"{s_plain:,} unmatched)")  # fmt: skip
    print(f"autoconf parser    : {n / t_ours:>12,.0f} lines/s  ({e_ours:,} events, "
          f"{s_ours:,} skipped)")  # fmt: skip
    print(f"ratio (autoconf / plain): {t_plain / t_ours:.2f}x")


if __name__ == "__main__":
    main()

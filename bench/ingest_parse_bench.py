"""Dovecot log parsing: autoconf's parser against a plain one-big-regex-per-line parser.

Writes a realistic Dovecot 2.3 log of N lines to a local temporary file (line shapes from
reference/dovecot.md: logins with and without TLS, pre-login IMAP IDs, POP3 logouts that
keep and that delete, IMAP logouts, mail_log save/expunge/flag_change/copy/delete lines,
LMTP deliveries, auth failures and the usual noise), reads it back, prints what the log is
made of, then times both parsers over the same lines: CPU time of this thread, the two
parsers interleaved round by round (the order alternating), the median of the rounds.

Both mixes are run by default: ``stock`` (what Dovecot logs without plugins) and ``mail_log``
(the mail_log plugin on: one line per saved, copied, flagged, expunged message).

The baseline is what a straightforward parser does: one compiled regex with named groups
per line (timestamp, prefix and one alternative per line kind), the ``groupdict`` of the
lines it matches without the unmatched groups, the stamp as a ``datetime`` and the numbers
as ``int``. Ours builds the typed, frozen events (``autoconf.events.model``) and counts
every line it skips.

    .venv/bin/python bench/ingest_parse_bench.py [--lines 300000] [--mix both|stock|mail_log]
        [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autoconf.events.dovecot_log import Parser, classify_line

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


def mix_of(lines: list[str]) -> Counter[str]:
    """What the log is made of: each line by the event it gives or the kind it is skipped as."""
    kinds: Counter[str] = Counter()
    for line in lines:
        result = classify_line(line, year=2026, default_domain="example.com")
        if isinstance(result, str):
            kinds[f"skip:{result}"] += 1
        else:
            action = getattr(result, "action", None)
            kinds[type(result).__name__ + (f":{action}" if action else "")] += 1
    return kinds


def _race(lines: list[str], rounds: int) -> dict[str, list[tuple[float, tuple[int, int]]]]:
    """CPU time of each parser per round, the two interleaved, the order alternating.

    CPU time of this thread (not wall time), interleaving and the median keep other load on
    the machine from favouring whichever parser happened to run in a quiet moment.
    """
    runs: dict[str, list[tuple[float, tuple[int, int]]]] = {"plain": [], "ours": []}
    order = [("plain", plain_parse), ("ours", ours)]
    for _ in range(rounds):
        for name, fn in order:
            start = time.thread_time()
            result = fn(lines)
            runs[name].append((time.thread_time() - start, result))
        order.reverse()
    return runs


def _one_mix(mix: str, args: argparse.Namespace) -> tuple[float, float]:
    """Generate, read back, time both; print the figures and return lines/s of both."""
    with tempfile.TemporaryDirectory(prefix="autoconf-bench-") as tmp:
        path = Path(tmp) / "dovecot.log"
        generated = _Gen(args.seed, mix == "mail_log").lines(args.lines)
        path.write_text("\n".join(generated) + "\n", encoding="utf-8")
        size = path.stat().st_size
        with path.open(encoding="utf-8", newline="") as fh:
            lines = fh.readlines()
    n = len(lines)
    print(f"\n== mix={mix}: {n:,} lines, {size / 1e6:.1f} MB, {size / n:.0f} bytes/line")
    kinds = mix_of(lines)
    print("   " + ", ".join(f"{k} {v / n:.1%}" for k, v in kinds.most_common()))

    runs = _race(lines, args.rounds)
    plain_times = [t for t, _ in runs["plain"]]
    ours_times = [t for t, _ in runs["ours"]]
    e_plain, s_plain = runs["plain"][0][1]
    e_ours, s_ours = runs["ours"][0][1]
    t_plain, t_ours = statistics.median(plain_times), statistics.median(ours_times)
    for label, t, times, events, skipped, what in (
        ("plain regex parser", t_plain, plain_times, e_plain, s_plain, "unmatched"),
        ("autoconf parser", t_ours, ours_times, e_ours, s_ours, "skipped"),
    ):
        print(f"   {label:19}: {n / t:>10,.0f} lines/s  median CPU of {args.rounds} "
              f"(best {n / min(times):,.0f})  {events:,} events, {skipped:,} {what}")  # fmt: skip
    ratios = sorted(p / o for p, o in zip(plain_times, ours_times, strict=True))
    print(f"   ratio (autoconf / plain): {t_plain / t_ours:.2f}x  "
          f"(per round {ratios[0]:.2f}x .. {ratios[-1]:.2f}x)")  # fmt: skip
    return n / t_plain, n / t_ours


def main() -> None:
    """Generate, read back, time both, print the figures for each mix."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--mix", choices=("both", "mail_log", "stock"), default="both")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.rounds < 3:  # a median of fewer rounds is one noisy sample
        ap.error("--rounds must be at least 3")

    mixes = ("stock", "mail_log") if args.mix == "both" else (args.mix,)
    results = {mix: _one_mix(mix, args) for mix in mixes}
    print("\nsummary (median CPU time):")
    for mix, (plain, mine) in results.items():
        print(f"   {mix:9} plain {plain:>10,.0f} lines/s   autoconf {mine:>10,.0f} lines/s   "
              f"{mine / plain:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()

"""The one-match reader of the usual lines gives what the general reader gives, line by line.

``dovecot_usual`` reads the frequent shapes whole (its patterns are tuned for speed); every
other line goes to ``dovecot_general``. These tests hold the two to the same result: events
and skip kinds for each line, and the session and mail rows ingest folds from them, over
the real logs, their syslog-stamped twins, and thousands of lines mangled at random.
"""

from __future__ import annotations

import random
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autoconf.events.dovecot_general import classify
from autoconf.events.dovecot_log import Parser
from autoconf.events.dovecot_usual import USUAL
from autoconf.events.sessions import FOLDS, fold

DATA = Path(__file__).parent / "data" / "dovecot"
YEAR = 2026
DOMAIN = "example.com"
ZURICH = ZoneInfo("Europe/Zurich")


def real_lines() -> list[str]:
    """Every line of the reference logs (Dovecot 2.3, rich logging)."""
    return [
        line
        for log in sorted(DATA.glob("*.log"))
        for line in log.read_text(encoding="utf-8").splitlines()
    ]


def syslog_twins(lines: list[str]) -> list[str]:
    """The same lines with the stock stamp, and as syslog writes them (host, tag, pid)."""
    twins = []
    for line in lines:
        if line[:1].isdigit() and line[10:11] == " " and line[26:27] == " ":
            rest = line[27:]
            twins.append(f"Nov 29 01:34:{line[17:19]} {rest}")
            twins.append(f"Nov  9 01:34:{line[17:19]}.{line[20:23]} mail dovecot[812]: {rest}")
            twins.append(f"Dec 31 23:59:{line[17:19]} mail dovecot: {rest}")
    return twins


STOCK = [  # lines of the shapes the stock logging writes, beside the reference logs' ones
    (
        "2026-11-29 01:34:23.613589 pop3-login: Info: Login: user=<bob>, method=PLAIN, "
        "rip=192.0.2.7, lip=192.0.2.1, mpid=3799, TLS, session=<qZUES2BhCop/AAAB>"
    ),
    (
        "2026-11-29 01:34:23 imap-login: Info: Login: user=<bob@example.org>, method=PLAIN, "
        "rip=2001:db8::7, lip=2001:db8::1, mpid=3800, TLS, TLSv1.3 with cipher "
        "TLS_AES_256_GCM_SHA384 (256/256 bits), session=<w44cS2Bhr+F/AAAD>"
    ),
    (
        "2026-11-29 01:34:23.637168 pop3(bob)<3799><qZUES2BhCop/AAAB>: Info: Disconnected: Logged "
        "out top=0/0, retr=2/2380, del=2/2, size=2340"
    ),
    (
        "2026-11-29 01:34:23.637168 pop3(bob)<3799><qZUES2BhCop/AAAB>: Info: Disconnected: Logged "
        "out top=0/0, retr=0/0, del=0/5, size=5842, deleted_bytes=0, uidl_hash=, in=24, out=182"
    ),
    (
        "2026-11-29 01:34:24.000001 imap(bob)<3800><w44cS2Bhr+F/AAAD>: Info: Disconnected: Logged "
        "out in=67 out=59875"
    ),
    (
        "2026-11-29 01:34:24.000002 imap(bob)<3800><w44cS2Bhr+F/AAAD>: Info: ID sent: "
        "name=Thunderbird, version=128.3.1"
    ),
    (
        "2026-11-29 01:34:24.000003 lmtp(bob)<6898><Dc4/dsdc6lC1MXlPAAAAAA>: Info: "
        "msgid=<d1.Dc4/dsdc6lC1MXlPAAAAAA@example.net>: saved mail to 'Junk'"
    ),
    (
        "2026-11-29 01:34:24.000004 lmtp(bob)<6898><Dc4/dsdc6lC1MXlPAAAAAA>: Info: "
        "msgid=unspecified: saved mail to INBOX"
    ),
    (
        "2026-11-29 01:34:24.000005 lmtp(6898): Info: Disconnect from 127.0.0.1: Logged out "
        "(state=READY)"
    ),
    (
        "2026-11-29 01:34:24.000006 imap(bob)<3800><w44cS2Bhr+F/AAAD>: Warning: Maildir: Scanning "
        "took 31 secs"
    ),
    (
        "2026-11-29 01:34:24.000007 imap(bob)<3800><w44cS2Bhr+F/AAAD>: Info: copy from Drafts: "
        "box=Sent, uid=5, msgid=<x@y>, size=100"
    ),
    (
        "2026-11-29 01:34:24.000008 pop3(bob)<3799><qZUES2BhCop/AAAB>: Info: undelete: box=INBOX, "
        "uid=7"
    ),
    (
        "2026-11-29 01:34:24.000009 submission-login: Info: Login: user=<bob>, method=PLAIN, "
        "rip=192.0.2.7, lip=192.0.2.1, mpid=3801, TLS, session=<a1b2c3d4e5f6g7h8>"
    ),
]

INSERTS = (", ", ",", ":", ": ", "=", "<", ">", "(", ")", " ", "  ", "\r", "\n", "\x00", "é",
           "\ufffd", "\udcff", "Info: ", "Error: ", "user=<", "session=<", "/", ".", "0", "x",
           "Disconnected: ", ": user=<>", "TLS, ")  # fmt: skip


def mangled(lines: list[str], count: int, seed: int) -> list[str]:
    """``count`` lines, each a random line with random cuts, inserts, swaps and deletions."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        line = rnd.choice(lines)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(line) + 1)
            what = rnd.random()
            if what < 0.45:
                line = line[:at] + rnd.choice(INSERTS) + line[at:]
            elif what < 0.65:
                line = line[:at] + line[at + rnd.randint(1, 12) :]
            elif what < 0.8:
                line = line[:at]
            elif what < 0.9:
                digits = [i for i, c in enumerate(line) if c.isdigit()]
                if digits:
                    i = rnd.choice(digits)
                    line = line[:i] + rnd.choice("09a ") + line[i + 1 :]
            else:
                line = line.replace(", ", ",  ", 1) if rnd.random() < 0.5 else line + line[at:]
        out.append(line)
    return out


def general(line: str) -> object:
    """What the general reader makes of ``line`` (an event, or the kind it is skipped as)."""
    try:
        return classify(line, YEAR, DOMAIN)
    except Exception:  # noqa: BLE001 - the parser counts these as malformed
        return "malformed"


def usual(line: str) -> object:
    """What the parser, usual shapes first, makes of ``line``."""
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    events = list(parser.parse([line]))
    if events:
        return events[0]
    (kind,) = parser.skipped
    return kind


def folded(lines: list[str], zone: ZoneInfo | type[UTC]) -> tuple[object, ...]:
    """Rows and counts as ingest folds ``lines`` (usual shapes straight into rows)."""
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    sessions: dict[str, list[object]] = {}
    mail: list[tuple[object, ...]] = []
    parser.fold("".join(line + "\n" for line in lines), zone, sessions, mail)  # type: ignore[arg-type]
    return sessions, mail, parser.lines, parser.events, dict(parser.skipped)


def folded_generally(lines: list[str], zone: ZoneInfo | type[UTC]) -> tuple[object, ...]:
    """The same through the general reader's events and FOLDS, line by line."""
    parser = Parser(year=YEAR, default_domain=DOMAIN)
    sessions: dict[str, list[object]] = {}
    mail: list[tuple[object, ...]] = []
    events, skipped = 0, {}
    text = "".join(line + "\n" for line in lines).split("\n")[:-1]
    for line in text:
        year_line = parser._line(line)
        assert year_line is not None
        result = general(line.rstrip("\r\n") if line.endswith("\n") else line)
        if isinstance(result, str):
            skipped[result] = skipped.get(result, 0) + 1
        else:
            events += 1
            (FOLDS.get(type(result)) or fold)(result, zone, sessions, mail)  # type: ignore[arg-type]
    return sessions, mail, len(text), events, skipped


def test_the_usual_shapes_read_the_usual_lines() -> None:
    """Almost every line of a real log is read by the one-match reader (else no speed)."""
    lines = real_lines() + STOCK
    read = [line for line in lines if USUAL.fullmatch(line) is not None]
    assert len(read) >= 0.95 * len(lines)
    twins = syslog_twins(lines)
    assert sum(USUAL.fullmatch(line) is not None for line in twins) >= 0.95 * len(twins)


@pytest.mark.parametrize("source", ["real", "syslog"])
def test_each_line_reads_the_same_both_ways(source: str) -> None:
    """Every real line, and its syslog-stamped twins, gives the general reader's result."""
    lines = real_lines() + STOCK
    if source == "syslog":
        lines = syslog_twins(lines)
    for line in lines:
        assert usual(line) == general(line), line


@pytest.mark.parametrize("seed", range(4))
def test_mangled_lines_read_the_same_both_ways(seed: int) -> None:
    """Lines cut, padded, split and garbled at random: still the general reader's result."""
    base = real_lines() + STOCK
    base += syslog_twins(base)
    for line in mangled(base, 3000, seed):
        assert usual(line) == general(line), repr(line)


@pytest.mark.parametrize("zone", [UTC, ZURICH], ids=["UTC", "Europe/Zurich"])
def test_folded_rows_are_the_general_readers_rows(zone: ZoneInfo | type[UTC]) -> None:
    """Ingest's rows and counts, from the usual shapes, equal folding every event generally."""
    base = real_lines() + STOCK
    overlong = STOCK[0].replace("method=PLAIN", "method=" + "P" * 70_000)  # a usual shape
    lines = [*base, *syslog_twins(base), *mangled(base, 2000, 99), overlong, *base[:9]]
    assert folded(lines, zone) == folded_generally(lines, zone)
    assert folded(lines, zone)[4]["overlong"] == 1  # type: ignore[index]
    clean = [*base, overlong]  # ASCII only: the other way through Parser.fold
    assert folded(clean, zone) == folded_generally(clean, zone)


def test_folded_times_are_exact() -> None:
    """A stamp's second is cached, its microseconds added: the same float as datetime's."""
    login = (
        "{} imap-login: Info: Login: user=<a>, method=PLAIN, rip=192.0.2.7, lip=192.0.2.1, "
        "session=<{}>"
    )
    lines = [
        login.format("2026-03-29 01:59:59.999999", "s1"),
        login.format("2026-03-29 03:00:00.000001", "s2"),
        login.format("2026-10-25 02:30:00.500000", "s3"),
    ]
    sessions, *_ = folded(lines, ZURICH)
    assert [row[8] for row in sessions.values()] == [  # type: ignore[attr-defined]
        1774745999.999999,  # the last microsecond before the clocks go forward
        1774746000.000001,
        1792888200.5,  # an hour that happens twice: the first one, as datetime reads it
    ]
    assert folded(lines, ZURICH) == folded_generally(lines, ZURICH)

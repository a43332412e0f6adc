"""Dovecot 2.3 log lines -> typed events: a pure parser that never raises.

A line is ``<timestamp> [<host> dovecot[<pid>]: ]<prefix>: [<Level>: ]<message>``:

- timestamp: Dovecot's ``log_timestamp`` (``2026-11-29 01:34:23.613589``, the stock
  ``Nov 29 01:34:23``), syslog/journald (``Nov 29 01:34:23[.usecs] host dovecot[pid]:``) or
  ISO 8601 (``2026-11-29T01:34:23.613589+01:00 host dovecot:``). Stamps without a year take
  the ``year`` argument.
- prefix: a login process (``imap-login``), a mail process with ``mail_log_prefix``
  (``imap(alice)<pid><session>[<rip>]``, or ``imap(alice)`` on old defaults), ``auth``, …

Lines that yield no event are counted by kind (see ``SKIP_KINDS``).

Two readers share the work (bench/ingest_parse_bench.py measures them): the usual lines
(logins, IDs, logouts, mail_log, deliveries, lines without an event) are each read by one
match of one pattern (``dovecot_usual``); every other line by the general reader
(``dovecot_general``), which knows every shape. Both give the same event for a line.

``Parser.parse`` yields events; ``Parser.fold`` (what ingest runs) merges what a chunk of
lines says straight into session rows and mail rows, without events for the usual lines.
"""

from __future__ import annotations

import gc
from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from autoconf.events.dovecot_general import (
    DIGITS,
    MAX_LINE,
    MONTHS,
    SKIP_KINDS,
    classify,
    is_binary,
    syslog_time,
)
from autoconf.events.dovecot_usual import BUILDERS, FOLD_GROUPS, FOLDERS, GROUPS, SKIPS, USUAL
from autoconf.events.sessions import FOLDS, fold, micros

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import tzinfo

    from autoconf.events.dovecot_usual import Groups
    from autoconf.events.model import Event
    from autoconf.events.sessions import MailRow, Sessions

__all__ = ["MAX_LINE", "SKIP_KINDS", "Parser", "classify_line", "parse_line"]
_fromiso = datetime.fromisoformat


def parse_line(line: str, *, year: int, default_domain: str | None = None) -> Event | None:
    """One log line -> its event, or ``None`` for a line without one. Never raises."""
    result = classify(line, year, default_domain)
    return None if isinstance(result, str) else result


def classify_line(line: str, *, year: int, default_domain: str | None = None) -> Event | str:
    """One log line -> its event, or the ``SKIP_KINDS`` name of why it has none."""
    return classify(line, year, default_domain)


class Parser:
    """Parses an iterable of lines (str or bytes), counting what it skips and why.

    Syslog-style stamps carry no year: the parser starts at ``year`` and moves to the next
    year when the month drops from December to January.
    """

    def __init__(self, *, year: int, default_domain: str | None = None) -> None:
        self.year = year
        self.default_domain = default_domain
        self.lines = 0
        self.events = 0
        self.skipped: Counter[str] = Counter()
        self._last_month = 0

    def parse(self, lines: Iterable[str | bytes]) -> Iterator[Event]:
        """Yield the events of ``lines`` in order; every line is counted exactly once.

        A generator: it holds one line at a time, so memory stays flat however long the input.
        The line count lives in a local, stored back before each event is handed out and when
        the generator ends (or is closed): the counters are current whenever the caller looks.
        """
        skipped = self.skipped
        domain = self.default_domain
        usual = USUAL.fullmatch
        groups, skips, builders = GROUPS, SKIPS, BUILDERS
        count = self.lines
        try:
            for raw in lines:
                count += 1
                line = raw if type(raw) is str and raw[:1] in DIGITS else self._line(raw)
                if line is None:
                    continue
                result: Event | str | None = None
                if line[-1:] == "\n":  # as the general reader does first
                    line = line.rstrip("\r\n")
                # the usual shapes: in one match (text that is not binary, nor overlong)
                if (
                    len(line) <= MAX_LINE
                    and "\x00" not in line
                    and (line.isascii() or not is_binary(line))
                ):
                    match = usual(line)
                    if match is not None:
                        k = match.lastindex or 0
                        g: Groups = match.group(*groups[k])
                        time = self._time(g[0], line)
                        if time is not None:
                            build = builders[k]
                            result = skips[k] if build is None else build(g, time, domain)
                if result is None:
                    result = self._general(line)
                if isinstance(result, str):
                    skipped[result] += 1
                else:
                    self.lines = count
                    self.events += 1
                    yield result
        finally:
            self.lines = count

    def _general(self, line: str) -> Event | str:
        """What the general reader makes of ``line``; ``malformed`` if it failed (a bug)."""
        try:
            return classify(line, self.year, self.default_domain)
        except Exception:  # noqa: BLE001 - the contract is to count, never to raise
            return "malformed"

    def _time(self, stamp: str | None, line: str) -> datetime | None:
        """The time of a usual line: its log_timestamp ``stamp``, else its syslog-style one.

        ``None`` when it is no date: the general reader then says which kind of line it is.
        """
        try:
            if stamp is not None:
                return _fromiso(stamp)
            time = syslog_time(line, self.year)
        except ValueError:
            return None
        return None if isinstance(time, str) else time

    def fold(
        self,
        text: str,
        zone: tzinfo,
        sessions: Sessions,
        mail: list[MailRow],
    ) -> None:
        """Fold the lines of ``text`` into a batch: what ``parse`` and then ``FOLDS`` would do.

        ``text`` holds whole lines, each ending with a newline (a chunk of a log as read).
        Session rows go into ``sessions`` by key, mail rows onto ``mail``; the usual shapes
        are folded straight from their match (``dovecot_usual.FOLDERS``), without an event.
        Every line is counted as ``parse`` counts it.

        The objects made here live as long as the batch and hold no cycles: the cyclic
        garbage collector, which would walk the batch again and again as it grows, is paused.
        """
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        collecting = gc.isenabled()
        gc.disable()
        try:
            if (
                text.isascii()
                and "\x00" not in text
                and max(map(len, lines), default=0) <= MAX_LINE
            ):
                self._fold_usual(lines, zone, sessions, mail)  # no line is binary, nor overlong
                return
            # lines the usual shapes may read, in runs; a binary or overlong one on its own
            run: list[str] = []
            for line in lines:
                if (
                    len(line) <= MAX_LINE
                    and "\x00" not in line
                    and (line.isascii() or not is_binary(line))
                ):
                    run.append(line)
                    continue
                if run:
                    self._fold_usual(run, zone, sessions, mail)
                    run = []
                self.lines += 1
                if line[:1] not in DIGITS:
                    self._track_year(line)
                result = classify(line, self.year, self.default_domain)  # binary or overlong
                if isinstance(result, str):
                    self.skipped[result] += 1
                else:  # pragma: no cover - the general reader skips such lines first
                    self.events += 1
                    (FOLDS.get(type(result)) or fold)(result, zone, sessions, mail)
            if run:
                self._fold_usual(run, zone, sessions, mail)
        finally:
            if collecting:
                gc.enable()

    def _fold_usual(  # noqa: C901, PLR0912, PLR0915 - one loop, kept flat for speed
        self, lines: list[str], zone: tzinfo, sessions: Sessions, mail: list[MailRow]
    ) -> None:
        """``fold`` for lines that are text (not binary), none longer than ``MAX_LINE``."""
        skipped = self.skipped
        domain = self.default_domain
        usual = USUAL.fullmatch
        groups, skips, folders = FOLD_GROUPS, SKIPS, FOLDERS
        seconds = _SECONDS.setdefault(zone, {})
        last, last_base = "\n", 0  # the last second read, and its micros
        events = self.events
        self.lines += len(lines)
        for line in lines:
            key: str | bool | None = False  # False: not folded yet
            match = usual(line)
            if match is not None:
                # a log_timestamp stamp's second from a cache, its microseconds added when
                # a row needs the time (an int divided by an int: the float that
                # datetime.timestamp() gives); a line without an event needs only to know
                # that its stamp is a date
                micro: int | None = None
                fraction = False
                if line.startswith(last):
                    micro, fraction = last_base, line[19] == "."
                elif line[:1] in DIGITS:  # the pattern checked the stamp's shape
                    micro = seconds.get(line[:19])
                    if micro is None:
                        micro = _second(line[:19], zone, seconds)
                    if micro is not None:
                        last, last_base, fraction = line[:19], micro, line[19] == "."
                else:
                    self._track_year(line)
                    time = self._time(None, line)
                    if time is not None:
                        micro = micros(time, zone)
                if micro is not None:
                    k = match.lastindex or 0
                    folder = folders[k]
                    if folder is None:
                        kind = skips[k]
                        if kind is not None:
                            skipped[kind] += 1
                            key = None
                    else:
                        if fraction:
                            micro += int(line[20:26])
                        key = folder(match.group(*groups[k]), micro / 1_000_000, domain,
                                     sessions, mail)  # fmt: skip
                        if key is not False:
                            events += 1
            elif line[:1] not in DIGITS:
                self._track_year(line)
            if key is False:
                result = self._general(line)
                if isinstance(result, str):
                    skipped[result] += 1
                else:
                    events += 1
                    (FOLDS.get(type(result)) or fold)(result, zone, sessions, mail)
        self.events = events

    @property
    def year_state(self) -> tuple[int, int]:
        """(year, month of the last syslog-style stamp): what the next line's year follows."""
        return self.year, self._last_month

    @year_state.setter
    def year_state(self, state: tuple[int, int]) -> None:
        self.year, self._last_month = state

    def _line(self, raw: str | bytes) -> str | None:
        """``raw`` as text, or ``None`` when it is counted as skipped already; the year kept."""
        if isinstance(raw, bytes):
            if len(raw) > MAX_LINE:
                self.skipped["overlong"] += 1
                return None
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                self.skipped["binary"] += 1
                return None
        if raw[:1] not in DIGITS:
            self._track_year(raw)
        return raw

    def _track_year(self, line: str) -> None:
        """A syslog-style stamp has no year: it moves on when the month drops to January."""
        month = MONTHS.get(line[:3])
        if month is not None:
            if month < self._last_month - 6:
                self.year += 1
            self._last_month = month

    def summary(self) -> dict[str, int]:
        """Lines read, events produced and skipped lines by kind (only kinds seen)."""
        return {"lines": self.lines, "events": self.events, **dict(sorted(self.skipped.items()))}


_SECONDS: dict[tzinfo, dict[str, int]] = {}
"""Per zone: each second of the log (``2026-11-29 01:34:23``) in microseconds from the epoch."""
_SECONDS_MAX = 4096


def _second(key: str, zone: tzinfo, known: dict[str, int]) -> int | None:
    """``micros`` of the second ``key`` (remembered in ``known``); ``None`` if it is no date."""
    try:
        value = micros(_fromiso(key), zone)
    except ValueError:
        return None
    if len(known) >= _SECONDS_MAX:
        known.clear()
    known[key] = value
    return value

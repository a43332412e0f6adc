"""A piece of a log folded in a worker process: the worker side of ingest's workers.

Ingest (follow.py) cuts the log into pieces of whole lines and hands each to a worker
(``python -m autoconf.events.pieces``, started by ``workers.Workers``); the worker folds it
into session rows and mail rows exactly as ``Parser.fold`` does in the ingest process, and
sends the rows back. This module imports only the parser, so a worker starts in a tenth of
a second. A worker exits when its input closes (the ingest ended, or was killed); it never
touches the store.

Frames on the pipes are a 4-byte length and a ``marshal`` of plain values (lists, tuples,
str, numbers: what rows are made of, read back several times faster than a pickle; both
ends are the same Python, as marshal requires): to the worker ``(domain, zone key)`` once,
then ``(seq, year, month, data)`` per piece; back the fields of ``Folded``.

Syslog-style stamps carry no year, so each piece is folded from the year and month the
pieces before it end with (``Parser.year_state``). Ingest cannot know that before they are
folded: it guesses (``predict_year``) and checks the guess when the piece comes back; a
piece folded from a wrong guess (a year boundary inside a piece, say) is folded again in
the ingest process from the right one.
"""

from __future__ import annotations

import marshal
import struct
import sys
from datetime import UTC, timedelta, timezone
from typing import TYPE_CHECKING, Any, BinaryIO, Final, NamedTuple
from zoneinfo import ZoneInfo

from autoconf.events.dovecot_general import MONTHS
from autoconf.events.dovecot_log import Parser

if TYPE_CHECKING:
    from datetime import tzinfo

    from autoconf.events.sessions import MailRow, Row

FRAME: Final = struct.Struct("!I")
_MONTHS_BYTES: Final = {name.encode(): number for name, number in MONTHS.items()}


class Folded(NamedTuple):
    """One piece of the log, folded: what ingest writes in one transaction."""

    seq: int
    sessions: list[Row]
    mail: list[MailRow]
    lines: int
    events: int
    skipped: dict[str, int]
    start: tuple[int, int]
    """The (year, month) the piece was folded from (see ``Parser.year_state``)."""
    end: tuple[int, int]
    """The (year, month) after its last line: where the next piece starts."""


def fold_piece(parser: Parser, seq: int, data: bytes, zone: tzinfo) -> Folded:
    """Fold ``data`` (whole lines) with ``parser``: the rows and the counts it added."""
    start = parser.year_state
    lines, events, skipped = parser.lines, parser.events, dict(parser.skipped)
    sessions: dict[str, Row] = {}
    mail: list[MailRow] = []
    parser.fold(data.decode("utf-8", "surrogateescape"), zone, sessions, mail)
    grown = {k: v - skipped.get(k, 0) for k, v in parser.skipped.items() if v != skipped.get(k)}
    return Folded(seq, list(sessions.values()), mail, parser.lines - lines,
                  parser.events - events, grown, start, parser.year_state)  # fmt: skip


def predict_year(state: tuple[int, int], data: bytes) -> tuple[int, int]:
    """The (year, month) after ``data``, guessed from its first and last line only.

    Right whenever the months in a piece only move forward (a year boundary shows as a
    January last line after a December first line); ``Folded.start`` tells when not.
    """
    year, month = state
    cut = data.rfind(b"\n", 0, len(data) - 1) + 1
    for head in (data[:3], data[cut : cut + 3]):
        seen = _MONTHS_BYTES.get(head)
        if seen is not None:
            if seen < month - 6:
                year += 1
            month = seen
    return year, month


def zone_key(zone: tzinfo) -> str | int:
    """The log's zone as marshal can carry it: an IANA key, or a fixed offset in seconds."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None)
    if isinstance(zone, timezone) and offset is not None:
        return int(offset.total_seconds())
    msg = f"The time zone {zone!r} cannot be handed to an ingest worker."
    raise ValueError(msg)


def zone_of(key: str | int) -> tzinfo:
    """``zone_key`` back."""
    if isinstance(key, str):
        return ZoneInfo(key)
    return UTC if key == 0 else timezone(timedelta(seconds=key))


def frame(value: Any) -> bytes:
    """``value`` as one frame."""
    payload = marshal.dumps(value)
    return FRAME.pack(len(payload)) + payload


def _read_frame(source: BinaryIO) -> Any | None:
    header = source.read(FRAME.size)
    if len(header) < FRAME.size:
        return None
    (size,) = FRAME.unpack(header)
    payload = source.read(size)
    if len(payload) < size:
        return None
    return marshal.loads(payload)  # noqa: S302 - frames of the ingest that started us


def main() -> None:
    """A worker: fold each piece read from standard input, write the rows to standard out."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    config = _read_frame(source)
    if config is None:
        return
    domain, key = config
    zone = zone_of(key)
    parser = Parser(year=1970, default_domain=domain)
    while (piece := _read_frame(source)) is not None:
        seq, year, month, data = piece
        parser.year_state = (year, month)
        try:
            sink.write(frame(tuple(fold_piece(parser, seq, data, zone))))
            sink.flush()
        except BrokenPipeError:  # the ingest is gone
            return


if __name__ == "__main__":
    main()

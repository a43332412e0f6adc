"""Server-drawn charts and the device timeline: valid SVG, escaped labels, honest scales."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from autoconf.events import devices
from autoconf.events.sessions import Session
from autoconf.web.charts import Series, bar_chart, nice_ceiling, number, time_chart
from autoconf.web.support.timeline import Labels, device_of, draw

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script>&'
NOW = 1_800_000_000.0


def parse(svg: str) -> ET.Element:
    """The drawing as XML (fails on anything that is not well-formed)."""
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    """Every text and title in the drawing."""
    return [e.text or "" for e in root.iter() if e.tag in (f"{SVG}text", f"{SVG}title")]


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (499, 500), (501, 1000)]
)
def test_nice_ceiling(value, ceiling):
    """Axes end at 1, 2 or 5 times a power of ten at or above the largest value."""
    assert nice_ceiling(value) == pytest.approx(ceiling)


def test_numbers_are_short():
    """Axis and bar labels: whole numbers as such, big ones in thousands."""
    assert [number(3), number(2.5), number(12_500)] == ["3", "2.5", "12.5k"]


def test_line_chart_escapes_labels_and_scales():
    """A hostile series name and x label stay text; the top grid line is the nice ceiling."""
    svg = time_chart(HOSTILE, ["a", HOSTILE], [Series(HOSTILE, [3, 7])])
    assert "<script>" not in svg
    root = parse(svg)
    assert HOSTILE in texts(root)
    assert root.get("aria-label") == HOSTILE
    assert "10" in texts(root)
    assert len(root.findall(f"{SVG}polyline")) == 1
    assert len(root.findall(f"{SVG}circle")) == 2


def test_stacked_areas_add_up():
    """Stacked areas: one polygon per series, the scale fits the sums."""
    root = parse(time_chart("share", ["d1", "d2"], [Series("POP3", [40, 10]),
                                                    Series("IMAP", [60, 90])],
                            stacked=True, unit="%"))  # fmt: skip
    assert len(root.findall(f"{SVG}polygon")) == 2
    assert "100%" in texts(root)


def test_no_data_says_so():
    """No values (or only zeros): one sentence instead of an empty frame."""
    for svg in (time_chart("t", [], [], empty="Nothing here."),
                bar_chart("t", ["a"], [Series("s", [0])], empty="Nothing here.")):  # fmt: skip
        assert "Nothing here." in texts(parse(svg))


def test_series_must_match_the_labels():
    """A series with more or fewer values than labels is a programming error, said plainly."""
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        time_chart("t", ["a", "b"], [Series("s", [1])])
    with pytest.raises(ValueError, match="has 1 values for 2 labels"):
        bar_chart("t", ["a", "b"], [Series("s", [1])])


def test_stacked_bars_with_legend_and_totals():
    """Bars stack their series, print the total and, for several series, a legend."""
    root = parse(bar_chart("setup", ["autoconfig", HOSTILE],
                           [Series("thunderbird", [3, 0]), Series("outlook", [1, 2])]))  # fmt: skip
    assert len(root.findall(f"{SVG}rect")) == 3 + 2  # three segments, two legend squares
    assert {"4", "2", "thunderbird", "outlook"} <= set(texts(root))
    assert HOSTILE in texts(root)


def test_long_labels_are_cut_but_kept_in_the_tooltip():
    """A label longer than the column is cut with an ellipsis; its title holds it whole."""
    label = "K-9 Mail 6.8 on a very long Android build name"
    root = parse(bar_chart("clients", [label], [Series("sessions", [5])]))
    shown = texts(root)
    assert label in shown
    assert any(t.endswith("…") and label.startswith(t[:-1]) for t in shown)


def sessions() -> list[Session]:
    """A phone (IMAP) and a PC (POP3, deleting 3 of 3)."""
    return [
        Session(key="i1", mailbox="a@x", protocol="imap", rip="203.0.113.5", started_at=NOW - 900,
                ended_at=NOW - 895, client_name=HOSTILE, client_os="iOS"),
        Session(key="p1", mailbox="a@x", protocol="pop3", rip="198.51.100.7", lport=995,
                started_at=NOW - 600, ended_at=NOW - 598, retrieved=3, deleted=3),
        Session(key="p2", mailbox="a@x", protocol="pop3", rip="198.51.100.7", lport=995,
                started_at=NOW - 300, ended_at=NOW - 299),
    ]  # fmt: skip


def test_sessions_find_their_device():
    """Each session maps to the device devices.build put it in (an empty POP3 check too)."""
    found = devices.build(sessions())
    assert [device_of(s, found).protocol for s in sessions()] == ["imap", "pop3", "pop3"]  # type: ignore[union-attr]
    stranger = Session(key="z", protocol="imap", rip="192.0.2.1", client_name="Other")
    assert device_of(stranger, found) is None


def test_timeline_marks_the_deleting_session():
    """One row per device; the deleting session is red with its count; names are escaped."""
    found = devices.build(sessions())
    svg = draw(found, sessions(), NOW, Labels("Devices", "deleted {count}"))
    assert "<script>" not in svg
    root = parse(svg)
    circles = root.findall(f"{SVG}circle")
    assert [c.get("class") for c in circles].count("deleting") == 1
    assert len(circles) == 3
    assert "-3" in texts(root)
    assert any("deleted 3" in t for t in texts(root))
    assert draw([], [], NOW, Labels("Devices", "deleted {count}")) == ""


def test_counts_get_whole_axis_labels_and_their_own_colour():
    """Small counts: the axis runs 0..4 in whole steps; a series keeps the colour it names."""
    root = parse(time_chart("risk", ["a", "b"], [Series("critical", [0, 1], "#d1242f")]))
    assert {"0", "1", "2", "3", "4"} <= set(texts(root))
    assert "0.25" not in texts(root)
    (line,) = root.findall(f"{SVG}polyline")
    assert line.get("stroke") == "#d1242f"


def test_first_series_is_drawn_on_top_where_lines_meet():
    """Critical and warning both at 1: the critical line is the one the eye sees (drawn last)."""
    svg = time_chart(
        "At risk",
        ["a", "b"],
        [Series("critical", [1, 1], "#d1242f"), Series("warning", [1, 1], "#bf8700")],
    )
    lines = re.findall(r'<polyline[^>]*stroke="([^"]+)"', svg)
    assert lines == ["#bf8700", "#d1242f"]

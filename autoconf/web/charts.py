"""Small SVG charts drawn on the server: lines or stacked areas over time, stacked bars.

Pure: numbers and labels in, an ``<svg>`` string out. Every label passes through
``html.escape``, so a client name from the wire cannot break out of the drawing; the
result is meant to be inlined into an HTML page as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PALETTE = ("#1f6feb", "#d1242f", "#bf8700", "#1a7f37", "#8250df", "#57606a", "#0e8a8a")
WIDTH = 640
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 12, 28
LEGEND_ROW = 18
MAX_X_LABELS = 8
GRID_LINES = 4
BAR_HEIGHT = 18
BAR_GAP = 6
BAR_LABEL = 170  # width of the label column of a bar chart
MAX_LABEL = 28  # characters of a label shown before it is cut


@dataclass(frozen=True, slots=True)
class Series:
    """One named line (or area, or bar segment) and its values, one per x position."""

    name: str
    values: Sequence[float]
    color: str | None = None  # a CSS colour; None: the palette's next one


def _color(series: Sequence[Series], index: int) -> str:
    return escape(series[index].color or PALETTE[index % len(PALETTE)])


def _ceiling(series: Sequence[Series], tops: list[list[float]]) -> float:
    """The top of the value axis; at least GRID_LINES for counts, so its labels are whole."""
    ceiling = nice_ceiling(max(max(t) for t in tops))
    if ceiling < GRID_LINES and all(float(v).is_integer() for s in series for v in s.values):
        return float(GRID_LINES)
    return ceiling


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for 0)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return 10.0 * power  # pragma: no cover - the loop always returns


def number(value: float) -> str:
    """A value as an axis or bar label: 1234 -> 1234, 1.5 -> 1.5, 12500 -> 12.5k."""
    if abs(value) >= 10_000:  # noqa: PLR2004
        return f"{value / 1000:.3g}k"
    return f"{value:.3g}" if value != int(value) else str(int(value))


def short(label: str) -> str:
    """A label cut to MAX_LABEL characters (the whole one stays in the tooltip)."""
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _open(title: str, height: int) -> list[str]:
    t = escape(title)
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{t}"'
            f' viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        ),
        f"<title>{t}</title>",
    ]


def _empty(title: str, empty: str) -> str:
    parts = _open(title, 60)
    parts.append(f'<text x="{WIDTH / 2:g}" y="34" text-anchor="middle" class="empty">')
    parts.append(f"{escape(empty)}</text></svg>")
    return "".join(parts)


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts = []
    x = float(LEFT)
    for index, s in enumerate(series):
        color = _color(series, index)
        shown = short(s.name)
        parts.append(
            f'<rect x="{x:g}" y="{y - 10:g}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14:g}" y="{y:g}" class="legend">{escape(shown)}</text>'
        )
        x += 24 + 7 * len(shown)
        if x > WIDTH - 120:
            x = float(LEFT)
            y += LEGEND_ROW
    return parts


def _legend_height(names: Sequence[str]) -> int:
    rows, x = 1, float(LEFT)
    for name in names:
        x += 24 + 7 * len(short(name))
        if x > WIDTH - 120:
            x, rows = float(LEFT), rows + 1
    return rows * LEGEND_ROW + 6


def time_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    empty: str = "no data",
    unit: str = "",
    height: int = 220,
) -> str:
    """Lines over time, or stacked areas when ``stacked``; ``x_labels`` name the positions."""
    count = len(x_labels)
    if count == 0 or not series or all(v == 0 for s in series for v in s.values):
        return _empty(title, empty)
    for s in series:
        if len(s.values) != count:
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {count} labels")
    legend = _legend_height([s.name for s in series])
    plot_h = height - TOP - BOTTOM
    plot_w = WIDTH - LEFT - RIGHT
    base = [0.0] * count
    tops: list[list[float]] = []
    for s in series:
        top = [b + v for b, v in zip(base, s.values, strict=True)] if stacked else list(s.values)
        tops.append(top)
        if stacked:
            base = top
    ceiling = _ceiling(series, tops)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / ceiling)

    parts = _open(title, height + legend)
    for step in range(GRID_LINES + 1):
        value = ceiling * step / GRID_LINES
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}"'
            f' class="grid"/><text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end"'
            f' class="axis">{escape(number(value) + unit)}</text>'
        )
    every = max(1, math.ceil(count / MAX_X_LABELS))
    for i in range(0, count, every):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle" class="axis">'
            f"{escape(x_labels[i])}</text>"
        )
    parts += _plot(series, tops, x_labels, x, y, stacked=stacked, unit=unit)
    parts.extend(_legend(series, height + LEGEND_ROW - 4))
    parts.append("</svg>")
    return "".join(parts)


def _plot(
    series: Sequence[Series],
    tops: list[list[float]],
    x_labels: Sequence[str],
    x: Callable[[int], float],
    y: Callable[[float], float],
    *,
    stacked: bool,
    unit: str,
) -> list[str]:
    """The lines (or stacked areas) and their dots with tooltips."""
    parts = []
    below = [0.0] * len(x_labels)
    drawn = list(enumerate(zip(series, tops, strict=True)))
    if not stacked:  # lines that meet: the first series (e.g. critical) is drawn last, on top
        drawn.reverse()
    for index, (s, top) in drawn:
        color = _color(series, index)
        line = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(top))
        name = escape(s.name)
        if stacked:
            back = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in reversed(list(enumerate(below))))
            parts.append(
                f'<polygon points="{line} {back}" fill="{color}" fill-opacity="0.75"'
                f' class="area"><title>{name}</title></polygon>'
            )
            below = top
        else:
            parts.append(
                f'<polyline points="{line}" fill="none" stroke="{color}" stroke-width="2"'
                f' class="line"><title>{name}</title></polyline>'
            )
        for i, v in enumerate(s.values):
            tip = escape(f"{s.name}, {x_labels[i]}: {number(v)}{unit}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(top[i]):.1f}" r="2.5" fill="{color}">'
                f"<title>{tip}</title></circle>"
            )
    return parts


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    empty: str = "no data",
    unit: str = "",
) -> str:
    """Horizontal bars, one per label, stacked from the series' values (a legend if >1)."""
    rows = len(labels)
    for s in series:
        if len(s.values) != rows:
            raise ValueError(f"series {s.name!r} has {len(s.values)} values for {rows} labels")
    totals = [sum(s.values[i] for s in series) for i in range(rows)]
    if rows == 0 or not series or all(t == 0 for t in totals):
        return _empty(title, empty)
    legend = _legend_height([s.name for s in series]) if len(series) > 1 else 0
    height = TOP + rows * (BAR_HEIGHT + BAR_GAP) + 8
    plot_w = WIDTH - BAR_LABEL - RIGHT - 56
    ceiling = max(totals)
    parts = _open(title, height + legend)
    for row, label in enumerate(labels):
        top = TOP + row * (BAR_HEIGHT + BAR_GAP)
        parts.append(
            f'<text x="{BAR_LABEL - 8}" y="{top + BAR_HEIGHT - 5}" text-anchor="end"'
            f' class="axis">{escape(short(label))}<title>{escape(label)}</title></text>'
        )
        x = float(BAR_LABEL)
        for index, s in enumerate(series):
            value = s.values[row]
            if value <= 0:
                continue
            width = plot_w * value / ceiling
            tip = escape(f"{label} · {s.name}: {number(value)}{unit}")
            parts.append(
                f'<rect x="{x:.1f}" y="{top}" width="{max(width, 1):.1f}" height="{BAR_HEIGHT}"'
                f' fill="{_color(series, index)}"><title>{tip}</title></rect>'
            )
            x += width
        parts.append(
            f'<text x="{x + 6:.1f}" y="{top + BAR_HEIGHT - 5}" class="value">'
            f"{escape(number(totals[row]) + unit)}</text>"
        )
    if len(series) > 1:
        parts.extend(_legend(series, height + LEGEND_ROW - 4))
    parts.append("</svg>")
    return "".join(parts)

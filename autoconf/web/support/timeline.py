"""The device timeline of the mailbox page: one row per device, its sessions as dots.

Pure: devices, sessions and the clock in, an ``<svg>`` string out (labels escaped). A
session that deleted mail is drawn red with the number it deleted; every dot has a tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING

from autoconf.events.devices import network_of
from autoconf.web.charts import short

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from autoconf.events.devices import Device
    from autoconf.events.sessions import Session

WIDTH = 640
LABEL = 190
RIGHT = 16
ROW = 36
TOP = 10
AXIS = 26
TICKS = 3
MIN_SPAN = 3600.0
COLORS = {"session": "#1f6feb", "deleting": "#d1242f", "span": "#d0d7de", "setup": "#8250df"}


@dataclass(frozen=True, slots=True)
class Labels:
    """The words the drawing uses, in the page's language."""

    title: str
    deleted: str  # "deleted {count}"


def _imap_ident(s: Session) -> str:
    return f"{(s.client_name or '').lower()}|{(s.client_os or '').lower()}"


def device_of(session: Session, devices: Sequence[Device]) -> Device | None:
    """The device a session belongs to (the way devices.build grouped it), if any."""
    network = network_of(session.rip)
    if session.protocol == "imap":
        ident = _imap_ident(session) if (session.client_name or session.client_os) else ""
        key = f"imap|{ident}|{network}"
        return next((d for d in devices if d.key == key), None)
    if session.protocol == "pop3":
        base = f"pop3|{session.lport or ''}|"
        pattern = "TOP" if session.top else "RETR" if session.retrieved else None
        candidates = [d for d in devices if d.key.startswith(base) and d.network == network]
        if pattern is not None:
            exact = f"{base}{pattern}|{network}"
            return next((d for d in candidates if d.key == exact), None)
        return max(candidates, key=lambda d: d.last_seen, default=None)
    return None


def _removed(s: Session) -> int:
    return (s.deleted or 0) if s.protocol == "pop3" else (s.expunged or 0)


def _stamp(moment: float, span: float) -> str:
    at = datetime.fromtimestamp(moment, UTC)
    return at.strftime("%m-%d %H:%M" if span < 3 * 86400 else "%Y-%m-%d")


def draw(
    devices: Sequence[Device],
    sessions: Sequence[Session],
    now: float,
    labels: Labels,
    words: Callable[[str], str] = str,
) -> str:
    """The timeline SVG of these devices and their sessions, up to ``now``.

    ``words`` puts a device's client description into the page's language.
    """
    if not devices:
        return ""
    start = min(d.first_seen for d in devices)
    end = max(now, *(d.last_seen for d in devices))
    span = max(end - start, MIN_SPAN)
    start = min(start, end - span)
    plot = WIDTH - LABEL - RIGHT
    height = TOP + ROW * len(devices) + AXIS

    def x(moment: float) -> float:
        return LABEL + plot * (moment - start) / span

    title = escape(labels.title)
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img"'
            f' aria-label="{title}" viewBox="0 0 {WIDTH} {height}" width="100%">'
            f"<title>{title}</title>"
        )
    ]
    for step in range(TICKS + 1):
        moment = start + span * step / TICKS
        anchor = "start" if step == 0 else "end" if step == TICKS else "middle"
        parts.append(
            f'<line x1="{x(moment):.1f}" x2="{x(moment):.1f}" y1="{TOP}" y2="{height - AXIS}"'
            f' class="grid"/><text x="{x(moment):.1f}" y="{height - 8}" text-anchor="{anchor}"'
            f' class="axis">{escape(_stamp(moment, span))}</text>'
        )
    rows = {d.key: index for index, d in enumerate(devices)}
    for index, device in enumerate(devices):
        y = TOP + ROW * index + ROW / 2
        name = f"{device.protocol.upper()} · {words(device.client)}"
        color = COLORS["setup"] if device.protocol == "setup" else COLORS["span"]
        parts.append(
            f'<text x="4" y="{y - 3:.1f}" class="device">{escape(short(name))}'
            f"<title>{escape(name)}</title></text>"
            f'<text x="4" y="{y + 11:.1f}" class="network">{escape(device.network)}</text>'
            f'<rect x="{x(device.first_seen):.1f}" y="{y - 3:.1f}"'
            f' width="{max(x(device.last_seen) - x(device.first_seen), 2):.1f}" height="6"'
            f' rx="3" fill="{color}"><title>{escape(name)}</title></rect>'
        )
    for s in sessions:
        owner = device_of(s, devices)
        at = s.started_at if s.started_at is not None else s.ended_at
        if owner is None or at is None:
            continue
        device, moment = owner, at
        y = TOP + ROW * rows[device.key] + ROW / 2
        removed = _removed(s)
        kind = "deleting" if removed else "session"
        tip = f"{device.protocol.upper()} {words(device.client)}: {_stamp(moment, 0)}"
        if s.retrieved:
            tip += f", RETR {s.retrieved}"
        if removed:
            tip += ", " + labels.deleted.format(count=removed)
        parts.append(
            f'<circle cx="{x(moment):.1f}" cy="{y:.1f}" r="{6 if removed else 4}"'
            f' fill="{COLORS[kind]}" class="{kind}"><title>{escape(tip)}</title></circle>'
        )
        if removed:
            parts.append(
                f'<text x="{x(moment):.1f}" y="{y - 9:.1f}" text-anchor="middle"'
                f' class="removed">-{removed}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)

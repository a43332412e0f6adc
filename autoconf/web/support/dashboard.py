"""GET /support/dashboard: the operations view, charts drawn on the server from the store.

POP3 vs IMAP share per day, mailboxes at risk per day by severity (incidents open at the end
of each day), the client mix (setup requests by client kind, IMAP sessions by IMAP ID name),
setup requests by endpoint and client, sessions ingested per hour, the ingest lag and what
the event receiver skipped.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from markupsafe import Markup

from autoconf.diagnosis.findings import SEVERITIES
from autoconf.web.charts import Series, bar_chart, time_chart
from autoconf.web.keys import EVENTS, STORE
from autoconf.web.support.render import current, duration, language, page, render, when
from autoconf.web.support.words import WORDS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from aiohttp import web

DAY = 86400.0
HOUR = 3600.0
DEFAULT_DAYS = 30
MAX_DAYS = 90
INGEST_HOURS = 48
TOP_CLIENTS = 10
SEVERITY_COLORS = {"critical": "#d1242f", "warning": "#bf8700", "info": "#57606a"}
TITLES = ("chart_share", "chart_risk", "chart_clients", "chart_imap_ids", "chart_setup",
          "chart_ingest", "skipped_title")  # fmt: skip


def _days(request: web.Request) -> int:
    raw = request.query.get("days", "")
    if raw.isascii() and raw.isdigit() and 1 <= int(raw[:3]) <= MAX_DAYS:
        return int(raw[:3])
    return DEFAULT_DAYS


def _buckets(start: float, count: int, size: float) -> list[float]:
    first = start - start % size
    return [first + i * size for i in range(count)]


def _label(moment: float, size: float) -> str:
    at = datetime.fromtimestamp(moment, UTC)
    return at.strftime("%H:%M" if size < DAY else "%m-%d")


def share_chart(
    rows: list[tuple[float, str, int]], days: list[float], words: Mapping[str, str]
) -> str:
    """POP3 and IMAP sessions per day as shares of 100 %."""
    counts: dict[tuple[float, str], int] = {(t, p): n for t, p, n in rows}
    pop3, imap = [], []
    for day in days:
        total = counts.get((day, "pop3"), 0) + counts.get((day, "imap"), 0)
        pop3.append(100.0 * counts.get((day, "pop3"), 0) / total if total else 0.0)
        imap.append(100.0 * counts.get((day, "imap"), 0) / total if total else 0.0)
    return time_chart(
        words["chart_share"],
        [_label(d, DAY) for d in days],
        [Series("POP3", pop3, "#d1242f"), Series("IMAP", imap, "#1f6feb")],
        stacked=True,
        empty=words["no_data"],
        unit="%",
    )


def risk_chart(
    rows: list[tuple[float, str, int]], moments: list[float], words: Mapping[str, str]
) -> str:
    """Mailboxes with an open incident at the end of each day, one line per severity."""
    counts = {(t, s): n for t, s, n in rows}
    series = [
        Series(
            words[f"severity_{s}"],
            [float(counts.get((m, s), 0)) for m in moments],
            SEVERITY_COLORS[s],
        )
        for s in SEVERITIES
    ]
    return time_chart(
        words["chart_risk"],
        [_label(m - 1, DAY) for m in moments],
        series,
        empty=words["no_data"],
    )


def setup_charts(rows: list[tuple[str, str, int]], words: Mapping[str, str]) -> tuple[str, str]:
    """Setup requests by client kind, and by endpoint stacked by client kind."""
    by_client: dict[str, int] = {}
    for _, client, n in rows:
        by_client[client] = by_client.get(client, 0) + n
    clients = sorted(by_client, key=lambda c: -by_client[c])
    mix = bar_chart(
        words["chart_clients"],
        clients,
        [Series(words["chart_clients"], [float(by_client[c]) for c in clients])],
        empty=words["no_data"],
    )
    endpoints = sorted({e for e, _, _ in rows})
    counts = {(e, c): n for e, c, n in rows}
    by_endpoint = bar_chart(
        words["chart_setup"],
        endpoints,
        [Series(c, [float(counts.get((e, c), 0)) for e in endpoints]) for c in clients],
        empty=words["no_data"],
    )
    return mix, by_endpoint


def imap_id_chart(rows: list[tuple[str, int]], words: Mapping[str, str]) -> str:
    """IMAP sessions by the client name they sent with IMAP ID."""
    names = [name or words["no_id"] for name, _ in rows]
    return bar_chart(
        words["chart_imap_ids"],
        names,
        [Series(words["sessions"], [float(n) for _, n in rows])],
        empty=words["no_data"],
    )


def ingest_chart(
    rows: list[tuple[float, str, int]], hours: list[float], words: Mapping[str, str]
) -> str:
    """Sessions ingested per hour (both protocols)."""
    per_hour: dict[float, int] = {}
    for t, _, n in rows:
        per_hour[t] = per_hour.get(t, 0) + n
    return time_chart(
        words["chart_ingest"],
        [_label(h, HOUR) for h in hours],
        [Series(words["sessions"], [float(per_hour.get(h, 0)) for h in hours])],
        empty=words["no_data"],
    )


def skipped_chart(summary: Mapping[str, int], words: Mapping[str, str]) -> str:
    """What the event receiver of this process got, made into events, and skipped by kind."""
    labels = list(summary)
    return bar_chart(
        words["skipped_title"],
        labels,
        [Series(words["skipped_title"], [float(summary[k]) for k in labels])],
        empty=words["no_data"],
    )


TROUBLED_DOMAINS = 20  # failing, then warning domains listed (the API pages through all)


@page
async def dashboard(request: web.Request) -> web.StreamResponse:
    """The charts of the last ``?days=`` days (30 unless said)."""
    current(request)
    lang = language(request)
    words = WORDS[lang]
    store = request.app[STORE]
    now = time.time()
    days = _days(request)
    day_starts = _buckets(now - (days - 1) * DAY, days, DAY)
    moments = [min(d + DAY, now) for d in day_starts]
    hours = _buckets(now - (INGEST_HOURS - 1) * HOUR, INGEST_HOURS, HOUR)
    since = day_starts[0]
    mix, by_endpoint = setup_charts(await store.setup_requests(since), words)
    receiver = request.app.get(EVENTS)
    summary = receiver.parser.summary() if receiver is not None else {}
    state = await store.ingest_state()
    charts = [
        share_chart(await store.session_counts(since, DAY), day_starts, words),
        risk_chart(await store.at_risk(moments), moments, words),
        mix,
        imap_id_chart(await store.imap_clients(since, TOP_CLIENTS), words),
        by_endpoint,
        ingest_chart(await store.session_counts(hours[0], HOUR), hours, words),
        skipped_chart(summary, words),
    ]
    lag = None
    if state.newest_event_at is not None:
        lag = words["ingest_lag"].format(
            when=when(state.newest_event_at, lang),
            lag=duration(max(0.0, now - state.newest_event_at), lang),
        )
    sources = [
        words["ingest_source"].format(source=source, when=when(at, lang))
        for source, at in state.sources
    ]
    counts = await store.domain_health_counts()
    domains = None
    if any(counts.values()):
        domains = words["domains_counts"].format(
            fail=counts.get("fail", 0), warn=counts.get("warn", 0), ok=counts.get("pass", 0)
        )
    troubled = [
        {
            "domain": h.domain,
            "status": h.status,
            "word": words[f"status_{h.status}"],
            "checked": when(h.checked_at, lang),
            "summary": h.summary,
        }
        for status in ("fail", "warn")
        for h in await store.domain_healths(status=status, limit=TROUBLED_DOMAINS)
    ]
    return render(
        request,
        "dashboard.html",
        days=days,
        # charts.py escapes every label of the drawings
        charts=[(words[k], Markup(c)) for k, c in zip(TITLES, charts, strict=True)],  # noqa: S704
        lag=lag,
        sources=sources,
        domains=domains,
        troubled=troubled,
    )

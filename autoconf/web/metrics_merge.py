"""The metrics of pre-forked workers as one: snapshots in a private directory, merged.

With ``serve --workers N`` a scrape reaches one worker. The workers share a directory the
supervisor made for this run. The worker that is scraped writes the time the scrape began
to ``want``; every worker looks at that file every POLL_SECONDS and, when a scrape wants a
newer snapshot than its last, writes its samples to ``<pid>.json`` (and every IDLE_SECONDS
anyway). The scraped worker waits for all of them (FRESH_WAIT at most: a hung worker is
taken as it was), then merges them with its own current samples. So a scrape counts every
request answered before it began, whichever worker answers it, and costs a few tens of
milliseconds; the request path pays nothing. Counters and histograms are summed, gauges
merged as each one says (``GAUGE_MERGE``: sum, min, max). When a worker dies the supervisor
renames its file to ``<pid>.dead.json``: its counters stay in the sums (totals never go
backwards; what it counted after its last snapshot is lost), its gauges leave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

POLL_SECONDS = 0.05
IDLE_SECONDS = 5.0
FRESH_WAIT = 1.0
WANT = "want"
PREFIX = "autoconf-metrics-"
_SUMMED = frozenset({"counter", "histogram", "summary"})
_SUFFIX_ORDER = {"_bucket": 0, "_count": 1, "_sum": 2}

# One family: (type, help, merge, {(sample name, sorted label pairs): value}).
_Family = tuple[str, str, str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]


def create_dir() -> Path:
    """A fresh private directory for one supervisor; leftovers of dead ones are removed."""
    base = Path(tempfile.gettempdir())
    for old in base.glob(PREFIX + "*"):
        pid = old.name.removeprefix(PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and old.stat().st_uid == os.getuid():
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def retire(path: Path, pid: int) -> None:
    """A worker died: keep its counters in the sums, drop its gauges."""
    with contextlib.suppress(FileNotFoundError):
        (path / f"{pid}.json").rename(path / f"{pid}.dead.json")


def remove_dir(path: Path) -> None:
    """The supervisor stops: remove the directory."""
    shutil.rmtree(path, ignore_errors=True)


def snapshot(registry: CollectorRegistry, merge: Mapping[str, str]) -> list[dict[str, Any]]:
    """The registry's families as JSON-ready dicts (``_created`` samples left out)."""
    families = []
    for family in registry.collect():
        how = "sum" if family.type in _SUMMED else merge.get(family.name, "max")
        samples = [
            [s.name, s.labels, s.value] for s in family.samples if not s.name.endswith("_created")
        ]
        families.append(
            {"name": family.name, "type": family.type, "help": family.documentation,
             "merge": how, "samples": samples}
        )  # fmt: skip
    return families


class SharedDir:
    """The directory the workers share, as one worker writes and reads it."""

    def __init__(self, path: Path, pid: int | None = None) -> None:
        self.path = path
        self.pid = os.getpid() if pid is None else pid

    def write(self, registry: CollectorRegistry, merge: Mapping[str, str]) -> float:
        """Replace this worker's snapshot (atomically: readers never see half a file)."""
        at = time.time()
        data = json.dumps({"at": at, "families": snapshot(registry, merge)}, separators=(",", ":"))
        self._replace(f"{self.pid}.json", data)
        return at

    def _replace(self, name: str, text: str) -> None:
        tmp = self.path / f"{name}.{self.pid}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path / name)

    def _wanted(self) -> float:
        """The start of the newest scrape that asked for snapshots (0: none)."""
        try:
            return float((self.path / WANT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return 0.0

    async def run(self, registry: CollectorRegistry, merge: Mapping[str, str]) -> None:
        """Write a snapshot when a scrape wants one (or after IDLE_SECONDS), and at the end."""
        last = 0.0
        try:
            while True:
                if self._wanted() > last or time.time() - last >= IDLE_SECONDS:
                    last = self.write(registry, merge)
                await asyncio.sleep(POLL_SECONDS)
        finally:
            with contextlib.suppress(OSError):
                self.write(registry, merge)

    async def merged(self, registry: CollectorRegistry, merge: Mapping[str, str]) -> bytes:
        """Every worker's metrics as one exposition, each as of a moment after this call."""
        began = time.time()
        others = self._read()
        while any(not dead and at < began for at, dead, _ in others):
            if time.time() - began > FRESH_WAIT:
                break
            self._replace(WANT, repr(began))  # again each turn: another scrape may overwrite
            await asyncio.sleep(POLL_SECONDS)
            others = self._read()
        families: dict[str, _Family] = {}
        _add(families, snapshot(registry, merge), dead=False)
        for _at, dead, data in others:
            _add(families, data, dead=dead)
        out = CollectorRegistry(auto_describe=False)
        out.register(_Families(families))
        return generate_latest(out)

    def _read(self) -> list[tuple[float, bool, list[dict[str, Any]]]]:
        """The other workers' snapshots: (written at, dead, families)."""
        found = []
        for entry in sorted(self.path.glob("*.json")):
            pid, _, rest = entry.name.partition(".")
            if pid == str(self.pid):
                continue
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # renamed meanwhile: the next scrape reads it under its new name
            found.append((float(data["at"]), rest == "dead.json", data["families"]))
        return found


def _add(families: dict[str, _Family], data: list[dict[str, Any]], *, dead: bool) -> None:
    for family in data:
        how = family["merge"]
        if dead and family["type"] not in _SUMMED:
            continue  # a dead worker's gauges no longer say anything
        name = family["name"]
        if name not in families:
            families[name] = (family["type"], family["help"], how, {})
        values = families[name][3]
        for sample_name, labels, value in family["samples"]:
            key = (sample_name, tuple(sorted(labels.items())))
            old = values.get(key)
            if old is None:
                values[key] = value
            elif how == "sum":
                values[key] = old + value
            elif how == "min":
                values[key] = min(old, value)
            else:
                values[key] = max(old, value)


class _Families(Collector):
    """The merged families, in the order first seen; histogram samples grouped per series."""

    def __init__(self, families: dict[str, _Family]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        for name, (kind, documentation, _how, values) in self._families.items():
            metric = Metric(name, documentation, kind)
            keys = list(values)
            if kind == "histogram":
                keys.sort(key=_histogram_order)
            for sample_name, labels in keys:
                metric.add_sample(sample_name, dict(labels), values[sample_name, labels])
            yield metric


def _histogram_order(key: tuple[str, tuple[tuple[str, str], ...]]) -> tuple[Any, ...]:
    sample_name, labels = key
    series = tuple(pair for pair in labels if pair[0] != "le")
    suffix = next((s for s in _SUFFIX_ORDER if sample_name.endswith(s)), "")
    bound = dict(labels).get("le", "")
    return (series, _SUFFIX_ORDER.get(suffix, 3), float(bound) if bound else 0.0)

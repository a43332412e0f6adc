"""Whole ingest of a Dovecot log into SQLite, against a plain regex parser that stores nothing.

The target (ARCHITECTURE.md §6): the whole ingest — read, parse, join, write to SQLite with
checkpoints — at least as fast as a plain one-regex-per-line parser that keeps nothing.
Memory must stay flat as the file grows: the ingest runs in a child process per size and
its peak resident memory is printed.

    .venv/bin/python bench/ingest_bench.py --lines 300000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from ingest_parse_bench import _Gen, plain_parse

from autoconf.events.follow import Ingest, Options
from autoconf.store.sqlite import SQLiteStore


def write_log(path: Path, lines: int, *, mail_log: bool, seed: int = 7) -> None:
    """A realistic generated log (see ingest_parse_bench.py for the mix), written in pieces."""
    gen = _Gen(seed, mail_log)
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, lines, 10_000):
            out.write("\n".join(gen.lines(min(10_000, lines - start))) + "\n")


async def _ingest(path: Path, db: Path) -> dict[str, object]:
    store = SQLiteStore(db)
    await store.open()
    try:
        options = Options(year=2026, zone=UTC, default_domain="example.com")
        return (await Ingest(store, options).file(path)).as_dict()
    finally:
        await store.close()


def _rss_mb() -> float:
    """Resident memory now (not ru_maxrss: a forked child inherits its parent's peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 1e6


def child(path: Path, db: Path) -> None:
    """Run one ingest and print its wall time and peak RSS as JSON (in a fresh process)."""
    peak = _rss_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _rss_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start, cpu = time.perf_counter(), time.process_time()
    summary = asyncio.run(_ingest(path, db))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    done.set()
    sampler.join()
    rss = max(peak, _rss_mb())
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mb": rss, "summary": summary}))


def run_child(path: Path, db: Path) -> dict[str, object]:
    """The ingest in a child process, so its memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), str(db)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout)
    return result


def plain_seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU time of the plain parser reading the file and storing nothing."""
    start, cpu = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8", newline="") as fh:
        plain_parse(fh.readlines())
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    """Generate logs, time both paths interleaved, print lines/s, ratio and memory."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lines", type=int, default=300_000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--child", nargs=2, metavar=("LOG", "DB"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="autoconf-ingest-") as tmp:
        for mix in ("stock", "mail_log"):
            log = Path(tmp) / f"{mix}.log"
            write_log(log, args.lines, mail_log=mix == "mail_log")
            plain: list[float] = []
            whole: list[float] = []
            plain_cpu: list[float] = []
            whole_cpu: list[float] = []
            rss: list[float] = []
            for n in range(args.rounds):
                wall, cpu = plain_seconds(log)
                plain.append(wall)
                plain_cpu.append(cpu)
                result = run_child(log, Path(tmp) / f"{mix}-{n}.db")
                whole.append(float(result["seconds"]))  # type: ignore[arg-type]
                whole_cpu.append(float(result["cpu"]))  # type: ignore[arg-type]
                rss.append(float(result["rss_mb"]))  # type: ignore[arg-type]
            t_plain, t_whole = statistics.median(plain), statistics.median(whole)
            c_plain, c_whole = statistics.median(plain_cpu), statistics.median(whole_cpu)
            print(f"== {mix}: {args.lines:,} lines, {log.stat().st_size / 1e6:.1f} MB")
            print(f"   plain regex parser, storing nothing: {args.lines / t_plain:>10,.0f} lines/s"
                  f"   (CPU {c_plain:.2f} s)")  # fmt: skip
            print(f"   autoconf ingest into SQLite:        {args.lines / t_whole:>10,.0f} lines/s"
                  f"   (CPU {c_whole:.2f} s, both threads)")  # fmt: skip
            print(f"   ratio (ingest / plain parser): {t_plain / t_whole:.2f}x wall, "
                  f"{c_plain / c_whole:.2f}x CPU   peak RSS {max(rss):.0f} MB")  # fmt: skip
        big = Path(tmp) / "big.log"
        write_log(big, args.lines * 3, mail_log=False)
        result = run_child(big, Path(tmp) / "big.db")
        print(f"== memory: {args.lines * 3:,} lines -> peak RSS {result['rss_mb']:.0f} MB "
              "(compare with the stock run above: flat means the file is streamed)")  # fmt: skip


if __name__ == "__main__":
    main()

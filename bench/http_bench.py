"""HTTP benchmark of the setup endpoints against baselines measured in the same run.

Targets, all on loopback, driven by wrk with keep-alive:
  service   `autoconf serve --demo` as a user starts it (request log, sightings, metrics on)
  nginx     the same response bytes served from files, worker_processes 1
  bare      a bare aiohttp handler returning the same bytes (bench/bare_server.py)
  automx2   automx2 from PyPI under gunicorn, 2 workers, seeded with the demo provider

Each (target, endpoint) is warmed up once, then measured in interleaved rounds; the table
shows medians over the rounds and the ratios of ARCHITECTURE.md §6.
Run it through scripts/bench, which installs nginx and wrk first.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None
ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
AUTOCONF = ROOT / ".venv" / "bin" / "autoconf"
OUT = ROOT / "bench" / "out"
AUTOMX2_VENV = OUT / "automx2-venv"
HOST = "127.0.0.1"  # loopback only

GET_PATH = "/mail/config-v1.1.xml?emailaddress=alice@example.com"
POST_PATH = "/autodiscover/autodiscover.xml"
POST_CONTENT_TYPE = "text/xml; charset=utf-8"
POST_BODY = (
    b'<?xml version="1.0" encoding="utf-8"?>\n'
    b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/'
    b'requestschema/2006"><Request><EMailAddress>alice@example.com</EMailAddress>'
    b"<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/"
    b"responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
)

ENDPOINTS = ("autoconfig GET", "autodiscover POST")

# ARCHITECTURE.md §6: (min ratio to automx2, min share of nginx, min share of bare, max p99 ms)
TARGETS: dict[str, dict[str, float | None]] = {
    "autoconfig GET": {"automx2": 40.0, "nginx": 0.30, "bare": 0.70, "p99_ms": 5.0},
    "autodiscover POST": {"automx2": 30.0, "nginx": 0.20, "bare": 0.60, "p99_ms": None},
}

# The provider of autoconf/catalog/demo.toml in automx2's seed format (version 2).
# automx2 derives the socket type from the port (465/993/995 SSL, others STARTTLS) and
# uses %EMAILADDRESS% as user name by default, which matches the demo catalog.
AUTOMX2_SEED: dict[str, Any] = {
    "version": 2,
    "provider": "Example Mail",
    "domains": [{"name": "example.com"}, {"name": "example.net"}],
    "servers": [
        {"name": "imap.example.com", "type": "imap", "port": 993, "prio": 10},
        {"name": "imap.example.com", "type": "imap", "port": 143, "prio": 20},
        {"name": "pop.example.com", "type": "pop", "port": 995, "prio": 10},
        {"name": "smtp.example.com", "type": "smtp", "port": 465, "prio": 10},
        {"name": "smtp.example.com", "type": "smtp", "port": 587, "prio": 20},
    ],
}


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


# --------------------------------------------------------------------------- processes


class Processes:
    """Every child process started here, each in its own session, ended on close()."""

    def __init__(self) -> None:
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        """Start a process in a new session (Ctrl-C reaches only us; we end it)."""
        proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
        self._procs.append((name, proc))
        return proc

    def stop(self, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL if it is still there after timeout."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        # children that outlived their leader (e.g. gunicorn workers)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self._procs = [(n, p) for n, p in self._procs if p is not proc]

    def close(self) -> None:
        """Stop everything still running, newest first."""
        for _name, proc in reversed(list(self._procs)):
            self.stop(proc)


def free_port() -> int:
    """A currently unused TCP port on the loopback address."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def http(
    url: str, body: bytes | None = None, content_type: str | None = None, timeout: float = 5.0
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request: status, headers, body (errors statuses are returned, not raised)."""
    headers = {"Content-Type": content_type} if content_type else {}
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wait_ready(url: str, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    """Poll url until it answers below 500; BenchError if proc dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited with status {proc.returncode} while starting")
        try:
            status, _h, _b = http(url, timeout=1.0)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise BenchError(f"{what} did not answer {url} within {timeout:.0f} s")


# --------------------------------------------------------------------------- targets


@dataclass
class Target:
    """A running server under test."""

    name: str
    base: str
    proc: subprocess.Popen[bytes]
    note: str = ""


def start_service(procs: Processes, tmp: Path, workers: int = 1) -> Target:
    """`autoconf serve --demo` with default settings; JSON log lines go to a file."""
    name = "service" if workers == 1 else f"service-{workers}w"
    port = free_port()
    data = tmp / f"{name}-data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONF_")}
    log = (tmp / f"{name}.log").open("wb")
    cmd = [
        str(AUTOCONF),
        "serve",
        "--demo",
        "--host",
        HOST,
        "--port",
        str(port),
        "--data-dir",
        str(data),
        "--workers",
        str(workers),
    ]
    proc = procs.start(name, cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    base = f"http://{HOST}:{port}"
    wait_ready(base + "/healthz", proc, "the service")
    return Target(name, base, proc, f"pid {proc.pid}, log {tmp / (name + '.log')}")


def fetch_reference(base: str) -> tuple[bytes, bytes]:
    """The service's real answers to the two benchmarked requests."""
    status, headers, get_body = http(base + GET_PATH)
    if status != 200:
        raise BenchError(f"service answered GET with {status}: {get_body[:200]!r}")
    status, headers, post_body = http(base + POST_PATH, POST_BODY, POST_CONTENT_TYPE)
    if status != 200:
        raise BenchError(f"service answered POST with {status}: {post_body[:200]!r}")
    ctype = headers.get("Content-Type", "")
    if ctype.replace(" ", "").lower() != POST_CONTENT_TYPE.replace(" ", ""):
        print(
            f"note: the service's Content-Type is {ctype!r}; baselines send {POST_CONTENT_TYPE!r}"
        )
    return get_body, post_body


NGINX_CONF = """\
# One worker: nginx's norm is one worker per core, but we compare one nginx process
# against one Python process (the service and the bare handler are single processes).
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    types {{ }}
    default_type "{ctype}";
    server {{
        listen {host}:{port};
        root {tmp}/www;
        location = /mail/config-v1.1.xml {{ }}
        # The static module refuses POST with 405; the error page is the same file,
        # served with status 200 (an internal redirect turns the method into GET).
        location = /autodiscover/autodiscover.xml {{
            error_page 405 =200 $uri;
        }}
    }}
}}
"""


def start_nginx(procs: Processes, tmp: Path, get_body: bytes, post_body: bytes) -> Target:
    """nginx with its own config, pid file and error log, serving the bytes from files."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        raise BenchError("nginx is not installed (scripts/bench installs it)")
    ndir = tmp / "nginx"
    (ndir / "www" / "mail").mkdir(parents=True)
    (ndir / "www" / "autodiscover").mkdir(parents=True)
    (ndir / "www" / "mail" / "config-v1.1.xml").write_bytes(get_body)
    (ndir / "www" / "autodiscover" / "autodiscover.xml").write_bytes(post_body)
    # workers run as an unprivileged user when the master is root: let them read the files
    for path in [tmp, *ndir.rglob("*"), ndir]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    port = free_port()
    conf = ndir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=ndir, host=HOST, port=port, ctype=POST_CONTENT_TYPE))
    log = (ndir / "stderr.log").open("wb")
    cmd = [nginx, "-p", str(ndir), "-c", str(conf), "-e", str(ndir / "error.log")]
    proc = procs.start("nginx", cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    wait_ready(base + "/mail/config-v1.1.xml", proc, "nginx")
    return Target("nginx", base, proc, "worker_processes 1")


def start_bare(
    procs: Processes, tmp: Path, get_body: bytes, post_body: bytes, *, uvloop: bool, name: str
) -> Target:
    """bench/bare_server.py in its own process with the project's Python.

    The reference "bare" handler runs on the event loop the service runs on by default
    (uvloop when it is installed), so the ratio compares like with like.
    """
    bdir = tmp / name
    bdir.mkdir()
    (bdir / "get.xml").write_bytes(get_body)
    (bdir / "post.xml").write_bytes(post_body)
    port = free_port()
    cmd = [
        str(VENV_PY),
        str(ROOT / "bench" / "bare_server.py"),
        "--host",
        HOST,
        "--port",
        str(port),
        "--get-file",
        str(bdir / "get.xml"),
        "--post-file",
        str(bdir / "post.xml"),
    ]
    if uvloop:
        cmd.append("--uvloop")
    log = (bdir / "stderr.log").open("wb")
    proc = procs.start(name, cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    wait_ready(base + "/healthz", proc, f"the {name} aiohttp server")
    return Target(name, base, proc, "uvloop" if uvloop else "asyncio loop")


def ensure_automx2(log_path: Path) -> Path:
    """The automx2 venv (automx2 + gunicorn from PyPI), created on first use."""
    gunicorn = AUTOMX2_VENV / "bin" / "gunicorn"
    probe = [str(AUTOMX2_VENV / "bin" / "python"), "-c", "import automx2.server, gunicorn"]
    installed = gunicorn.exists() and subprocess.run(probe, capture_output=True, check=False)
    if installed and installed.returncode == 0:
        return gunicorn
    print(f"installing automx2 and gunicorn into {AUTOMX2_VENV} ...", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        steps = [
            [sys.executable, "-m", "venv", str(AUTOMX2_VENV)],
            [str(AUTOMX2_VENV / "bin" / "pip"), "install", "--quiet", "automx2", "gunicorn"],
        ]
        for step in steps:
            if subprocess.run(step, stdout=log, stderr=subprocess.STDOUT, check=False).returncode:
                raise BenchError(f"'{' '.join(step)}' failed; see {log_path}")
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        raise BenchError(f"automx2 does not import after installing; see {log_path}")
    return gunicorn


def start_automx2(procs: Processes, tmp: Path, workers: int) -> Target:
    """automx2 under gunicorn, its config file in tmp, seeded through its /initdb/ view."""
    adir = tmp / "automx2"
    adir.mkdir()
    gunicorn = ensure_automx2(adir / "install.log")
    conf = adir / "automx2.conf"
    conf.write_text(
        "[automx2]\n"
        "loglevel = WARNING\n"
        "db_echo = no\n"
        f"db_uri = sqlite:///{adir / 'automx2.db'}\n"
        "proxy_count = 0\n"
    )
    port = free_port()
    env = {**os.environ, "AUTOMX2_CONF": str(conf)}
    cmd = [
        str(gunicorn),
        "--workers",
        str(workers),
        "--bind",
        f"{HOST}:{port}",
        "--chdir",
        str(adir),
        "--log-level",
        "warning",
        "automx2.server:app",
    ]
    log = (adir / "gunicorn.log").open("wb")
    proc = procs.start("automx2", cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(base + "/", proc, "automx2 (gunicorn)")
    except BenchError as exc:
        log.flush()
        tail = (adir / "gunicorn.log").read_text(errors="replace").strip().splitlines()[-3:]
        raise BenchError(f"{exc}; gunicorn said: {' | '.join(tail) or '(nothing)'}") from None
    status, _h, body = http(
        base + "/initdb/", json.dumps(AUTOMX2_SEED).encode(), "application/json", timeout=30
    )
    if status != 200:
        raise BenchError(f"automx2 seeding via POST /initdb/ answered {status}: {body[:300]!r}")
    status, _h, body = http(base + GET_PATH)
    if status != 200 or b"imap.example.com" not in body:
        raise BenchError(
            f"automx2 does not answer the autoconfig request after seeding "
            f"(status {status}, {body[:200]!r}); see {adir / 'gunicorn.log'}"
        )
    status, _h, body = http(base + POST_PATH, POST_BODY, POST_CONTENT_TYPE)
    if status != 200 or b"imap.example.com" not in body:
        raise BenchError(
            f"automx2 does not answer the autodiscover request (status {status}, {body[:200]!r})"
        )
    return Target("automx2", base, proc, f"gunicorn --workers {workers}, sync worker")


def check_same_bytes(target: Target, get_body: bytes, post_body: bytes) -> None:
    """A baseline must answer byte-for-byte what the service answers."""
    status, _h, body = http(target.base + GET_PATH)
    if status != 200 or body != get_body:
        raise BenchError(f"{target.name} GET does not return the service's bytes ({status})")
    status, _h, body = http(target.base + POST_PATH, POST_BODY, POST_CONTENT_TYPE)
    if status != 200 or body != post_body:
        raise BenchError(f"{target.name} POST does not return the service's bytes ({status})")


# --------------------------------------------------------------------------- wrk

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_LAT = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_SOCKERR = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_NON2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")

POST_LUA = """\
local f = assert(io.open("{body}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "{ctype}"
"""


@dataclass
class Run:
    """One wrk run, parsed."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    socket_errors: int
    non_2xx: int


def parse_wrk(text: str) -> Run:
    """Requests/sec, p50/p99 in ms, request count and error counts from wrk's report."""
    rps = _RPS.search(text)
    lat = {m.group(1): float(m.group(2)) * _UNIT_MS[m.group(3)] for m in _LAT.finditer(text)}
    total = _TOTAL.search(text)
    if rps is None or "50" not in lat or "99" not in lat or total is None:
        raise BenchError(f"cannot parse wrk output:\n{text}")
    errors = _SOCKERR.search(text)
    non2xx = _NON2XX.search(text)
    return Run(
        rps=float(rps.group(1)),
        p50_ms=lat["50"],
        p99_ms=lat["99"],
        requests=int(total.group(1)),
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
    )


def run_wrk(
    procs: Processes,
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int,
    script: Path | None,
) -> Run:
    """wrk against one URL; keep-alive, --latency."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    proc = procs.start("wrk", cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds + 60)
    finally:
        procs.stop(proc)
    if proc.returncode != 0:
        raise BenchError(f"wrk exited with {proc.returncode}:\n{out.decode(errors='replace')}")
    return parse_wrk(out.decode(errors="replace"))


# --------------------------------------------------------------------------- report


@dataclass
class Cell:
    """All runs of one target on one endpoint, and their medians."""

    runs: list[Run] = field(default_factory=list)

    @property
    def rps(self) -> float:
        """Median requests per second over the rounds."""
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50(self) -> float:
        """Median of the rounds' p50 latencies, ms."""
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99(self) -> float:
        """Median of the rounds' p99 latencies, ms."""
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        """Socket errors plus non-2xx answers over all rounds."""
        return sum(r.socket_errors + r.non_2xx for r in self.runs)


def verdicts(endpoint: str, cells: dict[str, Cell]) -> list[dict[str, Any]]:
    """The §6 checks for one endpoint, for the service and any multi-worker service."""
    out: list[dict[str, Any]] = []
    for name in sorted(n for n in cells if n.startswith("service")):
        out += _verdicts(endpoint, cells, name)
    return out


def _verdicts(endpoint: str, cells: dict[str, Cell], name: str) -> list[dict[str, Any]]:
    """Ratio, target, met (None if the baseline is missing) for one service target."""
    svc = cells.get(name)
    out: list[dict[str, Any]] = []
    if svc is None or not svc.runs:
        return out
    goal = TARGETS[endpoint]
    bases = ("automx2", "nginx", "bare") if name == "service" else ("automx2", "nginx")
    for base in bases:
        want = goal[base]
        cell = cells.get(base)
        ratio = svc.rps / cell.rps if cell is not None and cell.runs else None
        out.append(
            {
                "check": f"{name}/{base}",
                "ratio": ratio,
                "target": want,
                "met": None if ratio is None or want is None else ratio >= want,
            }
        )
    if goal["p99_ms"] is not None:
        out.append(
            {
                "check": f"{name} p99 (ms)",
                "ratio": svc.p99,
                "target": goal["p99_ms"],
                "met": svc.p99 <= goal["p99_ms"],
            }
        )
    return out


def _fmt_check(v: dict[str, Any]) -> str:
    name, ratio, want, met = v["check"], v["ratio"], v["target"], v["met"]
    flag = {True: "MET", False: "MISSED", None: "n/a"}[met]
    if name.endswith("(ms)"):
        return f"  {name:<22} {ratio:>9.2f}      target <= {want:g} ms   {flag}"
    if ratio is None:
        return f"  {name:<22} {'-':>9}      baseline missing      {flag}"
    if name.endswith("/automx2"):
        return f"  {name:<22} {ratio:>8.1f}x      target >= {want:g}x      {flag}"
    return f"  {name:<22} {ratio * 100:>8.1f}%      target >= {want * 100:g}%     {flag}"


def print_report(results: dict[str, dict[str, Cell]], order: list[str]) -> None:
    """One table per endpoint, then the §6 checks."""
    for endpoint in ENDPOINTS:
        cells = results[endpoint]
        if not cells:
            continue
        print(f"\n== {endpoint} ==")
        print(
            f"  {'target':<12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  "
            "req/s per round"
        )
        for name in order:
            cell = cells.get(name)
            if cell is None or not cell.runs:
                continue
            rounds = ", ".join(f"{r.rps:.0f}" for r in cell.runs)
            print(
                f"  {name:<12} {cell.rps:>10.0f} {cell.p50:>8.2f} {cell.p99:>8.2f} "
                f"{cell.errors:>7}  {rounds}"
            )
        for v in verdicts(endpoint, cells):
            print(_fmt_check(v))


def summarize_folded(path: Path, top: int = 12) -> list[str]:
    """Hottest functions (self and inclusive share of samples) of a py-spy raw profile."""
    self_n: dict[str, int] = {}
    incl_n: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        # "func (path/to/file.py:123)" -> "func (file.py)"; site-packages prefixes dropped
        frames = [
            re.sub(
                r"\((?:.*/site-packages/|.*/lib/python3\.\d+/|.*/work/main/)?"
                r"([^()]*?)(?::\d+)?\)$",
                r"(\1)",
                f,
            )
            for f in stack.split(";")
        ]
        self_n[frames[-1]] = self_n.get(frames[-1], 0) + n
        for f in set(frames):
            incl_n[f] = incl_n.get(f, 0) + n
    if not total:
        return ["  (no samples)"]
    out = [f"  {total} samples; self time:"]
    for name, n in sorted(self_n.items(), key=lambda kv: -kv[1])[:top]:
        out.append(f"    {n / total:6.1%}  {name}")
    out.append("  inclusive (autoconf/ and aiohttp/ frames):")
    mine = [(k, v) for k, v in incl_n.items() if "autoconf/" in k or "aiohttp/" in k]
    for name, n in sorted(mine, key=lambda kv: -kv[1])[: top * 2]:
        out.append(f"    {n / total:6.1%}  {name}")
    return out


def profile_service(
    procs: Processes,
    service: Target,
    plan: list[tuple[str, str, Path | None]],
    args: argparse.Namespace,
) -> None:
    """Drive the service once more per endpoint while py-spy samples it; print the hot spots."""
    pyspy = shutil.which("py-spy") or str(ROOT / ".venv" / "bin" / "py-spy")
    if not Path(pyspy).exists():
        print("\n--profile: py-spy not found; install it with .venv/bin/pip install py-spy")
        return
    args.profile.mkdir(parents=True, exist_ok=True)
    seconds = max(4, round(args.duration))
    for endpoint, path, script in plan:
        out = args.profile / f"service-{endpoint.split()[0]}.folded"
        cmd = [
            pyspy,
            "record",
            "-p",
            str(service.proc.pid),
            "-d",
            str(seconds - 2),
            "-r",
            "200",
            "-f",
            "raw",
            "-o",
            str(out),
        ]
        wrk = procs.start(
            "wrk",
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{seconds}s",
                *(["-s", str(script)] if script else []),
                service.base + path,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)
        spy = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wrk.wait(seconds + 30)
        procs.stop(wrk)
        print(f"\n== profile of the service under load: {endpoint} ({out}) ==")
        if spy.returncode != 0 or not out.exists():
            print(f"  py-spy failed: {spy.stderr.strip()[-300:]}")
            continue
        print("\n".join(summarize_folded(out)))


def service_metrics(base: str) -> dict[str, float]:
    """Sighting counters from the service's /metrics after the load."""
    wanted = (
        "autoconf_sightings_written_total",
        "autoconf_sightings_dropped_total",
        "autoconf_sightings_pending",
    )
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        _s, _h, body = http(base + "/metrics")
        for line in body.decode(errors="replace").splitlines():
            name, _, value = line.partition(" ")
            if name in wanted:
                out[name] = float(value)
    return out


# --------------------------------------------------------------------------- main


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median taken)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--automx2-workers", type=int, default=2, help="gunicorn workers")
    p.add_argument("--no-automx2", action="store_true", help="skip the automx2 baseline")
    p.add_argument(
        "--asyncio-bare",
        action="store_true",
        help="also measure the bare handler on plain asyncio (informational)",
    )
    p.add_argument(
        "--service-workers",
        type=int,
        default=0,
        metavar="N",
        help="also measure the service with --workers N (automx2 runs 2 workers)",
    )
    p.add_argument("--only", choices=["get", "post"], help="benchmark one endpoint only")
    p.add_argument("--json", type=Path, metavar="FILE", help="write the results as JSON")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (logs, configs)")
    p.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="afterwards, sample the service with py-spy under load per endpoint; "
        "raw stacks to DIR, hot spots printed",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Start the targets, run the rounds, print (and optionally save) the results."""
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed; run scripts/bench, which installs it", file=sys.stderr)
        return 2
    # SIGTERM ends the run the same way Ctrl-C does: through the finally below.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="autoconf-bench-"))
    procs = Processes()
    missing: dict[str, str] = {}
    targets: list[Target] = []
    try:
        service = start_service(procs, tmp)
        targets.append(service)
        get_body, post_body = fetch_reference(service.base)
        print(f"service answers: GET {len(get_body)} bytes, POST {len(post_body)} bytes")
        try:
            targets.append(start_nginx(procs, tmp, get_body, post_body))
        except BenchError as exc:
            missing["nginx"] = str(exc)
        targets.append(start_bare(procs, tmp, get_body, post_body, uvloop=HAVE_UVLOOP, name="bare"))
        if args.service_workers > 1:
            targets.append(start_service(procs, tmp, workers=args.service_workers))
        if args.asyncio_bare and HAVE_UVLOOP:
            targets.append(
                start_bare(procs, tmp, get_body, post_body, uvloop=False, name="bare-asyncio")
            )
        if args.no_automx2:
            missing["automx2"] = "skipped (--no-automx2)"
        else:
            try:
                targets.append(start_automx2(procs, tmp, args.automx2_workers))
            except BenchError as exc:
                missing["automx2"] = str(exc)
        for t in targets:
            if not t.name.startswith("service") and t.name != "automx2":
                check_same_bytes(t, get_body, post_body)
        for name, why in missing.items():
            print(f"\n*** {name} BASELINE MISSING: {why}\n", flush=True)
        print("targets: " + "; ".join(f"{t.name} ({t.note}) {t.base}" for t in targets))

        lua = tmp / "post.lua"
        (tmp / "post-body.xml").write_bytes(POST_BODY)
        lua.write_text(POST_LUA.format(body=tmp / "post-body.xml", ctype=POST_CONTENT_TYPE))
        plan = [(ENDPOINTS[0], GET_PATH, None), (ENDPOINTS[1], POST_PATH, lua)]
        if args.only:
            plan = [plan[0] if args.only == "get" else plan[1]]
        results: dict[str, dict[str, Cell]] = {e: {} for e in ENDPOINTS}
        if args.warmup > 0:
            print(f"warm-up: {args.warmup:g} s per target and endpoint", flush=True)
            for _endpoint, path, script in plan:
                for t in targets:
                    run_wrk(
                        procs,
                        t.base + path,
                        seconds=args.warmup,
                        connections=args.connections,
                        threads=args.threads,
                        script=script,
                    )
        for rnd in range(1, args.rounds + 1):
            for endpoint, path, script in plan:
                for t in targets:
                    run = run_wrk(
                        procs,
                        t.base + path,
                        seconds=args.duration,
                        connections=args.connections,
                        threads=args.threads,
                        script=script,
                    )
                    results[endpoint].setdefault(t.name, Cell()).runs.append(run)
                    print(
                        f"round {rnd}/{args.rounds} {endpoint:<17} {t.name:<12} "
                        f"{run.rps:>9.0f} req/s  p50 {run.p50_ms:6.2f} ms  "
                        f"p99 {run.p99_ms:6.2f} ms  errors {run.socket_errors + run.non_2xx}",
                        flush=True,
                    )
        sightings = service_metrics(service.base)
        order = [t.name for t in targets]
        print(
            f"\nmachine: {os.cpu_count()} cores, {platform.platform()}; wrk -t{args.threads} "
            f"-c{args.connections} -d{args.duration:g}s on the same machine, "
            f"{args.rounds} rounds, medians shown"
        )
        print_report(results, order)
        if sightings:
            print(
                "\nservice sightings after the run: "
                + ", ".join(f"{k.removeprefix('autoconf_')}={v:.0f}" for k, v in sightings.items())
            )
        for name, why in missing.items():
            print(f"\n*** {name} BASELINE MISSING: {why}")
        if args.profile:
            profile_service(procs, service, plan, args)
        if args.json:
            doc = {
                "machine": {
                    "cores": os.cpu_count(),
                    "platform": platform.platform(),
                    "python": platform.python_version(),
                },
                "params": {
                    k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
                },
                "targets": {t.name: t.note for t in targets},
                "missing": missing,
                "service_sightings": sightings,
                "endpoints": {
                    endpoint: {
                        "results": {
                            name: {
                                "rps": c.rps,
                                "p50_ms": c.p50,
                                "p99_ms": c.p99,
                                "errors": c.errors,
                                "runs": [asdict(r) for r in c.runs],
                            }
                            for name, c in cells.items()
                            if c.runs
                        },
                        "checks": verdicts(endpoint, cells),
                    }
                    for endpoint, cells in results.items()
                    if cells
                },
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(doc, indent=2) + "\n")
            print(f"\nresults written to {args.json}")
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping every process started", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        procs.close()
        if args.keep_tmp:
            print(f"temp dir kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

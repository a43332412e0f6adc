"""Running the HTTP service: one process, or N pre-forked workers on one port.

With ``workers`` > 1 the parent migrates the store once, then forks the workers; each
binds the same address with SO_REUSEPORT, so the kernel spreads connections over them.
The parent forwards SIGTERM/SIGINT (graceful stop: requests in flight finish, sightings
are flushed) and SIGHUP (catalog reload) to every worker and restarts a worker that dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import time
from typing import TYPE_CHECKING

import structlog

from autoconf.errors import ConfigError
from autoconf.store import make_store
from autoconf.web import metrics_merge

if TYPE_CHECKING:
    from pathlib import Path

    from autoconf.catalog.live import LiveCatalog
    from autoconf.config import Settings

log = structlog.get_logger("autoconf.serve")
RESTART_PAUSE = 1.0


def event_loop(choice: str) -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop when asked for or, with 'auto', when it is installed."""
    if choice != "asyncio":
        try:
            import uvloop  # noqa: PLC0415 - optional speed-up

            return uvloop.new_event_loop()
        except ImportError:
            if choice == "uvloop":
                raise ConfigError(
                    ["settings: event_loop: uvloop is not installed (pip install uvloop)"]
                ) from None
    return asyncio.new_event_loop()


def run_one(
    settings: Settings,
    live: LiveCatalog,
    *,
    worker: int | None = None,
    metrics_dir: Path | None = None,
) -> int:
    """Serve in this process until SIGTERM/SIGINT; SIGHUP reloads the catalog.

    A worker shares its metrics through ``metrics_dir`` (see web/metrics_merge.py).
    """
    from aiohttp import web  # noqa: PLC0415 - keep CLI start-up light for other commands

    from autoconf.web.app import make_app, reload_catalog  # noqa: PLC0415

    if worker:  # the fleet health check runs in worker 0 only, not once per worker
        settings = settings.model_copy(update={"health_interval_hours": 0})
    app = make_app(settings, live)
    if metrics_dir is not None:
        from autoconf.web.keys import METRICS  # noqa: PLC0415
        from autoconf.web.metrics_merge import SharedDir  # noqa: PLC0415

        app[METRICS].share(SharedDir(metrics_dir))
    loop = event_loop(settings.event_loop)
    catalog = live.current

    async def on_startup(app: web.Application) -> None:
        running = asyncio.get_running_loop()
        running.add_signal_handler(signal.SIGHUP, reload_catalog, app)
        for sig in (signal.SIGTERM, signal.SIGINT):  # replaces aiohttp's handler: see _stop_once
            running.add_signal_handler(sig, _stop_once, running)
        if worker is None:
            _write_pid(settings)
        log.info(
            "serve.started",
            url=f"http://{settings.host}:{settings.port}/",
            catalog=catalog.source,
            domains=catalog.domain_count,
            store="postgresql" if settings.database_url else str(settings.sqlite_path),
            pid=os.getpid(),
            worker=worker,
            event_loop=type(loop).__module__.split(".")[0],
        )

    async def on_cleanup(_app: web.Application) -> None:
        if worker is None:
            settings.pid_file.unlink(missing_ok=True)
        log.info("serve.stopped", pid=os.getpid(), worker=worker)

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    web.run_app(
        app,
        loop=loop,
        host=settings.host,
        port=settings.port,
        reuse_port=worker is not None,
        access_log=None,
        print=None,
        handle_signals=True,
        shutdown_timeout=10,
    )
    return 0


def _stop_once(loop: asyncio.AbstractEventLoop) -> None:
    """Begin the graceful stop; later SIGTERM/SIGINT are only logged.

    aiohttp raises GracefulExit on every signal, and a second one (systemd signals the
    whole control group while the parent forwards its own) would break off the stop half
    way: requests in flight cut, sightings not flushed. Here only the first one counts.
    """
    from aiohttp.web_runner import GracefulExit  # noqa: PLC0415 - imported with aiohttp above

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _already_stopping)
    log.info("serve.stopping", pid=os.getpid())
    raise GracefulExit


def _already_stopping() -> None:
    log.info("serve.already_stopping", pid=os.getpid())


def _write_pid(settings: Settings) -> None:
    settings.pid_file.parent.mkdir(parents=True, exist_ok=True)
    settings.pid_file.write_text(f"{os.getpid()}\n")


async def _migrate(settings: Settings) -> None:
    store = make_store(settings)
    await store.open()
    await store.close()


def _fork(settings: Settings, live: LiveCatalog, worker: int, metrics_dir: Path) -> int:
    pid = os.fork()
    if pid == 0:  # the worker
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        code = 1
        try:
            code = run_one(settings, live, worker=worker, metrics_dir=metrics_dir)
        finally:
            os._exit(code)
    return pid


class _Supervisor:
    """The parent of the workers: forwards signals, restarts a worker that dies."""

    def __init__(self, settings: Settings, live: LiveCatalog) -> None:
        self.settings = settings
        self.live = live
        self.children: dict[int, int] = {}  # pid -> worker number
        self.stopping = False
        self.metrics_dir = metrics_merge.create_dir()  # private, removed by run_workers

    def forward(self, signum: int, _frame: object) -> None:
        """SIGTERM/SIGINT: stop gracefully; SIGHUP: reload. Sent on to every worker."""
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM if signum == signal.SIGINT else signum)

    def start(self, number: int) -> None:
        """Fork worker ``number``."""
        self.children[_fork(self.settings, self.live, number, self.metrics_dir)] = number

    def watch(self) -> None:
        """Wait for workers to exit; restart them unless stopping."""
        while self.children:
            pid, status = os.wait()
            number = self.children.pop(pid, -1)
            metrics_merge.retire(self.metrics_dir, pid)
            if number < 0 or self.stopping:
                continue
            log.error(
                "serve.worker_died", worker=number, pid=pid, exit=os.waitstatus_to_exitcode(status)
            )
            time.sleep(RESTART_PAUSE)
            self.start(number)


def run_workers(settings: Settings, live: LiveCatalog) -> int:
    """Fork ``settings.workers`` workers and look after them until told to stop."""
    if settings.port == 0:
        raise ConfigError(["settings: port: several workers need a fixed port, not 0"])
    asyncio.run(_migrate(settings))  # once, before any worker opens the store
    _write_pid(settings)
    if settings.session_secret is None and settings.page_users:
        # one key for every worker, or a sign-in would hold only on the worker that made it
        settings = settings.model_copy(update={"session_secret": secrets.token_urlsafe(32)})
        log.warning(
            "pages.session_secret_unset",
            detail="page sessions end when the service restarts; set session_secret",
        )
    supervisor = _Supervisor(settings, live)
    for number in range(settings.workers):
        supervisor.start(number)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, supervisor.forward)
    log.info("serve.workers", pid=os.getpid(), workers=settings.workers, port=settings.port)
    try:
        supervisor.watch()
    finally:
        settings.pid_file.unlink(missing_ok=True)
        metrics_merge.remove_dir(supervisor.metrics_dir)
    log.info("serve.stopped", pid=os.getpid())
    return 0

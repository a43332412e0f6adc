"""The autoconf command: serve, reload, dns-records, sightings, catalog-check, catalog-schema.

Exit status: 0 ok, 1 failure, 2 bad usage or invalid settings/catalog.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from autoconf import __version__, logs
from autoconf.catalog.address import Address
from autoconf.catalog.importers import cli as import_cli
from autoconf.catalog.live import LiveCatalog
from autoconf.catalog.load import demo_catalog, load_catalog
from autoconf.catalog.model import CatalogModel
from autoconf.config import Settings, config_file_from_env, load_settings
from autoconf.diagnosis import cli as diagnosis_cli
from autoconf.errors import AutoconfError, ConfigError
from autoconf.events import devices
from autoconf.events.follow import Ingest, Options, Summary, workers_for
from autoconf.formats import dnsrecords
from autoconf.health import cli as health_cli
from autoconf.probe import cli as probe_cli
from autoconf.store import make_store
from autoconf.web import api_openapi

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from autoconf.catalog.load import Catalog
    from autoconf.events.devices import Device

log = structlog.get_logger("autoconf.cli")


def _settings(args: argparse.Namespace) -> Settings:
    config = args.config or config_file_from_env()
    return load_settings(
        config,
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        data_dir=getattr(args, "data_dir", None),
        catalog=getattr(args, "catalog", None),
        demo=True if getattr(args, "demo", False) else None,
        public_host=getattr(args, "public_host", None),
        workers=getattr(args, "workers", None),
    )


def _catalog(settings: Settings) -> Catalog:
    if settings.demo:
        return demo_catalog()
    if settings.catalog is None:
        raise ConfigError(
            ["settings: catalog: no catalog given; use --catalog FILE, AUTOCONF_CATALOG or --demo"]
        )
    return load_catalog(settings.catalog)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service until interrupted."""
    from autoconf import serve  # noqa: PLC0415 - keep CLI start-up light for other commands

    settings = _settings(args)
    logs.configure(settings.log_level, settings.log_format)
    live = LiveCatalog(None if settings.demo else settings.catalog, _catalog(settings))
    if settings.workers > 1:
        return serve.run_workers(settings, live)
    return serve.run_one(settings, live)


def cmd_reload(args: argparse.Namespace) -> int:
    """Check the catalog, then tell the running service to reload it (SIGHUP)."""
    settings = _settings(args)
    catalog = _catalog(settings)
    try:
        pid = int(settings.pid_file.read_text().strip())
    except (OSError, ValueError):
        print(
            f"autoconf: no running service found ({settings.pid_file} is missing); "
            "start it with 'autoconf serve'",
            file=sys.stderr,
        )
        return 1
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        print(f"autoconf: the service with pid {pid} is not running", file=sys.stderr)
        return 1
    print(
        f"catalog {catalog.source} is valid ({catalog.domain_count} domains); "
        f"asked the service (pid {pid}) to reload it"
    )
    return 0


def cmd_dns_records(args: argparse.Namespace) -> int:
    """Print the zone-file records a provider publishes for a domain."""
    settings = _settings(args)
    account = _catalog(settings).account_for_domain(args.domain)
    print(
        dnsrecords.render(account.domain, account.provider, settings.public_host, args.ttl),
        end="",
    )
    return 0


async def _sightings(settings: Settings, mailbox: str, limit: int) -> list[dict[str, object]]:
    store = make_store(settings)
    await store.open()
    try:
        rows = await store.sightings(mailbox=mailbox, limit=limit)
    finally:
        await store.close()
    return [
        {
            "last_seen": datetime.fromtimestamp(r.last_seen, UTC).isoformat(timespec="seconds"),
            "first_seen": datetime.fromtimestamp(r.first_seen, UTC).isoformat(timespec="seconds"),
            "requests": r.requests,
            "mailbox": r.mailbox,
            "domain": r.domain,
            "client": r.client.value,
            "endpoint": r.endpoint.value,
            "ip": r.ip,
            "user_agent": r.user_agent,
        }
        for r in rows
    ]


def cmd_sightings(args: argparse.Namespace) -> int:
    """List the setup requests seen for a mailbox, newest first."""
    settings = _settings(args)
    address = Address.parse(args.email)
    rows = asyncio.run(_sightings(settings, str(address), args.limit))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print(f"no setup requests seen for {address}")
        return 0
    print(
        f"{'last seen (UTC)':<26}{'requests':>9}  {'client':<13}{'endpoint':<19}{'from':<40}"
        "user agent"
    )
    for r in rows:
        print(
            f"{r['last_seen']!s:<26}{r['requests']!s:>9}  {r['client']!s:<13}{r['endpoint']!s:<19}"
            f"{r['ip']!s:<40}{str(r['user_agent']).encode('unicode_escape').decode()}"
        )
    return 0


class _Progress:
    """A one-line progress bar on a terminal (nothing when stderr is not one)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.shown = 0.0
        self.enabled = sys.stderr.isatty()

    def __call__(self, summary: Summary, position: int, total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 0.2:  # noqa: PLR2004 - five updates a second
            return
        self.shown = now
        share = min(position / total, 1.0) if total else 1.0
        bar = "#" * int(share * 30)
        rate = summary.bytes_read / max(now - self.start, 1e-6) / 1e6
        print(
            f"\r{self.label} [{bar:<30}] {share:4.0%}  {summary.lines:,} lines  {rate:.1f} MB/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def done(self) -> None:
        if self.enabled:
            print(file=sys.stderr)


async def _ingest(args: argparse.Namespace, settings: Settings) -> Summary:
    store = make_store(settings)
    await store.open()
    options = Options(
        year=args.year or datetime.now(UTC).year,
        zone=settings.zone,
        default_domain=settings.default_domain,
        batch_lines=args.batch_lines,
        workers=_ingest_workers(args),
    )
    progress = _Progress("ingest")
    ingest = Ingest(store, options, progress)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stop_metrics = None
    try:
        stop_metrics = _ingest_metrics(args, ingest)
        if args.path == "-":
            return await ingest.stream(sys.stdin.buffer)
        return await ingest.file(Path(args.path), follow=args.follow, stop=stop)
    finally:
        progress.done()
        await store.close()
        if stop_metrics is not None:
            stop_metrics()


def _ingest_metrics(args: argparse.Namespace, ingest: Ingest) -> Callable[[], None] | None:
    """With --metrics-port: serve the ingest's counters and lag to Prometheus."""
    if args.metrics_port is None:
        return None
    from autoconf.web.metrics import IngestStats, expose_ingest  # noqa: PLC0415

    summary = ingest.summary
    stats = IngestStats(
        "stdin" if args.path == "-" else "file",
        lambda: (summary.lines, summary.events, summary.skipped),
    )
    ingest.on_commit = stats.committed
    try:
        return expose_ingest(stats, args.metrics_host, args.metrics_port)
    except OSError as exc:
        raise AutoconfError(
            f"The metrics port {args.metrics_host}:{args.metrics_port} cannot be opened: {exc}"
        ) from None


def _ingest_workers(args: argparse.Namespace) -> int:
    """--workers, or what suits the input (see follow.workers_for)."""
    if args.parse_workers is not None:
        return int(args.parse_workers)
    size = None
    if args.path != "-":
        with contextlib.suppress(OSError):
            size = Path(args.path).stat().st_size
    return workers_for(size)


def _count(text: str) -> int:
    """A number of processes for argparse: 0 to 64."""
    if not text.isdigit() or int(text) > 64:  # noqa: PLR2004 - a sane upper bound
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (0-64)")
    return int(text)


def _port(text: str) -> int:
    """A TCP port number for argparse (bad ones: exit 2 with a sentence)."""
    if not text.isdigit() or not 0 < int(text) <= 65535:  # noqa: PLR2004 - the port range
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Read a Dovecot log (file, stdin, or followed) into the store."""
    settings = _settings(args)
    if args.path != "-" and not Path(args.path).is_file():
        raise AutoconfError(f"{args.path} is not a readable file")
    logs.configure(settings.log_level, settings.log_format)
    summary = asyncio.run(_ingest(args, settings))
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(summary.skipped.items())) or "none"
        print(
            f"{summary.lines:,} lines, {summary.events:,} events, {summary.sessions:,} "
            f"sessions, {summary.mail_events:,} mail events; skipped: {kinds}"
        )
    return 0


async def _devices(settings: Settings, mailbox: str) -> tuple[list[Device], float]:
    store = make_store(settings)
    await store.open()
    now = time.time()
    since = now - settings.retention_days * 86400
    try:
        sessions = await store.sessions(mailbox, since=since, limit=5000)
        sightings = await store.sightings(mailbox=mailbox, limit=1000)
    finally:
        await store.close()
    return devices.build(sessions, sightings), now


def cmd_devices(args: argparse.Namespace) -> int:
    """List the devices that use a mailbox and what each did."""
    settings = _settings(args)
    address = Address.parse(args.email)
    found, now = asyncio.run(_devices(settings, str(address)))
    if args.json:
        print(json.dumps([d.as_dict(now) for d in found], indent=2))
        return 0
    if not found:
        print(f"no devices seen for {address}")
        return 0
    print(f"{len(found)} device(s) use {address}:")
    for device in found:
        print(f"  - {devices.describe(device, now)}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Make a new API token and print it with the entry that goes into api_tokens."""
    from autoconf.web.auth import new_token, parse_token_entry  # noqa: PLC0415 - light start-up

    name = args.name.strip()
    if ":" in name:
        print("error: a token name may not contain ':'", file=sys.stderr)
        return 2
    token, digest = new_token()
    entry = f"{args.role}:{name}:{digest}" if name else f"{args.role}:{digest}"
    holder = parse_token_entry(entry).principal
    print(f"token (give it to {holder.name}, it is not stored): {token}")
    print(f"entry (add it to api_tokens / AUTOCONF_API_TOKENS): {entry}")
    return 0


def cmd_user(args: argparse.Namespace) -> int:
    """Hash an agent's password (prompted, or one line of stdin) into a page_users entry."""
    import getpass  # noqa: PLC0415 - light start-up

    from autoconf.web.support.session import hash_password, parse_user_entry  # noqa: PLC0415

    name = args.name.strip()
    if not name or ":" in name:
        print("error: --name is needed and may not contain ':'", file=sys.stderr)
        return 2
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:  # noqa: PLR2004
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    entry = f"{args.role}:{name}:{hash_password(password)}"
    parse_user_entry(entry)
    print(entry)
    return 0


async def _purge(settings: Settings) -> int:
    store = make_store(settings)
    await store.open()
    try:
        return await store.purge(time.time() - settings.retention_days * 86400)
    finally:
        await store.close()


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete sessions, mail events and sightings older than retention_days."""
    settings = _settings(args)
    removed = asyncio.run(_purge(settings))
    print(f"removed {removed:,} rows older than {settings.retention_days:g} days")
    return 0


def cmd_catalog_check(args: argparse.Namespace) -> int:
    """Validate a catalog file and say what it holds."""
    catalog = load_catalog(Path(args.file))
    providers = len(catalog.model.providers)
    print(f"{args.file}: valid, {providers} provider(s), {catalog.domain_count} domain(s)")
    return 0


def cmd_catalog_schema(_args: argparse.Namespace) -> int:
    """Print the catalog's JSON Schema."""
    print(json.dumps(catalog_schema(), indent=2))
    return 0


def catalog_schema() -> dict[str, object]:
    """The JSON Schema of the catalog file, as exported to schemas/catalog.schema.json."""
    schema = CatalogModel.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "autoconf catalog"
    return schema


def _event_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """ingest, devices, purge, token, user."""
    p = sub.add_parser("ingest", help="read a Dovecot log into the store")
    common(p)
    p.add_argument("path", metavar="PATH|-", help="log file, or - for standard input")
    p.add_argument("--follow", action="store_true", help="keep reading as the log grows")
    p.add_argument("--year", type=int, help="year of syslog-style stamps (default: this year)")
    p.add_argument("--batch-lines", type=int, default=20_000, help="lines per transaction")
    p.add_argument(
        "--workers",
        dest="parse_workers",  # not the service's --workers (settings)
        type=_count,
        help="processes that parse the log (0: parse in this one; default: one per core, at"
        " most 4, for standard input or a file of 8 MB or more, else 0)",
    )
    p.add_argument("--json", action="store_true", help="JSON summary")
    p.add_argument(
        "--metrics-port", type=_port, help="serve Prometheus metrics (lines, lag) on this port"
    )
    p.add_argument("--metrics-host", default="127.0.0.1", help="address of --metrics-port")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("devices", help="the devices that use a mailbox")
    common(p)
    p.add_argument("email")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_devices)

    p = sub.add_parser("purge", help="delete data older than retention_days")
    common(p)
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("token", help="make an API token and the api_tokens entry for it")
    p.add_argument("--role", choices=("support", "admin"), default="support")
    p.add_argument("--name", default="", help="who holds it (shown in the audit log)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("user", help="make a page_users entry: an agent of the support pages")
    p.add_argument("--role", choices=("support", "admin"), default="support")
    p.add_argument("--name", required=True, help="the name the agent signs in with")
    p.set_defaults(func=cmd_user)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autoconf", description="Mail client setup and POP3-deletion detection."
    )
    parser.add_argument("--version", action="version", version=f"autoconf {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (TOML); or AUTOCONF_CONFIG")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file")
        p.add_argument("--catalog", type=Path, help="catalog TOML file")
        p.add_argument("--demo", action="store_true", help="use the built-in demo catalog")
        p.add_argument("--data-dir", type=Path, help="where the SQLite store lives")

    p = sub.add_parser("serve", help="run the HTTP service")
    common(p)
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8080)")
    p.add_argument("--workers", type=int, help="processes sharing the port (default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("reload", help="check the catalog and make the running service reload it")
    common(p)
    p.set_defaults(func=cmd_reload)

    p = sub.add_parser("dns-records", help="zone-file records to publish for a domain")
    common(p)
    p.add_argument("domain")
    p.add_argument("--public-host", help="host name of this service, for CNAME records")
    p.add_argument("--ttl", type=int, default=3600)
    p.set_defaults(func=cmd_dns_records)

    p = sub.add_parser("sightings", help="setup requests seen for a mailbox")
    common(p)
    p.add_argument("email")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true", help="JSON output")
    p.set_defaults(func=cmd_sightings)

    _event_commands(sub, common)
    probe_cli.register(sub, common)
    diagnosis_cli.register(sub, common)
    health_cli.register(sub, common)
    import_cli.register(sub)
    api_openapi.register(sub)

    p = sub.add_parser("catalog-check", help="validate a catalog file")
    p.add_argument("file")
    p.set_defaults(func=cmd_catalog_check)

    p = sub.add_parser("catalog-schema", help="print the catalog JSON Schema")
    p.set_defaults(func=cmd_catalog_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 2
    except AutoconfError as exc:
        print(f"autoconf: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

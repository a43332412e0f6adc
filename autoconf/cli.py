"""The autoconf command: serve, reload, dns-records, sightings, catalog-check, catalog-schema.

Exit status: 0 ok, 1 failure, 2 bad usage or invalid settings/catalog.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from autoconf import __version__, logs
from autoconf.catalog.address import Address
from autoconf.catalog.live import LiveCatalog
from autoconf.catalog.load import demo_catalog, load_catalog
from autoconf.catalog.model import CatalogModel
from autoconf.config import Settings, config_file_from_env, load_settings
from autoconf.errors import AutoconfError, ConfigError
from autoconf.formats import dnsrecords
from autoconf.store import make_store

if TYPE_CHECKING:
    from collections.abc import Sequence

    from autoconf.catalog.load import Catalog

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
    from aiohttp import web  # noqa: PLC0415 - keep CLI start-up light for other commands

    from autoconf.web.app import make_app, reload_catalog  # noqa: PLC0415

    settings = _settings(args)
    logs.configure(settings.log_level, settings.log_format)
    catalog = _catalog(settings)
    live = LiveCatalog(None if settings.demo else settings.catalog, catalog)
    app = make_app(settings, live)
    loop = _event_loop(settings.event_loop)

    async def on_startup(app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, reload_catalog, app)
        settings.pid_file.parent.mkdir(parents=True, exist_ok=True)
        settings.pid_file.write_text(f"{os.getpid()}\n")
        log.info(
            "serve.started",
            url=f"http://{settings.host}:{settings.port}/",
            catalog=catalog.source,
            domains=catalog.domain_count,
            store=str(settings.sqlite_path),
            pid=os.getpid(),
            event_loop=type(loop).__module__.split(".")[0],
        )

    async def on_cleanup(_app: web.Application) -> None:
        settings.pid_file.unlink(missing_ok=True)
        log.info("serve.stopped")

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    web.run_app(
        app,
        loop=loop,
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        handle_signals=True,
        shutdown_timeout=10,
    )
    return 0


def _event_loop(choice: str) -> asyncio.AbstractEventLoop:
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

"""The ``autoconf probe`` command: one mailbox (a person's view or --json), or many (--from).

Passwords come from a prompt, ``--password-file`` or the configured master user; never
from the command line, and they are never printed or logged.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoconf import logs
from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog, load_catalog
from autoconf.config import Settings, config_file_from_env, load_settings
from autoconf.errors import BadRequest, ConfigError
from autoconf.probe.connect import TlsMode
from autoconf.probe.errors import ProbeUnavailable
from autoconf.probe.mailbox import (
    HostLimiter,
    Target,
    last_login_from,
    master_credentials,
    options_from,
    parse_endpoint,
    probe_and_store,
    targets_for,
)
from autoconf.probe.server import Credentials
from autoconf.store import make_store

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from autoconf.probe.result import ProbeResult, ServerResult
    from autoconf.store.base import Store

PROGRESS_WIDTH = 30


def _print(*parts: object, end: str = "\n", file: Any = None, flush: bool = False) -> None:
    """print(), named so: this module writes to the terminal on purpose."""
    stream = file or sys.stdout
    stream.write(" ".join(str(p) for p in parts) + end)
    if flush:
        stream.flush()


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``probe`` to the subcommands."""
    p = sub.add_parser(
        "probe", help="check a mailbox's servers, TLS, login, and what left its INBOX"
    )
    common(p)
    p.add_argument("email", nargs="?", help="the mailbox to probe")
    p.add_argument(
        "--from",
        dest="from_file",
        type=Path,
        metavar="FILE",
        help="probe every address in FILE (one a line) as the master user",
    )
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument(
        "--password-file", type=Path, help="file whose first line is the user's password"
    )
    p.add_argument(
        "--ask", action="store_true", help="prompt for the user's password (not the master user)"
    )
    p.add_argument("--imap", action="append", metavar="HOST:PORT", help="probe this IMAP server")
    p.add_argument("--pop3", action="append", metavar="HOST:PORT", help="probe this POP3 server")
    p.add_argument(
        "--tls",
        choices=[m.value for m in TlsMode],
        default=TlsMode.SSL.value,
        help="TLS mode of --imap/--pop3 servers (default ssl)",
    )
    p.add_argument("--ca-file", type=Path, help="PEM CA bundle to trust instead of the system's")
    p.add_argument("--no-save", action="store_true", help="do not keep this snapshot")
    p.set_defaults(func=cmd_probe)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config or config_file_from_env(),
        data_dir=args.data_dir,
        catalog=args.catalog,
        demo=True if args.demo else None,
    )


def _targets(args: argparse.Namespace, settings: Settings, address: Address) -> list[Target]:
    if args.imap or args.pop3:
        tls = TlsMode(args.tls)
        user = str(address)
        given = [("imap", v) for v in args.imap or ()] + [("pop3", v) for v in args.pop3 or ()]
        return [Target(parse_endpoint(proto, value, tls), user) for proto, value in given]
    if settings.demo:
        catalog = demo_catalog()
    elif settings.catalog is not None:
        catalog = load_catalog(settings.catalog)
    else:
        raise ConfigError(
            [
                (
                    "settings: catalog: no catalog given; use --catalog FILE, AUTOCONF_CATALOG, "
                    "--demo, or name the servers with --imap/--pop3"
                )
            ]
        )
    return targets_for(catalog.account_for(address))


def _credentials(args: argparse.Namespace, settings: Settings, address: Address) -> Credentials:
    if args.password_file is not None:
        try:
            lines = args.password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BadRequest(f"The password file {args.password_file} cannot be read.") from exc
        if not lines or not lines[0]:
            raise BadRequest(f"The password file {args.password_file} is empty.")
        return Credentials(lines[0])
    if settings.probe_master_user is not None and not args.ask:
        return master_credentials(settings)
    if not sys.stdin.isatty():
        raise ProbeUnavailable(
            "No password: give --password-file, configure probe_master_user, or run the "
            "command on a terminal to be asked."
        )
    return Credentials(getpass.getpass(f"Password for {address}: "))


def cmd_probe(args: argparse.Namespace) -> int:
    """Probe one mailbox, or every mailbox of a file."""
    if (args.email is None) == (args.from_file is None):
        _print("autoconf probe: give either an e-mail address or --from FILE", file=sys.stderr)
        return 2
    settings = _settings(args)
    logs.configure("debug" if settings.log_level == "debug" else "warning", settings.log_format)
    if args.from_file is not None:
        return _probe_many(args, settings)
    address = Address.parse(args.email)
    targets = _targets(args, settings, address)
    creds = _credentials(args, settings, address)
    result = asyncio.run(_probe_one(args, settings, str(address), targets, creds))
    if args.json:
        _print(json.dumps(result.as_dict(), indent=2))
    else:
        _print(render(result))
    return 0 if result.ok else 1


async def _probe_one(
    args: argparse.Namespace,
    settings: Settings,
    mailbox: str,
    targets: list[Target],
    creds: Credentials,
) -> ProbeResult:
    store = _NoStore() if args.no_save else make_store(settings)
    await store.open()
    try:
        return await probe_and_store(
            store,  # type: ignore[arg-type]
            mailbox,
            targets,
            creds,
            ca_file=args.ca_file or settings.probe_ca_file,
            options=options_from(settings),
            last_login=last_login_from(settings),
        )
    finally:
        await store.close()


class _NoStore:
    """Stands in for the store with --no-save: no previous snapshot, nothing kept."""

    async def open(self) -> None:
        """Nothing to open."""

    async def close(self) -> None:
        """Nothing to close."""

    async def load_snapshot(self, mailbox: str) -> bytes | None:
        """No previous snapshot."""
        del mailbox
        return None

    async def save_snapshot(self, mailbox: str, data: bytes) -> None:
        """Keep nothing."""
        del mailbox, data


# ------------------------------------------------------------------ many mailboxes


def _addresses(path: Path) -> list[Address]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path} cannot be read.") from exc
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            found.append(Address.parse(line))
        except BadRequest as exc:
            raise BadRequest(f"{path}:{number}: {exc}") from exc
    return found


def _probe_many(args: argparse.Namespace, settings: Settings) -> int:
    addresses = _addresses(args.from_file)
    creds = master_credentials(settings)
    jobs = [(str(a), _targets(args, settings, a)) for a in addresses]
    results, seconds = asyncio.run(_run_many(args, settings, jobs, creds))
    summary = _summary(results, seconds)
    if args.json:
        _print(json.dumps({"summary": summary, "results": [r.as_dict() for r in results]}))
    else:
        for result in results:
            for finding in _errors(result):
                _print(f"{result.mailbox}: {finding}")
        _print(
            f"probed {summary['mailboxes']} mailbox(es) in {summary['seconds']:g}s: "
            f"{summary['ok']} ok, {summary['failed']} with errors; "
            f"{summary['gone']} message(s) gone, {summary['moved']} moved"
        )
    return 0 if summary["failed"] == 0 else 1


async def _run_many(
    args: argparse.Namespace,
    settings: Settings,
    jobs: list[tuple[str, list[Target]]],
    creds: Credentials,
) -> tuple[list[ProbeResult], float]:
    started = time.monotonic()
    store: Store | _NoStore = _NoStore() if args.no_save else make_store(settings)
    await store.open()
    limiter = HostLimiter(settings.probe_per_host)
    gate = asyncio.Semaphore(settings.probe_concurrency)
    options = options_from(settings)
    progress = _Progress(len(jobs))

    async def one(mailbox: str, targets: list[Target]) -> ProbeResult:
        async with gate:
            result = await probe_and_store(
                store,  # type: ignore[arg-type]
                mailbox,
                targets,
                creds,
                ca_file=args.ca_file or settings.probe_ca_file,
                options=options,
                limiter=limiter,
                last_login=last_login_from(settings),
            )
        progress.step(result.ok)
        return result

    try:
        results = await asyncio.gather(*(one(m, t) for m, t in jobs))
    finally:
        progress.done()
        await store.close()
    return list(results), time.monotonic() - started


class _Progress:
    """A one-line bar on stderr when it is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done_count = 0
        self.failed = 0
        self.shown = 0.0
        self.enabled = sys.stderr.isatty()

    def step(self, ok: bool) -> None:
        self.done_count += 1
        self.failed += not ok
        now = time.monotonic()
        if not self.enabled or (now - self.shown < 0.2 and self.done_count < self.total):  # noqa: PLR2004
            return
        self.shown = now
        share = self.done_count / self.total if self.total else 1.0
        bar = "#" * int(share * PROGRESS_WIDTH)
        _print(
            f"\rprobe [{bar:<{PROGRESS_WIDTH}}] {self.done_count}/{self.total}"
            f"  {self.failed} with errors",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def done(self) -> None:
        if self.enabled:
            _print(file=sys.stderr)


def _errors(result: ProbeResult) -> list[str]:
    out = [f.message for s in result.servers for f in s.findings if f.severity == "error"]
    out += [f.message for f in result.findings if f.severity == "error"]
    return out


def _summary(results: list[ProbeResult], seconds: float) -> dict[str, Any]:
    changes = [r.changes for r in results if r.changes is not None]
    return {
        "mailboxes": len(results),
        "ok": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "logins_failed": sum(s.login == "failed" for r in results for s in r.servers),
        "gone": sum(len(c.gone) for c in changes),
        "moved": sum(len(c.moved) for c in changes),
        "uidvalidity_changed": sum(c.uidvalidity_changed is not None for c in changes),
        "seconds": round(seconds, 2),
    }


# ------------------------------------------------------------------ a person's view


def render(result: ProbeResult) -> str:
    """The result as a person reads it."""
    lines = [f"{result.mailbox}  (probed {result.as_dict()['probed_at']}, {result.ms:.0f} ms)"]
    for server in result.servers:
        lines.extend(_render_server(server))
    data = result.as_dict()["snapshot"]
    if data is not None:
        lines.append(
            f"  INBOX snapshot from {data['server']}: {data['messages']} message(s), "
            f"UIDVALIDITY {data['uidvalidity']}, UIDNEXT {data['uidnext']}, "
            f"HIGHESTMODSEQ {data['highestmodseq']}"
            + (f", newest {data['tracked']} tracked" if data["capped"] else "")
        )
        lines.append(f"    since the last probe ({data['method']}): {data['new']} new")
        lines.extend(f"    gone:  UID {g['uid']}  {g['message_id']}" for g in data["gone"])
        lines.extend(
            f"    moved: UID {m['uid']}  {m['message_id']}  -> {m['folder']}" for m in data["moved"]
        )
    for finding in result.findings:
        lines.append(f"  {finding.severity}: {finding.message}")
        if finding.advice:
            lines.append(f"    what to do: {finding.advice}")
    return "\n".join(lines)


def _render_server(server: ServerResult) -> list[str]:
    ep = server.endpoint
    head = f"  {ep.protocol.upper()} {ep} ({ep.tls.value})"
    if server.tls is not None and server.tls.version:
        head += f"  {server.tls.version} {server.tls.cipher}"
    lines = [head + f"  login {server.login}  {server.ms:.0f} ms"]
    cert = server.tls.certificate if server.tls else {}
    if cert:
        lines.append(
            f"    certificate {cert['subject']} by {cert['issuer']}, names "
            f"{', '.join(cert['names']) or '-'}, valid until {cert['not_after']} "
            f"({cert['days_left']} days)"
        )
    for phase, mechs in server.mechanisms.items():
        lines.append(f"    login methods {phase.replace('_', ' ')}: {' '.join(mechs) or '-'}")
    if server.mailbox:
        lines.append("    mailbox: " + ", ".join(f"{k} {v}" for k, v in server.mailbox.items()))
    for finding in server.findings:
        lines.append(f"    {finding.severity}: {finding.message}")
        if finding.advice:
            lines.append(f"      what to do: {finding.advice}")
    return lines

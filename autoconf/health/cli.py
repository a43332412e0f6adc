"""``autoconf check <domain|email> [--json]``: a domain as Thunderbird and Outlook see it.

Exit status 0 when the domain works (pass or warn), 1 when a client cannot be set up or a
server fails, 2 for bad usage or settings.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

from autoconf import logs
from autoconf.config import config_file_from_env, load_settings
from autoconf.health.model import Status
from autoconf.health.service import CheckOptions, check, target_of

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from autoconf.health.model import Report

MARKS = {Status.PASS: "ok  ", Status.WARN: "warn", Status.FAIL: "FAIL", Status.SKIP: " -  ",
         Status.INFO: "info"}  # fmt: skip
TITLES = {"thunderbird": "Thunderbird", "outlook": "Outlook", "dns": "DNS (RFC 6186/8314 SRV)",
          "server": "Servers"}  # fmt: skip


def _write(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _safe(text: str) -> str:
    """What a remote server sent, with control characters made visible."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def render(report: Report) -> str:
    """The report for a person: steps grouped by client in the order they run, then the summary."""
    lines = [f"Health of {report.domain} (as {report.address}): {report.status.value}", ""]
    client = None
    for step in report.steps:
        if step.client != client:
            client = step.client
            lines += ["", TITLES.get(client, client)] if lines[-1] else [TITLES.get(client, client)]
        lines.append(f"  [{MARKS[step.status]}] {_safe(step.message)}")
    lines += ["", "Summary"]
    lines += [f"  {_safe(report.summary[k])}" for k in ("thunderbird", "outlook", "dns", "servers")]
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Run the discovery chain and the server checks for a domain or address."""
    overrides: dict[str, Any] = {}
    if args.timeout is not None:
        overrides["health_timeout"] = args.timeout
    if args.nameserver:
        overrides["health_nameservers"] = tuple(args.nameserver)
    settings = load_settings(args.config or config_file_from_env(), **overrides)
    target_of(args.target)  # a bad target is refused before anything is set up
    options = CheckOptions.from_settings(settings)
    logs.configure("warning", "console" if not args.json else "json")
    report = asyncio.run(check(args.target, options))
    if args.json:
        _write(json.dumps(report.as_dict(), indent=2))
    else:
        _write(render(report))
    return 1 if report.status is Status.FAIL else 0


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``check`` to the subcommands."""
    p = sub.add_parser(
        "check", help="see a domain the way Thunderbird and Outlook see it (domain health)"
    )
    common(p)
    p.add_argument("target", metavar="DOMAIN|EMAIL", help="domain or e-mail address to check")
    p.add_argument("--json", action="store_true", help="the whole report as JSON")
    p.add_argument("--timeout", type=float, help="seconds per lookup or step (health_timeout)")
    p.add_argument(
        "--nameserver",
        action="append",
        metavar="IP[:PORT]",
        help="ask this DNS server (repeatable; health_nameservers)",
    )
    p.set_defaults(func=cmd_check)

"""``autoconf diagnose`` (one mailbox) and ``autoconf findings`` (open findings, all mailboxes)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from autoconf import logs
from autoconf.catalog.address import Address
from autoconf.config import Settings, config_file_from_env, load_settings
from autoconf.diagnosis import messages, service
from autoconf.diagnosis.findings import SEVERITIES
from autoconf.events import devices
from autoconf.notify.mail import send_notices
from autoconf.store import make_store

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable


def _print(text: str = "") -> None:
    """Write a line to standard output (this module talks to a terminal on purpose)."""
    sys.stdout.write(text + "\n")


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``diagnose`` and ``findings`` to the subcommands."""
    p = sub.add_parser("diagnose", help="what is wrong with a mailbox, and what to tell the user")
    common(p)
    p.add_argument("email")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--lang", help="de, fr, it or en (default: default_language)")
    p.add_argument(
        "--no-notify", action="store_true", help="do not send notice mails for new incidents"
    )
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("findings", help="open findings across all mailboxes")
    common(p)
    p.add_argument("--severity", choices=SEVERITIES, help="only this severity")
    p.add_argument("--json", action="store_true", help="JSON output")
    p.add_argument("--lang", help="de, fr, it or en (default: default_language)")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--offset", type=int, default=0)
    p.set_defaults(func=cmd_findings)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        args.config or config_file_from_env(),
        data_dir=args.data_dir,
        catalog=args.catalog,
        demo=True if args.demo else None,
    )


async def _diagnose(settings: Settings, mailbox: str, lang: str, *, notify: bool) -> dict[str, Any]:
    store = make_store(settings)
    await store.open()
    now = time.time()
    try:
        diagnosis = await service.run(store, settings, mailbox, now=now)
        incidents = await service.track(store, diagnosis, now, settings.incident_resolve_days)
        notice_lang = settings.default_language  # the user's own language, as far as known
        sent = await send_notices(store, settings, incidents, notice_lang) if notify else []
    finally:
        await store.close()
    answer = service.report(diagnosis, lang, now)
    answer["notices_sent"] = sent
    return answer


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Diagnose one mailbox; print the findings (and send notices for new incidents)."""
    settings = _settings(args)
    logs.configure("debug" if settings.log_level == "debug" else "warning", settings.log_format)
    address = Address.parse(args.email)
    lang = messages.pick_language(args.lang, settings.default_language)
    answer = asyncio.run(_diagnose(settings, str(address), lang, notify=not args.no_notify))
    if args.json:
        _print(json.dumps(answer, indent=2, ensure_ascii=False))
        return 0
    _print(f"{answer['mailbox']}:")
    for finding in answer["findings"]:
        _print(f"  [{finding['severity']}] {finding['code']}: {finding['title']}")
        _print(f"    {finding['explanation']}")
        _print(f"    -> {finding['recommendation']}")
    if answer["healthy"]:
        _print(f"  {answer['healthy']}")
    elif not answer["findings"]:
        _print("  no findings")
    if answer["devices"]:
        _print("  devices:")
        now = time.time()
        for device in answer["devices"]:
            seen = devices.ago(now - float(device["last_seen"]))
            _print(
                f"    - {device['client']} at {device['network']}, {device['behaviour']}, {seen}"
            )
    for msgid in answer["notices_sent"]:
        _print(f"  notice sent to the mailbox: {msgid}")
    return 0


async def _findings(
    settings: Settings, severity: str | None, lang: str, limit: int, offset: int
) -> list[dict[str, Any]]:
    store = make_store(settings)
    await store.open()
    try:
        rows = await store.incidents(severity=severity, limit=limit, offset=offset)
    finally:
        await store.close()
    return [service.incident_finding(i, lang) for i in rows]


def cmd_findings(args: argparse.Namespace) -> int:
    """List open findings across mailboxes (stored incidents), newest first."""
    settings = _settings(args)
    lang = messages.pick_language(args.lang, settings.default_language)
    rows = asyncio.run(_findings(settings, args.severity, lang, args.limit, args.offset))
    if args.json:
        _print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        _print("no open findings")
        return 0
    for row in rows:
        _print(f"[{row['severity']}] {row['mailbox']}  {row['code']}: {row['title']}")
    return 0

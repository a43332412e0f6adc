"""Shared fixtures: settings on a temp data dir, the service on a real socket, catalog files."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from autoconf.catalog.live import LiveCatalog
from autoconf.catalog.load import load_catalog
from autoconf.config import Settings, load_settings
from autoconf.web.app import make_app

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

    from aiohttp import web
    from aiohttp.test_utils import TestClient

ALICE = "alice@example.com"
POX_REQUEST = """<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>{email}</EMailAddress>
    <AcceptableResponseSchema>{schema}</AcceptableResponseSchema>
  </Request>
</Autodiscover>
"""
OUTLOOK_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MOBILESYNC_SCHEMA = (
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
)

CATALOG_TOML = """
[[providers]]
id = "mail.example.org"
name = "Example Org Mail"
domains = ["example.org", "Bücher.example", "shop.example."]
{extra}

[[providers.servers]]
protocol = "imap"
host = "imap.example.org"
port = 993
socket = "SSL"

[[providers.servers]]
protocol = "pop3"
host = "pop.example.org"
port = 995
socket = "SSL"
username = "%EMAILLOCALPART%"

[[providers.servers]]
protocol = "smtp"
host = "smtp.example.org"
port = 587
socket = "STARTTLS"

[aliases]
"alias.example" = "example.org"
"""


def pox(email: str, schema: str = OUTLOOK_SCHEMA) -> bytes:
    """An Autodiscover POX request body as Outlook sends it."""
    return POX_REQUEST.format(email=email, schema=schema).encode()


def start_serve(
    data_dir: Path, *args: str, log: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`autoconf serve ARGS` in its own process: store in ``data_dir``, JSON log to ``log``.

    The settings are the test's own: AUTOCONF_* variables of the calling shell are left out.
    """
    full = {k: v for k, v in os.environ.items() if not k.startswith("AUTOCONF_")}
    full |= {"AUTOCONF_DATA_DIR": str(data_dir), "AUTOCONF_LOG_FORMAT": "json", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "autoconf", "serve", *args],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb") if log is not None else subprocess.DEVNULL,
    )


_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port that was free on loopback a moment ago, and not handed out before.

    The kernel may hand the same free port to two binds in a row: two ports asked for one
    setup (nginx's HTTP and HTTPS, say) must differ, so a port is never given twice.
    """
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Demo settings with the store in a fresh temp directory; fast sighting flushes."""
    return load_settings(data_dir=tmp_path / "data", demo=True, sightings_flush_seconds=0.05)


@pytest.fixture
def catalog_file(tmp_path: Path) -> Callable[..., Path]:
    """Write a catalog TOML (the test catalog, optionally with extra provider keys)."""

    def write(text: str | None = None, extra: str = "", name: str = "catalog.toml") -> Path:
        path = tmp_path / name
        body = text if text is not None else CATALOG_TOML.format(extra=extra)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
        return path

    return write


@pytest.fixture
def service(
    aiohttp_client: Callable[..., Awaitable[TestClient[web.Request, web.Application]]],
    settings: Settings,
) -> Callable[..., Awaitable[TestClient[web.Request, web.Application]]]:
    """Start the service on a real loopback socket: demo catalog unless a path is given."""

    async def start(
        catalog: Path | None = None, **overrides: object
    ) -> TestClient[web.Request, web.Application]:
        cfg = settings.model_copy(update=overrides) if overrides else settings
        live = LiveCatalog(catalog, load_catalog(catalog) if catalog else None)
        return await aiohttp_client(make_app(cfg, live))

    return start

"""Admin calls of the JSON API: catalog reload, the settings (secrets redacted), audit log."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from yarl import URL

from autoconf.errors import AutoconfError
from autoconf.web import api_models as m
from autoconf.web.auth import Role, require
from autoconf.web.keys import CATALOG, SETTINGS, STORE

if TYPE_CHECKING:
    from aiohttp import web

    from autoconf.config import Settings

REDACTED = "(redacted)"
# A setting whose name holds one of these words is never shown; lists of
# "role:name:secret" entries keep their role and name.
SECRET_WORDS = ("secret", "password", "token", "users", "key")


class CatalogInvalid(AutoconfError):
    """The catalog file on disk does not validate; the old catalog keeps serving."""

    status = 422
    code = "catalog_invalid"


def _entry(value: object) -> str:
    head, sep, _ = str(value).rpartition(":")
    return f"{head}{sep}{REDACTED}" if sep else REDACTED


def _without_password(url: str) -> str:
    try:
        parsed = URL(url)
    except ValueError:
        return REDACTED
    return str(parsed.with_password(REDACTED)) if parsed.password else url


def redacted(settings: Settings) -> dict[str, Any]:
    """The settings as JSON values, secrets replaced by "(redacted)" (None stays None)."""
    data: dict[str, Any] = settings.model_dump(mode="json")
    for name, value in data.items():
        if value is None:
            continue
        if name == "database_url":
            data[name] = _without_password(value)
        elif any(word in name for word in SECRET_WORDS):
            data[name] = [_entry(v) for v in value] if isinstance(value, list) else REDACTED
    return data


async def catalog_reload(request: web.Request) -> web.Response:
    """POST /api/v1/catalog/reload (admin): read the catalog file again."""
    require(request, Role.ADMIN)
    # app.py imports the routes, which import this module: take the function at call time
    from autoconf.web.app import reload_catalog  # noqa: PLC0415

    errors = reload_catalog(request.app)
    if errors:
        raise CatalogInvalid(
            "The catalog was not reloaded, the old one keeps serving: " + "; ".join(errors)
        )
    live = request.app[CATALOG]
    return m.answer(
        m.CatalogReload,
        {
            "source": live.current.source,
            "domains": live.current.domain_count,
            "generation": live.generation,
        },
    )


async def settings(request: web.Request) -> web.Response:
    """GET /api/v1/settings (admin): the running settings, secrets redacted."""
    require(request, Role.ADMIN)
    return m.answer(m.SettingsView, {"settings": redacted(request.app[SETTINGS])})


async def audit_log(request: web.Request) -> web.Response:
    """GET /api/v1/audit?mailbox=&limit=&offset= (admin): newest first."""
    require(request, Role.ADMIN)
    q = m.query(request, m.AuditQuery)
    rows = await request.app[STORE].audit(
        mailbox=q.mailbox or None, limit=q.limit + 1, offset=q.offset
    )
    return m.answer(
        m.AuditPage,
        {
            "entries": [dataclasses.asdict(e) for e in rows[: q.limit]],
            "limit": q.limit,
            "offset": q.offset,
            "next_offset": q.offset + q.limit if len(rows) > q.limit else None,
        },
    )

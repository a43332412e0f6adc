"""The support pages: login, mailbox search and page, incidents, dashboard (server-rendered).

``install`` gives an app its session signer and failed-login counter and registers the page
session with ``auth.PAGE_SESSION``, so a signed-in browser may also call the JSON API.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING

import structlog
from aiohttp import web

from autoconf.web.auth import PAGE_SESSION, Principal
from autoconf.web.keys import STORE
from autoconf.web.support.session import (
    SESSION_COOKIE,
    FailedLogins,
    PageUser,
    Sessions,
    parse_user_entry,
)

if TYPE_CHECKING:
    from autoconf.config import Settings

log = structlog.get_logger("autoconf.pages")

SESSIONS = web.AppKey("page_sessions", Sessions)
FAILED_LOGINS = web.AppKey("failed_logins", FailedLogins)


def same_site(request: web.Request) -> bool:
    """Whether a request may sign in with the session cookie (for the API's POSTs).

    Reads always may; writes only when the browser says they come from this site
    (Sec-Fetch-Site, else Origin). SameSite=Strict already keeps the cookie off cross-site
    requests; this is the second lock for the API's POSTs, which carry no CSRF token.
    """
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return True
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in {"same-origin", "none"}
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


def install(app: web.Application, settings: Settings) -> None:
    """Set up page sessions for ``app`` from the settings."""
    users: dict[str, PageUser] = {}
    for entry in settings.page_users:
        user = parse_user_entry(entry)
        users[user.name] = user
    if settings.session_secret is not None:
        secret = settings.session_secret.encode()
    else:
        secret = secrets.token_bytes(32)
        if users:
            log.warning(
                "pages.session_secret_unset",
                detail="sessions end when this process restarts and do not span workers;"
                " set session_secret",
            )
    sessions = Sessions(secret, users, settings.session_hours * 3600)
    app[SESSIONS] = sessions
    app[FAILED_LOGINS] = FailedLogins(
        app[STORE], limit=settings.login_attempts, window=settings.login_window_seconds
    )

    def resolve(request: web.Request) -> Principal | None:
        if not same_site(request):
            return None
        found = sessions.read(request.cookies.get(SESSION_COOKIE), time.time())
        return found.principal if found is not None else None

    app[PAGE_SESSION] = resolve

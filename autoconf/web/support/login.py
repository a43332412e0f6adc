"""GET/POST /login and POST /logout: agents sign in with a name and password."""

from __future__ import annotations

import asyncio
import secrets
import time

import structlog
from aiohttp import web

from autoconf.web.client_ip import client_address
from autoconf.web.support import FAILED_LOGINS, SESSIONS
from autoconf.web.support.render import (
    Refused,
    current,
    form,
    language,
    local_path,
    message,
    page,
    render,
    secure,
    see_other,
)
from autoconf.web.support.session import LOGIN_COOKIE, SESSION_COOKIE, authenticate_user
from autoconf.web.support.words import WORDS

log = structlog.get_logger("autoconf.pages")
MAX_NAME = 200
MAX_PASSWORD = 1024


def _login_page(
    request: web.Request, nonce: str, target: str, *, status: int = 200, error: str = ""
) -> web.Response:
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=request.app[SESSIONS].csrf(f"login:{nonce}"),
        target=target,
        error=error,
        no_agents=not request.app[SESSIONS].users,
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, path="/login", httponly=True, samesite="Strict",
        secure=secure(request), max_age=3600,
    )  # fmt: skip
    return response


@page
async def login_form(request: web.Request) -> web.StreamResponse:
    """The sign-in form (or straight on, when already signed in)."""
    target = local_path(request.query.get("next"))
    sessions = request.app[SESSIONS]
    if sessions.read(request.cookies.get(SESSION_COOKIE), time.time()) is not None:
        raise web.HTTPSeeOther(target)
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(16)
    return _login_page(request, nonce, target)


@page
async def login(request: web.Request) -> web.StreamResponse:
    """Check the form's token, the lockout, then name and password; set the session cookie."""
    words = WORDS[language(request)]
    sessions = request.app[SESSIONS]
    data = await request.post()
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    given = data.get("csrf")
    if not nonce or not isinstance(given, str) or not sessions.csrf_ok(f"login:{nonce}", given):
        raise Refused(message(request, 403, words["csrf_failed"]))
    name = str(data.get("name", ""))[:MAX_NAME].strip()
    password = str(data.get("password", ""))[:MAX_PASSWORD]
    target = local_path(str(data.get("next", "")))
    if not sessions.users:
        raise Refused(message(request, 403, words["login_closed"]))
    limiter = request.app[FAILED_LOGINS]
    peer = client_address(request)
    keys = (f"address:{peer}", f"name:{name.casefold()}")
    if await limiter.blocked(keys):
        log.warning("pages.login_locked", name=name, peer=peer)
        minutes = max(1, round(limiter.window / 60))
        raise Refused(message(request, 429, words["login_locked"].format(minutes=minutes)))
    user = await asyncio.to_thread(authenticate_user, sessions.users, name, password)
    if user is None:
        await limiter.fail(keys)
        log.info("pages.login_failed", name=name, peer=peer)
        return _login_page(request, nonce, target, status=401, error=words["login_failed"])
    cookie, _ = sessions.issue(user, time.time())
    log.info("pages.login", name=user.name, role=user.role.label, peer=peer)
    response = see_other(target)
    response.set_cookie(
        SESSION_COOKIE, cookie, path="/", httponly=True, samesite="Strict",
        secure=secure(request), max_age=int(sessions.lifetime),
    )  # fmt: skip
    response.del_cookie(LOGIN_COOKIE, path="/login")
    return response


@page
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session in this browser (the cookie is removed)."""
    session = current(request)
    await form(request, session)
    log.info("pages.logout", name=session.principal.name)
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response

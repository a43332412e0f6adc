"""What every support page shares: the language, the signed-in agent, CSRF, the HTML answer.

Templates live in autoconf/web/templates and are rendered by Jinja2 with autoescaping on for
every file: a value from the store or the request is text, never markup.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from autoconf.diagnosis import messages
from autoconf.web.auth import PRINCIPAL
from autoconf.web.client_ip import client_scheme
from autoconf.web.keys import SETTINGS
from autoconf.web.support import SESSIONS
from autoconf.web.support.session import SESSION_COOKIE, SessionData
from autoconf.web.support.words import LANGUAGES, WORDS, Words

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from multidict import MultiDictProxy

    PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LANG_COOKIE = "autoconf_lang"
YEAR = 365 * 86400
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
}
SESSION_DATA = web.RequestKey("page_session", SessionData)


@functools.cache
def environment() -> jinja2.Environment:
    """The template environment (one per process): autoescape on, unknown names fail."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("autoconf.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(request: web.Request) -> str:
    """?lang=, then the language cookie, then Accept-Language, then default_language."""
    asked = request.query.get("lang", "")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE, "")
    if cookie in LANGUAGES:
        return cookie
    default = request.app[SETTINGS].default_language
    return messages.pick_language(request.headers.get("Accept-Language"), default)


def secure(request: web.Request) -> bool:
    """Whether cookies get the Secure flag: by setting, or (auto) when the client used TLS.

    ``auto`` looks at the scheme the client used: this connection's, or the one a trusted
    proxy names in X-Forwarded-Proto (web/client_ip.py).
    """
    mode = request.app[SETTINGS].secure_cookies
    if mode != "auto":
        return mode == "always"
    return client_scheme(request) == "https"


def when(moment: float | None, lang: str) -> str:
    """A time as the pages show it: ``2026-11-29 04:36 UTC`` (or 'never')."""
    if moment is None:
        return WORDS[lang]["never"]
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float, lang: str) -> str:
    """A span as '5 min', '3 h', '2 d' in the language."""
    words = WORDS[lang]
    if seconds < 3600:  # noqa: PLR2004
        return words["minutes"].format(n=max(0, int(seconds // 60)))
    if seconds < 86400:  # noqa: PLR2004
        return words["hours"].format(n=int(seconds // 3600))
    return words["days"].format(n=int(seconds // 86400))


def local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else the search page (no open redirect)."""
    default = "/support/"
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in target):  # noqa: PLR2004
        return default
    return target


def see_other(location: str) -> web.Response:
    """A 303 to a page of this site (after a form was handled)."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def login_url(request: web.Request) -> str:
    """The login page, asked to come back to this page."""
    return "/login?next=" + quote(request.path_qs, safe="")


def current(request: web.Request) -> SessionData:
    """The signed-in agent's session; a redirect to the login page when there is none."""
    found = request.app[SESSIONS].read(request.cookies.get(SESSION_COOKIE), time.time())
    if found is None:
        raise web.HTTPSeeOther(login_url(request))
    request[PRINCIPAL] = found.principal  # the audit log reads who acted from here
    request[SESSION_DATA] = found
    return found


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """The page ``template`` in the request's language, with the shared frame filled in."""
    lang = language(request)
    session: SessionData | None = request.get(SESSION_DATA)
    switch = [
        (code, WORDS[code]["language_name"], str(request.rel_url.update_query(lang=code)))
        for code in LANGUAGES
    ]
    values = {
        "t": Words(lang),
        "lang": lang,
        "languages": switch,
        "agent": session.principal if session is not None else None,
        "csrf": request.app[SESSIONS].csrf(session.sid) if session is not None else "",
        "when": lambda moment: when(moment, lang),
        "duration": lambda seconds: duration(seconds, lang),
        **context,
    }
    text = environment().get_template(template).render(values)
    response = web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={**HEADERS, "Content-Language": lang, "Vary": "Accept-Language, Cookie"},
    )
    if request.query.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=YEAR, path="/", httponly=True, samesite="Strict",
            secure=secure(request),
        )  # fmt: skip
    return response


def message(request: web.Request, status: int, text: str) -> web.Response:
    """A page that says one sentence (a refused form, a lockout, a bad address)."""
    return render(request, "message.html", status=status, text=text)


class Refused(Exception):
    """Raised inside a page handler to answer with ``response`` (a refused form, a lockout)."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


def page(handler: PageHandler) -> PageHandler:
    """A page handler whose Refused answers are sent as they are."""

    @functools.wraps(handler)
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refused as exc:
            return exc.response

    return answer


async def form(request: web.Request, session: SessionData) -> MultiDictProxy[Any]:
    """The posted form, once its CSRF token proved it came from this session's page."""
    data = await request.post()
    given = data.get("csrf")
    if not isinstance(given, str) or not request.app[SESSIONS].csrf_ok(session.sid, given):
        raise Refused(message(request, 403, WORDS[language(request)]["csrf_failed"]))
    return data

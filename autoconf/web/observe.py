"""Every request's frame (errors as JSON, counting, the log line) and the fallback route.

The fallback finds setup paths written in another case, or answers 404/405.

Handlers are wrapped one by one when the routes are added, instead of running through an
aiohttp middleware: the request path then pays for nothing it does not use.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from yarl import URL

from autoconf.errors import AutoconfError
from autoconf.web.client_ip import client_address
from autoconf.web.keys import CLIENT, ENDPOINT, PARAMS

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler

    from autoconf.logs import AccessLog
    from autoconf.web.metrics import Metrics

log = structlog.get_logger("autoconf.http")
UNMATCHED = "unmatched"
_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that request method.",
    413: "The request is larger than this service accepts.",
}


def error_response(status: int, code: str, message: str) -> web.Response:
    """The JSON error shape of the service: ``{"error": code, "message": sentence}``."""
    return web.json_response({"error": code, "message": message}, status=status)


def _http_error(exc: web.HTTPException) -> web.Response:
    message = _MESSAGES.get(exc.status, exc.reason)
    response = error_response(exc.status, exc.reason.lower().replace(" ", "_"), message)
    if "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


class Observer:
    """Wraps handlers with error mapping, request metrics and the access log."""

    def __init__(self, metrics: Metrics, access: AccessLog | None, *, log_requests: bool) -> None:
        self._observe = metrics.requests.observe
        self._write = access.request if access is not None else None
        self._log_requests = log_requests

    def wrap(self, handler: Handler, endpoint: str) -> Handler:
        """The handler inside the frame; ``endpoint`` is its bounded metric label."""
        observe, write, log_requests = self._observe, self._write, self._log_requests

        async def observed(request: web.Request) -> web.StreamResponse:
            start = time.perf_counter()
            try:
                response = await handler(request)
            except AutoconfError as exc:
                response = error_response(exc.status, exc.code, str(exc))
            except web.HTTPException as exc:
                if exc.status < 400:  # noqa: PLR2004 - redirects pass through untouched
                    raise
                response = _http_error(exc)
            except Exception:
                log.exception("http.unhandled", path=request.path)
                response = error_response(500, "internal", "Something went wrong inside.")
            elapsed = time.perf_counter() - start
            name = request.get(ENDPOINT, endpoint) if endpoint == UNMATCHED else endpoint
            client = request.get(CLIENT, "none")
            status = response.status
            observe(name, client, status, elapsed)
            if write is not None:
                write(request.method, request.path, status, elapsed * 1000, name, client,
                      client_address(request))  # fmt: skip
            elif log_requests:
                log.info(
                    "http.request",
                    method=request.method,
                    path=request.path,
                    status=status,
                    ms=round(elapsed * 1000, 3),
                    endpoint=name,
                    client=client,
                    peer=client_address(request),
                )
            return response

        return observed


def _matches(resource: web.AbstractResource, path: str) -> bool:
    info = resource.get_info()
    if "path" in info:
        return bool(info["path"] == path)
    pattern = info.get("pattern")
    return isinstance(pattern, re.Pattern) and pattern.fullmatch(path) is not None


def make_fallback(raw: dict[str, Handler], caseless_prefixes: tuple[str, ...]) -> Handler:
    """The last route: a setup path in other case goes to its handler; else 405 or 404.

    ``raw`` maps route names to the unwrapped handlers, so nothing is counted twice.
    """

    async def fallback(request: web.Request) -> web.StreamResponse:
        path = request.path
        lowered = path.lower()
        if lowered != path and lowered.startswith(caseless_prefixes):
            clone = request.clone(rel_url=URL.build(path=lowered, query=request.query))
            match = await request.app.router.resolve(clone)
            name = match.route.name
            if match.http_exception is None and name in raw:
                request[PARAMS] = dict(match)
                request[ENDPOINT] = name
                return await raw[name](request)
        for resource in request.app.router.resources():
            if resource.name != UNMATCHED and (
                _matches(resource, path) or _matches(resource, lowered)
            ):
                allowed = sorted({route.method for route in resource})
                raise web.HTTPMethodNotAllowed(request.method, allowed)
        raise web.HTTPNotFound

    return fallback

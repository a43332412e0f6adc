"""One middleware for every request: case-insensitive setup paths, errors as JSON, metrics, log."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog
from aiohttp import web
from yarl import URL

from autoconf.errors import AutoconfError
from autoconf.web.keys import CLIENT, ENDPOINT, PARAMS
from autoconf.web.routes import CASELESS_PREFIXES

if TYPE_CHECKING:
    from aiohttp.typedefs import Handler, Middleware

    from autoconf.logs import AccessLog
    from autoconf.web.metrics import Metrics

log = structlog.get_logger("autoconf.http")
_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that request method.",
    413: "The request is larger than this service accepts.",
}


def error_response(status: int, code: str, message: str) -> web.Response:
    """The JSON error shape of the service: ``{"error": code, "message": sentence}``."""
    return web.json_response({"error": code, "message": message}, status=status)


async def _caseless(request: web.Request) -> Handler | None:
    """Find a setup route by the lower-case form of a path a client wrote in other case."""
    path = request.path
    lowered = path.lower()
    if lowered == path or not lowered.startswith(CASELESS_PREFIXES):
        return None
    clone = request.clone(rel_url=URL.build(path=lowered, query=request.query))
    match = await request.app.router.resolve(clone)
    if match.http_exception is not None:
        return None
    request[PARAMS] = dict(match)
    request[ENDPOINT] = match.route.name or "unmatched"
    return match.handler


async def _dispatch(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.match_info.http_exception is not None:
        found = await _caseless(request)
        if found is not None:
            handler = found
    try:
        return await handler(request)
    except AutoconfError as exc:
        return error_response(exc.status, exc.code, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:  # noqa: PLR2004 - redirects pass through untouched
            raise
        message = _MESSAGES.get(exc.status, exc.reason)
        response = error_response(exc.status, exc.reason.lower().replace(" ", "_"), message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("http.unhandled", path=request.path)
        return error_response(500, "internal", "Something went wrong inside the service.")


def make_observe(metrics: Metrics, access: AccessLog | None, *, log_requests: bool) -> Middleware:
    """The middleware: dispatch, then count the request and write its canonical log line.

    Built as a closure so the request path reads no application keys.
    """
    observe_stats = metrics.requests.observe
    write = access.request if access is not None else None

    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        start = time.perf_counter()
        response = await _dispatch(request, handler)
        elapsed = time.perf_counter() - start
        endpoint = request.get(ENDPOINT) or request.match_info.route.name or "unmatched"
        client = request.get(CLIENT, "none")
        status = response.status
        observe_stats(endpoint, client, status, elapsed)
        if write is not None:
            write(request.method, request.path, status, elapsed * 1000, endpoint, client,
                  request.remote or "")  # fmt: skip
        elif log_requests:
            log.info(
                "http.request",
                method=request.method,
                path=request.path,
                status=status,
                ms=round(elapsed * 1000, 3),
                endpoint=endpoint,
                client=client,
                peer=request.remote,
            )
        return response

    return observe

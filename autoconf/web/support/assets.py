"""GET /static/<name>: the pages' style sheet, served from the package (no CDN)."""

from __future__ import annotations

import functools
from importlib import resources

from aiohttp import web

TYPES = {"support.css": "text/css"}


@functools.cache
def _read(name: str) -> bytes:
    return resources.files("autoconf.web").joinpath("static", name).read_bytes()


async def static(request: web.Request) -> web.Response:
    """A file of autoconf/web/static by its name; 404 for any other name."""
    name = request.match_info.get("name", "")
    if name not in TYPES:
        raise web.HTTPNotFound
    return web.Response(
        body=_read(name),
        content_type=TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )

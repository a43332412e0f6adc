"""Request bodies: capped at MAX_BODY and refused early when the announced length is larger."""

from __future__ import annotations

from aiohttp import web

from autoconf.errors import PayloadTooLarge

MAX_BODY = 64 * 1024


async def read_body(request: web.Request) -> bytes:
    """The whole body, or PayloadTooLarge (413).

    Refused before reading when Content-Length is too big, or as soon as a chunked body
    passes the limit.
    """
    length = request.content_length
    if length is not None and length > MAX_BODY:
        raise PayloadTooLarge(MAX_BODY)
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(MAX_BODY) from None

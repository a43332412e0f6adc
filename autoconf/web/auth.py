"""Bearer tokens for the JSON API: stored as SHA-256 digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING

from autoconf.errors import AutoconfError
from autoconf.web.keys import SETTINGS

if TYPE_CHECKING:
    from aiohttp import web


class Unauthorized(AutoconfError):
    """No valid API token came with the request."""

    status = 401
    code = "unauthorized"


def new_token() -> tuple[str, str]:
    """A fresh random token and the digest to put into api_tokens."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The SHA-256 hex digest of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def require_token(request: web.Request) -> None:
    """Raise Unauthorized unless an ``Authorization: Bearer`` token matches a stored digest."""
    stored = request.app[SETTINGS].api_tokens
    if not stored:
        raise Unauthorized(
            "The API is closed: no api_tokens are configured (make one with 'autoconf token')."
        )
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
    presented = digest(token.strip())
    # compare against every digest, so the time taken says nothing about which one matched
    matched = False
    for candidate in stored:
        matched |= hmac.compare_digest(presented, candidate)
    if not matched:
        raise Unauthorized("The API token is not valid.")


def shared_secret_ok(given: str, expected: str) -> bool:
    """Constant-time comparison of a shared secret."""
    return hmac.compare_digest(given.encode(), expected.encode())

"""Who is calling: API tokens with a name and a role, stored as SHA-256 digests.

A token entry in the settings reads ``[role:][name:]digest``: ``support:anna:3f1c…`` or
``admin:ops:9b2e…``; a bare digest is a support token named after its first eight hex
digits. Presented tokens are compared against every stored digest in constant time.

Handlers call :func:`require` with the least role they need. It accepts a bearer token, or
a signed-in page session when the pages have registered a resolver (``PAGE_SESSION``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from autoconf.errors import AutoconfError
from autoconf.web.keys import SETTINGS

DIGEST_LENGTH = 64
HEX = frozenset("0123456789abcdef")


class Role(enum.IntEnum):
    """What a caller may do; a higher role may do everything a lower one may."""

    SUPPORT = 1  # read, probe, send notices
    ADMIN = 2  # also reload the catalog and read the settings

    @property
    def label(self) -> str:
        """The role's name as written in settings and shown on pages."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller that proved who it is."""

    name: str
    role: Role


class Unauthorized(AutoconfError):
    """No valid API token or page session came with the request."""

    status = 401
    code = "unauthorized"


class Forbidden(AutoconfError):
    """The caller is known but its role may not do this."""

    status = 403
    code = "forbidden"


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """One configured token: its digest and who holds it."""

    digest: str
    principal: Principal


def parse_token_entry(entry: str) -> TokenEntry:
    """Read ``[role:][name:]digest``; raise ValueError with a sentence on a bad entry."""
    parts = entry.strip().split(":")
    digest_hex = parts[-1].lower()
    if len(digest_hex) != DIGEST_LENGTH or not set(digest_hex) <= HEX:
        msg = (
            "api_tokens entries read [role:][name:]digest, the digest being the SHA-256 hex"
            " that 'autoconf token' prints"
        )
        raise ValueError(msg)
    role_name = parts[0] if len(parts) > 1 else "support"
    try:
        role = Role[role_name.upper()]
    except KeyError:
        msg = f"api_tokens: unknown role {role_name!r} (use support or admin)"
        raise ValueError(msg) from None
    max_parts = 3
    if len(parts) > max_parts:
        msg = "api_tokens entries read [role:][name:]digest (the name may not hold ':')"
        raise ValueError(msg)
    name = parts[1] if len(parts) == max_parts and parts[1] else f"token-{digest_hex[:8]}"
    return TokenEntry(digest_hex, Principal(name, role))


def new_token() -> tuple[str, str]:
    """A fresh random token and the digest to put into api_tokens."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The SHA-256 hex digest of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_principal(entries: tuple[str, ...], token: str) -> Principal | None:
    """The holder of ``token`` among the configured entries, or None."""
    presented = digest(token)
    found: Principal | None = None
    # compare against every digest, so the time taken says nothing about which one matched
    for entry in entries:
        parsed = parse_token_entry(entry)
        if hmac.compare_digest(presented, parsed.digest) and found is None:
            found = parsed.principal
    return found


# Pages register a resolver that turns a session cookie into a Principal (or None).
PageSessionResolver = Callable[[web.Request], Principal | None]
PAGE_SESSION: web.AppKey[PageSessionResolver] = web.AppKey("page_session")
PRINCIPAL = web.RequestKey("principal", Principal)


def authenticate(request: web.Request) -> Principal:
    """The caller behind a bearer token or a page session; raise Unauthorized otherwise."""
    header = request.headers.get("Authorization", "")
    if header:
        stored = request.app[SETTINGS].api_tokens
        if not stored:
            raise Unauthorized(
                "The API is closed: no api_tokens are configured (make one with 'autoconf token')."
            )
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send an API token as 'Authorization: Bearer <token>'.")
        principal = token_principal(stored, token.strip())
        if principal is None:
            raise Unauthorized("The API token is not valid.")
        return principal
    resolver = request.app.get(PAGE_SESSION)
    principal = resolver(request) if resolver is not None else None
    if principal is not None:
        return principal
    settings = request.app[SETTINGS]
    if not settings.api_tokens and not settings.page_users:
        raise Unauthorized(
            "The API is closed: no api_tokens are configured (make one with 'autoconf token')."
        )
    raise Unauthorized(
        "Send an API token as 'Authorization: Bearer <token>', or sign in at /login."
    )


def require(request: web.Request, role: Role = Role.SUPPORT) -> Principal:
    """The authenticated caller, if its role is at least ``role``; remembered on the request."""
    principal = authenticate(request)
    if principal.role < role:
        raise Forbidden(
            f"This needs the {role.label} role; {principal.name} is {principal.role.label}."
        )
    request[PRINCIPAL] = principal
    return principal


def require_token(request: web.Request) -> None:
    """Any authenticated caller (support role or above)."""
    require(request, Role.SUPPORT)


def shared_secret_ok(given: str, expected: str) -> bool:
    """Constant-time comparison of a shared secret."""
    return hmac.compare_digest(given.encode(), expected.encode())

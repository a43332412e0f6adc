"""Who is signed in to the pages: agents' passwords, the signed session cookie, CSRF, lockout.

Agents are configured as ``page_users`` entries ``role:name:hash``; ``autoconf user`` makes
the hash (scrypt with a random salt: ``scrypt$n$r$p$salt$key``, salt and key base64).

The session is a cookie, nothing on the server: ``payload.signature`` where the payload
(base64 JSON) names the agent, a session id, the expiry and a fingerprint of the agent's
password hash, and the signature is an HMAC-SHA256 under ``session_secret``. Changing an
agent's password or role, or removing the agent, ends their sessions. Forms carry a CSRF
token derived from the session id (HMAC), the login form one derived from a random cookie.
Failed logins are counted per client address and per name; too many within the window
lock that address or name out for the rest of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconf.web.auth import Principal, Role

if TYPE_CHECKING:
    from autoconf.store.base import Store

SESSION_COOKIE = "autoconf_session"
LOGIN_COOKIE = "autoconf_login"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
KEY_BYTES = 32
MAX_COST = 2**20  # the largest scrypt n accepted from a settings entry
HASH_PARTS = 6
USER_PARTS = 3


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` for a password, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    parts = encoded.split("$")
    if len(parts) != HASH_PARTS or parts[0] != "scrypt":
        raise ValueError("the password hash reads scrypt$n$r$p$salt$key (autoconf user)")
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        raise ValueError("the password hash reads scrypt$n$r$p$salt$key (autoconf user)") from None
    if not (1 < n <= MAX_COST and n & (n - 1) == 0 and 0 < r <= 64 and 0 < p <= 16):  # noqa: PLR2004
        raise ValueError("the password hash has scrypt parameters out of range")
    if not salt or len(key) < 16:  # noqa: PLR2004
        raise ValueError("the password hash has no salt or a short key")
    return n, r, p, salt, key


def check_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches the hash (constant-time comparison of the keys)."""
    n, r, p, salt, key = _parse_hash(encoded)
    derived = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(key), maxmem=256 * n * r + 2**20
    )
    return hmac.compare_digest(derived, key)


# Compared against when the name is unknown, so both cases take the same time.
_DECOY = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class PageUser:
    """An agent who may sign in to the pages."""

    name: str
    role: Role
    password_hash: str

    @property
    def fingerprint(self) -> str:
        """A short digest of the password hash and role: a change ends old sessions."""
        text = f"{self.role.label}:{self.password_hash}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_user_entry(entry: str) -> PageUser:
    """Read ``role:name:hash``; raise ValueError with a sentence on a bad entry."""
    parts = entry.strip().split(":")
    if len(parts) != USER_PARTS or not parts[1]:
        raise ValueError(
            "page_users entries read role:name:hash, as 'autoconf user' prints them"
            " (the name may not hold ':')"
        )
    role_name, name, encoded = parts
    try:
        role = Role[role_name.upper()]
    except KeyError:
        raise ValueError(f"page_users: unknown role {role_name!r} (use support or admin)") from None
    try:
        _parse_hash(encoded)
    except ValueError as exc:
        raise ValueError(f"page_users entry of {name!r}: {exc}") from None
    return PageUser(name, role, encoded)


def authenticate_user(users: dict[str, PageUser], name: str, password: str) -> PageUser | None:
    """The agent when name and password match; the same work is done for unknown names."""
    user = users.get(name)
    ok = check_password(password, user.password_hash if user is not None else _DECOY)
    return user if ok and user is not None else None


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a valid session cookie says."""

    principal: Principal
    sid: str
    expires: float


class Sessions:
    """Signs and reads session cookies and CSRF tokens with one secret."""

    def __init__(self, secret: bytes, users: dict[str, PageUser], lifetime: float) -> None:
        self._secret = secret
        self.users = users
        self.lifetime = lifetime

    def _sign(self, text: str) -> str:
        return _b64(hmac.new(self._secret, text.encode(), hashlib.sha256).digest())

    def issue(self, user: PageUser, now: float) -> tuple[str, SessionData]:
        """A new session cookie value for ``user``, valid for ``lifetime`` seconds."""
        sid = secrets.token_urlsafe(16)
        expires = now + self.lifetime
        payload = {"u": user.name, "s": sid, "e": int(expires), "f": user.fingerprint}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}", SessionData(
            Principal(user.name, user.role), sid, expires
        )

    def read(self, cookie: str | None, now: float) -> SessionData | None:
        """The session a cookie holds, or None when it is missing, forged, stale or revoked."""
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            payload = json.loads(_unb64(body))
            name, sid, expires, fingerprint = (
                str(payload["u"]),
                str(payload["s"]),
                float(payload["e"]),
                str(payload["f"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):
            return None
        user = self.users.get(name)
        if user is None or expires <= now or fingerprint != user.fingerprint:
            return None
        return SessionData(Principal(user.name, user.role), sid, expires)

    def csrf(self, sid: str) -> str:
        """The CSRF token of the forms of one session (or of the login form's nonce)."""
        return self._sign(f"csrf:{sid}")

    def csrf_ok(self, sid: str, given: str) -> bool:
        """Whether a form's token belongs to this session (constant time)."""
        return bool(given) and hmac.compare_digest(given.encode(), self.csrf(sid).encode())


@dataclass
class FailedLogins:
    """Failed sign-ins per key (client address, agent name) in a sliding window.

    Kept in the store, so every worker and every instance on it counts the same failures.
    """

    store: Store
    limit: int = 5
    window: float = 300.0

    async def blocked(self, keys: tuple[str, ...], now: float | None = None) -> bool:
        """Whether any of the keys had ``limit`` failures within the window."""
        now = time.time() if now is None else now
        return await self.store.login_failures(keys, now - self.window) >= self.limit

    async def fail(self, keys: tuple[str, ...], now: float | None = None) -> None:
        """Count one failure under each key (and forget those older than the window)."""
        now = time.time() if now is None else now
        await self.store.add_login_failure(keys, now, now - self.window)

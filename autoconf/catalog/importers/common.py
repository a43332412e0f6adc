"""What every importer shares: tolerant value readers, draft providers, the final catalog.

An importer turns its source into ``DraftProvider`` objects, reading each value with the
tolerant readers here (odd case, stray whitespace, deprecated names, missing optional values)
and noting in a plain sentence whatever it guessed or could not carry over. ``build`` then
merges, de-duplicates and validates the drafts into catalog data that ``parse_catalog``
accepts, so what is written always loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from autoconf.catalog.address import normalize_domain
from autoconf.catalog.load import Catalog, parse_catalog
from autoconf.catalog.model import INCOMING, PLACEHOLDERS, AuthMethod, Protocol, SocketType
from autoconf.errors import AutoconfError, BadAddress, CatalogError

IMPLICIT_TLS_PORTS = frozenset({993, 995, 465})
DEFAULT_PORTS = {
    (Protocol.IMAP, True): 993,
    (Protocol.IMAP, False): 143,
    (Protocol.POP3, True): 995,
    (Protocol.POP3, False): 110,
    (Protocol.SMTP, True): 465,
    (Protocol.SMTP, False): 587,
}
MAX_NAME = 60
MAX_SHORT_NAME = 20

_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")
_PLACEHOLDER = re.compile(r"%([A-Za-z]+)%?")
_DOMAIN_IN_HOST = "%EMAILDOMAIN%"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SOCKETS = {
    "ssl": SocketType.SSL,
    "ssl/tls": SocketType.SSL,
    "implicit-tls": SocketType.SSL,
    "starttls": SocketType.STARTTLS,
    "plain": SocketType.PLAIN,
    "none": SocketType.PLAIN,
    "cleartext": SocketType.PLAIN,
}
_AUTHS = {
    "password-cleartext": AuthMethod.PASSWORD_CLEARTEXT,
    "plain": AuthMethod.PASSWORD_CLEARTEXT,  # deprecated alias (automx2's default)
    "login": AuthMethod.PASSWORD_CLEARTEXT,
    "password-encrypted": AuthMethod.PASSWORD_ENCRYPTED,
    "secure": AuthMethod.PASSWORD_ENCRYPTED,  # deprecated alias
    "cram-md5": AuthMethod.PASSWORD_ENCRYPTED,
    "oauth2": AuthMethod.OAUTH2,
    "gssapi": AuthMethod.GSSAPI,
    "ntlm": AuthMethod.NTLM,
    "tls-client-cert": AuthMethod.TLS_CLIENT_CERT,
    "client-ip-address": AuthMethod.CLIENT_IP,
    "none": AuthMethod.NONE,
    "smtp-after-pop": AuthMethod.NONE,
}
_OUTGOING_ONLY = frozenset({AuthMethod.NONE, AuthMethod.CLIENT_IP})
NO_PASSWORD = _OUTGOING_ONLY  # methods that send no login name


class ImportFailed(AutoconfError):
    """The source cannot be read, or holds nothing that can become a catalog."""

    code = "import_failed"


class SkipServer(Exception):
    """A server that cannot be carried over; the message says why, as a sentence part."""


@dataclass
class Notes:
    """Sentences for the operator about what was guessed, changed or left out."""

    lines: list[str] = field(default_factory=list)

    def add(self, where: str, sentence: str) -> None:
        """Note one sentence about ``where`` (a file, a provider, a server), once."""
        line = f"{where}: {sentence}"
        if line not in self.lines:
            self.lines.append(line)


@dataclass(frozen=True, slots=True)
class DraftServer:
    """A server read from a source, its values already in catalog spelling."""

    protocol: Protocol
    host: str  # may hold %EMAILDOMAIN%, filled in per domain by ``build``
    port: int
    socket: SocketType
    auth: tuple[AuthMethod, ...]
    username: str

    @property
    def endpoint(self) -> tuple[Protocol, str, int, SocketType]:
        """What makes two servers the same server."""
        return (self.protocol, self.host, self.port, self.socket)

    def as_dict(self) -> dict[str, Any]:
        """The server as catalog data."""
        return {
            "protocol": self.protocol.value,
            "host": self.host,
            "port": self.port,
            "socket": self.socket.value,
            "auth": [a.value for a in self.auth],
            "username": self.username,
        }


@dataclass
class DraftProvider:
    """A provider read from a source; ``where`` names it in notes."""

    where: str
    id: str
    name: str
    short_name: str = ""
    domains: list[str] = field(default_factory=list)
    servers: list[DraftServer] = field(default_factory=list)
    leave_on_server: bool = True
    days_on_server: int | None = None
    documentation_url: str | None = None
    activesync_url: str | None = None

    def same_settings(self, other: DraftProvider) -> bool:
        """True when only the domains differ: the two can be one provider."""
        return self.as_dict(domains=False) == other.as_dict(domains=False)

    def as_dict(self, domains: bool = True) -> dict[str, Any]:
        """The provider as catalog data, keys in the order the demo catalog uses."""
        data: dict[str, Any] = {"id": self.id, "name": self.name}
        if self.short_name:
            data["short_name"] = self.short_name
        if domains:
            data["domains"] = list(self.domains)
        if self.documentation_url:
            data["documentation_url"] = self.documentation_url
        if self.activesync_url:
            data["activesync_url"] = self.activesync_url
        if any(s.protocol is Protocol.POP3 for s in self.servers):
            pop3: dict[str, Any] = {"leave_on_server": self.leave_on_server}
            if self.days_on_server is not None:
                pop3["days_on_server"] = self.days_on_server
            data["pop3"] = pop3
        data["servers"] = [s.as_dict() for s in self.servers]
        return data


# -- tolerant readers ---------------------------------------------------------------------


def clean(value: str | None) -> str:
    """Text without control characters, runs of whitespace made one space, ends trimmed.

    Control characters cannot be written into the XML answers, so none are carried over.
    """
    return " ".join(_CONTROL.sub(" ", value or "").split())


def protocol(raw: str) -> Protocol | None:
    """imap, pop3 (also pop, POP3) or smtp in any case; None for anything else."""
    name = clean(raw).lower()
    if name in {"pop", "pop3"}:
        return Protocol.POP3
    if name in {"imap", "imap4"}:
        return Protocol.IMAP
    if name == "smtp":
        return Protocol.SMTP
    return None


def hostname(raw: str) -> str:
    """A host name in lower case without a trailing dot; %EMAILDOMAIN% may stand in it."""
    host = clean(raw).rstrip(".").lower()
    if not host:
        raise SkipServer("it has no host name")
    for match in _PLACEHOLDER.finditer(host):
        if f"%{match.group(1).upper()}%" != _DOMAIN_IN_HOST:
            raise SkipServer(f"its host name {host!r} holds a placeholder other than %EMAILDOMAIN%")
    host = _PLACEHOLDER.sub(_DOMAIN_IN_HOST, host)
    if not _HOSTNAME.fullmatch(host.replace(_DOMAIN_IN_HOST, "example.com")):
        raise SkipServer(f"{host!r} is not a host name")
    return host


def port(
    raw: str | int | None, proto: Protocol, socket: SocketType | None, where: str, notes: Notes
) -> int:
    """The port as a number; missing: the usual port of the protocol and socket type."""
    text = clean(str(raw)) if raw is not None else ""
    if not text:
        guess = DEFAULT_PORTS[(proto, socket is SocketType.SSL)]
        notes.add(where, f"no port is given; {guess} is assumed")
        return guess
    try:
        number = int(text)
    except ValueError:
        raise SkipServer(f"its port {text!r} is not a number") from None
    if not 1 <= number <= 65535:  # noqa: PLR2004 - the TCP port range
        raise SkipServer(f"its port {number} is outside 1-65535")
    return number


def socket_type(values: list[str], port_number: int | None, where: str, notes: Notes) -> SocketType:
    """The first usable socket type: SSL, STARTTLS or plain, in any case and common variants.

    A bare "TLS" is ambiguous (implicit TLS or STARTTLS), and a missing one is a guess:
    both are decided by the port and noted.
    """
    for raw in values:
        name = clean(raw).lower()
        if name in _SOCKETS:
            return _SOCKETS[name]
        if name == "tls":
            guess = SocketType.SSL if port_number in IMPLICIT_TLS_PORTS else SocketType.STARTTLS
            notes.add(where, f'socket type "TLS" is ambiguous; {guess.value} is assumed by port')
            return guess
    if values:
        listed = ", ".join(repr(clean(v)) for v in values)
        notes.add(where, f"socket type {listed} is not known; decided by port instead")
    guess = SocketType.SSL if port_number in IMPLICIT_TLS_PORTS else SocketType.STARTTLS
    if not values:
        notes.add(where, f"no socket type is given; {guess.value} is assumed by port")
    return guess


def auth_methods(
    values: list[str], proto: Protocol, where: str, notes: Notes
) -> tuple[AuthMethod, ...]:
    """Known methods in the given order, duplicates dropped; unknown ones noted and dropped."""
    methods: list[AuthMethod] = []
    for raw in values:
        name = clean(raw)
        method = _AUTHS.get(name.lower())
        if method is None:
            notes.add(where, f"authentication {name!r} is not known and was left out")
            continue
        if proto in INCOMING and method in _OUTGOING_ONLY:
            notes.add(where, f"authentication {name!r} is only valid for SMTP and was left out")
            continue
        if name.lower() == "smtp-after-pop":
            notes.add(where, "smtp-after-pop is written as 'none' (no SMTP authentication)")
        if method not in methods:
            methods.append(method)
    if methods:
        return tuple(methods)
    if values:
        raise SkipServer("none of its authentication methods can be used")
    notes.add(where, "no authentication is given; password-cleartext is assumed")
    return (AuthMethod.PASSWORD_CLEARTEXT,)


def username(raw: str | None, where: str, notes: Notes) -> str:
    """The login name template; placeholders upper-cased, %EMAILADDRESS without % mended."""
    text = clean(raw)
    if not text:
        notes.add(where, "no username is given; %EMAILADDRESS% is assumed")
        return "%EMAILADDRESS%"

    def mend(match: re.Match[str]) -> str:
        token = f"%{match.group(1).upper()}%"
        if token not in PLACEHOLDERS:
            raise SkipServer(f"its username {text!r} uses the unknown placeholder {match.group()}")
        if not match.group().endswith("%"):
            notes.add(where, f"username {text!r} lacks the closing %; read as {token}")
        return token

    mended = _PLACEHOLDER.sub(mend, text)
    if "%" in _PLACEHOLDER.sub("", mended):
        raise SkipServer(f"its username {text!r} has a stray % sign")
    return mended


def domain(raw: str) -> str | None:
    """The domain in normalised form, or None when it cannot be a domain."""
    try:
        return normalize_domain(clean(raw))
    except BadAddress:
        return None


def provider_id(raw: str, domains: list[str], where: str, notes: Notes) -> str:
    """A hostname-like provider id: the given one if it is one, else the first domain."""
    text = clean(raw).rstrip(".").lower()
    if _HOSTNAME.fullmatch(text):
        return text
    fallback = domains[0]
    if text:
        notes.add(where, f"provider id {clean(raw)!r} is not hostname-like; {fallback} is used")
    return fallback


def display_names(
    name: str, short: str, fallback: str, where: str, notes: Notes
) -> tuple[str, str]:
    """Name (at most 60 characters) and short name (at most 20); cut with a note."""
    name = clean(name) or fallback
    short = clean(short)
    if len(name) > MAX_NAME:
        notes.add(where, f"the name is longer than {MAX_NAME} characters and was cut")
        name = name[:MAX_NAME].rstrip()
    if len(short) > MAX_SHORT_NAME:
        notes.add(where, f"the short name is longer than {MAX_SHORT_NAME} characters and was cut")
        short = short[:MAX_SHORT_NAME].rstrip()
    return name, short


def web_url(raw: str | None, secure_only: bool = False) -> str | None:
    """An http(s) URL without whitespace, or None."""
    text = (raw or "").strip()
    schemes = ("https://",) if secure_only else ("https://", "http://")
    if text.lower().startswith(schemes) and not _CONTROL.search(text) and text.isprintable():
        return text
    return None


# -- drafts -> catalog -----------------------------------------------------------------------


def _expand_hosts(draft: DraftProvider) -> list[DraftProvider]:
    """One draft per domain when a host name holds %EMAILDOMAIN%."""
    if not any(_DOMAIN_IN_HOST in s.host for s in draft.servers):
        return [draft]
    out = []
    for name in draft.domains:
        servers = [replace(s, host=s.host.replace(_DOMAIN_IN_HOST, name)) for s in draft.servers]
        out.append(replace(draft, domains=[name], servers=servers))
    return out


def _dedupe_servers(draft: DraftProvider, notes: Notes) -> None:
    seen: set[tuple[Protocol, str, int, SocketType]] = set()
    kept = []
    for server in draft.servers:
        if server.endpoint in seen:
            notes.add(
                draft.where,
                f"{server.protocol.value} server {server.host}:{server.port} "
                f"({server.socket.value}) is listed twice; the first is kept",
            )
            continue
        seen.add(server.endpoint)
        kept.append(server)
    draft.servers = kept


def usable(draft: DraftProvider, notes: Notes) -> bool:
    """True when the draft has a domain, an IMAP or POP3 server and an SMTP server."""
    missing = []
    if not any(s.protocol in INCOMING for s in draft.servers):
        missing.append("no IMAP or POP3 server")
    if not any(s.protocol is Protocol.SMTP for s in draft.servers):
        missing.append("no SMTP server")
    if not draft.domains:
        missing.append("no domain")
    if missing:
        notes.add(draft.where, f"left out: it has {' and '.join(missing)} that can be carried over")
        return False
    return True


def _unique_ids(drafts: list[DraftProvider], notes: Notes) -> None:
    """Give each provider its own id: the service keys cached answers by it."""
    taken: set[str] = set()
    for draft in drafts:
        if draft.id in taken:
            candidates = [draft.domains[0], *(f"{draft.domains[0]}-{n}" for n in range(2, 999))]
            new = next(c for c in candidates if c not in taken)
            notes.add(
                draft.where,
                f"provider id {draft.id} is used twice; the provider of {draft.domains[0]} "
                f"gets the id {new}",
            )
            draft.id = new
        taken.add(draft.id)


@dataclass(frozen=True, slots=True)
class Imported:
    """The result of an import: the validated catalog, its data for TOML, and the notes."""

    catalog: Catalog
    data: dict[str, Any]
    notes: list[str]


def build(drafts: list[DraftProvider], notes: Notes, source: str) -> Imported:
    """Merge and check the drafts into a validated catalog, or raise ImportFailed."""
    expanded = [one for draft in drafts for one in _expand_hosts(draft)]
    owner: dict[str, str] = {}
    merged: list[DraftProvider] = []
    for draft in expanded:
        _dedupe_servers(draft, notes)
        fresh = []
        for name in draft.domains:
            if name in owner:
                notes.add(draft.where, f"{name} is already served by {owner[name]}; left out")
                continue
            owner[name] = draft.where
            fresh.append(name)
        draft.domains = fresh
        if not usable(draft, notes):
            continue
        twin = next((m for m in merged if m.same_settings(draft)), None)
        if twin is not None:
            twin.domains.extend(draft.domains)
        else:
            merged.append(draft)
    if not merged:
        reasons = "; ".join(notes.lines[-3:])
        raise ImportFailed(
            f"{source} holds no provider that can be carried over into a catalog ({reasons})"
        )
    _unique_ids(merged, notes)
    data = {"providers": [draft.as_dict() for draft in merged]}
    try:
        catalog = parse_catalog(data, source)
    except CatalogError as exc:  # a value none of the readers above caught: say which
        raise ImportFailed(
            "the imported settings do not make a valid catalog: " + "; ".join(exc.lines)
        ) from None
    return Imported(catalog, data, notes.lines)

"""The catalog's data model: providers, their servers and policy, frozen and validated."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from autoconf.catalog.address import normalize_domain
from autoconf.errors import BadAddress

PLACEHOLDERS = ("%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%")
_PLACEHOLDER = re.compile(r"%[A-Z]+%")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


class Protocol(StrEnum):
    """Mail protocols a server in the catalog speaks."""

    IMAP = "imap"
    POP3 = "pop3"
    SMTP = "smtp"


class SocketType(StrEnum):
    """How the connection is secured, spelled as Mozilla's clientConfig spells it."""

    SSL = "SSL"
    STARTTLS = "STARTTLS"
    PLAIN = "plain"


class AuthMethod(StrEnum):
    """Authentication methods, named as clientConfig 1.1 names them."""

    PASSWORD_CLEARTEXT = "password-cleartext"  # noqa: S105 - a method name, not a secret
    PASSWORD_ENCRYPTED = "password-encrypted"  # noqa: S105
    OAUTH2 = "OAuth2"
    GSSAPI = "GSSAPI"
    NTLM = "NTLM"
    TLS_CLIENT_CERT = "TLS-client-cert"
    CLIENT_IP = "client-IP-address"
    NONE = "none"


INCOMING = (Protocol.IMAP, Protocol.POP3)
_OUTGOING_ONLY_AUTH = frozenset({AuthMethod.CLIENT_IP, AuthMethod.NONE})


def _domain(value: str) -> str:
    try:
        return normalize_domain(value)
    except BadAddress as exc:
        raise ValueError(f"{value!r} is not a domain name: {exc}") from exc


def _hostname(value: str) -> str:
    host = value.strip().rstrip(".").lower()
    if not _HOSTNAME.match(host):
        raise ValueError(f"{value!r} is not a host name (letters, digits, hyphens and dots)")
    return host


def _username(value: str) -> str:
    for token in _PLACEHOLDER.findall(value):
        if token not in PLACEHOLDERS:
            raise ValueError(f"unknown placeholder {token}; use one of {', '.join(PLACEHOLDERS)}")
    if "%" in _PLACEHOLDER.sub("", value):
        raise ValueError("a % sign that is not part of a placeholder such as %EMAILADDRESS%")
    if not value.strip():
        raise ValueError("the username template is empty")
    return value


Domain = Annotated[str, AfterValidator(_domain)]
Hostname = Annotated[str, AfterValidator(_hostname)]
UsernameTemplate = Annotated[str, AfterValidator(_username)]


class Frozen(BaseModel):
    """Base of catalog models: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Server(Frozen):
    """One server of a provider, in the provider's order of preference."""

    protocol: Protocol
    host: Hostname
    port: int = Field(ge=1, le=65535)
    socket: SocketType
    auth: tuple[AuthMethod, ...] = Field(
        default=(AuthMethod.PASSWORD_CLEARTEXT,),
        min_length=1,
        description="authentication methods, most preferred first",
    )
    username: UsernameTemplate = Field(
        default="%EMAILADDRESS%",
        description="login name; placeholders %EMAILADDRESS%, %EMAILLOCALPART%, %EMAILDOMAIN%",
    )

    @model_validator(mode="after")
    def _auth_fits_protocol(self) -> Server:
        if self.protocol in INCOMING and _OUTGOING_ONLY_AUTH.intersection(self.auth):
            raise ValueError("'none' and 'client-IP-address' are only valid for SMTP servers")
        return self

    @property
    def incoming(self) -> bool:
        """True for IMAP and POP3, False for SMTP."""
        return self.protocol in INCOMING


class Pop3Policy(Frozen):
    """What POP3 clients are told to do with mail on the server."""

    leave_on_server: bool = Field(
        default=True, description="offer POP3 with leave-a-copy-on-the-server on"
    )
    days_on_server: int | None = Field(
        default=None, ge=1, description="delete from the server after N days (None: never)"
    )


class Provider(Frozen):
    """A mail provider: its name, the domains it hosts and its servers."""

    id: Hostname = Field(description="hostname-like id, e.g. example.com")
    name: str = Field(min_length=1, max_length=60)
    short_name: str = Field(default="", max_length=20)
    domains: tuple[Domain, ...] = Field(min_length=1)
    servers: tuple[Server, ...] = Field(min_length=1)
    pop3: Pop3Policy = Pop3Policy()
    activesync_url: str | None = Field(
        default=None, pattern=r"^https://[^\s]+$", description="ActiveSync URL, if offered"
    )
    documentation_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")

    @model_validator(mode="after")
    def _has_incoming_and_smtp(self) -> Provider:
        if not any(s.incoming for s in self.servers):
            raise ValueError("needs at least one IMAP or POP3 server")
        if not any(s.protocol is Protocol.SMTP for s in self.servers):
            raise ValueError("needs at least one SMTP server (clients refuse a setup without one)")
        return self

    @property
    def display_short_name(self) -> str:
        """The short name, or the name cut to twelve characters."""
        return self.short_name or self.name[:12]

    def ordered(self, protocol: Protocol) -> tuple[Server, ...]:
        """The servers of one protocol, in catalog order."""
        return tuple(s for s in self.servers if s.protocol is protocol)


class CatalogModel(Frozen):
    """The whole catalog file."""

    providers: tuple[Provider, ...] = Field(min_length=1)
    aliases: dict[Domain, Domain] = Field(
        default_factory=dict, description="alias domain -> hosted domain it redirects to"
    )

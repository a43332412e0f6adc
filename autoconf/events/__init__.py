"""Mail-server events: typed models and the pure parsers that build them from Dovecot output."""

from autoconf.events.dovecot_log import Parser, parse_line
from autoconf.events.model import (
    AbortedLogin,
    AuthFailure,
    ClientId,
    Disconnected,
    Event,
    ImapLogout,
    Login,
    MailEvent,
    Pop3Logout,
)

__all__ = [
    "AbortedLogin",
    "AuthFailure",
    "ClientId",
    "Disconnected",
    "Event",
    "ImapLogout",
    "Login",
    "MailEvent",
    "Parser",
    "Pop3Logout",
    "parse_line",
]

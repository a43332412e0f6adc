"""A finished account: everything a renderer needs, resolved from the catalog, no I/O left."""

from __future__ import annotations

from dataclasses import dataclass

from autoconf.catalog.address import Address
from autoconf.catalog.model import Pop3Policy, Protocol, Provider, Server


@dataclass(frozen=True, slots=True)
class Account:
    """The settings for one domain, and for one address when the client named it.

    ``domain`` is the domain the client asked about; ``mail_domain`` is where the mailbox
    really lives (they differ for an alias domain).
    """

    provider: Provider
    domain: str
    mail_domain: str
    address: Address | None = None

    @property
    def is_alias(self) -> bool:
        """True when the client asked about an alias domain of ``mail_domain``."""
        return self.domain != self.mail_domain

    @property
    def mailbox(self) -> Address | None:
        """The real mailbox address: the alias address moved to the hosted domain."""
        if self.address is None:
            return None
        return Address(self.address.local, self.mail_domain)

    @property
    def incoming(self) -> tuple[Server, ...]:
        """IMAP servers first, then POP3, each in catalog order."""
        return self.provider.ordered(Protocol.IMAP) + self.provider.ordered(Protocol.POP3)

    @property
    def outgoing(self) -> tuple[Server, ...]:
        """SMTP servers in catalog order."""
        return self.provider.ordered(Protocol.SMTP)

    @property
    def pop3(self) -> Pop3Policy:
        """The provider's POP3 policy."""
        return self.provider.pop3

    def username_template(self, server: Server) -> str:
        """The login name with placeholders left for the client (Mozilla clientConfig).

        For an alias domain the hosted domain is written in, since the client would
        otherwise fill in the alias domain.
        """
        template = server.username
        if not self.is_alias:
            return template
        return template.replace("%EMAILADDRESS%", "%EMAILLOCALPART%@" + self.mail_domain).replace(
            "%EMAILDOMAIN%", self.mail_domain
        )

    def username(self, server: Server) -> str:
        """The login name for ``address`` with every placeholder filled in."""
        mailbox = self.mailbox
        if mailbox is None:
            return self.username_template(server)
        return expand(server.username, mailbox)


def expand(template: str, mailbox: Address) -> str:
    """Fill %EMAILADDRESS%, %EMAILLOCALPART% and %EMAILDOMAIN% for a mailbox."""
    if template == "%EMAILADDRESS%":
        return f"{mailbox.local}@{mailbox.domain}"
    return (
        template.replace("%EMAILADDRESS%", str(mailbox))
        .replace("%EMAILLOCALPART%", mailbox.local)
        .replace("%EMAILDOMAIN%", mailbox.domain)
    )

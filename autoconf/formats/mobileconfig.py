"""Apple configuration profile (com.apple.mail.managed) for iOS, iPadOS and macOS Mail."""

from __future__ import annotations

import plistlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from autoconf.catalog.model import AuthMethod, Protocol, Server, SocketType

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from autoconf.catalog.account import Account

CONTENT_TYPE = "application/x-apple-aspen-config"
# Fixed namespace: the same address always gets the same UUIDs, so a re-download replaces
# the installed profile instead of adding a second account.
_NAMESPACE = uuid.UUID("5b0c6d0e-2f57-4c38-9a59-1c7e3a5d2b41")
_AUTH = {
    AuthMethod.PASSWORD_CLEARTEXT: "EmailAuthPassword",
    AuthMethod.PASSWORD_ENCRYPTED: "EmailAuthCRAMMD5",
    AuthMethod.NTLM: "EmailAuthNTLM",
    AuthMethod.NONE: "EmailAuthNone",
    AuthMethod.CLIENT_IP: "EmailAuthNone",
}


class NoUsableServer(ValueError):
    """The provider has no server that a profile can express."""


@dataclass(frozen=True, slots=True)
class Signer:
    """A certificate, its key and the intermediates that go into every signature."""

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...] = ()


def profile_ids(email: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Stable (profile, mail payload) UUIDs for an address, case-insensitive."""
    profile = uuid.uuid5(_NAMESPACE, email.lower())
    return profile, uuid.uuid5(profile, "com.apple.mail.managed")


def _pick(servers: tuple[Server, ...]) -> Server | None:
    """The first server a profile can express: implicit TLS preferred, password auth known."""
    usable = [s for s in servers if any(m in _AUTH for m in s.auth)]
    usable.sort(key=lambda s: s.socket is not SocketType.SSL)
    return usable[0] if usable else None


def _auth(server: Server) -> str:
    return next(_AUTH[m] for m in server.auth if m in _AUTH)


def _reverse(domain: str) -> str:
    return ".".join(reversed(domain.split(".")))


def render(account: Account, *, profile_uuid: uuid.UUID, mail_uuid: uuid.UUID) -> bytes:
    """An unsigned XML plist profile for ``account.address`` (an IMAP account, no password).

    The UUIDs come in from the caller so the output is deterministic.
    """
    address = account.address
    if address is None:
        msg = "a profile is made for one address"
        raise ValueError(msg)
    incoming = _pick(account.provider.ordered(Protocol.IMAP))
    outgoing = _pick(account.outgoing)
    if incoming is None or outgoing is None:
        raise NoUsableServer("The provider has no IMAP or SMTP server a profile can describe.")
    provider = account.provider
    base = f"{_reverse(provider.id)}.autoconfig.{profile_uuid.hex}"
    mail: dict[str, Any] = {
        "PayloadType": "com.apple.mail.managed",
        "PayloadVersion": 1,
        "PayloadIdentifier": f"{base}.mail",
        "PayloadUUID": str(mail_uuid).upper(),
        "PayloadDisplayName": f"{provider.name} (IMAP)",
        "EmailAccountType": "EmailTypeIMAP",
        "EmailAccountDescription": f"{provider.name}: {address}",
        "EmailAddress": str(address),
        "IncomingMailServerHostName": incoming.host,
        "IncomingMailServerPortNumber": incoming.port,
        "IncomingMailServerUseSSL": incoming.socket is SocketType.SSL,
        "IncomingMailServerUsername": account.username(incoming),
        "IncomingMailServerAuthentication": _auth(incoming),
        "OutgoingMailServerHostName": outgoing.host,
        "OutgoingMailServerPortNumber": outgoing.port,
        "OutgoingMailServerUseSSL": outgoing.socket is SocketType.SSL,
        "OutgoingMailServerUsername": account.username(outgoing),
        "OutgoingMailServerAuthentication": _auth(outgoing),
        "OutgoingPasswordSameAsIncomingPassword": True,
    }
    profile: dict[str, Any] = {
        "PayloadType": "Configuration",
        "PayloadVersion": 1,
        "PayloadIdentifier": base,
        "PayloadUUID": str(profile_uuid).upper(),
        "PayloadDisplayName": f"{provider.name} mail settings",
        "PayloadDescription": f"Sets up the mailbox {address} in Mail over IMAP.",
        "PayloadOrganization": provider.name,
        "PayloadContent": [mail],
    }
    return plistlib.dumps(profile, fmt=plistlib.FMT_XML, sort_keys=True)


def sign(profile: bytes, signer: Signer) -> bytes:
    """CMS SignedData (DER) with the profile embedded and the full chain included."""
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(profile)
        .add_signer(signer.certificate, signer.key, hashes.SHA256())
    )
    for certificate in signer.chain:
        builder = builder.add_certificate(certificate)
    return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])

"""Why a probe of one server stopped: each error names host:port, the step and what to do.

AutoconfError
 +-- ProbeError                 one server could not be probed to the end
      +-- ProbeTimeout          no answer within the step's limit (504)
      +-- ConnectionRefused     nothing listens on the port
      +-- Unreachable           host unknown, network down, connection reset or closed
      +-- GarbageReply          the server does not speak the protocol expected
      +-- StartTLSNotOffered    STARTTLS/STLS missing from the capabilities
      +-- StartTLSRefused       the server answered STARTTLS/STLS with an error
      +-- TLSHandshakeFailed    no TLS session could be agreed
      +-- CertificateError      the certificate does not verify
      |    +-- CertificateExpired     past its end date (or not yet valid)
      |    +-- CertificateMismatch    issued for other names
      +-- CleartextRefused      we will not send a password without TLS
      +-- AuthenticationFailed  the server refused the credentials
      +-- ProbeUnavailable      the probe cannot run at all (no master user set up)

``DialogError`` is what the pure dialog code (imap.py, pop3.py) raises; the connection
turns it into a ``GarbageReply`` naming the endpoint and step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from autoconf.errors import AutoconfError

if TYPE_CHECKING:
    from autoconf.probe.connect import Endpoint


class DialogError(Exception):
    """The peer said something the dialog code cannot use (no endpoint known here)."""

    def __init__(self, what: str, line: bytes = b"") -> None:
        self.what = what
        self.line = line
        super().__init__(what)


def excerpt(data: bytes, limit: int = 60) -> str:
    """Printable start of what a server sent, for a sentence."""
    text = data[:limit].decode("ascii", "backslashreplace").rstrip("\r\n")
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return repr(text + ("..." if len(data) > limit else ""))


class ProbeError(AutoconfError):
    """A server could not be probed to the end; ``step`` says where it stopped."""

    status = 502
    code = "probe_failed"
    severity: ClassVar[str] = "error"
    advice: ClassVar[str] = "Check the server's log for this connection."
    session_usable: ClassVar[bool] = False  # True: the dialog can still end with LOGOUT/QUIT

    def __init__(self, ep: Endpoint, step: str, message: str) -> None:
        self.endpoint = ep
        self.step = step
        super().__init__(f"{ep.host}:{ep.port} ({ep.protocol}) {message}")


class ProbeTimeout(ProbeError):
    """The server did not answer in time."""

    status = 504
    code = "timeout"
    advice = (
        "Check that the service runs and is not overloaded, and that no firewall drops "
        "packets on this port."
    )

    def __init__(self, ep: Endpoint, step: str, timeout: float) -> None:
        self.timeout = timeout
        super().__init__(ep, step, f"sent no answer to the {step} step within {timeout:g}s")


class ConnectionRefused(ProbeError):
    """Nothing accepts connections on the port."""

    code = "connection_refused"
    advice = "Start the service, or correct host and port in the catalog."

    def __init__(self, ep: Endpoint, step: str) -> None:
        super().__init__(ep, step, "refused the connection: nothing listens on this port")


class Unreachable(ProbeError):
    """The host could not be reached, or it dropped the connection."""

    code = "unreachable"
    advice = "Check the host name in DNS, the route to the server and its firewall."

    def __init__(self, ep: Endpoint, step: str, reason: str) -> None:
        super().__init__(ep, step, f"could not be reached at the {step} step: {reason}")


class GarbageReply(ProbeError):
    """The server does not speak the protocol the catalog names."""

    code = "garbage_reply"
    advice = (
        "Check that this port runs the protocol the catalog names, with the TLS mode it "
        "names (implicit TLS ports expect a TLS handshake first)."
    )

    def __init__(self, ep: Endpoint, step: str, what: str, line: bytes) -> None:
        super().__init__(ep, step, f"sent {what} at the {step} step: {excerpt(line)}")


class StartTLSNotOffered(ProbeError):
    """STARTTLS (IMAP) or STLS (POP3) is not among the capabilities."""

    code = "starttls_not_offered"
    session_usable = True
    advice = (
        "Enable TLS on the server (Dovecot: ssl = yes with a certificate), or publish the "
        "implicit TLS port instead."
    )

    def __init__(self, ep: Endpoint, step: str, command: str) -> None:
        super().__init__(ep, step, f"does not offer {command}, so the connection stays unencrypted")


class StartTLSRefused(ProbeError):
    """The server answered STARTTLS/STLS with an error."""

    code = "starttls_refused"
    session_usable = True
    advice = "Check the server's TLS settings and certificate files; its log says why."

    def __init__(self, ep: Endpoint, step: str, command: str, line: bytes) -> None:
        super().__init__(ep, step, f"refused {command}: {excerpt(line)}")


class TLSHandshakeFailed(ProbeError):
    """No TLS session could be agreed."""

    code = "tls_handshake_failed"
    advice = (
        "Check the server's TLS versions and ciphers (TLS 1.2 or newer) and that this port "
        "speaks TLS in the mode the catalog names."
    )

    def __init__(self, ep: Endpoint, step: str, reason: str) -> None:
        super().__init__(ep, step, f"failed the TLS handshake: {reason}")


class CertificateError(ProbeError):
    """The certificate does not verify (unknown issuer, self-signed, revoked...)."""

    code = "certificate_untrusted"
    advice = (
        "Install a certificate from a public CA with its intermediate certificates (the full "
        "chain), or give the probe the private CA with --ca-file."
    )

    def __init__(self, ep: Endpoint, step: str, reason: str) -> None:
        super().__init__(ep, step, f"presented a certificate that does not verify: {reason}")


class CertificateExpired(CertificateError):
    """The certificate is past its end date, or not valid yet."""

    code = "certificate_expired"
    advice = "Renew the certificate, install it and reload the server."


class CertificateMismatch(CertificateError):
    """The certificate was issued for other names."""

    code = "certificate_name_mismatch"
    advice = (
        "Install a certificate that names this host (in its subject alternative names), or "
        "publish the host name the certificate names."
    )


class CleartextRefused(ProbeError):
    """The connection is not encrypted, so the probe will not send a password."""

    code = "cleartext_login"
    severity = "warning"
    advice = (
        "Require TLS before login (Dovecot: disable_plaintext_auth = yes, the default) and "
        "tell clients to use the TLS port or STARTTLS."
    )

    def __init__(self, ep: Endpoint, step: str) -> None:
        super().__init__(
            ep,
            step,
            "offers password login without TLS; the probe did not send the password",
        )


class AuthenticationFailed(ProbeError):
    """The server refused the credentials."""

    code = "authentication_failed"
    session_usable = True
    advice = (
        "Check the user name and password (for a master user: its password and that "
        "master logins are enabled); the server's auth log says which."
    )

    def __init__(self, ep: Endpoint, step: str, login: str, line: bytes) -> None:
        super().__init__(ep, step, f"refused the login of {login}: {excerpt(line)}")


class ProbeUnavailable(AutoconfError):
    """The probe cannot run: no credentials can be had."""

    status = 409
    code = "probe_unavailable"

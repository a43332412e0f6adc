"""Sockets for the probe: connect, implicit TLS or STARTTLS upgrade, certificates, timeouts.

The only probe module that touches the network. Every step runs under its own
``asyncio.timeout``; socket and TLS exceptions become ProbeErrors naming host:port and step.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import socket
import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from autoconf.probe.errors import (
    CertificateError,
    CertificateExpired,
    CertificateMismatch,
    ConnectionRefused,
    DialogError,
    GarbageReply,
    ProbeTimeout,
    TLSHandshakeFailed,
    Unreachable,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

# OpenSSL X509_V_ERR_* codes that have a sentence of their own.
_EXPIRED = {9, 10}  # not yet valid, has expired
_MISMATCH = {62, 63, 64}  # host name, e-mail, IP address mismatch
LINE_LIMIT = 1 << 20  # longest line a server may send (StreamReader limit)
CLOSE_WAIT = 0.1  # seconds a clean TLS close may take before the socket is cut


class TlsMode(StrEnum):
    """How the connection is secured."""

    SSL = "ssl"  # implicit TLS from the first byte
    STARTTLS = "starttls"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One server to probe."""

    protocol: str  # imap | pop3 | smtp
    host: str
    port: int
    tls: TlsMode
    # Where to connect instead of (host, port), keeping host for SNI, certificate names and
    # messages: the domain-health checks resolve through their own DNS (and tests remap ports).
    address: tuple[str, int] | None = None

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Limits in seconds: connect (incl. TCP), each dialog step, the TLS handshake."""

    connect: float = 5.0
    step: float = 10.0
    tls: float = 10.0


@dataclass(frozen=True, slots=True)
class TlsFacts:
    """What the TLS session and the server's certificate look like."""

    version: str | None
    cipher: str | None
    bits: int | None
    certificate: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"version": self.version, "cipher": self.cipher, "bits": self.bits}


def tls_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Verifying client context: system CAs, or only ``ca_file`` when given; TLS 1.2+."""
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def describe_certificate(der: bytes | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Subject, issuer, names, validity and fingerprint of a DER certificate."""
    if not der:
        return {}
    cert = x509.load_der_x509_certificate(der)
    now = now or dt.datetime.now(dt.UTC)

    def common_name(name: x509.Name) -> str | None:
        attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else None

    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [*san.get_values_for_type(x509.DNSName)]
        names += [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    after = cert.not_valid_after_utc
    return {
        "subject": common_name(cert.subject),
        "issuer": common_name(cert.issuer),
        "names": names,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": after.isoformat(),
        "days_left": (after - now).days,
        "self_signed": cert.subject == cert.issuer,
        "sha256": hashlib.sha256(der).hexdigest(),
    }


class Connection:
    """A connected reader/writer pair with per-step timeouts; the dialog's transport."""

    def __init__(
        self,
        ep: Endpoint,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        timeouts: Timeouts,
    ) -> None:
        self.ep = ep
        self.reader = reader
        self.writer = writer
        self.timeouts = timeouts
        self.tls: TlsFacts | None = None

    # -- the transport the dialog code uses (see imap.Transport)
    async def readline(self) -> bytes:
        """One line including CRLF; EOF raises."""
        return await self.reader.readuntil(b"\n")

    async def readexactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes (a literal)."""
        return await self.reader.readexactly(n)

    def write(self, data: bytes) -> None:
        """Queue bytes to send."""
        self.writer.write(data)

    async def drain(self) -> None:
        """Wait until the bytes are sent (or buffered by the kernel)."""
        await self.writer.drain()

    # -- steps
    @contextlib.asynccontextmanager
    async def step(self, name: str, limit: float | None = None) -> AsyncIterator[None]:
        """Run one dialog step under a timeout, mapping failures to ProbeErrors."""
        seconds = self.timeouts.step if limit is None else limit
        async with _mapped(self.ep, name, seconds):
            yield

    async def start_tls(self, ctx: ssl.SSLContext) -> None:
        """Upgrade the connection to TLS (after STARTTLS/STLS was accepted)."""
        async with _mapped(self.ep, "tls", self.timeouts.tls):
            await self.writer.start_tls(ctx, server_hostname=self.ep.host)
        self.tls = _facts(self.writer)

    async def close(self) -> None:
        """Close without waiting long for the peer (a stalled peer is cut off at once)."""
        if self.writer.transport.is_closing():
            return
        self.writer.close()
        try:
            async with asyncio.timeout(CLOSE_WAIT):
                await self.writer.wait_closed()
        except TimeoutError:
            self.writer.transport.abort()
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
            pass


async def open_connection(
    ep: Endpoint, timeouts: Timeouts, ctx: ssl.SSLContext | None
) -> Connection:
    """TCP connect (and the TLS handshake for implicit TLS) within the connect limit."""
    implicit = ctx if ep.tls is TlsMode.SSL else None
    step = "tls" if implicit else "connect"
    limit = timeouts.connect + (timeouts.tls if implicit else 0)
    async with _mapped(ep, step, limit, connecting=True):
        host, port = ep.address or (ep.host, ep.port)
        reader, writer = await asyncio.open_connection(
            host,
            port,
            ssl=implicit,
            server_hostname=ep.host if implicit else None,
            ssl_handshake_timeout=timeouts.tls if implicit else None,
            limit=LINE_LIMIT,
        )
    conn = Connection(ep, reader, writer, timeouts)
    if implicit:
        conn.tls = _facts(writer)
    return conn


def _facts(writer: asyncio.StreamWriter) -> TlsFacts:
    obj: ssl.SSLObject | None = writer.get_extra_info("ssl_object")
    if obj is None:
        return TlsFacts(None, None, None, {})
    cipher = obj.cipher()
    cert = describe_certificate(obj.getpeercert(binary_form=True))
    if cert:
        cert["verified"] = True
    return TlsFacts(
        obj.version(),
        cipher[0] if cipher else None,
        cipher[2] if cipher else None,
        cert,
    )


@contextlib.asynccontextmanager
async def _mapped(  # noqa: C901 - one except clause per kind of failure, nothing else
    ep: Endpoint, step: str, limit: float, *, connecting: bool = False
) -> AsyncIterator[None]:
    """Timeout plus translation of socket, TLS and dialog failures for one step."""
    try:
        async with asyncio.timeout(limit):
            yield
    except TimeoutError:
        raise ProbeTimeout(ep, step, limit) from None
    except ssl.SSLCertVerificationError as exc:
        raise _certificate_error(ep, step, exc) from exc
    except ssl.SSLError as exc:
        raise TLSHandshakeFailed(ep, step, exc.reason or str(exc)) from exc
    except ConnectionRefusedError as exc:
        raise ConnectionRefused(ep, step) from exc
    except socket.gaierror as exc:
        raise Unreachable(ep, step, f"the host name does not resolve ({exc.strerror})") from exc
    except asyncio.IncompleteReadError as exc:
        if step == "tls":
            raise TLSHandshakeFailed(ep, step, "the server closed the connection") from exc
        raise Unreachable(ep, step, "the server closed the connection") from exc
    except asyncio.LimitOverrunError as exc:
        raise GarbageReply(ep, step, "a line longer than 1 MiB", b"") from exc
    except (ConnectionResetError, BrokenPipeError) as exc:
        what = "the server reset the connection"
        if step == "tls" or connecting:
            raise TLSHandshakeFailed(ep, step, what) from exc
        raise Unreachable(ep, step, what) from exc
    except OSError as exc:
        raise Unreachable(ep, step, exc.strerror or str(exc)) from exc
    except DialogError as exc:
        raise GarbageReply(ep, step, exc.what, exc.line) from exc


def _certificate_error(ep: Endpoint, step: str, exc: ssl.SSLCertVerificationError) -> Exception:
    reason = exc.verify_message or exc.reason or str(exc)
    if exc.verify_code in _EXPIRED:
        return CertificateExpired(ep, step, reason)
    if exc.verify_code in _MISMATCH:
        return CertificateMismatch(ep, step, reason)
    return CertificateError(ep, step, reason)

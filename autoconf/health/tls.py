"""Server checks: TCP, implicit TLS or STARTTLS, TLS versions, certificate, greeting, capabilities.

IMAP and POP3 reuse the probe's dialogs without credentials (autoconf/probe/server.py);
SMTP has its own small dialog (smtp.py). Sockets, TLS and timeouts are the probe's
(autoconf/probe/connect.py). Each server becomes one Step with a sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from autoconf.health.dns import NameError_
from autoconf.health.model import Status, Step
from autoconf.health.smtp import SmtpClient
from autoconf.probe.connect import (
    Connection,
    Endpoint,
    Timeouts,
    TlsMode,
    open_connection,
    tls_context,
)
from autoconf.probe.errors import ProbeError, StartTLSNotOffered, StartTLSRefused
from autoconf.probe.imap import ImapClient
from autoconf.probe.pop3 import Pop3Client
from autoconf.probe.result import EXPIRY_WARNING_DAYS, Finding, ServerResult
from autoconf.probe.server import Options, probe_imap, probe_pop3

if TYPE_CHECKING:
    from pathlib import Path

    from autoconf.health.dns import Dns
    from autoconf.health.model import ServerRef

VERSIONS = (
    ("TLS 1.0", ssl.TLSVersion.TLSv1),
    ("TLS 1.1", ssl.TLSVersion.TLSv1_1),
    ("TLS 1.2", ssl.TLSVersion.TLSv1_2),
    ("TLS 1.3", ssl.TLSVersion.TLSv1_3),
)
LEGACY = ("TLS 1.0", "TLS 1.1")
SHOWN_CAPABILITIES = 8
# Findings after which nothing answered at all: no point in trying TLS versions.
_DEAD = frozenset({"connection_refused", "unreachable", "timeout"})


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """Timeouts and the CA bundle to trust (None: the system's)."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    ca_file: Path | None = None


def _pinned(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A context that offers exactly one TLS version and takes any certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if version < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("ALL:@SECLEVEL=0")  # OpenSSL 3 refuses to offer TLS 1.0/1.1 otherwise
    with warnings.catch_warnings():  # asking for TLS 1.0/1.1 on purpose: does the server agree?
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    return ctx


async def _upgrade(conn: Connection, protocol: str) -> None:
    """The plain-text part of STARTTLS for each protocol; ProbeError when it is refused."""
    ep = conn.ep
    if protocol == "imap":
        imap = ImapClient(conn)
        async with conn.step("greeting"):
            await imap.greeting()
        async with conn.step("starttls"):
            done = await imap.starttls()
        if not done.ok:
            raise StartTLSRefused(ep, "starttls", "STARTTLS", done.line)
    elif protocol == "pop3":
        pop3 = Pop3Client(conn)
        async with conn.step("greeting"):
            await pop3.greeting()
        async with conn.step("starttls"):
            reply = await pop3.stls()
        if not reply.ok:
            raise StartTLSRefused(ep, "starttls", "STLS", reply.line)
    else:
        smtp = SmtpClient(conn)
        async with conn.step("greeting"):
            await smtp.greeting()
            await smtp.ehlo()
        async with conn.step("starttls"):
            answer = await smtp.starttls()
        if answer.code != 220:  # noqa: PLR2004
            raise StartTLSRefused(ep, "starttls", "STARTTLS", str(answer.lines[0]).encode())


async def _handshake(ep: Endpoint, ctx: ssl.SSLContext, timeouts: Timeouts) -> dict[str, Any]:
    """One TLS session with ``ctx``: its version and certificate; {} when none was agreed."""
    conn: Connection | None = None
    try:
        conn = await open_connection(ep, timeouts, ctx)
        if ep.tls is TlsMode.STARTTLS:
            await _upgrade(conn, ep.protocol)
            await conn.start_tls(ctx)
    except ProbeError:
        return {}
    finally:
        if conn is not None:
            await conn.close()
    facts = conn.tls
    if facts is None:
        return {}
    certificate = dict(facts.certificate)
    certificate.pop("verified", None)
    return {"version": facts.version, "certificate": certificate}


async def tls_versions(ep: Endpoint, timeouts: Timeouts) -> tuple[dict[str, bool], dict[str, Any]]:
    """Which TLS versions the server accepts, and its certificate as sent (unverified)."""
    sessions = await asyncio.gather(*(_handshake(ep, _pinned(v), timeouts) for _, v in VERSIONS))
    accepted = {name: bool(s) for (name, _), s in zip(VERSIONS, sessions, strict=True)}
    certificate: dict[str, Any] = next((s["certificate"] for s in reversed(sessions) if s), {})
    return accepted, certificate


async def probe_smtp(ep: Endpoint, ctx: ssl.SSLContext, timeouts: Timeouts) -> ServerResult:
    """Greeting, EHLO, STARTTLS (when the mode says so), EHLO again, QUIT."""
    result = ServerResult(ep)
    conn: Connection | None = None
    try:
        conn = await open_connection(ep, timeouts, ctx)
        result.tls = conn.tls
        client = SmtpClient(conn)
        async with conn.step("greeting"):
            result.greeting = await client.greeting()
        async with conn.step("ehlo"):
            await client.ehlo()
        phase = "after_tls" if ep.tls is TlsMode.SSL else "before_tls"
        result.capabilities[phase] = sorted(client.extensions)
        result.mechanisms[phase] = list(client.mechanisms)
        if ep.tls is TlsMode.STARTTLS:
            if "STARTTLS" not in client.extensions:
                raise StartTLSNotOffered(ep, "starttls", "STARTTLS")
            async with conn.step("starttls"):
                answer = await client.starttls()
            if answer.code != 220:  # noqa: PLR2004
                line = f"{answer.code} {answer.lines[0]}".encode()
                raise StartTLSRefused(ep, "starttls", "STARTTLS", line)
            await conn.start_tls(ctx)
            result.tls = conn.tls
            async with conn.step("ehlo"):
                await client.ehlo()
            result.capabilities["after_tls"] = sorted(client.extensions)
            result.mechanisms["after_tls"] = list(client.mechanisms)
        if ep.tls is not TlsMode.NONE:
            result.certificate_findings("tls")
        elif client.mechanisms:
            result.findings.append(
                Finding(
                    "cleartext_login",
                    "warning",
                    "ehlo",
                    f"{ep} (smtp) offers password login without TLS",
                    "Require TLS before AUTH, and publish port 465 or STARTTLS on 587.",
                )
            )
        with contextlib.suppress(ProbeError):
            async with conn.step("quit"):
                await client.quit()
    except ProbeError as exc:
        result.findings.append(Finding.from_error(exc))
    finally:
        if conn is not None:
            await conn.close()
    return result


async def check_server(server: ServerRef, lookup: Dns, options: ServerOptions) -> Step:
    """Every check of one server the configurations name, as one step."""
    name = f"{server.protocol}:{server.host}:{server.port}"
    try:
        address = await lookup.connect_to(server.host, server.port)
    except NameError_ as exc:
        return Step("server", name, Status.FAIL, f"{server.label}: {exc}, so clients cannot "
                    "connect.", f"{server.host}:{server.port}")  # fmt: skip
    ep = Endpoint(server.protocol, server.host, server.port, server.tls, address=address)
    ctx = tls_context(options.ca_file)
    timeouts = options.timeouts
    if server.protocol == "imap":
        result = (await probe_imap(ep, "", None, ctx, Options(timeouts=timeouts))).result
    elif server.protocol == "pop3":
        result = await probe_pop3(ep, "", None, ctx, Options(timeouts=timeouts))
    else:
        result = await probe_smtp(ep, ctx, timeouts)
    versions: dict[str, bool] = {}
    seen: dict[str, Any] = {}
    if server.tls is not TlsMode.NONE and not {f.code for f in result.findings} & _DEAD:
        versions, seen = await tls_versions(ep, timeouts)
    return server_step(server, name, result, versions, seen)


def server_step(
    server: ServerRef,
    name: str,
    result: ServerResult,
    versions: dict[str, bool],
    seen: dict[str, Any],
) -> Step:
    """The sentence and status of one server's check."""
    facts = result.as_dict()
    for private in ("login", "login_name", "mailbox"):
        facts.pop(private, None)
    facts["tls_versions"] = versions
    certificate = (result.tls.certificate if result.tls else {}) or seen
    if certificate:
        verified = bool(result.tls and result.tls.certificate)
        facts["certificate"] = {**certificate, "verified": verified}
    target = f"{server.host}:{server.port}"
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        reason = errors[0].message
        days = seen.get("days_left")
        if errors[0].code == "certificate_expired" and isinstance(days, int):
            reason += f" (it ended {-days} day(s) ago, on {seen.get('not_after')})"
        facts["reason"] = reason
        message = f"{server.label}: {reason}. {errors[0].advice}".strip()
        return Step("server", name, Status.FAIL, message, target, (), facts)
    parts, warned = _describe(server, result, versions, certificate)
    notes = [f.message for f in result.findings if f.severity == "warning"]
    message = f"{server.label}: " + "; ".join(parts) + "."
    if notes:
        message += " " + "; ".join(notes) + "."
    status = Status.WARN if warned or notes else Status.PASS
    return Step("server", name, status, message, target, (), facts)


def _describe(
    server: ServerRef, result: ServerResult, versions: dict[str, bool], certificate: dict[str, Any]
) -> tuple[list[str], bool]:
    """Phrases for a server that answered: TLS, certificate, versions, greeting, capabilities."""
    parts: list[str] = []
    warned = False
    mode = {TlsMode.SSL: "implicit TLS", TlsMode.STARTTLS: "STARTTLS"}.get(server.tls, "no TLS")
    if result.tls and result.tls.version:
        parts.append(f"{mode} with {result.tls.version.replace('v', ' ').replace('_', '.')}")
        days = certificate.get("days_left")
        if isinstance(days, int):
            parts.append(f"the certificate names the host and is valid for {days} more day(s)")
    else:
        parts.append("no TLS: the login and the mail travel in clear text")
        warned = True
    old = [v for v in LEGACY if versions.get(v)]
    if old:
        parts.append(f"it still accepts {' and '.join(old)}, which no client should use")
        warned = True
    accepted = [v for v, ok in versions.items() if ok]
    if accepted:
        parts.append("TLS versions accepted: " + ", ".join(accepted))
    if result.greeting:
        parts.append(f"greeting {result.greeting[:80]!r}")
    caps = result.capabilities.get("after_tls") or result.capabilities.get("before_tls")
    if caps:
        more = ", ..." if len(caps) > SHOWN_CAPABILITIES else ""
        parts.append(f"capabilities {', '.join(caps[:SHOWN_CAPABILITIES])}{more}")
    return parts, warned


def expires_soon(step: Step) -> int | None:
    """Days left of a server's certificate when fewer than two weeks remain."""
    certificate = step.facts.get("certificate") or {}
    days = certificate.get("days_left")
    return days if isinstance(days, int) and days < EXPIRY_WARNING_DAYS else None

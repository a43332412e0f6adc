"""Probe one server: connect, TLS, capabilities, login, then the INBOX (IMAP) or STAT/UIDL.

Every step runs under the connection's per-step timeout; the first ProbeError ends the
probe of that server and becomes its finding. Sessions always end with LOGOUT / QUIT.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import structlog

from autoconf import __version__
from autoconf.events.devices import PROBE_CLIENT
from autoconf.probe.connect import Connection, Endpoint, Timeouts, TlsMode, open_connection
from autoconf.probe.errors import (
    AuthenticationFailed,
    CleartextRefused,
    ProbeError,
    StartTLSNotOffered,
    StartTLSRefused,
)
from autoconf.probe.imap import ImapClient, mechanisms
from autoconf.probe.pop3 import Pop3Client
from autoconf.probe.result import Finding, ServerResult
from autoconf.probe.snapshot import Changes, Snapshot, find_moved, take

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable

log = structlog.get_logger("autoconf.probe")

DEFAULT_MAX_MESSAGES = 50_000


@dataclass(frozen=True, slots=True)
class Credentials:
    """A password (never shown in repr), and the Dovecot master user it belongs to, if any."""

    password: str = field(repr=False)
    master: str | None = None
    separator: str = "*"

    def login(self, user: str) -> str:
        """The login name: ``user*master`` for a master user, else the user."""
        return f"{user}{self.separator}{self.master}" if self.master else user


@dataclass(frozen=True, slots=True)
class Options:
    """Limits of a probe."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    max_messages: int = DEFAULT_MAX_MESSAGES


@dataclass(slots=True)
class ImapOutcome:
    """The server result and, when this server took it, the snapshot and its changes."""

    result: ServerResult
    snapshot: Snapshot | None = None
    changes: Changes | None = None


def _cleartext_warning(ep: Endpoint, when: str) -> Finding:
    err = CleartextRefused(ep, "capability")
    return Finding(
        err.code,
        "warning",
        "capability",
        f"{ep} ({ep.protocol}) offers password login {when}; passwords can cross the "
        "network unencrypted",
        err.advice,
    )


def _no_tls_finding(ep: Endpoint, *, cleartext: bool) -> Finding:
    if cleartext:
        warning = _cleartext_warning(ep, "without TLS")
        return Finding(
            warning.code,
            warning.severity,
            warning.step,
            warning.message + "; the probe did not send the password",
            warning.advice,
        )
    return Finding(
        "login_needs_tls",
        "info",
        "login",
        f"{ep} ({ep.protocol}) refuses logins without TLS, as it should",
        "Probe the TLS port, or use --tls starttls, to check the login.",
    )


async def probe_imap(
    ep: Endpoint,
    user: str,
    creds: Credentials | None,
    ctx: ssl.SSLContext,
    options: Options,
    *,
    previous: Snapshot | None = None,
    snapshot: bool = False,
) -> ImapOutcome:
    """Probe an IMAP server; take the INBOX snapshot when asked to."""
    outcome = ImapOutcome(ServerResult(ep, creds.login(user) if creds else user))
    result = outcome.result
    started = time.monotonic()
    conn: Connection | None = None
    try:
        conn = await open_connection(ep, options.timeouts, ctx)
        result.tls = conn.tls
        client = ImapClient(conn)
        async with conn.step("greeting"):
            greeting = await client.greeting()
        result.greeting = greeting.text
        if greeting.capabilities is None:
            async with conn.step("capability"):
                await client.capability()
        phase = "after_tls" if ep.tls is TlsMode.SSL else "before_tls"
        result.capabilities[phase] = sorted(client.capabilities)
        result.mechanisms[phase] = mechanisms(client.capabilities)
        if ep.tls is TlsMode.STARTTLS:
            await _starttls(conn, client, result, ctx)
        if ep.tls is not TlsMode.NONE:
            result.certificate_findings("tls")
        else:
            cleartext = "LOGINDISABLED" not in client.capabilities
            result.findings.append(_no_tls_finding(ep, cleartext=cleartext))
            creds = None
        if creds is not None and not greeting.preauth:
            await _imap_login(conn, client, result, creds.password)
        if snapshot and result.login == "ok":
            snap, changes = await take(client, previous, conn.step, options.max_messages)
            if changes.vanished:
                await find_moved(client, changes, conn.step)
            outcome.snapshot, outcome.changes = snap, changes
            result.mailbox = {"messages": snap.messages, "uidnext": snap.uidnext}
        async with conn.step("logout"):
            await client.logout()
    except ProbeError as exc:
        result.findings.append(Finding.from_error(exc))
        if conn is not None and exc.session_usable:
            await _goodbye(conn, client.logout)
    finally:
        if conn is not None:
            await conn.close()
        result.ms = (time.monotonic() - started) * 1000
        _log(result)
    return outcome


async def _starttls(
    conn: Connection, client: ImapClient, result: ServerResult, ctx: ssl.SSLContext
) -> None:
    ep = conn.ep
    if "STARTTLS" not in client.capabilities:
        raise StartTLSNotOffered(ep, "starttls", "STARTTLS")
    if "LOGINDISABLED" not in client.capabilities:
        result.findings.append(_cleartext_warning(ep, "before STARTTLS"))
    async with conn.step("starttls"):
        done = await client.starttls()
    if not done.ok:
        raise StartTLSRefused(ep, "starttls", "STARTTLS", done.line)
    await conn.start_tls(ctx)
    result.tls = conn.tls
    async with conn.step("capability"):
        await client.capability()
    result.capabilities["after_tls"] = sorted(client.capabilities)
    result.mechanisms["after_tls"] = mechanisms(client.capabilities)


async def _imap_login(
    conn: Connection, client: ImapClient, result: ServerResult, password: str
) -> None:
    async with conn.step("login"):
        done = await client.login(result.login_name, password)
        if not done.ok:
            result.login = "failed"
            raise AuthenticationFailed(conn.ep, "login", result.login_name, done.line)
        result.login = "ok"
        if not client.capabilities:
            await client.capability()
    result.capabilities["after_login"] = sorted(client.capabilities)
    async with conn.step("id"):
        await client.identify(PROBE_CLIENT, __version__)


async def probe_pop3(
    ep: Endpoint,
    user: str,
    creds: Credentials | None,
    ctx: ssl.SSLContext,
    options: Options,
) -> ServerResult:
    """Probe a POP3 server: CAPA, STLS, login, STAT and UIDL, QUIT."""
    result = ServerResult(ep, creds.login(user) if creds else user)
    started = time.monotonic()
    conn: Connection | None = None
    try:
        conn = await open_connection(ep, options.timeouts, ctx)
        result.tls = conn.tls
        client = Pop3Client(conn)
        async with conn.step("greeting"):
            result.greeting = await client.greeting()
        async with conn.step("capability"):
            await client.capa()
        phase = "after_tls" if ep.tls is TlsMode.SSL else "before_tls"
        result.capabilities[phase] = sorted(client.capabilities)
        result.mechanisms[phase] = list(client.sasl)
        cleartext = "USER" in client.capabilities or bool(client.sasl)
        if ep.tls is TlsMode.STARTTLS:
            if "STLS" not in client.capabilities:
                raise StartTLSNotOffered(ep, "starttls", "STLS")
            if cleartext:
                result.findings.append(_cleartext_warning(ep, "before STLS"))
            async with conn.step("starttls"):
                reply = await client.stls()
            if not reply.ok:
                raise StartTLSRefused(ep, "starttls", "STLS", reply.line)
            await conn.start_tls(ctx)
            result.tls = conn.tls
            async with conn.step("capability"):
                await client.capa()
            result.capabilities["after_tls"] = sorted(client.capabilities)
            result.mechanisms["after_tls"] = list(client.sasl)
        if ep.tls is not TlsMode.NONE:
            result.certificate_findings("tls")
        else:
            result.findings.append(_no_tls_finding(ep, cleartext=cleartext))
            creds = None
        if creds is not None:
            await _pop3_session(conn, client, result, creds.password)
        async with conn.step("quit"):
            await client.quit()
    except ProbeError as exc:
        result.findings.append(Finding.from_error(exc))
        if conn is not None and exc.session_usable:
            await _goodbye(conn, client.quit)
    finally:
        if conn is not None:
            await conn.close()
        result.ms = (time.monotonic() - started) * 1000
        _log(result)
    return result


async def _goodbye(conn: Connection, farewell: Callable[[], Awaitable[None]]) -> None:
    """LOGOUT / QUIT after a refusal that left the session usable; errors are ignored."""
    with contextlib.suppress(ProbeError):
        async with conn.step("logout"):
            await farewell()


async def _pop3_session(
    conn: Connection, client: Pop3Client, result: ServerResult, password: str
) -> None:
    async with conn.step("login"):
        reply = await client.login(result.login_name, password)
    if not reply.ok:
        result.login = "failed"
        raise AuthenticationFailed(conn.ep, "login", result.login_name, reply.line)
    result.login = "ok"
    async with conn.step("stat"):
        messages, octets = await client.stat()
    async with conn.step("uidl"):
        uidls = await client.uidl()
    result.mailbox = {
        "messages": messages,
        "octets": octets,
        "uidl": None if uidls is None else len(uidls),
    }


def _log(result: ServerResult) -> None:
    ep = result.endpoint
    log.info(
        "probe.finished",
        host=ep.host,
        port=ep.port,
        protocol=ep.protocol,
        tls=ep.tls.value,
        login=result.login,
        findings=[f.code for f in result.findings],
        ms=round(result.ms, 1),
    )

"""Probe a mailbox: every server of its provider at once, the INBOX snapshot and its diff.

``probe_mailbox`` runs one task per server (a hanging server stalls only its own task,
bounded by its step timeouts) under an optional per-host limit; the first IMAP server in
catalog order takes the snapshot. ``probe_and_store`` adds loading and saving snapshots and
records each probe as a run (what left the INBOX, the servers' TLS, certificate and login
facts, and Dovecot's last-login times when a reader is given) for the diagnosis.
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autoconf.catalog.model import Protocol, SocketType
from autoconf.errors import BadRequest
from autoconf.probe.connect import Endpoint, Timeouts, TlsMode, tls_context
from autoconf.probe.errors import ProbeUnavailable
from autoconf.probe.result import Finding, ProbeResult, ServerResult
from autoconf.probe.server import Credentials, ImapOutcome, Options, probe_imap, probe_pop3
from autoconf.probe.snapshot import Snapshot
from autoconf.store.base import MAX_GONE_IDS, ProbeRun

if TYPE_CHECKING:
    import ssl
    from collections.abc import Awaitable, Callable, Sequence
    from pathlib import Path
    from typing import Any

    from autoconf.catalog.account import Account
    from autoconf.config import Settings
    from autoconf.store.base import Store

    # mailbox -> {"imap": epoch seconds, "pop3": ...}: the last logins Dovecot recorded
    LastLogin = Callable[[str], Awaitable[dict[str, float]]]

_TLS = {SocketType.SSL: TlsMode.SSL, SocketType.STARTTLS: TlsMode.STARTTLS}
DEFAULT_PORTS = {
    ("imap", TlsMode.SSL): 993,
    ("imap", TlsMode.STARTTLS): 143,
    ("imap", TlsMode.NONE): 143,
    ("pop3", TlsMode.SSL): 995,
    ("pop3", TlsMode.STARTTLS): 110,
    ("pop3", TlsMode.NONE): 110,
}


@dataclass(frozen=True, slots=True)
class Target:
    """A server and the user name to log in with there (before any master-user suffix)."""

    endpoint: Endpoint
    user: str


class HostLimiter:
    """At most ``per_host`` probes at a time against one server host."""

    def __init__(self, per_host: int) -> None:
        self.per_host = per_host
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def __call__(self, host: str) -> asyncio.Semaphore:
        """The semaphore of a host."""
        sem = self._semaphores.get(host)
        if sem is None:
            sem = self._semaphores[host] = asyncio.Semaphore(self.per_host)
        return sem


def targets_for(account: Account) -> list[Target]:
    """The incoming servers of an account (IMAP first), with their login names."""
    return [
        Target(
            Endpoint(
                server.protocol.value,
                server.host,
                server.port,
                _TLS.get(server.socket, TlsMode.NONE),
            ),
            account.username(server),
        )
        for server in account.incoming
        if server.protocol in (Protocol.IMAP, Protocol.POP3)
    ]


def parse_endpoint(protocol: str, text: str, tls: TlsMode) -> Endpoint:
    """``HOST:PORT`` (or ``HOST``, or ``[v6]:PORT``) -> Endpoint; BadRequest when unusable."""
    host, port = text.strip(), ""
    if host.startswith("["):
        host, _, rest = host[1:].partition("]")
        port = rest.removeprefix(":")
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
    if not host or (port and not port.isdigit()) or (port and not 0 < int(port) < 65536):  # noqa: PLR2004
        raise BadRequest(f"{text!r} is not HOST:PORT")
    number = int(port) if port else DEFAULT_PORTS[(protocol, tls)]
    return Endpoint(protocol, host, number, tls)


@functools.lru_cache(maxsize=16)
def _context(ca_file: Path | None) -> ssl.SSLContext:
    return tls_context(ca_file)


async def probe_mailbox(
    mailbox: str,
    targets: Sequence[Target],
    creds: Credentials | None,
    *,
    previous: bytes | None = None,
    ca_file: Path | None = None,
    options: Options | None = None,
    limiter: HostLimiter | None = None,
) -> ProbeResult:
    """Probe every target at once; the first IMAP target also snapshots the INBOX."""
    options = options or Options()
    result = ProbeResult(mailbox, time.time())
    started = time.monotonic()
    ctx = _context(ca_file)
    before: Snapshot | None = None
    if previous is not None:
        try:
            before = Snapshot.from_bytes(previous)
        except ValueError:
            result.findings.append(
                Finding(
                    "snapshot_unreadable",
                    "warning",
                    "snapshot",
                    f"The stored snapshot of {mailbox} could not be read; this probe starts "
                    "a new one",
                )
            )
    imap_first = next((i for i, t in enumerate(targets) if t.endpoint.protocol == "imap"), None)

    async def one(index: int, target: Target) -> ImapOutcome:
        ep = target.endpoint
        job: Awaitable[ImapOutcome | ServerResult]
        if ep.protocol == "imap":
            job = probe_imap(
                ep,
                target.user,
                creds,
                ctx,
                options,
                previous=before,
                snapshot=index == imap_first,
            )
        else:
            job = probe_pop3(ep, target.user, creds, ctx, options)
        if limiter is None:
            done = await job
        else:
            async with limiter(ep.host):
                done = await job
        return done if isinstance(done, ImapOutcome) else ImapOutcome(done)

    outcomes = await asyncio.gather(*(one(i, t) for i, t in enumerate(targets)))
    result.servers = [o.result for o in outcomes]
    for outcome in outcomes:
        if outcome.snapshot is not None:
            result.snapshot, result.changes = outcome.snapshot, outcome.changes
            result.snapshot_server = str(outcome.result.endpoint)
    _snapshot_findings(result, imap_first, outcomes)
    result.ms = (time.monotonic() - started) * 1000
    return result


def _snapshot_findings(
    result: ProbeResult, imap_first: int | None, outcomes: list[ImapOutcome]
) -> None:
    changes = result.changes
    where = result.mailbox
    if imap_first is None:
        result.findings.append(
            Finding(
                "no_imap",
                "info",
                "snapshot",
                f"{where} has no IMAP server to probe, so no INBOX snapshot was taken",
            )
        )
        return
    if changes is None:
        server: ServerResult = outcomes[imap_first].result
        if server.login == "ok":
            return
        result.findings.append(
            Finding(
                "no_snapshot",
                "info",
                "snapshot",
                f"No INBOX snapshot of {where}: the login at {server.endpoint} did not succeed",
            )
        )
        return
    if changes.uidvalidity_changed is not None:
        old, new = changes.uidvalidity_changed
        result.findings.append(
            Finding(
                "uidvalidity_changed",
                "warning",
                "snapshot",
                f"The INBOX of {where} was renumbered (UIDVALIDITY {old} -> {new}) since the "
                "last probe, so no message can be compared; this is not a deletion. A new "
                "snapshot was taken",
                "Look for a mailbox restore, migration or rebuilt index at that time.",
            )
        )
    if changes.gone:
        result.findings.append(
            Finding(
                "messages_gone",
                "warning",
                "snapshot",
                f"{len(changes.gone)} message(s) left the INBOX of {where} since the last "
                "probe without being moved to another folder",
                "Look for a POP3 client that deletes mail from the server (see the devices "
                "of this mailbox) and set it to leave a copy on the server, or use IMAP.",
            )
        )
    if changes.moved:
        folders = sorted({f for _, _, f in changes.moved})
        result.findings.append(
            Finding(
                "messages_moved",
                "info",
                "snapshot",
                f"{len(changes.moved)} message(s) moved from the INBOX of {where} to "
                f"{', '.join(folders)} since the last probe; they are not lost",
            )
        )


async def probe_and_store(
    store: Store,
    mailbox: str,
    targets: Sequence[Target],
    creds: Credentials | None,
    *,
    ca_file: Path | None = None,
    options: Options | None = None,
    limiter: HostLimiter | None = None,
    last_login: LastLogin | None = None,
) -> ProbeResult:
    """Load the last snapshot, probe, save the new snapshot, record the run.

    ``last_login`` (see ``last_login_file``) is read before the probe logs in, so the times
    it gives are other clients' logins or the probe's own ones of an earlier run.
    """
    logins = await last_login(mailbox) if last_login is not None else {}
    previous = await store.load_snapshot(mailbox)
    result = await probe_mailbox(
        mailbox,
        targets,
        creds,
        previous=previous,
        ca_file=ca_file,
        options=options,
        limiter=limiter,
    )
    if result.snapshot is not None:
        await store.save_snapshot(mailbox, result.snapshot.to_bytes())
    record = getattr(store, "add_probe_run", None)  # None: a stand-in that keeps nothing
    if record is not None:
        await record(probe_run(result, logins))
    return result


def probe_run(result: ProbeResult, logins: dict[str, float] | None = None) -> ProbeRun:
    """A probe as the run the store keeps.

    Gone messages are the ones of the snapshot that left the INBOX for no other folder, plus
    (``gone_unseen``) the UIDs the server reported as expunged that arrived after the probe
    before (QRESYNC), which that probe never saw.
    """
    servers: list[dict[str, Any]] = []
    problems: list[list[str]] = []
    for server in result.servers:
        name = str(server.endpoint)
        servers.append(
            {
                "server": name,
                "protocol": server.endpoint.protocol,
                "tls_mode": server.endpoint.tls.value,
                "tls": server.tls.version if server.tls is not None else None,
                "login": server.login,
                "findings": [f.code for f in server.findings],
            }
        )
        problems += [
            [name, f.message] for f in server.findings if f.code.startswith("certificate_")
        ]
    facts: dict[str, Any] = {
        "servers": servers,
        "certificate_problems": problems,
        "last_login": dict(logins or {}),
    }
    finished = result.started + result.ms / 1000
    changes = result.changes
    if changes is None:
        return ProbeRun(
            mailbox=result.mailbox, probed_at=result.started, finished_at=finished, facts=facts
        )
    gone_ids = [{"uid": u, "message_id": m or None} for u, m in changes.gone]
    gone_ids += [{"uid": u, "message_id": None} for u in changes.vanished_unseen]
    return ProbeRun(
        mailbox=result.mailbox,
        probed_at=result.started,
        finished_at=finished,
        previous_at=changes.previous_at,
        method=changes.method,
        gone=len(changes.gone) + len(changes.vanished_unseen),
        gone_unseen=len(changes.vanished_unseen),
        gone_ids=gone_ids[:MAX_GONE_IDS],
        moved=len(changes.moved),
        new=changes.new,
        facts=facts,
    )


def last_login_from(settings: Settings) -> LastLogin | None:
    """The last-login reader the settings name, if any."""
    path = settings.probe_last_login_file
    return None if path is None else last_login_file(path)


def last_login_file(path: Path, key: str = "shared/last-login/{service}/{user}") -> LastLogin:
    """A last-login reader over the file of Dovecot's ``file:`` dict (key and value lines).

    ``key`` is Dovecot's ``last_login_key`` as the dict stores it (``last-login/%s/%u`` ->
    ``shared/last-login/imap/alice``); the user is looked up as the address and as its
    local part, the way ``auth_username_format`` may have cut it.
    """

    def read(mailbox: str) -> dict[str, float]:
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return {}
        pairs = dict(zip(lines[::2], lines[1::2], strict=False))
        found: dict[str, float] = {}
        for service in ("imap", "pop3"):
            for user in (mailbox, mailbox.split("@", 1)[0]):
                value = pairs.get(key.format(service=service, user=user), "")
                if value.strip().isdigit():
                    found[service] = max(found.get(service, 0.0), float(value))
        return found

    async def reader(mailbox: str) -> dict[str, float]:
        return await asyncio.to_thread(read, mailbox)

    return reader


def master_credentials(settings: Settings) -> Credentials:
    """The configured master user and its password; ProbeUnavailable when none is set up."""
    name, path = settings.probe_master_user, settings.probe_master_password_file
    if name is None or path is None:
        raise ProbeUnavailable(
            "No master user is configured for probes: set probe_master_user and "
            "probe_master_password_file (see Dovecot's master users)."
        )
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeUnavailable(f"The master user's password file {path} cannot be read.") from exc
    if not lines or not lines[0]:
        raise ProbeUnavailable(f"The master user's password file {path} is empty.")
    return Credentials(lines[0], name, settings.probe_master_separator)


def options_from(settings: Settings) -> Options:
    """Probe limits from the settings."""
    return Options(
        Timeouts(
            connect=settings.probe_connect_timeout,
            step=settings.probe_step_timeout,
            tls=settings.probe_step_timeout,
        ),
        settings.probe_max_messages,
    )

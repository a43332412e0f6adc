"""What a probe found: findings as sentences, one result per server, the mailbox result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autoconf.probe.connect import Endpoint, TlsFacts
    from autoconf.probe.errors import ProbeError
    from autoconf.probe.snapshot import Changes, Snapshot

EXPIRY_WARNING_DAYS = 14


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing worth saying: a stable code, how bad, at which step, the sentence, advice."""

    code: str
    severity: str  # error | warning | info
    step: str
    message: str
    advice: str = ""

    @classmethod
    def from_error(cls, exc: ProbeError) -> Finding:
        """The finding for a ProbeError."""
        return cls(exc.code, exc.severity, exc.step, str(exc), exc.advice)

    def as_dict(self) -> dict[str, str]:
        """JSON-ready."""
        return {
            "code": self.code,
            "severity": self.severity,
            "step": self.step,
            "message": self.message,
            "advice": self.advice,
        }


@dataclass(slots=True)
class ServerResult:
    """What one server showed."""

    endpoint: Endpoint
    login_name: str = ""
    greeting: str | None = None
    tls: TlsFacts | None = None
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    mechanisms: dict[str, list[str]] = field(default_factory=dict)
    login: str = "not tried"  # ok | failed | not tried
    findings: list[Finding] = field(default_factory=list)
    mailbox: dict[str, Any] = field(default_factory=dict)
    ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        ep = self.endpoint
        tls: dict[str, Any] = {"mode": ep.tls.value}
        certificate: dict[str, Any] | None = None
        if self.tls is not None:
            tls.update(self.tls.as_dict())
            certificate = self.tls.certificate or None
        return {
            "host": ep.host,
            "port": ep.port,
            "protocol": ep.protocol,
            "login_name": self.login_name,
            "greeting": self.greeting,
            "tls": tls,
            "certificate": certificate,
            "capabilities": self.capabilities,
            "mechanisms": self.mechanisms,
            "login": self.login,
            "mailbox": self.mailbox,
            "findings": [f.as_dict() for f in self.findings],
            "ms": round(self.ms, 1),
        }

    def certificate_findings(self, step: str) -> None:
        """A warning when the verified certificate ends within two weeks."""
        cert = self.tls.certificate if self.tls else {}
        days = cert.get("days_left")
        if isinstance(days, int) and days < EXPIRY_WARNING_DAYS:
            self.findings.append(
                Finding(
                    "certificate_expires_soon",
                    "warning",
                    step,
                    f"{self.endpoint} ({self.endpoint.protocol}) has a certificate that expires "
                    f"in {days} day(s), on {cert.get('not_after')}",
                    "Renew the certificate now and reload the server.",
                )
            )


@dataclass(slots=True)
class ProbeResult:
    """The probe of one mailbox: each server, and the INBOX snapshot with its changes."""

    mailbox: str
    started: float
    servers: list[ServerResult] = field(default_factory=list)
    snapshot: Snapshot | None = None
    changes: Changes | None = None
    snapshot_server: str | None = None
    findings: list[Finding] = field(default_factory=list)
    ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every server was probed without an error finding."""
        return all(s.ok for s in self.servers) and not any(
            f.severity == "error" for f in self.findings
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; ``snapshot`` has gone and moved lists (uid, message_id)."""
        snapshot: dict[str, Any] | None = None
        if self.snapshot is not None and self.changes is not None:
            snap = self.snapshot
            snapshot = {
                "server": self.snapshot_server,
                "uidvalidity": snap.uidvalidity,
                "uidnext": snap.uidnext,
                "highestmodseq": snap.highestmodseq,
                "messages": snap.messages,
                "tracked": len(snap.uids),
                "capped": snap.capped,
                **self.changes.as_dict(),
            }
        return {
            "mailbox": self.mailbox,
            "probed_at": dt.datetime.fromtimestamp(self.started, dt.UTC).isoformat(
                timespec="seconds"
            ),
            "ok": self.ok,
            "servers": [s.as_dict() for s in self.servers],
            "snapshot": snapshot,
            "findings": [f.as_dict() for f in self.findings],
            "ms": round(self.ms, 1),
        }

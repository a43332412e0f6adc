"""What a domain-health check finds: steps with pass/warn/fail, servers, the whole report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from autoconf.probe.connect import TlsMode


class Status(StrEnum):
    """How one step went, from a client's point of view."""

    PASS = "pass"  # noqa: S105 - a status word, not a password
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"  # not tried, or nothing there and the client moves on
    INFO = "info"  # worth knowing, neither good nor bad


RANK = {Status.SKIP: 0, Status.INFO: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}


def worst(statuses: list[Status]) -> Status:
    """pass, warn or fail: the worst of the statuses given (pass when none counts)."""
    found = max(statuses, key=RANK.__getitem__, default=Status.PASS)
    return found if RANK[found] else Status.PASS


@dataclass(frozen=True, slots=True)
class Step:
    """One lookup or check, in the order the client runs it, with a sentence saying how it went.

    ``client`` is thunderbird, outlook, dns or server; ``name`` a stable id of the step.
    """

    client: str
    name: str
    status: Status
    message: str
    target: str = ""
    problems: tuple[dict[str, str], ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "client": self.client,
            "name": self.name,
            "status": self.status.value,
            "message": self.message,
            "target": self.target,
            "problems": list(self.problems),
            "facts": self.facts,
        }


@dataclass(frozen=True, slots=True, order=True)
class ServerRef:
    """A mail server a configuration names: protocol, host, port and how TLS is used."""

    protocol: str  # imap | pop3 | smtp
    host: str
    port: int
    tls: TlsMode

    @property
    def label(self) -> str:
        """``IMAP imap.example.com:993 (implicit TLS)``."""
        mode = {TlsMode.SSL: "implicit TLS", TlsMode.STARTTLS: "STARTTLS"}.get(self.tls, "no TLS")
        return f"{self.protocol.upper()} {self.host}:{self.port} ({mode})"


@dataclass(frozen=True, slots=True)
class Found:
    """What a client would set up from the first document it accepts."""

    source: str  # the step name
    url: str
    servers: tuple[ServerRef, ...]


@dataclass(slots=True)
class Report:
    """The whole check of one domain: the steps in order, the summary, the overall status."""

    domain: str
    address: str
    checked_at: float
    steps: list[Step] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)
    status: Status = Status.PASS
    ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "domain": self.domain,
            "address": self.address,
            "checked_at": self.checked_at,
            "status": self.status.value,
            "summary": self.summary,
            "steps": [s.as_dict() for s in self.steps],
            "ms": round(self.ms, 1),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        """Back from as_dict() (the store keeps the JSON)."""
        steps = [
            Step(
                s["client"],
                s["name"],
                Status(s["status"]),
                s["message"],
                s.get("target", ""),
                tuple(s.get("problems", ())),
                s.get("facts", {}),
            )
            for s in data.get("steps", [])
        ]
        return cls(
            data["domain"],
            data.get("address", ""),
            float(data.get("checked_at", 0.0)),
            steps,
            dict(data.get("summary", {})),
            Status(data.get("status", "pass")),
            float(data.get("ms", 0.0)),
        )

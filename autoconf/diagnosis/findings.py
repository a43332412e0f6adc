"""Findings: stable codes, severities, and the Finding a rule returns.

A rule fills ``code``, ``severity``, ``variant`` and ``evidence``; the words (``title``,
``explanation``, ``recommendation``) come from the message catalog of a language
(``diagnosis.messages.localize``), whose templates are filled from the evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["critical", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "warning", "info")

POP_DELETE_MULTI = "pop-delete-multi-device"
POP_DELETE_SINGLE = "pop-delete-single-device"
POP_KEEP = "pop-keep"
POP_RACING = "pop-clients-racing"
IMAP_ONLY = "imap-only"
CLEARTEXT = "cleartext-login"
TLS_WEAK = "tls-weak"
CERTIFICATE = "certificate-problem"

CODES = (
    POP_DELETE_MULTI, POP_DELETE_SINGLE, POP_KEEP, POP_RACING, IMAP_ONLY, CLEARTEXT, TLS_WEAK,
    CERTIFICATE,
)  # fmt: skip

# Message variants beside the plain code ("<code>/<variant>"): other wording for other facts.
VARIANTS = (
    f"{POP_DELETE_MULTI}/after-days",
    f"{POP_DELETE_MULTI}/probe",
    f"{POP_KEEP}/quota",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the diagnosis found about a mailbox."""

    code: str
    severity: Severity
    evidence: dict[str, Any] = field(default_factory=dict)
    variant: str = ""
    # When the cause was last observed (epoch seconds): incidents resolve after it stops.
    cause_at: float | None = None
    title: str = ""
    explanation: str = ""
    recommendation: str = ""

    @property
    def message_key(self) -> str:
        """The key of this finding's templates in a message catalog."""
        return f"{self.code}/{self.variant}" if self.variant else self.code

    def worded(self, title: str, explanation: str, recommendation: str) -> Finding:
        """The same finding with its words."""
        return replace(self, title=title, explanation=explanation, recommendation=recommendation)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, in the shape of ``autoconf diagnose --json``."""
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "explanation": self.explanation,
            "recommendation": self.recommendation,
            "evidence": self.evidence,
        }


def severity_rank(severity: str) -> int:
    """0 for critical, 1 for warning, 2 for info (sort order)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)

"""The shapes of the JSON API's answers: handlers build them, the OpenAPI document shows them.

Every /api/v1 handler answers through :func:`answer`, which validates the data against a
model here and serialises the model; ``api_openapi`` builds schemas/openapi.json from the same
models, so the document and the answers cannot drift apart. Models forbid unknown keys.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoconf.errors import BadRequest

NO_STORE = {"Cache-Control": "no-store"}

Severity = Literal["critical", "warning", "info"]
IncidentState = Literal["open", "resolved"]


class Model(BaseModel):
    """Base of the answer models: frozen, no keys beyond the declared ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Query(BaseModel):
    """Base of the query-string models: unknown parameters are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


Q = TypeVar("Q", bound=Query)
MAX_OFFSET = 10**9


def query(request: web.Request, model: type[Q]) -> Q:
    """The request's query string read into ``model``; BadRequest names the bad parameter."""
    raw = {name: request.query.getone(name) for name in request.query}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "query"
        msg = f"Query parameter {where}: {first['msg']}."
        raise BadRequest(msg) from None


class Error(Model):
    """Every error answer: a stable code and a sentence for a person."""

    error: str = Field(description="stable code, e.g. unauthorized, forbidden, bad_request")
    message: str = Field(description="what went wrong, as a sentence")


class Page(Model):
    """Paging of a list answer: ``next_offset`` is null on the last page."""

    limit: int = Field(ge=0)
    offset: int = Field(ge=0)
    next_offset: int | None = Field(description="offset of the next page, null when none")


# ------------------------------------------------------------------ mailboxes, devices


class SearchQuery(Query):
    """GET /api/v1/mailboxes."""

    q: str = Field(default="", max_length=254, description="start of the address")
    limit: int = Field(default=50, ge=1, le=500)


class LimitQuery(Query):
    """A list of one mailbox's records."""

    limit: int = Field(default=100, ge=1, le=1000)


class PageQuery(Query):
    """A paged list."""

    limit: int = Field(default=100, ge=0, le=500)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class LanguageQuery(Query):
    """Answers in a language other than the request's Accept-Language."""

    lang: str | None = Field(default=None, max_length=35, description="de, fr, it or en")


class FindingQuery(PageQuery, LanguageQuery):
    """GET /api/v1/findings."""

    severity: Severity | None = None
    mailbox: str | None = Field(default=None, max_length=254, description="one mailbox only")


class IncidentQuery(PageQuery):
    """GET /api/v1/incidents."""

    mailbox: str | None = Field(default=None, max_length=254, description="one mailbox only")
    state: Literal["open", "resolved", "all"] = "open"
    severity: Severity | None = None


class AuditQuery(PageQuery):
    """GET /api/v1/audit."""

    mailbox: str | None = Field(default=None, max_length=254, description="one mailbox only")


class MailboxList(Model):
    """Known mailboxes whose address starts with the query."""

    query: str
    limit: int = Field(ge=0)
    mailboxes: list[str] = Field(description="sorted addresses, at most limit")


class Device(Model):
    """A client fingerprint on a mailbox (protocol, identity, network) and what it did."""

    key: str
    protocol: str
    client: str
    family: str
    network: str
    first_seen: float
    last_seen: float
    sessions: int
    retrieved: int
    deleted: int
    behaviour: str
    pop3_commands: list[str]
    setup_requests: int
    setup_endpoints: list[str]
    summary: str


class Devices(Model):
    """The devices of one mailbox."""

    mailbox: str
    devices: list[Device]


# ------------------------------------------------------------------ diagnosis, findings


class Finding(Model):
    """One finding in the requested language."""

    code: str
    severity: Severity
    title: str
    explanation: str = Field(description="for the support agent")
    recommendation: str = Field(description="what to tell the customer")
    evidence: dict[str, Any]


class Diagnosis(Model):
    """A mailbox's findings (worst first), whether it is healthy, and its devices."""

    mailbox: str
    language: str
    findings: list[Finding]
    healthy: str | None
    devices: list[Device]


class MailboxFinding(Finding):
    """An open incident across mailboxes, worded as a finding."""

    mailbox: str
    incident: int | None
    opened_at: float
    updated_at: float
    notified_at: float | None


class FindingPage(Page):
    """Findings across mailboxes, last updated first."""

    findings: list[MailboxFinding]


# ------------------------------------------------------------------ incidents


class Incident(Model):
    """A finding of one code on one mailbox over time: open until its cause stops."""

    id: int
    mailbox: str
    code: str
    variant: str
    severity: Severity
    state: IncidentState
    opened_at: float
    updated_at: float
    cause_at: float
    resolved_at: float | None
    evidence: dict[str, Any]
    notified_at: float | None
    notice_id: str | None


class IncidentPage(Page):
    """Incidents, last updated first."""

    incidents: list[Incident]


class Transition(Model):
    """One step of an incident."""

    at: float
    transition: str = Field(description="opened, updated, resolved or notified")
    severity: str
    evidence: dict[str, Any]


class IncidentDetail(Model):
    """One incident with its transitions, oldest first."""

    incident: Incident
    transitions: list[Transition]


# ------------------------------------------------------------------ probe


class ProbeRun(Model):
    """One stored probe of a mailbox: what left the INBOX since the probe before."""

    mailbox: str
    probed_at: float
    finished_at: float
    previous_at: float | None
    method: str | None
    gone: int
    gone_unseen: int
    gone_ids: list[dict[str, Any]] = Field(description="up to 100 of {uid, message_id}")
    moved: int
    new: int
    facts: dict[str, Any]


class ProbeRuns(Model):
    """A mailbox's probe runs, oldest first (the newest ``limit``)."""

    mailbox: str
    runs: list[ProbeRun]


class ProbeFinding(Model):
    """Something a probe found at one step."""

    code: str
    severity: str = Field(description="error, warning or info")
    step: str
    message: str
    advice: str


class ProbeServer(Model):
    """What one server showed the probe."""

    host: str
    port: int
    protocol: str
    login_name: str
    greeting: str | None
    tls: dict[str, Any]
    certificate: dict[str, Any] | None
    capabilities: dict[str, list[str]]
    mechanisms: dict[str, list[str]]
    login: str
    mailbox: dict[str, Any]
    findings: list[ProbeFinding]
    ms: float


class ProbeResult(Model):
    """A probe of every incoming server of the mailbox's provider, done now."""

    mailbox: str
    probed_at: str = Field(description="ISO 8601, UTC")
    ok: bool
    servers: list[ProbeServer]
    snapshot: dict[str, Any] | None
    findings: list[ProbeFinding]
    ms: float


# ------------------------------------------------------------------ notice


class NoticeResult(Model):
    """The notice mail sent for a mailbox's open incident."""

    mailbox: str
    incident: int
    code: str
    language: str
    message_id: str


# ------------------------------------------------------------------ admin, health


class CatalogReload(Model):
    """A catalog reload that succeeded."""

    source: str
    domains: int
    generation: int


class SettingsView(Model):
    """The service's settings with secrets replaced by "(redacted)" (null when unset)."""

    settings: dict[str, Any]


class AuditEntry(Model):
    """Who did what to which mailbox, and what came of it."""

    at: float
    actor: str
    role: str
    action: str
    mailbox: str
    outcome: str


class AuditPage(Page):
    """Audit entries, newest first."""

    entries: list[AuditEntry]


class Health(Model):
    """How the service is: catalog, store, buffered sightings."""

    status: Literal["ok", "degraded"]
    version: str
    catalog_source: str
    catalog_domains: int
    catalog_generation: int
    store: str = Field(description="ok, or why the store does not answer")
    schema_version: int | None
    sightings_pending: int
    principal: str
    role: str


# ------------------------------------------------------------------ domain health

HealthStatus = Literal["pass", "warn", "fail"]


class DomainQuery(PageQuery):
    """GET /api/v1/domains."""

    status: HealthStatus | None = None


class HealthStep(Model):
    """One lookup or check, in the order the client runs it."""

    client: str = Field(description="thunderbird, outlook, dns or server")
    name: str = Field(description="stable id of the step")
    status: Literal["pass", "warn", "fail", "skip", "info"]
    message: str = Field(description="how it went, as a sentence")
    target: str = Field(description="the URL, record or host:port looked at")
    problems: list[dict[str, str]]
    facts: dict[str, Any]


class DomainHealthReport(Model):
    """A domain seen the way Thunderbird and Outlook see it: steps in order and a summary."""

    domain: str
    address: str
    checked_at: float
    status: HealthStatus
    summary: dict[str, str] = Field(description="one sentence per client, DNS and servers")
    steps: list[HealthStep]
    ms: float


class DomainHealthItem(Model):
    """The last stored check of one domain."""

    domain: str
    status: HealthStatus
    checked_at: float
    summary: str = Field(description="the report's summary sentences in one line")


class DomainHealthPage(Page):
    """Stored checks, failing and oldest first."""

    domains: list[DomainHealthItem]


class Liveness(Model):
    """GET /healthz."""

    status: Literal["ok"]


class Readiness(Model):
    """GET /readyz: ready, or why not (503)."""

    status: Literal["ready", "unavailable"]
    catalog: str | None = None
    domains: int | None = None
    reason: str | None = None


def answer(model: type[Model], data: object, status: int = 200) -> web.Response:
    """Validate ``data`` against ``model`` and send it as JSON (never cached)."""
    body = model.model_validate(data).model_dump_json()
    return web.Response(text=body, status=status, content_type="application/json", headers=NO_STORE)

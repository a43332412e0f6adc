"""The OpenAPI 3.1 document of /api/v1 (schemas/openapi.json), built from the API's models.

``OPERATIONS`` names, per call, the query model the handler reads and the answer model it
sends (``api_models``); the schemas come from pydantic, so the document describes exactly
what the handlers validate and send. ``autoconf openapi -o schemas/openapi.json`` writes it;
a test regenerates it and compares it with the committed file.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic.json_schema import models_json_schema

from autoconf import __version__
from autoconf.web import api_models as m
from autoconf.web.auth import Role

if TYPE_CHECKING:
    import argparse

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
_STATUS_TEXT = {
    400: "A parameter cannot be used (the message says which and why).",
    401: "No valid API token (Authorization: Bearer) or page session came with the request.",
    403: "The caller's role may not do this.",
    404: "Nothing is known under this name.",
    409: "The action may not be done now (the error code and message say why).",
    422: "The catalog file does not validate; the old catalog keeps serving.",
    502: "The mail server did not accept the notice.",
}
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "email": {"type": "string", "minLength": 3, "maxLength": 254, "description": "address"},
    "id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "domain": {"type": "string", "minLength": 1, "maxLength": 253, "description": "domain"},
}
COMMON_ERRORS = (400, 401, 403, 404)


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented call: how it is reached, who may make it, what it reads and answers."""

    method: str
    path: str
    operation_id: str
    summary: str
    answer: type[m.Model]
    role: Role | None = Role.SUPPORT  # None: open to everybody
    query: type[m.Query] | None = None
    errors: tuple[int, ...] = COMMON_ERRORS
    tag: str = "mailboxes"


OPERATIONS: tuple[Operation, ...] = (
    Operation("get", "/api/v1/mailboxes", "searchMailboxes",
              "Known mailboxes whose address starts with q", m.MailboxList, query=m.SearchQuery),
    Operation("get", "/api/v1/mailboxes/{email}/diagnosis", "diagnoseMailbox",
              "Findings of a mailbox in the asked language, with its devices", m.Diagnosis,
              query=m.LanguageQuery),
    Operation("get", "/api/v1/mailboxes/{email}/devices", "mailboxDevices",
              "The devices that use a mailbox", m.Devices),
    Operation("get", "/api/v1/mailboxes/{email}/probe-runs", "mailboxProbeRuns",
              "Stored probes of a mailbox, oldest first", m.ProbeRuns, query=m.LimitQuery),
    Operation("post", "/api/v1/mailboxes/{email}/probe", "probeMailbox",
              "Probe the mailbox's servers now (audited)", m.ProbeResult,
              errors=(*COMMON_ERRORS, 409)),
    Operation("post", "/api/v1/mailboxes/{email}/notice", "sendNotice",
              "Send the notice mail of the mailbox's open incident, once ever (audited)",
              m.NoticeResult, query=m.LanguageQuery, errors=(*COMMON_ERRORS, 409, 502)),
    Operation("get", "/api/v1/findings", "listFindings",
              "Open findings across mailboxes, last updated first", m.FindingPage,
              query=m.FindingQuery, tag="incidents"),
    Operation("get", "/api/v1/incidents", "listIncidents",
              "Incidents, last updated first", m.IncidentPage, query=m.IncidentQuery,
              tag="incidents"),
    Operation("get", "/api/v1/incidents/{id}", "getIncident",
              "One incident with its transitions", m.IncidentDetail, tag="incidents"),
    Operation("post", "/api/v1/catalog/reload", "reloadCatalog",
              "Read the catalog file again", m.CatalogReload, role=Role.ADMIN,
              errors=(401, 403, 422), tag="admin"),
    Operation("get", "/api/v1/settings", "getSettings",
              "The running settings, secrets redacted", m.SettingsView, role=Role.ADMIN,
              errors=(401, 403), tag="admin"),
    Operation("get", "/api/v1/audit", "listAudit",
              "Who probed or notified which mailbox, newest first", m.AuditPage,
              role=Role.ADMIN, query=m.AuditQuery, errors=(400, 401, 403), tag="admin"),
    Operation("get", "/api/v1/health", "serviceHealth",
              "Catalog, store and sighting buffer of this instance", m.Health,
              errors=(401, 403), tag="service"),
    Operation("get", "/api/v1/domains/{domain}/health", "checkDomainHealth",
              "Check a catalog domain now as Thunderbird and Outlook would (kept)",
              m.DomainHealthReport, tag="domains"),
    Operation("get", "/api/v1/domains", "listDomainHealth",
              "The last check of each domain, failing and oldest first", m.DomainHealthPage,
              query=m.DomainQuery, errors=(400, 401, 403), tag="domains"),
    Operation("get", "/healthz", "liveness", "The process answers", m.Liveness, role=None,
              errors=(), tag="service"),
    Operation("get", "/readyz", "readiness", "Catalog loaded and store answering",
              m.Readiness, role=None, errors=(), tag="service"),
)  # fmt: skip


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without pydantic's title and without the null of an option."""
    options = schema.get("anyOf")
    out = {k: v for k, v in schema.items() if k not in {"title", "anyOf", "default"}}
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            out.update(kept[0])
        else:
            out["anyOf"] = kept
    if schema.get("default") is not None:
        out["default"] = schema["default"]
    return out


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _PATH_SCHEMAS[name]}
        for name in _PATH_PARAM.findall(op.path)
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(mode="validation")
        required = set(schema.get("required", ()))
        for name, prop in schema["properties"].items():
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            if "description" in prop:
                param["description"] = prop["description"]
            param["schema"] = {k: v for k, v in _plain(prop).items() if k != "description"}
            params.append(param)
    return params


def _operation(op: Operation) -> dict[str, Any]:
    role = "open to everybody" if op.role is None else f"needs the {op.role.label} role"
    error = {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}}
    ok = {"application/json": {"schema": {"$ref": _REF.format(model=op.answer.__name__)}}}
    responses: dict[str, Any] = {"200": {"description": op.answer.__doc__ or "", "content": ok}}
    if op.answer is m.Readiness:
        responses["503"] = {
            "description": "The store does not answer.",
            "content": responses["200"]["content"],
        }
    for status in op.errors:
        responses[str(status)] = {"description": _STATUS_TEXT[status], "content": error}
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": f"{op.summary}; {role}.",
        "tags": [op.tag],
        "parameters": _parameters(op),
        "responses": responses,
    }
    if op.role is None:
        out["security"] = []
    if not out["parameters"]:
        del out["parameters"]
    return out


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document as a dict."""
    answers: set[type[m.Model]] = {m.Error, *(op.answer for op in OPERATIONS)}
    models = sorted(answers, key=lambda c: c.__name__)
    _, defs = models_json_schema([(model, "serialization") for model in models], ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "autoconf support API",
            "version": __version__,
            "description": (
                "Mailboxes, their devices, findings, incidents and probes; notices, catalog"
                " reload and settings. Send 'Authorization: Bearer <token>' (autoconf token"
                " makes one). Roles: support reads, probes and sends notices; admin also"
                " reloads the catalog and reads the settings and the audit log. Errors"
                ' answer {"error": code, "message": sentence}.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in ("mailboxes", "incidents", "admin", "service")],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an api_tokens token (autoconf token --role support|admin)",
                }
            },
            "schemas": defs["$defs"],
        },
    }


def render() -> str:
    """The document as the text of schemas/openapi.json."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def cmd_openapi(args: argparse.Namespace) -> int:
    """Print the document, write it to --output, or --check that file (exit 1 if stale)."""
    text = render()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            sys.stderr.write(f"{path} is out of date: run autoconf openapi -o {path}\n")
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {path}\n")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``autoconf openapi`` to the command line."""
    p = sub.add_parser("openapi", help="print or write the OpenAPI document of /api/v1")
    p.add_argument("-o", "--output", type=Path, help="write here (schemas/openapi.json)")
    p.add_argument("--check", action="store_true", help="exit 1 if --output is out of date")
    p.set_defaults(func=cmd_openapi)

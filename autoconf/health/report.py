"""The summary of a domain-health check: one sentence per client, and the overall status. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autoconf.health.model import Status, Step
from autoconf.health.tls import expires_soon
from autoconf.probe.connect import TlsMode

if TYPE_CHECKING:
    from autoconf.health.discovery import Chain
    from autoconf.health.model import Found, Report, ServerRef

SIMPLIFIED = (
    "Outlook 2016 and later (Microsoft 365) often skip third-party Autodiscover for IMAP and "
    "POP3 accounts in their simplified account creation and ask Microsoft's AutoDetect service "
    "instead; when Outlook still asks for the settings, the Autodiscover answer is not to "
    "blame: choose the manual or advanced setup, or set the registry value HKCU\\Software\\"
    "Microsoft\\Office\\16.0\\Outlook\\Setup\\DisableOffice365SimplifiedAccountCreation=1."
)


def _how(server: ServerRef) -> str:
    manner = {TlsMode.SSL: "over TLS", TlsMode.STARTTLS: "with STARTTLS"}
    return f"{server.protocol.upper()} {manner.get(server.tls, 'without encryption')}"


def _server_steps(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps if s.client == "server"}


def _issues(found: Found, servers: dict[str, Step], steps: list[Step]) -> list[str]:
    """What is wrong with what a client would set up: its own answer, then its servers."""
    issues: list[str] = []
    source = next((s for s in steps if s.target == found.url and s.name == found.source), None)
    if source is not None:
        days = source.facts.get("certificate_expires_in")
        if isinstance(days, int):
            issues.append(f"the certificate of {source.facts.get('host')} expires in {days} day(s)")
        elif source.status is Status.WARN:
            issues.append("its answer has warnings (see the steps)")
    for ref in found.servers:
        step = servers.get(f"{ref.protocol}:{ref.host}:{ref.port}")
        if step is None:
            continue
        if step.status is Status.FAIL:
            issues.append(str(step.facts.get("reason") or step.message).rstrip("."))
        elif (days := expires_soon(step)) is not None:
            issues.append(f"the certificate of {ref.host} expires in {days} day(s)")
        elif step.status is Status.WARN:
            issues.append(f"{ref.label} has warnings (see the steps)")
    return list(dict.fromkeys(issues))


def _thunderbird(found: Chain, servers: dict[str, Step], steps: list[Step]) -> tuple[str, bool]:
    tb = found.thunderbird
    if tb is None and found.outlook is not None:
        sentence = (
            "Thunderbird: finds no autoconfig file; it falls back to the Autodiscover answer, "
            "which it reads less well than its own format."
        )
        return sentence, True
    if tb is None:
        if found.guessed:
            names = ", ".join(s.label for s in found.guessed)
            return f"Thunderbird: finds no configuration; it guesses {names}.", True
        return "Thunderbird: finds no configuration; the user has to type every setting.", False
    incoming = next((s for s in tb.servers if s.protocol in ("imap", "pop3")), None)
    head = f"Thunderbird: works, {_how(incoming)}" if incoming else "Thunderbird: works"
    issues = _issues(tb, servers, steps)
    if tb.url.startswith("http://"):
        issues.insert(0, f"it finds the settings only over plain HTTP ({tb.url})")
    failing = any(servers.get(f"{r.protocol}:{r.host}:{r.port}", _NONE).status is Status.FAIL
                  for r in tb.servers)  # fmt: skip
    if failing:
        head = "Thunderbird: finds the settings"
    return head + (", but " + "; ".join(issues) if issues else "") + ".", not failing


_NONE = Step("", "", Status.SKIP, "")


def _outlook(found: Chain, servers: dict[str, Step], steps: list[Step]) -> tuple[str, bool]:
    ol = found.outlook
    if ol is None:
        tried = [s for s in steps if s.client == "outlook" and s.status is not Status.INFO]
        last = tried[-1].message.rstrip(".") if tried else "no lookup answered"
        return f"Outlook: no usable Autodiscover answer ({last}).", False
    issues = _issues(ol, servers, steps)
    text = "Outlook: autodiscover answers" + (", but " + "; ".join(issues) if issues else "")
    failing = any(servers.get(f"{r.protocol}:{r.host}:{r.port}", _NONE).status is Status.FAIL
                  for r in ol.servers)  # fmt: skip
    return text + ". " + SIMPLIFIED.split(";", 1)[0] + ".", not failing


def _dns(steps: list[Step]) -> str:
    srv = [s for s in steps if s.client == "dns"]
    found = [s.name for s in srv if s.status is Status.PASS]
    missing = [s.target for s in srv if s.status is Status.WARN]
    text = "DNS: SRV records for " + (", ".join(found) if found else "no mail service")
    if missing:
        text += "; missing: " + ", ".join(missing)
    return text + "."


def _servers(steps: list[Step]) -> str:
    servers = [s for s in steps if s.client == "server"]
    if not servers:
        return "Servers: none to check."
    bad = [s for s in servers if s.status is Status.FAIL]
    shaky = [s for s in servers if s.status is Status.WARN]
    text = f"Servers: {len(servers) - len(bad)} of {len(servers)} answer as configured"
    if bad:
        text += "; failing: " + ", ".join(s.target for s in bad)
    if shaky:
        text += "; with warnings: " + ", ".join(s.target for s in shaky)
    return text + "."


def summarize(report: Report, found: Chain) -> None:
    """Fill the report's summary sentences and overall status."""
    servers = _server_steps(report.steps)
    thunderbird, tb_ok = _thunderbird(found, servers, report.steps)
    outlook, ol_ok = _outlook(found, servers, report.steps)
    report.summary = {
        "thunderbird": thunderbird,
        "outlook": outlook,
        "dns": _dns(report.steps),
        "servers": _servers(report.steps),
    }
    report.summary["text"] = " ".join(
        report.summary[k] for k in ("thunderbird", "outlook", "dns", "servers")
    )
    counted = [s.status for s in report.steps if s.status in (Status.WARN, Status.FAIL)]
    if not (tb_ok and ol_ok) or any(s.status is Status.FAIL for s in servers.values()):
        report.status = Status.FAIL
    elif counted or "but" in thunderbird or "but" in outlook.split(".")[0]:
        report.status = Status.WARN
    else:
        report.status = Status.PASS

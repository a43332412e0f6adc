"""The rules: a mailbox's devices, sessions, mail events and probe facts in, findings out.

Pure: no store, no sockets, no clock (``now`` comes in). What the data allows is said and no
more: a deletion "on download" needs either Dovecot's ``mail_age_days`` (0) or a session that
deleted in the same session that downloaded; "removed before any other device fetched them"
is only counted where the message's arrival and removal are both known (mail_log lines, or
the deliveries of a session that emptied the INBOX) and no session of another device was
open in between.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autoconf.diagnosis.findings import (
    CERTIFICATE,
    CLEARTEXT,
    IMAP_ONLY,
    POP_DELETE_MULTI,
    POP_DELETE_SINGLE,
    POP_KEEP,
    POP_RACING,
    TLS_WEAK,
    Finding,
    Severity,
    severity_rank,
)
from autoconf.events.devices import PROBE_CLIENT, network_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from autoconf.events.devices import Device
    from autoconf.events.sessions import MailRecord, Session

WINDOW_DAYS = 30
QUOTA_WARNING = 0.9  # share of the quota in use from which keeping mail becomes a warning
WEAK_TLS = frozenset({"SSLv2", "SSLv3", "TLSv1", "TLSv1.0", "TLSv1.1"})
DAY = 86400.0
MAX_IDS = 20  # message ids listed in evidence


@dataclass(frozen=True, slots=True)
class ProbeFacts:
    """What the probe of a mailbox showed, as far as the rules need it."""

    probed_at: float
    previous_at: float | None = None
    gone: int = 0  # left the INBOX between the two probes, found in no other folder
    gone_unseen: int = 0  # of those, arrived after the previous probe (it never saw them)
    message_ids: tuple[str, ...] = ()
    quota_ratio: float | None = None
    tls: tuple[tuple[str, str], ...] = ()  # (server, TLS version)
    certificate_problems: tuple[tuple[str, str], ...] = ()  # (server, what is wrong)
    pop3_last_login: float | None = None
    imap_last_login: float | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The findings about one mailbox, worst first; ``healthy`` names the all-clear line."""

    mailbox: str
    findings: tuple[Finding, ...]
    healthy: str | None = None
    devices: tuple[Device, ...] = field(default=())


def when(at: float | None) -> str:
    """Epoch seconds as '2026-05-01 12:00 UTC' ('unknown' for None)."""
    if at is None:
        return "unknown"
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _start(s: Session) -> float:
    return s.started_at if s.started_at is not None else s.ended_at or 0.0


def _end(s: Session, now: float) -> float:
    if s.ended_at is not None:
        return s.ended_at
    return now if s.started_at is not None else 0.0


def _pattern(s: Session) -> str:
    return "TOP" if s.top else "RETR" if s.retrieved else "-"


def _belongs(s: Session, device: Device) -> bool:
    """Whether a session is one of a POP3 device's (key: pop3|port|pattern|network)."""
    if s.protocol != "pop3" or device.protocol != "pop3":
        return False
    _, port, pattern, _net = [*device.key.split("|"), "", "", "", ""][:4]
    if network_of(s.rip) != device.network or str(s.lport or "") != port:
        return False
    return _pattern(s) in (pattern, "-") or pattern == "-"


def _name(device: Device) -> str:
    return f"{device.client} at {device.network}"


@dataclass(slots=True)
class _Ctx:
    mailbox: str
    devices: list[Device]
    sessions: list[Session]
    mail: Sequence[MailRecord]
    probe: ProbeFacts | None
    now: float
    since: float
    window_days: float
    out: list[Finding] = field(default_factory=list)


def diagnose(
    mailbox: str,
    devices: Sequence[Device],
    sessions: Sequence[Session],
    mail: Sequence[MailRecord] = (),
    *,
    now: float,
    probe: ProbeFacts | None = None,
    window_days: float = WINDOW_DAYS,
) -> Diagnosis:
    """Every rule over one mailbox; findings worst first."""
    since = now - window_days * DAY
    recent = [
        s for s in sessions
        if s.protocol in ("imap", "pop3") and s.client_name != PROBE_CLIENT
        and _end(s, now) >= since
    ]  # fmt: skip
    active = [d for d in devices if d.last_seen >= since]
    ctx = _Ctx(mailbox, active, recent, mail, probe, now, since, window_days)
    pop_deleting(ctx)
    pop_racing(ctx)
    pop_keep(ctx)
    cleartext(ctx)
    tls_facts(ctx)
    healthy = None
    users = [d for d in active if d.protocol in ("imap", "pop3")]
    if users and all(d.protocol == "imap" for d in users) and not ctx.out:
        healthy = IMAP_ONLY
    findings = sorted(ctx.out, key=lambda f: (severity_rank(f.severity), f.code))
    return Diagnosis(mailbox, tuple(findings), healthy, tuple(devices))


# ------------------------------------------------------------------ POP3 deleting


def _unseen(
    own: list[Session], others: list[Session], mail: Sequence[MailRecord], now: float
) -> tuple[int | None, str | None, list[str]]:
    """How many removed messages no other device's session could have seen, and how known."""
    keys = {s.key for s in own}
    arrived: dict[str, float] = {}
    for m in mail:
        if m.msgid and m.action in ("save", "delivered") and (m.box in (None, "INBOX")):
            arrived[m.msgid] = min(arrived.get(m.msgid, m.at), m.at)
    spans = [(_start(o), _end(o, now)) for o in others]

    def unseen(a: float, b: float) -> bool:
        return not any(lo <= b and hi >= a for lo, hi in spans)

    expunges = [
        m for m in mail if m.session in keys and m.action == "expunge" and m.service == "pop3"
    ]
    if expunges:  # mail_log: each removed message with its Message-ID
        known = [(m, arrived[m.msgid]) for m in expunges if m.msgid and m.msgid in arrived]
        if not known:
            return None, None, [m.msgid for m in expunges if m.msgid][:MAX_IDS]
        lost = [m.msgid or "" for m, at in known if unseen(at, m.at)]
        return len(lost), "mail-log", lost[:MAX_IDS]
    return _unseen_stock(own, others, mail, now, unseen)


def _unseen_stock(
    own: list[Session],
    others: list[Session],
    mail: Sequence[MailRecord],
    now: float,
    unseen: Callable[[float, float], bool],
) -> tuple[int | None, str | None, list[str]]:
    # stock logs: a session that emptied the INBOX removed exactly the messages delivered
    # since the device's previous emptying session, if their number matches its del=N
    # (before the first one: every delivery in the data, if their number matches) and no
    # other session removed mail in between
    deliveries = sorted(
        (m.at, m.msgid or "")
        for m in mail
        if m.action == "delivered" or (m.service == "lmtp" and m.action == "save")
    )
    removals = [_end(o, now) for o in others if o.deleted or o.expunged]
    lost_ids: list[str] = []
    counted = False
    before: float | None = float("-inf")
    for s in sorted(own, key=_start):
        emptied = bool(s.deleted) and s.messages is not None and s.deleted == s.messages
        end = _end(s, now)
        if emptied and before is not None:
            batch = [(at, mid) for at, mid in deliveries if before < at <= end]
            clean = not any(before < at <= end for at in removals)
            if clean and len(batch) == s.deleted:
                counted = True
                lost_ids += [mid for at, mid in batch if unseen(at, end)]
        if emptied:
            before = end
        elif s.deleted:
            before = None  # what was left in the INBOX is no longer known
    if not counted:
        return None, None, []
    return len(lost_ids), "deliveries", lost_ids[:MAX_IDS]


def pop_deleting(ctx: _Ctx) -> None:
    """pop-delete-multi-device / pop-delete-single-device, from the log or the probe."""
    pops = [d for d in ctx.devices if d.protocol == "pop3"]
    found = False
    deleting: list[tuple[Device, list[Session]]] = []
    for device in pops:
        own = [s for s in ctx.sessions if _belongs(s, device)]
        if any(s.deleted for s in own):
            deleting.append((device, own))
    if deleting:
        found = True
        _log_deleting(ctx, deleting)
    if not found and ctx.probe is not None:
        _probe_deleting(ctx, ctx.probe)


def _mode(own: list[Session]) -> tuple[bool, int | None, str]:
    """(on download?, days kept, basis) of a device's deleting sessions."""
    dels = [s for s in own if s.deleted]
    ages = [s.mail_age_days for s in dels if s.mail_age_days is not None]
    if ages:
        youngest = min(ages)
        return youngest < 1, None if youngest < 1 else int(youngest), "mail_age_days"
    return any(s.retrieved or s.top for s in dels), None, "sessions"


def _log_deleting(ctx: _Ctx, deleting: list[tuple[Device, list[Session]]]) -> None:
    keys = {d.key for d, _ in deleting}
    own_all = [s for _, own in deleting for s in own]
    own_keys = {s.key for s in own_all}
    others = [d for d in ctx.devices if d.protocol in ("imap", "pop3") and d.key not in keys]
    other_sessions = [s for s in ctx.sessions if s.key not in own_keys]
    modes = [_mode(own) for _, own in deleting]
    on_download = any(m[0] for m in modes)
    days = min((m[1] for m in modes if m[1] is not None), default=None)
    dels = [s for s in own_all if s.deleted]
    worst = max(deleting, key=lambda pair: sum(s.deleted or 0 for s in pair[1]))[0]
    evidence: dict[str, Any] = {
        "deleting_device": _name(worst),
        "deleting_devices": [_name(d) for d, _ in deleting],
        "removed": sum(s.deleted or 0 for s in dels),
        "deleting_sessions": len(dels),
        "mode": "on-download" if on_download else "after-days",
        "days": days,
        "basis": modes[0][2] if len(modes) == 1 else ",".join(sorted({m[2] for m in modes})),
        "first_deleted_at": when(min(_end(s, ctx.now) for s in dels)),
        "last_deleted_at": when(max(_end(s, ctx.now) for s in dels)),
        "window_days": round(ctx.window_days),
    }
    last = max(_end(s, ctx.now) for s in dels)
    if not others:
        ctx.out.append(Finding(POP_DELETE_SINGLE, "info", evidence, cause_at=last))
        return
    unseen, basis, ids = _unseen(own_all, other_sessions, ctx.mail, ctx.now)
    evidence |= {
        "other_devices": "; ".join(_name(d) for d in others),
        "other_device_count": len(others),
        "unseen": unseen,
        "unseen_basis": basis,
        "message_ids": ids,
    }
    severity: Severity = "critical" if on_download else "warning"
    variant = "" if on_download else "after-days"
    ctx.out.append(Finding(POP_DELETE_MULTI, severity, evidence, variant, cause_at=last))


def _probe_deleting(ctx: _Ctx, probe: ProbeFacts) -> None:
    """No deleting POP3 session in the log: vanished messages and POP3 logins may tell."""
    if probe.gone <= 0 or probe.previous_at is None:
        return
    lo, hi = probe.previous_at, probe.probed_at
    pop_between = [s for s in ctx.sessions if s.protocol == "pop3" and lo <= _end(s, ctx.now)]
    pop_between = [s for s in pop_between if _start(s) <= hi]
    pop_login = probe.pop3_last_login is not None and lo <= probe.pop3_last_login <= hi
    if not pop_between and not pop_login:
        return
    others = [d for d in ctx.devices if d.protocol == "imap"]
    imap_recent = probe.imap_last_login is not None and probe.imap_last_login >= ctx.since
    if not others and not imap_recent:
        return
    names = "; ".join(_name(d) for d in others) or "an IMAP client"
    evidence: dict[str, Any] = {
        "deleting_device": "a POP3 client",
        "deleting_devices": [],
        "removed": probe.gone,
        "never_seen_by_probe": probe.gone_unseen,
        "between": f"{when(lo)} - {when(hi)}",
        "other_devices": names,
        "other_device_count": max(len(others), 1),
        "pop3_sessions": len(pop_between),
        "pop3_last_login": when(probe.pop3_last_login),
        "unseen": None,
        "basis": "probe",
        "message_ids": list(probe.message_ids[:MAX_IDS]),
        "window_days": round(ctx.window_days),
        "mode": "on-download" if probe.gone_unseen else "unknown",
    }
    severity: Severity = "critical" if probe.gone_unseen else "warning"
    ctx.out.append(Finding(POP_DELETE_MULTI, severity, evidence, "probe", cause_at=hi))


# ------------------------------------------------------------------ other POP3 rules


def pop_racing(ctx: _Ctx) -> None:
    """Two or more POP3 devices, at least one deleting: they take mail from each other."""
    pops = [d for d in ctx.devices if d.protocol == "pop3" and d.sessions]
    if len(pops) < 2 or not any(d.deleted for d in pops):  # noqa: PLR2004
        return
    evidence = {
        "devices": "; ".join(_name(d) for d in pops),
        "device_count": len(pops),
        "deleting": "; ".join(_name(d) for d in pops if d.deleted),
        "window_days": round(ctx.window_days),
    }
    last = max(d.last_seen for d in pops if d.deleted)
    ctx.out.append(Finding(POP_RACING, "warning", evidence, cause_at=last))


def pop_keep(ctx: _Ctx) -> None:
    """POP3 devices that keep mail on the server: fine, unless the mailbox fills up."""
    keeping = [
        d for d in ctx.devices if d.protocol == "pop3" and d.retrieving_sessions and not d.deleted
    ]
    if not keeping:
        return
    ratio = ctx.probe.quota_ratio if ctx.probe is not None else None
    evidence = {
        "keeping_device": _name(keeping[0]),
        "keeping_devices": [_name(d) for d in keeping],
        "retrieved": sum(d.retrieved for d in keeping),
        "quota_percent": None if ratio is None else round(ratio * 100),
    }
    last = max(d.last_seen for d in keeping)
    if ratio is not None and ratio >= QUOTA_WARNING:
        ctx.out.append(Finding(POP_KEEP, "warning", evidence, "quota", cause_at=last))
    else:
        ctx.out.append(Finding(POP_KEEP, "info", evidence, cause_at=last))


# ------------------------------------------------------------------ transport security


def _loopback(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def cleartext(ctx: _Ctx) -> None:
    """Logins without TLS from another host (loopback is this host and not counted)."""
    plain = [s for s in ctx.sessions if s.tls is False and s.rip and not _loopback(s.rip)]
    if not plain:
        return
    evidence = {
        "sessions": len(plain),
        "protocols": ", ".join(sorted({(s.protocol or "?").upper() for s in plain})),
        "networks": ", ".join(sorted({network_of(s.rip) for s in plain})),
        "last_at": when(max(_end(s, ctx.now) for s in plain)),
    }
    last = max(_end(s, ctx.now) for s in plain)
    ctx.out.append(Finding(CLEARTEXT, "warning", evidence, cause_at=last))


def tls_facts(ctx: _Ctx) -> None:
    """Old TLS versions and certificate problems the probe saw."""
    probe = ctx.probe
    if probe is None:
        return
    weak = [(server, version) for server, version in probe.tls if version in WEAK_TLS]
    if weak:
        evidence = {"servers": ", ".join(f"{s} ({v})" for s, v in weak), "count": len(weak)}
        ctx.out.append(Finding(TLS_WEAK, "warning", evidence, cause_at=probe.probed_at))
    if probe.certificate_problems:
        evidence = {
            "servers": ", ".join(s for s, _ in probe.certificate_problems),
            "problems": "; ".join(f"{s}: {p}" for s, p in probe.certificate_problems),
            "count": len(probe.certificate_problems),
        }
        ctx.out.append(Finding(CERTIFICATE, "warning", evidence, cause_at=probe.probed_at))

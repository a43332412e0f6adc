"""The notice mail: one incident in the user's language, delivered over LMTP or SMTP.

Once per incident, and at most once per interval per mailbox.

Composing is pure (``compose``); ``send_notices`` claims the incident in the store before
delivering (so two instances never both send) and releases the claim if delivery fails.
"""

from __future__ import annotations

import asyncio
import html
import smtplib
import time
import uuid
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING

import structlog

from autoconf.diagnosis import messages
from autoconf.diagnosis.findings import (
    CLEARTEXT,
    POP_DELETE_MULTI,
    POP_KEEP,
    POP_RACING,
    Finding,
)
from autoconf.errors import AutoconfError

if TYPE_CHECKING:
    from collections.abc import Callable

    from autoconf.config import Settings
    from autoconf.store.base import Incident, Store

log = structlog.get_logger("autoconf.notify")

HEADER = "X-Autoconf-Notice"
# Codes the user can fix on a device; the others are for the provider.
NOTIFY_CODES = frozenset({POP_DELETE_MULTI, POP_RACING, POP_KEEP, CLEARTEXT})
STEPS_CODES = frozenset({POP_DELETE_MULTI, POP_RACING})


class NoticeError(AutoconfError):
    """The notice mail could not be delivered."""

    status = 502
    code = "notice_failed"


def wants_notice(incident: Incident) -> bool:
    """Whether an open incident calls for a notice to the user."""
    return (
        incident.state == "open"
        and incident.notified_at is None
        and incident.code in NOTIFY_CODES
        and incident.severity in ("critical", "warning")
    )


def _finding(incident: Incident) -> Finding:
    return Finding(
        incident.code,
        incident.severity,  # type: ignore[arg-type]
        incident.evidence,
        incident.variant,
    )


def message_id(sender: str) -> str:
    """A fresh Message-ID in the sender's domain."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<notice.{uuid.uuid4().hex}@{domain}>"


def compose(incident: Incident, lang: str, sender: str, msgid: str, now: float) -> EmailMessage:
    """The notice for one incident: plain text and HTML, marked as an automated message."""
    finding = _finding(incident)
    reference = f"{incident.code}#{incident.id}"
    paragraphs = [
        messages.common("greeting", lang),
        messages.common("intro", lang, mailbox=incident.mailbox),
        messages.user_text(finding, lang),
    ]
    if incident.code in STEPS_CODES:
        paragraphs.append(messages.common("steps", lang))
    paragraphs.append(messages.common("footer", lang, reference=reference))
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = incident.mailbox
    msg["Subject"] = messages.common("subject", lang)
    msg["Date"] = formatdate(now, localtime=False)
    msg["Message-ID"] = msgid
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[HEADER] = reference
    msg.set_content("\n\n".join(paragraphs) + "\n")
    msg.add_alternative(_html(paragraphs, lang), subtype="html")
    # after add_alternative, which moves every Content-* header into the first part
    msg["Content-Language"] = lang
    for part in msg.iter_parts():
        part["Content-Language"] = lang
    return msg


def _html(paragraphs: list[str], lang: str) -> str:
    parts = []
    for text in paragraphs:
        lines = text.split("\n")
        if len(lines) > 1 and all(line.startswith("- ") for line in lines[1:]):
            items = "".join(f"<li>{html.escape(line[2:])}</li>" for line in lines[1:])
            parts.append(f"<p>{html.escape(lines[0])}</p><ul>{items}</ul>")
        else:
            parts.append("<p>" + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return (
        f'<!DOCTYPE html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        f"</head><body>{''.join(parts)}</body></html>\n"
    )


def deliver(msg: EmailMessage, settings: Settings) -> None:
    """Hand the message to the configured LMTP or SMTP server (blocking)."""
    recipient = str(msg["To"])
    client: smtplib.SMTP
    try:
        if settings.notice_transport == "lmtp":
            client = smtplib.LMTP(settings.notice_host, settings.notice_port, timeout=30)
        else:
            client = smtplib.SMTP(settings.notice_host, settings.notice_port, timeout=30)
        with client:
            refused = client.send_message(msg, settings.notice_sender, [recipient])
    except (OSError, smtplib.SMTPException) as exc:
        raise NoticeError(
            f"The notice to {recipient} could not be delivered over "
            f"{settings.notice_transport} to {settings.notice_host}:{settings.notice_port}: {exc}"
        ) from exc
    if refused:
        raise NoticeError(f"The {settings.notice_transport} server refused {recipient}: {refused}")


async def send_notices(
    store: Store,
    settings: Settings,
    incidents: list[Incident],
    lang: str,
    *,
    now: float | None = None,
    count: Callable[[str], None] | None = None,
) -> list[str]:
    """Deliver the notices these incidents call for; the Message-IDs sent.

    Nothing is sent when ``notice_transport`` is off. One notice per incident, ever; at most
    one per mailbox within ``notice_interval_hours``. ``count`` hears each outcome: sent,
    failed or deferred (the metrics).
    """
    count = count or _ignore
    if settings.notice_transport == "off":
        return []
    now = time.time() if now is None else now
    sent: list[str] = []
    for incident in incidents:
        if not wants_notice(incident) or incident.id is None:
            continue
        last = await store.last_notice_at(incident.mailbox)
        if last is not None and now - last < settings.notice_interval_hours * 3600:
            log.info("notice.deferred", mailbox=incident.mailbox, code=incident.code)
            count("deferred")
            continue
        msgid = message_id(settings.notice_sender)
        if not await store.claim_notice(incident.id, now, msgid):
            continue
        msg = compose(incident, lang, settings.notice_sender, msgid, now)
        try:
            await asyncio.to_thread(deliver, msg, settings)
        except NoticeError:
            await store.release_notice(incident.id)
            log.exception("notice.failed", mailbox=incident.mailbox, code=incident.code)
            count("failed")
            continue
        log.info(
            "notice.sent",
            mailbox=incident.mailbox,
            code=incident.code,
            incident=incident.id,
            transport=settings.notice_transport,
        )
        count("sent")
        sent.append(msgid)
    return sent


def _ignore(_outcome: str) -> None:
    """No one counts."""

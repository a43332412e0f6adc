"""POST /api/v1/events/dovecot: Dovecot's event export (http-post), one JSON event a request.

Dovecot 2.3's http-post transport sends one POST per event, no queue, no retry, and cannot add
headers; its URL is the only thing it can carry. The shared secret ``events_secret`` therefore
comes as ``?secret=`` in the exporter's ``transport_args`` URL, or as ``X-Autoconf-Secret``
(proxies, replay tools), or as the password of HTTP Basic auth (``http://any:SECRET@host/…``:
Dovecot's HTTP client sends URL user info as Basic credentials).

Writes are group commits: a request's patches join the batch being gathered while the store
writes the previous one, and the request is answered (204) once its batch is committed. Under
load one transaction carries many events; an answered event is never lost on shutdown, since
aiohttp lets running requests finish before the store closes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
from typing import TYPE_CHECKING

from aiohttp import web

from autoconf.errors import AutoconfError, BadRequest
from autoconf.events.dovecot_json import Parser
from autoconf.events.sessions import MailRecord, Session, merge, patch_for
from autoconf.store.base import mail_row, session_row
from autoconf.web.auth import Unauthorized, shared_secret_ok
from autoconf.web.body import read_body
from autoconf.web.keys import EVENTS, SETTINGS
from autoconf.web.metrics import IngestStats

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import tzinfo

    from autoconf.store.base import Store

SECRET_HEADER = "X-Autoconf-Secret"  # noqa: S105 - a header name, not a secret


class EventsClosed(AutoconfError):
    """The receiver has no secret configured, so it accepts nothing."""

    status = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__(
            "The event receiver is closed: set events_secret to accept Dovecot's events."
        )


class EventsReceiver:
    """Parses exported events (keeping the per-session tally) and writes them in batches."""

    def __init__(self, store: Store, zone: tzinfo, default_domain: str | None) -> None:
        self.store = store
        self.zone = zone
        self.parser = Parser(default_domain=default_domain)
        parser = self.parser
        self.stats = IngestStats("events", lambda: (parser.received, parser.events, parser.skipped))
        self._sessions: list[Session] = []
        self._mail: list[MailRecord] = []
        self._batch: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def receive(self, items: Sequence[object]) -> None:
        """Parse ``items`` and return once what they say is committed to the store."""
        sessions: list[Session] = []
        mail: list[MailRecord] = []
        for item in items:
            for event in self.parser.feed(item):
                patch = patch_for(event, self.zone)
                if isinstance(patch, Session):
                    sessions.append(patch)
                elif isinstance(patch, MailRecord):
                    mail.append(patch)
        if sessions or mail:
            await self._commit(sessions, mail)

    async def _commit(self, sessions: list[Session], mail: list[MailRecord]) -> None:
        self._sessions.extend(sessions)
        self._mail.extend(mail)
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
            self._batch.add_done_callback(_retrieve)
        batch = self._batch
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(
                self._drain(), name="events-writer"
            )
        await asyncio.shield(batch)

    async def close(self) -> None:
        """Wait until every gathered event is written (shutdown: before the store closes)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):  # its requests were told; the log has it
                await self._writer

    async def _drain(self) -> None:
        """Write gathered batches until none is waiting."""
        while self._batch is not None:
            batch, sessions, mail = self._batch, self._sessions, self._mail
            self._batch, self._sessions, self._mail = None, [], []
            rows = [session_row(s) for s in _merged(sessions)]
            mail_rows = [mail_row(m) for m in mail]
            try:
                await self.store.apply_rows(rows, mail_rows)
            except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
                batch.set_exception(exc)
            else:
                batch.set_result(None)
                self.stats.committed(rows, mail_rows)


def _retrieve(future: asyncio.Future[None]) -> None:
    """Mark a failed batch's error as seen even if all of its requests went away."""
    if not future.cancelled():
        future.exception()


def _merged(patches: list[Session]) -> list[Session]:
    """One patch per session, as the store would merge them in order."""
    by_key: dict[str, Session] = {}
    for patch in patches:
        old = by_key.get(patch.key)
        by_key[patch.key] = patch if old is None else merge(old, patch)
    return list(by_key.values())


def _presented(request: web.Request) -> str | None:
    """The secret the request carries: query, header, or Basic auth password."""
    given = request.query.get("secret") or request.headers.get(SECRET_HEADER)
    if given:
        return given
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError):
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
            return decoded.partition(":")[2] or None
    return None


def check_secret(request: web.Request) -> None:
    """Raise unless the request carries the configured events secret."""
    expected = request.app[SETTINGS].events_secret
    if not expected:
        raise EventsClosed
    given = _presented(request)
    if given is None:
        raise Unauthorized(
            f"Send the events secret as ?secret= in the export URL or as {SECRET_HEADER}."
        )
    if not shared_secret_ok(given, expected):
        raise Unauthorized("The events secret is not valid.")


async def dovecot(request: web.Request) -> web.Response:
    """One exported event (or a JSON array of them) from Dovecot's http-post transport."""
    check_secret(request)
    body = await read_body(request)
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"The request body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}."
        ) from None
    except (ValueError, RecursionError):
        raise BadRequest("The request body is not JSON text in UTF-8.") from None
    items = data if isinstance(data, list) else [data]
    await request.app[EVENTS].receive(items)
    return web.Response(status=204)

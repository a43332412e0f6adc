"""Client setup endpoints: thin handlers that parse, look up, render and record a sighting."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from aiohttp import web

from autoconf.catalog.account import Account
from autoconf.catalog.address import Address, normalize_domain
from autoconf.errors import BadAddress, BadRequest, NotHosted
from autoconf.formats import autodiscover, mobileconfig, mozilla
from autoconf.sightings import MAX_USER_AGENT, Endpoint, classify
from autoconf.web.body import read_body
from autoconf.web.client_ip import client_address
from autoconf.web.keys import CATALOG, CLIENT, SETTINGS, SIGHTINGS, SIGNER, param

_XML_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
_JSON_PROTOCOLS = {"autodiscoverv1": "AutodiscoverV1", "activesync": "ActiveSync"}


def _record(request: web.Request, endpoint: Endpoint, account: Account) -> None:
    """Queue a sighting (never waits) and tell the middleware which client this was."""
    agent = request.headers.get("User-Agent", "")[:MAX_USER_AGENT]
    client = classify(agent, endpoint)
    request[CLIENT] = client.value
    address = account.address
    request.app[SIGHTINGS].add(
        account.domain,
        None if address is None else f"{address.local}@{account.mail_domain}",
        client,
        endpoint,
        client_address(request),
        agent,
        time.time(),
    )


def _domain_account(request: web.Request, domain: str) -> Account:
    return request.app[CATALOG].current.account_for_domain(domain)


def _host_domain(request: web.Request) -> str:
    """The mail domain from a Host header such as ``autoconfig.example.com:443``."""
    host = request.host
    if host.count(":") == 1:  # name:port; a bracketed IPv6 literal is no mail domain anyway
        host = host.partition(":")[0]
    host = host.lower().rstrip(".")
    for prefix in ("autoconfig.", "autodiscover."):
        if host.startswith(prefix):
            host = host[len(prefix) :]
            break
    try:
        return normalize_domain(host)
    except BadAddress:
        raise BadRequest(
            "Name the address with ?emailaddress=you@example.com, or request this URL "
            "at autoconfig.<your domain>."
        ) from None


def _mozilla_response(request: web.Request, endpoint: Endpoint, account: Account) -> web.Response:
    live = request.app[CATALOG]
    body = live.cached(
        ("mozilla", account.domain),
        lambda: mozilla.render(Account(account.provider, account.domain, account.mail_domain)),
    )
    _record(request, endpoint, account)
    return web.Response(body=body, headers=_XML_HEADERS)


async def autoconfig(request: web.Request) -> web.Response:
    """Thunderbird: /mail/config-v1.1.xml and /.well-known/autoconfig/mail/config-v1.1.xml."""
    endpoint = Endpoint.WELL_KNOWN if "well-known" in request.path else Endpoint.AUTOCONFIG
    raw = request.query.get("emailaddress", "")
    if raw:
        address = Address.parse(raw)
        account = request.app[CATALOG].current.account_for(address)
    else:
        account = _domain_account(request, _host_domain(request))
    return _mozilla_response(request, endpoint, account)


async def ispdb(request: web.Request) -> web.Response:
    """ISPDB-style /v1.1/<domain>."""
    account = _domain_account(request, param(request, "domain"))
    return _mozilla_response(request, Endpoint.ISPDB, account)


def _ms_error(request: web.Request, code: autodiscover.ErrorCode, message: str) -> web.Response:
    body = autodiscover.render_error(
        code,
        message,
        time=datetime.now(UTC).strftime("%H:%M:%S.%f"),
        server_id=request.app[SETTINGS].server_id,
    )
    # Exchange sends error documents with HTTP 200 so that clients read them.
    return web.Response(body=body, headers=_XML_HEADERS)


async def autodiscover_pox(request: web.Request) -> web.Response:
    """Outlook and mobilesync POX at /autodiscover/autodiscover.xml."""
    invalid = autodiscover.ErrorCode.INVALID_REQUEST
    if request.method != "POST":
        agent = request.headers.get("User-Agent", "")
        request[CLIENT] = classify(agent, Endpoint.AUTODISCOVER).value
        return _ms_error(request, invalid, "Autodiscover requests are sent with POST.")
    try:
        parsed = autodiscover.parse_request(await read_body(request))
        address = Address.parse(parsed.email)
    except (autodiscover.InvalidRequest, BadAddress) as exc:
        return _ms_error(request, invalid, str(exc))
    account = request.app[CATALOG].current.account_for(address)
    _record(request, Endpoint.AUTODISCOVER, account)
    if parsed.wants_mobilesync:
        url = account.provider.activesync_url
        if url is None:
            return _ms_error(
                request,
                autodiscover.ErrorCode.SCHEMA_UNAVAILABLE,
                "This provider offers no ActiveSync; set the account up as IMAP.",
            )
        body = autodiscover.render_mobilesync(url, str(address))
    elif parsed.wants_outlook:
        mailbox = Address(address.local, account.mail_domain)
        if account.is_alias:
            body = autodiscover.render_redirect(str(mailbox))
        else:
            provider = account.provider
            template = request.app[CATALOG].cached(
                ("pox", provider.id), lambda: autodiscover.SettingsTemplate.compile(provider)
            )
            body = template.fill(mailbox)
    else:
        return _ms_error(
            request,
            autodiscover.ErrorCode.SCHEMA_UNAVAILABLE,
            "The requested response schema is not available; this service answers the "
            "Outlook 2006a and mobilesync schemas.",
        )
    return web.Response(body=body, headers=_XML_HEADERS)


def _query(request: web.Request, name: str) -> str:
    """A query value whose key clients spell in varying case (Email, email, Protocol...)."""
    lowered = name.lower()
    for key, value in request.query.items():
        if key.lower() == lowered:
            return value
    return ""


def _json_error(status: int, code: str, message: str) -> web.Response:
    return web.Response(
        text=json.dumps({"ErrorCode": code, "ErrorMessage": message}),
        status=status,
        content_type="application/json",
    )


async def autodiscover_json(request: web.Request) -> web.Response:
    """Autodiscover v2: /autodiscover/autodiscover.json[/v1.0/<email>]?Protocol=..."""
    raw_email = param(request, "email") or _query(request, "Email")
    protocol_raw = _query(request, "Protocol")
    try:
        address = Address.parse(raw_email)
    except BadAddress as exc:
        request[CLIENT] = classify(
            request.headers.get("User-Agent", ""), Endpoint.AUTODISCOVER_JSON
        ).value
        return _json_error(400, "InvalidUser", str(exc))
    account = request.app[CATALOG].current.account_for(address)
    _record(request, Endpoint.AUTODISCOVER_JSON, account)
    protocol = _JSON_PROTOCOLS.get(protocol_raw.lower())
    activesync = account.provider.activesync_url
    supported = "ActiveSync,AutodiscoverV1" if activesync else "AutodiscoverV1"
    if protocol == "AutodiscoverV1":
        url = f"https://autodiscover.{account.domain}/autodiscover/autodiscover.xml"
    elif protocol == "ActiveSync" and activesync:
        url = activesync
    else:
        shown = protocol_raw[:64]
        return _json_error(
            400,
            "InvalidProtocol",
            f"The given protocol value '{shown}' is invalid. Supported values are '{supported}'",
        )
    return web.json_response({"Protocol": protocol, "Url": url})


async def mobileconfig_profile(request: web.Request) -> web.Response:
    """Apple: /apple/mail.mobileconfig?emailaddress=..."""
    raw = request.query.get("emailaddress", "")
    if not raw:
        raise BadRequest("Add the address to the URL: ?emailaddress=you@example.com")
    address = Address.parse(raw)
    account = request.app[CATALOG].current.account_for(address)
    profile_uuid, mail_uuid = mobileconfig.profile_ids(str(address))
    try:
        body = mobileconfig.render(account, profile_uuid=profile_uuid, mail_uuid=mail_uuid)
    except mobileconfig.NoUsableServer:
        raise NotHosted from None
    signer = request.app[SIGNER]
    if signer is not None:
        body = mobileconfig.sign(body, signer)
    _record(request, Endpoint.MOBILECONFIG, account)
    return web.Response(
        body=body,
        content_type=mobileconfig.CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{account.provider.id}.mobileconfig"',
            "Cache-Control": "no-store",
        },
    )

"""The client lookup chain, run for real: HTTP requests and DNS lookups in the clients' order.

Thunderbird: the provider's URLs (HTTPS then HTTP, in parallel as Thunderbird does), the
ISPDB, the MX-based lookup, then guessing host names and ports. Outlook: POST to the root
domain, to autodiscover.<domain>, to the ``_autodiscover._tcp`` SRV target, then the HTTP
redirect method; it stops at the first answer. Then the RFC 6186/8314 SRV records. Every
answer goes through the shared client rules (chain.judge).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import aiohttp

from autoconf.formats import rules
from autoconf.health import chain
from autoconf.health.chain import Answer, Candidate
from autoconf.health.dns import HttpResolver, NameError_
from autoconf.health.model import Found, ServerRef, Status, Step
from autoconf.health.tls import _handshake
from autoconf.probe.connect import Endpoint, Timeouts, TlsMode, describe_certificate, tls_context
from autoconf.probe.result import EXPIRY_WARNING_DAYS

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from autoconf.health.dns import Dns

MAX_BODY = 1 << 20  # longest answer read; setup documents are a few KiB
MAX_REDIRECTS = 5
POX_HEADERS = {"Content-Type": "text/xml; charset=utf-8"}
USER_AGENT = "autoconf-health (checks mail client setup like Thunderbird and Outlook)"


def _certificate(response: aiohttp.ClientResponse) -> dict[str, Any]:
    connection = response.connection
    transport = connection.transport if connection is not None else None
    obj = transport.get_extra_info("ssl_object") if transport is not None else None
    if not isinstance(obj, ssl.SSLObject):
        return {}
    return describe_certificate(obj.getpeercert(binary_form=True))


class Http:
    """One aiohttp session resolving through ``Dns``; every failure becomes a sentence."""

    def __init__(self, lookup: Dns, ca_file: Path | None, timeout: float) -> None:
        self.lookup = lookup
        self.ca_file = ca_file
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._certificates: dict[tuple[str, int], dict[str, Any]] = {}

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(
            resolver=HttpResolver(self.lookup), ssl=tls_context(self.ca_file), limit=32
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            headers={"User-Agent": USER_AGENT},
        )
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(  # noqa: PLR0911 - one return per kind of failure, nothing else
        self, method: str, url: str, *, data: bytes | None = None, redirects: bool = True
    ) -> Answer:
        """One request; the answer, or an Answer whose ``error`` says why there is none."""
        assert self._session is not None  # used inside ``async with`` only
        host = urlsplit(url).hostname or url
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers=POX_HEADERS if data is not None else None,
                allow_redirects=redirects,
                max_redirects=MAX_REDIRECTS,
            ) as response:
                certificate = _certificate(response)
                body = bytearray()
                async for chunk in response.content.iter_chunked(1 << 16):
                    body += chunk
                    if len(body) >= MAX_BODY:
                        break
                return Answer(
                    str(response.url) if redirects else url,
                    response.status,
                    response.headers.get("Content-Type"),
                    bytes(body[:MAX_BODY]),
                    response.headers.get("Location"),
                    None,
                    certificate,
                )
        except aiohttp.ClientConnectorCertificateError as exc:
            return Answer(url, error=await self._bad_certificate(host, url, exc))
        except aiohttp.ClientConnectorDNSError as exc:
            return Answer(url, error=_os_reason(exc, host))
        except aiohttp.ClientSSLError as exc:
            return Answer(url, error=f"the TLS handshake with {host} failed ({_ssl_reason(exc)})")
        except aiohttp.ClientConnectorError as exc:
            return Answer(url, error=_os_reason(exc, host))
        except aiohttp.TooManyRedirects:
            return Answer(url, error=f"more than {MAX_REDIRECTS} redirects")
        except TimeoutError:
            return Answer(url, error=f"{host} sent no answer within {self.timeout:g}s")
        except (aiohttp.ClientError, ValueError) as exc:
            return Answer(url, error=f"the request failed ({type(exc).__name__}: {exc})")

    async def certificate(self, url: str) -> dict[str, Any]:
        """The certificate an HTTPS URL's server sends (aiohttp has let go of it by now)."""
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            return {}
        key = (parts.hostname, parts.port or 443)
        if key not in self._certificates:
            try:
                address = await self.lookup.connect_to(*key)
            except NameError_:
                return {}
            ep = Endpoint("https", key[0], key[1], TlsMode.SSL, address=address)
            limits = Timeouts(self.timeout, self.timeout, self.timeout)
            seen = await _handshake(ep, tls_context(self.ca_file), limits)
            self._certificates[key] = seen.get("certificate", {})
        return self._certificates[key]

    async def _bad_certificate(
        self, host: str, url: str, exc: aiohttp.ClientConnectorCertificateError
    ) -> str:
        reason = getattr(exc.certificate_error, "verify_message", None) or str(
            exc.certificate_error
        )
        sentence = f"the certificate of {host} does not verify ({reason})"
        port = urlsplit(url).port or 443
        try:
            address = await self.lookup.connect_to(host, port)
        except NameError_:
            return sentence
        ep = Endpoint("https", host, port, TlsMode.SSL, address=address)
        seen = await _handshake(
            ep, _unverified(), Timeouts(self.timeout, self.timeout, self.timeout)
        )
        days = seen.get("certificate", {}).get("days_left")
        if isinstance(days, int) and days < 0:
            sentence += f"; it expired {-days} day(s) ago"
        return sentence + ", so clients refuse the connection"


def _unverified() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _os_reason(exc: aiohttp.ClientConnectorError, host: str) -> str:
    error = exc.os_error
    if isinstance(error, ConnectionRefusedError):
        return f"{host} refused the connection (nothing listens on port {exc.port})"
    text = str(error) or type(error).__name__
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or host in text:
        return text
    return f"{host} could not be reached ({text})"


def _ssl_reason(exc: aiohttp.ClientSSLError) -> str:
    error = getattr(exc, "os_error", None)
    return str(getattr(error, "reason", None) or error or exc)


def with_certificate(step: Step, answer: Answer) -> Step:
    """A warning when the HTTPS certificate of an accepted answer ends within two weeks."""
    days = answer.certificate.get("days_left")
    if step.status not in (Status.PASS, Status.WARN) or not isinstance(days, int):
        return step
    if days >= EXPIRY_WARNING_DAYS:
        return replace(step, facts={**step.facts, "certificate": answer.certificate})
    host = urlsplit(answer.url).hostname
    note = f" The certificate of {host} expires in {days} day(s); renew it now."
    return replace(step, status=Status.WARN, message=step.message + note,
                   facts={**step.facts, "certificate_expires_in": days, "host": host})  # fmt: skip


@dataclass(slots=True)
class Chain:
    """What the lookups found: the steps in order, and each client's configuration."""

    steps: list[Step] = field(default_factory=list)
    thunderbird: Found | None = None
    outlook: Found | None = None
    srv: list[ServerRef] = field(default_factory=list)
    guessed: list[ServerRef] = field(default_factory=list)


@dataclass(slots=True)
class Discovery:
    """Run the chains for one domain and address."""

    http: Http
    lookup: Dns
    ispdb_url: str
    domain: str
    address: str
    result: Chain = field(default_factory=Chain)

    def _add(self, step: Step) -> Step:
        self.result.steps.append(step)
        return step

    def _say(self, client: str, name: str, status: Status, message: str, target: str = "") -> None:
        self._add(Step(client, name, status, message, target or self.domain))

    async def _autoconfig(self, candidate: Candidate) -> tuple[Step, Answer]:
        answer = await self.http.fetch("GET", candidate.url)
        step = chain.judge(
            "thunderbird", candidate, answer, rules.thunderbird_autoconfig, "Thunderbird"
        )
        return await self._certified(step, answer), answer

    async def _certified(self, step: Step, answer: Answer) -> Step:
        """An accepted HTTPS answer with its certificate looked at (expiring soon: a warning)."""
        if step.status not in (Status.PASS, Status.WARN) or answer.certificate:
            return with_certificate(step, answer)
        seen = await self.http.certificate(answer.url)
        return with_certificate(step, replace(answer, certificate=seen))

    def _take(self, step: Step, answer: Answer) -> Step:
        """Note the servers of an accepted file; the first one is what Thunderbird sets up."""
        if step.status not in (Status.PASS, Status.WARN):
            return step
        servers = chain.autoconfig_servers(answer.body, self.address)
        if self.result.thunderbird is None:
            self.result.thunderbird = Found(step.name, step.target, servers)
        return replace(step, facts={**step.facts, "servers": [s.label for s in servers]})

    async def thunderbird(self) -> None:
        """Provider URLs in parallel, then ISPDB and MX, as Thunderbird ranks them."""
        candidates = chain.thunderbird_candidates(self.domain, self.address)
        answers = await asyncio.gather(*(self._autoconfig(c) for c in candidates))
        for step, answer in answers:
            self._add(self._take(step, answer))
        if self.result.thunderbird is not None:
            found = self.result.thunderbird.url
            self._say(
                "thunderbird",
                "ispdb",
                Status.SKIP,
                "ISPDB and MX lookups are not needed: "
                f"Thunderbird uses the provider's own file {found} first.",
            )
            return
        if self.ispdb_url:
            step, answer = await self._autoconfig(
                chain.ispdb_candidate(self.ispdb_url, self.domain)
            )
            self._add(self._take(step, answer))
        if self.result.thunderbird is None:
            await self._mx()

    async def _mx(self) -> None:
        hosts, error = await self.lookup.mx(self.domain)
        if error or not hosts:
            message = error or f"{self.domain} has no MX record, so there is no MX-based lookup."
            self._add(Step("thunderbird", "mx", Status.SKIP, message, self.domain))
            return
        full, base = chain.mx_domains(hosts[0])
        if base == self.domain:
            self._say(
                "thunderbird",
                "mx",
                Status.SKIP,
                f"The MX host {hosts[0]} is in "
                f"{self.domain} itself, so Thunderbird skips the MX-based lookup.",
            )
            return
        self._say(
            "thunderbird",
            "mx",
            Status.INFO,
            f"The best MX host is {hosts[0]}; Thunderbird looks for settings of {full} and {base}.",
        )
        query = chain.thunderbird_candidates(full, self.address)[0]
        candidates = [Candidate("mx-autoconfig", f"the autoconfig host of {full}", query.url)]
        if self.ispdb_url:
            candidates += [chain.ispdb_candidate(self.ispdb_url, d, f"mx-ispdb-{d}")
                           for d in dict.fromkeys((full, base))]  # fmt: skip
        for candidate in candidates:
            step, answer = await self._autoconfig(candidate)
            self._add(self._take(step, answer))
            if self.result.thunderbird is not None:
                return

    async def guess(self, connect: Any) -> None:
        """Thunderbird's last resort: the first host name and port that answers per protocol."""
        found: list[ServerRef] = []
        for protocol, hosts in chain.GUESS_HOSTS.items():
            hit = await self._guess_one(protocol, hosts, connect)
            if hit is not None:
                found.append(hit)
        self.result.guessed = found
        if found:
            message = ("Thunderbird finds no configuration file, so it guesses: "
                       f"{chain.servers_sentence(tuple(found))}.")  # fmt: skip
            status = Status.WARN
        else:
            message = ("Thunderbird finds no configuration file and no guessed host name answers, "
                       "so the user has to type every setting.")  # fmt: skip
            status = Status.FAIL
        step = Step("thunderbird", "guess", status, message, self.domain,
                    facts={"servers": [s.label for s in found]})  # fmt: skip
        steps = self.result.steps  # Thunderbird guesses after Autodiscover: list it with its own
        last = max((n for n, s in enumerate(steps) if s.client == "thunderbird"), default=-1)
        steps.insert(last + 1, step)

    async def _guess_one(
        self, protocol: str, hosts: tuple[str, ...], connect: Any
    ) -> ServerRef | None:
        for pattern in hosts:
            host = pattern.format(d=self.domain)
            try:
                address = await self.lookup.connect_to(host, 0)
            except NameError_:
                continue
            for port, mode in chain.GUESS_PORTS[protocol]:
                if await connect(address[0], self.lookup.port(host, port)):
                    return ServerRef(protocol, host, port, mode)
        return None

    # ---------------------------------------------------------------- Outlook

    async def _pox(self, candidate: Candidate) -> tuple[Step, Answer]:
        answer = await self.http.fetch(
            "POST", candidate.url, data=chain.pox_body(self.address), redirects=False
        )
        if answer.status == 401:  # noqa: PLR2004
            return Step("outlook", candidate.name, Status.WARN, f"{candidate.url} asks for a "
                        "login (HTTP 401); Outlook would send the user's password and ask again, "
                        "which this check cannot do.", candidate.url), answer  # fmt: skip
        if answer.status in (301, 302, 303, 307, 308):
            return Step("outlook", candidate.name, Status.FAIL, f"{candidate.url} answers the "
                        f"POST with a redirect (HTTP {answer.status}) to {answer.location}; "
                        "Outlook expects the Autodiscover document itself here.",
                        candidate.url), answer  # fmt: skip
        step = chain.judge("outlook", candidate, answer, rules.thunderbird_pox, "Outlook")
        return await self._certified(step, answer), answer

    async def _try_pox(self, candidate: Candidate) -> bool:
        step, answer = await self._pox(candidate)
        self._add(step)
        if step.status not in (Status.PASS, Status.WARN) or answer.status == 401:  # noqa: PLR2004
            return answer.status == 401  # noqa: PLR2004 - Outlook stops there and asks
        redirect = chain.pox_redirect(answer.body)
        if redirect is not None and redirect[0] == "redirectUrl":
            return await self._try_pox(Candidate("pox-redirect-url", "the redirect", redirect[1],
                                                 "POST"))  # fmt: skip
        if redirect is not None:
            self._add(Step("outlook", "pox-redirect-addr", Status.INFO, "The answer redirects to "
                           f"the address {redirect[1]}; Outlook starts again with it.",
                           candidate.url))  # fmt: skip
        self.result.outlook = Found(candidate.name, candidate.url, chain.pox_servers(answer.body))
        return True

    async def outlook(self) -> None:
        """Root domain, autodiscover.<domain>, SRV, redirect: Outlook stops at the first answer."""
        done = False
        for candidate in chain.outlook_candidates(self.domain):
            if done:
                self._say(
                    "outlook",
                    candidate.name,
                    Status.SKIP,
                    f"{candidate.url} is not tried: Outlook stops at the first answer.",
                    candidate.url,
                )
                continue
            done = await self._try_pox(candidate)
        srv_name = f"_autodiscover._tcp.{self.domain}"
        srv = await self.lookup.srv(srv_name)
        target = chain.autodiscover_srv_target(srv)
        if target is None:
            reason = srv.error or f"there is no {srv_name} SRV record"
            reason = reason[:1].upper() + reason[1:]
            status = Status.INFO if done else Status.WARN
            self._say(
                "outlook",
                "pox-srv",
                status,
                f"{reason}; Outlook and Thunderbird use it "
                "to find an Autodiscover host outside the domain.",
                srv_name,
            )
        elif not done:
            url = f"https://{target}/Autodiscover/Autodiscover.xml"
            if not (target == self.domain or target.endswith("." + self.domain)):
                self._say(
                    "outlook",
                    "pox-srv-target",
                    Status.INFO,
                    f"{srv_name} points "
                    f"outside {self.domain}, to {target}; Outlook asks the user to "
                    "confirm that server.",
                    srv_name,
                )
            done = await self._try_pox(Candidate("pox-srv", f"the SRV target {target}", url,
                                                 "POST"))  # fmt: skip
        else:
            self._say(
                "outlook",
                "pox-srv",
                Status.PASS,
                f"{srv_name} points to {target} (port 443; Outlook ignores the SRV port).",
                srv_name,
            )
        if not done:
            await self._redirect()

    async def _redirect(self) -> None:
        url = chain.redirect_url(self.domain)
        answer = await self.http.fetch("GET", url, redirects=False)
        location = answer.location or ""
        if answer.status in (301, 302, 307, 308) and location.startswith("https://"):
            self._say(
                "outlook",
                "pox-redirect",
                Status.INFO,
                f"{url} redirects to {location}; Outlook warns the user, then POSTs there.",
                url,
            )
            await self._try_pox(Candidate("pox-redirect-target", "the redirect target", location,
                                          "POST"))  # fmt: skip
            return
        reason = answer.error or f"it answered HTTP {answer.status} without an https redirect"
        self._add(Step("outlook", "pox-redirect", Status.SKIP, f"{url}: {reason}.", url))

    # ---------------------------------------------------------------- RFC 6186 / 8314

    async def mail_srv(self) -> None:
        """The six SRV names, implicit TLS first."""
        names = [f"{label}.{self.domain}" for label, _, _ in chain.MAIL_SRV]
        answers = await asyncio.gather(*(self.lookup.srv(n) for n in names))
        published = {p for a, (_, p, _) in zip(answers, chain.MAIL_SRV, strict=True) if a.records}
        for answer, (_, protocol, mode) in zip(answers, chain.MAIL_SRV, strict=True):
            step, server = chain.srv_step(answer, protocol, mode)
            if answer.missing and protocol in published:
                step = replace(step, status=Status.INFO, message=f"There is no {answer.name} "
                               "SRV record; that is fine, the other record of this protocol "
                               "says where the server is.")  # fmt: skip
            self._add(step)
            if server is not None:
                self.result.srv.append(server)

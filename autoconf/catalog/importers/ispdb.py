"""Mozilla clientConfig files (ISPDB, hand-written autoconfig files) -> catalog providers.

Read as Thunderbird reads them, and more forgiving where real files go wrong: element and
attribute names in any case, values with stray whitespace or odd case, a byte-order mark or
blank lines before the XML declaration, deprecated names (``plain``, ``secure``,
``displayNameShort``), ``%EMAILADDRESS`` without its closing ``%``, missing optional values,
servers listed twice. Documents with a DTD, entities or external references are refused
(defusedxml), as are files that are not XML; both with a sentence naming the file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree.ElementTree import ParseError

import defusedxml
import defusedxml.ElementTree as SafeET

from autoconf.catalog.importers.common import (
    NO_PASSWORD,
    DraftProvider,
    DraftServer,
    Imported,
    ImportFailed,
    Notes,
    SkipServer,
    auth_methods,
    build,
    clean,
    display_names,
    domain,
    hostname,
    port,
    protocol,
    provider_id,
    socket_type,
    username,
    web_url,
)
from autoconf.catalog.model import Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path
    from xml.etree.ElementTree import Element

MAX_FILE = 1 << 20  # 1 MiB: the largest ISPDB file is a few KiB
_BOMS = (b"\xef\xbb\xbf",)
_NOT_CARRIED = {
    "webmail": "the webmail login page",
    "oauth2": "the OAuth2 settings (issuer, scope, URLs)",
    "enable": "the instructions to enable IMAP/POP access first",
    "inputfield": "the custom input fields",
    "calendar": "the CalDAV calendar",
    "addressbook": "the CardDAV address book",
    "fileshare": "the WebDAV file share",
    "chatserver": "the chat server",
    "videoconference": "the video conference server",
    "setupserver": "the ManageSieve setup server",
    "clientconfigupdate": "the clientConfigUpdate URL",
}
_KNOWN = {
    "domain",
    "displayname",
    "displayshortname",
    "displaynameshort",
    "incomingserver",
    "outgoingserver",
    "documentation",
    "instruction",
    "identity",
}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _name(element: Element) -> str:
    """The local name in lower case: namespaces and odd case do not matter."""
    return element.tag.rsplit("}", 1)[-1].lower() if isinstance(element.tag, str) else ""


def _children(element: Element, name: str) -> list[Element]:
    return [child for child in element if _name(child) == name]


def _texts(element: Element, name: str) -> list[str]:
    return [clean(child.text) for child in _children(element, name) if clean(child.text)]


def _text(element: Element, name: str) -> str:
    texts = _texts(element, name)
    return texts[0] if texts else ""


def _attr(element: Element, name: str) -> str:
    for key, value in element.attrib.items():
        if key.rsplit("}", 1)[-1].lower() == name:
            return clean(value)
    return ""


def _flag(raw: str) -> bool | None:
    text = clean(raw).lower()
    return True if text in _TRUE else False if text in _FALSE else None


def parse_document(raw: bytes, source: str) -> Element:
    """The root element of a clientConfig document; ImportFailed with a sentence otherwise."""
    for bom in _BOMS:
        raw = raw.removeprefix(bom)
    raw = raw.lstrip()  # blank lines before <?xml ...?> make expat give up
    if not raw:
        raise ImportFailed(f"{source} is empty")
    try:
        root: Element = SafeET.fromstring(raw, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise ImportFailed(
            f"{source} was refused: it declares a DTD (<!DOCTYPE>), which clientConfig files "
            "never need and which can be used to attack the reader"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise ImportFailed(
            f"{source} was refused: it declares XML entities, which can be used to attack "
            "the reader"
        ) from None
    except defusedxml.DefusedXmlException:
        raise ImportFailed(
            f"{source} was refused: it refers to external resources, which can be used to "
            "attack the reader"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise ImportFailed(
            f"{source} is not well-formed XML (line {line}, column {column + 1})"
        ) from None
    if _name(root) != "clientconfig":
        raise ImportFailed(
            f"{source} is not a Mozilla clientConfig file: its root element is "
            f"<{_name(root) or '?'}>, not <clientConfig>"
        )
    return root


def _server(element: Element, where: str, notes: Notes) -> DraftServer:
    kind = _attr(element, "type")
    proto = protocol(kind)
    if proto is None:
        raise SkipServer(f"type {kind or '(none)'!r} is not IMAP, POP3 or SMTP")
    if (proto is Protocol.SMTP) != (_name(element) == "outgoingserver"):
        raise SkipServer(f"type {kind!r} does not belong in <{element.tag}>")
    host = hostname(_text(element, "hostname"))
    where = f"{where}: {proto.value} server {host}"
    raw_port = _text(element, "port")
    sockets = _texts(element, "sockettype")
    number = None
    if raw_port.isdigit():
        number = int(raw_port)
    socket = socket_type(sockets, number, where, notes)
    number = port(raw_port, proto, socket, where, notes)
    auth = auth_methods(_texts(element, "authentication"), proto, where, notes)
    raw_login = _text(element, "username")
    if not raw_login and set(auth) <= NO_PASSWORD:
        raw_login = "%EMAILADDRESS%"  # no login at all: nothing to note
    login = username(raw_login, where, notes)
    if _children(element, "password"):
        notes.add(where, "its password was not carried over: the catalog holds no passwords")
    if _children(element, "restriction"):
        notes.add(where, "<restriction> cannot be carried over; the catalog has no place for it")
    return DraftServer(proto, host, number, socket, auth, login)


def _pop3_policy(provider: Element, draft: DraftProvider, notes: Notes) -> None:
    for server in _children(provider, "incomingserver"):
        for pop3 in _children(server, "pop3"):
            leave = _flag(_text(pop3, "leavemessagesonserver"))
            days = _text(pop3, "daystoleavemessagesonserver")
            if leave is False:
                draft.leave_on_server = False
                notes.add(
                    draft.where,
                    "it tells POP3 clients to delete mail from the server after download; the "
                    "catalog keeps that (set leave_on_server = true to keep a copy there)",
                )
            if days.isdigit() and int(days) >= 1:
                draft.days_on_server = int(days)
            return


def _activesync(provider: Element) -> str | None:
    for server in _children(provider, "incomingserver"):
        kind = _attr(server, "type").lower()
        url = _text(server, "easurl") or (_text(server, "url") if kind == "activesync" else "")
        if web_url(url, secure_only=True):
            return url
    return None


def _domains(provider: Element, where: str, notes: Notes) -> list[str]:
    names: list[str] = []
    for element in _children(provider, "domain"):
        text = clean(element.text)
        if _attr(element, "purpose").lower() == "mx":
            notes.add(where, f"MX domain {text} was left out (it names mail servers, not users)")
            continue
        name = domain(text)
        if name is None:
            notes.add(where, f"domain {text!r} is not a domain name and was left out")
        elif name not in names:
            names.append(name)
    return names


def _ignored(root: Element, provider: Element, where: str, notes: Notes) -> None:
    unknown = []
    for element in root:
        if _name(element) in _NOT_CARRIED:
            notes.add(where, f"{_NOT_CARRIED[_name(element)]} cannot be carried over")
    for element in provider:
        name = _name(element)
        if name in _NOT_CARRIED:
            notes.add(where, f"{_NOT_CARRIED[name]} cannot be carried over")
        elif name not in _KNOWN:
            unknown.append(f"<{element.tag}>")
    if unknown:
        notes.add(where, f"ignored unknown element(s) {', '.join(dict.fromkeys(unknown))}")


def _servers(provider: Element, where: str, notes: Notes) -> list[DraftServer]:
    servers: list[DraftServer] = []
    for element in provider:
        if _name(element) not in {"incomingserver", "outgoingserver"}:
            continue
        try:
            servers.append(_server(element, where, notes))
        except SkipServer as exc:
            label = _attr(element, "type") or _name(element)
            host = _text(element, "hostname") or _text(element, "url")
            notes.add(where, f"{label} server {host} left out: {exc}".replace("  ", " "))
    kinds = [s.protocol for s in servers if s.protocol is not Protocol.SMTP]
    if Protocol.POP3 in kinds and Protocol.IMAP in kinds and kinds[0] is Protocol.POP3:
        notes.add(where, "POP3 is listed before IMAP; the service offers IMAP first")
    return servers


def read_document(raw: bytes, source: str, notes: Notes) -> DraftProvider:
    """One clientConfig document as a draft provider; notes say what was not carried over."""
    root = parse_document(raw, source)
    providers = _children(root, "emailprovider")
    if not providers:
        raise ImportFailed(f"{source} has no <emailProvider> element")
    if len(providers) > 1:
        notes.add(source, "only the first <emailProvider> was read, as Thunderbird does")
    provider = providers[0]
    domains = _domains(provider, source, notes)
    if not domains:
        raise ImportFailed(f"{source} names no usable <domain>")
    ident = provider_id(_attr(provider, "id"), domains, source, notes)
    short = _text(provider, "displayshortname") or _text(provider, "displaynameshort")
    name, short = display_names(_text(provider, "displayname"), short, ident, source, notes)
    draft = DraftProvider(source, ident, name, short, domains)
    draft.servers = _servers(provider, source, notes)
    _pop3_policy(provider, draft, notes)
    draft.activesync_url = _activesync(provider)
    for element in _children(provider, "documentation") + _children(provider, "instruction"):
        draft.documentation_url = web_url(_attr(element, "url"))
        if draft.documentation_url:
            break
    _ignored(root, provider, source, notes)
    return draft


def read_file(path: Path) -> bytes:
    """The bytes of one file, or ImportFailed saying why not."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise ImportFailed(f"{path} cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE:
        raise ImportFailed(f"{path} is larger than {MAX_FILE // 1024} KiB; not a clientConfig")
    return raw


def import_documents(documents: Iterable[tuple[str, bytes]]) -> Imported:
    """Import clientConfig documents given as (name, bytes); the first to name a domain wins."""
    notes = Notes()
    drafts = [read_document(raw, source, notes) for source, raw in documents]
    if not drafts:
        raise ImportFailed("no clientConfig file was given")
    label = drafts[0].where if len(drafts) == 1 else f"{len(drafts)} clientConfig files"
    return build(drafts, notes, label)


def import_files(paths: Iterable[Path]) -> Imported:
    """Import clientConfig files; ImportFailed names the first file that cannot be read."""
    return import_documents((str(path), read_file(path)) for path in paths)

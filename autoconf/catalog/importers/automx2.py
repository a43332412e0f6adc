"""automx2's database (SQLite or PostgreSQL) or its /initdb JSON seed -> catalog providers.

automx2 keeps providers, domains and servers in separate tables and links servers to
domains one by one (``server_domain``), so two domains of one automx2 provider may use
different servers. The catalog links servers to providers, so each set of domains that
share the same servers becomes a provider of its own. Servers are taken in automx2's order
(``prio``, then id). What automx2 does that the catalog cannot -- LDAP look-ups of the login
name, CalDAV/CardDAV servers -- is named in a note, never silently dropped.

The seed file is read the way automx2's ``/initdb`` reads it: the provider's short name is
the first word of its name, ports default to 993 (IMAP), 995 (POP) and 465 (SMTP), SSL on
465/993/995 and STARTTLS elsewhere, the login is the address, authentication ``plain``.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from autoconf.catalog.importers.common import (
    DraftProvider,
    DraftServer,
    Imported,
    ImportFailed,
    Notes,
    SkipServer,
    auth_methods,
    build,
    display_names,
    domain,
    hostname,
    port,
    protocol,
    socket_type,
    username,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_SEED = 16 << 20
TABLES = ("provider", "domain", "server", "server_domain")
OPTIONAL_TABLES = ("davserver", "davserver_domain", "ldapserver")
SEED_SERVER_KEYS = frozenset({"type", "name", "port", "prio", "url"})
_SEED_PORTS = {"imap": 993, "pop": 995, "smtp": 465}
_IMPLICIT = frozenset({465, 993, 995})
_DAV_NAMES = {"caldav": "CalDAV", "carddav": "CardDAV"}

Row = dict[str, Any]


@dataclass
class Tables:
    """automx2's rows, table by table, as plain dictionaries."""

    source: str
    rows: dict[str, list[Row]] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (where, sentence)

    def __getitem__(self, table: str) -> list[Row]:
        return self.rows.get(table, [])


# -- reading the source ------------------------------------------------------------------------


def redact(url: str) -> str:
    """A database URL fit for messages: the password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def sqlite_path(url: str) -> Path:
    """The file of an SQLAlchemy SQLite URL: sqlite:///relative or sqlite:////absolute."""
    _, _, rest = url.partition(":///")
    path = rest.partition("?")[0]
    if not path:
        raise ImportFailed(f"{url} names no database file (sqlite:///path/to/db.sqlite)")
    return Path(path)


def read_sqlite(path: Path, source: str) -> Tables:
    """Every automx2 table of an SQLite file, read-only."""
    if not path.is_file():
        raise ImportFailed(f"{source}: {path} does not exist or is not a file")
    tables = Tables(source)
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            present = {
                row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            _check_tables(present, source)
            for table in (*TABLES, *OPTIONAL_TABLES):
                if table in present:
                    cursor = db.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed names
                    tables.rows[table] = [dict(row) for row in cursor]
    except sqlite3.Error as exc:
        raise ImportFailed(f"{source} cannot be read as an SQLite database: {exc}") from None
    return tables


async def read_postgres(url: str) -> Tables:
    """Every automx2 table of a PostgreSQL database (asyncpg)."""
    import asyncpg  # noqa: PLC0415 - only this source needs it

    source = redact(url)
    dsn = "postgresql://" + url.split("://", 1)[1]  # postgresql+psycopg2:// as SQLAlchemy has it
    try:
        conn = await asyncpg.connect(dsn, timeout=10)
    except (
        OSError,
        TimeoutError,
        ValueError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ) as exc:
        raise ImportFailed(f"cannot connect to {source}: {exc}") from None
    tables = Tables(source)
    try:
        present = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = ANY(current_schemas(false))"
            )
        }
        _check_tables(present, source)
        for table in (*TABLES, *OPTIONAL_TABLES):
            if table in present:
                records = await conn.fetch(f'SELECT * FROM "{table}"')  # noqa: S608 - fixed names
                tables.rows[table] = [dict(record) for record in records]
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ImportFailed(f"{source} cannot be read: {exc}") from None
    finally:
        await conn.close()
    return tables


def _check_tables(present: set[str], source: str) -> None:
    missing = [table for table in TABLES if table not in present]
    if missing:
        raise ImportFailed(
            f"{source} is not an automx2 database: table(s) {', '.join(missing)} missing"
        )


def read_seed(raw: bytes, source: str) -> Tables:
    """A seed file (what automx2's POST /initdb takes) turned into automx2's rows."""
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"{source} is not a JSON seed file: {exc}") from None
    seeds = data if isinstance(data, list) else [data]
    tables = Tables(source, {name: [] for name in (*TABLES, "davserver", "davserver_domain")})
    for index, seed in enumerate(seeds):
        where = source if len(seeds) == 1 else f"{source}[{index}]"
        _seed(seed, where, index + 1, tables)
    return tables


def _seed(seed: object, where: str, provider_id: int, tables: Tables) -> None:
    if not isinstance(seed, dict) or not isinstance(seed.get("provider"), str):
        raise ImportFailed(f'{where} is not an automx2 seed: it needs "provider" (a name)')
    domains, servers = seed.get("domains"), seed.get("servers")
    if not isinstance(domains, list) or not isinstance(servers, list):
        raise ImportFailed(
            f'{where} is not an automx2 seed: it needs "domains" and "servers" lists'
        )
    name = seed["provider"]
    tables.rows["provider"].append(
        {"id": provider_id, "name": name, "short_name": name.split(" ")[0]}
    )
    domain_ids = []
    for text in domains:
        domain_id = len(tables["domain"]) + 1
        tables.rows["domain"].append(
            {"id": domain_id, "name": str(text), "provider_id": provider_id}
        )
        domain_ids.append(domain_id)
    for server in servers:
        if not isinstance(server, dict):
            raise ImportFailed(f"{where}: each entry of servers must be an object")
        extra = sorted(set(server) - SEED_SERVER_KEYS)
        if extra:
            names = ", ".join(extra)
            tables.notes.append(
                (where, f"server keys {names} are ignored, as automx2 ignores them")
            )
        _seed_server(server, domain_ids, tables)


def _seed_server(server: dict[str, Any], domain_ids: list[int], tables: Tables) -> None:
    kind = str(server.get("type", ""))
    if kind in {"caldav", "carddav"}:
        dav_id = len(tables["davserver"]) + 1
        tables.rows["davserver"].append({"id": dav_id, "type": kind, "url": server.get("url")})
        tables.rows["davserver_domain"] += [
            {"davserver_id": dav_id, "domain_id": d} for d in domain_ids
        ]
        return
    server_id = len(tables["server"]) + 1
    number = server.get("port", _SEED_PORTS.get(kind))
    tables.rows["server"].append(
        {
            "id": server_id,
            "prio": server.get("prio", 10),
            "name": server.get("name", ""),
            "port": number,
            "type": kind,
            "socket_type": "SSL" if number in _IMPLICIT else "STARTTLS",
            "user_name": "%EMAILADDRESS%",
            "authentication": "plain",
        }
    )
    tables.rows["server_domain"] += [{"server_id": server_id, "domain_id": d} for d in domain_ids]


def _read_head(path: Path, source: str) -> bytes:
    """The file's bytes, one more than a seed may have."""
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_SEED + 1)
    except OSError as exc:
        raise ImportFailed(f"{source} cannot be read: {exc.strerror or exc}") from None


async def read_source(source: str) -> Tables:
    """Tables from an SQLite or PostgreSQL URL, an SQLite file, or a JSON seed file."""
    scheme = source.partition(":")[0].lower() if "://" in source else ""
    if scheme.startswith("sqlite"):
        return read_sqlite(sqlite_path(source), source)
    if scheme.startswith("postgres"):
        return await read_postgres(source)
    if scheme:
        raise ImportFailed(
            f"{redact(source)}: only sqlite:/// and postgresql:// databases can be read; "
            "export other databases to SQLite, or give automx2's JSON seed file"
        )
    path = Path(source)
    raw = _read_head(path, source)
    if raw.startswith(SQLITE_MAGIC):
        return read_sqlite(path, source)
    if len(raw) > MAX_SEED:
        raise ImportFailed(f"{source} is larger than {MAX_SEED >> 20} MiB; not a seed file")
    return read_seed(raw, source)


# -- rows -> drafts ------------------------------------------------------------------------


def _server(row: Row, notes: Notes, where: str) -> DraftServer:
    kind = str(row.get("type") or "")
    proto = protocol(kind)
    if proto is None:
        raise SkipServer(f"type {kind!r} is not imap, pop or smtp")
    host = hostname(str(row.get("name") or ""))
    where = f"{where}: {proto.value} server {host}"
    raw_port = row.get("port")
    number = raw_port if isinstance(raw_port, int) and not isinstance(raw_port, bool) else None
    sockets = [str(row["socket_type"])] if row.get("socket_type") else []
    socket = socket_type(sockets, number, where, notes)
    number = port(raw_port, proto, socket, where, notes)
    methods = [str(row["authentication"])] if row.get("authentication") else []
    auth = auth_methods(methods, proto, where, notes)
    login = username(str(row.get("user_name") or ""), where, notes)
    return DraftServer(proto, host, number, socket, auth, login)


def _by_prio(row: Row) -> tuple[int, int]:
    """automx2's order: prio (default 10), then the row id for ties."""
    prio, ident = row.get("prio"), row.get("id")
    return (prio if isinstance(prio, int) else 10, ident if isinstance(ident, int) else 0)


@dataclass
class _Converter:
    tables: Tables
    notes: Notes
    servers: dict[Any, DraftServer | None] = field(default_factory=dict)

    def server(self, row: Row) -> DraftServer | None:
        """The draft of one server row, converted (and noted about) only once."""
        key = row.get("id")
        if key not in self.servers:
            where = f"{self.tables.source}: server {key}"
            try:
                self.servers[key] = _server(row, self.notes, self.tables.source)
            except SkipServer as exc:
                self.notes.add(where, f"left out: {exc}")
                self.servers[key] = None
        return self.servers[key]

    def drafts(self) -> list[DraftProvider]:
        tables, notes, source = self.tables, self.notes, self.tables.source
        by_id = {row.get("id"): row for row in tables["server"]}
        links: dict[Any, list[Row]] = {}
        for link in tables["server_domain"]:
            row = by_id.get(link.get("server_id"))
            if row is not None:
                links.setdefault(link.get("domain_id"), []).append(row)
        domains: dict[Any, list[Row]] = {}
        for row in sorted(tables["domain"], key=lambda r: r.get("id") or 0):
            domains.setdefault(row.get("provider_id"), []).append(row)
        drafts: list[DraftProvider] = []
        providers = {row.get("id"): row for row in tables["provider"]}
        for provider_key, rows in domains.items():
            provider = providers.get(provider_key)
            if provider is None:
                names = ", ".join(str(r.get("name")) for r in rows)
                notes.add(source, f"domain(s) {names} belong to no provider; left out")
                continue
            drafts += self._provider(provider, rows, links)
        self._note_unsupported(domains)
        return drafts

    def _provider(
        self, provider: Row, rows: list[Row], links: dict[Any, list[Row]]
    ) -> list[DraftProvider]:
        source, notes = self.tables.source, self.notes
        label = str(provider.get("name") or provider.get("id"))
        where = f"{source}: provider {label!r}"
        groups: dict[tuple[DraftServer, ...], list[str]] = {}
        for row in rows:
            name = domain(str(row.get("name") or ""))
            if name is None:
                notes.add(where, f"domain {row.get('name')!r} is not a domain name; left out")
                continue
            ordered = sorted(links.get(row.get("id"), []), key=_by_prio)
            servers = tuple(s for s in (self.server(r) for r in ordered) if s is not None)
            if not servers:
                notes.add(where, f"{name} has no mail server that can be carried over; left out")
                continue
            groups.setdefault(servers, []).append(name)
        out = []
        for servers, names in groups.items():
            full, short = display_names(
                str(provider.get("name") or ""),
                str(provider.get("short_name") or ""),
                names[0],
                where,
                notes,
            )
            out.append(DraftProvider(where, names[0], full, short, names, list(servers)))
        if len(out) > 1:
            notes.add(
                where,
                f"its domains use {len(out)} different sets of servers, so it becomes "
                f"{len(out)} catalog providers",
            )
        return out

    def _note_unsupported(self, domains: dict[Any, list[Row]]) -> None:
        source, tables = self.tables.source, self.tables
        names = {row.get("id"): str(row.get("name")) for rows in domains.values() for row in rows}
        ldap = [row for rows in domains.values() for row in rows if row.get("ldapserver_id")]
        if ldap:
            listed = ", ".join(str(row.get("name")) for row in ldap)
            self.notes.add(
                source,
                f"automx2 looks up the login name of users of {listed} in LDAP; the catalog "
                "cannot, so the server's username template is used instead",
            )
        dav_domains: dict[Any, list[str]] = {}
        for link in tables["davserver_domain"]:
            dav_domains.setdefault(link.get("davserver_id"), []).append(
                names.get(link.get("domain_id"), "?")
            )
        for row in tables["davserver"]:
            kind = _DAV_NAMES.get(str(row.get("type")), "DAV")
            served = ", ".join(dav_domains.get(row.get("id"), [])) or "no domain"
            self.notes.add(
                source,
                f"{kind} server {row.get('url')} (for {served}) cannot be carried over: the "
                "catalog has no calendar or address book settings",
            )


async def import_automx2(source: str) -> Imported:
    """Import automx2's database or seed file; ImportFailed with a sentence if unreadable."""
    tables = await read_source(source)
    notes = Notes()
    for where, sentence in tables.notes:
        notes.add(where, sentence)
    drafts = _Converter(tables, notes).drafts()
    return build(drafts, notes, tables.source)

"""`autoconf import`: clientConfig files and automx2 become catalogs that serve the same servers."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import tomllib
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import pytest

from autoconf.catalog.importers import toml_writer
from autoconf.catalog.importers.automx2 import import_automx2, redact
from autoconf.catalog.importers.common import ImportFailed
from autoconf.catalog.importers.ispdb import import_documents, import_files
from autoconf.catalog.load import load_catalog
from autoconf.cli import main
from autoconf.formats.autodiscover import NS_OUTLOOK_RESPONSE
from tests.conftest import pox

if TYPE_CHECKING:
    from autoconf.catalog.importers.common import Imported

pytest_plugins = ["tests.servers.postgres"]

DATA = Path(__file__).parent / "data" / "import"
NS = {"o": NS_OUTLOOK_RESPONSE}
PWD = ("password-cleartext",)
# (type, host, port, socketType, username, authentication...) as a clientConfig answer lists them
Srv = tuple[str, str, int, str, str, tuple[str, ...]]


def imap(host: str, port: int, socket: str, user: str = "%EMAILADDRESS%", auth=PWD) -> Srv:
    """An IMAP server as a clientConfig answer lists it."""
    return ("imap", host, port, socket, user, auth)


def pop3(host: str, port: int, socket: str, user: str = "%EMAILADDRESS%", auth=PWD) -> Srv:
    """A POP3 server as a clientConfig answer lists it."""
    return ("pop3", host, port, socket, user, auth)


def smtp(host: str, port: int, socket: str, user: str = "%EMAILADDRESS%", auth=PWD) -> Srv:
    """An SMTP server as a clientConfig answer lists it."""
    return ("smtp", host, port, socket, user, auth)


def clientconfig_servers(body: bytes) -> list[Srv]:
    """Every server of a clientConfig document, in document order."""
    root = ET.fromstring(body.removeprefix(b"\xef\xbb\xbf"))
    return [
        (
            s.get("type", ""),
            s.findtext("hostname", ""),
            int(s.findtext("port", "0")),
            s.findtext("socketType", ""),
            s.findtext("username", ""),
            tuple(a.text or "" for a in s.iter("authentication")),
        )
        for s in root.iter()
        if s.tag in ("incomingServer", "outgoingServer")
    ]


def pox_servers(body: bytes) -> set[tuple[str, str, int, str, str]]:
    """(Type, Server, Port, LoginName, Encryption) of every Protocol of a POX answer."""
    root = ET.fromstring(body)
    return {
        (
            p.findtext("o:Type", "", NS).lower(),
            p.findtext("o:Server", "", NS),
            int(p.findtext("o:Port", "0", NS)),
            p.findtext("o:LoginName", "", NS),
            p.findtext("o:Encryption", "", NS),
        )
        for p in root.iterfind("o:Response/o:Account/o:Protocol", NS)
    }


def expected_pox(
    servers: list[Srv], local: str, domain: str
) -> set[tuple[str, str, int, str, str]]:
    """What Outlook must be told for local@domain, from the source's servers."""
    encryption = {"SSL": "SSL", "STARTTLS": "TLS", "plain": "None"}
    return {
        (
            kind,
            host,
            port,
            user.replace("%EMAILADDRESS%", f"{local}@{domain}")
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain),
            encryption[socket],
        )
        for kind, host, port, socket, user, _ in servers
    }


def rendered_order(servers: list[Srv]) -> list[Srv]:
    """The order the service answers in: IMAP, then POP3, then SMTP, each in source order."""
    return [s for kind in ("imap", "pop3", "smtp") for s in servers if s[0] == kind]


async def serve(service, tmp_path: Path, imported: Imported):
    """Write the imported catalog as TOML and start the real service on it."""
    path = tmp_path / "imported.toml"
    path.write_text(toml_writer.dumps(imported.data, "imported by a test"), encoding="utf-8")
    return await service(path)


async def autoconfig(client, domain: str) -> bytes:
    """The service's clientConfig answer for a domain (ISPDB-style URL)."""
    resp = await client.get(f"/v1.1/{domain}")
    assert resp.status == 200, await resp.text()
    return await resp.read()


async def autodiscover(client, address: str) -> bytes:
    """The service's Outlook POX answer for an address."""
    resp = await client.post("/autodiscover/autodiscover.xml", data=pox(address))
    assert resp.status == 200
    return await resp.read()


# -- ISPDB files with real-world mistakes ------------------------------------------------------

MISTAKES: dict[str, tuple[dict[str, list[Srv]], list[str]]] = {
    "bom-and-blank-lines.xml": (
        {
            "bom.example": [
                imap("imap.bom.example", 993, "SSL"),
                smtp("smtp.bom.example", 465, "SSL"),
            ]
        },
        [],
    ),
    "odd-case.xml": (
        {
            "case.example": [
                imap("imap.case.example", 993, "SSL"),
                pop3("pop.case.example", 995, "SSL", "%EMAILLOCALPART%", ("password-encrypted",)),
                smtp("smtp.case.example", 587, "STARTTLS", auth=("OAuth2", "password-cleartext")),
            ]
        },
        [],
    ),
    "whitespace.xml": (
        {
            "space.example": [
                imap("imap.space.example", 143, "STARTTLS"),
                smtp("smtp.space.example", 587, "STARTTLS"),
            ]
        },
        [],
    ),
    "missing-optional.xml": (
        {
            "bare.example": [
                imap("imap.bare.example", 993, "SSL"),
                smtp("smtp.bare.example", 587, "STARTTLS"),
            ]
        },
        [
            "no socket type is given; SSL is assumed by port",
            "no username is given; %EMAILADDRESS% is assumed",
            "no authentication is given; password-cleartext is assumed",
            "no port is given; 587 is assumed",
        ],
    ),
    "placeholders.xml": (
        {
            "place.example": [
                imap("imap.place.example", 993, "SSL"),
                pop3("pop.place.example", 995, "SSL", "%EMAILLOCALPART%.%EMAILDOMAIN%"),
                smtp("smtp.place.example", 465, "SSL", "%EMAILLOCALPART%"),
            ],
            "other-place.example": [
                imap("imap.place.example", 993, "SSL"),
                pop3("pop.place.example", 995, "SSL", "%EMAILLOCALPART%.%EMAILDOMAIN%"),
                smtp("smtp.other-place.example", 465, "SSL", "%EMAILLOCALPART%"),
            ],
        },
        ["username '%EMAILADDRESS' lacks the closing %; read as %EMAILADDRESS%"],
    ),
    "socket-variants.xml": (
        {
            "sock.example": [
                imap("imap.sock.example", 993, "SSL"),
                imap("imap.sock.example", 143, "STARTTLS"),
                pop3("pop.sock.example", 995, "SSL"),
                smtp("smtp.sock.example", 587, "STARTTLS"),
            ]
        },
        [
            'imap server imap.sock.example: socket type "TLS" is ambiguous; SSL is assumed',
            'smtp server smtp.sock.example: socket type "TLS" is ambiguous; STARTTLS is assumed',
        ],
    ),
    "duplicates.xml": (
        {
            "dup.example": [
                imap("imap.dup.example", 993, "SSL"),
                smtp("smtp.dup.example", 465, "SSL"),
            ]
        },
        [
            "imap server imap.dup.example:993 (SSL) is listed twice; the first is kept",
            "smtp server smtp.dup.example:465 (SSL) is listed twice; the first is kept",
        ],
    ),
    "deprecated-and-extras.xml": (
        {
            "old.example": [
                pop3(
                    "pop.old.example",
                    110,
                    "STARTTLS",
                    "%EMAILLOCALPART%",
                    ("password-encrypted", "password-cleartext"),
                ),
                smtp("smtp.old.example", 25, "plain", auth=("none",)),
            ]
        },
        [
            (
                "exchange server https://outlook.old.example/EWS/Exchange.asmx left out: type "
                "'exchange' is not IMAP, POP3 or SMTP"
            ),
            "its password was not carried over: the catalog holds no passwords",
            "smtp-after-pop is written as 'none' (no SMTP authentication)",
            "<restriction> cannot be carried over",
            "the webmail login page cannot be carried over",
            "the OAuth2 settings (issuer, scope, URLs) cannot be carried over",
            "the instructions to enable IMAP/POP access first cannot be carried over",
            "the custom input fields cannot be carried over",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(MISTAKES))
async def test_ispdb_mistake_serves_the_same_servers(name, service, tmp_path):
    """Each real-world mistake imports; the service then answers with the file's servers."""
    expected, notes = MISTAKES[name]
    imported = import_files([DATA / name])
    for note in notes:
        assert any(note in line for line in imported.notes), (note, imported.notes)
    if not notes:
        assert imported.notes == []
    assert all(line.startswith(str(DATA / name)) for line in imported.notes)
    client = await serve(service, tmp_path, imported)
    for domain, servers in expected.items():
        assert clientconfig_servers(await autoconfig(client, domain)) == servers
        assert pox_servers(await autodiscover(client, f"anna@{domain}")) == expected_pox(
            servers, "anna", domain
        )


async def test_ispdb_pop3_policy_and_documentation_carried_over(service, tmp_path):
    """leaveMessagesOnServer, the days and the help page survive; the password does not."""
    imported = import_files([DATA / "deprecated-and-extras.xml"])
    text = toml_writer.dumps(imported.data)
    assert "hunter2" not in text
    provider = imported.catalog.model.providers[0]
    assert (provider.name, provider.short_name) == ("Old Style Mail", "Old")
    assert provider.documentation_url == "https://old.example/help/pop"
    client = await serve(service, tmp_path, imported)
    root = ET.fromstring(await autoconfig(client, "old.example"))
    assert root.findtext(".//pop3/leaveMessagesOnServer") == "true"
    assert root.findtext(".//pop3/daysToLeaveMessagesOnServer") == "14"
    assert root.find(".//documentation").get("url") == "https://old.example/help/pop"


def test_ispdb_deleting_pop3_is_kept_and_said():
    """A file that tells POP3 clients to delete says so in a note, and the catalog keeps it."""
    body = (
        (DATA / "deprecated-and-extras.xml")
        .read_bytes()
        .replace(b"<leaveMessagesOnServer>true", b"<leaveMessagesOnServer>False")
    )
    imported = import_documents([("deleting.xml", body)])
    assert imported.catalog.model.providers[0].pop3.leave_on_server is False
    assert any("delete mail from the server" in line for line in imported.notes)


def test_ispdb_many_files_make_one_catalog():
    """All mistake files together: one catalog, every domain once, in file order."""
    imported = import_files([DATA / name for name in MISTAKES])
    domains = [d for p in imported.catalog.model.providers for d in p.domains]
    assert domains == [d for expected, _ in MISTAKES.values() for d in expected]


def test_ispdb_domain_in_two_files_first_wins():
    """A domain named by two files stays with the first; the second is named in a note."""
    imported = import_files([DATA / "bom-and-blank-lines.xml", DATA / "odd-case.xml"])
    body = (DATA / "odd-case.xml").read_bytes().replace(b"CASE.example", b"bom.example")
    imported = import_documents(
        [("first.xml", (DATA / "bom-and-blank-lines.xml").read_bytes()), ("second.xml", body)]
    )
    assert [p.id for p in imported.catalog.model.providers] == ["bom.example"]
    assert "second.xml: bom.example is already served by first.xml; left out" in imported.notes
    assert any("second.xml: left out: it has no domain" in line for line in imported.notes)


@pytest.mark.parametrize(
    ("name", "sentence"),
    [
        ("billion-laughs.xml", "was refused: it declares a DTD"),
        ("external-entity.xml", "was refused: it declares a DTD"),
        ("external-dtd.xml", "was refused: it declares a DTD"),
        ("not-well-formed.xml", "is not well-formed XML (line 2, column"),
        ("no-smtp.xml", "left out: it has no SMTP server that can be carried over"),
        ("automx2-seed.json", "is not well-formed XML (line 1, column 1)"),
    ],
)
def test_ispdb_unusable_input_is_a_sentence(name, sentence):
    """Hostile, broken or incomplete files fail with one sentence naming the file."""
    with pytest.raises(ImportFailed) as info:
        import_files([DATA / name])
    message = str(info.value)
    assert message.startswith(str(DATA / name))
    assert sentence in message
    assert "root:" not in message  # nothing from /etc/passwd leaked into the message


@pytest.mark.parametrize(
    ("body", "sentence"),
    [
        (b"", "x.xml is empty"),
        (b"<html><body/></html>", "its root element is <html>, not <clientConfig>"),
        (b"<clientConfig/>", "x.xml has no <emailProvider> element"),
        (
            (
                b"<clientConfig><emailProvider id='a.example'><domain>no domain</domain>"
                b"</emailProvider></clientConfig>"
            ),
            "x.xml names no usable <domain>",
        ),
    ],
)
def test_ispdb_not_a_clientconfig(body, sentence):
    """Files that are XML but no clientConfig say what is missing."""
    with pytest.raises(ImportFailed, match=sentence):
        import_documents([("x.xml", body)])


def test_ispdb_unreadable_file():
    """A file that cannot be opened is named with the reason."""
    with pytest.raises(ImportFailed, match=r"missing\.xml cannot be read: No such file"):
        import_files([DATA / "missing.xml"])


# -- round trip: ISPDB -> catalog -> our autoconfig XML -> import again -----------------------


async def test_round_trip_through_our_own_autoconfig(service, tmp_path):
    """clean.xml -> catalog -> the service's answers -> import again gives the same catalog."""
    source = (DATA / "clean.xml").read_bytes()
    first = import_files([DATA / "clean.xml"])
    assert first.notes == []
    client = await serve(service, tmp_path, first)
    answers = [
        (domain, await autoconfig(client, domain))
        for domain in ("clean.example", "clean-two.example")
    ]
    for _, body in answers:
        assert clientconfig_servers(body) == clientconfig_servers(source)
    second = import_documents(answers)
    assert second.data == first.data
    assert toml_writer.dumps(second.data) == toml_writer.dumps(first.data)
    assert pox_servers(await autodiscover(client, "bo.b@clean-two.example")) == expected_pox(
        clientconfig_servers(source), "bo.b", "clean-two.example"
    )
    provider = second.catalog.model.providers[0]
    assert provider.name == 'Clean Mail & Co "Zürich"'
    assert provider.documentation_url == "https://clean.example/help?topic=mail&lang=en"


# -- automx2 --------------------------------------------------------------------------------

# The tables as automx2 (SQLAlchemy create_all) makes them on SQLite, and on PostgreSQL.
SQLITE_SCHEMA = """
CREATE TABLE provider (id INTEGER NOT NULL, name VARCHAR NOT NULL, short_name VARCHAR NOT NULL,
    PRIMARY KEY (id));
CREATE TABLE server (id INTEGER NOT NULL, prio INTEGER DEFAULT '10' NOT NULL,
    name VARCHAR NOT NULL, port INTEGER NOT NULL, type VARCHAR NOT NULL,
    socket_type VARCHAR NOT NULL, user_name VARCHAR NOT NULL, authentication VARCHAR NOT NULL,
    PRIMARY KEY (id));
CREATE TABLE davserver (id INTEGER NOT NULL, url VARCHAR NOT NULL, port INTEGER NOT NULL,
    type VARCHAR NOT NULL, use_ssl BOOLEAN NOT NULL, domain_required BOOLEAN NOT NULL,
    user_name VARCHAR, PRIMARY KEY (id), CHECK (use_ssl IN (0, 1)),
    CHECK (domain_required IN (0, 1)));
CREATE TABLE ldapserver (id INTEGER NOT NULL, name VARCHAR NOT NULL, port INTEGER NOT NULL,
    use_ssl BOOLEAN NOT NULL, search_base VARCHAR NOT NULL, search_filter VARCHAR NOT NULL,
    attr_uid VARCHAR NOT NULL, attr_cn VARCHAR, bind_password VARCHAR, bind_user VARCHAR,
    PRIMARY KEY (id), CHECK (use_ssl IN (0, 1)));
CREATE TABLE domain (id INTEGER NOT NULL, name VARCHAR NOT NULL, provider_id INTEGER NOT NULL,
    ldapserver_id INTEGER, PRIMARY KEY (id), UNIQUE (name),
    FOREIGN KEY(provider_id) REFERENCES provider (id),
    FOREIGN KEY(ldapserver_id) REFERENCES ldapserver (id));
CREATE TABLE davserver_domain (davserver_id INTEGER NOT NULL, domain_id INTEGER NOT NULL,
    PRIMARY KEY (davserver_id, domain_id),
    FOREIGN KEY(davserver_id) REFERENCES davserver (id),
    FOREIGN KEY(domain_id) REFERENCES domain (id));
CREATE TABLE server_domain (server_id INTEGER NOT NULL, domain_id INTEGER NOT NULL,
    PRIMARY KEY (server_id, domain_id),
    FOREIGN KEY(server_id) REFERENCES server (id),
    FOREIGN KEY(domain_id) REFERENCES domain (id));
"""
POSTGRES_SCHEMA = """
CREATE TABLE provider (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL, short_name VARCHAR NOT NULL);
CREATE TABLE server (id SERIAL PRIMARY KEY, prio INTEGER DEFAULT '10' NOT NULL,
    name VARCHAR NOT NULL, port INTEGER NOT NULL, type VARCHAR NOT NULL,
    socket_type VARCHAR NOT NULL, user_name VARCHAR NOT NULL, authentication VARCHAR NOT NULL);
CREATE TABLE davserver (id SERIAL PRIMARY KEY, url VARCHAR NOT NULL, port INTEGER NOT NULL,
    type VARCHAR NOT NULL, use_ssl BOOLEAN NOT NULL, domain_required BOOLEAN NOT NULL,
    user_name VARCHAR);
CREATE TABLE ldapserver (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL, port INTEGER NOT NULL,
    use_ssl BOOLEAN NOT NULL, search_base VARCHAR NOT NULL, search_filter VARCHAR NOT NULL,
    attr_uid VARCHAR NOT NULL, attr_cn VARCHAR, bind_password VARCHAR, bind_user VARCHAR);
CREATE TABLE domain (id SERIAL PRIMARY KEY, name VARCHAR NOT NULL UNIQUE,
    provider_id INTEGER NOT NULL REFERENCES provider (id),
    ldapserver_id INTEGER REFERENCES ldapserver (id));
CREATE TABLE davserver_domain (davserver_id INTEGER NOT NULL REFERENCES davserver (id),
    domain_id INTEGER NOT NULL REFERENCES domain (id), PRIMARY KEY (davserver_id, domain_id));
CREATE TABLE server_domain (server_id INTEGER NOT NULL REFERENCES server (id),
    domain_id INTEGER NOT NULL REFERENCES domain (id), PRIMARY KEY (server_id, domain_id));
"""
AUTOMX2_ROWS = """
INSERT INTO provider VALUES (1, 'Big Corporation, Inc.', 'BigCorp'), (2, 'Ham & Eggs', 'H+E'),
    (3, 'Serverless Ltd', 'SL');
INSERT INTO ldapserver VALUES (1, 'ldap.big.example', 636, TRUE, 'dc=big,dc=example',
    '(mail={0})', 'uid', 'cn', 'bind-secret', 'cn=automx2');
INSERT INTO domain VALUES (10, 'big.example', 1, 1), (11, 'big.example.net', 1, NULL),
    (12, 'big.example.org', 1, NULL), (20, 'eggs.example', 2, NULL),
    (30, 'empty.example', 3, NULL);
INSERT INTO server VALUES
    (100, 10, 'smtp.big.example', 587, 'smtp', 'STARTTLS', '%EMAILADDRESS%', 'plain'),
    (101, 20, 'imap-b.big.example', 143, 'imap', 'starttls', '%EMAILADDRESS%', 'plain'),
    (102, 5, 'imap-a.big.example', 993, 'imap', 'SSL', '%EMAILLOCALPART%', 'password-cleartext'),
    (103, 10, 'pop.big.example', 995, 'pop', 'SSL', '%EMAILADDRESS%', 'plain'),
    (104, 10, 'smtp.eggs.example', 465, 'smtp', 'SSL', '%EMAILADDRESS%', 'plain'),
    (105, 10, 'imap.eggs.example', 993, 'imap', 'SSL', '%EMAILADDRESS%', 'plain'),
    (106, 10, 'x.eggs.example', 123, 'INVALID', 'STARTTLS', '%EMAILADDRESS%', 'plain');
INSERT INTO server_domain VALUES (100, 10), (101, 10), (102, 10), (100, 11), (101, 11),
    (102, 11), (100, 12), (103, 12), (104, 20), (105, 20), (106, 20);
INSERT INTO davserver VALUES (1, 'https://dav.big.example/', 443, 'caldav', TRUE, FALSE,
    '%EMAILADDRESS%');
INSERT INTO davserver_domain VALUES (1, 10);
"""
AUTOMX2_NOTES = [
    "server 106: left out: type 'INVALID' is not imap, pop or smtp",
    "empty.example has no mail server that can be carried over; left out",
    "its domains use 2 different sets of servers, so it becomes 2 catalog providers",
    "automx2 looks up the login name of users of big.example in LDAP",
    "CalDAV server https://dav.big.example/ (for big.example) cannot be carried over",
]
SOCKETS = {"ssl": "SSL", "starttls": "STARTTLS"}


@pytest.fixture
def automx2_sqlite(tmp_path: Path) -> Path:
    """An automx2 SQLite database with automx2's tables and a mix of providers."""
    path = tmp_path / "automx2.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SQLITE_SCHEMA + AUTOMX2_ROWS)
    return path


def automx2_expected(path: Path, domain: str) -> list[Srv]:
    """The servers automx2 serves for a domain, read from its tables, in the service's order."""
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT s.type, s.name, s.port, s.socket_type, s.user_name FROM server s "
            "JOIN server_domain sd ON sd.server_id = s.id JOIN domain d ON d.id = sd.domain_id "
            "WHERE d.name = ? AND s.type IN ('imap', 'pop', 'smtp') ORDER BY s.prio, s.id",
            (domain,),
        ).fetchall()
    servers = [
        ({"pop": "pop3"}.get(kind, kind), host, port, SOCKETS[socket.lower()], user, PWD)
        for kind, host, port, socket, user in rows
    ]
    return rendered_order(servers)


async def test_automx2_sqlite_serves_the_same_servers(service, tmp_path, automx2_sqlite):
    """automx2's tables -> catalog: every domain answers with the servers automx2 gives it."""
    imported = await import_automx2(f"sqlite:///{automx2_sqlite}")
    for note in AUTOMX2_NOTES:
        assert any(note in line for line in imported.notes), (note, imported.notes)
    assert not any("bind-secret" in line for line in imported.notes)
    model = imported.catalog.model
    assert [p.domains for p in model.providers] == [
        ("big.example", "big.example.net"),
        ("big.example.org",),
        ("eggs.example",),
    ]
    assert [(p.name, p.short_name) for p in model.providers][1:] == [
        ("Big Corporation, Inc.", "BigCorp"),
        ("Ham & Eggs", "H+E"),
    ]
    client = await serve(service, tmp_path, imported)
    for domain in ("big.example", "big.example.net", "big.example.org", "eggs.example"):
        expected = automx2_expected(automx2_sqlite, domain)
        assert clientconfig_servers(await autoconfig(client, domain)) == expected
        assert pox_servers(await autodiscover(client, f"cy@{domain}")) == expected_pox(
            expected, "cy", domain
        )
    assert (await client.get("/v1.1/empty.example")).status == 404


async def test_automx2_prio_orders_servers(automx2_sqlite):
    """Within a protocol, automx2's prio decides the order (imap-a prio 5 before imap-b 20)."""
    imported = await import_automx2(str(automx2_sqlite))  # a bare SQLite file works too
    servers = imported.catalog.model.providers[0].servers
    assert [s.host for s in servers] == [
        "imap-a.big.example",
        "smtp.big.example",
        "imap-b.big.example",
    ]


async def test_automx2_postgres_gives_the_same_catalog(postgres_dsn, automx2_sqlite):
    """The same automx2 tables on PostgreSQL import to the same catalog as on SQLite."""
    import asyncpg  # noqa: PLC0415

    conn = await asyncpg.connect(postgres_dsn)
    try:
        await conn.execute(POSTGRES_SCHEMA)
        await conn.execute(AUTOMX2_ROWS)
    finally:
        await conn.close()
    from_postgres = await import_automx2(
        postgres_dsn.replace("postgresql://", "postgresql+asyncpg://")
    )
    from_sqlite = await import_automx2(f"sqlite:///{automx2_sqlite}")
    assert from_postgres.data == from_sqlite.data
    assert len(from_postgres.notes) == len(from_sqlite.notes)


async def test_automx2_seed_file(service, tmp_path):
    """The /initdb seed: automx2's defaults for ports, socket types and short name."""
    imported = await import_automx2(str(DATA / "automx2-seed.json"))
    provider = imported.catalog.model.providers[0]
    assert (provider.id, provider.name, provider.short_name) == (
        "seed.example",
        "Seed Hosting AG",
        "Seed",
    )
    assert provider.domains == ("seed.example", "seed-two.example")
    assert sum("CalDAV server https://dav.seed.example/cal/" in n for n in imported.notes) == 1
    assert sum("CardDAV server https://dav.seed.example/card/" in n for n in imported.notes) == 1
    expected = [
        imap("imap.seed.example", 993, "SSL"),
        pop3("pop.seed.example", 995, "SSL"),
        smtp("smtp.seed.example", 587, "STARTTLS"),
    ]
    client = await serve(service, tmp_path, imported)
    for domain in provider.domains:
        assert clientconfig_servers(await autoconfig(client, domain)) == expected


async def test_automx2_control_characters_are_dropped(service, tmp_path):
    """Control characters in a seed's names never reach the catalog or the XML answers."""
    path = tmp_path / "seed.json"
    seed = {
        "provider": "Bell\u0007 Mail\u0000 Co",
        "domains": ["bell.example"],
        "servers": [
            {"type": "imap", "name": "imap.bell.example\u0000"},
            {"type": "smtp", "name": "smtp.bell.example"},
        ],
    }
    path.write_text(json.dumps(seed), encoding="utf-8")
    imported = await import_automx2(str(path))
    provider = imported.catalog.model.providers[0]
    assert (provider.name, provider.short_name) == ("Bell Mail Co", "Bell")
    client = await serve(service, tmp_path, imported)
    body = await autoconfig(client, "bell.example")
    assert ET.fromstring(body).findtext(".//displayName") == "Bell Mail Co"
    assert clientconfig_servers(body)[0][1] == "imap.bell.example"


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("{not json", "is not a JSON seed file"),
        ('{"domains": []}', 'it needs "provider"'),
        ('{"provider": "X", "domains": "a.example"}', 'it needs "domains" and "servers" lists'),
        (
            '{"provider": "X", "domains": ["a.example"], "servers": [{"type": "imap"}]}',
            "holds no provider that can be carried over",
        ),
    ],
)
async def test_automx2_bad_seed(tmp_path, content, sentence):
    """A broken seed file fails with a sentence."""
    path = tmp_path / "seed.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFailed, match=sentence):
        await import_automx2(str(path))


@pytest.mark.parametrize(
    ("source", "sentence"),
    [
        ("sqlite:////nonexistent/automx2.db", "does not exist or is not a file"),
        ("sqlite://", "names no database file"),
        ("mysql+pymysql://automx2:pw@db/automx2", "only sqlite:/// and postgresql://"),
        ("/nonexistent/seed.json", "cannot be read: No such file or directory"),
    ],
)
async def test_automx2_unreadable_source(source, sentence):
    """Sources that cannot be read say why, without the password."""
    with pytest.raises(ImportFailed, match=sentence) as info:
        await import_automx2(source)
    assert "pw@" not in str(info.value)


async def test_automx2_not_an_automx2_database(tmp_path):
    """An SQLite file without automx2's tables is named as such."""
    path = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE provider (id INTEGER)")
        db.commit()
    with pytest.raises(ImportFailed, match=r"not an automx2 database: table\(s\) domain, server"):
        await import_automx2(f"sqlite:///{path}")


def test_redact_hides_the_password():
    """Database URLs in messages never carry the password."""
    assert redact("postgresql://automx2:s3cret@db.example:5432/automx2") == (
        "postgresql://automx2:***@db.example:5432/automx2"
    )
    assert redact("sqlite:////var/lib/automx2/db.sqlite") == "sqlite:////var/lib/automx2/db.sqlite"


# -- the TOML writer ------------------------------------------------------------------------

NASTY = [
    "",
    'quote " and backslash \\ and \\"',
    "new\nline\r\n tab\t bell\x07 nul\x00 escape\x1b del\x7f",
    "unicode: Zürich, 日本語, emoji 📬, line sep \u2028",
    "'single' and '''triple''' and \"\"\"triple double\"\"\"",
    "# not a comment",
    "[not.a.table]",
    "\\u0041 stays literal",
]


@pytest.mark.parametrize("value", NASTY)
def test_toml_string_round_trips(value):
    """Every string comes back unchanged through tomllib, as a value and as a key."""
    data = {"value": value, value: 1, "list": [value, value], "table": {value: value}}
    assert tomllib.loads(toml_writer.dumps(data)) == data


def test_toml_random_strings_round_trip():
    """A few thousand random strings over every control character and beyond ASCII."""
    rng = random.Random(1729)  # fixed: a failure can be replayed
    alphabet = [chr(c) for c in range(0x80)] + list("äß€日📬\u2028\ufeff")
    for _ in range(2000):
        value = "".join(rng.choices(alphabet, k=rng.randint(0, 12)))
        data = {"k": value, value: [value], "t": [{"v": value}, {"v": value + "x"}]}
        assert tomllib.loads(toml_writer.dumps(data, comment=value)) == data


def test_toml_catalog_shape_is_readable():
    """Tables and arrays of tables come out as a person would write them."""
    data = {
        "providers": [
            {
                "id": "example.com",
                "domains": ["example.com"],
                "pop3": {"leave_on_server": True},
                "servers": [{"protocol": "imap", "port": 993}],
                "unused": None,
            }
        ],
        "aliases": {"alias.example": "example.com"},
    }
    assert toml_writer.dumps(data, "first line\nsecond\x00line") == (
        "# first line\n"
        "# second?line\n"
        "\n"
        "[[providers]]\n"
        'id = "example.com"\n'
        'domains = ["example.com"]\n'
        "\n"
        "[providers.pop3]\n"
        "leave_on_server = true\n"
        "\n"
        "[[providers.servers]]\n"
        'protocol = "imap"\n'
        "port = 993\n"
        "\n"
        "[aliases]\n"
        '"alias.example" = "example.com"\n'
    )
    assert tomllib.loads(toml_writer.dumps(data)) == {
        k: v for k, v in data.items() if k != "providers"
    } | {"providers": [{k: v for k, v in data["providers"][0].items() if k != "unused"}]}


def test_toml_refuses_what_it_cannot_write():
    """A value TOML cannot hold here is a TypeError, not a silent str()."""
    with pytest.raises(TypeError, match="float"):
        toml_writer.dumps({"x": 1.5})


# -- the command ------------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `autoconf ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "autoconf", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_cli_import_ispdb_writes_a_valid_catalog(tmp_path):
    """`autoconf import --ispdb … --out` writes a catalog that catalog-check accepts."""
    out = tmp_path / "catalog.toml"
    files = [str(DATA / "clean.xml"), str(DATA / "deprecated-and-extras.xml")]
    result = run("import", "--ispdb", *files, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "note: " in result.stderr
    assert "cannot be carried over" in result.stderr
    assert f"wrote {out}: 2 provider(s), 3 domain(s)" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Catalog written by `autoconf import` from:\n")
    assert "# - " in text  # the notes are kept in the file too
    assert load_catalog(out).domain_count == 3
    check = run("catalog-check", str(out))
    assert check.returncode == 0, check.stderr


def test_cli_import_automx2_seed_to_stdout(capsys):
    """Without --out the catalog goes to standard output, the notes to standard error."""
    assert main(["import", "--automx2", str(DATA / "automx2-seed.json")]) == 0
    out, err = capsys.readouterr()
    assert tomllib.loads(out)["providers"][0]["id"] == "seed.example"
    assert "note: " in err
    assert "imported 1 provider(s), 2 domain(s); 2 note(s)" in err


def test_cli_hostile_file_exits_1_and_writes_nothing(tmp_path):
    """Hostile XML: exit 1, one sentence, no catalog file."""
    out = tmp_path / "catalog.toml"
    result = run("import", "--ispdb", str(DATA / "billion-laughs.xml"), "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("which can be used to attack the reader")
    assert result.stderr.count("\n") == 1
    assert not out.exists()


def test_cli_unreadable_database_keeps_the_password_out(capsys):
    """An unreachable PostgreSQL: exit 1, a sentence, the password not shown."""
    assert main(["import", "--automx2", "postgresql://automx2:s3cret@127.0.0.1:1/automx2"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "cannot connect to postgresql://automx2:***@127.0.0.1:1/automx2" in err
    assert "s3cret" not in err


@pytest.mark.parametrize(
    "args",
    [["import"], ["import", "--ispdb", "a.xml", "--automx2", "b.json"], ["import", "--ispdb"]],
)
def test_cli_import_needs_one_source(args, capsys):
    """Neither, both, or an empty source list is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    assert "--ispdb" in capsys.readouterr().err

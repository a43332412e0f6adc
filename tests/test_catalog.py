"""The catalog: validation with readable errors, the domain index, the exported schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog, load_catalog
from autoconf.cli import catalog_schema
from autoconf.errors import BadAddress, CatalogError, NotHosted

SCHEMA_FILE = Path(__file__).parent.parent / "schemas" / "catalog.schema.json"


def test_demo_catalog():
    """The demo serves example.com and example.net with the promised servers."""
    catalog = demo_catalog()
    account = catalog.account_for_domain("example.net")
    assert account.provider.name == "Example Mail"
    got = [(s.protocol.value, s.port, s.socket.value) for s in account.provider.servers]
    assert got == [
        ("imap", 993, "SSL"),
        ("imap", 143, "STARTTLS"),
        ("pop3", 995, "SSL"),
        ("smtp", 465, "SSL"),
        ("smtp", 587, "STARTTLS"),
    ]
    assert account.username(account.provider.servers[0]) == "%EMAILADDRESS%"


@pytest.mark.parametrize(
    "written",
    [
        "example.org",
        "EXAMPLE.ORG",
        "example.org.",
        "Example.Org.",
        "shop.example",
        "bücher.example",
        "BÜCHER.example.",
        "xn--bcher-kva.example",
    ],
)
def test_lookup_forms(catalog_file, written):
    """Lookup ignores case and a trailing dot and matches IDN through punycode."""
    catalog = load_catalog(catalog_file())
    assert catalog.account_for_domain(written).provider.id == "mail.example.org"


def test_unhosted_domain(catalog_file):
    """An unknown domain raises NotHosted; garbage raises BadAddress."""
    catalog = load_catalog(catalog_file())
    with pytest.raises(NotHosted):
        catalog.account_for_domain("example.com")
    with pytest.raises(BadAddress):
        catalog.account_for_domain("not a domain")


def test_alias_domain(catalog_file):
    """An alias resolves to its hosted domain and fills usernames with the hosted domain."""
    catalog = load_catalog(catalog_file())
    account = catalog.account_for(Address.parse("bob@Alias.Example"))
    assert account.is_alias
    assert str(account.mailbox) == "bob@example.org"
    imap, pop3, _smtp = account.provider.servers
    assert account.username(imap) == "bob@example.org"
    assert account.username(pop3) == "bob"
    plain = catalog.account_for_domain("alias.example")
    assert plain.username_template(imap) == "%EMAILLOCALPART%@example.org"


BROKEN = """
[[providers]]
id = "bad_id"
name = "Broken"
domains = ["example.org", "not a domain"]

[[providers.servers]]
protocol = "imap"
host = "imap.example.org"
port = 99999
socket = "TLS"
username = "%EMAILADDRESS"

[[providers.servers]]
protocol = "pop3"
host = "pop.example.org"
port = 995
socket = "SSL"
"""


def test_errors_name_file_location_and_problem(catalog_file):
    """Every problem of a broken catalog is one `file: location: message` line."""
    path = catalog_file(BROKEN)
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    lines = info.value.lines
    assert all(line.startswith(f"{path}: providers[0].") for line in lines), lines
    text = "\n".join(lines)
    assert "providers[0].id: Value error, 'bad_id' is not a host name" in text
    assert "providers[0].domains[1]: Value error, 'not a domain' is not a domain name" in text
    assert "providers[0].servers[0].port: Input should be less than or equal to 65535" in text
    assert "providers[0].servers[0].socket: Input should be 'SSL', 'STARTTLS' or 'plain'" in text
    assert "providers[0].servers[0].username" in text


def test_provider_without_smtp_is_refused(catalog_file):
    """A provider needs an SMTP server: Thunderbird rejects a setup without one."""
    text = BROKEN.replace('"bad_id"', '"ok.example"').replace('"not a domain"', '"b.example"')
    text = (
        text.replace("99999", "993")
        .replace('"TLS"', '"SSL"')
        .replace('"%EMAILADDRESS"', '"%EMAILADDRESS%"')
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_file(text))
    assert "needs at least one SMTP server" in str(info.value)


def test_duplicate_domain_and_bad_alias(catalog_file):
    """A domain owned twice and an alias to nowhere are both reported."""
    path = catalog_file(extra="")
    text = path.read_text().replace(
        '"alias.example" = "example.org"',
        '"alias.example" = "nowhere.example"\n"example.org" = "example.org"',
    )
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_file(text))
    text = str(info.value)
    assert "aliases.alias.example: points to nowhere.example, which no provider hosts" in text
    assert "aliases.example.org: example.org is a hosted domain, not an alias" in text


def test_toml_syntax_error(catalog_file):
    """A TOML syntax error is one line naming the file and the position."""
    path = catalog_file("[[providers]\nid =")
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    (line,) = info.value.lines
    assert line.startswith(f"{path}: (syntax): ")
    assert "line 1" in line


def test_missing_file():
    """A missing file is a one-line error, not a traceback."""
    with pytest.raises(CatalogError) as info:
        load_catalog(Path("/nonexistent/catalog.toml"))
    assert info.value.lines == [
        "/nonexistent/catalog.toml: (file): cannot be read: No such file or directory"
    ]


def test_cli_check_exit_2(catalog_file):
    """`autoconf catalog-check` prints the error lines and exits 2."""
    path = catalog_file(BROKEN)
    proc = subprocess.run(
        [sys.executable, "-m", "autoconf", "catalog-check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"{path}: providers[0].servers[0].port" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_json_schema_in_sync():
    """schemas/catalog.schema.json is what the model exports (run `autoconf catalog-schema`)."""
    assert json.loads(SCHEMA_FILE.read_text()) == catalog_schema()


def test_json_schema_describes_demo():
    """The exported schema accepts the demo catalog's shape (keys it names exist)."""
    schema = catalog_schema()
    provider = schema["$defs"]["Provider"]["properties"]
    assert {"id", "name", "domains", "servers", "pop3"} <= set(provider)


def test_duplicate_provider_id_is_refused(catalog_file):
    """Two providers with one id would share cached documents: the second is refused."""
    text = catalog_file().read_text()
    providers, aliases = text.split("[aliases]")
    second = providers.replace('["example.org", "Bücher.example", "shop.example."]', '["b.test"]')
    with pytest.raises(CatalogError) as info:
        load_catalog(catalog_file(providers + second + "[aliases]" + aliases))
    assert "providers[1].id: mail.example.org is also the id of providers[0]" in str(info.value)

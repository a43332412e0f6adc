"""What the running service serves passes the client rules and our XSDs; profiles get signed."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
import xmlschema

from autoconf.formats import rules
from tests.conftest import ALICE, MOBILESYNC_SCHEMA, pox
from tests.pki import make_pki, openssl_verify

SCHEMAS = Path(__file__).parent.parent / "schemas"


@pytest.fixture(scope="module")
def clientconfig_xsd() -> xmlschema.XMLSchema10:
    """Our XSD for clientConfig 1.1."""
    return xmlschema.XMLSchema10(str(SCHEMAS / "clientconfig-1.1.xsd"))


@pytest.fixture(scope="module")
def pox_xsd() -> xmlschema.XMLSchema10:
    """Our XSD for Autodiscover responses (settings, errors, mobilesync)."""
    return xmlschema.XMLSchema10(str(SCHEMAS / "autodiscover-response.xsd"))


@pytest.mark.parametrize(
    "url",
    [
        f"/mail/config-v1.1.xml?emailaddress={ALICE}",
        "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=o'neil%26co@example.net",
        "/v1.1/example.net",
    ],
)
async def test_served_clientconfig_is_accepted(service, clientconfig_xsd, url):
    """Thunderbird's rules find no problem in the served clientConfig; it validates."""
    client = await service()
    resp = await client.get(url)
    body = await resp.read()
    assert rules.thunderbird_autoconfig(body, resp.headers["Content-Type"]) == []
    clientconfig_xsd.validate(body.decode())


@pytest.mark.parametrize(
    ("email", "schema"),
    [
        (ALICE, None),
        ("o'neil&amp;co@example.net", None),
        (ALICE, MOBILESYNC_SCHEMA),
        ("bob@alias.example", None),
    ],
)
async def test_served_pox_is_accepted(service, catalog_file, pox_xsd, email, schema):
    """Settings, redirects and error documents as served pass Thunderbird's POX rules."""
    client = await service(None if "example.net" in email or email == ALICE else catalog_file())
    body_in = pox(email) if schema is None else pox(email, schema)
    resp = await client.post("/autodiscover/autodiscover.xml", data=body_in)
    body = await resp.read()
    problems = rules.thunderbird_pox(body, resp.headers["Content-Type"])
    assert [p for p in problems if p.severity == "reject"] == []
    pox_xsd.validate(body.decode())


async def test_served_profile_is_accepted(service):
    """The served profile passes Apple's payload rules."""
    client = await service()
    resp = await client.get(f"/apple/mail.mobileconfig?emailaddress={ALICE}")
    assert rules.apple_profile(await resp.read()) == []


async def test_signed_profile_served(service, tmp_path):
    """With a certificate configured the profile is CMS-signed with the chain; openssl agrees."""
    pki = make_pki(tmp_path)
    client = await service(
        mobileconfig_cert=pki.cert_pem,
        mobileconfig_key=pki.key_pem,
        mobileconfig_chain=pki.chain_pem,
    )
    resp = await client.get(f"/apple/mail.mobileconfig?emailaddress={ALICE}")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/x-apple-aspen-config"
    signed = await resp.read()
    assert not signed.startswith(b"<?xml")
    result = openssl_verify(signed, pki.ca_pem, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    profile = plistlib.loads((tmp_path / "content.plist").read_bytes())
    assert profile["PayloadContent"][0]["EmailAddress"] == ALICE
    assert rules.apple_profile((tmp_path / "content.plist").read_bytes()) == []

"""Renderers: golden bytes for the demo catalog, validation against schemas/, signing, DNS."""

from __future__ import annotations

import difflib
import os
import plistlib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import xmlschema
from cryptography.hazmat.primitives.asymmetric import ec

from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog
from autoconf.formats import autodiscover, dnsrecords, mobileconfig, mozilla
from tests.pki import certificate, make_pki, openssl_verify

if TYPE_CHECKING:
    from collections.abc import Callable

    from autoconf.catalog.account import Account

ROOT = Path(__file__).parent.parent
SCHEMAS = ROOT / "schemas"
GOLDEN = Path(__file__).parent / "data" / "golden"
UPDATE = os.environ.get("AUTOCONF_UPDATE_GOLDEN") == "1"
ALICE = "alice@example.com"
EAS_URL = "https://eas.example.com/Microsoft-Server-ActiveSync"
PUBLIC_HOST = "autoconfig.example-provider.net"
ERROR_TIME = "12:34:56.000000"
NS_2006A = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def _alice() -> Account:
    return demo_catalog().account_for(Address.parse(ALICE))


def _example_com() -> Account:
    return demo_catalog().account_for_domain("example.com")


def _profile(address: str = ALICE) -> bytes:
    account = demo_catalog().account_for(Address.parse(address))
    profile_uuid, mail_uuid = mobileconfig.profile_ids(address)
    return mobileconfig.render(account, profile_uuid=profile_uuid, mail_uuid=mail_uuid)


# golden file -> how the renderer produces it from the demo catalog
DOCUMENTS: dict[str, Callable[[], bytes]] = {
    "clientconfig-example.com.xml": lambda: mozilla.render(_example_com()),
    "pox-settings-alice@example.com.xml": lambda: autodiscover.render_settings(_alice()),
    "pox-redirect.xml": lambda: autodiscover.render_redirect("alice@example.net"),
    "pox-error-600.xml": lambda: autodiscover.render_error(
        autodiscover.ErrorCode.INVALID_REQUEST, "Invalid Request", ERROR_TIME, 1
    ),
    "pox-mobilesync.xml": lambda: autodiscover.render_mobilesync(EAS_URL, ALICE),
    "alice@example.com.mobileconfig": _profile,
    "dns-example.com.zone": lambda: dnsrecords.render(
        "example.com", _example_com().provider, PUBLIC_HOST
    ).encode(),
}


def check_golden(name: str, body: bytes) -> None:
    """Compare ``body`` with tests/data/golden/<name>; rewrite it if AUTOCONF_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return
    assert path.exists(), f"{path} is missing; run with AUTOCONF_UPDATE_GOLDEN=1 to create it"
    expected = path.read_bytes()
    if body != expected:
        diff = difflib.unified_diff(
            expected.decode().splitlines(),
            body.decode().splitlines(),
            f"golden/{name}",
            "rendered",
            lineterm="",
        )
        pytest.fail("rendered bytes differ from the golden file:\n" + "\n".join(diff))


@pytest.fixture(scope="module")
def clientconfig_schema() -> xmlschema.XMLSchema10:
    """Our XSD for the clientConfig we emit."""
    return xmlschema.XMLSchema10(str(SCHEMAS / "clientconfig-1.1.xsd"))


@pytest.fixture(scope="module")
def pox_schema() -> xmlschema.XMLSchema10:
    """The Autodiscover response XSD, which imports the 2006a and mobilesync ones."""
    return xmlschema.XMLSchema10(str(SCHEMAS / "autodiscover-response.xsd"))


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_golden(name: str) -> None:
    """The renderer emits exactly the pinned bytes for the demo catalog."""
    check_golden(name, DOCUMENTS[name]())


def test_served_pox_template_matches_golden() -> None:
    """The compiled POX template the service serves gives the golden settings bytes."""
    template = autodiscover.SettingsTemplate.compile(_alice().provider)
    served = template.fill(Address.parse(ALICE))
    assert served == (GOLDEN / "pox-settings-alice@example.com.xml").read_bytes()


def test_golden_files_have_a_renderer() -> None:
    """Every file in tests/data/golden is produced by a renderer (no stale goldens)."""
    assert {p.name for p in GOLDEN.iterdir()} == set(DOCUMENTS)


# --- schemas ---------------------------------------------------------------------------------

ADDRESSES = ["alice@example.com", "bob@example.net", "o'neil&co@EXAMPLE.com"]


@pytest.mark.parametrize("address", ADDRESSES)
def test_clientconfig_validates(clientconfig_schema: xmlschema.XMLSchema10, address: str) -> None:
    """The clientConfig for every demo domain and address validates against our XSD."""
    account = demo_catalog().account_for(Address.parse(address))
    clientconfig_schema.validate(mozilla.render(account).decode())


@pytest.mark.parametrize("address", ADDRESSES)
def test_pox_settings_validate(pox_schema: xmlschema.XMLSchema10, address: str) -> None:
    """POX settings for every demo address validate against the response XSDs."""
    account = demo_catalog().account_for(Address.parse(address))
    pox_schema.validate(autodiscover.render_settings(account).decode())


@pytest.mark.parametrize("name", [n for n in sorted(DOCUMENTS) if n.startswith("pox-")])
def test_pox_golden_validates(pox_schema: xmlschema.XMLSchema10, name: str) -> None:
    """Every golden POX answer (settings, redirect, error, mobilesync) validates."""
    pox_schema.validate((GOLDEN / name).read_text())


def test_clientconfig_golden_validates(clientconfig_schema: xmlschema.XMLSchema10) -> None:
    """The golden clientConfig validates against clientconfig-1.1.xsd."""
    clientconfig_schema.validate((GOLDEN / "clientconfig-example.com.xml").read_text())


def test_pox_error_601_validates(pox_schema: xmlschema.XMLSchema10) -> None:
    """The 601 error (schema not available) validates too."""
    body = autodiscover.render_error(
        autodiscover.ErrorCode.SCHEMA_UNAVAILABLE, "Not available", "01:02:03.5", 4294967295
    )
    pox_schema.validate(body.decode())


CLIENTCONFIG_MISTAKES = {
    "socketType in lower case": ("<socketType>SSL</socketType>", "<socketType>ssl</socketType>"),
    "port out of range": ("<port>993</port>", "<port>99300</port>"),
    "port not a number": ("<port>993</port>", "<port>imaps</port>"),
    "deprecated auth name": (
        "<authentication>password-cleartext</authentication>",
        "<authentication>plain</authentication>",
    ),
    "incoming type smtp": ('<incomingServer type="imap">', '<incomingServer type="smtp">'),
    "outgoing type imap": ('<outgoingServer type="smtp">', '<outgoingServer type="imap">'),
    "pop3 boolean True": (
        "<leaveMessagesOnServer>true</leaveMessagesOnServer>",
        "<leaveMessagesOnServer>True</leaveMessagesOnServer>",
    ),
    "unclosed placeholder": (
        "<username>%EMAILADDRESS%</username>",
        "<username>%EMAILADDRESS</username>",
    ),
    "id with underscore": ('id="example.com"', 'id="example_com"'),
    "element order": (
        "<displayName>Example Mail</displayName>\n    <displayShortName>Example</displayShortName>",
        "<displayShortName>Example</displayShortName>\n    <displayName>Example Mail</displayName>",
    ),
}


@pytest.mark.parametrize("mistake", sorted(CLIENTCONFIG_MISTAKES))
def test_clientconfig_schema_rejects(
    clientconfig_schema: xmlschema.XMLSchema10, mistake: str
) -> None:
    """clientconfig-1.1.xsd refuses each obvious mistake in an otherwise golden document."""
    old, new = CLIENTCONFIG_MISTAKES[mistake]
    text = (GOLDEN / "clientconfig-example.com.xml").read_text()
    assert old in text
    assert not clientconfig_schema.is_valid(text.replace(old, new, 1))


POX_MISTAKES = {
    "Type in lower case": ("<Type>IMAP</Type>", "<Type>imap</Type>"),
    "unknown Type": ("<Type>IMAP</Type>", "<Type>POP</Type>"),
    "Port not a number": ("<Port>993</Port>", "<Port>imaps</Port>"),
    "Port missing": ("<Port>993</Port>", ""),
    "SSL On": ("<SSL>on</SSL>", "<SSL>On</SSL>"),
    "SSL True": ("<SSL>on</SSL>", "<SSL>True</SSL>"),
    "SPA OFF": ("<SPA>off</SPA>", "<SPA>OFF</SPA>"),
    "empty LoginName": ("<LoginName>alice@example.com</LoginName>", "<LoginName />"),
    "unknown Encryption": ("<Encryption>SSL</Encryption>", "<Encryption>STARTTLS</Encryption>"),
    "Response without namespace": (
        f'<Response xmlns="{NS_2006A}">',
        "<Response>",
    ),
}


@pytest.mark.parametrize("mistake", sorted(POX_MISTAKES))
def test_pox_schema_rejects(pox_schema: xmlschema.XMLSchema10, mistake: str) -> None:
    """The POX XSDs refuse each obvious mistake in the golden settings answer."""
    old, new = POX_MISTAKES[mistake]
    text = (GOLDEN / "pox-settings-alice@example.com.xml").read_text()
    assert old in text
    assert not pox_schema.is_valid(text.replace(old, new, 1))


def test_pox_schema_allows_any_protocol_child_order(pox_schema: xmlschema.XMLSchema10) -> None:
    """The order of a Protocol's children is free, as Outlook and Thunderbird read it."""
    text = (GOLDEN / "pox-settings-alice@example.com.xml").read_text()
    swapped = text.replace(
        "<Type>IMAP</Type>\n        <Server>imap.example.com</Server>",
        "<Server>imap.example.com</Server>\n        <Type>IMAP</Type>",
        1,
    )
    assert swapped != text
    pox_schema.validate(swapped)


def test_pox_schema_rejects_error_response_in_2006a(pox_schema: xmlschema.XMLSchema10) -> None:
    """An error Response in the Outlook 2006a namespace is refused."""
    text = (GOLDEN / "pox-error-600.xml").read_text()
    bad = text.replace(
        "<Response>",
        f'<Response xmlns="{NS_2006A}">',
    )
    assert not pox_schema.is_valid(bad)


def test_pox_schema_rejects_error_without_id(pox_schema: xmlschema.XMLSchema10) -> None:
    """An Error without its Id attribute, or with a non-numeric ErrorCode, is refused."""
    text = (GOLDEN / "pox-error-600.xml").read_text()
    assert not pox_schema.is_valid(text.replace(' Id="1"', ""))
    assert not pox_schema.is_valid(text.replace("<ErrorCode>600", "<ErrorCode>x600"))


def test_mobilesync_schema_rejects_plain_http(pox_schema: xmlschema.XMLSchema10) -> None:
    """A mobilesync server URL must be https."""
    body = autodiscover.render_mobilesync(
        "http://eas.example.com/Microsoft-Server-ActiveSync", ALICE
    )
    assert not pox_schema.is_valid(body.decode())


# --- signed profiles -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, mobileconfig.Signer]:
    """A throwaway root CA (written to ca.pem), an intermediate, and a leaf signer."""
    made = make_pki(tmp_path_factory.mktemp("pki"))
    return made.ca_pem, made.signer


_openssl_verify = openssl_verify


def test_signed_profile_verifies_with_openssl(
    pki: tuple[Path, mobileconfig.Signer], tmp_path: Path
) -> None:
    """openssl verifies the signed profile up to our root, and the embedded plist is the profile."""
    ca_pem, signer = pki
    profile = _profile()
    result = _openssl_verify(mobileconfig.sign(profile, signer), ca_pem, tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"Verification successful" in result.stderr
    embedded = (tmp_path / "content.plist").read_bytes()
    assert embedded == profile
    assert plistlib.loads(embedded) == plistlib.loads(profile)


def test_tampered_signed_profile_fails(
    pki: tuple[Path, mobileconfig.Signer], tmp_path: Path
) -> None:
    """Changing one byte of the embedded profile makes openssl refuse the signature."""
    ca_pem, signer = pki
    signed = bytearray(mobileconfig.sign(_profile(), signer))
    at = signed.index(b"imap.example.com")
    signed[at] ^= 0x20  # imap -> Imap
    result = _openssl_verify(bytes(signed), ca_pem, tmp_path)
    assert result.returncode != 0
    assert b"Verification failure" in result.stderr


def test_signed_profile_needs_our_root(
    pki: tuple[Path, mobileconfig.Signer], tmp_path: Path
) -> None:
    """A profile signed by a certificate from another root does not verify against ca.pem."""
    ca_pem, _ = pki
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = certificate("Stranger", key, "Stranger", key, ca=False)
    signed = mobileconfig.sign(_profile(), mobileconfig.Signer(certificate=stranger, key=key))
    assert _openssl_verify(signed, ca_pem, tmp_path).returncode != 0


# --- DNS records -----------------------------------------------------------------------------


def _records() -> list[list[str]]:
    text = (GOLDEN / "dns-example.com.zone").read_text()
    return [line.split("\t") for line in text.splitlines() if not line.startswith(";")]


@pytest.mark.parametrize(
    ("owner", "data"),
    [
        ("_imaps._tcp.example.com.", "0 1 993 imap.example.com."),
        ("_imap._tcp.example.com.", "10 1 143 imap.example.com."),
        ("_pop3s._tcp.example.com.", "20 1 995 pop.example.com."),
        ("_submissions._tcp.example.com.", "0 1 465 smtp.example.com."),
        ("_submission._tcp.example.com.", "10 1 587 smtp.example.com."),
        ("_autodiscover._tcp.example.com.", "0 1 443 autoconfig.example-provider.net."),
    ],
)
def test_dns_srv_records(owner: str, data: str) -> None:
    """Each RFC 6186/8314 service and Autodiscover gets its SRV record."""
    assert [owner, "3600", "IN", "SRV", data] in _records()


def test_dns_pop3_starttls_not_offered() -> None:
    """The demo has no POP3 STARTTLS, so _pop3._tcp says "no such service" (RFC 6186 target .)."""
    assert ["_pop3._tcp.example.com.", "3600", "IN", "SRV", "0 0 0 ."] in _records()


@pytest.mark.parametrize("label", ["autoconfig", "autodiscover"])
def test_dns_cnames(label: str) -> None:
    """autoconfig and autodiscover point at the public host of this service."""
    assert [f"{label}.example.com.", "3600", "IN", "CNAME", f"{PUBLIC_HOST}."] in _records()


def test_dns_srv_target_is_no_alias() -> None:
    """RFC 2782: no SRV record points at a name that is itself published as a CNAME."""
    records = _records()
    aliases = {r[0] for r in records if r[3] == "CNAME"}
    targets = {r[4].split()[-1] for r in records if r[3] == "SRV"}
    assert not aliases & targets


def test_dns_without_public_host_prints_a_hint() -> None:
    """Without a public host no CNAME is printed, only a comment saying what to publish."""
    text = dnsrecords.render("example.com", _example_com().provider, None)
    assert "\tCNAME\t" not in text
    assert "; point autoconfig.example.com and autodiscover.example.com" in text


def test_dns_never_advertises_plain() -> None:
    """No SRV record points at a cleartext port."""
    ports = {line[4].split()[2] for line in _records() if line[3] == "SRV"}
    assert ports <= {"993", "143", "995", "465", "587", "443", "0"}

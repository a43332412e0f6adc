"""Client acceptance rules (autoconf.formats.rules): our documents pass, each mistake is named."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest

from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog
from autoconf.formats import autodiscover, mobileconfig, mozilla, rules
from autoconf.formats.rules import Problem, Severity

GOLDEN = Path(__file__).parent / "data" / "golden"
REJECT = Severity.REJECT
WARN = Severity.WARN
XML = "text/xml; charset=utf-8"


def fired(problems: list[Problem], code: str, severity: Severity) -> Problem:
    """The problem with ``code``; every problem must read as a sentence."""
    for problem in problems:
        assert problem.message[0].isupper(), problem
        assert problem.message.endswith("."), problem
    matching = [p for p in problems if p.code == code]
    assert matching, f"{code} did not fire; got {problems}"
    assert matching[0].severity is severity, matching[0]
    return matching[0]


def codes(problems: list[Problem]) -> set[str]:
    """The codes of the problems found."""
    return {p.code for p in problems}


# --- our own documents -----------------------------------------------------------------------

CHECKS = {
    ".xml": lambda name, body: (
        rules.thunderbird_pox(body, autodiscover.CONTENT_TYPE)
        if name.startswith("pox-")
        else rules.thunderbird_autoconfig(body, mozilla.CONTENT_TYPE)
    ),
    ".mobileconfig": lambda _name, body: rules.apple_profile(body),
}


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.iterdir() if p.suffix in CHECKS))
def test_golden_documents_break_no_rule(name: str) -> None:
    """Every golden document passes the client rules with no reject and no warning."""
    path = GOLDEN / name
    assert CHECKS[path.suffix](name, path.read_bytes()) == []


def test_golden_set_is_complete() -> None:
    """The rules see all six client documents (clientConfig, four POX answers, profile)."""
    assert len([p for p in GOLDEN.iterdir() if p.suffix in CHECKS]) == 6


def test_problem_is_frozen() -> None:
    """A Problem is an immutable value with a stable code."""
    problem = Problem("x", WARN, "A sentence.")
    with pytest.raises(AttributeError):
        problem.code = "y"  # type: ignore[misc]


# --- Thunderbird autoconfig ------------------------------------------------------------------

CLIENTCONFIG = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <displayName>Example</displayName>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"""
POP3_SERVER = """<incomingServer type="pop3">
      <hostname>pop.example.org</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>password-cleartext</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>
    """
IMAP_OPEN = '<incomingServer type="imap">'


def tb(old: str = "", new: str = "", content_type: str | None = XML) -> list[Problem]:
    """Thunderbird's verdict on CLIENTCONFIG with ``old`` replaced by ``new``."""
    assert old in CLIENTCONFIG
    body = CLIENTCONFIG.replace(old, new, 1) if old else CLIENTCONFIG
    return rules.thunderbird_autoconfig(body.encode(), content_type)


def test_clientconfig_base_is_clean() -> None:
    """The hand-written base document used below breaks no rule."""
    assert tb() == []


@pytest.mark.parametrize("content_type", ["text/xml", "application/xml; charset=UTF-8", "text/rdf"])
def test_clientconfig_xml_content_types(content_type: str) -> None:
    """text/xml, application/xml and text/rdf are read as XML."""
    assert tb(content_type=content_type) == []


def test_clientconfig_wrong_content_type() -> None:
    """A file served as text/plain is ignored by Thunderbird."""
    problem = fired(tb(content_type="text/plain"), "content-type-wrong", REJECT)
    assert "text/plain" in problem.message


def test_clientconfig_missing_content_type() -> None:
    """A file served without Content-Type is ignored by Thunderbird."""
    fired(tb(content_type=None), "content-type-missing", REJECT)


def test_clientconfig_not_well_formed() -> None:
    """Broken XML is rejected as a whole."""
    fired(tb("</clientConfig>", "</clientconfig>"), "xml-malformed", REJECT)


def test_clientconfig_with_entities_is_not_expanded() -> None:
    """A DTD with entities is refused, never expanded."""
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>'
    fired(rules.thunderbird_autoconfig(body, XML), "xml-dtd", REJECT)


def test_clientconfig_bom_warns() -> None:
    """A UTF-8 byte order mark is tolerated but flagged."""
    problems = rules.thunderbird_autoconfig(b"\xef\xbb\xbf" + CLIENTCONFIG.encode(), XML)
    fired(problems, "xml-bom", WARN)


def test_clientconfig_without_email_provider() -> None:
    """A clientConfig without emailProvider is rejected."""
    body = b'<?xml version="1.0"?><clientConfig version="1.1"><x/></clientConfig>'
    fired(rules.thunderbird_autoconfig(body, XML), "no-email-provider", REJECT)


def test_clientconfig_id_with_underscore() -> None:
    """An emailProvider id with an underscore makes Thunderbird reject the file."""
    problem = fired(tb('id="example.org"', 'id="example_org"'), "provider-id-invalid", REJECT)
    assert "example_org" in problem.message


def test_clientconfig_without_valid_domain() -> None:
    """Without a single valid domain the file is rejected."""
    fired(
        tb("<domain>example.org</domain>", "<domain>not a domain</domain>"),
        "domain-missing",
        REJECT,
    )


def test_clientconfig_incoming_type_unknown() -> None:
    """An incoming server of an unknown type is dropped, leaving no incoming server."""
    problems = tb(IMAP_OPEN, '<incomingServer type="IMAP">')
    fired(problems, "server-type-invalid", REJECT)
    fired(problems, "no-incoming", REJECT)


def test_clientconfig_url_type_is_skipped() -> None:
    """A draft 1.2 URL server (ews) is skipped with a warning; IMAP beside it still works."""
    extra = (
        '<incomingServer type="ews"><url>https://ews.example.org/EWS</url></incomingServer>\n    '
    )
    problems = tb(IMAP_OPEN, extra + IMAP_OPEN)
    fired(problems, "server-type-skipped", WARN)
    assert all(p.severity is WARN for p in problems)


def test_clientconfig_placeholder_hostname_allowed() -> None:
    """A %PLACEHOLDER% in a hostname is accepted, as Thunderbird's sanitizer allows."""
    assert tb("<hostname>imap.example.org", "<hostname>imap.%EMAILDOMAIN%") == []


def test_clientconfig_invalid_hostname() -> None:
    """A hostname with a space drops the server."""
    problems = tb("<hostname>imap.example.org", "<hostname>imap example.org")
    fired(problems, "hostname-invalid", REJECT)
    fired(problems, "no-incoming", REJECT)


@pytest.mark.parametrize("port", ["0", "65536", "imaps", ""])
def test_clientconfig_bad_port(port: str) -> None:
    """A port outside 1-65535 or not a number drops the server."""
    fired(tb("<port>993</port>", f"<port>{port}</port>"), "port-invalid", REJECT)


def test_clientconfig_socket_type_is_case_sensitive() -> None:
    """socketType "ssl" is not "SSL": the server is dropped."""
    problems = tb("<socketType>SSL</socketType>", "<socketType>ssl</socketType>")
    problem = fired(problems, "socket-type-invalid", REJECT)
    assert "'ssl'" in problem.message


def test_clientconfig_first_supported_socket_type_wins() -> None:
    """Of several socketTypes the first supported one counts."""
    doc = (
        "<socketType>SSL</socketType>",
        "<socketType>TLS</socketType><socketType>SSL</socketType>",
    )
    assert tb(*doc) == []


def test_clientconfig_plain_socket_warns() -> None:
    """socketType plain is accepted but flagged as unencrypted."""
    problem = fired(
        tb("<socketType>SSL</socketType>", "<socketType>plain</socketType>"), "socket-plain", WARN
    )
    assert "unencrypted" in problem.message


def test_clientconfig_oauth2_only_for_unknown_host() -> None:
    """OAuth2 for a host Thunderbird has no registration for drops the server."""
    problems = tb(
        "<authentication>password-cleartext</authentication>\n    </incomingServer>",
        "<authentication>OAuth2</authentication>\n    </incomingServer>",
    )
    problem = fired(problems, "oauth2-unknown-host", REJECT)
    assert "imap.example.org" in problem.message
    fired(problems, "no-incoming", REJECT)


def test_clientconfig_oauth2_with_password_fallback() -> None:
    """OAuth2 for an unknown host followed by a password method only warns."""
    problems = tb(
        "<authentication>password-cleartext</authentication>",
        "<authentication>OAuth2</authentication><authentication>password-cleartext</authentication>",
    )
    problem = fired(problems, "oauth2-unknown-host", WARN)
    assert "falls back to password-cleartext" in problem.message
    assert codes(problems) == {"oauth2-unknown-host"}


def test_clientconfig_oauth2_for_known_host() -> None:
    """OAuth2 for a host in Thunderbird's OAuth2 table is accepted."""
    problems = tb(
        "<hostname>imap.example.org</hostname>\n      <port>993</port>\n      "
        "<socketType>SSL</socketType>\n      <username>%EMAILADDRESS%</username>\n      "
        "<authentication>password-cleartext</authentication>",
        "<hostname>imap.gmail.com</hostname>\n      <port>993</port>\n      "
        "<socketType>SSL</socketType>\n      <username>%EMAILADDRESS%</username>\n      "
        "<authentication>OAuth2</authentication>",
    )
    assert problems == []


def test_clientconfig_none_is_not_incoming_auth() -> None:
    """'none' is no authentication Thunderbird accepts for an incoming server."""
    problems = tb(
        "<authentication>password-cleartext</authentication>",
        "<authentication>none</authentication>",
    )
    fired(problems, "authentication-invalid", REJECT)


def test_clientconfig_smtp_without_auth_needs_no_username() -> None:
    """An SMTP server with client-IP-address auth needs no username."""
    smtp = CLIENTCONFIG.split('<outgoingServer type="smtp">')[1]
    new = smtp.replace("<username>%EMAILADDRESS%</username>", "").replace(
        "password-cleartext", "client-IP-address"
    )
    body = CLIENTCONFIG.replace(smtp, new)
    assert rules.thunderbird_autoconfig(body.encode(), XML) == []


def test_clientconfig_deprecated_auth_name() -> None:
    """The old name 'plain' still works but is flagged."""
    problems = tb(
        "<authentication>password-cleartext</authentication>",
        "<authentication>plain</authentication>",
    )
    problem = fired(problems, "authentication-deprecated", WARN)
    assert "'password-cleartext'" in problem.message


def test_clientconfig_unclosed_placeholder() -> None:
    """%EMAILADDRESS without its closing % is flagged (the office365.com ISPDB typo)."""
    problems = tb("<username>%EMAILADDRESS%</username>", "<username>%EMAILADDRESS</username>")
    fired(problems, "placeholder-unknown", WARN)


def test_clientconfig_missing_username() -> None:
    """An incoming server without username is rejected."""
    fired(tb("<username>%EMAILADDRESS%</username>", ""), "username-missing", REJECT)


def test_clientconfig_smtp_password_auth_needs_username() -> None:
    """A password-authenticated SMTP server without username is dropped, and with it all SMTP."""
    smtp = CLIENTCONFIG.split('<outgoingServer type="smtp">')[1]
    body = CLIENTCONFIG.replace(smtp, smtp.replace("<username>%EMAILADDRESS%</username>", ""))
    problems = rules.thunderbird_autoconfig(body.encode(), XML)
    fired(problems, "username-missing", REJECT)
    fired(problems, "no-smtp", REJECT)


def test_clientconfig_without_smtp() -> None:
    """A file without an SMTP server is rejected, even with a good incoming server."""
    start = CLIENTCONFIG.index("<outgoingServer")
    end = CLIENTCONFIG.index("</outgoingServer>") + len("</outgoingServer>")
    problems = tb(CLIENTCONFIG[start:end], "")
    assert codes(problems) == {"no-smtp"}
    fired(problems, "no-smtp", REJECT)


def test_clientconfig_outgoing_type_must_be_smtp() -> None:
    """An outgoingServer of type 'submission' is dropped."""
    problems = tb('<outgoingServer type="smtp">', '<outgoingServer type="submission">')
    fired(problems, "server-type-invalid", REJECT)
    fired(problems, "no-smtp", REJECT)


def test_clientconfig_pop3_before_imap() -> None:
    """POP3 listed before IMAP is accepted but flagged."""
    problems = tb(IMAP_OPEN, POP3_SERVER + IMAP_OPEN)
    assert codes(problems) == {"pop3-before-imap"}
    fired(problems, "pop3-before-imap", WARN)


def test_clientconfig_pop3_after_imap_is_fine() -> None:
    """POP3 after IMAP, keeping mail on the server, breaks no rule."""
    assert tb("<outgoingServer", POP3_SERVER + "<outgoingServer") == []


def test_clientconfig_pop3_deletes_from_server() -> None:
    """leaveMessagesOnServer false is flagged: other devices lose the mail."""
    pop3 = POP3_SERVER.replace(">true<", ">false<")
    fired(tb("<outgoingServer", pop3 + "<outgoingServer"), "pop3-deletes", WARN)


def test_clientconfig_pop3_without_policy() -> None:
    """A POP3 server without a pop3 block gets Thunderbird's delete-after-download default."""
    pop3 = POP3_SERVER.replace(
        "<pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>", ""
    )
    fired(tb("<outgoingServer", pop3 + "<outgoingServer"), "pop3-deletes", WARN)


def test_clientconfig_boolean_must_be_true_or_false() -> None:
    """A pop3 boolean 'yes' drops the server; 'True' is only flagged."""
    yes = POP3_SERVER.replace(">true<", ">yes<")
    fired(tb("<outgoingServer", yes + "<outgoingServer"), "boolean-invalid", REJECT)
    capital = POP3_SERVER.replace(">true<", ">True<")
    fired(tb("<outgoingServer", capital + "<outgoingServer"), "boolean-case", WARN)


def test_clientconfig_days_must_be_a_number() -> None:
    """daysToLeaveMessagesOnServer must be a whole number."""
    pop3 = POP3_SERVER.replace(
        "</pop3>", "<daysToLeaveMessagesOnServer>week</daysToLeaveMessagesOnServer></pop3>"
    )
    fired(tb("<outgoingServer", pop3 + "<outgoingServer"), "pop3-days-invalid", REJECT)


# --- Thunderbird POX -------------------------------------------------------------------------

NS = "http://schemas.microsoft.com/exchange/autodiscover"
IMAP_PROTOCOL = """<Protocol>
        <Type>IMAP</Type>
        <Server>imap.example.org</Server>
        <Port>993</Port>
        <LoginName>alice@example.org</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
      </Protocol>"""
POP3_PROTOCOL = IMAP_PROTOCOL.replace("IMAP", "POP3").replace("imap", "pop").replace("993", "995")
SMTP_PROTOCOL = """<Protocol>
        <Type>SMTP</Type>
        <Server>smtp.example.org</Server>
        <Port>587</Port>
        <LoginName>alice@example.org</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>TLS</Encryption>
      </Protocol>"""


def pox_document(*protocols: str, response_ns: str = f"{NS}/outlook/responseschema/2006a") -> str:
    """A settings answer holding ``protocols`` in order."""
    body = "\n      ".join(protocols)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="{NS}/responseschema/2006">
  <Response xmlns="{response_ns}">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      {body}
    </Account>
  </Response>
</Autodiscover>
"""


POX = pox_document(IMAP_PROTOCOL, SMTP_PROTOCOL)


def pox(old: str = "", new: str = "", content_type: str | None = XML) -> list[Problem]:
    """Thunderbird's verdict on POX with ``old`` replaced by ``new``."""
    assert old in POX
    body = POX.replace(old, new, 1) if old else POX
    return rules.thunderbird_pox(body.encode(), content_type)


def test_pox_base_is_clean() -> None:
    """The hand-written base answer (the reference's minimal example) breaks no rule."""
    assert pox() == []


def test_pox_wrong_content_type() -> None:
    """An answer served as application/octet-stream is ignored by Thunderbird."""
    fired(pox(content_type="application/octet-stream"), "content-type-wrong", REJECT)


def test_pox_not_well_formed() -> None:
    """Broken XML is rejected."""
    fired(pox("</Autodiscover>", "</Autodiscover"), "xml-malformed", REJECT)


def test_pox_ssl_off_with_encryption_tls() -> None:
    """SSL off plus Encryption TLS makes Thunderbird connect without encryption."""
    problems = pox(
        "<SSL>on</SSL>\n        <Encryption>TLS</Encryption>",
        "<SSL>off</SSL>\n        <Encryption>TLS</Encryption>",
    )
    problem = fired(problems, "pox-ssl-off-encrypted", REJECT)
    assert problem.message.startswith(
        "Thunderbird would configure an unencrypted connection for SMTP smtp.example.org:587, "
        "because SSL is off"
    )
    assert codes(problems) == {"pox-ssl-off-encrypted"}  # the server is kept, unencrypted


def test_pox_encryption_none_is_unencrypted() -> None:
    """Encryption None is honoured as an unencrypted connection, and flagged."""
    fired(
        pox("<Encryption>TLS</Encryption>", "<Encryption>None</Encryption>"),
        "pox-unencrypted",
        WARN,
    )


def test_pox_starttls_on_odd_port() -> None:
    """STARTTLS on port 2525 is read by Thunderbird as implicit TLS."""
    problems = pox("<Port>587</Port>", "<Port>2525</Port>")
    problem = fired(problems, "pox-tls-port-mismatch", REJECT)
    assert "implicit TLS" in problem.message
    assert codes(problems) == {"pox-tls-port-mismatch"}  # kept, with the wrong security


def test_pox_implicit_tls_on_starttls_port() -> None:
    """Encryption SSL on port 143 is read by Thunderbird as STARTTLS."""
    problems = pox(
        "<Port>587</Port>\n        <LoginName>alice@example.org</LoginName>\n        "
        "<SPA>off</SPA>\n        <SSL>on</SSL>\n        <Encryption>TLS</Encryption>",
        "<Port>25</Port>\n        <LoginName>alice@example.org</LoginName>\n        "
        "<SPA>off</SPA>\n        <SSL>on</SSL>\n        <Encryption>SSL</Encryption>",
    )
    problem = fired(problems, "pox-tls-port-mismatch", REJECT)
    assert "would use STARTTLS for SMTP smtp.example.org:25" in problem.message


def test_pox_true_false_drop_the_protocol() -> None:
    """<SSL>True</SSL> drops the Protocol, so the answer has no incoming server."""
    problems = pox("<SSL>on</SSL>", "<SSL>True</SSL>")
    fired(problems, "pox-boolean", REJECT)
    fired(problems, "pox-no-incoming", REJECT)


def test_pox_on_off_case() -> None:
    """'On' instead of 'on' is flagged."""
    fired(pox("<SPA>off</SPA>", "<SPA>Off</SPA>"), "pox-on-off-case", WARN)


def test_pox_empty_login_name() -> None:
    """An empty LoginName becomes the user name 'true' in Thunderbird."""
    problem = fired(
        pox("<LoginName>alice@example.org</LoginName>", "<LoginName/>"), "pox-login-empty", REJECT
    )
    assert "'true'" in problem.message


def test_pox_missing_login_name_is_fine() -> None:
    """Without LoginName Thunderbird uses the address, which is fine."""
    assert pox("<LoginName>alice@example.org</LoginName>", "") == []


def test_pox_lowercase_type() -> None:
    """Type 'imap' is ignored by Thunderbird."""
    problems = pox("<Type>IMAP</Type>", "<Type>imap</Type>")
    fired(problems, "pox-type-case", REJECT)
    fired(problems, "pox-no-incoming", REJECT)


def test_pox_type_pop() -> None:
    """Type 'POP' is not POP3 and is ignored."""
    fired(pox("<Type>IMAP</Type>", "<Type>POP</Type>"), "pox-type-case", REJECT)


def test_pox_exchange_types_are_skipped_silently() -> None:
    """An EXCH Protocol beside IMAP and SMTP is no problem."""
    exch = "<Protocol><Type>EXCH</Type><Server>ex.example.org</Server></Protocol>"
    assert (
        rules.thunderbird_pox(pox_document(exch, IMAP_PROTOCOL, SMTP_PROTOCOL).encode(), XML) == []
    )


def test_pox_missing_port() -> None:
    """A Protocol without Port is dropped."""
    problems = pox("<Port>993</Port>", "")
    fired(problems, "pox-port-invalid", REJECT)
    fired(problems, "pox-no-incoming", REJECT)


def test_pox_port_not_numeric() -> None:
    """A Port that is not a number is dropped."""
    fired(pox("<Port>993</Port>", "<Port>imaps</Port>"), "pox-port-invalid", REJECT)


def test_pox_invalid_server() -> None:
    """A Server that is not a host name is rejected."""
    fired(
        pox("<Server>imap.example.org</Server>", "<Server>imap_example</Server>"),
        "pox-server-invalid",
        REJECT,
    )


def test_pox_spa_absent() -> None:
    """A missing SPA means on (NTLM), which is flagged."""
    fired(pox("<SPA>off</SPA>", ""), "pox-spa-missing", WARN)


def test_pox_no_smtp() -> None:
    """An answer without SMTP cannot complete an account."""
    problems = rules.thunderbird_pox(pox_document(IMAP_PROTOCOL).encode(), XML)
    assert codes(problems) == {"pox-no-smtp"}
    fired(problems, "pox-no-smtp", REJECT)


def test_pox_pop3_before_imap() -> None:
    """POP3 before IMAP makes POP3 the primary server; flagged."""
    body = pox_document(POP3_PROTOCOL, IMAP_PROTOCOL, SMTP_PROTOCOL).encode()
    problems = rules.thunderbird_pox(body, XML)
    assert codes(problems) == {"pox-pop3-before-imap"}
    fired(problems, "pox-pop3-before-imap", WARN)


def test_pox_response_without_2006a() -> None:
    """A settings Response outside the 2006a namespace works in Thunderbird, not in Outlook."""
    body = pox_document(IMAP_PROTOCOL, SMTP_PROTOCOL, response_ns=f"{NS}/responseschema/2006")
    fired(rules.thunderbird_pox(body.encode(), XML), "pox-response-namespace", WARN)


def test_pox_https_namespaces_are_accepted() -> None:
    """Microsoft's https:// spelling of the namespaces is accepted."""
    body = POX.replace("http://schemas", "https://schemas")
    assert rules.thunderbird_pox(body.encode(), XML) == []


def test_pox_no_response() -> None:
    """A document that is not Autodiscover/Response is rejected."""
    fired(rules.thunderbird_pox(b"<html><body/></html>", "text/xml"), "pox-no-response", REJECT)


def test_pox_redirect_url_is_ignored_by_thunderbird() -> None:
    """A redirectUrl answer is flagged: Thunderbird ignores it."""
    body = POX.replace(
        "<Action>settings</Action>",
        "<Action>redirectUrl</Action>"
        "<RedirectUrl>https://ad.example.org/autodiscover/autodiscover.xml</RedirectUrl>",
    )
    fired(rules.thunderbird_pox(body.encode(), XML), "pox-redirect-url-thunderbird", WARN)


def test_pox_redirect_addr_must_be_an_address() -> None:
    """A redirectAddr without an address is rejected."""
    body = POX.replace(
        "<Action>settings</Action>",
        "<Action>redirectAddr</Action><RedirectAddr>nobody</RedirectAddr>",
    )
    fired(rules.thunderbird_pox(body.encode(), XML), "pox-redirect-addr", REJECT)


ERROR = (GOLDEN / "pox-error-600.xml").read_text()


def test_pox_error_in_2006a_namespace() -> None:
    """An error Response in the 2006a namespace is not recognised as an error."""
    body = ERROR.replace("<Response>", f'<Response xmlns="{NS}/outlook/responseschema/2006a">')
    fired(rules.thunderbird_pox(body.encode(), XML), "pox-error-namespace", REJECT)


def test_pox_error_code_not_numeric() -> None:
    """An ErrorCode that is not a number is rejected."""
    body = ERROR.replace("<ErrorCode>600</ErrorCode>", "<ErrorCode>Invalid</ErrorCode>")
    fired(rules.thunderbird_pox(body.encode(), XML), "pox-error-code", REJECT)


def test_pox_error_attributes() -> None:
    """An Error without Time and Id is flagged."""
    body = ERROR.replace(' Time="12:34:56.000000" Id="1"', "")
    problems = rules.thunderbird_pox(body.encode(), XML)
    fired(problems, "pox-error-time", WARN)
    fired(problems, "pox-error-id", WARN)


def test_pox_mobilesync_plain_http() -> None:
    """A mobilesync answer pointing at http:// is rejected."""
    body = autodiscover.render_mobilesync(
        "http://eas.example.org/Microsoft-Server-ActiveSync", "a@example.org"
    )
    fired(rules.thunderbird_pox(body, XML), "eas-url", REJECT)


# --- Apple profiles --------------------------------------------------------------------------


def apple(**changes: Any) -> list[Problem]:
    """apple_profile on the golden profile with mail-payload keys changed (None deletes)."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    mail = profile["PayloadContent"][0]
    for key, value in changes.items():
        if value is None:
            del mail[key]
        else:
            mail[key] = value
    return rules.apple_profile(plistlib.dumps(profile))


def test_apple_account_type_imap() -> None:
    """EmailAccountType 'IMAP' is not in Apple's rangelist."""
    problem = fired(apple(EmailAccountType="IMAP"), "apple-key-value", REJECT)
    assert "EmailTypeIMAP" in problem.message


def test_apple_port_as_string() -> None:
    """A port given as <string> is refused."""
    problem = fired(apple(IncomingMailServerPortNumber="993"), "apple-key-type", REJECT)
    assert "<integer>" in problem.message


def test_apple_port_out_of_range() -> None:
    """A port number above 65535 is refused."""
    fired(apple(OutgoingMailServerPortNumber=70000), "apple-port", REJECT)


def test_apple_missing_outgoing_host() -> None:
    """A mail payload without OutgoingMailServerHostName is refused."""
    problem = fired(apple(OutgoingMailServerHostName=None), "apple-key-missing", REJECT)
    assert "OutgoingMailServerHostName" in problem.message


def test_apple_empty_string() -> None:
    """An empty string value makes iOS refuse the profile."""
    problem = fired(apple(EmailAccountDescription=""), "apple-empty-value", REJECT)
    assert "EmailAccountDescription" in problem.message


def test_apple_typed_empty_integer() -> None:
    """A typed-empty <integer></integer> is not a valid plist at all."""
    body = (GOLDEN / "alice@example.com.mobileconfig").read_bytes()
    body = body.replace(b"<integer>993</integer>", b"<integer></integer>")
    fired(rules.apple_profile(body), "apple-plist-invalid", REJECT)


def test_apple_boolean_is_not_integer() -> None:
    """<true/> where Apple wants an <integer> is refused."""
    fired(apple(IncomingMailServerPortNumber=True), "apple-key-type", REJECT)


def test_apple_unknown_key() -> None:
    """A key Apple does not define (the non-existent AuthenticationType) is flagged."""
    problem = fired(apple(AuthenticationType="EmailAuthPassword"), "apple-key-unknown", WARN)
    assert "AuthenticationType" in problem.message


def test_apple_password_inside() -> None:
    """A profile carrying a password is refused."""
    fired(apple(IncomingPassword="secret"), "apple-password", REJECT)


def test_apple_hostname_list() -> None:
    """Two servers in one HostName are refused: one incoming, one outgoing per account."""
    fired(
        apple(IncomingMailServerHostName="imap1.example.com, imap2.example.com"),
        "apple-hostname",
        REJECT,
    )


def test_apple_ssl_on_implicit_tls_port() -> None:
    """UseSSL false on port 993 is flagged."""
    fired(apple(IncomingMailServerUseSSL=False), "apple-ssl-port", WARN)


def test_apple_authentication_rangelist() -> None:
    """An authentication outside Apple's list is refused."""
    fired(apple(OutgoingMailServerAuthentication="EmailAuthOAuth"), "apple-key-value", REJECT)


def test_apple_top_level() -> None:
    """The top level must be a Configuration with version 1 and a UUID."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    profile["PayloadType"] = "Profile"
    profile["PayloadVersion"] = 2
    del profile["PayloadUUID"]
    problems = rules.apple_profile(plistlib.dumps(profile))
    assert {p.code for p in problems} == {"apple-key-value", "apple-key-missing"}
    assert len(problems) == 3


def test_apple_duplicate_payload_uuid() -> None:
    """Two payloads with the same UUID and identifier are refused."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    profile["PayloadContent"].append(dict(profile["PayloadContent"][0]))
    fired(rules.apple_profile(plistlib.dumps(profile)), "apple-duplicate", REJECT)


def test_apple_no_mail_payload() -> None:
    """A profile without a mail payload is refused."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    profile["PayloadContent"] = []
    problems = rules.apple_profile(plistlib.dumps(profile))
    fired(problems, "apple-no-payload", REJECT)


def test_apple_other_payloads_get_common_checks() -> None:
    """A CalDAV payload beside the mail payload is checked for the common keys only."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    profile["PayloadContent"].append(
        {"PayloadType": "com.apple.caldav.account", "PayloadVersion": 1,
         "PayloadIdentifier": "com.example.caldav", "CalDAVHostName": "dav.example.com"}
    )  # fmt: skip
    problems = rules.apple_profile(plistlib.dumps(profile))
    problem = fired(problems, "apple-key-missing", REJECT)
    assert "PayloadUUID" in problem.message
    assert len(problems) == 1


def test_apple_binary_plist_is_read() -> None:
    """A binary plist is checked like an XML one."""
    profile = plistlib.loads((GOLDEN / "alice@example.com.mobileconfig").read_bytes())
    assert rules.apple_profile(plistlib.dumps(profile, fmt=plistlib.FMT_BINARY)) == []


def test_apple_signed_profile_must_be_unwrapped() -> None:
    """A CMS-signed profile is recognised and the caller told to unwrap it."""
    fired(rules.apple_profile(b"\x30\x82\x01\x00rest"), "apple-signed", REJECT)


def test_apple_entities_are_refused() -> None:
    """A plist declaring entities is refused, not expanded."""
    body = (
        b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "x">]>'
        b'<plist version="1.0"><dict><key>a</key><string>&a;</string></dict></plist>'
    )
    fired(rules.apple_profile(body), "apple-plist-invalid", REJECT)


def test_apple_profile_for_other_address() -> None:
    """A profile rendered for another demo address breaks no rule either."""
    account = demo_catalog().account_for(Address.parse("bob@example.net"))
    profile_uuid, mail_uuid = mobileconfig.profile_ids("bob@example.net")
    body = mobileconfig.render(account, profile_uuid=profile_uuid, mail_uuid=mail_uuid)
    assert rules.apple_profile(body) == []


@pytest.mark.parametrize(
    "address", ["alice@example.com", "bob@example.net", "o'neil&co@EXAMPLE.com"]
)
def test_emitted_documents_break_no_rule(address: str) -> None:
    """clientConfig, POX settings and profile for any demo address pass every rule."""
    account = demo_catalog().account_for(Address.parse(address))
    assert rules.thunderbird_autoconfig(mozilla.render(account), mozilla.CONTENT_TYPE) == []
    pox_body = autodiscover.render_settings(account)
    assert rules.thunderbird_pox(pox_body, autodiscover.CONTENT_TYPE) == []
    ids = mobileconfig.profile_ids(address)
    profile = mobileconfig.render(account, profile_uuid=ids[0], mail_uuid=ids[1])
    assert rules.apple_profile(profile) == []

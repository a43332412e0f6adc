"""The compiled POX template answers exactly what the builder renders, for any address."""

from __future__ import annotations

import pytest

from autoconf.catalog.address import Address
from autoconf.catalog.load import demo_catalog, load_catalog
from autoconf.formats.autodiscover import SettingsTemplate, render_settings


@pytest.mark.parametrize(
    "email",
    [
        "alice@example.com",
        "A.Lice+tag@EXAMPLE.net",
        "a&b'{}|~!#$%^*=?`@example.com",
        "zoë@example.com",
        "x@xn--bcher-kva.example",
    ],
)
def test_template_equals_builder(catalog_file, email):
    """fill() gives the same bytes as render_settings(), escaping included."""
    address = Address.parse(email)
    demo = address.domain in ("example.com", "example.net")
    catalog = demo_catalog() if demo else load_catalog(catalog_file())
    account = catalog.account_for(address)
    template = SettingsTemplate.compile(account.provider)
    assert template.fill(address) == render_settings(account)


def test_template_with_mixed_usernames(catalog_file):
    """Providers whose servers use different login templates fill each gap with its own."""
    catalog = load_catalog(catalog_file())
    address = Address.parse("bob@example.org")
    account = catalog.account_for(address)
    body = SettingsTemplate.compile(account.provider).fill(address)
    assert body == render_settings(account)
    assert b"<LoginName>bob</LoginName>" in body
    assert b"<LoginName>bob@example.org</LoginName>" in body

"""E-mail addresses and domain names as requests carry them: parsed, normalised, refused."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from autoconf.errors import BadAddress

MAX_ADDRESS = 254  # RFC 5321 path limit, less the angle brackets
MAX_LOCAL = 64
MAX_DOMAIN = 253

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_BAD_LOCAL = re.compile(r'[<>()\[\]\\,;:@"\s]')  # specials RFC 5322 allows only quoted


def _has_control(text: str) -> bool:
    if text.isascii():  # fast path: ASCII is printable exactly when it has no control
        return not text.isprintable()
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text)


@functools.lru_cache(maxsize=65536)
def normalize_domain(raw: str) -> str:
    """Return the lower-case ASCII (punycode) form of a domain, or raise BadAddress.

    A single trailing dot is dropped; upper case and Unicode (IDN) are accepted. Results are
    cached: the same few domains arrive again and again.
    """
    name = raw.strip()
    name = name.removesuffix(".")
    if not name:
        raise BadAddress("The domain is empty.")
    if len(name) > MAX_DOMAIN * 4:
        raise BadAddress(f"The domain is longer than {MAX_DOMAIN} characters.")
    if _has_control(name):
        raise BadAddress("The domain contains a control character.")
    if name.isascii():
        name = name.lower()
    else:
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadAddress("The domain is not a valid internationalised domain name.") from exc
    _check_labels(name)
    return name


def _check_labels(name: str) -> None:
    if len(name) > MAX_DOMAIN:
        raise BadAddress(f"The domain is longer than {MAX_DOMAIN} characters.")
    labels = name.split(".")
    if len(labels) < 2:  # noqa: PLR2004 - a mail domain has at least two labels
        raise BadAddress("The domain needs at least two labels, like example.com.")
    if labels[-1].isdigit():
        raise BadAddress("The domain is an IP address, not a domain name.")
    for label in labels:
        if not _LABEL.match(label):
            raise BadAddress(
                "The domain has a label that is empty, too long, or uses characters "
                "other than letters, digits and hyphens."
            )


@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox address: local part as given, domain normalised to lower-case punycode."""

    local: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"

    @classmethod
    def parse(cls, raw: str) -> Address:
        """Parse what a client sent as an address; raise BadAddress with a sentence if unusable."""
        text = raw.strip()
        if not text:
            raise BadAddress("No e-mail address was given.")
        if len(text) > MAX_ADDRESS:
            raise BadAddress(f"The e-mail address is longer than {MAX_ADDRESS} characters.")
        if _has_control(text):
            raise BadAddress("The e-mail address contains a control character.")
        local, sep, domain = text.rpartition("@")
        if not sep or not local:
            raise BadAddress("The e-mail address needs a local part, an @ and a domain.")
        if len(local) > MAX_LOCAL or (not local.isascii() and len(local.encode()) > MAX_LOCAL):
            raise BadAddress(f"The part before the @ is longer than {MAX_LOCAL} bytes.")
        if _BAD_LOCAL.search(local):
            raise BadAddress(
                "The part before the @ contains a space or one of the characters < > ( ) [ ] "
                '\\ , ; : @ ".'
            )
        if local.startswith(".") or local.endswith(".") or ".." in local:
            raise BadAddress("The part before the @ starts or ends with a dot, or has two dots.")
        return cls(local, normalize_domain(domain))

"""The AutoconfError tree: every error a person may read, with the HTTP status it maps to.

AutoconfError
 +-- ConfigError            settings or catalog file invalid (CLI exit 2)
 |    +-- CatalogError      catalog TOML unreadable or invalid
 +-- BadRequest             a request value is unusable (400)
 |    +-- BadAddress        an e-mail address that cannot be one
 +-- NotHosted              the domain is not in the catalog (404)
 +-- PayloadTooLarge        a request body above the limit (413)
 +-- StoreError             the store cannot be opened or written
"""

from __future__ import annotations


class AutoconfError(Exception):
    """Base of every error autoconf raises on purpose."""

    status = 500
    code = "internal"


class ConfigError(AutoconfError):
    """Settings are unusable; each line in ``lines`` names file, location and message."""

    code = "config"

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


class CatalogError(ConfigError):
    """The catalog file cannot be read or does not validate."""

    code = "catalog"


class BadRequest(AutoconfError):
    """A value in the request cannot be used."""

    status = 400
    code = "bad_request"


class BadAddress(BadRequest):
    """The e-mail address given is not a usable address."""

    code = "bad_address"


class NotHosted(AutoconfError):
    """No provider in the catalog serves this domain.

    The message never repeats the domain, so a 404 leaks nothing.
    """

    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("No mail settings are published here for this domain.")


class PayloadTooLarge(AutoconfError):
    """The request body is larger than the service accepts."""

    status = 413
    code = "payload_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than the limit of {limit} bytes.")


class StoreError(AutoconfError):
    """The store could not be opened, migrated or written."""

    code = "store"

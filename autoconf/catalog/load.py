"""TOML file -> Catalog: one `file: location: message` line per error, and an O(1) index."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from autoconf.catalog.account import Account
from autoconf.catalog.address import Address, normalize_domain
from autoconf.catalog.model import CatalogModel
from autoconf.errors import BadAddress, CatalogError, NotHosted

if TYPE_CHECKING:
    from pathlib import Path

DEMO_NAME = "<demo>"


class Catalog:
    """A validated catalog with its domain index; immutable once built.

    The index maps every hosted and alias domain to its finished, address-less Account, so
    a lookup is one dictionary access and builds nothing.
    """

    __slots__ = ("_index", "model", "source")

    def __init__(self, model: CatalogModel, source: str) -> None:
        self.model = model
        self.source = source
        self._index: dict[str, Account] = {}
        for provider in model.providers:
            for domain in provider.domains:
                self._index[domain] = Account(provider, domain, domain)
        for alias, target in model.aliases.items():
            self._index[alias] = Account(self._index[target].provider, alias, target)

    @property
    def domain_count(self) -> int:
        """Hosted plus alias domains."""
        return len(self._index)

    def domains(self) -> list[str]:
        """Every hosted domain, then every alias domain."""
        return list(self._index)

    def account_for_domain(self, domain: str) -> Account:
        """The account for a domain as a client wrote it; NotHosted if nobody serves it.

        Raises BadAddress if ``domain`` cannot be a domain name.
        """
        account = self._index.get(normalize_domain(domain))
        if account is None:
            raise NotHosted
        return account

    def account_for(self, address: Address) -> Account:
        """The account for a parsed address; NotHosted if its domain is not served."""
        account = self._index.get(address.domain)  # already normalised by Address.parse
        if account is None:
            raise NotHosted
        return Account(account.provider, account.domain, account.mail_domain, address)


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _cascade(loc: tuple[int | str, ...], kind: str, errors: list[Any]) -> bool:
    """A "too short" error that only exists because items inside it failed."""
    if kind != "too_short":
        return False
    depth = len(loc)
    return any(len(e["loc"]) > depth and tuple(e["loc"][:depth]) == loc for e in errors)


def _cross_checks(model: CatalogModel) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    owner: dict[str, int] = {}
    ids: dict[str, int] = {}
    for p_index, provider in enumerate(model.providers):
        if provider.id in ids:  # documents are cached by provider id: two would mix servers
            problems.append(
                (
                    f"providers[{p_index}].id",
                    f"{provider.id} is also the id of providers[{ids[provider.id]}]",
                )
            )
        ids.setdefault(provider.id, p_index)
        for d_index, domain in enumerate(provider.domains):
            if domain in owner and owner[domain] != p_index:
                problems.append(
                    (
                        f"providers[{p_index}].domains[{d_index}]",
                        f"{domain} is also listed by providers[{owner[domain]}]",
                    )
                )
            owner.setdefault(domain, p_index)
    for alias, target in model.aliases.items():
        if alias in owner:
            problems.append((f"aliases.{alias}", f"{alias} is a hosted domain, not an alias"))
        if target not in owner:
            problems.append((f"aliases.{alias}", f"points to {target}, which no provider hosts"))
    return problems


def parse_catalog(data: dict[str, Any], source: str) -> Catalog:
    """Validate parsed TOML data; raise CatalogError with one line per problem."""
    try:
        model = CatalogModel.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        lines = [
            f"{source}: {_location(err['loc'])}: {err['msg']}"
            for err in errors
            if not _cascade(err["loc"], err["type"], errors)
        ]
        raise CatalogError(lines) from None
    problems = _cross_checks(model)
    if problems:
        raise CatalogError([f"{source}: {loc}: {msg}" for loc, msg in problems])
    return Catalog(model, source)


def load_catalog(path: Path) -> Catalog:
    """Read and validate a catalog TOML file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogError([f"{source}: (file): cannot be read: {exc.strerror}"]) from None
    return _parse_bytes(raw, source)


def demo_catalog() -> Catalog:
    """The built-in demo catalog: Example Mail hosting example.com and example.net."""
    raw = resources.files("autoconf.catalog").joinpath("demo.toml").read_bytes()
    return _parse_bytes(raw, DEMO_NAME)


def _parse_bytes(raw: bytes, source: str) -> Catalog:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError([f"{source}: byte {exc.start}: the file is not UTF-8"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError([f"{source}: (syntax): {exc}"]) from None
    return parse_catalog(data, source)


__all__ = ["DEMO_NAME", "BadAddress", "Catalog", "demo_catalog", "load_catalog", "parse_catalog"]

"""The catalog a running service answers from: reloadable, with rendered answers cached."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

import structlog

from autoconf.catalog.load import Catalog, demo_catalog, load_catalog
from autoconf.errors import CatalogError

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from pathlib import Path

log = structlog.get_logger("autoconf.catalog")
CACHE_ENTRIES = 20_000
T = TypeVar("T")


class LiveCatalog:
    """Holds the current Catalog; a failed reload keeps the old one serving."""

    def __init__(self, path: Path | None, catalog: Catalog | None = None) -> None:
        """``path`` None means the built-in demo catalog."""
        self.path = path
        self.current = catalog if catalog is not None else self._read()
        self._cache: dict[Hashable, object] = {}
        self.generation = 1

    def _read(self) -> Catalog:
        return demo_catalog() if self.path is None else load_catalog(self.path)

    def reload(self) -> list[str]:
        """Read the file again; return [] on success or the error lines (old catalog kept)."""
        try:
            fresh = self._read()
        except CatalogError as exc:
            log.error(  # noqa: TRY400 - the lines say why; a traceback would not
                "catalog.reload_failed", source=str(self.path), errors=exc.lines
            )
            return exc.lines
        self.current = fresh
        self._cache = {}
        self.generation += 1
        log.info("catalog.reloaded", source=fresh.source, domains=fresh.domain_count)
        return []

    def cached(self, key: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` returns for ``key``, built once per catalog generation.

        Rendered answers that depend only on the domain or provider live here; the cache is
        bounded in entries and emptied by a reload.
        """
        value = self._cache.get(key)
        if value is None:
            value = build()
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = value
        return cast("T", value)

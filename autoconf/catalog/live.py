"""The catalog a running service answers from: reloadable, with rendered answers cached."""

from __future__ import annotations

import asyncio
import hashlib
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
        self._stamp = self._stat()  # the file as last looked at: (mtime_ns, size)
        self._digest = self._hash()  # the content the current catalog came from

    def _read(self) -> Catalog:
        return demo_catalog() if self.path is None else load_catalog(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat() if self.path is not None else None
        except OSError:
            return None
        return None if info is None else (info.st_mtime_ns, info.st_size)

    def _hash(self) -> str | None:
        try:
            data = self.path.read_bytes() if self.path is not None else None
        except OSError:
            return None
        return None if data is None else hashlib.sha256(data).hexdigest()

    def changed(self) -> bool:
        """Whether the file now holds other content than the catalog being served.

        Cheap when nothing happened (one stat); the content is hashed only when the file's
        time or size moved, so touching it or rewriting it unchanged reloads nothing, and
        a file that failed to load is tried again only once it changes again.
        """
        stamp = self._stat()
        if stamp is None or stamp == self._stamp:
            return False
        self._stamp = stamp
        digest = self._hash()
        if digest is None or digest == self._digest:
            return False
        self._digest = digest
        return True

    async def poll(self, every: float, reload: Callable[[], object]) -> None:
        """Call ``reload`` whenever the file changes, checking every ``every`` seconds.

        Each instance and each worker polls on its own, so an edit (or a deployment of a
        new file to every host) reaches all of them without any message between them.
        """
        while True:
            await asyncio.sleep(every)
            if await asyncio.to_thread(self.changed):
                log.info("catalog.changed", source=str(self.path))
                reload()

    def reload(self) -> list[str]:
        """Read the file again; return [] on success or the error lines (old catalog kept)."""
        seen = self._stat(), self._hash()  # before reading: a later edit is seen as new
        try:
            fresh = self._read()
        except CatalogError as exc:
            log.error(  # noqa: TRY400 - the lines say why; a traceback would not
                "catalog.reload_failed", source=str(self.path), errors=exc.lines
            )
            return exc.lines
        self.current = fresh
        self._stamp, self._digest = seen
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

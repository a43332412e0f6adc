"""The words of the support pages in de, fr, it and en; one ``WORDS`` dict per language."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from autoconf.web.support.words import de, en, fr, it

if TYPE_CHECKING:
    from collections.abc import Mapping

WORDS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"de": de.WORDS, "fr": fr.WORDS, "it": it.WORDS, "en": en.WORDS}
)
LANGUAGES = tuple(WORDS)


class Words:
    """One language's words for a template: ``t.key`` or ``t("key", name=value)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._words = WORDS[lang]

    def __getattr__(self, key: str) -> str:
        try:
            return self._words[key]
        except KeyError:
            raise AttributeError(key) from None

    def __call__(self, key: str, **fields: object) -> str:
        """The text of ``key`` with its ``{fields}`` filled in."""
        return self._words[key].format(**fields)

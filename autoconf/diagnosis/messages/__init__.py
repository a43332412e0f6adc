"""The message catalogs (de, fr, it, en) and how a finding gets its words.

Each language module holds ``TEXTS`` (per code or ``code/variant``: title, explanation,
recommendation for the agent, and ``user`` for the user) and ``COMMON`` (the notice mail's
frame and the client steps). Templates are ``str.format`` strings filled from a finding's
evidence; the words are plain text and the caller escapes them for HTML.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from autoconf.diagnosis.messages import de, en, fr, it

if TYPE_CHECKING:
    from collections.abc import Mapping

    from autoconf.diagnosis.findings import Finding

LANGUAGES: Mapping[str, Any] = MappingProxyType({"de": de, "fr": fr, "it": it, "en": en})
AGENT_KEYS = ("title", "explanation", "recommendation")
KEYS = (*AGENT_KEYS, "user")


def pick_language(requested: str | None, default: str = "en") -> str:
    """The first supported language of ``--lang`` or an Accept-Language header, else default.

    ``de-CH,fr;q=0.8,en;q=0.5`` gives de; q-values order the choices; ``*`` and unknown
    languages are skipped.
    """
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate((requested or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and weight > 0:
            choices.append((-weight, index, base))
    if choices:
        return min(choices)[2]
    return default if default in LANGUAGES else "en"


# Evidence keys that hold device descriptions (English from devices.py, translated here).
PROBE_KEYS = frozenset({"problems"})
DEVICE_KEYS = frozenset(
    {"deleting_device", "deleting_devices", "other_devices", "devices", "deleting",
     "keeping_device", "keeping_devices"}
)  # fmt: skip


def _values(evidence: Mapping[str, Any], lang: str) -> dict[str, str]:
    common = LANGUAGES[lang].COMMON
    unknown = common["unknown"]
    values = {}
    for key, value in evidence.items():
        if value is None:
            values[key] = unknown
        elif isinstance(value, (list, tuple)):
            values[key] = ", ".join(str(v) for v in value) or unknown
        else:
            values[key] = str(value)
        if key in DEVICE_KEYS:
            values[key] = device_text(values[key], lang)
        elif key in PROBE_KEYS:
            values[key] = probe_text(values[key], lang)
    return values


def probe_text(text: str, lang: str) -> str:
    """The probe's sentences about certificates (made in English) in ``lang``.

    Host names, dates and the TLS library's own reason stay as they are.
    """
    for pattern, local in LANGUAGES[lang].COMMON["probe_sentences"]:
        text = re.sub(pattern, local, text)
    return text


def device_text(text: str, lang: str) -> str:
    """A device description or behaviour (made in English by events.devices) in ``lang``."""
    for english, local in LANGUAGES[lang].COMMON["device_words"]:
        text = text.replace(english, local)
    return text


def texts(key: str, lang: str) -> dict[str, str]:
    """The templates of a code (or code/variant) in a language."""
    table: dict[str, dict[str, str]] = LANGUAGES[lang].TEXTS
    return table[key]


def render(key: str, evidence: Mapping[str, Any], lang: str) -> dict[str, str]:
    """Every text of a code filled from ``evidence``: title, explanation, recommendation, user."""
    values = _values(evidence, lang)
    out = {name: template.format_map(values) for name, template in texts(key, lang).items()}
    if evidence.get("unseen"):
        extra = LANGUAGES[lang].COMMON["unseen"].format_map(values)
        out["explanation"] += extra
        out["user"] += extra
    return out


def localize(finding: Finding, lang: str) -> Finding:
    """The finding with its words in ``lang`` (for the support agent)."""
    words = render(finding.message_key, finding.evidence, lang)
    return finding.worded(words["title"], words["explanation"], words["recommendation"])


def user_text(finding: Finding, lang: str) -> str:
    """The user's version of a finding, in plain words."""
    return render(finding.message_key, finding.evidence, lang)["user"]


def common(key: str, lang: str, **fields: str) -> str:
    """A frame text of the notice (subject, greeting, intro, steps, footer)."""
    template: str = LANGUAGES[lang].COMMON[key]
    return template.format_map(fields)

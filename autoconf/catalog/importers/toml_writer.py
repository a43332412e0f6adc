"""Write TOML for the catalog's shapes: tables, arrays of tables, strings, numbers, booleans.

There is no TOML writer among the dependencies and tomllib only reads, so this module writes
the small subset a catalog needs, escaping every string as a TOML basic string. Keys and values
come from imported files, so nothing is written unescaped; tests read every output back with
tomllib.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # not allowed in comments (tab is)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04X}"


def string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"'


def key(name: str) -> str:
    """A key, bare when TOML allows it, quoted otherwise."""
    return name if _BARE_KEY.fullmatch(name) else string(name)


def _is_table(value: object) -> bool:
    return isinstance(value, Mapping)


def _is_table_array(value: object) -> bool:
    return (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and all(isinstance(item, Mapping) for item in value)
    )


def scalar(value: Any) -> str:
    """A value that fits on the line of its key: string, integer, boolean or flat array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Sequence):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    raise TypeError(f"TOML writer: cannot write a value of type {type(value).__name__}")


def _table(lines: list[str], path: list[str], table: Mapping[str, Any], header: str) -> None:
    """Append one table: its plain keys first, then its sub-tables and arrays of tables."""
    if header:
        if lines:
            lines.append("")
        lines.append(header)
    nested = []
    for name, value in table.items():
        if value is None:
            continue
        if _is_table(value) or _is_table_array(value):
            nested.append((name, value))
        else:
            lines.append(f"{key(name)} = {scalar(value)}")
    for name, value in nested:
        sub_path = [*path, key(name)]
        dotted = ".".join(sub_path)
        if _is_table(value):
            _table(lines, sub_path, value, f"[{dotted}]")
        else:
            for item in value:
                _table(lines, sub_path, item, f"[[{dotted}]]")


def dumps(data: Mapping[str, Any], comment: str = "") -> str:
    """The TOML text of ``data``; ``comment`` lines go on top, each behind a ``#``.

    None values are left out (TOML has no null). Sub-tables and arrays of tables follow the
    plain keys of their table, as TOML requires.
    """
    lines = [f"# {_CONTROL.sub('?', line)}".rstrip() for line in comment.splitlines()]
    if lines:
        lines.append("")
    body: list[str] = []
    _table(body, [], data, "")
    return "\n".join(lines + body) + "\n"

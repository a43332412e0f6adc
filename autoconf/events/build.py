"""Positional constructors for the frozen, slotted event and session classes, and a table of ints.

Ingest builds one object per line; the keyword ``__init__`` of a frozen dataclass pays one
``object.__setattr__`` per field, several times the cost of the plain stores used here.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Callable


class Numbers(dict[str, int]):
    """``NUMBERS[digits]`` is ``int(digits)``: a table lookup below 10,000, ``int`` above.

    For the counters the regexes match as ``[0-9]+``: ``int`` of a str costs several
    times a dict lookup, and most counters, pids and ports in a log are small.
    """

    __slots__ = ()

    def __missing__(self, digits: str) -> int:
        return int(digits)


NUMBERS: Final = Numbers((str(n), n) for n in range(10_000))

_E = TypeVar("_E")


def positional(cls: type[_E], order: str) -> Callable[..., _E]:
    """A positional constructor of the frozen, slotted dataclass ``cls``: fields of ``order``.

    The frozen ``__init__`` pays one ``object.__setattr__`` per field. This one fills a twin
    class with the same slots by plain attribute stores, then makes the object a ``cls`` by
    assigning ``__class__`` (allowed between classes of identical layout). Fields not in
    ``order`` (optional ones added to the model later) get their defaults. It proves once that
    it builds what ``__init__`` builds; a class where it cannot (``__post_init__``, other
    layouts, required fields it does not know) is built through ``__init__`` instead.
    """
    names = order.split()
    fields = dataclasses.fields(cast("Any", cls))

    def through_init(*args: object) -> _E:
        return cls(**dict(zip(names, args, strict=True)))

    slots = cls.__dict__.get("__slots__")
    if (
        hasattr(cls, "__post_init__")
        or not isinstance(slots, tuple)
        or not {f.name for f in fields} <= set(slots)
        or not all(f.init for f in fields)
        or not set(names) <= {f.name for f in fields}
    ):
        return through_init
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": slots, "__module__": __name__})
    namespace: dict[str, object] = {"_new": object.__new__, "_twin": twin, "_cls": cls}
    body = []
    for i, field in enumerate(fields):
        if field.name in names:
            value = field.name
        elif field.default is not dataclasses.MISSING:
            namespace[f"_default{i}"] = field.default
            value = f"_default{i}"
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory{i}"] = field.default_factory
            value = f"_factory{i}()"
        else:
            return through_init
        body.append(f"    obj_.{field.name} = {value}\n")
    source = (
        f"def make({', '.join(names)}):\n    obj_ = _new(_twin)\n{''.join(body)}"
        "    obj_.__class__ = _cls\n    return obj_\n"
    )
    exec(source, namespace)  # noqa: S102 - our own text, built from the dataclass fields
    make = cast("Callable[..., _E]", namespace["make"])
    probe = [object() for _ in names]
    try:
        same = make(*probe) == through_init(*probe)
    except TypeError:  # "object layout differs": __class__ cannot be assigned
        same = False
    return make if same else through_init

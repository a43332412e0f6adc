"""The ``autoconf import`` command: clientConfig files or automx2 -> catalog TOML.

The catalog goes to standard output or ``--out`` (written whole, then renamed into place);
what could not be carried over goes to standard error, one sentence a line, and into the
file's header comment. Unreadable input is ImportFailed: one sentence, exit status 1.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from autoconf.catalog.importers import automx2, ispdb, toml_writer
from autoconf.catalog.importers.common import ImportFailed

if TYPE_CHECKING:
    import argparse

    from autoconf.catalog.importers.common import Imported


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``import`` to the autoconf command."""
    p = sub.add_parser(
        "import", help="write a catalog from Mozilla clientConfig (ISPDB) files or automx2"
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--ispdb", nargs="+", type=Path, metavar="FILE.xml", help="Mozilla clientConfig files"
    )
    source.add_argument(
        "--automx2",
        metavar="DB-URL|seed.json",
        help="sqlite:///path, postgresql://user@host/db, or automx2's JSON seed file",
    )
    p.add_argument("--out", type=Path, help="catalog file to write (default: standard output)")
    p.set_defaults(func=cmd_import)


def header(sources: list[str], imported: Imported) -> str:
    """The comment on top of the written catalog: where it came from, what was left out."""
    lines = ["Catalog written by `autoconf import` from:", *(f"  {s}" for s in sources)]
    if imported.notes:
        lines += ["", "Notes from the import (check these before serving):"]
        lines += [f"- {note}" for note in imported.notes]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Write the whole file beside its place, then rename it there."""
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise ImportFailed(f"{path} cannot be written: {exc.strerror or exc}") from None


def cmd_import(args: argparse.Namespace) -> int:
    """Import, print the notes, write the catalog."""
    if args.ispdb:
        sources = [str(p) for p in args.ispdb]
        imported = ispdb.import_files(args.ispdb)
    else:
        sources = [automx2.redact(args.automx2)]
        imported = asyncio.run(automx2.import_automx2(args.automx2))
    text = toml_writer.dumps(imported.data, header(sources, imported))
    for note in imported.notes:
        sys.stderr.write(f"note: {note}\n")
    catalog = imported.catalog
    summary = (
        f"{len(catalog.model.providers)} provider(s), {catalog.domain_count} domain(s); "
        f"{len(imported.notes)} note(s)"
    )
    if args.out is None:
        sys.stdout.write(text)
        sys.stderr.write(f"imported {summary}\n")
    else:
        write_atomically(args.out, text)
        sys.stderr.write(f"wrote {args.out}: {summary}\n")
    return 0

"""A Dovecot for probe tests: the fixture's instance plus a master user and many users.

A pytest plugin (``pytest_plugins = ["tests.servers.probe_dovecot"]``) built on
tests/servers/dovecot.py's ``DovecotServer``: the same listeners and certificate, plus

- a Dovecot master user ``MASTER`` (``auth_master_user_separator = *``), so the probe can
  log in as ``user*probe-master``;
- users ``user0001@example.com`` ... (password ``pw-<n>``), one per test, so tests that
  delete or move mail never share a mailbox with other tests.

``ProbeDovecot(base, users=N)`` is also what bench/probe_bench.py starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.servers.dovecot import DOVECOT, NOT_INSTALLED, DovecotServer

if TYPE_CHECKING:
    from collections.abc import Iterator

MASTER = ("probe-master", "master-pw-9")
TEST_USERS = 60

_MASTER_CONFIG = """
auth_master_user_separator = *
passdb {{
  driver = passwd-file
  master = yes
  args = scheme=PLAIN {base}/master-users
  pass = yes
}}
"""


def user(n: int) -> tuple[str, str]:
    """The n-th numbered user: address and password."""
    return f"user{n:04d}@example.com", f"pw-{n}"


class ProbeDovecot(DovecotServer):
    """DovecotServer with a master user and ``users`` numbered users besides alice and bob."""

    def __init__(self, base: Path, users: int = TEST_USERS) -> None:
        super().__init__(base, rich=False)
        self.users.update(user(n) for n in range(1, users + 1))
        self.master = MASTER
        self._next = itertools.count(1)
        self.user_count = users

    def prepare(self) -> None:
        """The fixture's preparation, then the master passdb."""
        super().prepare()
        master = self.base / "master-users"
        master.write_text(f"{MASTER[0]}:{{PLAIN}}{MASTER[1]}::::::\n")
        master.chmod(0o640)
        with contextlib.suppress(KeyError, PermissionError):
            shutil.chown(master, group="dovecot")
        with self.config.open("a") as fh:
            fh.write(_MASTER_CONFIG.format(base=self.base))

    def fresh_user(self) -> tuple[str, str]:
        """A numbered user no other test has taken yet."""
        n = next(self._next)
        if n > self.user_count:
            raise AssertionError("ProbeDovecot ran out of test users; raise TEST_USERS")
        return user(n)

    def maildir(self, address: str) -> Path:
        """The user's Maildir."""
        return self.base / "mail" / address.split("@", maxsplit=1)[0] / "Maildir"

    def message_files(self, address: str) -> dict[str, tuple[str, str, str]]:
        """Every message file of a user: base name -> (folder, flags, SHA-256 of the bytes).

        Dovecot's own index, cache and uidlist files are left out, and so is the move from
        new/ to cur/ (the file and its name stay the same; only the flags part is added).
        """
        root = self.maildir(address)
        found: dict[str, tuple[str, str, str]] = {}
        for path in root.rglob("*"):
            if not path.is_file() or path.parent.name not in ("cur", "new"):
                continue
            folder = path.parent.parent.relative_to(root).as_posix()
            name, _, flags = path.name.partition(":2,")
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[name] = (folder, flags, digest)
        return found


@pytest.fixture(scope="session")
def probe_dovecot() -> Iterator[ProbeDovecot]:
    """A Dovecot with a master user and numbered users, for the whole test session."""
    if not Path(DOVECOT).exists():
        pytest.fail(NOT_INSTALLED)
    base = Path(tempfile.mkdtemp(prefix="autoconf-probe-dovecot-"))
    server = ProbeDovecot(base)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)

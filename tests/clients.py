"""Real mail clients for the Dovecot tests.

imaplib and poplib from a chosen source address, and Debian's fetchmail.
"""

from __future__ import annotations

import imaplib
import os
import poplib
import shutil
import socket
import subprocess
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import ssl
    from pathlib import Path

    from tests.servers.dovecot import DovecotServer


class SourceIMAP(imaplib.IMAP4):
    """imaplib from a chosen 127.x source address, so each client has its own rip."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, timeout=10)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, (self._source, 0))


class SourcePOP3(poplib.POP3):
    """poplib from a chosen source address."""

    def __init__(self, host: str, port: int, source: str) -> None:
        self._source = source
        super().__init__(host, port, timeout=10)

    def _create_socket(self, timeout: float) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout, (self._source, 0))


class SourcePOP3S(poplib.POP3_SSL):
    """poplib over implicit TLS from a chosen source address."""

    def __init__(self, host: str, port: int, source: str, context: ssl.SSLContext) -> None:
        self._source = source
        super().__init__(host, port, timeout=10, context=context)

    def _create_socket(self, timeout: float) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout, (self._source, 0))
        return self.context.wrap_socket(sock, server_hostname="localhost")


def fetchmail(
    server: DovecotServer, home: Path, user: str, password: str, *, keep: bool = False
) -> str:
    """Debian's fetchmail over POP3S: download, then delete on the server unless ``keep``.

    Returns what it delivered (an mbox).
    """
    if shutil.which("fetchmail") is None:
        pytest.fail("fetchmail is not installed: run .ci/run or apt-get install fetchmail")
    home.mkdir(parents=True, exist_ok=True)
    mbox = home / "fetched.mbox"
    rc = home / "fetchmailrc"
    rc.write_text(
        f"set no syslog\n"
        f"poll 127.0.0.1 protocol POP3 service {server.ports.pop3s}\n"
        f'  user "{user}" there with password "{password}" is root here\n'
        f'  options ssl sslcertck sslcertfile "{server.cert}" sslcommonname localhost\n'
        f"  fetchall {'keep' if keep else 'no keep'}\n"
        f"  mda \"/bin/sh -c 'cat >> {mbox}'\"\n"
    )
    rc.chmod(0o600)
    env = {**os.environ, "HOME": str(home), "FETCHMAILHOME": str(home)}
    done = subprocess.run(
        ["fetchmail", "--nodetach", "-f", str(rc), "--pidfile", str(home / "pid"),
         "--idfile", str(home / "ids")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return mbox.read_text() if mbox.exists() else ""


def message(number: int, tag: str, to: str = "alice@example.com") -> bytes:
    """Test mail number ``number`` of a run ``tag``, with Message-ID <tag.number@lab.test>."""
    msg = EmailMessage()
    msg["From"] = "Sender Person <sender@example.org>"
    msg["To"] = to
    msg["Subject"] = f"{tag} #{number}"
    msg["Message-ID"] = f"<{tag}.{number}@lab.test>"
    msg.set_content(f"message {number} of {tag}\n")
    return msg.as_bytes()

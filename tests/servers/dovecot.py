"""A real Dovecot 2.3 (Debian's packages) per test session, on free loopback ports.

A pytest plugin: load it with ``pytest_plugins = ["tests.servers.dovecot"]``. It provides two
session fixtures, each its own Dovecot instance sharing nothing with the system service:

- ``dovecot``: stock logging (Dovecot's defaults: ``Nov 29 01:34:23`` stamps, default login
  elements and ``mail_log_prefix``, default ``pop3_logout_format``), plus ``imap_id_log``.
- ``dovecot_rich``: the reference's richer logging (microsecond stamps, rport/lport, mail_log,
  verbose ``pop3_logout_format`` with deleted_bytes and uidl_hash, auth_verbose).

and a function fixture ``dovecot_events``: a factory that starts a fresh instance (stock
logging) whose event exporter POSTs the JSON events the receiver uses to a given URL; the
receiver must listen before the instance starts (the export neither queues nor retries).

Each has its own base directory (run/, log/dovecot.log, mail/<user>/Maildir, ssl/, passwd),
users alice and bob (``ALICE``/``BOB`` with their passwords), maildir storage, IMAP, IMAPS,
POP3, POP3S and LMTP listeners on 127.0.0.1 and a throwaway certificate for CN=localhost,
SAN localhost + 127.0.0.1, made with ``cryptography``. The instance runs in the foreground
(``dovecot -F -c CONFIG``) and is stopped when the session ends. If Dovecot is missing the
fixture fails; it never skips.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

DOVECOT = "/usr/sbin/dovecot"
NOT_INSTALLED = (
    "dovecot is not installed: run .ci/run or "
    "apt-get install dovecot-imapd dovecot-pop3d dovecot-lmtpd"
)
DOMAIN = "example.com"
ALICE = ("alice@example.com", "alice-pw-1")
BOB = ("bob@example.com", "bob-pw-2")
MAIL_USER = "nobody"  # owner of the maildirs; any unprivileged account will do
START_TIMEOUT = 15.0

_COMMON = """\
instance_name = autoconf-test-{ident}
base_dir = {base}/run
state_dir = {base}/state
listen = 127.0.0.1
protocols = imap pop3 lmtp
log_path = {base}/log/dovecot.log
{extra}disable_plaintext_auth = no
auth_username_format = %Ln
auth_mechanisms = plain login
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%Ln {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/mail/%Ln
}}
first_valid_uid = 1
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}
ssl = yes
ssl_cert = <{base}/ssl/cert.pem
ssl_key = <{base}/ssl/key.pem
ssl_min_protocol = TLSv1.2
protocol imap {{
  imap_id_log = *
}}
protocol lmtp {{
  postmaster_address = postmaster@{domain}
}}
service imap-login {{
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3}
  }}
  inet_listener pop3s {{
    port = {pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"""

_RICH = """\
log_timestamp = "%Y-%m-%d %H:%M:%S.%{usecs} "
auth_verbose = yes
login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l \
lport=%{lport} mpid=%e %c %k session=<%{session}>
mail_log_prefix = "%s(%u)<%{pid}><%{session}><%{rip}>: "
mail_plugins = $mail_plugins notify mail_log
plugin {
  mail_log_events = delete undelete expunge copy mailbox_delete mailbox_rename flag_change save
  mail_log_fields = uid box msgid size vsize flags from subject
}
protocol pop3 {
  pop3_logout_format = top=%t/%p, retr=%r/%b, del=%d/%m, size=%s, \
deleted_bytes=%{deleted_bytes}, uidl_hash=%u, in=%i, out=%o
}
"""

_EVENTS = """\
event_exporter autoconf {{
  format = json
  format_args = time-rfc3339
  transport = http-post
  transport_args = "{url}"
  transport_timeout = 5sec
}}
metric autoconf_auth {{
  filter = event=auth_request_finished
  exporter = autoconf
}}
metric autoconf_auth_client {{
  filter = event=auth_client_request_finished
  exporter = autoconf
}}
metric autoconf_imap_id {{
  filter = event=imap_command_finished AND cmd_name=ID
  exporter = autoconf
}}
metric autoconf_opened {{
  filter = event=mail_opened
  exporter = autoconf
}}
metric autoconf_expunge_requested {{
  filter = event=mail_expunge_requested
  exporter = autoconf
}}
metric autoconf_expunged {{
  filter = event=mail_expunged
  exporter = autoconf
}}
metric autoconf_delivery {{
  filter = event=mail_delivery_finished
  exporter = autoconf
}}
metric autoconf_session_finished {{
  filter = event=mail_user_session_finished
  exporter = autoconf
}}
"""


@dataclass(frozen=True)
class Ports:
    """The instance's TCP ports on 127.0.0.1."""

    imap: int
    imaps: int
    pop3: int
    pop3s: int
    lmtp: int


def free_ports(count: int) -> list[int]:
    """Ports the kernel hands out for port 0 on 127.0.0.1, all held until all are known."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def write_certificate(cert_path: Path, key_path: Path) -> None:
    """A throwaway self-signed certificate for CN=localhost, SAN localhost and 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)


class DovecotServer:
    """One running Dovecot instance; ``start()`` and ``stop()`` are idempotent."""

    def __init__(self, base: Path, *, rich: bool, events_url: str | None = None) -> None:
        self.base = base
        self.rich = rich
        self.events_url = events_url
        self.host = "127.0.0.1"
        self.domain = DOMAIN
        self.users = {ALICE[0]: ALICE[1], BOB[0]: BOB[1]}
        self.config = base / "dovecot.conf"
        self.log_path = base / "log" / "dovecot.log"
        self.cert = base / "ssl" / "cert.pem"
        numbers = free_ports(5)
        self.ports = Ports(*numbers)
        self._process: subprocess.Popen[bytes] | None = None

    def prepare(self) -> None:
        """Directories, users, certificate and configuration."""
        account = pwd.getpwnam(MAIL_USER)
        self.base.chmod(0o755)  # login and mail processes must reach run/ and mail/
        for sub in ("run", "state", "log", "mail", "ssl"):
            (self.base / sub).mkdir(exist_ok=True)
        os.chown(self.base / "mail", account.pw_uid, account.pw_gid)
        write_certificate(self.cert, self.base / "ssl" / "key.pem")
        passwd = self.base / "passwd"
        lines = [f"{user.split('@')[0]}:{{PLAIN}}{pw}::::::\n" for user, pw in self.users.items()]
        passwd.write_text("".join(lines))
        passwd.chmod(0o640)
        with contextlib.suppress(KeyError, PermissionError):
            shutil.chown(passwd, group="dovecot")
        text = _COMMON.format(
            ident=self.base.name,
            base=self.base,
            uid=account.pw_uid,
            gid=account.pw_gid,
            domain=self.domain,
            extra=_RICH if self.rich else "",
            **vars(self.ports),
        )
        if self.events_url is not None:
            text += _EVENTS.format(url=self.events_url)
        self.config.write_text(text)

    def start(self) -> None:
        """Start in the foreground and wait until every port accepts connections."""
        if self._process is not None:
            return
        self.prepare()
        stderr = (self.base / "log" / "stderr.log").open("wb")
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL,
            stdout=stderr,
            stderr=stderr,
        )
        stderr.close()
        deadline = time.monotonic() + START_TIMEOUT
        waiting = list(vars(self.ports).values())
        while waiting:
            if self._process.poll() is not None:
                self._fail(f"dovecot exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                self._fail(f"dovecot did not listen on {waiting} within {START_TIMEOUT:g}s")
            try:
                with socket.create_connection((self.host, waiting[0]), timeout=0.5):
                    waiting.pop(0)
            except OSError:
                time.sleep(0.05)

    def _fail(self, what: str) -> None:
        out = (self.base / "log" / "stderr.log").read_text(errors="replace")
        log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        pytest.fail(f"{what}\n--- stderr ---\n{out[-3000:]}\n--- log ---\n{log[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, then wait (kill after 10 s)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    # ------------------------------------------------------------ helpers for tests

    def deliver(self, user: str, message: bytes, sender: str = "sender@example.org") -> None:
        """One LMTP transaction to ``user`` (an address); raises if it is refused."""
        with smtplib.LMTP(self.host, self.ports.lmtp, timeout=10) as lmtp:
            refused = lmtp.sendmail(sender, [user], message)
        if refused:
            raise AssertionError(f"LMTP refused {user}: {refused}")

    def log_lines(self) -> list[str]:
        """Every line Dovecot has written to its log so far."""
        if not self.log_path.exists():
            return []
        with self.log_path.open(encoding="utf-8", errors="surrogateescape") as fh:
            return fh.readlines()

    def wait_for_log(
        self, predicate: Callable[[list[str]], bool], timeout: float = 10
    ) -> list[str]:
        """Poll the log until ``predicate(lines)`` holds (the log process writes a bit later)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_lines()
            if predicate(lines):
                return lines
            if time.monotonic() > deadline:
                tail = "".join(lines[-30:])
                what = f"the Dovecot log did not reach the expected state in {timeout}s"
                raise AssertionError(f"{what}:\n{tail}")
            time.sleep(0.05)


def _server(rich: bool) -> Iterator[DovecotServer]:
    if not Path(DOVECOT).exists():
        pytest.fail(NOT_INSTALLED)
    base = Path(tempfile.mkdtemp(prefix="autoconf-dovecot-"))
    server = DovecotServer(base, rich=rich)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """A Dovecot with stock logging (plus imap_id_log), for the whole test session."""
    yield from _server(rich=False)


@pytest.fixture(scope="session")
def dovecot_rich() -> Iterator[DovecotServer]:
    """A Dovecot with the reference's rich logging (mail_log, verbose POP3 logout)."""
    yield from _server(rich=True)


@pytest.fixture
def dovecot_events() -> Iterator[Callable[[str], DovecotServer]]:
    """Start a Dovecot that exports its events to ``url`` (http-post); stopped after the test."""
    started: list[tuple[DovecotServer, Path]] = []

    def start(url: str) -> DovecotServer:
        if not Path(DOVECOT).exists():
            pytest.fail(NOT_INSTALLED)
        base = Path(tempfile.mkdtemp(prefix="autoconf-dovecot-events-"))
        server = DovecotServer(base, rich=False, events_url=url)
        started.append((server, base))
        server.start()
        return server

    try:
        yield start
    finally:
        for server, base in started:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)

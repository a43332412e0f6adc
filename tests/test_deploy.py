"""deploy/: nginx in front over TLS, systemd units, the Dovecot snippet, compose, Dockerfile.

Each file is checked by the tool that reads it where that tool runs here (nginx, systemd-analyze,
doveconf and a real Dovecot); compose.yaml, the Kubernetes manifest and the Dockerfile only
structurally, since no container engine runs on this machine. PyYAML (installed as a dependency
of schemathesis) reads the YAML files.
"""

from __future__ import annotations

import asyncio
import imaplib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import aiohttp
import pytest
import trustme
import yaml
from aiohttp.test_utils import make_mocked_request

from autoconf.config import load_settings
from autoconf.errors import ConfigError
from autoconf.events.follow import Ingest, Options
from autoconf.store.sqlite import SQLiteStore
from autoconf.web.client_ip import client_address, client_scheme
from autoconf.web.keys import SETTINGS, STORE
from tests.clients import SourceIMAP, SourcePOP3, message
from tests.conftest import ALICE, free_port
from tests.servers.dovecot import DOVECOT, DovecotServer

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from aiohttp import web
    from aiohttp.test_utils import TestClient

    from autoconf.events.sessions import Session
    from autoconf.store.base import Store

    Client = TestClient[web.Request, web.Application]

DEPLOY = Path(__file__).parent.parent / "deploy"
AUTOCONF_BIN = Path(sys.executable).parent / "autoconf"
CLIENT_IP = "127.0.0.5"  # the client's source address: nginx itself connects from 127.0.0.1
OTHER_IP = "127.0.0.6"
SECRET = "deploy-events-secret-0123"
SITE_NAMES = ("autoconfig.example.com", "autodiscover.example.com", "support.example.net")
AUTOCONFIG = f"/mail/config-v1.1.xml?emailaddress={ALICE}"
OK, MOVED, NOT_FOUND = 200, 301, 404


# ------------------------------------------------------------------------- client address


def _request(peer: str, headers: dict[str, str], proxies: tuple[str, ...]) -> web.Request:
    app: web.Application = aiohttp.web.Application()
    app[SETTINGS] = load_settings(demo=True, trusted_proxies=proxies)
    transport = _Transport(peer)
    return make_mocked_request("GET", "/", headers=headers, app=app, transport=transport)


class _Transport:
    """Just enough of a transport for request.remote."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("127.0.0.1", "203.0.113.7", (), "127.0.0.1"),  # default: no proxy is believed
        ("198.51.100.9", "203.0.113.7", ("127.0.0.1",), "198.51.100.9"),  # not a proxy
        ("127.0.0.1", "203.0.113.7", ("127.0.0.1",), "203.0.113.7"),
        ("10.0.0.2", "203.0.113.7, 10.0.0.1", ("10.0.0.0/8",), "203.0.113.7"),  # two hops
        ("10.0.0.2", "6.6.6.6, 203.0.113.7", ("10.0.0.0/8",), "203.0.113.7"),  # spoofed left
        ("10.0.0.2", "10.0.0.3", ("10.0.0.0/8",), "10.0.0.3"),  # only proxies: the first
        ("::1", "2001:db8::5", ("::1",), "2001:db8::5"),
        ("127.0.0.1", "<script>", ("127.0.0.1",), "127.0.0.1"),  # garbage is never taken
        ("127.0.0.1", "", ("127.0.0.1",), "127.0.0.1"),
    ],
)
def test_client_address_believes_only_trusted_proxies(peer, forwarded, proxies, expected):
    """X-Forwarded-For names the client only when the peer is a trusted proxy."""
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    assert client_address(_request(peer, headers, proxies)) == expected


def test_client_scheme_from_trusted_proxy_only():
    """X-Forwarded-Proto counts from a trusted proxy; otherwise the connection's scheme."""
    headers = {"X-Forwarded-Proto": "https"}
    assert client_scheme(_request("127.0.0.1", headers, ("127.0.0.1",))) == "https"
    assert client_scheme(_request("192.0.2.1", headers, ("127.0.0.1",))) == "http"
    assert client_scheme(_request("127.0.0.1", {"X-Forwarded-Proto": "gopher"}, ())) == "http"


def test_bad_trusted_proxy_is_a_sentence():
    """A trusted_proxies entry that is no network is refused at start with its value."""
    with pytest.raises(ConfigError) as caught:
        load_settings(demo=True, trusted_proxies=("10.0.0.0/33",))
    assert "trusted_proxies" in str(caught.value.lines)
    assert "'10.0.0.0/33' is no address or CIDR network" in str(caught.value.lines)


# ------------------------------------------------------------------------------- nginx


def render_site(  # noqa: PLR0917 - the values the test changes, each named
    base: Path, http: int, https: int, upstream: int, cert: Path, key: Path
) -> Path:
    """deploy/nginx with test ports, certificate and paths; returns the main nginx.conf."""
    site = (DEPLOY / "nginx" / "autoconf.conf").read_text()
    proxy = base / "autoconf-proxy.conf"
    shutil.copy(DEPLOY / "nginx" / "autoconf-proxy.conf", proxy)
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https} ssl http2;",
        "server 127.0.0.1:8080;": f"server 127.0.0.1:{upstream};",
        "/etc/letsencrypt/live/autoconfig.example.com/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/autoconfig.example.com/privkey.pem": str(key),
        "/etc/nginx/autoconf-proxy.conf": str(proxy),
        "/var/log/nginx/": f"{base}/",
        "/var/www/html": str(base),
    }
    for old, new in replacements.items():
        assert old in site, old
        site = site.replace(old, new)
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (base / "site.conf").write_text(site)
    main = base / "nginx.conf"
    main.write_text(
        f"pid {base}/nginx.pid;\nerror_log {base}/error.log;\n"
        "worker_processes 1;\nevents { worker_connections 64; }\n"
        f"http {{\n  client_body_temp_path {base}/body;\n  proxy_temp_path {base}/proxy;\n"
        f"  fastcgi_temp_path {base}/fastcgi;\n  uwsgi_temp_path {base}/uwsgi;\n"
        f"  scgi_temp_path {base}/scgi;\n  access_log off;\n  include {base}/site.conf;\n}}\n"
    )
    return main


@pytest.fixture(scope="module")
def pki() -> trustme.CA:
    """A CA that signed one certificate for every name of the site."""
    return trustme.CA()


@pytest.fixture
def nginx_conf(tmp_path: Path, pki: trustme.CA) -> Callable[[int], tuple[Path, int, int]]:
    """Render the site in front of an upstream port: (nginx.conf, http port, https port)."""

    def render(upstream: int) -> tuple[Path, int, int]:
        leaf = pki.issue_cert(*SITE_NAMES)
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        leaf.cert_chain_pems[0].write_to_path(cert)
        leaf.private_key_pem.write_to_path(key)
        http, https = free_port(), free_port()
        return render_site(tmp_path, http, https, upstream, cert, key), http, https

    return render


def test_nginx_site_passes_nginx_t(nginx_conf):
    """`nginx -t` accepts the site as shipped, with only ports, certificate and paths changed."""
    conf, _, _ = nginx_conf(8080)
    done = subprocess.run(
        ["nginx", "-t", "-c", str(conf)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


@pytest.fixture
def nginx(nginx_conf) -> Iterator[Callable[[int], tuple[int, int]]]:
    """Run nginx with the site in front of an upstream port; yields (http, https)."""
    running: list[subprocess.Popen[bytes]] = []

    def start(upstream: int) -> tuple[int, int]:
        conf, http, https = nginx_conf(upstream)
        proc = subprocess.Popen(
            ["nginx", "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        running.append(proc)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", https), 0.2):
                    return http, https
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "nginx did not listen"
                time.sleep(0.05)

    yield start
    for proc in running:
        proc.terminate()
        proc.wait(10)


async def _sightings_ips(client: Client) -> list[str]:
    """The source addresses of alice's sightings once the buffer has flushed."""
    for _ in range(100):
        rows = await client.app[STORE].sightings(mailbox=ALICE, limit=100)
        if rows:
            return sorted({row.ip for row in rows})
        await asyncio.sleep(0.05)
    return []


async def test_nginx_in_front_forwards_the_client_address_over_tls(service, nginx, pki):
    """Through nginx over TLS: the answer arrives and the sighting holds the client's address."""
    client = await service(trusted_proxies=("127.0.0.1",))
    http, https = nginx(client.port)
    context = ssl.create_default_context()
    pki.configure_trust(context)
    connector = aiohttp.TCPConnector(ssl=context, local_addr=(CLIENT_IP, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        spoofed = {"Host": "autoconfig.example.com", "X-Forwarded-For": "6.6.6.6"}
        async with session.get(
            f"https://127.0.0.1:{https}{AUTOCONFIG}",
            server_hostname="autoconfig.example.com",
            headers=spoofed,
        ) as resp:
            body = await resp.text()
            assert resp.status == OK, body
            assert "<clientConfig" in body
            assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
        for path, status in (("/metrics", NOT_FOUND), ("/api/v1/events/dovecot", NOT_FOUND)):
            async with session.get(
                f"https://127.0.0.1:{https}{path}", server_hostname="autoconfig.example.com"
            ) as resp:
                assert resp.status == status, path
        plain = f"http://127.0.0.1:{http}"
        headers = {"Host": "autoconfig.example.com"}
        async with session.get(plain + AUTOCONFIG, headers=headers) as resp:
            assert resp.status == OK  # old Thunderbird asks over plain HTTP
        async with session.get(
            plain + "/autodiscover/autodiscover.xml", headers=headers, allow_redirects=False
        ) as resp:
            assert resp.status == MOVED
            assert resp.headers["Location"].startswith("https://autoconfig.example.com/")
    assert await _sightings_ips(client) == [CLIENT_IP]


async def test_forwarded_header_from_an_untrusted_peer_is_ignored(service):
    """Straight to the service, a client cannot choose its address with X-Forwarded-For."""
    client = await service(trusted_proxies=("127.0.0.1",))
    connector = aiohttp.TCPConnector(local_addr=(OTHER_IP, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.get(
            f"http://127.0.0.1:{client.port}{AUTOCONFIG}", headers={"X-Forwarded-For": "6.6.6.6"}
        ) as resp,
    ):
        assert resp.status == OK
    assert await _sightings_ips(client) == [OTHER_IP]


# ----------------------------------------------------------------------------- systemd


def _render_unit(name: str, into: Path) -> Path:
    text = (DEPLOY / "systemd" / name).read_text()
    assert "/opt/autoconf/.venv/bin/autoconf" in text
    unit = into / name
    unit.write_text(text.replace("/opt/autoconf/.venv/bin/autoconf", str(AUTOCONF_BIN)))
    return unit


@pytest.mark.parametrize("name", ["autoconf.service", "autoconf-ingest.service"])
def test_systemd_units_verify_and_are_sandboxed(tmp_path, name):
    """`systemd-analyze verify` passes without a warning; the sandbox scores below 2 (OK)."""
    unit = _render_unit(name, tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert found, security.stdout + security.stderr
    assert float(found.group(1)) < 2.0, security.stdout
    text = unit.read_text()
    assert "KillSignal=SIGTERM" in text
    if name == "autoconf.service":
        assert "KillMode=mixed" in text  # only the parent is signalled; it stops its workers


def test_systemd_verify_catches_a_typo(tmp_path):
    """The check above can fail: a misspelt sandbox key is reported."""
    unit = _render_unit("autoconf.service", tmp_path)
    unit.write_text(unit.read_text().replace("NoNewPrivileges=", "NoNewPrivilege="))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert "Unknown key" in done.stderr


# ----------------------------------------------------------------------------- Dovecot

SNIPPET = DEPLOY / "dovecot" / "95-autoconf.conf"
SNIPPET_URL = "http://127.0.0.1:8080/api/v1/events/dovecot?secret=CHANGE-ME-events-secret"


class SnippetDovecot(DovecotServer):
    """The test Dovecot (stock logging) with deploy's snippet included, exporting to ``url``."""

    def __init__(self, base: Path, url: str) -> None:
        super().__init__(base, rich=False)
        self.url = url

    def prepare(self) -> None:
        """The fixture's configuration, then the snippet with the test URL."""
        super().prepare()
        text = SNIPPET.read_text()
        assert SNIPPET_URL in text
        snippet = self.base / "95-autoconf.conf"
        snippet.write_text(text.replace(SNIPPET_URL, self.url))
        with self.config.open("a") as fh:
            fh.write(f"!include {snippet}\n")


def _doveconf(config: Path, *args: str) -> str:
    done = subprocess.run(
        ["doveconf", "-c", str(config), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_dovecot_snippet_passes_doveconf(tmp_path):
    """`doveconf -n` accepts the snippet inside the test Dovecot's config and shows its settings."""
    server = SnippetDovecot(tmp_path, "http://127.0.0.1:9/api/v1/events/dovecot?secret=x")
    server.prepare()
    shown = _doveconf(server.config, "-n")
    for line in (
        'mail_plugins = " notify mail_log"',
        "imap_id_log = *",
        "auth_verbose = yes",
        "uidl_hash=%u",
        "rport=%{rport}",
        'mail_log_prefix = "%s(%u)<%{pid}><%{session}><%{rip}>: "',
        "transport = http-post",
        "filter = event=mail_expunged",
    ):
        assert line in shown, line
    url = _doveconf(server.config, "-h", "event_exporter/autoconf/transport_args").strip()
    assert url == "http://127.0.0.1:9/api/v1/events/dovecot?secret=x"


async def test_dovecot_with_the_snippet_feeds_both_ingest_paths(
    service: Callable[..., Awaitable[Client]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real Dovecot with the snippet: its events reach the service and its log parses fully."""
    if not Path(DOVECOT).exists():
        pytest.fail("dovecot is not installed: run scripts/install")
    monkeypatch.setitem(imaplib.Commands, "ID", ("NONAUTH", "AUTH", "SELECTED"))
    client = await service(events_secret=SECRET, default_domain="example.com")
    url = str(client.make_url("/api/v1/events/dovecot").with_query(secret=SECRET))
    base = Path(tempfile.mkdtemp(prefix="autoconf-dovecot-deploy-"))
    server = SnippetDovecot(base, url)
    try:
        await asyncio.to_thread(server.start)
        await asyncio.to_thread(_mail_clients, server)
        exported = await _wait_for_pop3(client.app[STORE])
        lines = await asyncio.to_thread(
            server.wait_for_log, lambda ls: sum("Disconnected: Logged out" in x for x in ls) >= 1
        )
        log_copy = tmp_path / "dovecot.log"
        log_copy.write_text("".join(lines))
    finally:
        await asyncio.to_thread(server.stop)
        shutil.rmtree(base, ignore_errors=True)
    assert (exported.deleted, exported.lport) == (3, server.ports.pop3)

    store = SQLiteStore(tmp_path / "ingest.sqlite3")
    await store.open()
    try:
        options = Options(year=2026, zone=UTC, default_domain="example.com")
        await Ingest(store, options).file(log_copy)
        sessions = {s.protocol: s for s in await store.sessions(ALICE)}
        mail = await store.mail_events(ALICE)
    finally:
        await store.close()
    pop3, imap = sessions["pop3"], sessions["imap"]
    # each of these comes from one line of the snippet; stock logging leaves them empty
    assert (pop3.rip, pop3.lport, pop3.deleted, pop3.uidl) == (
        "127.0.0.3",
        server.ports.pop3,
        3,
        True,
    )
    assert pop3.deleted_bytes is not None
    assert pop3.deleted_bytes > 0
    assert (imap.client_name, imap.rip) == ("iPhone Mail", "127.0.0.2")
    expunged = sorted(m.msgid or "" for m in mail if m.action == "expunge")
    assert expunged == [f"<deploy.{n}@lab.test>" for n in (1, 2, 3)]


def _mail_clients(server: DovecotServer) -> None:
    """Deliver 3; an iPhone looks (IMAP ID); a POP3 client takes all and deletes them."""
    for number in (1, 2, 3):
        server.deliver(ALICE, message(number, "deploy"))
    imap = SourceIMAP(server.host, server.ports.imap, "127.0.0.2")
    try:
        imap.login(ALICE, server.users[ALICE])
        typ, _ = imap.xatom("ID", '("name" "iPhone Mail" "os" "iOS")')
        assert typ == "OK"
        imap.select("INBOX")
    finally:
        imap.logout()
    pop = SourcePOP3(server.host, server.ports.pop3, "127.0.0.3")
    try:
        pop.user(ALICE)
        pop.pass_(server.users[ALICE])
        pop.uidl()
        for number in (1, 2, 3):
            pop.retr(number)
            pop.dele(number)
    finally:
        pop.quit()


async def _wait_for_pop3(store: Store) -> Session:
    """The exported POP3 session once its deletions have arrived."""
    deadline = time.monotonic() + 15
    while True:
        found = [s for s in await store.sessions(ALICE) if s.protocol == "pop3" and s.deleted]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "the exported events did not arrive"
        await asyncio.sleep(0.1)


# --------------------------------------------------------------- compose, image, k8s


def _compose() -> dict[str, object]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_wires_service_postgres_and_dovecot(tmp_path):
    """compose.yaml: the three services, the DSN to postgres, Dovecot's export to the service."""
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"autoconf", "postgres", "dovecot"}
    app, db, dovecot = services["autoconf"], services["postgres"], services["dovecot"]
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    env = app["environment"]
    dsn = urlsplit(env["AUTOCONF_DATABASE_URL"].replace("${POSTGRES_PASSWORD:-autoconf}", "pw"))
    assert (dsn.hostname, dsn.port, dsn.path) == (
        "postgres",
        5432,
        f"/{db['environment']['POSTGRES_DB']}",
    )
    assert dsn.username == db["environment"]["POSTGRES_USER"]
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in db
    port = int(app["ports"][0].rsplit(":", 1)[1])
    mounts = {m.split(":")[1]: m.split(":")[0] for m in dovecot["volumes"]}
    snippet = mounts["/etc/dovecot/conf.d/95-autoconf.conf"]
    assert (DEPLOY / snippet).resolve() == SNIPPET.resolve()
    export = compose["configs"][dovecot["configs"][0]["source"]]["content"]
    secret_var = re.search(r"\$\{(\w+)", env["AUTOCONF_EVENTS_SECRET"]).group(1)
    url = re.search(r"transport_args = (\S+)", export).group(1)
    target = urlsplit(url)
    assert (target.hostname, target.port, target.path) == (
        "autoconf",
        port,
        "/api/v1/events/dovecot",
    )
    assert target.query == f"secret=${{{secret_var}}}"  # the same secret the service checks
    # the override, with the variable filled in, really moves the exporter (doveconf agrees)
    server = SnippetDovecot(tmp_path, SNIPPET_URL)
    server.prepare()
    override = tmp_path / "96-autoconf-export.conf"
    override.write_text(export.replace(f"${{{secret_var}}}", SECRET))
    with server.config.open("a") as fh:
        fh.write(f"!include {override}\n")
    shown = _doveconf(server.config, "-h", "event_exporter/autoconf/transport_args").strip()
    assert shown == f"http://autoconf:{port}/api/v1/events/dovecot?secret={SECRET}"
    load_settings(**{k[len("AUTOCONF_") :].lower(): _plain(v) for k, v in env.items()})


def _plain(value: str) -> object:
    """A compose environment value as the service would read it (defaults filled in)."""
    value = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)
    value = re.sub(r"\$\{\w+:\?[^}]*\}", SECRET, value)
    return yaml.safe_load(value) if value.startswith("[") else value


def _stages(dockerfile: str) -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined), split into stages."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    lines = [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.startswith("#")]
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def test_dockerfile_is_multi_stage_non_root_with_health_check():
    """Two stages; the final one copies the venv, runs as a non-root user, has a HEALTHCHECK."""
    stages = _stages((DEPLOY / "Dockerfile").read_text())
    assert len(stages) >= 2
    build, final = stages[0], stages[-1]
    assert " AS build" in build[0]
    assert any("build-essential" in line for line in build)
    assert not any(re.search(r"build-essential|gcc|apt-get install", ln) for ln in final)
    assert any(ln.startswith("COPY --from=build /opt/autoconf") for ln in final)
    users = [ln.split()[1] for ln in final if ln.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    health = [ln for ln in final if ln.startswith("HEALTHCHECK ")]
    assert health
    assert "/healthz" in health[0]
    assert any(ln.startswith("ENTRYPOINT") and "autoconf" in ln for ln in final)


def test_kubernetes_manifest_probes_and_settings():
    """The manifest: non-root pods probing /readyz and /healthz; its settings file validates."""
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "autoconf.yaml").read_text()))
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"ConfigMap", "Deployment", "Service"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    with tempfile.NamedTemporaryFile("w", suffix=".toml") as fh:
        fh.write(kinds["ConfigMap"]["data"]["autoconf.toml"])
        fh.flush()
        settings = load_settings(Path(fh.name))
    assert settings.workers == 2


@pytest.mark.parametrize("name", ["autoconf.single.toml", "autoconf.multi.toml"])
def test_example_settings_files_validate(name):
    """deploy's example settings load without an error, each in its own store mode."""
    settings = load_settings(DEPLOY / name)
    assert settings.trusted_proxies
    if name == "autoconf.multi.toml":
        assert settings.database_url is not None
        assert settings.database_url.startswith("postgresql://")
    else:
        assert settings.database_url is None


def test_readme_says_the_image_was_not_built_here():
    """The deployment guide says plainly that no container engine ran here."""
    readme = (DEPLOY.parent / "README.md").read_text()
    section = readme.split("## Deployment", 1)[1].split("\n## ", 1)[0]
    assert "not built" in section
    for topic in ("dns-records", "nginx", "Dovecot", "PostgreSQL", "backup", "migration"):
        assert topic.lower() in section.lower(), topic

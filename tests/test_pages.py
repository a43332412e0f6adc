"""Support pages over a real socket: login, lockout, CSRF, cookies, escaping, languages.

Also the store's dashboard aggregates on SQLite and PostgreSQL, and ``autoconf user``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

import pytest
from markupsafe import escape
from yarl import URL

from autoconf.diagnosis import messages
from autoconf.events.sessions import Session
from autoconf.sightings import ClientKind, Endpoint, Sighting
from autoconf.store.base import DomainHealth, Incident
from autoconf.web.keys import STORE
from autoconf.web.support.session import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    check_password,
    hash_password,
    parse_user_entry,
)
from autoconf.web.support.words import WORDS

if TYPE_CHECKING:
    from aiohttp.test_utils import TestClient

    from autoconf.store.base import Store

pytest_plugins = ["tests.servers.postgres"]

M = "carla@example.com"
PASSWORD = "correct horse 9"
AGENT = f"support:anna:{hash_password(PASSWORD)}"
ADMIN = f"admin:ops:{hash_password(PASSWORD)}"
SECRET = "s" * 40
HOSTILE = '<script>alert("x")</script>'


def esc(text: str) -> str:
    """Text as the page template writes it."""
    return str(escape(text))


CSRF = re.compile(r'name="csrf" value="([^"]*)"')


def seed_sessions(mailbox: str, at: float, client_name: str = "iPhone Mail") -> list[Session]:
    """An IMAP phone and a POP3 PC that deletes what it downloads: pop-delete-multi-device."""
    phone = Session(key=f"{mailbox}-i1", mailbox=mailbox, protocol="imap", rip="203.0.113.5",
                    tls=True, started_at=at, ended_at=at + 5, client_name=client_name,
                    client_os="iOS")  # fmt: skip
    pc = Session(key=f"{mailbox}-p1", mailbox=mailbox, protocol="pop3", rip="198.51.100.7",
                 lport=995, tls=True, started_at=at + 60, ended_at=at + 62, retrieved=3,
                 deleted=3, messages=3)  # fmt: skip
    return [phone, pc]


async def start(service: Any, **overrides: Any) -> TestClient[Any, Any]:
    """The service with one support agent (anna) and one admin (ops)."""
    settings = {"page_users": (AGENT, ADMIN), "session_secret": SECRET, **overrides}
    return await service(**settings)


async def login(client: TestClient[Any, Any], name: str = "anna", password: str = PASSWORD,
                target: str = "/support/") -> Any:  # fmt: skip
    """Fetch the form, post it with its token; the (unfollowed) answer."""
    form = await client.get("/login", params={"next": target})
    token = CSRF.search(await form.text())
    assert token is not None
    return await client.post(
        "/login",
        data={"csrf": token.group(1), "name": name, "password": password, "next": target},
        allow_redirects=False,
    )


async def page_csrf(client: TestClient[Any, Any], path: str) -> str:
    """The CSRF token of the forms on a page."""
    found = CSRF.search(await (await client.get(path)).text())
    assert found is not None
    return found.group(1)


async def test_pages_need_a_session(service):
    """Without a session a page redirects to the login form, naming the page to come back to."""
    client = await start(service)
    answer = await client.get(f"/support/mailbox/{M}?lang=de", allow_redirects=False)
    assert answer.status == 303
    location = URL(answer.headers["Location"])
    assert location.path == "/login"
    assert location.query["next"] == f"/support/mailbox/{M}?lang=de"
    for path in ("/support/", "/support/incidents", "/support/dashboard"):
        assert (await client.get(path, allow_redirects=False)).status == 303
    # the style sheet is public, and only the known file
    css = await client.get("/static/support.css")
    assert css.status == 200
    assert css.content_type == "text/css"
    assert (await client.get("/static/secret.txt")).status == 404


async def test_wrong_password_then_right_one_sets_a_strict_cookie(service):
    """A wrong password: 401 and a sentence; the right one: 303 and the session cookie's flags."""
    client = await start(service)
    wrong = await login(client, password="nope")
    assert wrong.status == 401
    assert esc(WORDS["en"]["login_failed"]) in await wrong.text()
    assert SESSION_COOKIE not in wrong.cookies
    right = await login(client, target=f"/support/mailbox/{M}")
    assert right.status == 303
    assert right.headers["Location"] == f"/support/mailbox/{M}"
    cookie = next(v for v in right.headers.getall("Set-Cookie") if v.startswith(SESSION_COOKIE))
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "max-age", "path"} <= flags
    assert "SameSite=Strict" in cookie
    assert "Max-Age=28800" in cookie
    assert "secure" not in flags  # plain http on loopback
    page = await client.get(f"/support/mailbox/{M}")
    assert page.status == 200
    assert "Signed in as anna (support)" in await page.text()


async def test_cookie_is_secure_over_tls_or_when_told(service):
    """secure_cookies=always marks the cookie Secure; auto does so behind a trusted https proxy."""
    client = await start(service, secure_cookies="always")
    form = await client.get("/login")
    assert "Secure" in form.headers["Set-Cookie"]
    # the client keeps Secure cookies from http, so hand the login cookie over by hand
    nonce = form.cookies[LOGIN_COOKIE].value
    token = CSRF.search(await form.text())
    assert token is not None
    answer = await client.post(
        "/login", data={"csrf": token.group(1), "name": "anna", "password": PASSWORD},
        headers={"Cookie": f"{LOGIN_COOKIE}={nonce}"}, allow_redirects=False,
    )  # fmt: skip
    assert answer.status == 303
    session = next(v for v in answer.headers.getall("Set-Cookie") if v.startswith(SESSION_COOKIE))
    assert "Secure" in session
    proxied = await start(service, trusted_proxies=("127.0.0.1",))
    form = await proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in form.headers["Set-Cookie"]
    plain = await proxied.get("/login", headers={"X-Forwarded-Proto": "http"})
    assert "Secure" not in plain.headers["Set-Cookie"]


async def test_failed_logins_are_rate_limited(service):
    """After 5 failures for a name, even the right password gets a 429 page with a sentence."""
    client = await start(service)
    for _ in range(5):
        assert (await login(client, password="wrong")).status == 401
    locked = await login(client)
    assert locked.status == 429
    text = await locked.text()
    assert "Too many failed sign-ins" in text
    assert SESSION_COOKIE not in locked.cookies
    # another name from the same address is locked too (per address)
    assert (await login(client, name="ops")).status == 429


async def test_a_form_without_its_token_is_refused(service):
    """Login, probe, notice and logout without the CSRF token: 403 and a sentence."""
    client = await start(service)
    bare = await client.post("/login", data={"name": "anna", "password": PASSWORD})
    assert bare.status == 403
    assert "out of date" in await bare.text()
    assert (await login(client)).status == 303
    for action in ("probe", "notice"):
        refused = await client.post(f"/support/mailbox/{M}/{action}", data={"csrf": "forged"})
        assert refused.status == 403
    assert (await client.post("/logout", data={})).status == 403
    # the page still works, and with its token logout ends the session
    token = await page_csrf(client, "/support/")
    out = await client.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/support/", allow_redirects=False)).status == 303


async def test_next_only_leads_to_local_pages(service):
    """A next= pointing elsewhere sends the agent to the search page instead."""
    client = await start(service)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = await login(client, target=target)
        assert answer.headers["Location"] == "/support/", target
        await client.post("/logout", data={"csrf": await page_csrf(client, "/support/")})


async def test_a_forged_or_stale_session_is_no_session(service):
    """A cookie signed with another secret, or of a user whose password changed, is refused."""
    client = await start(service)
    await login(client)
    good = client.session.cookie_jar.filter_cookies(client.make_url("/"))[SESSION_COOKIE].value
    other = await start(service, session_secret="t" * 40)
    other.session.cookie_jar.update_cookies({SESSION_COOKIE: good})
    assert (await other.get("/support/", allow_redirects=False)).status == 303
    changed = await start(service, page_users=(f"support:anna:{hash_password('x' * 12)}",))
    changed.session.cookie_jar.update_cookies({SESSION_COOKIE: good})
    assert (await changed.get("/support/", allow_redirects=False)).status == 303
    same = await start(service)
    same.session.cookie_jar.update_cookies({SESSION_COOKIE: good})
    assert (await same.get("/support/", allow_redirects=False)).status == 200


async def test_the_page_session_opens_the_api(service):
    """A signed-in browser may call the JSON API; without the cookie it may not."""
    client = await start(service)
    url = f"/api/v1/mailboxes/{M}/diagnosis"
    refused = await client.get(url)
    assert refused.status == 401
    assert "or sign in at /login" in (await refused.json())["message"]
    await login(client)
    assert (await client.get(url)).status == 200
    # a write through the API with the cookie only from this site's own pages
    probe = f"/api/v1/mailboxes/{M}/probe"
    for headers, status in (({"Sec-Fetch-Site": "cross-site"}, 401),
                            ({"Origin": "https://evil.example"}, 401),
                            ({"Sec-Fetch-Site": "same-origin"}, 409)):  # fmt: skip
        assert (await client.post(probe, headers=headers)).status == status, headers


@pytest.mark.parametrize("lang", ["de", "fr", "it", "en"])
async def test_mailbox_page_in_four_languages(service, lang):
    """The critical finding, the agent's words and what to tell the customer, in each language."""
    client = await start(service)
    now = time.time()
    await client.app[STORE].apply(seed_sessions(M, now - 600), [])
    await login(client)
    page = await client.get(f"/support/mailbox/{M}", params={"lang": lang})
    assert page.status == 200
    text = await page.text()
    assert f'<html lang="{lang}">' in text
    assert page.headers["Content-Language"] == lang
    assert 'id="finding-pop-delete-multi-device"' in text
    assert esc(WORDS[lang]["tell_customer"]) in text
    title = messages.texts("pop-delete-multi-device", lang)["title"]
    assert esc(title) in text
    assert "<svg" in text
    assert text.count('class="deleting"') >= 1  # the POP3 session that deleted, in red
    # the device table and the timeline read in the page's language too
    behaviour = messages.device_text("deletes after download", lang)
    assert esc(behaviour) in text
    assert (behaviour == "deletes after download") == (lang == "en")
    assert ("fetches with RETR" in text) == (lang == "en")
    # the language sticks in a cookie for the next page
    again = await client.get("/support/incidents")
    assert f'<html lang="{lang}">' in await again.text()


async def test_language_from_accept_language_and_the_switcher(service):
    """No ?lang=: Accept-Language picks it (no cookie set); the switcher links all four."""
    client = await start(service)
    form = await client.get("/login", headers={"Accept-Language": "it-CH, de;q=0.5"})
    text = await form.text()
    assert '<html lang="it">' in text
    assert esc(WORDS["it"]["login_button"]) in text
    assert "autoconf_lang" not in form.cookies
    for code in ("de", "fr", "it", "en"):
        assert f'hreflang="{code}"' in text
    chosen = await client.get("/login?lang=fr", headers={"Accept-Language": "it"})
    assert '<html lang="fr">' in await chosen.text()
    assert chosen.cookies["autoconf_lang"].value == "fr"


async def test_hostile_names_are_escaped(service):
    """A client name, a User-Agent and a search with markup show as text, never as markup."""
    client = await start(service)
    now = time.time()
    store = client.app[STORE]
    await store.apply(seed_sessions(M, now - 600, client_name=HOSTILE), [])
    await store.add_sightings([Sighting("example.com", M, ClientKind.OTHER, Endpoint.AUTOCONFIG,
                                        "192.0.2.1", HOSTILE, now - 50, now - 40)])  # fmt: skip
    await login(client)
    for path in (f"/support/mailbox/{M}", "/support/dashboard", f"/support/?q={HOSTILE}"):
        text = await (await client.get(path)).text()
        assert "<script>" not in text, path
        assert "&lt;script&gt;" in text, path
    bad = await client.get("/support/mailbox/%3Cb%3E")
    assert bad.status == 400
    assert "<b>" not in await bad.text()


async def test_search_lists_mailboxes_and_goes_to_an_exact_one(service):
    """A beginning lists known mailboxes; a full address alone goes to its page."""
    client = await start(service)
    now = time.time()
    await client.app[STORE].apply(seed_sessions(M, now - 600), [])
    await client.app[STORE].apply(seed_sessions("carl@example.com", now - 600), [])
    await login(client)
    listed = await (await client.get("/support/", params={"q": "car"})).text()
    assert f'href="/support/mailbox/{M}"' in listed
    assert 'href="/support/mailbox/carl@example.com"' in listed
    direct = await client.get("/support/", params={"q": M}, allow_redirects=False)
    assert direct.headers["Location"] == f"/support/mailbox/{M}"
    none = await (await client.get("/support/", params={"q": "zz"})).text()
    assert "No known mailbox starts with" in none


async def test_probe_without_master_user_says_why_and_is_audited(service):
    """Probe now with no master user: the page says so (409) and the audit log has it."""
    client = await start(service)
    await login(client)
    token = await page_csrf(client, f"/support/mailbox/{M}")
    answer = await client.post(f"/support/mailbox/{M}/probe", data={"csrf": token})
    assert answer.status == 409
    assert "probe_master_user" in await answer.text()
    (entry,) = await client.app[STORE].audit(mailbox=M)
    assert (entry.actor, entry.action) == ("anna", "probe")


async def test_notice_when_notices_are_off(service):
    """Send the notice with notice_transport off: a sentence, nothing sent, audited."""
    client = await start(service)
    now = time.time()
    await client.app[STORE].apply(seed_sessions(M, now - 600), [])
    await login(client)
    token = await page_csrf(client, f"/support/mailbox/{M}")
    answer = await client.post(f"/support/mailbox/{M}/notice", data={"csrf": token})
    assert "notice_transport = off" in await answer.text()
    (entry,) = await client.app[STORE].audit(mailbox=M)
    assert entry.action == "notice"


async def test_incidents_and_dashboard(service):
    """The incident list names the mailbox at risk; the dashboard draws its seven charts."""
    client = await start(service)
    now = time.time()
    store = client.app[STORE]
    await login(client)
    before = await (await client.get("/support/dashboard")).text()
    assert before.count("No data in this period.") == 7
    await store.apply(seed_sessions(M, now - 600), [])
    await store.add_sightings([Sighting("example.com", M, ClientKind.THUNDERBIRD,
                                        Endpoint.AUTOCONFIG, "192.0.2.1", "Thunderbird/128",
                                        now - 50, now - 40, 3)])  # fmt: skip
    await client.get(f"/support/mailbox/{M}")  # the diagnosis opens the incident
    listed = await (await client.get("/support/incidents?severity=critical")).text()
    assert f'href="/support/mailbox/{M}"' in listed
    empty = await (await client.get("/support/incidents?severity=info")).text()
    assert "No incidents." in empty
    board = await client.get("/support/dashboard?days=7")
    assert board.status == 200
    text = await board.text()
    assert text.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 7
    assert "thunderbird" in text
    assert "Newest session event" in text


# ------------------------------------------------------------------ store aggregates

DAY = 86400.0
T0 = 1_800_000_000.0 - 1_800_000_000.0 % DAY  # a UTC midnight


async def test_dashboard_aggregates(store: Store):
    """Sessions per day and protocol, at-risk mailboxes per moment, setup and IMAP ID tallies."""
    probe = Session(key="probe", mailbox=M, protocol="imap", started_at=T0 + 10,
                    client_name="autoconf-probe")  # fmt: skip
    await store.apply([*seed_sessions(M, T0 + 100), *seed_sessions("b@example.com", T0 + DAY),
                       probe], [])  # fmt: skip
    assert await store.session_counts(T0, DAY) == [
        (T0, "imap", 1), (T0, "pop3", 1), (T0 + DAY, "imap", 1), (T0 + DAY, "pop3", 1),
    ]  # fmt: skip
    assert await store.session_counts(T0 + DAY, DAY) == [(T0 + DAY, "imap", 1),
                                                         (T0 + DAY, "pop3", 1)]  # fmt: skip
    assert await store.imap_clients(T0) == [("iPhone Mail", 2)]
    for mailbox, severity, opened, resolved in (
        (M, "critical", T0, None), ("b@example.com", "warning", T0, T0 + DAY),
    ):  # fmt: skip
        incident = Incident(mailbox=mailbox, code="pop-delete-multi-device", severity=severity,
                            state="open" if resolved is None else "resolved", opened_at=opened,
                            updated_at=opened, cause_at=opened, resolved_at=resolved)  # fmt: skip
        await store.save_incident(incident, "opened")
    assert await store.at_risk([T0 - 1, T0 + 10, T0 + 2 * DAY]) == [
        (T0 + 10, "critical", 1), (T0 + 10, "warning", 1), (T0 + 2 * DAY, "critical", 1),
    ]  # fmt: skip
    assert await store.at_risk([]) == []
    await store.add_sightings([
        Sighting("example.com", M, ClientKind.OUTLOOK, Endpoint.AUTODISCOVER, "192.0.2.1", "x",
                 T0, T0 + 5, 4),
        Sighting("example.com", M, ClientKind.APPLE, Endpoint.MOBILECONFIG, "192.0.2.1", "y",
                 T0, T0 + 5, 1),
        Sighting("example.com", M, ClientKind.APPLE, Endpoint.MOBILECONFIG, "192.0.2.2", "y",
                 T0 - DAY, T0 - DAY, 9),
    ])  # fmt: skip
    assert await store.setup_requests(T0) == [("autodiscover", "outlook", 4),
                                              ("mobileconfig", "apple", 1)]  # fmt: skip
    state = await store.ingest_state()
    assert state.newest_event_at == T0 + DAY + 62
    assert state.sources == []


# ------------------------------------------------------------------ autoconf user


def test_user_command_prints_an_entry_that_checks():
    """`autoconf user` reads the password from stdin and prints a page_users entry."""
    done = subprocess.run(
        [sys.executable, "-m", "autoconf", "user", "--name", "anna", "--role", "admin"],
        input="a long password\n", capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    user = parse_user_entry(done.stdout.strip())
    assert (user.name, user.role.label) == ("anna", "admin")
    assert check_password("a long password", user.password_hash)
    assert not check_password("a long passwort", user.password_hash)
    short = subprocess.run(
        [sys.executable, "-m", "autoconf", "user", "--name", "anna"],
        input="short\n", capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert short.returncode == 2
    assert "8 characters" in short.stderr


def test_bad_page_users_entries_are_sentences():
    """A page_users entry that is not role:name:hash fails with a sentence."""
    for entry, words in (("anna:hash", "role:name:hash"), ("boss:anna:scrypt$1$1$1$a$b", "role"),
                         ("support:anna:md5$x", "scrypt$n$r$p$salt$key")):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape(words)):
            parse_user_entry(entry)


def test_words_have_the_same_keys_in_every_language():
    """de, fr and it say everything en says, with the same {fields}."""
    fields = re.compile(r"{(\w+)}")
    for lang in ("de", "fr", "it"):
        assert set(WORDS[lang]) == set(WORDS["en"]), lang
        for key, text in WORDS["en"].items():
            assert set(fields.findall(WORDS[lang][key])) == set(fields.findall(text)), (lang, key)


async def test_dashboard_lists_domains_that_fail_or_warn(service):
    """Fleet results reach the dashboard: counts by status, failing domains first, escaped."""
    client = await start(service)
    store = client.app[STORE]
    await login(client)
    empty = await (await client.get("/support/dashboard")).text()
    assert "No domain has been checked yet" in empty
    now = time.time()
    rows = [("broken.example", "fail", "Outlook: the certificate of <b>x</b> expired."),
            ("meh.example", "warn", "Thunderbird: works, but only over STARTTLS."),
            ("fine.example", "pass", "Thunderbird: works, IMAP over TLS.")]  # fmt: skip
    for domain, status, summary in rows:
        health = DomainHealth(domain=domain, status=status, checked_at=now - 60, summary=summary)
        await store.save_domain_health(health)
    text = await (await client.get("/support/dashboard?lang=fr")).text()
    assert "Derniers contrôles : 1 en échec, 1 avec avertissements, 1 en ordre." in text
    assert text.count("broken.example") == 1  # in the page's body, not in its title or head
    assert "<section" not in text[: text.index("</head>")]
    assert text.index("broken.example") < text.index("meh.example")
    assert "fine.example" not in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "<b>x</b>" not in text


async def test_login_page_says_how_to_add_the_first_agent(service):
    """Without page_users the sign-in form says how to make an agent; with agents it does not."""
    bare = await service()
    text = await (await bare.get("/login")).text()
    assert esc("make an entry with 'autoconf user --name NAME'") in text
    configured = await start(service)
    assert "autoconf user" not in await (await configured.get("/login")).text()


async def test_login_failures_in_the_store(store: Store):
    """Failures count per key within the window; older ones are forgotten when one is added."""
    keys = ("address:192.0.2.1", "name:anna")
    for n in range(3):
        await store.add_login_failure(keys, T0 + n, T0 - 300)
    await store.add_login_failure(("address:192.0.2.1", "name:ops"), T0 + 10, T0 - 300)
    assert await store.login_failures(keys, T0) == 4  # the address: 4, the name anna: 3
    assert await store.login_failures(("name:anna",), T0) == 3
    assert await store.login_failures(("name:anna",), T0 + 2) == 1
    assert await store.login_failures(("name:nobody",), T0) == 0
    await store.add_login_failure(("name:ops",), T0 + 1000, T0 + 500)  # forgets the rest
    assert await store.login_failures(keys, 0) == 0


async def test_lockout_holds_across_services_on_one_store(service):
    """Two services (workers or instances) on one store count the same failed sign-ins."""
    first = await start(service)
    second = await start(service)  # the same data directory: the same store
    for client in (first, second, first, second, first):
        assert (await login(client, password="wrong")).status == 401
    assert (await login(second)).status == 429
    assert (await login(first)).status == 429

"""The support pages in Debian's Chromium (headless, Playwright) against the real service.

An agent signs in, looks up a mailbox whose POP3 client deletes mail beside a phone, sees
the critical finding and the device timeline, reads what to tell the customer in German and
in French, presses "probe now" (the real Dovecot of tests/servers/probe_dovecot.py, as the
master user), sends the notice (over LMTP into that Dovecot), and keeps a screenshot in
$AUTOCONF_ARTIFACTS (default tests/artifacts/).
"""

from __future__ import annotations

import email
import email.policy
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.async_api import async_playwright

from autoconf.diagnosis import messages
from autoconf.web.keys import STORE
from autoconf.web.support.session import hash_password
from autoconf.web.support.words import WORDS
from tests.test_pages import seed_sessions
from tests.test_probe_cli import catalog, master_env

if TYPE_CHECKING:
    from playwright.async_api import Page

    from tests.servers.probe_dovecot import ProbeDovecot

pytest_plugins = ["tests.servers.probe_dovecot"]

CHROMIUM = "/usr/bin/chromium"
PNG = b"\x89PNG\r\n\x1a\n"
PASSWORD = "agent password 7"
ARTIFACTS = Path(os.environ.get("AUTOCONF_ARTIFACTS") or Path(__file__).parent / "artifacts")


async def sign_in_and_find(page: Page, base: str, address: str) -> None:
    """Log in, search the address; the finding, the timeline, the advice in de and fr."""
    await page.goto(f"{base}/support/")
    assert "/login" in page.url  # an unknown visitor lands on the login form
    await page.fill("#name", "anna")
    await page.fill("#password", PASSWORD)
    await page.click("form.login button")
    await page.wait_for_url(f"{base}/support/")
    await page.fill("#q", address)
    await page.click("form.search button")
    await page.wait_for_url(f"{base}/support/mailbox/{address}")
    finding = page.locator("#finding-pop-delete-multi-device")
    assert await finding.is_visible()
    assert "critical" in (await finding.get_attribute("class") or "")
    assert await page.locator("svg.timeline").is_visible()
    assert await page.locator("svg.timeline circle.deleting").count() >= 1
    assert await page.locator("section.devices tbody tr").count() == 2
    for lang in ("de", "fr"):  # what to tell the customer, in German, then in French
        await page.click(f".languages a[hreflang={lang}]")
        await page.wait_for_load_state()
        assert await page.locator("html").get_attribute("lang") == lang
        heading = finding.locator("h4").nth(2)
        assert await heading.text_content() == WORDS[lang]["tell_customer"]
        advice = await finding.locator("blockquote.customer").inner_text()
        assert address not in advice
        assert len(advice) > 80


async def probe_and_notify(page: Page) -> None:
    """Probe now (the page is in French), then send the notice in German."""
    probe = page.locator("button[value=probe]")
    assert await probe.inner_text() == WORDS["fr"]["probe_now"]
    await probe.click()
    result = page.locator("#probe-result")
    await result.wait_for()
    text = await result.inner_text()
    assert "connexion ok" in text, text
    await page.select_option("select[name=notice_lang]", "de")
    await page.click("button[value=notice]")
    sent = page.locator("#notice-result")
    await sent.wait_for()
    assert "L'avis a été envoyé" in await sent.inner_text()


async def test_agent_finds_a_mailbox_at_risk_probes_it_and_notifies(
    service, probe_dovecot: ProbeDovecot, tmp_path
):
    """Sign in, search, finding + timeline, German and French advice, probe, notice, PNG."""
    address, _ = probe_dovecot.fresh_user()
    probe_dovecot.deliver(address, b"Subject: hi\r\nMessage-ID: <b-1@example.org>\r\n\r\nhi\r\n")
    env = master_env(probe_dovecot, tmp_path)
    client = await service(
        catalog(probe_dovecot, tmp_path),
        page_users=(f"support:anna:{hash_password(PASSWORD)}",),
        session_secret="b" * 40,
        probe_master_user=env["AUTOCONF_PROBE_MASTER_USER"],
        probe_master_password_file=tmp_path / "master.pw",
        probe_ca_file=probe_dovecot.cert,
        notice_transport="lmtp",
        notice_host="127.0.0.1",
        notice_port=probe_dovecot.ports.lmtp,
        notice_sender="support@example.com",
    )
    await client.app[STORE].apply(seed_sessions(address, time.time() - 900), [])
    base = str(client.make_url("/")).rstrip("/")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "support-mailbox.png"
    board = ARTIFACTS / "support-dashboard.png"
    for old in (shot, board):
        old.unlink(missing_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = await browser.new_page(locale="en-US")
            page.set_default_timeout(20_000)
            await sign_in_and_find(page, base, address)
            await probe_and_notify(page)
            await page.screenshot(path=str(shot), full_page=True)
            await page.goto(f"{base}/support/dashboard?lang=en")
            assert await page.locator("svg.chart").count() == 7
            assert await page.locator("svg.chart polygon.area").count() == 2  # POP3, IMAP
            await page.screenshot(path=str(board), full_page=True)
        finally:
            await browser.close()
    assert shot.read_bytes()[:8] == PNG
    assert board.read_bytes()[:8] == PNG
    inbox = probe_dovecot.maildir(address) / "new"
    notices = [p.read_bytes() for p in inbox.iterdir() if b"X-Autoconf-Notice" in p.read_bytes()]
    assert len(notices) == 1
    notice = email.message_from_bytes(notices[0], policy=email.policy.default)
    assert notice["Subject"] == messages.common("subject", "de")
    actions = [(e.actor, e.action) for e in await client.app[STORE].audit(mailbox=address)]
    assert actions == [("anna", "notice"), ("anna", "probe")]

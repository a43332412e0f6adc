"""Diagnosis: the pure rules, the four message catalogs, incidents on both stores, the API."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

import pytest

from autoconf.diagnosis import messages, service
from autoconf.diagnosis.findings import CODES, IMAP_ONLY, VARIANTS, Finding
from autoconf.diagnosis.rules import DAY, ProbeFacts, diagnose
from autoconf.events import devices
from autoconf.events.sessions import MailRecord, Session
from autoconf.notify.mail import HEADER, compose, wants_notice
from autoconf.store.base import Incident
from autoconf.web.auth import new_token
from autoconf.web.keys import STORE

if TYPE_CHECKING:
    from collections.abc import Sequence

    from autoconf.store.base import Store

pytest_plugins = ["tests.servers.postgres"]

M = "alice@example.com"
NOW = 1_800_000_000.0
PHONE_IP = "203.0.113.5"
PC_IP = "198.51.100.7"
LAPTOP_IP = "192.0.2.9"


def imap(key: str, at: float, ip: str = PHONE_IP, **extra: Any) -> Session:
    """An iPhone IMAP session of 5 seconds at ``at``."""
    fields: dict[str, Any] = {
        "mailbox": M, "protocol": "imap", "rip": ip, "tls": True, "started_at": at,
        "ended_at": at + 5, "client_name": "iPhone Mail", "client_os": "iOS",
    }  # fmt: skip
    return Session(key=key, **{**fields, **extra})


def pop(
    key: str, at: float, ip: str = PC_IP, *, got: int = 3, deleted: int = 3, **extra: Any
) -> Session:
    """A POP3 session over POP3S that retrieves ``got`` and deletes ``deleted`` of ``got``."""
    fields: dict[str, Any] = {
        "mailbox": M, "protocol": "pop3", "rip": ip, "lport": 995, "tls": True,
        "started_at": at, "ended_at": at + 2, "retrieved": got, "deleted": deleted,
        "messages": got,
    }  # fmt: skip
    return Session(key=key, **{**fields, **extra})


def delivered(at: float, msgid: str) -> MailRecord:
    """A stock LMTP delivery line."""
    return MailRecord(session=None, mailbox=M, at=at, service="lmtp", action="delivered",
                      box="INBOX", msgid=msgid)  # fmt: skip


def run(
    sessions: Sequence[Session], mail: Sequence[MailRecord] = (), **kw: Any
) -> dict[str, Finding]:
    """The rules over these sessions; findings by code."""
    found = diagnose(M, devices.build(sessions), sessions, mail, now=NOW, **kw)
    return {f.code: f for f in found.findings}


# ------------------------------------------------------------------ rules


def test_pop_deleting_on_download_beside_an_iphone_is_critical_with_counts() -> None:
    """3 delivered, the phone reads 1, the PC deletes all 3: critical, 3 removed, 2 unseen."""
    t = NOW - 3600
    mail = [delivered(t, "<1@x>"), delivered(t + 100, "<2@x>"), delivered(t + 101, "<3@x>")]
    found = run([imap("i1", t + 10), pop("p1", t + 200)], mail)
    finding = found["pop-delete-multi-device"]
    assert finding.severity == "critical"
    assert finding.evidence["removed"] == 3
    assert finding.evidence["unseen"] == 2
    assert finding.evidence["unseen_basis"] == "deliveries"
    assert finding.evidence["message_ids"] == ["<2@x>", "<3@x>"]
    assert finding.cause_at == t + 202


def test_unseen_is_unknown_when_the_deliveries_do_not_match_the_deletions() -> None:
    """Four deliveries but del=3: which three is not known, so no count is claimed."""
    t = NOW - 3600
    mail = [delivered(t + n, f"<{n}@x>") for n in range(4)]
    finding = run([imap("i1", t - 500), pop("p1", t + 200)], mail)["pop-delete-multi-device"]
    assert finding.evidence["unseen"] is None


def test_mail_log_expunges_count_unseen_messages_by_message_id() -> None:
    """With mail_log, each expunge is matched to its arrival by Message-ID."""
    t = NOW - 3600
    mail = [
        MailRecord(session=None, mailbox=M, at=t, service="lmtp", action="save", box="INBOX",
                   msgid="<a@x>"),
        MailRecord(session="p1", mailbox=M, at=t + 200, service="pop3", action="expunge",
                   box="INBOX", msgid="<a@x>"),
    ]  # fmt: skip
    finding = run([imap("i1", t - 100), pop("p1", t + 199, got=1, deleted=1)], mail)
    assert finding["pop-delete-multi-device"].evidence["unseen"] == 1
    assert finding["pop-delete-multi-device"].evidence["unseen_basis"] == "mail-log"


def test_mail_age_days_zero_is_critical_and_seven_is_a_warning() -> None:
    """Dovecot's mail_age_days separates delete-on-download from remove-after-N-days."""
    t = NOW - 3600
    on_download = run([imap("i1", t), pop("p1", t + 60, mail_age_days=0.0)])
    assert on_download["pop-delete-multi-device"].severity == "critical"
    later = run([imap("i1", t), pop("p1", t + 60, mail_age_days=7.0)])
    finding = later["pop-delete-multi-device"]
    assert (finding.severity, finding.variant, finding.evidence["days"]) == (
        "warning", "after-days", 7,
    )  # fmt: skip


def test_deleting_in_sessions_that_retrieve_nothing_is_a_warning() -> None:
    """Without ages, a session that deletes without downloading removes older mail."""
    found = run([imap("i1", NOW - 60), pop("p1", NOW - 30, got=0, deleted=2)])
    assert found["pop-delete-multi-device"].severity == "warning"


def test_pop_deleting_alone_is_single_device_info() -> None:
    """One POP3 device that deletes, nobody else: info, and nothing critical."""
    found = run([pop("p1", NOW - 60)])
    assert set(found) == {"pop-delete-single-device"}
    assert found["pop-delete-single-device"].severity == "info"


def test_window_boundary() -> None:
    """A phone seen 31 days ago is outside the 30-day window; 29 days ago is inside."""
    outside = run([imap("i1", NOW - 31 * DAY), pop("p1", NOW - 60)])
    assert set(outside) == {"pop-delete-single-device"}
    inside = run([imap("i1", NOW - 29 * DAY), pop("p1", NOW - 60)])
    assert "pop-delete-multi-device" in inside
    shorter = run([imap("i1", NOW - 29 * DAY), pop("p1", NOW - 60)], window_days=7)
    assert set(shorter) == {"pop-delete-single-device"}
    old = run([imap("i1", NOW - 60), pop("p1", NOW - 40 * DAY)])
    assert old == {}


def test_pop_keep_is_info_and_a_warning_near_the_quota() -> None:
    """A keeping POP3 client is fine, unless the mailbox is 90 % full."""
    sessions = [imap("i1", NOW - 60), pop("p1", NOW - 30, deleted=0)]
    assert run(sessions)["pop-keep"].severity == "info"
    full = run(sessions, probe=ProbeFacts(probed_at=NOW, quota_ratio=0.95))["pop-keep"]
    assert (full.severity, full.variant, full.evidence["quota_percent"]) == ("warning", "quota", 95)
    assert "pop-delete-multi-device" not in run(sessions)


def test_two_pop_clients_one_deleting_race() -> None:
    """Two POP3 devices, one deleting: pop-clients-racing."""
    found = run([pop("p1", NOW - 60), pop("p2", NOW - 30, LAPTOP_IP, deleted=0)])
    assert found["pop-clients-racing"].severity == "warning"
    assert found["pop-clients-racing"].evidence["device_count"] == 2
    assert found["pop-delete-multi-device"].severity == "critical"
    keeping = run([pop("p1", NOW - 60, deleted=0), pop("p2", NOW - 30, LAPTOP_IP, deleted=0)])
    assert "pop-clients-racing" not in keeping


def test_imap_only_is_healthy_and_no_data_is_not() -> None:
    """IMAP devices only: no finding, the healthy line; no devices: neither."""
    sessions = [imap("i1", NOW - 60)]
    result = diagnose(M, devices.build(sessions), sessions, now=NOW)
    assert (result.findings, result.healthy) == ((), IMAP_ONLY)
    empty = diagnose(M, [], [], now=NOW)
    assert (empty.findings, empty.healthy) == ((), None)


def test_cleartext_login_from_another_host_but_not_loopback() -> None:
    """A login without TLS from a public address is a warning; loopback is not counted."""
    found = run([imap("i1", NOW - 60, tls=False)])
    assert found["cleartext-login"].severity == "warning"
    assert found["cleartext-login"].evidence["protocols"] == "IMAP"
    assert run([imap("i1", NOW - 60, "127.0.0.2", tls=False)]) == {}


def test_tls_weak_and_certificate_problem_from_probe_facts() -> None:
    """Old TLS and a bad certificate, as the probe saw them."""
    probe = ProbeFacts(
        probed_at=NOW,
        tls=(("imap.example.com:993", "TLSv1.1"), ("pop.example.com:995", "TLSv1.3")),
        certificate_problems=(("imap.example.com:993", "expires in 3 days"),),
    )
    found = run([imap("i1", NOW - 60)], probe=probe)
    assert found["tls-weak"].evidence["servers"] == "imap.example.com:993 (TLSv1.1)"
    assert found["certificate-problem"].evidence["count"] == 1


def test_probe_alone_finds_the_deleting_pop3_client() -> None:
    """No deleting session in the log: vanished mail + a POP3 login + an iPhone is enough."""
    probe = ProbeFacts(
        probed_at=NOW, previous_at=NOW - 3600, gone=3, gone_unseen=2,
        pop3_last_login=NOW - 600, message_ids=("<1@x>",),
    )  # fmt: skip
    found = run([imap("i1", NOW - 1200)], probe=probe)
    finding = found["pop-delete-multi-device"]
    assert (finding.severity, finding.variant, finding.evidence["removed"]) == (
        "critical", "probe", 3,
    )  # fmt: skip
    no_pop = ProbeFacts(probed_at=NOW, previous_at=NOW - 3600, gone=3, gone_unseen=2)
    assert "pop-delete-multi-device" not in run([imap("i1", NOW - 1200)], probe=no_pop)


# ------------------------------------------------------------------ messages


def every_finding() -> list[Finding]:
    """One finding of every code and variant, as the rules make them."""
    t = NOW - 3600
    mail = [delivered(t, "<1@x>")]
    probe_facts = ProbeFacts(
        probed_at=NOW, previous_at=NOW - 3600, gone=3, gone_unseen=2, pop3_last_login=NOW - 60,
        quota_ratio=0.95, tls=(("h:993", "TLSv1"),), certificate_problems=(("h:993", "expired"),),
    )  # fmt: skip
    out: list[Finding] = []
    out += run([imap("i1", t - 100), pop("p1", t + 200, got=1, deleted=1)], mail).values()
    out += run([imap("i1", t), pop("p1", t + 60, mail_age_days=7.0)]).values()
    out += run([imap("i1", t, tls=False)], probe=probe_facts).values()
    out += run([pop("p1", t), pop("p2", t, LAPTOP_IP, deleted=0)], probe=probe_facts).values()
    out += run([pop("p1", t)]).values()
    out += run([imap("i1", t), pop("p1", t, deleted=0)]).values()
    out.append(Finding(IMAP_ONLY, "info"))
    return out


def test_every_code_and_variant_is_made_by_the_rules() -> None:
    """The findings above cover every code and message variant."""
    keys = {f.message_key for f in every_finding()}
    assert keys == set(CODES) | set(VARIANTS)


@pytest.mark.parametrize("lang", ["de", "fr", "it", "en"])
def test_every_message_exists_and_every_field_is_filled(lang: str) -> None:
    """Each language has all texts of every code, and the evidence fills every field."""
    for key in (*CODES, *VARIANTS):
        assert set(messages.texts(key, lang)) == set(messages.KEYS), (lang, key)
    for finding in every_finding():
        fields = {
            name
            for template in messages.texts(finding.message_key, lang).values()
            for _, name, _, _ in string.Formatter().parse(template)
            if name
        }
        assert fields <= set(finding.evidence), (lang, finding.message_key)
        words = messages.render(finding.message_key, finding.evidence, lang)
        for text in words.values():
            assert "{" not in text, (lang, finding.message_key)
            assert "}" not in text, (lang, finding.message_key)
    for key in ("subject", "greeting", "intro", "steps", "footer", "unseen", "unknown"):
        assert messages.LANGUAGES[lang].COMMON[key]
    steps = messages.common("steps", lang)
    for client in ("Outlook", "Thunderbird", "Apple Mail", "iPhone", "Android"):
        assert client in steps


def test_languages_differ_and_are_chosen_from_the_request() -> None:
    """Accept-Language picks the best supported language; --lang wins as given."""
    finding = every_finding()[0]
    titles = {lang: messages.localize(finding, lang).title for lang in messages.LANGUAGES}
    assert len(set(titles.values())) == 4
    assert messages.pick_language("de-CH,fr;q=0.8,en;q=0.5") == "de"
    assert messages.pick_language("es,fr;q=0.3,it;q=0.7") == "it"
    assert messages.pick_language("es", "fr") == "fr"
    assert messages.pick_language(None, "it") == "it"
    assert messages.pick_language("de;q=0,en") == "en"


# ------------------------------------------------------------------ notice


def incident(**extra: Any) -> Incident:
    """An open critical incident of the central finding."""
    finding = next(f for f in every_finding() if f.message_key == "pop-delete-multi-device")
    fields: dict[str, Any] = {
        "id": 7, "mailbox": M, "code": finding.code, "severity": finding.severity,
        "opened_at": NOW, "updated_at": NOW, "cause_at": NOW, "evidence": finding.evidence,
    }  # fmt: skip
    return Incident(**{**fields, **extra})


def test_notice_is_plain_and_html_and_marked_automatic() -> None:
    """The notice: both parts, escaped HTML, Auto-Submitted, Message-ID, our header."""
    evil = incident(evidence={**incident().evidence, "deleting_device": "<script>x</script>"})
    msg = compose(evil, "fr", "postmaster@example.com", "<n.1@example.com>", NOW)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] == "<n.1@example.com>"
    assert msg[HEADER] == "pop-delete-multi-device#7"
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert "<script>x</script>" in plain.get_content()
    assert "&lt;script&gt;" in html.get_content()
    assert "<script>" not in html.get_content()
    # mail clients pick the language (and spell checkers, screen readers) from the header
    assert msg["Content-Language"] == "fr"
    assert plain["Content-Language"] == html["Content-Language"] == "fr"
    assert wants_notice(incident())
    assert not wants_notice(incident(notified_at=NOW))
    assert not wants_notice(incident(severity="info"))


# ------------------------------------------------------------------ incidents (both stores)


async def test_incidents_open_update_resolve_with_transitions(store: Store) -> None:
    """A finding opens an incident, new evidence updates it, 14 quiet days resolve it."""
    t = NOW - 3600
    first = diagnose(M, devices.build(s := [imap("i1", t), pop("p1", t + 60)]), s, now=NOW)
    opened = await service.track(store, first, NOW, 14)
    assert [(i.code, i.severity, i.state) for i in opened] == [
        ("pop-delete-multi-device", "critical", "open")
    ]
    assert await service.track(store, first, NOW + 10, 14) == opened  # nothing new: no step
    more = [*s, pop("p2", t + 120)]
    second = diagnose(M, devices.build(more), more, now=NOW + 20)
    updated = await service.track(store, second, NOW + 20, 14)
    assert updated[0].evidence["removed"] == 6
    assert updated[0].id == opened[0].id
    later = NOW + 15 * DAY
    assert await service.track(store, diagnose(M, [], [], now=later), later, 14) == []
    assert await store.incidents(mailbox=M) == []
    done = await store.incidents(mailbox=M, state="resolved")
    assert [i.resolved_at for i in done] == [later]
    steps = await store.incident_transitions(opened[0].id or 0)
    assert [s.transition for s in steps] == ["opened", "updated", "resolved"]
    # the same old cause, seen again in the window, does not reopen it
    assert await service.track(store, second, later + 1, 14) == []


async def test_a_notice_is_claimed_once(store: Store) -> None:
    """claim_notice succeeds once per incident; last_notice_at tells the time."""
    saved = await store.save_incident(incident(id=None), "opened")
    assert saved.id is not None
    assert await store.last_notice_at(M) is None
    assert await store.claim_notice(saved.id, NOW, "<n@x>")
    assert not await store.claim_notice(saved.id, NOW + 1, "<m@x>")
    assert await store.last_notice_at(M) == NOW
    await store.release_notice(saved.id)
    assert await store.last_notice_at(M) is None
    critical = await store.incidents(severity="critical")
    assert [i.id for i in critical] == [saved.id]
    assert await store.incidents(severity="info") == []


# ------------------------------------------------------------------ API


async def test_api_diagnosis_and_findings(service: Any) -> None:
    """GET diagnosis (German by Accept-Language) tracks an incident; findings lists it."""
    token, digest = new_token()
    client = await service(api_tokens=(digest,))
    auth = {"Authorization": f"Bearer {token}"}
    import time  # noqa: PLC0415

    t = time.time() - 600
    await client.app[STORE].apply([imap("i1", t), pop("p1", t + 60)], [])
    url = f"/api/v1/mailboxes/{M}/diagnosis"
    assert (await client.get(url)).status == 401
    answer = await client.get(url, headers={**auth, "Accept-Language": "de-CH, en;q=0.5"})
    assert answer.status == 200
    body = await answer.json()
    assert body["language"] == "de"
    assert [f["code"] for f in body["findings"]] == ["pop-delete-multi-device"]
    assert "Gerät" in body["findings"][0]["title"] or "POP3" in body["findings"][0]["title"]
    assert len(body["devices"]) == 2
    listed = await client.get("/api/v1/findings?severity=critical&limit=1", headers=auth)
    page = await listed.json()
    assert [(f["mailbox"], f["code"]) for f in page["findings"]] == [(M, "pop-delete-multi-device")]
    assert page["next_offset"] is None
    none = await (await client.get("/api/v1/findings?severity=info", headers=auth)).json()
    assert none["findings"] == []
    bad = await client.get("/api/v1/findings?severity=fatal", headers=auth)
    assert bad.status == 400


@pytest.mark.parametrize("lang", ["de", "fr", "it"])
def test_device_descriptions_are_translated(lang: str) -> None:
    """The device named in a German, French or Italian message reads in that language."""
    from autoconf.diagnosis.messages import render  # noqa: PLC0415

    evidence = {
        "deleting_device": "POP3 client (no TLS, port 110, fetches with RETR) at 203.0.113.0/24",
        "other_devices": "IMAP client (no ID sent) at 198.51.100.0/24",
    }
    out = render("pop-keep", {**evidence, "keeping_device": evidence["deleting_device"],
                              "keeping_devices": [evidence["deleting_device"]], "retrieved": 3},
                 lang)  # fmt: skip
    text = " ".join(out.values())
    assert "POP3 client" not in text
    assert " at 203" not in text
    assert "fetches with" not in text


@pytest.mark.parametrize("lang", ["de", "fr", "it"])
def test_probe_certificate_sentences_are_translated(lang: str) -> None:
    """The probe's certificate problems read in the finding's language; host and date stay."""
    from autoconf.diagnosis.messages import render  # noqa: PLC0415

    problems = (
        "imap.example.com:993: imap.example.com:993 (imap) has a certificate that expires in"
        " 3 day(s), on 2026-12-02T10:00:00+00:00; pop.example.com:995: pop.example.com:995"
        " (pop3) presented a certificate that does not verify: self-signed certificate"
    )
    out = render("certificate-problem", {"problems": problems, "servers": "", "count": 2}, lang)
    assert "has a certificate that expires" not in out["explanation"]
    assert "presented a certificate" not in out["explanation"]
    assert "imap.example.com:993 (imap)" in out["explanation"]
    assert "2026-12-02T10:00:00+00:00" in out["explanation"]
    assert " 3 " in out["explanation"]
    english = render("certificate-problem", {"problems": problems, "servers": "", "count": 2}, "en")
    assert "has a certificate that expires in 3 day(s)" in english["explanation"]

"""Deutsche Wörter der Support-Seiten (die Worte der Befunde stehen in diagnosis/messages)."""

from __future__ import annotations

WORDS: dict[str, str] = {
    "language_name": "Deutsch",
    "app_name": "Mail-Support",
    "nav_search": "Suche",
    "nav_incidents": "Vorfälle",
    "nav_dashboard": "Übersicht",
    "sign_out": "Abmelden",
    "signed_in_as": "Angemeldet als {name} ({role})",
    "language": "Sprache",
    "login_title": "Anmelden",
    "login_name": "Name",
    "login_password": "Passwort",
    "login_button": "Anmelden",
    "login_failed": "Name oder Passwort stimmen nicht.",
    "login_locked": (
        "Zu viele fehlgeschlagene Anmeldungen von dieser Adresse oder für diesen Namen. "
        "Bitte {minutes} Minuten warten und es dann erneut versuchen."
    ),
    "login_closed": (
        "Es sind keine Mitarbeitenden eingerichtet: page_users-Einträge anlegen (autoconf user)."
    ),
    "csrf_failed": (
        "Dieses Formular ist veraltet oder stammt nicht von dieser Seite. Bitte die Seite neu "
        "laden und noch einmal senden."
    ),
    "search_title": "Postfach nachschlagen",
    "search_label": "E-Mail-Adresse oder ihr Anfang",
    "search_button": "Nachschlagen",
    "search_hint": (
        "Die Adresse der Kundin oder des Kunden eingeben; ein Anfang listet passende Postfächer."
    ),
    "search_none": "Kein bekanntes Postfach beginnt mit „{query}“.",
    "search_results": "Postfächer, die mit „{query}“ beginnen",
    "mailbox_title": "Postfach {mailbox}",
    "findings": "Befunde",
    "no_findings": "Zu diesem Postfach gibt es nichts zu melden.",
    "what_happened": "Was passiert ist",
    "what_to_do": "Was zu tun ist",
    "tell_customer": "Was Sie der Kundin oder dem Kunden sagen",
    "devices": "Geräte",
    "no_devices": "In den letzten {days} Tagen hat kein Gerät dieses Postfach benutzt.",
    "timeline": "Geräte im Zeitverlauf",
    "protocol": "Protokoll",
    "client": "Programm",
    "network": "Netz",
    "first_seen": "Zuerst gesehen",
    "last_seen": "Zuletzt gesehen",
    "sessions": "Sitzungen",
    "deleted": "Gelöscht",
    "behaviour": "Was es tut",
    "legend_session": "Sitzung",
    "legend_deleting": "Sitzung, die Mails gelöscht hat",
    "legend_span": "in Gebrauch",
    "deleted_n": "{count} gelöscht",
    "actions": "Aktionen",
    "probe_now": "Jetzt prüfen",
    "probe_hint": (
        "Meldet sich als Master-Benutzer bei den Mailservern an und vergleicht den Posteingang."
    ),
    "probe_result": "Ergebnis der Prüfung",
    "probe_failed": "Die Prüfung konnte nicht laufen: {reason}",
    "probe_server": "{server}: Anmeldung {login}, TLS {tls}",
    "probe_changes": (
        "Seit der letzten Prüfung: {gone} verschwunden, {moved} verschoben, {new} neu."
    ),
    "probe_last": "Letzte Prüfung: {when}",
    "send_notice": "Hinweis senden",
    "notice_hint": (
        "Schickt der Kundin oder dem Kunden eine Mail in ihrer Sprache, die jedes Gerät sieht."
    ),
    "notice_sent": "Der Hinweis wurde gesendet ({count}).",
    "notice_none": (
        "Kein Hinweis fällig: Er wurde schon gesendet, oder kein Befund verlangt einen."
    ),
    "notice_off": "Hinweise sind ausgeschaltet (notice_transport = off).",
    "notice_failed": "Der Hinweis konnte nicht gesendet werden: {reason}",
    "notified_at": "Hinweis gesendet {when}",
    "incidents_title": "Vorfälle",
    "incidents_none": "Keine Vorfälle.",
    "incident_mailbox": "Postfach",
    "incident_finding": "Befund",
    "incident_severity": "Schwere",
    "incident_opened": "Eröffnet",
    "incident_updated": "Aktualisiert",
    "incident_notified": "Hinweis",
    "state_open": "Offen",
    "state_resolved": "Erledigt",
    "state_all": "Alle",
    "show": "Anzeigen",
    "older": "Ältere",
    "newer": "Neuere",
    "severity": "Schwere",
    "severity_any": "alle",
    "severity_critical": "kritisch",
    "severity_warning": "Warnung",
    "severity_info": "Info",
    "dashboard_title": "Übersicht",
    "dashboard_period": "Letzte {days} Tage",
    "chart_share": "Anteil der POP3- und IMAP-Sitzungen pro Tag (%)",
    "chart_risk": "Gefährdete Postfächer nach Schwere",
    "chart_clients": "Programme: Einrichtungsanfragen nach Programm",
    "chart_imap_ids": "Programme: IMAP-Sitzungen nach Programmname (IMAP ID)",
    "chart_setup": "Einrichtungsanfragen nach Endpunkt und Programm",
    "chart_ingest": "Eingelesene Sitzungen pro Stunde (letzte 48 Stunden)",
    "domains_title": "Zustand der Domains",
    "domains_counts": "Letzte Prüfungen: {fail} fehlerhaft, {warn} mit Warnungen, {ok} in Ordnung.",
    "domains_empty": (
        "Noch keine Domain wurde geprüft (health_interval_hours schaltet die regelmässige "
        "Prüfung ein; autoconf check prüft eine sofort)."
    ),
    "domains_all_fine": "Keine Domain hat Fehler oder Warnungen.",
    "domain": "Domain",
    "domain_status": "Zustand",
    "domain_checked": "Geprüft",
    "domain_summary": "Was die Mailprogramme vorfinden",
    "status_fail": "fehlerhaft",
    "status_warn": "Warnung",
    "login_no_agents": (
        "Noch kann sich niemand anmelden: mit 'autoconf user --name NAME' einen Eintrag "
        "erzeugen und in page_users aufnehmen."
    ),
    "ingest_title": "Einlesen",
    "ingest_lag": "Neuestes Sitzungsereignis: {when} (vor {lag})",
    "ingest_empty": "Es wurde noch keine Sitzung eingelesen.",
    "ingest_source": "Logdatei {source}: zuletzt gelesen {when}",
    "skipped_title": "Vom Ereignisempfänger erhaltene Ereignisse und übersprungene Zeilen",
    "no_data": "Keine Daten in diesem Zeitraum.",
    "no_id": "(keine IMAP ID)",
    "never": "nie",
    "unknown": "unbekannt",
    "error_title": "Etwas stimmt nicht",
    "back": "Zurück",
    "minutes": "{n} Min.",
    "hours": "{n} Std.",
    "days": "{n} T.",
}

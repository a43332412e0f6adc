"""Deutscher Wortlaut jedes Befunds: für den Support und für die Kundin oder den Kunden."""

from __future__ import annotations

COMMON = {
    # English words inside device descriptions, in this language (applied in order)
    # the probe's certificate sentences (English, from probe/result.py and errors.py)
    "probe_sentences": (
        (
            "has a certificate that expires in (\\d+) day\\(s\\), on (\\S+)",
            "hat ein Zertifikat, das in \\1 Tag(en) abläuft, am \\2",
        ),
        (
            "presented a certificate that does not verify: ",
            "hat ein Zertifikat gezeigt, das sich nicht prüfen lässt: ",
        ),
    ),
    "device_words": (
        ("deletes after download", "löscht nach dem Herunterladen"),
        ("deletes mail it downloaded earlier", "löscht früher heruntergeladene Mails"),
        ("keeps mail on the server", "lässt die Mails auf dem Server"),
        ("checks for mail", "prüft auf neue Mails"),
        ("deletes messages", "löscht Nachrichten"),
        ("reads mail over IMAP", "liest Mails über IMAP"),
        ("asked for settings", "hat die Einstellungen abgefragt"),
        ("uses the mailbox", "nutzt das Postfach"),
        ("IMAP client (no ID sent)", "IMAP-Programm (ohne Kennung)"),
        ("POP3 client", "POP3-Programm"),
        ("no TLS", "ohne TLS"),
        (", port ", ", Port "),
        ("fetches with", "holt mit"),
        ("an IMAP client", "ein IMAP-Programm"),
        ("a mail program", "ein Mailprogramm"),
        ("iPhone, iPad or Mac", "iPhone, iPad oder Mac"),
        (" at ", " bei "),
    ),
    "unknown": "unbekannt",
    "unseen": (
        " {unseen} davon wurden gelöscht, bevor ein anderes Gerät sie abholen konnte: diese "
        "Nachrichten haben die anderen Geräte nie erreicht."
    ),
    "subject": "Ihr E-Mail-Programm löscht Nachrichten vom Server",
    "greeting": "Guten Tag,",
    "intro": (
        "dies ist eine automatische Nachricht Ihres E-Mail-Anbieters zum Postfach {mailbox}. "
        "Uns ist aufgefallen, wie Ihre Geräte es nutzen:"
    ),
    "steps": (
        "So ändern Sie es (auf dem Gerät, das die Mails per POP3 abholt):\n"
        "- Outlook (Windows): Datei > Kontoeinstellungen > Kontoeinstellungen, Konto wählen, "
        "Ändern > Weitere Einstellungen > Erweitert: 'Kopie aller Nachrichten auf dem Server "
        "belassen' ankreuzen und 'Vom Server nach ... Tagen entfernen' abwählen. Noch besser: "
        "Konto entfernen und neu hinzufügen; Outlook richtet es dann mit IMAP ein.\n"
        "- Thunderbird: Konten-Einstellungen > Server-Einstellungen: 'Nachrichten auf dem "
        "Server belassen' ankreuzen und 'Nach ... Tagen löschen' abwählen; oder das Konto neu "
        "anlegen und IMAP wählen.\n"
        "- Apple Mail auf dem Mac: Mail > Einstellungen > Accounts > das Konto > "
        "Servereinstellungen oder Erweitert: 'Kopie nach Empfang vom Server entfernen' "
        "abwählen; besser das Konto neu als IMAP anlegen.\n"
        "- iPhone und iPad: Einstellungen > Mail > Accounts > das Konto > Erweitert: 'Vom "
        "Server löschen' auf 'Nie' stellen; besser das Konto neu anlegen und IMAP wählen.\n"
        "- Android (Gmail, Samsung E-Mail, K-9 Mail / Thunderbird für Android): in den "
        "Einstellungen des Posteingangsservers 'E-Mail vom Server löschen' auf 'Nie' stellen; "
        "besser das Konto entfernen und mit IMAP neu hinzufügen."
    ),
    "footer": (
        "Sie erhalten diesen Hinweis nur einmal. Bei Fragen antworten Sie dem Support Ihres "
        "Anbieters und nennen Sie die Referenz {reference}."
    ),
}

TEXTS: dict[str, dict[str, str]] = {
    "pop-delete-multi-device": {
        "title": "Ein POP3-Programm löscht Mails, die andere Geräte brauchen",
        "explanation": (
            "{deleting_device} holt Mails per POP3 ab und löscht sie in derselben Sitzung vom "
            "Server: {removed} Nachricht(en) in {deleting_sessions} Sitzung(en) in den letzten "
            "{window_days} Tagen, zuletzt am {last_deleted_at}. Gleichzeitig nutzen andere "
            "Geräte dieses Postfach ({other_devices}); sie sehen nur, was noch auf dem Server "
            "liegt."
        ),
        "recommendation": (
            "Sagen Sie der Kundin oder dem Kunden, welches Gerät löscht, und lassen Sie es auf "
            "IMAP umstellen oder mindestens 'Kopie auf dem Server belassen' einschalten. Die "
            "gelöschten Nachrichten liegen jetzt nur noch auf diesem Gerät."
        ),
        "user": (
            "Eines Ihrer Geräte ({deleting_device}) lädt Ihre Mails herunter und löscht sie "
            "danach von unserem Server. Ihren anderen Geräten ({other_devices}) fehlen diese "
            "Nachrichten deshalb: {removed} in den letzten {window_days} Tagen. Verloren ist "
            "nichts, die Nachrichten liegen auf dem Gerät, das sie abgeholt hat. Stellen Sie "
            "dieses Gerät auf IMAP um oder lassen Sie eine Kopie auf dem Server, dann sehen "
            "alle Ihre Geräte alle Mails."
        ),
    },
    "pop-delete-multi-device/after-days": {
        "title": "Ein POP3-Programm entfernt ältere Mails, die andere Geräte noch zeigen",
        "explanation": (
            "{deleting_device} holt Mails per POP3 ab und entfernt sie einige Tage später vom "
            "Server (jüngste entfernte Nachricht: {days} Tage alt): {removed} Nachricht(en) "
            "in {deleting_sessions} Sitzung(en) in den letzten {window_days} Tagen, zuletzt am "
            "{last_deleted_at}. Den anderen Geräten ({other_devices}) fehlen diese älteren "
            "Nachrichten."
        ),
        "recommendation": (
            "Lassen Sie auf diesem Gerät 'Vom Server nach N Tagen entfernen' abschalten oder "
            "das Gerät auf IMAP umstellen."
        ),
        "user": (
            "Eines Ihrer Geräte ({deleting_device}) entfernt ältere Nachrichten einige Tage "
            "nach dem Abholen von unserem Server. Ihren anderen Geräten ({other_devices}) "
            "fehlen sie dann: {removed} in den letzten {window_days} Tagen. Stellen Sie das "
            "Gerät auf IMAP um oder schalten Sie 'Vom Server nach ... Tagen entfernen' ab."
        ),
    },
    "pop-delete-multi-device/probe": {
        "title": (
            "Nachrichten verschwinden aus dem Posteingang, während ein POP3-Programm aktiv ist"
        ),
        "explanation": (
            "Zwischen zwei Prüfungen ({between}) haben {removed} Nachricht(en) den Posteingang "
            "verlassen, ohne in einen anderen Ordner verschoben zu werden; "
            "{never_seen_by_probe} davon kamen erst nach der ersten Prüfung an. In dieser Zeit "
            "hat sich ein POP3-Programm angemeldet (letzte POP3-Anmeldung {pop3_last_login}), "
            "und andere Geräte nutzen das Postfach ({other_devices}). Wer gelöscht hat, sieht "
            "die Prüfung nicht; meist ist es ein POP3-Programm, das beim Abholen löscht."
        ),
        "recommendation": (
            "Fragen Sie, welche Programme per POP3 abholen, und lassen Sie sie auf IMAP oder "
            "'Kopie auf dem Server belassen' umstellen. Mit dem Server-Log lässt sich das Gerät "
            "benennen."
        ),
        "user": (
            "Aus Ihrem Posteingang auf unserem Server verschwinden Nachrichten: {removed} in "
            "letzter Zeit. Meist steckt ein per POP3 eingerichtetes E-Mail-Programm dahinter, "
            "das Mails nach dem Abholen löscht, sodass Ihre anderen Geräte ({other_devices}) "
            "sie nie sehen. Prüfen Sie, welches Gerät POP3 nutzt, und stellen Sie es auf IMAP "
            "um."
        ),
    },
    "pop-delete-single-device": {
        "title": "POP3 mit Löschen auf einem einzigen Gerät: vorerst in Ordnung",
        "explanation": (
            "{deleting_device} ist das einzige Gerät an diesem Postfach; es holt Mails per "
            "POP3 ab und löscht sie vom Server ({removed} Nachricht(en) in den letzten "
            "{window_days} Tagen). Das geht gut, solange es das einzige Gerät bleibt."
        ),
        "recommendation": (
            "Nichts zu beheben. Bevor ein Telefon oder ein zweiter Computer dazukommt, dieses "
            "Gerät auf IMAP (oder 'Kopie auf dem Server belassen') umstellen, sonst fehlen dem "
            "neuen Gerät Mails."
        ),
        "user": (
            "Ihr E-Mail-Programm ({deleting_device}) lädt Ihre Mails herunter und löscht sie "
            "von unserem Server. Solange es Ihr einziges Gerät ist, ist das in Ordnung. Bevor "
            "Sie ein Telefon oder einen weiteren Computer einrichten, stellen Sie es auf IMAP "
            "um, sonst sieht das neue Gerät Ihre Mails nicht."
        ),
    },
    "pop-keep": {
        "title": "Ein POP3-Programm lässt die Mails auf dem Server",
        "explanation": (
            "{keeping_device} holt Mails per POP3 ab ({retrieved} Nachricht(en)) und lässt sie "
            "auf dem Server, sodass auch andere Geräte sie sehen."
        ),
        "recommendation": (
            "Nichts Dringendes. Mit IMAP blieben Gelesen-Status und Ordner auf allen Geräten "
            "gleich."
        ),
        "user": (
            "Ihr E-Mail-Programm ({keeping_device}) nutzt POP3 und lässt eine Kopie Ihrer "
            "Mails auf dem Server. Das ist in Ordnung. Mit IMAP wären zudem gelesene "
            "Nachrichten und Ordner auf allen Geräten gleich."
        ),
    },
    "pop-keep/quota": {
        "title": "Ein POP3-Programm lässt alle Mails liegen und das Postfach ist fast voll",
        "explanation": (
            "{keeping_device} holt Mails per POP3 ab und lässt jede Nachricht auf dem Server; "
            "das Postfach ist zu {quota_percent} % belegt. Ist es voll, wird neue Post "
            "abgewiesen."
        ),
        "recommendation": (
            "Alte Mails löschen oder archivieren lassen, 'Vom Server nach N Tagen entfernen' "
            "nur einschalten, wenn kein anderes Gerät die alten Mails braucht, oder das "
            "Kontingent erhöhen."
        ),
        "user": (
            "Ihr Postfach auf unserem Server ist zu {quota_percent} % voll, weil Ihr "
            "E-Mail-Programm ({keeping_device}) jede Nachricht dort lässt. Löschen oder "
            "archivieren Sie bald alte Mails, sonst kann neue Post nicht zugestellt werden."
        ),
    },
    "pop-clients-racing": {
        "title": "Mehrere POP3-Programme konkurrieren um dieselben Mails",
        "explanation": (
            "{device_count} POP3-Programme nutzen dieses Postfach ({devices}), mindestens eines "
            "löscht, was es abholt ({deleting}). Jede Nachricht landet auf dem Gerät, das "
            "zuerst abholt."
        ),
        "recommendation": (
            "Alle bis auf höchstens eines auf IMAP umstellen oder jedes POP3-Programm eine "
            "Kopie auf dem Server belassen lassen."
        ),
        "user": (
            "Mehrere Ihrer Geräte holen Mails per POP3 ab und mindestens eines löscht sie vom "
            "Server ({deleting}). Jede Nachricht landet daher nur auf einem Gerät. Stellen Sie "
            "Ihre Geräte auf IMAP um, dann sehen alle alle Mails."
        ),
    },
    "imap-only": {
        "title": "Alle Geräte nutzen IMAP: die Mails bleiben für jedes Gerät auf dem Server",
        "explanation": ("Jedes Gerät an diesem Postfach nutzt IMAP; keines löscht, was es abholt."),
        "recommendation": "Nichts zu tun.",
        "user": "Alle Ihre Geräte nutzen IMAP, jedes sieht also alle Ihre Mails.",
    },
    "cleartext-login": {
        "title": "Anmeldungen ohne Verschlüsselung",
        "explanation": (
            "{sessions} Anmeldung(en) per {protocols} ohne TLS von {networks}, zuletzt am "
            "{last_at}. Das Passwort ging unverschlüsselt über das Netz."
        ),
        "recommendation": (
            "SSL/TLS einschalten lassen (Port 993 für IMAP, 995 für POP3) und das Passwort "
            "ändern; Anmeldungen ohne TLS abzulehnen erwägen."
        ),
        "user": (
            "Eines Ihrer Geräte meldet sich ohne Verschlüsselung an Ihrem Postfach an, Ihr "
            "Passwort könnte unterwegs mitgelesen werden. Schalten Sie in den "
            "Servereinstellungen des Kontos SSL/TLS ein und ändern Sie danach Ihr Passwort."
        ),
    },
    "tls-weak": {
        "title": "Veraltete TLS-Versionen angeboten",
        "explanation": "Die Prüfung kam mit einer veralteten TLS-Version zustande: {servers}.",
        "recommendation": "TLS 1.0 und 1.1 auf diesen Servern abschalten (mindestens TLS 1.2).",
        "user": (
            "Unser Server akzeptiert noch eine veraltete Verschlüsselung. Wir beheben das; "
            "Sie müssen nichts tun."
        ),
    },
    "certificate-problem": {
        "title": "Problem mit dem Zertifikat",
        "explanation": "Die Prüfung fand ein Problem mit einem Serverzertifikat: {problems}.",
        "recommendation": "Zertifikat erneuern oder korrigieren und den Server neu laden.",
        "user": (
            "Ihr E-Mail-Programm warnt eventuell vor dem Zertifikat unseres Servers. Wir "
            "beheben das; akzeptieren Sie bis dahin keine unbekannten Zertifikate."
        ),
    },
}

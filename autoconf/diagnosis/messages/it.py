"""Testo italiano di ogni rilevamento: per il supporto e per l'utente."""

from __future__ import annotations

COMMON = {
    # English words inside device descriptions, in this language (applied in order)
    # the probe's certificate sentences (English, from probe/result.py and errors.py)
    "probe_sentences": (
        (
            "has a certificate that expires in (\\d+) day\\(s\\), on (\\S+)",
            "ha un certificato che scade tra \\1 giorno/i, il \\2",
        ),
        (
            "presented a certificate that does not verify: ",
            "ha presentato un certificato che non si può verificare: ",
        ),
    ),
    "device_words": (
        ("deletes after download", "cancella dopo lo scaricamento"),
        ("deletes mail it downloaded earlier", "cancella la posta scaricata in precedenza"),
        ("keeps mail on the server", "lascia la posta sul server"),
        ("checks for mail", "controlla se c'è posta"),
        ("deletes messages", "cancella messaggi"),
        ("reads mail over IMAP", "legge la posta via IMAP"),
        ("asked for settings", "ha chiesto le impostazioni"),
        ("uses the mailbox", "usa la casella"),
        ("IMAP client (no ID sent)", "client IMAP (senza identificazione)"),
        ("POP3 client", "client POP3"),
        ("no TLS", "senza TLS"),
        (", port ", ", porta "),
        ("fetches with", "scarica con"),
        ("an IMAP client", "un client IMAP"),
        ("a mail program", "un programma di posta"),
        ("iPhone, iPad or Mac", "iPhone, iPad o Mac"),
        (" at ", " da "),
    ),
    "unknown": "sconosciuto",
    "unseen": (
        " {unseen} di questi sono stati cancellati prima che un altro dispositivo potesse "
        "scaricarli: quei messaggi non sono mai arrivati sugli altri dispositivi."
    ),
    "subject": "Il suo programma di posta cancella messaggi dal server",
    "greeting": "Buongiorno,",
    "intro": (
        "questo è un messaggio automatico del suo fornitore di posta sulla casella {mailbox}. "
        "Abbiamo notato qualcosa nel modo in cui i suoi dispositivi la usano:"
    ),
    "steps": (
        "Come cambiarlo (sul dispositivo che scarica la posta con POP3):\n"
        "- Outlook (Windows): File > Impostazioni account > Impostazioni account, scegliere "
        "l'account, Cambia > Altre impostazioni > Impostazioni avanzate: spuntare 'Lascia una "
        "copia dei messaggi sul server' e togliere 'Rimuovi dal server dopo ... giorni'. "
        "Meglio ancora: rimuovere l'account e aggiungerlo di nuovo; Outlook lo configura "
        "allora con IMAP.\n"
        "- Thunderbird: Impostazioni account > Impostazioni server: spuntare 'Lascia i "
        "messaggi sul server' e togliere 'Elimina dopo ... giorni'; oppure aggiungere di "
        "nuovo l'account scegliendo IMAP.\n"
        "- Apple Mail su Mac: Mail > Impostazioni > Account > l'account > Impostazioni server "
        "o Avanzate: togliere 'Rimuovi copia dal server dopo la ricezione'; meglio aggiungere "
        "di nuovo l'account come IMAP.\n"
        "- iPhone e iPad: Impostazioni > Mail > Account > l'account > Avanzate: impostare "
        "'Elimina dal server' su 'Mai'; meglio aggiungere di nuovo l'account scegliendo IMAP.\n"
        "- Android (Gmail, Samsung Email, K-9 Mail / Thunderbird per Android): nelle "
        "impostazioni del server in entrata impostare 'Elimina email dal server' su 'Mai'; "
        "meglio rimuovere l'account e aggiungerlo di nuovo con IMAP."
    ),
    "footer": (
        "Riceve questo avviso una sola volta. Per domande risponda al supporto del suo "
        "fornitore citando il riferimento {reference}."
    ),
}

TEXTS: dict[str, dict[str, str]] = {
    "pop-delete-multi-device": {
        "title": "Un client POP3 cancella posta che serve ad altri dispositivi",
        "explanation": (
            "{deleting_device} scarica la posta con POP3 e la cancella dal server nella stessa "
            "sessione: {removed} messaggio/i rimosso/i in {deleting_sessions} sessione/i negli "
            "ultimi {window_days} giorni, l'ultima il {last_deleted_at}. Altri dispositivi "
            "usano la casella nello stesso periodo ({other_devices}); vedono solo ciò che "
            "resta sul server."
        ),
        "recommendation": (
            "Dica all'utente quale dispositivo cancella la posta e lo faccia passare a IMAP, o "
            "almeno attivare 'lascia una copia sul server'. I messaggi rimossi ora si trovano "
            "solo su quel dispositivo."
        ),
        "user": (
            "Uno dei suoi dispositivi ({deleting_device}) scarica la posta e poi la cancella "
            "dal nostro server. Per questo agli altri dispositivi ({other_devices}) mancano "
            "quei messaggi: {removed} negli ultimi {window_days} giorni. Nulla è perso: i "
            "messaggi sono sul dispositivo che li ha scaricati. Imposti quel dispositivo su "
            "IMAP, o su 'lascia una copia sul server', e tutti i suoi dispositivi vedranno "
            "tutta la posta."
        ),
    },
    "pop-delete-multi-device/after-days": {
        "title": "Un client POP3 rimuove posta più vecchia che altri dispositivi mostrano",
        "explanation": (
            "{deleting_device} scarica la posta con POP3 e la rimuove dal server alcuni giorni "
            "dopo (messaggio rimosso più recente: {days} giorni): {removed} messaggio/i in "
            "{deleting_sessions} sessione/i negli ultimi {window_days} giorni, l'ultima il "
            "{last_deleted_at}. Gli altri dispositivi ({other_devices}) perdono quei messaggi."
        ),
        "recommendation": (
            "Far disattivare 'rimuovi dal server dopo N giorni' su quel dispositivo, o passarlo "
            "a IMAP."
        ),
        "user": (
            "Uno dei suoi dispositivi ({deleting_device}) rimuove i messaggi più vecchi dal "
            "nostro server alcuni giorni dopo averli scaricati. Gli altri dispositivi "
            "({other_devices}) li perdono: {removed} negli ultimi {window_days} giorni. Passi "
            "quel dispositivo a IMAP o disattivi 'rimuovi dal server dopo ... giorni'."
        ),
    },
    "pop-delete-multi-device/probe": {
        "title": "Messaggi spariscono dalla posta in arrivo mentre un client POP3 è attivo",
        "explanation": (
            "Tra due controlli ({between}) {removed} messaggio/i hanno lasciato la posta in "
            "arrivo senza essere spostati in un'altra cartella; {never_seen_by_probe} sono "
            "arrivati e spariti tra i due controlli. Nel frattempo un client POP3 si è "
            "collegato (ultimo accesso POP3 {pop3_last_login}) e altri dispositivi usano la "
            "casella ({other_devices}). Il controllo non vede chi ha cancellato; di solito è "
            "un client POP3 che cancella allo scaricamento."
        ),
        "recommendation": (
            "Chieda quali programmi scaricano con POP3 e li faccia passare a IMAP o a 'lascia "
            "una copia sul server'. Con il log del server si può nominare il dispositivo."
        ),
        "user": (
            "Dalla sua posta in arrivo sul nostro server spariscono messaggi: {removed} di "
            "recente. Di solito la causa è un programma configurato con POP3 che cancella la "
            "posta dopo averla scaricata, così gli altri dispositivi ({other_devices}) non la "
            "vedono mai. Verifichi quale dispositivo usa POP3 e lo passi a IMAP."
        ),
    },
    "pop-delete-single-device": {
        "title": "POP3 con cancellazione su un solo dispositivo: per ora va bene",
        "explanation": (
            "{deleting_device} è l'unico dispositivo di questa casella; scarica la posta con "
            "POP3 e la cancella dal server ({removed} messaggio/i negli ultimi {window_days} "
            "giorni). Funziona finché resta l'unico dispositivo."
        ),
        "recommendation": (
            "Nulla da correggere. Prima di aggiungere un telefono o un secondo computer, "
            "passare questo dispositivo a IMAP (o 'lascia una copia sul server'), altrimenti "
            "il nuovo dispositivo perderà posta."
        ),
        "user": (
            "Il suo programma di posta ({deleting_device}) scarica la posta e la cancella dal "
            "nostro server. Va bene finché è il suo unico dispositivo. Prima di aggiungere un "
            "telefono o un altro computer lo passi a IMAP, altrimenti il nuovo dispositivo non "
            "vedrà la posta."
        ),
    },
    "pop-keep": {
        "title": "Un client POP3 lascia la posta sul server",
        "explanation": (
            "{keeping_device} scarica la posta con POP3 ({retrieved} messaggio/i) e la lascia "
            "sul server, così la vedono anche gli altri dispositivi."
        ),
        "recommendation": (
            "Nulla di urgente. Con IMAP stato di lettura e cartelle resterebbero uguali su "
            "tutti i dispositivi."
        ),
        "user": (
            "Il suo programma di posta ({keeping_device}) usa POP3 e lascia una copia della "
            "posta sul server. Va bene. Con IMAP anche i messaggi letti e le cartelle sarebbero "
            "uguali su tutti i suoi dispositivi."
        ),
    },
    "pop-keep/quota": {
        "title": "Un client POP3 lascia tutta la posta e la casella è quasi piena",
        "explanation": (
            "{keeping_device} scarica la posta con POP3 e lascia ogni messaggio sul server; la "
            "casella usa il {quota_percent} % della quota. Quando è piena, la nuova posta "
            "viene rifiutata."
        ),
        "recommendation": (
            "Far cancellare o archiviare la posta vecchia, attivare 'rimuovi dal server dopo "
            "N giorni' solo se nessun altro dispositivo ne ha bisogno, o aumentare la quota."
        ),
        "user": (
            "La sua casella sul nostro server è piena al {quota_percent} %, perché il suo "
            "programma ({keeping_device}) vi lascia ogni messaggio. Cancelli o archivi presto "
            "la posta vecchia, altrimenti la nuova posta non potrà essere consegnata."
        ),
    },
    "pop-clients-racing": {
        "title": "Più client POP3 si contendono la stessa posta",
        "explanation": (
            "{device_count} client POP3 usano questa casella ({devices}) e almeno uno cancella "
            "ciò che scarica ({deleting}). Ogni messaggio finisce sul dispositivo che lo "
            "scarica per primo."
        ),
        "recommendation": (
            "Passare tutti tranne al massimo uno a IMAP, o far lasciare una copia sul server a "
            "ogni client POP3."
        ),
        "user": (
            "Più dei suoi dispositivi scaricano la posta con POP3 e almeno uno la cancella dal "
            "server ({deleting}). Ogni messaggio arriva quindi su un solo dispositivo. Passi i "
            "suoi dispositivi a IMAP, così tutti vedranno tutta la posta."
        ),
    },
    "imap-only": {
        "title": "Tutti i dispositivi usano IMAP: la posta resta sul server per ognuno",
        "explanation": (
            "Ogni dispositivo visto su questa casella usa IMAP; nessuno cancella ciò che scarica."
        ),
        "recommendation": "Nulla da fare.",
        "user": "Tutti i suoi dispositivi usano IMAP, quindi ognuno vede tutta la sua posta.",
    },
    "cleartext-login": {
        "title": "Accessi senza cifratura",
        "explanation": (
            "{sessions} accesso/i via {protocols} senza TLS da {networks}, l'ultimo il "
            "{last_at}. La password è passata in chiaro sulla rete."
        ),
        "recommendation": (
            "Far attivare SSL/TLS (porta 993 per IMAP, 995 per POP3) e cambiare la password; "
            "valutare di rifiutare gli accessi senza TLS."
        ),
        "user": (
            "Uno dei suoi dispositivi accede alla casella senza cifratura: la sua password "
            "potrebbe essere letta lungo il percorso. Attivi SSL/TLS nelle impostazioni del "
            "server dell'account e poi cambi la password."
        ),
    },
    "tls-weak": {
        "title": "Versioni TLS obsolete offerte",
        "explanation": "Il controllo si è collegato con una versione TLS obsoleta: {servers}.",
        "recommendation": "Disattivare TLS 1.0 e 1.1 su questi server (almeno TLS 1.2).",
        "user": (
            "Il nostro server accetta ancora una cifratura obsoleta. La stiamo correggendo; "
            "lei non deve fare nulla."
        ),
    },
    "certificate-problem": {
        "title": "Problema con il certificato",
        "explanation": "Il controllo ha trovato un problema di certificato: {problems}.",
        "recommendation": "Rinnovare o correggere il certificato e ricaricare il server.",
        "user": (
            "Il suo programma potrebbe avvisarla del certificato del nostro server. Lo stiamo "
            "correggendo; nel frattempo non accetti certificati sconosciuti."
        ),
    },
}

"""Formulation française de chaque constat : pour le support et pour l'utilisateur."""

from __future__ import annotations

COMMON = {
    # English words inside device descriptions, in this language (applied in order)
    # the probe's certificate sentences (English, from probe/result.py and errors.py)
    "probe_sentences": (
        (
            "has a certificate that expires in (\\d+) day\\(s\\), on (\\S+)",
            "a un certificat qui expire dans \\1 jour(s), le \\2",
        ),
        (
            "presented a certificate that does not verify: ",
            "a présenté un certificat qui ne peut pas être vérifié : ",
        ),
    ),
    "device_words": (
        ("deletes after download", "supprime après téléchargement"),
        ("deletes mail it downloaded earlier", "supprime le courrier téléchargé plus tôt"),
        ("keeps mail on the server", "laisse le courrier sur le serveur"),
        ("checks for mail", "vérifie s'il y a du courrier"),
        ("deletes messages", "supprime des messages"),
        ("reads mail over IMAP", "lit le courrier en IMAP"),
        ("asked for settings", "a demandé les paramètres"),
        ("uses the mailbox", "utilise la boîte"),
        ("IMAP client (no ID sent)", "client IMAP (sans identification)"),
        ("POP3 client", "client POP3"),
        ("no TLS", "sans TLS"),
        ("fetches with", "récupère avec"),
        ("an IMAP client", "un client IMAP"),
        ("a mail program", "un logiciel de messagerie"),
        ("iPhone, iPad or Mac", "iPhone, iPad ou Mac"),
        (" at ", " depuis "),
    ),
    "unknown": "inconnu",
    "unseen": (
        " {unseen} d'entre eux ont été supprimés avant qu'un autre appareil ait pu les "
        "récupérer : ces messages ne sont jamais arrivés sur les autres appareils."
    ),
    "subject": "Votre logiciel de messagerie supprime des messages du serveur",
    "greeting": "Bonjour,",
    "intro": (
        "ceci est un message automatique de votre fournisseur de messagerie concernant la "
        "boîte {mailbox}. Nous avons remarqué ceci dans l'usage qu'en font vos appareils :"
    ),
    "steps": (
        "Comment le changer (sur l'appareil qui relève le courrier en POP3) :\n"
        "- Outlook (Windows) : Fichier > Paramètres du compte > Paramètres du compte, "
        "choisir le compte, Modifier > Paramètres supplémentaires > Options avancées : cocher "
        "« Laisser un exemplaire des messages sur le serveur » et décocher « Supprimer du "
        "serveur après ... jours ». Mieux encore : supprimer le compte et l'ajouter de "
        "nouveau ; Outlook le configure alors en IMAP.\n"
        "- Thunderbird : Paramètres des comptes > Paramètres serveur : cocher « Laisser les "
        "messages sur le serveur » et décocher « Supprimer après ... jours » ; ou ajouter "
        "le compte de nouveau en choisissant IMAP.\n"
        "- Apple Mail sur Mac : Mail > Réglages > Comptes > le compte > Réglages du serveur "
        "ou Avancé : décocher « Supprimer du serveur après réception » ; mieux, ajouter le "
        "compte de nouveau en IMAP.\n"
        "- iPhone et iPad : Réglages > Mail > Comptes > le compte > Avancé : régler « "
        "Supprimer du serveur » sur « Jamais » ; mieux, ajouter le compte de nouveau en "
        "choisissant IMAP.\n"
        "- Android (Gmail, Samsung Email, K-9 Mail / Thunderbird pour Android) : dans les "
        "paramètres du serveur entrant, régler « Supprimer les e-mails du serveur » sur « "
        "Jamais » ; mieux, supprimer le compte et l'ajouter de nouveau en IMAP."
    ),
    "footer": (
        "Vous ne recevez cet avis qu'une fois. Pour toute question, répondez au support de "
        "votre fournisseur en indiquant la référence {reference}."
    ),
}

TEXTS: dict[str, dict[str, str]] = {
    "pop-delete-multi-device": {
        "title": "Un client POP3 supprime des messages dont d'autres appareils ont besoin",
        "explanation": (
            "{deleting_device} relève le courrier en POP3 et le supprime du serveur dans la "
            "même session : {removed} message(s) supprimé(s) en {deleting_sessions} session(s) "
            "ces {window_days} derniers jours, la dernière le {last_deleted_at}. D'autres "
            "appareils utilisent la boîte en même temps ({other_devices}) ; ils ne voient que "
            "ce qui reste sur le serveur."
        ),
        "recommendation": (
            "Indiquez à l'utilisateur quel appareil supprime le courrier et faites-le passer "
            "en IMAP, ou au moins cocher « laisser une copie sur le serveur ». Les messages "
            "supprimés ne se trouvent plus que sur cet appareil."
        ),
        "user": (
            "L'un de vos appareils ({deleting_device}) télécharge votre courrier puis le "
            "supprime de notre serveur. Vos autres appareils ({other_devices}) ne reçoivent "
            "donc pas ces messages : {removed} ces {window_days} derniers jours. Rien n'est "
            "perdu : les messages sont sur l'appareil qui les a téléchargés. Réglez cet "
            "appareil en IMAP, ou pour laisser une copie sur le serveur, et tous vos appareils "
            "verront tout votre courrier."
        ),
    },
    "pop-delete-multi-device/after-days": {
        "title": "Un client POP3 retire d'anciens messages que d'autres appareils affichent",
        "explanation": (
            "{deleting_device} relève le courrier en POP3 et le retire du serveur quelques "
            "jours plus tard (plus jeune message retiré : {days} jours) : {removed} message(s) "
            "en {deleting_sessions} session(s) ces {window_days} derniers jours, la dernière le "
            "{last_deleted_at}. Les autres appareils ({other_devices}) perdent ces messages."
        ),
        "recommendation": (
            "Faites décocher « supprimer du serveur après N jours » sur cet appareil, ou "
            "passez-le en IMAP."
        ),
        "user": (
            "L'un de vos appareils ({deleting_device}) retire les anciens messages de notre "
            "serveur quelques jours après les avoir téléchargés. Vos autres appareils "
            "({other_devices}) les perdent alors : {removed} ces {window_days} derniers jours. "
            "Passez cet appareil en IMAP ou désactivez « supprimer du serveur après ... jours »."
        ),
    },
    "pop-delete-multi-device/probe": {
        "title": (
            "Des messages disparaissent de la boîte de réception pendant qu'un client "
            "POP3 est actif"
        ),
        "explanation": (
            "Entre deux sondages ({between}), {removed} message(s) ont quitté la boîte de "
            "réception sans être déplacés dans un autre dossier ; {never_seen_by_probe} "
            "d'entre eux sont arrivés et ont disparu entre les deux. Un client POP3 s'est "
            "connecté pendant ce temps (dernière connexion POP3 {pop3_last_login}) et d'autres "
            "appareils utilisent la boîte ({other_devices}). Le sondage ne voit pas qui a "
            "supprimé ; c'est d'ordinaire un client POP3 qui supprime à la relève."
        ),
        "recommendation": (
            "Demandez quels logiciels relèvent en POP3 et faites-les passer en IMAP ou en « "
            "laisser une copie sur le serveur ». Le journal du serveur permet de nommer "
            "l'appareil."
        ),
        "user": (
            "Des messages disparaissent de votre boîte de réception sur notre serveur : "
            "{removed} récemment. La cause habituelle est un logiciel configuré en POP3 qui "
            "supprime le courrier après l'avoir téléchargé, si bien que vos autres appareils "
            "({other_devices}) ne le voient jamais. Vérifiez lequel de vos appareils utilise "
            "POP3 et passez-le en IMAP."
        ),
    },
    "pop-delete-single-device": {
        "title": "POP3 avec suppression sur un seul appareil : correct pour l'instant",
        "explanation": (
            "{deleting_device} est le seul appareil de cette boîte ; il relève le courrier en "
            "POP3 et le supprime du serveur ({removed} message(s) ces {window_days} derniers "
            "jours). Cela fonctionne tant qu'il reste le seul appareil."
        ),
        "recommendation": (
            "Rien à corriger. Avant d'ajouter un téléphone ou un second ordinateur, passer cet "
            "appareil en IMAP (ou « laisser une copie sur le serveur »), sinon le nouvel "
            "appareil manquera des messages."
        ),
        "user": (
            "Votre logiciel de messagerie ({deleting_device}) télécharge votre courrier et le "
            "supprime de notre serveur. C'est correct tant que c'est votre seul appareil. "
            "Avant d'ajouter un téléphone ou un autre ordinateur, passez-le en IMAP, sinon le "
            "nouvel appareil ne verra pas votre courrier."
        ),
    },
    "pop-keep": {
        "title": "Un client POP3 laisse le courrier sur le serveur",
        "explanation": (
            "{keeping_device} relève le courrier en POP3 ({retrieved} message(s)) et le "
            "laisse sur le serveur, les autres appareils le voient donc aussi."
        ),
        "recommendation": (
            "Rien d'urgent. L'IMAP garderait l'état lu et les dossiers identiques sur tous "
            "les appareils."
        ),
        "user": (
            "Votre logiciel de messagerie ({keeping_device}) utilise POP3 et garde une copie "
            "de votre courrier sur le serveur. C'est correct. Avec IMAP, les messages lus et "
            "les dossiers seraient en plus les mêmes sur tous vos appareils."
        ),
    },
    "pop-keep/quota": {
        "title": "Un client POP3 garde tout le courrier et la boîte est presque pleine",
        "explanation": (
            "{keeping_device} relève le courrier en POP3 et laisse chaque message sur le "
            "serveur ; la boîte utilise {quota_percent} % de son quota. Une fois pleine, le "
            "nouveau courrier est refusé."
        ),
        "recommendation": (
            "Faire supprimer ou archiver l'ancien courrier, n'activer « supprimer du serveur "
            "après N jours » que si aucun autre appareil n'en a besoin, ou augmenter le quota."
        ),
        "user": (
            "Votre boîte sur notre serveur est pleine à {quota_percent} %, car votre logiciel "
            "({keeping_device}) y garde chaque message. Supprimez ou archivez bientôt "
            "l'ancien courrier, sinon le nouveau ne pourra plus être distribué."
        ),
    },
    "pop-clients-racing": {
        "title": "Plusieurs clients POP3 se disputent le même courrier",
        "explanation": (
            "{device_count} clients POP3 utilisent cette boîte ({devices}) et au moins l'un "
            "supprime ce qu'il relève ({deleting}). Chaque message finit sur l'appareil qui "
            "l'a relevé le premier."
        ),
        "recommendation": (
            "Passer tous sauf un au plus en IMAP, ou faire garder une copie sur le serveur à "
            "chaque client POP3."
        ),
        "user": (
            "Plusieurs de vos appareils relèvent le courrier en POP3 et au moins l'un le "
            "supprime du serveur ({deleting}). Chaque message n'arrive donc que sur un seul "
            "appareil. Passez vos appareils en IMAP pour que tous voient tout votre courrier."
        ),
    },
    "imap-only": {
        "title": (
            "Tous les appareils utilisent IMAP : le courrier reste sur le serveur pour chacun"
        ),
        "explanation": (
            "Chaque appareil vu sur cette boîte utilise IMAP ; aucun ne supprime ce qu'il relève."
        ),
        "recommendation": "Rien à faire.",
        "user": "Tous vos appareils utilisent IMAP, chacun voit donc tout votre courrier.",
    },
    "cleartext-login": {
        "title": "Connexions sans chiffrement",
        "explanation": (
            "{sessions} connexion(s) en {protocols} sans TLS depuis {networks}, la dernière le "
            "{last_at}. Le mot de passe a circulé en clair sur le réseau."
        ),
        "recommendation": (
            "Faire activer SSL/TLS (port 993 pour IMAP, 995 pour POP3) et changer le mot de "
            "passe ; envisager de refuser les connexions sans TLS."
        ),
        "user": (
            "L'un de vos appareils se connecte à votre boîte sans chiffrement : votre mot de "
            "passe pourrait être lu en chemin. Activez SSL/TLS dans les paramètres serveur du "
            "compte, puis changez votre mot de passe."
        ),
    },
    "tls-weak": {
        "title": "Anciennes versions de TLS proposées",
        "explanation": "Le sondage s'est connecté avec une version de TLS dépassée : {servers}.",
        "recommendation": "Désactiver TLS 1.0 et 1.1 sur ces serveurs (TLS 1.2 au minimum).",
        "user": (
            "Notre serveur accepte encore un chiffrement dépassé. Nous le corrigeons ; vous "
            "n'avez rien à faire."
        ),
    },
    "certificate-problem": {
        "title": "Problème de certificat",
        "explanation": "Le sondage a trouvé un problème de certificat serveur : {problems}.",
        "recommendation": "Renouveler ou corriger le certificat et recharger le serveur.",
        "user": (
            "Votre logiciel peut vous avertir au sujet du certificat de notre serveur. Nous "
            "le corrigeons ; n'acceptez pas de certificat inconnu d'ici là."
        ),
    },
}

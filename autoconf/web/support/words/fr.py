"""Mots français des pages du support (les mots des constats sont dans diagnosis/messages)."""

from __future__ import annotations

WORDS: dict[str, str] = {
    "language_name": "Français",
    "app_name": "Support messagerie",
    "nav_search": "Recherche",
    "nav_incidents": "Incidents",
    "nav_dashboard": "Tableau de bord",
    "sign_out": "Se déconnecter",
    "signed_in_as": "Connecté·e en tant que {name} ({role})",
    "language": "Langue",
    "login_title": "Connexion",
    "login_name": "Nom",
    "login_password": "Mot de passe",
    "login_button": "Se connecter",
    "login_failed": "Le nom ou le mot de passe n'est pas correct.",
    "login_locked": (
        "Trop de connexions échouées depuis cette adresse ou pour ce nom. Attendez {minutes} "
        "minutes, puis réessayez."
    ),
    "login_closed": "Aucun agent n'est configuré : ajoutez des entrées page_users (autoconf user).",
    "csrf_failed": (
        "Ce formulaire est périmé ou ne vient pas de ce site. Rechargez la page et envoyez-le "
        "à nouveau."
    ),
    "search_title": "Rechercher une boîte aux lettres",
    "search_label": "Adresse e-mail ou son début",
    "search_button": "Rechercher",
    "search_hint": (
        "Saisissez l'adresse du client ; un début d'adresse liste les boîtes correspondantes."
    ),
    "search_none": "Aucune boîte connue ne commence par « {query} ».",
    "search_results": "Boîtes commençant par « {query} »",
    "mailbox_title": "Boîte aux lettres {mailbox}",
    "findings": "Constats",
    "no_findings": "Rien à signaler pour cette boîte aux lettres.",
    "what_happened": "Ce qui s'est passé",
    "what_to_do": "Que faire",
    "tell_customer": "Ce qu'il faut dire au client",
    "devices": "Appareils",
    "no_devices": "Aucun appareil n'a utilisé cette boîte ces {days} derniers jours.",
    "timeline": "Appareils dans le temps",
    "protocol": "Protocole",
    "client": "Logiciel",
    "network": "Réseau",
    "first_seen": "Vu la première fois",
    "last_seen": "Vu la dernière fois",
    "sessions": "Sessions",
    "deleted": "Supprimés",
    "behaviour": "Ce qu'il fait",
    "legend_session": "session",
    "legend_deleting": "session qui a supprimé des messages",
    "legend_span": "en service",
    "deleted_n": "{count} supprimé(s)",
    "actions": "Actions",
    "probe_now": "Tester maintenant",
    "probe_hint": (
        "Se connecte aux serveurs en tant qu'utilisateur maître et compare la boîte de réception."
    ),
    "probe_result": "Résultat du test",
    "probe_failed": "Le test n'a pas pu s'exécuter : {reason}",
    "probe_server": "{server} : connexion {login}, TLS {tls}",
    "probe_changes": (
        "Depuis le test précédent : {gone} disparu(s), {moved} déplacé(s), {new} nouveau(x)."
    ),
    "probe_last": "Dernier test : {when}",
    "send_notice": "Envoyer l'avis",
    "notice_hint": "Envoie au client un message dans sa langue, visible sur tous ses appareils.",
    "notice_sent": "L'avis a été envoyé ({count}).",
    "notice_none": (
        "Aucun avis n'était dû : il a déjà été envoyé, ou aucun constat n'en demande un."
    ),
    "notice_off": "Les avis sont désactivés (notice_transport = off).",
    "notice_failed": "L'avis n'a pas pu être envoyé : {reason}",
    "notified_at": "Avis envoyé {when}",
    "incidents_title": "Incidents",
    "incidents_none": "Aucun incident.",
    "incident_mailbox": "Boîte",
    "incident_finding": "Constat",
    "incident_severity": "Gravité",
    "incident_opened": "Ouvert",
    "incident_updated": "Mis à jour",
    "incident_notified": "Avis",
    "state_open": "Ouverts",
    "state_resolved": "Résolus",
    "state_all": "Tous",
    "show": "Afficher",
    "older": "Plus anciens",
    "newer": "Plus récents",
    "severity": "Gravité",
    "severity_any": "toutes",
    "severity_critical": "critique",
    "severity_warning": "avertissement",
    "severity_info": "info",
    "dashboard_title": "Tableau de bord",
    "dashboard_period": "{days} derniers jours",
    "chart_share": "Part des sessions POP3 et IMAP par jour (%)",
    "chart_risk": "Boîtes en danger, par gravité",
    "chart_clients": "Logiciels : demandes de configuration par logiciel",
    "chart_imap_ids": "Logiciels : sessions IMAP par nom de logiciel (IMAP ID)",
    "chart_setup": "Demandes de configuration par point d'accès et logiciel",
    "chart_ingest": "Sessions lues par heure (48 dernières heures)",
    "domains_title": "État des domaines",
    "domains_counts": (
        "Derniers contrôles : {fail} en échec, {warn} avec avertissements, {ok} en ordre."
    ),
    "domains_empty": (
        "Aucun domaine n'a encore été contrôlé (health_interval_hours active le contrôle "
        "régulier ; autoconf check en contrôle un tout de suite)."
    ),
    "domains_all_fine": "Aucun domaine n'est en échec ni en avertissement.",
    "domain": "Domaine",
    "domain_status": "État",
    "domain_checked": "Contrôlé",
    "domain_summary": "Ce que trouvent les logiciels de messagerie",
    "status_fail": "en échec",
    "status_warn": "avertissement",
    "login_no_agents": (
        "Personne ne peut encore se connecter : créez une entrée avec 'autoconf user --name "
        "NOM' et ajoutez-la à page_users."
    ),
    "ingest_title": "Lecture des journaux",
    "ingest_lag": "Événement de session le plus récent : {when} (il y a {lag})",
    "ingest_empty": "Aucune session n'a encore été lue.",
    "ingest_source": "Journal {source} : lu la dernière fois {when}",
    "skipped_title": "Événements reçus par le récepteur et lignes ignorées",
    "no_data": "Aucune donnée sur cette période.",
    "no_id": "(pas d'IMAP ID)",
    "never": "jamais",
    "unknown": "inconnu",
    "error_title": "Quelque chose ne va pas",
    "back": "Retour",
    "minutes": "{n} min",
    "hours": "{n} h",
    "days": "{n} j",
}

"""English wording of every finding: for the support agent and for the user."""

from __future__ import annotations

COMMON = {
    # English words inside device descriptions, in this language (applied in order)
    "probe_sentences": (),
    "device_words": (),
    "unknown": "unknown",
    "unseen": (
        " {unseen} of them were removed before any other device had a chance to fetch them: "
        "those messages never reached the other devices."
    ),
    "subject": "Your mail program is deleting messages from the server",
    "greeting": "Hello,",
    "intro": (
        "this is an automatic message from your mail provider about the mailbox {mailbox}. "
        "We noticed something in how your devices use it:"
    ),
    "steps": (
        "How to change it (on the device that downloads mail with POP3):\n"
        "- Outlook (Windows): File > Account Settings > Account Settings, select the account, "
        "Change > More Settings > Advanced: tick 'Leave a copy of messages on the server' and "
        "untick 'Remove from server after ... days'. Better still: remove the account and add "
        "it again; Outlook then sets it up with IMAP.\n"
        "- Thunderbird: Account Settings > Server Settings: tick 'Leave messages on server' "
        "and untick 'Delete after ... days'; or add the account again and choose IMAP.\n"
        "- Apple Mail on a Mac: Mail > Settings > Accounts > the account > Server Settings or "
        "Advanced: untick 'Remove copy from server after retrieving a message'; better, add "
        "the account again as IMAP.\n"
        "- iPhone and iPad: Settings > Mail > Accounts > the account > Advanced: set 'Delete "
        "from server' to 'Never'; better, add the account again and choose IMAP.\n"
        "- Android (Gmail, Samsung Email, K-9 Mail / Thunderbird for Android): in the "
        "account's incoming server settings set 'Delete email from server' to 'Never'; "
        "better, remove the account and add it again with IMAP."
    ),
    "footer": (
        "You receive this notice once. If you have questions, answer your provider's support "
        "team and mention the reference {reference}."
    ),
}

TEXTS: dict[str, dict[str, str]] = {
    "pop-delete-multi-device": {
        "title": "A POP3 client deletes mail that other devices need",
        "explanation": (
            "{deleting_device} downloads mail over POP3 and deletes it from the server in the "
            "same session: {removed} message(s) removed in {deleting_sessions} session(s) in "
            "the last {window_days} days, the last at {last_deleted_at}. Other devices use "
            "this mailbox at the same time ({other_devices}); they only see what is still "
            "on the server."
        ),
        "recommendation": (
            "Tell the user which device deletes mail and have them switch it to IMAP, or at "
            "least tick 'leave a copy on the server'. The removed messages are only on that "
            "device now."
        ),
        "user": (
            "One of your devices ({deleting_device}) downloads your mail and then deletes it "
            "from our server. Your other devices ({other_devices}) therefore miss those "
            "messages: {removed} message(s) in the last {window_days} days. Nothing is lost: "
            "the messages are on the device that downloaded them. Set that device to IMAP, or "
            "to leave a copy on the server, and all your devices will see all your mail."
        ),
    },
    "pop-delete-multi-device/after-days": {
        "title": "A POP3 client removes older mail that other devices still show",
        "explanation": (
            "{deleting_device} downloads mail over POP3 and removes messages from the server "
            "some days later (youngest removed message: {days} days old): {removed} message(s) "
            "in {deleting_sessions} session(s) in the last {window_days} days, the last at "
            "{last_deleted_at}. Other devices ({other_devices}) lose those older messages."
        ),
        "recommendation": (
            "Have the user untick 'remove from server after N days' on that device, or switch "
            "it to IMAP."
        ),
        "user": (
            "One of your devices ({deleting_device}) removes older messages from our server a "
            "few days after downloading them. Your other devices ({other_devices}) then lose "
            "those messages: {removed} in the last {window_days} days. Switch that device to "
            "IMAP, or turn off 'remove from server after ... days'."
        ),
    },
    "pop-delete-multi-device/probe": {
        "title": "Messages vanish from the INBOX while a POP3 client is active",
        "explanation": (
            "Between two probes ({between}) {removed} message(s) left the INBOX without "
            "being moved to another folder; {never_seen_by_probe} of them arrived and vanished "
            "between the probes. A POP3 client logged in during that time (last POP3 login "
            "{pop3_last_login}) and other devices use the mailbox ({other_devices}). The probe "
            "cannot see who deleted them; a POP3 client that deletes on download is the usual "
            "cause."
        ),
        "recommendation": (
            "Ask the user which programs fetch mail with POP3 and have them switch those to "
            "IMAP or to 'leave a copy on the server'. Ingest the server log to name the device."
        ),
        "user": (
            "Messages are disappearing from your inbox on our server: {removed} recently. The "
            "usual cause is a mail program set up with POP3 that deletes mail after "
            "downloading it, so your other devices ({other_devices}) never see it. Check "
            "which of your devices uses POP3 and switch it to IMAP."
        ),
    },
    "pop-delete-single-device": {
        "title": "POP3 with deletion, one device: fine for now",
        "explanation": (
            "{deleting_device} is the only device using this mailbox; it downloads mail over "
            "POP3 and deletes it from the server ({removed} message(s) in the last "
            "{window_days} days). That works as long as it stays the only device."
        ),
        "recommendation": (
            "Nothing to fix. Before the user adds a phone or a second computer, switch this "
            "device to IMAP (or 'leave a copy on the server'), or the new device will miss "
            "mail."
        ),
        "user": (
            "Your mail program ({deleting_device}) downloads your mail and deletes it from "
            "our server. That is fine while it is your only device. Before you add a phone or "
            "another computer, switch it to IMAP, or the new device will not see your mail."
        ),
    },
    "pop-keep": {
        "title": "A POP3 client keeps mail on the server",
        "explanation": (
            "{keeping_device} downloads mail over POP3 ({retrieved} message(s)) and leaves it "
            "on the server, so other devices see it too."
        ),
        "recommendation": (
            "Nothing urgent. IMAP would keep read state and folders in step across devices."
        ),
        "user": (
            "Your mail program ({keeping_device}) uses POP3 and keeps a copy of your mail on "
            "the server. That is fine. IMAP would also keep read messages and folders the "
            "same on all your devices."
        ),
    },
    "pop-keep/quota": {
        "title": "A POP3 client keeps mail and the mailbox is nearly full",
        "explanation": (
            "{keeping_device} downloads mail over POP3 and leaves every message on the server; "
            "the mailbox uses {quota_percent} % of its quota. When it is full, new mail is "
            "refused."
        ),
        "recommendation": (
            "Have the user delete or archive old mail, or enable 'remove from server after "
            "N days' only if no other device needs the old mail; or raise the quota."
        ),
        "user": (
            "Your mailbox on our server is {quota_percent} % full, because your mail program "
            "({keeping_device}) keeps every message there. Delete or archive old mail soon, "
            "or new mail cannot be delivered."
        ),
    },
    "pop-clients-racing": {
        "title": "Several POP3 clients compete for the same mail",
        "explanation": (
            "{device_count} POP3 clients use this mailbox ({devices}) and at least one deletes "
            "what it downloads ({deleting}). Each message ends up on whichever device fetched "
            "it first."
        ),
        "recommendation": (
            "Switch all but at most one of them to IMAP, or make every POP3 client keep a "
            "copy on the server."
        ),
        "user": (
            "Several of your devices fetch mail with POP3 and at least one deletes it from the "
            "server ({deleting}). Each message therefore lands on just one device. Switch your "
            "devices to IMAP so that all of them see all your mail."
        ),
    },
    "imap-only": {
        "title": "All devices use IMAP: mail stays on the server for every device",
        "explanation": (
            "Every device seen on this mailbox uses IMAP; no device deletes mail it downloads."
        ),
        "recommendation": "Nothing to do.",
        "user": "All your devices use IMAP, so each of them sees all your mail.",
    },
    "cleartext-login": {
        "title": "Logins without encryption",
        "explanation": (
            "{sessions} login(s) over {protocols} without TLS from {networks}, the last at "
            "{last_at}. The password crossed the network in clear text."
        ),
        "recommendation": (
            "Have the user turn on SSL/TLS (port 993 for IMAP, 995 for POP3) and change the "
            "password; consider refusing logins without TLS."
        ),
        "user": (
            "One of your devices logs in to your mailbox without encryption, so your password "
            "could be read on the way. Turn on SSL/TLS in the account's server settings and "
            "then change your password."
        ),
    },
    "tls-weak": {
        "title": "Old TLS versions offered",
        "explanation": "The probe connected with an outdated TLS version: {servers}.",
        "recommendation": "Disable TLS 1.0 and 1.1 on these servers (TLS 1.2 as the minimum).",
        "user": (
            "Our server still accepts an outdated kind of encryption. We are fixing it; you "
            "do not need to do anything."
        ),
    },
    "certificate-problem": {
        "title": "Certificate problem",
        "explanation": "The probe found a problem with a server certificate: {problems}.",
        "recommendation": "Renew or correct the certificate and reload the server.",
        "user": (
            "Your mail program may warn you about our server's certificate. We are fixing it; "
            "do not accept unknown certificates in the meantime."
        ),
    },
}

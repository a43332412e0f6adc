-- Audit log: who (token or page user, and role) probed or sent a notice to which mailbox,
-- when, and what came of it (web/audit.py).
CREATE TABLE audit (
    id       BIGSERIAL PRIMARY KEY,
    at       DOUBLE PRECISION NOT NULL,
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    action   TEXT NOT NULL,
    mailbox  TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_mailbox ON audit (mailbox, at);
-- Mailbox search by prefix (Store.mailboxes: mailbox LIKE 'prefix%'): pattern indexes work
-- whatever the database's collation.
CREATE INDEX sessions_mailbox_prefix ON sessions (mailbox text_pattern_ops);
CREATE INDEX sightings_mailbox_prefix ON sightings (mailbox text_pattern_ops);
CREATE INDEX incidents_mailbox_prefix ON incidents (mailbox text_pattern_ops);

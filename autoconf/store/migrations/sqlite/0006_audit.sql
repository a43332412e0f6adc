-- Audit log: who (token or page user, and role) probed or sent a notice to which mailbox,
-- when, and what came of it (web/audit.py).
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       REAL NOT NULL,
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    action   TEXT NOT NULL,
    mailbox  TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_mailbox ON audit (mailbox, at);

-- Mail sessions from the server's log or event export, keyed by Dovecot's session id.
CREATE TABLE sessions (
    key                TEXT PRIMARY KEY,
    mailbox            TEXT,
    protocol           TEXT,
    rip                TEXT,
    lip                TEXT,
    lport              INTEGER,
    tls                INTEGER,
    method             TEXT,
    started_at         REAL,
    ended_at           REAL,
    end_reason         TEXT,
    client_name        TEXT,
    client_version     TEXT,
    client_os          TEXT,
    client_os_version  TEXT,
    client_vendor      TEXT,
    top                INTEGER,
    retrieved          INTEGER,
    deleted            INTEGER,
    messages           INTEGER,
    deleted_bytes      INTEGER,
    uidl               INTEGER,
    expunged           INTEGER,
    trashed            INTEGER,
    mail_age_days      REAL
);
CREATE INDEX sessions_mailbox ON sessions (mailbox, started_at);

-- Message-level events (mail_log, deliveries).
CREATE TABLE mail_events (
    id       INTEGER PRIMARY KEY,
    session  TEXT,
    mailbox  TEXT NOT NULL,
    at       REAL NOT NULL,
    service  TEXT NOT NULL,
    action   TEXT NOT NULL,
    box      TEXT,
    uid      INTEGER,
    msgid    TEXT,
    size     INTEGER
);
CREATE INDEX mail_events_mailbox ON mail_events (mailbox, at);
CREATE INDEX mail_events_session ON mail_events (session);

-- Where each followed log file was read up to; written in the same transaction as the
-- data read before that point.
CREATE TABLE checkpoints (
    source      TEXT PRIMARY KEY,
    inode       INTEGER NOT NULL,
    position    INTEGER NOT NULL,
    updated_at  REAL NOT NULL
);

-- Incidents: a finding of one code on one mailbox, from the first time it was found until
-- its cause has stopped for incident_resolve_days. At most one open incident per mailbox
-- and code; every transition (opened, updated, resolved, notified) is a row of its own.
CREATE TABLE incidents (
    id           INTEGER PRIMARY KEY,
    mailbox      TEXT NOT NULL,
    code         TEXT NOT NULL,
    variant      TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL,
    state        TEXT NOT NULL,
    opened_at    REAL NOT NULL,
    updated_at   REAL NOT NULL,
    cause_at     REAL NOT NULL,
    resolved_at  REAL,
    evidence     TEXT NOT NULL,
    notified_at  REAL,
    notice_id    TEXT
);
CREATE UNIQUE INDEX incidents_open ON incidents (mailbox, code) WHERE state = 'open';
CREATE INDEX incidents_mailbox ON incidents (mailbox, updated_at);
CREATE INDEX incidents_state ON incidents (state, severity, updated_at);

CREATE TABLE incident_transitions (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at           REAL NOT NULL,
    transition   TEXT NOT NULL,
    severity     TEXT NOT NULL,
    evidence     TEXT NOT NULL
);
CREATE INDEX incident_transitions_incident ON incident_transitions (incident_id, at);

-- Incidents: a finding of one code on one mailbox, from the first time it was found until
-- its cause has stopped for incident_resolve_days. At most one open incident per mailbox
-- and code; every transition (opened, updated, resolved, notified) is a row of its own.
CREATE TABLE incidents (
    id           BIGSERIAL PRIMARY KEY,
    mailbox      TEXT NOT NULL,
    code         TEXT NOT NULL,
    variant      TEXT NOT NULL DEFAULT '',
    severity     TEXT NOT NULL,
    state        TEXT NOT NULL,
    opened_at    DOUBLE PRECISION NOT NULL,
    updated_at   DOUBLE PRECISION NOT NULL,
    cause_at     DOUBLE PRECISION NOT NULL,
    resolved_at  DOUBLE PRECISION,
    evidence     TEXT NOT NULL,
    notified_at  DOUBLE PRECISION,
    notice_id    TEXT
);
CREATE UNIQUE INDEX incidents_open ON incidents (mailbox, code) WHERE state = 'open';
CREATE INDEX incidents_mailbox ON incidents (mailbox, updated_at);
CREATE INDEX incidents_state ON incidents (state, severity, updated_at);

CREATE TABLE incident_transitions (
    id           BIGSERIAL PRIMARY KEY,
    incident_id  BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at           DOUBLE PRECISION NOT NULL,
    transition   TEXT NOT NULL,
    severity     TEXT NOT NULL,
    evidence     TEXT NOT NULL
);
CREATE INDEX incident_transitions_incident ON incident_transitions (incident_id, at);

-- Setup requests seen by the service: identical requests within one flush window share a
-- row (first and last time, number of requests).
CREATE TABLE sightings (
    id          INTEGER PRIMARY KEY,
    domain      TEXT NOT NULL,
    mailbox     TEXT,
    client      TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL,
    first_seen  REAL    NOT NULL,
    last_seen   REAL    NOT NULL,
    requests    INTEGER NOT NULL
);
CREATE INDEX sightings_mailbox ON sightings (mailbox, last_seen);
CREATE INDEX sightings_domain ON sightings (domain, last_seen);

-- Setup requests seen by the service: one row per request.
CREATE TABLE sightings (
    id          BIGSERIAL PRIMARY KEY,
    seen_at     DOUBLE PRECISION NOT NULL,
    domain      TEXT NOT NULL,
    mailbox     TEXT,
    client      TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    ip          TEXT NOT NULL,
    user_agent  TEXT NOT NULL
);
CREATE INDEX sightings_mailbox ON sightings (mailbox, seen_at);
CREATE INDEX sightings_domain ON sightings (domain, seen_at);

-- One row per probe of a mailbox (autoconf/probe/mailbox.py probe_and_store): what changed in
-- the INBOX since the probe before (gone, moved, new; a bounded list of the gone messages as
-- JSON [{"uid", "message_id"}]) and the servers' facts (TLS versions, certificate problems,
-- login results, last-login times) as JSON, for the probe rules of the diagnosis.
CREATE TABLE probe_runs (
    id           BIGSERIAL PRIMARY KEY,
    mailbox      TEXT NOT NULL,
    probed_at    DOUBLE PRECISION NOT NULL,
    finished_at  DOUBLE PRECISION NOT NULL,
    previous_at  DOUBLE PRECISION,
    method       TEXT,
    gone         INTEGER NOT NULL DEFAULT 0,
    gone_unseen  INTEGER NOT NULL DEFAULT 0,
    gone_ids     TEXT NOT NULL DEFAULT '[]',
    moved        INTEGER NOT NULL DEFAULT 0,
    new          INTEGER NOT NULL DEFAULT 0,
    facts        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX probe_runs_mailbox ON probe_runs (mailbox, probed_at);
CREATE INDEX probe_runs_probed_at ON probe_runs (probed_at);

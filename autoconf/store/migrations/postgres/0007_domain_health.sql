-- The last domain-health check of each domain (autoconf/health/): its status (pass, warn,
-- fail), when it ran, the summary sentence and the whole report as JSON. The fleet check
-- replaces the row of a domain on each run; failures are found through the status index.
CREATE TABLE domain_health (
    domain      TEXT PRIMARY KEY,
    status      TEXT NOT NULL,
    checked_at  DOUBLE PRECISION NOT NULL,
    summary     TEXT NOT NULL DEFAULT '',
    report      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX domain_health_status ON domain_health (status, checked_at);

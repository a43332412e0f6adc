-- Failed sign-ins to the support pages, per key (client address, agent name), shared by
-- every worker and instance on this store. Rows older than the lockout window are removed
-- when the next failure is written.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   REAL NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

-- No query reads mail events by session (diagnosis reads them by mailbox and time), and
-- keeping this index up to date cost ingest about 2.5 us per mail record.
DROP INDEX IF EXISTS mail_events_session;

-- The last INBOX snapshot of each mailbox taken by the probe (autoconf/probe/snapshot.py):
-- JSON bytes holding UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and a bounded UID -> Message-ID map.
CREATE TABLE snapshots (
    mailbox   TEXT PRIMARY KEY,
    data      BLOB NOT NULL,
    saved_at  REAL NOT NULL
);

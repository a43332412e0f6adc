"""Real servers started for the tests: PostgreSQL databases, Dovecot."""

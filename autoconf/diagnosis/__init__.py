"""Diagnosis: pure rules over a mailbox's data, findings, messages, incidents."""

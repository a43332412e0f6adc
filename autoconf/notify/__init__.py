"""Notices to users: the mail that tells a mailbox's owner what the diagnosis found."""

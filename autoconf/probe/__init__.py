"""Mailbox probe: IMAP and POP3 over TLS against a provider's servers, INBOX snapshots.

``probe_mailbox`` is the entry point (autoconf/probe/mailbox.py); importing does no I/O.
"""

from __future__ import annotations

from autoconf.probe.mailbox import HostLimiter, Target, probe_and_store, probe_mailbox
from autoconf.probe.server import Credentials, Options

__all__ = ["Credentials", "HostLimiter", "Options", "Target", "probe_and_store", "probe_mailbox"]

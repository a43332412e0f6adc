"""autoconf: mail client setup and detection of POP3 clients that delete shared mail."""

__version__ = "0.1.0"

"""Service settings: a TOML file, then AUTOCONF_* environment variables, then the command line."""

from __future__ import annotations

import ipaddress
import socket
import tomllib
import zlib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from autoconf.errors import ConfigError


def _default_server_id() -> int:
    return zlib.crc32(socket.gethostname().encode())


class Settings(BaseSettings):
    """Every setting of the service, its default and its meaning."""

    model_config = SettingsConfigDict(env_prefix="AUTOCONF_", extra="forbid", frozen=True)

    host: str = Field(default="127.0.0.1", description="address the HTTP service listens on")
    port: int = Field(default=8080, ge=0, le=65535, description="port the HTTP service listens on")
    workers: int = Field(
        default=1, ge=1, le=64, description="service processes sharing the port (SO_REUSEPORT)"
    )
    data_dir: Path = Field(
        default=Path("autoconf-data"), description="where the SQLite store and pid file live"
    )
    database_url: str | None = Field(
        default=None,
        pattern=r"^postgres(ql)?://",
        description="PostgreSQL DSN (postgresql://user@host/db); unset: SQLite in data_dir",
    )
    catalog: Path | None = Field(default=None, description="catalog TOML file")
    catalog_poll_seconds: float = Field(
        default=5.0,
        ge=0,
        description="seconds between checks of the catalog file; a changed file is reloaded "
        "(0: only on SIGHUP or the reload API)",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="proxy addresses or CIDRs whose X-Forwarded-For/-Proto are believed",
    )
    demo: bool = Field(default=False, description="serve the built-in demo catalog")
    public_host: str | None = Field(
        default=None, description="host name clients reach this service by (for DNS records)"
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="json, console, or auto (console on a terminal)"
    )
    access_log: bool = Field(default=True, description="one log line per HTTP request")
    metrics_refresh_seconds: float = Field(
        default=30.0, ge=1, description="seconds between refreshes of the store gauges of /metrics"
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        default="auto", description="uvloop when installed (auto), or force one"
    )
    sightings_buffer: int = Field(
        default=10_000, ge=1, description="sightings held in memory before new ones are dropped"
    )
    sightings_batch: int = Field(default=500, ge=1, description="sightings written per batch")
    sightings_flush_seconds: float = Field(
        default=1.0, gt=0, description="longest time a sighting waits before it is written"
    )
    mobileconfig_cert: Path | None = Field(
        default=None, description="PEM certificate that signs .mobileconfig profiles"
    )
    mobileconfig_key: Path | None = Field(default=None, description="PEM key of that certificate")
    mobileconfig_chain: Path | None = Field(
        default=None, description="PEM intermediates sent inside each signed profile"
    )
    default_domain: str | None = Field(
        default=None, description="domain added to Dovecot user names without @"
    )
    log_timezone: str = Field(
        default="UTC", description="time zone of Dovecot's log timestamps (e.g. Europe/Zurich)"
    )
    events_secret: str | None = Field(
        default=None,
        min_length=16,
        description="shared secret Dovecot's event export sends (?secret= or X-Autoconf-Secret)",
    )
    api_tokens: tuple[str, ...] = Field(
        default=(),
        description=(
            "API tokens as [role:][name:]sha256-hex, role support or admin"
            " (autoconf token prints one)"
        ),
    )
    page_users: tuple[str, ...] = Field(
        default=(),
        description="support page agents as role:name:scrypt-hash (autoconf user prints one)",
    )
    session_secret: str | None = Field(
        default=None,
        min_length=32,
        description="key signing page sessions; unset: random per process (lost on restart)",
    )
    session_hours: float = Field(
        default=8, gt=0, le=24 * 30, description="hours a page session lasts after sign-in"
    )
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Secure flag on page cookies: auto (when the client used https), always, never",
    )
    login_attempts: int = Field(
        default=5, ge=1, description="failed sign-ins per address or name before a lockout"
    )
    login_window_seconds: float = Field(
        default=300, gt=0, description="window in which failed sign-ins count, and the lockout"
    )
    retention_days: float = Field(
        default=90, gt=0, description="sessions, mail events, sightings and addresses kept"
    )
    probe_master_user: str | None = Field(
        default=None,
        min_length=1,
        description="Dovecot master user the probe logs in as (user*master); unset: no master",
    )
    probe_master_password_file: Path | None = Field(
        default=None, description="file holding the master user's password (first line)"
    )
    probe_master_separator: str = Field(
        default="*",
        min_length=1,
        max_length=1,
        description="Dovecot's auth_master_user_separator",
    )
    probe_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle the probe trusts instead of the system CAs"
    )
    probe_connect_timeout: float = Field(
        default=5.0, gt=0, description="seconds a probe waits for a TCP connection"
    )
    probe_step_timeout: float = Field(
        default=10.0, gt=0, description="seconds a probe waits for each answer or TLS handshake"
    )
    probe_per_host: int = Field(
        default=8, ge=1, description="probes at a time against one server host (probe --from)"
    )
    probe_concurrency: int = Field(
        default=64, ge=1, description="mailboxes probed at a time (probe --from)"
    )
    probe_last_login_file: Path | None = Field(
        default=None,
        description="file of Dovecot's last_login dict (file: driver): POP3/IMAP logins "
        "between probes",
    )
    probe_max_messages: int = Field(
        default=50_000, ge=1, description="UID -> Message-ID pairs kept in a mailbox's snapshot"
    )
    health_interval_hours: float = Field(
        default=0, ge=0, description="hours between health checks of every catalog domain; 0: off"
    )
    health_concurrency: int = Field(
        default=8, ge=1, le=256, description="domains checked at a time by the fleet check"
    )
    health_timeout: float = Field(
        default=5.0, gt=0, description="seconds each DNS query, HTTP request or server step waits"
    )
    health_nameservers: tuple[str, ...] = Field(
        default=(), description="DNS servers (host or host:port) for health checks; unset: system"
    )
    health_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle the health checks trust instead of the system CAs"
    )
    health_ispdb_url: str = Field(
        default="https://autoconfig.thunderbird.net/v1.1/",
        pattern=r"^(https?://\S+/)?$",
        description="ISPDB that health checks ask, as Thunderbird does ('' to skip)",
    )
    health_port_map: tuple[str, ...] = Field(
        default=(),
        description="tests only: [host:]port=port entries; health checks connect to the second "
        "port on the same address",
    )
    default_language: Literal["en", "de", "fr", "it"] = Field(
        default="en",
        description="language of findings and notices when the request names none",
    )
    diagnosis_window_days: float = Field(
        default=30, gt=0, description="days of sessions the diagnosis rules look at"
    )
    incident_resolve_days: float = Field(
        default=14, gt=0, description="days after the cause stops until an incident resolves"
    )
    notice_transport: Literal["off", "lmtp", "smtp"] = Field(
        default="off", description="how the notice mail reaches the mailbox: off, lmtp or smtp"
    )
    notice_host: str = Field(default="127.0.0.1", description="LMTP or SMTP server of notices")
    notice_port: int = Field(
        default=24, ge=1, le=65535, description="port of that server (LMTP 24, SMTP 25)"
    )
    notice_sender: str = Field(
        default="postmaster@localhost",
        min_length=3,
        description="From and envelope sender of notice mails",
    )
    notice_interval_hours: float = Field(
        default=24, ge=0, description="least hours between two notices to one mailbox"
    )
    server_id: int = Field(
        default_factory=_default_server_id,
        ge=0,
        lt=2**32,
        description="number naming this instance in Autodiscover error documents",
    )

    @model_validator(mode="after")
    def _signing_pair(self) -> Settings:
        if (self.mobileconfig_cert is None) != (self.mobileconfig_key is None):
            msg = "mobileconfig_cert and mobileconfig_key must be set together"
            raise ValueError(msg)
        if self.mobileconfig_chain is not None and self.mobileconfig_cert is None:
            msg = "mobileconfig_chain needs mobileconfig_cert and mobileconfig_key"
            raise ValueError(msg)
        if (self.probe_master_user is None) != (self.probe_master_password_file is None):
            msg = "probe_master_user and probe_master_password_file must be set together"
            raise ValueError(msg)
        return self

    @field_validator("log_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"unknown time zone {value!r} (use a name like Europe/Zurich)"
            raise ValueError(msg) from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                msg = f"{entry!r} is no address or CIDR network (like 10.0.0.0/8 or ::1)"
                raise ValueError(msg) from None
        return value

    @field_validator("page_users")
    @classmethod
    def _page_users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from autoconf.web.support.session import parse_user_entry  # noqa: PLC0415 - import cycle

        names = [parse_user_entry(entry).name for entry in value]
        if len(set(names)) != len(names):
            msg = "page_users: each name may appear once"
            raise ValueError(msg)
        return value

    @field_validator("api_tokens")
    @classmethod
    def _token_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from autoconf.web.auth import parse_token_entry  # noqa: PLC0415 - avoids an import cycle

        for entry in value:
            parse_token_entry(entry)  # raises ValueError with the sentence pydantic shows
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The log time zone."""
        return ZoneInfo(self.log_timezone)

    @property
    def sqlite_path(self) -> Path:
        """The SQLite database file inside the data directory."""
        return self.data_dir / "autoconf.sqlite3"

    @property
    def pid_file(self) -> Path:
        """Where ``serve`` writes its process id, for ``autoconf reload``."""
        return self.data_dir / "autoconf.pid"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Command line (init) over environment; the file is merged in by load_settings."""
        del settings_cls, dotenv_settings, file_secret_settings
        return (init_settings, env_settings)


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build settings from a file, the environment and overrides; ConfigError lists problems.

    Precedence: overrides (the command line) over AUTOCONF_* variables over the file.
    Overrides whose value is None are ignored.
    """
    source = str(config_file) if config_file else "settings"
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError([f"{source}: (file): cannot be read: {exc.strerror}"]) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{source}: (syntax): {exc}"]) from None
    given = {k: v for k, v in overrides.items() if v is not None}
    environment = _environment_keys()
    base = {k: v for k, v in file_values.items() if k not in environment}
    try:
        return Settings(**{**base, **given})
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            where = "AUTOCONF_" + loc.upper() if loc in environment else loc
            lines.append(f"{source}: {where}: {err['msg']}")
        raise ConfigError(lines) from None


def _environment_keys() -> set[str]:
    import os  # noqa: PLC0415 - only here: no other module reads the environment

    return {
        k[len("AUTOCONF_") :].lower()
        for k in os.environ
        if k.startswith("AUTOCONF_") and k != "AUTOCONF_CONFIG"
    }


def config_file_from_env() -> Path | None:
    """The settings file named by AUTOCONF_CONFIG, if any."""
    import os  # noqa: PLC0415 - only here: no other module reads the environment

    value = os.environ.get("AUTOCONF_CONFIG")
    return Path(value) if value else None

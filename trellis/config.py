"""Settings: the only module that reads the environment.

Everything else receives a `Settings` value. A bad value stops start-up with one line that names the
variable, because an operator reading a crash-loop log should not have to read a traceback.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_DB_PATH = Path("var") / "trellis.db"
APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
UTC_ZONE = ZoneInfo("UTC")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class SsoSettings:
    """Tab single sign-on: which Entra tokens the tabs accept."""

    client_id: str | None
    allowed_tenants: frozenset[str]
    openid_metadata_url: str
    app_id_uri: str | None

    @property
    def enabled(self) -> bool:
        return self.client_id is not None


@dataclass(frozen=True)
class DirectorySettings:
    """Microsoft Entra ID and Graph: where the org chart comes from, and how Trellis signs in to read it."""

    tenant_id: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    certificate_path: str | None = None
    certificate_thumbprint: str | None = None
    authority_host: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    teams_app_catalog_id: str | None = None
    sync_interval_minutes: int = 0

    @property
    def configured(self) -> bool:
        return bool(self.tenant_id and self.client_id and (self.client_secret or self.certificate_path))

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"


@dataclass(frozen=True)
class Settings:
    """Everything Trellis is configured with."""

    port: int = 3978
    host: str = "127.0.0.1"
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    public_base_url: str = "http://localhost:3978"
    session_secret: str = field(default="", repr=False)
    sso: SsoSettings = field(
        default_factory=lambda: SsoSettings(
            None,
            frozenset(),
            "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
            None,
        )
    )
    bot_openid_metadata_url: str | None = None
    allowed_service_hosts: tuple[str, ...] = ()
    log_level: str = "INFO"
    hr_contact: str | None = None
    directory: DirectorySettings = field(default_factory=lambda: DirectorySettings("", ""))
    # How often the server looks for check-in cards, reminders and digests that are due; 0 turns it off.
    checkin_schedule_minutes: int = 15
    # Whose days check-ins follow for people with no time zone on file; everyone else follows their own.
    checkin_time_zone: ZoneInfo = UTC_ZONE
    # Proactive messages (nudges, cards, posts) per second per tenant, per sending process; Teams allows 50.
    nudge_tenant_rate: int = 40

    @property
    def production(self) -> bool:
        """An app id means a real Teams tenant: no anonymous bot, no dev sign-in."""
        return bool(self.app_id)

    @property
    def dev_sign_in_enabled(self) -> bool:
        return not self.production


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings from the environment (or a given mapping)."""
    env = os.environ if environ is None else environ
    app_id = _guid_or_empty(env, "MicrosoftAppId")
    app_password = env.get("MicrosoftAppPassword", "")
    app_type = env.get("MicrosoftAppType", "SingleTenant") or "SingleTenant"
    if app_type not in APP_TYPES:
        raise ConfigError(f"MicrosoftAppType must be one of {', '.join(APP_TYPES)}, not {app_type!r}")
    tenant_id = _guid_or_empty(env, "MicrosoftAppTenantId")
    if app_id:
        if app_type != "UserAssignedMSI" and not app_password:
            raise ConfigError("MicrosoftAppPassword is required when MicrosoftAppId is set")
        if app_type in ("SingleTenant", "UserAssignedMSI") and not tenant_id:
            raise ConfigError(f"MicrosoftAppTenantId is required when MicrosoftAppType is {app_type}")
    port = _port(env)
    public_base_url = _url(env, "PUBLIC_BASE_URL", f"http://localhost:{port}")
    if app_id and not public_base_url.startswith("https://"):
        raise ConfigError("PUBLIC_BASE_URL must be an https:// URL when MicrosoftAppId is set")
    session_secret = env.get("TRELLIS_SESSION_SECRET", "")
    if app_id and len(session_secret) < 32:
        raise ConfigError("TRELLIS_SESSION_SECRET must be at least 32 characters when MicrosoftAppId is set")
    return Settings(
        port=port,
        host=env.get("HOST", "127.0.0.1"),
        database_url=_database_url(env),
        app_id=app_id,
        app_password=app_password,
        app_type=app_type,
        app_tenant_id=tenant_id,
        public_base_url=public_base_url,
        session_secret=session_secret or secrets.token_urlsafe(32),
        sso=_sso(env, public_base_url, tenant_id),
        bot_openid_metadata_url=env.get("BOT_OPENID_METADATA_URL") or None,
        allowed_service_hosts=_service_hosts(env, production=bool(app_id)),
        log_level=_log_level(env),
        hr_contact=env.get("TRELLIS_HR_CONTACT") or None,
        directory=_directory(env, app_id=app_id, app_password=app_password, tenant_id=tenant_id),
        checkin_schedule_minutes=_minutes(env, "CHECKIN_SCHEDULE_MINUTES", 15),
        checkin_time_zone=_time_zone(env, "CHECKIN_TIME_ZONE", "UTC"),
        nudge_tenant_rate=_rate(env, "NUDGE_TENANT_RATE", 40),
    )


# Hosts Teams sends as serviceUrl (public, GCC, GCC High, DoD). The bot attaches its token to every call
# to serviceUrl, so in production it must only go to these.
TEAMS_SERVICE_HOSTS = (
    "smba.trafficmanager.net",
    "smba.infra.gcc.teams.microsoft.com",
    "smba.infra.gov.teams.microsoft.us",
    "smba.infra.dod.teams.microsoft.us",
)


def _service_hosts(env: Mapping[str, str], *, production: bool) -> tuple[str, ...]:
    raw = env.get("BOT_ALLOWED_SERVICE_HOSTS")
    if raw:
        return tuple(h.strip().lower() for h in raw.split(",") if h.strip())
    return TEAMS_SERVICE_HOSTS if production else ()


def _guid_or_empty(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        return ""
    try:
        return str(UUID(value))
    except ValueError:
        raise ConfigError(
            f"{name} must be a GUID (the Entra application or tenant id), not {value!r}"
        ) from None


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("PORT", "3978")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"PORT must be a number from 1 to 65535, not {raw!r}")
    return int(raw)


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as https://trellis.example.com, not {value!r}")
    return value.rstrip("/")


_DB_SCHEMES = re.compile(r"^(sqlite(\+aiosqlite)?|postgres(ql)?(\+asyncpg)?)://")


def _database_url(env: Mapping[str, str]) -> str:
    value = env.get("DATABASE_URL", "").strip()
    if not value:
        return f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
    if not _DB_SCHEMES.match(value):
        raise ConfigError(
            "DATABASE_URL must be sqlite:///path or postgresql://user@host/db, "
            f"not {value.split('://')[0]!r}://..."
        )
    # Accept the URLs people paste (postgres://, sqlite://) and pick the async driver ourselves.
    value = re.sub(r"^postgres(ql)?(\+asyncpg)?://", "postgresql+asyncpg://", value)
    return re.sub(r"^sqlite(\+aiosqlite)?://", "sqlite+aiosqlite://", value)


def _sso(env: Mapping[str, str], public_base_url: str, tenant_id: str) -> SsoSettings:
    client_id = _guid_or_empty(env, "TAB_SSO_CLIENT_ID") or None
    tenants = env.get("TAB_SSO_ALLOWED_TENANTS", "").strip()
    allowed = frozenset(_tenant(t) for t in tenants.split(",") if t.strip()) if tenants else frozenset()
    if not allowed and tenant_id:
        allowed = frozenset({tenant_id})
    if client_id and not allowed:
        raise ConfigError(
            "TAB_SSO_ALLOWED_TENANTS must list at least one tenant id when TAB_SSO_CLIENT_ID is set"
        )
    metadata = _url(
        env,
        "TAB_SSO_OPENID_METADATA_URL",
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
    )
    host = urlparse(public_base_url).netloc
    app_id_uri = env.get("TAB_SSO_APP_ID_URI") or (f"api://{host}/{client_id}" if client_id else None)
    return SsoSettings(client_id, allowed, metadata, app_id_uri)


def _tenant(value: str) -> str:
    try:
        return str(UUID(value.strip()))
    except ValueError:
        raise ConfigError(f"TAB_SSO_ALLOWED_TENANTS must be tenant GUIDs, not {value.strip()!r}") from None


def _directory(
    env: Mapping[str, str], *, app_id: str, app_password: str, tenant_id: str
) -> DirectorySettings:
    # The directory is read with the bot's own app registration unless another one is named.
    client_id = _guid_or_empty(env, "GRAPH_CLIENT_ID") or app_id
    certificate = env.get("GRAPH_CLIENT_CERTIFICATE", "").strip() or None
    thumbprint = env.get("GRAPH_CLIENT_CERTIFICATE_THUMBPRINT", "").strip() or None
    if certificate and not thumbprint:
        raise ConfigError("GRAPH_CLIENT_CERTIFICATE_THUMBPRINT is required with GRAPH_CLIENT_CERTIFICATE")
    interval = env.get("DIRECTORY_SYNC_INTERVAL_MINUTES", "0").strip() or "0"
    if not interval.isdigit():
        raise ConfigError(
            f"DIRECTORY_SYNC_INTERVAL_MINUTES must be a whole number of minutes, not {interval!r}"
        )
    return DirectorySettings(
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret=env.get("GRAPH_CLIENT_SECRET", "") or app_password,
        certificate_path=certificate,
        certificate_thumbprint=thumbprint,
        authority_host=_url(env, "ENTRA_AUTHORITY_HOST", "https://login.microsoftonline.com"),
        graph_base_url=_url(env, "GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"),
        teams_app_catalog_id=env.get("TEAMS_APP_CATALOG_ID", "").strip() or None,
        sync_interval_minutes=int(interval),
    )


def _minutes(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number of minutes (0 turns it off), not {raw!r}")
    return int(raw)


def _rate(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of messages per second, at least 1, not {raw!r}")
    return int(raw)


def _time_zone(env: Mapping[str, str], name: str, default: str) -> ZoneInfo:
    value = env.get(name, "").strip() or default
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{name} must be an IANA time zone name such as Europe/London or America/New_York, not {value!r}"
        ) from None


def _log_level(env: Mapping[str, str]) -> str:
    level = env.get("LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    return level

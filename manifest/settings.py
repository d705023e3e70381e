"""Deployment-specific values that go into the Teams app manifest."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Same pattern as the manifest schema's "guid" definition, so anything accepted here validates there.
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Teams wants MAJOR.MINOR.PATCH without leading zeros (the schema's "semver" definition).
SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")


@dataclass(frozen=True)
class ManifestSettings:
    """Identifiers and URLs of one Trellis deployment; validated on construction."""

    app_id: str
    bot_id: str
    public_base_url: str
    sso_client_id: str | None = None
    version: str = "1.0.0"
    short_name: str = "Trellis"
    full_name: str = "Trellis performance and talent management"
    developer_name: str = "Trellis contributors"
    # None means "derive from public_base_url"; a deployment may point these at its own legal pages.
    website_url: str | None = None
    privacy_url: str | None = None
    terms_url: str | None = None

    def __post_init__(self) -> None:
        _require_guid("app_id", self.app_id)
        _require_guid("bot_id", self.bot_id)
        if self.sso_client_id is not None:
            _require_guid("sso_client_id", self.sso_client_id)
        if not SEMVER.fullmatch(self.version):
            raise ValueError(f"version must look like MAJOR.MINOR.PATCH (e.g. 1.0.0), got {self.version!r}.")
        base = _require_https("public_base_url", self.public_base_url)
        # Frozen dataclass: normalised values are written once here and never change afterwards.
        object.__setattr__(self, "public_base_url", base)
        for field, default in (
            ("website_url", base),
            ("privacy_url", f"{base}/privacy"),
            ("terms_url", f"{base}/terms"),
        ):
            value = getattr(self, field)
            object.__setattr__(self, field, default if value is None else _require_https(field, value))

    @property
    def domain(self) -> str:
        """Host (with port when it is not 443) that serves the tabs; used for validDomains and SSO."""
        parts = urlsplit(self.public_base_url)
        host = (parts.hostname or "").lower()
        return host if parts.port in (None, 443) else f"{host}:{parts.port}"

    @property
    def aad_client_id(self) -> str:
        """Entra application that tab SSO tokens are issued for."""
        return self.sso_client_id or self.app_id


def _require_guid(field: str, value: str) -> None:
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise ValueError(
            f"{field} must be a GUID such as 00000000-0000-0000-0000-000000000000, got {value!r}."
        )


def _require_https(field: str, value: str) -> str:
    """Return the URL without a trailing slash, or raise if it is not a plain https:// URL."""
    if not _is_plain_https(value):
        raise ValueError(
            f"{field} must be an https:// URL with a host and no query or fragment, got {value!r}."
        )
    return value.rstrip("/")


def _is_plain_https(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port such as ":abc"
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and bool(parts.hostname)
        and parts.username is None
        and not parts.query
        and not parts.fragment
    )

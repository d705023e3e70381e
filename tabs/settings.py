"""What the tabs need from configuration; the composition root builds it from trellis.config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TabSettings:
    """Settings for the tab pages, SSO token validation and the session cookie."""

    public_base_url: str
    session_secret: str
    # Persona picker for local development; off whenever a Teams app id is configured.
    dev_sign_in: bool
    # Entra application (client) id tab SSO tokens are issued for; None turns SSO off.
    sso_client_id: str | None
    sso_allowed_tenants: frozenset[str]
    sso_openid_metadata_url: str
    # Application ID URI (api://{domain}/{client-id}): the audience of v1 tokens.
    sso_app_id_uri: str | None
    # node_modules/@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js, served from our own origin.
    teams_js_path: Path | None

    @property
    def sso_enabled(self) -> bool:
        return self.sso_client_id is not None

"""Tokens from Microsoft Entra ID through msal: app-only (client credentials) and on behalf of a user.

msal is synchronous and its `ConfidentialClientApplication` fetches the authority's OpenID configuration
when it is constructed, so the application is built lazily on first use, in a worker thread, and every
msal call runs through `asyncio.to_thread`. msal caches tokens and refreshes them before they expire; a
small memo in front of it spares the thread hop while a token is still fresh.

The authority is `settings.authority` (`{authority_host}/{tenant_id}`). msal only accepts https
authorities and, for hosts it does not know, asks login.microsoftonline.com whether they exist ("instance
discovery"); Trellis always uses a tenant-specific authority it was configured with, so instance
discovery is turned off (`instance_discovery=False`). Tests point `authority_host` at a local https stand-in
and pass its CA certificate as `verify`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msal

from .errors import ConsentRequired, DirectoryAuthError, DirectoryUnavailable

GRAPH_DEFAULT_SCOPES: tuple[str, ...] = ("https://graph.microsoft.com/.default",)

# Refresh a memoized token this long before it expires (msal itself refreshes ~5 minutes early too).
_EARLY_REFRESH_SECONDS = 300

# Entra error codes (AADSTS…) that mean the user must consent, or sign in again interactively.
_CONSENT_CODES = frozenset({65001, 65004, 50076, 50079, 50158, 50105})


class TokenSource:
    """Access tokens for Graph, from the app registration named in `DirectorySettings`.

    Constructing it contacts nothing. `verify` is passed to msal's HTTP client (a CA bundle path for a
    local authority in tests); `http_client` replaces msal's requests session entirely.
    """

    def __init__(
        self,
        settings: Any,  # trellis.config.DirectorySettings (directory may not import trellis)
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        http_client: Any = None,
    ) -> None:
        if not settings.tenant_id or not settings.client_id:
            raise DirectoryAuthError(
                "The directory is not configured: set MicrosoftAppTenantId and GRAPH_CLIENT_ID "
                "(or MicrosoftAppId) to the Entra tenant and app registration Trellis signs in with."
            )
        if not settings.client_secret and not settings.certificate_path:
            raise DirectoryAuthError(
                f"App {settings.client_id} has no credential: set GRAPH_CLIENT_SECRET, or "
                "GRAPH_CLIENT_CERTIFICATE and GRAPH_CLIENT_CERTIFICATE_THUMBPRINT."
            )
        self._settings = settings
        self._verify = verify
        self._timeout = timeout
        self._http_client = http_client
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = asyncio.Lock()
        self._memo: dict[tuple[str, ...], tuple[str, float]] = {}

    @property
    def client_id(self) -> str:
        return self._settings.client_id

    async def token(self, scopes: Iterable[str] = GRAPH_DEFAULT_SCOPES) -> str:
        """An app-only access token for `scopes` (default: Graph's `.default`)."""
        key = tuple(scopes)
        cached = self._memo.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        async with self._lock:
            cached = self._memo.get(key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            app = await self._application()
            result = await self._call(app.acquire_token_for_client, list(key))
            token = self._access_token(result, key)
            lifetime = float(result.get("expires_in") or 0)
            self._memo[key] = (token, time.monotonic() + max(0.0, lifetime - _EARLY_REFRESH_SECONDS))
            return token

    async def invalidate(self) -> None:
        """Forget cached app-only tokens (Graph answered 401): the next `token()` asks Entra again."""
        async with self._lock:
            self._memo.clear()
            if self._app is not None:
                await asyncio.to_thread(self._app.remove_tokens_for_client)

    async def on_behalf_of(self, user_assertion: str, scopes: Iterable[str]) -> str:
        """Exchange a user's SSO token (from a tab) for a token to call `scopes` as that user.

        Raises `ConsentRequired` when the user or an admin must consent first.
        """
        wanted = list(scopes)
        async with self._lock:
            app = await self._application()
        result = await self._call(app.acquire_token_on_behalf_of, user_assertion, wanted)
        if _needs_consent(result):
            raise ConsentRequired(
                wanted,
                f"Consent is needed before Trellis can use {', '.join(wanted)} on your behalf.",
                claims=result.get("claims"),
            )
        return self._access_token(result, tuple(wanted))

    # -- internals -------------------------------------------------------------------------------------

    async def _application(self) -> msal.ConfidentialClientApplication:
        # Called with self._lock held, so concurrent first calls build one application.
        if self._app is None:
            credential = await asyncio.to_thread(self._credential)
            self._app = await self._call(self._build, credential)
        return self._app

    def _build(self, credential: str | dict[str, str]) -> msal.ConfidentialClientApplication:
        s = self._settings
        try:
            return msal.ConfidentialClientApplication(
                s.client_id,
                client_credential=credential,
                authority=s.authority,
                instance_discovery=False,
                timeout=self._timeout,
                http_client=self._http_client or _requests_session(self._verify, self._timeout),
            )
        except ValueError as exc:
            raise DirectoryAuthError(
                f"Entra ID has no tenant {s.tenant_id} at {s.authority_host}: check MicrosoftAppTenantId "
                f"and ENTRA_AUTHORITY_HOST ({_first_line(exc)})."
            ) from None

    def _credential(self) -> str | dict[str, str]:
        s = self._settings
        if not s.certificate_path:
            return s.client_secret
        path = Path(s.certificate_path)
        try:
            pem = path.read_text()
        except OSError as exc:
            raise DirectoryAuthError(
                f"Cannot read the certificate GRAPH_CLIENT_CERTIFICATE={path} ({exc.strerror}): "
                "point it at the PEM file holding the app's private key."
            ) from None
        if "PRIVATE KEY" not in pem:
            raise DirectoryAuthError(
                f"GRAPH_CLIENT_CERTIFICATE={path} holds no private key: it must be a PEM with the app's "
                "private key (and, optionally, its certificate)."
            )
        credential = {"private_key": pem, "thumbprint": (s.certificate_thumbprint or "").replace(":", "")}
        if "BEGIN CERTIFICATE" in pem:
            credential["public_certificate"] = pem[pem.index("-----BEGIN CERTIFICATE") :]
        return credential

    async def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except (DirectoryAuthError, ConsentRequired):
            raise
        except OSError as exc:  # requests' ConnectionError and timeouts are OSErrors
            raise DirectoryUnavailable(
                f"Entra ID at {self._settings.authority_host} could not be reached: {_first_line(exc)}"
            ) from exc

    def _access_token(self, result: Mapping[str, Any] | None, scopes: tuple[str, ...]) -> str:
        if result and result.get("access_token"):
            return str(result["access_token"])
        raise DirectoryAuthError(_explain(result or {}, self._settings, scopes))


def _requests_session(verify: bool | str, timeout: float) -> Any:
    """None (msal's default session) unless a CA bundle is given.

    msal sets `Session.verify`, but requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's
    `verify` (psf/requests#3829), so a custom bundle is passed with every request instead.
    """
    if verify is True:
        return None
    import requests  # msal's own dependency; only needed for a custom bundle

    session = requests.Session()
    session.request = functools.partial(session.request, verify=verify, timeout=timeout)  # type: ignore[method-assign]
    return session


def _needs_consent(result: Mapping[str, Any] | None) -> bool:
    if not result or result.get("access_token"):
        return False
    codes = set(result.get("error_codes") or ())
    return (
        result.get("error") in ("consent_required", "interaction_required")
        or result.get("suberror") in ("consent_required", "basic_action", "additional_action")
        or bool(codes & _CONSENT_CODES)
    )


def _explain(result: Mapping[str, Any], settings: Any, scopes: tuple[str, ...]) -> str:
    """One sentence naming what to fix, from an msal error result."""
    codes = set(result.get("error_codes") or ())
    client = settings.client_id
    credential = "GRAPH_CLIENT_SECRET"
    if 7000222 in codes:
        return (
            f"The client secret of app {client} has expired: create a new secret in Entra ID > "
            f"App registrations > Certificates & secrets and set {credential}."
        )
    if 7000215 in codes:
        return (
            f"The client secret of app {client} is wrong: set {credential} to the secret's Value "
            "(not its Secret ID) from Entra ID > App registrations > Certificates & secrets."
        )
    if 700016 in codes:
        return (
            f"Tenant {settings.tenant_id} has no app {client}: check GRAPH_CLIENT_ID (or MicrosoftAppId) "
            "and MicrosoftAppTenantId, and that the app is registered (or consented) in that tenant."
        )
    if codes & {700027, 700024, 7000274}:
        return (
            f"Entra ID rejected the certificate of app {client}: upload the certificate in Entra ID > "
            "App registrations > Certificates & secrets and check GRAPH_CLIENT_CERTIFICATE_THUMBPRINT."
        )
    if codes & {90002, 90023}:
        return f"Entra ID does not know tenant {settings.tenant_id}: check MicrosoftAppTenantId."
    if 7000112 in codes:
        return f"App {client} is disabled in Entra ID: enable it under Enterprise applications > Properties."
    error = result.get("error") or "no access token"
    description = _first_line(result.get("error_description") or "")
    return f"Entra ID refused a token for app {client} ({' '.join(scopes)}): {error}: {description}".rstrip(
        ": "
    )


def _first_line(value: object) -> str:
    text = str(value).strip()
    line = text.splitlines()[0] if text else ""
    # Entra descriptions end with "Trace ID: … Correlation ID: … Timestamp: …": noise in a log line.
    return line.split(" Trace ID:")[0]


__all__ = ["GRAPH_DEFAULT_SCOPES", "TokenSource"]

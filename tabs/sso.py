"""Validating the Entra access tokens that Teams tab SSO (`authentication.getAuthToken()`) hands the page.

A token is accepted only when all of these hold: an RS256 signature by a key Entra publishes, an issuer
of the documented v1 or v2 form whose tenant is the token's own `tid` and one we allow, our app as the
audience, a current lifetime, the `access_as_user` scope, and an `oid`. Checking the signature without
the issuer and audience is how other apps came to accept tokens from any Azure tenant.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp
import jwt

log = logging.getLogger(__name__)

REQUIRED_SCOPE = "access_as_user"
LEEWAY_SECONDS = 60
# Entra tokens are a few KB; refusing huge ones early keeps parsing cheap.
MAX_TOKEN_LENGTH = 16 * 1024

_V2_ISSUER = re.compile(r"https://login\.microsoftonline\.com/([^/]+)/v2\.0")
_V1_ISSUER = re.compile(r"https://sts\.windows\.net/([^/]+)/")


class TokenRejected(Exception):
    """The token is not acceptable; `reason` is short and safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """Entra's signing keys could not be fetched (a server-side problem, not the caller's)."""


class TeamsIdentity(NamedTuple):
    """Who a valid token speaks for: (Entra tenant id, object id)."""

    tenant_id: str
    object_id: str


class SigningKeys:
    """Entra's published signing keys, fetched via the OpenID metadata and cached for `ttl` seconds."""

    def __init__(
        self,
        metadata_url: str,
        *,
        ttl: float = 6 * 3600,
        refresh_cooldown: float = 60,
        timeout: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metadata_url = metadata_url
        self._ttl = ttl
        # An unknown kid triggers a refetch, but never more often than this: random kids in forged
        # tokens must not turn us into a request amplifier against the key endpoint.
        self._cooldown = refresh_cooldown
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()
        self._http: aiohttp.ClientSession | None = None

    async def get(self, kid: str) -> Any:
        """The public key with this id, refetching once when it is unknown."""
        if self._stale() or kid not in self._keys:
            await self._refresh()
        if kid in self._keys:
            return self._keys[kid]
        if not self._keys:
            raise KeysUnavailable("Entra's signing keys could not be fetched")
        raise TokenRejected("token is signed with an unknown key")

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at > self._ttl

    def _cooled_down(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at > self._cooldown

    async def _refresh(self) -> None:
        async with self._lock:
            # One attempt per cooldown, successful or not: requests that waited for the lock, forged
            # kids and an unreachable Entra all reuse its outcome instead of fetching again.
            if not self._cooled_down():
                return
            self._attempted_at = self._clock()
            try:
                keys = await self._fetch()
            except (
                aiohttp.ClientError,
                TimeoutError,
                ValueError,
                KeyError,
                TypeError,
                AttributeError,
            ) as error:
                # Stale keys beat an outage: Entra rotates keys with weeks of overlap.
                log.warning("could not refresh Entra signing keys: %r", error)
                return
            self._keys, self._fetched_at = keys, self._clock()

    async def _fetch(self) -> dict[str, Any]:
        metadata = await self._get_json(self._metadata_url)
        jwks = await self._get_json(str(metadata["jwks_uri"]))
        keys: dict[str, Any] = {}
        for entry in jwks.get("keys", []):
            if entry.get("kty") != "RSA" or not entry.get("kid") or entry.get("use", "sig") != "sig":
                continue
            try:
                keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="RS256").key
            except (jwt.PyJWTError, ValueError, TypeError):
                log.warning("skipping an unreadable signing key %s", entry.get("kid"))
        if not keys:
            raise ValueError("the key set has no RSA signing keys")
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        async with self._http.get(url) as response:
            response.raise_for_status()
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise ValueError(f"{url} did not return a JSON object")
        return body


class TokenValidator:
    """Checks tab SSO tokens for one Entra application and a set of allowed tenants."""

    def __init__(
        self,
        *,
        client_id: str,
        app_id_uri: str | None,
        allowed_tenants: frozenset[str],
        keys: SigningKeys,
        leeway: int = LEEWAY_SECONDS,
    ) -> None:
        self._client_id = client_id
        self._app_id_uri = app_id_uri
        self._tenants = frozenset(t.lower() for t in allowed_tenants)
        self._keys = keys
        self._leeway = leeway

    async def validate(self, token: str) -> TeamsIdentity:
        """The identity a token speaks for; raises TokenRejected with the reason otherwise."""
        kid = _key_id(token)
        key = await self._keys.get(kid)
        claims = self._decode(token, key)
        tenant = _issuer_tenant(claims)
        if tenant not in self._tenants:
            raise TokenRejected("token is from a tenant this app does not serve")
        self._check_audience(claims)
        _check_scope(claims)
        oid = claims.get("oid")
        if not isinstance(oid, str) or not oid:
            raise TokenRejected("token has no oid claim")
        return TeamsIdentity(tenant_id=tenant, object_id=oid.lower())

    async def close(self) -> None:
        """Release the key fetcher's HTTP client."""
        await self._keys.close()

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        audiences = [a for a in (self._client_id, self._app_id_uri) if a]
        try:
            return jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=audiences,
                leeway=self._leeway,
                # The issuer is checked below against the token's own tid, which PyJWT cannot do.
                options={"require": ["exp", "iss", "aud", "tid"], "verify_iss": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("token has expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejected("token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise TokenRejected("token is for a different application") from None
        except jwt.InvalidSignatureError:
            raise TokenRejected("token signature is invalid") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenRejected(f"token has no {error.claim} claim") from None
        except jwt.DecodeError:
            raise TokenRejected("token is malformed") from None
        except jwt.InvalidTokenError:
            raise TokenRejected("token is invalid") from None

    def _check_audience(self, claims: dict[str, Any]) -> None:
        # v2 tokens always carry the client id. v1 tokens carry whichever identifier the client asked
        # for: the Application ID URI for Teams SSO, the client id for some other callers.
        version2 = _V2_ISSUER.fullmatch(claims["iss"]) is not None
        allowed = {self._client_id} if version2 else {self._client_id, self._app_id_uri}
        audience = claims["aud"]
        if not isinstance(audience, str) or audience not in allowed:
            raise TokenRejected("token is for a different application")


def _key_id(token: str) -> str:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected("token is malformed")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise TokenRejected("token is malformed") from None
    if header.get("alg") != "RS256":
        raise TokenRejected("token uses an unsupported signing algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejected("token names no signing key")
    return kid


def _issuer_tenant(claims: dict[str, Any]) -> str:
    issuer, tid = claims.get("iss"), claims.get("tid")
    if not isinstance(issuer, str) or not isinstance(tid, str):
        raise TokenRejected("token has no valid issuer")
    match = _V2_ISSUER.fullmatch(issuer) or _V1_ISSUER.fullmatch(issuer)
    if match is None:
        raise TokenRejected("token is not from Microsoft Entra ID")
    if match.group(1).lower() != tid.lower():
        raise TokenRejected("token issuer does not match its tenant")
    return tid.lower()


def _check_scope(claims: dict[str, Any]) -> None:
    scopes = claims.get("scp")
    if not isinstance(scopes, str) or REQUIRED_SCOPE not in scopes.split():
        raise TokenRejected(f"token lacks the {REQUIRED_SCOPE} scope")

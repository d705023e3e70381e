"""A local stand-in for Microsoft Entra ID (login.microsoftonline.com): OpenID metadata, keys and tokens.

Metadata and JWKS are served over HTTP like the real endpoints; `mint()` signs access tokens shaped like
the ones Teams tab SSO (`getAuthToken()`) hands to the page. Issuers are the real Entra strings, not the
local URL, so the app's issuer checks run unchanged; only `jwks_uri` points here.
"""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .background import BackgroundServer, ServedInBackground
from .certificates import self_signed

DEFAULT_TENANT_ID = "6f1c3b9e-2a7d-4c58-9e0f-3d2b8a1c7e45"
DEFAULT_CLIENT_ID = "0b7d4e2a-91c3-4f6e-8a5d-2c9e7f1b3a60"
DEFAULT_APP_DOMAIN = "trellis.example.com"
DEFAULT_OID = "3e8a1f5c-7b2d-4e9a-b6c1-0d4f8e2a9c73"

# The Teams clients that request SSO tokens for a tab (they appear as azp / appid).
TEAMS_DESKTOP_MOBILE_CLIENT_ID = "1fec8e78-bce4-4aaf-ab1b-5451cc387264"
TEAMS_WEB_CLIENT_ID = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346"

# Multi-tenant metadata (common, organizations) publishes a templated issuer; apps substitute `tid`.
_MULTI_TENANT = ("common", "organizations")
_CONSUMERS_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


def issuer(tenant: str, version: int = 2) -> str:
    """The issuer Entra uses for a tenant: v2 login.microsoftonline.com, v1 sts.windows.net."""
    if tenant in _MULTI_TENANT:
        tenant = "{tenantid}"
    elif tenant == "consumers":
        tenant = _CONSUMERS_TENANT_ID
    if version == 1:
        return f"https://sts.windows.net/{tenant}/"
    return f"https://login.microsoftonline.com/{tenant}/v2.0"


@dataclass(frozen=True)
class SigningKey:
    """An RSA key with the identifiers Entra publishes for it."""

    private_key: rsa.RSAPrivateKey
    kid: str
    x5t: str
    certificate_der: bytes

    @classmethod
    def generate(cls, common_name: str) -> SigningKey:
        """A fresh 2048-bit key with a self-signed certificate (Entra publishes x5c too)."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = self_signed(key, common_name, days=365)
        der = certificate.public_bytes(serialization.Encoding.DER)
        # Entra's kid equals the certificate's x5t (base64url SHA-1 thumbprint, as RFC 7515 defines it).
        x5t = _b64url(hashlib.sha1(der, usedforsecurity=False).digest())
        return cls(key, x5t, x5t, der)

    def jwk(self) -> dict[str, Any]:
        """The public key as Entra's JWKS lists it."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": _b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
            "x5c": [base64.b64encode(self.certificate_der).decode()],
            "issuer": issuer("common"),
        }


class IdentityProviderStandIn(ServedInBackground):
    """Local OpenID Connect metadata + JWKS server and an Entra-shaped access-token minter."""

    def __init__(
        self,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        app_domain: str = DEFAULT_APP_DOMAIN,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.app_domain = app_domain
        self.good_key = SigningKey.generate("trellis-test-entra")
        # Never published: tokens it signs must be rejected.
        self.attacker_key = SigningKey.generate("attacker")
        self.requests: list[str] = []  # paths served, to check key caching
        self._server = BackgroundServer(self._make_app)

    # -- addresses ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT, standing for https://login.microsoftonline.com."""
        return self._server.base_url

    def metadata_url(self, tenant: str = "common", version: int = 2) -> str:
        """The OpenID configuration URL for a tenant (or common), v2 by default."""
        if version == 1:
            return f"{self.base_url}/{tenant}/.well-known/openid-configuration"
        return f"{self.base_url}/{tenant}/v2.0/.well-known/openid-configuration"

    @property
    def jwks_uri(self) -> str:
        """Where the signing keys are published (the common v2 keys endpoint)."""
        return f"{self.base_url}/common/discovery/v2.0/keys"

    @property
    def app_id_uri(self) -> str:
        """The Application ID URI a v1 token's audience carries: api://{domain}/{client-id}."""
        return f"api://{self.app_domain}/{self.client_id}"

    def jwks(self) -> dict[str, Any]:
        """The published key set (the good key only)."""
        return {"keys": [self.good_key.jwk()]}

    # -- tokens ------------------------------------------------------------------------------------

    def mint(
        self,
        claims: dict[str, Any] | None = None,
        *,
        version: Literal[1, 2] = 2,
        tenant_id: str | None = None,
        client_id: str | None = None,
        audience: str | None = None,
        expires_in: int = 3600,
        key: Literal["good", "attacker"] = "good",
        kid: str | None = None,
        scp: str = "access_as_user",
        oid: str = DEFAULT_OID,
        name: str = "Alex Wilber",
        preferred_username: str = "alexw@contoso.example",
        azp: str = TEAMS_DESKTOP_MOBILE_CLIENT_ID,
    ) -> str:
        """A signed RS256 access token shaped like Entra's tab SSO token.

        `claims` is applied last; a value of None removes that claim. The attacker key signs with the
        good key's kid by default (an impersonation attempt), so only the signature check can catch it.
        Negative `expires_in` gives an expired token.
        """
        tid = tenant_id or self.tenant_id
        app = client_id or self.client_id
        now = int(time.time())
        given_name, _, family_name = name.partition(" ")
        body: dict[str, Any] = {
            "iss": issuer(tid, version),
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            "aio": _b64url(uuid.uuid4().bytes),
            "name": name,
            "oid": oid,
            "rh": "0.A" + _b64url(uuid.uuid4().bytes),
            "scp": scp,
            # sub is pairwise per application in Entra; derive it so it is stable per (oid, app).
            "sub": _b64url(hashlib.sha256(f"{oid}|{app}".encode()).digest()),
            "tid": tid,
            "uti": _b64url(uuid.uuid4().bytes),
        }
        if version == 2:
            body |= {
                "aud": audience or app,
                "azp": azp,
                "azpacr": "0",
                "preferred_username": preferred_username,
                "ver": "2.0",
            }
        else:
            # v1 tokens name the user with upn/unique_name; there is no preferred_username.
            body |= {
                "aud": audience or f"api://{self.app_domain}/{app}",
                "acr": "1",
                "amr": ["pwd"],
                "appid": azp,
                "appidacr": "0",
                "given_name": given_name,
                "family_name": family_name,
                "unique_name": preferred_username,
                "upn": preferred_username,
                "ver": "1.0",
            }
        for claim, value in (claims or {}).items():
            if value is None:
                body.pop(claim, None)
            else:
                body[claim] = value
        signer = self.good_key if key == "good" else self.attacker_key
        # Entra sets kid and x5t to the same thumbprint.
        key_id = kid or self.good_key.kid
        headers = {"kid": key_id, "x5t": key_id}
        return jwt.encode(body, signer.private_key, algorithm="RS256", headers=headers)

    # -- the server --------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._metadata_v2)
        app.router.add_get("/{tenant}/.well-known/openid-configuration", self._metadata_v1)
        app.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        app.router.add_get("/{tenant}/discovery/keys", self._keys)
        return app

    async def _metadata_v2(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        tenant = request.match_info["tenant"]
        base = f"{self.base_url}/{tenant}"
        return web.json_response(
            {
                "issuer": issuer(tenant, 2),
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                # Not served yet: no test needs a token endpoint.
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "oid", "tid", "ver"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            }
        )

    async def _metadata_v1(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        tenant = request.match_info["tenant"]
        base = f"{self.base_url}/{tenant}"
        return web.json_response(
            {
                "issuer": issuer(tenant, 1),
                "jwks_uri": f"{self.base_url}/common/discovery/keys",
                "authorization_endpoint": f"{base}/oauth2/authorize",
                "token_endpoint": f"{base}/oauth2/token",
                "id_token_signing_alg_values_supported": ["RS256"],
                "subject_types_supported": ["pairwise"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(self.jwks())


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


__all__ = [
    "DEFAULT_APP_DOMAIN",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_OID",
    "DEFAULT_TENANT_ID",
    "TEAMS_DESKTOP_MOBILE_CLIENT_ID",
    "TEAMS_WEB_CLIENT_ID",
    "IdentityProviderStandIn",
    "SigningKey",
    "issuer",
]

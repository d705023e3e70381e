"""A local stand-in for the Bot Framework's token service (login.botframework.com) and a TLS connector.

When Teams calls a bot, the Bot Connector sends `Authorization: Bearer <JWT>` signed with a key published
at https://login.botframework.com/v1/.well-known/openidconfiguration → jwks_uri. botbuilder checks:

- the issuer is exactly `https://api.botframework.com` (checked before the signature is even looked at);
- the key (`kid`) is published and its `endorsements` list the activity's channel id (`msteams`);
- the RS256 signature, `exp` and `nbf` (5 minutes of clock skew allowed);
- `aud` is the bot's app id;
- `serviceurl` equals the activity's serviceUrl.

This stand-in serves that metadata and key set from 127.0.0.1 (in its own thread, because botbuilder fetches
the keys with blocking `requests`) and mints tokens with the Bot Connector's claims. Point the app at it
with BOT_OPENID_METADATA_URL=<metadata_url>.
"""

from __future__ import annotations

import ssl
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .background import BackgroundServer, ServedInBackground
from .certificates import self_signed
from .connector import ConnectorStandIn
from .identity import SigningKey

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
TEAMS_CHANNEL = "msteams"

KeyName = Literal["channel", "webchat", "attacker"]


class BotFrameworkTokenStandIn(ServedInBackground):
    """login.botframework.com: OpenID metadata, endorsed signing keys, and Bot Connector tokens."""

    def __init__(self) -> None:
        # Published and endorsed for Teams: what the connector signs Teams activities with.
        self.channel_key = SigningKey.generate("trellis-test-botframework")
        # Published, but endorsed for Web Chat only: must not vouch for an msteams activity.
        self.webchat_key = SigningKey.generate("trellis-test-botframework-webchat")
        # Never published.
        self.attacker_key = SigningKey.generate("attacker")
        self.requests: list[str] = []
        self._server = BackgroundServer(self._make_app)

    @property
    def metadata_url(self) -> str:
        """Stands for https://login.botframework.com/v1/.well-known/openidconfiguration."""
        return f"{self._server.base_url}/v1/.well-known/openidconfiguration"

    @property
    def jwks_uri(self) -> str:
        return f"{self._server.base_url}/v1/.well-known/keys"

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                self.channel_key.jwk() | {"endorsements": [TEAMS_CHANNEL, "skype", "emulator"]},
                self.webchat_key.jwk() | {"endorsements": ["webchat", "directline"]},
            ]
        }

    def mint(
        self,
        *,
        app_id: str,
        service_url: str,
        key: KeyName = "channel",
        kid: str | None = None,
        issuer: str = BOT_FRAMEWORK_ISSUER,
        expires_in: int = 3600,
        claims: dict[str, Any] | None = None,
    ) -> str:
        """A token shaped like the Bot Connector's: iss, aud (the bot's app id), serviceurl, nbf, exp.

        `claims` is applied last (None removes a claim). The attacker key signs under the channel key's kid
        unless `kid` says otherwise, so only the signature check can catch it. Negative `expires_in` gives
        a token that expired that many seconds ago.
        """
        now = int(time.time())
        body: dict[str, Any] = {
            "serviceurl": service_url,
            "nbf": now - 5,
            "exp": now + expires_in,
            "iss": issuer,
            "aud": app_id,
        }
        for claim, value in (claims or {}).items():
            if value is None:
                body.pop(claim, None)
            else:
                body[claim] = value
        signer = {"channel": self.channel_key, "webchat": self.webchat_key, "attacker": self.attacker_key}[
            key
        ]
        key_id = kid or (self.channel_key.kid if key == "attacker" else signer.kid)
        headers = {"kid": key_id, "x5t": key_id, "typ": "JWT"}
        return jwt.encode(body, signer.private_key, algorithm="RS256", headers=headers)

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/.well-known/keys", self._keys)
        return app

    async def _metadata(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.jwks_uri,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        return web.json_response(self.jwks())


# --- a connector reached over https -----------------------------------------------------------------


class TestCertificate:
    """A self-signed certificate for 127.0.0.1, and client/server TLS contexts built on it."""

    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        certificate = self_signed(key, "127.0.0.1", days=2, addresses=("127.0.0.1",))
        self.pem = certificate.public_bytes(serialization.Encoding.PEM)
        self._key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder) / "cert.pem", Path(folder) / "key.pem"
            cert.write_bytes(self.pem)
            key.write_bytes(self._key_pem)
            context.load_cert_chain(cert, key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Verifies certificates and host names like the default, trusting only this certificate."""
        return ssl.create_default_context(cadata=self.pem.decode())


class _TlsServer(BackgroundServer):
    def __init__(self, make_app: Callable[[], web.Application], context: ssl.SSLContext) -> None:
        super().__init__(make_app)
        self._context = context

    @property
    def base_url(self) -> str:
        return super().base_url.replace("http://", "https://", 1)

    async def _serve(self) -> int:
        self._runner = web.AppRunner(self._make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._context)
        await site.start()
        return self._runner.addresses[0][1]


class TlsConnectorStandIn(ConnectorStandIn):
    """The connector stand-in behind https://127.0.0.1:PORT/ (production refuses http serviceUrls)."""

    def __init__(self, certificate: TestCertificate) -> None:
        super().__init__()
        self._server = _TlsServer(self._make_app, certificate.server_context())


__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "TEAMS_CHANNEL",
    "BotFrameworkTokenStandIn",
    "TestCertificate",
    "TlsConnectorStandIn",
]

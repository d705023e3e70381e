"""Inbound authentication stays the SDK's; outbound calls go through our connector pool."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import jwt
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

from bot.connector import ConnectorPool, FastConnectorClient

log = logging.getLogger(__name__)

# What botframework's token checks raise for a bad token besides PermissionError (and a bare Exception for
# an unendorsed key or a disallowed algorithm): jwt's errors, KeyError for a missing claim, IndexError for
# a key id that is not published.
_TOKEN_DEFECTS = (jwt.PyJWTError, KeyError, IndexError)
# The channel always sends "Bearer <jwt>"; the SDK's parameterized path crashes on other shapes.
_BEARER = re.compile(r"Bearer [^\s]+")


@dataclass(frozen=True)
class BotCredentials:
    """The bot's Entra registration, in the attribute names botbuilder's configuration expects."""

    APP_ID: str = ""
    APP_PASSWORD: str = ""
    APP_TYPE: str = "SingleTenant"
    APP_TENANTID: str = ""
    # Lets tests point inbound JWT validation at a local identity provider.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None

    # Setting any endpoint switches botbuilder from its public-cloud authentication to the "parameterized"
    # one, which reads every other endpoint from this object with no defaults: the expected token issuer
    # was None, so genuine channel tokens were refused. Supply the public cloud's values in that case.
    @property
    def TO_BOT_FROM_CHANNEL_TOKEN_ISSUER(self) -> str | None:
        return self._public_cloud(AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER)

    @property
    def TO_CHANNEL_FROM_BOT_LOGIN_URL(self) -> str | None:
        return self._public_cloud(AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX)

    @property
    def TO_CHANNEL_FROM_BOT_OAUTH_SCOPE(self) -> str | None:
        return self._public_cloud(AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE)

    @property
    def OAUTH_URL(self) -> str | None:
        return self._public_cloud(AuthenticationConstants.OAUTH_URL)

    @property
    def TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL(self) -> str | None:
        return self._public_cloud(AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL)

    @property
    def CALLER_ID(self) -> str | None:
        return self._public_cloud(CallerIdConstants.public_azure_channel)

    def _public_cloud(self, value: str) -> str | None:
        return value if self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL else None


class TrellisAuthentication(BotFrameworkAuthentication):
    """The SDK's configuration-based authentication with a faster outbound connector."""

    def __init__(self, credentials: BotCredentials, *, allowed_service_hosts: tuple[str, ...] = ()) -> None:
        self._inner = ConfigurationBotFrameworkAuthentication(credentials)
        self._app_id = credentials.APP_ID
        self._credential_factory = (
            ConfigurationServiceClientCredentialFactory(credentials) if credentials.APP_ID else None
        )
        self._credentials: dict[str, AppCredentials] = {}
        self.pool = ConnectorPool(
            self._token_for(AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE),
            allowed_hosts=allowed_service_hosts,
        )

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        if auth_header and not _BEARER.fullmatch(auth_header):
            raise PermissionError("The Authorization header is not a Bearer token.")
        try:
            # None, not "": the SDK's parameterized path only treats None as "no header".
            result = await self._inner.authenticate_request(activity, auth_header or None)
        except PermissionError:
            raise
        except Exception as error:
            # The SDK refuses a bad signature, an expired token, an unknown key id, a key not endorsed for
            # the channel or a malformed token with assorted exceptions, which answered 500; they are 401s.
            # Anything else (the key metadata unreachable, say) is our problem and stays a 500.
            if not (isinstance(error, _TOKEN_DEFECTS) or type(error) is Exception):
                raise
            log.warning("refused a bot request: %s: %s", type(error).__name__, error)
            raise PermissionError("The request's token is not valid.") from error
        result.connector_factory = _PooledConnectorFactory(self.pool)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _PooledConnectorFactory(self.pool)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # Building the SDK's token client costs an msrest client per turn; Trellis signs users in
        # through tab SSO, so it is only built if something actually asks for it.
        return _LazyUserTokenClient(lambda: self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)

    def _token_for(self, scope: str) -> Any:
        async def token() -> str | None:
            if not self._app_id or self._credential_factory is None:
                return None  # local development: the connector stand-in takes anonymous calls
            creds = self._credentials.get(scope)
            if creds is None:
                creds = await self._credential_factory.create_credentials(
                    self._app_id, scope, AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL, True
                )
                self._credentials[scope] = creds
            # msal caches the token; the first call goes to the network, so keep it off the loop.
            return await asyncio.to_thread(creds.get_access_token)

        return token


class _PooledConnectorFactory(ConnectorFactory):
    def __init__(self, pool: ConnectorPool) -> None:
        self._pool = pool

    async def create(self, service_url: str, audience: str | None = None) -> FastConnectorClient:
        return self._pool.client(service_url)


class _LazyUserTokenClient(UserTokenClient):
    def __init__(self, build: Any) -> None:
        self._build = build
        self._client: UserTokenClient | None = None

    async def _inner(self) -> UserTokenClient:
        if self._client is None:
            self._client = await self._build()
        return self._client

    async def get_user_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).get_user_token(*args, **kwargs)

    async def get_sign_in_resource(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).get_sign_in_resource(*args, **kwargs)

    async def sign_out_user(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).sign_out_user(*args, **kwargs)

    async def get_token_status(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).get_token_status(*args, **kwargs)

    async def get_aad_tokens(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).get_aad_tokens(*args, **kwargs)

    async def exchange_token(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._inner()).exchange_token(*args, **kwargs)

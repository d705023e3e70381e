"""Production mode: with an app id, every activity must carry a Bot Framework token botbuilder accepts.

The Bot Framework's token service is stood up locally (tests/support/botframework.py): it publishes its
OpenID metadata and signing keys (endorsed for msteams) and mints tokens with the Bot Connector's claims.
Each test runs against both ways the app can find those keys:

- "configured": BOT_OPENID_METADATA_URL, which switches botbuilder to its parameterized authentication;
- "public cloud": no setting, as deployed; botbuilder's own hook for the channel metadata URL
  (ChannelValidation.open_id_metadata_endpoint) points at the stand-in, so the code path is production's.

What cannot run here: the bot's own outbound token comes from Entra (login.microsoftonline.com, via msal),
which is unreachable. One test shows that failure as it happens; the reply-path test substitutes only that
token (and trusts the test certificate of the https connector stand-in), nothing on the inbound side.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest
import pytest_asyncio
from aiohttp import web
from botframework.connector.auth import AuthenticationConstants, ChannelValidation
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.connector import ConnectorPool, UntrustedServiceUrl
from bot.routes import BOT
from storage import demo
from storage.models import ConversationRef, Person
from tests.support.botframework import BotFrameworkTokenStandIn, TestCertificate, TlsConnectorStandIn
from tests.support.connector import ConnectorStandIn
from tests.support.teams import TeamsClient, TeamsUser
from trellis import config
from trellis.app import create_app

APP_ID = "5c2f0a9e-7d41-4b8a-9e36-1f4d8c7b2a05"
OTHER_APP_ID = "0a0a0a0a-1b1b-4c2c-8d3d-4e4e4e4e4e4e"
TENANT_ID = "8e7d6c5b-4a39-4281-9706-f5e4d3c2b1a0"
PRODUCTION = {
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": "not-a-real-secret",
    "MicrosoftAppTenantId": TENANT_ID,
    "PUBLIC_BASE_URL": "https://trellis.example.com",
    "TRELLIS_SESSION_SECRET": "production-session-secret-" + "x" * 32,
    "BOT_ALLOWED_SERVICE_HOSTS": "127.0.0.1",
}
PATHS = ("configured", "public cloud")


@pytest.fixture
def backend() -> str:
    """Authentication does not depend on the database: SQLite only."""
    return "sqlite"


# --- the Bot Framework and Teams, stood up locally ----------------------------------------------------


@pytest_asyncio.fixture(scope="module")
async def bot_framework() -> AsyncIterator[BotFrameworkTokenStandIn]:
    async with BotFrameworkTokenStandIn() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def certificate() -> TestCertificate:
    return TestCertificate()


@pytest_asyncio.fixture(scope="module")
async def tls_connector_server(certificate: TestCertificate) -> AsyncIterator[TlsConnectorStandIn]:
    async with TlsConnectorStandIn(certificate) as connector:
        yield connector


@pytest.fixture
def tls_connector(tls_connector_server: TlsConnectorStandIn) -> TlsConnectorStandIn:
    """The connector Teams would name in serviceUrl: https://127.0.0.1:PORT/ (allow-listed)."""
    tls_connector_server.clear()
    return tls_connector_server


@pytest.fixture(params=PATHS)
def auth_path(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def production_settings(
    auth_path: str, bot_framework: BotFrameworkTokenStandIn, monkeypatch: pytest.MonkeyPatch
) -> config.Settings:
    if auth_path == "configured":
        return config.load(PRODUCTION | {"BOT_OPENID_METADATA_URL": bot_framework.metadata_url})
    monkeypatch.setattr(ChannelValidation, "open_id_metadata_endpoint", bot_framework.metadata_url)
    return config.load(PRODUCTION)


@dataclass
class Production:
    app: web.Application
    teams: TeamsClient
    alex: TeamsUser
    sessions: async_sessionmaker[AsyncSession]
    bot_framework: BotFrameworkTokenStandIn

    def token(self, **overrides: Any) -> str:
        """A genuine channel token for this bot and the connector's serviceUrl."""
        overrides.setdefault("app_id", APP_ID)
        overrides.setdefault("service_url", self.teams.connector.service_url)
        return self.bot_framework.mint(**overrides)

    async def post(self, activity: dict[str, Any], token: str | None) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.teams.http.post(self.teams.endpoint, json=activity, headers=headers) as response:
            return response.status, await response.text()

    def message(self, text: str = "help", **overrides: Any) -> dict[str, Any]:
        return self.alex.activity("message_personal", text=text, **overrides)

    async def conversation_ref(self) -> ConversationRef | None:
        """Alex's stored 1:1 conversation: written by a turn that ran, never by a refused request."""
        async with self.sessions() as session:
            return await session.scalar(
                select(ConversationRef)
                .join(Person, Person.id == ConversationRef.person_id)
                .where(Person.aad_object_id == demo.PERSONAS["manager"])
            )


@pytest_asyncio.fixture
async def production(
    auth_path: str,
    production_settings: config.Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    bot_framework: BotFrameworkTokenStandIn,
    tls_connector: TlsConnectorStandIn,
    demo_org: demo.SeedResult,
) -> AsyncIterator[Production]:
    """Trellis in production mode over HTTP, with the demo organization (Alex Wilber is in it)."""
    assert production_settings.production
    app = create_app(production_settings, engine=engine, sessions=sessions, run_sender=False)
    # Which of botbuilder's implementations validates the tokens (a private detail, checked so that the
    # "public cloud" runs keep exercising the deployed code path).
    sdk_auth = type(app[BOT].adapter.auth._inner._inner).__name__
    expected = {
        "configured": "_ParameterizedBotFrameworkAuthentication",
        "public cloud": "_PublicCloudBotFrameworkAuthentication",
    }[auth_path]
    assert sdk_auth == expected
    async with serving(app) as endpoint, aiohttp.ClientSession() as http:
        teams = TeamsClient(http=http, endpoint=endpoint, connector=tls_connector, validator=None)
        alex = teams.user(aad_object_id=demo.PERSONAS["manager"], name="Alex Wilber")
        yield Production(app, teams, alex, sessions, bot_framework)


@contextlib.asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve the app on a free port; yields its /api/messages URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/messages"
    finally:
        await runner.cleanup()


class _IssuedToken:
    """Stands for the msal credentials: hands out a fixed bot token and counts the requests for one."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls += 1
        return self.token


def substitute_entra(app: web.Application, certificate: TestCertificate) -> _IssuedToken:
    """Replace only what needs Entra and a public CA: the bot's outbound token and the TLS trust store."""
    auth = app[BOT].adapter.auth
    issued = _IssuedToken("bot-token-" + "z" * 24)
    # TrellisAuthentication caches the SDK credentials per scope; msal would fetch the token from Entra.
    auth._credentials[AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE] = issued
    # The pool's HTTP session, trusting the stand-in's self-signed certificate (and verifying it).
    auth.pool._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=certificate.client_context()))
    return issued


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO)
    yield caplog


# --- inbound: every request needs a good token -------------------------------------------------------


async def test_no_authorization_header_is_refused(production: Production) -> None:
    for headers in (
        {},
        {"Authorization": ""},
        {"Authorization": "Basic YWxleDpwYXNz"},
        {"Authorization": "Bearer"},
    ):
        async with production.teams.http.post(
            production.teams.endpoint, json=production.message(), headers=headers
        ) as response:
            assert response.status == 401, headers
            assert "Traceback" not in await response.text()
    assert production.teams.connector.requests == []
    assert await production.conversation_ref() is None, "the turn must not have run"


def _bad_tokens(production: Production) -> dict[str, str]:
    unsigned = jwt.encode(
        jwt.decode(production.token(), options={"verify_signature": False}), key=None, algorithm="none"
    )
    return {
        "signed by an unknown key (published kid)": production.token(key="attacker"),
        "signed by an unknown key (unpublished kid)": production.token(key="attacker", kid="not-published"),
        "key not endorsed for msteams": production.token(key="webchat"),
        "wrong audience (another bot)": production.token(app_id=OTHER_APP_ID),
        "no audience": production.token(claims={"aud": None}),
        "wrong issuer": production.token(issuer="https://sts.windows.net/evil/"),
        "no issuer": production.token(claims={"iss": None}),
        "expired": production.token(expires_in=-600),  # beyond the SDK's 5 minutes of clock skew
        "not valid yet": production.token(claims={"nbf": int(time.time()) + 900}),
        "serviceurl claim for another host": production.token(service_url="https://evil.example/"),
        "no serviceurl claim": production.token(claims={"serviceurl": None}),
        "unsigned (alg none)": unsigned,
        "malformed": "not.a.jwt",
    }


async def test_bad_tokens_are_refused_with_401(production: Production) -> None:
    for case, token in _bad_tokens(production).items():
        status, body = await production.post(production.message(), token)
        assert status == 401, f"{case}: answered {status} {body[:200]}"
        assert "Traceback" not in body and "Error" not in body, case
    assert production.teams.connector.requests == [], "nothing may be sent for a refused request"
    assert await production.conversation_ref() is None, "the turn must not have run"


async def test_a_valid_token_runs_the_turn_and_the_reply_stops_at_the_entra_token(
    production: Production, captured: pytest.LogCaptureFixture
) -> None:
    """Unmodified production mode, as far as it goes here: the activity is authenticated and handled, then
    the reply needs the bot's own token from login.microsoftonline.com, which cannot be reached."""
    status, _ = await production.post(production.message(), production.token())

    assert status == 201, "authenticated: the turn ran (its failure is handled, not the request's)"
    ref = await production.conversation_ref()
    assert ref is not None and ref.service_url == production.teams.connector.service_url
    assert production.teams.connector.requests == [], "no reply, and no error card, reached the connector"
    failures = [r for r in captured.records if r.name == "bot.adapter" and r.exc_info]
    assert failures, "the failed reply must be logged"
    stack = "".join(traceback.format_exception(*failures[0].exc_info))
    # The bot's token source (bot/auth.py) asking msal for a token from Entra: the outbound token step.
    assert "bot/auth.py" in stack and "get_access_token" in stack and "msal" in stack, stack[-2000:]
    assert not any(r.name == "bot.auth" for r in captured.records), "nothing was refused"


async def test_a_valid_token_gets_a_reply_carrying_the_bot_token(
    production: Production, certificate: TestCertificate
) -> None:
    issued = substitute_entra(production.app, certificate)

    status, _ = await production.post(production.message("help"), production.token())

    assert status == 201
    [reply] = production.teams.connector.sent
    assert reply.conversation_id == production.alex.conversation_id
    assert reply.authorization == f"Bearer {issued.token}", "the bot authenticates to the connector"
    assert reply.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert issued.calls == 1


async def test_unreachable_key_metadata_is_a_server_error_not_a_refusal(
    production: Production, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """If the keys cannot be fetched, nobody can tell whether the token is good: that is a 500 (the
    channel retries), never a 401 that would blame the caller, and never a turn."""
    settings = config.load(PRODUCTION | {"BOT_OPENID_METADATA_URL": "http://127.0.0.1:1/v1/openid"})
    app = create_app(settings, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as endpoint:
        headers = {"Authorization": f"Bearer {production.token()}"}
        async with production.teams.http.post(
            endpoint, json=production.message(), headers=headers
        ) as response:
            assert response.status == 500
            assert "Traceback" not in await response.text()
    assert await production.conversation_ref() is None


# --- outbound: the bot's token only goes to trusted hosts ----------------------------------------------


async def test_a_forged_service_url_is_refused_before_anything_is_sent(
    production: Production, certificate: TestCertificate, connector: ConnectorStandIn
) -> None:
    """`connector` (plain http) plays an attacker's host; `production.teams.connector` the real one."""
    issued = substitute_entra(production.app, certificate)
    evil = connector.service_url

    # A stolen genuine request, replayed with the attacker's serviceUrl: the token names the real one.
    status, _ = await production.post(production.message(serviceUrl=evil), production.token())
    assert status == 401

    # Even a token that vouches for the host (the Bot Framework would never issue it) gets nothing out of
    # the bot: http is refused, and so is an https host that is not allow-listed.
    for service_url in (evil, evil.replace("http://127.0.0.1", "https://localhost")):
        token = production.token(service_url=service_url)
        status, _ = await production.post(production.message(serviceUrl=service_url), token)
        assert status >= 400, service_url

    assert connector.requests == [], "the attacker's host must receive nothing"
    assert production.teams.connector.requests == []
    assert issued.calls == 0, "the bot's token was never even fetched"
    ref = await production.conversation_ref()
    assert ref is None, "no turn ran, so no attacker serviceUrl was stored for proactive messages"


async def test_the_pool_allow_list_needs_https_and_an_exact_host_or_subdomain() -> None:
    async def no_token() -> str | None:
        return None

    pool = ConnectorPool(no_token, allowed_hosts=("smba.trafficmanager.net", "127.0.0.1"))
    try:
        for trusted in (
            "https://smba.trafficmanager.net/amer/",
            "https://SMBA.trafficmanager.net/emea/",
            "https://emea.smba.trafficmanager.net/",
            "https://127.0.0.1:8443/",
        ):
            pool.client(trusted)
        for refused in (
            "http://smba.trafficmanager.net/amer/",
            "https://smba.trafficmanager.net.evil.example/",
            "https://evil-smba.trafficmanager.net/",
            "https://evil.example/smba.trafficmanager.net/",
            "https://smba.trafficmanager.net@evil.example/",
            "http://127.0.0.1:8080/",
            "https://localhost/",
            "ftp://smba.trafficmanager.net/",
            "not a url",
        ):
            with pytest.raises(UntrustedServiceUrl):
                pool.client(refused)
    finally:
        await pool.close()

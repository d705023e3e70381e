"""Fixtures for the tab tests: a migrated SQLite store with a small organization, the Entra stand-in,
and real tab servers on 127.0.0.1."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person, RoleGrant
from tabs.routes import mount
from tabs.security import security_headers
from tabs.settings import TabSettings
from tests.support.identity import DEFAULT_TENANT_ID, IdentityProviderStandIn

REPO = Path(__file__).parents[2]
TEAMS_JS = REPO / "node_modules" / "@microsoft" / "teams-js" / "dist" / "umd" / "MicrosoftTeams.min.js"

TENANT = DEFAULT_TENANT_ID
OTHER_TENANT = "d4c3b2a1-0f9e-4d8c-b7a6-958473625140"
SECRET = "test-session-secret-that-is-long-enough-0123456789"


def oid(n: int) -> str:
    """Entra object ids in the Playground's style (…0020 Alex, …0021 Megan, …0022 Adele)."""
    return f"00000000-0000-0000-0000-{n:013d}"


ALEX, MEGAN, ADELE, ISAIAH, PATTI = oid(20), oid(21), oid(22), oid(23), oid(24)
XSS, LEAVER, FORMER, STRANGER = oid(90), oid(91), oid(92), oid(99)
XSS_NAME = "<script>alert(1)</script>"
PERSONAS = {"employee": (TENANT, ADELE), "manager": (TENANT, ALEX), "hr": (TENANT, MEGAN)}


async def _seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as db:

        def person(object_id: str, name: str, title: str | None, dept: str | None, **kw: Any) -> Person:
            email = re.sub(r"[^a-z]", "", name.lower())[:20] + f"{object_id[-3:]}@contoso.example"
            row = Person(
                tenant_id=TENANT,
                aad_object_id=object_id,
                email=email,
                display_name=name,
                job_title=title,
                department=dept,
                **kw,
            )
            db.add(row)
            return row

        patti = person(PATTI, "Patti Fernandez", "VP of Engineering", "Engineering")
        megan = person(MEGAN, "Megan Bowen", "VP of People", "People")
        await db.flush()
        alex = person(ALEX, "Alex Wilber", "Engineering Manager", "Engineering", manager_id=patti.id)
        person(LEAVER, "Lee Leaving", "Staff Engineer", "Engineering", manager_id=patti.id)
        person(XSS, XSS_NAME, "Tester <b>bold</b>", "QA", manager_id=megan.id)
        person(FORMER, "Fran Former", "Analyst", "Finance", active=False)
        await db.flush()
        person(ADELE, "Adele Vance", "Senior Software Engineer", "Engineering", manager_id=alex.id)
        person(ISAIAH, "Isaiah Langer", "Software Engineer", "Engineering", manager_id=alex.id)
        db.add(RoleGrant(person_id=megan.id, role="hr_admin"))
        await db.commit()


@pytest.fixture(scope="session")
async def db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A migrated SQLite file holding a small organization (Patti → Alex → Adele, Isaiah; HR Megan)."""
    path = tmp_path_factory.mktemp("tabs-db") / "trellis.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = session_factory(engine)
    await _seed(sessions)
    yield sessions
    await engine.dispose()


@pytest.fixture(scope="session")
async def idp() -> AsyncIterator[IdentityProviderStandIn]:
    """The local Entra stand-in: OpenID metadata, JWKS, and a token minter."""
    async with IdentityProviderStandIn() as provider:
        yield provider


@pytest.fixture(scope="session")
def tab_settings(idp: IdentityProviderStandIn) -> TabSettings:
    """Settings with both SSO (against the stand-in) and dev sign-in on."""
    return TabSettings(
        public_base_url="http://127.0.0.1",
        session_secret=SECRET,
        dev_sign_in=True,
        sso_client_id=idp.client_id,
        sso_allowed_tenants=frozenset({TENANT}),
        sso_openid_metadata_url=idp.metadata_url("common"),
        sso_app_id_uri=idp.app_id_uri,
        teams_js_path=TEAMS_JS if TEAMS_JS.exists() else None,
    )


ServeTabs = Callable[..., Awaitable[str]]


async def _not_a_tab(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture(scope="session")
async def serve_tabs(
    db: async_sessionmaker[AsyncSession], tab_settings: TabSettings
) -> AsyncIterator[ServeTabs]:
    """Start a real tab server on 127.0.0.1 (settings overridable); returns its base URL."""
    runners: list[web.AppRunner] = []

    async def start(*, personas: dict[str, tuple[str | None, str]] | None = None, **overrides: Any) -> str:
        app = web.Application(middlewares=[security_headers])
        mount(app, sessions=db, settings=replace(tab_settings, **overrides), personas=personas or PERSONAS)
        app.router.add_get("/api/not-a-tab", _not_a_tab)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()


@pytest.fixture(scope="session")
async def base_url(serve_tabs: ServeTabs) -> str:
    """The default tab server (SSO and dev sign-in on)."""
    return await serve_tabs()


@pytest.fixture(scope="session")
async def demo_base_url(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[str]:
    """A tab server on the demo organization (storage.demo) with its employee, manager and HR personas."""
    demo = pytest.importorskip("storage.demo")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo-db') / 'demo.db'}")
    await upgrade(engine)
    sessions = session_factory(engine)
    async with sessions() as session:
        await demo.seed(session)
        await session.commit()
    app = web.Application(middlewares=[security_headers])
    personas = {name: (demo.DEMO_TENANT_ID, object_id) for name, object_id in demo.PERSONAS.items()}
    mount(app, sessions=sessions, settings=tab_settings, personas=personas)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()
    await engine.dispose()


def browser_like_jar(base: str) -> aiohttp.CookieJar:
    """A cookie jar that, like Chromium, keeps Secure cookies for http://127.0.0.1."""
    return aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=URL(base))


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A client with its own cookie jar that does not follow redirects by default."""
    async with aiohttp.ClientSession(base_url, cookie_jar=browser_like_jar(base_url)) as client:
        yield client


async def dev_sign_in(client: aiohttp.ClientSession, persona: str, *, next_path: str = "/tabs/home") -> str:
    """Sign in through the persona picker the way a browser does; returns the page it lands on."""
    async with client.get("/tabs/signin", params={"next": next_path}) as page:
        assert page.status == 200
        token = csrf_field(await page.text())
    async with client.post(
        "/tabs/dev-signin",
        data={"csrf_token": token, "persona": persona, "next": next_path},
        allow_redirects=False,
    ) as response:
        assert response.status == 303, await response.text()
        return response.headers["Location"]


def csrf_field(html: str) -> str:
    """The value of the first csrf_token hidden input on a page."""
    match = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert match, "no csrf_token field on the page"
    return match.group(1)

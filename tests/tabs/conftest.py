"""Fixtures for the tab tests: a migrated SQLite store with a small organization, the Entra stand-in,
and real tab servers on 127.0.0.1; and the helpers a tab test module builds a world of its own with (its
own store and server, signed-in clients, GET and form POST)."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
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
# The people of _seed by first name ("tester" is the one whose name is markup), for person_ids.
NAMED = {
    "adele": ADELE,
    "alex": ALEX,
    "isaiah": ISAIAH,
    "lee": LEAVER,
    "patti": PATTI,
    "megan": MEGAN,
    "tester": XSS,
}


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
    async with world_store(tmp_path_factory, "tabs-db") as sessions:
        yield sessions


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
    async with AsyncExitStack() as servers:

        async def start(
            *, personas: dict[str, tuple[str | None, str]] | None = None, **overrides: Any
        ) -> str:
            app = tab_app(db, replace(tab_settings, **overrides), personas=personas or PERSONAS)
            app.router.add_get("/api/not-a-tab", _not_a_tab)
            return await servers.enter_async_context(serving(app))

        yield start


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
    async with world_store(tmp_path_factory, "demo-db", seeded=False) as sessions:
        async with sessions() as session:
            await demo.seed(session)
            await session.commit()
        personas = {name: (demo.DEMO_TENANT_ID, object_id) for name, object_id in demo.PERSONAS.items()}
        async with tab_server(sessions, tab_settings, personas=personas) as url:
            yield url


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


# --- worlds of their own: a tab test module that writes data builds its own store and server with these.

SignIn = Callable[[str], Awaitable[aiohttp.ClientSession]]


async def open_store(
    path: Path, *, seeded: bool = True
) -> tuple[async_sessionmaker[AsyncSession], AsyncEngine]:
    """A migrated SQLite file at `path`, holding the small organization of _seed unless `seeded` is False;
    the caller disposes of the engine."""
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = session_factory(engine)
    if seeded:
        await _seed(sessions)
    return sessions, engine


@asynccontextmanager
async def world_store(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, seeded: bool = True
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """open_store on a file in a new temporary folder called `name`; the engine is disposed of on leaving."""
    sessions, engine = await open_store(tmp_path_factory.mktemp(name) / f"{name}.db", seeded=seeded)
    try:
        yield sessions
    finally:
        await engine.dispose()


def tab_app(
    sessions: async_sessionmaker[AsyncSession], settings: TabSettings, **mount_kwargs: Any
) -> web.Application:
    """The tab pages behind the security headers, as trellis serves them (mount_kwargs: personas, clock…)."""
    app = web.Application(middlewares=[security_headers])
    mount(app, sessions=sessions, settings=settings, **mount_kwargs)
    return app


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free port of 127.0.0.1 until the block ends; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def tab_server(
    sessions: async_sessionmaker[AsyncSession],
    settings: TabSettings,
    *,
    personas: Mapping[str, tuple[str | None, str]],
    **mount_kwargs: Any,
) -> AsyncIterator[str]:
    """A real tab server on 127.0.0.1 over `sessions` with these dev sign-in personas (and `clock=`,
    `people=` as tabs.routes.mount takes them); yields its base URL."""
    async with serving(tab_app(sessions, settings, personas=personas, **mount_kwargs)) as url:
        yield url


@asynccontextmanager
async def persona_clients(base_url: str, *, next_path: str = "/tabs/home") -> AsyncIterator[SignIn]:
    """Sign clients in through the persona picker: `client = await sign_in("hr")`, each with its own
    browser-like cookie jar; all are closed when the block ends."""
    async with AsyncExitStack() as clients:

        async def sign_in(persona: str) -> aiohttp.ClientSession:
            jar = browser_like_jar(base_url)
            client = await clients.enter_async_context(aiohttp.ClientSession(base_url, cookie_jar=jar))
            await dev_sign_in(client, persona, next_path=next_path)
            return client

        yield sign_in


async def person_ids(db: AsyncSession, oids: Mapping[str, str] = NAMED) -> dict[str, int]:
    """Person ids by the names of `oids` (name → Entra object id)."""
    rows = await db.execute(
        select(Person.aad_object_id, Person.id).where(Person.aad_object_id.in_(list(oids.values())))
    )
    by_oid = dict(rows.all())
    return {name: by_oid[object_id] for name, object_id in oids.items()}


async def get_page(client: aiohttp.ClientSession, path: str, /, **params: str | int) -> tuple[int, str]:
    """GET a page without following redirects: (status, body)."""
    async with client.get(path, params={k: str(v) for k, v in params.items()}, allow_redirects=False) as r:
        return r.status, await r.text()


async def post_form(
    client: aiohttp.ClientSession,
    path: str,
    data: Mapping[str, Any] | Iterable[tuple[str, Any]],
    *,
    csrf_from: str | None = "/tabs/home",
) -> tuple[int, str, str]:
    """POST a form with the session's CSRF token, read from the page `csrf_from` (None: no token), without
    following redirects: (status, body, Location or "")."""
    fields = list(data.items()) if isinstance(data, Mapping) else list(data)
    if csrf_from is not None:
        _, page = await get_page(client, csrf_from)
        fields.append(("csrf_token", csrf_field(page)))
    async with client.post(path, data=fields, allow_redirects=False) as r:
        return r.status, await r.text(), r.headers.get("Location", "")


def visible_text(html: str) -> str:
    """A page's visible text, roughly: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())

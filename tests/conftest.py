"""Shared fixtures: both databases, the Microsoft cloud stand-ins, a running Trellis, a Teams client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import demo
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.uow import unit_of_work
from tests.support.cards import card_validator  # noqa: F401  (the session's renderer process)
from tests.support.connector import ConnectorStandIn
from tests.support.postgres import PostgresCluster
from tests.support.teams import TeamsClient, TeamsUser
from trellis import config
from trellis.app import create_app

BACKENDS = ("sqlite", "postgresql")


# --- databases -----------------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session")
async def pg_cluster() -> AsyncIterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the whole session (the suite fails without one: CI must have it)."""
    ok, reason = PostgresCluster.available()
    if not ok:
        pytest.fail(
            f"PostgreSQL is required by the test suite: {reason}. `make test` installs it.", pytrace=False
        )
    async with PostgresCluster() as cluster:
        yield cluster


@pytest_asyncio.fixture(scope="session")
async def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    """A migrated SQLite file shared by the session; each test runs inside a rolled-back transaction."""
    path = tmp_path_factory.mktemp("sqlite") / "trellis.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest_asyncio.fixture(scope="session")
async def postgresql_engine(pg_cluster: PostgresCluster) -> AsyncIterator[AsyncEngine]:
    """A migrated PostgreSQL database shared by the session."""
    url = await pg_cluster.create_database("trellis_test")
    engine = create_engine(url)
    await upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.param


@pytest.fixture
def engine(backend: str, request: pytest.FixtureRequest) -> AsyncEngine:
    return request.getfixturevalue(f"{backend}_engine")


# Tests that need committed data get a brand-new database each, on each backend: the `sessions` fixture
# below runs a test inside one connection's rolled-back transaction, which is right for most tests but
# cannot show what several connections do at once (locks, leases, SKIP LOCKED, reads side by side).


@pytest.fixture
def cluster_for_backend(backend: str, request: pytest.FixtureRequest) -> PostgresCluster | None:
    """The PostgreSQL cluster when the test runs on PostgreSQL (started only then).

    A plain fixture on purpose: an async fixture cannot start the session's async cluster fixture on demand.
    """
    return request.getfixturevalue("pg_cluster") if backend == "postgresql" else None


@pytest_asyncio.fixture
async def fresh_database_url(
    cluster_for_backend: PostgresCluster | None, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of an empty database of its own (a SQLite file or a new PostgreSQL database), removed after."""
    cluster = cluster_for_backend
    if cluster is None:
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    url = await cluster.create_database(name)
    try:
        yield url
    finally:
        await cluster.drop_database(name)


@pytest_asyncio.fixture
async def blank_engine(fresh_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the empty database: no tables, never migrated."""
    engine = create_engine(fresh_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest_asyncio.fixture
async def fresh_engine(blank_engine: AsyncEngine) -> AsyncEngine:
    """An engine on a database of its own at the latest schema; what a test commits stays to itself."""
    await upgrade(blank_engine)
    return blank_engine


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions inside one outer transaction that is rolled back: a unit of work's commit is a savepoint."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield async_sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        await outer.rollback()


@pytest_asyncio.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session for domain tests (services flush, never commit)."""
    async with sessions() as session:
        yield session


@pytest_asyncio.fixture
async def demo_org(sessions: async_sessionmaker[AsyncSession]) -> demo.SeedResult:
    """The demo organization (with the Agents Playground people) in this test's transaction."""
    async with unit_of_work(sessions) as session:
        return await demo.seed(session, people=60, seed=7)


# --- Microsoft's cloud, stood up locally ---------------------------------------------------------------


@pytest_asyncio.fixture(scope="session")
async def connector_server() -> AsyncIterator[ConnectorStandIn]:
    async with ConnectorStandIn() as connector:
        yield connector


@pytest.fixture
def connector(connector_server: ConnectorStandIn) -> ConnectorStandIn:
    """The Bot Connector stand-in, emptied for this test."""
    connector_server.clear()
    return connector_server


# --- Trellis itself --------------------------------------------------------------------------------------


@pytest.fixture
def settings() -> config.Settings:
    """Local-development settings (no app id: anonymous bot, dev sign-in)."""
    return config.load({"TRELLIS_SESSION_SECRET": "test-secret-" + "x" * 32})


@dataclass
class RunningTrellis:
    app: web.Application
    base_url: str

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/api/messages"


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[RunningTrellis]:
    """Serve a Trellis app over real HTTP on a free port of 127.0.0.1."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield RunningTrellis(app, f"http://127.0.0.1:{runner.addresses[0][1]}")
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def trellis(
    settings: config.Settings, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[RunningTrellis]:
    """Trellis served over real HTTP on a free port, on this test's database transaction."""
    async with serving(create_app(settings, engine=engine, sessions=sessions, run_sender=False)) as running:
        yield running


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def teams(
    trellis: RunningTrellis, http: aiohttp.ClientSession, connector: ConnectorStandIn, card_validator
) -> TeamsClient:
    """A Teams client talking to the running Trellis; every card it receives is validated."""
    return TeamsClient(
        http=http, endpoint=trellis.messages_url, connector=connector, validator=card_validator
    )


@pytest.fixture
def alex(teams: TeamsClient) -> TeamsUser:
    """Alex Wilber, the Agents Playground's signed-in user: a manager in the demo organization."""
    return teams.user(aad_object_id=demo.PERSONAS["manager"], name="Alex Wilber")


@pytest.fixture
def adele(teams: TeamsClient) -> TeamsUser:
    """Adele Vance: an employee reporting to Alex."""
    return teams.user(aad_object_id=demo.PERSONAS["employee"], name="Adele Vance")


@pytest.fixture
def megan(teams: TeamsClient) -> TeamsUser:
    """Megan Bowen: HR admin and talent reviewer."""
    return teams.user(aad_object_id=demo.PERSONAS["hr"], name="Megan Bowen")


@pytest.fixture
def isaiah(teams: TeamsClient) -> TeamsUser:
    """Isaiah Langer: Adele's teammate, also reporting to Alex."""
    return teams.user(aad_object_id=demo.ISAIAH.aad_object_id, name="Isaiah Langer")


@pytest.fixture
def patti(teams: TeamsClient) -> TeamsUser:
    """Patti Fernandez: an account executive in Sales, outside Alex's line."""
    return teams.user(aad_object_id=demo.PATTI.aad_object_id, name="Patti Fernandez")


@pytest.fixture
def lynne(teams: TeamsClient) -> TeamsUser:
    """Lynne Robbins: VP of Engineering, Alex's manager."""
    return teams.user(aad_object_id=demo.LYNNE.aad_object_id, name="Lynne Robbins")

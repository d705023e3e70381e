"""Fixtures for storage tests that need committed data: a brand-new database per test, on each backend.

The shared `sessions` fixture runs every test inside one connection's rolled-back transaction, which is
right for most tests but cannot show what several connections do at once (locks, leases, SKIP LOCKED).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import create_engine
from storage.migrate import upgrade
from tests.support.postgres import PostgresCluster


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

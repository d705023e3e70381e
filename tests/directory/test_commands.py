"""`trellis org sync`, `trellis org install` and the scheduled sync, against the Graph stand-in."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from aiohttp import web
from sqlalchemy import func, select

from storage.engine import create_engine, session_factory
from storage.models import Person
from tests.support.graph import GraphStandIn
from trellis import config
from trellis.app import create_app

TRELLIS = Path(sys.executable).with_name("trellis")


@pytest_asyncio.fixture
async def graph() -> AsyncIterator[GraphStandIn]:
    async with GraphStandIn(page_size=50) as stand_in:
        yield stand_in


def directory_env(graph: GraphStandIn, database: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_URL": f"sqlite:///{database}",
        "MicrosoftAppTenantId": graph.tenant_id,
        "GRAPH_CLIENT_ID": graph.client_id,
        "GRAPH_CLIENT_SECRET": graph.client_secret,
        "ENTRA_AUTHORITY_HOST": graph.authority_host,
        "GRAPH_BASE_URL": graph.graph_base_url,
        # The stand-in's token endpoint is https with its own certificate (msal insists on https).
        "REQUESTS_CA_BUNDLE": graph.ca_file,
        "LOG_LEVEL": "WARNING",
    }


async def run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(TRELLIS), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    return process.returncode, out.decode(), err.decode()


async def count_people(database: Path) -> int:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(func.count(Person.id)))).scalar_one()
    finally:
        await engine.dispose()


async def test_org_sync_dry_run_then_for_real(graph: GraphStandIn, tmp_path: Path) -> None:
    graph.generate(120)
    env = directory_env(graph, tmp_path / "trellis.db")

    code, out, err = await run(env, "org", "sync", "--dry-run")
    assert code == 0, err
    assert "nothing was written" in out and "120 created" in out
    assert await count_people(tmp_path / "trellis.db") == 0

    code, out, err = await run(env, "org", "sync")
    assert code == 0, err
    assert "120 created" in out
    assert await count_people(tmp_path / "trellis.db") == 120


async def test_an_expired_secret_is_one_line_naming_the_fix(graph: GraphStandIn, tmp_path: Path) -> None:
    graph.token_failure = "expired_secret"
    code, _out, err = await run(directory_env(graph, tmp_path / "trellis.db"), "org", "sync")
    assert code == 1
    assert err.strip().count("\n") == 0 and "GRAPH_CLIENT_SECRET" in err and "expired" in err
    assert "Traceback" not in err


async def test_org_install_needs_the_catalog_id(graph: GraphStandIn, tmp_path: Path) -> None:
    code, _out, err = await run(directory_env(graph, tmp_path / "trellis.db"), "org", "install")
    assert code == 2 and "TEAMS_APP_CATALOG_ID" in err


async def test_the_server_syncs_the_directory_on_schedule(
    graph: GraphStandIn, tmp_path: Path, monkeypatch
) -> None:
    graph.generate(30)
    env = directory_env(graph, tmp_path / "trellis.db") | {"DIRECTORY_SYNC_INTERVAL_MINUTES": "60"}
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", graph.ca_file)
    settings = config.load(env)
    engine = create_engine(settings.database_url.replace("sqlite+aiosqlite", "sqlite+aiosqlite"))
    from storage.migrate import upgrade

    await upgrade(engine)
    runner = web.AppRunner(
        create_app(settings, engine=engine, sessions=session_factory(engine), run_sender=False)
    )
    await runner.setup()
    try:
        for _ in range(100):  # the first sync runs at start-up
            if await count_people(tmp_path / "trellis.db") == 30:
                break
            await asyncio.sleep(0.1)
        assert await count_people(tmp_path / "trellis.db") == 30
    finally:
        await runner.cleanup()
        await engine.dispose()

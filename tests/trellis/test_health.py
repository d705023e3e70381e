"""/healthz answers what a load balancer needs: 200 when the database answers, 503 quickly when not."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from storage.engine import create_engine
from trellis import config
from trellis.app import create_app

UNAVAILABLE = {"status": "unavailable", "database": "unreachable"}
OK = {"status": "ok", "database": "ok"}


@pytest.fixture
def backend() -> str:
    """The `trellis` fixture on PostgreSQL: on SQLite the test's transaction holds the engine's only
    pooled connection, so /healthz would wait for it (a fresh SQLite file is checked below)."""
    return "postgresql"


async def test_healthz_is_ok_when_the_database_answers(trellis, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{trellis.base_url}/healthz") as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == OK


async def test_healthz_is_ok_on_a_fresh_sqlite_file(serve, tmp_path) -> None:
    base_url = await serve(f"sqlite+aiosqlite:///{tmp_path / 'trellis.db'}")
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/healthz") as response:
        assert response.status == 200
        assert await response.json() == OK


async def test_the_root_redirects_to_the_home_tab(trellis, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{trellis.base_url}/", allow_redirects=False) as response:
        assert response.status == 302
        assert response.headers["Location"] == "/tabs/home"


@pytest_asyncio.fixture
async def serve() -> AsyncIterator:
    """Serve an app on a free port; returns its base URL. Cleaned up (and its engine disposed) after."""
    runners: list[web.AppRunner] = []
    engines = []

    async def start(database_url: str) -> str:
        settings = config.load({"TRELLIS_SESSION_SECRET": "health-secret-" + "x" * 32})
        engine = create_engine(database_url)
        engines.append(engine)
        runner = web.AppRunner(create_app(settings, engine=engine, run_sender=False), access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield start
    for runner in runners:
        await runner.cleanup()
    for engine in engines:
        await engine.dispose()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung database host)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel completes handshakes; nobody ever accepts or answers
        yield listener.getsockname()[1]


async def _unavailable_within(base_url: str, seconds: float) -> None:
    began = time.monotonic()
    async with aiohttp.ClientSession() as http, http.get(f"{base_url}/healthz") as response:
        elapsed = time.monotonic() - began
        assert response.status == 503
        body = await response.text()
        assert await response.json() == UNAVAILABLE, body
    assert elapsed < seconds, f"took {elapsed:.1f} s"
    # No internals for whoever polls the endpoint: no driver, host, port or exception text.
    for leak in ("asyncpg", "127.0.0.1", "refused", "Error", "Traceback", "postgres"):
        assert leak not in body, leak


async def test_healthz_is_503_when_the_database_refuses_connections(serve) -> None:
    base_url = await serve("postgresql+asyncpg://postgres@127.0.0.1:1/x")  # nothing listens on port 1
    await _unavailable_within(base_url, 3)


async def test_healthz_is_503_within_its_timeout_when_the_database_hangs(serve, silent_port: int) -> None:
    base_url = await serve(f"postgresql+asyncpg://postgres@127.0.0.1:{silent_port}/x")
    await _unavailable_within(base_url, 3.5)  # the check gives up after 2 s

"""Timing tab pages the way a person opens them: Trellis (trellis.app.create_app) serves a seeded store
over real HTTP on 127.0.0.1, a persona signs in through the developer picker and GETs a page again and
again. Server time is measured inside the app by an outermost middleware (from the request reaching the
handlers to the response being ready), next to the client's round trip; both after a warm-up. The
statements each request ran are counted too. Used by bench/goal_pages.py and bench/talent_pages.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

from tests.support.postgres import PostgresCluster
from trellis import config
from trellis.app import create_app

WARM_UP = 10
SERVER_TIME = web.AppKey("bench.server_times", list)


@dataclass(frozen=True)
class Result:
    backend: str
    people: int
    page: str
    persona: str
    median_ms: float
    p95_ms: float
    round_trip_ms: float
    statements: float
    size_kb: float


async def database_url(backend: str, name: str, cluster: PostgresCluster | None) -> str:
    """A fresh database: on the PostgreSQL cluster, or a SQLite file in a temporary folder."""
    if backend == "postgresql":
        assert cluster is not None
        return await cluster.create_database(name)
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix=f'trellis-{name}-')) / 'bench.db'}"


Measure = Callable[[str, int, str, int], Awaitable[list[Result]]]


async def measure_sizes(description: str, name: str, measure: Measure, *, requests: int) -> list[Result]:
    """Read --people, --database and --requests from the command line, then run `measure(backend, people,
    database URL, requests)` on a fresh database (called `name`_people) for each backend and size."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--requests", type=int, default=requests)
    args = parser.parse_args()
    results: list[Result] = []
    async with contextlib.AsyncExitStack() as stack:
        cluster = None
        if "postgresql" in args.database:
            cluster = await stack.enter_async_context(PostgresCluster())
        for backend in args.database:
            for people in args.people:
                url = await database_url(backend, f"{name}_{people}", cluster)
                results += await measure(backend, people, url, args.requests)
    return results


async def analyze(engine: AsyncEngine) -> None:
    """On PostgreSQL, do now what autovacuum does within a minute of a bulk load: planner statistics, and
    the visibility map without which index-only scans still visit every row; so the plans and reads are
    the ones a running server gets."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        # Right after a bulk load, a first VACUUM sets the rows' hint bits but leaves the visibility map
        # empty (seen here every time); a later pass marks the pages all-visible. Repeat until it has.
        for _attempt in range(_VACUUM_PASSES):
            await autocommit.execute(text("VACUUM ANALYZE"))
            if not await autocommit.scalar(_NOT_ALL_VISIBLE):
                return
            await asyncio.sleep(0.5)
        raise RuntimeError(f"VACUUM left pages not all-visible after {_VACUUM_PASSES} passes")


_VACUUM_PASSES = 10
_NOT_ALL_VISIBLE = text(
    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relallvisible < c.relpages"
)


def count_statements(engine: AsyncEngine) -> list[int]:
    """A counter of the statements the engine runs (reset it by assigning counter[0])."""
    counter = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args: object) -> None:
        counter[0] += 1

    return counter


@web.middleware
async def _server_time(request: web.Request, handler):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    try:
        return await handler(request)
    finally:
        request.app[SERVER_TIME].append(time.perf_counter() - began)


@contextlib.asynccontextmanager
async def serve(engine: AsyncEngine, url: str) -> AsyncIterator[tuple[web.Application, str]]:
    """Trellis on 127.0.0.1 over the engine, with the server-time middleware outermost."""
    settings = config.load({"TRELLIS_SESSION_SECRET": "bench-secret-" + "x" * 32, "DATABASE_URL": url})
    app = create_app(settings, engine=engine, run_sender=False)
    app.middlewares.insert(0, _server_time)  # outermost: the security headers count as server time too
    app[SERVER_TIME] = []
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield app, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def time_page(
    app: web.Application,
    base: str,
    *,
    backend: str,
    people: int,
    page: str,
    persona: str,
    requests: int,
    statements: list[int],
) -> Result:
    """Sign in as the persona, warm up, then GET the page `requests` times, one after another."""
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=URL(base))
    async with aiohttp.ClientSession(base, cookie_jar=jar) as client:
        await _sign_in(client, persona)
        for _ in range(WARM_UP):
            await _get(client, page)
        app[SERVER_TIME].clear()
        trips, size = [], 0
        statements[0] = 0
        for _ in range(requests):
            began = time.perf_counter()
            size = len(await _get(client, page))
            trips.append(time.perf_counter() - began)
        times = sorted(app[SERVER_TIME])
    return Result(
        backend=backend,
        people=people,
        page=page,
        persona=persona,
        median_ms=1000 * statistics.median(times),
        p95_ms=1000 * times[max(0, round(0.95 * len(times)) - 1)],
        round_trip_ms=1000 * statistics.median(trips),
        statements=statements[0] / requests,
        size_kb=size / 1024,
    )


def print_result(result: Result) -> None:
    print(
        f"  {result.page:28s} as {result.persona:8s} median {result.median_ms:6.1f} ms"
        f"  p95 {result.p95_ms:6.1f} ms  round trip {result.round_trip_ms:6.1f} ms"
        f"  {result.statements:.0f} statements  {result.size_kb:.0f} kB",
        flush=True,
    )


async def _sign_in(client: aiohttp.ClientSession, persona: str) -> None:
    async with client.get("/tabs/signin") as response:
        token = re.search(r'name="csrf_token" value="([^"]*)"', await response.text())
    assert token, "no sign-in form: is developer sign-in on?"
    form = {"csrf_token": token.group(1), "persona": persona, "next": "/tabs/home"}
    async with client.post("/tabs/dev-signin", data=form, allow_redirects=False) as response:
        if response.status != 303:
            raise RuntimeError(f"signing in as {persona} failed: {response.status} {await response.text()}")


async def _get(client: aiohttp.ClientSession, page: str) -> str:
    async with client.get(page, allow_redirects=False) as response:
        body = await response.text()
        if response.status != 200:
            raise RuntimeError(f"GET {page}: {response.status}\n{body[:2000]}")
        return body

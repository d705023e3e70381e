"""Server time of the goal tabs (Alignment, My goals) on a 1,000- and a 10,000-person organization.

Each organization is the demo one (storage.demo) with its goals (storage.demo_goals: company → team →
manager → report, ~5 goals a person, 1-3 key results each with weekly history) and the stored roll-up
computed. Trellis itself (trellis.app.create_app) serves it over real HTTP on 127.0.0.1; a person signs in
through the developer persona picker, then GETs each page sequentially. Server time is measured inside the
app by an outermost middleware (from the request reaching the handlers to the response being ready), next
to the client's round trip; both after a warm-up. The statements each request ran are counted too.

    .venv/bin/python bench/goal_pages.py [--people 1000 10000] [--database sqlite postgresql] [--requests 100]

Targets at 10,000 people: median < 150 ms for Alignment (collapsed beyond two levels), < 50 ms for My goals.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from yarl import URL

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain.clock import system_clock
from domain.performance import goals
from storage import demo, demo_goals
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Goal, KeyResult, KeyResultUpdate
from storage.uow import unit_of_work
from tests.support.postgres import PostgresCluster
from trellis import config
from trellis.app import create_app

# (page, persona): the targets first, then the heavier viewers for comparison.
CASES = (
    ("/tabs/alignment", "manager"),
    ("/tabs/goals", "employee"),
    ("/tabs/alignment", "hr"),
    ("/tabs/goals", "manager"),
)
TARGETS_MS = {"/tabs/alignment": 150.0, "/tabs/goals": 50.0}
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument(
        "--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    results: list[Result] = []
    async with contextlib.AsyncExitStack() as stack:
        cluster = None
        if "postgresql" in args.database:
            cluster = await stack.enter_async_context(PostgresCluster())
        for backend in args.database:
            for people in args.people:
                url = await _database_url(backend, people, cluster)
                results += await _measure(backend, people, url, args.requests)
    _report(results, args.people)


async def _database_url(backend: str, people: int, cluster: PostgresCluster | None) -> str:
    if backend == "postgresql":
        assert cluster is not None
        return await cluster.create_database(f"goals_{people}")
    return f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='trellis-goals-')) / 'bench.db'}"


async def _measure(backend: str, people: int, url: str, requests: int) -> list[Result]:
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        summary = await _seed(engine, people)
        print(
            f"{backend} {people:,} people: {summary} (seeded in {time.perf_counter() - began:.0f} s)",
            flush=True,
        )
        statements = _count_statements(engine)
        async with _serve(engine, url) as (app, base):
            results = []
            for page, persona in CASES:
                result = await _time_page(app, base, backend, people, page, persona, requests, statements)
                print(
                    f"  {page:16s} as {persona:8s} median {result.median_ms:6.1f} ms"
                    f"  p95 {result.p95_ms:6.1f} ms"
                    f"  round trip {result.round_trip_ms:6.1f} ms  {result.statements:.0f} statements"
                    f"  {result.size_kb:.0f} kB",
                    flush=True,
                )
                results.append(result)
            return results
    finally:
        await engine.dispose()


async def _seed(engine: AsyncEngine, people: int) -> str:
    await upgrade(engine)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        await demo.seed(session, people=people, seed=7)
        await demo_goals.seed_goals(session, today=system_clock().date(), seed=7)
        await goals.rebuild_progress(session)
    if engine.dialect.name == "postgresql":
        # Autovacuum analyzes freshly loaded tables within a minute; do it now so the plans are the ones a
        # running server gets (committed: statistics written in a rolled-back transaction are lost).
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    async with engine.connect() as conn:
        counts = []
        for model in (Goal, KeyResult, KeyResultUpdate):
            counts.append((await conn.execute(select(func.count()).select_from(model))).scalar_one())
    return f"{counts[0]:,} goals, {counts[1]:,} key results, {counts[2]:,} updates"


def _count_statements(engine: AsyncEngine) -> list[int]:
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
async def _serve(engine: AsyncEngine, url: str) -> AsyncIterator[tuple[web.Application, str]]:
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


async def _time_page(
    app: web.Application,
    base: str,
    backend: str,
    people: int,
    page: str,
    persona: str,
    requests: int,
    statements: list[int],
) -> Result:
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


def _report(results: list[Result], sizes: list[int]) -> None:
    print()
    print("backend     people  page              as        median ms   p95 ms  statements  target")
    for r in results:
        target = TARGETS_MS[r.page] if r.persona in ("manager", "employee") and r.people >= 10_000 else None
        verdict = "" if target is None else ("met" if r.median_ms < target else f"MISSED (< {target:.0f})")
        print(
            f"{r.backend:10s} {r.people:7,d}  {r.page:16s}  {r.persona:8s}  {r.median_ms:9.1f}"
            f"  {r.p95_ms:7.1f}  {r.statements:10.0f}  {verdict}"
        )
    if len(sizes) >= 2:
        small, large = min(sizes), max(sizes)
        print(f"\ngrowth from {small:,} to {large:,} people (median at {large:,} / median at {small:,}):")
        by_key = {(r.backend, r.people, r.page, r.persona): r for r in results}
        for r in results:
            if r.people != small or (r.backend, large, r.page, r.persona) not in by_key:
                continue
            ratio = by_key[r.backend, large, r.page, r.persona].median_ms / r.median_ms
            print(f"  {r.backend:10s} {r.page:16s} as {r.persona:8s} x{ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

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

import asyncio
import sys
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.page_timing import (
    Result,
    analyze,
    count_statements,
    measure_sizes,
    print_result,
    serve,
    time_page,
)
from domain.clock import system_clock
from domain.performance import goals
from storage import demo, demo_goals
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Goal, KeyResult, KeyResultUpdate
from storage.uow import unit_of_work

# (page, persona): the targets first, then the heavier viewers for comparison.
CASES = (
    ("/tabs/alignment", "manager"),
    ("/tabs/goals", "employee"),
    ("/tabs/alignment", "hr"),
    ("/tabs/goals", "manager"),
)
TARGETS_MS = {"/tabs/alignment": 150.0, "/tabs/goals": 50.0}


async def main() -> None:
    results = await measure_sizes(__doc__.splitlines()[0], "goals", _measure, requests=100)
    _report(results, sorted({r.people for r in results}))


async def _measure(backend: str, people: int, url: str, requests: int) -> list[Result]:
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        summary = await _seed(engine, people)
        print(
            f"{backend} {people:,} people: {summary} (seeded in {time.perf_counter() - began:.0f} s)",
            flush=True,
        )
        statements = count_statements(engine)
        async with serve(engine, url) as (app, base):
            results = []
            for page, persona in CASES:
                result = await time_page(
                    app,
                    base,
                    backend=backend,
                    people=people,
                    page=page,
                    persona=persona,
                    requests=requests,
                    statements=statements,
                )
                print_result(result)
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
    await analyze(engine)
    async with engine.connect() as conn:
        counts = []
        for model in (Goal, KeyResult, KeyResultUpdate):
            counts.append((await conn.execute(select(func.count()).select_from(model))).scalar_one())
    return f"{counts[0]:,} goals, {counts[1]:,} key results, {counts[2]:,} updates"


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

"""Server time of the talent tabs (Succession board, Talent metrics, the 9-box of a talent review and one of
its cells in full) on a 1,000- and a 10,000-person organization.

Each organization is the demo one (storage.demo) with its talent data (storage.demo_talent: one critical
position per twenty people with slates of up to four, a role profile per title, assessments a year apart,
position fills, last year's finalized talent review with everyone placed). HR (Megan Bowen, who is also
a talent reviewer for the whole organization) opens each page; see bench/page_timing.py for how time is
measured.

    .venv/bin/python bench/talent_pages.py [--people 1000 10000] [--database sqlite postgresql]
        [--requests 50]

Targets at 10,000 people (~500 critical positions): median < 150 ms for the Succession board and Talent
metrics, on SQLite and PostgreSQL.
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
from storage import demo, demo_talent
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import TalentReview
from storage.uow import unit_of_work

SUCCESSION = "/tabs/talent/succession"
METRICS = "/tabs/talent/metrics"
TARGETS_MS = {SUCCESSION: 150.0, METRICS: 150.0}


async def main() -> None:
    results = await measure_sizes(__doc__.splitlines()[0], "talent", _measure, requests=50)
    _report(results, sorted({r.people for r in results}))


async def _measure(backend: str, people: int, url: str, requests: int) -> list[Result]:
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        summary, review_id = await _seed(engine, people)
        print(f"{backend} {people:,} people: {summary} (seeded in {time.perf_counter() - began:.0f} s)")
        statements = count_statements(engine)
        nine_box = f"/tabs/talent/reviews/{review_id}"
        # The fullest cell (Core, in the demo review) shown in full: its first page of people.
        pages = (SUCCESSION, METRICS, nine_box, f"{nine_box}?cell=2-2")
        async with serve(engine, url) as (app, base):
            results = []
            for page in pages:
                result = await time_page(
                    app,
                    base,
                    backend=backend,
                    people=people,
                    page=page,
                    persona="hr",
                    requests=requests,
                    statements=statements,
                )
                print_result(result)
                results.append(result)
            return results
    finally:
        await engine.dispose()


async def _seed(engine: AsyncEngine, people: int) -> tuple[demo_talent.TalentSeedResult, int]:
    await upgrade(engine)
    async with unit_of_work(session_factory(engine)) as session:
        await demo.seed(session, people=people, seed=7)
        summary = await demo_talent.seed_talent(session, today=system_clock().date(), seed=7)
    await analyze(engine)
    async with engine.connect() as conn:
        review_id = (await conn.execute(select(func.max(TalentReview.id)))).scalar_one()
    return summary, review_id


def _report(results: list[Result], sizes: list[int]) -> None:
    print()
    print("backend     people  page                                  median ms   p95 ms  statements  target")
    for r in results:
        target = TARGETS_MS.get(r.page) if r.people >= 10_000 else None
        verdict = "" if target is None else ("met" if r.median_ms < target else f"MISSED (< {target:.0f})")
        print(
            f"{r.backend:10s} {r.people:7,d}  {r.page:36s}  {r.median_ms:9.1f}"
            f"  {r.p95_ms:7.1f}  {r.statements:10.0f}  {verdict}"
        )
    if len(sizes) >= 2:
        small, large = min(sizes), max(sizes)
        print(f"\ngrowth from {small:,} to {large:,} people (median at {large:,} / median at {small:,}):")
        by_key = {(r.backend, r.people, r.page): r for r in results}
        for r in results:
            if r.people == small and (r.backend, large, r.page) in by_key:
                ratio = by_key[r.backend, large, r.page].median_ms / r.median_ms
                print(f"  {r.backend:10s} {r.page:36s} x{ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())

"""The bridge at 10,000 people: the time to compute every signal, and the Insights tab's server time.

The organization is what `trellis demo seed --planted` writes (storage.demo, this quarter's goals,
storage.demo_talent, storage.demo_planted: two years of goals, feedback, check-ins, reviews and talent
data), so every signal has real input. First each signal runs on its own, then the whole list as HR
(Megan Bowen) would get it (domain.signals.suggestions, which also filters by access and decisions),
three times each: the figure is the median. Then Trellis serves the Insights tab over real HTTP and HR
opens it again and again (bench/page_timing.py: an outermost middleware's clock, after a warm-up; the
tab keeps each reader's suggestions for a few minutes, so the warm-up pays for the first computation).

    .venv/bin/python bench/insights.py [--people 10000] [--database sqlite postgresql] [--requests 40]

Targets (issue 7): all signals for 10,000 people in < 10 s; the Insights tab's median < 150 ms; on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.page_timing import analyze, count_statements, database_url, print_result, serve, time_page
from domain import signal_risks, signals
from domain.access import load_actor
from domain.clock import system_clock
from domain.performance import goals
from storage import demo, demo_goals, demo_planted, demo_talent
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person
from storage.uow import unit_of_work
from tests.support.postgres import PostgresCluster

INSIGHTS = "/tabs/talent/insights"
ROUNDS = 3
TARGET_SIGNALS_S, TARGET_PAGE_MS = 10.0, 150.0
PER_SIGNAL = (
    ("promotion readiness", signals.promotion_readiness),
    ("development program", signals.development_program),
    ("succession candidate", signals.succession_candidate),
    ("high potential", signals.high_potential),
    ("career path", signals.career_path),
    ("cross-functional", signals.cross_functional),
    ("development objective", signals.development_objective),
    ("flight risk", signal_risks.flight_risks),
)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument(
        "--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    verdicts: list[str] = []
    async with contextlib.AsyncExitStack() as stack:
        cluster = None
        if "postgresql" in args.database:
            cluster = await stack.enter_async_context(PostgresCluster())
        for backend in args.database:
            url = await database_url(backend, f"insights_{args.people}", cluster)
            verdicts += await _measure(backend, args.people, url, args.requests)
    print("\n" + "\n".join(verdicts))


async def _measure(backend: str, people: int, url: str, requests: int) -> list[str]:
    engine = create_engine(url)
    today = system_clock().date()
    try:
        began = time.perf_counter()
        await _seed(engine, people, today)
        seeded = time.perf_counter() - began
        print(f"{backend} {people:,} people, planted (seeded in {seeded:.0f} s)", flush=True)
        total, found = await _time_signals(engine, today)
        statements = count_statements(engine)
        async with serve(engine, url) as (app, base):
            page = await time_page(
                app,
                base,
                backend=backend,
                people=people,
                page=INSIGHTS,
                persona="hr",
                requests=requests,
                statements=statements,
            )
        print_result(page)
    finally:
        await engine.dispose()
    return [
        f"{backend:10s} all signals {total:5.2f} s ({found:,} suggestions for HR)"
        f"  {'met' if total < TARGET_SIGNALS_S else 'MISSED'} (< {TARGET_SIGNALS_S:.0f} s)",
        f"{backend:10s} Insights tab median {page.median_ms:6.1f} ms"
        f"  {'met' if page.median_ms < TARGET_PAGE_MS else 'MISSED'} (< {TARGET_PAGE_MS:.0f} ms)",
    ]


async def _seed(engine: AsyncEngine, people: int, today: date) -> None:
    await upgrade(engine)
    async with unit_of_work(session_factory(engine)) as session:
        await demo.seed(session, people=people, seed=7)
        await demo_goals.seed_goals(session, today=today, seed=7)
        await goals.rebuild_progress(session)
        await demo_talent.seed_talent(session, today=today, seed=7)
        await demo_planted.seed_planted(session, today=today, seed=7)
    await analyze(engine)


async def _time_signals(engine: AsyncEngine, today: date) -> tuple[float, int]:
    """Each signal on its own, then all of them as HR; medians of ROUNDS runs."""
    sessions = session_factory(engine)
    async with sessions() as session:
        hr = await session.scalar(select(Person.id).where(Person.email == demo.MEGAN.email))
        actor = await load_actor(session, hr)
        for name, signal in PER_SIGNAL:
            seconds, found = await _median(lambda s=signal: s(session, today=today))
            print(f"  {name:22s} {seconds:6.2f} s  {len(found):6,d} suggestions", flush=True)
        total, found = await _median(lambda: signals.suggestions(session, actor=actor, today=today))
        await session.rollback()  # the audit row of each read
    print(f"  {'all, as HR':22s} {total:6.2f} s  {len(found):6,d} suggestions", flush=True)
    return total, len(found)


async def _median(run: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(ROUNDS):
        began = time.perf_counter()
        result = await run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


if __name__ == "__main__":
    asyncio.run(main())

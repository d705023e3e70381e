"""The Talent metrics tab counts skill-gap closure on a second, read-only session while the other figures
are counted on the unit of work's (domain.metrics.talent_metrics(side=...)). On committed data of a
database of its own, on SQLite and PostgreSQL: the figures are those of one session, one audit entry is
written, and a failing lane fails the whole view and writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain import metrics
from domain.access import Actor, load_actor
from storage.engine import create_engine, session_factory
from storage.models import AuditEntry, RoleGrant
from storage.uow import read_only, unit_of_work
from tests.support.metrics_world import TalentBuilder, competencies, fills, slates, talent_reviews


async def _everything(db: AsyncSession, hr: Actor, side: AsyncSession | None = None) -> metrics.TalentMetrics:
    return await metrics.talent_metrics(
        db,
        actor=hr,
        as_of=date(2026, 7, 1),
        fill_start=date(2025, 10, 1),
        fill_end=date(2026, 6, 30),
        baseline=date(2025, 7, 1),
        since=date(2025, 7, 1),
        side=side,
    )


async def _world(engine: AsyncEngine) -> int:
    """The hand-made talent world of tests/support/metrics_world.py, committed; returns HR's person id."""
    async with unit_of_work(session_factory(engine)) as db:
        b = TalentBuilder(db)
        hana = await b.person("Hana", "People", title="HR Partner")
        await b.person("Rita", "Engineering")
        db.add(RoleGrant(person_id=hana, role="hr_admin"))
        await slates(b)
        await fills(b)
        await competencies(b)
        await talent_reviews(b, reviewer="Rita")
        return hana


async def _audit_entries(engine: AsyncEngine) -> int:
    async with read_only(session_factory(engine)) as db:
        return int(await db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


async def test_the_figures_counted_side_by_side_are_those_of_one_session(fresh_engine: AsyncEngine) -> None:
    sessions = session_factory(fresh_engine)
    hana = await _world(fresh_engine)
    async with unit_of_work(sessions) as db:
        alone = await _everything(db, await load_actor(db, hana))
    async with unit_of_work(sessions) as db, read_only(sessions, off_loop=True) as side:
        together = await _everything(db, await load_actor(db, hana), side)
    assert together == alone
    assert (together.skill_gaps.gaps, together.skill_gaps.closed) == (4, 2)
    assert together.bench.critical_positions == 4
    assert await _audit_entries(fresh_engine) == 2


async def test_a_failing_lane_fails_the_view_and_writes_nothing(fresh_engine: AsyncEngine, tmp_path) -> None:
    sessions = session_factory(fresh_engine)
    hana = await _world(fresh_engine)
    tableless = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # the side lane's reads fail
    try:
        with pytest.raises(Exception, match="no such table"):
            async with unit_of_work(sessions) as db, read_only(session_factory(tableless)) as side:
                await _everything(db, await load_actor(db, hana), side)
    finally:
        await tableless.dispose()
    assert await _audit_entries(fresh_engine) == 0
    async with unit_of_work(sessions) as db:  # and the store is as it was: the view works again
        again = await _everything(db, await load_actor(db, hana))
    assert again.skill_gaps.gaps == 4

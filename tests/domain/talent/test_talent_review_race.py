"""Two submits of the open-a-talent-review form racing each other, each in its own transaction on its own
connection, on a database of its own (SQLite and PostgreSQL): one review is opened, the other submit gets
it back as already submitted. On PostgreSQL neither sees the other's uncommitted row when it looks for the
name; the unique key on (cycle, name) makes the later insert wait for the first and then fail over to it.
"""

from __future__ import annotations

import asyncio

import pytest_asyncio
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.talent import talent_reviews as tr
from storage.engine import session_factory
from storage.models import TalentReview, TalentReviewEntry
from storage.uow import unit_of_work
from tests.domain.conftest import Cast, ReviewKit

from .test_talent_reviews import NOW, closed_world


@pytest_asyncio.fixture
async def sessions(fresh_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that really commit (this module's tests need more than one connection)."""
    return session_factory(fresh_engine)


async def test_racing_submits_open_one_talent_review(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession], kit: ReviewKit, cast: Cast
) -> None:
    world = await closed_world(session, kit, cast)
    await session.commit()

    async def submit(name: str) -> tuple[int, bool]:
        async with unit_of_work(sessions) as db:
            summary = await tr.open_talent_review(
                db,
                actor=cast.megan,
                name=name,
                performance_cycle_id=world.cycle_id,
                medium_from="2.5",
                high_from="4",
                now=NOW,
            )
            return summary.id, summary.already_submitted

    first, second = await asyncio.gather(submit("2027 talent review"), submit("  2027 TALENT   review"))
    assert first[0] == second[0]
    assert sorted([first[1], second[1]]) == [False, True]
    async with unit_of_work(sessions) as db:
        assert await db.scalar(select(func.count()).select_from(TalentReview)) == 1
        entries = await db.scalar(select(func.count()).select_from(TalentReviewEntry))
    assert entries == 5, "the people are placed once, by the submit that opened it"

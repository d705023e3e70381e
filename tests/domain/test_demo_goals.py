"""The demo organization's goals: a realistic aligned tree whose stored roll-up matches the domain's."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from domain.access import load_actor
from domain.performance import goals
from storage import demo, demo_goals
from storage.models import Goal, KeyResult, KeyResultUpdate, Person

TODAY = date(2026, 11, 15)


async def test_demo_goals_align_company_to_team_to_manager_to_report_with_a_true_roll_up(session) -> None:
    await demo.seed(session, people=60, seed=7)

    written = await demo_goals.seed_goals(session, today=TODAY)
    changed = await goals.rebuild_progress(session)

    people = await session.scalar(select(func.count()).select_from(Person))
    departments = await session.scalar(select(func.count(Person.department.distinct())))
    expected = len(demo_goals.COMPANY_GOALS) + 2 * departments + 5 * people
    assert written == await session.scalar(select(func.count()).select_from(Goal)) == expected
    assert changed > 0 and await goals.rebuild_progress(session) == 0, "a second rebuild finds nothing to do"
    assert await session.scalar(select(func.count()).select_from(KeyResult)) >= written
    assert await session.scalar(select(func.count()).select_from(KeyResultUpdate)) > written
    assert set(await session.scalars(select(Goal.period_label).distinct())) == {"2026-Q4"}

    megan = await session.scalar(select(Person.id).where(Person.aad_object_id == demo.MEGAN.aad_object_id))
    hr = await load_actor(session, megan)
    company = await session.scalars(select(Goal.id).where(Goal.owner_type == "company"))
    depth = 0
    for goal_id in company:
        tree = await goals.get_goal(session, actor=hr, goal_id=goal_id, today=TODAY)
        stored = await session.scalar(select(Goal.progress).where(Goal.id == goal_id))
        assert stored == pytest.approx(tree.progress)
        depth = max(depth, _depth(tree))
    assert depth >= 4, "company → team → manager → report"


def _depth(view: goals.GoalView) -> int:
    return 1 + max((_depth(child) for child in view.children), default=0)

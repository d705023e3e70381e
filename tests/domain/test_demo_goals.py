"""The demo organization's goals: a realistic aligned tree whose stored roll-up matches the domain's."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

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

    parent_of = dict((await session.execute(select(Goal.id, Goal.parent_id))).all())
    assert max(_depth(goal_id, parent_of) for goal_id in parent_of) >= 4, "company → team → manager → report"
    owner_type = dict((await session.execute(select(Goal.id, Goal.owner_type))).all())
    roots = {owner_type[_root(goal_id, parent_of)] for goal_id in parent_of}
    assert roots <= {"company", "department", "person"} and "company" in roots


def _depth(goal_id: int, parent_of: dict[int, int | None]) -> int:
    depth = 1
    while (goal_id := parent_of[goal_id]) is not None:
        depth += 1
    return depth


def _root(goal_id: int, parent_of: dict[int, int | None]) -> int:
    while parent_of[goal_id] is not None:
        goal_id = parent_of[goal_id]
    return goal_id

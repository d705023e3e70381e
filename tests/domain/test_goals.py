"""Goal services against the demo organization, on SQLite and PostgreSQL.

Alex Wilber manages Adele Vance and Isaiah Langer (Engineering); Lynne Robbins is Alex's manager; Patti
Fernandez is in Sales; Megan Bowen is HR.
"""

from __future__ import annotations

import contextlib
import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, func, select

from domain.access import Actor
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import goals
from domain.performance.goal_progress import CUSTOM, Period, Status
from domain.performance.goals import KeyResultChanged, KeyResultInput, Owner
from storage.models import Goal, KeyResult, KeyResultUpdate, Person

NOW = datetime(2026, 11, 15, 9, 30, tzinfo=UTC)
TODAY = NOW.date()
Q4 = "2026-Q4"  # 1 Oct to 31 Dec: on 15 Nov, 45 of 92 days are behind us


async def a_goal(session, actor: Actor, **overrides) -> goals.GoalView:
    kwargs = {
        "title": "Ship the goals feature",
        "period": Q4,
        "key_results": [KeyResultInput("Stories done", target=10)],
        "now": NOW,
    }
    return await goals.create_goal(session, actor=actor, **(kwargs | overrides))


async def count(session, model) -> int:
    return await session.scalar(select(func.count()).select_from(model))


# --- creating ----------------------------------------------------------------------------------------


async def test_create_a_goal_for_oneself(session, cast) -> None:
    view = await a_goal(
        session,
        cast.adele,
        description="So that managers stop using spreadsheets",
        visibility="private",
        kind="development",
        key_results=[
            KeyResultInput("Reduce churn", metric="percent", unit="%", start=8, target=5, current=6.5),
            KeyResultInput("Beta shipped", metric="boolean", target=1, weight=2),
        ],
    )

    assert (view.title, view.owner_label, view.owner_type) == (
        "Ship the goals feature",
        "Adele Vance",
        "person",
    )
    assert view.owner_person_id == cast.adele.person_id
    assert view.period == Period("2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert (view.visibility, view.kind, view.weight, view.parent_id) == ("private", "development", 1.0, None)
    churn, beta = view.key_results
    assert (churn.metric, churn.unit, churn.start, churn.target, churn.current) == ("percent", "%", 8, 5, 6.5)
    assert (churn.progress, churn.version) == (pytest.approx(0.5), 1)
    assert (beta.current, beta.progress) == (0, 0)
    # (1·0.5 + 2·0) / 3 with 45/92 ≈ 0.49 of the quarter gone: 16 points behind time.
    assert view.progress == pytest.approx(1 / 6)
    assert view.status is Status.AT_RISK
    assert view.children == ()


WHO_MAY_CREATE = [
    # actor, owner (a persona name, "team:<department>" or "company"), allowed
    ("adele", "adele", True),
    ("adele", "isaiah", False),
    ("adele", "alex", False),
    ("alex", "adele", True),
    ("lynne", "adele", True),  # skip-level
    ("alex", "patti", False),
    ("alex", "lynne", False),
    ("megan", "patti", True),
    ("alex", "team:Engineering", True),
    ("adele", "team:Engineering", False),
    ("alex", "team:Sales", False),
    ("megan", "team:Sales", True),
    ("megan", "company", True),
    ("lynne", "company", False),
    ("adele", "company", False),
]


@pytest.mark.parametrize(("who", "owner", "allowed"), WHO_MAY_CREATE)
async def test_who_may_create_whose_goals(session, cast, who, owner, allowed) -> None:
    if owner == "company":
        target = Owner.company()
    elif owner.startswith("team:"):
        target = Owner.team(owner.removeprefix("team:"))
    else:
        target = Owner.person(getattr(cast, owner).person_id)

    if allowed:
        view = await a_goal(session, getattr(cast, who), owner=target)
        assert view.owner_type == target.type.value
        assert await count(session, Goal) == 1
    else:
        with pytest.raises(Forbidden):
            await a_goal(session, getattr(cast, who), owner=target)
        assert await count(session, Goal) == 0


BAD_GOALS = [
    ({"title": "   "}, "Give the goal a title."),
    ({"title": "x" * 201}, "Keep the goal title to 200 characters (it has 201)."),
    (
        {"period": Period(" custom", date(2026, 5, 1), date(2026, 4, 1))},
        "The period ends (2026-04-01) before",
    ),
    ({"period": "someday"}, "not a period I know"),
    ({"weight": -2}, "The weight can't be negative (got -2)."),
    ({"visibility": "secret"}, "“secret” is not a visibility: choose one of public, team, private."),
    ({"kind": "stretch"}, "not a goal type"),
    ({"key_results": [KeyResultInput("Flat", start=3, target=3)]}, "The target equals the start (3)"),
    ({"key_results": [KeyResultInput("Done?", metric="boolean", target=1, current=0.5)]}, "yes/no"),
    ({"key_results": [KeyResultInput("Done?", metric="boolean", start=0, target=3)]}, "yes/no"),
    ({"key_results": [KeyResultInput("Tickets", target="many")]}, "The target must be a number"),
    ({"key_results": [KeyResultInput("", target=1)]}, "Give the key result a title."),
    ({"key_results": [KeyResultInput("Tickets", target=5, weight=-1)]}, "weight can't be negative"),
    ({"parent_id": 10_000_000}, "Pick a goal you can see to align this one under."),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_GOALS)
async def test_bad_goals_get_a_clear_message_and_nothing_is_written(
    session, cast, overrides, message
) -> None:
    with pytest.raises(Invalid) as raised:
        await a_goal(session, cast.adele, **overrides)
    assert message in raised.value.message
    assert await count(session, Goal) == 0
    assert await count(session, KeyResult) == 0


async def test_a_goal_cannot_align_under_its_own_descendant(session, cast) -> None:
    top = await a_goal(session, cast.adele, title="Top")
    middle = await a_goal(session, cast.adele, title="Middle", parent_id=top.id)
    bottom = await a_goal(session, cast.adele, title="Bottom", parent_id=middle.id)

    for new_parent in (bottom.id, middle.id, top.id):
        with pytest.raises(Invalid) as raised:
            await goals.align_goal(session, actor=cast.adele, goal_id=top.id, parent_id=new_parent, now=NOW)
        assert "can't align under itself or under one of the goals aligned to it" in raised.value.message
    assert (await session.get(Goal, top.id)).parent_id is None

    moved = await goals.align_goal(session, actor=cast.adele, goal_id=bottom.id, parent_id=top.id, now=NOW)
    assert moved.parent_id == top.id


async def test_aligning_under_a_private_goal_needs_to_see_it(session, cast) -> None:
    private = await a_goal(session, cast.adele, visibility="private")

    with pytest.raises(Invalid, match="Pick a goal you can see"):
        await a_goal(session, cast.isaiah, parent_id=private.id)
    mine = await a_goal(session, cast.alex, parent_id=private.id)  # Adele's manager sees it

    assert mine.parent_id == private.id
    assert await count(session, Goal) == 2


async def test_anyone_may_align_their_goal_under_a_team_or_company_goal(session, cast) -> None:
    company = await a_goal(session, cast.megan, owner=Owner.company(), visibility="public", title="Grow")
    team = await a_goal(
        session, cast.alex, owner=Owner.team("Engineering"), parent_id=company.id, title="Ship"
    )
    mine = await a_goal(session, cast.isaiah, parent_id=team.id)
    sales = await a_goal(session, cast.patti, parent_id=company.id)

    assert (mine.parent_id, sales.parent_id, team.owner_label, company.owner_label) == (
        team.id,
        company.id,
        "Engineering",
        "Company",
    )
    with pytest.raises(Invalid, match="Pick a goal you can see"):
        await a_goal(session, cast.patti, parent_id=team.id)  # Engineering's team goal, Patti is in Sales


# --- updating key results ----------------------------------------------------------------------------


async def adeles_goal(session, cast, **overrides) -> tuple[goals.GoalView, goals.KeyResultView]:
    view = await a_goal(session, cast.adele, **overrides)
    return view, view.key_results[0]


@pytest.mark.parametrize("who", ["adele", "alex", "lynne", "megan"])
async def test_the_owner_their_line_and_hr_update_key_results(session, cast, who) -> None:
    _, kr = await adeles_goal(session, cast)

    view = await goals.update_key_result(
        session,
        actor=getattr(cast, who),
        key_result_id=kr.id,
        value=4,
        comment="  Four stories merged  ",
        confidence=7,
        expected_version=1,
        now=NOW,
    )

    assert (view.key_results[0].current, view.key_results[0].version) == (4, 2)
    assert view.progress == pytest.approx(0.4)
    history = (await session.scalars(select(KeyResultUpdate))).all()
    assert [(h.key_result_id, h.by_id, h.old_value, h.new_value) for h in history] == [
        (kr.id, getattr(cast, who).person_id, 0, 4)
    ]
    assert (history[0].comment, history[0].confidence, history[0].at, history[0].version) == (
        "Four stories merged",
        7,
        NOW,
        2,
    )


@pytest.mark.parametrize("who", ["isaiah", "patti"])
async def test_nobody_else_updates_someones_key_result(session, cast, who) -> None:
    _, kr = await adeles_goal(session, cast, visibility="public")

    with pytest.raises(Forbidden):
        await goals.update_key_result(
            session, actor=getattr(cast, who), key_result_id=kr.id, value=9, expected_version=1, now=NOW
        )

    assert await count(session, KeyResultUpdate) == 0
    row = await session.get(KeyResult, kr.id)
    await session.refresh(row)
    assert (row.current, row.version) == (0, 1)


async def test_a_stale_version_is_a_conflict_carrying_the_latest_value(session, cast) -> None:
    _, kr = await adeles_goal(session, cast)
    await goals.update_key_result(
        session, actor=cast.adele, key_result_id=kr.id, value=6, expected_version=1, now=NOW
    )

    with pytest.raises(KeyResultChanged) as raised:  # Alex's card still shows version 1
        await goals.update_key_result(
            session, actor=cast.alex, key_result_id=kr.id, value=3, expected_version=1, now=NOW
        )

    assert isinstance(raised.value, Conflict)
    assert "was updated meanwhile (it is now 6)" in raised.value.message
    latest = raised.value.latest.key_results[0]
    assert (latest.current, latest.version, latest.progress) == (6, 2, pytest.approx(0.6))
    assert await count(session, KeyResultUpdate) == 1
    assert (await session.get(KeyResult, kr.id)).current == 6


async def test_a_double_click_records_one_update(session, cast) -> None:
    _, kr = await adeles_goal(session, cast)

    async def click(value, who=cast.adele):
        return await goals.update_key_result(
            session, actor=who, key_result_id=kr.id, value=value, expected_version=1, now=NOW
        )

    first = await click(5)
    second = await click(5)

    assert first == second
    assert second.key_results[0].version == 2
    assert await count(session, KeyResultUpdate) == 1
    # Not a repeat: another value on the same old version, or the same value from someone else.
    with pytest.raises(KeyResultChanged):
        await click(7)
    with pytest.raises(KeyResultChanged):
        await click(5, who=cast.alex)
    assert await count(session, KeyResultUpdate) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": "lots"}, "The value must be a number (got “lots”)."),
        ({"value": 3, "confidence": 11}, "Confidence is a whole number from 1 to 10, not 11."),
        ({"value": 3, "confidence": 0}, "Confidence is a whole number from 1 to 10"),
        ({"value": 3, "comment": "x" * 2001}, "The comment is too long"),
    ],
)
async def test_bad_updates_are_refused_and_nothing_is_written(session, cast, kwargs, message) -> None:
    _, kr = await adeles_goal(session, cast)
    with pytest.raises(Invalid) as raised:
        await goals.update_key_result(
            session, actor=cast.adele, key_result_id=kr.id, expected_version=1, now=NOW, **kwargs
        )
    assert message in raised.value.message
    assert await count(session, KeyResultUpdate) == 0


async def test_a_yes_no_key_result_only_takes_0_or_1(session, cast) -> None:
    view = await a_goal(
        session, cast.adele, key_results=[KeyResultInput("Launched", metric="boolean", target=1)]
    )
    kr = view.key_results[0]
    with pytest.raises(Invalid, match="yes/no"):
        await goals.update_key_result(
            session, actor=cast.adele, key_result_id=kr.id, value=0.5, expected_version=1, now=NOW
        )
    done = await goals.update_key_result(
        session, actor=cast.adele, key_result_id=kr.id, value=1, expected_version=1, now=NOW
    )
    assert (done.progress, done.status) == (1.0, Status.ON_TRACK)


async def test_an_unknown_key_result_is_not_found(session, cast) -> None:
    with pytest.raises(NotFound):
        await goals.update_key_result(
            session, actor=cast.megan, key_result_id=10_000_000, value=1, expected_version=1, now=NOW
        )


# --- roll-up through the store -----------------------------------------------------------------------


async def test_three_level_roll_up_and_a_deep_update_changes_every_ancestor(session, cast) -> None:
    """Same tree and hand-computed numbers as test_goal_progress: company ← Engineering (weight 3) and
    Sales (weight 1) team goals; Adele's goal (weight 2) ← Engineering's."""
    company = await a_goal(
        session, cast.megan, owner=Owner.company(), visibility="public", title="Grow", key_results=[]
    )
    engineering = await a_goal(
        session,
        cast.alex,
        owner=Owner.team("Engineering"),
        parent_id=company.id,
        weight=3,
        key_results=[KeyResultInput("Releases", target=10, current=5)],  # 0.5
    )
    sales = await a_goal(
        session,
        cast.megan,
        owner=Owner.team("Sales"),
        parent_id=company.id,
        weight=1,
        key_results=[KeyResultInput("Deals", target=10, current=1)],  # 0.1
    )
    adele = await a_goal(
        session,
        cast.adele,
        parent_id=engineering.id,
        weight=2,
        key_results=[
            KeyResultInput("Bugs fixed", target=10, current=2),  # 0.2
            KeyResultInput("Milestones", metric="milestone", target=4, current=4, weight=3),  # 1.0
        ],
    )

    tree = await goals.get_goal(session, actor=cast.megan, goal_id=company.id, today=TODAY)
    eng_view, sales_view = tree.children
    assert (eng_view.id, sales_view.id, eng_view.children[0].id) == (engineering.id, sales.id, adele.id)
    assert tree.progress == pytest.approx(0.55)
    assert eng_view.progress == pytest.approx(0.7)
    assert eng_view.children[0].progress == pytest.approx(0.8)
    assert sales_view.progress == pytest.approx(0.1)

    milestones = adele.key_results[1]
    await goals.update_key_result(
        session, actor=cast.adele, key_result_id=milestones.id, value=0, expected_version=1, now=NOW
    )
    await goals.update_key_result(
        session, actor=cast.adele, key_result_id=milestones.id, value=1, expected_version=2, now=NOW
    )  # 0.25 → Adele (0.2 + 0.75) / 4 = 0.2375

    tree = await goals.get_goal(session, actor=cast.megan, goal_id=company.id, today=TODAY)
    eng_view, sales_view = tree.children
    assert eng_view.children[0].progress == pytest.approx(0.2375)
    assert eng_view.progress == pytest.approx((0.5 + 2 * 0.2375) / 3)  # 0.325
    assert tree.progress == pytest.approx((3 * 0.325 + 0.1) / 4)  # 0.26875
    assert sales_view.progress == pytest.approx(0.1)
    # Adele sees the roll-up of her own goal from my_goals, and the company goal's children she may see.
    (mine,) = await goals.my_goals(session, actor=cast.adele, today=TODAY)
    assert mine.progress == pytest.approx(0.2375)
    seen_by_adele = await goals.get_goal(session, actor=cast.adele, goal_id=company.id, today=TODAY)
    assert [c.id for c in seen_by_adele.children] == [engineering.id], "Sales' team goal is Sales' own"
    assert seen_by_adele.progress == pytest.approx(0.26875), "progress counts every aligned goal"
    # The stored roll-up (what the Alignment tab reads) moved on every ancestor too.
    assert await stored_progress(session, [adele.id, engineering.id, company.id, sales.id]) == pytest.approx(
        [0.2375, 0.325, 0.26875, 0.1]
    )


async def stored_progress(session, goal_ids: list[int]) -> list[float]:
    rows = dict((await session.execute(select(Goal.id, Goal.progress).where(Goal.id.in_(goal_ids)))).all())
    return [rows[goal_id] for goal_id in goal_ids]


async def test_stored_progress_matches_the_computed_roll_up_after_any_sequence_of_changes(
    session, cast
) -> None:
    """Random creates, aligns, updates and closes over a forest: after each, every goal's stored
    progress equals the roll-up computed from scratch over its whole tree."""
    rng = random.Random(20261126)
    created: list[goals.GoalView] = []
    closed: set[int] = set()
    for step in range(60):
        action = (
            rng.choice(["create", "create", "align", "update", "update", "close"]) if created else "create"
        )
        if action == "create":
            parent = rng.choice([None, *[g.id for g in created if g.id not in closed]])
            view = await a_goal(
                session,
                cast.megan,
                owner=Owner.company(),
                visibility="public",
                title=f"Goal {step}",
                parent_id=parent,
                weight=rng.choice([0, 1, 2, 5]),
                key_results=[
                    KeyResultInput(
                        f"KR {step}.{i}", start=0, target=rng.choice([4, 10, -3]), weight=rng.random()
                    )
                    for i in range(rng.randint(0, 2))
                ],
            )
            created.append(view)
        elif action == "align":
            goal, parent = rng.choice(created), rng.choice([None, *[g.id for g in created]])
            with contextlib.suppress(Invalid):  # under itself or a descendant, or a closed parent
                await goals.align_goal(session, actor=cast.megan, goal_id=goal.id, parent_id=parent, now=NOW)
        elif action == "update":
            goal = await goals.get_goal(
                session, actor=cast.megan, goal_id=rng.choice(created).id, today=TODAY
            )
            if goal.key_results and goal.closed_at is None:
                kr = rng.choice(goal.key_results)
                await goals.update_key_result(
                    session,
                    actor=cast.megan,
                    key_result_id=kr.id,
                    value=rng.uniform(-5, 12),
                    expected_version=kr.version,
                    now=NOW,
                )
        else:
            goal = rng.choice(created)
            with contextlib.suppress(Conflict):  # already closed
                await goals.close_goal(
                    session, actor=cast.megan, goal_id=goal.id, final_score=rng.random(), now=NOW
                )
            closed.add(goal.id)
        # rebuild_progress recomputes every goal from scratch (goal_progress.rollup over whole trees)
        # and writes only what differs: after a correct incremental update there is nothing to write.
        assert await goals.rebuild_progress(session) == 0, f"after step {step}: {action}"


async def test_reading_a_tree_takes_the_same_few_queries_however_big(session, cast, engine) -> None:
    company = await a_goal(session, cast.megan, owner=Owner.company(), visibility="public", key_results=[])
    parents = [company.id]
    for _ in range(3):  # 3 levels of 4 children under every goal: 84 goals
        level = []
        for parent in parents:
            for _ in range(4):
                child = await a_goal(session, cast.megan, owner=Owner.company(), parent_id=parent)
                level.append(child.id)
        parents = level[:21]

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        tree = await goals.get_goal(session, actor=cast.megan, goal_id=company.id, today=TODAY)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)

    assert len(tree.children) == 4 and len(tree.children[0].children) == 4
    assert len(statements) <= 6, statements


# --- visibility --------------------------------------------------------------------------------------


async def test_a_private_goal_is_seen_by_the_owner_their_line_and_hr_only(session, cast) -> None:
    private = await a_goal(session, cast.adele, visibility="private")
    adele = cast.adele.person_id

    for who in ("adele", "alex", "lynne", "megan"):
        seen = await goals.goals_of(session, actor=getattr(cast, who), person_id=adele, today=TODAY)
        assert [g.id for g in seen] == [private.id], who
    for who in ("isaiah", "patti"):
        assert await goals.goals_of(session, actor=getattr(cast, who), person_id=adele, today=TODAY) == []
        with pytest.raises(NotFound):
            await goals.get_goal(session, actor=getattr(cast, who), goal_id=private.id, today=TODAY)
    assert [g.id for g in await goals.my_goals(session, actor=cast.adele, today=TODAY)] == [private.id]


async def test_team_goals_are_seen_by_the_department_and_public_ones_by_everyone(session, cast) -> None:
    team = await a_goal(session, cast.adele, visibility="team", title="Team")
    public = await a_goal(session, cast.adele, visibility="public", title="Public")
    adele = cast.adele.person_id

    isaiah_sees = await goals.goals_of(session, actor=cast.isaiah, person_id=adele, today=TODAY)
    patti_sees = await goals.goals_of(session, actor=cast.patti, person_id=adele, today=TODAY)

    assert [g.id for g in isaiah_sees] == [team.id, public.id]
    assert [g.id for g in patti_sees] == [public.id]


async def test_a_manager_sees_their_reports_goals_as_trees(session, cast) -> None:
    top = await a_goal(session, cast.isaiah, visibility="private", title="Top")
    child = await a_goal(session, cast.isaiah, visibility="private", title="Child", parent_id=top.id)
    other = await a_goal(session, cast.isaiah, visibility="private", title="Other")

    seen = await goals.goals_of(session, actor=cast.alex, person_id=cast.isaiah.person_id, today=TODAY)

    assert [g.id for g in seen] == [top.id, other.id]
    assert [c.id for c in seen[0].children] == [child.id]


async def test_goals_of_someone_unknown_is_not_found(session, cast) -> None:
    with pytest.raises(NotFound):
        await goals.goals_of(session, actor=cast.megan, person_id=10_000_000, today=TODAY)


# --- expiry and closing ------------------------------------------------------------------------------


async def test_a_goal_past_its_period_is_expired_until_closed(session, cast) -> None:
    view = await a_goal(session, cast.adele, period="2026-Q3")
    assert view.status is Status.EXPIRED
    upcoming = await a_goal(session, cast.adele, period="2027-Q1")
    assert upcoming.status is Status.NOT_STARTED

    with pytest.raises(Forbidden):
        await goals.close_goal(session, actor=cast.isaiah, goal_id=view.id, final_score=0.5, now=NOW)
    with pytest.raises(Invalid, match="between 0 and 1"):
        await goals.close_goal(session, actor=cast.alex, goal_id=view.id, final_score=1.5, now=NOW)
    closed = await goals.close_goal(session, actor=cast.alex, goal_id=view.id, final_score=0.75, now=NOW)

    assert (closed.status, closed.final_score, closed.closed_at, closed.progress) == (
        Status.CLOSED,
        0.75,
        NOW,
        0.75,
    )
    with pytest.raises(Conflict, match="already closed"):
        await goals.close_goal(session, actor=cast.alex, goal_id=view.id, final_score=0.5, now=NOW)
    with pytest.raises(Invalid, match="closed"):
        await goals.update_key_result(
            session,
            actor=cast.adele,
            key_result_id=view.key_results[0].id,
            value=3,
            expected_version=1,
            now=NOW,
        )
    assert await count(session, KeyResultUpdate) == 0


# --- templates ---------------------------------------------------------------------------------------

ONBOARDING = [
    KeyResultInput("Courses finished", metric="milestone", target=3),
    KeyResultInput("Mentor sessions", target=6, weight=2),
]


async def engineering_people(session) -> set[int]:
    return set(
        await session.scalars(
            select(Person.id).where(Person.department == "Engineering", Person.active.is_(True))
        )
    )


async def test_assigning_a_template_to_a_department_creates_one_goal_each_once(session, cast) -> None:
    template = await goals.create_template(
        session, actor=cast.megan, title="Onboarding", kind="development", key_results=ONBOARDING, now=NOW
    )
    people = await engineering_people(session)
    assert len(people) > 5

    first = await goals.assign_template(
        session, actor=cast.megan, template_id=template.id, department="Engineering", period=Q4, now=NOW
    )
    again = await goals.assign_template(
        session,
        actor=cast.megan,
        template_id=template.id,
        department="Engineering",
        person_ids=[cast.adele.person_id],
        period=Q4,
        now=NOW,
    )

    assert set(first.created) == people and not first.skipped and not first.already_assigned
    assert again.created == {} and again.already_assigned == first.created
    owners = (
        await session.scalars(select(Goal.owner_person_id).where(Goal.template_id == template.id))
    ).all()
    assert sorted(owners) == sorted(people), "exactly one goal each"
    assert await count(session, KeyResult) == 2 * len(people)
    (adeles,) = await goals.my_goals(session, actor=cast.adele, today=TODAY)
    assert (adeles.title, adeles.kind, adeles.period.label) == ("Onboarding", "development", "2026-Q4")
    assert [(k.title, k.metric, k.target, k.weight) for k in adeles.key_results] == [
        ("Courses finished", "milestone", 3, 1),
        ("Mentor sessions", "number", 6, 2),
    ]
    # Another period is another assignment.
    next_quarter = await goals.assign_template(
        session,
        actor=cast.megan,
        template_id=template.id,
        person_ids=[cast.adele.person_id],
        period="2027-Q1",
        now=NOW,
    )
    assert list(next_quarter.created) == [cast.adele.person_id]


async def test_a_manager_assigns_only_to_their_line_and_the_rest_is_reported(session, cast) -> None:
    template = await goals.create_template(
        session, actor=cast.alex, title="Code reviews", key_results=ONBOARDING, now=NOW
    )

    report = await goals.assign_template(
        session,
        actor=cast.alex,
        template_id=template.id,
        person_ids=[cast.adele.person_id, cast.isaiah.person_id, cast.patti.person_id, 10_000_000],
        period=Q4,
        now=NOW,
    )

    assert set(report.created) == {cast.adele.person_id, cast.isaiah.person_id}
    assert report.skipped == {
        cast.patti.person_id: "you can't set goals for this person",
        10_000_000: "not an active person in the directory",
    }
    assert await count(session, Goal) == 2


async def test_only_hr_and_managers_define_and_assign_templates(session, cast) -> None:
    with pytest.raises(Forbidden):
        await goals.create_template(session, actor=cast.adele, title="Mine", now=NOW)
    template = await goals.create_template(session, actor=cast.megan, title="Theirs", now=NOW)
    with pytest.raises(Forbidden):
        await goals.assign_template(
            session,
            actor=cast.adele,
            template_id=template.id,
            person_ids=[cast.adele.person_id],
            period=Q4,
            now=NOW,
        )
    with pytest.raises(Invalid, match="target equals the start"):
        await goals.create_template(
            session, actor=cast.megan, title="Bad", key_results=[KeyResultInput("Flat", target=0)], now=NOW
        )
    assert await count(session, Goal) == 0


# --- creating from a card, and what a new goal can align under ------------------------------------------


async def test_the_same_request_creates_one_goal(session, cast) -> None:
    first = await a_goal(session, cast.adele, request_id="card-7f3a")
    again = await a_goal(session, cast.adele, request_id="card-7f3a", title="Typed differently")

    assert again.id == first.id and again.title == first.title
    assert await count(session, Goal) == 1
    other = await a_goal(session, cast.adele, request_id="card-8e21")
    assert other.id != first.id


async def test_a_new_goal_aligns_under_company_team_own_and_manager_line_goals_only(session, cast) -> None:
    company = await a_goal(session, cast.megan, owner=Owner.company(), visibility="public", title="Grow")
    engineering = await a_goal(session, cast.alex, owner=Owner.team("Engineering"), title="Ship faster")
    sales = await a_goal(session, cast.megan, owner=Owner.team("Sales"), title="Sell more")
    alex_goal = await a_goal(session, cast.alex, title="Coach the team", visibility="team")
    alex_private = await a_goal(session, cast.alex, title="Alex's own secret", visibility="private")
    adele_goal = await a_goal(session, cast.adele, title="Learn Rust")
    isaiah_goal = await a_goal(session, cast.isaiah, title="Isaiah's goal", visibility="public")
    closed = await a_goal(session, cast.megan, owner=Owner.company(), visibility="public", title="Old")
    await goals.close_goal(session, actor=cast.megan, goal_id=closed.id, final_score=1, now=NOW)
    last_year = await a_goal(
        session, cast.megan, owner=Owner.company(), visibility="public", title="2025", period="2025"
    )

    choices = await goals.alignable_goals(session, actor=cast.adele, today=TODAY)

    ids = [g.id for g in choices]
    assert ids[0] == company.id, "company goals come first"
    assert set(ids) == {company.id, engineering.id, alex_goal.id, adele_goal.id}
    assert alex_private.id not in ids, "a manager's private goal is not Adele's to see"
    assert not {sales.id, isaiah_goal.id, closed.id, last_year.id} & set(ids)
    assert all(g.children == () and g.key_results == () for g in choices)


# --- editing -----------------------------------------------------------------------------------------


async def test_the_owner_and_their_manager_edit_a_goal_and_a_new_weight_moves_the_parent(
    session, cast
) -> None:
    team = await a_goal(
        session, cast.alex, owner=Owner.team("Engineering"), key_results=[KeyResultInput("KR", target=10)]
    )
    done = await a_goal(
        session,
        cast.adele,
        parent_id=team.id,
        key_results=[KeyResultInput("Done", target=10, current=10)],
    )  # team: (0 + 1·1) / 2 = 0.5

    edited = await goals.edit_goal(
        session, actor=cast.adele, goal_id=done.id, title="  Ship it  ", period="2026-H2", now=NOW
    )
    assert (edited.title, edited.period.label, edited.description) == ("Ship it", "2026-H2", None)
    await goals.edit_goal(session, actor=cast.alex, goal_id=done.id, weight=3, visibility="private", now=NOW)

    view = await goals.get_goal(session, actor=cast.alex, goal_id=team.id, today=TODAY)
    assert view.progress == pytest.approx(0.75), "(0 + 3·1) / 4"
    assert await stored_progress(session, [team.id]) == pytest.approx([0.75])
    mine = await goals.get_goal(session, actor=cast.adele, goal_id=done.id, today=TODAY)
    assert (mine.visibility, mine.weight, mine.title) == ("private", 3, "Ship it")


@pytest.mark.parametrize("who", ["isaiah", "patti"])
async def test_nobody_else_edits_a_goal(session, cast, who) -> None:
    goal = await a_goal(session, cast.adele)
    assert not await goals.may_edit(session, actor=getattr(cast, who), goal_id=goal.id)
    assert await goals.may_edit(session, actor=cast.alex, goal_id=goal.id), "her manager may"
    with pytest.raises(Forbidden):
        await goals.edit_goal(session, actor=getattr(cast, who), goal_id=goal.id, title="Mine now", now=NOW)
    assert (await goals.get_goal(session, actor=cast.adele, goal_id=goal.id, today=TODAY)).title == goal.title


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "  "}, "title"),
        ({"weight": -1}, "negative"),
        ({"period": Period(CUSTOM, date(2026, 12, 1), date(2026, 11, 1))}, "before it starts"),
        ({"visibility": "secret"}, "visibility"),
    ],
)
async def test_bad_edits_are_refused_and_nothing_changes(session, cast, change, message) -> None:
    goal = await a_goal(session, cast.adele)
    with pytest.raises(Invalid, match=message):
        await goals.edit_goal(session, actor=cast.adele, goal_id=goal.id, now=NOW, **change)
    session.expire_all()
    row = await session.get(Goal, goal.id)
    assert (row.title, row.weight, row.period_label, row.visibility) == (goal.title, 1.0, Q4, goal.visibility)


async def test_my_goals_nest_my_own_goals_in_full_and_others_one_level_down(session, cast) -> None:
    """A leader's goal can have the whole organization beneath it: the view lists their own goals
    however deep, and other people's aligned goals only directly under each of theirs."""
    top = await a_goal(session, cast.alex, title="Top", visibility="public")
    middle = await a_goal(session, cast.alex, title="Middle", parent_id=top.id, visibility="public")
    bottom = await a_goal(session, cast.alex, title="Bottom", parent_id=middle.id, visibility="public")
    adele = await a_goal(session, cast.adele, title="Adele's", parent_id=top.id, visibility="public")
    await a_goal(session, cast.isaiah, title="Under Adele's", parent_id=adele.id, visibility="public")

    (tree,) = await goals.my_goals(session, actor=cast.alex, today=TODAY)

    assert tree.id == top.id
    assert [c.title for c in tree.children] == ["Middle", "Adele's"]
    assert [c.title for c in tree.children[0].children] == ["Bottom"]
    assert tree.children[0].children[0].id == bottom.id
    assert tree.children[1].children == (), "someone else's goal is listed without what aligns under it"


async def test_a_goal_lists_a_bounded_number_of_aligned_goals(session, cast) -> None:
    company = await a_goal(session, cast.megan, owner=Owner.company(), visibility="public", key_results=[])
    for n in range(goals.CHILDREN_READ + 20):
        await goals.create_goal(
            session,
            actor=cast.megan,
            owner=Owner.team(f"Team {n:03d}"),
            title=f"Team goal {n}",
            period=Q4,
            visibility="public",
            parent_id=company.id,
            now=NOW,
        )

    view = await goals.get_goal(session, actor=cast.megan, goal_id=company.id, today=TODAY)

    assert len(view.children) == goals.CHILDREN_READ
    assert [c.title for c in view.children[:2]] == ["Team goal 0", "Team goal 1"]

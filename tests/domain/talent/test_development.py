"""Development plans against the demo organization, on SQLite and PostgreSQL: who sees and writes a plan,
every bad input refused with nothing written, close this gap, marking progress (compare-and-set, double
clicks, done and cancelled), an action becoming a development goal (once), and the reminder planning.

Alex Wilber manages Adele Vance and Isaiah Langer; Lynne Robbins is Alex's manager (so in Adele's line);
Patti Fernandez is in Sales, in no one's line here; Megan Bowen is HR. Adele is a Senior Software
Engineer in Los Angeles: the role profile below expects Communication at level 4 of her, and her
latest assessment says 2.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from domain.access import Actor
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.nudges import one_per_day_key
from domain.performance import goals
from domain.performance.goal_progress import Status, goal_status
from domain.performance.goal_views import KeyResultInput
from domain.performance.review_nudges import Delivery, Reach, Recipient
from domain.talent import development
from domain.talent.development import ActionChanged
from domain.talent.development_views import ActionKind, ActionSource, ActionStatus, DueAction
from storage.models import (
    Competency,
    CompetencyAssessment,
    ConversationRef,
    DevelopmentAction,
    DevelopmentPlan,
    Goal,
    KeyResult,
    KeyResultUpdate,
    Person,
    RoleProfile,
    RoleRequirement,
)

# Monday 2 March 2026, 10:00 in Los Angeles (UTC-8): Adele's working hours.
NOW = datetime(2026, 3, 2, 18, tzinfo=UTC)
TODAY = NOW.date()
LEVELS = ["Aware", "Practising", "Skilled", "Leads others", "Sets direction"]
UTC_ZONE = ZoneInfo("UTC")


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


class Framework:
    """Communication (expected at 4 of Adele's role, assessed 2), Delivery (expected 3, assessed 3),
    Design (not in her role), Legacy (retired)."""

    communication: int
    delivery: int
    design: int
    legacy: int


@pytest.fixture
async def framework(session, cast) -> Framework:
    def competency(name: str, *, active: bool = True) -> Competency:
        row = Competency(
            name=name, name_key=name.casefold(), category="functional", levels=list(LEVELS), active=active
        )
        session.add(row)
        return row

    rows = [competency(n) for n in ("Communication", "Delivery", "Design")]
    legacy = competency("Legacy", active=False)
    profile = RoleProfile(
        name="Senior engineer", name_key="senior engineer", job_title_key="senior software engineer"
    )
    session.add(profile)
    await session.flush()
    communication, delivery, design = rows
    session.add_all(
        [
            RoleRequirement(role_profile_id=profile.id, competency_id=communication.id, expected_level=4),
            RoleRequirement(role_profile_id=profile.id, competency_id=delivery.id, expected_level=3),
            CompetencyAssessment(
                person_id=cast.adele.person_id,
                competency_id=communication.id,
                level=3,
                source="manager",
                assessed_on=date(2025, 6, 1),
            ),
            CompetencyAssessment(
                person_id=cast.adele.person_id,
                competency_id=communication.id,
                level=2,
                source="manager",
                assessed_on=date(2026, 1, 15),
            ),
            CompetencyAssessment(
                person_id=cast.adele.person_id,
                competency_id=delivery.id,
                level=3,
                source="manager",
                assessed_on=date(2026, 1, 15),
            ),
        ]
    )
    await session.flush()
    found = Framework()
    found.communication, found.delivery, found.design, found.legacy = (
        communication.id,
        delivery.id,
        design.id,
        legacy.id,
    )
    return found


async def rows(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def written(session) -> tuple[int, int]:
    return await rows(session, DevelopmentPlan), await rows(session, DevelopmentAction)


async def add(session, actor: Actor, person: Actor, **more) -> development.ActionView:
    fields = {"kind": "course", "title": "Presenting with confidence", "due_on": days(30)} | more
    return await development.add_action(session, actor=actor, person_id=person.person_id, now=NOW, **fields)


# --- seeing a plan ------------------------------------------------------------------------------------------


async def test_a_plan_is_empty_until_its_first_action_and_seen_by_the_person_her_line_and_hr(
    session, cast
) -> None:
    for viewer in (cast.adele, cast.alex, cast.lynne, cast.megan):
        view = await development.get_plan(session, actor=viewer, person_id=cast.adele.person_id, today=TODAY)
        assert view.empty and view.plan_id is None and view.person_name == "Adele Vance"
        assert view.can_edit and view.is_self == (viewer is cast.adele)
        assert view.progress is None
    for stranger in (cast.patti, cast.isaiah):
        with pytest.raises(Forbidden, match="Adele Vance's development plan"):
            await development.get_plan(session, actor=stranger, person_id=cast.adele.person_id, today=TODAY)
    with pytest.raises(NotFound):
        await development.get_plan(session, actor=cast.adele, person_id=987654, today=TODAY)
    assert await written(session) == (0, 0), "reading writes nothing"


async def test_adele_adds_an_action_linked_to_a_gap_and_a_goal(session, cast, framework) -> None:
    goal = await goals.create_goal(
        session,
        actor=cast.adele,
        title="Ship search",
        period="2026-Q1",
        key_results=[KeyResultInput("Done", target=100, current=60)],
        now=NOW,
    )
    action = await add(
        session,
        cast.adele,
        cast.adele,
        kind="mentoring",
        title="  Pair with a staff engineer on design reviews  ",
        description="Weekly, for a quarter",
        competency_id=framework.communication,
        target_level=4,
        goal_id=goal.id,
        due_on=days(60),
    )
    assert (action.kind, action.status, action.progress, action.source) == (
        ActionKind.MENTORING,
        ActionStatus.PLANNED,
        0,
        ActionSource.MANUAL,
    )
    assert action.title == "Pair with a staff engineer on design reviews"
    assert not action.overdue and action.due_on == days(60)
    link = action.competency
    assert link is not None and link.name == "Communication"
    assert (link.assessed_level, link.assessed_on, link.target_level, link.expected_level) == (
        2,
        date(2026, 1, 15),
        4,
        4,
    ), "the latest assessment counts, not the first"
    assert link.gap == 2 and link.level_name(4) == "4 (Leads others)"
    assert action.goal is not None
    assert (action.goal.title, action.goal.progress, action.goal.status) == (
        "Ship search",
        pytest.approx(0.6),
        goal_status(0.6, goal.period, today=TODAY),
    )
    assert not action.goal.made_from_action

    plan = await development.get_plan(session, actor=cast.alex, person_id=cast.adele.person_id, today=TODAY)
    assert plan.plan_id is not None and plan.source == "self"
    assert [a.id for a in plan.actions] == [action.id]
    assert (plan.counts.total, plan.counts.open, plan.counts.overdue) == (1, 1, 0)
    stored = await session.get(DevelopmentPlan, plan.plan_id)
    assert stored.created_by_id == cast.adele.person_id


async def test_her_line_and_hr_add_to_her_plan_and_nobody_else_does(session, cast) -> None:
    await add(session, cast.alex, cast.adele, title="From Alex")
    await add(session, cast.lynne, cast.adele, title="From Lynne")
    await add(session, cast.megan, cast.adele, title="From Megan")
    assert await written(session) == (1, 3), "one plan, created by the first action"
    for stranger in (cast.patti, cast.isaiah):
        with pytest.raises(Forbidden, match="Adele Vance, their manager line and HR"):
            await add(session, stranger, cast.adele, title="From a stranger")
    assert await written(session) == (1, 3)


BAD_INPUT = [
    ({"kind": "webinar"}, "Choose what kind of action this is", "kind"),
    ({"title": "   "}, "Give the action a title", "title"),
    ({"title": "x" * 201}, "The title is too long: at most 200 characters", "title"),
    ({"description": "x" * 4001}, "The description is too long", "description"),
    ({"due_on": None}, "Choose the day the action is due", "due_on"),
    ({"due_on": TODAY - timedelta(days=1)}, "The due date (1 March 2026) is in the past", "due_on"),
    ({"due_on": TODAY + timedelta(days=5 * 366 + 1)}, "more than five years away", "due_on"),
    ({"source": "gossip"}, "comes from a person, a released review or a talent review", "source"),
    ({"target_level": 3}, "A target level needs a competency", "competency_id"),
    ({"competency_id": 987654}, "That competency is not in the framework", "competency_id"),
    ({"competency": "legacy"}, "“Legacy” was retired from the framework", "competency_id"),
    ({"competency": "communication", "target_level": 6}, "“Communication” has levels 1 to 5", "target_level"),
    ({"competency": "communication", "target_level": 0}, "“Communication” has levels 1 to 5", "target_level"),
    (
        {"competency": "communication", "target_level": "three"},
        "The target level must be a whole number",
        "target_level",
    ),
    ({"goal": "alex's"}, "That goal isn't one of Adele Vance's goals", "goal_id"),
    ({"goal_id": 987654}, "That goal isn't one of Adele Vance's goals", "goal_id"),
    ({"goal": "closed"}, "The goal “Old goal” is closed", "goal_id"),
    ({"request_id": "x" * 65}, "The form sent a bad request id", None),
]


@pytest.mark.parametrize(("fields", "message", "field"), BAD_INPUT, ids=[m for _, m, _ in BAD_INPUT])
async def test_bad_input_is_refused_with_a_sentence_and_nothing_written(
    session, cast, framework, fields, message, field
) -> None:
    fields = dict(fields)
    if (name := fields.pop("competency", None)) is not None:
        fields["competency_id"] = getattr(framework, name)
    if (which := fields.pop("goal", None)) is not None:
        owner = cast.alex if which == "alex's" else cast.adele
        goal = await goals.create_goal(session, actor=owner, title="Old goal", period="2026-Q1", now=NOW)
        if which == "closed":
            await goals.close_goal(session, actor=cast.adele, goal_id=goal.id, final_score=1, now=NOW)
        fields["goal_id"] = goal.id
    with pytest.raises(Invalid, match=re.escape(message)) as refused:
        await add(session, cast.adele, cast.adele, **fields)
    assert getattr(refused.value, "field", None) == field, "a form shows it next to this field"
    assert await written(session) == (0, 0)


async def test_a_tampered_person_id_is_not_found_and_nothing_is_written(session, cast) -> None:
    with pytest.raises(NotFound):
        await development.add_action(
            session, actor=cast.megan, person_id=987654, kind="course", title="x", due_on=days(3), now=NOW
        )
    await session.execute(update(Person).where(Person.id == cast.isaiah.person_id).values(active=False))
    with pytest.raises(NotFound):
        await add(session, cast.alex, cast.isaiah)
    assert await written(session) == (0, 0)


async def test_a_repeated_request_returns_the_first_action(session, cast) -> None:
    first = await add(session, cast.adele, cast.adele, request_id="form-1")
    again = await add(session, cast.adele, cast.adele, request_id="form-1", title="Typed differently")
    assert again.id == first.id and again.already_saved and again.title == first.title
    assert await written(session) == (1, 1)
    for other, person in ((cast.alex, cast.adele), (cast.adele, cast.isaiah)):
        with pytest.raises(Conflict, match="That form was already used"):
            await add(session, other, person, request_id="form-1")
    assert await written(session) == (1, 1)


# --- close this gap -----------------------------------------------------------------------------------------


async def test_close_this_gap_aims_at_the_level_her_role_expects(session, cast, framework) -> None:
    action = await development.close_gap(
        session,
        actor=cast.alex,
        person_id=cast.adele.person_id,
        competency_id=framework.communication,
        due_on=days(90),
        source="review",
        now=NOW,
    )
    assert action.title == "Reach level 4 in Communication"
    assert (action.source, action.kind, action.competency.target_level, action.competency.gap) == (
        ActionSource.REVIEW,
        ActionKind.TRAINING,
        4,
        2,
    )
    plan = await development.get_plan(session, actor=cast.adele, person_id=cast.adele.person_id, today=TODAY)
    assert plan.source == "review", "a released review started this plan"

    with pytest.raises(Conflict, match="An open action already works on “Communication”"):
        await development.close_gap(
            session,
            actor=cast.megan,
            person_id=cast.adele.person_id,
            competency_id=framework.communication,
            due_on=days(90),
            source="talent_review",
            now=NOW,
        )
    assert await written(session) == (1, 1)


@pytest.mark.parametrize(
    ("competency", "source", "message"),
    [
        ("delivery", "review", "is at level 3 on “Delivery”, and their role expects 3: there is no gap"),
        ("design", "review", "current role doesn't expect “Design”"),
        ("communication", "hearsay", "A development action comes from a person, a released review or a"),
        ("legacy", "review", "“Legacy” was retired"),
    ],
)
async def test_close_this_gap_is_refused_without_a_gap(session, cast, framework, competency, source, message):
    with pytest.raises(Invalid, match=message):
        await development.close_gap(
            session,
            actor=cast.alex,
            person_id=cast.adele.person_id,
            competency_id=getattr(framework, competency),
            due_on=days(90),
            source=source,
            now=NOW,
        )
    assert await written(session) == (0, 0)


async def test_close_this_gap_from_a_page_derives_its_source_from_the_latest_assessment(
    session, cast, framework
) -> None:
    # Communication's latest level (2) was recorded by her line: the action is hers "by hand".
    action = await development.close_gap(
        session,
        actor=cast.adele,
        person_id=cast.adele.person_id,
        competency_id=framework.communication,
        due_on=days(60),
        kind="mentoring",
        title="Pair with a staff engineer on design reviews",
        now=NOW,
    )
    assert (action.source, action.kind, action.title, action.competency.target_level) == (
        ActionSource.MANUAL,
        ActionKind.MENTORING,
        "Pair with a staff engineer on design reviews",
        4,
    )
    plan = await development.get_plan(session, actor=cast.adele, person_id=cast.adele.person_id, today=TODAY)
    assert plan.source == "self"

    # Delivery's latest level now comes from a released review (2 < 3 expected), newer than the manager's 3.
    session.add(
        CompetencyAssessment(
            person_id=cast.adele.person_id,
            competency_id=framework.delivery,
            level=2,
            source="review",
            assessed_on=date(2026, 2, 20),
        )
    )
    await session.flush()
    action = await development.close_gap(
        session,
        actor=cast.alex,
        person_id=cast.adele.person_id,
        competency_id=framework.delivery,
        due_on=days(60),
        now=NOW,
    )
    assert (action.source, action.title) == (ActionSource.REVIEW, "Reach level 3 in Delivery")
    assert await written(session) == (1, 2)


async def test_close_this_gap_takes_manual_as_a_source_and_refuses_a_past_due_date(
    session, cast, framework
) -> None:
    past = r"The due date \(1 March 2026\) is in the past"
    with pytest.raises(development.InvalidInput, match=past) as bad:
        await development.close_gap(
            session,
            actor=cast.megan,
            person_id=cast.adele.person_id,
            competency_id=framework.communication,
            due_on=days(-1),
            source="manual",
            now=NOW,
        )
    assert bad.value.field == "due_on"
    assert await written(session) == (0, 0)
    action = await development.close_gap(
        session,
        actor=cast.megan,
        person_id=cast.adele.person_id,
        competency_id=framework.communication,
        due_on=days(30),
        source="manual",
        now=NOW,
    )
    assert action.source is ActionSource.MANUAL


async def test_close_this_gap_needs_an_assessed_level(session, cast, framework) -> None:
    # Isaiah is a Software Engineer: give his title the same profile's expectations, but no assessment.
    profile = RoleProfile(name="Engineer", name_key="engineer", job_title_key="software engineer")
    session.add(profile)
    await session.flush()
    session.add(RoleRequirement(role_profile_id=profile.id, competency_id=framework.design, expected_level=3))
    await session.flush()
    with pytest.raises(Invalid, match="Isaiah Langer has no assessed level on “Design” yet"):
        await development.close_gap(
            session,
            actor=cast.alex,
            person_id=cast.isaiah.person_id,
            competency_id=framework.design,
            due_on=days(90),
            source="talent_review",
            now=NOW,
        )
    with pytest.raises(Forbidden):
        await development.close_gap(
            session,
            actor=cast.patti,
            person_id=cast.isaiah.person_id,
            competency_id=framework.design,
            due_on=days(90),
            source="talent_review",
            now=NOW,
        )
    assert await written(session) == (0, 0)


# --- marking progress ---------------------------------------------------------------------------------------


async def test_marking_progress_is_compare_and_set_and_a_double_click_writes_once(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele)
    saved = await development.update_progress(
        session,
        actor=cast.adele,
        action_id=action.id,
        status="planned",
        progress=50,
        note="Halfway through the modules",
        version=action.version,
        now=NOW,
    )
    assert (saved.status, saved.progress, saved.note, saved.already_saved) == (
        ActionStatus.IN_PROGRESS,
        50,
        "Halfway through the modules",
        False,
    ), "a planned action with progress is under way"
    assert saved.version == action.version + 1

    twice = await development.update_progress(
        session,
        actor=cast.adele,
        action_id=action.id,
        status="planned",
        progress="50",
        note="Halfway through the modules",
        version=action.version,  # the same card, clicked again
        now=NOW,
    )
    assert twice.already_saved and twice.version == saved.version

    with pytest.raises(ActionChanged, match="it is now in progress at 50 %") as changed:
        await development.update_progress(
            session,
            actor=cast.alex,
            action_id=action.id,
            status="in_progress",
            progress=70,
            version=action.version,  # Alex's page was opened before Adele saved
            now=NOW,
        )
    assert changed.value.latest.progress == 50 and changed.value.latest.version == saved.version
    stored = await session.get(DevelopmentAction, action.id)
    await session.refresh(stored)
    assert (stored.progress, stored.version, stored.note) == (
        50,
        saved.version,
        "Halfway through the modules",
    )

    kept = await development.update_progress(
        session,
        actor=cast.alex,
        action_id=action.id,
        status="in_progress",
        progress=70,
        version=saved.version,
        now=NOW,
    )
    assert kept.note == "Halfway through the modules", "no note sent: the note stays"


async def test_done_is_100_percent_and_cancelled_keeps_the_progress_reached(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele)
    later = NOW + timedelta(days=2)
    done = await development.update_progress(
        session, actor=cast.adele, action_id=action.id, status="done", progress=40, version=1, now=later
    )
    assert (done.status, done.progress, done.completed_at) == (ActionStatus.DONE, 100, later)
    reopened = await development.update_progress(
        session,
        actor=cast.adele,
        action_id=action.id,
        status="in_progress",
        progress=80,
        version=2,
        now=later,
    )
    assert (reopened.progress, reopened.completed_at) == (80, None)
    cancelled = await development.update_progress(
        session, actor=cast.alex, action_id=action.id, status="cancelled", progress=0, version=3, now=later
    )
    assert (cancelled.status, cancelled.progress, cancelled.overdue) == (ActionStatus.CANCELLED, 80, False)
    plan = await development.get_plan(session, actor=cast.adele, person_id=cast.adele.person_id, today=TODAY)
    assert (plan.counts.cancelled, plan.counts.open, plan.progress) == (1, 0, None)


@pytest.mark.parametrize(
    ("status", "progress", "message"),
    [
        ("in_progress", 101, "Progress is a whole number of percent from 0 to 100"),
        ("in_progress", -1, "Progress is a whole number of percent from 0 to 100"),
        ("in_progress", "half", "Progress is a whole number of percent from 0 to 100"),
        ("in_progress", "12.5", "Progress is a whole number of percent from 0 to 100"),
        ("in_progress", True, "Progress is a whole number of percent from 0 to 100"),
        ("finished", 50, "Choose the action's status"),
    ],
)
async def test_bad_progress_is_refused_and_nothing_written(session, cast, status, progress, message) -> None:
    action = await add(session, cast.adele, cast.adele)
    with pytest.raises(Invalid, match=message):
        await development.update_progress(
            session,
            actor=cast.adele,
            action_id=action.id,
            status=status,
            progress=progress,
            version=1,
            now=NOW,
        )
    with pytest.raises(Invalid, match="The note is too long"):
        await development.update_progress(
            session,
            actor=cast.adele,
            action_id=action.id,
            status="in_progress",
            progress=10,
            note="x" * 2001,
            version=1,
            now=NOW,
        )
    stored = await session.get(DevelopmentAction, action.id)
    await session.refresh(stored)
    assert (stored.status, stored.progress, stored.version) == ("planned", 0, 1)


async def test_nobody_outside_her_line_marks_or_sees_her_actions(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele)
    for stranger in (cast.patti, cast.isaiah):
        with pytest.raises(NotFound):
            await development.update_progress(
                session, actor=stranger, action_id=action.id, status="done", progress=100, version=1, now=NOW
            )
        with pytest.raises(NotFound):
            await development.make_goal(session, actor=stranger, action_id=action.id, now=NOW)
    with pytest.raises(NotFound):
        await development.update_progress(
            session, actor=cast.adele, action_id=987654, status="done", progress=100, version=1, now=NOW
        )
    assert await rows(session, Goal) == 0


async def test_overdue_is_an_open_action_past_its_day(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele, due_on=days(2))
    plan = await development.get_plan(
        session, actor=cast.adele, person_id=cast.adele.person_id, today=days(3)
    )
    assert plan.actions[0].overdue and plan.counts.overdue == 1
    await development.update_progress(
        session, actor=cast.adele, action_id=action.id, status="done", progress=100, version=1, now=NOW
    )
    plan = await development.get_plan(
        session, actor=cast.adele, person_id=cast.adele.person_id, today=days(3)
    )
    assert not plan.actions[0].overdue and plan.counts.done == 1 and plan.progress == 100


# --- a development goal -------------------------------------------------------------------------------------


async def test_an_action_becomes_a_development_goal_once_and_its_progress_follows(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele, due_on=date(2026, 5, 20))
    await development.update_progress(
        session, actor=cast.adele, action_id=action.id, status="in_progress", progress=30, version=1, now=NOW
    )
    goal = await development.make_goal(session, actor=cast.adele, action_id=action.id, now=NOW)
    assert (goal.kind, goal.visibility, goal.owner_person_id, goal.period.label) == (
        "development",
        "private",
        cast.adele.person_id,
        "2026-Q2",
    )
    assert goal.title == "Presenting with confidence" and goal.progress == pytest.approx(0.3)
    again = await development.make_goal(session, actor=cast.adele, action_id=action.id, now=NOW)
    by_alex = await development.make_goal(session, actor=cast.alex, action_id=action.id, now=NOW)
    assert again.id == by_alex.id == goal.id
    assert await rows(session, Goal) == 1

    view = await development.update_progress(
        session, actor=cast.adele, action_id=action.id, status="in_progress", progress=80, version=2, now=NOW
    )
    assert view.goal is not None and view.goal.made_from_action
    assert view.goal.progress == pytest.approx(0.8), "the goal's key result follows the action"
    assert await rows(session, KeyResultUpdate) == 1
    assert (await goals.get_goal(session, actor=cast.adele, goal_id=goal.id, today=TODAY)).status in set(
        Status
    )


async def test_an_action_linked_to_another_goal_or_cancelled_does_not_become_one(session, cast) -> None:
    theirs = await goals.create_goal(
        session, actor=cast.adele, title="Ship search", period="2026-Q1", now=NOW
    )
    linked = await add(session, cast.adele, cast.adele, goal_id=theirs.id)
    with pytest.raises(Invalid, match="already linked to the goal “Ship search”"):
        await development.make_goal(session, actor=cast.adele, action_id=linked.id, now=NOW)
    dropped = await add(session, cast.adele, cast.adele, title="Dropped")
    await development.update_progress(
        session, actor=cast.adele, action_id=dropped.id, status="cancelled", progress=0, version=1, now=NOW
    )
    with pytest.raises(Invalid, match="This action was cancelled"):
        await development.make_goal(session, actor=cast.adele, action_id=dropped.id, now=NOW)
    assert await rows(session, Goal) == 1
    assert await rows(session, KeyResult) == 0


# --- reminders ----------------------------------------------------------------------------------------------


async def test_reminders_come_a_week_ahead_on_the_due_day_then_weekly_while_overdue(session, cast) -> None:
    soon = await add(session, cast.adele, cast.adele, title="Due in 3 days", due_on=days(3))
    edge = await add(session, cast.adele, cast.adele, title="Due in 7 days", due_on=days(7))
    eighth = await add(session, cast.adele, cast.adele, title="Due in 8 days", due_on=days(8))
    late = await add(session, cast.adele, cast.adele, title="Due today", due_on=days(0))
    done = await add(session, cast.alex, cast.isaiah, title="Done already", due_on=days(1))
    await development.update_progress(
        session, actor=cast.isaiah, action_id=done.id, status="done", progress=100, version=1, now=NOW
    )
    gone = await add(session, cast.megan, cast.patti, title="Patti left", due_on=days(2))
    await session.execute(update(Person).where(Person.id == cast.patti.person_id).values(active=False))

    due = await development.due_reminders(session, today=TODAY)
    assert [d.action_id for d in due] == [late.id, soon.id, edge.id], "soonest first"
    assert not any(d.overdue for d in due) and gone.id not in {d.action_id for d in due}
    first = due[1]
    assert (first.person_id, first.title, first.progress, first.status, first.version, first.topic) == (
        cast.adele.person_id,
        "Due in 3 days",
        0,
        ActionStatus.PLANNED,
        1,
        f"development:{soon.id}",
    )

    assert await development.mark_reminded(session, action_ids=[soon.id, late.id], today=TODAY) == tuple(
        sorted([soon.id, late.id])
    )
    assert await development.mark_reminded(session, action_ids=[soon.id], today=TODAY) == ()
    assert [d.action_id for d in await development.due_reminders(session, today=TODAY)] == [edge.id]

    # Reminded ones wait for their due day; the others get their first as they come within a week.
    tomorrow = await development.due_reminders(session, today=days(1))
    assert [(d.action_id, d.overdue) for d in tomorrow] == [(edge.id, False), (eighth.id, False)]
    assert [d.action_id for d in await development.due_reminders(session, today=days(3))] == [
        soon.id,
        edge.id,
        eighth.id,
    ]
    await development.mark_reminded(session, action_ids=[soon.id, edge.id, eighth.id], today=days(3))
    # Overdue: weekly, for four weeks.
    assert await development.due_reminders(session, today=days(6)) == ()
    assert [(d.action_id, d.overdue) for d in await development.due_reminders(session, today=days(7))] == [
        (late.id, True),
        (edge.id, False),
    ]
    await development.mark_reminded(session, action_ids=[late.id], today=days(7))
    assert late.id not in {d.action_id for d in await development.due_reminders(session, today=days(13))}
    assert late.id in {d.action_id for d in await development.due_reminders(session, today=days(14))}
    assert late.id not in {d.action_id for d in await development.due_reminders(session, today=days(29))}
    assert await development.due_reminders(session, today=TODAY, within_days=0) == ()
    with pytest.raises(ValueError):
        await development.due_reminders(session, today=TODAY, within_days=-1)


def due(person_id: int = 1, action_id: int = 5) -> DueAction:
    return DueAction(
        action_id, person_id, "Course", ActionKind.COURSE, days(3), ActionStatus.PLANNED, 0, None, 1, False
    )


@pytest.mark.parametrize(
    ("now", "reach", "used", "delivery"),
    [
        (NOW, Reach.CHAT, False, Delivery.NOW),
        (datetime(2026, 3, 2, 15, tzinfo=UTC), Reach.CHAT, False, Delivery.LATER),  # 07:00 in Los Angeles
        (datetime(2026, 3, 7, 18, tzinfo=UTC), Reach.CHAT, False, Delivery.LATER),  # a Saturday
        (NOW, Reach.CHAT, True, Delivery.SENT_TODAY),
        (NOW, Reach.NO_CHAT, False, Delivery.NO_CHAT),
        (NOW, Reach.BLOCKED, False, Delivery.BLOCKED),
    ],
)
def test_a_reminder_goes_in_working_hours_on_the_persons_clock_once_a_day(now, reach, used, delivery) -> None:
    people = {1: Recipient(1, "Adele Vance", "America/Los_Angeles", None, reach)}
    key = one_per_day_key(1, "development:5", now.astimezone(ZoneInfo("America/Los_Angeles")).date())
    [planned] = development.plan_reminders(
        [due()], people, sent={key} if used else set(), now=now, default_zone=UTC_ZONE
    )
    assert planned.delivery is delivery and planned.person_name == "Adele Vance"
    if delivery is Delivery.NOW:
        assert planned.key == key
    assert (
        development.plan_reminders([due(person_id=2)], people, sent=set(), now=now, default_zone=UTC_ZONE)
        == ()
    )


async def test_the_reminder_plan_reads_who_can_be_reached(session, cast) -> None:
    action = await add(session, cast.adele, cast.adele, due_on=days(3))
    [planned] = await development.reminder_plan(session, now=NOW, default_zone=UTC_ZONE)
    assert (planned.action.action_id, planned.delivery) == (action.id, Delivery.NO_CHAT)
    session.add(
        ConversationRef(
            person_id=cast.adele.person_id,
            conversation_id="a:1adele",
            service_url="https://smba.example/",
            bot_id="28:bot",
            user_id="29:adele",
        )
    )
    await session.flush()
    [planned] = await development.reminder_plan(session, now=NOW, default_zone=UTC_ZONE)
    assert planned.delivery is Delivery.NOW
    assert planned.key == one_per_day_key(cast.adele.person_id, f"development:{action.id}", TODAY)


# --- what the tab reads besides the plan --------------------------------------------------------------------


async def test_the_add_form_offers_active_competencies_and_her_open_goals(session, cast, framework) -> None:
    await goals.create_goal(session, actor=cast.adele, title="Ship search", period="2026-Q1", now=NOW)
    old = await goals.create_goal(session, actor=cast.adele, title="Old goal", period="2025-Q4", now=NOW)
    await goals.close_goal(session, actor=cast.adele, goal_id=old.id, final_score=1, now=NOW)
    await goals.create_goal(session, actor=cast.alex, title="Alex's own", period="2026-Q1", now=NOW)
    options = await development.action_options(session, actor=cast.alex, person_id=cast.adele.person_id)
    assert [(c.name, c.levels) for c in options.competencies] == [
        ("Communication", 5),
        ("Delivery", 5),
        ("Design", 5),
    ], "retired competencies are not offered"
    assert [(g.title, g.period_label) for g in options.goals] == [("Ship search", "2026-Q1")]
    with pytest.raises(Forbidden):
        await development.action_options(session, actor=cast.patti, person_id=cast.adele.person_id)


async def test_a_manager_sees_his_reports_plans_at_a_glance(session, cast) -> None:
    first = await add(session, cast.adele, cast.adele, title="Course", due_on=days(1))
    await add(session, cast.adele, cast.adele, title="Project", due_on=days(20))
    dropped = await add(session, cast.adele, cast.adele, title="Dropped", due_on=days(20))
    await development.update_progress(
        session, actor=cast.adele, action_id=first.id, status="in_progress", progress=60, version=1, now=NOW
    )
    await development.update_progress(
        session, actor=cast.adele, action_id=dropped.id, status="cancelled", progress=0, version=1, now=NOW
    )
    team = await development.team_plans(session, actor=cast.alex, today=days(2))
    by_name = {m.name: m for m in team}
    assert {"Adele Vance", "Isaiah Langer"} <= set(by_name) and len(team) == 5
    adele = by_name["Adele Vance"]
    assert (adele.person_id, adele.open, adele.overdue, adele.progress) == (cast.adele.person_id, 2, 1, 30)
    assert (by_name["Isaiah Langer"].open, by_name["Isaiah Langer"].progress) == (0, None)
    assert await development.team_plans(session, actor=cast.adele) == ()

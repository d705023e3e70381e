"""Performance improvement plans against the demo organization, on SQLite and PostgreSQL.

Alex Wilber manages Adele Vance and Isaiah Langer (Engineering); Lynne Robbins is Alex's manager (so in
Adele's line); Patti Fernandez is in Sales, in no one's line here; Megan Bowen is HR, outside Adele's line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain.access import Actor
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import goals, improvement_plans
from domain.performance.goals import KeyResultInput, Owner
from domain.performance.improvement_plan_views import (
    CheckpointStatus,
    DueCheckpoint,
    ExampleInput,
    GoalInput,
    ImprovementPlanView,
    Outcome,
    PlanStatus,
)
from storage.models import (
    AuditEntry,
    ImprovementPlan,
    ImprovementPlanCheckpoint,
    ImprovementPlanDecision,
    ImprovementPlanExample,
    ImprovementPlanGoal,
    Person,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)  # a Monday
TODAY = NOW.date()
PLAN_TABLES = (
    ImprovementPlan,
    ImprovementPlanExample,
    ImprovementPlanGoal,
    ImprovementPlanCheckpoint,
    ImprovementPlanDecision,
)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


def at(n: int, hour: int = 9) -> datetime:
    """The clock n days after NOW."""
    return NOW + timedelta(days=n, hours=hour - 9)


EXAMPLES = (
    ExampleInput(date(2026, 2, 20), "Missed the release sign-off"),
    ExampleInput(date(2026, 2, 3), "  Two incidents left without a write-up  "),
)
GOALS = (GoalInput("Post-incident reviews on time", "Every incident written up within 3 working days"),)


async def a_draft(session, actor: Actor, employee: Actor, **overrides) -> ImprovementPlanView:
    kwargs = {
        "employee_id": employee.person_id,
        "gap": "Incident follow-up is not meeting expectations",
        "examples": EXAMPLES,
        "goals": GOALS,
        "support": ("Weekly coaching with Alex", "Incident management training"),
        "now": NOW,
    }
    return await improvement_plans.create_plan(session, actor=actor, **(kwargs | overrides))


async def an_active_plan(session, cast, employee: Actor | None = None, **overrides) -> ImprovementPlanView:
    """A plan Alex opened for Adele (or another of his reports), shared today."""
    plan = await a_draft(session, cast.alex, employee or cast.adele, **overrides)
    return await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=NOW)


async def counts(session) -> dict[str, int]:
    return {
        model.__tablename__: await session.scalar(select(func.count()).select_from(model))
        for model in PLAN_TABLES
    }


async def audits(session) -> list[AuditEntry]:
    return list(
        (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_type == "improvement_plan")
                .order_by(AuditEntry.id)
            )
        ).all()
    )


async def record(session, actor: Actor, plan: ImprovementPlanView, index: int, **overrides):
    kwargs = {"status": CheckpointStatus.MET, "notes": "Both incidents written up on time", "now": at(30)}
    return await improvement_plans.record_checkpoint(
        session,
        actor=actor,
        plan_id=plan.id,
        checkpoint_id=plan.checkpoints[index].id,
        **(kwargs | overrides),
    )


# --- creating ----------------------------------------------------------------------------------------


async def test_a_draft_keeps_what_was_written_with_checkpoints_at_30_60_and_90_days(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele)

    assert (plan.status, plan.outcome, plan.employee_name, plan.created_by_name) == (
        PlanStatus.DRAFT,
        Outcome.OPEN,
        "Adele Vance",
        "Alex Wilber",
    )
    assert plan.gap == "Incident follow-up is not meeting expectations"
    assert [(e.happened_on, e.text) for e in plan.examples] == [
        (date(2026, 2, 3), "Two incidents left without a write-up"),
        (date(2026, 2, 20), "Missed the release sign-off"),
    ], "examples are trimmed and shown oldest first"
    assert [(g.text, g.measure, g.goal_id) for g in plan.goals] == [
        ("Post-incident reviews on time", "Every incident written up within 3 working days", None)
    ]
    assert plan.support == ("Weekly coaching with Alex", "Incident management training")
    assert (plan.start_date, plan.end_date) == (TODAY, date(2026, 5, 31))
    assert [(c.position, c.due_on, c.days_from_start, c.status) for c in plan.checkpoints] == [
        (1, date(2026, 4, 1), 30, CheckpointStatus.PENDING),
        (2, date(2026, 5, 1), 60, CheckpointStatus.PENDING),
        (3, date(2026, 5, 31), 90, CheckpointStatus.PENDING),
    ]
    assert (plan.activated_at, plan.acknowledged_at, plan.decisions) == (None, None, ())
    assert (plan.can_manage, plan.can_acknowledge, plan.already_submitted) == (True, False, False)


async def test_a_plan_may_name_its_own_start_and_checkpoints(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele, start_date=days(7), checkpoints=[days(21), days(49)])

    assert (plan.start_date, plan.end_date) == (days(7), days(49))
    assert [(c.due_on, c.days_from_start) for c in plan.checkpoints] == [(days(21), 14), (days(49), 42)]


TOO_LONG_GAP = "x" * 4001


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"gap": "   "}, "Describe the gap: what isn't meeting expectations."),
        ({"gap": TOO_LONG_GAP}, "The gap is too long: at most 4000 characters (it has 4001)."),
        ({"examples": ()}, "Add at least one dated example of the gap: what happened, and when."),
        (
            {"examples": (EXAMPLES[0], ExampleInput(date(2026, 3, 3), "Will miss the next one"))},
            "Example 2 is dated 3 March 2026, in the future: examples are things that already happened.",
        ),
        ({"examples": (ExampleInput(date(2026, 2, 3), " "),)}, "Example 1 is empty: write something first."),
        ({"examples": (ExampleInput(None, "Undated"),)}, "Example 1 has no date: say when it happened."),
        (
            {"goals": ()},
            "Add at least one measurable goal: what must change, and how it will be measured.",
        ),
        (
            {"goals": (GOALS[0], GoalInput("Be on time", ""))},
            "Goal 2 has no measure: say how it will be measured, and the target.",
        ),
        ({"goals": (GoalInput("", "Every week"),)}, "Goal 1 is empty: write something first."),
        (
            {"support": ("Coaching", "  ")},
            "Support item 2 is empty: say what support is offered, or remove it.",
        ),
        ({"start_date": date(2026, 3, 1)}, "The plan can't start in the past: choose today or a later day."),
        (
            {"checkpoints": []},
            "Set at least one checkpoint, or leave them out for 30, 60 and 90 days after the start.",
        ),
        (
            {"checkpoints": [date(2026, 5, 1), date(2026, 4, 1)]},
            "The checkpoints are out of order: checkpoint 2 (1 April 2026) must come after checkpoint 1 "
            "(1 May 2026). List them earliest first, one per day.",
        ),
        (
            {"checkpoints": [date(2026, 4, 1), date(2026, 4, 1)]},
            "The checkpoints are out of order: checkpoint 2 (1 April 2026) must come after checkpoint 1 "
            "(1 April 2026). List them earliest first, one per day.",
        ),
        (
            {"checkpoints": [TODAY]},
            "Checkpoint 1 (2 March 2026) must come after the plan's start (2 March 2026).",
        ),
        (
            {"checkpoints": [date(2026, 4, 1), date(2027, 3, 3)]},
            "A plan runs at most 365 days: checkpoint 2 (3 March 2027) is after 2 March 2027.",
        ),
        (
            {"client_request_id": "x" * 65},
            "The form sent a bad request id. Please start again from a fresh card.",
        ),
    ],
)
async def test_a_bad_plan_is_refused_with_its_reason_and_nothing_is_written(
    session, cast, overrides, message
) -> None:
    before = await counts(session)

    with pytest.raises(Invalid) as refused:
        await a_draft(session, cast.alex, cast.adele, **overrides)

    assert refused.value.message == message
    assert await counts(session) == before


async def test_a_linked_goal_must_be_one_of_the_employees_goals(session, cast) -> None:
    adeles = await goals.create_goal(
        session,
        actor=cast.alex,
        owner=Owner.person(cast.adele.person_id),
        title="Own incident follow-up",
        period="2026-Q1",
        key_results=[KeyResultInput("Write-ups on time", target=10)],
        now=NOW,
    )
    isaiahs = await goals.create_goal(
        session,
        actor=cast.alex,
        owner=Owner.person(cast.isaiah.person_id),
        title="Isaiah's goal",
        period="2026-Q1",
        now=NOW,
    )
    before = await counts(session)

    with pytest.raises(Invalid) as refused:
        await a_draft(
            session, cast.alex, cast.adele, goals=(GOALS[0], GoalInput("Theirs", "Yes", isaiahs.id))
        )
    assert refused.value.message == "Goal 2 links to a goal that isn't one of Adele Vance's goals."
    with pytest.raises(Invalid) as refused:
        await a_draft(
            session,
            cast.alex,
            cast.adele,
            goals=(GoalInput("A", "B", adeles.id), GoalInput("C", "D", adeles.id)),
        )
    assert refused.value.message == "Goals 1 and 2 link to the same goal: link it once."
    assert await counts(session) == before

    plan = await a_draft(
        session, cast.alex, cast.adele, goals=(GoalInput("Follow up", "10 of 10", adeles.id),)
    )
    assert [(g.goal_id, g.goal_title) for g in plan.goals] == [(adeles.id, "Own incident follow-up")]


@pytest.mark.parametrize(
    ("opener", "allowed"),
    [("alex", True), ("lynne", True), ("megan", True), ("isaiah", False), ("patti", False), ("adele", False)],
)
async def test_only_the_manager_line_and_hr_open_a_plan(session, cast, opener, allowed) -> None:
    if allowed:
        plan = await a_draft(session, getattr(cast, opener), cast.adele)
        assert plan.created_by_id == getattr(cast, opener).person_id
        return
    with pytest.raises(Forbidden):
        await a_draft(session, getattr(cast, opener), cast.adele)
    assert (await counts(session))["improvement_plans"] == 0


async def test_one_plan_in_progress_per_employee(session, cast) -> None:
    first = await a_draft(session, cast.alex, cast.adele)

    with pytest.raises(Conflict) as refused:
        await a_draft(session, cast.megan, cast.adele, gap="")  # told first: no point fixing the form
    assert refused.value.message == (
        "Adele Vance already has an improvement plan in progress (a draft or a shared plan): close or "
        "discard it before opening another."
    )
    # The database holds it too, for two managers racing past the check.
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            session.add(
                ImprovementPlan(
                    employee_id=cast.adele.person_id,
                    gap="Racing",
                    support=[],
                    start_date=TODAY,
                    end_date=days(90),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            await session.flush()

    await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=first.id, now=NOW)
    await improvement_plans.record_outcome(
        session, actor=cast.alex, plan_id=first.id, outcome=Outcome.CANCELLED, note="Moved team", now=at(1)
    )
    second = await a_draft(session, cast.megan, cast.adele, now=at(1))
    assert second.id != first.id, "a closed plan leaves room for a new one"


async def test_a_second_submit_returns_the_first_plan_and_writes_nothing(session, cast) -> None:
    first = await a_draft(session, cast.alex, cast.adele, client_request_id="card-1")
    before = await counts(session)

    again = await a_draft(session, cast.alex, cast.adele, client_request_id="card-1", gap="Changed my mind")

    assert (again.id, again.gap, again.already_submitted) == (first.id, first.gap, True)
    assert await counts(session) == before
    with pytest.raises(Conflict):
        await a_draft(session, cast.lynne, cast.isaiah, client_request_id="card-1")
    assert await counts(session) == before


async def test_a_draft_is_revised_or_discarded_until_it_is_shared(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele)

    revised = await improvement_plans.revise_draft(
        session,
        actor=cast.lynne,
        plan_id=plan.id,
        gap="Follow-up after incidents",
        examples=(ExampleInput(date(2026, 2, 27), "No write-up for the outage"),),
        goals=(GoalInput("Write-ups", "All within 3 days"), GoalInput("Runbooks", "Two updated")),
        checkpoints=[days(14), days(28)],
        now=NOW,
    )
    assert (revised.id, revised.gap, revised.support, revised.end_date) == (
        plan.id,
        "Follow-up after incidents",
        (),
        days(28),
    )
    assert [e.text for e in revised.examples] == ["No write-up for the outage"]
    assert [g.text for g in revised.goals] == ["Write-ups", "Runbooks"]
    assert [c.position for c in revised.checkpoints] == [1, 2]
    assert (await counts(session))["improvement_plan_checkpoints"] == 2, "the old checkpoints are gone"

    await improvement_plans.discard_draft(session, actor=cast.alex, plan_id=plan.id)
    assert await counts(session) == dict.fromkeys((m.__tablename__ for m in PLAN_TABLES), 0)

    shared = await an_active_plan(session, cast)
    with pytest.raises(Invalid):
        await improvement_plans.revise_draft(
            session, actor=cast.alex, plan_id=shared.id, gap="x", examples=EXAMPLES, goals=GOALS, now=NOW
        )
    with pytest.raises(Invalid) as refused:
        await improvement_plans.discard_draft(session, actor=cast.alex, plan_id=shared.id)
    assert refused.value.message == (
        "Only a draft can be discarded: this plan was shared, so close it with an outcome."
    )


# --- sharing, and who sees what ------------------------------------------------------------------------


async def test_the_employee_sees_nothing_of_a_draft_and_the_whole_plan_once_shared(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele, start_date=days(3))

    with pytest.raises(NotFound):
        await improvement_plans.get_plan(session, actor=cast.adele, plan_id=plan.id)
    assert await improvement_plans.plans_of(session, actor=cast.adele, person_id=cast.adele.person_id) == ()
    with pytest.raises(NotFound):
        await improvement_plans.acknowledge_plan(session, actor=cast.adele, plan_id=plan.id, now=NOW)

    shared = await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=NOW)

    seen = await improvement_plans.get_plan(session, actor=cast.adele, plan_id=plan.id)
    assert (seen.status, seen.start_date, seen.activated_at) == (PlanStatus.ACTIVE, days(3), NOW)
    assert (seen.gap, seen.examples, seen.goals, seen.checkpoints) == (
        shared.gap,
        shared.examples,
        shared.goals,
        shared.checkpoints,
    )
    assert (seen.can_manage, seen.can_acknowledge) == (False, True)
    listed = await improvement_plans.plans_of(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert [p.id for p in listed] == [plan.id]


async def test_sharing_moves_the_checkpoints_with_the_start_and_happens_once(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele)  # planned to start today, 2 March

    shared = await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=at(3))

    assert (shared.start_date, shared.end_date, shared.activated_at) == (days(3), days(93), at(3))
    assert [c.due_on for c in shared.checkpoints] == [days(33), days(63), days(93)]
    again = await improvement_plans.activate_plan(
        session, actor=cast.lynne, plan_id=plan.id, now=at(4), start_date=days(10)
    )
    assert (again.already_submitted, again.start_date, again.activated_at) == (True, days(3), at(3))

    other = await a_draft(session, cast.alex, cast.isaiah)
    with pytest.raises(Invalid) as refused:
        await improvement_plans.activate_plan(
            session, actor=cast.alex, plan_id=other.id, now=at(2), start_date=days(1)
        )
    assert refused.value.message == "The plan can't start in the past: choose today or a later day."
    chosen = await improvement_plans.activate_plan(
        session, actor=cast.alex, plan_id=other.id, now=at(2), start_date=days(8)
    )
    assert [c.days_from_start for c in chosen.checkpoints] == [30, 60, 90]
    assert chosen.checkpoints[0].due_on == days(38)


# Who gets the plan at all, written out by hand from the issue: the employee (once shared), their manager
# line and HR; a teammate and someone in Sales never, and they can't tell it exists.
SEES = {
    "draft": {"alex", "lynne", "megan"},
    "active": {"adele", "alex", "lynne", "megan"},
}
EVERYONE = ("adele", "alex", "lynne", "megan", "isaiah", "patti")


@pytest.mark.parametrize("state", list(SEES))
async def test_who_sees_a_plan(session, cast, state) -> None:
    plan = await a_draft(session, cast.alex, cast.adele)
    if state == "active":
        await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=NOW)

    for name in EVERYONE:
        who = getattr(cast, name)
        if name in SEES[state]:
            view = await improvement_plans.get_plan(session, actor=who, plan_id=plan.id)
            assert view.id == plan.id, name
            listed = await improvement_plans.plans_of(session, actor=who, person_id=cast.adele.person_id)
            assert [p.id for p in listed] == [plan.id], name
            continue
        # NotFound, not Forbidden: whether Adele has a plan is not theirs to learn, however they ask.
        with pytest.raises(NotFound):
            await improvement_plans.get_plan(session, actor=who, plan_id=plan.id)
        with pytest.raises(NotFound):
            await improvement_plans.get_plan(session, actor=who, plan_id=plan.id + 1000)
        if name != "adele":
            with pytest.raises(NotFound):
                await improvement_plans.plans_of(session, actor=who, person_id=cast.adele.person_id)
        for attempt in (
            improvement_plans.activate_plan(session, actor=who, plan_id=plan.id, now=NOW),
            improvement_plans.record_outcome(
                session, actor=who, plan_id=plan.id, outcome="cancelled", note="x", now=NOW
            ),
            improvement_plans.acknowledge_plan(session, actor=who, plan_id=plan.id, now=NOW),
        ):
            with pytest.raises(NotFound):
                await attempt


async def test_the_employee_reads_but_does_not_manage_their_plan(session, cast) -> None:
    plan = await an_active_plan(session, cast)
    before = await counts(session)

    with pytest.raises(Forbidden):
        await record(session, cast.adele, plan, 0)
    with pytest.raises(Forbidden):
        await improvement_plans.record_outcome(
            session, actor=cast.adele, plan_id=plan.id, outcome="cancelled", note="No thanks", now=NOW
        )
    assert await counts(session) == before


async def test_hr_reads_outside_their_line_are_audited_and_the_lines_are_not(session, cast) -> None:
    plan = await an_active_plan(session, cast)
    assert await audits(session) == []

    for reader in (cast.adele, cast.alex, cast.lynne):
        await improvement_plans.get_plan(session, actor=reader, plan_id=plan.id)
        await improvement_plans.plans_of(session, actor=reader, person_id=cast.adele.person_id)
    assert await audits(session) == [], "the employee and their line read without an audit entry"

    await improvement_plans.get_plan(session, actor=cast.megan, plan_id=plan.id)
    await improvement_plans.plans_of(session, actor=cast.megan, person_id=cast.adele.person_id)

    entries = await audits(session)
    assert [(e.actor_id, e.action, e.subject_id, e.detail) for e in entries] == [
        (cast.megan.person_id, "improvement_plan.read", plan.id, {"about": cast.adele.person_id, "via": v})
        for v in ("get_plan", "plans_of")
    ]


# --- checkpoints -----------------------------------------------------------------------------------------


async def test_checkpoints_are_recorded_once_in_order(session, cast) -> None:
    plan = await an_active_plan(session, cast)
    before = await counts(session)

    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, plan, 1)
    assert refused.value.message == (
        "Record the 30-day checkpoint (due 1 April 2026) before the 60-day checkpoint: checkpoints are "
        "recorded in order."
    )
    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, plan, 0, status=CheckpointStatus.PENDING)
    assert refused.value.message == "Choose how the checkpoint went: met, partly met or not met."
    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, plan, 0, notes="  ")
    assert refused.value.message == "The checkpoint note is empty: write something first."
    with pytest.raises(NotFound):
        await improvement_plans.record_checkpoint(
            session,
            actor=cast.alex,
            plan_id=plan.id,
            checkpoint_id=plan.checkpoints[0].id + 1000,
            status="met",
            notes="x",
            now=NOW,
        )

    recorded = await record(session, cast.alex, plan, 0, status="partly_met", notes=" Half on time ")

    first = recorded.checkpoints[0]
    assert (first.status, first.notes, first.recorded_by_name, first.recorded_at) == (
        CheckpointStatus.PARTLY_MET,
        "Half on time",
        "Alex Wilber",
        at(30),
    )
    assert [c.status for c in recorded.checkpoints[1:]] == [CheckpointStatus.PENDING] * 2
    assert recorded.next_checkpoint == recorded.checkpoints[1]

    again = await record(session, cast.alex, plan, 0, status="partly_met", notes="Half on time", now=at(31))
    assert (again.already_submitted, again.checkpoints[0].recorded_at) == (True, at(30))
    with pytest.raises(Conflict) as refused:
        await record(session, cast.lynne, plan, 0, status="met", notes="Actually fine")
    assert refused.value.message == (
        "The 30-day checkpoint was already recorded as partly met by Alex Wilber on 1 April 2026: a "
        "checkpoint is recorded once."
    )
    stored = await session.get(ImprovementPlanCheckpoint, first.id, populate_existing=True)
    assert (stored.status, stored.notes) == ("partly_met", "Half on time")
    assert await counts(session) == before

    second = await record(session, cast.lynne, plan, 1, now=at(60))
    assert (second.checkpoints[1].status, second.checkpoints[1].recorded_by_name) == (
        CheckpointStatus.MET,
        "Lynne Robbins",
    )


async def test_checkpoints_wait_for_the_plan_to_be_shared_and_to_start(session, cast) -> None:
    plan = await a_draft(session, cast.alex, cast.adele, start_date=days(7))

    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, plan, 0, now=NOW)
    assert refused.value.message == "This plan is still a draft: share it before recording its checkpoints."

    shared = await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=NOW)
    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, shared, 0, now=at(6))
    assert refused.value.message == "The plan starts on 9 March 2026: checkpoints are recorded from then on."
    assert (await record(session, cast.alex, shared, 0, now=at(7))).checkpoints[
        0
    ].status is CheckpointStatus.MET


# --- outcomes --------------------------------------------------------------------------------------------


async def test_an_outcome_is_refused_on_a_draft_and_closing_waits_for_every_checkpoint(session, cast) -> None:
    draft = await a_draft(session, cast.alex, cast.adele)
    with pytest.raises(Invalid) as refused:
        await improvement_plans.record_outcome(
            session, actor=cast.alex, plan_id=draft.id, outcome=Outcome.CANCELLED, note="Never mind", now=NOW
        )
    assert refused.value.message == (
        "This plan is still a draft: an outcome is decided on a plan shared with the employee. Share it "
        "first, or discard the draft."
    )

    plan = await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=draft.id, now=NOW)
    await record(session, cast.alex, plan, 0)
    await record(session, cast.alex, plan, 1, now=at(60))
    before = await counts(session)
    for outcome in (Outcome.SUCCESSFUL, Outcome.UNSUCCESSFUL):
        with pytest.raises(Invalid) as refused:
            await improvement_plans.record_outcome(
                session, actor=cast.alex, plan_id=plan.id, outcome=outcome, note="Done", now=at(61)
            )
        assert refused.value.message == (
            f"Record the 90-day checkpoint (due 31 May 2026) before closing the plan as {outcome.value}."
        )
    for bad in ("open", "promoted"):
        with pytest.raises(Invalid) as refused:
            await improvement_plans.record_outcome(
                session, actor=cast.alex, plan_id=plan.id, outcome=bad, note="Done", now=at(61)
            )
        assert refused.value.message == "Choose the outcome: successful, extended, unsuccessful or cancelled."
    with pytest.raises(Invalid) as refused:
        await improvement_plans.record_outcome(
            session, actor=cast.alex, plan_id=plan.id, outcome="cancelled", note=" ", now=at(61)
        )
    assert refused.value.message == "The note on the outcome is empty: write something first."
    with pytest.raises(Invalid) as refused:
        await improvement_plans.record_outcome(
            session,
            actor=cast.alex,
            plan_id=plan.id,
            outcome="cancelled",
            note="Left",
            now=at(61),
            new_end_date=days(120),
        )
    assert refused.value.message == "Only an extension takes a new end date."
    assert await counts(session) == before

    await record(session, cast.alex, plan, 2, status="met", now=at(90))
    closed = await improvement_plans.record_outcome(
        session, actor=cast.alex, plan_id=plan.id, outcome="successful", note="All goals met", now=at(91)
    )

    assert (closed.status, closed.outcome, closed.closed_at, closed.end_date) == (
        PlanStatus.CLOSED,
        Outcome.SUCCESSFUL,
        at(91),
        days(90),
    )
    assert [(d.outcome, d.note, d.by_name, d.at, d.new_end_date) for d in closed.decisions] == [
        (Outcome.SUCCESSFUL, "All goals met", "Alex Wilber", at(91), None)
    ]
    again = await improvement_plans.record_outcome(
        session, actor=cast.alex, plan_id=plan.id, outcome="successful", note="All goals met", now=at(92)
    )
    assert (again.already_submitted, again.closed_at, len(again.decisions)) == (True, at(91), 1)
    with pytest.raises(Invalid) as refused:
        await improvement_plans.record_outcome(
            session, actor=cast.lynne, plan_id=plan.id, outcome="unsuccessful", note="No", now=at(92)
        )
    assert refused.value.message == (
        "This plan was already closed as successful on 1 June 2026: its outcome can't change."
    )
    with pytest.raises(Invalid):
        await improvement_plans.activate_plan(session, actor=cast.alex, plan_id=plan.id, now=at(92))


async def test_an_extension_moves_the_end_and_adds_checkpoints(session, cast) -> None:
    plan = await an_active_plan(session, cast)
    for i, n in enumerate((30, 60, 90)):
        plan = await record(session, cast.alex, plan, i, status="partly_met", now=at(n))
    before = await counts(session)

    for new_end, message in (
        (None, "An extension needs a new end date."),
        (days(90), "The new end date (31 May 2026) must be after the current one (31 May 2026)."),
        (days(366), "A plan runs at most 365 days: the new end date must be on or before 2 March 2027."),
    ):
        with pytest.raises(Invalid) as refused:
            await improvement_plans.record_outcome(
                session,
                actor=cast.alex,
                plan_id=plan.id,
                outcome="extended",
                note="More time",
                now=at(91),
                new_end_date=new_end,
            )
        assert refused.value.message == message
    with pytest.raises(Invalid) as refused:
        await improvement_plans.record_outcome(
            session,
            actor=cast.alex,
            plan_id=plan.id,
            outcome="extended",
            note="More time",
            now=at(91),
            new_end_date=days(150),
            checkpoints=[days(80), days(150)],
        )
    assert refused.value.message == (
        "Checkpoint 4 (21 May 2026) must come after the plan's last checkpoint (31 May 2026)."
    )
    assert await counts(session) == before

    extended = await improvement_plans.record_outcome(
        session,
        actor=cast.alex,
        plan_id=plan.id,
        outcome="extended",
        note="Good progress, 60 more days",
        now=at(91),
        new_end_date=days(150),
    )

    assert (extended.status, extended.outcome, extended.end_date, extended.closed_at) == (
        PlanStatus.ACTIVE,
        Outcome.EXTENDED,
        days(150),
        None,
    )
    assert [(c.position, c.due_on, c.days_from_start, c.status) for c in extended.checkpoints[3:]] == [
        (4, days(120), 120, CheckpointStatus.PENDING),
        (5, days(150), 150, CheckpointStatus.PENDING),
    ]
    assert [(d.outcome, d.previous_end_date, d.new_end_date) for d in extended.decisions] == [
        (Outcome.EXTENDED, days(90), days(150))
    ]
    again = await improvement_plans.record_outcome(
        session,
        actor=cast.alex,
        plan_id=plan.id,
        outcome="extended",
        note="Good progress, 60 more days",
        now=at(92),
        new_end_date=days(150),
    )
    assert (again.already_submitted, len(again.checkpoints), len(again.decisions)) == (True, 5, 1)

    cancelled = await improvement_plans.record_outcome(
        session, actor=cast.megan, plan_id=plan.id, outcome="cancelled", note="Moved to Sales", now=at(100)
    )
    assert (cancelled.status, cancelled.outcome) == (PlanStatus.CLOSED, Outcome.CANCELLED)
    assert [d.outcome for d in cancelled.decisions] == [Outcome.EXTENDED, Outcome.CANCELLED]
    with pytest.raises(Invalid) as refused:
        await record(session, cast.alex, cancelled, 3, now=at(120))
    assert refused.value.message == "This plan was closed on 10 June 2026: its checkpoints can't change now."


# --- acknowledgement -------------------------------------------------------------------------------------


async def test_the_employee_acknowledges_once(session, cast) -> None:
    plan = await an_active_plan(session, cast)

    with pytest.raises(Forbidden):
        await improvement_plans.acknowledge_plan(session, actor=cast.alex, plan_id=plan.id, now=at(1))
    acknowledged = await improvement_plans.acknowledge_plan(
        session, actor=cast.adele, plan_id=plan.id, now=at(1), comment="  I disagree with example 2  "
    )

    assert (acknowledged.acknowledged_at, acknowledged.acknowledgement_comment) == (
        at(1),
        "I disagree with example 2",
    )
    assert (acknowledged.can_acknowledge, acknowledged.already_submitted) == (False, False)
    again = await improvement_plans.acknowledge_plan(
        session, actor=cast.adele, plan_id=plan.id, now=at(2), comment="Something else"
    )
    assert (again.already_submitted, again.acknowledged_at, again.acknowledgement_comment) == (
        True,
        at(1),
        "I disagree with example 2",
    )
    seen_by_manager = await improvement_plans.get_plan(session, actor=cast.alex, plan_id=plan.id)
    assert seen_by_manager.acknowledgement_comment == "I disagree with example 2"


# --- reminders -------------------------------------------------------------------------------------------


async def test_due_checkpoints_names_whom_to_remind_with_a_fixed_clock(session, cast) -> None:
    adeles = await an_active_plan(session, cast)
    isaiahs = await a_draft(session, cast.alex, cast.isaiah)  # a draft: never reminded
    pattis = await a_draft(session, cast.megan, cast.patti, checkpoints=[days(29), days(59)])
    await improvement_plans.activate_plan(session, actor=cast.megan, plan_id=pattis.id, now=NOW)
    patti_manager = await session.scalar(select(Person.manager_id).where(Person.id == cast.patti.person_id))

    assert await improvement_plans.due_checkpoints(session, now=at(26)) == ()
    assert await improvement_plans.due_checkpoints(session, now=at(27)) == (
        DueCheckpoint(
            pattis.id, pattis.checkpoints[0].id, patti_manager, cast.patti.person_id, days(29), False
        ),
    )
    due = await improvement_plans.due_checkpoints(session, now=at(31))
    assert due == (
        DueCheckpoint(
            pattis.id, pattis.checkpoints[0].id, patti_manager, cast.patti.person_id, days(29), True
        ),
        DueCheckpoint(
            adeles.id, adeles.checkpoints[0].id, cast.alex.person_id, cast.adele.person_id, days(30), True
        ),
    )
    assert due[1].topic == f"pip:{adeles.id}:checkpoint:{adeles.checkpoints[0].id}"
    assert all(d.plan_id != isaiahs.id for d in await improvement_plans.due_checkpoints(session, now=at(200)))
    assert await improvement_plans.due_checkpoints(session, now=at(25), within_days=5) == (
        DueCheckpoint(
            pattis.id, pattis.checkpoints[0].id, patti_manager, cast.patti.person_id, days(29), False
        ),
        DueCheckpoint(
            adeles.id, adeles.checkpoints[0].id, cast.alex.person_id, cast.adele.person_id, days(30), False
        ),
    )

    # Long overdue, the 30-day checkpoint is still the one to remind of: checkpoints are recorded in order.
    late = await improvement_plans.due_checkpoints(session, now=at(61))
    assert [(d.plan_id, d.checkpoint_id) for d in late] == [
        (pattis.id, pattis.checkpoints[0].id),
        (adeles.id, adeles.checkpoints[0].id),
    ]
    await record(session, cast.alex, adeles, 0, now=at(61))
    after = await improvement_plans.due_checkpoints(session, now=at(61))
    assert [(d.checkpoint_id, d.due_on, d.overdue) for d in after if d.plan_id == adeles.id] == [
        (adeles.checkpoints[1].id, days(60), True)
    ]

    await improvement_plans.record_outcome(
        session, actor=cast.megan, plan_id=pattis.id, outcome="cancelled", note="Left", now=at(61)
    )
    assert [d.plan_id for d in await improvement_plans.due_checkpoints(session, now=at(61))] == [adeles.id]


async def test_a_checkpoint_is_reminded_once_a_day(session, cast) -> None:
    plan = await an_active_plan(session, cast)
    checkpoint_id = plan.checkpoints[0].id

    claimed = await improvement_plans.mark_checkpoint_reminded(
        session, checkpoint_ids=[checkpoint_id], now=at(29)
    )
    assert claimed == (checkpoint_id,)
    assert (
        await improvement_plans.mark_checkpoint_reminded(
            session, checkpoint_ids=[checkpoint_id, checkpoint_id], now=at(29, hour=17)
        )
        == ()
    ), "a second pass the same day claims nothing"
    assert await improvement_plans.due_checkpoints(session, now=at(29, hour=17)) == ()

    next_day = await improvement_plans.due_checkpoints(session, now=at(30))
    assert [(d.checkpoint_id, d.overdue) for d in next_day] == [(checkpoint_id, False)], "due today: not late"
    assert await improvement_plans.mark_checkpoint_reminded(
        session, checkpoint_ids=[checkpoint_id], now=at(30)
    ) == (checkpoint_id,)
    assert await improvement_plans.mark_checkpoint_reminded(session, checkpoint_ids=[], now=at(30)) == ()


async def test_reminders_go_to_whoever_opened_the_plan_when_the_manager_is_gone(session, cast) -> None:
    plan = await a_draft(session, cast.megan, cast.adele)
    await improvement_plans.activate_plan(session, actor=cast.megan, plan_id=plan.id, now=NOW)
    assert [d.manager_id for d in await improvement_plans.due_checkpoints(session, now=at(30))] == [
        cast.alex.person_id
    ]

    await session.execute(update(Person).where(Person.id == cast.alex.person_id).values(active=False))
    assert [d.manager_id for d in await improvement_plans.due_checkpoints(session, now=at(30))] == [
        cast.megan.person_id
    ]

    await session.execute(update(Person).where(Person.id == cast.adele.person_id).values(active=False))
    assert await improvement_plans.due_checkpoints(session, now=at(30)) == (), (
        "nobody is reminded about leavers"
    )

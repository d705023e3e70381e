"""Performance improvement plans: write one, share it, record its checkpoints and its outcome, and tell the
nudge engine which checkpoints are due.

A plan is about one employee. Their manager line or HR writes it as a draft (the gap with dated examples,
measurable goals, checkpoints at 30, 60 and 90 days after the start by default, the support promised),
shares it (active, from a start date), records each checkpoint once and in order, and ends it with an
outcome: successful, unsuccessful or cancelled (closed), or extended (still active, with a later end date
and more checkpoints). Every outcome decision is kept with its note, who and when. The employee
acknowledges having seen the plan once, with an optional comment. One plan per employee is in progress
(draft or active) at a time; the database holds that too, so two racing managers can't open two.

Who sees what is decided in domain/access.py: the employee (never a draft), their manager line and HR.
Anyone else gets NotFound, never Forbidden: whether someone has a plan is itself private. Each view built
for HR outside their own line writes one audit entry per plan per call.

Nothing is written on a refusal: everything is validated before the first write. A second submit of the
same form changes nothing and returns the plan with already_submitted set (creation by client request id,
the other steps by recognising the same step already taken by the same person).

Days are UTC dates (`now` is an aware datetime), like check-ins: the store keeps no calendar per time
zone. Services flush but never commit; text is stored as typed (trimmed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from domain.access import (
    Actor,
    Relation,
    audit,
    audited_improvement_plan_read,
    may_acknowledge_improvement_plan,
    may_manage_improvement_plan,
    may_view_improvement_plan,
    relation_to,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.org import display_names
from domain.performance.improvement_plan_views import (
    CHECKPOINT_LABELS,
    CHECKPOINTS_MAX,
    CLOSING_OUTCOMES,
    COMMENT_MAX,
    DECISIONS,
    DEFAULT_CHECKPOINT_DAYS,
    EXAMPLE_MAX,
    EXAMPLES_MAX,
    EXTENSION_STEP_DAYS,
    GAP_MAX,
    GOAL_TEXT_MAX,
    GOALS_MAX,
    MEASURE_MAX,
    NEEDS_ALL_CHECKPOINTS,
    NOTES_MAX,
    OUTCOME_LABELS,
    PLAN_MAX_DAYS,
    REMIND_BEFORE_DAYS,
    SUPPORT_ITEM_MAX,
    SUPPORT_MAX,
    CheckpointStatus,
    CheckpointView,
    DecisionView,
    DueCheckpoint,
    ExampleInput,
    ExampleView,
    GoalInput,
    ImprovementPlanView,
    Outcome,
    PlanGoalView,
    PlanStatus,
)
from domain.text import checked_client_id, optional_text, required_text
from storage.models import (
    Goal,
    ImprovementPlan,
    ImprovementPlanCheckpoint,
    ImprovementPlanDecision,
    ImprovementPlanExample,
    ImprovementPlanGoal,
    Person,
)

PLAN_NOT_FOUND = "That improvement plan does not exist."
FORM_USED = "That form was already used. Please start again from a fresh card."


@dataclass(frozen=True)
class _Content:
    """A plan's validated content, not yet written."""

    gap: str
    examples: list[tuple[date, str]]
    goals: list[tuple[str, str, int | None]]
    support: list[str]
    start_date: date
    checkpoints: list[date]


# --- writing a draft -------------------------------------------------------------------------------------


async def create_plan(
    session: AsyncSession,
    *,
    actor: Actor,
    employee_id: int,
    gap: str,
    examples: Sequence[ExampleInput],
    goals: Sequence[GoalInput],
    now: datetime,
    support: Sequence[str] = (),
    start_date: date | None = None,
    checkpoints: Sequence[date] | None = None,
    client_request_id: str | None = None,
) -> ImprovementPlanView:
    """Write a draft plan for someone in one's line (HR: anyone but oneself); checkpoints default to 30, 60
    and 90 days after the start (today unless given). The same client_request_id again returns the first
    plan, unwritten."""
    client_id = checked_client_id(client_request_id)
    if client_id is not None and (repeat := await _repeat(session, actor, client_id)) is not None:
        return repeat
    employee = await _active_person(session, employee_id)
    rel = await relation_to(session, actor, employee_id)
    if rel.is_self:
        raise Forbidden("You can't open an improvement plan for yourself.")
    if not may_manage_improvement_plan(actor, rel):
        raise Forbidden("Only someone's manager line and HR can open an improvement plan for them.")
    await _require_none_in_progress(session, employee)
    content = await _content(
        session,
        employee,
        gap=gap,
        examples=examples,
        goals=goals,
        support=support,
        start_date=start_date,
        checkpoints=checkpoints,
        today=_today(now),
    )
    plan = ImprovementPlan(
        employee_id=employee_id,
        created_by_id=actor.person_id,
        status=PlanStatus.DRAFT.value,
        outcome=Outcome.OPEN.value,
        created_at=now,
        updated_at=now,
        client_request_id=client_id,
    )
    _fill(plan, content)
    try:
        async with session.begin_nested():
            session.add(plan)
            await session.flush()
    except IntegrityError:
        # A double submit or a second manager won the race in another transaction.
        if client_id is not None and (repeat := await _repeat(session, actor, client_id)) is not None:
            return repeat
        await _require_none_in_progress(session, employee)
        raise
    return await _view(session, actor, await _load(session, plan.id), rel, via="create_plan")


async def revise_draft(
    session: AsyncSession,
    *,
    actor: Actor,
    plan_id: int,
    gap: str,
    examples: Sequence[ExampleInput],
    goals: Sequence[GoalInput],
    now: datetime,
    support: Sequence[str] = (),
    start_date: date | None = None,
    checkpoints: Sequence[date] | None = None,
) -> ImprovementPlanView:
    """Replace a draft's content (the same inputs and checks as create_plan); a shared plan's is fixed."""
    plan, rel = await _managed(session, actor, plan_id, "change this plan")
    employee = await _person(session, plan.employee_id)
    if plan.status != PlanStatus.DRAFT:
        raise Invalid(
            f"This plan was already shared with {employee.display_name}: its content is fixed. Record its "
            "checkpoints and its outcome instead."
        )
    content = await _content(
        session,
        employee,
        gap=gap,
        examples=examples,
        goals=goals,
        support=support,
        start_date=start_date,
        checkpoints=checkpoints,
        today=_today(now),
    )
    # Old rows go first: the new ones reuse their positions, which are unique per plan.
    plan.examples.clear()
    plan.goals.clear()
    plan.checkpoints.clear()
    await session.flush()
    _fill(plan, content)
    plan.updated_at = now
    await session.flush()
    return await _view(session, actor, await _load(session, plan.id), rel, via="revise_draft")


async def discard_draft(session: AsyncSession, *, actor: Actor, plan_id: int) -> None:
    """Delete a draft nobody outside the manager line and HR has seen; a shared plan is closed instead."""
    plan, _rel = await _managed(session, actor, plan_id, "discard this plan")
    if plan.status != PlanStatus.DRAFT:
        raise Invalid("Only a draft can be discarded: this plan was shared, so close it with an outcome.")
    await session.delete(plan)
    await session.flush()


# --- the plan's life -------------------------------------------------------------------------------------


async def activate_plan(
    session: AsyncSession, *, actor: Actor, plan_id: int, now: datetime, start_date: date | None = None
) -> ImprovementPlanView:
    """Share a draft with the employee from a start date (by default the planned one, or today if that has
    passed); the checkpoints and the end date move with the start. Again: unchanged, already_submitted."""
    plan, rel = await _managed(session, actor, plan_id, "share this plan")
    if plan.status == PlanStatus.ACTIVE:
        return replace(await _view(session, actor, plan, rel, via="activate_plan"), already_submitted=True)
    if plan.status == PlanStatus.CLOSED:
        raise Invalid(f"This plan was closed on {_day(plan.closed_at)}: it can't be shared again.")
    employee = await _person(session, plan.employee_id)
    if not employee.active:
        raise Invalid(f"{employee.display_name} is no longer in the directory: the plan can't be shared.")
    today = _today(now)
    if start_date is None:
        start_date = max(plan.start_date, today)
    elif start_date < today:
        raise Invalid("The plan can't start in the past: choose today or a later day.")
    shift = start_date - plan.start_date
    claimed = await session.execute(
        update(ImprovementPlan)
        .where(ImprovementPlan.id == plan.id, ImprovementPlan.status == PlanStatus.DRAFT.value)
        .values(
            status=PlanStatus.ACTIVE.value,
            start_date=start_date,
            end_date=plan.end_date + shift,
            activated_at=now,
            activated_by_id=actor.person_id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # Shared by a concurrent click in the meantime: show it as it is.
        plan = await _load(session, plan.id)
        return replace(await _view(session, actor, plan, rel, via="activate_plan"), already_submitted=True)
    if shift:
        for checkpoint in plan.checkpoints:
            checkpoint.due_on += shift
        await session.flush()
    return await _view(session, actor, await _load(session, plan.id), rel, via="activate_plan")


async def record_checkpoint(
    session: AsyncSession,
    *,
    actor: Actor,
    plan_id: int,
    checkpoint_id: int,
    status: CheckpointStatus | str,
    notes: str,
    now: datetime,
) -> ImprovementPlanView:
    """Record a checkpoint of an active plan (met, partly met or not met, with notes): once, in order, from
    the plan's start. The same record again by the same person: unchanged, already_submitted."""
    plan, rel = await _managed(session, actor, plan_id, "record its checkpoints")
    checkpoint = next((c for c in plan.checkpoints if c.id == checkpoint_id), None)
    if checkpoint is None:
        raise NotFound("That checkpoint is not part of this plan.")
    chosen = _checkpoint_status(status)
    text = required_text(notes, NOTES_MAX, "The checkpoint note")
    name = _checkpoint_name(plan, checkpoint)
    if plan.status == PlanStatus.DRAFT:
        raise Invalid("This plan is still a draft: share it before recording its checkpoints.")
    if checkpoint.status != CheckpointStatus.PENDING:
        return await _recorded_again(session, actor, plan, rel, checkpoint, chosen, text)
    if plan.status == PlanStatus.CLOSED:
        raise Invalid(f"This plan was closed on {_day(plan.closed_at)}: its checkpoints can't change now.")
    today = _today(now)
    if today < plan.start_date:
        raise Invalid(f"The plan starts on {_day(plan.start_date)}: checkpoints are recorded from then on.")
    earlier = next(
        (
            c
            for c in plan.checkpoints
            if c.position < checkpoint.position and c.status == CheckpointStatus.PENDING
        ),
        None,
    )
    if earlier is not None:
        raise Invalid(
            f"Record {_checkpoint_name(plan, earlier)} (due {_day(earlier.due_on)}) before {name}: "
            "checkpoints are recorded in order."
        )
    claimed = await session.execute(
        update(ImprovementPlanCheckpoint)
        .where(
            ImprovementPlanCheckpoint.id == checkpoint.id,
            ImprovementPlanCheckpoint.status == CheckpointStatus.PENDING.value,
        )
        .values(status=chosen.value, notes=text, recorded_by_id=actor.person_id, recorded_at=now)
        .execution_options(synchronize_session=False)
    )
    plan = await _load(session, plan.id)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        stored = next(c for c in plan.checkpoints if c.id == checkpoint_id)
        return await _recorded_again(session, actor, plan, rel, stored, chosen, text)
    await _touch(session, plan.id, now)
    return await _view(session, actor, plan, rel, via="record_checkpoint")


async def record_outcome(
    session: AsyncSession,
    *,
    actor: Actor,
    plan_id: int,
    outcome: Outcome | str,
    note: str,
    now: datetime,
    new_end_date: date | None = None,
    checkpoints: Sequence[date] | None = None,
) -> ImprovementPlanView:
    """Decide an active plan's outcome, with a note: successful or unsuccessful (every checkpoint recorded),
    cancelled, or extended to a new end date with more checkpoints (by default every 30 days after the
    current end, and on the new end date). The same decision again: unchanged, already_submitted."""
    plan, rel = await _managed(session, actor, plan_id, "decide its outcome")
    chosen = _decision(outcome)
    text = required_text(note, NOTES_MAX, "The note on the outcome")
    if plan.status == PlanStatus.DRAFT:
        raise Invalid(
            "This plan is still a draft: an outcome is decided on a plan shared with the employee. Share "
            "it first, or discard the draft."
        )
    if _same_as_last_decision(actor, plan, chosen, text, new_end_date):
        return replace(await _view(session, actor, plan, rel, via="record_outcome"), already_submitted=True)
    if plan.status == PlanStatus.CLOSED:
        raise Invalid(
            f"This plan was already closed as {OUTCOME_LABELS[Outcome(plan.outcome)]} on "
            f"{_day(plan.closed_at)}: its outcome can't change."
        )
    added: list[date] = []
    if chosen is Outcome.EXTENDED:
        added = _extension(plan, new_end_date, checkpoints)
    else:
        if new_end_date is not None:
            raise Invalid("Only an extension takes a new end date.")
        if checkpoints is not None:
            raise Invalid("Only an extension adds checkpoints.")
    if chosen in NEEDS_ALL_CHECKPOINTS and (pending := _first_pending(plan)) is not None:
        raise Invalid(
            f"Record {_checkpoint_name(plan, pending)} (due {_day(pending.due_on)}) before closing the plan "
            f"as {OUTCOME_LABELS[chosen]}."
        )
    closing = chosen in CLOSING_OUTCOMES
    end_date = new_end_date if chosen is Outcome.EXTENDED else plan.end_date
    assert end_date is not None  # _extension checked it
    claimed = await session.execute(
        update(ImprovementPlan)
        .where(
            ImprovementPlan.id == plan.id,
            ImprovementPlan.status == PlanStatus.ACTIVE.value,
            # A concurrent extension moved the end: this decision was made on what is now stale.
            ImprovementPlan.end_date == plan.end_date,
        )
        .values(
            outcome=chosen.value,
            status=PlanStatus.CLOSED.value if closing else PlanStatus.ACTIVE.value,
            closed_at=now if closing else None,
            end_date=end_date,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Someone decided on this plan in the meantime: look at it again before deciding.")
    session.add(
        ImprovementPlanDecision(
            plan_id=plan.id,
            outcome=chosen.value,
            note=text,
            by_id=actor.person_id,
            at=now,
            previous_end_date=plan.end_date,
            new_end_date=new_end_date if chosen is Outcome.EXTENDED else None,
        )
    )
    last = max((c.position for c in plan.checkpoints), default=0)
    session.add_all(
        ImprovementPlanCheckpoint(plan_id=plan.id, position=last + i, due_on=due, status="pending")
        for i, due in enumerate(added, start=1)
    )
    await session.flush()
    return await _view(session, actor, await _load(session, plan.id), rel, via="record_outcome")


async def acknowledge_plan(
    session: AsyncSession, *, actor: Actor, plan_id: int, now: datetime, comment: str | None = None
) -> ImprovementPlanView:
    """The employee acknowledges having seen their shared plan, with an optional comment, once; again:
    unchanged (the first comment stays), already_submitted."""
    plan, rel = await _visible(session, actor, plan_id)
    if not may_acknowledge_improvement_plan(actor, rel):
        raise Forbidden("Only the person the plan is about can acknowledge it.")
    if plan.acknowledged_at is not None:
        return replace(await _view(session, actor, plan, rel, via="acknowledge_plan"), already_submitted=True)
    text = optional_text(comment, COMMENT_MAX, "Your comment")
    claimed = await session.execute(
        update(ImprovementPlan)
        .where(ImprovementPlan.id == plan.id, ImprovementPlan.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledgement_comment=text)
        .execution_options(synchronize_session=False)
    )
    view = await _view(session, actor, await _load(session, plan.id), rel, via="acknowledge_plan")
    return view if claimed.rowcount == 1 else replace(view, already_submitted=True)  # type: ignore[attr-defined]


# --- reading ---------------------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, *, actor: Actor, plan_id: int) -> ImprovementPlanView:
    """One plan, if the actor may see it (HR outside their line: audited)."""
    plan, rel = await _visible(session, actor, plan_id)
    return await _view(session, actor, plan, rel, via="get_plan")


async def plans_of(session: AsyncSession, *, actor: Actor, person_id: int) -> tuple[ImprovementPlanView, ...]:
    """Someone's plans the actor may see, newest first: the person their shared ones, their line and HR all
    (HR outside their line: one audit entry per plan). Anyone else: NotFound, whether there are any or not."""
    rel = await relation_to(session, actor, person_id)
    if not may_view_improvement_plan(actor, rel, draft=False):
        raise NotFound("There is no improvement plan to show.")
    rows = (
        await session.scalars(
            _PLANS.where(ImprovementPlan.employee_id == person_id).order_by(
                ImprovementPlan.created_at.desc(), ImprovementPlan.id.desc()
            )
        )
    ).all()
    return tuple(
        [
            await _view(session, actor, plan, rel, via="plans_of")
            for plan in rows
            if may_view_improvement_plan(actor, rel, draft=plan.status == PlanStatus.DRAFT)
        ]
    )


# --- the nudge engine's side (acts for no one; sending is the bot's job) -----------------------------------


async def due_checkpoints(
    session: AsyncSession, *, now: datetime, within_days: int = REMIND_BEFORE_DAYS
) -> tuple[DueCheckpoint, ...]:
    """Checkpoints to remind managers of, earliest first: of each active plan, its first pending checkpoint
    when due within `within_days` days or overdue, unless already reminded today (UTC). The manager is the
    employee's current manager, or whoever opened the plan when there is none; only active people. One
    query, on the (status, due_on) index.

    A reminder goes once per checkpoint per day: claim what you will send with mark_checkpoint_reminded in
    the transaction that writes the outbox, and send only what it returns. The outbox key
    nudges.one_per_day_key(manager_id, due.topic, local_date) keeps it to one per local day as well."""
    if within_days < 0:
        raise ValueError("within_days is a number of days ahead, 0 or more")
    today = _today(now)
    cp, plan = ImprovementPlanCheckpoint, ImprovementPlan
    employee, manager, opener = aliased(Person), aliased(Person), aliased(Person)
    rows = await session.execute(
        select(
            cp.id,
            cp.plan_id,
            cp.due_on,
            cp.reminded_on,
            plan.employee_id,
            func.coalesce(manager.id, opener.id),
        )
        .join(plan, plan.id == cp.plan_id)
        .join(employee, and_(employee.id == plan.employee_id, employee.active.is_(True)))
        .outerjoin(manager, and_(manager.id == employee.manager_id, manager.active.is_(True)))
        .outerjoin(
            opener,
            and_(opener.id == plan.created_by_id, opener.active.is_(True), opener.id != plan.employee_id),
        )
        .where(
            cp.status == CheckpointStatus.PENDING.value,
            cp.due_on <= today + timedelta(days=within_days),
            plan.status == PlanStatus.ACTIVE.value,
        )
        .order_by(cp.plan_id, cp.due_on, cp.id)
    )
    due: list[DueCheckpoint] = []
    seen: set[int] = set()
    for checkpoint_id, plan_id, due_on, reminded_on, employee_id, manager_id in rows:
        # Only each plan's first pending checkpoint: the later ones are recorded after it anyway.
        if plan_id in seen:
            continue
        seen.add(plan_id)
        if manager_id is None or (reminded_on is not None and reminded_on >= today):
            continue
        due.append(DueCheckpoint(plan_id, checkpoint_id, manager_id, employee_id, due_on, due_on < today))
    return tuple(sorted(due, key=lambda d: (d.due_on, d.checkpoint_id)))


async def mark_checkpoint_reminded(
    session: AsyncSession, *, checkpoint_ids: Iterable[int], now: datetime
) -> tuple[int, ...]:
    """Claim checkpoints for today's reminder (UTC day); returns those this call claimed, sorted (a
    concurrent pass, or a second one today, gets none)."""
    ids = sorted(set(checkpoint_ids))
    if not ids:
        return ()
    today = _today(now)
    cp = ImprovementPlanCheckpoint
    claimed = await session.execute(
        update(cp)
        .where(cp.id.in_(ids), or_(cp.reminded_on.is_(None), cp.reminded_on < today))
        .values(reminded_on=today)
        .returning(cp.id)
        .execution_options(synchronize_session=False)
    )
    return tuple(sorted(claimed.scalars()))


# --- validation ------------------------------------------------------------------------------------------


async def _content(
    session: AsyncSession,
    employee: Person,
    *,
    gap: str,
    examples: Sequence[ExampleInput],
    goals: Sequence[GoalInput],
    support: Sequence[str],
    start_date: date | None,
    checkpoints: Sequence[date] | None,
    today: date,
) -> _Content:
    """The plan's content, checked in the order the form shows it; Invalid before anything is written."""
    gap_text = optional_text(gap, GAP_MAX, "The gap")
    if gap_text is None:
        raise Invalid("Describe the gap: what isn't meeting expectations.")
    start = today if start_date is None else start_date
    if start < today:
        raise Invalid("The plan can't start in the past: choose today or a later day.")
    dates = (
        [start + timedelta(days=d) for d in DEFAULT_CHECKPOINT_DAYS] if checkpoints is None else checkpoints
    )
    return _Content(
        gap=gap_text,
        examples=_examples(examples, today),
        goals=await _goals(session, employee, goals),
        support=_support(support),
        start_date=start,
        checkpoints=_checkpoint_dates(dates, after=start, start=start, count_before=0),
    )


def _examples(examples: Sequence[ExampleInput], today: date) -> list[tuple[date, str]]:
    if not examples:
        raise Invalid("Add at least one dated example of the gap: what happened, and when.")
    if len(examples) > EXAMPLES_MAX:
        raise Invalid(f"Give at most {EXAMPLES_MAX} examples (there are {len(examples)}).")
    clean = []
    for i, example in enumerate(examples, start=1):
        text = required_text(example.text, EXAMPLE_MAX, f"Example {i}")
        if example.happened_on is None:
            raise Invalid(f"Example {i} has no date: say when it happened.")
        if example.happened_on > today:
            raise Invalid(
                f"Example {i} is dated {_day(example.happened_on)}, in the future: examples are things that "
                "already happened."
            )
        clean.append((example.happened_on, text))
    return sorted(clean, key=lambda e: e[0])


async def _goals(
    session: AsyncSession, employee: Person, goals: Sequence[GoalInput]
) -> list[tuple[str, str, int | None]]:
    if not goals:
        raise Invalid("Add at least one measurable goal: what must change, and how it will be measured.")
    if len(goals) > GOALS_MAX:
        raise Invalid(f"Set at most {GOALS_MAX} goals (there are {len(goals)}).")
    clean: list[tuple[str, str, int | None]] = []
    linked: dict[int, int] = {}
    for i, goal in enumerate(goals, start=1):
        text = required_text(goal.text, GOAL_TEXT_MAX, f"Goal {i}")
        measure = optional_text(goal.measure, MEASURE_MAX, f"The measure of goal {i}")
        if measure is None:
            raise Invalid(f"Goal {i} has no measure: say how it will be measured, and the target.")
        if goal.goal_id is not None:
            if goal.goal_id in linked:
                raise Invalid(f"Goals {linked[goal.goal_id]} and {i} link to the same goal: link it once.")
            linked[goal.goal_id] = i
        clean.append((text, measure, goal.goal_id))
    if linked:
        theirs = set(
            await session.scalars(
                select(Goal.id).where(
                    Goal.id.in_(list(linked)),
                    Goal.owner_type == "person",
                    Goal.owner_person_id == employee.id,
                )
            )
        )
        for goal_id, i in linked.items():
            if goal_id not in theirs:
                raise Invalid(f"Goal {i} links to a goal that isn't one of {employee.display_name}'s goals.")
    return clean


def _support(support: Sequence[str]) -> list[str]:
    if len(support) > SUPPORT_MAX:
        raise Invalid(f"List at most {SUPPORT_MAX} kinds of support (there are {len(support)}).")
    clean = []
    for i, item in enumerate(support, start=1):
        text = optional_text(item, SUPPORT_ITEM_MAX, f"Support item {i}")
        if text is None:
            raise Invalid(f"Support item {i} is empty: say what support is offered, or remove it.")
        clean.append(text)
    return clean


def _checkpoint_dates(dates: Sequence[date], *, after: date, start: date, count_before: int) -> list[date]:
    """Checkpoint days, each after `after` (the start, or an extended plan's last checkpoint) and the one
    before it, within PLAN_MAX_DAYS of the start."""
    if not dates:
        raise Invalid(
            "Set at least one checkpoint, or leave them out for 30, 60 and 90 days after the start."
        )
    if count_before + len(dates) > CHECKPOINTS_MAX:
        raise Invalid(
            f"A plan has at most {CHECKPOINTS_MAX} checkpoints (this would make {count_before + len(dates)})."
        )
    limit = start + timedelta(days=PLAN_MAX_DAYS)
    previous: date | None = None
    for i, due in enumerate(dates, start=count_before + 1):
        if due is None:
            raise Invalid(f"Checkpoint {i} has no date.")
        if previous is None and due <= after:
            what = "the plan's start" if after == start else "the plan's last checkpoint"
            raise Invalid(f"Checkpoint {i} ({_day(due)}) must come after {what} ({_day(after)}).")
        if previous is not None and due <= previous:
            raise Invalid(
                f"The checkpoints are out of order: checkpoint {i} ({_day(due)}) must come after checkpoint "
                f"{i - 1} ({_day(previous)}). List them earliest first, one per day."
            )
        if due > limit:
            raise Invalid(
                f"A plan runs at most {PLAN_MAX_DAYS} days: checkpoint {i} ({_day(due)}) is after "
                f"{_day(limit)}."
            )
        previous = due
    return list(dates)


def _extension(
    plan: ImprovementPlan, new_end_date: date | None, checkpoints: Sequence[date] | None
) -> list[date]:
    """The checkpoints an extension adds, checked."""
    if new_end_date is None:
        raise Invalid("An extension needs a new end date.")
    if new_end_date <= plan.end_date:
        raise Invalid(
            f"The new end date ({_day(new_end_date)}) must be after the current one ({_day(plan.end_date)})."
        )
    limit = plan.start_date + timedelta(days=PLAN_MAX_DAYS)
    if new_end_date > limit:
        raise Invalid(
            f"A plan runs at most {PLAN_MAX_DAYS} days: the new end date must be on or before {_day(limit)}."
        )
    if checkpoints is None:
        steps = []
        due = plan.end_date + timedelta(days=EXTENSION_STEP_DAYS)
        while due < new_end_date:
            steps.append(due)
            due += timedelta(days=EXTENSION_STEP_DAYS)
        checkpoints = [*steps, new_end_date]
    last = max((c.due_on for c in plan.checkpoints), default=plan.start_date)
    added = _checkpoint_dates(
        checkpoints, after=last, start=plan.start_date, count_before=len(plan.checkpoints)
    )
    if added[-1] > new_end_date:
        raise Invalid(
            f"Checkpoint {len(plan.checkpoints) + len(added)} ({_day(added[-1])}) is after the new end date "
            f"({_day(new_end_date)})."
        )
    return added


def _checkpoint_status(value: CheckpointStatus | str) -> CheckpointStatus:
    try:
        chosen = CheckpointStatus(value)
    except ValueError:
        chosen = CheckpointStatus.PENDING
    if chosen is CheckpointStatus.PENDING:
        raise Invalid("Choose how the checkpoint went: met, partly met or not met.")
    return chosen


def _decision(value: Outcome | str) -> Outcome:
    try:
        chosen = Outcome(value)
    except ValueError:
        chosen = Outcome.OPEN
    if chosen not in DECISIONS:
        raise Invalid("Choose the outcome: successful, extended, unsuccessful or cancelled.")
    return chosen


# --- helpers ---------------------------------------------------------------------------------------------

_PLANS: Select[tuple[ImprovementPlan]] = (
    select(ImprovementPlan)
    .options(
        selectinload(ImprovementPlan.examples),
        selectinload(ImprovementPlan.goals),
        selectinload(ImprovementPlan.checkpoints),
        selectinload(ImprovementPlan.decisions),
    )
    .execution_options(populate_existing=True)
)


async def _load(session: AsyncSession, plan_id: int) -> ImprovementPlan:
    plan = await session.scalar(_PLANS.where(ImprovementPlan.id == plan_id))
    if plan is None:
        raise NotFound(PLAN_NOT_FOUND)
    return plan


async def _visible(session: AsyncSession, actor: Actor, plan_id: int) -> tuple[ImprovementPlan, Relation]:
    """The plan and the actor's relation to its employee; NotFound for anyone who may not see it."""
    plan = await session.scalar(_PLANS.where(ImprovementPlan.id == plan_id))
    if plan is None:
        raise NotFound(PLAN_NOT_FOUND)
    rel = await relation_to(session, actor, plan.employee_id)
    if not may_view_improvement_plan(actor, rel, draft=plan.status == PlanStatus.DRAFT):
        raise NotFound(PLAN_NOT_FOUND)
    return plan, rel


async def _managed(
    session: AsyncSession, actor: Actor, plan_id: int, what: str
) -> tuple[ImprovementPlan, Relation]:
    """The plan, for someone who may manage it; the employee, who sees it, is told they may not."""
    plan, rel = await _visible(session, actor, plan_id)
    if not may_manage_improvement_plan(actor, rel):
        raise Forbidden(f"Only your manager line and HR can {what}.")
    return plan, rel


def _fill(plan: ImprovementPlan, content: _Content) -> None:
    plan.gap = content.gap
    plan.support = content.support
    plan.start_date = content.start_date
    plan.end_date = content.checkpoints[-1]
    plan.examples = [
        ImprovementPlanExample(position=i, happened_on=day, text=text)
        for i, (day, text) in enumerate(content.examples, start=1)
    ]
    plan.goals = [
        ImprovementPlanGoal(position=i, text=text, measure=measure, goal_id=goal_id)
        for i, (text, measure, goal_id) in enumerate(content.goals, start=1)
    ]
    plan.checkpoints = [
        ImprovementPlanCheckpoint(position=i, due_on=due, status=CheckpointStatus.PENDING.value)
        for i, due in enumerate(content.checkpoints, start=1)
    ]


async def _require_none_in_progress(session: AsyncSession, employee: Person) -> None:
    found = await session.scalar(
        select(ImprovementPlan.id).where(
            ImprovementPlan.employee_id == employee.id, ImprovementPlan.status != PlanStatus.CLOSED.value
        )
    )
    if found is not None:
        raise Conflict(
            f"{employee.display_name} already has an improvement plan in progress (a draft or a shared "
            "plan): close or discard it before opening another."
        )


async def _repeat(session: AsyncSession, actor: Actor, client_id: str) -> ImprovementPlanView | None:
    """A second submit of the creation form: the plan it made, marked as such."""
    found = await session.scalar(
        select(ImprovementPlan.id).where(ImprovementPlan.client_request_id == client_id)
    )
    if found is None:
        return None
    plan = await _load(session, found)
    if plan.created_by_id != actor.person_id:
        raise Conflict(FORM_USED)
    rel = await relation_to(session, actor, plan.employee_id)
    if not may_view_improvement_plan(actor, rel, draft=plan.status == PlanStatus.DRAFT):
        raise Conflict(FORM_USED)  # they opened it, but have left the employee's line since
    return replace(await _view(session, actor, plan, rel, via="create_plan"), already_submitted=True)


async def _recorded_again(
    session: AsyncSession,
    actor: Actor,
    plan: ImprovementPlan,
    rel: Relation,
    checkpoint: ImprovementPlanCheckpoint,
    status: CheckpointStatus,
    notes: str,
) -> ImprovementPlanView:
    """A checkpoint already recorded: the same record by the same person is a second submit; anything else
    would overwrite the record, which stays as it was written."""
    same = (checkpoint.status, checkpoint.notes, checkpoint.recorded_by_id) == (
        status.value,
        notes,
        actor.person_id,
    )
    if same:
        return replace(
            await _view(session, actor, plan, rel, via="record_checkpoint"), already_submitted=True
        )
    names = await display_names(session, [checkpoint.recorded_by_id])
    by = names.get(checkpoint.recorded_by_id or 0, "someone who has left")
    label = CHECKPOINT_LABELS[CheckpointStatus(checkpoint.status)]
    raise Conflict(
        f"{_checkpoint_name(plan, checkpoint).capitalize()} was already recorded as {label} by {by} on "
        f"{_day(checkpoint.recorded_at)}: a checkpoint is recorded once."
    )


def _same_as_last_decision(
    actor: Actor, plan: ImprovementPlan, outcome: Outcome, note: str, new_end_date: date | None
) -> bool:
    """Whether this decision is the last one again (a second submit). Never a genuine new decision: a plan
    is closed once, and a further extension needs a later end date than the last one set."""
    if not plan.decisions:
        return False
    last = plan.decisions[-1]
    return (
        (last.outcome, last.note, last.by_id) == (outcome.value, note, actor.person_id)
        and plan.outcome == outcome.value
        and (outcome is not Outcome.EXTENDED or (new_end_date == last.new_end_date == plan.end_date))
    )


def _first_pending(plan: ImprovementPlan) -> ImprovementPlanCheckpoint | None:
    return next((c for c in plan.checkpoints if c.status == CheckpointStatus.PENDING), None)


def _checkpoint_name(plan: ImprovementPlan, checkpoint: ImprovementPlanCheckpoint) -> str:
    return f"the {(checkpoint.due_on - plan.start_date).days}-day checkpoint"


async def _touch(session: AsyncSession, plan_id: int, now: datetime) -> None:
    await session.execute(
        update(ImprovementPlan)
        .where(ImprovementPlan.id == plan_id)
        .values(updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def _view(
    session: AsyncSession, actor: Actor, plan: ImprovementPlan, rel: Relation, *, via: str
) -> ImprovementPlanView:
    """The plan as the actor sees it; a read only HR's role allows writes an audit entry."""
    if action := audited_improvement_plan_read(actor, rel):
        await audit(
            session,
            actor,
            action=action,
            subject_type="improvement_plan",
            subject_id=plan.id,
            about=plan.employee_id,
            via=via,
        )
    names = await display_names(
        session,
        [
            plan.employee_id,
            plan.created_by_id,
            *(c.recorded_by_id for c in plan.checkpoints),
            *(d.by_id for d in plan.decisions),
        ],
    )
    titles = await _goal_titles(session, [g.goal_id for g in plan.goals])
    status = PlanStatus(plan.status)
    return ImprovementPlanView(
        id=plan.id,
        employee_id=plan.employee_id,
        employee_name=names.get(plan.employee_id, ""),
        created_by_id=plan.created_by_id,
        created_by_name=_name(names, plan.created_by_id),
        status=status,
        outcome=Outcome(plan.outcome),
        gap=plan.gap,
        examples=tuple(ExampleView(e.id, e.happened_on, e.text) for e in plan.examples),
        goals=tuple(
            PlanGoalView(g.id, g.text, g.measure, g.goal_id, titles.get(g.goal_id or 0)) for g in plan.goals
        ),
        checkpoints=tuple(
            CheckpointView(
                id=c.id,
                position=c.position,
                due_on=c.due_on,
                days_from_start=(c.due_on - plan.start_date).days,
                status=CheckpointStatus(c.status),
                notes=c.notes,
                recorded_by_id=c.recorded_by_id,
                recorded_by_name=_name(names, c.recorded_by_id),
                recorded_at=c.recorded_at,
            )
            for c in plan.checkpoints
        ),
        support=tuple(plan.support),
        start_date=plan.start_date,
        end_date=plan.end_date,
        created_at=plan.created_at,
        activated_at=plan.activated_at,
        closed_at=plan.closed_at,
        acknowledged_at=plan.acknowledged_at,
        acknowledgement_comment=plan.acknowledgement_comment,
        decisions=tuple(
            DecisionView(
                outcome=Outcome(d.outcome),
                note=d.note,
                by_id=d.by_id,
                by_name=_name(names, d.by_id),
                at=d.at,
                previous_end_date=d.previous_end_date,
                new_end_date=d.new_end_date,
            )
            for d in plan.decisions
        ),
        can_manage=may_manage_improvement_plan(actor, rel),
        can_acknowledge=(
            may_acknowledge_improvement_plan(actor, rel)
            and status is not PlanStatus.DRAFT
            and plan.acknowledged_at is None
        ),
    )


def _name(names: dict[int, str], person_id: int | None) -> str | None:
    return names.get(person_id) if person_id is not None else None


async def _goal_titles(session: AsyncSession, goal_ids: Iterable[int | None]) -> dict[int, str]:
    ids = {gid for gid in goal_ids if gid is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(Goal.id, Goal.title).where(Goal.id.in_(ids)))).all())


async def _active_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound("That person is not in the directory.")
    return person


async def _person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    assert person is not None  # plans cascade away with their employee
    return person


def _today(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC).date()


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "an unknown day"
    return f"{value.day} {value:%B %Y}"

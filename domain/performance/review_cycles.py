"""Review cycles: a period, a template, a participants rule, phases with deadlines, and moving them on.

A cycle is a draft until HR launches it (advance to self review), which freezes its participants
(review_participants) and refuses a cycle with nobody in it, or a period overlapping another open regular
cycle that reviews some of the same people (naming it and how many). Phases move forward one at a time
(review_phases.check_move); `advance` names the phase wanted, so a second click finds the cycle already
there and writes nothing, and of two moves racing one wins (compare-and-set on the phase). Closing a
recurring cycle creates the next period's draft (same template, rule and guideline; period and deadlines
shifted by the recurrence), once.

Services check access (domain/access.py), flush but never commit, and return views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, may_manage_reviews, require
from domain.competencies import record_review_assessments
from domain.errors import Conflict, Invalid, NotFound
from domain.performance.review_participants import (
    create_reviews,
    describe_rule,
    insert_participants,
    refuse_overlaps,
    resolve_rule,
)
from domain.performance.review_phases import (
    check_move,
    cycle_phases,
    day,
    next_name,
    period_label,
    recurrence_months,
    shift,
    validate_deadlines,
    validate_period,
)
from domain.performance.review_records import (
    CHUNK,
    cycle_guideline,
    cycle_row,
    cycle_view,
    cycle_views,
    enum_choice,
    new_phase,
    phase_row,
)
from domain.performance.review_templates import has_peer_phase, load_template
from domain.performance.review_views import (
    NAME_MAX,
    PHASE_LABELS,
    PHASES,
    CycleDeadlines,
    CycleKind,
    CycleView,
    ParticipantRule,
    ParticipantSource,
    Phase,
    Recurrence,
)
from domain.text import required_text
from storage.models import Person, ReviewCycle, ReviewCyclePhase


class _Moved(Exception):
    """Another transaction moved the cycle first: roll back this move's savepoint."""


# --- HR: defining and running cycles --------------------------------------------------------------------


async def create_cycle(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    template_id: int,
    period_start: date,
    period_end: date,
    deadlines: CycleDeadlines,
    participants: ParticipantRule,
    now: datetime,
    recurrence: Recurrence | str = Recurrence.NONE,
    guideline: Sequence[int] | None = None,
) -> CycleView:
    """Create a draft cycle (HR); nobody is a participant until it launches."""
    require(may_manage_reviews(actor), "review cycles")
    template = await load_template(session, template_id)
    phases = cycle_phases(has_peer_phase=has_peer_phase(template))
    validate_period(period_start, period_end)
    due = validate_deadlines(deadlines.by_phase(), phases)
    cycle = ReviewCycle(
        name=required_text(name, NAME_MAX, "The cycle's name"),
        kind=CycleKind.REGULAR.value,
        template_id=template.id,
        period_start=period_start,
        period_end=period_end,
        phase=Phase.DRAFT.value,
        recurrence=enum_choice(Recurrence, recurrence, "recurrence").value,
        guideline=cycle_guideline(guideline, template),
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    await _set_rule(session, cycle, participants)
    cycle.phases = [new_phase(p, due[p], actor.person_id if p is Phase.DRAFT else None, now) for p in phases]
    session.add(cycle)
    await session.flush()
    return await cycle_view(session, cycle)


async def update_draft(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    now: datetime,
    name: str | None = None,
    period: tuple[date, date] | None = None,
    deadlines: CycleDeadlines | None = None,
    participants: ParticipantRule | None = None,
    recurrence: Recurrence | str | None = None,
    guideline: Sequence[int] | None = None,
) -> CycleView:
    """Change a draft cycle (HR); what is not passed stays. A launched cycle's rule and dates are fixed."""
    require(may_manage_reviews(actor), "review cycles")
    cycle = await cycle_row(session, cycle_id)
    if cycle.phase != Phase.DRAFT:
        raise Invalid(
            f"Only a draft cycle can change: this one is in {PHASE_LABELS[Phase(cycle.phase)]} already."
        )
    template = await load_template(session, cycle.template_id)
    if name is not None:
        cycle.name = required_text(name, NAME_MAX, "The cycle's name")
    if period is not None:
        validate_period(*period)
        cycle.period_start, cycle.period_end = period
    if recurrence is not None:
        cycle.recurrence = enum_choice(Recurrence, recurrence, "recurrence").value
    if guideline is not None:
        cycle.guideline = cycle_guideline(guideline, template)
    if participants is not None:
        await _set_rule(session, cycle, participants)
    if deadlines is not None:
        rows = {
            r.phase: r
            for r in await session.scalars(
                select(ReviewCyclePhase).where(ReviewCyclePhase.cycle_id == cycle.id)
            )
        }
        due = validate_deadlines(deadlines.by_phase(), [Phase(p) for p in _ordered(rows)])
        for phase, row in rows.items():
            row.due_on = due[Phase(phase)]
    cycle.updated_at = now
    await session.flush()
    return await cycle_view(session, cycle)


async def get_cycle(session: AsyncSession, *, actor: Actor, cycle_id: int) -> CycleView:
    """One cycle with its phases and deadlines (HR)."""
    require(may_manage_reviews(actor), "review cycles")
    return await cycle_view(session, await cycle_row(session, cycle_id))


async def list_cycles(
    session: AsyncSession, *, actor: Actor, phases: Iterable[Phase] | None = None
) -> tuple[CycleView, ...]:
    """Cycles (HR), newest period first; only those in `phases` when given."""
    require(may_manage_reviews(actor), "review cycles")
    query = select(ReviewCycle).order_by(ReviewCycle.period_start.desc(), ReviewCycle.id.desc())
    if phases is not None:
        query = query.where(ReviewCycle.phase.in_([Phase(p).value for p in phases]))
    return tuple(await cycle_views(session, list(await session.scalars(query))))


async def advance(
    session: AsyncSession, *, actor: Actor, cycle_id: int, to: Phase | str, now: datetime
) -> CycleView:
    """Move a cycle on to the phase `to` (HR): only the next one; to self review launches it.

    Already there (a second click): the cycle unchanged, already_submitted set. Anything else refused with
    a sentence naming where the cycle is and where it can go (review_phases.check_move)."""
    require(may_manage_reviews(actor), "review cycles")
    target = enum_choice(Phase, to, "phase")
    cycle = await cycle_row(session, cycle_id)
    if cycle.phase == target:
        return replace(await cycle_view(session, cycle), already_submitted=True)
    phases = await _phases(session, cycle.id)
    current = Phase(cycle.phase)
    check_move(current, target, phases)
    try:
        async with session.begin_nested():
            await _claim_move(session, cycle.id, current, target, now)
            if target is Phase.SELF_REVIEW:
                await _launch(session, actor, cycle, now)
            await _record_move(session, cycle.id, current, target, actor.person_id, now)
            if target is Phase.RELEASED:
                # The manager's ratings of framework competencies become the participants' levels.
                await record_review_assessments(session, cycle_id=cycle.id, on=now.astimezone(UTC).date())
            if target is Phase.CLOSED:
                await _create_next(session, actor, cycle, now)
    except _Moved:
        cycle = await cycle_row(session, cycle_id)
        if cycle.phase == target:
            return replace(await cycle_view(session, cycle), already_submitted=True)
        check_move(Phase(cycle.phase), target, phases)
        raise Conflict("The cycle moved on meanwhile: reload it and try again.") from None
    return await cycle_view(session, await cycle_row(session, cycle_id))


async def launch_cycle(session: AsyncSession, *, actor: Actor, cycle_id: int, now: datetime) -> CycleView:
    """Launch a draft (HR): advance(to=self review), which freezes the participants."""
    return await advance(session, actor=actor, cycle_id=cycle_id, to=Phase.SELF_REVIEW, now=now)


# --- peers -----------------------------------------------------------------------------------------------


# --- the scheduler's side (acts for no one) ----------------------------------------------------------------


# --- launching -------------------------------------------------------------------------------------------


async def _launch(session: AsyncSession, actor: Actor, cycle: ReviewCycle, now: datetime) -> None:
    """Freeze the participants and create their reviews; Invalid (savepoint rolled back) when refused."""
    first = await phase_row(session, cycle.id, Phase.SELF_REVIEW)
    if first is not None and first.due_on is not None and first.due_on < now.date():
        raise Invalid(
            f"The self review deadline ({day(first.due_on)}) has passed: move the deadlines before launching."
        )
    people = await resolve_rule(session, cycle)
    if not people:
        raise Invalid(
            f"Nobody would be reviewed: {await describe_rule(session, cycle)} has nobody active in the "
            "directory. Choose other participants before launching."
        )
    await insert_participants(session, cycle.id, people, ParticipantSource.LAUNCH, actor.person_id, now)
    await refuse_overlaps(session, cycle)
    await create_reviews(session, cycle.id, await load_template(session, cycle.template_id), now)


# --- moving phases ---------------------------------------------------------------------------------------


async def _claim_move(
    session: AsyncSession, cycle_id: int, current: Phase, target: Phase, now: datetime
) -> None:
    # Compare-and-set: of two moves racing, one changes the row; the other finds it moved.
    values: dict[str, object] = {"phase": target.value, "updated_at": now}
    if target is Phase.SELF_REVIEW:
        values["launched_at"] = now
    moved = await session.execute(
        update(ReviewCycle)
        .where(ReviewCycle.id == cycle_id, ReviewCycle.phase == current.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise _Moved


async def _record_move(
    session: AsyncSession, cycle_id: int, current: Phase, target: Phase, by_id: int, now: datetime
) -> None:
    phases = ReviewCyclePhase.__table__
    await session.execute(
        update(phases)
        .where(phases.c.cycle_id == cycle_id, phases.c.phase == current.value)
        .values(closed_at=now)
    )
    await session.execute(
        update(phases)
        .where(phases.c.cycle_id == cycle_id, phases.c.phase == target.value)
        .values(opened_at=now, opened_by_id=by_id, closed_at=now if target is Phase.CLOSED else None)
    )


async def _create_next(session: AsyncSession, actor: Actor, cycle: ReviewCycle, now: datetime) -> None:
    """The next period's draft of a recurring cycle (nothing for a cycle that does not recur)."""
    months = recurrence_months(Recurrence(cycle.recurrence))
    if not months or cycle.kind != CycleKind.REGULAR:
        return
    if await session.scalar(select(ReviewCycle.id).where(ReviewCycle.previous_cycle_id == cycle.id)):
        return
    start, end = shift(cycle.period_start, months), shift(cycle.period_end, months)
    following = ReviewCycle(
        name=next_name(
            cycle.name, period_label(cycle.period_start, cycle.period_end), period_label(start, end)
        )[:NAME_MAX],
        kind=CycleKind.REGULAR.value,
        template_id=cycle.template_id,
        period_start=start,
        period_end=end,
        phase=Phase.DRAFT.value,
        recurrence=cycle.recurrence,
        rule_department=cycle.rule_department,
        rule_manager_id=cycle.rule_manager_id,
        rule_person_ids=cycle.rule_person_ids,
        guideline=cycle.guideline,
        previous_cycle_id=cycle.id,
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    rows = await session.scalars(select(ReviewCyclePhase).where(ReviewCyclePhase.cycle_id == cycle.id))
    following.phases = [
        new_phase(
            Phase(r.phase),
            shift(r.due_on, months) if r.due_on is not None else None,
            actor.person_id if r.phase == Phase.DRAFT else None,
            now,
        )
        for r in rows
    ]
    session.add(following)
    await session.flush()


# --- helpers ---------------------------------------------------------------------------------------------


async def _phases(session: AsyncSession, cycle_id: int) -> list[Phase]:
    found = await session.scalars(select(ReviewCyclePhase.phase).where(ReviewCyclePhase.cycle_id == cycle_id))
    return [Phase(p) for p in _ordered(found)]


def _ordered(phases: Iterable[str]) -> list[str]:
    return sorted(phases, key=lambda p: PHASES.index(Phase(p)))


async def _set_rule(session: AsyncSession, cycle: ReviewCycle, rule: ParticipantRule) -> None:
    """Check and store who the cycle will review: exactly one of a department, a manager, a list."""
    chosen = sum([rule.department is not None, rule.manager_id is not None, bool(rule.person_ids)])
    if chosen != 1:
        raise Invalid(
            "Choose who the cycle reviews: a department, everyone below a manager, or a list of people."
        )
    cycle.rule_department, cycle.rule_manager_id, cycle.rule_person_ids = None, None, None
    if rule.department is not None:
        cycle.rule_department = required_text(rule.department, 200, "The department")
    elif rule.manager_id is not None:
        manager = await session.get(Person, rule.manager_id)
        if manager is None or not manager.active:
            raise NotFound("That manager is not in the directory.")
        cycle.rule_manager_id = manager.id
    else:
        ids = list(dict.fromkeys(rule.person_ids))
        found = 0
        for start in range(0, len(ids), CHUNK):
            found += (
                await session.scalar(
                    select(func.count(Person.id)).where(
                        Person.id.in_(ids[start : start + CHUNK]), Person.active.is_(True)
                    )
                )
                or 0
            )
        if found != len(ids):
            raise NotFound("Someone on the list is not in the directory.")
        cycle.rule_person_ids = ids

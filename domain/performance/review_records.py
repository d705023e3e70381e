"""Loading review rows and turning them into views, in bulk: shared by the review services.

No access checks here: every public service that calls these checks its own (domain/access.py) first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Invalid, NotFound
from domain.performance.goal_progress import Period, goal_status
from domain.performance.goal_views import OwnerType
from domain.performance.review_scoring import SectionRatings, validate_guideline
from domain.performance.review_views import (
    DEFAULT_GUIDELINES,
    PHASES,
    AnswerView,
    CycleKind,
    CycleView,
    FormItem,
    FormSection,
    GoalResult,
    ItemKind,
    ParticipantRule,
    Phase,
    PhaseView,
    Recurrence,
    ReviewerRole,
    SectionKind,
    SectionView,
    TemplateView,
)
from storage.models import (
    Goal,
    ReviewAnswer,
    ReviewCycle,
    ReviewCyclePhase,
    ReviewParticipant,
    ReviewTemplate,
)

E = TypeVar("E", bound=StrEnum)

CYCLE_NOT_FOUND = "That review cycle does not exist."
REVIEW_NOT_FOUND = "That review does not exist."
# Long IN lists are sent in chunks: SQLite and asyncpg cap the parameters of one statement.
CHUNK = 5000


def enum_choice(enum: type[E], value: object, what: str) -> E:
    """The member of `enum` named by `value`; Invalid listing the choices otherwise."""
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise Invalid(f"“{value}” is not a {what}: choose one of {choices}.") from None


async def cycle_row(session: AsyncSession, cycle_id: int) -> ReviewCycle:
    """The cycle as stored now (reloaded, not the session's copy)."""
    found = await session.get(ReviewCycle, cycle_id, populate_existing=True)
    if found is None:
        raise NotFound(CYCLE_NOT_FOUND)
    return found


async def cycle_views(session: AsyncSession, cycles: Sequence[ReviewCycle]) -> list[CycleView]:
    """Views of many cycles in four queries (phases, templates, participant counts, next cycles)."""
    ids = [c.id for c in cycles]
    if not ids:
        return []
    phases: dict[int, list[ReviewCyclePhase]] = {}
    for row in await session.scalars(
        select(ReviewCyclePhase)
        .where(ReviewCyclePhase.cycle_id.in_(ids))
        .execution_options(populate_existing=True)
    ):
        phases.setdefault(row.cycle_id, []).append(row)
    templates = dict(
        (
            await session.execute(
                select(ReviewTemplate.id, ReviewTemplate.name).where(
                    ReviewTemplate.id.in_({c.template_id for c in cycles})
                )
            )
        ).all()
    )
    counts = dict(
        (
            await session.execute(
                select(ReviewParticipant.cycle_id, func.count(ReviewParticipant.id))
                .where(ReviewParticipant.cycle_id.in_(ids))
                .group_by(ReviewParticipant.cycle_id)
            )
        ).all()
    )
    following = {
        previous: nxt
        for nxt, previous in (
            await session.execute(
                select(ReviewCycle.id, ReviewCycle.previous_cycle_id).where(
                    ReviewCycle.previous_cycle_id.in_(ids)
                )
            )
        ).all()
    }
    return [
        CycleView(
            id=c.id,
            name=c.name,
            kind=CycleKind(c.kind),
            template_id=c.template_id,
            template_name=templates.get(c.template_id, ""),
            period_start=c.period_start,
            period_end=c.period_end,
            phase=Phase(c.phase),
            phases=tuple(
                PhaseView(Phase(p.phase), p.due_on, p.opened_at, p.closed_at)
                for p in sorted(phases.get(c.id, ()), key=lambda p: PHASES.index(Phase(p.phase)))
            ),
            recurrence=Recurrence(c.recurrence),
            rule=rule_of(c),
            participants=counts.get(c.id, 0),
            launched_at=c.launched_at,
            guideline=tuple(c.guideline) if c.guideline else None,
            previous_cycle_id=c.previous_cycle_id,
            next_cycle_id=following.get(c.id),
        )
        for c in cycles
    ]


async def cycle_view(session: AsyncSession, cycle: ReviewCycle) -> CycleView:
    """One cycle's view."""
    return (await cycle_views(session, [cycle]))[0]


def rule_of(cycle: ReviewCycle) -> ParticipantRule:
    """The cycle's participants rule as the transports see it."""
    return ParticipantRule(
        department=cycle.rule_department,
        manager_id=cycle.rule_manager_id,
        person_ids=tuple(cycle.rule_person_ids or ()),
    )


async def phase_row(session: AsyncSession, cycle_id: int, phase: Phase | str) -> ReviewCyclePhase | None:
    """One phase of a cycle (None when the cycle has no such phase)."""
    return await session.get(ReviewCyclePhase, (cycle_id, Phase(phase).value), populate_existing=True)


async def goal_results(
    session: AsyncSession, person_id: int, start: date, end: date, today: date
) -> tuple[GoalResult, ...]:
    """A person's own goals whose period overlaps [start, end], with their results so far."""
    rows = await session.scalars(
        select(Goal)
        .where(
            Goal.owner_type == OwnerType.PERSON.value,
            Goal.owner_person_id == person_id,
            Goal.period_start <= end,
            Goal.period_end >= start,
        )
        .order_by(Goal.period_start, Goal.id)
    )
    return tuple(
        GoalResult(
            goal_id=g.id,
            title=g.title,
            progress=g.progress,
            final_score=g.final_score,
            status=goal_status(
                g.progress,
                Period(g.period_label, g.period_start, g.period_end),
                today=today,
                closed=g.closed_at is not None,
            ).value,
            period_start=g.period_start,
            period_end=g.period_end,
        )
        for g in rows
    )


async def answers_of(
    session: AsyncSession, review_ids: Iterable[int]
) -> dict[int, dict[tuple[int, str], AnswerView]]:
    """The current answers of these reviews: review id → (section id, item key) → answer."""
    ids = list(set(review_ids))
    found: dict[int, dict[tuple[int, str], AnswerView]] = {rid: {} for rid in ids}
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(
                ReviewAnswer.review_id,
                ReviewAnswer.section_id,
                ReviewAnswer.item_key,
                ReviewAnswer.rating,
                ReviewAnswer.choice,
                ReviewAnswer.text,
            ).where(ReviewAnswer.review_id.in_(ids[start : start + CHUNK]))
        )
        for row in rows:
            found[row.review_id][(row.section_id, row.item_key)] = AnswerView(
                row.rating, row.choice, row.text
            )
    return found


# --- building form sections and scores (pure) ------------------------------------------------------------


def role_sections(template: TemplateView, role: ReviewerRole) -> tuple[SectionView, ...]:
    """The sections a reviewer of this role answers, in template order (their form's steps)."""
    return tuple(s for s in template.sections if role in s.answered_by)


def form_sections(
    sections: Sequence[SectionView],
    goals: Sequence[GoalResult],
    answers: Mapping[tuple[int, str], AnswerView],
) -> tuple[FormSection, ...]:
    """The form's steps with their items and answers (a goals section's items are the goals given)."""
    built = []
    for step, s in enumerate(sections):
        if s.kind is SectionKind.GOALS:
            items = tuple(
                FormItem(
                    key=goal_key(g.goal_id),
                    kind=ItemKind.RATING,
                    text=g.title,
                    required=True,
                    choices=(),
                    answer=answers.get((s.id, goal_key(g.goal_id))),
                    goal=g,
                )
                for g in goals
            )
        else:
            items = tuple(
                FormItem(i.key, i.kind, i.text, i.required, i.choices, answers.get((s.id, i.key)))
                for i in s.items
            )
        built.append(FormSection(s.id, step, s.kind, s.title, s.description, items))
    return tuple(built)


def section_ratings(
    template: TemplateView, role: ReviewerRole, answers: Mapping[tuple[int, str], AnswerView]
) -> list[SectionRatings]:
    """The ratings a review of this role gave, per section it answers (goals: every goal rated)."""
    return [
        SectionRatings(
            section_id=s.id,
            title=s.title,
            weight=s.weight,
            ratings=tuple(
                a.rating for (sid, _key), a in sorted(answers.items()) if sid == s.id and a.rating is not None
            ),
        )
        for s in role_sections(template, role)
    ]


def goal_key(goal_id: int) -> str:
    """The item key of a goal in a goals section."""
    return f"goal-{goal_id}"


# --- new cycles -------------------------------------------------------------------------------------------


def new_phase(phase: Phase, due_on: date | None, opened_by_id: int | None, now: datetime) -> ReviewCyclePhase:
    """A new cycle's phase row; the draft phase opens with it."""
    opened = phase is Phase.DRAFT
    return ReviewCyclePhase(
        phase=phase.value,
        due_on=due_on,
        opened_at=now if opened else None,
        opened_by_id=opened_by_id if opened else None,
    )


def cycle_guideline(given: Sequence[int] | None, template: TemplateView) -> list[int] | None:
    """The guideline to store on a cycle: the one given, checked, or the scale's default (if any)."""
    points = len(template.scale)
    if given is None:
        default = DEFAULT_GUIDELINES.get(points)
        return list(default) if default else None
    return list(validate_guideline(list(given), points))

"""Review results: what a participant's review shows to whom, acknowledgement, and HR's audited look at
who wrote the anonymous reviews.

The person reviewed sees only their own self review until the cycle is released, then the final score with
its breakdown, the manager's answers and the peer and upward answers pooled; their manager line and HR
see all of it at any time (domain/access.may_view_review_results). Pooled answers leave out the viewer's
own and appear only from ANONYMITY_THRESHOLD submitted reviews (each item from that many answers). Who
wrote them is HR's alone to read, and each such read writes an audit entry (review_authors).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    audit,
    may_acknowledge_review,
    may_identify_reviewers,
    may_view_review_results,
    relation_to,
)
from domain.errors import Invalid, NotFound
from domain.org import display_names as names
from domain.performance.review_records import (
    REVIEW_NOT_FOUND,
    answers_of,
    form_sections,
    goal_results,
    role_sections,
    section_ratings,
)
from domain.performance.review_scoring import band, breakdown, decimal, pooled
from domain.performance.review_templates import load_template
from domain.performance.review_views import (
    ANONYMITY_THRESHOLD,
    ANONYMOUS_ROLES,
    BLANK_ANSWER,
    COMMENT_MAX,
    AnonymousReviews,
    AnswerView,
    AuthoredReview,
    Phase,
    ReviewerRole,
    ReviewResultView,
    ReviewStatus,
    ScoreView,
    SectionAggregate,
    SubmittedReview,
    TemplateView,
)
from domain.text import optional_text
from storage.models import Review, ReviewCalibration, ReviewCycle, ReviewParticipant

RELEASED_PHASES = frozenset({Phase.RELEASED, Phase.CLOSED})


@dataclass(frozen=True)
class FinalScore:
    """A participant's final score, with the department they were reviewed in."""

    participant_id: int
    person_id: int
    cycle_id: int
    score: float
    department: str | None


async def latest_final_scores(
    session: AsyncSession, *, cycles: ColumnElement[bool], person_ids: Collection[int] | None = None
) -> dict[int, FinalScore]:
    """By person: their final score in the latest of the cycles meeting `cycles` (a condition on
    ReviewCycle) that gave them one, by period end and then the newer cycle; everyone's, or only
    person_ids' (an IN list: the caller keeps it to a size the database takes)."""
    ranked = (
        select(
            ReviewParticipant.id,
            ReviewParticipant.person_id,
            ReviewParticipant.cycle_id,
            ReviewParticipant.final_score,
            ReviewParticipant.department,
            func.row_number()
            .over(
                partition_by=ReviewParticipant.person_id,
                order_by=(ReviewCycle.period_end.desc(), ReviewCycle.id.desc()),
            )
            .label("rank"),
        )
        .join(ReviewCycle, ReviewCycle.id == ReviewParticipant.cycle_id)
        .where(cycles, ReviewParticipant.final_score.is_not(None))
    )
    if person_ids is not None:
        ranked = ranked.where(ReviewParticipant.person_id.in_(sorted(person_ids)))
    latest = ranked.subquery()
    rows = await session.execute(
        select(
            latest.c.id, latest.c.person_id, latest.c.cycle_id, latest.c.final_score, latest.c.department
        ).where(latest.c.rank == 1)
    )
    return {
        pid: FinalScore(participant_id, pid, cycle_id, float(score), department)
        for participant_id, pid, cycle_id, score, department in rows.all()
    }


async def review_result(
    session: AsyncSession, *, actor: Actor, cycle_id: int, person_id: int, now: datetime
) -> ReviewResultView:
    """A participant's review as the actor may see it: the person (everything only once released), their
    manager line and HR."""
    participant = await _participant(session, cycle_id, person_id)
    cycle = await session.get(ReviewCycle, cycle_id, populate_existing=True)
    assert cycle is not None
    rel = await relation_to(session, actor, person_id)
    released = Phase(cycle.phase) in RELEASED_PHASES
    full = may_view_review_results(actor, rel, released=released)
    if not (full or rel.is_self):
        raise NotFound(REVIEW_NOT_FOUND)
    return await _result(session, actor, cycle, participant, full=full, now=now)


async def acknowledge(
    session: AsyncSession, *, actor: Actor, cycle_id: int, now: datetime, comment: str | None = None
) -> ReviewResultView:
    """Acknowledge one's own released review, with an optional comment, once; again: unchanged, with
    already_submitted set."""
    participant = await _participant(session, cycle_id, actor.person_id)
    cycle = await session.get(ReviewCycle, cycle_id, populate_existing=True)
    assert cycle is not None
    if not may_acknowledge_review(actor, await relation_to(session, actor, participant.person_id)):
        raise NotFound(REVIEW_NOT_FOUND)
    if participant.acknowledged_at is not None:
        return replace(
            await _result(session, actor, cycle, participant, full=True, now=now), already_submitted=True
        )
    phase = Phase(cycle.phase)
    if phase is Phase.CLOSED:
        raise Invalid("This cycle is closed: it takes no acknowledgements any more.")
    if phase is not Phase.RELEASED:
        raise Invalid("Your review isn't released yet: there is nothing to acknowledge.")
    if participant.manager_submitted_at is None:
        raise Invalid("Your manager's review wasn't submitted: there is nothing to acknowledge.")
    note = optional_text(comment, COMMENT_MAX, "Your comment")
    claimed = await session.execute(
        update(ReviewParticipant)
        .where(ReviewParticipant.id == participant.id, ReviewParticipant.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledgement_comment=note)
        .execution_options(synchronize_session=False)
    )
    participant = await _participant(session, cycle_id, actor.person_id)
    view = await _result(session, actor, cycle, participant, full=True, now=now)
    return view if claimed.rowcount == 1 else replace(view, already_submitted=True)  # type: ignore[attr-defined]


async def review_authors(
    session: AsyncSession, *, actor: Actor, cycle_id: int, person_id: int, now: datetime
) -> tuple[AuthoredReview, ...]:
    """Someone's peer and upward reviews with who wrote each (HR, for abuse handling); each read audited."""
    participant = await _participant(session, cycle_id, person_id)
    if not may_identify_reviewers(actor, await relation_to(session, actor, person_id)):
        raise NotFound(REVIEW_NOT_FOUND)
    cycle = await session.get(ReviewCycle, cycle_id)
    assert cycle is not None
    template = await load_template(session, cycle.template_id)
    reviews = [
        r for r in await _reviews_of(session, participant.id) if ReviewerRole(r.role) in ANONYMOUS_ROLES
    ]
    await audit(
        session,
        actor,
        action="review.read_anonymous_reviewers",
        subject_type="review_participant",
        subject_id=participant.id,
        about=person_id,
        cycle=cycle_id,
    )
    answers = await answers_of(session, [r.id for r in reviews])
    people = await names(session, [r.reviewer_id for r in reviews])
    return tuple(
        AuthoredReview(
            review_id=r.id,
            role=ReviewerRole(r.role),
            reviewer_id=r.reviewer_id,
            reviewer_name=people.get(r.reviewer_id, ""),
            status=ReviewStatus(r.status),
            sections=form_sections(role_sections(template, ReviewerRole(r.role)), (), answers[r.id]),
        )
        for r in reviews
    )


async def _result(
    session: AsyncSession,
    actor: Actor,
    cycle: ReviewCycle,
    participant: ReviewParticipant,
    *,
    full: bool,
    now: datetime,
) -> ReviewResultView:
    template = await load_template(session, cycle.template_id)
    reviews = await _reviews_of(session, participant.id)
    submitted = [r for r in reviews if r.status == ReviewStatus.SUBMITTED]
    answers = await answers_of(session, [r.id for r in submitted])
    goals = await goal_results(
        session, participant.person_id, cycle.period_start, cycle.period_end, now.date()
    )

    def written(role: ReviewerRole) -> SubmittedReview | None:
        found = next((r for r in submitted if r.role == role), None)
        if found is None or found.submitted_at is None:
            return None
        sections = form_sections(role_sections(template, role), goals, answers[found.id])
        return SubmittedReview(role, found.submitted_at, sections)

    score = manager = peers = reports = None
    if full:
        manager = written(ReviewerRole.MANAGER)
        if manager is not None:
            mine = next(r for r in submitted if r.role == ReviewerRole.MANAGER)
            _final, parts = breakdown(section_ratings(template, ReviewerRole.MANAGER, answers[mine.id]))
            final = decimal(participant.final_score)
            calibrated = bool(
                await session.scalar(
                    select(func.count(ReviewCalibration.id)).where(
                        ReviewCalibration.participant_id == participant.id
                    )
                )
            )
            points = len(template.scale)
            b = band(final, points)
            score = ScoreView(
                final=final,
                computed=decimal(participant.computed_score),
                calibrated=calibrated,
                band=b,
                band_label=template.scale[b - 1] if b is not None else None,
                sections=parts,
            )
        others = [r for r in submitted if r.reviewer_id != actor.person_id]
        peers = _pool(template, ReviewerRole.PEER, others, answers)
        reports = _pool(template, ReviewerRole.REPORT, others, answers)
    person = await names(session, [participant.person_id])
    return ReviewResultView(
        participant_id=participant.id,
        cycle_id=cycle.id,
        cycle_name=cycle.name,
        person_id=participant.person_id,
        person_name=person.get(participant.person_id, ""),
        phase=Phase(cycle.phase),
        released=Phase(cycle.phase) in RELEASED_PHASES,
        self_review=written(ReviewerRole.SELF),
        score=score,
        manager_review=manager,
        peers=peers,
        reports=reports,
        acknowledged_at=participant.acknowledged_at,
        acknowledgement_comment=participant.acknowledgement_comment,
    )


def _pool(
    template: TemplateView,
    role: ReviewerRole,
    reviews: Sequence[Review],
    answers: Mapping[int, Mapping[tuple[int, str], AnswerView]],
) -> AnonymousReviews | None:
    """The role's submitted reviews pooled per item, or None below ANONYMITY_THRESHOLD reviews."""
    pool = [r for r in reviews if r.role == role]
    if len(pool) < ANONYMITY_THRESHOLD:
        return None
    sections = tuple(
        SectionAggregate(
            s.id,
            s.title,
            tuple(
                pooled(
                    i.key,
                    i.text,
                    i.kind,
                    [answers[r.id].get((s.id, i.key), BLANK_ANSWER) for r in pool],
                    i.choices,
                )
                for i in s.items
            ),
        )
        for s in role_sections(template, role)
    )
    return AnonymousReviews(role=role, reviews=len(pool), sections=sections)


async def _participant(session: AsyncSession, cycle_id: int, person_id: int) -> ReviewParticipant:
    found = await session.scalar(
        select(ReviewParticipant)
        .where(ReviewParticipant.cycle_id == cycle_id, ReviewParticipant.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(REVIEW_NOT_FOUND)
    return found


async def _reviews_of(session: AsyncSession, participant_id: int) -> list[Review]:
    return list(
        await session.scalars(
            select(Review)
            .where(Review.participant_id == participant_id)
            .order_by(Review.id)
            .execution_options(populate_existing=True)
        )
    )

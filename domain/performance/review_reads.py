"""Reads for the tabs and the nudge engine: what I must write, my results, my team's status, a cycle's
dashboard, and every open cycle's pending items. Each is a few set-based queries, whatever the size of the
cycle (no query per person): due_items over a 50,000-person cycle is two queries on indexed columns.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Actor, may_manage_reviews, require
from domain.org import display_names as names
from domain.performance.review_nudges import KIND_ESCALATION, KIND_NUDGE
from domain.performance.review_phases import open_for
from domain.performance.review_records import cycle_row, cycle_view
from domain.performance.review_scoring import band, decimal
from domain.performance.review_views import (
    OPEN_PHASES,
    ROLE_DUE,
    ROLE_PHASE,
    Completion,
    CycleDashboard,
    DepartmentCompletion,
    DueItem,
    DueWhat,
    MyReviews,
    NudgeRecord,
    Phase,
    ResultSummary,
    ReviewerRole,
    ReviewStatus,
    ReviewTask,
    TeamMemberStatus,
)
from storage.models import (
    OutboxMessage,
    Person,
    Review,
    ReviewCycle,
    ReviewCyclePhase,
    ReviewParticipant,
    ReviewTemplate,
)

_OPEN = [p.value for p in OPEN_PHASES]
_UNSUBMITTED = [ReviewStatus.PENDING.value, ReviewStatus.DRAFT.value]
_RELEASED = [Phase.RELEASED.value, Phase.CLOSED.value]
# Which reviews the current phase of a cycle waits for.
_DUE_NOW = or_(
    and_(ReviewCycle.phase == Phase.SELF_REVIEW.value, Review.role == ReviewerRole.SELF.value),
    and_(
        ReviewCycle.phase == Phase.PEER_REVIEW.value,
        Review.role.in_([ReviewerRole.PEER.value, ReviewerRole.REPORT.value]),
    ),
    and_(ReviewCycle.phase == Phase.MANAGER_REVIEW.value, Review.role == ReviewerRole.MANAGER.value),
)


async def my_reviews(session: AsyncSession, *, actor: Actor, today: date) -> MyReviews:
    """The reviews the actor writes in open cycles (with status and due date), and their own released
    results (score only once released)."""
    rows = (
        await session.execute(
            select(Review, ReviewCycle.name, ReviewCycle.phase)
            .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
            .where(Review.reviewer_id == actor.person_id, ReviewCycle.phase.in_(_OPEN))
        )
    ).all()
    deadlines = await _deadlines(session, {r.cycle_id for r, _, _ in rows})
    people = await names(session, [r.reviewee_id for r, _, _ in rows])
    tasks = []
    for review, cycle_name, phase in rows:
        role = ReviewerRole(review.role)
        due = deadlines.get((review.cycle_id, ROLE_PHASE[role].value))
        is_open = open_for(role, Phase(phase))
        status = ReviewStatus(review.status)
        tasks.append(
            ReviewTask(
                review_id=review.id,
                cycle_id=review.cycle_id,
                cycle_name=cycle_name,
                role=role,
                reviewee_id=review.reviewee_id,
                reviewee_name=people.get(review.reviewee_id, ""),
                status=status,
                due_on=due,
                open=is_open,
                overdue=is_open and status is not ReviewStatus.SUBMITTED and due is not None and today > due,
            )
        )
    tasks.sort(key=lambda t: (not t.open, t.due_on or date.max, t.cycle_id, t.review_id))
    results = (
        await session.execute(
            select(ReviewParticipant, ReviewCycle, ReviewTemplate.scale_labels)
            .join(ReviewCycle, ReviewCycle.id == ReviewParticipant.cycle_id)
            .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
            .where(ReviewParticipant.person_id == actor.person_id, ReviewCycle.phase.in_(_RELEASED))
            .order_by(ReviewCycle.period_end.desc(), ReviewCycle.id.desc())
        )
    ).all()
    ack = await _deadlines(session, {c.id for _, c, _ in results})
    summaries = []
    for participant, cycle, scale in results:
        final = decimal(participant.final_score)
        point = band(final, len(scale))
        summaries.append(
            ResultSummary(
                participant_id=participant.id,
                cycle_id=cycle.id,
                cycle_name=cycle.name,
                period_start=cycle.period_start,
                period_end=cycle.period_end,
                phase=Phase(cycle.phase),
                final=final,
                band_label=scale[point - 1] if point is not None else None,
                acknowledged_at=participant.acknowledged_at,
                acknowledge_by=ack.get((cycle.id, Phase.RELEASED.value))
                if cycle.phase == Phase.RELEASED
                else None,
            )
        )
    return MyReviews(to_write=tuple(tasks), results=tuple(summaries))


async def team_review_status(session: AsyncSession, *, actor: Actor) -> tuple[TeamMemberStatus, ...]:
    """For a manager: everyone in their line (all levels) who is in an open cycle, and anyone whose
    manager review they write, with each phase's status (not the content). Empty for anyone else."""
    down = (
        select(Person.id.label("id"), literal(1).label("depth"))
        .where(Person.manager_id == actor.person_id)
        .cte("line", recursive=True)
    )
    down = down.union_all(
        select(Person.id, down.c.depth + 1)
        .join(down, Person.manager_id == down.c.id)
        .where(down.c.depth < 64)
    )
    p = ReviewParticipant
    in_line = and_(
        ReviewCycle.phase.in_(_OPEN),
        or_(p.person_id.in_(select(down.c.id)), p.manager_id == actor.person_id),
    )
    rows = (
        await session.execute(
            select(p, ReviewCycle.name, ReviewCycle.phase)
            .join(ReviewCycle, ReviewCycle.id == p.cycle_id)
            .where(in_line)
        )
    ).all()
    if not rows:
        return ()
    # The same selection again as a subquery, not a list of ids: a line may hold tens of thousands.
    theirs = select(p.id).join(ReviewCycle, ReviewCycle.id == p.cycle_id).where(in_line)
    counts: dict[int, dict[tuple[str, str], int]] = {}
    for participant_id, role, status, n in await session.execute(
        select(Review.participant_id, Review.role, Review.status, func.count())
        .where(Review.participant_id.in_(theirs))
        .group_by(Review.participant_id, Review.role, Review.status)
    ):
        counts.setdefault(participant_id, {})[(role, status)] = n
    people = await names(session, [participant.person_id for participant, _, _ in rows])

    def status_of(participant_id: int, role: ReviewerRole) -> ReviewStatus | None:
        found = [s for s in ReviewStatus if counts.get(participant_id, {}).get((role.value, s.value))]
        return found[0] if found else None

    views = []
    for participant, cycle_name, phase in rows:
        mine = counts.get(participant.id, {})
        views.append(
            TeamMemberStatus(
                participant_id=participant.id,
                cycle_id=participant.cycle_id,
                cycle_name=cycle_name,
                phase=Phase(phase),
                person_id=participant.person_id,
                person_name=people.get(participant.person_id, ""),
                department=participant.department,
                manager_id=participant.manager_id,
                self_review=status_of(participant.id, ReviewerRole.SELF),
                peers_submitted=mine.get((ReviewerRole.PEER.value, ReviewStatus.SUBMITTED.value), 0),
                peers_nominated=sum(n for (role, _), n in mine.items() if role == ReviewerRole.PEER),
                manager_review=status_of(participant.id, ReviewerRole.MANAGER),
                acknowledged=participant.acknowledged_at is not None,
            )
        )
    views.sort(key=lambda v: (v.cycle_id, v.person_name, v.participant_id))
    return tuple(views)


async def cycle_dashboard(
    session: AsyncSession, *, actor: Actor, cycle_id: int, today: date, limit: int = 200
) -> CycleDashboard:
    """HR's view of a cycle: completion of each kind of review and of acknowledgements, overall and per
    department (frozen at launch), and the current phase's overdue items (the first `limit`)."""
    require(may_manage_reviews(actor), "review cycles")
    cycle = await cycle_row(session, cycle_id)
    p = ReviewParticipant
    by_department: dict[str | None, dict[DueWhat, list[int]]] = {}
    totals: dict[DueWhat, list[int]] = {what: [0, 0] for what in DueWhat}
    for department, role, status, n in await session.execute(
        select(p.department, Review.role, Review.status, func.count())
        .join(p, p.id == Review.participant_id)
        .where(Review.cycle_id == cycle_id)
        .group_by(p.department, Review.role, Review.status)
    ):
        what = ROLE_DUE[ReviewerRole(role)]
        done = n if status == ReviewStatus.SUBMITTED else 0
        for bucket in (totals, by_department.setdefault(department, {w: [0, 0] for w in DueWhat})):
            bucket[what][0] += done
            bucket[what][1] += n
    for department, acknowledged, n in await session.execute(
        select(p.department, p.acknowledged_at.is_not(None), func.count())
        .where(p.cycle_id == cycle_id, p.manager_submitted_at.is_not(None))
        .group_by(p.department, p.acknowledged_at.is_not(None))
    ):
        for bucket in (totals, by_department.setdefault(department, {w: [0, 0] for w in DueWhat})):
            bucket[DueWhat.ACKNOWLEDGEMENT][0] += n if acknowledged else 0
            bucket[DueWhat.ACKNOWLEDGEMENT][1] += n
    overdue = [
        item
        for item in await _due(session, cycle_ids=[cycle_id], now=None)
        if item.deadline is not None and item.deadline < today
    ]
    overdue.sort(key=lambda i: (i.deadline or date.max, i.person_id, i.review_id or 0))
    shown = overdue[:limit]
    return CycleDashboard(
        cycle=await cycle_view(session, cycle),
        completion=_completion(totals),
        by_department=tuple(
            DepartmentCompletion(department, _completion(counts))
            for department, counts in sorted(
                by_department.items(), key=lambda kv: (kv[0] is None, kv[0] or "")
            )
        ),
        overdue=tuple(shown),
        overdue_total=len(overdue),
        names=await names(session, [i.person_id for i in shown] + [i.reviewee_id for i in shown]),
    )


async def due_items(session: AsyncSession, *, now: datetime) -> tuple[DueItem, ...]:
    """Every open cycle's pending items, for the nudge engine: the current phase's unsubmitted reviews
    (self, peer, upward or manager) and, once released, the acknowledgements still owed (where a manager
    review was submitted). Only active people, about active people. A plan made as of `now` (a test clock, a
    dry run) leaves out phases that opened after it. Two queries on indexed columns, whatever the size."""
    return tuple(await _due(session, cycle_ids=None, now=now))


async def _due(session: AsyncSession, *, cycle_ids: list[int] | None, now: datetime | None) -> list[DueItem]:
    phase = ReviewCyclePhase
    reviewer, reviewee = aliased(Person), aliased(Person)
    reviews: Select = (
        select(
            Review.reviewer_id,
            Review.role,
            Review.cycle_id,
            ReviewCycle.phase,
            Review.id,
            Review.participant_id,
            Review.reviewee_id,
            phase.due_on,
            phase.opened_at,
        )
        .join(ReviewCycle, ReviewCycle.id == Review.cycle_id)
        .join(phase, and_(phase.cycle_id == ReviewCycle.id, phase.phase == ReviewCycle.phase))
        .join(reviewer, and_(reviewer.id == Review.reviewer_id, reviewer.active.is_(True)))
        .join(reviewee, and_(reviewee.id == Review.reviewee_id, reviewee.active.is_(True)))
        .where(
            ReviewCycle.phase.in_(
                [Phase.SELF_REVIEW.value, Phase.PEER_REVIEW.value, Phase.MANAGER_REVIEW.value]
            ),
            Review.status.in_(_UNSUBMITTED),
            _DUE_NOW,
        )
    )
    p = ReviewParticipant
    acknowledgements: Select = (
        select(p.person_id, p.cycle_id, p.id, phase.due_on, phase.opened_at)
        .join(ReviewCycle, ReviewCycle.id == p.cycle_id)
        .join(phase, and_(phase.cycle_id == ReviewCycle.id, phase.phase == ReviewCycle.phase))
        .join(Person, and_(Person.id == p.person_id, Person.active.is_(True)))
        .where(
            ReviewCycle.phase == Phase.RELEASED.value,
            p.acknowledged_at.is_(None),
            p.manager_submitted_at.is_not(None),
        )
    )
    if cycle_ids is not None:
        reviews = reviews.where(Review.cycle_id.in_(cycle_ids))
        acknowledgements = acknowledgements.where(p.cycle_id.in_(cycle_ids))
    if now is not None:
        reviews = reviews.where(or_(phase.opened_at.is_(None), phase.opened_at <= now))
        acknowledgements = acknowledgements.where(or_(phase.opened_at.is_(None), phase.opened_at <= now))
    items = [
        DueItem(
            person_id=row[0],
            what=ROLE_DUE[ReviewerRole(row[1])],
            cycle_id=row[2],
            phase=Phase(row[3]),
            review_id=row[4],
            participant_id=row[5],
            reviewee_id=row[6],
            deadline=row[7],
            phase_opened_at=row[8],
        )
        for row in await session.execute(reviews)
    ]
    items += [
        DueItem(
            person_id=row[0],
            what=DueWhat.ACKNOWLEDGEMENT,
            cycle_id=row[1],
            phase=Phase.RELEASED,
            review_id=None,
            participant_id=row[2],
            reviewee_id=row[0],
            deadline=row[3],
            phase_opened_at=row[4],
        )
        for row in await session.execute(acknowledgements)
    ]
    return items


async def _deadlines(session: AsyncSession, cycle_ids: set[int]) -> dict[tuple[int, str], date | None]:
    if not cycle_ids:
        return {}
    rows = await session.execute(
        select(ReviewCyclePhase.cycle_id, ReviewCyclePhase.phase, ReviewCyclePhase.due_on).where(
            ReviewCyclePhase.cycle_id.in_(cycle_ids)
        )
    )
    return {(cycle_id, phase): due for cycle_id, phase, due in rows}


def _completion(counts: dict[DueWhat, list[int]]) -> tuple[Completion, ...]:
    return tuple(Completion(what, done, total) for what, (done, total) in counts.items() if total)


NUDGE_HISTORY_LIMIT = 200


async def nudge_history(
    session: AsyncSession, *, actor: Actor, cycle_id: int, limit: int = NUDGE_HISTORY_LIMIT
) -> tuple[NudgeRecord, ...]:
    """HR: the review nudges and escalations queued for a cycle, newest first, with what became of them
    (waiting, sent, or given up with the reason); read from the outbox, where the nudge engine records
    the cycle of each."""
    require(may_manage_reviews(actor), "review cycles")
    await cycle_row(session, cycle_id)  # NotFound for an unknown cycle
    rows = (
        await session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.person_id,
                OutboxMessage.status,
                OutboxMessage.created_at,
                OutboxMessage.sent_at,
                OutboxMessage.last_error,
            )
            .where(
                OutboxMessage.kind.in_([KIND_NUDGE, KIND_ESCALATION]),
                OutboxMessage.payload["cycle_id"].as_integer() == cycle_id,
            )
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    ).all()
    people = await names(session, {r.person_id for r in rows})
    return tuple(
        NudgeRecord(
            person_name=people.get(r.person_id, "") if r.person_id is not None else "",
            escalation=r.kind == KIND_ESCALATION,
            status=r.status,
            queued_at=r.created_at,
            sent_at=r.sent_at,
            error=r.last_error if r.status == "dead" else None,
        )
        for r in rows
    )

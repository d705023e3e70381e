"""A cycle's participants and reviewers: freezing them at launch, HR's explicit additions, peer nominations.

At launch the cycle's rule (a department, everyone below a manager, or a list) is resolved to the active
people it names now, each frozen with their manager (when active) and department of that moment; later
joiners are never added silently, only by HR (add_participant, recorded with who and when). Each
participant gets a self review, a manager review from their frozen manager, and, when the template asks
direct reports, one upward review per active direct report: set-based inserts, a statement per role
however many people. Peers are nominated during peer review by the person, their manager line or HR.

An open regular cycle over an overlapping period may not review the same person twice (refuse_overlaps);
new-hire cycles are left out of that rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import Actor, may_manage_reviews, may_nominate_peers, relation_to, require
from domain.errors import Invalid, NotFound
from domain.org import display_names as names
from domain.performance.review_phases import day
from domain.performance.review_records import CHUNK, CYCLE_NOT_FOUND, cycle_row
from domain.performance.review_templates import asks_reports, load_template
from domain.performance.review_views import (
    ADD_PHASES,
    OPEN_PHASES,
    PEERS_MAX,
    PHASE_LABELS,
    CycleKind,
    NominationView,
    ParticipantSource,
    ParticipantView,
    Phase,
    ReviewerRole,
    ReviewStatus,
    TemplateView,
)
from storage.models import Person, Review, ReviewCycle, ReviewParticipant
from storage.types import UTCDateTime


async def add_participant(
    session: AsyncSession, *, actor: Actor, cycle_id: int, person_id: int, now: datetime
) -> ParticipantView:
    """Add one person to a launched cycle explicitly (HR), until its manager review ends; their manager
    and department are frozen now, and who added them when is recorded. Adding them again changes nothing."""
    require(may_manage_reviews(actor), "review cycles")
    cycle = await cycle_row(session, cycle_id)
    phase = Phase(cycle.phase)
    if phase is Phase.DRAFT:
        raise Invalid("This cycle is a draft: its participants come from its rule when it launches.")
    if phase not in ADD_PHASES:
        raise Invalid(
            f"People can be added until the manager review ends: this cycle is {PHASE_LABELS[phase]} now."
        )
    if (done := await _participant_id(session, cycle_id, person_id)) is not None:
        return replace((await _participant_views(session, [done]))[0], already_submitted=True)
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound("That person is not in the directory.")
    frozen = await with_active_managers(session, [(person.id, person.manager_id, person.department)])
    template = await load_template(session, cycle.template_id)
    try:
        async with session.begin_nested():
            await insert_participants(
                session, cycle.id, frozen, ParticipantSource.ADDED, actor.person_id, now
            )
            await refuse_overlaps(session, cycle)
            added = await _participant_id(session, cycle_id, person_id)
            assert added is not None
            await create_reviews(session, cycle.id, template, now, participant_id=added)
    except IntegrityError:
        # Added by someone else at the same moment.
        if (done := await _participant_id(session, cycle_id, person_id)) is not None:
            return replace((await _participant_views(session, [done]))[0], already_submitted=True)
        raise
    return (await _participant_views(session, [added]))[0]


async def list_participants(
    session: AsyncSession, *, actor: Actor, cycle_id: int
) -> tuple[ParticipantView, ...]:
    """A launched cycle's participants with their frozen manager and department (HR), by name."""
    require(may_manage_reviews(actor), "review cycles")
    await cycle_row(session, cycle_id)
    ids = list(
        await session.scalars(select(ReviewParticipant.id).where(ReviewParticipant.cycle_id == cycle_id))
    )
    views = await _participant_views(session, ids)
    return tuple(sorted(views, key=lambda v: (v.person_name, v.id)))


async def nominate_peers(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    reviewee_id: int,
    peer_ids: Iterable[int],
    now: datetime,
) -> NominationView:
    """Name colleagues to review someone during peer review: the person, their manager line or HR.

    Peers already named stay (naming them again adds nothing); at most PEERS_MAX per person. `added` lists
    who this call nominated, for their cards."""
    cycle = await session.get(ReviewCycle, cycle_id)
    if cycle is None:
        raise NotFound(CYCLE_NOT_FOUND)
    participant = await session.scalar(
        select(ReviewParticipant).where(
            ReviewParticipant.cycle_id == cycle_id, ReviewParticipant.person_id == reviewee_id
        )
    )
    if participant is None:
        raise NotFound("That person is not reviewed in this cycle.")
    require(may_nominate_peers(actor, await relation_to(session, actor, reviewee_id)), "this person's review")
    template = await load_template(session, cycle.template_id)
    if not any(ReviewerRole.PEER in s.answered_by for s in template.sections):
        raise Invalid("This cycle's template has no section for peers: there is nobody to nominate.")
    if cycle.phase != Phase.PEER_REVIEW:
        raise Invalid(
            f"Peers are nominated during the peer review: this cycle is {_where(Phase(cycle.phase))}."
        )
    wanted = list(dict.fromkeys(peer_ids))
    if reviewee_id in wanted:
        raise Invalid("Nobody reviews themselves as a peer: name colleagues.")
    if participant.manager_id is not None and participant.manager_id in wanted:
        raise Invalid("Their manager writes the manager review: name peers other than them.")
    current = await _peers(session, cycle_id, reviewee_id)
    new = [pid for pid in wanted if pid not in current]
    if len(current) + len(new) > PEERS_MAX:
        raise Invalid(
            f"A person has at most {PEERS_MAX} peer reviewers (that would make {len(current) + len(new)})."
        )
    if new:
        found = set(
            await session.scalars(select(Person.id).where(Person.id.in_(new), Person.active.is_(True)))
        )
        if len(found) != len(new):
            raise NotFound("Someone you named is not in the directory.")
        try:
            async with session.begin_nested():
                session.add_all(
                    Review(
                        cycle_id=cycle_id,
                        participant_id=participant.id,
                        reviewee_id=reviewee_id,
                        reviewer_id=pid,
                        role=ReviewerRole.PEER.value,
                        status=ReviewStatus.PENDING.value,
                        step=0,
                        version=0,
                        nominated_by_id=actor.person_id,
                        created_at=now,
                        updated_at=now,
                    )
                    for pid in new
                )
                await session.flush()
        except IntegrityError:
            # Someone nominated some of them at the same moment: add the rest one by one.
            new = await _add_peers_one_by_one(session, actor, participant, new, now)
    peers = await _peers(session, cycle_id, reviewee_id)
    people = await names(session, peers)
    return NominationView(
        cycle_id=cycle_id,
        reviewee_id=reviewee_id,
        peers=tuple((pid, people.get(pid, "")) for pid in peers),
        added=tuple(new),
    )


async def resolve_rule(session: AsyncSession, cycle: ReviewCycle) -> list[Frozen]:
    """The active people the cycle's rule names now, with their manager (if active) and department."""
    columns = (Person.id, Person.manager_id, Person.department)
    active = Person.active.is_(True)
    rows: list[Frozen] = []
    if cycle.rule_department is not None:
        found = await session.execute(
            select(*columns).where(Person.department == cycle.rule_department, active)
        )
        rows = [tuple(r) for r in found]
    elif cycle.rule_manager_id is not None:
        down = (
            select(Person.id.label("id"), literal(1).label("depth"))
            .where(Person.manager_id == cycle.rule_manager_id)
            .cte("line", recursive=True)
        )
        down = down.union_all(
            select(Person.id, down.c.depth + 1)
            .join(down, Person.manager_id == down.c.id)
            .where(down.c.depth < 64)
        )
        found = await session.execute(select(*columns).where(Person.id.in_(select(down.c.id)), active))
        rows = [tuple(r) for r in found]
    else:
        ids = list(dict.fromkeys(cycle.rule_person_ids or ()))
        for start in range(0, len(ids), CHUNK):
            found = await session.execute(
                select(*columns).where(Person.id.in_(ids[start : start + CHUNK]), active)
            )
            rows += [tuple(r) for r in found]
    return await with_active_managers(session, sorted(rows))


async def with_active_managers(session: AsyncSession, rows: Sequence[Frozen]) -> list[Frozen]:
    """The rows with a manager who left the directory replaced by None: nobody is asked to review then."""
    managers = sorted({m for _, m, _ in rows if m is not None})
    active: set[int] = set()
    for start in range(0, len(managers), CHUNK):
        active |= set(
            await session.scalars(
                select(Person.id).where(
                    Person.id.in_(managers[start : start + CHUNK]), Person.active.is_(True)
                )
            )
        )
    return [(pid, m if m in active else None, dept) for pid, m, dept in rows]


async def insert_participants(
    session: AsyncSession,
    cycle_id: int,
    people: Sequence[Frozen],
    source: ParticipantSource,
    added_by_id: int | None,
    now: datetime,
) -> None:
    """Freeze people as the cycle's participants (a bulk insert in batches)."""
    rows = [
        {
            "cycle_id": cycle_id,
            "person_id": pid,
            "manager_id": manager_id,
            "department": department,
            "source": source.value,
            "added_at": now,
            "added_by_id": added_by_id,
        }
        for pid, manager_id, department in people
    ]
    for start in range(0, len(rows), CHUNK):
        await session.execute(insert(ReviewParticipant.__table__), rows[start : start + CHUNK])


async def create_reviews(
    session: AsyncSession,
    cycle_id: int,
    template: TemplateView,
    now: datetime,
    participant_id: int | None = None,
) -> None:
    """Self, manager and (when the template asks them) upward reviews of the cycle's participants, or of
    one of them: set-based, a statement per role however many people."""
    p = ReviewParticipant
    where = [p.cycle_id == cycle_id] + ([p.id == participant_id] if participant_id is not None else [])
    stamp = literal(now, UTCDateTime())
    columns = ["cycle_id", "participant_id", "reviewee_id", "reviewer_id", "role", "status", "step"]
    columns += ["version", "created_at", "updated_at"]
    pending = literal(ReviewStatus.PENDING.value)

    def rows(reviewer: Any, role: ReviewerRole) -> Select[Any]:
        first_step = literal(0)
        return select(
            p.cycle_id,
            p.id,
            p.person_id,
            reviewer,
            literal(role.value),
            pending,
            first_step,
            first_step,
            stamp,
            stamp,
        )

    table = Review.__table__
    await session.execute(
        insert(table).from_select(columns, rows(p.person_id, ReviewerRole.SELF).where(*where))
    )
    await session.execute(
        insert(table).from_select(
            columns, rows(p.manager_id, ReviewerRole.MANAGER).where(*where, p.manager_id.is_not(None))
        )
    )
    if asks_reports(template):
        report = aliased(Person)
        upward = (
            rows(report.id, ReviewerRole.REPORT)
            .join(report, and_(report.manager_id == p.person_id, report.active.is_(True)))
            .where(*where)
        )
        await session.execute(insert(table).from_select(columns, upward))


async def refuse_overlaps(session: AsyncSession, cycle: ReviewCycle) -> None:
    """Invalid when another open regular cycle over an overlapping period reviews some of these people."""
    if cycle.kind != CycleKind.REGULAR:
        return
    others = (
        await session.execute(
            select(ReviewCycle.id, ReviewCycle.name, ReviewCycle.period_start, ReviewCycle.period_end).where(
                ReviewCycle.id != cycle.id,
                ReviewCycle.kind == CycleKind.REGULAR.value,
                ReviewCycle.phase.in_([p.value for p in OPEN_PHASES]),
                ReviewCycle.period_start <= cycle.period_end,
                ReviewCycle.period_end >= cycle.period_start,
            )
        )
    ).all()
    if not others:
        return
    mine, theirs = aliased(ReviewParticipant), aliased(ReviewParticipant)
    shared = dict(
        (
            await session.execute(
                select(theirs.cycle_id, func.count())
                .join(mine, and_(mine.person_id == theirs.person_id, mine.cycle_id == cycle.id))
                .where(theirs.cycle_id.in_([o.id for o in others]))
                .group_by(theirs.cycle_id)
            )
        ).all()
    )
    for other in others:
        if count := shared.get(other.id):
            people = "1 of these people" if count == 1 else f"{count} of these people"
            raise Invalid(
                f"“{other.name}” ({day(other.period_start)} to {day(other.period_end)}) is still open, "
                f"overlaps this period and already reviews {people}. Close it first, or choose other "
                "people or another period."
            )


async def describe_rule(session: AsyncSession, cycle: ReviewCycle) -> str:
    """The cycle's rule as a sentence names it: "the Sales department", "Alex Wilber's line"."""
    if cycle.rule_department is not None:
        return f"the {cycle.rule_department} department"
    if cycle.rule_manager_id is not None:
        who = (await names(session, [cycle.rule_manager_id])).get(cycle.rule_manager_id, "the manager")
        return f"{who}'s line"
    return "the list of people"


async def _participant_id(session: AsyncSession, cycle_id: int, person_id: int) -> int | None:
    return await session.scalar(
        select(ReviewParticipant.id).where(
            ReviewParticipant.cycle_id == cycle_id, ReviewParticipant.person_id == person_id
        )
    )


async def _participant_views(session: AsyncSession, ids: Sequence[int]) -> list[ParticipantView]:
    rows: list[ReviewParticipant] = []
    for start in range(0, len(ids), CHUNK):
        rows += list(
            await session.scalars(
                select(ReviewParticipant).where(ReviewParticipant.id.in_(ids[start : start + CHUNK]))
            )
        )
    people = await names(session, [pid for r in rows for pid in (r.person_id, r.manager_id)])
    return [
        ParticipantView(
            id=r.id,
            cycle_id=r.cycle_id,
            person_id=r.person_id,
            person_name=people.get(r.person_id, ""),
            department=r.department,
            manager_id=r.manager_id,
            manager_name=people.get(r.manager_id) if r.manager_id is not None else None,
            source=ParticipantSource(r.source),
            added_at=r.added_at,
            added_by_id=r.added_by_id,
        )
        for r in rows
    ]


async def _peers(session: AsyncSession, cycle_id: int, reviewee_id: int) -> list[int]:
    return list(
        await session.scalars(
            select(Review.reviewer_id)
            .where(
                Review.cycle_id == cycle_id,
                Review.reviewee_id == reviewee_id,
                Review.role == ReviewerRole.PEER.value,
            )
            .order_by(Review.id)
        )
    )


async def _add_peers_one_by_one(
    session: AsyncSession, actor: Actor, participant: ReviewParticipant, wanted: Sequence[int], now: datetime
) -> list[int]:
    added = []
    for pid in wanted:
        try:
            async with session.begin_nested():
                session.add(
                    Review(
                        cycle_id=participant.cycle_id,
                        participant_id=participant.id,
                        reviewee_id=participant.person_id,
                        reviewer_id=pid,
                        role=ReviewerRole.PEER.value,
                        status=ReviewStatus.PENDING.value,
                        step=0,
                        version=0,
                        nominated_by_id=actor.person_id,
                        created_at=now,
                        updated_at=now,
                    )
                )
                await session.flush()
        except IntegrityError:
            continue
        added.append(pid)
    return added


def _where(phase: Phase) -> str:
    if phase is Phase.DRAFT:
        return "still a draft"
    if phase in (Phase.RELEASED, Phase.CLOSED):
        return PHASE_LABELS[phase]
    return f"in {PHASE_LABELS[phase]}"


Frozen = tuple[int, int | None, str | None]  # person id, manager id, department at launch

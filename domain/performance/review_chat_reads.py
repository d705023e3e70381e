"""Reads that review chat needs beyond review_reads: the nudge plan's inputs, loaded in bulk (the people
concerned, their zones, managers and chats, cycle names, review statuses, the outbox keys already used),
and the peer nominations open to someone. The rules themselves are review_nudges' (pure).

Bulk: a few set-based queries however many people are due, long id lists sent in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor
from domain.nudges import DEFAULT_HOURS, WorkingHours
from domain.org import display_names as names
from domain.performance.improvement_plans import due_checkpoints
from domain.performance.review_nudges import (
    NudgePlan,
    Reach,
    Recipient,
    Requested,
    ReviewFacts,
    checkpoint_keys,
    keys_to_check,
    plan_checkpoints,
    plan_reviews,
)
from domain.performance.review_reads import due_items
from domain.performance.review_records import CHUNK
from domain.performance.review_templates import load_template
from domain.performance.review_views import Phase, ReviewerRole, ReviewStatus
from storage.models import (
    ConversationRef,
    OutboxMessage,
    Person,
    Review,
    ReviewCycle,
    ReviewCyclePhase,
    ReviewParticipant,
)


async def nudge_plan(
    session: AsyncSession,
    *,
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
    requested: Requested | None = None,
    checkpoints: bool = True,
) -> NudgePlan:
    """What a nudge pass at `now` would send, to whom, why and when (writes nothing).

    `requested`: only that cycle's nudges (for those people), each of them whatever the day, as HR's
    "nudge now" or a peer nomination asks; `checkpoints`: include improvement plan checkpoint reminders."""
    items = await due_items(session, now=now)
    if requested is not None:
        items = tuple(i for i in items if requested.covers(i.cycle_id, i.person_id))
    due = await due_checkpoints(session, now=now) if checkpoints else ()
    wanted = {i.person_id for i in items} | {i.reviewee_id for i in items}
    wanted |= {d.manager_id for d in due} | {d.employee_id for d in due}
    people = await recipients(session, wanted)
    # Escalations go to the managers of the people who are due.
    due_people = {i.person_id for i in items}
    managers = {p.manager_id for pid, p in people.items() if pid in due_people and p.manager_id is not None}
    people |= await recipients(session, [m for m in managers if m not in people])
    keys = keys_to_check(items, people, now=now, default_zone=default_zone, hours=hours)
    keys |= checkpoint_keys(due, people, now=now, default_zone=default_zone, hours=hours)
    sent = await used_keys(session, keys)
    facts = ReviewFacts(
        people=people,
        cycle_names=await _cycle_names(session, {i.cycle_id for i in items}),
        statuses=await _statuses(
            session, [i.review_id for i in items if i.review_id is not None], {i.cycle_id for i in items}
        ),
    )
    return NudgePlan(
        now=now,
        reviews=plan_reviews(
            items,
            facts,
            sent=sent,
            now=now,
            default_zone=default_zone,
            hours=hours,
            requested=requested,
        ),
        checkpoints=plan_checkpoints(due, people, sent=sent, now=now, default_zone=default_zone, hours=hours),
    )


async def recipients(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, Recipient]:
    """Active people with their zone, active manager and whether the bot can reach them."""
    ids = sorted(set(person_ids))
    rows, everyone_active = await _people(session, ids)
    active = everyone_active or await _active(session, {r[3] for r in rows.values()})
    reach = await _reach(session, list(rows))
    found: dict[int, Recipient] = {}
    for pid, name, zone, manager_id in rows.values():
        found[pid] = Recipient(
            person_id=pid,
            name=name,
            time_zone=zone,
            manager_id=manager_id if manager_id in active and manager_id != pid else None,
            reach=reach.get(pid, Reach.NO_CHAT),
        )
    return found


_PERSON = select(Person.id, Person.display_name, Person.time_zone, Person.manager_id).where(
    Person.active.is_(True)
)
_Row = tuple[int, str, str | None, int | None]


async def _people(session: AsyncSession, ids: Sequence[int]) -> tuple[dict[int, _Row], set[int] | None]:
    """The active people among `ids`, and every active person's id when that was read anyway.

    A pass over a large cycle wants most of the organization: one read of everyone beats tens of
    thousands of bound ids, and it tells which managers are active for free."""
    if len(ids) > CHUNK:
        wanted = set(ids)
        everyone = [(r[0], r[1], r[2], r[3]) for r in await session.execute(_PERSON)]
        return {r[0]: r for r in everyone if r[0] in wanted}, {r[0] for r in everyone}
    rows: dict[int, _Row] = {}
    for start in range(0, len(ids), CHUNK):
        for r in await session.execute(_PERSON.where(Person.id.in_(ids[start : start + CHUNK]))):
            rows[r[0]] = (r[0], r[1], r[2], r[3])
    return rows, None


async def _active(session: AsyncSession, person_ids: set[int | None]) -> set[int]:
    ids = sorted(pid for pid in person_ids if pid is not None)
    active: set[int] = set()
    for start in range(0, len(ids), CHUNK):
        active |= set(
            await session.scalars(
                select(Person.id).where(Person.id.in_(ids[start : start + CHUNK]), Person.active.is_(True))
            )
        )
    return active


async def used_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    """Which of these outbox dedupe keys are taken (whatever became of their messages)."""
    wanted = sorted(set(keys))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found |= set(
            await session.scalars(
                select(OutboxMessage.dedupe_key).where(
                    OutboxMessage.dedupe_key.in_(wanted[start : start + CHUNK])
                )
            )
        )
    return found


async def _reach(session: AsyncSession, person_ids: Sequence[int]) -> dict[int, Reach]:
    query = select(ConversationRef.person_id, ConversationRef.blocked_at)
    chunks = (
        [query]
        if len(person_ids) > CHUNK  # most of the organization: one read of every conversation
        else [
            query.where(ConversationRef.person_id.in_(person_ids[start : start + CHUNK]))
            for start in range(0, len(person_ids), CHUNK)
        ]
    )
    found: dict[int, Reach] = {}
    for chunk in chunks:
        for pid, blocked_at in await session.execute(chunk):
            found[pid] = Reach.BLOCKED if blocked_at is not None else Reach.CHAT
    return found


async def _cycle_names(session: AsyncSession, cycle_ids: set[int]) -> dict[int, str]:
    if not cycle_ids:
        return {}
    rows = await session.execute(
        select(ReviewCycle.id, ReviewCycle.name).where(ReviewCycle.id.in_(cycle_ids))
    )
    return dict(rows.all())


async def _statuses(
    session: AsyncSession, review_ids: Sequence[int], cycle_ids: set[int]
) -> dict[int, ReviewStatus]:
    ids = sorted(set(review_ids))
    query = select(Review.id, Review.status)
    chunks = (
        [query.where(Review.cycle_id.in_(cycle_ids))]  # most of their reviews: read them by cycle
        if len(ids) > CHUNK
        else [query.where(Review.id.in_(ids[start : start + CHUNK])) for start in range(0, len(ids), CHUNK)]
    )
    wanted = set(ids)
    found: dict[int, ReviewStatus] = {}
    for chunk in chunks:
        for rid, status in await session.execute(chunk):
            if rid in wanted:
                found[rid] = ReviewStatus(status)
    return found


async def scale_of(session: AsyncSession, cycle_id: int) -> tuple[str, ...]:
    """The labels of a cycle's rating scale (not confidential: every form shows them)."""
    template_id = await session.scalar(select(ReviewCycle.template_id).where(ReviewCycle.id == cycle_id))
    return () if template_id is None else (await load_template(session, template_id)).scale


# --- peer nominations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NominationOpening:
    """Someone whose peers the actor may name now: themselves, or a report whose review they write."""

    cycle_id: int
    cycle_name: str
    reviewee_id: int
    reviewee_name: str
    peers: tuple[str, ...]  # names of the peers nominated so far
    due_on: date | None  # the end of the peer review phase


async def nomination_openings(session: AsyncSession, *, actor: Actor) -> tuple[NominationOpening, ...]:
    """Cycles in peer review whose template asks peers, where the actor is reviewed or writes the manager
    review: whose peers they may nominate (review_participants.nominate_peers checks again)."""
    p = ReviewParticipant
    rows = (
        await session.execute(
            select(
                p.cycle_id, p.person_id, ReviewCycle.name, ReviewCycle.template_id, ReviewCyclePhase.due_on
            )
            .join(ReviewCycle, ReviewCycle.id == p.cycle_id)
            .outerjoin(
                ReviewCyclePhase,
                (ReviewCyclePhase.cycle_id == p.cycle_id)
                & (ReviewCyclePhase.phase == Phase.PEER_REVIEW.value),
            )
            .where(
                ReviewCycle.phase == Phase.PEER_REVIEW.value,
                or_(p.person_id == actor.person_id, p.manager_id == actor.person_id),
            )
        )
    ).all()
    asks_peers: dict[int, bool] = {}
    for template_id in {r.template_id for r in rows}:
        template = await load_template(session, template_id)
        asks_peers[template_id] = any(ReviewerRole.PEER in s.answered_by for s in template.sections)
    rows = [r for r in rows if asks_peers[r.template_id]]
    if not rows:
        return ()
    peers: dict[tuple[int, int], list[int]] = {}
    for cycle_id, reviewee_id, reviewer_id in await session.execute(
        select(Review.cycle_id, Review.reviewee_id, Review.reviewer_id)
        .where(
            Review.cycle_id.in_({r.cycle_id for r in rows}),
            Review.reviewee_id.in_({r.person_id for r in rows}),
            Review.role == ReviewerRole.PEER.value,
        )
        .order_by(Review.id)
    ):
        peers.setdefault((cycle_id, reviewee_id), []).append(reviewer_id)
    people = await names(session, [r.person_id for r in rows] + [x for v in peers.values() for x in v])
    openings = [
        NominationOpening(
            cycle_id=r.cycle_id,
            cycle_name=r.name,
            reviewee_id=r.person_id,
            reviewee_name=people.get(r.person_id, ""),
            peers=tuple(people.get(x, "") for x in peers.get((r.cycle_id, r.person_id), ())),
            due_on=r.due_on,
        )
        for r in rows
    ]
    # Their own first, then their reports by name.
    openings.sort(key=lambda o: (o.reviewee_id != actor.person_id, o.reviewee_name, o.cycle_id))
    return tuple(openings)

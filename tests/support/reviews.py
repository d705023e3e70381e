"""Review cycles for bot tests, built as HR would through the domain services on the demo organization.

The template: goals 50, competencies 30 (Communication, Delivery), overall 20 (a rating, a required text,
an optional choice), all answered by the person and their manager, on the five-point scale; no peer
section, so its cycles go self review → manager review → calibration → released.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Actor, load_actor
from domain.performance import review_cycles, review_templates
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    CycleDeadlines,
    CycleView,
    ItemInput,
    ItemKind,
    ParticipantRule,
    Phase,
    ReviewerRole,
    SectionInput,
    SectionKind,
)
from storage import demo
from storage.models import Person, Review
from storage.uow import unit_of_work

MANAGER_AND_SELF = (ReviewerRole.SELF, ReviewerRole.MANAGER)
# Goals 50, competencies 30, questions 20 (scored, from the manager's ratings); a peer and upward section
# weighing 0 (shown pooled, never scored).
STANDARD_SECTIONS = (
    SectionInput(SectionKind.GOALS, "Goals", 50, MANAGER_AND_SELF),
    SectionInput(
        SectionKind.COMPETENCIES,
        "Competencies",
        30,
        MANAGER_AND_SELF,
        (ItemInput("Communication"), ItemInput("Delivery"), ItemInput("Ownership")),
    ),
    SectionInput(
        SectionKind.QUESTIONS,
        "Overall",
        20,
        MANAGER_AND_SELF,
        (
            ItemInput("Overall impact", ItemKind.RATING),
            ItemInput("Highlights of the quarter", ItemKind.TEXT),
            ItemInput("Ready for promotion?", ItemKind.CHOICE, required=False, choices=("Yes", "Not yet")),
        ),
    ),
    SectionInput(
        SectionKind.QUESTIONS,
        "Working together",
        0,
        (ReviewerRole.PEER, ReviewerRole.REPORT),
        (
            ItemInput("Collaboration", ItemKind.RATING),
            ItemInput("What should they keep doing?", ItemKind.TEXT, required=False),
        ),
    ),
)


BOTH = (ReviewerRole.SELF, ReviewerRole.MANAGER)
SECTIONS = (
    SectionInput(SectionKind.GOALS, "Goals", 50, BOTH),
    SectionInput(
        SectionKind.COMPETENCIES,
        "Competencies",
        30,
        BOTH,
        (ItemInput("Communication"), ItemInput("Delivery")),
    ),
    SectionInput(
        SectionKind.QUESTIONS,
        "Overall",
        20,
        BOTH,
        (
            ItemInput("Overall impact", ItemKind.RATING),
            ItemInput("Highlights of the quarter", ItemKind.TEXT),
            ItemInput("Ready for promotion?", ItemKind.CHOICE, required=False, choices=("Yes", "Not yet")),
        ),
    ),
)


# Peers answer a section of their own (weight 0: shown pooled, never scored); with it, cycles have a peer
# review phase between the self and manager reviews.
PEER_SECTION = SectionInput(
    SectionKind.QUESTIONS,
    "Working together",
    0,
    (ReviewerRole.PEER,),
    (
        ItemInput("Collaboration", ItemKind.RATING),
        ItemInput("What should they keep doing?", ItemKind.TEXT, required=False),
    ),
)


@dataclass(frozen=True)
class Deadlines:
    self_review: date
    manager_review: date
    calibration: date
    acknowledgement: date
    peer_review: date | None = None

    def cycle(self) -> CycleDeadlines:
        return CycleDeadlines(
            self.self_review, self.manager_review, self.calibration, self.acknowledgement, self.peer_review
        )


async def person_id(sessions: async_sessionmaker[AsyncSession], persona: demo._Persona) -> int:
    async with sessions() as session:
        found = await session.scalar(select(Person.id).where(Person.aad_object_id == persona.aad_object_id))
    assert found is not None
    return found


async def actor(session: AsyncSession, persona: demo._Persona) -> Actor:
    pid = await session.scalar(select(Person.id).where(Person.aad_object_id == persona.aad_object_id))
    assert pid is not None
    return await load_actor(session, pid)


async def launch_cycle(
    sessions: async_sessionmaker[AsyncSession],
    *,
    people: tuple[demo._Persona, ...],
    deadlines: Deadlines,
    now: datetime,
    name: str = "2026-Q1 review",
    period: tuple[date, date] = (date(2026, 1, 1), date(2026, 3, 31)),
    template_name: str = "Quarterly review",
    sections: tuple[SectionInput, ...] = SECTIONS,
) -> CycleView:
    """Megan (HR) defines the template and a cycle reviewing `people`, and launches it at `now`."""
    async with unit_of_work(sessions) as session:
        megan = await actor(session, demo.MEGAN)
        template = await review_templates.create_template(
            session, actor=megan, name=template_name, scale=FIVE_POINT_SCALE, sections=sections, now=now
        )
        ids = [await actor(session, p) for p in people]
        cycle = await review_cycles.create_cycle(
            session,
            actor=megan,
            name=name,
            template_id=template.id,
            period_start=period[0],
            period_end=period[1],
            deadlines=deadlines.cycle(),
            participants=ParticipantRule.people([a.person_id for a in ids]),
            now=now,
        )
        return await review_cycles.launch_cycle(session, actor=megan, cycle_id=cycle.id, now=now)


async def advance(
    sessions: async_sessionmaker[AsyncSession], cycle_id: int, to: Phase, now: datetime
) -> CycleView:
    """Megan moves the cycle on to `to` (the next phase)."""
    async with unit_of_work(sessions) as session:
        megan = await actor(session, demo.MEGAN)
        return await review_cycles.advance(session, actor=megan, cycle_id=cycle_id, to=to, now=now)


async def review_id(
    sessions: async_sessionmaker[AsyncSession], cycle_id: int, reviewer: demo._Persona, role: ReviewerRole
) -> int:
    async with sessions() as session:
        reviewer_id = await session.scalar(
            select(Person.id).where(Person.aad_object_id == reviewer.aad_object_id)
        )
        found = (
            await session.scalars(
                select(Review.id).where(
                    Review.cycle_id == cycle_id, Review.reviewer_id == reviewer_id, Review.role == role.value
                )
            )
        ).all()
    assert len(found) == 1, found
    return found[0]

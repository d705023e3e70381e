"""The demo organization's Playground people as actors, for domain service tests.

Alex Wilber manages Adele Vance and Isaiah Langer (Engineering); Lynne Robbins is Alex's manager; Patti
Fernandez is in Sales; Megan Bowen is HR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, load_actor
from domain.performance import review_cycles, review_templates
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    CycleDeadlines,
    CycleView,
    ParticipantRule,
    Phase,
    Recurrence,
    ReviewerRole,
    SectionInput,
    TemplateView,
)
from storage import demo
from storage.models import Person, Review
from tests.support.reviews import STANDARD_SECTIONS


@dataclass(frozen=True)
class Cast:
    alex: Actor
    adele: Actor
    isaiah: Actor
    lynne: Actor
    patti: Actor
    megan: Actor


@pytest_asyncio.fixture
async def cast(session, demo_org) -> Cast:
    async def actor(persona) -> Actor:
        pid = await session.scalar(select(Person.id).where(Person.aad_object_id == persona.aad_object_id))
        return await load_actor(session, pid)

    return Cast(
        alex=await actor(demo.ALEX),
        adele=await actor(demo.ADELE),
        isaiah=await actor(demo.ISAIAH),
        lynne=await actor(demo.LYNNE),
        patti=await actor(demo.PATTI),
        megan=await actor(demo.MEGAN),
    )


# --- performance reviews -----------------------------------------------------------------------------------

REVIEW_NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
Q1_START, Q1_END = date(2026, 1, 1), date(2026, 3, 31)
Q1_DEADLINES = CycleDeadlines(
    self_review=date(2026, 3, 13),
    peer_review=date(2026, 3, 20),
    manager_review=date(2026, 3, 27),
    calibration=date(2026, 4, 3),
    acknowledgement=date(2026, 4, 17),
)


@dataclass
class ReviewKit:
    """Builds review templates and cycles for the demo organization, as Megan (HR), at REVIEW_NOW."""

    session: AsyncSession
    cast: Cast
    now: datetime = REVIEW_NOW
    standard: TemplateView | None = None  # the standard template, made on first use

    async def template(
        self,
        name: str = "Quarterly review",
        sections: tuple[SectionInput, ...] = STANDARD_SECTIONS,
        scale: tuple[str, ...] = FIVE_POINT_SCALE,
    ) -> TemplateView:
        return await review_templates.create_template(
            self.session, actor=self.cast.megan, name=name, scale=scale, sections=sections, now=self.now
        )

    async def cycle(
        self,
        template: TemplateView | None = None,
        rule: ParticipantRule | None = None,
        name: str = "2026-Q1 review",
        period: tuple[date, date] = (Q1_START, Q1_END),
        deadlines: CycleDeadlines = Q1_DEADLINES,
        recurrence: Recurrence = Recurrence.NONE,
    ) -> CycleView:
        if template is None:
            self.standard = template = self.standard or await self.template()
        return await review_cycles.create_cycle(
            self.session,
            actor=self.cast.megan,
            name=name,
            template_id=template.id,
            period_start=period[0],
            period_end=period[1],
            deadlines=deadlines,
            participants=rule or ParticipantRule.below_manager(self.cast.alex.person_id),
            now=self.now,
            recurrence=recurrence,
        )

    async def launched(self, **kwargs: Any) -> CycleView:
        """A cycle in self review (Alex's team unless another rule is given)."""
        cycle = await self.cycle(**kwargs)
        return await review_cycles.launch_cycle(
            self.session, actor=self.cast.megan, cycle_id=cycle.id, now=self.now
        )

    async def move_to(self, cycle_id: int, phase: Phase) -> CycleView:
        """Advance the cycle phase by phase until it is in `phase`."""
        view = await review_cycles.get_cycle(self.session, actor=self.cast.megan, cycle_id=cycle_id)
        while view.phase != phase:
            assert view.next_phase is not None, f"{phase} is behind {view.phase}"
            view = await review_cycles.advance(
                self.session, actor=self.cast.megan, cycle_id=cycle_id, to=view.next_phase, now=self.now
            )
        return view

    async def review_id(
        self, cycle_id: int, reviewee: Actor, role: ReviewerRole, reviewer: Actor | None = None
    ) -> int:
        query = select(Review.id).where(
            Review.cycle_id == cycle_id, Review.reviewee_id == reviewee.person_id, Review.role == role.value
        )
        if reviewer is not None:
            query = query.where(Review.reviewer_id == reviewer.person_id)
        found = (await self.session.scalars(query)).all()
        assert len(found) == 1, found
        return found[0]


@pytest_asyncio.fixture
async def kit(session, cast) -> ReviewKit:
    """Review templates and cycles on the demo organization."""
    return ReviewKit(session, cast)

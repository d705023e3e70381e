"""New-hire reviews, event-driven: one small cycle per person, NEW_HIRE_DAYS after their hire date.

Run by the scheduler (acts for no one). Each new hire whose 90th day came in the last NEW_HIRE_CATCH_UP_DAYS
and who has no new-hire review gets a cycle of kind new_hire over their first 90 days, launched straight
into self review (participant: them, frozen with their manager), with deadlines counted from its creation
(NEW_HIRE_DEADLINE_DAYS). A person gets at most one, ever: the cycle's new_hire_person_id is unique, so a
second run, or two processes at once, create nothing twice. One cycle per person (not one standing cycle)
because each new hire's review runs on its own dates, and a cycle's phases are shared by its participants.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.performance.review_participants import create_reviews, insert_participants, with_active_managers
from domain.performance.review_phases import cycle_phases
from domain.performance.review_records import cycle_guideline, cycle_views, new_phase
from domain.performance.review_templates import has_peer_phase, load_template
from domain.performance.review_views import (
    NAME_MAX,
    NEW_HIRE_CATCH_UP_DAYS,
    NEW_HIRE_DAYS,
    NEW_HIRE_DEADLINE_DAYS,
    NEW_HIRE_NAME,
    CycleKind,
    CycleView,
    ParticipantSource,
    Phase,
    Recurrence,
)
from storage.models import Person, ReviewCycle


async def create_new_hire_reviews(
    session: AsyncSession, *, template_id: int, now: datetime, limit: int = 100
) -> tuple[CycleView, ...]:
    """Open a 90-day review for every active person whose 90th day since hire came in the last
    NEW_HIRE_CATCH_UP_DAYS and who has none yet: one launched cycle each (at most `limit` per call)."""
    template = await load_template(session, template_id)
    today = now.date()
    latest = today - timedelta(days=NEW_HIRE_DAYS)
    has_one = exists().where(ReviewCycle.new_hire_person_id == Person.id)
    rows = (
        await session.execute(
            select(Person.id, Person.display_name, Person.hire_date, Person.manager_id, Person.department)
            .where(
                Person.active.is_(True),
                Person.hire_date.is_not(None),
                Person.hire_date <= latest,
                Person.hire_date >= latest - timedelta(days=NEW_HIRE_CATCH_UP_DAYS),
                ~has_one,
            )
            .order_by(Person.hire_date, Person.id)
            .limit(limit)
        )
    ).all()
    phases = cycle_phases(has_peer_phase=has_peer_phase(template))
    created = []
    for person in rows:
        cycle = ReviewCycle(
            name=f"{NEW_HIRE_NAME} · {person.display_name}"[:NAME_MAX],
            kind=CycleKind.NEW_HIRE.value,
            template_id=template.id,
            period_start=person.hire_date,
            period_end=person.hire_date + timedelta(days=NEW_HIRE_DAYS),
            phase=Phase.SELF_REVIEW.value,
            recurrence=Recurrence.NONE.value,
            rule_person_ids=[person.id],
            guideline=cycle_guideline(None, template),
            new_hire_person_id=person.id,
            launched_at=now,
            created_at=now,
            updated_at=now,
        )
        cycle.phases = [
            new_phase(
                p,
                today + timedelta(days=NEW_HIRE_DEADLINE_DAYS[p]) if p in NEW_HIRE_DEADLINE_DAYS else None,
                None,
                now,
            )
            for p in phases
        ]
        for row in cycle.phases:
            if row.phase == Phase.DRAFT:
                row.closed_at = now
            elif row.phase == Phase.SELF_REVIEW:
                row.opened_at = now
        frozen = await with_active_managers(session, [(person.id, person.manager_id, person.department)])
        try:
            async with session.begin_nested():
                session.add(cycle)
                await session.flush()
                await insert_participants(session, cycle.id, frozen, ParticipantSource.NEW_HIRE, None, now)
                await create_reviews(session, cycle.id, template, now)
        except IntegrityError:
            continue  # another process opened this person's review at the same moment
        created.append(cycle)
    return tuple(await cycle_views(session, created))

"""Internal mobility: how each position was filled — by whom, when, from inside the organization or from
outside, from its succession slate or not. The fills give the internal fill rate (domain.metrics).

Filling a position records a PositionFill (with the previous incumbent), makes the person the incumbent
and takes them off that position's slate; the rest of the slate stays (plans belong to the position).
`from_slate` is whether the person was on the slate when the fill was recorded.

What counts as external: someone hired for the position, so their hire date is at most 90 days before the
fill date (or after it: the directory may record the start later). Someone hired earlier was already with
the organization: that fill is internal. Someone on the slate is with the organization, so a fill from the
slate is always internal; an internal fill by someone who joined after the fill date is refused. A person
with no hire date in the directory is taken at their word. Fills are recorded in order: none dated before
the position's latest fill, none in the future (UTC days).

Who: HR and talent reviewers for positions in their scope; nobody records a fill of their own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, audit, may_view_talent_pages, require
from domain.errors import Forbidden, Invalid, NotFound
from domain.talent.succession import NO_PERSON, fill_views, managed_position
from domain.talent.succession_views import (
    EXTERNAL,
    EXTERNAL_HIRE_WINDOW_DAYS,
    INTERNAL,
    SOURCES,
    FieldInvalid,
    FillView,
)
from storage.models import Person, PositionFill, Successor

OWN_FILL = "Nobody records their own move: ask another HR admin or talent reviewer to record it."


async def fill_position(
    session: AsyncSession,
    *,
    actor: Actor,
    position_id: int,
    person_id: int,
    filled_on: date,
    source: str,
    now: datetime,
) -> FillView:
    """Record that `person_id` filled the position on `filled_on` ('internal' or 'external')."""
    position = await managed_position(session, actor, position_id)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(NO_PERSON)
    if person.id == actor.person_id:
        raise Forbidden(OWN_FILL)
    name, title = person.display_name, position.title
    if source not in SOURCES:
        raise FieldInvalid("source", "Choose how the position was filled: internal or external.")
    if filled_on > now.astimezone(UTC).date():
        raise FieldInvalid(
            "filled_on", f"{_day(filled_on)} is in the future: record a fill once it happened."
        )
    if not person.active:
        raise FieldInvalid("person_id", f"{name} has left the organization: only active people can fill it.")
    if person.id == position.incumbent_id:
        raise FieldInvalid("person_id", f"{name} already holds {title}.")
    last = await session.scalar(
        select(func.max(PositionFill.filled_on)).where(PositionFill.position_id == position.id)
    )
    if last is not None and filled_on < last:
        raise FieldInvalid(
            "filled_on", f"{title} was last filled on {_day(last)}: a later fill can't be dated before it."
        )
    slate_row = await session.scalar(
        select(Successor).where(Successor.position_id == position.id, Successor.person_id == person.id)
    )
    _check_source(source, person, title, filled_on, on_slate=slate_row is not None)
    fill = PositionFill(
        position_id=position.id,
        person_id=person.id,
        previous_incumbent_id=position.incumbent_id,
        filled_on=filled_on,
        source=source,
        from_slate=slate_row is not None,
        recorded_by_id=actor.person_id,
        recorded_at=now,
    )
    session.add(fill)
    position.incumbent_id = person.id
    position.updated_at = now
    if slate_row is not None:
        await session.delete(slate_row)
    await session.flush()
    await audit(
        session,
        actor,
        action="talent.mobility.fill",
        subject_type="position",
        subject_id=position.id,
        person_id=person.id,
        source=source,
        from_slate=fill.from_slate,
    )
    [view] = await fill_views(session, actor, [PositionFill.id == fill.id])
    return view


async def list_fills(session: AsyncSession, *, actor: Actor, start: date, end: date) -> list[FillView]:
    """The fills dated start..end (inclusive) of the positions the actor covers, newest first; audited."""
    require(may_view_talent_pages(actor), "position fills")
    if start > end:
        raise Invalid("The start date must be on or before the end date.")
    fills = await fill_views(session, actor, [PositionFill.filled_on >= start, PositionFill.filled_on <= end])
    await audit(
        session,
        actor,
        action="talent.mobility.view",
        subject_type="position_fills",
        subject_id=None,
        start=start.isoformat(),
        end=end.isoformat(),
        fills=len(fills),
    )
    return fills


def _check_source(source: str, person: Person, title: str, filled_on: date, *, on_slate: bool) -> None:
    name, hired = person.display_name, person.hire_date
    if source == EXTERNAL:
        if on_slate:
            raise FieldInvalid(
                "source",
                f"{name} is on the slate for {title}, so they already work here: "
                "record the fill as internal.",
            )
        if hired is not None and hired < filled_on - timedelta(days=EXTERNAL_HIRE_WINDOW_DAYS):
            raise FieldInvalid(
                "source",
                f"{name} joined on {_day(hired)}, more than {EXTERNAL_HIRE_WINDOW_DAYS} days before "
                f"{_day(filled_on)}: an external fill is someone hired for the position. "
                "Record it as internal.",
            )
    elif source == INTERNAL and hired is not None and hired > filled_on:
        raise FieldInvalid(
            "filled_on",
            f"{name} joined on {_day(hired)}, after {_day(filled_on)}: they can't have filled it from inside "
            "before they joined. Check the date, or record an external hire.",
        )


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"

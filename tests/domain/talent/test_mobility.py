"""Internal mobility against the demo organization, on SQLite and PostgreSQL: recording how a position was
filled keeps its succession plan (minus the new incumbent), tells internal from external and slate from
not, refuses what can't be true, and lists fills by date within the actor's scope.

The world is test_succession's: Megan is HR, the CEO a whole-organization talent reviewer, Patti a talent
reviewer for Sales; Lynne holds VP of Engineering, Mohammed Sato VP of Sales.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from domain.errors import Forbidden, Invalid, NotFound
from domain.talent import mobility, succession
from domain.talent.succession_views import FieldInvalid
from storage.models import AuditEntry, Person, Position, PositionFill, Successor

from .test_succession import NOW, World, card, names, world

__all__ = ["world"]  # the fixture, shared with test_succession

TODAY = NOW.date()


async def fill(w: World, position: str, person: str | int, **kw: Any):
    args = {
        "actor": w.megan,
        "position_id": w.positions[position],
        "person_id": w.people[person] if isinstance(person, str) else person,
        "filled_on": TODAY - timedelta(days=3),
        "source": "internal",
        "now": NOW,
    } | kw
    return await mobility.fill_position(w.session, **args)


async def hire(w: World, name: str, hired: date | None, department: str = "Engineering") -> int:
    person = Person(
        tenant_id=None,
        aad_object_id=None,
        email=f"{name.split()[0].lower()}@example.com",
        display_name=name,
        job_title="Engineering Director",
        department=department,
        hire_date=hired,
    )
    w.session.add(person)
    await w.session.flush()
    return person.id


async def state(w: World) -> tuple[Any, ...]:
    s = w.session
    return (
        await s.scalar(select(func.count()).select_from(PositionFill)),
        await s.scalar(select(func.count()).select_from(Successor)),
        await s.scalar(select(func.count()).select_from(AuditEntry)),
        tuple((await s.execute(select(Position.id, Position.incumbent_id).order_by(Position.id))).all()),
    )


async def test_filling_from_the_slate_keeps_the_rest_of_the_plan(world: World) -> None:
    await world.nominate("vp_eng", "alex", "ready_now", emergency=True, notes="Ran the platform team")
    await world.nominate("vp_eng", "adele", "1_2_years", months_to_ready=18)
    await world.nominate("vp_sales", "alex", "3_5_years")

    view = await fill(world, "vp_eng", "alex", filled_on=TODAY)
    assert (view.position_title, view.person.name, view.previous_incumbent.name) == (
        "VP of Engineering",
        "Alex Wilber",
        "Lynne Robbins",
    )
    assert (view.source, view.source_label, view.from_slate, view.filled_on) == (
        "internal",
        "Internal",
        True,
        TODAY,
    )
    assert view.recorded_by == "Megan Bowen"
    row = await world.session.scalar(select(PositionFill))
    assert (row.previous_incumbent_id, row.recorded_by_id, row.recorded_at) == (
        world.people["lynne"],
        world.megan.person_id,
        NOW,
    )
    position = await world.session.get(Position, world.positions["vp_eng"])
    assert position.incumbent_id == world.people["alex"]
    assert await world.slate("vp_eng") == [("Adele Vance", "1_2_years", 18, False)], "the plan stays"
    assert await world.slate("vp_sales") == [("Alex Wilber", "3_5_years", None, False)], "other slates too"

    board = await succession.succession_board(world.session, actor=world.megan)
    eng = card(board, world.positions["vp_eng"])
    assert eng.incumbent.name == "Alex Wilber" and names(eng) == ["Adele Vance"]
    assert eng.no_ready_now and eng.emergency is None, "the emergency successor took the seat"
    [audit] = [a for a in await world.audits() if a.action == "talent.mobility.fill"]
    assert audit.detail == {"person_id": world.people["alex"], "source": "internal", "from_slate": True}


async def test_internal_and_external_fills_not_from_the_slate(world: World) -> None:
    view = await fill(world, "vp_sales", "patti")
    assert (view.source, view.from_slate, view.previous_incumbent.name) == (
        "internal",
        False,
        "Mohammed Sato",
    )

    newcomer = await hire(world, "Nia Newcomer", TODAY - timedelta(days=90))
    view = await fill(world, "vp_eng", newcomer, source="external", filled_on=TODAY)
    assert (view.source, view.source_label, view.from_slate) == ("external", "External hire", False)
    # Hired after the fill date (the directory recorded the start later), or no hire date known: external.
    later = await hire(world, "Lou Later", TODAY + timedelta(days=5))
    await fill(world, "vp_eng", later, source="external", filled_on=TODAY)
    unknown = await hire(world, "Una Unknown", None)
    await fill(world, "vp_eng", unknown, source="external", filled_on=TODAY)
    # Filled a second time the same day: history keeps both, in order.
    fills = await mobility.list_fills(
        world.session, actor=world.megan, start=TODAY - timedelta(days=30), end=TODAY
    )
    assert [(f.position_title, f.person.name, f.previous_incumbent.name) for f in fills] == [
        ("VP of Engineering", "Una Unknown", "Lou Later"),
        ("VP of Engineering", "Lou Later", "Nia Newcomer"),
        ("VP of Engineering", "Nia Newcomer", "Lynne Robbins"),
        ("VP of Sales", "Patti Fernandez", "Mohammed Sato"),
    ]


@pytest.mark.parametrize(
    ("case", "error", "field", "message"),
    [
        ("incumbent", FieldInvalid, "person_id", "Lynne Robbins already holds VP of Engineering."),
        ("future", FieldInvalid, "filled_on", "is in the future"),
        ("before_last", FieldInvalid, "filled_on", "VP of Sales was last filled on 24 Apr 2026"),
        ("source", FieldInvalid, "source", "Choose how the position was filled"),
        ("external_old_hire", FieldInvalid, "source", "more than 90 days before"),
        ("external_from_slate", FieldInvalid, "source", "is on the slate for VP of Engineering"),
        ("internal_before_joining", FieldInvalid, "filled_on", "joined on"),
        ("left", FieldInvalid, "person_id", "has left the organization"),
        ("self", Forbidden, None, "Nobody records their own move"),
        ("position", NotFound, None, "That position does not exist."),
        ("person", NotFound, None, "That person is not in the directory."),
        ("scope", Forbidden, None, "You don't have access"),
        ("manager", Forbidden, None, "You don't have access"),
    ],
)
async def test_bad_fills_are_refused_and_nothing_written(
    world: World, case: str, error: type[Exception], field: str | None, message: str
) -> None:
    await world.nominate("vp_eng", "adele", "1_2_years", emergency=True)
    newcomer = await hire(world, "Nia Newcomer", TODAY - timedelta(days=91))
    leaver = await hire(world, "Lee Left", date(2020, 1, 6))
    await world.session.execute(update(Person).where(Person.id == leaver).values(active=False))
    await fill(world, "vp_sales", "isaiah", filled_on=TODAY - timedelta(days=10))
    await world.session.flush()
    before = await state(world)
    kw: dict[str, Any] = {
        "incumbent": {"person": "lynne"},
        "future": {"filled_on": TODAY + timedelta(days=1)},
        "before_last": {"position": "vp_sales", "filled_on": TODAY - timedelta(days=11)},
        "source": {"source": "promotion"},
        "external_old_hire": {"person": newcomer, "source": "external", "filled_on": TODAY},
        "external_from_slate": {"person": "adele", "source": "external"},
        "internal_before_joining": {"person": newcomer, "filled_on": TODAY - timedelta(days=92)},
        "left": {"person": leaver},
        "self": {"person": "megan"},
        "position": {"position_id": 999_999},
        "person": {"person": 999_999},
        "scope": {"actor": world.patti},
        "manager": {"actor": world.alex},
    }[case]
    position = kw.pop("position", "vp_eng")
    person = kw.pop("person", "alex")
    with pytest.raises(error) as refused:
        await fill(world, position, person, **kw)
    assert message in refused.value.message
    assert getattr(refused.value, "field", None) == field
    assert await state(world) == before


async def test_a_second_submit_of_the_same_fill_is_refused(world: World) -> None:
    await world.nominate("vp_eng", "adele", "ready_now")
    await fill(world, "vp_eng", "adele")
    before = await state(world)
    with pytest.raises(FieldInvalid, match="Adele Vance already holds VP of Engineering"):
        await fill(world, "vp_eng", "adele")
    assert await state(world) == before


async def test_listing_fills_follows_scope_and_never_shows_the_viewer_their_own(world: World) -> None:
    await fill(world, "vp_sales", "adele", filled_on=date(2026, 4, 1))
    await fill(world, "vp_eng", "isaiah", filled_on=date(2026, 3, 31))
    await fill(world, "vp_people", "alex", filled_on=date(2026, 4, 15), actor=world.ceo)
    await fill(world, "ceo", "megan", filled_on=date(2026, 4, 20), actor=world.ceo)

    april = await mobility.list_fills(
        world.session, actor=world.megan, start=date(2026, 4, 1), end=date(2026, 4, 30)
    )
    assert [(f.position_title, f.person.name) for f in april] == [
        ("VP of People", "Alex Wilber"),
        ("VP of Sales", "Adele Vance"),
    ], "not her own move to CEO"
    everyone = await mobility.list_fills(world.session, actor=world.ceo, start=date(2026, 1, 1), end=TODAY)
    assert [f.person.name for f in everyone] == ["Megan Bowen", "Alex Wilber", "Adele Vance", "Isaiah Langer"]
    sales = await mobility.list_fills(world.session, actor=world.patti, start=date(2026, 1, 1), end=TODAY)
    assert [f.position_title for f in sales] == ["VP of Sales"]
    views = [a for a in await world.audits() if a.action == "talent.mobility.view"]
    assert views[0].detail == {"start": "2026-04-01", "end": "2026-04-30", "fills": 2}

    with pytest.raises(Invalid, match="start date"):
        await mobility.list_fills(
            world.session, actor=world.megan, start=TODAY, end=TODAY - timedelta(days=1)
        )
    with pytest.raises(Forbidden):
        await mobility.list_fills(world.session, actor=world.alex, start=date(2026, 1, 1), end=TODAY)

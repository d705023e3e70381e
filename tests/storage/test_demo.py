"""The demo organization: deterministic, shaped like a company, and holding the Playground's people."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import demo
from storage.demo import DEMO_TENANT_ID, PERSONAS, DemoPerson, generate
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person, Position, RoleGrant
from storage.uow import unit_of_work

PLAYGROUND = {
    "Alex Wilber": ("00000000-0000-0000-0000-0000000000020", "alexw@example.com"),
    "Megan Bowen": ("00000000-0000-0000-0000-0000000000021", "meganb@example.com"),
    "Adele Vance": ("00000000-0000-0000-0000-0000000000022", "adelev@example.com"),
    "Isaiah Langer": ("00000000-0000-0000-0000-0000000000023", "isaiahl@example.com"),
    "Patti Fernandez": ("00000000-0000-0000-0000-0000000000024", "pattif@example.com"),
    "Lynne Robbins": ("00000000-0000-0000-0000-0000000000025", "lynner@example.com"),
}


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh migrated SQLite file per test."""
    engine = create_engine("sqlite+aiosqlite:///" + str(tmp_path / "trellis.db"))
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


def _by_name(people: list[DemoPerson]) -> dict[str, DemoPerson]:
    return {p.display_name: p for p in people if p.display_name in PLAYGROUND}


def _manager(people: list[DemoPerson], person: DemoPerson) -> DemoPerson | None:
    return people[person.manager_index] if person.manager_index is not None else None


def test_the_same_size_and_seed_give_the_same_organization() -> None:
    assert generate(300, 7) == generate(300, 7)
    assert generate(300, 7) != generate(300, 8)


@pytest.mark.parametrize("size", [demo.MIN_PEOPLE, 60, 2000])
def test_the_playground_people_are_there_with_their_ids_and_places(size: int) -> None:
    people = generate(size)
    named = _by_name(people)
    assert {name: (p.aad_object_id, p.email) for name, p in named.items()} == PLAYGROUND
    ceo = people[0]
    lynne, alex, megan, patti = (
        named[n] for n in ("Lynne Robbins", "Alex Wilber", "Megan Bowen", "Patti Fernandez")
    )

    assert (ceo.level, ceo.manager_index, ceo.roles) == ("ceo", None, ("talent_reviewer",))
    assert (lynne.level, lynne.department, _manager(people, lynne)) == ("vp", "Engineering", ceo)
    assert (alex.level, alex.department, _manager(people, alex)) == ("manager", "Engineering", lynne)
    alex_team = [p for p in people if p.manager_index == alex.index]
    assert {"Adele Vance", "Isaiah Langer"} < {p.display_name for p in alex_team}
    assert len(alex_team) >= 4 and all(p.level == "ic" for p in alex_team)
    assert (megan.department, _manager(people, megan), set(megan.roles)) == (
        "People",
        ceo,
        {"hr_admin", "talent_reviewer"},
    )
    assert patti.level == "ic" and patti.department not in ("Engineering", "People")
    assert {
        "employee": named["Adele Vance"].aad_object_id,
        "manager": alex.aad_object_id,
        "hr": megan.aad_object_id,
    } == PERSONAS
    assert DEMO_TENANT_ID == "00000000-0000-0000-0000-0000000000001"


def test_the_chart_is_one_tree_with_realistic_spans_titles_and_places() -> None:
    people = generate(2000, seed=11)

    assert [p.index for p in people] == list(range(len(people)))
    roots = [p for p in people if p.manager_index is None]
    assert [p.level for p in roots] == ["ceo"]
    # Managers come first (so seed can insert in one pass), which also rules out any cycle.
    assert all(p.manager_index < p.index for p in people if p.manager_index is not None)
    spans = Counter(p.manager_index for p in people if p.manager_index is not None)
    assert all(4 <= span <= 9 for span in spans.values()), sorted(spans.values())
    assert {p.index for p in people if p.level != "ic"} == set(spans)
    assert len({p.email.lower() for p in people}) == len(people)
    assert len({p.aad_object_id for p in people}) == len(people)
    assert {p.department for p in people} == {"Executive", *demo.DEPARTMENTS}
    assert all(ZoneInfo(p.time_zone) for p in {p.time_zone: p for p in people}.values())
    assert len({p.time_zone for p in people}) >= 6
    assert all(demo.FOUNDED <= p.hire_date <= demo.DEMO_AS_OF for p in people)
    assert all(p.heads_position == (p.level != "ic") for p in people)
    directors = [p for p in people if p.level == "director"]
    assert all(p.critical for p in people if p.level in ("ceo", "vp"))
    assert 0.2 < sum(p.critical for p in directors) / len(directors) < 0.5
    assert not any(p.critical for p in people if p.level in ("manager", "ic"))


def test_too_small_an_organization_is_refused() -> None:
    with pytest.raises(ValueError, match="at least"):
        generate(demo.MIN_PEOPLE - 1)


async def test_seed_writes_the_organization_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        assert await demo.is_empty(session)

    async with unit_of_work(sessions) as session:
        result = await demo.seed(session, people=2000, seed=7)

    expected = generate(2000, 7)
    assert (result.people, result.positions) == (2000, sum(p.heads_position for p in expected))
    async with sessions() as session:
        assert not await demo.is_empty(session)
        assert await session.scalar(select(func.count()).select_from(Person)) == 2000
        people = {p.email: p for p in (await session.scalars(select(Person))).all()}
        assert {p.tenant_id for p in people.values()} == {DEMO_TENANT_ID}
        by_id = {p.id: p for p in people.values()}
        for person in expected:  # every manager relation survived the batched insert
            manager = _manager(expected, person)
            stored = people[person.email]
            assert (by_id[stored.manager_id].email if stored.manager_id else None) == (
                manager.email if manager else None
            )
        grants = (
            await session.execute(select(RoleGrant.person_id, RoleGrant.role, RoleGrant.scope_department))
        ).all()
        megan, ceo = people["meganb@example.com"], people[expected[0].email]
        assert sorted((by_id[pid].email, role, scope) for pid, role, scope in grants) == sorted(
            [
                (megan.email, "hr_admin", None),
                (megan.email, "talent_reviewer", None),
                (ceo.email, "talent_reviewer", None),
            ]
        )
        critical = await session.scalar(select(func.count()).where(Position.critical.is_(True)))
        assert critical == sum(p.critical for p in expected)
        lynne_seat = await session.scalar(
            select(Position).where(Position.incumbent_id == people["lynner@example.com"].id)
        )
        assert lynne_seat is not None and (lynne_seat.title, lynne_seat.critical) == (
            "VP of Engineering",
            True,
        )

    async with unit_of_work(sessions) as session:
        with pytest.raises(demo.DatabaseNotEmpty):
            await demo.seed(session)


async def test_seed_reports_progress_to_the_total(sessions: async_sessionmaker[AsyncSession]) -> None:
    calls: list[tuple[int, int]] = []
    async with unit_of_work(sessions) as session:
        await demo.seed(session, people=60, progress=lambda *a: calls.append(a))
    assert calls[-1] == (60, 60)


async def test_seeding_twenty_thousand_people_is_quick(sessions: async_sessionmaker[AsyncSession]) -> None:
    started = time.perf_counter()
    async with unit_of_work(sessions) as session:
        result = await demo.seed(session, people=20_000)
    print(f"\nseeded {result} in {time.perf_counter() - started:.2f} s")
    assert result.people == 20_000

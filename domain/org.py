"""People and reporting lines, as the transports see them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Role, may_view_directory, relation_to, require
from domain.errors import NotFound
from storage.models import Person


@dataclass(frozen=True)
class PersonView:
    """What anyone in the organization may know about a colleague."""

    id: int
    display_name: str
    job_title: str | None
    department: str | None
    email: str
    time_zone: str

    @classmethod
    def of(cls, person: Person) -> PersonView:
        return cls(
            id=person.id,
            display_name=person.display_name,
            job_title=person.job_title,
            department=person.department,
            email=person.email,
            time_zone=person.time_zone,
        )


@dataclass(frozen=True)
class DueItem:
    """Something the person should do, with where to do it."""

    title: str
    due: str | None
    url: str | None


@dataclass(frozen=True)
class HomeView:
    """The Home tab: who am I, my manager, my reports, what is due."""

    me: PersonView
    roles: tuple[str, ...]
    manager: PersonView | None
    reports: tuple[PersonView, ...]
    due: tuple[DueItem, ...]


async def person_id_by_email(session: AsyncSession, email: str) -> int | None:
    """The person with this work email (stored lowercased), active or not."""
    return await session.scalar(select(Person.id).where(Person.email == email.strip().lower()))


async def get_person(session: AsyncSession, *, actor: Actor, person_id: int) -> PersonView:
    """A colleague's directory entry."""
    rel = await relation_to(session, actor, person_id)
    require(may_view_directory(actor, rel), "this person")
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound("That person is not in the directory.")
    return PersonView.of(person)


async def home(session: AsyncSession, *, actor: Actor) -> HomeView:
    """The signed-in person's own overview."""
    me = await session.get(Person, actor.person_id)
    if me is None:
        raise NotFound("You are not in the directory.")
    manager = await session.get(Person, me.manager_id) if me.manager_id else None
    reports = (
        await session.scalars(
            select(Person)
            .where(Person.manager_id == me.id, Person.active.is_(True))
            .order_by(Person.display_name)
        )
    ).all()
    return HomeView(
        me=PersonView.of(me),
        roles=tuple(sorted(r.value for r in actor.roles if r != Role.EMPLOYEE)),
        manager=PersonView.of(manager) if manager else None,
        reports=tuple(PersonView.of(p) for p in reports),
        due=(),
    )


NAMES_CHUNK = 5000  # ids bound per query: far below PostgreSQL's and SQLite's parameter limits


async def display_names(session: AsyncSession, person_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names by person id (left people included: a name on old records stays readable)."""
    ids = sorted({pid for pid in person_ids if pid is not None})
    found: dict[int, str] = {}
    for start in range(0, len(ids), NAMES_CHUNK):
        rows = await session.execute(
            select(Person.id, Person.display_name).where(Person.id.in_(ids[start : start + NAMES_CHUNK]))
        )
        found.update(rows.all())
    return found

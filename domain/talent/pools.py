"""Talent pools: named groups of people being grown for a kind of role (future leaders, future engineering
managers), beside the per-position slates.

HR and talent reviewers create pools; they add and remove the people they may see talent data about (HR:
anyone; a talent reviewer: people of the departments in their scope). Membership is talent data: nobody
adds or removes themselves, and nobody sees their own membership (list_pools leaves it out). Every list
is audited. A pool's name is unique whatever its case.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    Relation,
    audit,
    may_view_talent,
    may_view_talent_pages,
    require,
)
from domain.errors import Forbidden, Invalid, NotFound
from domain.talent.succession import NO_PERSON
from domain.talent.succession_views import (
    POOL_DESCRIPTION_MAX,
    POOL_NAME_MAX,
    FieldInvalid,
    PersonRef,
    PoolView,
)
from domain.text import optional_text, required_text
from storage.models import Person, TalentPool, TalentPoolMember

NO_POOL = "That talent pool does not exist."
OWN_MEMBERSHIP = (
    "Nobody changes their own talent pool membership: ask another HR admin or talent reviewer to do this."
)


async def create_pool(
    session: AsyncSession, *, actor: Actor, name: str, description: str | None = None, now: datetime
) -> PoolView:
    """A new, empty talent pool (HR and talent reviewers)."""
    require(may_view_talent_pages(actor), "talent pools")
    try:
        name = required_text(name, POOL_NAME_MAX, "The pool's name")
    except Invalid as invalid:
        raise FieldInvalid("name", invalid.message) from None
    try:
        description = optional_text(description, POOL_DESCRIPTION_MAX, "The description")
    except Invalid as invalid:
        raise FieldInvalid("description", invalid.message) from None
    key = " ".join(name.split()).casefold()
    taken = f"A talent pool named “{name}” already exists."
    if await session.scalar(select(TalentPool.id).where(TalentPool.name_key == key)) is not None:
        raise FieldInvalid("name", taken)
    pool = TalentPool(name=name, name_key=key, description=description, created_at=now)
    try:
        async with session.begin_nested():
            session.add(pool)
            await session.flush()
    except IntegrityError:
        raise FieldInvalid("name", taken) from None
    await audit(session, actor, action="talent.pools.create", subject_type="talent_pool", subject_id=pool.id)
    return PoolView(id=pool.id, name=pool.name, description=pool.description, members=())


async def add_member(
    session: AsyncSession, *, actor: Actor, pool_id: int, person_id: int, now: datetime
) -> None:
    """Put someone in a talent pool."""
    pool, person = await _pool_and_person(session, actor, pool_id, person_id)
    if not person.active:
        raise FieldInvalid(
            "person_id", f"{person.display_name} has left the organization: only active people can be added."
        )
    taken = f"{person.display_name} is already in the pool “{pool.name}”."
    if await _membership(session, pool.id, person.id) is not None:
        raise FieldInvalid("person_id", taken)
    try:
        async with session.begin_nested():
            session.add(
                TalentPoolMember(
                    pool_id=pool.id, person_id=person.id, added_by_id=actor.person_id, added_at=now
                )
            )
            await session.flush()
    except IntegrityError:
        raise FieldInvalid("person_id", taken) from None
    await audit(
        session,
        actor,
        action="talent.pools.add",
        subject_type="talent_pool",
        subject_id=pool.id,
        person_id=person.id,
    )


async def remove_member(session: AsyncSession, *, actor: Actor, pool_id: int, person_id: int) -> None:
    """Take someone out of a talent pool."""
    pool, person = await _pool_and_person(session, actor, pool_id, person_id)
    member = await _membership(session, pool.id, person.id)
    if member is None:
        raise NotFound(f"{person.display_name} is not in the pool “{pool.name}”.")
    await session.delete(member)
    await session.flush()
    await audit(
        session,
        actor,
        action="talent.pools.remove",
        subject_type="talent_pool",
        subject_id=pool.id,
        person_id=person.id,
    )


async def list_pools(session: AsyncSession, *, actor: Actor) -> list[PoolView]:
    """Every pool by name, each with the active members the actor may see (never the actor); audited."""
    require(may_view_talent_pages(actor), "talent pools")
    pools = (await session.execute(select(TalentPool).order_by(func.lower(TalentPool.name)))).scalars().all()
    rows = await session.execute(
        select(
            TalentPoolMember.pool_id,
            Person.id,
            Person.display_name,
            Person.job_title,
            Person.department,
        )
        .join(Person, Person.id == TalentPoolMember.person_id)
        .where(Person.active.is_(True), TalentPoolMember.person_id != actor.person_id)
    )
    members: dict[int, list[PersonRef]] = defaultdict(list)
    for pool_id, pid, name, title, department in rows.all():
        rel = Relation(is_self=False, in_line=False, subject_department=department)
        if may_view_talent(actor, rel):
            members[pool_id].append(PersonRef(id=pid, name=name, title=title, department=department))
    views = [
        PoolView(
            id=pool.id,
            name=pool.name,
            description=pool.description,
            members=tuple(sorted(members.get(pool.id, ()), key=lambda p: (p.name.casefold(), p.id))),
        )
        for pool in pools
    ]
    await audit(
        session,
        actor,
        action="talent.pools.view",
        subject_type="talent_pool",
        subject_id=None,
        pools=len(views),
    )
    return views


async def _pool_and_person(
    session: AsyncSession, actor: Actor, pool_id: int, person_id: int
) -> tuple[TalentPool, Person]:
    require(may_view_talent_pages(actor), "talent pools")
    pool = await session.get(TalentPool, pool_id)
    if pool is None:
        raise NotFound(NO_POOL)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(NO_PERSON)
    if person.id == actor.person_id:
        raise Forbidden(OWN_MEMBERSHIP)
    rel = Relation(is_self=False, in_line=False, subject_department=person.department)
    require(may_view_talent(actor, rel), f"{person.display_name}'s talent data")
    return pool, person


async def _membership(session: AsyncSession, pool_id: int, person_id: int) -> TalentPoolMember | None:
    return await session.get(TalentPoolMember, (pool_id, person_id))

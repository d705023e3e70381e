"""Finding a person from what someone typed or @mentioned in chat: a name, a Teams id, an Entra id.

Names are directory data, visible to everyone in the organization (access.may_view_directory), so the
lookup itself needs no rule beyond "active people only"; what is shown about the person found is up to
the service that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, actor_for_teams_user, relations_to
from storage.models import ConversationRef, Person

# Enough candidates to rank; a name shared by more people than this needs more of it typed.
CANDIDATES_MAX = 50


@dataclass(frozen=True)
class PersonMatch:
    """Someone in the directory as a chat lookup shows them."""

    id: int
    display_name: str
    job_title: str | None
    department: str | None
    in_line: bool = False  # the actor manages them, directly or further up


async def get_person(session: AsyncSession, *, actor: Actor, person_id: int) -> PersonMatch | None:
    """An active person by id, with whether they are in the actor's line."""
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        return None
    return (await _matches(session, actor, [person]))[0]


async def find_by_teams_identity(
    session: AsyncSession, *, actor: Actor, aad_object_id: str | None, user_id: str | None
) -> PersonMatch | None:
    """The person behind an @mention: by Entra object id in the actor's tenant, else by the Teams user id
    of a conversation the bot keeps with them."""
    if aad_object_id:
        # The same identity rule (and tenant rule) as the sign-in of the person themselves.
        found = await actor_for_teams_user(session, tenant_id=actor.tenant_id, aad_object_id=aad_object_id)
        if found is not None:
            return await get_person(session, actor=actor, person_id=found.person_id)
    person = None
    if user_id:
        person = await session.scalar(
            select(Person)
            .join(ConversationRef, ConversationRef.person_id == Person.id)
            .where(ConversationRef.user_id == user_id, Person.active.is_(True))
        )
    return None if person is None else (await _matches(session, actor, [person]))[0]


async def find_by_name(session: AsyncSession, *, actor: Actor, name: str) -> list[PersonMatch]:
    """Active people whose name contains `name` (any case), best first: whole-name matches win, then names
    starting with it, then a word starting with it; at each rank the actor's own line comes first, and
    when some of the matches are in the actor's line only those are returned (a manager means their
    report)."""
    wanted = " ".join(name.split()).lower()
    if not wanted:
        return []
    rows = (
        await session.scalars(
            select(Person)
            .where(func.lower(Person.display_name).contains(wanted, autoescape=True), Person.active.is_(True))
            .order_by(Person.display_name, Person.id)
            .limit(CANDIDATES_MAX)
        )
    ).all()
    matches = await _matches(session, actor, rows)
    best = min((_rank(m, wanted) for m in matches), default=None)
    matches = [m for m in matches if _rank(m, wanted) == best]
    in_line = [m for m in matches if m.in_line]
    return in_line or matches


def _rank(match: PersonMatch, wanted: str) -> int:
    name = " ".join(match.display_name.split()).lower()
    if name == wanted:
        return 0
    if name.startswith(wanted):
        return 1
    if any(word.startswith(wanted) for word in name.split()):
        return 2
    return 3


async def _matches(session: AsyncSession, actor: Actor, people: list[Person]) -> list[PersonMatch]:
    relations = await relations_to(session, actor, {p.id: p.department for p in people})
    return [
        PersonMatch(
            id=p.id,
            display_name=p.display_name,
            job_title=p.job_title,
            department=p.department,
            in_line=relations[p.id].in_line,
        )
        for p in people
    ]

"""Career paths: next-role links between role profiles (up a ladder, or a lateral move) and, for a person,
their gap to each next role from their current one.

HR draws the steps (may_define_competencies); the person, their manager line and HR see the person's
options (may_view_development). A ladder never leads back to where it started: a step up from A to B is
refused when B already leads up to A, directly or through other ladder steps. Lateral moves may go both
ways. The gaps are domain/competencies.py's, for the same person, computed once for all the options.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, may_define_competencies, may_view_development, relation_to, require
from domain.competencies import PERSON_NOT_FOUND, PROFILE_NOT_FOUND, current_role_profiles, gaps_for
from domain.competency_views import (
    STEP_KIND_LABELS,
    CareerOption,
    CareerPathView,
    CareerStepView,
    StepKind,
)
from domain.errors import Invalid, NotFound
from storage.models import CareerStep, Person, RoleProfile

STEP_NOT_FOUND = "That career step does not exist."


async def add_career_step(
    session: AsyncSession, *, actor: Actor, from_profile_id: int, to_profile_id: int, kind: StepKind | str
) -> CareerStepView:
    """Link a role profile to a next role (HR): a step up the ladder or a lateral move; never to itself,
    never twice, and never a ladder that loops back to where it started."""
    require(may_define_competencies(actor), "the competency framework")
    chosen = _kind(kind)
    origin = await _profile(session, from_profile_id)
    target = await _profile(session, to_profile_id)
    if origin.id == target.id:
        raise Invalid(f"“{origin.name}” can't lead to itself: choose another next role.")
    existing = await session.get(CareerStep, (origin.id, target.id))
    if existing is not None:
        raise Invalid(
            f"“{origin.name}” already leads to “{target.name}” "
            f"({STEP_KIND_LABELS[StepKind(existing.kind)].lower()}): each next role once."
        )
    if chosen is StepKind.LADDER and origin.id in await _ladder_above(session, target.id):
        raise Invalid(
            f"“{target.name}” already leads up to “{origin.name}”: a step up from “{origin.name}” to "
            f"“{target.name}” would make the ladder loop. Make it a lateral move instead."
        )
    step = CareerStep(from_profile_id=origin.id, to_profile_id=target.id, kind=chosen.value)
    try:
        async with session.begin_nested():
            session.add(step)
            await session.flush()
    except IntegrityError:
        raise Invalid(f"“{origin.name}” already leads to “{target.name}”: each next role once.") from None
    return CareerStepView(origin.id, origin.name, target.id, target.name, chosen)


async def remove_career_step(
    session: AsyncSession, *, actor: Actor, from_profile_id: int, to_profile_id: int
) -> None:
    """Remove a next-role link (HR)."""
    require(may_define_competencies(actor), "the competency framework")
    step = await session.get(CareerStep, (from_profile_id, to_profile_id))
    if step is None:
        raise NotFound(STEP_NOT_FOUND)
    await session.delete(step)
    await session.flush()


async def career_options(session: AsyncSession, *, actor: Actor, person_id: int) -> CareerPathView:
    """A person's current role and each next role from it with their gap to it, steps up first, then the
    readiest first: the person, their manager line and HR."""
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(PERSON_NOT_FOUND)
    rel = await relation_to(session, actor, person_id)
    require(may_view_development(actor, rel), f"{person.display_name}'s career path")
    current = (await current_role_profiles(session, [person.id])).get(person.id)
    if current is None:
        return CareerPathView(person.id, person.display_name, None, ())
    steps = (
        await session.execute(
            select(CareerStep.to_profile_id, CareerStep.kind, RoleProfile.name)
            .join(RoleProfile, RoleProfile.id == CareerStep.to_profile_id)
            .where(CareerStep.from_profile_id == current)
        )
    ).all()
    gaps = await gaps_for(session, person_id=person.id, profile_ids=[current, *(to for to, _, _ in steps)])
    options = [CareerOption(StepKind(kind), to, name, gaps[to]) for to, kind, name in steps]
    options.sort(
        key=lambda o: (
            o.kind is not StepKind.LADDER,
            -(o.gap.readiness if o.gap.readiness is not None else -1),
            o.name.casefold(),
        )
    )
    return CareerPathView(person.id, person.display_name, gaps[current], tuple(options))


async def _ladder_above(session: AsyncSession, profile_id: int) -> set[int]:
    """Every profile reachable from this one by steps up the ladder (a walk over a small table)."""
    ladder: dict[int, list[int]] = {}
    for origin, target in (
        await session.execute(
            select(CareerStep.from_profile_id, CareerStep.to_profile_id).where(
                CareerStep.kind == StepKind.LADDER.value
            )
        )
    ).all():
        ladder.setdefault(origin, []).append(target)
    reached: set[int] = set()
    frontier = [profile_id]
    while frontier:
        for target in ladder.get(frontier.pop(), ()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    return reached


async def _profile(session: AsyncSession, profile_id: int) -> RoleProfile:
    found = await session.get(RoleProfile, profile_id)
    if found is None:
        raise NotFound(PROFILE_NOT_FOUND)
    return found


def _kind(value: StepKind | str) -> StepKind:
    try:
        return StepKind(value)
    except ValueError:
        raise Invalid(
            f"“{value}” is not a kind of career step: choose a step up (ladder) or lateral."
        ) from None

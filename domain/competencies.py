"""The competency framework: competencies, role profiles, assessments and gaps (shared by both halves)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Person, Position, RoleProfile


async def current_role_profiles(
    session: AsyncSession, person_ids: Collection[int] | None = None
) -> dict[int, int]:
    """Each person's current role profile (person id → profile id), for those who have one: the position
    they hold, if it has a profile, else the profile for their job title. None means all active people."""
    by_position = (
        select(Position.incumbent_id, func.min(Position.role_profile_id))
        .where(Position.incumbent_id.is_not(None), Position.role_profile_id.is_not(None))
        .group_by(Position.incumbent_id)
    )
    by_title = select(Person.id, RoleProfile.id).join(
        RoleProfile, RoleProfile.job_title_key == func.lower(Person.job_title)
    )
    if person_ids is None:
        by_title = by_title.where(Person.active.is_(True))
    else:
        by_position = by_position.where(Position.incumbent_id.in_(person_ids))
        by_title = by_title.where(Person.id.in_(person_ids))
    profiles = {pid: profile for pid, profile in (await session.execute(by_title)).all()}
    profiles.update({pid: profile for pid, profile in (await session.execute(by_position)).all()})
    return profiles

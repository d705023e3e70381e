"""The competency framework: competencies, role profiles, assessments and gaps (shared by both halves).

HR defines competencies (a category, 2 to 10 described levels), role profiles (competencies expected at a
level, with a weight; a job title maps people to a profile when the position they hold has none) and,
in domain/talent/careers.py, career steps between profiles. Everyone may read the framework.

A person's level on a competency is assessed on a day, either by their manager line or HR on its own, or
by a released performance review whose competency item names the competency (record_review_assessments,
called by the review cycle's release). Every assessment is kept; the latest (by day, then by when it was
recorded) is the person's level. The person, their line and HR see their levels and gaps; nobody assesses
themselves.

Nothing is written on a refusal: everything is validated before the first write. Services flush but never
commit; text is stored as typed (trimmed). Days are UTC dates.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    may_assess_competency,
    may_define_competencies,
    may_view_development,
    relation_to,
    require,
)
from domain.competency_views import (
    CATEGORY_MAX,
    DESCRIPTION_MAX,
    JOB_TITLE_MAX,
    LEVEL_TEXT_MAX,
    LEVELS_MAX,
    LEVELS_MIN,
    NAME_MAX,
    NOTE_MAX,
    REQUIREMENTS_MAX,
    WEIGHT_MAX,
    AssessmentFormView,
    AssessmentSource,
    AssessmentView,
    CareerStepView,
    CategoryView,
    CompetencyView,
    FrameworkView,
    GapLine,
    GapView,
    RequirementInput,
    RequirementView,
    RoleProfileView,
    StepKind,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.org import display_names
from domain.text import checked_client_id, optional_text, required_text
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    Person,
    Position,
    Review,
    ReviewAnswer,
    ReviewCycle,
    ReviewItem,
    ReviewParticipant,
    ReviewSection,
    ReviewTemplate,
    RoleProfile,
    RoleRequirement,
)

COMPETENCY_NOT_FOUND = "That competency does not exist."
PROFILE_NOT_FOUND = "That role profile does not exist."
PERSON_NOT_FOUND = "That person is not in the directory."
FORM_USED = "That form was already used. Please start again from a fresh form."
IDS_CHUNK = 2000  # ids per IN (...): well under SQLite's and asyncpg's bound-parameter limits
TENTH = Decimal("0.1")


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


# --- competencies --------------------------------------------------------------------------------------


async def create_competency(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    category: str,
    levels: Sequence[str],
    description: str | None = None,
) -> CompetencyView:
    """Add a competency to the framework (HR): a unique name, a category, 2 to 10 described levels."""
    require(may_define_competencies(actor), "the competency framework")
    clean_name = required_text(name, NAME_MAX, "The competency's name")
    row = Competency(
        name=clean_name,
        name_key=clean_name.casefold(),
        category=_category(category),
        description=optional_text(description, DESCRIPTION_MAX, "The description"),
        levels=_levels(levels),
        active=True,
    )
    await _refuse_name_clash(session, row.name_key)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        await _refuse_name_clash(session, row.name_key)  # added by someone else meanwhile
        raise
    return competency_view(row)


async def update_competency(
    session: AsyncSession,
    *,
    actor: Actor,
    competency_id: int,
    name: str,
    category: str,
    levels: Sequence[str],
    description: str | None = None,
) -> CompetencyView:
    """Change a competency (HR). Its levels may be reworded or added to; fewer levels only while no role
    profile expects, and no assessment holds, a level that would no longer exist."""
    require(may_define_competencies(actor), "the competency framework")
    row = await _competency_row(session, competency_id)
    clean_name = required_text(name, NAME_MAX, "The competency's name")
    clean_levels = _levels(levels)
    clean_category = _category(category)
    clean_description = optional_text(description, DESCRIPTION_MAX, "The description")
    await _refuse_name_clash(session, clean_name.casefold(), other_than=row.id)
    if len(clean_levels) < len(row.levels):
        await _refuse_dropped_levels(session, row, len(clean_levels))
    row.name, row.name_key, row.category = clean_name, clean_name.casefold(), clean_category
    row.description, row.levels = clean_description, clean_levels
    await session.flush()
    return competency_view(row)


async def deactivate_competency(session: AsyncSession, *, actor: Actor, competency_id: int) -> CompetencyView:
    """Retire a competency (HR): kept with its assessments, but no longer assessed, required or offered to
    review templates, and left out of gaps. Again: unchanged."""
    return await _set_active(session, actor, competency_id, active=False)


async def reactivate_competency(session: AsyncSession, *, actor: Actor, competency_id: int) -> CompetencyView:
    """Bring a retired competency back (HR). Again: unchanged."""
    return await _set_active(session, actor, competency_id, active=True)


async def load_competencies(session: AsyncSession, *, ids: Iterable[int]) -> list[CompetencyView]:
    """The competencies with these ids, without an access check (the review templates check the ones their
    items name with it; the framework is no secret)."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return [
        competency_view(row)
        for row in await session.scalars(select(Competency).where(Competency.id.in_(wanted)))
    ]


def competency_view(row: Competency) -> CompetencyView:
    """A competency as the transports see it."""
    return CompetencyView(
        id=row.id,
        name=row.name,
        category=row.category,
        description=row.description,
        levels=tuple(row.levels),
        active=row.active,
    )


# --- role profiles -------------------------------------------------------------------------------------


async def create_role_profile(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    description: str | None = None,
    job_title: str | None = None,
    requirements: Sequence[RequirementInput] = (),
) -> RoleProfileView:
    """Add a role profile (HR): a unique name, the job title that maps people to it (unique, any case),
    and the competencies it expects."""
    require(may_define_competencies(actor), "the competency framework")
    clean_name = required_text(name, NAME_MAX, "The role profile's name")
    title_key = _job_title_key(job_title)
    profile = RoleProfile(
        name=clean_name,
        name_key=clean_name.casefold(),
        description=optional_text(description, DESCRIPTION_MAX, "The description"),
        job_title_key=title_key,
    )
    checked = await _requirements(session, requirements)
    await _refuse_profile_clash(session, profile.name_key, title_key)
    profile.requirements = [
        RoleRequirement(competency_id=cid, expected_level=level, weight=weight)
        for cid, level, weight in checked
    ]
    try:
        async with session.begin_nested():
            session.add(profile)
            await session.flush()
    except IntegrityError:
        await _refuse_profile_clash(session, profile.name_key, title_key)
        raise
    return (await _profile_views(session, [profile.id]))[0]


async def update_role_profile(
    session: AsyncSession,
    *,
    actor: Actor,
    role_profile_id: int,
    name: str,
    description: str | None = None,
    job_title: str | None = None,
) -> RoleProfileView:
    """Rename a role profile or change its job title (HR); its requirements are set_requirements'."""
    require(may_define_competencies(actor), "the competency framework")
    profile = await _profile_row(session, role_profile_id)
    clean_name = required_text(name, NAME_MAX, "The role profile's name")
    title_key = _job_title_key(job_title)
    await _refuse_profile_clash(session, clean_name.casefold(), title_key, other_than=profile.id)
    profile.name, profile.name_key, profile.job_title_key = clean_name, clean_name.casefold(), title_key
    profile.description = optional_text(description, DESCRIPTION_MAX, "The description")
    await session.flush()
    return (await _profile_views(session, [profile.id]))[0]


async def set_requirements(
    session: AsyncSession, *, actor: Actor, role_profile_id: int, requirements: Sequence[RequirementInput]
) -> RoleProfileView:
    """Replace what a role profile expects (HR): each competency once, at one of its levels, weight > 0."""
    require(may_define_competencies(actor), "the competency framework")
    profile = await _profile_row(session, role_profile_id)
    checked = await _requirements(session, requirements)
    # Old rows go first: the new ones may reuse their keys (profile, competency).
    for old in await session.scalars(
        select(RoleRequirement).where(RoleRequirement.role_profile_id == profile.id)
    ):
        await session.delete(old)
    await session.flush()
    session.add_all(
        RoleRequirement(role_profile_id=profile.id, competency_id=cid, expected_level=level, weight=weight)
        for cid, level, weight in checked
    )
    await session.flush()
    # The profile's collection (if this session loaded it) still lists the deleted rows.
    await session.refresh(profile, ["requirements"])
    return (await _profile_views(session, [profile.id]))[0]


async def list_framework(session: AsyncSession, *, actor: Actor) -> FrameworkView:
    """The framework (everyone may read it): competencies by category, role profiles with what they expect,
    career steps. HR sees retired competencies too."""
    may_edit = may_define_competencies(actor)
    query = select(Competency).order_by(Competency.category, Competency.name_key)
    if not may_edit:
        query = query.where(Competency.active.is_(True))
    groups: dict[str, list[CompetencyView]] = {}
    for row in await session.scalars(query):
        groups.setdefault(row.category, []).append(competency_view(row))
    profile_ids = list(await session.scalars(select(RoleProfile.id).order_by(RoleProfile.name_key)))
    profiles = await _profile_views(session, profile_ids)
    names = {p.id: p.name for p in profiles}
    steps = sorted(
        (
            CareerStepView(
                s.from_profile_id,
                names[s.from_profile_id],
                s.to_profile_id,
                names[s.to_profile_id],
                StepKind(s.kind),
            )
            for s in await session.scalars(select(CareerStep))
        ),
        key=lambda s: (s.from_name.casefold(), s.kind != StepKind.LADDER, s.to_name.casefold()),
    )
    return FrameworkView(
        categories=tuple(CategoryView(category, tuple(items)) for category, items in groups.items()),
        profiles=tuple(profiles),
        steps=tuple(steps),
        may_edit=may_edit,
    )


# --- assessments ---------------------------------------------------------------------------------------


async def assess(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: int,
    competency_id: int,
    level: int,
    on: date,
    now: datetime,
    note: str | None = None,
    request_id: str | None = None,
) -> AssessmentView:
    """Record someone's level on a competency as of a day (their manager line or HR, never themselves): one
    of the competency's levels, on a day not in the future. The same request_id again returns the first
    assessment, unwritten, with already_submitted set."""
    client_id = checked_client_id(request_id)
    if client_id is not None and (repeat := await _repeat(session, actor, client_id)) is not None:
        return repeat
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    if rel.is_self:
        raise Forbidden("You can't assess your own competencies: your manager or HR does.")
    if not may_assess_competency(actor, rel):
        raise Forbidden(f"Only {person.display_name}'s manager line and HR can assess their competencies.")
    if not person.active:
        raise Invalid(f"{person.display_name} is no longer in the directory: they can't be assessed.")
    competency = await _competency_row(session, competency_id)
    if not competency.active:
        raise Invalid(f"“{competency.name}” is retired from the framework: it is no longer assessed.")
    chosen = _level_of(competency, level)
    if on > _today(now):
        raise Invalid(f"The assessment's day ({_day(on)}) is in the future: choose today or an earlier day.")
    row = CompetencyAssessment(
        person_id=person.id,
        competency_id=competency.id,
        level=chosen,
        source=AssessmentSource.MANAGER.value,
        assessed_on=on,
        assessed_by_id=actor.person_id,
        note=optional_text(note, NOTE_MAX, "The note"),
        created_at=now,
        client_request_id=client_id,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        # The same form submitted twice at once: the other submit wrote it.
        if client_id is not None and (repeat := await _repeat(session, actor, client_id)) is not None:
            return repeat
        raise
    return (
        await _assessment_views(
            session, select(CompetencyAssessment).where(CompetencyAssessment.id == row.id)
        )
    )[0]


async def assessment_history(
    session: AsyncSession, *, actor: Actor, person_id: int, competency_id: int | None = None
) -> tuple[AssessmentView, ...]:
    """Someone's assessments, newest first (all competencies, or one): the person, their line and HR."""
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    require(may_view_development(actor, rel), f"{person.display_name}'s competencies")
    query = select(CompetencyAssessment).where(CompetencyAssessment.person_id == person.id)
    if competency_id is not None:
        query = query.where(CompetencyAssessment.competency_id == competency_id)
    return tuple(await _assessment_views(session, query))


async def assessment_form(
    session: AsyncSession, *, actor: Actor, person_id: int
) -> AssessmentFormView | None:
    """What the assessment form offers, or None when the actor may not assess this person."""
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    if not person.active or not may_assess_competency(actor, rel):
        return None
    rows = await session.scalars(
        select(Competency)
        .where(Competency.active.is_(True))
        .order_by(Competency.category, Competency.name_key)
    )
    return AssessmentFormView(person.id, person.display_name, tuple(competency_view(r) for r in rows))


async def levels_as_of(
    session: AsyncSession, person_ids: Collection[int] | None, as_of: date
) -> dict[tuple[int, int], int]:
    """Each person's level per competency as of a day: their latest assessment on or before it ((person id,
    competency id) → level). None means everyone. No access check: callers (metrics) aggregate."""
    found: dict[tuple[int, int], int] = {}
    if person_ids is not None and not person_ids:
        return found
    chunks: list[Sequence[int] | None] = (
        [None] if person_ids is None else list(_chunks(sorted(set(person_ids))))
    )
    for chunk in chunks:
        ranked = select(
            CompetencyAssessment.person_id,
            CompetencyAssessment.competency_id,
            CompetencyAssessment.level,
            _newest_first().label("rank"),
        ).where(CompetencyAssessment.assessed_on <= as_of)
        if chunk is not None:
            ranked = ranked.where(CompetencyAssessment.person_id.in_(chunk))
        sub = ranked.subquery()
        rows = await session.execute(
            select(sub.c.person_id, sub.c.competency_id, sub.c.level).where(sub.c.rank == 1)
        )
        found.update({(pid, cid): level for pid, cid, level in rows.all()})
    return found


# --- gaps ----------------------------------------------------------------------------------------------


async def gap_view(
    session: AsyncSession, *, actor: Actor, person_id: int, role_profile_id: int | None = None
) -> GapView:
    """Someone's latest levels against their current role's expectations, or a target role's, with their
    weighted readiness: the person, their line and HR."""
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    require(may_view_development(actor, rel), f"{person.display_name}'s competencies")
    current = (await current_role_profiles(session, [person.id])).get(person.id)
    if role_profile_id is not None:
        await _profile_row(session, role_profile_id)
    target = role_profile_id if role_profile_id is not None else current
    if target is None:
        return GapView(person.id, person.display_name, None, None, True, (), None)
    return (await gaps_for(session, person_id=person.id, profile_ids=[target]))[target]


async def gaps_for(
    session: AsyncSession, *, person_id: int, profile_ids: Sequence[int]
) -> dict[int, GapView]:
    """One person's gap to each of these role profiles (profile id → view), without an access check (for the
    career paths and development plans, which check theirs). Unknown profiles are left out."""
    person = await _person(session, person_id)
    current = (await current_role_profiles(session, [person.id])).get(person.id)
    profiles = await session.scalars(select(RoleProfile).where(RoleProfile.id.in_(list(profile_ids))))
    by_id = {p.id: p for p in profiles}
    requirements = (
        await session.execute(
            select(RoleRequirement, Competency)
            .join(Competency, Competency.id == RoleRequirement.competency_id)
            .where(RoleRequirement.role_profile_id.in_(list(by_id)), Competency.active.is_(True))
            .order_by(Competency.category, Competency.name_key)
        )
    ).all()
    latest = await _latest_levels(session, person.id, {c.id for _, c in requirements})
    lines: dict[int, list[GapLine]] = {pid: [] for pid in by_id}
    for requirement, competency in requirements:
        level, on = latest.get(competency.id, (None, None))
        levels = tuple(competency.levels)
        lines[requirement.role_profile_id].append(
            GapLine(
                competency_id=competency.id,
                competency_name=competency.name,
                category=competency.category,
                expected_level=requirement.expected_level,
                expected_label=_label(levels, requirement.expected_level),
                weight=requirement.weight,
                levels=len(levels),
                assessed_level=level,
                assessed_label=None if level is None else _label(levels, level),
                assessed_on=on,
            )
        )
    return {
        pid: GapView(
            person_id=person.id,
            person_name=person.display_name,
            role_profile_id=pid,
            role_profile_name=by_id[pid].name,
            current=pid == current,
            lines=tuple(lines[pid]),
            readiness=readiness(lines[pid]),
        )
        for pid in profile_ids
        if pid in by_id
    }


def readiness(lines: Sequence[GapLine]) -> Decimal | None:
    """Σ weight · min(assessed / expected, 1) / Σ weight, in percent to one place, half up (never assessed
    counts 0); None when nothing is expected."""
    total = sum((Decimal(str(line.weight)) for line in lines), Decimal(0))
    if not lines or total <= 0:
        return None
    met = sum(
        (
            Decimal(str(line.weight))
            * min(Decimal(line.assessed_level or 0) / line.expected_level, Decimal(1))
            for line in lines
        ),
        Decimal(0),
    )
    return (met * 100 / total).quantize(TENTH, rounding=ROUND_HALF_UP)


# --- from released reviews -----------------------------------------------------------------------------


def review_level(rating: int, points: int, levels: int) -> int:
    """A rating on a review scale of `points` as a level of a competency of `levels`: the same position on
    the other scale, round(1 + (rating - 1)(levels - 1)/(points - 1)), half up, within 1..levels."""
    numerator, denominator = (rating - 1) * (levels - 1), points - 1
    # Whole-number half-up rounding of numerator / denominator: floor((2n + d) / 2d).
    level = 1 + (2 * numerator + denominator) // (2 * denominator)
    return min(max(level, 1), levels)


async def record_review_assessments(session: AsyncSession, *, cycle_id: int, on: date) -> int:
    """Record, for a cycle being released, each participant's level on every framework competency their
    manager rated (source review, assessed by the manager reviewer, on the release day); how many were
    written. Replaying it writes nothing more (one per participant and competency)."""
    rated = await session.execute(
        select(
            ReviewParticipant.id,
            ReviewParticipant.person_id,
            Review.reviewer_id,
            ReviewItem.competency_id,
            ReviewAnswer.rating,
            ReviewTemplate.scale_labels,
            Competency.levels,
        )
        .join(Review, Review.participant_id == ReviewParticipant.id)
        .join(ReviewAnswer, ReviewAnswer.review_id == Review.id)
        .join(ReviewSection, ReviewSection.id == ReviewAnswer.section_id)
        .join(
            ReviewItem,
            (ReviewItem.section_id == ReviewSection.id) & (ReviewItem.key == ReviewAnswer.item_key),
        )
        .join(Competency, Competency.id == ReviewItem.competency_id)
        .join(ReviewCycle, ReviewCycle.id == ReviewParticipant.cycle_id)
        .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
        .where(
            ReviewParticipant.cycle_id == cycle_id,
            Review.role == "manager",
            Review.status == "submitted",
            ReviewSection.kind == "competencies",
            ReviewAnswer.rating.is_not(None),
        )
        # The latest submitted manager review wins if a participant ever had two managers reviewing.
        .order_by(Review.submitted_at, ReviewSection.position, ReviewItem.position)
    )
    chosen: dict[tuple[int, int], CompetencyAssessment] = {}
    for participant_id, person_id, reviewer_id, competency_id, rating, scale, levels in rated.all():
        chosen[(participant_id, competency_id)] = CompetencyAssessment(
            person_id=person_id,
            competency_id=competency_id,
            level=review_level(rating, len(scale), len(levels)),
            source=AssessmentSource.REVIEW.value,
            review_participant_id=participant_id,
            assessed_on=on,
            assessed_by_id=reviewer_id,
        )
    if not chosen:
        return 0
    done = set(
        (
            await session.execute(
                select(CompetencyAssessment.review_participant_id, CompetencyAssessment.competency_id)
                .join(ReviewParticipant, ReviewParticipant.id == CompetencyAssessment.review_participant_id)
                .where(ReviewParticipant.cycle_id == cycle_id)
            )
        ).all()
    )
    new = [row for key, row in chosen.items() if key not in done]
    session.add_all(new)
    await session.flush()
    return len(new)


# --- helpers -------------------------------------------------------------------------------------------


async def _set_active(
    session: AsyncSession, actor: Actor, competency_id: int, *, active: bool
) -> CompetencyView:
    require(may_define_competencies(actor), "the competency framework")
    row = await _competency_row(session, competency_id)
    if row.active != active:
        row.active = active
        await session.flush()
    return competency_view(row)


async def _competency_row(session: AsyncSession, competency_id: int) -> Competency:
    found = await session.get(Competency, competency_id)
    if found is None:
        raise NotFound(COMPETENCY_NOT_FOUND)
    return found


async def _profile_row(session: AsyncSession, role_profile_id: int) -> RoleProfile:
    found = await session.get(RoleProfile, role_profile_id)
    if found is None:
        raise NotFound(PROFILE_NOT_FOUND)
    return found


async def _person(session: AsyncSession, person_id: int) -> Person:
    found = await session.get(Person, person_id)
    if found is None:
        raise NotFound(PERSON_NOT_FOUND)
    return found


async def _refuse_name_clash(session: AsyncSession, key: str, *, other_than: int | None = None) -> None:
    query = select(Competency.name).where(Competency.name_key == key)
    if other_than is not None:
        query = query.where(Competency.id != other_than)
    clash = await session.scalar(query)
    if clash is not None:
        raise Invalid(f"A competency named “{clash}” already exists: choose another name.")


async def _refuse_profile_clash(
    session: AsyncSession, name_key: str, title_key: str | None, *, other_than: int | None = None
) -> None:
    query = select(RoleProfile.name).where(RoleProfile.name_key == name_key)
    if other_than is not None:
        query = query.where(RoleProfile.id != other_than)
    clash = await session.scalar(query)
    if clash is not None:
        raise Invalid(f"A role profile named “{clash}” already exists: choose another name.")
    if title_key is None:
        return
    query = select(RoleProfile.name).where(RoleProfile.job_title_key == title_key)
    if other_than is not None:
        query = query.where(RoleProfile.id != other_than)
    holder = await session.scalar(query)
    if holder is not None:
        raise Invalid(
            f"People with the job title “{title_key}” already hold the role profile “{holder}”: a job title "
            "maps to one profile."
        )


async def _refuse_dropped_levels(session: AsyncSession, row: Competency, count: int) -> None:
    required = await session.scalar(
        select(func.max(RoleRequirement.expected_level)).where(RoleRequirement.competency_id == row.id)
    )
    assessed = await session.scalar(
        select(func.max(CompetencyAssessment.level)).where(CompetencyAssessment.competency_id == row.id)
    )
    highest = max(required or 0, assessed or 0)
    if highest > count:
        why = "a role profile expects" if (required or 0) == highest else "someone was assessed at"
        raise Invalid(
            f"“{row.name}” can't drop to {count} levels: {why} level {highest}. Keep at least {highest} "
            "levels."
        )


async def _requirements(
    session: AsyncSession, requirements: Sequence[RequirementInput]
) -> list[tuple[int, int, float]]:
    if len(requirements) > REQUIREMENTS_MAX:
        raise Invalid(
            f"A role profile expects at most {REQUIREMENTS_MAX} competencies (not {len(requirements)})."
        )
    ids = [r.competency_id for r in requirements]
    rows = {c.id: c for c in await session.scalars(select(Competency).where(Competency.id.in_(ids)))}
    checked: list[tuple[int, int, float]] = []
    seen: set[int] = set()
    for given in requirements:
        competency = rows.get(given.competency_id)
        if competency is None:
            raise NotFound(COMPETENCY_NOT_FOUND)
        if competency.id in seen:
            raise Invalid(f"“{competency.name}” is expected twice: a role expects each competency once.")
        seen.add(competency.id)
        if not competency.active:
            raise Invalid(f"“{competency.name}” is retired from the framework: a role can't expect it.")
        level = _level_of(competency, given.expected_level, what="expected level")
        checked.append((competency.id, level, _weight(given.weight, competency.name)))
    return checked


def _level_of(competency: Competency, value: object, *, what: str = "level") -> int:
    count = len(competency.levels)
    level = _whole(value)
    if level is None or not 1 <= level <= count:
        raise Invalid(f"“{competency.name}” has levels 1 to {count}: the {what} {value} is not one of them.")
    return level


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    return None


def _weight(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Invalid(f"The weight of “{name}” is a number above 0, not “{value}”.")
    try:
        weight = float(value)
    except ValueError:
        raise Invalid(f"The weight of “{name}” is a number above 0, not “{value}”.") from None
    if not 0 < weight <= WEIGHT_MAX:  # also refuses NaN
        raise Invalid(f"The weight of “{name}” is above 0 and at most {WEIGHT_MAX}, not {value}.")
    return weight


def _levels(levels: Sequence[str]) -> list[str]:
    if isinstance(levels, str) or not LEVELS_MIN <= len(levels) <= LEVELS_MAX:
        count = 1 if isinstance(levels, str) else len(levels)
        raise Invalid(
            f"A competency has from {LEVELS_MIN} to {LEVELS_MAX} levels, each described: not {count}."
        )
    clean = [
        required_text(text, LEVEL_TEXT_MAX, f"The description of level {n}")
        for n, text in enumerate(levels, 1)
    ]
    seen: set[str] = set()
    for n, text in enumerate(clean, 1):
        if text.casefold() in seen:
            raise Invalid(f"Level {n} is described as “{text}” like a level before it: describe each level.")
        seen.add(text.casefold())
    return clean


def _category(value: str) -> str:
    # Casefolded, so "Leadership" and "leadership" are one group.
    return required_text(value, CATEGORY_MAX, "The category").casefold()


def _job_title_key(value: str | None) -> str | None:
    text = optional_text(value, JOB_TITLE_MAX, "The job title")
    return None if text is None else text.lower()


def _label(levels: Sequence[str], level: int) -> str:
    return levels[level - 1] if 1 <= level <= len(levels) else ""


def _newest_first() -> ColumnElement[int]:
    return func.row_number().over(
        partition_by=(CompetencyAssessment.person_id, CompetencyAssessment.competency_id),
        order_by=(CompetencyAssessment.assessed_on.desc(), CompetencyAssessment.id.desc()),
    )


async def _latest_levels(
    session: AsyncSession, person_id: int, competency_ids: Collection[int]
) -> dict[int, tuple[int, date]]:
    if not competency_ids:
        return {}
    rows = await session.execute(
        select(
            CompetencyAssessment.competency_id, CompetencyAssessment.level, CompetencyAssessment.assessed_on
        )
        .where(
            CompetencyAssessment.person_id == person_id,
            CompetencyAssessment.competency_id.in_(list(competency_ids)),
        )
        .order_by(CompetencyAssessment.assessed_on, CompetencyAssessment.id)
    )
    # Ascending: the last row per competency is its latest.
    return {cid: (level, on) for cid, level, on in rows.all()}


async def _profile_views(session: AsyncSession, profile_ids: Sequence[int]) -> list[RoleProfileView]:
    if not profile_ids:
        return []
    profiles = {
        p.id: p for p in await session.scalars(select(RoleProfile).where(RoleProfile.id.in_(profile_ids)))
    }
    requirements: dict[int, list[RequirementView]] = {pid: [] for pid in profiles}
    rows = await session.execute(
        select(RoleRequirement, Competency)
        .join(Competency, Competency.id == RoleRequirement.competency_id)
        .where(RoleRequirement.role_profile_id.in_(list(profiles)))
        .order_by(Competency.category, Competency.name_key)
    )
    for requirement, competency in rows.all():
        requirements[requirement.role_profile_id].append(
            RequirementView(
                competency_id=competency.id,
                competency_name=competency.name,
                category=competency.category,
                expected_level=requirement.expected_level,
                expected_label=_label(competency.levels, requirement.expected_level),
                weight=requirement.weight,
                active=competency.active,
            )
        )
    return [
        RoleProfileView(
            id=p.id,
            name=p.name,
            description=p.description,
            job_title_key=p.job_title_key,
            requirements=tuple(requirements[p.id]),
        )
        for pid in profile_ids
        if (p := profiles.get(pid)) is not None
    ]


async def _assessment_views(
    session: AsyncSession, query: Select[tuple[CompetencyAssessment]]
) -> list[AssessmentView]:
    sub = query.subquery()
    rows = (
        await session.execute(
            select(CompetencyAssessment, Competency, ReviewCycle.name)
            .join(sub, sub.c.id == CompetencyAssessment.id)
            .join(Competency, Competency.id == CompetencyAssessment.competency_id)
            .outerjoin(ReviewParticipant, ReviewParticipant.id == CompetencyAssessment.review_participant_id)
            .outerjoin(ReviewCycle, ReviewCycle.id == ReviewParticipant.cycle_id)
            .order_by(CompetencyAssessment.assessed_on.desc(), CompetencyAssessment.id.desc())
        )
    ).all()
    names = await display_names(session, (a.assessed_by_id for a, _, _ in rows))
    return [
        AssessmentView(
            id=a.id,
            person_id=a.person_id,
            competency_id=c.id,
            competency_name=c.name,
            level=a.level,
            level_label=_label(c.levels, a.level),
            levels=len(c.levels),
            source=AssessmentSource(a.source),
            assessed_on=a.assessed_on,
            assessed_by_id=a.assessed_by_id,
            assessed_by_name=names.get(a.assessed_by_id) if a.assessed_by_id is not None else None,
            note=a.note,
            review_cycle_name=cycle_name,
        )
        for a, c, cycle_name in rows
    ]


async def _repeat(session: AsyncSession, actor: Actor, client_id: str) -> AssessmentView | None:
    """A second submit of the same assessment form: the assessment it made, marked as such."""
    found = await session.scalar(
        select(CompetencyAssessment).where(CompetencyAssessment.client_request_id == client_id)
    )
    if found is None:
        return None
    if found.assessed_by_id != actor.person_id:
        raise Conflict(FORM_USED)
    view = (
        await _assessment_views(
            session, select(CompetencyAssessment).where(CompetencyAssessment.id == found.id)
        )
    )[0]
    return replace(view, already_submitted=True)


def _chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + IDS_CHUNK] for i in range(0, len(ids), IDS_CHUNK)]


def _today(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC).date()


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"

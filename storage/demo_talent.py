"""Talent data for the demo organization: a competency framework with a role profile per job title and
career ladders, assessments a year apart, critical positions with succession slates, how positions were
filled, last year's closed review and its finalized talent review, and some development plans.

Bulk inserts, like storage/demo_goals.py: a 10,000-person organization gets ~500 critical positions and
~100,000 assessments in seconds. The 9-box placement follows PRODUCT.md's rules (performance from the
final score by thresholds, potential from ability + aspiration + engagement) so the demo's boxes read
the way the talent review service would have placed them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import batches
from storage.demo import ENGINEERING, IC_TITLES, LEADER_TITLES, VP_TITLES
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Person,
    Position,
    PositionFill,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    RoleProfile,
    RoleRequirement,
    Successor,
    TalentPool,
    TalentPoolMember,
    TalentReview,
    TalentReviewEntry,
)

LEVELS = ("Learning", "Developing", "Proficient", "Advanced", "Expert")
# (name, category, what it is about)
COMPETENCIES: tuple[tuple[str, str, str], ...] = (
    ("Leading people", "leadership", "grows a team and its people"),
    ("Strategic thinking", "leadership", "sets direction beyond the next quarter"),
    ("Decision making", "leadership", "decides well with incomplete information"),
    ("Communication", "behaviours", "makes ideas clear to any audience"),
    ("Collaboration", "behaviours", "works across teams toward shared outcomes"),
    ("Ownership", "behaviours", "sees work through and owns its results"),
    ("Learning agility", "behaviours", "learns fast from new situations"),
    ("Technical depth", "functional", "masters the craft of the role"),
    ("Customer focus", "functional", "puts the customer's outcome first"),
    ("Commercial acumen", "functional", "understands how the business makes money"),
    ("Data literacy", "functional", "reasons from data and measures results"),
)
FUNCTIONAL = {
    "Engineering": ("Technical depth", "Data literacy"),
    "Product": ("Customer focus", "Data literacy"),
    "Sales": ("Commercial acumen", "Customer focus"),
    "Marketing": ("Customer focus", "Data literacy"),
    "Customer Success": ("Customer focus", "Technical depth"),
    "People": ("Communication", "Data literacy"),
    "Finance": ("Data literacy", "Commercial acumen"),
}
LEADERSHIP = ("Leading people", "Strategic thinking", "Decision making")
BEHAVIOURS = ("Communication", "Collaboration", "Ownership")
READINESS = (("ready_now", 25), ("1_2_years", 45), ("3_5_years", 30))
MONTHS = {"ready_now": (0, 0), "1_2_years": (12, 24), "3_5_years": (36, 60)}
SLATE_SIZES = ((0, 6), (1, 15), (2, 30), (3, 30), (4, 19))
ACTION_KINDS = ("training", "mentoring", "stretch", "course", "project")
MEDIUM_FROM, HIGH_FROM = 2.75, 3.75


@dataclass(frozen=True, slots=True)
class TalentSeedResult:
    competencies: int
    role_profiles: int
    assessments: int
    critical_positions: int
    successors: int
    fills: int
    talent_review_entries: int
    development_actions: int

    def __str__(self) -> str:
        return (
            f"{self.competencies} competencies, {self.role_profiles} role profiles, {self.assessments} "
            f"assessments, {self.critical_positions} critical positions with {self.successors} successors, "
            f"{self.fills} position fills, {self.talent_review_entries} talent-review entries, "
            f"{self.development_actions} development actions"
        )


@dataclass(frozen=True, slots=True)
class _Member:
    id: int
    title: str
    department: str | None
    manager_id: int | None


async def seed_talent(
    session: AsyncSession, *, today: date, seed: int = 7, critical_positions: int | None = None
) -> TalentSeedResult:
    """Write the demo talent data over a seeded demo organization (does not commit). About one person in
    twenty heads a critical position unless `critical_positions` says how many."""
    rng = random.Random(seed)
    people = [
        _Member(*row)
        for row in await session.execute(
            select(Person.id, Person.job_title, Person.department, Person.manager_id)
            .where(Person.active.is_(True))
            .order_by(Person.id)
        )
    ]
    competency_ids = await _insert_competencies(session)
    profiles = await _insert_role_profiles(session, {p.title for p in people}, competency_ids)
    await _insert_career_steps(session, profiles)
    requirements = await _requirements(session)
    assessed = await _insert_assessments(session, rng, people, profiles, requirements, today)
    critical = await _mark_critical(session, rng, profiles, critical_positions or max(1, len(people) // 20))
    successors = await _insert_successors(session, rng, people, critical)
    fills = await _insert_fills(session, rng, today)
    entries = await _insert_talent_review(session, rng, people, today)
    actions = await _insert_development(session, rng, people, profiles, requirements, today)
    return TalentSeedResult(
        competencies=len(competency_ids),
        role_profiles=len(profiles),
        assessments=assessed,
        critical_positions=len(critical),
        successors=successors,
        fills=fills,
        talent_review_entries=entries,
        development_actions=actions,
    )


# The demo's talent pools: name, what it is for, who (from last year's finalized talent review), how many.
POOLS = (
    (
        "Future leaders",
        "High potentials from last year's talent review, being grown towards leadership roles.",
        "high_potential",
        12,
    ),
    (
        "Emerging engineering managers",
        "Strong engineers who want to lead people: mentoring, a first team to lead, the leadership course.",
        "engineering",
        8,
    ),
)


async def seed_pools(session: AsyncSession, *, today: date, seed: int = 7) -> int:
    """Two talent pools over the talent data seed_talent wrote (kept apart from it so the benchmarks'
    organizations stay as they are); returns how many people were put in pools."""
    rng = random.Random(seed)
    rows = (
        await session.execute(
            select(
                TalentReviewEntry.person_id, TalentReviewEntry.high_potential, TalentReviewEntry.performance
            )
            .join(TalentReview, TalentReview.id == TalentReviewEntry.talent_review_id)
            .join(Person, Person.id == TalentReviewEntry.person_id)
            .where(TalentReview.status == "finalized", Person.active.is_(True))
            .order_by(TalentReviewEntry.person_id)
        )
    ).all()
    engineering = set(
        await session.scalars(
            select(Person.id).where(
                Person.department == ENGINEERING,
                Person.job_title.in_([title for title, _ in IC_TITLES[ENGINEERING]]),
            )
        )
    )
    candidates = {
        "high_potential": sorted({pid for pid, flagged, _ in rows if flagged}),
        "engineering": sorted(
            {pid for pid, _, performance in rows if performance == 3 and pid in engineering}
        ),
    }
    added_at = datetime.combine(today - timedelta(days=30), time(10), tzinfo=UTC)
    members = 0
    for name, description, kind, size in POOLS:
        pool = TalentPool(name=name, name_key=name.casefold(), description=description, created_at=added_at)
        session.add(pool)
        await session.flush()
        chosen = rng.sample(candidates[kind], min(size, len(candidates[kind])))
        session.add_all(
            TalentPoolMember(pool_id=pool.id, person_id=pid, added_at=added_at) for pid in sorted(chosen)
        )
        members += len(chosen)
    await session.flush()
    return members


async def _insert_competencies(session: AsyncSession) -> dict[str, int]:
    rows = [
        {
            "name": name,
            "name_key": name.casefold(),
            "category": category,
            "description": f"How well a person {about}.",
            "levels": [f"{label}: {_level_text(n, about)}" for n, label in enumerate(LEVELS, 1)],
            "active": True,
        }
        for name, category, about in COMPETENCIES
    ]
    table = Competency.__table__
    result = await session.execute(table.insert().returning(table.c.name, table.c.id), rows)
    return dict(result.all())


def _level_text(n: int, about: str) -> str:
    scope = ("with guidance", "on their own", "for their team", "across teams", "for the organization")
    return f"{about} {scope[n - 1]}"


def _role_requirements(title: str, department: str) -> list[tuple[str, int]]:
    """What a title expects: (competency, level). Seniority raises the levels; leaders add leadership."""
    seniority = _seniority(title, department)
    functional = FUNCTIONAL.get(department, ("Ownership", "Communication"))
    wanted = [(functional[0], min(5, 2 + seniority)), (functional[1], min(5, 1 + seniority))]
    wanted += [(name, min(5, 2 + seniority // 2)) for name in BEHAVIOURS]
    if seniority >= 2 and _is_leader(title, department):
        wanted += [(name, min(5, seniority)) for name in LEADERSHIP]
    seen: dict[str, int] = {}
    for name, level in wanted:
        seen[name] = max(level, seen.get(name, 0))
    return list(seen.items())


def _seniority(title: str, department: str) -> int:
    """0 junior IC … 5 executive."""
    if title == "Chief Executive Officer" or title in VP_TITLES.values():
        return 5
    for height, titles in enumerate(LEADER_TITLES.get(department, ()), start=2):
        if title in titles:
            return height
    if title.startswith(("Staff", "Principal")):
        return 2
    return 1 if title.startswith("Senior") else 0


def _is_leader(title: str, department: str) -> bool:
    return _seniority(title, department) >= 2 and not title.startswith(("Staff", "Principal"))


def _department_of_title() -> dict[str, str]:
    found: dict[str, str] = {}
    for department, titles in IC_TITLES.items():
        found.update({title: department for title, _ in titles})
    for department, levels in LEADER_TITLES.items():
        found.update({title: department for level in levels for title in level})
    found.update({title: department for department, title in VP_TITLES.items()})
    return found


async def _insert_role_profiles(
    session: AsyncSession, titles: set[str], competency_ids: dict[str, int]
) -> dict[str, int]:
    """One role profile per job title in the organization (title → profile id)."""
    department_of = _department_of_title()
    known = sorted(t for t in titles if t)
    table = RoleProfile.__table__
    rows = [
        {"name": title, "name_key": title.casefold(), "job_title_key": title.lower(), "description": None}
        for title in known
    ]
    result = await session.execute(table.insert().returning(table.c.name, table.c.id), rows)
    profiles = dict(result.all())
    requirement_rows = [
        {
            "role_profile_id": profiles[title],
            "competency_id": competency_ids[name],
            "expected_level": level,
            "weight": 2.0 if name in FUNCTIONAL.get(department_of.get(title, ""), ()) else 1.0,
        }
        for title in known
        for name, level in _role_requirements(title, department_of.get(title, ""))
    ]
    for batch in batches(requirement_rows):
        await session.execute(RoleRequirement.__table__.insert(), batch)
    # Positions expect what their holder's title expects.
    holder_profile = (
        select(RoleProfile.id)
        .join(Person, Person.job_title == RoleProfile.name)
        .where(Person.id == Position.incumbent_id)
        .scalar_subquery()
    )
    await session.execute(update(Position).values(role_profile_id=holder_profile))
    return profiles


async def _insert_career_steps(session: AsyncSession, profiles: dict[str, int]) -> None:
    """Ladders: IC → senior IC → first-line manager → director → senior director → VP; laterals between
    a department's individual-contributor titles."""
    steps: dict[tuple[int, int], str] = {}

    def link(source: str, target: str, kind: str) -> None:
        if source in profiles and target in profiles and source != target:
            steps.setdefault((profiles[source], profiles[target]), kind)

    for department, titles in IC_TITLES.items():
        names = [title for title, _ in titles]
        leaders = LEADER_TITLES[department]
        for title in names:
            link(title, f"Senior {title}", "ladder")
            if title.startswith("Senior"):
                link(title, leaders[0][0], "ladder")
        for source, target in pairwise(names):
            if not source.startswith("Senior") and not target.startswith("Senior"):
                link(source, target, "lateral")
        for lower, higher in pairwise(leaders):
            for title in lower:
                link(title, higher[0], "ladder")
        for title in leaders[-1]:
            link(title, VP_TITLES[department], "ladder")
    rows = [{"from_profile_id": a, "to_profile_id": b, "kind": kind} for (a, b), kind in steps.items()]
    if rows:
        await session.execute(CareerStep.__table__.insert(), rows)


async def _requirements(session: AsyncSession) -> dict[int, list[tuple[int, int]]]:
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = await session.execute(
        select(RoleRequirement.role_profile_id, RoleRequirement.competency_id, RoleRequirement.expected_level)
    )
    for profile, competency, level in rows:
        found[profile].append((competency, level))
    return found


async def _insert_assessments(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Member],
    profiles: dict[str, int],
    requirements: dict[int, list[tuple[int, int]]],
    today: date,
) -> int:
    """A manager's assessment about a year ago and a recent one, per requirement of each person's role;
    most people grow a little in between, so skill gaps close."""
    earlier, recent = today - timedelta(days=390), today - timedelta(days=30)
    rows: list[dict[str, Any]] = []
    for person in people:
        for competency, expected in requirements.get(profiles.get(person.title, -1), ()):
            before = max(1, min(5, expected + rng.choice((-2, -1, -1, 0, 0, 1))))
            after = max(1, min(5, before + rng.choice((0, 0, 1, 1, 1, 2))))
            for level, day in ((before, earlier), (after, recent)):
                rows.append(
                    {
                        "person_id": person.id,
                        "competency_id": competency,
                        "level": level,
                        "source": "manager",
                        "assessed_on": day,
                        "assessed_by_id": person.manager_id,
                    }
                )
    for batch in batches(rows):
        await session.execute(CompetencyAssessment.__table__.insert(), batch)
    return len(rows)


async def _mark_critical(
    session: AsyncSession, rng: random.Random, profiles: dict[str, int], wanted: int
) -> list[tuple[int, str | None, int | None]]:
    """Keep the generator's critical positions (the executives and some directors) and add leadership
    seats at random up to `wanted`; returns (position id, department, incumbent id) of each."""
    rows = (
        await session.execute(
            select(Position.id, Position.department, Position.incumbent_id, Position.critical).order_by(
                Position.id
            )
        )
    ).all()
    critical = {row.id for row in rows if row.critical}
    others = [row.id for row in rows if not row.critical]
    rng.shuffle(others)
    critical.update(others[: max(0, wanted - len(critical))])
    for batch in batches(sorted(critical)):
        await session.execute(update(Position).where(Position.id.in_(batch)).values(critical=True))
    return [(row.id, row.department, row.incumbent_id) for row in rows if row.id in critical]


async def _insert_successors(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Member],
    critical: Sequence[tuple[int, str | None, int | None]],
) -> int:
    """Slates of up to four people from the position's department; some positions have nobody (flagged)."""
    by_department: dict[str | None, list[int]] = defaultdict(list)
    for person in people:
        by_department[person.department].append(person.id)
    sizes, size_weights = zip(*SLATE_SIZES, strict=True)
    readiness, readiness_weights = zip(*READINESS, strict=True)
    rows: list[dict[str, Any]] = []
    for position_id, department, incumbent in critical:
        pool = [pid for pid in by_department.get(department, ()) if pid != incumbent]
        chosen = rng.sample(pool, min(len(pool), rng.choices(sizes, size_weights)[0]))
        slate = [(pid, rng.choices(readiness, readiness_weights)[0]) for pid in chosen]
        slate.sort(key=lambda entry: readiness.index(entry[1]))
        for n, (person_id, ready) in enumerate(slate):
            low, high = MONTHS[ready]
            rows.append(
                {
                    "position_id": position_id,
                    "person_id": person_id,
                    "readiness": ready,
                    "months_to_ready": rng.randint(low, high),
                    "emergency": n == 0 and rng.random() < 0.7,
                    "notes": None,
                }
            )
    for batch in batches(rows):
        await session.execute(Successor.__table__.insert(), batch)
    return len(rows)


async def _insert_fills(session: AsyncSession, rng: random.Random, today: date) -> int:
    """How about a third of the positions were last filled, over the past two years."""
    positions = (
        await session.execute(
            select(Position.id, Position.incumbent_id)
            .where(Position.incumbent_id.is_not(None))
            .order_by(Position.id)
        )
    ).all()
    rows = []
    for position_id, incumbent in positions:
        if rng.random() >= 1 / 3:
            continue
        internal = rng.random() < 0.65
        rows.append(
            {
                "position_id": position_id,
                "person_id": incumbent,
                "filled_on": today - timedelta(days=rng.randint(1, 730)),
                "source": "internal" if internal else "external",
                "from_slate": internal and rng.random() < 0.5,
            }
        )
    for batch in batches(rows):
        await session.execute(PositionFill.__table__.insert(), batch)
    return len(rows)


async def _insert_talent_review(
    session: AsyncSession, rng: random.Random, people: Sequence[_Member], today: date
) -> int:
    """Last year's annual review (closed) and its finalized talent review with everyone placed."""
    year = today.year - 1
    closed_at = datetime.combine(date(today.year, 1, 31), time(17), tzinfo=UTC)
    template = ReviewTemplate(
        name="Annual review (demo)",
        name_key="annual review (demo)",
        scale_labels=["Unsatisfactory", "Needs improvement", "Meets", "Exceeds", "Outstanding"],
    )
    session.add(template)
    await session.flush()
    cycle = ReviewCycle(
        name=f"{year} annual review",
        template_id=template.id,
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        phase="closed",
        launched_at=closed_at - timedelta(days=60),
    )
    session.add(cycle)
    await session.flush()
    review = TalentReview(
        name=f"{year} talent review",
        performance_cycle_id=cycle.id,
        status="finalized",
        medium_from=MEDIUM_FROM,
        high_from=HIGH_FROM,
        finalized_at=closed_at + timedelta(days=21),
    )
    session.add(review)
    await session.flush()
    participants, entries = [], []
    for person in people:
        if person.manager_id is None:
            continue
        score = round(max(1.0, min(5.0, rng.gauss(3.3, 0.65))), 2)
        participants.append(
            {
                "cycle_id": cycle.id,
                "person_id": person.id,
                "manager_id": person.manager_id,
                "department": person.department,
                "source": "launch",
                "added_at": cycle.launched_at,
                "computed_score": score,
                "final_score": score,
                "manager_submitted_at": closed_at - timedelta(days=20),
            }
        )
        entries.append(_entry(rng, review.id, person, score, closed_at))
    for batch in batches(participants):
        await session.execute(ReviewParticipant.__table__.insert(), batch)
    for batch in batches(entries):
        await session.execute(TalentReviewEntry.__table__.insert(), batch)
    return len(entries)


def _entry(rng: random.Random, review_id: int, person: _Member, score: float, at: datetime) -> dict[str, Any]:
    performance = 1 if score < MEDIUM_FROM else 2 if score < HIGH_FROM else 3
    # Ability follows performance loosely; aspiration and engagement are their own.
    ability = max(1, min(3, performance + rng.choice((-1, 0, 0, 1))))
    aspiration, engagement = rng.choice((1, 2, 2, 3)), rng.choice((1, 2, 2, 3, 3))
    total = ability + aspiration + engagement
    potential = 1 if total <= 4 else 2 if total <= 7 else 3
    return {
        "talent_review_id": review_id,
        "person_id": person.id,
        "manager_id": person.manager_id,
        "department": person.department,
        "performance_score": score,
        "performance": performance,
        "ability": ability,
        "aspiration": aspiration,
        "engagement": engagement,
        "potential": potential,
        "risk_of_loss": rng.choice((1, 1, 2, 2, 3)),
        "impact_of_loss": rng.choice((1, 2, 2, 3)),
        "high_potential": potential == 3 and performance >= 2,
        "rated_by_id": person.manager_id,
        "rated_at": at,
        "version": 1,
    }


async def _insert_development(
    session: AsyncSession,
    rng: random.Random,
    people: Sequence[_Member],
    profiles: dict[str, int],
    requirements: dict[int, list[tuple[int, int]]],
    today: date,
) -> int:
    """A plan for about one person in five: one to three actions on their role's competencies."""
    planned = [p for p in people if p.title in profiles and rng.random() < 0.2]
    plan_table = DevelopmentPlan.__table__
    plan_rows = [{"person_id": p.id, "source": "self", "created_by_id": p.id} for p in planned]
    plan_of: dict[int, int] = {}
    for batch in batches(plan_rows):
        result = await session.execute(
            plan_table.insert().returning(plan_table.c.person_id, plan_table.c.id), batch
        )
        plan_of.update(dict(result.all()))
    rows = []
    for person in planned:
        needs = requirements.get(profiles[person.title], [])
        for competency, expected in rng.sample(needs, min(len(needs), rng.randint(1, 3))):
            kind = rng.choice(ACTION_KINDS)
            status = rng.choice(("planned", "in_progress", "in_progress", "done"))
            rows.append(
                {
                    "plan_id": plan_of[person.id],
                    "kind": kind,
                    "title": f"{kind.capitalize()}: grow to level {expected}",
                    "competency_id": competency,
                    "target_level": expected,
                    "due_on": today + timedelta(days=rng.randint(-20, 120)),
                    "status": status,
                    "progress": 100 if status == "done" else rng.choice((0, 20, 40, 60)),
                    "source": "manual",
                    "created_by_id": person.id,
                    "version": 0,
                }
            )
    for batch in batches(rows):
        await session.execute(DevelopmentAction.__table__.insert(), batch)
    return len(rows)

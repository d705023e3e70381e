"""A deterministic, realistic demo organization (Contoso) and a fast bulk writer for it.

The Microsoft 365 Agents Playground signs people in with fixed ids; the demo organization contains them,
so a newcomer can try every feature from the Playground as an employee, a manager or HR.
"""

from __future__ import annotations

import random
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import BATCH_SIZE, batches, progress_advancer
from storage.models import Person, Position, RoleGrant

# The Playground's ids are not strict GUIDs (13 digits in the last group): stored as-is, as Teams sends them.
DEMO_TENANT_ID = "00000000-0000-0000-0000-0000000000001"
DEMO_DOMAIN = "contoso.example"
DEMO_AS_OF = date(2025, 6, 30)  # hire dates are drawn before this, so the output never depends on today
FOUNDED = date(2014, 3, 3)
MIN_PEOPLE = 15

# Role names as domain.access.Role spells them (storage sits below domain and cannot import it).
HR_ADMIN = "hr_admin"
TALENT_REVIEWER = "talent_reviewer"


@dataclass(frozen=True)
class _Persona:
    key: str
    display_name: str
    aad_object_id: str
    email: str
    job_title: str
    time_zone: str
    hire_date: date


ALEX = _Persona(
    "alex",
    "Alex Wilber",
    "00000000-0000-0000-0000-0000000000020",
    "alexw@example.com",
    "Engineering Manager",
    "America/Los_Angeles",
    date(2019, 4, 15),
)
MEGAN = _Persona(
    "megan",
    "Megan Bowen",
    "00000000-0000-0000-0000-0000000000021",
    "meganb@example.com",
    "VP of People",
    "America/New_York",
    date(2016, 9, 1),
)
ADELE = _Persona(
    "adele",
    "Adele Vance",
    "00000000-0000-0000-0000-0000000000022",
    "adelev@example.com",
    "Senior Software Engineer",
    "America/Los_Angeles",
    date(2021, 2, 8),
)
ISAIAH = _Persona(
    "isaiah",
    "Isaiah Langer",
    "00000000-0000-0000-0000-0000000000023",
    "isaiahl@example.com",
    "Software Engineer",
    "America/Denver",
    date(2023, 8, 21),
)
PATTI = _Persona(
    "patti",
    "Patti Fernandez",
    "00000000-0000-0000-0000-0000000000024",
    "pattif@example.com",
    "Account Executive",
    "America/Chicago",
    date(2022, 1, 10),
)
LYNNE = _Persona(
    "lynne",
    "Lynne Robbins",
    "00000000-0000-0000-0000-0000000000025",
    "lynner@example.com",
    "VP of Engineering",
    "America/Los_Angeles",
    date(2017, 5, 22),
)
PLAYGROUND_PEOPLE = (ALEX, MEGAN, ADELE, ISAIAH, PATTI, LYNNE)

# The tabs' dev sign-in logs in as one of these (aad object ids).
PERSONAS = {"employee": ADELE.aad_object_id, "manager": ALEX.aad_object_id, "hr": MEGAN.aad_object_id}

EXECUTIVE = "Executive"
ENGINEERING = "Engineering"
SALES = "Sales"
PEOPLE = "People"

# Department → share of the headcount below the VPs (a mid-size software company).
DEPARTMENTS: dict[str, float] = {
    ENGINEERING: 0.34,
    "Product": 0.09,
    SALES: 0.19,
    "Marketing": 0.10,
    "Customer Success": 0.15,
    PEOPLE: 0.05,
    "Finance": 0.08,
}

VP_TITLES = {
    ENGINEERING: "VP of Engineering",
    "Product": "VP of Product",
    SALES: "VP of Sales",
    "Marketing": "VP of Marketing",
    "Customer Success": "VP of Customer Success",
    PEOPLE: "VP of People",
    "Finance": "VP of Finance",
}

# Per department, leader titles by the height of the team they lead: a first-line manager leads only
# individual contributors, a director leads managers, a senior director leads directors.
LEADER_TITLES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    ENGINEERING: (
        ("Engineering Manager", "Engineering Manager", "QA Manager", "Site Reliability Manager"),
        ("Director of Engineering", "Director of Platform Engineering"),
        ("Senior Director of Engineering",),
    ),
    "Product": (
        ("Group Product Manager", "Design Manager"),
        ("Director of Product Management", "Director of Product Design"),
        ("Senior Director of Product",),
    ),
    SALES: (
        ("Sales Manager", "Regional Sales Manager", "Sales Development Manager"),
        ("Director of Sales", "Regional Sales Director"),
        ("Senior Director of Sales",),
    ),
    "Marketing": (
        ("Marketing Manager", "Content Marketing Lead", "Demand Generation Manager"),
        ("Director of Marketing", "Director of Product Marketing"),
        ("Senior Director of Marketing",),
    ),
    "Customer Success": (
        ("Support Manager", "Customer Success Team Lead"),
        ("Director of Customer Success", "Director of Support"),
        ("Senior Director of Customer Experience",),
    ),
    PEOPLE: (
        ("HR Manager", "Talent Acquisition Manager", "Learning & Development Manager"),
        ("Director of People Operations", "Director of Talent Acquisition"),
        ("Senior Director of People",),
    ),
    "Finance": (
        ("Finance Manager", "Accounting Manager", "Controller"),
        ("Director of Finance", "Director of FP&A"),
        ("Senior Director of Finance",),
    ),
}

# Individual-contributor titles with weights (more juniors than principals, as in most companies).
IC_TITLES: dict[str, tuple[tuple[str, int], ...]] = {
    ENGINEERING: (
        ("Software Engineer", 30),
        ("Senior Software Engineer", 25),
        ("Staff Software Engineer", 6),
        ("Principal Engineer", 2),
        ("QA Engineer", 8),
        ("Site Reliability Engineer", 8),
        ("Data Engineer", 6),
        ("Security Engineer", 4),
        ("Frontend Engineer", 8),
    ),
    "Product": (
        ("Product Manager", 30),
        ("Senior Product Manager", 15),
        ("Product Designer", 20),
        ("UX Researcher", 8),
        ("Technical Writer", 6),
        ("Product Analyst", 8),
    ),
    SALES: (
        ("Account Executive", 35),
        ("Senior Account Executive", 15),
        ("Sales Development Representative", 25),
        ("Solutions Engineer", 10),
        ("Sales Operations Analyst", 5),
    ),
    "Marketing": (
        ("Marketing Specialist", 20),
        ("Product Marketing Manager", 15),
        ("Content Strategist", 15),
        ("Demand Generation Specialist", 15),
        ("Brand Designer", 10),
        ("SEO Specialist", 8),
        ("Marketing Analyst", 8),
    ),
    "Customer Success": (
        ("Customer Success Manager", 30),
        ("Support Engineer", 25),
        ("Technical Account Manager", 12),
        ("Onboarding Specialist", 12),
        ("Support Specialist", 20),
    ),
    PEOPLE: (
        ("HR Business Partner", 20),
        ("Recruiter", 25),
        ("People Operations Specialist", 15),
        ("Learning & Development Specialist", 10),
        ("Compensation Analyst", 8),
        ("HR Generalist", 15),
    ),
    "Finance": (
        ("Financial Analyst", 25),
        ("Senior Accountant", 15),
        ("Accountant", 20),
        ("Payroll Specialist", 10),
        ("FP&A Analyst", 12),
        ("Procurement Specialist", 8),
    ),
}

# Where people work, weighted like a US-headquartered company with offices in Europe, India and APAC.
TIME_ZONES: tuple[tuple[str, int], ...] = (
    ("America/New_York", 24),
    ("America/Chicago", 8),
    ("America/Denver", 4),
    ("America/Los_Angeles", 18),
    ("America/Toronto", 4),
    ("America/Sao_Paulo", 3),
    ("Europe/London", 11),
    ("Europe/Berlin", 8),
    ("Europe/Dublin", 3),
    ("Asia/Kolkata", 10),
    ("Asia/Singapore", 3),
    ("Asia/Tokyo", 2),
    ("Australia/Sydney", 4),
)
TEAMMATE_SAME_ZONE = 0.65  # most teams sit in one office; the rest are remote

# fmt: off
FIRST_NAMES = (
    "Aaliyah", "Aarav", "Abigail", "Adrian", "Aisha", "Akira", "Alejandro", "Alina", "Amara", "Amelia",
    "Ana", "Andre", "Anika", "Arjun", "Astrid", "Ava", "Beatriz", "Ben", "Bianca", "Camila", "Carlos",
    "Chen", "Chloe", "Connor", "Daniel", "Daria", "Deepa", "Diego", "Dmitri", "Elena", "Elif", "Elijah",
    "Emma", "Ethan", "Fatima", "Felix", "Freya", "Gabriel", "Grace", "Hana", "Hannah", "Hiroshi", "Ibrahim",
    "Ines", "Ingrid", "Isabel", "Ivan", "Jack", "Jamal", "Javier", "Jin", "Jonas", "Jordan", "Julia", "Kai",
    "Kavya", "Keanu", "Kenji", "Kofi", "Lars", "Laura", "Leila", "Leo", "Liam", "Lucia", "Luis", "Maya",
    "Mei", "Mateo", "Mia", "Mohammed", "Nadia", "Naomi", "Nikhil", "Noah", "Nora", "Olga", "Oliver", "Omar",
    "Priya", "Rafael", "Ravi", "Rosa", "Sakura", "Samuel", "Sara", "Sebastian", "Sofia", "Sven", "Tariq",
    "Thandiwe", "Theo", "Valentina", "Wei", "Yara", "Yusuf", "Zara", "Zoe"
)
LAST_NAMES = (
    "Abe", "Adeyemi", "Ahmed", "Alvarez", "Andersen", "Bauer", "Becker", "Bianchi", "Brown", "Campbell",
    "Chatterjee", "Chen", "Costa", "Cruz", "Dubois", "Eriksen", "Evans", "Fischer", "Garcia", "Gupta",
    "Haddad", "Hansen", "Hernandez", "Hoffmann", "Ibrahim", "Ito", "Iyer", "Jensen", "Johnson", "Kaur",
    "Kim", "Kowalski", "Kumar", "Larsen", "Lee", "Lopez", "Martin", "Meyer", "Moreau", "Murphy", "Nakamura",
    "Nguyen", "Novak", "O'Brien", "Okafor", "Olsen", "Patel", "Perez", "Petrov", "Quinn", "Rahman", "Reddy",
    "Rossi", "Ruiz", "Sato", "Schmidt", "Shah", "Silva", "Singh", "Smith", "Suzuki", "Tanaka", "Taylor",
    "Thompson", "Torres", "Wagner", "Walker", "Wang", "Weber", "Williams", "Wilson", "Wong", "Yamamoto",
    "Yilmaz", "Zhang"
)
# fmt: on


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One person of the demo organization; `index` orders managers before their reports."""

    index: int
    manager_index: int | None
    email: str
    display_name: str
    job_title: str
    department: str
    level: str  # ceo, vp, director, manager or ic
    time_zone: str
    hire_date: date
    aad_object_id: str
    roles: tuple[str, ...] = ()
    heads_position: bool = False  # managers and above hold a Position (succession plans attach to it)
    critical: bool = False


@dataclass(frozen=True, slots=True)
class SeedResult:
    """What seed() wrote."""

    people: int
    positions: int
    role_grants: int

    def __str__(self) -> str:
        return f"{self.people} people, {self.positions} positions, {self.role_grants} role grants"


class DatabaseNotEmpty(RuntimeError):
    """The demo organization is only written into an empty database, never mixed with real people."""


# --- the organization chart --------------------------------------------------------------------------


@dataclass(eq=False)
class _Slot:
    department: str
    depth: int
    persona: _Persona | None = None
    children: list[_Slot] = field(default_factory=list)
    height: int = 0  # 0 for an individual contributor, 1 for a first-line manager, ...


def generate(people: int = 60, seed: int = 7) -> list[DemoPerson]:
    """The demo organization: the same people, seed → the same output, managers listed first."""
    if people < MIN_PEOPLE:
        raise ValueError(f"the demo organization needs at least {MIN_PEOPLE} people, not {people}")
    rng = random.Random(seed)
    ceo = _chart(rng, people)
    _measure(ceo)
    return _people(rng, ceo)


def _chart(rng: random.Random, people: int) -> _Slot:
    """Shape the tree: a CEO, one VP per department, then teams with a span of control of 4 to 9."""
    ceo = _Slot(EXECUTIVE, 0)
    budgets = _department_budgets(people - 1 - len(DEPARTMENTS))
    for department, budget in budgets.items():
        vp = _Slot(department, 1, persona={ENGINEERING: LYNNE, PEOPLE: MEGAN}.get(department))
        ceo.children.append(vp)
        reserved = [_alex_team()] if department == ENGINEERING else []
        _grow(rng, vp, budget - sum(_size(s) for s in reserved), reserved)
        if department == SALES:
            _place(PATTI, vp)
    return ceo


def _alex_team() -> _Slot:
    """Alex Wilber's engineering team: Adele, Isaiah and three generated engineers."""
    alex = _Slot(ENGINEERING, 2, persona=ALEX)
    alex.children = [_Slot(ENGINEERING, 3, persona=ADELE), _Slot(ENGINEERING, 3, persona=ISAIAH)]
    alex.children += [_Slot(ENGINEERING, 3) for _ in range(3)]
    return alex


def _department_budgets(below_vps: int) -> dict[str, int]:
    """Headcount per department below its VP: the Playground seats first, then 4 each, then by share."""
    alex_team = _size(_alex_team())
    budgets = dict.fromkeys(DEPARTMENTS, 0) | {ENGINEERING: alex_team, SALES: 1}
    # A VP with fewer than four reports is hardly a department; Lynne's four include Alex.
    wanted = dict.fromkeys(DEPARTMENTS, 4) | {ENGINEERING: alex_team + 3}
    spare = below_vps - sum(budgets.values())
    for department in DEPARTMENTS:
        extra = min(wanted[department] - budgets[department], spare)
        budgets[department] += extra
        spare -= extra
    shares = {d: spare * w for d, w in DEPARTMENTS.items()}
    for department, share in shares.items():
        budgets[department] += int(share)
    # Largest remainder: the people lost to rounding go where the share was closest to one more.
    leftover = spare - sum(int(s) for s in shares.values())
    for department in sorted(shares, key=lambda d: shares[d] - int(shares[d]), reverse=True)[:leftover]:
        budgets[department] += 1
    return budgets


def _size(slot: _Slot) -> int:
    return 1 + sum(_size(child) for child in slot.children)


def _grow(rng: random.Random, leader: _Slot, budget: int, reserved: Sequence[_Slot] = ()) -> None:
    """Fill `budget` people under `leader`, who keeps 4 to 9 direct reports wherever the numbers allow."""
    leader.children.extend(reserved)
    room = 9 - len(reserved)
    depth = leader.depth + 1
    if budget <= room:
        leader.children += [_Slot(leader.department, depth) for _ in range(budget)]
        return
    span = rng.randint(max(1, 4 - len(reserved)), min(room, budget - 4))
    # Every sub-leader needs at least 4 people of their own; the rest of the span are individual contributors.
    leaders = min(span, (budget - span) // 4)
    for share in _split(rng, budget - span, leaders, minimum=4):
        sub = _Slot(leader.department, depth)
        leader.children.append(sub)
        _grow(rng, sub, share)
    leader.children += [_Slot(leader.department, depth) for _ in range(span - leaders)]


def _split(rng: random.Random, total: int, parts: int, *, minimum: int) -> list[int]:
    """`total` in `parts` shares of at least `minimum`, unequal like real teams."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(parts)]
    spare = total - minimum * parts
    scale = sum(weights)
    shares = [minimum + int(spare * w / scale) for w in weights]
    for i in range(total - sum(shares)):
        shares[i % parts] += 1
    return shares


def _place(persona: _Persona, vp: _Slot) -> None:
    """Give a persona the first individual-contributor seat below a manager (not straight under the VP)."""
    seats = [s for s in _walk(vp) if not s.children and s.persona is None]
    deep = [s for s in seats if s.depth > 2]
    (deep or seats)[0].persona = persona


def _walk(root: _Slot) -> Iterator[_Slot]:
    """Breadth first, so every manager comes before their reports."""
    level = [root]
    while level:
        yield from level
        level = [child for slot in level for child in slot.children]


def _measure(slot: _Slot) -> int:
    # Iterative post-order: 100,000 people are fine for recursion depth, but this keeps it obvious.
    order = list(_walk(slot))
    for node in reversed(order):
        node.height = 1 + max((c.height for c in node.children), default=-1)
    return slot.height


# --- the people --------------------------------------------------------------------------------------


def _people(rng: random.Random, ceo: _Slot) -> list[DemoPerson]:
    slots = list(_walk(ceo))
    index_of = {id(slot): i for i, slot in enumerate(slots)}
    manager_of: dict[int, int] = {id(c): index_of[id(s)] for s in slots for c in s.children}
    emails = _Emails()
    zones: list[str] = []
    result: list[DemoPerson] = []
    for index, slot in enumerate(slots):
        manager_index = manager_of.get(id(slot))
        level = _level(slot)
        zone = _zone(rng, slot, zones[manager_index] if manager_index is not None else None)
        zones.append(zone)
        if slot.persona is not None:
            result.append(_persona_person(slot, index, manager_index, level))
            continue
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        result.append(
            DemoPerson(
                index=index,
                manager_index=manager_index,
                email=emails.new(first, last),
                display_name=f"{first} {last}",
                job_title=_title(rng, slot),
                department=slot.department,
                level=level,
                time_zone=zone,
                hire_date=_hire_date(rng, slot),
                aad_object_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                roles=(TALENT_REVIEWER,) if level == "ceo" else (),
                heads_position=level != "ic",
                critical=level in ("ceo", "vp") or (level == "director" and rng.random() < 1 / 3),
            )
        )
    return result


def _persona_person(slot: _Slot, index: int, manager_index: int | None, level: str) -> DemoPerson:
    persona = slot.persona
    assert persona is not None
    return DemoPerson(
        index=index,
        manager_index=manager_index,
        email=persona.email,
        display_name=persona.display_name,
        job_title=persona.job_title,
        department=slot.department,
        level=level,
        time_zone=persona.time_zone,
        hire_date=persona.hire_date,
        aad_object_id=persona.aad_object_id,
        roles=(HR_ADMIN, TALENT_REVIEWER) if persona is MEGAN else (),
        heads_position=level != "ic",
        critical=level in ("ceo", "vp"),
    )


def _level(slot: _Slot) -> str:
    if slot.depth == 0:
        return "ceo"
    if slot.depth == 1:
        return "vp"
    if slot.height >= 2:
        return "director"
    return "manager" if slot.height == 1 else "ic"


def _title(rng: random.Random, slot: _Slot) -> str:
    if slot.depth == 0:
        return "Chief Executive Officer"
    if slot.depth == 1:
        return VP_TITLES[slot.department]
    if slot.height == 0:
        titles, weights = zip(*IC_TITLES[slot.department], strict=True)
        return rng.choices(titles, weights)[0]
    return rng.choice(LEADER_TITLES[slot.department][min(slot.height, 3) - 1])


def _zone(rng: random.Random, slot: _Slot, manager_zone: str | None) -> str:
    if slot.persona is not None:
        return slot.persona.time_zone
    # Executives are spread over the offices; below them, teams cluster around their manager.
    if slot.depth >= 2 and manager_zone is not None and rng.random() < TEAMMATE_SAME_ZONE:
        return manager_zone
    zones, weights = zip(*TIME_ZONES, strict=True)
    return rng.choices(zones, weights)[0]


def _hire_date(rng: random.Random, slot: _Slot) -> date:
    """Leaders joined early; most individual contributors joined recently (the company grew)."""
    span = (DEMO_AS_OF - FOUNDED).days
    if slot.depth == 0:
        return FOUNDED
    if slot.depth == 1:
        return FOUNDED + timedelta(days=rng.randint(0, span // 3))
    if slot.height > 0:
        return FOUNDED + timedelta(days=int(rng.triangular(0, span, span * 0.4)))
    return FOUNDED + timedelta(days=int(rng.triangular(0, span, span)))


class _Emails:
    """firstname.lastname@contoso.example, numbered from 2 on a collision."""

    def __init__(self) -> None:
        self._taken: dict[str, int] = {}

    def new(self, first: str, last: str) -> str:
        base = f"{_ascii(first)}.{_ascii(last)}"
        count = self._taken.get(base, 0) + 1
        self._taken[base] = count
        # Bases carry no digits, so "name2" can never collide with another person's base.
        return f"{base}{count if count > 1 else ''}@{DEMO_DOMAIN}"


def _ascii(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z]", "", plain.lower())


# --- writing -----------------------------------------------------------------------------------------


async def is_empty(session: AsyncSession) -> bool:
    """True when nobody is in the directory yet."""
    return await session.scalar(select(Person.id).limit(1)) is None


async def seed(
    session: AsyncSession, *, people: int = 60, seed: int = 7, progress: Any | None = None
) -> SeedResult:
    """Write the demo organization into an empty database (does not commit); raises DatabaseNotEmpty."""
    if not await is_empty(session):
        count = await session.scalar(select(func.count()).select_from(Person))
        raise DatabaseNotEmpty(
            f"The database already has {count} people; the demo organization is only seeded into an "
            "empty database."
        )
    demo = generate(people, seed)
    tick = progress_advancer(progress, len(demo))
    ids = await _insert_people(session, demo, tick)
    positions = await _insert_positions(session, demo, ids)
    grants = await _insert_role_grants(session, demo, ids)
    return SeedResult(people=len(demo), positions=positions, role_grants=grants)


async def _insert_people(
    session: AsyncSession, demo: Sequence[DemoPerson], tick: Callable[[int], None]
) -> list[int]:
    """Insert in batches; managers come first, so each batch already knows its managers' ids.

    The database assigns the ids (explicit ids would leave PostgreSQL's sequence behind).
    """
    table = Person.__table__
    # Correlate by the unique email: asking for rows back in parameter order makes SQLAlchemy send one
    # INSERT per row on SQLite, twenty times slower.
    statement = table.insert().returning(table.c.email, table.c.id)
    ids: list[int] = []
    for batch in _layered_batches(demo):
        rows = [_person_row(p, ids) for p in batch]
        id_of = dict((await session.execute(statement, rows)).all())
        ids.extend(id_of[p.email] for p in batch)
        tick(len(batch))
    return ids


def _layered_batches(demo: Sequence[DemoPerson]) -> Iterator[Sequence[DemoPerson]]:
    """Batches that never hold a person together with their manager."""
    start = 0
    while start < len(demo):
        end = min(start + BATCH_SIZE, len(demo))
        # Breadth-first order: a manager always precedes the batch their reports are in, unless in it.
        for i in range(start, end):
            manager = demo[i].manager_index
            if manager is not None and manager >= start:
                end = i
                break
        yield demo[start:end]
        start = end


def _person_row(person: DemoPerson, ids: Sequence[int]) -> dict[str, Any]:
    return {
        "tenant_id": DEMO_TENANT_ID,
        "aad_object_id": person.aad_object_id,
        "email": person.email,
        "display_name": person.display_name,
        "job_title": person.job_title,
        "department": person.department,
        "time_zone": person.time_zone,
        "hire_date": person.hire_date,
        "active": True,
        "manager_id": ids[person.manager_index] if person.manager_index is not None else None,
    }


async def _insert_positions(session: AsyncSession, demo: Sequence[DemoPerson], ids: Sequence[int]) -> int:
    rows = [
        {
            "title": p.job_title,
            "department": p.department,
            "incumbent_id": ids[p.index],
            "critical": p.critical,
        }
        for p in demo
        if p.heads_position
    ]
    for batch in batches(rows):
        await session.execute(Position.__table__.insert(), batch)
    return len(rows)


async def _insert_role_grants(session: AsyncSession, demo: Sequence[DemoPerson], ids: Sequence[int]) -> int:
    # scope_department None: the whole organization.
    rows = [
        {"person_id": ids[p.index], "role": role, "scope_department": None} for p in demo for role in p.roles
    ]
    if rows:
        await session.execute(RoleGrant.__table__.insert(), rows)
    return len(rows)

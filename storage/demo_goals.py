"""Goals for the demo organization: company → team → manager → individual, with key results and history.

Written with bulk inserts (a 10,000-person organization gets ~50,000 goals in seconds). Stored progress is
left at 0: the roll-up is a domain rule, so the caller recomputes it (goals.rebuild_progress) afterwards.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import batches
from storage.demo import HR_ADMIN
from storage.models import Goal, KeyResult, KeyResultUpdate, Person, RoleGrant

COMPANY_GOALS = (
    "Delight our customers",
    "Grow revenue 20 % this year",
    "Build a great place to work",
    "Ship reliable software, fast",
)
TEAM_GOALS = (
    "Deliver the {department} roadmap",
    "Raise the bar on quality in {department}",
    "Grow the skills of the {department} team",
)
INDIVIDUAL_GOALS = (
    "Own the next release of my area",
    "Improve onboarding for new joiners",
    "Cut cycle time on my team's work",
    "Mentor a newer colleague",
    "Learn a new technology and share it",
    "Close the top customer issues",
    "Automate a manual process",
    "Present our work at the all-hands",
)
# (title, metric, unit, start, target)
KEY_RESULTS = (
    ("Stories delivered", "number", None, 0, 20),
    ("Customer satisfaction", "percent", "%", 70, 90),
    ("Open defects", "number", None, 40, 10),  # falls: the target is below the start
    ("Revenue closed", "currency", "USD", 0, 250_000),
    ("Launch announced", "boolean", None, 0, 1),
    ("Milestones reached", "milestone", None, 0, 4),
    ("Churn", "percent", "%", 8, 5),
)


@dataclass(frozen=True)
class Quarter:
    label: str
    start: date
    end: date

    @classmethod
    def containing(cls, day: date) -> Quarter:
        q = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * q - 2, 1)
        following = date(day.year + (q == 4), (3 * q) % 12 + 1, 1)
        return cls(f"{day.year}-Q{q}", start, following - timedelta(days=1))


async def seed_goals(session: AsyncSession, *, today: date, seed: int = 7, per_person: int = 5) -> int:
    """Give the company, each department and each active person goals for the quarter of `today`."""
    rng = random.Random(seed)
    quarter = Quarter.containing(today)
    elapsed = min(1.0, max(0.0, (today - quarter.start).days / ((quarter.end - quarter.start).days + 1)))
    people = (
        await session.execute(
            select(Person.id, Person.department, Person.manager_id)
            .where(Person.active.is_(True))
            .order_by(Person.id)
        )
    ).all()
    author = await session.scalar(select(RoleGrant.person_id).where(RoleGrant.role == HR_ADMIN).limit(1))
    writer = _Writer(session, quarter, author, datetime.combine(quarter.start, time(9), UTC), today)

    company = await writer.goals(
        [_goal("company", None, None, title, None, "public") for title in COMPANY_GOALS]
    )
    departments = sorted({p.department for p in people if p.department})
    team_rows = [
        _goal("department", None, dept, title.format(department=dept), company[i % len(company)], "public")
        for i, dept in enumerate(departments)
        for title in TEAM_GOALS[:2]
    ]
    teams = await writer.goals(team_rows)
    team_of: dict[str, list[int]] = {}
    for row, goal_id in zip(team_rows, teams, strict=True):
        team_of.setdefault(row["owner_department"], []).append(goal_id)

    # People arrive managers first (ids follow the chart): a report's first goal can align under the
    # first goal of their manager, so trees run company → team → manager → report.
    first_goal: dict[int, int] = {}
    for layer in _layers(people):
        rows, owners = [], []
        for person in layer:
            for n in range(per_person):
                parent = _parent(rng, n, person, first_goal, team_of.get(person.department or "", []))
                visibility = rng.choices(("team", "public", "private"), weights=(7, 2, 1))[0]
                title = INDIVIDUAL_GOALS[(person.id + n) % len(INDIVIDUAL_GOALS)]
                rows.append(_goal("person", person.id, None, title, parent, visibility, kind=_kind(rng, n)))
                owners.append(person.id)
        ids = await writer.goals(rows)
        for owner, goal_id in zip(owners, ids, strict=True):
            first_goal.setdefault(owner, goal_id)
    await writer.key_results(rng, elapsed)
    return writer.written


def _layers(people: Sequence[Any], size: int = 400) -> Iterator[list[Any]]:
    """Runs of people (in id order, managers first) that never hold a person with their manager, so a
    manager's goals have ids before their reports' goals are written."""
    layer: list[Any] = []
    in_layer: set[int] = set()
    for person in people:
        if len(layer) >= size or person.manager_id in in_layer:
            yield layer
            layer, in_layer = [], set()
        layer.append(person)
        in_layer.add(person.id)
    if layer:
        yield layer


def _parent(
    rng: random.Random, n: int, person: Any, first_goal: dict[int, int], teams: list[int]
) -> int | None:
    if n == 0 and person.manager_id in first_goal:
        return first_goal[person.manager_id]
    if n <= 2 and teams:
        return rng.choice(teams)
    return None


def _kind(rng: random.Random, n: int) -> str:
    return "development" if n == 4 or rng.random() < 0.05 else "business"


def _goal(
    owner_type: str,
    person_id: int | None,
    department: str | None,
    title: str,
    parent_id: int | None,
    visibility: str,
    kind: str = "business",
) -> dict[str, Any]:
    return {
        "owner_type": owner_type,
        "owner_person_id": person_id,
        "owner_department": department,
        "title": title,
        "parent_id": parent_id,
        "visibility": visibility,
        "kind": kind,
    }


class _Writer:
    """Bulk inserts that keep the ids the database assigned, correlated through request ids."""

    def __init__(
        self, session: AsyncSession, quarter: Quarter, author: int | None, at: datetime, today: date
    ) -> None:
        self.session, self.quarter, self.author, self.at = session, quarter, author, at
        # History runs weekly from the start of the quarter, never past today.
        self.latest = max(at, datetime.combine(today, time(9), UTC))
        self.written = 0
        self.goal_ids: list[int] = []

    async def goals(self, rows: Sequence[dict[str, Any]]) -> list[int]:
        table = Goal.__table__
        statement = table.insert().returning(table.c.request_id, table.c.id)
        base = self.written
        full = [
            row
            | {
                "description": None,
                "period_label": self.quarter.label,
                "period_start": self.quarter.start,
                "period_end": self.quarter.end,
                "weight": 1.0,
                "progress": 0.0,
                "request_id": f"demo-{base + i}",
                "created_by_id": self.author,
                "created_at": self.at,
                "updated_at": self.at,
            }
            for i, row in enumerate(rows)
        ]
        ids: list[int] = []
        for batch in batches(full):
            id_of = dict((await self.session.execute(statement, batch)).all())
            ids.extend(id_of[row["request_id"]] for row in batch)
        self.written += len(rows)
        self.goal_ids.extend(ids)
        return ids

    async def key_results(self, rng: random.Random, elapsed: float) -> None:
        """One to three key results per goal, progressing roughly with the quarter, each with history."""
        rows, history = [], []
        for goal_id in self.goal_ids:
            for position in range(rng.randint(1, 3)):
                title, metric, unit, start, target = rng.choice(KEY_RESULTS)
                current, steps = _values(rng, metric, start, target, elapsed)
                rows.append(
                    {
                        "goal_id": goal_id,
                        "position": position,
                        "title": title,
                        "metric": metric,
                        "unit": unit,
                        "start": start,
                        "target": target,
                        "current": current,
                        "weight": 1.0,
                        "version": len(steps) + 1,
                        "created_at": self.at,
                        "updated_at": self.at,
                    }
                )
                history.append(steps)
        for batch in batches(rows):
            await self.session.execute(KeyResult.__table__.insert(), batch)
        await self._history(rows, history)

    async def _history(self, rows: list[dict[str, Any]], history: list[list[float]]) -> None:
        ids = dict(
            (
                ((goal_id, position), kr_id)
                for kr_id, goal_id, position in await self.session.execute(
                    select(KeyResult.id, KeyResult.goal_id, KeyResult.position)
                )
            )
        )
        updates = []
        for row, steps in zip(rows, history, strict=True):
            old = row["start"]
            for n, value in enumerate(steps):
                updates.append(
                    {
                        "key_result_id": ids[row["goal_id"], row["position"]],
                        "by_id": self.author,
                        "at": min(self.latest, self.at + timedelta(days=7 * (n + 1))),
                        "old_value": old,
                        "new_value": value,
                        "comment": None,
                        "confidence": 7,
                        "version": n + 2,
                    }
                )
                old = value
        for batch in batches(updates):
            await self.session.execute(KeyResultUpdate.__table__.insert(), batch)


def _values(
    rng: random.Random, metric: str, start: float, target: float, elapsed: float
) -> tuple[float, list]:
    """Where a key result stands now, and the values it passed through (its update history)."""
    share = min(1.0, max(0.0, rng.gauss(elapsed, 0.25)))
    if metric == "boolean":
        return (target, [target]) if share > 0.8 else (start, [])
    if metric == "milestone":
        done = round(share * target)
        return float(done), [float(step) for step in range(1, done + 1)]
    steps = rng.randint(0, 3)
    values = [round(start + (target - start) * share * (i + 1) / steps, 1) for i in range(steps)]
    return (values[-1] if values else start), values

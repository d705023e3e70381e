"""Small hand-made talent worlds for the metrics tests, built straight from the ORM models.

`TalentBuilder` adds people, positions, slates, fills, competencies, role profiles, assessments and
talent reviews in a session (it flushes, never commits). The worlds below are the ones whose numbers
tests/domain/talent/test_metrics.py and tests/tabs/test_metrics_pages.py work out by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Competency,
    CompetencyAssessment,
    Person,
    Position,
    PositionFill,
    ReviewCycle,
    ReviewTemplate,
    RoleProfile,
    RoleRequirement,
    Successor,
    TalentReview,
    TalentReviewEntry,
)

ENGINEERING, SALES = "Engineering", "Sales"


@dataclass
class TalentBuilder:
    """Rows for a test, by name: `ids["Pat"]` is the person or position called Pat."""

    session: AsyncSession
    ids: dict[str, int] = field(default_factory=dict)
    _cycle_id: int | None = None

    async def _add(self, row: object) -> int:
        self.session.add(row)
        await self.session.flush()
        return row.id  # type: ignore[attr-defined]

    async def person(
        self,
        name: str,
        department: str | None,
        *,
        title: str | None = None,
        hired: date | None = date(2020, 1, 6),
        left_at: datetime | None = None,
        active: bool | None = None,
    ) -> int:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())
        self.ids[name] = await self._add(
            Person(
                email=f"{slug}@metrics.example",
                display_name=name,
                job_title=title,
                department=department,
                hire_date=hired,
                active=(left_at is None) if active is None else active,
                deactivated_at=left_at,
            )
        )
        return self.ids[name]

    async def position(
        self,
        title: str,
        department: str | None,
        *,
        critical: bool = True,
        profile: int | None = None,
        incumbent: str | None = None,
    ) -> int:
        self.ids[title] = await self._add(
            Position(
                title=title,
                department=department,
                critical=critical,
                role_profile_id=profile,
                incumbent_id=self.ids[incumbent] if incumbent else None,
            )
        )
        return self.ids[title]

    async def successor(self, position: str, person: str, readiness: str) -> None:
        await self._add(
            Successor(position_id=self.ids[position], person_id=self.ids[person], readiness=readiness)
        )

    async def fill(
        self, position: str, person: str, on: date, source: str, *, from_slate: bool = False
    ) -> None:
        await self._add(
            PositionFill(
                position_id=self.ids[position],
                person_id=self.ids[person],
                filled_on=on,
                source=source,
                from_slate=from_slate,
            )
        )

    async def competency(self, name: str) -> int:
        self.ids[name] = await self._add(
            Competency(
                name=name, name_key=name.casefold(), category="functional", levels=["1", "2", "3", "4"]
            )
        )
        return self.ids[name]

    async def profile(self, name: str, job_title: str | None, expects: dict[str, int]) -> int:
        profile_id = await self._add(
            RoleProfile(
                name=name, name_key=name.casefold(), job_title_key=job_title.casefold() if job_title else None
            )
        )
        for competency, level in expects.items():
            self.session.add(
                RoleRequirement(
                    role_profile_id=profile_id, competency_id=self.ids[competency], expected_level=level
                )
            )
        await self.session.flush()
        self.ids[name] = profile_id
        return profile_id

    async def assess(self, person: str, competency: str, level: int, on: date) -> None:
        await self._add(
            CompetencyAssessment(
                person_id=self.ids[person],
                competency_id=self.ids[competency],
                level=level,
                source="manager",
                assessed_on=on,
            )
        )

    async def talent_review(self, name: str, status: str) -> int:
        if self._cycle_id is None:
            template = await self._add(
                ReviewTemplate(
                    name="Metrics template", name_key="metrics template", scale_labels=["1", "2", "3"]
                )
            )
            self._cycle_id = await self._add(
                ReviewCycle(
                    name="2025 review",
                    template_id=template,
                    period_start=date(2025, 1, 1),
                    period_end=date(2025, 12, 31),
                    phase="closed",
                )
            )
        self.ids[name] = await self._add(
            TalentReview(
                name=name, performance_cycle_id=self._cycle_id, status=status, medium_from=2.5, high_from=4.0
            )
        )
        return self.ids[name]

    async def entry(
        self,
        review: str,
        person: str,
        *,
        performance: int | None = None,
        high_potential: bool = False,
        risk: int | None = None,
        impact: int | None = None,
    ) -> None:
        await self._add(
            TalentReviewEntry(
                talent_review_id=self.ids[review],
                person_id=self.ids[person],
                performance=performance,
                high_potential=high_potential,
                risk_of_loss=risk,
                impact_of_loss=impact,
            )
        )


def left(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


# --- the worlds ----------------------------------------------------------------------------------------


async def slates(b: TalentBuilder) -> None:
    """Critical positions A, B (Engineering), C, D (Sales) and a non-critical E (Engineering).

    A: Pat ready now, Quinn ready now      B: Ruth 1-2 years, Lou ready now (Lou has left)
    C: nobody                              D: Pat ready now
    E (not critical): Pat ready now, Sam 3-5 years
    """
    for name, dept in (("Pat", ENGINEERING), ("Quinn", ENGINEERING), ("Ruth", SALES), ("Sam", ENGINEERING)):
        await b.person(name, dept)
    await b.person("Lou", ENGINEERING, left_at=left(date(2025, 5, 1)))
    for title, dept in (("A", ENGINEERING), ("B", ENGINEERING), ("C", SALES), ("D", SALES)):
        await b.position(title, dept)
    await b.position("E", ENGINEERING, critical=False)
    for position, person, readiness in (
        ("A", "Pat", "ready_now"),
        ("A", "Quinn", "ready_now"),
        ("B", "Ruth", "1_2_years"),
        ("B", "Lou", "ready_now"),
        ("D", "Pat", "ready_now"),
        ("E", "Pat", "ready_now"),
        ("E", "Sam", "3_5_years"),
    ):
        await b.successor(position, person, readiness)


async def fills(b: TalentBuilder) -> None:
    """Fills of the positions of `slates` (which it needs), around the window 1 Oct 2025 - 30 Jun 2026:

    2025-09-30 A internal (before the window)   2026-02-20 E external
    2025-11-15 A internal, from its slate       2026-03-31 D internal, from its slate
    2025-12-01 C external                       2026-07-01 B external (after the window)
    2026-02-10 B internal
    """
    for position, on, source, slate in (
        ("A", date(2025, 9, 30), "internal", False),
        ("A", date(2025, 11, 15), "internal", True),
        ("C", date(2025, 12, 1), "external", False),
        ("B", date(2026, 2, 10), "internal", False),
        ("E", date(2026, 2, 20), "external", False),
        ("D", date(2026, 3, 31), "internal", True),
        ("B", date(2026, 7, 1), "external", False),
    ):
        await b.fill(position, "Quinn", on, source, from_slate=slate)


async def competencies(b: TalentBuilder) -> None:
    """Role profiles and assessments around the baseline 1 Jul 2025, measured to 1 Jul 2026.

    Engineer (job title "Software Engineer"): Coding 3, Testing 2. Lead (held through a position): Coding 4,
    Mentoring 3.
        Ed    Engineering, Software Engineer  Coding 2 (Mar 2025) → 3 (Feb 2026); Testing 2 (May 2025)
        Eve   Engineering, software engineer  Coding 1 (30 Jun 2025) → 2 (Jan 2026) → 3 (Aug 2026, too late);
                                              Testing never
        Max   Sales, Software Engineer, holds the Lead position: Coding 4 (Jan 2025); Mentoring 1 (Feb 2025)
                                              → 2 (Jun 2025) → 3 (Mar 2026)
        Ezra  Engineering, Software Engineer  Coding 2 (Sep 2025, after the baseline); Testing 1 (Jun 2025)
                                              → on 1 May 2026 two assessments, 2 then 1 (the later stands)
        Ina   Engineering, Software Engineer, has left: Coding 1 (Jan 2025)
        Dee   Engineering, Designer (no profile): Coding 1 (Jan 2025)
    """
    for name in ("Coding", "Testing", "Mentoring"):
        await b.competency(name)
    await b.profile("Engineer", "Software Engineer", {"Coding": 3, "Testing": 2})
    lead = await b.profile("Lead", None, {"Coding": 4, "Mentoring": 3})
    await b.person("Ed", ENGINEERING, title="Software Engineer")
    await b.person("Eve", ENGINEERING, title="software engineer")
    await b.person("Max", SALES, title="Software Engineer")
    await b.person("Ezra", ENGINEERING, title="Software Engineer")
    await b.person("Ina", ENGINEERING, title="Software Engineer", left_at=left(date(2025, 8, 1)))
    await b.person("Dee", ENGINEERING, title="Designer")
    await b.position("Lead position", SALES, critical=False, profile=lead, incumbent="Max")
    for person, competency, level, on in (
        ("Ed", "Coding", 2, date(2025, 3, 1)),
        ("Ed", "Coding", 3, date(2026, 2, 1)),
        ("Ed", "Testing", 2, date(2025, 5, 1)),
        ("Eve", "Coding", 1, date(2025, 6, 30)),
        ("Eve", "Coding", 2, date(2026, 1, 1)),
        ("Eve", "Coding", 3, date(2026, 8, 1)),
        ("Max", "Coding", 4, date(2025, 1, 1)),
        ("Max", "Mentoring", 1, date(2025, 2, 1)),
        ("Max", "Mentoring", 2, date(2025, 6, 1)),
        ("Max", "Mentoring", 3, date(2026, 3, 1)),
        ("Ezra", "Coding", 2, date(2025, 9, 1)),
        ("Ezra", "Testing", 1, date(2025, 6, 1)),
        ("Ezra", "Testing", 2, date(2026, 5, 1)),
        ("Ezra", "Testing", 1, date(2026, 5, 1)),
        ("Ina", "Coding", 1, date(2025, 1, 1)),
        ("Dee", "Coding", 1, date(2025, 1, 1)),
    ):
        await b.assess(person, competency, level, on)


async def talent_reviews(b: TalentBuilder, reviewer: str) -> None:
    """Three talent reviews, oldest first: R1 and R2 finalized, R3 still rating. `reviewer` (a person
    already built, in Engineering, active since 2020) is in R2 too. Retention from 1 Jul 2025 to 1 Jul 2026.

        who   dept   hired / left               R1            R2                         R3
        Hal   Eng    2020                                     perf 3, risk 1 impact 3
        Hank  Eng    2020 / left 15 Jan 2026                  perf 3, HiPo, risk 3 imp 3
        Hope  Sales  2020                       perf 3, 3/3   perf 2, HiPo, risk 2 imp 2
        Hugo  Eng    hired 1 Sep 2025                         perf 3, risk 2 impact 2
        Hans  Eng    2020                                     perf 2, risk 1 impact 1    perf 3, HiPo, 3/2
        Hedy  Eng    2019 / left 1 Mar 2025                   perf 3, risk 1 impact 1
        Hera  Sales  2020 / left 1 Jul 2026 15:00             perf 3, HiPo
        Hiro  Eng    inactive, no date of leaving             perf 3
        Hue   Eng    no hire date                             HiPo, impact 2 (no risk)
        reviewer                                              perf 3, HiPo, risk 3 impact 3
    """
    await b.person("Hal", ENGINEERING)
    await b.person("Hank", ENGINEERING, left_at=left(date(2026, 1, 15)))
    await b.person("Hope", SALES)
    await b.person("Hugo", ENGINEERING, hired=date(2025, 9, 1))
    await b.person("Hans", ENGINEERING)
    await b.person("Hedy", ENGINEERING, hired=date(2019, 3, 1), left_at=left(date(2025, 3, 1)))
    await b.person("Hera", SALES, left_at=left(date(2026, 7, 1), hour=15))
    await b.person("Hiro", ENGINEERING, active=False)
    await b.person("Hue", ENGINEERING, hired=None)
    await b.talent_review("R1", "finalized")
    await b.talent_review("R2", "finalized")
    await b.talent_review("R3", "rating")
    await b.entry("R1", "Hope", performance=3, risk=3, impact=3)
    await b.entry("R2", "Hal", performance=3, risk=1, impact=3)
    await b.entry("R2", "Hank", performance=3, high_potential=True, risk=3, impact=3)
    await b.entry("R2", "Hope", performance=2, high_potential=True, risk=2, impact=2)
    await b.entry("R2", "Hugo", performance=3, risk=2, impact=2)
    await b.entry("R2", "Hans", performance=2, risk=1, impact=1)
    await b.entry("R2", "Hedy", performance=3, risk=1, impact=1)
    await b.entry("R2", "Hera", performance=3, high_potential=True)
    await b.entry("R2", "Hiro", performance=3)
    await b.entry("R2", "Hue", high_potential=True, impact=2)
    await b.entry("R2", reviewer, performance=3, high_potential=True, risk=3, impact=3)
    await b.entry("R3", "Hans", performance=3, high_potential=True, risk=3, impact=2)

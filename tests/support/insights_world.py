"""A small hand-made organization in which the real signals (domain/signals.py, domain/signal_risks.py)
make one suggestion of each kind, for the Insights tests (domain, tab and digest).

Built with tests/support/signal_world.py's SignalWorld, from the recipes of tests/domain/test_signals.py,
as of TODAY (15 June 2026):

    Pia     promotion readiness (three achieved quarters, a good latest review)
    Dan     development program (growing feedback on Communication) → the pool "Future leaders"
    Sam     succession candidate (strong reviews in two departments, 87.5 % ready) → "Director of Product"
    Hana    high potential (Leading people 4/5, Strategy 4/5)
    Cara    career path (a stretch assignment whose goal reached 90 %) → Senior Engineer
    Cleo    cross-functional (collaboration rated by Sales and Marketing); she is also a talent reviewer
            for Engineering
    Olga    development objective (short on Leading people for VP Engineering, whose slate has no one
            ready now; so is Omar)
    Hugo    flight risk (a flagged high potential with no plan, no feedback, no promotion)
    Lena    rating bias: a lenient manager in the 2026-H1 cycle (in calibration)

Everyone but Sam and Dora is in Engineering. Manny manages Pia, Dan and Cara; Vera manages Manny. Hilda is
HR (in People). The 2026 talent review (in rating, over the 2025 cycle) has entries for Pia, Hana and Hugo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ReviewParticipant, TalentReview, TalentReviewEntry
from tests.support.signal_world import (
    ENGINEERING,
    FINANCE,
    MARKETING,
    PRODUCT,
    SALES,
    TODAY,
    SignalWorld,
    at,
)

NOW = datetime(2026, 6, 15, 10, tzinfo=UTC)
PEOPLE = "People"
Q2_25 = ("2025-Q2", date(2025, 4, 1), date(2025, 6, 30))
Q3_25 = ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))
Q4_25 = ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))
Q1_26 = ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))

__all__ = ["NOW", "TODAY", "InsightsWorld", "build"]


@dataclass
class InsightsWorld:
    w: SignalWorld

    @property
    def ids(self) -> dict[str, int]:
        return self.w.ids


async def build(session: AsyncSession, *, bias: bool = True) -> InsightsWorld:
    """The organization above, flushed in `session`."""
    w = SignalWorld(session)
    await w.person("Hilda", PEOPLE)
    await w.grant("Hilda", "hr_admin")
    await w.person("Vera", ENGINEERING)
    await w.person("Manny", ENGINEERING, manager="Vera")
    for name in ("Gia", "Gus", "Gwen", "Eddie", "Omar", "Rita", "Hugo", "Hana", "Olga"):
        await w.person(name, ENGINEERING)
    await w.person("Sid", SALES)
    await w.person("Mia", MARKETING)
    await w.person("Fay", FINANCE)
    await w.person("Dora", PRODUCT)
    await w.person("Cleo", ENGINEERING)
    await w.grant("Cleo", "talent_reviewer", ENGINEERING)

    await w.cycle("2024 review", date(2024, 1, 1), date(2024, 12, 31))
    await w.cycle("2025 review", date(2025, 1, 1), date(2025, 12, 31))

    # Pia: promotion readiness.
    await w.person("Pia", ENGINEERING, manager="Manny")
    await w.goal("Pia Q2-25", "Pia", Q2_25, progress=0.3)
    await w.goal("Pia Q3-25", "Pia", Q3_25, progress=0.5, final_score=0.9)
    await w.goal("Pia Q4-25", "Pia", Q4_25, progress=0.95)
    await w.goal("Pia Q1-26", "Pia", Q1_26, progress=0.95)
    await w.participant("Pia 2024", "2024 review", "Pia", 2.0)
    await w.participant("Pia 2025", "2025 review", "Pia", 4.0)

    # Dan: development program.
    await w.competency("Communication", "behaviours")
    await w.person("Dan", ENGINEERING, manager="Manny")
    await w.pool("Future leaders")
    await w.feedback("Dan 1", "Dan", "Gia", date(2025, 9, 1), {"Communication": 3})
    await w.feedback("Dan 2", "Dan", "Gus", date(2026, 1, 10), {"Communication": 4})
    await w.feedback("Dan 3", "Dan", "Gwen", date(2026, 3, 1), {"Communication": 4})
    await w.feedback("Dan 4", "Dan", "Gia", date(2026, 5, 1), {"Communication": 5})

    # Sam: succession candidate.
    await w.competency("Leading people", "leadership")
    await w.competency("Strategy", "leadership")
    await w.profile("Analyst", "Analyst", {})
    await w.profile("Director", None, {"Leading people": 4, "Strategy": 4})
    await w.person("Sam", PRODUCT, title="Analyst")
    await w.position("Director of Product", PRODUCT, profile="Director", incumbent="Dora")
    await w.participant("Sam 2024", "2024 review", "Sam", 4.2, department=ENGINEERING)
    await w.participant("Sam 2025", "2025 review", "Sam", 4.0, department=PRODUCT)
    await w.assess("Sam leading", "Sam", "Leading people", 4, date(2026, 1, 10))
    await w.assess("Sam strategy", "Sam", "Strategy", 3, date(2026, 1, 10))

    # Hana: high potential; Hugo: a flagged high potential showing signs of leaving.
    for name in ("Hana", "Hugo"):
        await w.assess(f"{name} leading", name, "Leading people", 4, date(2026, 2, 1))
        await w.assess(f"{name} strategy", name, "Strategy", 4, date(2026, 2, 1))
    await w.talent_entry("Hugo", high_potential=True)  # the finalized 2025 talent review

    # Cara: career path.
    await w.competency("Coding")
    await w.competency("Mentoring")
    await w.profile("Engineer", "Engineer", {"Coding": 3})
    await w.profile("Senior Engineer", "Senior Engineer", {"Coding": 4, "Mentoring": 3})
    await w.step("Engineer", "Senior Engineer", "ladder")
    await w.person("Cara", ENGINEERING, title="Engineer", manager="Manny")
    await w.goal("Cara migration", "Cara", Q1_26, progress=0.9)
    await w.action("Lead the migration", "Cara", goal="Cara migration", completed=date(2026, 3, 20))
    await w.assess("Cara coding", "Cara", "Coding", 4, date(2026, 4, 1))
    await w.assess("Cara mentoring", "Cara", "Mentoring", 3, date(2026, 4, 1))

    # Cleo: cross-functional.
    await w.feedback("Cleo sales", "Cleo", "Sid", date(2026, 2, 1), {"Collaboration": 5})
    await w.feedback("Cleo marketing", "Cleo", "Mia", date(2026, 4, 1), {"Collaboration": 4})

    # Olga and Omar: development objective.
    await w.profile("VP", None, {"Leading people": 5, "Strategy": 4})
    await w.position("VP Engineering", ENGINEERING, profile="VP")
    await w.successor("VP Engineering", "Olga", "1_2_years")
    await w.successor("VP Engineering", "Omar", "3_5_years")
    await w.assess("Olga leading", "Olga", "Leading people", 3, date(2026, 1, 1))
    await w.assess("Olga strategy", "Olga", "Strategy", 4, date(2026, 1, 1))
    await w.assess("Omar leading", "Omar", "Leading people", 4, date(2026, 1, 1))
    await w.assess("Omar strategy", "Omar", "Strategy", 4, date(2026, 1, 1))

    # The talent review under way.
    review = TalentReview(
        name="2026 talent review",
        performance_cycle_id=w.ids["2025 review"],
        status="rating",
        medium_from=2.75,
        high_from=3.75,
    )
    session.add(review)
    await session.flush()
    w.ids["2026 talent review"] = review.id
    for name, flag in (("Pia", False), ("Hana", False), ("Hugo", True)):
        entry = TalentReviewEntry(
            talent_review_id=review.id,
            person_id=w.ids[name],
            department=ENGINEERING,
            high_potential=flag,
            notes="Rated in May." if name == "Pia" else None,
        )
        session.add(entry)
        await session.flush()
        w.ids[f"{name} entry"] = entry.id

    if bias:
        await _lenient_manager(w)
    return InsightsWorld(w)


async def _lenient_manager(w: SignalWorld) -> None:
    """Lena's five reports are rated 5 of 5 in 2026-H1 (in calibration); twelve others 2.5 to 3.5."""
    cycle = await w.cycle("2026-H1 review", date(2026, 1, 1), date(2026, 6, 30), phase="calibration")
    await w.person("Lena", SALES)
    await w.person("Otto", SALES)
    rated = [(f"Lena report {n}", "Lena", 5.0) for n in range(5)]
    rated += [(f"Other {n}", "Otto", (2.5, 3.0, 3.5)[n % 3]) for n in range(12)]
    for name, manager, score in rated:
        await w.person(name, SALES, manager=manager)
        w.session.add(
            ReviewParticipant(
                cycle_id=cycle,
                person_id=w.ids[name],
                manager_id=w.ids[manager],
                department=SALES,
                source="launch",
                added_at=at(date(2026, 1, 5)),
                computed_score=score,
            )
        )
    await w.session.flush()

"""The demo organization's talent data is coherent: slates come from the position's department and never
name its incumbent, one emergency successor at most, months fit the readiness, every 9-box placement
follows the thresholds and potential rule, and about one person in twenty heads a critical position."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import demo, demo_talent
from storage.models import (
    CompetencyAssessment,
    Person,
    Position,
    RoleProfile,
    Successor,
    TalentPool,
    TalentPoolMember,
    TalentReview,
    TalentReviewEntry,
)

TODAY = date(2026, 11, 26)


async def test_demo_talent_data_is_coherent(session: AsyncSession) -> None:
    await demo.seed(session, people=400, seed=7)
    result = await demo_talent.seed_talent(session, today=TODAY, seed=7)

    assert result.critical_positions == 20  # 400 // 20
    assert await session.scalar(select(func.count()).where(Position.critical.is_(True))) == 20
    slates = (
        await session.execute(
            select(Successor, Position, Person)
            .join(Position, Position.id == Successor.position_id)
            .join(Person, Person.id == Successor.person_id)
        )
    ).all()
    assert len(slates) == result.successors > 0
    emergencies = Counter(s.position_id for s, _, _ in slates if s.emergency)
    assert emergencies and max(emergencies.values()) == 1
    for successor, position, person in slates:
        assert position.critical
        assert person.id != position.incumbent_id
        assert person.department == position.department
        low, high = demo_talent.MONTHS[successor.readiness]
        assert low <= successor.months_to_ready <= high

    review = await session.scalar(select(TalentReview))
    assert review.status == "finalized"
    for entry in await session.scalars(select(TalentReviewEntry)):
        score = entry.performance_score
        expected = 1 if score < review.medium_from else 2 if score < review.high_from else 3
        assert entry.performance == expected
        total = entry.ability + entry.aspiration + entry.engagement
        assert entry.potential == (1 if total <= 4 else 2 if total <= 7 else 3)
        assert entry.high_potential == (entry.potential == 3 and entry.performance >= 2)

    # Assessments only against a requirement of the person's role (profiles are named after titles).
    unexpected = await session.scalar(
        select(func.count())
        .select_from(CompetencyAssessment)
        .join(Person, Person.id == CompetencyAssessment.person_id)
        .outerjoin(RoleProfile, RoleProfile.name == Person.job_title)
        .where(RoleProfile.id.is_(None))
    )
    assert unexpected == 0
    assert result.assessments > 0 and result.development_actions > 0


async def test_demo_talent_pools_hold_people_from_last_years_talent_review(session: AsyncSession) -> None:
    await demo.seed(session, people=400, seed=7)
    await demo_talent.seed_talent(session, today=TODAY, seed=7)
    members = await demo_talent.seed_pools(session, today=TODAY, seed=7)

    pools = {
        name: pool_id for pool_id, name in (await session.execute(select(TalentPool.id, TalentPool.name)))
    }
    assert set(pools) == {"Future leaders", "Emerging engineering managers"}
    rows = (
        await session.execute(
            select(
                TalentPoolMember.pool_id,
                TalentReviewEntry.high_potential,
                TalentReviewEntry.performance,
                Person,
            )
            .join(TalentReviewEntry, TalentReviewEntry.person_id == TalentPoolMember.person_id)
            .join(Person, Person.id == TalentPoolMember.person_id)
        )
    ).all()
    assert len(rows) == members > 0
    leaders = [r for r in rows if r[0] == pools["Future leaders"]]
    engineers = [r for r in rows if r[0] == pools["Emerging engineering managers"]]
    assert 0 < len(leaders) <= 12 and all(flagged for _, flagged, _, _ in leaders)
    assert 0 < len(engineers) <= 8
    assert all(
        perf == 3 and p.department == "Engineering" and "Manager" not in p.job_title
        for _, _, perf, p in engineers
    )

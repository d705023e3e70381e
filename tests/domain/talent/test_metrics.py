"""Talent metrics on small hand-made worlds (tests/support/metrics_world.py), numbers worked out by hand,
on SQLite and PostgreSQL: bench strength with the 1/k rule, internal fill rate per period, skill-gap
closure, promotion readiness, retention and the risk x impact heat map; scope, refusals and edge cases.

The people looking: Hana (HR), Rita (talent reviewer for Engineering, herself in Engineering), Walt (an
employee with no grant) and Tess (talent reviewer for the whole organization).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import pytest_asyncio
from sqlalchemy import event, func, select

from domain import metrics
from domain.access import Actor, load_actor
from domain.errors import Forbidden, Invalid
from domain.metrics_views import (
    BenchStrength,
    FillPeriod,
    HeatMap,
    Period,
    PromotionReadiness,
    RetentionGroup,
)
from storage.models import AuditEntry, RoleGrant
from tests.support.metrics_world import (
    ENGINEERING,
    SALES,
    TalentBuilder,
    competencies,
    fills,
    slates,
    talent_reviews,
)


@dataclass(frozen=True)
class Lookers:
    hr: Actor
    reviewer: Actor
    employee: Actor
    everyone_reviewer: Actor


@pytest_asyncio.fixture
async def b(session) -> TalentBuilder:
    return TalentBuilder(session)


@pytest_asyncio.fixture
async def who(session, b: TalentBuilder) -> Lookers:
    hana = await b.person("Hana", "People", title="HR Partner")
    rita = await b.person("Rita", ENGINEERING)
    walt = await b.person("Walt", ENGINEERING)
    tess = await b.person("Tess", "People")
    session.add_all(
        [
            RoleGrant(person_id=hana, role="hr_admin"),
            RoleGrant(person_id=rita, role="talent_reviewer", scope_department=ENGINEERING),
            RoleGrant(person_id=tess, role="talent_reviewer", scope_department=None),
        ]
    )
    await session.flush()
    return Lookers(*[await load_actor(session, pid) for pid in (hana, rita, walt, tess)])


def d(value: str) -> Decimal:
    return Decimal(value)


async def _audits(session) -> list[AuditEntry]:
    return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == metrics.AUDIT_ACTION)))


# --- bench strength --------------------------------------------------------------------------------------


async def test_bench_strength_counts_coverage_and_depth_with_the_one_over_k_rule(session, b, who) -> None:
    await slates(b)
    # Critical A, B, C, D. Ready now: A (Pat, Quinn) and D (Pat) → 2/4 = 50 %. Any readiness: A, B (Ruth;
    # Lou has left and does not count), D → 3/4 = 75 %. Pat is on two critical slates (k = 2; E is not
    # critical), so he weighs ½ on A and ½ on D: depth = (½ + 1 [Quinn] + 1 [Ruth] + ½) / 4 = 0.75.
    bench = await metrics.bench_strength(session, actor=who.hr)
    assert bench == BenchStrength(
        critical_positions=4,
        ready_now_covered=2,
        any_covered=3,
        ready_now_coverage=d("50.0"),
        any_coverage=d("75.0"),
        depth=d("0.75"),
    )
    [entry] = await _audits(session)
    assert entry.actor_id == who.hr.person_id and entry.subject_type == "talent_metrics"
    assert entry.detail == {"metric": "bench_strength", "department": None}


async def test_bench_strength_of_a_talent_reviewer_covers_their_departments_only(session, b, who) -> None:
    await slates(b)
    # Rita sees Engineering: A and B. Ready now A → 1/2 = 50 %; any A, B → 100 %. Pat's k stays 2 (D is
    # outside her scope but still one of his critical nominations): depth = (½ + 1 + 1) / 2 = 1.25.
    bench = await metrics.bench_strength(session, actor=who.reviewer)
    assert bench == BenchStrength(2, 1, 2, d("50.0"), d("100.0"), d("1.25"))
    # HR narrowed to Sales: C and D. Ready now D → 50 %; any D → 50 %; depth ½ / 2 = 0.25.
    sales = await metrics.bench_strength(session, actor=who.hr, department=SALES)
    assert sales == BenchStrength(2, 1, 1, d("50.0"), d("50.0"), d("0.25"))
    # Rita narrowed to her own department: the same as her whole scope.
    assert await metrics.bench_strength(session, actor=who.reviewer, department=ENGINEERING) == bench
    # A reviewer of the whole organization sees what HR sees.
    assert await metrics.bench_strength(session, actor=who.everyone_reviewer) == await metrics.bench_strength(
        session, actor=who.hr
    )


async def test_the_actor_is_never_counted_as_a_successor(session, b, who) -> None:
    await slates(b)
    hana = "Hana"
    await b.successor("C", hana, "ready_now")
    # Hana on C's slate: to Tess, C is covered (ready now A, C, D = 75 %; any 100 %; depth (3 + 1) / 4).
    assert await metrics.bench_strength(session, actor=who.everyone_reviewer) == BenchStrength(
        4, 3, 4, d("75.0"), d("100.0"), d("1.00")
    )
    # To Hana herself, her own nomination does not exist: the figures of the first test.
    assert await metrics.bench_strength(session, actor=who.hr) == BenchStrength(
        4, 2, 3, d("50.0"), d("75.0"), d("0.75")
    )
    readiness = await metrics.promotion_readiness(session, actor=who.hr)
    assert readiness.ready_now == 2, "Pat and Quinn; not Hana"


async def test_without_critical_positions_the_figures_are_none_not_zero(session, b, who) -> None:
    await b.person("Solo", ENGINEERING)
    await b.position("Team lead", ENGINEERING, critical=False)
    await b.successor("Team lead", "Solo", "ready_now")
    assert await metrics.bench_strength(session, actor=who.hr) == BenchStrength(0, 0, 0, None, None, None)
    # Critical positions with empty slates are 0 %, which is a figure.
    await b.position("CTO", ENGINEERING)
    assert await metrics.bench_strength(session, actor=who.hr) == BenchStrength(
        1, 0, 0, d("0.0"), d("0.0"), d("0.00")
    )


async def test_depth_with_one_person_on_three_slates_and_rounding(session, b, who) -> None:
    # Tri is on X, Y and Z (k = 3, ⅓ each); W is empty. Coverage 3/4 = 75 %; depth 3 * ⅓ / 4 = 0.25.
    await b.person("Tri", ENGINEERING)
    for title in ("X", "Y", "Z"):
        await b.position(title, ENGINEERING)
        await b.successor(title, "Tri", "ready_now")
    await b.position("W", ENGINEERING)
    assert await metrics.bench_strength(session, actor=who.hr) == BenchStrength(
        4, 3, 3, d("75.0"), d("75.0"), d("0.25")
    )
    # Two more, in Sales: 3 of 6 covered = 50 %; depth 1/6 = 0.1666… → 0.17 (half up, two places).
    await b.position("V", SALES)
    await b.position("U", SALES)
    bench = await metrics.bench_strength(session, actor=who.hr)
    assert (bench.ready_now_coverage, bench.depth) == (d("50.0"), d("0.17"))
    # Rita's Engineering: X, Y, Z, W again; 2 of 3 would round to 66.7 %, as the fill rate test shows.
    assert (await metrics.bench_strength(session, actor=who.reviewer)).depth == d("0.25")


async def test_an_employee_and_a_reviewer_outside_their_scope_are_refused(session, b, who) -> None:
    await slates(b)
    calls = [
        lambda actor, **kw: metrics.bench_strength(session, actor=actor, **kw),
        lambda actor, **kw: metrics.promotion_readiness(session, actor=actor, **kw),
        lambda actor, **kw: metrics.risk_impact_heat_map(session, actor=actor, **kw),
        lambda actor, **kw: metrics.internal_fill_rate(
            session, actor=actor, start=date(2026, 1, 1), end=date(2026, 3, 31), **kw
        ),
        lambda actor, **kw: metrics.skill_gap_closure(
            session, actor=actor, baseline=date(2025, 7, 1), as_of=date(2026, 7, 1), **kw
        ),
        lambda actor, **kw: metrics.retention(
            session, actor=actor, since=date(2025, 7, 1), as_of=date(2026, 7, 1), **kw
        ),
    ]
    for call in calls:
        with pytest.raises(Forbidden, match="talent metrics"):
            await call(who.employee)
        with pytest.raises(Forbidden, match="talent metrics for Sales"):
            await call(who.reviewer, department=SALES)
    assert await _audits(session) == [], "a refusal writes nothing"


# --- internal fill rate ----------------------------------------------------------------------------------


async def test_internal_fill_rate_per_quarter(session, b, who) -> None:
    await slates(b)
    await fills(b)
    rate = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(2025, 10, 1), end=date(2026, 6, 30), period="quarter"
    )
    # 2025 Q4: A internal (slate), C external → 1/2 = 50 %. 2026 Q1: B internal, E external, D internal
    # (slate) → 2/3 = 66.7 %. 2026 Q2: no fills → None. The window: 3 of 5 = 60 %. The fills of 30 Sep 2025
    # and 1 Jul 2026 are outside it.
    assert rate.periods == (
        FillPeriod("2025 Q4", date(2025, 10, 1), date(2025, 12, 31), 2, 1, 1, d("50.0")),
        FillPeriod("2026 Q1", date(2026, 1, 1), date(2026, 3, 31), 3, 2, 1, d("66.7")),
        FillPeriod("2026 Q2", date(2026, 4, 1), date(2026, 6, 30), 0, 0, 0, None),
    )
    assert (rate.period, rate.fills, rate.internal, rate.rate) == (Period.QUARTER, 5, 3, d("60.0"))
    # Rita (Engineering: A, B, E): Q4 A internal → 100 %; Q1 B internal, E external → 50 %; 2 of 3 = 66.7 %.
    mine = await metrics.internal_fill_rate(
        session, actor=who.reviewer, start=date(2025, 10, 1), end=date(2026, 6, 30)
    )
    assert [(p.fills, p.internal, p.rate) for p in mine.periods] == [
        (1, 1, d("100.0")),
        (2, 1, d("50.0")),
        (0, 0, None),
    ]
    assert (mine.fills, mine.internal, mine.rate) == (3, 2, d("66.7"))


async def test_internal_fill_rate_per_month_clips_the_window_and_per_year(session, b, who) -> None:
    await slates(b)
    await fills(b)
    # From 15 Feb 2026: B's internal fill of 10 Feb is outside. February: E external → 0 of 1 = 0 % (a
    # figure, not None); March: D internal → 100 %.
    months = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(2026, 2, 15), end=date(2026, 3, 31), period=Period.MONTH
    )
    assert months.periods == (
        FillPeriod("Feb 2026", date(2026, 2, 15), date(2026, 2, 28), 1, 0, 0, d("0.0")),
        FillPeriod("Mar 2026", date(2026, 3, 1), date(2026, 3, 31), 1, 1, 1, d("100.0")),
    )
    # 2025: A, A internal, C external → 2/3; 2026: B internal, E external, D internal, B external → 2/4.
    years = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(2025, 1, 1), end=date(2026, 12, 31), period="year"
    )
    assert [(p.label, p.fills, p.internal, p.rate) for p in years.periods] == [
        ("2025", 3, 2, d("66.7")),
        ("2026", 4, 2, d("50.0")),
    ]
    # HR narrowed to Sales (C, D): 2025 C external → 0 %; 2026 D internal → 100 %.
    sales = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(2025, 1, 1), end=date(2026, 12, 31), period="year", department=SALES
    )
    assert [(p.fills, p.internal) for p in sales.periods] == [(1, 0), (1, 1)]


async def test_internal_fill_rate_refuses_a_bad_window(session, b, who) -> None:
    with pytest.raises(Invalid, match="start date must be on or before the end date"):
        await metrics.internal_fill_rate(session, actor=who.hr, start=date(2026, 2, 1), end=date(2026, 1, 1))
    with pytest.raises(Invalid, match="months, quarters or years"):
        await metrics.internal_fill_rate(
            session, actor=who.hr, start=date(2026, 1, 1), end=date(2026, 2, 1), period="week"
        )
    with pytest.raises(Invalid, match="at most 40 months"):
        await metrics.internal_fill_rate(
            session, actor=who.hr, start=date(2020, 1, 1), end=date(2023, 6, 1), period="month"
        )
    assert await _audits(session) == []
    # The calendar's last quarter and first month are periods like any other.
    last = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(9999, 11, 1), end=date(9999, 12, 31)
    )
    assert [(p.label, p.first_day, p.last_day) for p in last.periods] == [
        ("9999 Q4", date(9999, 11, 1), date(9999, 12, 31))
    ]
    first = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(1, 1, 1), end=date(1, 1, 31), period="month"
    )
    assert [p.label for p in first.periods] == ["Jan 1"]
    # No fills at all: every period None, not 0 %.
    empty = await metrics.internal_fill_rate(
        session, actor=who.hr, start=date(2026, 1, 1), end=date(2026, 6, 30)
    )
    assert [p.rate for p in empty.periods] == [None, None] and empty.rate is None


# --- skill-gap closure -----------------------------------------------------------------------------------


async def test_skill_gap_closure_since_a_baseline(session, b, who) -> None:
    await competencies(b)
    baseline, as_of = date(2025, 7, 1), date(2026, 7, 1)
    # Requirements: Ed (Coding 3, Testing 2), Eve (same: her title matches whatever its case), Max (Lead,
    # from the position he holds, over his title: Coding 4, Mentoring 3), Ezra (Coding 3, Testing 2).
    # Ina has left; Dee has no profile.
    # Gaps at the baseline: Ed Coding (2 < 3), Eve Coding (1 < 3), Max Mentoring (2 < 3: the latest before
    # the baseline, not the first), Ezra Testing (1 < 2) → 4.
    # Closed by 1 Jul 2026: Ed Coding (3), Max Mentoring (3) → 2 of 4 = 50 %. Eve reaches 2 by then (her 3
    # comes in August); Ezra's last word on 1 May 2026 is 1 (recorded after the 2 of the same day).
    # Not assessed by the baseline, so no gap: Eve Testing, Ezra Coding → 2.
    gaps = await metrics.skill_gap_closure(session, actor=who.hr, baseline=baseline, as_of=as_of)
    assert (gaps.gaps, gaps.closed, gaps.rate, gaps.not_assessed) == (4, 2, d("50.0"), 2)
    # Rita (Engineering: Ed, Eve, Ezra): gaps 3, closed 1 → 33.3 %; not assessed 2.
    mine = await metrics.skill_gap_closure(session, actor=who.reviewer, baseline=baseline, as_of=as_of)
    assert (mine.gaps, mine.closed, mine.rate, mine.not_assessed) == (3, 1, d("33.3"), 2)
    # HR narrowed to Sales: Max alone, 1 of 1.
    sales = await metrics.skill_gap_closure(
        session, actor=who.hr, baseline=baseline, as_of=as_of, department=SALES
    )
    assert (sales.gaps, sales.closed, sales.rate, sales.not_assessed) == (1, 1, d("100.0"), 0)
    # Measured at the baseline itself, nothing has closed yet.
    same_day = await metrics.skill_gap_closure(session, actor=who.hr, baseline=baseline, as_of=baseline)
    assert (same_day.gaps, same_day.closed, same_day.rate) == (4, 0, d("0.0"))


async def test_both_ways_of_counting_gaps_agree_on_every_database_that_runs_them(session, b, who) -> None:
    # Each database runs the faster of the two (SQLite the lookups, PostgreSQL the snapshots): both give
    # the figures of the test above (gaps, closed, not assessed), in Rita's scope too. The lookups run
    # everywhere; the snapshots use DISTINCT ON, which only PostgreSQL has.
    await competencies(b)
    strategies = [metrics._gaps_by_lookup]
    if session.get_bind().dialect.name == "postgresql":
        strategies.append(metrics._gaps_by_snapshots)
    year = (date(2025, 7, 1), date(2026, 7, 1))
    # From 1 May 2026, the day of Ezra's two Testing assessments: the one recorded last (1) is his level at
    # the baseline, a gap (2 would not be one). Gaps: Eve Coding (2 < 3), Ezra Coding (2 < 3), Ezra Testing;
    # none closed by 1 Jul 2026; Eve Testing never assessed.
    tie = (date(2026, 5, 1), date(2026, 7, 1))
    for count in strategies:
        for actor, (baseline, as_of), expected in (
            (who.hr, year, (4, 2, 2)),
            (who.reviewer, year, (3, 1, 2)),
            (who.hr, tie, (3, 0, 1)),
        ):
            scope = metrics._scope(actor, None)
            statement = count(metrics._requirements(scope), baseline, as_of)
            found = tuple((await session.execute(statement)).one())
            assert found == expected, (count.__name__, actor, baseline)


async def test_skill_gap_closure_edge_cases(session, b, who) -> None:
    empty = await metrics.skill_gap_closure(
        session, actor=who.hr, baseline=date(2025, 7, 1), as_of=date(2026, 7, 1)
    )
    assert (empty.gaps, empty.closed, empty.rate, empty.not_assessed) == (0, 0, None, 0)
    with pytest.raises(Invalid, match="baseline date must be on or before"):
        await metrics.skill_gap_closure(
            session, actor=who.hr, baseline=date(2026, 7, 2), as_of=date(2026, 7, 1)
        )


# --- promotion readiness ---------------------------------------------------------------------------------


async def test_promotion_readiness_counts_people_once_by_their_best_readiness(session, b, who) -> None:
    await slates(b)
    await b.person("Wes", SALES)
    await b.person("Xia", ENGINEERING)
    await b.successor("C", "Wes", "3_5_years")
    await b.successor("A", "Xia", "3_5_years")
    await b.successor("D", "Xia", "1_2_years")
    # Critical slates: Pat (ready now on A and D: counted once), Quinn ready now, Ruth 1-2, Xia best 1-2
    # (3-5 on A), Wes 3-5. Lou has left; Sam is only on E, which is not critical.
    assert await metrics.promotion_readiness(session, actor=who.hr) == PromotionReadiness(2, 2, 1)
    # Rita's A and B: Pat, Quinn ready now; Ruth 1-2; Xia 3-5 (her 1-2 is on D, outside the scope).
    assert await metrics.promotion_readiness(session, actor=who.reviewer) == PromotionReadiness(2, 1, 1)
    assert await metrics.promotion_readiness(session, actor=who.hr, department=SALES) == PromotionReadiness(
        1, 1, 1
    )


async def test_promotion_readiness_without_slates_is_zero_people(session, b, who) -> None:
    readiness = await metrics.promotion_readiness(session, actor=who.hr)
    assert readiness == PromotionReadiness(0, 0, 0) and readiness.total == 0


# --- retention -------------------------------------------------------------------------------------------


async def test_retention_of_high_performers_and_high_potentials(session, b, who) -> None:
    await talent_reviews(b, reviewer="Rita")
    since, as_of = date(2025, 7, 1), date(2026, 7, 1)
    # Latest finalized review is R2 for everyone (R3 is still rating: Hans's HiPo flag there is not counted).
    # High performers (perf 3 in R2): Hal, Hank, Hugo, Hedy, Hera, Hiro, Rita. Active on 1 Jul 2025: Hal,
    # Hank, Hera, Rita (Hugo hired in September, Hedy left in March 2025, Hiro inactive with no date).
    # Still active at 1 Jul 2026: Hal, Rita (Hank left in January, Hera on the day itself) → 2/4 = 50 %.
    # High potentials in R2: Hank, Hope (perf 2 there; her perf 3 in R1 is older), Hera, Hue, Rita. All were
    # active on 1 Jul 2025 (Hue's hire date is unknown); still active: Hope, Hue, Rita → 3/5 = 60 %.
    kept = await metrics.retention(session, actor=who.hr, since=since, as_of=as_of)
    assert kept.high_performers == RetentionGroup(4, 2, d("50.0"))
    assert kept.high_potentials == RetentionGroup(5, 3, d("60.0"))
    # Rita (Engineering, never counting herself): high performers Hal, Hank → 1/2; high potentials Hank,
    # Hue → 1/2.
    mine = await metrics.retention(session, actor=who.reviewer, since=since, as_of=as_of)
    assert (mine.high_performers, mine.high_potentials) == (
        RetentionGroup(2, 1, d("50.0")),
        RetentionGroup(2, 1, d("50.0")),
    )
    # Up to the day before Hera left, she is still there: high performers 3/4, high potentials 4/5.
    earlier = await metrics.retention(session, actor=who.hr, since=since, as_of=date(2026, 6, 30))
    assert (earlier.high_performers.retained, earlier.high_potentials.retained) == (3, 4)


async def test_retention_edge_cases(session, b, who) -> None:
    nobody = await metrics.retention(session, actor=who.hr, since=date(2025, 7, 1), as_of=date(2026, 7, 1))
    assert nobody.high_performers == RetentionGroup(0, 0, None) == nobody.high_potentials
    with pytest.raises(Invalid, match="retention period"):
        await metrics.retention(session, actor=who.hr, since=date(2026, 7, 2), as_of=date(2026, 7, 1))


# --- risk x impact ---------------------------------------------------------------------------------------


async def test_risk_impact_heat_map_from_the_latest_entries(session, b, who) -> None:
    await talent_reviews(b, reviewer="Rita")
    # Active people by their latest entry, finalized or not: Hal (risk 1, impact 3), Hope (R2: 2, 2), Hugo
    # (2, 2), Hans (R3: 3, 2), Rita (3, 3); Hue has no risk: unrated. Hank, Hedy, Hera, Hiro are gone.
    heat = await metrics.risk_impact_heat_map(session, actor=who.hr)
    assert heat == HeatMap(counts=((0, 0, 1), (0, 2, 0), (0, 1, 1)), unrated=1)
    assert (heat.count(2, 2), heat.rated, heat.largest) == (2, 5, 2)
    # Rita, Engineering, without herself: Hal, Hugo, Hans; Hue unrated.
    assert await metrics.risk_impact_heat_map(session, actor=who.reviewer) == HeatMap(
        counts=((0, 0, 1), (0, 1, 0), (0, 1, 0)), unrated=1
    )
    assert await metrics.risk_impact_heat_map(session, actor=who.hr, department=SALES) == HeatMap(
        counts=((0, 0, 0), (0, 1, 0), (0, 0, 0)), unrated=0
    )


async def test_an_empty_heat_map(session, b, who) -> None:
    heat = await metrics.risk_impact_heat_map(session, actor=who.hr)
    assert heat == HeatMap(counts=((0, 0, 0), (0, 0, 0), (0, 0, 0)), unrated=0) and heat.largest == 0


# --- all of them at once ---------------------------------------------------------------------------------


async def _everything(session, actor: Actor, **kw) -> metrics.TalentMetrics:
    return await metrics.talent_metrics(
        session,
        actor=actor,
        as_of=date(2026, 7, 1),
        fill_start=date(2025, 10, 1),
        fill_end=date(2026, 6, 30),
        baseline=date(2025, 7, 1),
        since=date(2025, 7, 1),
        **kw,
    )


async def test_talent_metrics_gathers_every_figure_in_one_audit_entry(session, b, who) -> None:
    await slates(b)
    await fills(b)
    await competencies(b)
    await talent_reviews(b, reviewer="Rita")
    every = await _everything(session, who.hr)
    assert every.bench == BenchStrength(4, 2, 3, d("50.0"), d("75.0"), d("0.75"))
    assert (every.fill_rate.fills, every.fill_rate.rate) == (5, d("60.0"))
    assert (every.skill_gaps.gaps, every.skill_gaps.closed) == (4, 2)
    assert every.readiness == PromotionReadiness(2, 1, 0)
    assert every.retention.high_performers == RetentionGroup(4, 2, d("50.0"))
    assert every.heat_map.rated == 5
    assert every.departments == (ENGINEERING, "People", SALES) and every.whole_organization
    [entry] = await _audits(session)
    assert entry.detail == {
        "metric": "all",
        "department": None,
        "as_of": "2026-07-01",
        "start": "2025-10-01",
        "end": "2026-06-30",
        "period": "quarter",
        "baseline": "2025-07-01",
        "since": "2025-07-01",
    }
    mine = await _everything(session, who.reviewer)
    assert mine.departments == (ENGINEERING,) and not mine.whole_organization
    assert mine.bench.critical_positions == 2 and mine.heat_map.rated == 3


async def test_talent_metrics_runs_a_constant_number_of_statements(session, b, who) -> None:
    counted: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        counted.append(statement)

    engine = session.bind.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await _everything(session, who.hr)
        await session.flush()
        empty = len(counted)
        assert empty >= 8, counted  # one per figure, the departments, the audit entry
        await slates(b)
        await fills(b)
        await competencies(b)
        await talent_reviews(b, reviewer="Rita")
        await session.flush()
        counted.clear()
        await _everything(session, who.hr)
        await session.flush()
        assert len(counted) == empty, counted
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 2

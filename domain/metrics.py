"""Talent metrics: aggregates over succession slates, position fills, competency assessments and talent
reviews. PRODUCT.md gives the definitions; this is how each is counted, exactly.

Who and what is counted
    HR sees the whole organization; a talent reviewer the departments of their scope (all of them with a
    whole-organization grant); anyone else is refused (access.may_view_talent_pages). `department`
    narrows to one department, which must be in the actor's scope. Positions are scoped by their own
    department, people by theirs (Person.department, today). The actor is never counted as a successor or
    as a person in a talent review: talent data about oneself never reaches oneself, not even as one in
    a count, as every talent list leaves out the viewer's own row. Every call writes one audit entry
    ("talent.metrics.view"); none lists a name. Each figure is one or two aggregate queries, whatever the
    size of the organization.

Bench strength (bench_strength)
    Critical positions in scope (Position.critical). A successor counts when the person is active.
    ready-now coverage = critical positions with ≥ 1 ready-now successor / critical positions * 100;
    any coverage       = critical positions with ≥ 1 successor of any readiness / critical positions * 100;
    depth              = Σ over the slates of the critical positions in scope of 1/k per successor, where k
                         is how many critical positions (in the whole organization, whatever the scope or
                         department filter) the person is nominated for / critical positions in scope.
    Example: four critical positions; A has P and Q ready now, B has R (1-2 years), C nobody, D has P
    ready now. P counts ½ on A and ½ on D: ready-now coverage 2/4 = 50 %, any 3/4 = 75 %,
    depth (½ + 1 + 1 + ½) / 4 = 0.75.

Internal fill rate (internal_fill_rate)
    Fills (PositionFill rows: each time a position was filled) with start ≤ filled_on ≤ end, of positions
    in scope, grouped into calendar months, quarters or years (the first and last clipped to the window).
    rate = internal fills / fills * 100 per period and over the window. A position filled twice counts
    twice. At most MAX_PERIODS periods.

Skill-gap closure (skill_gap_closure)
    For each active person in scope with a current role profile (the profile of the position they hold,
    else of their job title: domain.competencies.current_role_profiles, computed here in the same query)
    and each requirement of that profile: the person's level at a date is their latest assessment of the
    competency on or before it (the latest recorded, on a tie). A gap at the baseline is a level below the
    expected one; it is closed when the level as of `as_of` is at or above it.
    rate = closed gaps / gaps at the baseline * 100. A requirement never assessed by the baseline is not a
    gap (nothing says the person falls short); they are counted apart as `not_assessed`. The role profile
    is today's: the store keeps no history of who held which profile. (Counted by index lookups per
    requirement on SQLite and by index-ordered snapshots of everyone's levels on PostgreSQL: the fast way
    on each; same numbers.)

Promotion readiness (promotion_readiness)
    Distinct active people on the slates of the critical positions in scope, each counted once under
    their best readiness on those slates (ready now, then 1-2 years, then 3-5 years).

Retention (retention)
    Each person's entry in the most recent finalized talent review they are in (as
    talent.placements.latest_entries(finalized_only=True), read here in bulk). High performers: performance
    axis 3 there; high potentials: flagged there (one person can be both). Cohort: those active on
    `since` (hired by then, or no hire date known, and not left by then); retained: those of the cohort
    still active at `as_of`. Someone left on day D when deactivated_at falls on D (UTC); someone inactive
    with no date of leaving is taken to have left before any date. rate = retained / cohort * 100.

Risk x impact heat map (risk_impact_heat_map)
    Active people in scope by (risk of loss, impact of loss) in their latest talent-review entry, finalized
    or not (the freshest ratings); entries missing either rating are counted as unrated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Date,
    Subquery,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import WHOLE_ORGANIZATION, Actor, Role, audit, may_view_talent_pages, require
from domain.errors import Forbidden, Invalid
from domain.metrics_views import (
    BenchStrength,
    FillPeriod,
    FillRate,
    HeatMap,
    Period,
    PromotionReadiness,
    Retention,
    RetentionGroup,
    SkillGapClosure,
    TalentMetrics,
)
from storage.models import (
    CompetencyAssessment,
    Person,
    Position,
    PositionFill,
    RoleProfile,
    RoleRequirement,
    Successor,
    TalentReview,
    TalentReviewEntry,
)

_A = TypeVar("_A")
_B = TypeVar("_B")

AUDIT_ACTION = "talent.metrics.view"
MAX_PERIODS = 40
READY_NOW, ONE_TO_TWO, THREE_TO_FIVE = "ready_now", "1_2_years", "3_5_years"
HIGH = 3
FINALIZED = "finalized"
_PERCENT = Decimal("0.1")
_DEPTH = Decimal("0.01")


# --- the metrics ---------------------------------------------------------------------------------------


async def bench_strength(
    session: AsyncSession, *, actor: Actor, department: str | None = None, audit: bool = True
) -> BenchStrength:
    """Ready-now and any-readiness coverage of the critical positions in scope, and depth (1/k rule).
    `audit=False` when the caller shows it inside a view it audits itself (the succession board)."""
    scope = _scope(actor, department)
    if audit:
        await _audit(session, actor, scope, "bench_strength")
    return await _bench(session, scope, await _nominations(session, scope))


async def internal_fill_rate(
    session: AsyncSession,
    *,
    actor: Actor,
    start: date,
    end: date,
    period: Period | str = Period.QUARTER,
    department: str | None = None,
) -> FillRate:
    """Fills, internal fills and the internal fill rate per calendar period between start and end."""
    scope = _scope(actor, department)
    spans = periods(_period(period), start, end)
    await _audit(session, actor, scope, "internal_fill_rate", start=start, end=end, period=str(period))
    return await _fill_rate(session, scope, _period(period), start, end, spans)


async def skill_gap_closure(
    session: AsyncSession, *, actor: Actor, baseline: date, as_of: date, department: str | None = None
) -> SkillGapClosure:
    """Competency gaps at the baseline and the share of them closed by as_of."""
    scope = _scope(actor, department)
    _in_order(baseline, as_of, "The baseline date must be on or before the date it is measured to.")
    await _audit(session, actor, scope, "skill_gap_closure", baseline=baseline, as_of=as_of)
    return await _skill_gaps(session, scope, baseline, as_of)


async def promotion_readiness(
    session: AsyncSession, *, actor: Actor, department: str | None = None
) -> PromotionReadiness:
    """Distinct active successors by their best readiness over the critical positions in scope."""
    scope = _scope(actor, department)
    await _audit(session, actor, scope, "promotion_readiness")
    return _readiness(await _nominations(session, scope))


async def retention(
    session: AsyncSession, *, actor: Actor, since: date, as_of: date, department: str | None = None
) -> Retention:
    """High performers and high potentials active on `since` and how many of them still are at as_of."""
    scope = _scope(actor, department)
    _in_order(since, as_of, "The start of the retention period must be on or before its end.")
    await _audit(session, actor, scope, "retention", since=since, as_of=as_of)
    return await _retention(session, scope, since, as_of)


async def risk_impact_heat_map(
    session: AsyncSession, *, actor: Actor, department: str | None = None
) -> HeatMap:
    """Active people in scope by risk of loss x impact of loss in their latest talent review."""
    scope = _scope(actor, department)
    await _audit(session, actor, scope, "risk_impact_heat_map")
    return await _heat_map(session, scope)


async def talent_metrics(
    session: AsyncSession,
    *,
    actor: Actor,
    as_of: date,
    fill_start: date,
    fill_end: date,
    period: Period | str = Period.QUARTER,
    baseline: date,
    since: date,
    department: str | None = None,
    side: AsyncSession | None = None,
) -> TalentMetrics:
    """Every metric above for one scope (the Talent metrics tab), in one audit entry. `side`, a second
    session that only reads: skill-gap closure, most of the time taken, is counted on it while the other
    figures are counted on `session`, so the page waits for the slower of the two rather than the sum."""
    scope = _scope(actor, department)
    kind = _period(period)
    spans = periods(kind, fill_start, fill_end)
    _in_order(baseline, as_of, "The baseline date must be on or before today.")
    _in_order(since, as_of, "The retention start date must be on or before today.")
    await _audit(
        session,
        actor,
        scope,
        "all",
        as_of=as_of,
        start=fill_start,
        end=fill_end,
        period=kind.value,
        baseline=baseline,
        since=since,
    )

    def others() -> Coroutine[Any, Any, dict[str, Any]]:
        return _other_figures(session, scope, kind, fill_start, fill_end, spans, since, as_of)

    if side is None:
        skill_gaps = await _skill_gaps(session, scope, baseline, as_of)
        return TalentMetrics(skill_gaps=skill_gaps, **await others())
    # Skill gaps start first, so on SQLite their one statement is running on its thread before the other
    # lane begins.
    skill_gaps, rest = await _side_by_side(_skill_gaps(side, scope, baseline, as_of), others())
    return TalentMetrics(skill_gaps=skill_gaps, **rest)


async def _side_by_side(first: Coroutine[Any, Any, _A], second: Coroutine[Any, Any, _B]) -> tuple[_A, _B]:
    """Both results; if either fails (or this is cancelled), the other is stopped and waited for before
    the error goes on as it was, so neither outlives the sessions it reads on."""
    lanes = (asyncio.ensure_future(first), asyncio.ensure_future(second))
    try:
        return await lanes[0], await lanes[1]
    except BaseException:
        for lane in lanes:
            lane.cancel()
        await asyncio.gather(*lanes, return_exceptions=True)
        raise


async def _other_figures(
    session: AsyncSession,
    scope: _Scope,
    kind: Period,
    fill_start: date,
    fill_end: date,
    spans: Sequence[tuple[str, date, date]],
    since: date,
    as_of: date,
) -> dict[str, Any]:
    """talent_metrics' fields but skill-gap closure."""
    nominations = await _nominations(session, scope)
    return {
        "department": scope.department,
        "departments": await _departments(session, scope),
        "whole_organization": scope.departments is None,
        "bench": await _bench(session, scope, nominations),
        "fill_rate": await _fill_rate(session, scope, kind, fill_start, fill_end, spans),
        "readiness": _readiness(nominations),
        "retention": await _retention(session, scope, since, as_of),
        "heat_map": await _heat_map(session, scope),
    }


# --- scope and checks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    actor_id: int
    departments: frozenset[str] | None  # None: every department, and people or positions without one
    department: str | None  # the filter

    def covers(self, column: Any) -> ColumnElement[bool]:
        """The rows of departments in scope (and of the filter's department only, when it is set)."""
        if self.department is not None:
            return column == self.department
        if self.departments is None:
            return true()
        return column.in_(sorted(self.departments)) if self.departments else false()


def _scope(actor: Actor, department: str | None) -> _Scope:
    require(may_view_talent_pages(actor), "talent metrics")
    everyone = actor.has(Role.HR_ADMIN) or WHOLE_ORGANIZATION in actor.talent_scope
    departments = None if everyone else frozenset(actor.talent_scope)
    chosen = department.strip() if department else None
    if chosen and departments is not None and chosen not in departments:
        raise Forbidden(f"You don't have access to talent metrics for {chosen}.")
    return _Scope(actor_id=actor.person_id, departments=departments, department=chosen or None)


def _period(value: Period | str) -> Period:
    try:
        return Period(value)
    except ValueError:
        raise Invalid("Choose months, quarters or years.") from None


def _in_order(first: date, last: date, message: str) -> None:
    if first > last:
        raise Invalid(message)


async def _audit(session: AsyncSession, actor: Actor, scope: _Scope, metric: str, **dates: object) -> None:
    detail = {key: value.isoformat() if isinstance(value, date) else value for key, value in dates.items()}
    await audit(
        session,
        actor,
        action=AUDIT_ACTION,
        subject_type="talent_metrics",
        subject_id=None,
        metric=metric,
        department=scope.department,
        **detail,
    )


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole * 100, one decimal place (half up); None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(_PERCENT, rounding=ROUND_HALF_UP)


def periods(kind: Period, start: date, end: date) -> list[tuple[str, date, date]]:
    """The calendar periods (label, first day, last day) from start to end, the outer two clipped."""
    _in_order(start, end, "The start date must be on or before the end date.")
    spans: list[tuple[str, date, date]] = []
    first = _period_start(kind, start)
    while True:
        following = _next_period(kind, first)
        last = end if following is None else min(following - timedelta(days=1), end)
        spans.append((_label(kind, first), max(first, start), last))
        if len(spans) > MAX_PERIODS:
            raise Invalid(f"Choose a window of at most {MAX_PERIODS} {kind.value}s.")
        if following is None or following > end:
            return spans
        first = following


def _period_start(kind: Period, day: date) -> date:
    if kind is Period.YEAR:
        return date(day.year, 1, 1)
    if kind is Period.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, day.month, 1)


def _next_period(kind: Period, first: date) -> date | None:
    """The first day of the next period; None after the last one the calendar has (year 9999)."""
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[kind]
    index = first.year * 12 + first.month - 1 + months
    return None if index // 12 > date.max.year else date(index // 12, index % 12 + 1, 1)


def _label(kind: Period, first: date) -> str:
    if kind is Period.YEAR:
        return str(first.year)
    if kind is Period.QUARTER:
        return f"{first.year} Q{(first.month - 1) // 3 + 1}"
    return f"{first:%b} {first.year}"


# --- queries -------------------------------------------------------------------------------------------


def _counted_successor(scope: _Scope) -> ColumnElement[bool]:
    """A slate entry that counts: an active person who is not the actor (joined to Person)."""
    return and_(Person.active.is_(True), Successor.person_id != scope.actor_id)


@dataclass(frozen=True)
class _Nominated:
    """`people` counted successors, each on `positions` critical slates in the whole organization and on
    `in_scope` of them in scope, with `best` their best readiness on those (1 ready now, 2 in 1-2 years, 3
    in 3-5 years; None when none is in scope)."""

    positions: int
    in_scope: int
    best: int | None
    people: int


async def _nominations(session: AsyncSession, scope: _Scope) -> list[_Nominated]:
    """The counted successors on critical slates, in a few groups: bench depth and promotion readiness."""
    in_scope = scope.covers(Position.department)
    rank = case((Successor.readiness == READY_NOW, 1), (Successor.readiness == ONE_TO_TWO, 2), else_=3)
    per_person = (
        select(
            func.count().label("positions"),
            func.sum(case((in_scope, 1), else_=0)).label("in_scope"),
            func.min(case((in_scope, rank))).label("best"),
        )
        .select_from(Successor)
        .join(Position, Position.id == Successor.position_id)
        .join(Person, Person.id == Successor.person_id)
        .where(Position.critical.is_(True), _counted_successor(scope))
        .group_by(Successor.person_id)
        .subquery()
    )
    p = per_person.c
    rows = await session.execute(
        select(p.positions, p.in_scope, p.best, func.count()).group_by(p.positions, p.in_scope, p.best)
    )
    return [
        _Nominated(int(k), int(m), None if best is None else int(best), int(n))
        for k, m, best, n in rows.all()
    ]


async def _bench(session: AsyncSession, scope: _Scope, nominations: list[_Nominated]) -> BenchStrength:
    in_scope = and_(Position.critical.is_(True), scope.covers(Position.department))
    slate = (
        select(Successor.id)
        .join(Person, Person.id == Successor.person_id)
        .where(Successor.position_id == Position.id, _counted_successor(scope))
    )
    ready = exists(slate.where(Successor.readiness == READY_NOW))
    anyone = exists(slate)
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((ready, 1), else_=0)), 0),
                func.coalesce(func.sum(case((anyone, 1), else_=0)), 0),
            ).where(in_scope)
        )
    ).one()
    positions, ready_covered, any_covered = int(row[0]), int(row[1]), int(row[2])
    # A person on k critical positions, m of them in scope, weighs m/k on the slates in scope.
    weight = sum((Fraction(n.in_scope * n.people, n.positions) for n in nominations), Fraction())
    depth = None
    if positions:
        depth = (Decimal(weight.numerator) / Decimal(weight.denominator) / positions).quantize(
            _DEPTH, rounding=ROUND_HALF_UP
        )
    return BenchStrength(
        critical_positions=positions,
        ready_now_covered=ready_covered,
        any_covered=any_covered,
        ready_now_coverage=percent(ready_covered, positions),
        any_coverage=percent(any_covered, positions),
        depth=depth,
    )


async def _fill_rate(
    session: AsyncSession,
    scope: _Scope,
    kind: Period,
    start: date,
    end: date,
    spans: Sequence[tuple[str, date, date]],
) -> FillRate:
    bucket = case(
        *((PositionFill.filled_on <= last, index) for index, (_, _, last) in enumerate(spans)),
        else_=len(spans),
    )
    # Grouped outside the subquery: PostgreSQL cannot match a GROUP BY expression with bound dates to the
    # same expression in the select list.
    fills = (
        select(bucket.label("bucket"), PositionFill.source, PositionFill.from_slate)
        .join(Position, Position.id == PositionFill.position_id)
        .where(
            PositionFill.filled_on >= start, PositionFill.filled_on <= end, scope.covers(Position.department)
        )
        .subquery()
    )
    counted = select(
        fills.c.bucket,
        func.count(),
        func.sum(case((fills.c.source == "internal", 1), else_=0)),
        func.sum(case((fills.c.from_slate.is_(True), 1), else_=0)),
    ).group_by(fills.c.bucket)
    found = {int(b): (int(n), int(i), int(s)) for b, n, i, s in (await session.execute(counted)).all()}
    rows = []
    for index, (label, first, last) in enumerate(spans):
        n, internal, slate = found.get(index, (0, 0, 0))
        rows.append(FillPeriod(label, first, last, n, internal, slate, percent(internal, n)))
    total = sum(r.fills for r in rows)
    internal_total = sum(r.internal for r in rows)
    return FillRate(kind, start, end, tuple(rows), total, internal_total, percent(internal_total, total))


def _requirements(scope: _Scope) -> Subquery:
    """(person, competency, expected level) for each requirement of the current role profile of each active
    person in scope: competencies.current_role_profiles' rule (the position they hold, if it has a
    profile, else the profile of their job title), as joins rather than a lookup per person."""
    by_position = (
        select(
            Position.incumbent_id.label("person_id"), func.min(Position.role_profile_id).label("profile_id")
        )
        .where(Position.incumbent_id.is_not(None), Position.role_profile_id.is_not(None))
        .group_by(Position.incumbent_id)
        .subquery()
    )
    profile = func.coalesce(by_position.c.profile_id, RoleProfile.id)
    return (
        select(Person.id.label("person_id"), RoleRequirement.competency_id, RoleRequirement.expected_level)
        .select_from(Person)
        .outerjoin(by_position, by_position.c.person_id == Person.id)
        .outerjoin(RoleProfile, RoleProfile.job_title_key == func.lower(Person.job_title))
        .join(RoleRequirement, RoleRequirement.role_profile_id == profile)
        .where(Person.active.is_(True), scope.covers(Person.department))
        .subquery()
    )


async def _skill_gaps(session: AsyncSession, scope: _Scope, baseline: date, as_of: date) -> SkillGapClosure:
    counts = _gaps_by_lookup if session.get_bind().dialect.name == "sqlite" else _gaps_by_snapshots
    row = (await session.execute(counts(_requirements(scope), baseline, as_of))).one()
    gaps, closed, not_assessed = (int(value or 0) for value in row)
    return SkillGapClosure(baseline, as_of, gaps, closed, percent(closed, gaps), not_assessed)


# Two ways to the same three counts (gaps at the baseline, of them closed by as_of, never assessed by the
# baseline), each the fast one on its database for ~50,000 requirements and ~100,000 assessments. Both read
# levels from the covering (person, competency, day, id, level) index alone (PostgreSQL once vacuum has
# marked the table's pages all-visible; until then it also visits the rows, ~1.5x slower). SQLite has no
# hash join, so it looks the two levels up per requirement; PostgreSQL's per-row subplans are slow, so it
# takes snapshots of everyone's levels in index order and joins them to the requirements once.


def _gap_counts(then_level: Any, now_level: Any, expected: Any) -> Any:
    gap = then_level < expected
    return (
        func.sum(case((gap, 1), else_=0)),
        func.sum(case((and_(gap, now_level >= expected), 1), else_=0)),
        func.sum(case((then_level.is_(None), 1), else_=0)),
    )


def _gaps_by_lookup(pairs: Subquery, baseline: date, as_of: date) -> Any:
    """Per requirement, the newest assessment up to the baseline, then (only for a gap) up to as_of."""
    a = CompetencyAssessment

    def level_on(day: date, person: Any, competency: Any) -> Any:
        return (
            select(a.level)
            .where(a.person_id == person, a.competency_id == competency, a.assessed_on <= day)
            .order_by(a.assessed_on.desc(), a.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    x = pairs.c
    # OFFSET 0 keeps each lookup a column computed once: inlined, it would run again in every CASE below.
    then = (
        select(
            x.person_id,
            x.competency_id,
            x.expected_level,
            level_on(baseline, x.person_id, x.competency_id).label("level"),
        )
        .offset(0)
        .subquery()
    )
    t = then.c
    now_level = case((t.level < t.expected_level, level_on(as_of, t.person_id, t.competency_id)))
    now = select(t.expected_level, t.level, now_level.label("now_level")).offset(0).subquery()
    return select(*_gap_counts(now.c.level, now.c.now_level, now.c.expected_level))


def _gaps_by_snapshots(pairs: Subquery, baseline: date, as_of: date) -> Any:
    """Everyone's level at the baseline and newest since (DISTINCT ON, PostgreSQL), joined to the
    requirements."""
    a = CompetencyAssessment
    # The days are written into the statement: as parameters, the generic plan that a prepared statement
    # gets after five runs guesses a few hundred assessments between them, and sorts them all.
    then_day, now_day = (literal(day, Date, literal_execute=True) for day in (baseline, as_of))
    then = _newest_levels(a.assessed_on <= then_day)
    since = _newest_levels(and_(a.assessed_on > then_day, a.assessed_on <= now_day))
    # The level at as_of is the newest since the baseline, else the one at the baseline: each assessment is
    # read once. Both come in index order, so they pair up in a merge join; the requirements meet them in
    # one hash join.
    levels = (
        select(
            then.c.person_id,
            then.c.competency_id,
            then.c.level.label("then_level"),
            func.coalesce(since.c.level, then.c.level).label("now_level"),
        )
        .outerjoin(
            since, and_(since.c.person_id == then.c.person_id, since.c.competency_id == then.c.competency_id)
        )
        .subquery()
    )
    x, n = pairs.c, levels.c
    return select(*_gap_counts(n.then_level, n.now_level, x.expected_level)).select_from(
        pairs.outerjoin(levels, and_(n.person_id == x.person_id, n.competency_id == x.competency_id))
    )


def _newest_levels(when: ColumnElement[bool]) -> Subquery:
    """(person, competency, level) of the newest of each one's assessments that meet `when` (PostgreSQL)."""
    a = CompetencyAssessment
    # Every key descending: a backward index-only scan gives this order, so DISTINCT ON needs no sort (with
    # ascending person and competency it would sort all the assessments).
    return (
        select(a.person_id, a.competency_id, a.level)
        .where(when)
        .ext(distinct_on(a.person_id, a.competency_id))
        .order_by(a.person_id.desc(), a.competency_id.desc(), a.assessed_on.desc(), a.id.desc())
        .subquery()
    )


def _readiness(nominations: list[_Nominated]) -> PromotionReadiness:
    found: dict[int, int] = {}
    for n in nominations:
        if n.best is not None:
            found[n.best] = found.get(n.best, 0) + n.people
    return PromotionReadiness(
        ready_now=found.get(1, 0), one_to_two_years=found.get(2, 0), three_to_five_years=found.get(3, 0)
    )


def _latest_entry(*, finalized_only: bool) -> ColumnElement[bool]:
    """The entry is its person's in the most recent talent review they are in (finalized ones only, when
    asked): placements.latest_entries' rule, as a condition on TalentReviewEntry."""
    newer, any_entry = aliased(TalentReviewEntry), aliased(TalentReviewEntry)
    oldest = select(func.min(any_entry.talent_review_id)).correlate(None).scalar_subquery()
    later = exists().where(
        newer.person_id == TalentReviewEntry.person_id,
        newer.talent_review_id > TalentReviewEntry.talent_review_id,
        # Implied by the line above, but it lets PostgreSQL drop the oldest review's entries before hashing
        # the newer ones for the anti-join: all of them while there is a single review.
        newer.talent_review_id > oldest,
    )
    if finalized_only:
        review = aliased(TalentReview)
        later = later.where(review.id == newer.talent_review_id, review.status == FINALIZED)
    return ~later


def _active_on(day: date) -> ColumnElement[bool]:
    """Hired by `day` (or no hire date known) and not left by its end (UTC)."""
    next_day = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    hired = or_(Person.hire_date.is_(None), Person.hire_date <= day)
    staying = or_(
        and_(Person.deactivated_at.is_(None), Person.active.is_(True)), Person.deactivated_at >= next_day
    )
    return and_(hired, staying)


async def _retention(session: AsyncSession, scope: _Scope, since: date, as_of: date) -> Retention:
    e = TalentReviewEntry
    cohort, kept = _active_on(since), and_(_active_on(since), _active_on(as_of))
    high_performer = e.performance == HIGH
    high_potential = e.high_potential.is_(True)

    def tally(group: ColumnElement[bool], condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((and_(group, condition), 1), else_=0)), 0)

    row = (
        await session.execute(
            select(
                tally(high_performer, cohort),
                tally(high_performer, kept),
                tally(high_potential, cohort),
                tally(high_potential, kept),
            )
            .join(TalentReview, TalentReview.id == e.talent_review_id)
            .join(Person, Person.id == e.person_id)
            .where(
                TalentReview.status == FINALIZED,
                _latest_entry(finalized_only=True),
                scope.covers(Person.department),
                Person.id != scope.actor_id,
            )
        )
    ).one()
    hp_cohort, hp_kept, hipo_cohort, hipo_kept = (int(value) for value in row)
    return Retention(
        since,
        as_of,
        RetentionGroup(hp_cohort, hp_kept, percent(hp_kept, hp_cohort)),
        RetentionGroup(hipo_cohort, hipo_kept, percent(hipo_kept, hipo_cohort)),
    )


async def _heat_map(session: AsyncSession, scope: _Scope) -> HeatMap:
    e = TalentReviewEntry
    rows = await session.execute(
        select(e.risk_of_loss, e.impact_of_loss, func.count())
        .join(Person, Person.id == e.person_id)
        .where(
            _latest_entry(finalized_only=False),
            Person.active.is_(True),
            scope.covers(Person.department),
            Person.id != scope.actor_id,
        )
        .group_by(e.risk_of_loss, e.impact_of_loss)
    )
    grid = [[0, 0, 0] for _ in range(3)]
    unrated = 0
    for risk, impact, n in rows.all():
        if risk is None or impact is None:
            unrated += int(n)
        else:
            grid[risk - 1][impact - 1] += int(n)
    return HeatMap(counts=(tuple(grid[0]), tuple(grid[1]), tuple(grid[2])), unrated=unrated)  # type: ignore[arg-type]


async def _departments(session: AsyncSession, scope: _Scope) -> tuple[str, ...]:
    """What the department filter offers: the actor's departments, or every one in use."""
    if scope.departments is not None:
        return tuple(sorted(scope.departments, key=str.casefold))
    used = union(
        select(Person.department).where(Person.active.is_(True), Person.department.is_not(None)),
        select(Position.department).where(Position.critical.is_(True), Position.department.is_not(None)),
    ).subquery()
    found = await session.scalars(select(used.c[0]))
    return tuple(sorted((d for d in found if d), key=str.casefold))

"""What the talent metrics return: aggregates only (counts, percentages, ratios), never a name.

Percentages are Decimals rounded half up to one decimal place, and None when there is nothing to divide
by (no critical positions, no fills, no gaps, nobody in a group): "no data" is not 0 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class BenchStrength:
    """Coverage and depth of the critical positions in the actor's scope (PRODUCT.md: bench strength)."""

    critical_positions: int
    ready_now_covered: int  # critical positions with at least one active ready-now successor
    any_covered: int  # ... with at least one active successor of any readiness
    ready_now_coverage: Decimal | None  # percent; None without critical positions
    any_coverage: Decimal | None
    depth: Decimal | None  # successors per critical position, 1/k each (two decimals)


@dataclass(frozen=True)
class FillPeriod:
    """How positions were filled in one calendar period (clipped to the window asked for)."""

    label: str  # "2026 Q1", "Mar 2026", "2026"
    first_day: date
    last_day: date
    fills: int
    internal: int
    from_slate: int  # internal fills by someone on the position's succession slate
    rate: Decimal | None  # internal / fills, percent; None without fills


@dataclass(frozen=True)
class FillRate:
    """Internal fill rate per period over a window, and over the whole window."""

    period: Period
    start: date
    end: date
    periods: tuple[FillPeriod, ...]
    fills: int
    internal: int
    rate: Decimal | None


@dataclass(frozen=True)
class SkillGapClosure:
    """Competency gaps open at a baseline date, and how many of them had closed by a later date."""

    baseline: date
    as_of: date
    gaps: int  # requirements assessed below their expected level at the baseline
    closed: int  # of those, assessed at or above the expected level by as_of
    rate: Decimal | None  # closed / gaps, percent; None without gaps
    not_assessed: int  # requirements with no assessment by the baseline: not gaps, counted apart


@dataclass(frozen=True)
class PromotionReadiness:
    """Distinct active successors by their best readiness over the critical positions in scope."""

    ready_now: int
    one_to_two_years: int
    three_to_five_years: int

    @property
    def total(self) -> int:
        return self.ready_now + self.one_to_two_years + self.three_to_five_years


@dataclass(frozen=True)
class RetentionGroup:
    """Of a group active on `since`, how many are still active at `as_of`."""

    cohort: int
    retained: int
    rate: Decimal | None  # retained / cohort, percent; None for an empty cohort


@dataclass(frozen=True)
class Retention:
    """Retention of high performers and high potentials (from each person's latest finalized review)."""

    since: date
    as_of: date
    high_performers: RetentionGroup
    high_potentials: RetentionGroup


@dataclass(frozen=True)
class HeatMap:
    """Active people by risk of loss x impact of loss (1 low, 2 medium, 3 high) in their latest review."""

    # counts[risk - 1][impact - 1]
    counts: tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]
    unrated: int  # people whose latest entry lacks risk or impact

    def count(self, risk: int, impact: int) -> int:
        return self.counts[risk - 1][impact - 1]

    @property
    def rated(self) -> int:
        return sum(sum(row) for row in self.counts)

    @property
    def largest(self) -> int:
        return max(max(row) for row in self.counts)


@dataclass(frozen=True)
class TalentMetrics:
    """Everything the Talent metrics tab shows, for one scope."""

    department: str | None  # the filter, None for the whole scope
    departments: tuple[str, ...]  # what the filter offers
    whole_organization: bool  # the actor's scope is everyone (HR, or a reviewer of the whole organization)
    bench: BenchStrength
    fill_rate: FillRate
    skill_gaps: SkillGapClosure
    readiness: PromotionReadiness
    retention: Retention
    heat_map: HeatMap

"""Goal progress and status: pure maths, no database (PRODUCT.md, Definitions, Goal progress).

Progress is a fraction in [0, 1]; the transports show it as a percentage.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.errors import Invalid


class Metric(StrEnum):
    NUMBER = "number"
    PERCENT = "percent"
    CURRENCY = "currency"
    BOOLEAN = "boolean"  # yes/no: 0 or 1
    MILESTONE = "milestone"  # whole steps from 0 to target


class Status(StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    BEHIND = "behind"
    AT_RISK = "at_risk"
    EXPIRED = "expired"
    CLOSED = "closed"


# Status thresholds, in fractions of the period (0.10 = 10 percentage points). A goal is ON TRACK while its
# progress is at most ON_TRACK_MARGIN below the share of the period already elapsed, BEHIND while it is at
# most AT_RISK_MARGIN below, and AT RISK beyond that.
ON_TRACK_MARGIN = 0.10
AT_RISK_MARGIN = 0.25

TITLE_MAX = 200
_WEIGHT_MAX = 1_000_000.0


# --- periods -----------------------------------------------------------------------------------------

CUSTOM = "custom"
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """The dates a goal runs over, both inclusive, and how people name them ("2026-Q4", "custom")."""

    label: str
    start: date
    end: date

    @classmethod
    def of(cls, label: str) -> Period:
        """A named period: a year ("2026"), a half ("2026-H2") or a quarter ("2026-Q4")."""
        text = label.strip().upper()
        if m := _QUARTER.match(text):
            year, quarter = int(m[1]), int(m[2])
            return cls(text, date(year, 3 * quarter - 2, 1), _month_end(year, 3 * quarter))
        if m := _HALF.match(text):
            year, half = int(m[1]), int(m[2])
            return cls(text, date(year, 6 * half - 5, 1), _month_end(year, 6 * half))
        if m := _YEAR.match(text):
            year = int(m[1])
            return cls(text, date(year, 1, 1), date(year, 12, 31))
        raise Invalid(
            f"“{label}” is not a period I know: use a year (2026), a half (2026-H2), a quarter (2026-Q4) "
            "or custom dates."
        )

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        """Any dates, as long as the period does not end before it starts."""
        period = cls(CUSTOM, start, end)
        period.validate()
        return period

    def validate(self) -> None:
        if self.end < self.start:
            raise Invalid(f"The period ends ({self.end:%Y-%m-%d}) before it starts ({self.start:%Y-%m-%d}).")

    def elapsed(self, today: date) -> float:
        """The share of the period behind us at the start of `today`: 0 on its first day, 1 after it."""
        days = (self.end - self.start).days + 1
        return min(1.0, max(0.0, (today - self.start).days / days))


def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


# --- key results -------------------------------------------------------------------------------------


def number(value: object, what: str) -> float:
    """A finite number from user input, or Invalid naming the field."""
    if isinstance(value, bool):
        value = int(value)
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise Invalid(f"{what} must be a number (got “{value}”).") from None
    if not math.isfinite(result):
        raise Invalid(f"{what} must be a finite number.")
    return result


def validate_weight(value: object, what: str = "The weight") -> float:
    weight = number(value, what)
    if weight < 0:
        raise Invalid(f"{what} can't be negative (got {weight:g}).")
    if weight > _WEIGHT_MAX:
        raise Invalid(f"{what} is too large (at most {_WEIGHT_MAX:g}).")
    return weight


def validate_title(value: str | None, what: str) -> str:
    title = (value or "").strip()
    if not title:
        raise Invalid(f"Give the {what} a title.")
    if len(title) > TITLE_MAX:
        raise Invalid(f"Keep the {what} title to {TITLE_MAX} characters (it has {len(title)}).")
    return title


def validate_key_result(metric: Metric | str, start: object, target: object) -> tuple[Metric, float, float]:
    """Check a key result's definition; return (metric, start, target) as numbers."""
    try:
        kind = Metric(metric)
    except ValueError:
        choices = ", ".join(m.value for m in Metric)
        raise Invalid(f"“{metric}” is not a metric type: choose one of {choices}.") from None
    begin, goal = number(start, "The start value"), number(target, "The target")
    if goal == begin:
        raise Invalid(
            f"The target equals the start ({goal:g}): there would be nothing to measure. "
            "Set a target different from where you start."
        )
    if kind is Metric.BOOLEAN and {begin, goal} != {0.0, 1.0}:
        raise Invalid("A yes/no key result starts at 0 (no) and targets 1 (yes), or the other way round.")
    if kind is Metric.MILESTONE and (begin != 0 or goal < 1 or not goal.is_integer()):
        raise Invalid("A milestone key result counts whole steps from 0 to a target of at least 1.")
    return kind, begin, goal


def validate_value(metric: Metric, value: object, *, target: float) -> float:
    """Check a new current value for a key result of this metric."""
    current = number(value, "The value")
    if metric is Metric.BOOLEAN and current not in (0.0, 1.0):
        raise Invalid(f"A yes/no key result is 1 (yes) or 0 (no), not {current:g}.")
    if metric is Metric.MILESTONE and (not current.is_integer() or not 0 <= current <= target):
        raise Invalid(f"A milestone value is a whole number of steps from 0 to {target:g}.")
    return current


def key_result_progress(metric: Metric | str, start: float, target: float, current: float) -> float:
    """(current - start) / (target - start), clamped to [0, 1]; it works when the target is below the start.

    A yes/no key result is 0 or 1; a milestone is steps done / steps (start is 0). A target equal to the
    start is refused when the key result is created; here it counts as no progress rather than dividing
    by zero.
    """
    if target == start:
        return 0.0
    if Metric(metric) is Metric.BOOLEAN:
        return 1.0 if current == target else 0.0
    return min(1.0, max(0.0, (current - start) / (target - start)))


# --- roll-up -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalNode:
    """What the roll-up needs of a goal: its weight, its key results (weight, progress), its parent."""

    id: int
    parent_id: int | None
    weight: float = 1.0
    key_results: tuple[tuple[float, float], ...] = ()
    # A closed goal counts with its final score (0..1), whatever its key results say by then.
    final_score: float | None = None
    closed: bool = False


def weighted_mean(parts: Iterable[tuple[float, float]]) -> float:
    """Σ wᵢ·pᵢ / Σ wᵢ over (weight, progress) pairs; 0 when the weights add up to nothing."""
    total = weighted = 0.0
    for weight, progress in parts:
        total += weight
        weighted += weight * progress
    return weighted / total if total > 0 else 0.0


def node_progress(node: GoalNode, aligned: Iterable[tuple[float, float]]) -> float:
    """One goal's progress from its key results and its aligned children's (weight, progress)."""
    if node.closed and node.final_score is not None:
        return node.final_score
    return weighted_mean([*node.key_results, *aligned])


def rollup(nodes: Mapping[int, GoalNode]) -> dict[int, float]:
    """Progress of every goal: the weighted mean of its key results and its aligned child goals, however
    deep. Children outside `nodes` are ignored, so pass whole subtrees. Iterative (no recursion limit) and
    cycle-safe (a cycle the store should never hold counts as no progress from the repeated goal)."""
    children: dict[int, list[int]] = {}
    for node in nodes.values():
        if node.parent_id is not None and node.parent_id in nodes:
            children.setdefault(node.parent_id, []).append(node.id)
    progress: dict[int, float] = {}
    for root in nodes:
        if root in progress:
            continue
        # Post-order walk: a goal is computed after all its children.
        stack: list[tuple[int, bool]] = [(root, False)]
        on_path: set[int] = set()
        while stack:
            goal_id, expanded = stack.pop()
            if expanded:
                on_path.discard(goal_id)
                node = nodes[goal_id]
                aligned = [(nodes[c].weight, progress.get(c, 0.0)) for c in children.get(goal_id, ())]
                progress[goal_id] = node_progress(node, aligned)
                continue
            if goal_id in progress or goal_id in on_path:
                continue
            on_path.add(goal_id)
            stack.append((goal_id, True))
            stack.extend((c, False) for c in children.get(goal_id, ()) if c not in progress)
    return progress


# --- status ------------------------------------------------------------------------------------------


def goal_status(progress: float, period: Period, *, today: date, closed: bool = False) -> Status:
    """Closed, not started, expired, or on track / behind / at risk from progress against time elapsed."""
    if closed:
        return Status.CLOSED
    if today < period.start:
        return Status.NOT_STARTED
    if today > period.end:
        return Status.EXPIRED
    # Rounded so that a gap of exactly 10 or 25 points lands on the kinder side despite float noise.
    gap = round(period.elapsed(today) - progress, 9)
    if gap <= ON_TRACK_MARGIN:
        return Status.ON_TRACK
    if gap <= AT_RISK_MARGIN:
        return Status.BEHIND
    return Status.AT_RISK

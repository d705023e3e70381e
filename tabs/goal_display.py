"""How goal numbers read on the tab pages: percentages, values with units, status words, sparklines.

Templates reach these as `ui.<name>`; they return plain text (autoescaped by jinja2) or numbers for SVG
attributes, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.performance.alignment import HistoryPoint
from domain.performance.goal_progress import Metric, Period, Status, key_result_progress
from domain.performance.goal_views import KeyResultView

STATUS_LABELS = {
    Status.NOT_STARTED: "Not started",
    Status.ON_TRACK: "On track",
    Status.BEHIND: "Behind",
    Status.AT_RISK: "At risk",
    Status.EXPIRED: "Expired",
    Status.CLOSED: "Closed",
}
# The order of the status filter on Team goals: what needs attention first.
STATUS_ORDER = (
    Status.AT_RISK,
    Status.BEHIND,
    Status.ON_TRACK,
    Status.NOT_STARTED,
    Status.EXPIRED,
    Status.CLOSED,
)
SPARK_WIDTH = 100
SPARK_HEIGHT = 24


def status_label(status: Status | str) -> str:
    """On track, Behind, At risk, ..."""
    return STATUS_LABELS.get(Status(status), str(status))


def status_class(status: Status | str) -> str:
    """The CSS modifier for a status: status--on-track."""
    return "status--" + Status(status).value.replace("_", "-")


def percent(fraction: float | None) -> int:
    """0..1 → a whole percentage, rounded down so 99.6 % never reads as done."""
    if fraction is None:
        return 0
    return max(0, min(100, int(fraction * 100 + 1e-9)))


def share(fraction: float) -> str:
    """A contribution to a parent: whole percent, or "< 1 %" rather than a misleading 0 %."""
    if 0 < fraction < 0.01:
        return "< 1 %"
    return f"{round(fraction * 100)} %"


def number(value: float) -> str:
    """A value as people write it: 1,250 or 3.5 (no float noise, no exponent)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def field_value(value: float) -> str:
    """A value for an input field: plain digits and a dot, as the server parses them back."""
    if float(value).is_integer():
        return str(int(value))
    return format(value, ".15g")


def kr_value(kr: KeyResultView, value: float) -> str:
    """A key result's value with its unit: "40 %", "Yes", "3 of 5 steps", "1,200 EUR"."""
    metric = Metric(kr.metric)
    if metric is Metric.BOOLEAN:
        return "Yes" if value == 1 else "No"
    if metric is Metric.MILESTONE:
        return f"{number(value)} of {number(kr.target)} steps"
    if metric is Metric.PERCENT:
        return f"{number(value)} %"
    return f"{number(value)} {kr.unit}" if kr.unit else number(value)


def kr_target(kr: KeyResultView) -> str:
    """What a key result aims for: "5 %", "Yes", "4 steps", "250,000 USD"."""
    if Metric(kr.metric) is Metric.MILESTONE:
        return f"{number(kr.target)} steps"
    return kr_value(kr, kr.target)


def period(p: Period) -> str:
    """2026-Q4 (1 Oct to 31 Dec 2026)."""
    span = f"{p.start.day} {p.start:%b} to {p.end.day} {p.end:%b %Y}"
    return span if p.label == "custom" else f"{p.label} ({span})"


@dataclass(frozen=True)
class Sparkline:
    """An SVG polyline (viewBox 0 0 100 24) of a key result's progress over time, and its words."""

    points: str
    last_x: float
    last_y: float
    label: str


def sparkline(kr: KeyResultView, history: Sequence[HistoryPoint] | None) -> Sparkline | None:
    """Progress (not raw values) over the updates, so every line rises towards its target; None
    until there are two values to join."""
    if not history or len(history) < 2:
        return None
    fractions = [key_result_progress(kr.metric, kr.start, kr.target, p.value) for p in history]
    step = SPARK_WIDTH / (len(fractions) - 1)
    coords = [
        (round(i * step, 2), round((1 - f) * (SPARK_HEIGHT - 2) + 1, 2)) for i, f in enumerate(fractions)
    ]
    values = [kr_value(kr, p.value) for p in history]
    updates = len(history) - 1
    label = f"{updates} {'update' if updates == 1 else 'updates'}: from {values[0]} to {values[-1]}"
    if len(history) > 2:
        label = f"{label} (lowest {kr_value(kr, min(p.value for p in history))}, " + (
            f"highest {kr_value(kr, max(p.value for p in history))})"
        )
    return Sparkline(
        points=" ".join(f"{x:g},{y:g}" for x, y in coords),
        last_x=coords[-1][0],
        last_y=coords[-1][1],
        label=label,
    )

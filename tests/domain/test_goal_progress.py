"""Goal progress and status, the pure maths: numbers here are worked out by hand, not by the code."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import Invalid
from domain.performance.goal_progress import (
    AT_RISK_MARGIN,
    ON_TRACK_MARGIN,
    GoalNode,
    Metric,
    Period,
    Status,
    goal_status,
    key_result_progress,
    rollup,
    validate_key_result,
    validate_value,
    validate_weight,
    weighted_mean,
)

# --- key results ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "start", "target", "current", "expected"),
    [
        ("number", 0, 200, 50, 0.25),
        ("currency", 1000, 2000, 1750, 0.75),
        ("percent", 8, 5, 6.5, 0.5),  # reduce churn from 8 % to 5 %: half-way
        ("percent", 8, 5, 5, 1.0),
        ("percent", 8, 5, 9, 0.0),  # worse than the start: clamped at 0
        ("percent", 8, 5, 3, 1.0),  # better than the target: clamped at 1
        ("number", 0, 10, 12, 1.0),
        ("number", 0, 10, -3, 0.0),
        ("boolean", 0, 1, 0, 0.0),
        ("boolean", 0, 1, 1, 1.0),
        ("milestone", 0, 5, 2, 0.4),
    ],
)
def test_key_result_progress(metric, start, target, current, expected) -> None:
    assert key_result_progress(metric, start, target, current) == pytest.approx(expected)


def test_target_equal_to_start_is_refused_with_a_clear_message() -> None:
    with pytest.raises(Invalid) as raised:
        validate_key_result("number", 5, 5)
    assert "target equals the start (5)" in raised.value.message


@pytest.mark.parametrize(
    ("metric", "start", "target", "fragment"),
    [
        ("boolean", 0, 2, "yes/no"),
        ("milestone", 0, 2.5, "whole steps"),
        ("milestone", 1, 4, "whole steps"),
        ("stars", 0, 1, "not a metric type"),
        ("number", "lots", 1, "start value must be a number"),
        ("number", 0, float("nan"), "finite"),
    ],
)
def test_bad_key_result_definitions(metric, start, target, fragment) -> None:
    with pytest.raises(Invalid) as raised:
        validate_key_result(metric, start, target)
    assert fragment in raised.value.message


@pytest.mark.parametrize(
    ("metric", "value", "fragment"),
    [
        (Metric.BOOLEAN, 0.5, "yes/no key result is 1 (yes) or 0 (no)"),
        (Metric.BOOLEAN, 2, "yes/no"),
        (Metric.MILESTONE, 1.5, "whole number of steps"),
        (Metric.MILESTONE, 7, "whole number of steps from 0 to 5"),
        (Metric.NUMBER, "twelve", "must be a number"),
    ],
)
def test_bad_values(metric, value, fragment) -> None:
    with pytest.raises(Invalid) as raised:
        validate_value(metric, value, target=5)
    assert fragment in raised.value.message


def test_good_values_pass_through() -> None:
    assert validate_value(Metric.BOOLEAN, 1, target=1) == 1.0
    assert validate_value(Metric.NUMBER, "12.5", target=100) == 12.5
    assert validate_value(Metric.MILESTONE, 3, target=5) == 3.0


def test_negative_weight_is_refused() -> None:
    with pytest.raises(Invalid) as raised:
        validate_weight(-1)
    assert raised.value.message == "The weight can't be negative (got -1)."
    assert validate_weight(0) == 0.0


# --- periods -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "start", "end"),
    [
        ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2028-Q1", date(2028, 1, 1), date(2028, 3, 31)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("2026-h2", date(2026, 7, 1), date(2026, 12, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ],
)
def test_named_periods(label, start, end) -> None:
    period = Period.of(label)
    assert (period.label, period.start, period.end) == (label.upper(), start, end)


def test_unknown_period_label_and_a_period_ending_before_it_starts() -> None:
    with pytest.raises(Invalid, match="not a period I know"):
        Period.of("next quarter")
    with pytest.raises(Invalid) as raised:
        Period.custom(date(2026, 5, 1), date(2026, 4, 30))
    assert raised.value.message == "The period ends (2026-04-30) before it starts (2026-05-01)."
    assert Period.custom(date(2026, 5, 1), date(2026, 5, 1)).label == "custom"


def test_elapsed_share_of_a_period() -> None:
    period = Period.custom(date(2026, 1, 1), date(2026, 1, 10))  # 10 days
    assert period.elapsed(date(2026, 1, 1)) == 0.0
    assert period.elapsed(date(2026, 1, 5)) == pytest.approx(0.4)
    assert period.elapsed(date(2026, 2, 1)) == 1.0
    assert period.elapsed(date(2025, 12, 1)) == 0.0


# --- roll-up -----------------------------------------------------------------------------------------


def three_level_tree(deep_progress: float) -> dict[int, GoalNode]:
    """Company goal 1 ← team goals 2 (weight 3) and 3 (weight 1); person goal 4 (weight 2) ← team goal 2."""
    return {
        1: GoalNode(1, None),
        2: GoalNode(2, 1, weight=3, key_results=((1, 0.5),)),
        3: GoalNode(3, 1, weight=1, key_results=((1, 0.1),)),
        4: GoalNode(4, 2, weight=2, key_results=((1, 0.2), (3, deep_progress))),
    }


def test_three_level_roll_up_with_unequal_weights() -> None:
    progress = rollup(three_level_tree(deep_progress=1.0))
    # goal 4: (1·0.2 + 3·1.0) / 4 = 0.8
    # goal 2: (1·0.5 + 2·0.8) / 3 = 0.7
    # goal 1: (3·0.7 + 1·0.1) / 4 = 0.55
    assert progress[4] == pytest.approx(0.8)
    assert progress[2] == pytest.approx(0.7)
    assert progress[3] == pytest.approx(0.1)
    assert progress[1] == pytest.approx(0.55)


def test_a_change_deep_in_the_tree_changes_every_ancestor_and_nothing_else() -> None:
    before = rollup(three_level_tree(deep_progress=1.0))
    after = rollup(three_level_tree(deep_progress=0.2))
    # goal 4: (0.2 + 0.6) / 4 = 0.2; goal 2: (0.5 + 0.4) / 3 = 0.3; goal 1: (0.9 + 0.1) / 4 = 0.25
    assert (after[4], after[2], after[1]) == pytest.approx((0.2, 0.3, 0.25))
    assert after[3] == before[3]


def test_zero_total_weight_and_empty_goals_are_zero() -> None:
    assert weighted_mean([]) == 0.0
    assert weighted_mean([(0, 1.0), (0, 0.5)]) == 0.0
    progress = rollup({1: GoalNode(1, None), 2: GoalNode(2, 1, weight=0, key_results=((1, 1.0),))})
    assert progress == {1: 0.0, 2: 1.0}


def test_a_closed_goal_counts_with_its_final_score() -> None:
    progress = rollup(
        {
            1: GoalNode(1, None, key_results=((1, 0.0),)),
            2: GoalNode(2, 1, key_results=((1, 0.3),), final_score=0.9, closed=True),
        }
    )
    assert progress[2] == 0.9
    assert progress[1] == pytest.approx(0.45)


def test_a_very_deep_chain_rolls_up_without_recursion_limits() -> None:
    depth = 5000
    nodes = {i: GoalNode(i, i - 1 if i > 0 else None) for i in range(depth)}
    nodes[depth - 1] = GoalNode(depth - 1, depth - 2, key_results=((1, 0.4),))
    progress = rollup(nodes)
    assert progress[0] == pytest.approx(0.4)


def test_a_cycle_does_not_hang() -> None:
    progress = rollup({1: GoalNode(1, 2, key_results=((1, 1.0),)), 2: GoalNode(2, 1)})
    assert set(progress) == {1, 2}


# --- status ------------------------------------------------------------------------------------------

HUNDRED_DAYS = Period.custom(date(2026, 1, 1), date(2026, 4, 10))  # 100 days: day n is n % elapsed
DAY_51 = date(2026, 2, 20)  # 50 days behind us: 50 % elapsed


def test_thresholds_are_documented_constants() -> None:
    assert (ON_TRACK_MARGIN, AT_RISK_MARGIN) == (0.10, 0.25)
    assert HUNDRED_DAYS.elapsed(DAY_51) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (0.90, Status.ON_TRACK),
        (0.50, Status.ON_TRACK),
        (0.40, Status.ON_TRACK),  # exactly 10 points behind time: still on track
        (0.39, Status.BEHIND),
        (0.25, Status.BEHIND),  # exactly 25 points behind: behind, not yet at risk
        (0.24, Status.AT_RISK),
        (0.0, Status.AT_RISK),
    ],
)
def test_status_from_progress_against_time_elapsed(progress, expected) -> None:
    assert goal_status(progress, HUNDRED_DAYS, today=DAY_51) is expected


def test_status_outside_the_period_and_when_closed() -> None:
    assert goal_status(0.0, HUNDRED_DAYS, today=date(2025, 12, 31)) is Status.NOT_STARTED
    assert goal_status(0.0, HUNDRED_DAYS, today=date(2026, 1, 1)) is Status.ON_TRACK
    assert goal_status(1.0, HUNDRED_DAYS, today=date(2026, 4, 10)) is Status.ON_TRACK
    assert goal_status(1.0, HUNDRED_DAYS, today=date(2026, 4, 11)) is Status.EXPIRED
    assert goal_status(0.3, HUNDRED_DAYS, today=date(2026, 4, 11), closed=True) is Status.CLOSED
    assert goal_status(0.3, HUNDRED_DAYS, today=DAY_51, closed=True) is Status.CLOSED

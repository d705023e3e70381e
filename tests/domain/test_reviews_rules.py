"""Performance reviews' pure rules, without a database: the cycle's state machine, deadlines, recurrence,
scores computed by hand, and pooling of anonymous answers."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest

from domain.errors import Conflict, Invalid
from domain.performance.review_phases import (
    check_move,
    cycle_phases,
    next_name,
    open_for,
    period_label,
    shift,
    validate_deadlines,
)
from domain.performance.review_scoring import (
    SectionRatings,
    band,
    breakdown,
    calibrated_score,
    distribution,
    guideline,
    pooled,
    validate_guideline,
)
from domain.performance.review_views import (
    ANONYMITY_THRESHOLD,
    PHASES,
    AnswerView,
    ItemKind,
    Phase,
    ReviewerRole,
)

WITH_PEERS = cycle_phases(has_peer_phase=True)
WITHOUT_PEERS = cycle_phases(has_peer_phase=False)


# --- the state machine -----------------------------------------------------------------------------------


def test_a_cycle_goes_through_every_phase_in_order_and_skips_peer_review_without_peer_sections() -> None:
    assert WITH_PEERS == PHASES
    assert Phase.PEER_REVIEW not in WITHOUT_PEERS
    assert WITHOUT_PEERS[WITHOUT_PEERS.index(Phase.SELF_REVIEW) + 1] is Phase.MANAGER_REVIEW


@pytest.mark.parametrize("phases", [WITH_PEERS, WITHOUT_PEERS], ids=["with peers", "without peers"])
@pytest.mark.parametrize("current", PHASES)
@pytest.mark.parametrize("target", PHASES)
def test_only_the_next_phase_is_a_legal_move(phases, current: Phase, target: Phase) -> None:
    if current not in phases or current == target:
        return  # a cycle is never in a phase it doesn't have; staying put is a second click, not a move
    legal = (
        current is not Phase.CLOSED and target in phases and phases.index(target) == phases.index(current) + 1
    )
    if legal:
        check_move(current, target, phases)
        return
    with pytest.raises((Invalid, Conflict)) as refused:
        check_move(current, target, phases)
    assert refused.value.message.endswith("."), "every refusal is a sentence"


@pytest.mark.parametrize(
    ("current", "target", "error", "message"),
    [
        (
            Phase.SELF_REVIEW,
            Phase.CALIBRATION,
            Invalid,
            "The cycle is in self review: it can move on to peer review next, not to calibration.",
        ),
        (
            Phase.DRAFT,
            Phase.MANAGER_REVIEW,
            Invalid,
            "The cycle is a draft: it can move on to self review next, not to manager review.",
        ),
        (
            Phase.CALIBRATION,
            Phase.SELF_REVIEW,
            Conflict,
            "The cycle is in calibration: it has already moved past self review, and phases only move "
            "forward.",
        ),
        (
            Phase.RELEASED,
            Phase.CALIBRATION,
            Conflict,
            "The cycle is released: it has already moved past calibration, and phases only move forward.",
        ),
        (Phase.CLOSED, Phase.DRAFT, Invalid, "The cycle is closed: it can't move any more."),
    ],
)
def test_illegal_moves_say_where_the_cycle_is_and_where_it_can_go(current, target, error, message) -> None:
    with pytest.raises(error) as refused:
        check_move(current, target, WITH_PEERS)
    assert refused.value.message == message


def test_a_cycle_without_peer_sections_has_no_peer_review_to_move_to() -> None:
    with pytest.raises(Invalid, match="This cycle has no peer review: its template has no section for peers"):
        check_move(Phase.SELF_REVIEW, Phase.PEER_REVIEW, WITHOUT_PEERS)
    check_move(Phase.SELF_REVIEW, Phase.MANAGER_REVIEW, WITHOUT_PEERS)


# Written out by hand: a review can be written from launch until its role's phase closes.
OPEN = {
    ReviewerRole.SELF: {Phase.SELF_REVIEW},
    ReviewerRole.PEER: {Phase.SELF_REVIEW, Phase.PEER_REVIEW},
    ReviewerRole.REPORT: {Phase.SELF_REVIEW, Phase.PEER_REVIEW},
    ReviewerRole.MANAGER: {Phase.SELF_REVIEW, Phase.PEER_REVIEW, Phase.MANAGER_REVIEW},
}


@pytest.mark.parametrize("role", list(ReviewerRole))
def test_a_review_is_open_from_launch_until_its_phase_closes(role: ReviewerRole) -> None:
    assert {p for p in PHASES if open_for(role, p)} == OPEN[role]


# --- deadlines and recurrence ----------------------------------------------------------------------------

DUE = {
    Phase.SELF_REVIEW: date(2026, 3, 13),
    Phase.PEER_REVIEW: date(2026, 3, 20),
    Phase.MANAGER_REVIEW: date(2026, 3, 27),
    Phase.CALIBRATION: date(2026, 4, 3),
    Phase.RELEASED: date(2026, 4, 17),
}


def test_deadlines_are_needed_for_each_phase_and_in_order() -> None:
    assert validate_deadlines(DUE, WITH_PEERS)[Phase.MANAGER_REVIEW] == date(2026, 3, 27)
    assert validate_deadlines(DUE | {Phase.PEER_REVIEW: None}, WITHOUT_PEERS)[Phase.DRAFT] is None
    with pytest.raises(Invalid) as missing:
        validate_deadlines(DUE | {Phase.PEER_REVIEW: None}, WITH_PEERS)
    assert missing.value.message == "Choose the peer review deadline (the last day of that phase)."
    with pytest.raises(Invalid) as refused:
        validate_deadlines(DUE | {Phase.MANAGER_REVIEW: date(2026, 3, 1)}, WITH_PEERS)
    assert refused.value.message == (
        "Each phase ends on or after the one before: the manager review deadline (1 March 2026) is before "
        "the peer review deadline (20 March 2026)."
    )


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 1), 3, date(2026, 4, 1)),
        (date(2026, 3, 31), 3, date(2026, 6, 30)),  # a month's last day stays the last day
        (date(2026, 6, 30), 3, date(2026, 9, 30)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 12, 31), 12, date(2027, 12, 31)),
    ],
)
def test_shifting_dates_by_months(day: date, months: int, expected: date) -> None:
    assert shift(day, months) == expected


def test_period_labels_and_the_next_cycles_name() -> None:
    assert period_label(date(2026, 1, 1), date(2026, 3, 31)) == "2026-Q1"
    assert period_label(date(2026, 7, 1), date(2026, 12, 31)) == "2026-H2"
    assert period_label(date(2026, 1, 1), date(2026, 12, 31)) == "2026"
    assert period_label(date(2026, 2, 1), date(2026, 4, 30)) == "1 February 2026 to 30 April 2026"
    assert next_name("2026-Q1 review", "2026-Q1", "2026-Q2") == "2026-Q2 review"
    assert next_name("Annual review", "2026", "2027") == "Annual review (2027)"


# --- scores, by hand ---------------------------------------------------------------------------------------


def test_the_final_score_is_the_weighted_mean_of_section_means() -> None:
    # Goals (weight 50): 4, 3, 3 → 10/3 = 3.333…; contribution 50 · 10/3 / 100 = 1.666… → 1.67
    # Competencies (30): 5, 4, 4 → 13/3 = 4.333… → 4.33; contribution 30 · 13/3 / 100 = 1.30
    # Questions (20): 3 → 3.00; contribution 20 · 3 / 100 = 0.60
    # Final: (50 · 10/3 + 30 · 13/3 + 20 · 3) / 100 = (166.67 + 130 + 60) / 100 = 3.5666… → 3.57
    final, parts = breakdown(
        [
            SectionRatings(1, "Goals", 50, (4, 3, 3)),
            SectionRatings(2, "Competencies", 30, (5, 4, 4)),
            SectionRatings(3, "Overall", 20, (3,)),
        ]
    )
    assert final == Decimal("3.57")
    assert [(p.title, p.weight, p.score, p.contribution) for p in parts] == [
        ("Goals", Decimal(50), Decimal("3.33"), Decimal("1.67")),
        ("Competencies", Decimal(30), Decimal("4.33"), Decimal("1.30")),
        ("Overall", Decimal(20), Decimal("3.00"), Decimal("0.60")),
    ]


def test_sections_without_ratings_or_weight_do_not_count() -> None:
    # Goals has no ratings (no goals in the period) and "Working together" weighs 0: the final score is over
    # competencies (weight 3) and questions (weight 1) alone: (3 · 4.5 + 1 · 2) / 4 = 15.5 / 4 = 3.875 → 3.88.
    final, parts = breakdown(
        [
            SectionRatings(1, "Goals", 5, ()),
            SectionRatings(2, "Competencies", 3, (5, 4)),
            SectionRatings(3, "Overall", 1, (2,)),
            SectionRatings(4, "Working together", 0, (1, 1)),
        ]
    )
    assert final == Decimal("3.88")
    assert [(p.score, p.contribution) for p in parts] == [
        (None, Decimal("0.00")),
        (Decimal("4.50"), Decimal("3.38")),  # 3 · 4.5 / 4 = 3.375 → 3.38 (half up)
        (Decimal("2.00"), Decimal("0.50")),
        (Decimal("1.00"), Decimal("0.00")),
    ]
    assert breakdown([SectionRatings(1, "Goals", 1, ())])[0] is None


def test_fractional_weights_are_exact() -> None:
    # (0.1 · 5 + 0.2 · 2) / 0.3 = 0.9 / 0.3 = 3 exactly (floats would give 2.9999…).
    final, _ = breakdown([SectionRatings(1, "A", 0.1, (5,)), SectionRatings(2, "B", 0.2, (2,))])
    assert final == Decimal("3.00")


@pytest.mark.parametrize(
    ("score", "expected"),
    [(None, None), ("1.00", 1), ("2.49", 2), ("2.50", 3), ("4.99", 5), ("5.00", 5)],
)
def test_a_score_rounds_half_up_to_a_point_of_the_scale(score: str | None, expected: int | None) -> None:
    assert band(None if score is None else Decimal(score), 5) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "“abc” is not a score: type a number from 1 to 5."),
        ("0.5", "A score is between 1 and 5, not 0.5."),
        ("6", "A score is between 1 and 5, not 6."),
        ("3.333", "A score has at most 2 decimal places, not 3.333."),
        ("nan", "A score is between 1 and 5, not nan."),
    ],
)
def test_a_calibrated_score_is_a_number_on_the_scale(value: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        calibrated_score(value, 5)
    assert refused.value.message == message
    assert calibrated_score("3,5", 5) == Decimal("3.50")


# --- pooling and distributions ---------------------------------------------------------------------------


def answers(*ratings: int | None, texts: tuple[str, ...] = ()) -> list[AnswerView]:
    return [AnswerView(r, None, t) for r, t in zip(ratings, texts or (None,) * len(ratings), strict=True)]


def test_an_item_is_pooled_only_from_the_threshold_and_its_texts_are_sorted() -> None:
    assert ANONYMITY_THRESHOLD == 3
    below = pooled("q1", "Collaboration", ItemKind.RATING, answers(4, 2, None), ())
    assert (below.count, below.shown, below.mean, below.texts) == (2, False, None, ())
    at = pooled("q1", "Collaboration", ItemKind.RATING, answers(4, 2, 5, texts=("zeal", "Calm", "apt")), ())
    # (4 + 2 + 5) / 3 = 3.666… → 3.67; texts by their text, not by who wrote first
    assert (at.count, at.shown, at.mean, at.texts) == (3, True, Decimal("3.67"), ("Calm", "apt", "zeal"))
    chose = pooled(
        "q3", "Ready?", ItemKind.CHOICE, [AnswerView(None, c, None) for c in "aba"], ("a", "b", "c")
    )
    assert chose.choices == (("a", 2), ("b", 1), ("c", 0))


def test_distribution_and_the_advisory_guideline() -> None:
    counts = distribution("Everyone", [3, 3, 4, None, 1], 5)
    assert (counts.counts, counts.unscored, counts.scored) == ((1, 0, 2, 1, 0), 1, 4)
    small = guideline((10, 20, 40, 20, 10), scored=4)
    assert small is not None and small.applies is False and small.expected == (0.4, 0.8, 1.6, 0.8, 0.4)
    large = guideline((10, 20, 40, 20, 10), scored=30)
    assert large is not None and large.applies is True and large.expected == (3.0, 6.0, 12.0, 6.0, 3.0)
    assert guideline(None, scored=30) is None


@pytest.mark.parametrize(
    ("percentages", "message"),
    [
        ((50, 50), "The guideline needs one percentage per point of the scale: 5 of them."),
        ((10, 20, 40, 20, 20), "The guideline's percentages add up to 110: they must add up to 100."),
        (
            (10, 20, 40, 20, 10.0),
            "Each percentage of the guideline is a whole number from 0 to 100, not 10.0.",
        ),
        ((110, -10, 0, 0, 0), "Each percentage of the guideline is a whole number from 0 to 100, not 110."),
    ],
)
def test_a_guideline_has_one_whole_percentage_per_point_adding_up_to_100(percentages, message) -> None:
    with pytest.raises(Invalid) as refused:
        validate_guideline(list(percentages), 5)
    assert refused.value.message == message


def test_the_views_cards_import_bring_no_store_with_them() -> None:
    code = (
        "import sys, domain.performance.review_views;"
        "bad = sorted({m.split('.')[0] for m in sys.modules} &"
        " {'sqlalchemy', 'storage', 'aiohttp', 'botbuilder'});"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""

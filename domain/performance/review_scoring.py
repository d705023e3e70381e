"""Review scores and pooled answers: pure maths, no store (PRODUCT.md, Definitions, Review score).

The final score comes from the manager review's ratings only. A section's score is the mean of its
ratings (a goals section: one rating per goal; competencies: one per competency; questions: the rating
questions); the final score is Σ(weight · section score) / Σ weight over the sections that have ratings and
a weight above 0. Self, peer and upward ratings are shown beside it, never scored.

Everything is computed exactly in Decimal from the whole-point ratings, then each number shown (section
score, contribution, final) is rounded to 2 places, half up, on its own: the rounded contributions may
differ from the rounded final by 0.01.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import Invalid
from domain.performance.review_views import (
    ANONYMITY_THRESHOLD,
    GUIDELINE_MIN_PEOPLE,
    AnswerView,
    Distribution,
    GuidelineView,
    ItemAggregate,
    ItemKind,
    SectionScore,
)

CENT = Decimal("0.01")


@dataclass(frozen=True)
class SectionRatings:
    """The ratings one review gave in one section, with the section's weight."""

    section_id: int
    title: str
    weight: float
    ratings: tuple[int, ...]


def rounded(value: Decimal) -> Decimal:
    """To 2 places, half up: how every score is shown and stored."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def decimal(value: float | None) -> Decimal | None:
    """A stored score (a float of 2 places) back as the Decimal it was."""
    return None if value is None else rounded(Decimal(str(value)))


def breakdown(sections: Sequence[SectionRatings]) -> tuple[Decimal | None, tuple[SectionScore, ...]]:
    """The final score (None without any weighted rating) and each section's part of it."""
    means = {s.section_id: Decimal(sum(s.ratings)) / len(s.ratings) for s in sections if s.ratings}
    weights = {s.section_id: Decimal(str(s.weight)) for s in sections}
    scored = [s.section_id for s in sections if s.section_id in means and weights[s.section_id] > 0]
    total = sum((weights[sid] for sid in scored), Decimal(0))
    parts = []
    for s in sections:
        mean = means.get(s.section_id)
        share = weights[s.section_id] * mean / total if s.section_id in scored and mean is not None else None
        parts.append(
            SectionScore(
                section_id=s.section_id,
                title=s.title,
                weight=weights[s.section_id],
                score=None if mean is None else rounded(mean),
                ratings=len(s.ratings),
                contribution=rounded(share) if share is not None else Decimal("0.00"),
            )
        )
    final = sum((weights[sid] * means[sid] for sid in scored), Decimal(0)) / total if scored else None
    return (None if final is None else rounded(final)), tuple(parts)


def band(score: Decimal | None, points: int) -> int | None:
    """The point of the scale a score rounds to (half up), within 1..points."""
    if score is None:
        return None
    return max(1, min(points, int(score.quantize(Decimal(1), rounding=ROUND_HALF_UP))))


def calibrated_score(value: object, points: int) -> Decimal:
    """A score typed in calibration: a number on the scale, at most 2 places."""
    try:
        score = Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        raise Invalid(f"“{value}” is not a score: type a number from 1 to {points}.") from None
    if not score.is_finite() or not 1 <= score <= points:
        raise Invalid(f"A score is between 1 and {points}, not {value}.")
    if score != rounded(score):
        raise Invalid(f"A score has at most 2 decimal places, not {value}.")
    return rounded(score)


def pooled(
    key: str, text: str, kind: ItemKind, answers: Sequence[AnswerView], choices: Sequence[str]
) -> ItemAggregate:
    """One item's answers pooled. Withheld below ANONYMITY_THRESHOLD answers: only the count shows."""
    given = [a for a in answers if not a.empty]
    shown = len(given) >= ANONYMITY_THRESHOLD
    ratings = [a.rating for a in given if a.rating is not None]
    counts = {c: 0 for c in choices}
    for a in given:
        if a.choice is not None:
            counts[a.choice] = counts.get(a.choice, 0) + 1
    return ItemAggregate(
        key=key,
        text=text,
        kind=kind,
        count=len(given),
        shown=shown,
        mean=rounded(Decimal(sum(ratings)) / len(ratings)) if shown and ratings else None,
        texts=tuple(sorted(a.text for a in given if a.text)) if shown else (),
        choices=tuple(counts.items()) if shown else (),
    )


def distribution(label: str, bands: Sequence[int | None], points: int) -> Distribution:
    """How many of these people got each point of the scale."""
    counts = [0] * points
    for b in bands:
        if b is not None:
            counts[b - 1] += 1
    return Distribution(label=label, counts=tuple(counts), unscored=sum(1 for b in bands if b is None))


def guideline(percentages: Sequence[int] | None, scored: int) -> GuidelineView | None:
    """The advisory guideline for this many scored people, or None when the cycle has none."""
    if not percentages:
        return None
    return GuidelineView(
        percentages=tuple(percentages),
        expected=tuple(round(p * scored / 100, 1) for p in percentages),
        applies=scored >= GUIDELINE_MIN_PEOPLE,
    )


def validate_guideline(percentages: Sequence[object], points: int) -> tuple[int, ...]:
    """A guideline: one whole percentage per point of the scale, adding up to 100."""
    if len(percentages) != points:
        raise Invalid(f"The guideline needs one percentage per point of the scale: {points} of them.")
    values = []
    for p in percentages:
        if isinstance(p, bool) or not isinstance(p, int) or not 0 <= p <= 100:
            raise Invalid(f"Each percentage of the guideline is a whole number from 0 to 100, not {p}.")
        values.append(p)
    if sum(values) != 100:
        raise Invalid(f"The guideline's percentages add up to {sum(values)}: they must add up to 100.")
    return tuple(values)

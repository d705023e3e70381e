"""What the talent review services return: plain frozen dataclasses and the labels the pages show.

The 9-box has performance on x (1 low → 3 high, from the closed cycle's score) and potential on y (1 low →
3 high, from ability + aspiration + engagement). Cells are listed the way the picture reads: the high
potential row first, low performance first in each row (PRODUCT.md), so cell i is potential 3 - i // 3
and performance 1 + i % 3. Their names are configurable per review (box_labels).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

NAME_MAX = 200
NOTES_MAX = 4000
REASON_MAX = 2000
BOX_LABEL_MAX = 60
LEVELS = (1, 2, 3)
LEVEL_LABELS = {1: "Low", 2: "Medium", 3: "High"}
# PRODUCT.md's cell names, high potential row first, low performance first.
DEFAULT_BOX_LABELS = (
    "Enigma",
    "Growth",
    "Star",
    "Dilemma",
    "Core",
    "High impact",
    "Underperformer",
    "Effective",
    "Trusted pro",
)


class TalentReviewStatus(StrEnum):
    RATING = "rating"  # managers rate potential, risk and impact of loss
    CALIBRATION = "calibration"  # talent reviewers move people between boxes, with a reason
    FINALIZED = "finalized"  # locked


STATUS_LABELS = {
    TalentReviewStatus.RATING: "rating",
    TalentReviewStatus.CALIBRATION: "calibration",
    TalentReviewStatus.FINALIZED: "finalized",
}

# The rating inputs in form order, with the words the pages and the refusals use for them.
RATING_INPUTS = (
    ("ability", "Ability"),
    ("aspiration", "Aspiration"),
    ("engagement", "Engagement"),
    ("risk_of_loss", "Risk of loss"),
    ("impact_of_loss", "Impact of loss"),
)


def box_index(performance: int, potential: int) -> int:
    """Where the cell (performance, potential) is in the nine, high potential row first."""
    return (3 - potential) * 3 + (performance - 1)


def box_label(labels: tuple[str, ...], performance: int | None, potential: int | None) -> str | None:
    """The cell's name, or None when a person is not placed (an axis is missing)."""
    if performance is None or potential is None:
        return None
    return labels[box_index(performance, potential)]


@dataclass(frozen=True)
class ClosedCycle:
    """A closed performance cycle a talent review can read, with its rating scale."""

    id: int
    name: str
    scale: tuple[str, ...]


@dataclass(frozen=True)
class TalentReviewSummary:
    """A talent review in a list: where it stands and what the reader may do with it."""

    id: int
    name: str
    cycle_id: int
    cycle_name: str
    status: TalentReviewStatus
    opened_to_managers: bool
    created_at: datetime
    finalized_at: datetime | None
    people: int  # everyone in the review
    to_rate: int  # the people the reader may rate
    rated: int  # of those, how many are rated
    may_view_grid: bool  # the 9-box (HR, talent reviewers, managers once HR opened it)
    may_manage: bool  # start calibration, finalize, open to managers (HR)
    already_submitted: bool = False


@dataclass(frozen=True)
class TalentReviewList:
    """The talent reviews the reader takes part in, newest first; HR also gets the closed cycles to open
    a review on."""

    reviews: tuple[TalentReviewSummary, ...]
    may_open: bool
    closed_cycles: tuple[ClosedCycle, ...]


@dataclass(frozen=True)
class NineBoxPerson:
    """Someone on the 9-box (a chip): who they are and the inputs behind their place."""

    person_id: int
    name: str
    job_title: str | None
    department: str | None
    performance_score: Decimal | None
    performance: int | None
    potential: int | None
    ability: int | None
    aspiration: int | None
    engagement: int | None
    high_potential: bool
    risk_of_loss: int | None
    impact_of_loss: int | None
    movable: bool  # the reader may move them now (calibration, and in their scope)


@dataclass(frozen=True)
class NineBoxCell:
    """One of the nine cells: its axes, name, how many people are in it and (by name) who, or the first
    of them when the read was limited."""

    performance: int
    potential: int
    label: str
    count: int
    people: tuple[NineBoxPerson, ...]

    @property
    def key(self) -> str:
        """performance-potential, as the move forms post it."""
        return f"{self.performance}-{self.potential}"

    @property
    def more(self) -> int:
        """How many people in the cell are not in `people` (a limited read)."""
        return self.count - len(self.people)


@dataclass(frozen=True)
class MoveView:
    """A calibration move: who moved whom, when, from which cell to which, and why."""

    id: int
    person_id: int
    person_name: str
    by_name: str
    at: datetime
    from_performance: int | None
    from_potential: int | None
    from_label: str | None  # None: the person was not placed before
    to_performance: int
    to_potential: int
    to_label: str
    reason: str
    already_submitted: bool = False


@dataclass(frozen=True)
class NineBoxView:
    """A talent review's 9-box as far as the reader may see it (never their own place)."""

    talent_review_id: int
    name: str
    cycle_id: int
    cycle_name: str
    status: TalentReviewStatus
    opened_to_managers: bool
    scale: tuple[str, ...]
    medium_from: Decimal
    high_from: Decimal
    labels: tuple[str, ...]
    cells: tuple[NineBoxCell, ...]  # nine, high potential row first, low performance first
    unplaced_count: int  # a performance score or potential rating is missing
    unplaced: tuple[NineBoxPerson, ...]  # them (the first of them when the read was limited)
    high_potentials: int
    moves: tuple[MoveView, ...]  # newest first
    departments: tuple[str, ...]  # of everyone the reader sees, for the filter
    department: str | None  # the filter applied, if any
    may_move: bool  # the reader may move someone now
    may_manage: bool  # HR
    may_rate: bool  # the reader has someone to rate in this review, and it is in rating

    @property
    def placed(self) -> int:
        return sum(cell.count for cell in self.cells)

    @property
    def total(self) -> int:
        return self.placed + self.unplaced_count

    @property
    def people(self) -> tuple[NineBoxPerson, ...]:
        """Everyone in the view (as far as it was read), cells first."""
        return tuple(p for cell in self.cells for p in cell.people) + self.unplaced


@dataclass(frozen=True)
class RatingRow:
    """One person the reader may rate, with the current inputs and the version to send back."""

    person_id: int
    name: str
    job_title: str | None
    department: str | None
    manager_name: str | None
    performance_score: Decimal | None
    performance: int | None
    ability: int | None
    aspiration: int | None
    engagement: int | None
    potential: int | None
    risk_of_loss: int | None
    impact_of_loss: int | None
    high_potential: bool
    # The flag differs from what the inputs give (potential high, performance medium or high): someone set
    # it by hand.
    high_potential_overridden: bool
    notes: str | None
    rated_by_name: str | None
    rated_at: datetime | None
    version: int
    already_submitted: bool = False

    @property
    def rated(self) -> bool:
        return self.rated_at is not None


@dataclass(frozen=True)
class RatingSheet:
    """The people the reader may rate in a talent review (their line, or their scope), by name: `rows` is
    one page of them (all unless the read asked for a page)."""

    talent_review_id: int
    name: str
    cycle_name: str
    status: TalentReviewStatus
    editable: bool  # the review is in rating
    may_view_grid: bool
    rows: tuple[RatingRow, ...]
    total: int  # everyone the reader may rate (in `department` when filtered)
    rated: int  # of them, how many are rated
    offset: int  # where `rows` starts among them
    departments: tuple[str, ...]  # of everyone the reader may rate, for the filter
    department: str | None

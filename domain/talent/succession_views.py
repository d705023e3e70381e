"""What the succession services return: the board, one position's slate, talent pools and position fills,
as plain frozen objects the tabs (and, one day, cards) render. Pure data: no store, no transport."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from domain.errors import Invalid

if TYPE_CHECKING:
    from domain.metrics import BenchStrength

READY_NOW = "ready_now"
ONE_TWO_YEARS = "1_2_years"
THREE_FIVE_YEARS = "3_5_years"
# Nearest first: slates are ordered this way, then by name.
READINESS = (READY_NOW, ONE_TWO_YEARS, THREE_FIVE_YEARS)
READINESS_LABELS = {
    READY_NOW: "Ready now",
    ONE_TWO_YEARS: "Ready in 1\u20132 years",
    THREE_FIVE_YEARS: "Ready in 3\u20135 years",
}
# Months to ready each readiness allows (inclusive). No category covers "under a year", and "two years"
# lasts until the third begins, so 1-2 years takes 1 to 35 months; 3-5 years is 36 to 60. Ready now is 0.
MONTHS_RANGE = {READY_NOW: (0, 0), ONE_TWO_YEARS: (1, 35), THREE_FIVE_YEARS: (36, 60)}

INTERNAL = "internal"
EXTERNAL = "external"
SOURCES = (INTERNAL, EXTERNAL)
SOURCE_LABELS = {INTERNAL: "Internal", EXTERNAL: "External hire"}
# An external fill is someone hired for the position: hired no more than this many days before it.
EXTERNAL_HIRE_WINDOW_DAYS = 90

# Risk and impact of loss, 1 to 3 (storage/models.py: talent review axes).
LEVEL_LABELS = {1: "Low", 2: "Medium", 3: "High"}
LEVELS = (1, 2, 3)

NOTES_MAX = 2000
POOL_NAME_MAX = 200
POOL_DESCRIPTION_MAX = 2000


class FieldInvalid(Invalid):
    """Invalid input in one argument of a service (`field` is the argument's name), so a form can show
    the sentence next to the box it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PersonRef:
    """Someone as a slate or a card names them (directory data)."""

    id: int
    name: str
    title: str | None
    department: str | None
    active: bool = True


@dataclass(frozen=True)
class SuccessorView:
    """One person on a position's slate."""

    person: PersonRef
    readiness: str
    months_to_ready: int | None
    emergency: bool
    notes: str | None

    @property
    def readiness_label(self) -> str:
        return READINESS_LABELS[self.readiness]


@dataclass(frozen=True)
class RiskImpact:
    """The incumbent's risk of loss and impact of loss (1 low .. 3 high), from their latest talent review."""

    risk: int
    impact: int

    @property
    def risk_label(self) -> str:
        return LEVEL_LABELS[self.risk]

    @property
    def impact_label(self) -> str:
        return LEVEL_LABELS[self.impact]


@dataclass(frozen=True)
class PositionCard:
    """A critical position on the board: its incumbent, their risk x impact and its slate."""

    position_id: int
    title: str
    department: str | None
    critical: bool
    incumbent: PersonRef | None
    # None when not rated, or when the incumbent is the viewer (nobody sees their own).
    risk_impact: RiskImpact | None
    successors: tuple[SuccessorView, ...]

    @property
    def no_successor(self) -> bool:
        return not self.successors

    @property
    def no_ready_now(self) -> bool:
        return not any(s.readiness == READY_NOW for s in self.successors)

    @property
    def emergency(self) -> SuccessorView | None:
        return next((s for s in self.successors if s.emergency), None)


@dataclass(frozen=True)
class IncumbentHeatMap:
    """The active incumbents of the board's positions by risk of loss x impact of loss (each 1..3), each
    counted once; `unrated` lack a rating (or one the viewer may see). The viewer is never counted."""

    counts: tuple[tuple[int, ...], ...]  # counts[impact - 1][risk - 1]
    unrated: int

    def count(self, *, risk: int, impact: int) -> int:
        return self.counts[impact - 1][risk - 1]

    @property
    def rated(self) -> int:
        return sum(sum(row) for row in self.counts)


@dataclass(frozen=True)
class BoardView:
    """The succession board: bench figures, the retention heat map and one card per critical position."""

    department: str | None  # the filter chosen, None for every department in scope
    departments: tuple[str, ...]  # the filter's choices
    bench: BenchStrength
    heat_map: IncumbentHeatMap
    cards: tuple[PositionCard, ...]


@dataclass(frozen=True)
class FillView:
    """How a position was filled."""

    id: int
    position_id: int
    position_title: str
    department: str | None
    person: PersonRef
    previous_incumbent: PersonRef | None
    filled_on: date
    source: str
    from_slate: bool
    recorded_by: str | None
    recorded_at: datetime

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class SlateView:
    """One position in full, for its edit page: the card, and how it was filled before."""

    card: PositionCard
    fills: tuple[FillView, ...]


@dataclass(frozen=True)
class PositionSummary:
    """A position in a list (to pick one to mark critical)."""

    position_id: int
    title: str
    department: str | None
    critical: bool
    incumbent: PersonRef | None


@dataclass(frozen=True)
class PoolView:
    """A talent pool and the members the viewer may see."""

    id: int
    name: str
    description: str | None
    members: tuple[PersonRef, ...]

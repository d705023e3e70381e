"""What the competency framework services return and take: plain frozen dataclasses, no store.

A competency has 2 to 10 levels, each with a description (level n is levels[n - 1]). A role profile expects
competencies at levels, with weights. A gap compares a person's latest assessed level with the level a
role expects; readiness for a role is the weighted share of its expectations met (PRODUCT.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

LEVELS_MIN = 2
LEVELS_MAX = 10
NAME_MAX = 200
CATEGORY_MAX = 64
LEVEL_TEXT_MAX = 500
DESCRIPTION_MAX = 4000
NOTE_MAX = 2000
JOB_TITLE_MAX = 200
REQUIREMENTS_MAX = 40
WEIGHT_MAX = 100


class AssessmentSource(StrEnum):
    REVIEW = "review"  # a released performance review's competency rating
    MANAGER = "manager"  # recorded by the manager line or HR on its own


class StepKind(StrEnum):
    LADDER = "ladder"  # a move up
    LATERAL = "lateral"  # a move across


STEP_KIND_LABELS = {StepKind.LADDER: "Next step up", StepKind.LATERAL: "Lateral move"}
SOURCE_LABELS = {AssessmentSource.REVIEW: "Performance review", AssessmentSource.MANAGER: "Assessment"}


@dataclass(frozen=True)
class CompetencyView:
    """A competency of the framework, with its level descriptions, lowest first."""

    id: int
    name: str
    category: str
    description: str | None
    levels: tuple[str, ...]
    active: bool

    def level_label(self, level: int) -> str:
        """How level n reads: "3 · Leads others"."""
        return f"{level} · {self.levels[level - 1]}" if 1 <= level <= len(self.levels) else str(level)


@dataclass(frozen=True)
class CategoryView:
    """The competencies of one category, by name."""

    category: str
    competencies: tuple[CompetencyView, ...]


@dataclass(frozen=True)
class RequirementInput:
    """One competency a role profile expects, at a level, with a weight (default 1)."""

    competency_id: int
    expected_level: int
    weight: float = 1


@dataclass(frozen=True)
class RequirementView:
    """A role profile's expectation on one competency."""

    competency_id: int
    competency_name: str
    category: str
    expected_level: int
    expected_label: str  # the level's description
    weight: float
    active: bool  # a retired competency's requirement is kept but left out of gaps


@dataclass(frozen=True)
class RoleProfileView:
    """A role: what it expects, and the job title (casefolded) that maps people to it."""

    id: int
    name: str
    description: str | None
    job_title_key: str | None
    requirements: tuple[RequirementView, ...]


@dataclass(frozen=True)
class CareerStepView:
    """A next role from a role profile."""

    from_profile_id: int
    from_name: str
    to_profile_id: int
    to_name: str
    kind: StepKind


@dataclass(frozen=True)
class FrameworkView:
    """The whole framework: competencies by category, role profiles, career steps."""

    categories: tuple[CategoryView, ...]
    profiles: tuple[RoleProfileView, ...]
    steps: tuple[CareerStepView, ...]
    may_edit: bool

    @property
    def competencies(self) -> tuple[CompetencyView, ...]:
        return tuple(c for group in self.categories for c in group.competencies)


@dataclass(frozen=True)
class AssessmentView:
    """One assessed level of a person on a competency, on a day."""

    id: int
    person_id: int
    competency_id: int
    competency_name: str
    level: int
    level_label: str  # the level's description
    levels: int  # how many levels the competency has
    source: AssessmentSource
    assessed_on: date
    assessed_by_id: int | None
    assessed_by_name: str | None
    note: str | None
    review_cycle_name: str | None = None  # the review it came from
    already_submitted: bool = False  # a second submit of the same form: nothing was written


@dataclass(frozen=True)
class GapLine:
    """One expectation of a role against the person's latest assessed level."""

    competency_id: int
    competency_name: str
    category: str
    expected_level: int
    expected_label: str
    weight: float
    levels: int
    assessed_level: int | None  # None: never assessed
    assessed_label: str | None
    assessed_on: date | None

    @property
    def gap(self) -> int | None:
        """Levels short of the expectation (0 when met or exceeded); None when never assessed."""
        if self.assessed_level is None:
            return None
        return max(self.expected_level - self.assessed_level, 0)

    @property
    def met(self) -> bool:
        return self.gap == 0


@dataclass(frozen=True)
class GapView:
    """A person against a role profile: each expectation, and the weighted readiness for the role."""

    person_id: int
    person_name: str
    role_profile_id: int | None  # None: the person has no current role profile
    role_profile_name: str | None
    current: bool  # the person's own role, not a target
    lines: tuple[GapLine, ...]
    # Σ weight · min(assessed / expected, 1) / Σ weight, in percent to one place (never assessed counts 0);
    # None when the role expects nothing.
    readiness: Decimal | None

    @property
    def open_gaps(self) -> int:
        return sum(1 for line in self.lines if line.gap)

    @property
    def not_assessed(self) -> int:
        return sum(1 for line in self.lines if line.assessed_level is None)


@dataclass(frozen=True)
class CareerOption:
    """A next role for a person: how they would move, and their gap to it."""

    kind: StepKind
    role_profile_id: int
    name: str
    gap: GapView


@dataclass(frozen=True)
class CareerPathView:
    """A person's current role and each next role from it, ladder first, the readiest first."""

    person_id: int
    person_name: str
    current: GapView | None  # None: no current role profile (so no next roles either)
    options: tuple[CareerOption, ...]


@dataclass(frozen=True)
class AssessmentFormView:
    """What the assessment form offers someone allowed to record one: the active competencies."""

    person_id: int
    person_name: str
    competencies: tuple[CompetencyView, ...]

"""What goals look like to the transports: owners, choices and read-only views (pure data, no store).

Cards and tab templates import these; the services in goals.py build them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.performance.goal_progress import Metric, Period, Status

# What the transports call the company as a goal owner.
COMPANY_LABEL = "Company"


class OwnerType(StrEnum):
    PERSON = "person"
    DEPARTMENT = "department"
    COMPANY = "company"


class Visibility(StrEnum):
    PUBLIC = "public"
    TEAM = "team"
    PRIVATE = "private"


class Kind(StrEnum):
    BUSINESS = "business"
    DEVELOPMENT = "development"


@dataclass(frozen=True)
class Owner:
    """Whose goal it is: a person, a department (team goal) or the company."""

    type: OwnerType
    person_id: int | None = None
    department: str | None = None

    @classmethod
    def person(cls, person_id: int) -> Owner:
        return cls(OwnerType.PERSON, person_id=person_id)

    @classmethod
    def team(cls, department: str) -> Owner:
        return cls(OwnerType.DEPARTMENT, department=department)

    @classmethod
    def company(cls) -> Owner:
        return cls(OwnerType.COMPANY)


@dataclass(frozen=True)
class KeyResultInput:
    """A key result as a person defines it; `current` defaults to `start`."""

    title: str
    target: float
    start: float = 0.0
    metric: Metric | str = Metric.NUMBER
    unit: str | None = None
    current: float | None = None
    weight: float = 1.0


# --- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyResultView:
    id: int
    title: str
    metric: str
    unit: str | None
    start: float
    target: float
    current: float
    weight: float
    progress: float  # 0..1
    version: int


@dataclass(frozen=True)
class GoalView:
    id: int
    title: str
    description: str | None
    owner_type: str
    owner_person_id: int | None
    owner_label: str
    period: Period
    visibility: str
    kind: str
    weight: float
    parent_id: int | None
    progress: float  # 0..1, rolled up over key results and aligned child goals
    status: Status
    closed_at: datetime | None
    final_score: float | None
    key_results: tuple[KeyResultView, ...]
    children: tuple[GoalView, ...]  # aligned goals the actor may see (progress counts them all)


@dataclass(frozen=True)
class TemplateView:
    id: int
    title: str
    description: str | None
    visibility: str
    kind: str
    key_results: tuple[KeyResultInput, ...]


@dataclass(frozen=True)
class AssignmentReport:
    """What assign_template did for each person: created, already had it, or skipped with the reason."""

    created: dict[int, int] = field(default_factory=dict)  # person id → new goal id
    already_assigned: dict[int, int] = field(default_factory=dict)  # person id → existing goal id
    skipped: dict[int, str] = field(default_factory=dict)  # person id → why

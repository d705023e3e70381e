"""What performance improvement plans look like to the transports: choices and inputs in, read-only views
out (pure data: no store, no SQLAlchemy, so the cards may import it).

The services in improvement_plans.py build these, each for one viewer. A draft is never built for the
employee it is about; the nudge engine gets DueCheckpoint rows from improvement_plans.due_checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

# --- limits a person may type (the cards set the same ones) ----------------------------------------------

GAP_MAX = 4000
EXAMPLE_MAX = 2000
EXAMPLES_MAX = 20
GOAL_TEXT_MAX = 500
MEASURE_MAX = 500
GOALS_MAX = 10
SUPPORT_ITEM_MAX = 500
SUPPORT_MAX = 10
NOTES_MAX = 4000  # a checkpoint's notes, an outcome's note
COMMENT_MAX = 2000  # the employee's comment when acknowledging
CHECKPOINTS_MAX = 12

# Checkpoints fall this many days after the start date unless the plan names its own dates.
DEFAULT_CHECKPOINT_DAYS = (30, 60, 90)
# An extension without dates of its own gets a checkpoint every this many days, and one on its end date.
EXTENSION_STEP_DAYS = 30
# A plan (its last checkpoint, extensions included) ends at most this long after its start.
PLAN_MAX_DAYS = 365
# The nudge engine reminds the manager this many days before a checkpoint is due, and after.
REMIND_BEFORE_DAYS = 2


class PlanStatus(StrEnum):
    DRAFT = "draft"  # written by the manager line or HR; the employee doesn't see it
    ACTIVE = "active"  # shared with the employee, running from its start date
    CLOSED = "closed"  # ended with an outcome


class Outcome(StrEnum):
    OPEN = "open"  # no decision yet
    EXTENDED = "extended"  # still active, with a later end date and more checkpoints
    SUCCESSFUL = "successful"
    UNSUCCESSFUL = "unsuccessful"
    CANCELLED = "cancelled"


# The outcomes that close a plan; EXTENDED keeps it active.
CLOSING_OUTCOMES = frozenset({Outcome.SUCCESSFUL, Outcome.UNSUCCESSFUL, Outcome.CANCELLED})
# The outcomes a person may record (OPEN is where every plan starts).
DECISIONS = (Outcome.SUCCESSFUL, Outcome.EXTENDED, Outcome.UNSUCCESSFUL, Outcome.CANCELLED)
# Closing on the merits needs every checkpoint recorded; cancelling (the person moved, left) does not.
NEEDS_ALL_CHECKPOINTS = frozenset({Outcome.SUCCESSFUL, Outcome.UNSUCCESSFUL})


class CheckpointStatus(StrEnum):
    PENDING = "pending"
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


# Labels the transports show (in sentences too); configurable by replacing them at start-up.
STATUS_LABELS = {PlanStatus.DRAFT: "draft", PlanStatus.ACTIVE: "active", PlanStatus.CLOSED: "closed"}
OUTCOME_LABELS = {
    Outcome.OPEN: "open",
    Outcome.EXTENDED: "extended",
    Outcome.SUCCESSFUL: "successful",
    Outcome.UNSUCCESSFUL: "unsuccessful",
    Outcome.CANCELLED: "cancelled",
}
CHECKPOINT_LABELS = {
    CheckpointStatus.PENDING: "pending",
    CheckpointStatus.MET: "met",
    CheckpointStatus.PARTLY_MET: "partly met",
    CheckpointStatus.NOT_MET: "not met",
}


# --- what a person sends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleInput:
    """A dated example of the gap: something that happened."""

    happened_on: date | None
    text: str


@dataclass(frozen=True)
class GoalInput:
    """A measurable goal of the plan: what must change, how it is measured (the target), and optionally
    the employee's existing goal it refers to (domain/performance/goals)."""

    text: str
    measure: str
    goal_id: int | None = None


# --- views -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleView:
    id: int
    happened_on: date
    text: str


@dataclass(frozen=True)
class PlanGoalView:
    id: int
    text: str
    measure: str
    goal_id: int | None  # None when not linked, or the linked goal was deleted
    goal_title: str | None


@dataclass(frozen=True)
class CheckpointView:
    id: int
    position: int  # 1 for the first checkpoint, extensions continue the count
    due_on: date
    days_from_start: int  # 30, 60, 90 by default: "the 30-day checkpoint"
    status: CheckpointStatus
    notes: str | None
    recorded_by_id: int | None
    recorded_by_name: str | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class DecisionView:
    """An outcome someone recorded: an extension (the plan went on) or the closing one."""

    outcome: Outcome
    note: str
    by_id: int | None
    by_name: str | None
    at: datetime
    previous_end_date: date
    new_end_date: date | None  # an extension's


@dataclass(frozen=True)
class ImprovementPlanView:
    """One plan as one viewer may see it."""

    id: int
    employee_id: int
    employee_name: str
    created_by_id: int | None
    created_by_name: str | None
    status: PlanStatus
    outcome: Outcome
    gap: str
    examples: tuple[ExampleView, ...]  # oldest first
    goals: tuple[PlanGoalView, ...]
    checkpoints: tuple[CheckpointView, ...]  # earliest first
    support: tuple[str, ...]
    start_date: date  # planned, while a draft
    end_date: date
    created_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    acknowledged_at: datetime | None
    acknowledgement_comment: str | None
    decisions: tuple[DecisionView, ...]  # oldest first
    can_manage: bool  # the viewer may record checkpoints and outcomes (not the employee)
    can_acknowledge: bool  # the viewer is the employee and hasn't acknowledged yet
    already_submitted: bool = False  # this answers a second submit: nothing was written

    @property
    def next_checkpoint(self) -> CheckpointView | None:
        """The earliest checkpoint still pending (checkpoints are recorded in order)."""
        return next((c for c in self.checkpoints if c.status is CheckpointStatus.PENDING), None)


@dataclass(frozen=True)
class DueCheckpoint:
    """A checkpoint the employee's manager should be reminded of (improvement_plans.due_checkpoints)."""

    plan_id: int
    checkpoint_id: int
    manager_id: int  # whom to remind: the employee's manager, or whoever opened the plan if none
    employee_id: int
    due_on: date
    overdue: bool  # due before today (UTC)

    @property
    def topic(self) -> str:
        """What the nudge is about, for nudges.one_per_day_key: one reminder per checkpoint per day."""
        return f"pip:{self.plan_id}:checkpoint:{self.checkpoint_id}"

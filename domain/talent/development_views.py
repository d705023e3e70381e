"""What development plans look like to the transports: choices, limits and read-only views (pure data).

Cards and tab templates import these; domain/talent/development.py builds them. Nothing here reads the
store, so adaptive_cards may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from domain.nudges import NudgeTime
from domain.performance.goal_progress import Status
from domain.performance.review_nudges import Delivery

TITLE_MAX = 200
DESCRIPTION_MAX = 4000
NOTE_MAX = 2000
# A development action looks two to five years ahead at most (PRODUCT.md: talent's horizon).
DUE_MAX_DAYS = 5 * 366
# Reminders start this many days before an action is due, and go on every day while it is overdue.
REMIND_WITHIN_DAYS = 7
# While an action is overdue: a reminder a week, for four weeks; then it is for the person and their
# manager to replan, not for the bot to nag.
OVERDUE_EVERY_DAYS = 7
OVERDUE_REMINDER_DAYS = 28
# The outbox kind of a reminder (its payload names the action).
KIND_REMINDER = "development.reminder"


class ActionKind(StrEnum):
    TRAINING = "training"
    MENTORING = "mentoring"
    STRETCH = "stretch"
    COURSE = "course"
    PROJECT = "project"


KIND_LABELS = {
    ActionKind.TRAINING: "Training",
    ActionKind.MENTORING: "Mentoring",
    ActionKind.STRETCH: "Stretch assignment",
    ActionKind.COURSE: "Course",
    ActionKind.PROJECT: "Project",
}


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


STATUS_LABELS = {
    ActionStatus.PLANNED: "Planned",
    ActionStatus.IN_PROGRESS: "In progress",
    ActionStatus.DONE: "Done",
    ActionStatus.CANCELLED: "Cancelled",
}
OPEN_STATUSES = frozenset({ActionStatus.PLANNED, ActionStatus.IN_PROGRESS})


class ActionSource(StrEnum):
    """What suggested an action: the person or their line by hand, a released review's gap, or a talent
    review's."""

    MANUAL = "manual"
    REVIEW = "review"
    TALENT_REVIEW = "talent_review"


# What a plan records as having started it, from the source of its first action.
PLAN_SOURCES = {
    ActionSource.MANUAL: "self",
    ActionSource.REVIEW: "review",
    ActionSource.TALENT_REVIEW: "talent_review",
}


@dataclass(frozen=True)
class CompetencyLink:
    """The competency an action develops, with where the person stands on it."""

    id: int
    name: str
    levels: tuple[str, ...]  # level n is described by levels[n - 1]
    assessed_level: int | None  # the person's latest assessed level
    assessed_on: date | None
    target_level: int | None  # the level the action aims at
    expected_level: int | None  # what the person's current role expects

    @property
    def aim(self) -> int | None:
        """The level the action works towards: its target, else the role's expectation."""
        return self.target_level if self.target_level is not None else self.expected_level

    @property
    def gap(self) -> int | None:
        """Levels still to go (0 once reached); None when there is nothing to compare."""
        if self.aim is None or self.assessed_level is None:
            return None
        return max(0, self.aim - self.assessed_level)

    def level_name(self, level: int | None) -> str:
        """How a level reads: "3 (Leads others)", or a dash."""
        if level is None:
            return "\u2013"
        if 1 <= level <= len(self.levels) and str(self.levels[level - 1]).strip():
            return f"{level} ({self.levels[level - 1]})"
        return str(level)


@dataclass(frozen=True)
class GoalLink:
    """The goal an action is linked to, as the goals module shows it."""

    id: int
    title: str
    kind: str  # business | development
    period_label: str
    progress: float  # 0..1, the goal's own rolled-up progress
    status: Status
    made_from_action: bool  # the development goal this action became (make_goal)


@dataclass(frozen=True)
class ActionView:
    """One action of a development plan."""

    id: int
    plan_id: int
    person_id: int
    kind: ActionKind
    title: str
    description: str | None
    due_on: date
    status: ActionStatus
    progress: int  # 0..100
    note: str | None
    source: ActionSource
    overdue: bool
    competency: CompetencyLink | None
    goal: GoalLink | None
    version: int
    created_at: datetime
    completed_at: datetime | None
    # A second submit of the same values: nothing was written.
    already_saved: bool = False

    @property
    def open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class PlanCounts:
    total: int = 0
    open: int = 0
    done: int = 0
    cancelled: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class PlanView:
    """Someone's development plan as the actor sees it; empty (plan_id None) until its first action."""

    person_id: int
    person_name: str
    plan_id: int | None
    source: str | None  # self | review | talent_review
    actions: tuple[ActionView, ...]  # open ones first, soonest due first
    counts: PlanCounts
    is_self: bool
    can_edit: bool

    @property
    def empty(self) -> bool:
        return not self.actions

    @property
    def progress(self) -> int | None:
        """The mean progress of the actions not cancelled, in percent; None when there are none."""
        counted = [a.progress for a in self.actions if a.status is not ActionStatus.CANCELLED]
        return round(sum(counted) / len(counted)) if counted else None


@dataclass(frozen=True)
class DueAction:
    """An open action to remind its person of (development.due_reminders)."""

    action_id: int
    person_id: int
    title: str
    kind: ActionKind
    due_on: date
    status: ActionStatus
    progress: int
    note: str | None
    version: int
    overdue: bool

    @property
    def topic(self) -> str:
        """What the reminder is about, for nudges.one_per_day_key."""
        return f"development:{self.action_id}"


@dataclass(frozen=True)
class ReminderNudge:
    """A planned reminder: the action, whom it goes to, when it may go and the outbox key it uses."""

    action: DueAction
    person_name: str
    when: NudgeTime
    key: str
    delivery: Delivery


@dataclass(frozen=True)
class CompetencyOption:
    """A competency an action can develop, for the add form."""

    id: int
    name: str
    category: str
    levels: int  # how many levels it has


@dataclass(frozen=True)
class GoalOption:
    """One of the person's open goals an action can serve, for the add form."""

    id: int
    title: str
    period_label: str
    kind: str


@dataclass(frozen=True)
class ActionOptions:
    """What the add form offers to link."""

    competencies: tuple[CompetencyOption, ...]
    goals: tuple[GoalOption, ...]


@dataclass(frozen=True)
class TeamMemberPlan:
    """A direct report's plan at a glance, for their manager's page."""

    person_id: int
    name: str
    open: int
    overdue: int
    progress: int | None  # mean progress of the actions not cancelled, in percent

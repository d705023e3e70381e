"""What check-ins look like to the transports: answers in, read-only views out (pure data, no store).

Cards and tab templates import these; the services in checkins.py build them. Days are dates in the
person's own time zone and weeks start on Monday (see checkins.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Labels the transports show; configurable by replacing them at start-up.
MOODS = {1: "Rough", 2: "Not great", 3: "Okay", 4: "Good", 5: "Great"}

# Lengths a person may type; the cards set the same limits as maxLength.
ANSWER_MAX = 2000  # wins, blockers, priorities
TALKING_POINT_MAX = 500
COMMENT_MAX = 1000

# Cards, reminders and digests go out from this hour of the recipient's own day, never in their night.
SEND_FROM = time(9)


def week_start(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())


def weekday_name(weekday: int) -> str:
    """Monday for 0 ... Sunday for 6."""
    return WEEKDAYS[weekday]


def week_label(monday: date) -> str:
    """“the week of 23 November 2026”, for headings and messages."""
    return f"the week of {monday.day} {monday:%B %Y}"


# --- what a person sends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyResultValue:
    """A new value for a key result, with the version the card showed (to detect a stale card)."""

    key_result_id: int
    value: float
    expected_version: int


@dataclass(frozen=True)
class CheckInAnswers:
    """A filled-in check-in card."""

    mood: int
    wins: str | None = None
    blockers: str | None = None
    priorities: str | None = None
    key_results: tuple[KeyResultValue, ...] = ()
    new_talking_point: str | None = None
    resolved_points: tuple[int, ...] = ()


# --- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyResultLine:
    """A key result of one of the person's active goals, as the check-in form offers it."""

    id: int
    goal_title: str
    title: str
    metric: str
    unit: str | None
    current: float
    target: float
    version: int


@dataclass(frozen=True)
class KeyResultChange:
    """A key result moved with a check-in."""

    title: str
    unit: str | None
    old: float
    new: float


@dataclass(frozen=True)
class TalkingPointView:
    id: int
    text: str
    raised_by: str  # a name, or "" when that person has left the directory
    raised_on: date


@dataclass(frozen=True)
class CommentView:
    id: int
    checkin_id: int
    person_id: int  # whose check-in it is: the person the reply goes to
    author: str
    text: str
    at: datetime
    week_start: date


@dataclass(frozen=True)
class CheckInView:
    """One person's check-in for one week, with what the form or the digest shows next to it."""

    id: int
    person_id: int
    person_name: str
    week_start: date
    due_on: date
    submitted_at: datetime | None
    mood: int | None
    wins: str | None
    blockers: str | None
    priorities: str | None
    changes: tuple[KeyResultChange, ...] = ()
    open_points: tuple[TalkingPointView, ...] = ()  # unresolved, carried over from earlier weeks too
    comments: tuple[CommentView, ...] = ()
    key_results: tuple[KeyResultLine, ...] = ()  # for the form: the person's active goals
    previous_priorities: str | None = None  # what they planned last week
    already_submitted: bool = False  # this answer is to a second submit: nothing was written

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True)
class DigestView:
    """A manager's view of their reports' check-ins for one week."""

    manager_id: int
    manager_name: str
    week_start: date
    checkins: tuple[CheckInView, ...]  # submitted ones
    waiting: tuple[str, ...]  # reports who have not checked in that week (names)
    has_reports: bool
    # The newest comment id the digest shows: a second click on its Reply finds its own comment after it.
    seen_comment: int = 0


@dataclass(frozen=True)
class CheckInDayView:
    """When a person's check-in card comes."""

    weekday: int
    paused: bool
    chosen: bool  # False: the default day, never chosen
    next_card_on: date | None  # None while paused
    time_zone: str  # the IANA name the day follows
    own_time_zone: bool  # False: the person has none on file, so the organization's applies


@dataclass(frozen=True)
class ReplyOutcome:
    """What a manager's Reply did: the new comments (to notify their people) and the refreshed digest."""

    comments: tuple[CommentView, ...]
    resolved: int
    digest: DigestView


@dataclass(frozen=True)
class CheckInPlan:
    """What a scheduling pass is due to send (checkins.plan_due)."""

    cards: tuple[DueCard, ...] = ()
    reminders: tuple[DueReminder, ...] = ()
    digests: tuple[DueDigest, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.cards or self.reminders or self.digests)


@dataclass(frozen=True)
class DueCard:
    person_id: int
    week_start: date
    due_on: date
    today: date  # the person's own date when planned: which goals the form counts as active


@dataclass(frozen=True)
class DueReminder:
    checkin_id: int
    person_id: int
    week_start: date
    today: date  # as on DueCard


@dataclass(frozen=True)
class DueDigest:
    manager_id: int
    week_start: date

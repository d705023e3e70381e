"""What feedback looks like to the transports: choices and inputs in, read-only views out (pure data).

Cards and tab templates import these; the services in feedback.py build them, each for one viewer.
A view of anonymous feedback carries its giver only for the giver and HR; the recipient and their line
get anonymous answers only as an AnonymousAggregate (texts and tags, no giver, no id, no time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Lengths and counts a person may type; the cards set the same limits.
FEEDBACK_MAX = 2000
QUOTE_MAX = 2000  # a longer quoted message is cut, not refused: the giver didn't type it
QUESTION_MAX = 500
TAGS_MAX = 10
TAG_MAX = 50
RATINGS = range(1, 6)
ASKED_MAX = 20
# Anonymous answers to one request are shown, pooled, only once this many people answered.
ANONYMITY_THRESHOLD = 3
REQUEST_DAYS = 14  # a request expires after this many days unless the requester says otherwise
REQUEST_MAX_DAYS = 90
REMIND_AFTER_DAYS = 3  # one reminder, for an ask still unanswered this long after its card went out


class FeedbackVisibility(StrEnum):
    # Defined here, in pure data the cards may import; domain.access's rules take their values from it.
    RECIPIENT_AND_MANAGER = "recipient_and_manager"
    RECIPIENT_ONLY = "recipient_only"
    MANAGER_ONLY = "manager_only"
    ANONYMOUS = "anonymous"


# Labels the transports show; configurable by replacing them at start-up.
VISIBILITY_LABELS = {
    FeedbackVisibility.RECIPIENT_AND_MANAGER: "Them and their manager",
    FeedbackVisibility.RECIPIENT_ONLY: "Only them",
    FeedbackVisibility.MANAGER_ONLY: "Only their manager (private note)",
    FeedbackVisibility.ANONYMOUS: "Anonymous to them (shown pooled once 3 people answered)",
}


class RequestStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    EXPIRED = "expired"


# --- what a person sends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TagInput:
    """A free-form tag (a competency later) with an optional rating from 1 to 5."""

    tag: str
    rating: int | None = None


# --- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagView:
    tag: str
    rating: int | None


@dataclass(frozen=True)
class FeedbackView:
    """One piece of feedback as one viewer may see it."""

    id: int
    recipient_id: int
    recipient_name: str
    giver_id: int | None  # None when the viewer may not know it (anonymous), or the giver left
    giver_name: str | None
    text: str
    quote: str | None
    visibility: str
    tags: tuple[TagView, ...]
    created_at: datetime
    request_id: int | None
    already_submitted: bool = False  # this answer is to a second submit: nothing was written


@dataclass(frozen=True)
class AnonymousAnswer:
    text: str
    tags: tuple[TagView, ...]


@dataclass(frozen=True)
class AnonymousAggregate:
    """The anonymous answers to one request, pooled: only ever built with ANONYMITY_THRESHOLD or more.

    Answers are sorted by their text, not by when they came, so the order gives no one away."""

    request_id: int
    subject_id: int
    question: str
    answers: tuple[AnonymousAnswer, ...]

    @property
    def count(self) -> int:
        return len(self.answers)


@dataclass(frozen=True)
class FeedbackHistory:
    """Feedback about one person as the viewer may see it: pieces, and pooled anonymous answers."""

    person_id: int
    person_name: str
    feedback: tuple[FeedbackView, ...]  # newest first
    anonymous: tuple[AnonymousAggregate, ...] = ()


@dataclass(frozen=True)
class AskView:
    """A person asked in a request. `answered` is shown only when the viewer may see that answer by
    itself: a private note or an anonymous answer must not be betrayed by a tick."""

    id: int
    person_id: int
    person_name: str
    answered: bool


@dataclass(frozen=True)
class FeedbackRequestView:
    id: int
    requester_id: int
    requester_name: str
    subject_id: int
    subject_name: str
    question: str
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    status: RequestStatus
    asks: tuple[AskView, ...]
    answers: tuple[FeedbackView, ...]  # those the viewer may see by themselves
    anonymous: AnonymousAggregate | None = None
    already_submitted: bool = False


@dataclass(frozen=True)
class AskNotice:
    """A card to send to someone asked for feedback (the bot writes it to the outbox)."""

    ask_id: int
    request_id: int
    asked_id: int
    requester_name: str
    subject_id: int
    subject_name: str
    about_themselves: bool  # the requester asks about themselves (else a manager about a report)
    question: str
    expires_at: datetime


@dataclass(frozen=True)
class RequestOutcome:
    """A new request as the requester sees it, and the asks to notify (none on a second submit)."""

    request: FeedbackRequestView
    to_notify: tuple[AskNotice, ...]


@dataclass(frozen=True)
class FeedbackNotice:
    """Someone to tell about new feedback, with the feedback as they may see it."""

    person_id: int
    feedback: FeedbackView


@dataclass(frozen=True)
class AggregateNotice:
    """Someone to tell that pooled anonymous answers to a request can be read (or grew)."""

    person_id: int
    aggregate: AnonymousAggregate


@dataclass(frozen=True)
class FeedbackGiven:
    """What give_feedback or answer_request did: the feedback as the giver sees it, and whom to tell.

    Nobody is told anything on a second submit (feedback.already_submitted)."""

    feedback: FeedbackView
    notify: tuple[FeedbackNotice, ...] = ()
    aggregates: tuple[AggregateNotice, ...] = ()


@dataclass(frozen=True)
class PendingAsk:
    """A request waiting for the person's answer."""

    ask_id: int
    request_id: int
    requester_name: str
    subject_id: int
    subject_name: str
    question: str
    expires_at: datetime


@dataclass(frozen=True)
class DueAskReminder:
    """An ask to remind once (feedback.plan_reminders)."""

    ask_id: int
    request_id: int
    asked_id: int

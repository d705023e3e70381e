"""What the Feedback tab reads (pure data): the filters a person chose, and feedback as one viewer may see
it, filtered, with a monthly trend.

feedback_read.py builds these from the services in feedback.py, which decide who sees what; everything
here only narrows what a service already returned. Two rules keep anonymity intact:
- pooled anonymous answers (AnonymousAggregate) are kept or dropped whole, never cut down by a filter
  (a smaller pool than the service released could point at someone);
- they carry no date, and none is attached to them: a date filter leaves them out, and the trend never
  counts them (dating an answer could narrow who gave it).
Dates are the UTC dates of `created_at`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date
from statistics import fmean

from domain.errors import Invalid
from domain.performance.feedback_views import (
    TAG_MAX,
    AnonymousAggregate,
    FeedbackRequestView,
    FeedbackView,
    FeedbackVisibility,
    PendingAsk,
    TagView,
)

# How much one page reads and shows: the newest LIST_LIMIT pieces per list, and the first LINE_LIMIT
# people of a manager's line (each is one feedback_about call).
LIST_LIMIT = 100
LINE_LIMIT = 50
TREND_MONTHS = 12
ID_DIGITS_MAX = 18


class FilterInvalid(Invalid):
    """A filter the person typed is wrong; `field` names the form field to show the message next to."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FeedbackFilter:
    """Which feedback to show: from or to one person (the other party), with a tag, between two dates
    (both inclusive). None means "any"."""

    person_id: int | None = None
    tag: str | None = None
    since: date | None = None
    until: date | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.person_id, self.tag, self.since, self.until))

    @property
    def keeps_anonymous(self) -> bool:
        """Pooled anonymous answers have no giver and no date: a person or date filter leaves them out."""
        return self.person_id is None and self.since is None and self.until is None


def parse_filter(
    *, person: str | None = None, tag: str | None = None, since: str | None = None, until: str | None = None
) -> FeedbackFilter:
    """The filters as typed in a form or query string; FilterInvalid with a sentence to show otherwise."""
    chosen = FeedbackFilter(
        person_id=_person(person),
        tag=_tag(tag),
        since=_date(since, "from", "From date"),
        until=_date(until, "to", "To date"),
    )
    if chosen.since and chosen.until and chosen.since > chosen.until:
        raise FilterInvalid(
            "from",
            f"The “From date” ({_long(chosen.since)}) is after the “To date” ({_long(chosen.until)}): "
            "swap them, or clear one.",
        )
    return chosen


def _long(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _person(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > ID_DIGITS_MAX:
        raise FilterInvalid("person", "Choose a person from the list.")
    return int(text)


def _tag(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > TAG_MAX:
        raise FilterInvalid("tag", f"A tag has at most {TAG_MAX} characters (this one has {len(text)}).")
    return text or None


def _date(value: str | None, field_name: str, label: str) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        # fromisoformat alone would also take "20261123" and week dates: ask for the one form date
        # inputs send, so what a person reads back is what they typed.
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise FilterInvalid(
            field_name, f"The “{label}” must be a date like 2026-11-23 (year-month-day), not “{shown}”."
        ) from None


# --- matching ----------------------------------------------------------------------------------------


def day_of(view: FeedbackView) -> date:
    """The (UTC) day a piece of feedback was given."""
    return view.created_at.astimezone(UTC).date()


def has_tag(tags: Iterable[TagView], tag: str | None) -> bool:
    """Whether the tags include `tag`, ignoring case (any tags do when no tag is asked for)."""
    if tag is None:
        return True
    wanted = tag.casefold()
    return any(t.tag.casefold() == wanted for t in tags)


def in_dates(day: date, chosen: FeedbackFilter) -> bool:
    return (chosen.since is None or day >= chosen.since) and (chosen.until is None or day <= chosen.until)


def matches(view: FeedbackView, chosen: FeedbackFilter, *, other_party: int | None) -> bool:
    """Whether feedback passes the filters; `other_party` is its giver (received) or recipient (given)."""
    return (
        (chosen.person_id is None or other_party == chosen.person_id)
        and has_tag(view.tags, chosen.tag)
        and in_dates(day_of(view), chosen)
    )


def aggregate_has_tag(aggregate: AnonymousAggregate, tag: str | None) -> bool:
    return any(has_tag(answer.tags, tag) for answer in aggregate.answers)


def request_matches(request: FeedbackRequestView, chosen: FeedbackFilter) -> bool:
    """A request passes when it is about or was sent to the person, was made between the dates, and has
    an answer the viewer may read with the tag."""
    if chosen.person_id is not None and chosen.person_id not in {
        request.subject_id,
        *(ask.person_id for ask in request.asks),
    }:
        return False
    if not in_dates(request.created_at.astimezone(UTC).date(), chosen):
        return False
    if chosen.tag is None:
        return True
    pooled = request.anonymous is not None and aggregate_has_tag(request.anonymous, chosen.tag)
    return pooled or any(has_tag(answer.tags, chosen.tag) for answer in request.answers)


# --- the trend ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthTrend:
    """One month of feedback received: how many pieces, and the mean of their tag ratings."""

    month: date  # the first day of the month
    count: int
    ratings: int  # how many tag ratings the average is over
    average_rating: float | None


@dataclass(frozen=True)
class FeedbackTrend:
    """Feedback received per month, oldest month first, over the last TREND_MONTHS months."""

    months: tuple[MonthTrend, ...]

    @property
    def total(self) -> int:
        return sum(m.count for m in self.months)

    @property
    def busiest(self) -> int:
        return max((m.count for m in self.months), default=0)

    @property
    def average_rating(self) -> float | None:
        """The mean of every rating in the window (not a mean of monthly means)."""
        weighted = [(m.average_rating, m.ratings) for m in self.months if m.average_rating is not None]
        count = sum(n for _, n in weighted)
        return sum(avg * n for avg, n in weighted) / count if count else None


def month_starts(today: date, months: int = TREND_MONTHS) -> tuple[date, ...]:
    """The first days of the last `months` months, ending with today's month, oldest first."""
    index = today.year * 12 + today.month - 1
    return tuple(date(i // 12, i % 12 + 1, 1) for i in range(index - months + 1, index + 1))


def monthly_trend(
    views: Iterable[FeedbackView], *, today: date, tag: str | None = None, months: int = TREND_MONTHS
) -> FeedbackTrend:
    """Count and average tag rating per month of the feedback given; with `tag`, only feedback with that
    tag counts, and only that tag's ratings are averaged.

    Anonymous feedback is left out even when the viewer may see it by itself (its giver, HR): a dated
    anonymous answer is what the pooling exists to prevent, so the trend never shows one."""
    starts = month_starts(today, months)
    counts = dict.fromkeys(starts, 0)
    ratings: dict[date, list[int]] = {start: [] for start in starts}
    for view in views:
        if view.visibility == FeedbackVisibility.ANONYMOUS or not has_tag(view.tags, tag):
            continue
        month = day_of(view).replace(day=1)
        if month not in counts:
            continue  # outside the window
        counts[month] += 1
        ratings[month] += [t.rating for t in view.tags if t.rating is not None and has_tag((t,), tag)]
    return FeedbackTrend(
        tuple(
            MonthTrend(m, counts[m], len(ratings[m]), fmean(ratings[m]) if ratings[m] else None)
            for m in starts
        )
    )


# --- what the tab shows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonChoice:
    """Someone to pick in a list (a filter, or whose feedback to read)."""

    person_id: int
    name: str
    job_title: str | None = None


@dataclass(frozen=True)
class ReceivedFeedback:
    """Feedback one person received, as the viewer may see it, filtered."""

    person_id: int
    person_name: str
    feedback: tuple[FeedbackView, ...]  # newest first, at most LIST_LIMIT
    total: int  # how many passed the filters (more than shown when the list was cut)
    anonymous: tuple[AnonymousAggregate, ...]  # pools the service released that pass the filters
    anonymous_left_out: int  # pools a person or date filter left out (they have neither)
    trend: FeedbackTrend

    @property
    def cut(self) -> bool:
        return self.total > len(self.feedback)


@dataclass(frozen=True)
class FeedbackList:
    """A filtered list, newest first, cut at LIST_LIMIT."""

    feedback: tuple[FeedbackView, ...]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.feedback)


@dataclass(frozen=True)
class RequestList:
    requests: tuple[FeedbackRequestView, ...]
    total: int

    @property
    def cut(self) -> bool:
        return self.total > len(self.requests)


@dataclass(frozen=True)
class MyFeedback:
    """The viewer's own Feedback tab: received, given, asked for, and asked of them."""

    received: ReceivedFeedback
    given: FeedbackList
    requested: RequestList
    pending: tuple[PendingAsk, ...]  # a to-do list: never filtered
    people: tuple[PersonChoice, ...]  # the other parties in all of the above, for the person filter
    tags: tuple[str, ...]  # every tag in what the viewer sees, for suggestions


@dataclass(frozen=True)
class PersonFeedback:
    """Someone else's received feedback (a report's, or anyone's for HR), as the viewer may see it."""

    received: ReceivedFeedback
    people: tuple[PersonChoice, ...]  # givers the viewer may see, for the person filter
    tags: tuple[str, ...]


@dataclass(frozen=True)
class PeopleChoices:
    """Whose feedback the viewer may open: their line, or (HR) anyone; the first LINE_LIMIT by name."""

    people: tuple[PersonChoice, ...]
    total: int
    whole_organization: bool  # HR: anyone, not only their line
    find: str | None = None

    @property
    def cut(self) -> bool:
        return self.total > len(self.people)


@dataclass(frozen=True)
class LineFeedback:
    """The received feedback of the first LINE_LIMIT people of the viewer's line, by name."""

    people: tuple[ReceivedFeedback, ...]
    total: int  # everyone in the line

    @property
    def cut(self) -> bool:
        return self.total > len(self.people)

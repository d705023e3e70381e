"""How reviews read on the tab pages: dates, scores, phases, statuses and answers as plain text.

Templates reach these as `ui.<name>`; they return plain text (autoescaped by jinja2) or numbers, never
markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlencode

from domain.performance.review_views import (
    PHASE_LABELS,
    ROLE_LABELS,
    AnswerView,
    CycleView,
    Distribution,
    DueItem,
    DueWhat,
    FormItem,
    GuidelineView,
    ItemAggregate,
    ItemKind,
    Phase,
    ReviewerRole,
    ReviewStatus,
    ReviewTask,
)
from domain.signal_views import Suggestion

NOTHING = "\u2013"  # an en dash where there is no value
STATUS_LABELS = {
    ReviewStatus.PENDING: "Not started",
    ReviewStatus.DRAFT: "Draft saved",
    ReviewStatus.SUBMITTED: "Submitted",
}
# Badge colours shared with the goal statuses (trellis.css): done green, started amber, not started grey.
STATUS_CLASSES = {
    ReviewStatus.PENDING: "status--not-started",
    ReviewStatus.DRAFT: "status--behind",
    ReviewStatus.SUBMITTED: "status--on-track",
}
DUE_LABELS = {
    DueWhat.SELF_REVIEW: "Self reviews",
    DueWhat.PEER_REVIEW: "Peer reviews",
    DueWhat.UPWARD_REVIEW: "Upward reviews",
    DueWhat.MANAGER_REVIEW: "Manager reviews",
    DueWhat.ACKNOWLEDGEMENT: "Acknowledgements",
}
DUE_ONE = {
    DueWhat.SELF_REVIEW: "self review",
    DueWhat.PEER_REVIEW: "peer review",
    DueWhat.UPWARD_REVIEW: "upward review",
    DueWhat.MANAGER_REVIEW: "manager review",
    DueWhat.ACKNOWLEDGEMENT: "acknowledgement",
}
# The team board's columns: which pending items each phase column counts as overdue.
BOARD_COLUMNS = (
    ("Self review", (DueWhat.SELF_REVIEW,)),
    ("Peer and upward reviews", (DueWhat.PEER_REVIEW, DueWhat.UPWARD_REVIEW)),
    ("Manager review", (DueWhat.MANAGER_REVIEW,)),
    ("Acknowledgement", (DueWhat.ACKNOWLEDGEMENT,)),
)


@dataclass(frozen=True)
class Bucket:
    """One point of a distribution as the page shows it."""

    label: str
    count: int
    share: str  # "40 %"
    guideline: str | None  # "40 % (about 2)" when the cycle has a guideline


def day(moment: date | datetime | None) -> str:
    """15 Jul 2026 (UTC for a moment)."""
    if moment is None:
        return NOTHING
    if isinstance(moment, datetime):
        moment = moment.astimezone(UTC).date()
    return f"{moment.day} {moment:%b %Y}"


def moment(value: datetime) -> str:
    """15 Jul 2026, 09:30 UTC."""
    at = value.astimezone(UTC)
    return f"{at.day} {at:%b %Y}, {at:%H:%M} UTC"


def score(value: Decimal | None) -> str:
    """4.10, or a dash."""
    return NOTHING if value is None else f"{value:.2f}"


def weight(value: Decimal | float) -> str:
    """50, or 12.5."""
    return f"{Decimal(str(value)).normalize():f}"


def phase(value: Phase | str) -> str:
    """Self review, Released, ..."""
    label = PHASE_LABELS[Phase(value)]
    return label[:1].upper() + label[1:]


def status(value: ReviewStatus | None) -> str:
    return NOTHING if value is None else STATUS_LABELS[ReviewStatus(value)]


def status_class(value: ReviewStatus | None) -> str:
    return "status--not-started" if value is None else STATUS_CLASSES[ReviewStatus(value)]


def task_title(task: ReviewTask) -> str:
    """Self review, or Peer review of Adele Vance."""
    if task.role is ReviewerRole.SELF:
        return ROLE_LABELS[task.role]
    return f"{ROLE_LABELS[task.role]} of {task.reviewee_name}"


def due_label(what: DueWhat) -> str:
    return DUE_LABELS[what]


def due_one(what: DueWhat) -> str:
    return DUE_ONE[what]


def period(cycle: CycleView) -> str:
    return f"{day(cycle.period_start)} to {day(cycle.period_end)}"


def done(done_count: int, total: int) -> str:
    """3 of 4 (75 %)."""
    share = round(100 * done_count / total) if total else 0
    return f"{done_count} of {total} ({share} %)"


def fraction(done_count: int, total: int) -> int:
    """A whole percentage for a progress bar."""
    return round(100 * done_count / total) if total else 0


def answer(item: FormItem, scale: tuple[str, ...]) -> str:
    """How a saved answer reads: "4 · Above" (with its comment), a choice, or a text."""
    given = item.answer
    if given is None or given.empty:
        return "Not answered"
    return answer_text(given, scale)


def answer_text(given: AnswerView, scale: tuple[str, ...]) -> str:
    parts = []
    if given.rating is not None:
        parts.append(rating(given.rating, scale))
    if given.choice is not None:
        parts.append(given.choice)
    if given.text:
        parts.append(given.text)
    return " · ".join(parts) if parts else "Not answered"


def rating(value: int, scale: tuple[str, ...]) -> str:
    """4 · Above."""
    label = scale[value - 1] if 1 <= value <= len(scale) else None
    return f"{value} · {label}" if label else f"Rated {value}"


def pooled_summary(item: ItemAggregate) -> str:
    """What a pooled item shows besides its texts."""
    if not item.shown:
        return f"Withheld: {item.count} answered, fewer than needed to keep answers anonymous."
    if item.kind is ItemKind.RATING:
        return f"Average {score(item.mean)} from {item.count} answers"
    if item.kind is ItemKind.CHOICE:
        return " · ".join(f"{choice}: {n}" for choice, n in item.choices)
    return f"{item.count} answers"


def buckets(dist: Distribution, scale: tuple[str, ...], guide: GuidelineView | None) -> list[Bucket]:
    """One bucket per point of the scale, with the guideline's share beside it."""
    out = []
    for i, (count, share) in enumerate(zip(dist.counts, dist.shares, strict=True)):
        expected = None
        if guide is not None and i < len(guide.percentages):
            expected = f"{guide.percentages[i]} %"
        out.append(Bucket(scale[i], count, f"{round(share)} %", expected))
    return out


def expected(guide: GuidelineView, scale: tuple[str, ...]) -> list[str]:
    """Far below 10 % (about 0.4 people), ..."""
    return [
        f"{label}: {pct} % (about {n:g} {'person' if n == 1 else 'people'})"
        for label, pct, n in zip(scale, guide.percentages, guide.expected, strict=False)
    ]


def overdue_by(items: Iterable[DueItem]) -> dict[int, dict[DueWhat, int]]:
    """Overdue items per participant and kind."""
    found: dict[int, dict[DueWhat, int]] = {}
    for item in items:
        found.setdefault(item.participant_id, {}).setdefault(item.what, 0)
        found[item.participant_id][item.what] += 1
    return found


def overdue_in(counts: Mapping[DueWhat, int], whats: Iterable[DueWhat]) -> int:
    return sum(counts.get(w, 0) for w in whats)


def url(path: str, theme: str, params: Mapping[str, object] | None = None, **more: object) -> str:
    """A link that keeps the theme; empty parameters are left out."""
    every = {**(params or {}), **more}
    kept = {k: str(v) for k, v in every.items() if v is not None and str(v).strip()}
    if theme != "default":
        kept["theme"] = theme
    return f"{path}?{urlencode(kept)}" if kept else path


def bias_badge(flag: Suggestion) -> str:
    """Lenient ratings, or Severe ratings: the calibration view's badge for a manager's rating-bias flag."""
    return "Lenient ratings" if flag.target_key == "lenient" else "Severe ratings"

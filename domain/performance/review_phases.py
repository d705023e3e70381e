"""A review cycle's phases, deadlines and recurrence: pure rules, no store (review_cycles applies them).

draft → self review → peer review → manager review → calibration → released → closed, forward only, one
phase at a time. A cycle whose template has no section for peers or direct reports has no peer review:
its self review is followed by the manager review.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date

from domain.errors import Conflict, Invalid
from domain.performance.review_views import (
    DEADLINE_PHASES,
    PHASE_LABELS,
    PHASES,
    RECURRENCE_MONTHS,
    ROLE_PHASE,
    Phase,
    Recurrence,
    ReviewerRole,
)


def cycle_phases(*, has_peer_phase: bool) -> tuple[Phase, ...]:
    """The phases a cycle goes through, in order."""
    return tuple(p for p in PHASES if has_peer_phase or p is not Phase.PEER_REVIEW)


def check_move(current: Phase, target: Phase, phases: Sequence[Phase]) -> None:
    """Refuse, with a sentence, any move but to the phase right after the current one.

    Invalid for a move that is never possible from here; Conflict for a move to a phase the cycle is
    already past (a stale card or page: someone moved it on meanwhile)."""
    if current is Phase.CLOSED:
        raise Invalid("The cycle is closed: it can't move any more.")
    if target not in phases:
        raise Invalid(
            f"This cycle has no {PHASE_LABELS[target]}: its template has no section for peers or direct "
            "reports."
        )
    at = phases.index(current)
    following = phases[at + 1]
    if target == following:
        return
    if phases.index(target) < at:
        raise Conflict(
            f"The cycle {_is_in(current)}: it has already moved past {PHASE_LABELS[target]}, and phases "
            "only move forward."
        )
    raise Invalid(
        f"The cycle {_is_in(current)}: it can move on to {PHASE_LABELS[following]} next, not to "
        f"{PHASE_LABELS[target]}."
    )


def open_for(role: ReviewerRole, phase: Phase) -> bool:
    """Whether a review of this role can still be written: the cycle is launched and the role's phase has
    not closed (people may start before their phase opens)."""
    return phase is not Phase.DRAFT and PHASES.index(phase) <= PHASES.index(ROLE_PHASE[role])


def closed_message(role: ReviewerRole, due_on: date | None) -> str:
    """Why a review can't change any more: its phase closed."""
    label = PHASE_LABELS[ROLE_PHASE[role]]
    when = f" (it was due on {day(due_on)})" if due_on else ""
    return f"The {label} phase of this cycle has closed{when}: this review can't change any more."


def validate_deadlines(
    deadlines: Mapping[Phase, date | None], phases: Sequence[Phase]
) -> dict[Phase, date | None]:
    """The deadline of each of the cycle's phases: present, and each on or after the one before."""
    chosen: dict[Phase, date | None] = {}
    previous: tuple[Phase, date] | None = None
    for phase in phases:
        if phase not in DEADLINE_PHASES:
            chosen[phase] = None
            continue
        due = deadlines.get(phase)
        if due is None:
            raise Invalid(f"Choose the {_deadline_name(phase)} (the last day of that phase).")
        if previous is not None and due < previous[1]:
            raise Invalid(
                f"Each phase ends on or after the one before: the {_deadline_name(phase)} ({day(due)}) "
                f"is before the {_deadline_name(previous[0])} ({day(previous[1])})."
            )
        chosen[phase] = due
        previous = (phase, due)
    return chosen


def validate_period(start: date, end: date) -> None:
    """A cycle's period: its end on or after its start."""
    if end < start:
        raise Invalid(f"The period ends ({day(end)}) before it starts ({day(start)}): swap the dates.")


def overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    """Whether two periods (both ends inclusive) share a day."""
    return a_start <= b_end and b_start <= a_end


def shift(value: date, months: int) -> date:
    """The same day `months` later; a month's last day stays its month's last day (31 Mar → 30 Jun)."""
    month_index = value.year * 12 + value.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    at_end = value.day == calendar.monthrange(value.year, value.month)[1]
    return date(year, month + 1, last if at_end else min(value.day, last))


def recurrence_months(recurrence: Recurrence) -> int:
    """How far the next cycle of a recurring one starts after it, in months (0: it does not recur)."""
    return RECURRENCE_MONTHS.get(recurrence, 0)


def period_label(start: date, end: date) -> str:
    """How people name a period: 2026, 2026-H1, 2026-Q3, or its dates."""
    if start.day == 1 and end.day == calendar.monthrange(end.year, end.month)[1]:
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        if months == 12 and start.month == 1:
            return str(start.year)
        if months == 6 and start.month in (1, 7):
            return f"{start.year}-H{1 if start.month == 1 else 2}"
        if months == 3 and start.month % 3 == 1:
            return f"{start.year}-Q{(start.month + 2) // 3}"
    return f"{day(start)} to {day(end)}"


def next_name(name: str, old_label: str, new_label: str) -> str:
    """The name of a recurring cycle's next draft: the period's label replaced, or added."""
    if old_label in name:
        return name.replace(old_label, new_label)
    return f"{name} ({new_label})"


def day(value: date) -> str:
    """A date as sentences show it: 5 March 2026."""
    return f"{value.day} {value:%B %Y}"


def _is_in(phase: Phase) -> str:
    if phase is Phase.DRAFT:
        return "is a draft"
    if phase in (Phase.RELEASED, Phase.CLOSED):
        return f"is {PHASE_LABELS[phase]}"
    return f"is in {PHASE_LABELS[phase]}"


def _deadline_name(phase: Phase) -> str:
    if phase is Phase.RELEASED:
        return "acknowledgement deadline"
    return f"{PHASE_LABELS[phase]} deadline"

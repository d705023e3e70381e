"""Development plan cards: the reminder of an action coming due (progress, status and a note marked on the
card itself, which then updates in place), the same form after a save, a refusal or someone else's change,
and "my plan" (the open actions, and which one to mark); and the parser of what they send back.

Every button is an Action.Execute with an Action.Submit fallback carrying the same data. Titles and notes
come from people, so they go through plain_text (never markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from adaptive_cards.elements import (
    Element,
    card,
    container,
    execute,
    heading,
    input_choice,
    input_number,
    input_text,
    open_url,
    plain_text,
    text,
    truncate,
)
from adaptive_cards.payloads import PayloadError, optional_text, require_choice, require_int
from domain.talent.development_views import (
    KIND_LABELS,
    NOTE_MAX,
    STATUS_LABELS,
    ActionStatus,
    ActionView,
    DueAction,
    PlanView,
)

# Verbs the bot registers (bot/development.py).
PROGRESS = "development.progress"
OPEN = "development.open"

# Action data keys and input ids.
ACTION_ID = "action_id"
VERSION = "version"
PROGRESS_INPUT = "progress"
STATUS_INPUT = "status"
NOTE_INPUT = "note"

LISTED = 8  # actions "my plan" lists; the tab shows the rest
TITLE_SHOWN = 200
PRIVACY = "Only you, your manager line and HR see your development plan."
_ID_MAX = 2**31 - 1
_STALE = "This development card is out of date. Type “my plan” for a fresh one."
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ActionFacts:
    """What a progress card shows of an action, from the plan (ActionView) or a reminder (DueAction)."""

    action_id: int
    title: str
    kind_label: str
    due_on: date
    status: ActionStatus
    progress: int
    note: str | None
    version: int
    overdue: bool


@dataclass(frozen=True)
class ProgressInput:
    """A press on Save progress: which action, on which version, and the values chosen."""

    action_id: int
    version: int
    status: str
    progress: int
    note: str | None


def facts_of(action: ActionView | DueAction) -> ActionFacts:
    """The facts a progress card needs, from either view."""
    action_id = action.action_id if isinstance(action, DueAction) else action.id
    return ActionFacts(
        action_id=action_id,
        title=action.title,
        kind_label=KIND_LABELS[action.kind],
        due_on=action.due_on,
        status=action.status,
        progress=action.progress,
        note=action.note,
        version=action.version,
        overdue=action.overdue,
    )


__all__ = [
    "ActionFacts",
    "ProgressInput",
    "facts_of",
    "my_plan_card",
    "parse_action_id",
    "parse_progress",
    "progress_card",
    "reminder_card",
    "reminder_summary",
    "saved_card",
]


# --- the reminder and its updates ---------------------------------------------------------------------------


def reminder_card(action: ActionFacts) -> Element:
    """What arrives in the person's 1:1 chat: an action due soon (or overdue), to mark right here."""
    headline = "A development action is overdue" if action.overdue else "A development action is due soon"
    return progress_card(action, headline=headline, footer="Type “my plan” here to see all your actions.")


def reminder_summary(action: ActionFacts) -> str:
    """The notification text of a reminder."""
    return f"Development action {'overdue' if action.overdue else 'due'}: {truncate(action.title, 80)}"


def saved_card(action: ActionFacts, *, already: bool = False) -> Element:
    """The card after a save, in place of the one pressed: the values as stored, ready for the next one."""
    if already:
        return progress_card(
            action,
            headline="Progress already saved",
            saved="This was already saved, so nothing more was changed.",
        )
    return progress_card(action, headline="Progress saved", saved=f"Saved: {_state(action)}.")


def progress_card(
    action: ActionFacts,
    *,
    headline: str = "Mark your progress",
    notice: str | None = None,
    saved: str | None = None,
    typed: Mapping[str, Any] | None = None,
    footer: str | None = None,
) -> Element:
    """An action with the form to mark it: progress (0-100 %), status and a note; a refusal (notice) keeps
    what was typed."""
    chosen = _typed(typed) if typed is not None else {}
    body: list[Element] = [
        heading(headline),
        plain_text(truncate(action.title, TITLE_SHOWN), weight="Bolder"),
        text(f"{action.kind_label} · {_due(action)}", subtle=True),
        text(f"Now: {_state(action)}."),
    ]
    if notice:
        body.append(container([plain_text(notice, color="Attention", weight="Bolder")], style="attention"))
    if saved:
        body.append(plain_text(saved, color="Good", weight="Bolder"))
    body += [
        input_number(
            PROGRESS_INPUT,
            "Progress (%)",
            min=0,
            max=100,
            required=True,
            value=chosen.get(PROGRESS_INPUT, action.progress),
            error_message="Enter a whole number of percent from 0 to 100.",
        ),
        input_choice(
            STATUS_INPUT,
            "Status",
            [(label, status.value) for status, label in STATUS_LABELS.items()],
            required=True,
            value=chosen.get(STATUS_INPUT, action.status.value),
            error_message="Choose the action's status.",
        ),
        input_text(
            NOTE_INPUT,
            "Note (optional)",
            multiline=True,
            max_length=NOTE_MAX,
            value=chosen.get(NOTE_INPUT, action.note),
        ),
        text(PRIVACY if footer is None else f"{PRIVACY} {footer}", subtle=True),
    ]
    data = {ACTION_ID: action.action_id, VERSION: action.version}
    return card(body, [execute("Save progress", PROGRESS, data, style="positive", submit_fallback=True)])


# --- "my plan" ------------------------------------------------------------------------------------------


def my_plan_card(plan: PlanView, *, home_url: str | None = None) -> Element:
    """The person's open actions, soonest due first, and a choice of which one to mark (one button: a card
    holds at most six)."""
    body: list[Element] = [heading("Your development plan")]
    open_actions = [a for a in plan.actions if a.open]
    if not open_actions:
        body.append(
            text(
                "You have no open development actions. Add some on the My development tab, with your "
                "manager: trainings, mentoring, stretch assignments, courses or projects."
            )
        )
    else:
        counts = plan.counts
        line = f"{counts.open} open, {counts.done} done"
        if counts.overdue:
            line += f", {counts.overdue} overdue"
        body.append(text(line + ".", subtle=True))
    listed = open_actions[:LISTED]
    for action in listed:
        facts = facts_of(action)
        body.append(
            container(
                [
                    plain_text(truncate(action.title, TITLE_SHOWN), weight="Bolder"),
                    text(f"{facts.kind_label} · {_due(facts)} · {_state(facts)}", subtle=True),
                ],
                spacing="Medium",
            )
        )
    if len(open_actions) > LISTED:
        body.append(text(f"{len(open_actions) - LISTED} more on the My development tab.", subtle=True))
    actions = []
    if listed:
        body.append(
            input_choice(
                ACTION_ID,
                "Mark progress on",
                [(truncate(a.title, 100), str(a.id)) for a in listed],
                required=True,
                value=str(listed[0].id),
                error_message="Choose the action to mark.",
            )
        )
        actions.append(execute("Mark progress", OPEN, {}, submit_fallback=True))
    body.append(text(PRIVACY, subtle=True))
    if home_url:
        actions.append(open_url("Open Trellis", home_url))
    return card(body, actions)


# --- payloads --------------------------------------------------------------------------------------------


def parse_action_id(data: Mapping[str, Any]) -> int:
    """The action a button is about; a forged or stale payload is a PayloadError."""
    try:
        return require_int(data, ACTION_ID, label="action", min=1, max=_ID_MAX)
    except PayloadError:
        raise PayloadError(_STALE) from None


def parse_version(data: Mapping[str, Any]) -> int:
    try:
        return require_int(data, VERSION, label="version", min=0, max=_ID_MAX)
    except PayloadError:
        raise PayloadError(_STALE) from None


def parse_progress(data: Mapping[str, Any]) -> ProgressInput:
    """Save progress: the action and version (forged → stale), then the values, each checked with a message
    naming its field."""
    action_id, version = parse_action_id(data), parse_version(data)
    progress = require_int(data, PROGRESS_INPUT, label="Progress (%)", min=0, max=100)
    status = require_choice(data, STATUS_INPUT, label="Status", choices=[s.value for s in ActionStatus])
    note = optional_text(data, NOTE_INPUT, label="Note", max_len=NOTE_MAX)
    return ProgressInput(action_id, version, status, progress, note)


# --- helpers ---------------------------------------------------------------------------------------------


def _state(action: ActionFacts) -> str:
    return f"{action.progress} % · {STATUS_LABELS[action.status].lower()}"


def _due(action: ActionFacts) -> str:
    when = f"{WEEKDAYS[action.due_on.weekday()]} {action.due_on.day} {action.due_on:%B %Y}"
    return f"was due on {when}" if action.overdue else f"due on {when}"


def _typed(typed: Mapping[str, Any]) -> dict[str, Any]:
    """What the person typed, safe to show again: a progress only if it is a number in range, a status only
    if it is one of the choices, a note cut to its limit."""
    kept: dict[str, Any] = {}
    raw = typed.get(PROGRESS_INPUT)
    try:
        number = float(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else None
    except ValueError:
        number = None
    kept[PROGRESS_INPUT] = (
        int(number) if number is not None and number.is_integer() and 0 <= number <= 100 else None
    )
    status = typed.get(STATUS_INPUT)
    if isinstance(status, str) and status in {s.value for s in ActionStatus}:
        kept[STATUS_INPUT] = status
    note = typed.get(NOTE_INPUT)
    kept[NOTE_INPUT] = note[:NOTE_MAX] if isinstance(note, str) else None
    return kept

"""Goal card payloads → typed inputs: a key-result update, a new goal, whose goals to show.

The verbs and input ids live here too, so the cards that send a payload and the parser that reads it
cannot drift apart. Nothing here trusts the payload: ids can be forged or missing, numbers can be text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from adaptive_cards.payloads import PayloadError, optional_text, require_choice, require_text
from domain.errors import Invalid
from domain.performance.goal_progress import CUSTOM, TITLE_MAX, Metric, Period
from domain.performance.goal_views import KeyResultInput, Kind, Visibility

VERB_SHOW = "goals.show"
VERB_UPDATE = "goal.kr.update"
VERB_NEW = "goal.new"
VERB_CREATE = "goal.create"

# The limits the goal services enforce, repeated so a card can say them before the person submits.
DESCRIPTION_MAX = 4000
COMMENT_MAX = 2000
UNIT_MAX = 32
KEY_RESULT_ROWS = 3  # on the create card; more can be added from the tab

# Action data keys.
PERSON_ID = "person_id"
GOAL_ID = "goal_id"
KEY_RESULT_ID = "key_result_id"
VERSION = "version"
REQUEST_ID = "request_id"
FOCUS = "focus"  # true when the card showed one goal only, so the next card does too

# Create-card input ids.
TITLE = "title"
DESCRIPTION = "description"
PERIOD = "period"
PERIOD_START = "period_start"
PERIOD_END = "period_end"
VISIBILITY = "visibility"
KIND = "kind"
PARENT = "parent"
WEIGHT = "weight"
NO_PARENT = "none"

_ID_MAX = 2**63 - 1  # the widest id the store can hold; anything larger is forged
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_NUMBER_TEXT_MAX = 40  # longer "numbers" are pasted text, not a value anyone means
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
REQUEST_ID_PATTERN = re.compile(r"[0-9a-f]{32}")  # uuid4().hex
_OUT_OF_DATE = (
    "This card is out of date or incomplete: it doesn't say {what}. Type “{command}” for a fresh card."
)


def value_input_id(key_result_id: int) -> str:
    """The id of the new-value input for one key result (a card shows several)."""
    return f"value_{key_result_id}"


def comment_input_id(key_result_id: int) -> str:
    """The id of the optional comment input for one key result."""
    return f"comment_{key_result_id}"


def confidence_input_id(key_result_id: int) -> str:
    """The id of the optional confidence (1-10) choice for one key result."""
    return f"confidence_{key_result_id}"


def key_result_input_id(row: int, field: str) -> str:
    """The id of a field (title, metric, start, target, unit) of key-result row 1..3 on the create card."""
    return f"kr{row}_{field}"


@dataclass(frozen=True)
class KeyResultUpdateInput:
    """A press of Update under a key result."""

    key_result_id: int
    version: int  # the version the card showed: an older one means someone changed it meanwhile
    goal_id: int
    person_id: int  # whose goals the card showed, to show them again
    value: float
    comment: str | None
    confidence: int | None  # 1..10: how sure the person is the key result will be met
    focus: bool  # the card showed this one goal only


@dataclass(frozen=True)
class ShowGoalsInput:
    """Whose goals to show (None: the person pressing), and optionally one goal of theirs to focus on."""

    person_id: int | None
    goal_id: int | None


@dataclass(frozen=True)
class NewGoalInput:
    """A filled-in create-goal card."""

    request_id: str
    title: str
    description: str | None
    period: Period
    visibility: str
    kind: str
    parent_id: int | None
    weight: float
    key_results: tuple[KeyResultInput, ...]


def parse_key_result_update(data: Mapping[str, Any]) -> KeyResultUpdateInput:
    """The key result, version and value of an Update press; the value comes from that key result's input."""
    key_result_id = require_id(data, KEY_RESULT_ID, what="which key result to update")
    value = data.get(value_input_id(key_result_id))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise PayloadError("Please enter the new value before pressing Update.")
    return KeyResultUpdateInput(
        key_result_id=key_result_id,
        version=require_id(data, VERSION, what="which version of the key result it showed"),
        goal_id=require_id(data, GOAL_ID, what="which goal the key result belongs to"),
        person_id=require_id(data, PERSON_ID, what="whose goals it showed"),
        value=number(value, label="The new value"),
        comment=optional_text(data, comment_input_id(key_result_id), label="Comment", max_len=COMMENT_MAX),
        confidence=_confidence(data.get(confidence_input_id(key_result_id))),
        focus=data.get(FOCUS) is True,
    )


def _confidence(raw: Any) -> int | None:
    if _blank(raw):
        return None
    level = number(raw, label="The confidence")
    if not level.is_integer() or not 1 <= level <= 10:
        raise PayloadError("Confidence is a whole number from 1 (unlikely) to 10 (certain).")
    return int(level)


def parse_show_goals(data: Mapping[str, Any]) -> ShowGoalsInput:
    """Whose goals a button asks for (and which goal, when it focuses on one)."""
    person_id = require_id(data, PERSON_ID, what="whose goals to show") if PERSON_ID in data else None
    goal_id = require_id(data, GOAL_ID, what="which goal to show") if GOAL_ID in data else None
    return ShowGoalsInput(person_id, goal_id)


def parse_new_goal(data: Mapping[str, Any]) -> NewGoalInput:
    """Everything the create-goal card sent, checked; the goal service checks the rest (targets, weights)."""
    request_id = parse_request_id(data)
    weight = data.get(WEIGHT)
    return NewGoalInput(
        request_id=request_id,
        title=require_text(data, TITLE, label="Title", max_len=TITLE_MAX),
        description=optional_text(data, DESCRIPTION, label="Description", max_len=DESCRIPTION_MAX),
        period=_period(data),
        visibility=require_choice(
            data, VISIBILITY, label="Who can see it", choices=[v.value for v in Visibility]
        ),
        kind=require_choice(data, KIND, label="Type", choices=[k.value for k in Kind]),
        parent_id=_parent(data),
        weight=1.0 if _blank(weight) else number(weight, label="The weight"),
        key_results=tuple(kr for row in range(1, KEY_RESULT_ROWS + 1) if (kr := _key_result(data, row))),
    )


def parse_request_id(data: Mapping[str, Any]) -> str:
    """The id the create card was built with, which makes a second Create of the same card a no-op."""
    request_id = data.get(REQUEST_ID)
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise PayloadError(_OUT_OF_DATE.format(what="which request it is", command="new goal"))
    return request_id


def require_id(data: Mapping[str, Any], key: str, *, what: str) -> int:
    """A positive whole number the card put in its action data; missing or forged → out-of-date card."""
    raw = data.get(key)
    if isinstance(raw, str):
        return _id_text(raw, what=what)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= _ID_MAX:
        return raw
    raise PayloadError(_OUT_OF_DATE.format(what=what, command="goals"))


def number(raw: Any, *, label: str) -> float:
    """A finite number typed in a card (Input.Number sends text or a number); never echoes the input."""
    if isinstance(raw, bool):
        raise PayloadError(f"{label} must be a number.")
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str) and len(raw.strip()) <= _NUMBER_TEXT_MAX and _NUMBER.fullmatch(raw.strip()):
        value = float(raw.strip())
    else:
        raise PayloadError(f"{label} must be a number, like 42 or 3.5.")
    if not math.isfinite(value):
        raise PayloadError(f"{label} must be a number, like 42 or 3.5.")
    return value


def _id_text(raw: str, *, what: str, command: str = "goals") -> int:
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 0 < int(text) <= _ID_MAX:
        raise PayloadError(_OUT_OF_DATE.format(what=what, command=command))
    return int(text)


def _parent(data: Mapping[str, Any]) -> int | None:
    parent = require_text(data, PARENT, label="Aligned to", max_len=20) if PARENT in data else NO_PARENT
    if parent == NO_PARENT:
        return None
    return _id_text(parent, what="which goal to align it to", command="new goal")


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _period(data: Mapping[str, Any]) -> Period:
    label = require_text(data, PERIOD, label="Period", max_len=16)
    try:
        if label.lower() != CUSTOM:
            return Period.of(label)
        return Period.custom(_date(data, PERIOD_START, "Start date"), _date(data, PERIOD_END, "End date"))
    except Invalid as error:
        raise PayloadError(error.message) from None


def _date(data: Mapping[str, Any], key: str, label: str) -> date:
    raw = data.get(key)
    if _blank(raw):
        raise PayloadError(f"A custom period needs a “{label}”.")
    try:
        if not isinstance(raw, str) or not DATE_PATTERN.fullmatch(raw.strip()):
            raise ValueError
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise PayloadError(f"“{label}” must be a date, like 2026-12-31.") from None


def _key_result(data: Mapping[str, Any], row: int) -> KeyResultInput | None:
    """One key-result row, or None when it was left empty (start, metric and unit have defaults)."""

    def field(name: str) -> str:
        return key_result_input_id(row, name)

    title = optional_text(data, field("title"), label=f"Key result {row}", max_len=TITLE_MAX)
    target = data.get(field("target"))
    if title is None:
        if not _blank(target):
            raise PayloadError(f"Key result {row} has a target but no title: give it a title or clear it.")
        return None
    metric = require_choice(
        data, field("metric"), label=f"Key result {row} measured as", choices=[m.value for m in Metric]
    )
    start = data.get(field("start"))
    if metric in (Metric.BOOLEAN, Metric.MILESTONE) and _blank(start):
        start = 0
    if metric == Metric.BOOLEAN and _blank(target):
        target = 1  # a yes/no key result is done when it is yes
    if _blank(target):
        raise PayloadError(f"Key result {row} needs a target: where do you want it to get to?")
    return KeyResultInput(
        title=title,
        metric=metric,
        start=0.0 if _blank(start) else number(start, label=f"Key result {row}'s start value"),
        target=number(target, label=f"Key result {row}'s target"),
        unit=optional_text(data, field("unit"), label=f"Key result {row} unit", max_len=UNIT_MAX),
    )

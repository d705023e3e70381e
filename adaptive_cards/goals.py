"""Goal cards: someone's goals with progress and Update controls, a new-goal form, its confirmation, and
the "which person did you mean?" picker.

Titles, units, names and comments come from people, so they only ever appear in TextRuns and choice
titles (never markdown, never labels). Teams shows at most six buttons on a card, so Update buttons go to
the first key results; a goal whose key results got none can be opened on its own card to update them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from adaptive_cards import goal_payloads as p
from adaptive_cards.elements import (
    MAX_CARD_BYTES,
    Action,
    CardTooLarge,
    Element,
    action_set,
    card,
    card_size_bytes,
    column,
    column_set,
    container,
    execute,
    heading,
    input_choice,
    input_date,
    input_number,
    input_text,
    open_url,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)
from adaptive_cards.payloads import PayloadError
from domain.performance.goal_progress import CUSTOM, TITLE_MAX, Metric, Period, Status
from domain.performance.goal_views import GoalView, KeyResultView, Kind, Visibility

MAX_BUTTONS = 6  # Teams Store rule: at most six actions on a card, ActionSets included
MAX_GOALS_SHOWN = 12
MAX_KEY_RESULTS_SHOWN = 8  # per goal; the tab shows any number
MAX_PARENT_CHOICES = 100
MAX_PEOPLE_SHOWN = 5
CHOICE_TITLE_MAX = 90
DESCRIPTION_SHOWN = 300
# Room left under the limit for the envelope Teams wraps around a card.
_SIZE_BUDGET = MAX_CARD_BYTES - 2_000

STATUS_WORDS: dict[Status, str] = {
    Status.ON_TRACK: "On track",
    Status.BEHIND: "Behind",
    Status.AT_RISK: "At risk",
    Status.EXPIRED: "Expired",
    Status.CLOSED: "Closed",
    Status.NOT_STARTED: "Not started",
}
# TextBlock colours and container styles per status; the word carries the meaning, colour only helps.
_STATUS_COLOR = {Status.ON_TRACK: "Good", Status.BEHIND: "Warning", Status.AT_RISK: "Attention"}
_BAR_STYLE = {Status.ON_TRACK: "good", Status.BEHIND: "warning", Status.AT_RISK: "attention"}
_TONES = ("good", "warning", "attention")

METRIC_CHOICES = (
    ("A number", Metric.NUMBER.value),
    ("A percentage", Metric.PERCENT.value),
    ("An amount of money", Metric.CURRENCY.value),
    ("Yes / no", Metric.BOOLEAN.value),
    ("Milestones (steps done)", Metric.MILESTONE.value),
)
VISIBILITY_CHOICES = (
    ("My team (my department) and my managers", Visibility.TEAM.value),
    ("Everyone in the organization", Visibility.PUBLIC.value),
    ("Private: only me, my managers and HR", Visibility.PRIVATE.value),
)
KIND_CHOICES = (("Business goal", Kind.BUSINESS.value), ("Development goal", Kind.DEVELOPMENT.value))


@dataclass(frozen=True)
class Notice:
    """A line at the top of a card about what just happened; tone is good, warning or attention."""

    message: str
    tone: str = "good"

    def __post_init__(self) -> None:
        if self.tone not in _TONES:
            raise ValueError(f"tone must be one of {_TONES}")


@dataclass(frozen=True)
class PersonOption:
    """Someone a typed name may have meant."""

    person_id: int
    name: str
    detail: str | None = None  # job title, department


# --- someone's goals ---------------------------------------------------------------------------------


def goals_card(
    *,
    goals: Sequence[GoalView],
    person_id: int,
    person_name: str,
    own: bool,
    editable: bool,
    home_url: str | None = None,
    notice: Notice | None = None,
    focus_goal_id: int | None = None,
) -> Element:
    """A person's goals (trees flattened to their own goals), progress bars, and Update controls when the
    viewer may change them; focus_goal_id shows that one goal alone, with controls for all it can."""
    entries = _flatten(goals, person_id)
    if focus_goal_id is not None:
        entries = [e for e in entries if e.goal.id == focus_goal_id]
    entries.sort(key=lambda e: _STATUS_ORDER.get(e.goal.status, 0))
    header = _goals_header(person_name, own=own, count=len(entries), focused=focus_goal_id is not None)
    if notice is not None:
        header.append(notice_block(notice))
    actions: list[Action] = []
    if focus_goal_id is not None:
        actions.append(execute("All goals", p.VERB_SHOW, {p.PERSON_ID: person_id}, submit_fallback=True))
    if not entries and own:
        actions.append(execute("Set a goal", p.VERB_NEW, submit_fallback=True))
    if home_url:
        actions.append(open_url("Open Trellis", home_url))

    def build(shown: int) -> Element:
        budget = _ControlBudget(MAX_BUTTONS - len(actions)) if editable else None
        body = list(header)
        for entry in entries[:shown]:
            body.append(_goal_block(entry, person_id=person_id, budget=budget, focused=focus_goal_id))
        if budget and budget.skipped and focus_goal_id is None:
            body.append(text("Select a goal's title to update its other key results.", subtle=True))
        elif budget and budget.skipped:
            body.append(text("Update its other key results in the Trellis app.", subtle=True))
        if not entries:
            body.append(_no_goals(person_name, own=own))
        elif shown < len(entries):
            more = len(entries) - shown
            where = "Open Trellis to see them all." if home_url else "See them all in the Trellis app."
            body.append(text(f"{more} more {_plural(more, 'goal')} not shown here. {where}", subtle=True))
        return card(body, actions)

    return card_that_fits(build, min(len(entries), MAX_GOALS_SHOWN))


def saved_notice(goal: GoalView, key_result_id: int) -> Notice:
    """The confirmation after an update: the key result's new value."""
    kr = _find_key_result(goal, key_result_id)
    if kr is None:
        return Notice("Saved.")
    return Notice(f"Saved: “{kr.title}” is now {value_text(kr, kr.current)} ({percent(kr.progress)}).")


def stale_notice(latest: GoalView, key_result_id: int) -> Notice:
    """A stale card: someone changed the key result since the card showed it."""
    kr = _find_key_result(latest, key_result_id)
    what = f"“{kr.title}”" if kr else "This key result"
    now = f" (now {value_text(kr, kr.current)})" if kr else ""
    return Notice(f"{what} was updated meanwhile{now} — check and try again.", "warning")


def notice_block(notice: Notice) -> Element:
    """A coloured box with one message (it may quote titles people typed, so it is plain text)."""
    return container([plain_text(notice.message, weight="Bolder")], style=notice.tone, spacing="Medium")


# --- creating a goal ---------------------------------------------------------------------------------


def new_goal_card(
    *,
    today: date,
    parents: Sequence[GoalView],
    request_id: str,
    notice: Notice | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """The form for a new goal of one's own: period, visibility, type, alignment, weight, key results.

    request_id is fresh for each card: a second press of the same card's Create finds the goal the first
    one made instead of making another. `values` (what was submitted) refills the form after a refusal,
    so the person fixes one field instead of typing everything again."""
    if not p.REQUEST_ID_PATTERN.fullmatch(request_id):
        raise ValueError("request_id must be 32 lower-case hex digits (uuid4().hex)")
    body: list[Element] = [heading("Set a new goal")]
    if notice is not None:
        body.append(notice_block(notice))
    body += [
        input_text(
            p.TITLE,
            "Title",
            required=True,
            max_length=TITLE_MAX,
            placeholder="What do you want to achieve?",
            error_message="Give the goal a title.",
        ),
        input_text(p.DESCRIPTION, "Description (optional)", multiline=True, max_length=p.DESCRIPTION_MAX),
        input_choice(p.PERIOD, "Period", period_choices(today), required=True, value=_quarter(today)),
        column_set(
            [
                column([input_date(p.PERIOD_START, "Custom start")]),
                column([input_date(p.PERIOD_END, "Custom end")]),
            ]
        ),
        text("The dates count only when the period is “Custom dates”.", subtle=True, spacing="None"),
        input_choice(
            p.VISIBILITY, "Who can see it", VISIBILITY_CHOICES, required=True, value=Visibility.TEAM.value
        ),
        input_choice(p.KIND, "Type", KIND_CHOICES, required=True, value=Kind.BUSINESS.value),
        input_choice(p.PARENT, "Aligned to", _parent_choices(parents), value=p.NO_PARENT),
        input_number(p.WEIGHT, "Weight (how much it counts towards what it's aligned to)", min=0, value=1),
    ]
    for row in range(1, p.KEY_RESULT_ROWS + 1):
        body.append(_key_result_row(row))
    if values:
        _refill(body, values)
    data = {p.REQUEST_ID: request_id}
    return card(body, [execute("Create", p.VERB_CREATE, data, style="positive", submit_fallback=True)])


def goal_created_card(*, goal: GoalView, person_id: int, home_url: str | None = None) -> Element:
    """The confirmation after Create: the goal as it was saved, and where to go next."""
    entry = _Entry(goal, aligned_others=(), parent_title=None)
    body = [
        heading("Goal created"),
        _goal_block(entry, person_id=person_id, budget=None, focused=None),
    ]
    if goal.description:
        body.append(plain_text(truncate(goal.description, DESCRIPTION_SHOWN), subtle=True))
    body.append(fact_line("Who can see it", _choice_title(VISIBILITY_CHOICES, goal.visibility)))
    actions = [
        execute("See all my goals", p.VERB_SHOW, {p.PERSON_ID: person_id}, submit_fallback=True),
        execute("Set another goal", p.VERB_NEW, submit_fallback=True),
    ]
    if home_url:
        actions.append(open_url("Open Trellis", home_url))
    return card(body, actions)


def period_choices(today: date) -> list[tuple[str, str]]:
    """This and next quarter, half and year, as (title, period label), then custom dates."""
    year, quarter, half = today.year, (today.month - 1) // 3 + 1, (today.month - 1) // 6 + 1
    next_quarter = f"{year + 1}-Q1" if quarter == 4 else f"{year}-Q{quarter + 1}"
    next_half = f"{year + 1}-H1" if half == 2 else f"{year}-H2"
    labelled = (
        ("This quarter", f"{year}-Q{quarter}"),
        ("Next quarter", next_quarter),
        ("This half-year", f"{year}-H{half}"),
        ("Next half-year", next_half),
        ("This year", str(year)),
        ("Next year", str(year + 1)),
    )
    choices = [(f"{name} ({label}: {_dates(Period.of(label))})", label) for name, label in labelled]
    return [*choices, ("Custom dates", CUSTOM)]


# --- finding the person ------------------------------------------------------------------------------


def pick_person_card(*, typed: str, people: Sequence[PersonOption]) -> Element:
    """Several people match what was typed: one button per person (the first few) to see their goals."""
    shown = people[:MAX_PEOPLE_SHOWN]
    body = [
        rich_text("Several people match “", text_run(truncate(typed, 60), weight="Bolder"), "”."),
        text("Whose goals do you want to see?"),
    ]
    for person in shown:
        if person.detail:
            body.append(rich_text(text_run(person.name, weight="Bolder"), f" · {person.detail}"))
    if len(people) > len(shown):
        more = len(people) - len(shown)
        body.append(text(f"…and {more} more: type more of the name to narrow it down.", subtle=True))
    actions = [
        execute(truncate(person.name, 40), p.VERB_SHOW, {p.PERSON_ID: person.person_id}, submit_fallback=True)
        for person in shown
    ]
    return card(body, actions)


def no_person_card(*, typed: str) -> Element:
    """Nobody in the directory matches what was typed."""
    return card(
        [
            rich_text(
                "I couldn't find anyone called “", text_run(truncate(typed, 60), weight="Bolder"), "”."
            ),
            text("Try part of their name, or @mention them: for example **goals @Adele**."),
        ],
        [execute("My goals", p.VERB_SHOW, {}, submit_fallback=True)],
    )


# --- values ------------------------------------------------------------------------------------------


def value_text(kr: KeyResultView, value: float) -> str:
    """A key result's value as people read it: 40 %, $1,200, Done / Not yet, 3 of 5 steps, 12 km."""
    metric = _metric(kr.metric)
    if metric is Metric.BOOLEAN:
        return "Done" if value == kr.target else "Not yet"
    if metric is Metric.PERCENT:
        return f"{_number(value)}%"
    if metric is Metric.MILESTONE:
        return f"{_number(value)} of {_number(kr.target)} steps"
    if metric is Metric.CURRENCY and kr.unit and len(kr.unit) == 1:
        return f"{kr.unit}{_number(value, money=True)}"  # a symbol goes first: $1,200
    shown = _number(value, money=metric is Metric.CURRENCY)
    return f"{shown} {kr.unit}" if kr.unit else shown


def percent(progress: float) -> str:
    """A 0..1 progress as a whole percentage."""
    return f"{round(max(0.0, min(1.0, progress)) * 100)}%"


def card_that_fits(build: Callable[[int], Element], items: int) -> Element:
    """The card build(n) makes with as many of `items` as fit under the size limit (n counts down)."""
    for shown in range(items, 0, -1):
        with contextlib.suppress(CardTooLarge):
            result = build(shown)
            if card_size_bytes(result) < _SIZE_BUDGET:
                return result
    return build(0)


def fact_line(title: str, value: str) -> Element:
    """A "Title: value" line; the value may be typed text, so it is a TextRun."""
    return rich_text(text_run(f"{title}: ", weight="Bolder"), value)


# --- building blocks ---------------------------------------------------------------------------------

_STATUS_ORDER = {
    Status.ON_TRACK: 0,
    Status.BEHIND: 0,
    Status.AT_RISK: 0,
    Status.NOT_STARTED: 1,
    Status.EXPIRED: 2,
    Status.CLOSED: 3,
}


@dataclass(frozen=True)
class _Entry:
    """One of the person's goals, with what the flattened tree says about it."""

    goal: GoalView
    aligned_others: tuple[GoalView, ...]  # other people's goals aligned under it
    parent_title: str | None  # the person's own goal it is aligned under


class _ControlBudget:
    """How many Update buttons are left; counts the key results that had to go without."""

    def __init__(self, left: int) -> None:
        self.left = max(0, left)
        self.skipped = 0

    def take(self) -> bool:
        if self.left > 0:
            self.left -= 1
            return True
        self.skipped += 1
        return False


def _flatten(goals: Sequence[GoalView], person_id: int) -> list[_Entry]:
    """The person's goals, each once, parents before the goals aligned under them."""
    entries: list[_Entry] = []
    stack: list[tuple[GoalView, str | None]] = [(g, None) for g in reversed(goals)]
    seen: set[int] = set()
    while stack:
        goal, parent_title = stack.pop()
        if goal.id in seen:
            continue
        seen.add(goal.id)
        own = [c for c in goal.children if c.owner_person_id == person_id]
        others = tuple(c for c in goal.children if c.owner_person_id != person_id)
        entries.append(_Entry(goal, others, parent_title))
        stack.extend((c, goal.title) for c in reversed(own))
    return entries


def _goals_header(person_name: str, *, own: bool, count: int, focused: bool) -> list[Element]:
    if own:
        title = heading("Your goal" if focused else "Your goals")
    else:
        title = rich_text(text_run(f"{person_name}'s goals", size="Large", weight="Bolder"))
    if not count or focused:
        return [title]
    return [title, text(f"{count} {_plural(count, 'goal')}", subtle=True, spacing="None")]


def _no_goals(person_name: str, *, own: bool) -> Element:
    if own:
        return text("You have no goals yet. Set one to track your progress here.")
    return rich_text(person_name, " has no goals you can see.")


def _goal_block(
    entry: _Entry, *, person_id: int, budget: _ControlBudget | None, focused: int | None
) -> Element:
    """A goal: title, owner and period, progress bar and status, its key results (with Update controls
    while the budget lasts, when there is a budget: the viewer may change them)."""
    goal = entry.goal
    title = container(
        [plain_text(goal.title, size="Medium", weight="Bolder"), _goal_meta(entry)],
    )
    items: list[Element] = [title, _progress_row(goal.progress, goal.status)]
    open_ = goal.status is not Status.CLOSED and goal.closed_at is None
    skipped_before = budget.skipped if budget else 0
    krs = goal.key_results[:MAX_KEY_RESULTS_SHOWN]
    for kr in krs:
        controls = open_ and budget is not None and budget.take()
        items.append(_key_result_block(kr, goal, person_id=person_id, controls=controls, focused=focused))
    if len(goal.key_results) > len(krs):
        more = len(goal.key_results) - len(krs)
        items.append(text(f"{more} more key {_plural(more, 'result')} in the Trellis app.", subtle=True))
    if entry.aligned_others:
        names = ", ".join(dict.fromkeys(g.owner_label for g in entry.aligned_others))
        count = len(entry.aligned_others)
        items.append(
            rich_text(f"{count} aligned {_plural(count, 'goal')} from others: ", names, spacing="Small")
        )
    if budget is not None and focused is None and budget.skipped > skipped_before:
        # Teams allows six buttons, so a goal left without Update buttons opens on a card of its own.
        title["selectAction"] = execute(
            "Update this goal", p.VERB_SHOW, {p.PERSON_ID: person_id, p.GOAL_ID: goal.id}
        )
    return container(items, spacing="Large") | {"separator": True}


def _goal_meta(entry: _Entry) -> Element:
    goal = entry.goal
    parts = [goal.owner_label, f"{goal.period.label} ({_dates(goal.period)})"]
    if goal.kind == Kind.DEVELOPMENT:
        parts.append("development goal")
    if goal.visibility == Visibility.PRIVATE:
        parts.append("private")
    runs = [text_run(" · ".join(part for part in parts if part), subtle=True)]
    if entry.parent_title:
        runs.append(text_run(f" · aligned under “{truncate(entry.parent_title, 60)}”", subtle=True))
    return rich_text(*runs, spacing="None")


def _progress_row(progress: float, status: Status) -> Element:
    """A bar (two weighted columns: done and to do) with the percentage and the status in words."""
    done = round(max(0.0, min(1.0, progress)) * 100)
    bar: list[Element] = []
    if done > 0:
        bar.append(_bar_part(done, _BAR_STYLE.get(status, "accent")))
    if done < 100:
        bar.append(_bar_part(100 - done, "emphasis"))
    status_text = text(STATUS_WORDS[status], weight="Bolder", color=_STATUS_COLOR.get(status))
    return column_set(
        [
            column([column_set(bar)], width="stretch") | {"verticalContentAlignment": "Center"},
            column([text(f"{done}%", weight="Bolder")], width="auto"),
            column([status_text], width="auto"),
        ],
        spacing="Small",
    )


def _bar_part(weight: int, style: str) -> Element:
    return column([], width=str(weight)) | {"style": style, "minHeight": "10px", "spacing": "None"}


def _key_result_block(
    kr: KeyResultView, goal: GoalView, *, person_id: int, controls: bool, focused: int | None
) -> Element:
    runs = [text_run(value_text(kr, kr.current))]
    if _metric(kr.metric) not in (Metric.BOOLEAN, Metric.MILESTONE):  # those already say where they go
        runs += [text_run(" → ", subtle=True), text_run(value_text(kr, kr.target))]
    line = rich_text(*runs, text_run(f" · {percent(kr.progress)}", subtle=True), spacing="None")
    items: list[Element] = [plain_text(kr.title, weight="Bolder"), line]
    if controls:
        items += _update_controls(kr, goal, person_id=person_id, focused=focused)
    return container(items, spacing="Medium")


def _update_controls(
    kr: KeyResultView, goal: GoalView, *, person_id: int, focused: int | None
) -> list[Element]:
    data: dict[str, Any] = {
        p.KEY_RESULT_ID: kr.id,
        p.VERSION: kr.version,
        p.GOAL_ID: goal.id,
        p.PERSON_ID: person_id,
    }
    if focused is not None:
        data[p.FOCUS] = True
    return [
        _value_input(kr),
        input_text(p.comment_input_id(kr.id), "Comment (optional)", max_length=p.COMMENT_MAX),
        input_choice(p.confidence_input_id(kr.id), "Confidence it will be met (optional)", _CONFIDENCE),
        action_set([execute("Update", p.VERB_UPDATE, data, submit_fallback=True)]),
    ]


def _value_input(kr: KeyResultView) -> Element:
    input_id = p.value_input_id(kr.id)
    metric = _metric(kr.metric)
    if metric is Metric.BOOLEAN:
        # Yes/no is a choice, not a number to type; "1" and "0" are what the key result stores.
        done, not_yet = _number(kr.target), _number(1 - kr.target)
        return input_choice(
            input_id,
            "Done?",
            [("Done", done), ("Not yet", not_yet)],
            value=_number(kr.current),
            expanded=True,
            required=True,
            error_message="Choose Done or Not yet.",
        )
    if metric is Metric.MILESTONE:
        label, low, high = f"Steps done (0 to {_number(kr.target)})", 0.0, kr.target
    else:
        label, low, high = _VALUE_LABELS.get(metric, "New value"), None, None
    return input_number(
        input_id, label, min=low, max=high, value=kr.current, required=True, error_message="Enter a number."
    )


_VALUE_LABELS = {Metric.PERCENT: "New value (%)", Metric.CURRENCY: "New amount"}
_CONFIDENCE = [("1 · unlikely", "1"), *((str(n), str(n)) for n in range(2, 10)), ("10 · certain", "10")]


def _key_result_row(row: int) -> Element:
    def field(name: str) -> str:
        return p.key_result_input_id(row, name)

    return container(
        [
            text(f"Key result {row}" + ("" if row == 1 else " (optional)"), weight="Bolder"),
            input_text(field("title"), f"Key result {row}: what will you measure?", max_length=TITLE_MAX),
            input_choice(field("metric"), f"Key result {row}: measured as", METRIC_CHOICES, value="number"),
            column_set(
                [
                    column([input_number(field("start"), f"Key result {row}: start", value=0)]),
                    column([input_number(field("target"), f"Key result {row}: target")]),
                    column([input_text(field("unit"), f"Key result {row}: unit", max_length=p.UNIT_MAX)]),
                ]
            ),
        ],
        spacing="Large",
    ) | {"separator": True}


def _refill(node: Any, values: Mapping[str, Any]) -> None:
    """Put submitted values back into the inputs they came from; values that don't fit are left out."""
    if isinstance(node, list):
        for item in node:
            _refill(item, values)
        return
    if not isinstance(node, dict):
        return
    for key in ("items", "columns"):
        _refill(node.get(key), values)
    raw = values.get(node.get("id", ""))
    kind = node.get("type", "")
    if not kind.startswith("Input.") or not isinstance(raw, str | int | float) or isinstance(raw, bool):
        return
    if kind == "Input.Number":
        with contextlib.suppress(PayloadError):
            node["value"] = p.number(raw, label="value")
    elif kind == "Input.ChoiceSet":
        if any(choice["value"] == raw for choice in node["choices"]):
            node["value"] = raw
    elif kind == "Input.Date":
        if isinstance(raw, str) and p.DATE_PATTERN.fullmatch(raw):
            node["value"] = raw
    elif isinstance(raw, str):
        node["value"] = raw[: node.get("maxLength", len(raw))]


def _parent_choices(parents: Sequence[GoalView]) -> list[tuple[str, str]]:
    choices = [("Nothing: a goal of its own", p.NO_PARENT)]
    for goal in parents[:MAX_PARENT_CHOICES]:
        title = f"{goal.title} ({goal.owner_label}, {goal.period.label})"
        choices.append((truncate(title, CHOICE_TITLE_MAX), str(goal.id)))
    return choices


def _find_key_result(goal: GoalView, key_result_id: int) -> KeyResultView | None:
    stack = [goal]
    while stack:
        current = stack.pop()
        for kr in current.key_results:
            if kr.id == key_result_id:
                return kr
        stack.extend(current.children)
    return None


def _metric(value: str) -> Metric:
    try:
        return Metric(value)
    except ValueError:
        return Metric.NUMBER


def _number(value: float, *, money: bool = False) -> str:
    value = float(value)
    if abs(value) >= 1e15:
        return f"{value:.6g}"  # nobody reads 16 digits; the exact value is in the tab
    if value.is_integer():
        return f"{int(value):,}"
    if money:
        return f"{value:,.2f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _dates(period: Period) -> str:
    start, end = period.start, period.end
    if start.year == end.year:
        return f"{start.day} {start:%b} to {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"


def _quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _choice_title(choices: Sequence[tuple[str, str]], value: str) -> str:
    return next((title for title, v in choices if v == value), value)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"

"""Weekly check-in cards: the form, its confirmation and reminder, the manager's digest, a reply arriving,
and the check-in day; and the parsers for what those cards send back.

Every button is an Action.Execute with an Action.Submit fallback carrying the same data, so the bot reads
one shape whichever arrives. Text from people goes through plain_text (never markdown).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from adaptive_cards.elements import (
    CardTooLarge,
    Element,
    card,
    container,
    execute,
    heading,
    input_choice,
    input_number,
    input_text,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)
from adaptive_cards.payloads import PayloadError, optional_text, require_choice
from domain.performance.checkin_views import (
    ANSWER_MAX,
    COMMENT_MAX,
    MOODS,
    SEND_FROM,
    TALKING_POINT_MAX,
    WEEKDAYS,
    CheckInAnswers,
    CheckInDayView,
    CheckInView,
    CommentView,
    DigestView,
    KeyResultChange,
    KeyResultLine,
    KeyResultValue,
    TalkingPointView,
    week_label,
)

# Verbs the bot registers (bot/checkins.py).
SUBMIT = "checkin.submit"
REPLY = "checkin.reply"
OPEN = "checkin.open"
DIGEST = "checkin.digest"
SET_DAY = "checkin.set_day"

PAUSED = "off"
_STALE = "This check-in card is out of date. Type checkin for a fresh one."
_MOOD_LABEL = "How was your week?"
_POINT_LABEL = "Anything to talk about with your manager?"
_RESOLVE_LABEL = "Resolved since last time"
_DIGEST_RESOLVE_LABEL = "Mark talking points as resolved"
_DAY_LABEL = "Check-in day"
_KR_NUMBER = "Please enter a number for each key result you update, or leave it empty."
# Digest text per answer, tried from the first down until the card fits in Teams' limit.
_DIGEST_TEXT_LIMITS = (1000, 400, 160, 60)
_CHOICE_TITLE_MAX = 80
_ID_MAX = 2**31 - 1


# --- the person's check-in ---------------------------------------------------------------------------


def checkin_card(
    view: CheckInView,
    *,
    reminder: bool = False,
    notice: str | None = None,
    draft: CheckInAnswers | None = None,
) -> Element:
    """The weekly form: mood, new values for key results, wins, blockers, priorities, talking points.

    A submitted check-in shows its confirmation instead; `draft` refills the form after a refusal."""
    if view.submitted:
        return checkin_submitted_card(view)
    title = "Reminder: your check-in is waiting" if reminder else "Your weekly check-in"
    body: list[Element] = [
        heading(title),
        text(f"For {week_label(view.week_start)}. Your manager sees it in their weekly digest.", subtle=True),
    ]
    if notice:
        body.append(plain_text(notice, color="Attention", weight="Bolder"))
    if view.previous_priorities:
        body += [text("Last week you planned", weight="Bolder"), plain_text(view.previous_priorities)]
    body.append(
        input_choice(
            "mood",
            _MOOD_LABEL,
            [(f"{word} ({n})", str(n)) for n, word in MOODS.items()],
            required=True,
            expanded=True,
            value=str(draft.mood) if draft else None,
            error_message="Choose how your week was.",
        )
    )
    body += _key_result_inputs(view.key_results, draft)
    body += [
        _answer("wins", "Wins", draft.wins if draft else None, "What went well?"),
        _answer("blockers", "Blockers", draft.blockers if draft else None, "What is in your way?"),
        _answer("priorities", "Priorities for next week", draft.priorities if draft else None, None),
    ]
    body += _carried_points(view.open_points)
    body.append(
        input_text(
            "new_point",
            _POINT_LABEL,
            max_length=TALKING_POINT_MAX,
            placeholder="A talking point for your next 1:1",
            value=draft.new_talking_point if draft and draft.new_talking_point else None,
        )
    )
    data = {"checkin_id": view.id, "versions": {str(kr.id): kr.version for kr in view.key_results}}
    return card(body, [execute("Send check-in", SUBMIT, data, style="positive", submit_fallback=True)])


def checkin_reminder_card(view: CheckInView) -> Element:
    """The form again, the day after it went out unanswered."""
    return checkin_card(view, reminder=True)


def checkin_submitted_card(view: CheckInView) -> Element:
    """What the person sent (or, on a second click, that it was already sent)."""
    title = "Check-in already sent" if view.already_submitted else "Check-in sent"
    body: list[Element] = [
        heading(title),
        text(f"For {week_label(view.week_start)}. Your manager sees it in their weekly digest.", subtle=True),
        *_answers(view, limit=ANSWER_MAX),
    ]
    if view.comments:
        body.append(text("Replies", weight="Bolder"))
        body += [_comment(c) for c in view.comments]
    if view.open_points:
        body.append(text("Open talking points", weight="Bolder"))
        body += [_point(p) for p in view.open_points]
    if view.already_submitted:
        body.append(text("This was already submitted, so nothing more was changed.", subtle=True))
    return card(body)


def _key_result_inputs(lines: tuple[KeyResultLine, ...], draft: CheckInAnswers | None) -> list[Element]:
    if not lines:
        return [text("You have no active goals with key results right now.", subtle=True)]
    entered = {v.key_result_id: v.value for v in draft.key_results} if draft else {}
    inputs: list[Element] = [
        text("Progress on your goals", weight="Bolder", spacing="Medium"),
        text("Enter a new value only where it moved; leave the rest empty.", subtle=True),
    ]
    for kr in lines:
        unit = f" {kr.unit}" if kr.unit else ""
        label = truncate(f"{kr.goal_title} · {kr.title} (now {kr.current:g} of {kr.target:g}{unit})", 200)
        bounds = _bounds(kr)
        inputs.append(
            input_number(f"kr_{kr.id}", label, min=bounds[0], max=bounds[1], value=entered.get(kr.id))
        )
    return inputs


def _bounds(kr: KeyResultLine) -> tuple[float | None, float | None]:
    if kr.metric == "boolean":
        return 0, 1
    if kr.metric == "milestone":
        return 0, kr.target
    return None, None


def _answer(id: str, label: str, value: str | None, placeholder: str | None) -> Element:
    return input_text(
        id, label, multiline=True, max_length=ANSWER_MAX, value=value or None, placeholder=placeholder
    )


def _carried_points(points: tuple[TalkingPointView, ...]) -> list[Element]:
    if not points:
        return []
    return [
        text("Talking points still open", weight="Bolder", spacing="Medium"),
        *(_point(p) for p in points),
        input_choice(
            "resolve_points",
            _RESOLVE_LABEL,
            [(truncate(p.text, _CHOICE_TITLE_MAX), str(p.id)) for p in points],
            multi_select=True,
            expanded=True,
        ),
    ]


# --- the manager's digest ----------------------------------------------------------------------------


def checkin_digest_card(view: DigestView, *, notice: str | None = None, done: str | None = None) -> Element:
    """A manager's reports' check-ins for a week, with a reply box for each and one Reply button.

    One button for all replies: Teams shows at most 6 actions on a card, and a team can be larger.
    `notice` says what was refused (nothing was sent); `done` what the last Reply did."""
    for limit in _DIGEST_TEXT_LIMITS:
        try:
            return _digest(view, notice, done, limit, len(view.checkins))
        except CardTooLarge:
            continue
    # Even short answers don't fit: show as many people as do, and say that the rest didn't.
    shown = len(view.checkins)
    while shown > 0:
        shown -= 1
        try:
            return _digest(view, notice, done, _DIGEST_TEXT_LIMITS[-1], shown)
        except CardTooLarge:
            continue
    return _digest(view, notice, done, _DIGEST_TEXT_LIMITS[-1], 0)


def _digest(view: DigestView, notice: str | None, done: str | None, limit: int, shown: int) -> Element:
    body: list[Element] = [
        heading("Your team's check-ins"),
        text(f"For {week_label(view.week_start)}.", subtle=True),
    ]
    if notice:
        body.append(plain_text(notice, color="Attention", weight="Bolder"))
    if done:
        body.append(text(done, color="Good", weight="Bolder"))
    refresh = execute("Refresh", DIGEST, {"week": view.week_start.isoformat()}, submit_fallback=True)
    if not view.has_reports:
        body.append(
            text("Nobody reports to you, so there are no team check-ins. Type **checkin** for yours.")
        )
        return card(body)
    if not view.checkins:
        body.append(text("No check-ins have been submitted for this week yet."))
    for checkin in view.checkins[:shown]:
        body.append(_digest_entry(checkin, limit))
    hidden = len(view.checkins) - shown
    if hidden:
        body.append(text(f"{hidden} more check-ins didn't fit on this card.", subtle=True))
    if view.waiting:
        body.append(
            rich_text(
                text_run("Not checked in yet: ", weight="Bolder"), ", ".join(view.waiting), spacing="Medium"
            )
        )
    points = [(c.person_name, p) for c in view.checkins[:shown] for p in c.open_points]
    if points:
        body.append(
            input_choice(
                "resolve_points",
                _DIGEST_RESOLVE_LABEL,
                [(truncate(f"{name}: {p.text}", _CHOICE_TITLE_MAX), str(p.id)) for name, p in points],
                multi_select=True,
                expanded=True,
            )
        )
    actions = [refresh]
    if shown:
        data = {"week": view.week_start.isoformat(), "seen_comment": view.seen_comment}
        actions.insert(0, execute("Reply", REPLY, data, style="positive", submit_fallback=True))
    return card(body, actions)


def _digest_entry(view: CheckInView, limit: int) -> Element:
    items: list[Element] = [
        plain_text(view.person_name, size="Medium", weight="Bolder"),
        *_answers(view, limit=limit),
        *(_labelled("Talking point", truncate(p.text, limit)) for p in view.open_points),
        *(_comment(c, limit=limit) for c in view.comments),
        input_text(
            f"comment_{view.id}",
            f"Reply to {truncate(view.person_name, 60)}",
            multiline=True,
            max_length=COMMENT_MAX,
        ),
    ]
    return container(items, style="emphasis", spacing="Medium")


def checkin_comment_card(comment: CommentView) -> Element:
    """A reply to one's check-in, arriving in the 1:1 chat."""
    return card(
        [
            plain_text(f"{comment.author} replied to your check-in", size="Medium", weight="Bolder"),
            text(f"For {week_label(comment.week_start)}.", subtle=True),
            plain_text(comment.text),
        ],
        [execute("Open this week's check-in", OPEN, submit_fallback=True)],
    )


# --- the check-in day --------------------------------------------------------------------------------


def checkin_day_card(view: CheckInDayView, *, saved: bool = False) -> Element:
    """When the card comes, and a choice to change it (or pause the cards)."""
    body: list[Element] = [heading("Your check-in day")]
    if view.paused:
        body.append(text("Check-in cards are paused. Choose a day to get them again."))
    else:
        lead = "Saved: your" if saved else "Your"
        when = WEEKDAYS[view.weekday] + ("" if view.chosen else " (the default)")
        body.append(text(f"{lead} check-in card comes every **{when}**."))
        if view.next_card_on is not None:
            body.append(text(f"Next one: {_day(view.next_card_on)}.", subtle=True))
    body.append(plain_text(_day_zone(view), subtle=True))
    choices = [(day, str(i)) for i, day in enumerate(WEEKDAYS)] + [("No check-in cards (pause)", PAUSED)]
    body.append(
        input_choice("weekday", _DAY_LABEL, choices, value=PAUSED if view.paused else str(view.weekday))
    )
    return card(body, [execute("Save", SET_DAY, submit_fallback=True)])


def _day_zone(view: CheckInDayView) -> str:
    """Which clock the day follows; plain text, as zone names have underscores markdown would eat."""
    hour = f"{SEND_FROM:%H:%M}"
    if view.own_time_zone:
        return f"Days follow your time zone, {view.time_zone}: the card comes from {hour} your time."
    # No zone on file: say whose days they get, so "Friday" is not read as their own.
    return (
        f"Your profile has no time zone, so days follow your organization's, {view.time_zone}: "
        f"the card comes from {hour} {view.time_zone}."
    )


# --- shared pieces -----------------------------------------------------------------------------------


def _answers(view: CheckInView, *, limit: int) -> list[Element]:
    # One block per answer, label and text together: a digest repeats this per report, and every block
    # saved is room for another person on the card.
    parts: list[Element] = []
    if view.mood is not None:
        parts.append(_labelled("Mood", f"{MOODS.get(view.mood, '')} ({view.mood})"))
    for label, answer in (("Wins", view.wins), ("Blockers", view.blockers), ("Priorities", view.priorities)):
        if answer:
            parts.append(_labelled(label, truncate(answer, limit)))
    if view.changes:
        parts.append(_labelled("Progress", truncate("; ".join(_change(c) for c in view.changes), limit)))
    return parts


def _labelled(label: str, value: str) -> Element:
    return rich_text(text_run(f"{label}: ", weight="Bolder"), value)


def _change(change: KeyResultChange) -> str:
    unit = f" {change.unit}" if change.unit else ""
    return f"{change.title}: {change.old:g} → {change.new:g}{unit}"


def _point(point: TalkingPointView, *, limit: int = TALKING_POINT_MAX) -> Element:
    by = f" (raised by {point.raised_by}, {_day(point.raised_on)})" if point.raised_by else ""
    return rich_text("• ", text_run(truncate(point.text, limit)), text_run(by, subtle=True))


def _comment(comment: CommentView, *, limit: int = COMMENT_MAX) -> Element:
    return rich_text(text_run(f"{comment.author}: ", weight="Bolder"), truncate(comment.text, limit))


def _day(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} {day:%B}"


# --- payloads ----------------------------------------------------------------------------------------


def parse_checkin_submit(data: Mapping[str, Any]) -> tuple[int, CheckInAnswers]:
    """The check-in id and answers of a submitted check-in card."""
    checkin_id = _id(data.get("checkin_id"))
    mood = int(require_choice(data, "mood", label=_MOOD_LABEL, choices=[str(n) for n in MOODS]))
    return checkin_id, CheckInAnswers(
        mood=mood,
        wins=optional_text(data, "wins", label="Wins", max_len=ANSWER_MAX),
        blockers=optional_text(data, "blockers", label="Blockers", max_len=ANSWER_MAX),
        priorities=optional_text(data, "priorities", label="Priorities for next week", max_len=ANSWER_MAX),
        key_results=_key_result_values(data),
        new_talking_point=optional_text(data, "new_point", label=_POINT_LABEL, max_len=TALKING_POINT_MAX),
        resolved_points=_ids(data.get("resolve_points")),
    )


def parse_checkin_reply(data: Mapping[str, Any]) -> tuple[date, dict[int, str], tuple[int, ...], int]:
    """The week, replies per check-in id, talking points to resolve, and the newest comment the digest
    showed, from a digest's Reply."""
    comments: dict[int, str] = {}
    for key in data:
        if key.startswith("comment_"):
            reply = optional_text(data, key, label="Reply", max_len=COMMENT_MAX)
            if reply:
                comments[_id(key.removeprefix("comment_"))] = reply
    seen = data.get("seen_comment", 0)
    if isinstance(seen, bool) or not isinstance(seen, int) or seen < 0:
        raise PayloadError(_STALE)
    return parse_week(data), comments, _ids(data.get("resolve_points")), seen


def parse_week(data: Mapping[str, Any]) -> date:
    """The week (its Monday) a digest card was about."""
    raw = data.get("week")
    try:
        return date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else _bad_week()
    except ValueError:
        return _bad_week()


def parse_checkin_day(data: Mapping[str, Any]) -> int | None:
    """The weekday chosen on the check-in day card (0 = Monday), or None to pause."""
    choice = require_choice(data, "weekday", label=_DAY_LABEL, choices=[*map(str, range(7)), PAUSED])
    return None if choice == PAUSED else int(choice)


_DAY_WORDS = {day.lower(): i for i, day in enumerate(WEEKDAYS)} | {
    day[:3].lower(): i for i, day in enumerate(WEEKDAYS)
}
_PAUSE_WORDS = frozenset({"off", "pause", "none", "never", "stop"})


def parse_weekday(words: str) -> int | None:
    """A typed check-in day ("thursday", "Thu", "off") → 0..6, or None to pause."""
    word = " ".join(words.lower().split()).strip(" .!")
    if word in _PAUSE_WORDS:
        return None
    if word in _DAY_WORDS:
        return _DAY_WORDS[word]
    shown = truncate(word, 30)
    if not shown:
        raise PayloadError("Say which day, like: checkin day friday (or checkin day off to pause).")
    raise PayloadError(f"“{shown}” is not a day I know. Say a weekday, like: checkin day friday (or off).")


def _key_result_values(data: Mapping[str, Any]) -> tuple[KeyResultValue, ...]:
    versions = data.get("versions")
    if not isinstance(versions, Mapping):
        raise PayloadError(_STALE)
    values = []
    for key, raw in data.items():
        if not key.startswith("kr_") or raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        kr_id = _id(key.removeprefix("kr_"))
        version = versions.get(str(kr_id))
        if isinstance(version, bool) or not isinstance(version, int):
            raise PayloadError(_STALE)
        values.append(KeyResultValue(kr_id, _number(raw), version))
    return tuple(sorted(values, key=lambda v: v.key_result_id))


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise PayloadError(_KR_NUMBER)
    if isinstance(raw, str):
        raw = raw.strip()
        # Input.Number sends plain decimals; cap the length so a pasted giant number costs nothing.
        if len(raw) > 30 or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
            raise PayloadError(_KR_NUMBER)
    if not isinstance(raw, int | float | str):
        raise PayloadError(_KR_NUMBER)
    value = float(raw)
    if not math.isfinite(value):
        raise PayloadError(_KR_NUMBER)
    return value


def _id(raw: Any) -> int:
    if isinstance(raw, bool):
        raise PayloadError(_STALE)
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if not isinstance(raw, int) or not 1 <= raw <= _ID_MAX:
        raise PayloadError(_STALE)
    return raw


def _ids(raw: Any) -> tuple[int, ...]:
    """A multi-select ChoiceSet's value: ids separated by commas, or nothing."""
    if raw is None or raw == "":
        return ()
    if not isinstance(raw, str) or len(raw) > 10_000:
        raise PayloadError(_STALE)
    return tuple(dict.fromkeys(_id(part.strip()) for part in raw.split(",") if part.strip()))


def _bad_week() -> date:
    raise PayloadError(_STALE)

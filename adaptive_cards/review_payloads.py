"""What the review cards send back, read into typed values: verbs, input ids, and the parsers.

Nothing here trusts the payload: ids must be whole numbers, ratings a point of the scale the form showed,
choices one of the item's choices, texts within their limits. A bad value is a PayloadError whose
message names the question, so the card can say what to fix; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adaptive_cards.elements import truncate
from adaptive_cards.payloads import PayloadError, optional_text
from domain.performance.improvement_plan_views import NOTES_MAX, CheckpointStatus
from domain.performance.review_views import ANSWER_MAX, COMMENT_MAX, AnswerInput, FormSection, ItemKind

# Verbs the bot registers (bot/reviews.py, bot/review_nudges.py).
LIST = "review.list"
PICK = "review.pick"
OPEN = "review.open"
SAVE = "review.save"
SUBMIT = "review.submit"
RESULT = "review.result"
ACKNOWLEDGE = "review.acknowledge"
NOMINATIONS = "review.nominations"
NOMINATE = "review.nominate"
TEAM_STATUS = "review.team_status"
NUDGE_NOW = "review.nudge_now"
CHECKPOINT = "pip.checkpoint"

# Action data keys.
REVIEW_ID = "review_id"
SECTION_ID = "section_id"
VERSION = "version"
STEP = "step"
PAGE = "page"
GO = "go"
KEYS = "keys"
CYCLE_ID = "cycle_id"
REVIEWEE_ID = "reviewee_id"
PLAN_ID = "plan_id"
CHECKPOINT_ID = "checkpoint_id"

# Where a save goes next.
BACK, STAY, NEXT = "back", "stay", "next"

# Input ids: per item of the step shown, and the other forms'.
RATING, COMMENT, TEXT, CHOICE = "rating_", "comment_", "text_", "choice_"
PICKED = "picked"
ACK_COMMENT = "ack_comment"
PEERS = "peers"
CYCLE_CHOICE = "cycle"
CHECKPOINT_STATUS = "checkpoint_status"
CHECKPOINT_NOTES = "checkpoint_notes"

PEERS_TYPED_MAX = 1000
STALE = "This review card is out of date or incomplete. Type reviews for a fresh one."
_ID_MAX = 2**31 - 1
_LABEL_SHOWN = 80


@dataclass(frozen=True)
class StepPayload:
    """A press on a form step: where it was, what it showed, where to go, and the answers typed."""

    review_id: int
    section_id: int
    version: int
    step: int
    page: int
    go: str
    keys: tuple[str, ...]  # the items the card showed: one left empty was cleared


@dataclass(frozen=True)
class Picked:
    """A choice from a list card's "more" menu: what to open, and which."""

    verb: str
    ids: tuple[int, ...]


def parse_step(data: Mapping[str, Any]) -> StepPayload:
    """Where a form step's button was pressed (the answers are read with parse_answers)."""
    go = data.get(GO)
    if go not in (BACK, STAY, NEXT):
        raise PayloadError(STALE)
    keys = data.get(KEYS)
    if not isinstance(keys, list) or len(keys) > 200 or not all(isinstance(k, str) and k for k in keys):
        raise PayloadError(STALE)
    return StepPayload(
        review_id=parse_id(data, REVIEW_ID),
        section_id=parse_id(data, SECTION_ID),
        version=_count(data.get(VERSION)),
        step=_count(data.get(STEP)),
        page=_count(data.get(PAGE)),
        go=go,
        keys=tuple(dict.fromkeys(keys)),
    )


def parse_answers(
    data: Mapping[str, Any], section: FormSection, keys: Sequence[str], points: int
) -> dict[str, AnswerInput]:
    """The answers to the items the card showed (`keys`), checked against the form: a rating is a point of
    the scale, a choice one of the item's. An item left empty comes back as a cleared answer."""
    items = {item.key: item for item in section.items}
    answers: dict[str, AnswerInput] = {}
    for key in keys:
        item = items.get(key)
        if item is None:
            raise PayloadError(STALE)
        label = truncate(item.text, _LABEL_SHOWN)
        if item.kind is ItemKind.RATING:
            answers[key] = AnswerInput(
                rating=_rating(data.get(RATING + key), label, points),
                text=optional_text(data, COMMENT + key, label=f"Comment on {label}", max_len=ANSWER_MAX),
            )
        elif item.kind is ItemKind.CHOICE:
            answers[key] = AnswerInput(choice=_choice(data.get(CHOICE + key), label, item.choices))
        else:
            answers[key] = AnswerInput(text=optional_text(data, TEXT + key, label=label, max_len=ANSWER_MAX))
    return answers


def typed_answers(
    data: Mapping[str, Any], section: FormSection, keys: Sequence[str], points: int
) -> dict[str, AnswerInput]:
    """What was typed on the card, without judging it: to give the form back after a refusal. A value
    that can't be shown (not a point of the scale, not a choice offered) is left out."""
    items = {item.key: item for item in section.items}
    typed: dict[str, AnswerInput] = {}
    for key in keys:
        item = items.get(key)
        if item is None:
            continue
        rating = data.get(RATING + key)
        choice = data.get(CHOICE + key)
        text = data.get(COMMENT + key) if item.kind is ItemKind.RATING else data.get(TEXT + key)
        typed[key] = AnswerInput(
            rating=int(rating) if rating in {str(n) for n in range(1, points + 1)} else None,
            choice=choice if isinstance(choice, str) and choice in item.choices else None,
            text=truncate(text, ANSWER_MAX) if isinstance(text, str) and text.strip() else None,
        )
    return typed


def parse_id(data: Mapping[str, Any], key: str) -> int:
    """A whole-number id the card put in its action data (or a choice's value)."""
    raw = data.get(key)
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 10:
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= _ID_MAX:
        raise PayloadError(STALE)
    return raw


def parse_picked(data: Mapping[str, Any]) -> Picked:
    """The entry chosen in a list card's menu: "verb:id[:id]"."""
    raw = data.get(PICKED)
    if raw is None or raw == "":
        raise PayloadError("Choose a review from the list first.")
    if not isinstance(raw, str) or len(raw) > 100:
        raise PayloadError(STALE)
    verb, _, rest = raw.partition(":")
    if verb not in (OPEN, RESULT, NOMINATIONS) or not rest:
        raise PayloadError(STALE)
    return Picked(verb, tuple(parse_id({"id": part}, "id") for part in rest.split(":")))


def picked_value(verb: str, *ids: int) -> str:
    """A list card menu entry's value (read back by parse_picked)."""
    return ":".join([verb, *map(str, ids)])


def parse_acknowledgement(data: Mapping[str, Any]) -> tuple[int, str | None]:
    """The cycle acknowledged and the optional comment."""
    return parse_id(data, CYCLE_ID), optional_text(data, ACK_COMMENT, label="Comment", max_len=COMMENT_MAX)


def parse_nomination(data: Mapping[str, Any]) -> tuple[int, int, list[str]]:
    """The cycle, the person reviewed, and the names typed (separated by commas, semicolons or lines)."""
    cycle_id, reviewee_id = parse_id(data, CYCLE_ID), parse_id(data, REVIEWEE_ID)
    typed = optional_text(data, PEERS, label="Colleagues to ask", max_len=PEERS_TYPED_MAX) or ""
    parts = [p.strip().lstrip("@").strip() for p in typed.replace(";", ",").replace("\n", ",").split(",")]
    names = [p for p in parts if p]
    if not names:
        raise PayloadError("Type the names of the colleagues to ask, separated by commas.")
    return cycle_id, reviewee_id, names


def parse_cycle_choice(data: Mapping[str, Any]) -> int:
    """The cycle chosen on HR's "nudge now" card (or carried in its data)."""
    if data.get(CYCLE_CHOICE) not in (None, ""):
        return parse_id(data, CYCLE_CHOICE)
    if data.get(CYCLE_ID) is not None:
        return parse_id(data, CYCLE_ID)
    raise PayloadError("Choose the cycle to nudge.")


CHECKPOINT_CHOICES = (CheckpointStatus.MET, CheckpointStatus.PARTLY_MET, CheckpointStatus.NOT_MET)


def parse_checkpoint(data: Mapping[str, Any]) -> tuple[int, int, CheckpointStatus, str]:
    """An improvement plan checkpoint recorded from a reminder: plan, checkpoint, status and notes."""
    plan_id, checkpoint_id = parse_id(data, PLAN_ID), parse_id(data, CHECKPOINT_ID)
    raw = data.get(CHECKPOINT_STATUS)
    if raw in (None, ""):
        raise PayloadError("Choose whether the checkpoint was met.")
    if raw not in {s.value for s in CHECKPOINT_CHOICES}:
        raise PayloadError("Choose one of the options offered for “Was it met?”.")
    notes = optional_text(data, CHECKPOINT_NOTES, label="Notes", max_len=NOTES_MAX)
    if notes is None:
        raise PayloadError("Write a note on the checkpoint: what you saw, and what happens next.")
    return plan_id, checkpoint_id, CheckpointStatus(raw), notes


def _rating(raw: Any, label: str, points: int) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    # Never echo the value sent: it may be long or crafted.
    wanted = f"Rate “{label}” with one of the {points} points of the scale offered."
    if isinstance(raw, bool):
        raise PayloadError(wanted)
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 2:
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 1 <= raw <= points:
        raise PayloadError(wanted)
    return raw


def _choice(raw: Any, label: str, choices: Sequence[str]) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str) or raw not in choices:
        raise PayloadError(f"Choose one of the options offered for “{label}”.")
    return raw


def _count(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= _ID_MAX:
        raise PayloadError(STALE)
    return raw

"""Small builders for Adaptive Card parts, so every card follows the Teams rules by construction.

Two kinds of text: `text()` is for words we write (a TextBlock, which Teams reads as markdown);
`plain_text()` is for anything that came from a person or the directory (a RichTextBlock of TextRuns,
which Teams never reads as markdown), so a name like `*Sam*` or a goal like `[x](y)` shows as typed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # the newest schema Teams renders; Universal Actions need at least 1.4
MAX_CARD_BYTES = 80_000  # Teams refuses messages near 100 KB (UTF-16); keep a margin for the envelope
MAX_REFRESH_USER_IDS = 60  # Teams ignores `refresh` when userIds lists more people
# Action.Submit has no verb; an Execute's Submit fallback carries it in data under this key.
SUBMIT_VERB_KEY = "verb"

Element = dict[str, Any]
Action = dict[str, Any]

# The host replaces `{{DATE(...)}}` / `{{TIME(...)}}` in any text, TextRuns included. A word joiner
# (invisible, zero width) between the braces stops that for text a person typed, and nothing else.
_DATE_FUNCTION = re.compile(r"\{\{(?=(?:DATE|TIME)\()")
_WORD_JOINER = "\u2060"


class CardTooLarge(ValueError):
    """A card's serialized size is over the limit Teams accepts."""

    def __init__(self, size: int, limit: int = MAX_CARD_BYTES) -> None:
        super().__init__(f"card is {size} bytes serialized, over the {limit}-byte limit")
        self.size = size
        self.limit = limit


def card_size_bytes(card: Mapping[str, Any]) -> int:
    """Conservative size of a card as Teams counts it: UTF-16 bytes of its ASCII-escaped JSON."""
    # ensure_ascii=True writes non-ASCII as \uXXXX (6 characters), which can only overestimate.
    return len(json.dumps(card)) * 2


def ensure_fits(card: Element) -> Element:
    """Return the card unchanged, or raise CardTooLarge when Teams would refuse it."""
    size = card_size_bytes(card)
    if size >= MAX_CARD_BYTES:
        raise CardTooLarge(size)
    return card


def card(
    body: Sequence[Element], actions: Sequence[Action] = (), *, refresh: Element | None = None
) -> Element:
    """A complete AdaptiveCard (schema 1.5) around the given body and actions."""
    result: Element = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": VERSION, "body": list(body)}
    if actions:
        result["actions"] = list(actions)
    if refresh is not None:
        result["refresh"] = refresh
    return ensure_fits(result)


def refresh_for(verb: str, *, user_ids: Sequence[str], data: Mapping[str, Any] | None = None) -> Element:
    """A `refresh` block so the listed people see an up-to-date card when they open the chat."""
    if len(user_ids) > MAX_REFRESH_USER_IDS:
        raise ValueError(f"refresh.userIds allows at most {MAX_REFRESH_USER_IDS} people")
    return {"action": execute("Refresh", verb, data), "userIds": list(user_ids)}


def text(
    s: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
) -> Element:
    """A wrapping TextBlock for words we wrote (Teams applies markdown)."""
    block: Element = {"type": "TextBlock", "text": s, "wrap": True}
    _put_style(block, size=size, weight=weight, color=color, subtle=subtle)
    if spacing:
        block["spacing"] = spacing
    return block


def heading(s: str) -> Element:
    """A large bold TextBlock announced as a heading by screen readers."""
    return {
        "type": "TextBlock",
        "text": s,
        "wrap": True,
        "size": "Large",
        "weight": "Bolder",
        "style": "heading",
    }


def text_run(
    s: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    italic: bool = False,
) -> Element:
    """A TextRun: literal text that the host never reads as markdown."""
    run: Element = {"type": "TextRun", "text": _DATE_FUNCTION.sub("{" + _WORD_JOINER + "{", s)}
    _put_style(run, size=size, weight=weight, color=color, subtle=subtle)
    if italic:
        run["italic"] = True
    return run


def rich_text(*runs: Element | str, spacing: str | None = None) -> Element:
    """A RichTextBlock joining TextRuns (plain strings become unstyled runs)."""
    inlines = [text_run(r) if isinstance(r, str) else r for r in runs]
    block: Element = {"type": "RichTextBlock", "inlines": inlines}
    if spacing:
        block["spacing"] = spacing
    return block


def plain_text(
    s: str,
    *,
    size: str | None = None,
    weight: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
) -> Element:
    """A block showing text from people or the directory exactly as written."""
    return rich_text(text_run(s, size=size, weight=weight, color=color, subtle=subtle), spacing=spacing)


def truncate(s: str, limit: int) -> str:
    """Shorten s to at most limit characters, marking the cut with an ellipsis."""
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def fact_set(pairs: Iterable[tuple[str, str]]) -> Element:
    """A FactSet of (title, value) pairs."""
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def bullet_list(items: Iterable[str]) -> Element:
    """A TextBlock with one markdown bullet per item (for words we wrote)."""
    return text("\n".join(f"- {item}" for item in items))


def container(items: Sequence[Element], *, style: str | None = None, spacing: str | None = None) -> Element:
    """A Container grouping elements, optionally styled (emphasis, good, attention, ...)."""
    block: Element = {"type": "Container", "items": list(items)}
    if style:
        block["style"] = style
    if spacing:
        block["spacing"] = spacing
    return block


def column(items: Sequence[Element], *, width: str = "stretch") -> Element:
    """A Column for column_set (width: auto, stretch or a weight such as "2")."""
    return {"type": "Column", "width": width, "items": list(items)}


def column_set(columns: Sequence[Element], *, spacing: str | None = None) -> Element:
    """A ColumnSet laying columns side by side."""
    block: Element = {"type": "ColumnSet", "columns": list(columns)}
    if spacing:
        block["spacing"] = spacing
    return block


def image(url: str, alt_text: str, *, size: str | None = None) -> Element:
    """An Image; alt text is required because screen readers and the Store expect it."""
    if not alt_text.strip():
        raise ValueError("images need alt text")
    block: Element = {"type": "Image", "url": url, "altText": alt_text}
    if size:
        block["size"] = size
    return block


def action_set(actions: Sequence[Action]) -> Element:
    """An ActionSet placing buttons inside the body."""
    return {"type": "ActionSet", "actions": list(actions)}


def execute(
    title: str,
    verb: str,
    data: Mapping[str, Any] | None = None,
    *,
    style: str | None = None,
    associated_inputs: str | None = None,
    submit_fallback: bool = False,
) -> Action:
    """An Action.Execute (Universal Action) sending verb and data to the bot.

    associated_inputs="none" sends no input values (for cancel-like buttons). submit_fallback adds an
    Action.Submit carrying the verb in its data, for hosts older than schema 1.4.
    """
    if not verb:
        raise ValueError("Action.Execute needs a verb")
    action: Action = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data or {})}
    if style:
        action["style"] = style
    if associated_inputs:
        action["associatedInputs"] = associated_inputs
    if submit_fallback:
        if SUBMIT_VERB_KEY in action["data"]:
            raise ValueError(f"data must not use the key {SUBMIT_VERB_KEY!r} when a fallback is wanted")
        action["fallback"] = submit(title, {**action["data"], SUBMIT_VERB_KEY: verb})
    return action


def submit(title: str, data: Mapping[str, Any], *, style: str | None = None) -> Action:
    """An Action.Submit sending data (merged with the card's inputs) as a message."""
    action: Action = {"type": "Action.Submit", "title": title, "data": dict(data)}
    if style:
        action["style"] = style
    return action


def open_url(title: str, url: str) -> Action:
    """An Action.OpenUrl button."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def input_text(
    id: str,
    label: str,
    *,
    required: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
    placeholder: str | None = None,
    error_message: str | None = None,
    value: str | None = None,
    regex: str | None = None,
) -> Element:
    """An Input.Text with a visible label (and an error message when required)."""
    block = _input("Input.Text", id, label, required=required, error_message=error_message)
    if multiline:
        block["isMultiline"] = True
    if max_length is not None:
        block["maxLength"] = max_length
    if placeholder:
        block["placeholder"] = placeholder
    if value is not None:
        block["value"] = value
    if regex:
        block["regex"] = regex
    return block


def input_choice(
    id: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    *,
    required: bool = False,
    value: str | None = None,
    multi_select: bool = False,
    expanded: bool = False,
    placeholder: str | None = None,
    error_message: str | None = None,
) -> Element:
    """An Input.ChoiceSet from (title, value) pairs; expanded shows radio buttons or checkboxes."""
    block = _input("Input.ChoiceSet", id, label, required=required, error_message=error_message)
    block["choices"] = [{"title": t, "value": v} for t, v in choices]
    if not block["choices"]:
        raise ValueError("a choice set needs at least one choice")
    block["style"] = "expanded" if expanded else "compact"
    if multi_select:
        block["isMultiSelect"] = True
    if value is not None:
        block["value"] = value
    if placeholder:
        block["placeholder"] = placeholder
    return block


def input_number(
    id: str,
    label: str,
    *,
    min: float | None = None,
    max: float | None = None,
    required: bool = False,
    value: float | None = None,
    error_message: str | None = None,
) -> Element:
    """An Input.Number with optional bounds."""
    block = _input("Input.Number", id, label, required=required, error_message=error_message)
    for key, bound in (("min", min), ("max", max), ("value", value)):
        if bound is not None:
            block[key] = bound
    return block


def input_date(
    id: str, label: str, *, required: bool = False, value: str | None = None, error_message: str | None = None
) -> Element:
    """An Input.Date (value as YYYY-MM-DD)."""
    block = _input("Input.Date", id, label, required=required, error_message=error_message)
    if value is not None:
        block["value"] = value
    return block


def _input(type_: str, id: str, label: str, *, required: bool, error_message: str | None) -> Element:
    if not id or not label.strip():
        raise ValueError("inputs need an id and a label")
    block: Element = {"type": type_, "id": id, "label": label}
    if required:
        block["isRequired"] = True
        # Required inputs without an error message leave people guessing what went wrong.
        block["errorMessage"] = error_message or f"Please fill in “{label}”."
    elif error_message:
        block["errorMessage"] = error_message
    return block


def _put_style(
    block: Element, *, size: str | None, weight: str | None, color: str | None, subtle: bool
) -> None:
    for key, value in (("size", size), ("weight", weight), ("color", color)):
        if value:
            block[key] = value
    if subtle:
        block["isSubtle"] = True

"""The dialogs of the message actions "Give feedback" and "Praise": a form about a colleague with the
message quoted as evidence.

Dialogs (task modules) submit with Action.Submit, not Action.Execute. The quote was reduced to plain text
when the invoke was read (adaptive_cards.message_quote) and is shown only in TextRuns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adaptive_cards.elements import Element, card, container, heading, input_text, plain_text, submit, text
from adaptive_cards.feedback import FORM_VISIBILITIES, feedback_inputs
from adaptive_cards.payloads import require_text
from adaptive_cards.person_forms import NAME_SHOWN, REQUEST_ID, notice_block, refill

PERSON = "person"
QUOTE_SHOWN = 600  # the whole quote is stored with the feedback; the dialog shows its start


def feedback_dialog(
    *,
    person_name: str | None,
    quote: str | None,
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """Give feedback to a colleague (the message's author, unless changed) about the quoted message."""
    values = values or {}
    body = [
        heading("Give feedback"),
        *notice_block(notice),
        _person_input(person_name, values),
        *_quoted(quote),
        *feedback_inputs(values, FORM_VISIBILITIES),
    ]
    return card(body, [submit("Send feedback", {REQUEST_ID: request_id}, style="positive")])


def praise_dialog(
    *,
    person_name: str | None,
    quote: str | None,
    request_id: str,
    inputs: Sequence[Element],
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """Praise a colleague for the quoted message; `inputs` are the praise form's own (text, badge, who)."""
    body = [
        heading("Praise"),
        *notice_block(notice),
        _person_input(person_name, values or {}),
        *_quoted(quote),
        *inputs,
    ]
    return card(body, [submit("Send praise", {REQUEST_ID: request_id}, style="positive")])


def parse_person(data: Mapping[str, Any]) -> str:
    """The colleague's name as typed in the dialog."""
    return require_text(data, PERSON, label="Who it's for", max_len=200)


def _person_input(person_name: str | None, values: Mapping[str, Any]) -> Element:
    typed = refill(values, PERSON)
    return input_text(
        PERSON,
        "Who it's for",
        required=True,
        max_length=200,
        placeholder="A colleague's name",
        error_message="Please name a colleague.",
        value=typed if typed is not None else (person_name or "")[:NAME_SHOWN] or None,
    )


def _quoted(quote: str | None) -> list[Element]:
    if not quote:
        return []
    shown = quote if len(quote) <= QUOTE_SHOWN else quote[: QUOTE_SHOWN - 1] + "…"
    return [
        text("From the message (kept with your feedback as evidence)", subtle=True),
        container([plain_text(shown)], style="emphasis"),
    ]

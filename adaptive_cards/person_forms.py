"""Parts of the forms about one colleague (feedback, praise, feedback requests): the ids their actions
carry, refusals shown on the form, and the cards for a name that matches nobody or several people."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from adaptive_cards.elements import Element, card, container, plain_text, rich_text, text, text_run, truncate
from adaptive_cards.payloads import PayloadError

# Action data keys and input ids every person form uses.
PERSON_ID = "person_id"
REQUEST_ID = "request_id"
TEXT = "text"

REQUEST_ID_PATTERN = re.compile(r"[0-9a-f]{32}")  # uuid4().hex
_ID_MAX = 2**63 - 1
NAME_SHOWN = 60
QUOTE_SHOWN = 500  # a stored quote may be longer; cards show its start
OUT_OF_DATE = "This card is out of date or incomplete. Type “{command} @Name” for a fresh one."


def parse_request_id(data: Mapping[str, Any], *, command: str) -> str:
    """The id the form was built with: it makes a second press of the same form a no-op."""
    request_id = data.get(REQUEST_ID)
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise PayloadError(OUT_OF_DATE.format(command=command))
    return request_id


def parse_person_id(data: Mapping[str, Any], *, command: str) -> int:
    """The person the form is about, as the card put it in its action data."""
    raw = data.get(PERSON_ID)
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= _ID_MAX:
        return raw
    raise PayloadError(OUT_OF_DATE.format(command=command))


# --- people --------------------------------------------------------------------------------------------


def no_person_card(*, typed: str, command: str) -> Element:
    """Nobody in the directory matches the name typed after the command."""
    return card(
        [
            rich_text(
                "I couldn't find anyone called “", text_run(truncate(typed, 60), weight="Bolder"), "”."
            ),
            text(f"Nothing was sent. Try @mentioning them: for example **{command} @Adele**."),
        ]
    )


def several_people_card(*, typed: str, names: Sequence[str], command: str) -> Element:
    """Several people match the name typed: ask for an @mention, which is never ambiguous."""
    body = [
        rich_text("Several people match “", text_run(truncate(typed, 60), weight="Bolder"), "”:"),
        *(plain_text(truncate(name, NAME_SHOWN)) for name in names[:8]),
        text(f"Nothing was sent. @mention the one you mean: for example **{command} @Adele**."),
    ]
    return card(body)


def notice_block(notice: str | None) -> list[Element]:
    return [container([plain_text(notice, color="Attention")], style="attention")] if notice else []


def refill(values: Mapping[str, Any], key: str) -> str | None:
    # Only text goes back into a form: a forged non-string value must not break the card.
    value = values.get(key)
    return truncate(value, 4000) if isinstance(value, str) else None


def quote_block(quote: str | None) -> list[Element]:
    """The message the feedback was given on (evidence), when it was given from one."""
    if not quote:
        return []
    return [text("About this message:", subtle=True), plain_text(truncate(quote, QUOTE_SHOWN), subtle=True)]

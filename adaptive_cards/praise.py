"""Praise cards: the form (text, a badge, public or private), the praise card, and the form's payload.

Praise texts are what people typed: they are shown only in TextRuns (plain_text), which Teams never reads
as markdown, so `<script>` or `**bold**` appear exactly as written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adaptive_cards.elements import (
    Element,
    card,
    container,
    execute,
    heading,
    input_choice,
    input_text,
    plain_text,
    rich_text,
    text,
    text_run,
    truncate,
)
from adaptive_cards.payloads import require_choice, require_text
from adaptive_cards.person_forms import (
    NAME_SHOWN,
    PERSON_ID,
    REQUEST_ID,
    TEXT,
    notice_block,
    parse_person_id,
    parse_request_id,
    refill,
)
from domain.performance.recognition_views import PRAISE_MAX, BadgeView, PraiseView

VERB_GIVE_PRAISE = "praise.give"

BADGE = "badge"
PRIVATE = "private"
NO_BADGE = "none"
PUBLIC, PRIVATELY = "public", "private"


@dataclass(frozen=True)
class PraiseForm:
    """A submitted praise form."""

    receiver_id: int
    text: str
    badge_id: int | None
    private: bool
    request_id: str


def parse_praise_form(data: Mapping[str, Any], badge_ids: Sequence[int]) -> PraiseForm:
    """The praise form's values; the badge must be one of the ids the form offered (`badge_ids`)."""
    badge = require_choice(data, BADGE, label="Badge", choices=[NO_BADGE, *map(str, badge_ids)])
    shown = require_choice(data, PRIVATE, label="Who may see it", choices=[PUBLIC, PRIVATELY])
    return PraiseForm(
        receiver_id=parse_person_id(data, command="praise"),
        text=require_text(data, TEXT, label="Your praise", max_len=PRAISE_MAX),
        badge_id=None if badge == NO_BADGE else int(badge),
        private=shown == PRIVATELY,
        request_id=parse_request_id(data, command="praise"),
    )


def praise_form_card(
    *,
    person_id: int,
    person_name: str,
    badges: Sequence[BadgeView],
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """The praise form: text, a badge among those the giver may give, public or private."""
    values = values or {}
    badge_choices = [("No badge", NO_BADGE)] + [(_badge_title(b), str(b.id)) for b in badges]
    body = [
        heading("Praise"),
        rich_text("For ", text_run(truncate(person_name, NAME_SHOWN), weight="Bolder")),
        *notice_block(notice),
        input_text(
            TEXT,
            "Your praise",
            required=True,
            multiline=True,
            max_length=PRAISE_MAX,
            error_message=f"Please write your praise (at most {PRAISE_MAX} characters).",
            value=refill(values, TEXT),
        ),
        input_choice(BADGE, "Badge", badge_choices, required=True, value=refill(values, BADGE) or NO_BADGE),
        input_choice(
            PRIVATE,
            "Who may see it",
            [("Everyone", PUBLIC), ("Only them, their managers and HR", PRIVATELY)],
            required=True,
            expanded=True,
            value=refill(values, PRIVATE) or PUBLIC,
        ),
    ]
    data = {PERSON_ID: person_id, REQUEST_ID: request_id}
    return card(
        body, [execute("Send praise", VERB_GIVE_PRAISE, data, style="positive", submit_fallback=True)]
    )


def praise_card(view: PraiseView, *, sent: bool = False) -> Element:
    """Praise as its receiver (or anyone who may see it) reads it: badge, giver → receiver, text."""
    title = "Already sent" if view.already_submitted else ("Praise sent" if sent else "Praise")
    body: list[Element] = [text(title, size="Medium", weight="Bolder", color="Good")]
    if view.badge is not None:
        body.append(plain_text(_badge_title(view.badge), size="Large", weight="Bolder"))
    body.append(
        rich_text(
            text_run(truncate(view.giver_name or "A former colleague", NAME_SHOWN), weight="Bolder"),
            " → ",
            text_run(truncate(view.receiver_name, NAME_SHOWN), weight="Bolder"),
        )
    )
    body.append(container([plain_text(view.text)], style="emphasis"))
    if view.private:
        body.append(text("Private: only the receiver, their managers and HR can see it.", subtle=True))
    return card(body)


def _badge_title(badge: BadgeView) -> str:
    return f"{badge.emoji} {badge.name}" if badge.emoji else badge.name

"""Praise cards: the form (text, a badge, public or private, maybe a channel to post it in), the praise
card, the card posted in a channel, and the form's payload.

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
from adaptive_cards.payloads import PayloadError, require_choice, require_text
from adaptive_cards.person_forms import (
    NAME_SHOWN,
    PERSON_ID,
    REQUEST_ID,
    TEXT,
    notice_block,
    parse_person_id,
    parse_request_id,
    quote_block,
    refill,
)
from domain.performance.recognition_views import PRAISE_MAX, BadgeView, PraiseView

VERB_GIVE_PRAISE = "praise.give"

BADGE = "badge"
PRIVATE = "private"
CHANNEL = "channel"
NO_BADGE = NO_CHANNEL = "none"
PUBLIC, PRIVATELY = "public", "private"
CHANNEL_LABEL = "Also post it in a channel (public praise only)"
CHANNEL_SHOWN = 80


@dataclass(frozen=True)
class ChannelOption:
    """A channel the praise may also be posted in, as the form offers it."""

    id: int
    title: str  # e.g. "Engineering / General"


@dataclass(frozen=True)
class PraiseInputs:
    """What a person chose on any praise form (the chat form or the message action's dialog)."""

    text: str
    badge_id: int | None
    private: bool
    channel_id: int | None


@dataclass(frozen=True)
class PraiseForm:
    """A submitted praise form."""

    receiver_id: int
    text: str
    badge_id: int | None
    private: bool
    request_id: str
    channel_id: int | None = None  # also post it there (public praise only)


def parse_praise_form(
    data: Mapping[str, Any], badge_ids: Sequence[int], channel_ids: Sequence[int] = ()
) -> PraiseForm:
    """The praise form's values; the badge and the channel must be among the ids the form may offer
    (`badge_ids`, `channel_ids`). Without a channel input nothing is posted."""
    inputs = parse_praise_inputs(data, badge_ids, channel_ids)
    return PraiseForm(
        receiver_id=parse_person_id(data, command="praise"),
        text=inputs.text,
        badge_id=inputs.badge_id,
        private=inputs.private,
        request_id=parse_request_id(data, command="praise"),
        channel_id=inputs.channel_id,
    )


def parse_praise_inputs(
    data: Mapping[str, Any], badge_ids: Sequence[int], channel_ids: Sequence[int] = ()
) -> PraiseInputs:
    """What praise_inputs asked: the text, a badge, public or private, and a channel to post it in."""
    badge = require_choice(data, BADGE, label="Badge", choices=[NO_BADGE, *map(str, badge_ids)])
    shown = require_choice(data, PRIVATE, label="Who may see it", choices=[PUBLIC, PRIVATELY])
    return PraiseInputs(
        text=require_text(data, TEXT, label="Your praise", max_len=PRAISE_MAX),
        badge_id=None if badge == NO_BADGE else int(badge),
        private=shown == PRIVATELY,
        channel_id=_channel_choice(data, channel_ids),
    )


def _channel_choice(data: Mapping[str, Any], channel_ids: Sequence[int]) -> int | None:
    raw = data.get(CHANNEL)
    if raw is None or raw == NO_CHANNEL:
        return None
    # Never echo the value: it may be long or crafted. A channel the bot has left since the form was shown
    # lands here too, and the refused form offers the channels there are now.
    if not isinstance(raw, str) or raw not in {str(i) for i in channel_ids}:
        raise PayloadError(
            "Trellis can't post in that channel: choose one of the channels offered, or don't post it."
        )
    return int(raw)


def praise_form_card(
    *,
    person_id: int,
    person_name: str,
    badges: Sequence[BadgeView],
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
    channels: Sequence[ChannelOption] = (),
) -> Element:
    """The praise form: text, a badge among those the giver may give, public or private, and a channel
    to post it in when the bot is installed in any."""
    body = [
        heading("Praise"),
        rich_text("For ", text_run(truncate(person_name, NAME_SHOWN), weight="Bolder")),
        *notice_block(notice),
        *praise_inputs(badges, values or {}, channels),
    ]
    data = {PERSON_ID: person_id, REQUEST_ID: request_id}
    return card(
        body, [execute("Send praise", VERB_GIVE_PRAISE, data, style="positive", submit_fallback=True)]
    )


def praise_inputs(
    badges: Sequence[BadgeView], values: Mapping[str, Any], channels: Sequence[ChannelOption] = ()
) -> list[Element]:
    """The text, badge, who-may-see-it and channel inputs of a praise form (refilled from `values`)."""
    badge_choices = [("No badge", NO_BADGE)] + [(_badge_title(b), str(b.id)) for b in badges]
    return [
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
        *_channel_input(channels, values),
    ]


def _channel_input(channels: Sequence[ChannelOption], values: Mapping[str, Any]) -> list[Element]:
    if not channels:
        return []  # the bot is in no channel: nothing to offer
    choices = [("Don't post it", NO_CHANNEL)] + [
        (truncate(c.title, CHANNEL_SHOWN), str(c.id)) for c in channels
    ]
    chosen = refill(values, CHANNEL)
    # A refused form keeps the choice only while the channel is still offered.
    value = chosen if chosen in {v for _, v in choices} else NO_CHANNEL
    return [input_choice(CHANNEL, CHANNEL_LABEL, choices, required=True, value=value)]


def praise_card(view: PraiseView, *, sent: bool = False) -> Element:
    """Praise as its receiver (or anyone who may see it) reads it: badge, giver → receiver, text."""
    title = "Already sent" if view.already_submitted else ("Praise sent" if sent else "Praise")
    body = _praise_body(view, title)
    if view.private:
        body.append(text("Private: only the receiver, their managers and HR can see it.", subtle=True))
    elif sent and view.channel is not None:
        body.append(text("It is also posted in the channel you chose.", subtle=True))
    return card(body)


def channel_praise_card(view: PraiseView) -> Element:
    """Praise as the team sees it in a channel: badge, giver → receiver, text, and nothing private."""
    if view.private:
        raise ValueError("private praise is never posted to a channel")
    return card(_praise_body(view, "Praise"))


def channel_summary(view: PraiseView) -> str:
    """The notification line for the channel post."""
    giver = truncate(view.giver_name or "A former colleague", NAME_SHOWN)
    return f"{giver} praised {truncate(view.receiver_name, NAME_SHOWN)}"


def _praise_body(view: PraiseView, title: str) -> list[Element]:
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
    body.extend(quote_block(view.quote))
    return body


def _badge_title(badge: BadgeView) -> str:
    return f"{badge.emoji} {badge.name}" if badge.emoji else badge.name

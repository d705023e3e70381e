"""Feedback and praise cards: the give forms, the sent confirmations, the notices, and their payloads.

Feedback and praise texts are what people typed: they are shown only in TextRuns (plain_text), which
Teams never reads as markdown, so `<script>` or `**bold**` appear exactly as written.
"""

from __future__ import annotations

import re
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
from adaptive_cards.payloads import PayloadError, optional_text, require_choice, require_text
from domain.performance.feedback_views import (
    FEEDBACK_MAX,
    TAG_MAX,
    TAGS_MAX,
    VISIBILITY_LABELS,
    FeedbackView,
    FeedbackVisibility,
    TagInput,
)
from domain.performance.recognition_views import PRAISE_MAX, BadgeView, PraiseView

VERB_GIVE_FEEDBACK = "feedback.give"
VERB_GIVE_PRAISE = "praise.give"

# Action data keys and input ids.
PERSON_ID = "person_id"
REQUEST_ID = "request_id"
TEXT = "text"
VISIBILITY = "visibility"
TAGS = "tags"
BADGE = "badge"
PRIVATE = "private"
NO_BADGE = "none"
PUBLIC, PRIVATELY = "public", "private"

# Anonymous feedback only pools answers to a request, so the give form offers the other three.
FORM_VISIBILITIES = (
    FeedbackVisibility.RECIPIENT_AND_MANAGER,
    FeedbackVisibility.RECIPIENT_ONLY,
    FeedbackVisibility.MANAGER_ONLY,
)
REQUEST_ID_PATTERN = re.compile(r"[0-9a-f]{32}")  # uuid4().hex
_ID_MAX = 2**63 - 1
_NAME_SHOWN = 60
_OUT_OF_DATE = "This card is out of date or incomplete. Type “{command} @Name” for a fresh one."


# --- typed inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackForm:
    """A submitted give-feedback form."""

    recipient_id: int
    text: str
    visibility: FeedbackVisibility
    tags: tuple[TagInput, ...]
    request_id: str


@dataclass(frozen=True)
class PraiseForm:
    """A submitted praise form."""

    receiver_id: int
    text: str
    badge_id: int | None
    private: bool
    request_id: str


def parse_request_id(data: Mapping[str, Any], *, command: str) -> str:
    """The id the form was built with: it makes a second press of the same form a no-op."""
    request_id = data.get(REQUEST_ID)
    if not isinstance(request_id, str) or not REQUEST_ID_PATTERN.fullmatch(request_id):
        raise PayloadError(_OUT_OF_DATE.format(command=command))
    return request_id


def parse_person_id(data: Mapping[str, Any], *, command: str) -> int:
    """The person the form is about, as the card put it in its action data."""
    raw = data.get(PERSON_ID)
    if isinstance(raw, str) and raw.isdigit() and len(raw) <= 19:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= _ID_MAX:
        return raw
    raise PayloadError(_OUT_OF_DATE.format(command=command))


def parse_feedback_form(data: Mapping[str, Any]) -> FeedbackForm:
    """The give-feedback form's values, checked as the feedback service will check them."""
    visibility = require_choice(
        data, VISIBILITY, label="Who may see it", choices=[str(v) for v in FORM_VISIBILITIES]
    )
    return FeedbackForm(
        recipient_id=parse_person_id(data, command="feedback"),
        text=require_text(data, TEXT, label="Your feedback", max_len=FEEDBACK_MAX),
        visibility=FeedbackVisibility(visibility),
        tags=parse_tags(optional_text(data, TAGS, label="Tags", max_len=TAGS_MAX * (TAG_MAX + 2))),
        request_id=parse_request_id(data, command="feedback"),
    )


def parse_tags(raw: str | None) -> tuple[TagInput, ...]:
    """Comma-separated free-form tags, each kept once, in the order typed."""
    tags: list[str] = []
    for part in (raw or "").split(","):
        tag = " ".join(part.split())
        if not tag or tag.lower() in {t.lower() for t in tags}:
            continue
        if len(tag) > TAG_MAX:
            raise PayloadError(
                f"Each tag can have at most {TAG_MAX} characters: “{truncate(tag, 30)}” is longer."
            )
        tags.append(tag)
    if len(tags) > TAGS_MAX:
        raise PayloadError(f"Please use at most {TAGS_MAX} tags (there are {len(tags)}).")
    return tuple(TagInput(tag) for tag in tags)


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


# --- feedback cards ------------------------------------------------------------------------------------


def feedback_form_card(
    *,
    person_id: int,
    person_name: str,
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """The give-feedback form for one colleague; `values` refills it after a refusal."""
    values = values or {}
    body = [
        heading("Give feedback"),
        rich_text("To ", text_run(truncate(person_name, _NAME_SHOWN), weight="Bolder")),
        *_notice(notice),
        input_text(
            TEXT,
            "Your feedback",
            required=True,
            multiline=True,
            max_length=FEEDBACK_MAX,
            placeholder="What went well, what could be better, with an example",
            error_message=f"Please write your feedback (at most {FEEDBACK_MAX} characters).",
            value=_refill(values, TEXT),
        ),
        input_choice(
            VISIBILITY,
            "Who may see it",
            [(VISIBILITY_LABELS[v], str(v)) for v in FORM_VISIBILITIES],
            required=True,
            expanded=True,
            value=_refill(values, VISIBILITY) or str(FeedbackVisibility.RECIPIENT_AND_MANAGER),
        ),
        input_text(
            TAGS,
            "Tags (optional, comma separated)",
            max_length=TAGS_MAX * (TAG_MAX + 2),
            placeholder="e.g. communication, ownership",
            value=_refill(values, TAGS),
        ),
    ]
    data = {PERSON_ID: person_id, REQUEST_ID: request_id}
    return card(
        body, [execute("Send feedback", VERB_GIVE_FEEDBACK, data, style="positive", submit_fallback=True)]
    )


def feedback_sent_card(view: FeedbackView) -> Element:
    """The giver's confirmation, saying in plain words who will see the feedback."""
    title = "Already sent" if view.already_submitted else "Feedback sent"
    body = [
        text(title, size="Medium", weight="Bolder", color="Good"),
        rich_text("To ", text_run(truncate(view.recipient_name, _NAME_SHOWN), weight="Bolder")),
        plain_text(view.text, spacing="Medium"),
        *_tags(view),
        text(who_sees(view.visibility, view.recipient_name), subtle=True, spacing="Medium"),
    ]
    return card(body)


def who_sees(visibility: str, name: str) -> str:
    """Who may read feedback with this visibility, in plain words (HR can read all feedback)."""
    first = name.split()[0] if name.split() else "They"
    if visibility == FeedbackVisibility.RECIPIENT_ONLY:
        return f"Only {first} will see it (and HR, who can read all feedback)."
    if visibility == FeedbackVisibility.MANAGER_ONLY:
        return f"Only {first}'s manager will see it: {first} won't (HR can read all feedback)."
    if visibility == FeedbackVisibility.ANONYMOUS:
        return f"{first} will see it without your name, pooled with other answers."
    return f"{first} and their manager will see it (and HR, who can read all feedback)."


def feedback_received_card(view: FeedbackView) -> Element:
    """The recipient's notice: the feedback, from whom (when they may know it)."""
    giver = view.giver_name or "A colleague"
    body = [
        text("You got feedback", size="Medium", weight="Bolder"),
        rich_text(text_run(truncate(giver, _NAME_SHOWN), weight="Bolder"), " wrote:"),
        container([plain_text(view.text), *_tags(view)], style="emphasis"),
    ]
    if view.visibility == FeedbackVisibility.RECIPIENT_AND_MANAGER:
        body.append(text("Your manager can see this feedback too.", subtle=True))
    return card(body)


def feedback_for_manager_card(view: FeedbackView) -> Element:
    """A manager's notice of feedback about someone in their line."""
    giver = view.giver_name or "A colleague"
    recipient = truncate(view.recipient_name, _NAME_SHOWN)
    body = [
        text("Feedback for your team", size="Medium", weight="Bolder"),
        rich_text(
            text_run(truncate(giver, _NAME_SHOWN), weight="Bolder"),
            " gave ",
            text_run(recipient, weight="Bolder"),
            " feedback:",
        ),
        container([plain_text(view.text), *_tags(view)], style="emphasis"),
    ]
    if view.visibility == FeedbackVisibility.MANAGER_ONLY:
        body.append(plain_text(f"A private note for you: {recipient} can't see it.", subtle=True))
    return card(body)


# --- praise cards --------------------------------------------------------------------------------------


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
        rich_text("For ", text_run(truncate(person_name, _NAME_SHOWN), weight="Bolder")),
        *_notice(notice),
        input_text(
            TEXT,
            "Your praise",
            required=True,
            multiline=True,
            max_length=PRAISE_MAX,
            error_message=f"Please write your praise (at most {PRAISE_MAX} characters).",
            value=_refill(values, TEXT),
        ),
        input_choice(BADGE, "Badge", badge_choices, required=True, value=_refill(values, BADGE) or NO_BADGE),
        input_choice(
            PRIVATE,
            "Who may see it",
            [("Everyone", PUBLIC), ("Only them, their managers and HR", PRIVATELY)],
            required=True,
            expanded=True,
            value=_refill(values, PRIVATE) or PUBLIC,
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
            text_run(truncate(view.giver_name or "A former colleague", _NAME_SHOWN), weight="Bolder"),
            " → ",
            text_run(truncate(view.receiver_name, _NAME_SHOWN), weight="Bolder"),
        )
    )
    body.append(container([plain_text(view.text)], style="emphasis"))
    if view.private:
        body.append(text("Private: only the receiver, their managers and HR can see it.", subtle=True))
    return card(body)


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
        *(plain_text(truncate(name, _NAME_SHOWN)) for name in names[:8]),
        text(f"Nothing was sent. @mention the one you mean: for example **{command} @Adele**."),
    ]
    return card(body)


# --- helpers -------------------------------------------------------------------------------------------


def _notice(notice: str | None) -> list[Element]:
    return [container([plain_text(notice, color="Attention")], style="attention")] if notice else []


def _refill(values: Mapping[str, Any], key: str) -> str | None:
    # Only text goes back into a form: a forged non-string value must not break the card.
    value = values.get(key)
    return truncate(value, 4000) if isinstance(value, str) else None


def _tags(view: FeedbackView) -> list[Element]:
    if not view.tags:
        return []
    shown = ", ".join(t.tag if t.rating is None else f"{t.tag} ({t.rating}/5)" for t in view.tags)
    return [plain_text(f"Tags: {shown}", subtle=True)]


def _badge_title(badge: BadgeView) -> str:
    return f"{badge.emoji} {badge.name}" if badge.emoji else badge.name

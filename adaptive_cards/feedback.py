"""Feedback cards: the give form, the sent confirmation, the notices, and their payloads.

Feedback texts are what people typed: they are shown only in TextRuns (plain_text), which
Teams never reads as markdown, so `<script>` or `**bold**` appear exactly as written.
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
from adaptive_cards.payloads import PayloadError, optional_text, require_choice, require_text
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
from domain.performance.feedback_views import (
    FEEDBACK_MAX,
    RATINGS,
    TAG_MAX,
    TAGS_MAX,
    VISIBILITY_LABELS,
    FeedbackView,
    FeedbackVisibility,
    TagInput,
    TagView,
)

VERB_GIVE_FEEDBACK = "feedback.give"

# Action data keys and input ids.
VISIBILITY = "visibility"
TAGS = "tags"

TAGS_LABEL = "Tags (optional, comma separated; rate one from 1 to 5 with a colon)"
TAGS_PLACEHOLDER = "e.g. communication:4, ownership"
TAGS_INPUT_MAX = TAGS_MAX * (TAG_MAX + 3)  # room for ", " and a ":4" on each

# Anonymous feedback only pools answers to a request, so the give form offers the other three.
FORM_VISIBILITIES = (
    FeedbackVisibility.RECIPIENT_AND_MANAGER,
    FeedbackVisibility.RECIPIENT_ONLY,
    FeedbackVisibility.MANAGER_ONLY,
)


# --- typed inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackForm:
    """A submitted give-feedback form."""

    recipient_id: int
    text: str
    visibility: FeedbackVisibility
    tags: tuple[TagInput, ...]
    request_id: str


def parse_feedback_form(data: Mapping[str, Any]) -> FeedbackForm:
    """The give-feedback form's values, checked as the feedback service will check them."""
    text, visibility, tags = parse_feedback_inputs(data, FORM_VISIBILITIES)
    return FeedbackForm(
        recipient_id=parse_person_id(data, command="feedback"),
        text=text,
        visibility=visibility,
        tags=tags,
        request_id=parse_request_id(data, command="feedback"),
    )


def parse_feedback_inputs(
    data: Mapping[str, Any], visibilities: Sequence[FeedbackVisibility]
) -> tuple[str, FeedbackVisibility, tuple[TagInput, ...]]:
    """(text, visibility, tags) from the inputs feedback_inputs made."""
    visibility = require_choice(
        data, VISIBILITY, label="Who may see it", choices=[str(v) for v in visibilities]
    )
    return (
        require_text(data, TEXT, label="Your feedback", max_len=FEEDBACK_MAX),
        FeedbackVisibility(visibility),
        parse_tags(optional_text(data, TAGS, label="Tags", max_len=TAGS_INPUT_MAX)),
    )


def parse_tags(raw: str | None) -> tuple[TagInput, ...]:
    """Comma-separated free-form tags, each kept once in the order typed; "tag:4" rates it from 1 to 5."""
    tags: list[TagInput] = []
    for part in (raw or "").split(","):
        tag, rating = _rated(" ".join(part.split()))
        if not tag or tag.lower() in {t.tag.lower() for t in tags}:
            continue
        if len(tag) > TAG_MAX:
            raise PayloadError(
                f"Each tag can have at most {TAG_MAX} characters: “{truncate(tag, 30)}” is longer."
            )
        tags.append(TagInput(tag, rating))
    if len(tags) > TAGS_MAX:
        raise PayloadError(f"Please use at most {TAGS_MAX} tags (there are {len(tags)}).")
    return tuple(tags)


def _rated(part: str) -> tuple[str, int | None]:
    """("ownership", 4) from "ownership:4"; a colon not followed by a rating is refused, not guessed."""
    tag, colon, rating = part.rpartition(":")
    if not colon:
        return part, None
    rating = rating.strip()
    if rating.isdigit() and int(rating) in RATINGS:
        return tag.strip(), int(rating)
    raise PayloadError(
        f"“{truncate(part, 30)}”: rate a tag with a number from {RATINGS.start} to {RATINGS.stop - 1} "
        "after a colon, for example “ownership:4”."
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
    body = [
        heading("Give feedback"),
        rich_text("To ", text_run(truncate(person_name, NAME_SHOWN), weight="Bolder")),
        *notice_block(notice),
        *feedback_inputs(values or {}, FORM_VISIBILITIES),
    ]
    data = {PERSON_ID: person_id, REQUEST_ID: request_id}
    return card(
        body, [execute("Send feedback", VERB_GIVE_FEEDBACK, data, style="positive", submit_fallback=True)]
    )


def feedback_inputs(values: Mapping[str, Any], visibilities: Sequence[FeedbackVisibility]) -> list[Element]:
    """The text, who-may-see-it and tags inputs every feedback form has (refilled from `values`)."""
    return [
        input_text(
            TEXT,
            "Your feedback",
            required=True,
            multiline=True,
            max_length=FEEDBACK_MAX,
            placeholder="What went well, what could be better, with an example",
            error_message=f"Please write your feedback (at most {FEEDBACK_MAX} characters).",
            value=refill(values, TEXT),
        ),
        input_choice(
            VISIBILITY,
            "Who may see it",
            [(VISIBILITY_LABELS[v], str(v)) for v in visibilities],
            required=True,
            expanded=True,
            value=refill(values, VISIBILITY) or str(visibilities[0]),
        ),
        input_text(
            TAGS,
            TAGS_LABEL,
            max_length=TAGS_INPUT_MAX,
            placeholder=TAGS_PLACEHOLDER,
            value=refill(values, TAGS),
        ),
    ]


def feedback_sent_card(view: FeedbackView) -> Element:
    """The giver's confirmation, saying in plain words who will see the feedback."""
    title = "Already sent" if view.already_submitted else "Feedback sent"
    body = [
        text(title, size="Medium", weight="Bolder", color="Good"),
        rich_text("To ", text_run(truncate(view.recipient_name, NAME_SHOWN), weight="Bolder")),
        plain_text(view.text, spacing="Medium"),
        *tags_line(view.tags),
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
        rich_text(text_run(truncate(giver, NAME_SHOWN), weight="Bolder"), " wrote:"),
        container([plain_text(view.text), *tags_line(view.tags)], style="emphasis"),
        *quote_block(view.quote),
    ]
    if view.visibility == FeedbackVisibility.RECIPIENT_AND_MANAGER:
        body.append(text("Your manager can see this feedback too.", subtle=True))
    return card(body)


def feedback_for_manager_card(view: FeedbackView) -> Element:
    """A manager's notice of feedback about someone in their line."""
    giver = view.giver_name or "A colleague"
    recipient = truncate(view.recipient_name, NAME_SHOWN)
    body = [
        text("Feedback for your team", size="Medium", weight="Bolder"),
        rich_text(
            text_run(truncate(giver, NAME_SHOWN), weight="Bolder"),
            " gave ",
            text_run(recipient, weight="Bolder"),
            " feedback:",
        ),
        container([plain_text(view.text), *tags_line(view.tags)], style="emphasis"),
        *quote_block(view.quote),
    ]
    if view.visibility == FeedbackVisibility.MANAGER_ONLY:
        body.append(plain_text(f"A private note for you: {recipient} can't see it.", subtle=True))
    return card(body)


# --- helpers -------------------------------------------------------------------------------------------


def tags_line(tags: Sequence[TagView]) -> list[Element]:
    if not tags:
        return []
    shown = ", ".join(t.tag if t.rating is None else f"{t.tag} ({t.rating}/5)" for t in tags)
    return [plain_text(f"Tags: {shown}", subtle=True)]

"""Feedback request cards: the request form, the requester's confirmation, the ask each colleague gets
(with its answer form), and the pooled anonymous answers.

Questions and answers are what people typed: they are shown only in TextRuns (plain_text), never as
markdown. Pooled anonymous answers carry no name, id, time or order of arrival.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
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
from adaptive_cards.feedback import feedback_inputs, parse_feedback_inputs, tags_line
from adaptive_cards.payloads import PayloadError, require_choice, require_text
from adaptive_cards.person_forms import (
    NAME_SHOWN,
    REQUEST_ID,
    notice_block,
    parse_request_id,
    refill,
)
from domain.performance.feedback_views import (
    ASKED_MAX,
    QUESTION_MAX,
    AnonymousAggregate,
    FeedbackRequestView,
    FeedbackVisibility,
    RequestStatus,
    TagInput,
)

VERB_REQUEST = "feedback.request"
VERB_ANSWER = "feedback.answer"

SUBJECT_ID = "subject_id"
ASKED = "asked"
QUESTION = "question"
DAYS = "days"
FEEDBACK_REQUEST = "feedback_request"

DAY_CHOICES = (7, 14, 30)
DEFAULT_DAYS = 14
# An answer to a request may also be anonymous: it is pooled with the other anonymous answers.
ANSWER_VISIBILITIES = (
    FeedbackVisibility.RECIPIENT_AND_MANAGER,
    FeedbackVisibility.ANONYMOUS,
    FeedbackVisibility.RECIPIENT_ONLY,
    FeedbackVisibility.MANAGER_ONLY,
)
_STALE_REQUEST = "This card is out of date or incomplete. Type “request feedback from @Name about …” again."
_STALE_ASK = "This card is out of date or incomplete: the request it answers is not on it."
_ID_MAX = 2**63 - 1


@dataclass(frozen=True)
class RequestForm:
    subject_id: int
    asked_ids: tuple[int, ...]
    question: str
    days: int
    request_id: str


@dataclass(frozen=True)
class AnswerForm:
    feedback_request_id: int
    text: str
    visibility: FeedbackVisibility
    tags: tuple[TagInput, ...]
    request_id: str


@dataclass(frozen=True)
class Ask:
    """What an ask card says: who asks, about whom, what, until when."""

    feedback_request_id: int
    requester_name: str
    subject_name: str
    about_requester: bool
    question: str
    expires_at: datetime


# --- payloads ------------------------------------------------------------------------------------------


def parse_request_form(data: Mapping[str, Any]) -> RequestForm:
    """The request form's values: whom it asks and about whom come from the card, the rest was typed."""
    days = require_choice(data, DAYS, label="Open for", choices=[str(d) for d in DAY_CHOICES])
    return RequestForm(
        subject_id=parse_subject_id(data),
        asked_ids=parse_asked(data.get(ASKED)),
        question=require_text(data, QUESTION, label="Your question", max_len=QUESTION_MAX),
        days=int(days),
        request_id=parse_request_id(data, command="request feedback"),
    )


def parse_asked(raw: Any) -> tuple[int, ...]:
    """The people a request form asks, as the card listed them ("3,7,12")."""
    if not isinstance(raw, str) or not raw:
        raise PayloadError(_STALE_REQUEST)
    parts = raw.split(",")
    if len(parts) > ASKED_MAX:
        raise PayloadError(f"Ask at most {ASKED_MAX} people at once (there are {len(parts)}).")
    return tuple(_id(part, _STALE_REQUEST) for part in parts)


def parse_answer_form(data: Mapping[str, Any]) -> AnswerForm:
    """An answer to a request: which request comes from the card, the feedback was typed."""
    feedback_request_id = parse_feedback_request_id(data)
    text, visibility, tags = parse_feedback_inputs(data, ANSWER_VISIBILITIES)
    return AnswerForm(
        feedback_request_id=feedback_request_id,
        text=text,
        visibility=visibility,
        tags=tags,
        request_id=parse_request_id(data, command="request feedback"),
    )


def parse_subject_id(data: Mapping[str, Any]) -> int:
    return _id(data.get(SUBJECT_ID), _STALE_REQUEST)


def parse_feedback_request_id(data: Mapping[str, Any]) -> int:
    return _id(data.get(FEEDBACK_REQUEST), _STALE_ASK)


# --- the requester's side ------------------------------------------------------------------------------


def request_form_card(
    *,
    subject_id: int,
    subject_name: str,
    about_requester: bool,
    asked: Sequence[tuple[int, str]],
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """The form that asks the named colleagues for feedback about the subject."""
    values = values or {}
    about = "you" if about_requester else truncate(subject_name, NAME_SHOWN)
    body = [
        heading("Ask for feedback"),
        rich_text("About ", text_run(about, weight="Bolder")),
        rich_text(
            "Asking ",
            text_run(", ".join(truncate(name, NAME_SHOWN) for _, name in asked), weight="Bolder"),
        ),
        *notice_block(notice),
        input_text(
            QUESTION,
            "Your question",
            required=True,
            multiline=True,
            max_length=QUESTION_MAX,
            placeholder="e.g. How did I run the customer demo? What should I do differently?",
            error_message=f"Please write a question (at most {QUESTION_MAX} characters).",
            value=refill(values, QUESTION),
        ),
        input_choice(
            DAYS,
            "Open for",
            [(f"{d} days", str(d)) for d in DAY_CHOICES],
            required=True,
            value=refill(values, DAYS) or str(DEFAULT_DAYS),
        ),
    ]
    data = {
        SUBJECT_ID: subject_id,
        ASKED: ",".join(str(pid) for pid, _ in asked),
        REQUEST_ID: request_id,
    }
    return card(body, [execute("Ask", VERB_REQUEST, data, style="positive", submit_fallback=True)])


def request_sent_card(view: FeedbackRequestView) -> Element:
    """The requester's confirmation: the question, who was asked (and who answered), until when."""
    title = "Already asked" if view.already_submitted else "Feedback requested"
    about = "you" if view.subject_id == view.requester_id else truncate(view.subject_name, NAME_SHOWN)
    answered = sum(1 for a in view.asks if a.answered)
    body = [
        text(title, size="Medium", weight="Bolder", color="Good"),
        rich_text("About ", text_run(about, weight="Bolder")),
        container([plain_text(view.question)], style="emphasis"),
        plain_text("Asked: " + ", ".join(truncate(a.person_name, NAME_SHOWN) for a in view.asks)),
        text(_status_line(view, answered), subtle=True),
    ]
    return card(body)


def anonymous_answers_card(aggregate: AnonymousAggregate, *, subject_name: str, about_you: bool) -> Element:
    """Pooled anonymous answers to a request: texts and tags only, in text order."""
    about = "you" if about_you else truncate(subject_name, NAME_SHOWN)
    body = [
        text(f"{aggregate.count} colleagues answered anonymously", size="Medium", weight="Bolder"),
        rich_text(
            "About ", text_run(about, weight="Bolder"), ": ", text_run(truncate(aggregate.question, 200))
        ),
    ]
    for answer in aggregate.answers:
        body.append(container([plain_text(answer.text), *tags_line(answer.tags)], style="emphasis"))
    body.append(
        text("Anonymous answers are shown together, without names, so no one can be told apart.", subtle=True)
    )
    return card(body)


# --- the asked colleague's side -------------------------------------------------------------------------


def ask_card(
    ask: Ask,
    *,
    request_id: str,
    reminder: bool = False,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Element:
    """What a colleague asked for feedback gets: the question, and a form to answer it once."""
    requester = truncate(ask.requester_name or "A colleague", NAME_SHOWN)
    if ask.about_requester:
        asks = rich_text(text_run(requester, weight="Bolder"), " asks for your feedback:")
    else:
        subject = truncate(ask.subject_name, NAME_SHOWN)
        asks = rich_text(
            text_run(requester, weight="Bolder"),
            " asks for your feedback about ",
            text_run(subject, weight="Bolder"),
            ":",
        )
    body = [
        heading("Reminder: feedback request" if reminder else "Feedback request"),
        asks,
        container([plain_text(ask.question)], style="emphasis"),
        text(f"Please answer by {ask.expires_at:%A %d %B %Y}.", subtle=True),
        *notice_block(notice),
        *feedback_inputs(values or {}, ANSWER_VISIBILITIES),
    ]
    data = {FEEDBACK_REQUEST: ask.feedback_request_id, REQUEST_ID: request_id}
    return card(body, [execute("Send answer", VERB_ANSWER, data, style="positive", submit_fallback=True)])


# --- helpers -------------------------------------------------------------------------------------------


def _status_line(view: FeedbackRequestView, answered: int) -> str:
    if view.status is RequestStatus.EXPIRED:
        return f"Expired on {view.expires_at:%d %B %Y}."
    if view.status is RequestStatus.CLOSED:
        return "Closed: it takes no more answers."
    # Only answers the requester may read by themselves are counted: anonymous ones show up pooled.
    counted = f"{answered} answered so far. " if answered else ""
    return f"{counted}Open until {view.expires_at:%A %d %B %Y}; each person gets one reminder."


def _id(raw: Any, stale: str) -> int:
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 19:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw <= _ID_MAX:
        return raw
    raise PayloadError(stale)

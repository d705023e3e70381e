"""Feedback requests in Teams chat: `request feedback from @A @B about <topic>`, the ask cards, answers.

- `request feedback from @A @B about <topic>` asks about oneself; `request feedback for @Report from @A
  about <topic>` is a manager asking about someone in their line. Without "about …" a form asks for the
  question. Each person asked gets an ask card (question and answer form) through the outbox, written in
  the same transaction as the request.
- An answer tells whom the feedback service says to tell; anonymous answers tell no one until the request
  has enough of them to show pooled, then the requester gets the pooled answers.
- The scheduler's pass (schedule_feedback_requests) sends each unanswered ask one reminder and closes
  requests past their expiry.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards import feedback_requests as cards
from adaptive_cards.feedback import feedback_sent_card
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext, Mention
from bot.feedback import tell
from domain import people_lookup
from domain.clock import Clock
from domain.errors import DomainError, NotFound
from domain.people_lookup import PersonMatch
from domain.performance import feedback
from domain.performance.feedback_views import AskNotice, FeedbackGiven, FeedbackRequestView
from storage import outbox
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

Card = dict[str, Any]
COMMAND = "request feedback"
USAGE = (
    "Say whom to ask: type “request feedback from @Adele @Isaiah about the customer demo”, or, for someone "
    "in your team, “request feedback for @Isaiah from @Adele about …”."
)
_ABOUT = re.compile(r"\babout\b", re.IGNORECASE)
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
_FOR = re.compile(r"^\s*(?:for|on)\b", re.IGNORECASE)
_SEPARATORS = re.compile(r",|;|\band\b|(?=@)", re.IGNORECASE)


def register(router: ActionRouter) -> None:
    """Add `request feedback` and the request and answer forms' verbs to the bot's router."""
    router.command(COMMAND, _request_command, writes=True)
    router.register(cards.VERB_REQUEST, _submit_request)
    router.register(cards.VERB_ANSWER, _answer)


# --- asking --------------------------------------------------------------------------------------------


async def _request_command(ctx: CommandContext) -> Card:
    """Ask now when the text has a topic; otherwise open the form with the people named."""
    subject_part, asked_part, topic = _parts(ctx.args)
    subject = ctx.actor.person_id, ctx.actor.display_name
    if subject_part:
        found = await _people(ctx, subject_part)
        if not isinstance(found, list):
            return found
        if len(found) != 1:
            raise PayloadError(
                "Ask about one person at a time: “request feedback for @Isaiah from @Adele …”."
            )
        subject = found[0].id, found[0].display_name
    asked = await _people(ctx, asked_part)
    if not isinstance(asked, list):
        return asked
    if not asked:
        raise PayloadError(USAGE)
    if not topic:
        return cards.request_form_card(
            subject_id=subject[0],
            subject_name=subject[1],
            about_requester=subject[0] == ctx.actor.person_id,
            asked=[(p.id, p.display_name) for p in asked],
            request_id=uuid.uuid4().hex,
        )
    async with ctx.session.begin_nested():
        outcome = await feedback.request_feedback(
            ctx.session,
            actor=ctx.actor,
            asked_ids=[p.id for p in asked],
            subject_id=subject[0],
            question=topic,
            now=ctx.now,
        )
    await _send_asks(ctx.session, outcome.to_notify, ctx.now)
    return cards.request_sent_card(outcome.request)


async def _submit_request(ctx: ActionContext) -> Card:
    """The request form: one request however often it is pressed."""
    request_id = cards.parse_request_id(ctx.data, command=COMMAND)
    subject_id = cards.parse_subject_id(ctx.data)
    asked = await _asked_on_card(ctx)
    try:
        form = cards.parse_request_form(ctx.data)
        async with ctx.session.begin_nested():
            outcome = await feedback.request_feedback(
                ctx.session,
                actor=ctx.actor,
                asked_ids=form.asked_ids,
                subject_id=form.subject_id,
                question=form.question,
                expires_at=ctx.now + timedelta(days=form.days),
                now=ctx.now,
                client_request_id=form.request_id,
            )
    except (DomainError, PayloadError) as error:
        subject = await people.person_by_id(ctx, subject_id)
        return cards.request_form_card(
            subject_id=subject.id,
            subject_name=subject.display_name,
            about_requester=subject.id == ctx.actor.person_id,
            asked=[(p.id, p.display_name) for p in asked],
            request_id=request_id,
            notice=people.refused(error),
            values=ctx.data,
        )
    await _send_asks(ctx.session, outcome.to_notify, ctx.now)
    return cards.request_sent_card(outcome.request)


async def _asked_on_card(ctx: ActionContext) -> list[PersonMatch]:
    """The people the form lists, still in the directory (to show the form again after a refusal)."""
    found = []
    for person_id in cards.parse_asked(ctx.data.get(cards.ASKED)):
        person = await people_lookup.get_person(ctx.session, actor=ctx.actor, person_id=person_id)
        if person is not None:
            found.append(person)
    return found


async def _send_asks(session: AsyncSession, asks: tuple[AskNotice, ...], now: datetime) -> None:
    """One ask card per person asked, and the reminder clock started."""
    for notice in asks:
        await _enqueue_ask(session, notice, now, reminder=False)
    await feedback.mark_sent(session, ask_ids=[n.ask_id for n in asks], now=now)


async def _enqueue_ask(session: AsyncSession, notice: AskNotice, now: datetime, *, reminder: bool) -> None:
    card = cards.ask_card(_ask(notice), request_id=uuid.uuid4().hex, reminder=reminder)
    who = notice.requester_name or "A colleague"
    summary = f"{who} asks for your feedback" + (
        "" if notice.about_themselves else f" about {notice.subject_name}"
    )
    await outbox.enqueue(
        session,
        kind="feedback.reminder" if reminder else "feedback.ask",
        person_id=notice.asked_id,
        payload={"card": card, "summary": ("Reminder: " if reminder else "") + summary},
        now=now,
        dedupe_key=f"feedback-{'reminder' if reminder else 'ask'}:{notice.ask_id}",
    )


# --- answering -----------------------------------------------------------------------------------------


async def _answer(ctx: ActionContext) -> Card:
    """An answer from an ask card: once per person and request; a refusal keeps what was typed."""
    feedback_request_id = cards.parse_feedback_request_id(ctx.data)
    request_id = cards.parse_request_id(ctx.data, command=COMMAND)
    try:
        form = cards.parse_answer_form(ctx.data)
        async with ctx.session.begin_nested():
            given = await feedback.answer_request(
                ctx.session,
                actor=ctx.actor,
                request_id=feedback_request_id,
                text=form.text,
                visibility=form.visibility,
                tags=form.tags,
                now=ctx.now,
                client_request_id=form.request_id,
            )
    except (DomainError, PayloadError) as error:
        try:
            view = await feedback.get_request(
                ctx.session, actor=ctx.actor, request_id=feedback_request_id, now=ctx.now
            )
        except NotFound:
            raise error from None  # not theirs to answer: there is no form to give back, only the reason
        return cards.ask_card(
            _ask_from_view(view), request_id=request_id, notice=people.refused(error), values=ctx.data
        )
    await tell(ctx, given)
    await _tell_pooled(ctx, given)
    return feedback_sent_card(given.feedback)


async def _tell_pooled(ctx: ActionContext, given: FeedbackGiven) -> None:
    """The requester gets the pooled anonymous answers once there are enough, and again as they grow."""
    for notice in given.aggregates:
        pooled = notice.aggregate
        subject = await people_lookup.get_person(ctx.session, actor=ctx.actor, person_id=pooled.subject_id)
        card = cards.anonymous_answers_card(
            pooled,
            subject_name=subject.display_name if subject else "",
            about_you=pooled.subject_id == notice.person_id,
        )
        await outbox.enqueue(
            ctx.session,
            kind="feedback.pooled",
            person_id=notice.person_id,
            payload={"card": card, "summary": f"{pooled.count} colleagues answered your request anonymously"},
            now=ctx.now,
            dedupe_key=f"feedback-pooled:{pooled.request_id}:{pooled.count}",
        )


# --- the scheduler's pass ------------------------------------------------------------------------------


@dataclass
class RequestsReport:
    reminders: int = 0
    expired: int = 0

    def __bool__(self) -> bool:
        return bool(self.reminders or self.expired)

    def __str__(self) -> str:
        return f"feedback requests: {self.reminders} reminders queued, {self.expired} expired"


async def schedule_feedback_requests(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, batch: int = feedback.PLAN_LIMIT
) -> RequestsReport:
    """Queue one reminder per unanswered ask that is due, and close expired requests, a batch per unit of
    work; each reminder is claimed in the transaction that queues it, so servers running this at once
    never send one twice."""
    report = RequestsReport()
    while True:
        async with unit_of_work(sessions) as session:
            now = clock()
            due = await feedback.plan_reminders(session, now=now, limit=batch)
            claimed = await feedback.mark_reminded(session, ask_ids=[d.ask_id for d in due], now=now)
            for notice in await feedback.ask_notices(session, ask_ids=claimed):
                await _enqueue_ask(session, notice, now, reminder=True)
                report.reminders += 1
        if len(due) < batch:
            break
    while True:
        async with unit_of_work(sessions) as session:
            expired = await feedback.expire_requests(session, now=clock(), limit=batch)
            report.expired += len(expired)
        if len(expired) < batch:
            return report


# --- reading the command -------------------------------------------------------------------------------


def _parts(args: str) -> tuple[str, str, str]:
    """(about whom, whom to ask, the topic) from "for X from A, B about topic"; the first may be empty."""
    pieces = _ABOUT.split(args, maxsplit=1)
    before, topic = (pieces[0], pieces[1]) if len(pieces) == 2 else (args, "")
    split = _FROM.split(before, maxsplit=1)
    if len(split) != 2:
        raise PayloadError(USAGE)
    subject_part, asked_part = split
    return _FOR.sub("", subject_part).strip(), asked_part.strip(), topic.strip()


async def _people(ctx: CommandContext, segment: str) -> list[PersonMatch] | Card:
    """Everyone a part of the command names: @mentions in it, then names separated by commas or "and"."""
    found: list[PersonMatch] = []
    rest = segment
    for mention in _mentions_in(ctx.mentions, segment):
        person = await people.mentioned_person(ctx, mention)
        if not isinstance(person, PersonMatch):
            return people.not_found_card(person, command=f"{COMMAND} from")
        found.append(person)
        rest = re.sub(re.escape(mention.name), " ", rest, count=1, flags=re.IGNORECASE)
    for typed in _SEPARATORS.split(rest):
        person = await people.person_called(ctx, typed)
        if person is None:
            continue
        if not isinstance(person, PersonMatch):
            return people.not_found_card(person, command=f"{COMMAND} from")
        found.append(person)
    return list({p.id: p for p in found}.values())


def _mentions_in(mentions: tuple[Mention, ...], segment: str) -> list[Mention]:
    lowered = segment.lower()
    return [m for m in mentions if m.name and m.name.lower() in lowered]


def _ask(notice: AskNotice) -> cards.Ask:
    return cards.Ask(
        feedback_request_id=notice.request_id,
        requester_name=notice.requester_name,
        subject_name=notice.subject_name,
        about_requester=notice.about_themselves,
        question=notice.question,
        expires_at=notice.expires_at,
    )


def _ask_from_view(view: FeedbackRequestView) -> cards.Ask:
    return cards.Ask(
        feedback_request_id=view.id,
        requester_name=view.requester_name,
        subject_name=view.subject_name,
        about_requester=view.subject_id == view.requester_id,
        question=view.question,
        expires_at=view.expires_at,
    )

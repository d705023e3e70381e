"""Feedback in Teams chat: `feedback @Name <text>` and the give-feedback form.

Giving answers the giver with a confirmation and puts one card per person to tell in the outbox, in the
same transaction: the feedback service decides who that is (FeedbackNotice), so a manager-only note never
reaches its recipient. A refusal writes nothing: the service call runs in a savepoint, and the outbox is
written only after it succeeded.
"""

from __future__ import annotations

import uuid
from typing import Any

from adaptive_cards import feedback as cards
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext, MessageActionContext
from domain.errors import DomainError
from domain.performance import feedback
from domain.performance.feedback_views import FeedbackGiven, FeedbackNotice
from storage import outbox

Card = dict[str, Any]


def register(router: ActionRouter) -> None:
    """Add the feedback command and its form verbs to the bot's router."""
    router.command("feedback", _feedback_command, writes=True)
    router.register(cards.VERB_GIVE_FEEDBACK, _give_feedback)


# --- feedback ------------------------------------------------------------------------------------------


async def _feedback_command(ctx: CommandContext) -> Card:
    """`feedback @Name <text>` gives it now (them and their manager); `feedback @Name` opens the form."""
    found = await people.recipient(ctx, command="feedback")
    if not isinstance(found, tuple):
        return found
    person, text = found
    if not text:
        return cards.feedback_form_card(
            person_id=person.id, person_name=person.display_name, request_id=uuid.uuid4().hex
        )
    async with ctx.session.begin_nested():
        given = await feedback.give_feedback(
            ctx.session, actor=ctx.actor, recipient_id=person.id, text=text, now=ctx.now
        )
    await tell(ctx, given)
    return cards.feedback_sent_card(given.feedback)


async def _give_feedback(ctx: ActionContext) -> Card:
    """Send feedback on the form: one feedback per form however often it is pressed."""
    request_id = cards.parse_request_id(ctx.data, command="feedback")  # without it: an error card
    person = await people.person_by_id(ctx, cards.parse_person_id(ctx.data, command="feedback"))
    try:
        form = cards.parse_feedback_form(ctx.data)
        async with ctx.session.begin_nested():
            given = await feedback.give_feedback(
                ctx.session,
                actor=ctx.actor,
                recipient_id=person.id,
                text=form.text,
                visibility=form.visibility,
                tags=form.tags,
                now=ctx.now,
                client_request_id=request_id,
            )
    except (DomainError, PayloadError) as error:
        return cards.feedback_form_card(
            person_id=person.id,
            person_name=person.display_name,
            request_id=request_id,
            notice=people.refused(error),
            values=ctx.data,
        )
    await tell(ctx, given)
    return cards.feedback_sent_card(given.feedback)


async def tell(ctx: ActionContext | CommandContext | MessageActionContext, given: FeedbackGiven) -> None:
    """One card per person the service says to tell (nobody on a second submit)."""
    for notice in given.notify:
        await outbox.enqueue(
            ctx.session,
            kind="feedback.received",
            person_id=notice.person_id,
            payload={"card": _notice_card(notice), "summary": _summary(notice)},
            now=ctx.now,
            dedupe_key=f"feedback:{notice.feedback.id}:{notice.person_id}",
        )


def _notice_card(notice: FeedbackNotice) -> Card:
    if notice.person_id == notice.feedback.recipient_id:
        return cards.feedback_received_card(notice.feedback)
    return cards.feedback_for_manager_card(notice.feedback)


def _summary(notice: FeedbackNotice) -> str:
    giver = notice.feedback.giver_name or "A colleague"
    if notice.person_id == notice.feedback.recipient_id:
        return f"{giver} gave you feedback"
    return f"{giver} gave {notice.feedback.recipient_name} feedback"

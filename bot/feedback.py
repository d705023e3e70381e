"""Feedback and praise in Teams chat: `feedback @Name <text>`, `praise @Name <text>`, and their forms.

Giving answers the giver with a confirmation and puts one card per person to tell in the outbox, in the
same transaction: the feedback service decides who that is (FeedbackNotice), so a manager-only note never
reaches its recipient. A refusal writes nothing: the service call runs in a savepoint, and the outbox is
written only after it succeeded.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from adaptive_cards import feedback as cards
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain import people_lookup
from domain.errors import DomainError, NotFound
from domain.people_lookup import PersonMatch
from domain.performance import feedback, recognition
from domain.performance.feedback_views import FeedbackGiven, FeedbackNotice
from domain.performance.recognition_views import PraiseView
from storage import outbox

Card = dict[str, Any]


def register(router: ActionRouter) -> None:
    """Add the feedback and praise commands and their form verbs to the bot's router."""
    router.command("feedback", _feedback_command, writes=True)
    router.command("praise", _praise_command, writes=True)
    router.register(cards.VERB_GIVE_FEEDBACK, _give_feedback)
    router.register(cards.VERB_GIVE_PRAISE, _give_praise)


# --- feedback ------------------------------------------------------------------------------------------


async def _feedback_command(ctx: CommandContext) -> Card:
    """`feedback @Name <text>` gives it now (them and their manager); `feedback @Name` opens the form."""
    found = await _recipient(ctx, command="feedback")
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
    await _tell(ctx, given)
    return cards.feedback_sent_card(given.feedback)


async def _give_feedback(ctx: ActionContext) -> Card:
    """Send feedback on the form: one feedback per form however often it is pressed."""
    request_id = cards.parse_request_id(ctx.data, command="feedback")  # without it: an error card
    person = await _person(ctx, cards.parse_person_id(ctx.data, command="feedback"))
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
            notice=_refused(error),
            values=ctx.data,
        )
    await _tell(ctx, given)
    return cards.feedback_sent_card(given.feedback)


async def _tell(ctx: ActionContext | CommandContext, given: FeedbackGiven) -> None:
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


# --- praise --------------------------------------------------------------------------------------------


async def _praise_command(ctx: CommandContext) -> Card:
    """`praise @Name <text>` praises publicly now; `praise @Name` opens the form (badge, private)."""
    found = await _recipient(ctx, command="praise")
    if not isinstance(found, tuple):
        return found
    person, text = found
    if not text:
        return await _praise_form(ctx, person, request_id=uuid.uuid4().hex)
    async with ctx.session.begin_nested():
        view = await recognition.give_praise(
            ctx.session, actor=ctx.actor, receiver_id=person.id, text=text, now=ctx.now
        )
    await _tell_receiver(ctx, view)
    return cards.praise_card(view, sent=True)


async def _give_praise(ctx: ActionContext) -> Card:
    """Send praise on the form: one praise per form however often it is pressed."""
    request_id = cards.parse_request_id(ctx.data, command="praise")
    person = await _person(ctx, cards.parse_person_id(ctx.data, command="praise"))
    # Every active badge parses, so an official one forged into the form meets the service's refusal.
    badges = await recognition.list_badges(ctx.session, actor=ctx.actor)
    try:
        form = cards.parse_praise_form(ctx.data, [b.id for b in badges])
        async with ctx.session.begin_nested():
            view = await recognition.give_praise(
                ctx.session,
                actor=ctx.actor,
                receiver_id=person.id,
                text=form.text,
                badge_id=form.badge_id,
                private=form.private,
                now=ctx.now,
                client_request_id=request_id,
            )
    except (DomainError, PayloadError) as error:
        return await _praise_form(ctx, person, request_id=request_id, notice=_refused(error), values=ctx.data)
    await _tell_receiver(ctx, view)
    return cards.praise_card(view, sent=True)


async def _praise_form(
    ctx: ActionContext | CommandContext,
    person: PersonMatch,
    *,
    request_id: str,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> Card:
    badges = await recognition.list_badges(ctx.session, actor=ctx.actor)
    return cards.praise_form_card(
        person_id=person.id,
        person_name=person.display_name,
        badges=[b for b in badges if b.may_give],  # offer only what the giver may give
        request_id=request_id,
        notice=notice,
        values=values,
    )


async def _tell_receiver(ctx: ActionContext | CommandContext, view: PraiseView) -> None:
    if view.already_submitted:
        return
    await outbox.enqueue(
        ctx.session,
        kind="praise.received",
        person_id=view.receiver_id,
        payload={"card": cards.praise_card(view), "summary": f"{view.giver_name} praised you"},
        now=ctx.now,
        dedupe_key=f"praise:{view.id}:{view.receiver_id}",
    )


# --- whom a command names ------------------------------------------------------------------------------


async def _recipient(ctx: CommandContext, *, command: str) -> tuple[PersonMatch, str] | Card:
    """The colleague the command names and the text after the name, or a card saying what went wrong."""
    typed, text = _split(ctx, command)
    found = await people.named_person(ctx, typed)
    if found is None:
        raise PayloadError(f"Say who it's for: type “{command} @Name” and what you want to say.")
    if isinstance(found, people.NoMatch):
        return cards.no_person_card(typed=found.typed, command=command)
    if isinstance(found, people.SeveralMatches):
        names = [m.display_name + (f" ({d})" if (d := people.detail(m)) else "") for m in found.people]
        return cards.several_people_card(typed=found.typed, names=names, command=command)
    if found.id == ctx.actor.person_id:
        what = "Feedback" if command == "feedback" else "Praise"
        raise PayloadError(f"{what} is for someone else: you can't {command} yourself.")
    return found, text


def _split(ctx: CommandContext, command: str) -> tuple[str, str]:
    """(the name typed, the text after it). With an @mention, Teams put the person's name in the text."""
    args = ctx.args.strip()
    if ctx.mentions:
        name = ctx.mentions[0].name
        at = args.lower().find(name.lower()) if name else -1
        if at >= 0:
            args = (args[:at] + args[at + len(name) :]).strip()
        # A typed "@Adele" left before the mention (the chat had not turned it into one yet) is the name.
        first, _, rest = args.partition(" ")
        if first.startswith("@") and name.lower().startswith(first[1:].lower()):
            args = rest.strip()
        return name, args
    first, _, rest = args.partition(" ")
    return first, rest.strip()


async def _person(ctx: ActionContext, person_id: int) -> PersonMatch:
    person = await people_lookup.get_person(ctx.session, actor=ctx.actor, person_id=person_id)
    if person is None:
        raise NotFound("That person is not in the directory.")
    return person


def _refused(error: DomainError | PayloadError) -> str:
    message = error.message if isinstance(error, DomainError) else str(error)
    return f"Nothing was sent. {message}"

"""Praise in Teams chat: `praise @Name <text>` and the praise form (a badge, public or private).

The receiver is told with a praise card through the outbox, written in the same transaction as the
praise; a refusal writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from adaptive_cards import praise as cards
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain.errors import DomainError
from domain.people_lookup import PersonMatch
from domain.performance import recognition
from domain.performance.recognition_views import PraiseView
from storage import outbox

Card = dict[str, Any]


def register(router: ActionRouter) -> None:
    """Add the praise command and its form's verb to the bot's router."""
    router.command("praise", _praise_command, writes=True)
    router.register(cards.VERB_GIVE_PRAISE, _give_praise)


async def _praise_command(ctx: CommandContext) -> Card:
    """`praise @Name <text>` praises publicly now; `praise @Name` opens the form (badge, private)."""
    found = await people.recipient(ctx, command="praise")
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
    person = await people.person_by_id(ctx, cards.parse_person_id(ctx.data, command="praise"))
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
        return await _praise_form(
            ctx, person, request_id=request_id, notice=people.refused(error), values=ctx.data
        )
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

"""The message actions "Give feedback" and "Praise": on any message, a dialog about a colleague (the
message's author unless changed) with the message quoted as evidence.

The quote is stored with the feedback or praise (its `quote`) and shown on the cards it sends. Who is
told, and how, is the same as from the commands.
"""

from __future__ import annotations

import uuid
from typing import Any

from adaptive_cards import message_dialogs as dialogs
from adaptive_cards import praise as praise_cards
from adaptive_cards.feedback import FORM_VISIBILITIES, parse_feedback_inputs, who_sees
from adaptive_cards.payloads import PayloadError
from adaptive_cards.person_forms import parse_request_id
from bot import people, praise
from bot.actions import ActionRouter, DialogDone, MessageActionContext
from bot.feedback import tell
from domain import people_lookup
from domain.errors import DomainError
from domain.people_lookup import PersonMatch
from domain.performance import feedback, recognition

Card = dict[str, Any]
GIVE_FEEDBACK, PRAISE = "giveFeedback", "praise"


def register(router: ActionRouter) -> None:
    """Answer the manifest's Give feedback and Praise action commands."""
    router.message_action(
        GIVE_FEEDBACK, _open_feedback, _send_feedback, title="Give feedback", height="large"
    )
    router.message_action(PRAISE, _open_praise, _send_praise, title="Praise", height="large")


async def _open_feedback(ctx: MessageActionContext) -> Card:
    return dialogs.feedback_dialog(
        person_name=await author_name(ctx), quote=_quote(ctx), request_id=uuid.uuid4().hex
    )


async def _send_feedback(ctx: MessageActionContext) -> Card | DialogDone:
    """One feedback per dialog however often it is sent; a refusal keeps the dialog and what was typed."""
    request_id = parse_request_id(ctx.data, command="feedback")
    try:
        person = await colleague(ctx, dialogs.parse_person(ctx.data))
        text, visibility, tags = parse_feedback_inputs(ctx.data, FORM_VISIBILITIES)
        async with ctx.session.begin_nested():
            given = await feedback.give_feedback(
                ctx.session,
                actor=ctx.actor,
                recipient_id=person.id,
                text=text,
                visibility=visibility,
                tags=tags,
                quote=_quote(ctx),
                now=ctx.now,
                client_request_id=request_id,
            )
    except (DomainError, PayloadError) as error:
        return dialogs.feedback_dialog(
            person_name=None,
            quote=_quote(ctx),
            request_id=request_id,
            notice=people.refused(error),
            values=ctx.data,
        )
    await tell(ctx, given)
    sent = "Already sent" if given.feedback.already_submitted else "Feedback sent"
    return DialogDone(
        f"{sent} to {given.feedback.recipient_name}. {who_sees(visibility, given.feedback.recipient_name)}"
    )


async def _open_praise(ctx: MessageActionContext) -> Card:
    return await _praise_dialog(ctx, person_name=await author_name(ctx), request_id=uuid.uuid4().hex)


async def _send_praise(ctx: MessageActionContext) -> Card | DialogDone:
    """One praise per dialog however often it is sent; a refusal keeps the dialog and what was typed."""
    request_id = parse_request_id(ctx.data, command="praise")
    badges = await recognition.list_badges(ctx.session, actor=ctx.actor)
    channels = await praise.active_channels(ctx)
    try:
        person = await colleague(ctx, dialogs.parse_person(ctx.data))
        chosen = praise_cards.parse_praise_inputs(ctx.data, [b.id for b in badges], list(channels))
        async with ctx.session.begin_nested():
            view = await recognition.give_praise(
                ctx.session,
                actor=ctx.actor,
                receiver_id=person.id,
                text=chosen.text,
                badge_id=chosen.badge_id,
                private=chosen.private,
                channel=praise.channel_target(channels[chosen.channel_id]) if chosen.channel_id else None,
                quote=_quote(ctx),
                now=ctx.now,
                client_request_id=request_id,
            )
    except (DomainError, PayloadError) as error:
        return await _praise_dialog(
            ctx, person_name=None, request_id=request_id, notice=people.refused(error), values=ctx.data
        )
    await praise.tell_receiver(ctx, view)
    await praise.post_to_channel(ctx, view)
    sent = "Already sent" if view.already_submitted else "Praise sent"
    posted = " It is also posted in the channel you chose." if view.channel and not view.private else ""
    return DialogDone(f"{sent} to {view.receiver_name}.{posted}")


async def _praise_dialog(
    ctx: MessageActionContext,
    *,
    person_name: str | None,
    request_id: str,
    notice: str | None = None,
    values: dict[str, Any] | None = None,
) -> Card:
    badges = [b for b in await recognition.list_badges(ctx.session, actor=ctx.actor) if b.may_give]
    inputs = praise_cards.praise_inputs(
        badges, values or {}, praise.channel_options(await praise.active_channels(ctx))
    )
    return dialogs.praise_dialog(
        person_name=person_name,
        quote=_quote(ctx),
        request_id=request_id,
        inputs=inputs,
        notice=notice,
        values=values,
    )


async def colleague(ctx: MessageActionContext, typed: str) -> PersonMatch:
    """Whom the dialog names: the message's author when the name is theirs, else whoever has that name."""
    message = ctx.message
    if (
        message
        and message.author_aad_object_id
        and typed.casefold() == (message.author_name or "").casefold()
    ):
        author = await people_lookup.find_by_teams_identity(
            ctx.session, actor=ctx.actor, aad_object_id=message.author_aad_object_id, user_id=None
        )
        if author is not None:
            return author
    found = await people.person_called(ctx, typed)
    if isinstance(found, PersonMatch):
        return found
    if isinstance(found, people.SeveralMatches):
        names = "; ".join(
            m.display_name + (f" ({d})" if (d := people.detail(m)) else "") for m in found.people[:5]
        )
        raise PayloadError(f"Several people match “{found.typed}”: {names}. Type the full name.")
    raise PayloadError(f"I couldn't find anyone called “{typed}” in the directory. Type their full name.")


async def author_name(ctx: MessageActionContext) -> str | None:
    """The message's author, to prefill the dialog; not when they wrote it themselves."""
    message = ctx.message
    if message is None or message.author_name is None:
        return None
    if message.author_aad_object_id:
        author = await people_lookup.find_by_teams_identity(
            ctx.session, actor=ctx.actor, aad_object_id=message.author_aad_object_id, user_id=None
        )
        if author is not None and author.id == ctx.actor.person_id:
            return None
    return message.author_name


def _quote(ctx: MessageActionContext) -> str | None:
    return ctx.message.text if ctx.message is not None and ctx.message.text else None

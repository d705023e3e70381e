"""The message actions "Give feedback" and "Praise": on any message, a dialog about a colleague (the
message's author unless changed) with the message quoted as evidence.

The quote is stored with the feedback (Feedback.quote); praise has no place for it, so the praise text
starts with it and the giver writes below. Who is told, and how, is the same as from the commands.
"""

from __future__ import annotations

import uuid
from typing import Any

from adaptive_cards import message_dialogs as dialogs
from adaptive_cards.feedback import FORM_VISIBILITIES, parse_feedback_inputs, who_sees
from adaptive_cards.payloads import PayloadError
from adaptive_cards.person_forms import parse_request_id
from bot import people
from bot.actions import ActionRouter, DialogDone, MessageActionContext
from bot.feedback import tell
from domain import people_lookup
from domain.errors import DomainError
from domain.people_lookup import PersonMatch
from domain.performance import feedback

Card = dict[str, Any]
GIVE_FEEDBACK = "giveFeedback"


def register(router: ActionRouter) -> None:
    """Answer the manifest's Give feedback action command."""
    router.message_action(
        GIVE_FEEDBACK, _open_feedback, _send_feedback, title="Give feedback", height="large"
    )


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

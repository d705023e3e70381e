"""Praise in Teams chat: `praise @Name <text>` and the praise form (a badge, public or private, and a
channel the bot is installed in to post it in too).

The receiver is told with a praise card, and the chosen channel gets one, through the outbox, written in
the same transaction as the praise; a refusal writes nothing. After the channel post the sender records
its activity id on the praise (record_channel_post).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adaptive_cards import praise as cards
from adaptive_cards.payloads import PayloadError
from bot import people
from bot.actions import ActionContext, ActionRouter, CommandContext, MessageActionContext
from domain.errors import DomainError
from domain.people_lookup import PersonMatch
from domain.performance import recognition
from domain.performance.recognition_views import ChannelTarget, PraiseView
from storage import outbox, team_channels
from storage.team_channels import KnownChannel

Card = dict[str, Any]
KIND_CHANNEL_POST = "praise.channel"
AnyContext = ActionContext | CommandContext | MessageActionContext


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
    await tell_receiver(ctx, view)
    return cards.praise_card(view, sent=True)


async def _give_praise(ctx: ActionContext) -> Card:
    """Send praise on the form: one praise per form however often it is pressed."""
    request_id = cards.parse_request_id(ctx.data, command="praise")
    person = await people.person_by_id(ctx, cards.parse_person_id(ctx.data, command="praise"))
    # Every active badge parses, so an official one forged into the form meets the service's refusal.
    badges = await recognition.list_badges(ctx.session, actor=ctx.actor)
    channels = await active_channels(ctx)
    try:
        form = cards.parse_praise_form(ctx.data, [b.id for b in badges], list(channels))
        async with ctx.session.begin_nested():
            view = await recognition.give_praise(
                ctx.session,
                actor=ctx.actor,
                receiver_id=person.id,
                text=form.text,
                badge_id=form.badge_id,
                private=form.private,  # private with a channel: the service refuses, nothing is written
                channel=channel_target(channels[form.channel_id]) if form.channel_id is not None else None,
                now=ctx.now,
                client_request_id=request_id,
            )
    except (DomainError, PayloadError) as error:
        return await _praise_form(
            ctx, person, request_id=request_id, notice=people.refused(error), values=ctx.data
        )
    await tell_receiver(ctx, view)
    await post_to_channel(ctx, view)
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
        channels=channel_options(await active_channels(ctx)),
    )


async def tell_receiver(ctx: AnyContext, view: PraiseView) -> None:
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


async def post_to_channel(ctx: AnyContext, view: PraiseView) -> None:
    if view.already_submitted or view.channel is None or view.private:
        return
    await outbox.enqueue(
        ctx.session,
        kind=KIND_CHANNEL_POST,
        conversation_id=view.channel.conversation_id,
        payload={
            "card": cards.channel_praise_card(view),
            "summary": cards.channel_summary(view),
            "praise_id": view.id,
        },
        now=ctx.now,
        dedupe_key=f"praise:{view.id}:channel",
    )


async def record_channel_post(session: AsyncSession, message: outbox.Claimed, activity_id: str) -> None:
    """After the sender posted a praise card in its channel: remember the post on the praise."""
    praise_id = message.payload.get("praise_id")
    if isinstance(praise_id, int):
        await recognition.record_posted(session, praise_id=praise_id, activity_id=activity_id)


async def active_channels(ctx: AnyContext) -> dict[int, KnownChannel]:
    """The channels of the actor's tenant the bot is installed in, by id."""
    return {c.id: c for c in await team_channels.active(ctx.session, tenant_id=ctx.actor.tenant_id)}


def channel_options(channels: dict[int, KnownChannel]) -> list[cards.ChannelOption]:
    """The channels as a form offers them, by name."""
    options = [cards.ChannelOption(c.id, channel_title(c)) for c in channels.values()]
    return sorted(options, key=lambda c: c.title.casefold())


def channel_target(channel: KnownChannel) -> ChannelTarget:
    return ChannelTarget(channel.conversation_id, channel.service_url)


def channel_title(channel: KnownChannel) -> str:
    """How the form names a channel: Team / Channel (Teams never names General, but its id is the team's)."""
    name = channel.channel_name or ("General" if channel.conversation_id == channel.team_id else None)
    team = channel.team_name or "A team"
    return f"{team} / {name}" if name else team

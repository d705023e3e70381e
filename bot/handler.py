"""The Teams activity handler: every turn resolves the person, keeps their conversation, and answers."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import TeamInfo
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import adaptive_cards as cards
from adaptive_cards.payloads import PayloadError, action_verb_and_data, submit_data
from bot.actions import ActionContext, ActionRouter, CommandContext, RegisteredCommand
from bot.cards import card_activity, card_invoke_response
from bot.commands import Command, bot_text, mentions, parse, plain_text
from bot.conversations import KnownConversations, forget_install, is_personal, needs_saving, remember
from bot.dedupe import RecentActivities
from bot.identity import resolve_actor, tenant_of
from bot.message_extension import INVOKE_NAMES, MessageActions
from domain.access import Actor
from domain.clock import Clock
from domain.errors import DomainError
from storage import team_channels
from storage.models import ConversationRef
from storage.team_channels import SeenChannel
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)

APP_NAME = "Trellis"
PERSONAL_ONLY = (
    "I answer that in our 1:1 chat, where only you can see it: open Trellis from the apps bar and ask "
    "me there."
)


class _Refused(Exception):
    """Carries a message for the person out of a unit of work, so the work is rolled back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TrellisBot(TeamsActivityHandler):
    """Trellis in Teams chat."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        router: ActionRouter,
        home_url: str | None = None,
        hr_contact: str | None = None,
        recent: RecentActivities | None = None,
        known: KnownConversations | None = None,
    ) -> None:
        self._sessions = sessions
        self._recent = recent or RecentActivities()
        self._known = known or KnownConversations()
        self._clock = clock
        self._router = router
        self._home_url = home_url
        self._hr_contact = hr_contact
        self._message_actions = MessageActions(
            sessions=sessions, clock=clock, router=router, home_url=home_url, hr_contact=hr_contact
        )

    # --- messages --------------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        await self._keep_channel(turn_context)
        if activity.value and not (activity.text or "").strip():
            await self._on_submit(turn_context)
            return
        reply = await self._answer(turn_context)
        if reply is not None:
            await turn_context.send_activity(reply)

    async def _answer(self, context: TurnContext) -> Activity | None:
        if not self._recent.first_time(context.activity.id):
            return None  # Teams re-sent an activity we already answered
        actor = await self._identify(context)
        if actor is None:
            return self._not_in_directory(context)
        text = bot_text(context.activity)
        command = parse(text)
        if command.name == "unknown" and (found := self._router.command_for(plain_text(text))):
            if found[0].personal_only and not is_personal(context.activity):
                return card_activity(cards.error_card(message=PERSONAL_ONLY))
            return card_activity(await self._run_command(context, actor, *found))
        return self._reply(command, actor)

    async def _run_command(
        self, context: TurnContext, actor: Actor, command: RegisteredCommand, args: str
    ) -> dict[str, Any]:
        # Commands that only show something read without a transaction; the rest get a unit of work.
        opener = unit_of_work if command.writes else read_only
        try:
            async with opener(self._sessions) as session:
                ctx = CommandContext(
                    session, actor, args, mentions(context.activity), self._home_url, self._clock()
                )
                try:
                    return await command.handler(ctx)
                except (DomainError, PayloadError) as error:
                    raise _Refused(getattr(error, "message", str(error))) from error
        except _Refused as refused:
            return cards.error_card(message=refused.message)

    def _reply(self, command: Command, actor: Actor) -> Activity:
        roles = _role_names(actor)
        if command.name == "thanks":
            return Activity(type="message", text=cards.thanks_reply_text())
        if command.name == "greeting":
            return card_activity(cards.greeting_card(person_name=actor.display_name))
        if command.name in ("help", "empty"):
            return card_activity(cards.help_card(roles=roles, home_url=self._home_url))
        return card_activity(cards.help_card(roles=roles, unknown_text=command.text, home_url=self._home_url))

    # --- installation ----------------------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if is_personal(turn_context.activity):
            await self._welcome_once(turn_context)
        else:
            await self._keep_channel(turn_context, installed=True)
            await self._welcome_team(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        if not is_personal(turn_context.activity):
            await self._forget_team(turn_context)
            return
        async with unit_of_work(self._sessions) as session:
            actor = await resolve_actor(session, turn_context)
            if actor is not None:
                await forget_install(session, person_id=actor.person_id)

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        # Personal installs also arrive as "the bot was added"; the welcome is guarded to happen once.
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if is_personal(turn_context.activity) and any(m.id == bot_id for m in teams_members_added):
            await self._welcome_once(turn_context)

    async def _welcome_once(self, context: TurnContext) -> None:
        try:
            async with unit_of_work(self._sessions) as session:
                actor = await self._actor(session, context)
                if actor is not None and not await _claim_welcome(session, actor.person_id, self._clock()):
                    return
        except IntegrityError:
            return  # the installation and members-added events raced; the other one welcomes
        if actor is None:
            await context.send_activity(self._not_in_directory(context))
            return
        card = cards.welcome_card(
            app_name=APP_NAME,
            person_name=actor.display_name,
            roles=_role_names(actor),
            home_url=self._home_url,
        )
        await context.send_activity(card_activity(card))

    async def _welcome_team(self, context: TurnContext) -> None:
        # One post in the channel, never a 1:1 fan-out to the team's members (Store rule).
        if not self._recent.first_time(context.activity.id):
            return
        card = cards.welcome_card(
            app_name=APP_NAME, person_name=None, roles=frozenset(), home_url=self._home_url
        )
        await context.send_activity(card_activity(card))

    # --- team channels (where public praise may be posted) ----------------------------------------------

    async def _keep_channel(self, context: TurnContext, *, installed: bool = False) -> None:
        """Remember the team channel an activity came from; a message writes only when something changed."""
        seen = _seen_channel(context.activity)
        if seen is None:
            return
        if not installed:
            async with read_only(self._sessions) as session:
                if await team_channels.is_current(session, seen=seen):
                    return
        async with unit_of_work(self._sessions) as session:
            await team_channels.remember(session, seen=seen, now=self._clock(), installed=installed)

    async def _forget_team(self, context: TurnContext) -> None:
        seen = _seen_channel(context.activity)
        if seen is None:
            return
        async with unit_of_work(self._sessions) as session:
            await team_channels.remove_team(
                session, team_id=seen.team_id, conversation_id=seen.conversation_id, now=self._clock()
            )

    # --- card actions ----------------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        if turn_context.activity.name in INVOKE_NAMES:
            return await self._message_actions.answer(turn_context)
        if turn_context.activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        try:
            verb, data = action_verb_and_data(turn_context.activity.value)
        except PayloadError as error:
            return card_invoke_response(cards.error_card(message=str(error)))
        return card_invoke_response(await self._run_action(turn_context, verb, data))

    async def _on_submit(self, context: TurnContext) -> None:
        try:
            data = submit_data(context.activity.value)
            verb = str(data.get("verb") or "")
            if not verb:
                raise PayloadError("This button didn't say what to do. Please type help.")
        except PayloadError as error:
            await context.send_activity(card_activity(cards.error_card(message=str(error))))
            return
        card = await self._run_action(context, verb, data)
        if context.activity.reply_to_id:
            replacement = card_activity(card)
            replacement.id = context.activity.reply_to_id
            replacement.conversation = context.activity.conversation
            await context.update_activity(replacement)
        else:
            await context.send_activity(card_activity(card))

    async def _run_action(self, context: TurnContext, verb: str, data: dict[str, Any]) -> dict[str, Any]:
        handler = self._router.handler_for(verb)
        if handler is None:
            return cards.error_card(
                message="This button no longer does anything. Type help to see what I can do."
            )
        try:
            async with unit_of_work(self._sessions) as session:
                actor = await self._actor(session, context)
                if actor is None:
                    return cards.not_in_directory_card(
                        display_name=_sender_name(context), hr_contact=self._hr_contact
                    )
                try:
                    ctx = ActionContext(session, actor, data, self._home_url, self._clock())
                    return await handler(ctx)
                except (DomainError, PayloadError) as error:
                    raise _Refused(getattr(error, "message", str(error))) from error
        except _Refused as refused:
            return cards.error_card(message=refused.message)

    # --- shared ----------------------------------------------------------------------------------------

    async def _identify(self, context: TurnContext) -> Actor | None:
        """Who is talking, in a read-only transaction; the conversation is written only when it changed."""
        activity = context.activity
        async with read_only(self._sessions) as session:
            actor = await resolve_actor(session, context)
            if actor is None:
                return None
            stale = not self._known.verified(actor.person_id, activity) and await needs_saving(
                session, person_id=actor.person_id, activity=activity
            )
        if stale:
            async with unit_of_work(self._sessions) as session:
                await remember(session, person_id=actor.person_id, activity=activity)
        self._known.note(actor.person_id, activity)
        return actor

    async def _actor(self, session: AsyncSession, context: TurnContext) -> Actor | None:
        actor = await resolve_actor(session, context)
        if actor is not None:
            await remember(session, person_id=actor.person_id, activity=context.activity)
        return actor

    def _not_in_directory(self, context: TurnContext) -> Activity:
        return card_activity(
            cards.not_in_directory_card(display_name=_sender_name(context), hr_contact=self._hr_contact)
        )


async def _claim_welcome(session: AsyncSession, person_id: int, now: Any) -> bool:
    """Atomically mark the welcome as sent; False if it already was."""
    await session.flush()
    result = await session.execute(
        update(ConversationRef)
        .where(ConversationRef.person_id == person_id, ConversationRef.welcomed_at.is_(None))
        .values(welcomed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _seen_channel(activity: Activity) -> SeenChannel | None:
    """What a team channel activity says about its channel; None anywhere else (1:1 and group chats)."""
    conversation = activity.conversation
    if conversation is None or conversation.conversation_type != "channel" or not activity.service_url:
        return None
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team, channel = _object(data.get("team")), _object(data.get("channel"))
    # A reply in a thread arrives as "19:...@thread.tacv2;messageid=..."; posts go to the channel itself.
    conversation_id = _string(channel.get("id")) or (conversation.id or "").split(";")[0]
    if not conversation_id:
        return None
    return SeenChannel(
        conversation_id=conversation_id,
        service_url=activity.service_url,
        tenant_id=tenant_of(activity),
        bot_id=activity.recipient.id if activity.recipient else None,
        team_id=_string(team.get("id")),
        team_name=_string(team.get("name")),
        channel_name=_string(channel.get("name")),
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _role_names(actor: Actor) -> frozenset[str]:
    return frozenset(role.value for role in actor.roles)


def _sender_name(context: TurnContext) -> str | None:
    sender = context.activity.from_property
    return sender.name if sender is not None else None

"""Message actions: the manifest's action commands on a message ("Give feedback", "Praise").

Teams sends `composeExtension/fetchTask` when someone picks the command on a message (we answer with the
dialog's card) and `composeExtension/submitAction` when they submit that dialog (we answer with a card to
show instead, a message, or nothing, which closes it), each in the invoke's HTTP response within 5 s.

They are answered here instead of through TeamsActivityHandler's on_teams_messaging_extension_* hooks:
those read the value through msrest and write the answer with `serializer_helper`, which fails on a plain
dict (the fault behind botbuilder-python #2235). Plain JSON in and out keeps the wire shapes in view.
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import adaptive_cards as cards
from adaptive_cards.message_quote import MessageActionInvoke, parse_message_action
from adaptive_cards.payloads import PayloadError
from bot.actions import ActionRouter, DialogDone, MessageActionContext, RegisteredMessageAction
from bot.cards import dialog_card_response, dialog_closed_response, dialog_message_response
from bot.identity import resolve_actor
from domain.clock import Clock
from domain.errors import DomainError
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)

FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
INVOKE_NAMES = frozenset({FETCH_TASK, SUBMIT_ACTION})

UNKNOWN_COMMAND = (
    "Trellis doesn't offer this command any more. Ask your Teams admin to update the app, or type help "
    "to Trellis in chat to see what it can do."
)
FAILED = "Sorry, something went wrong on our side and nothing was saved. Please try again."


class _Refused(Exception):
    """Carries a message for the person out of a unit of work, so the work is rolled back."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MessageActions:
    """Answers action command invokes with the handlers registered on the router."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        router: ActionRouter,
        home_url: str | None,
        hr_contact: str | None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._router = router
        self._home_url = home_url
        self._hr_contact = hr_contact

    async def answer(self, context: TurnContext) -> InvokeResponse:
        """The invoke response to a fetchTask (open the dialog) or submitAction (take it) invoke."""
        try:
            invoke = parse_message_action(context.activity.value)
        except PayloadError as error:
            return dialog_message_response(str(error))
        registered = self._router.message_action_for(invoke.command_id)
        if registered is None:
            log.warning("no handlers for message action %r", invoke.command_id)
            return dialog_message_response(UNKNOWN_COMMAND)
        try:
            return await self._run(context, registered, invoke, opening=context.activity.name == FETCH_TASK)
        except Exception:
            # Teams would show its own vague error for a failed invoke; a plain sentence is kinder.
            log.exception("message action %r failed", invoke.command_id)
            return dialog_message_response(FAILED)

    async def _run(
        self,
        context: TurnContext,
        registered: RegisteredMessageAction,
        invoke: MessageActionInvoke,
        *,
        opening: bool,
    ) -> InvokeResponse:
        # Opening the dialog only reads; submitting it gets a unit of work.
        opener = read_only if opening else unit_of_work
        try:
            async with opener(self._sessions) as session:
                actor = await resolve_actor(session, context)
                if actor is None:
                    return _dialog(self._not_in_directory(context), registered)
                ctx = MessageActionContext(
                    session,
                    actor,
                    invoke.command_id,
                    invoke.message,
                    invoke.data,
                    self._home_url,
                    self._clock(),
                )
                try:
                    result = await (registered.fetch if opening else registered.submit)(ctx)
                except (DomainError, PayloadError) as error:
                    raise _Refused(getattr(error, "message", str(error))) from error
        except _Refused as refused:
            return _dialog(cards.error_card(message=refused.message), registered)
        if isinstance(result, DialogDone):
            return dialog_message_response(result.message) if result.message else dialog_closed_response()
        return _dialog(result, registered)

    def _not_in_directory(self, context: TurnContext) -> dict[str, Any]:
        sender = context.activity.from_property
        return cards.not_in_directory_card(
            display_name=sender.name if sender is not None else None, hr_contact=self._hr_contact
        )


def _dialog(card: dict[str, Any], registered: RegisteredMessageAction) -> InvokeResponse:
    return dialog_card_response(
        card, title=registered.title, width=registered.width, height=registered.height
    )

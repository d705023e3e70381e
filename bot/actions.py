"""Card actions and typed commands: one handler per verb or command word, registered by each feature."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from adaptive_cards.message_quote import QuotedMessage
from domain.access import Actor


@dataclass(frozen=True)
class ActionContext:
    """What a verb handler gets: the open unit of work, who pressed, the card's data, and the time."""

    session: AsyncSession
    actor: Actor
    data: dict[str, Any]
    home_url: str | None
    now: datetime


@dataclass(frozen=True)
class Mention:
    """Someone @mentioned in the text (not the bot): their Teams user id and the name Teams showed."""

    id: str
    name: str
    aad_object_id: str | None = None


@dataclass(frozen=True)
class CommandContext:
    """What a command handler gets: a session (read-only unless the command writes), who typed, and
    the words after the command, with @mentions as plain names."""

    session: AsyncSession
    actor: Actor
    args: str
    mentions: tuple[Mention, ...]
    home_url: str | None
    now: datetime


@dataclass(frozen=True)
class MessageActionContext:
    """What a message action handler gets: a session (read-only while the dialog opens), who ran the
    command, the message it was run on (None when Teams sent none), the dialog's data (empty while it
    opens) and the time."""

    session: AsyncSession
    actor: Actor
    command_id: str
    message: QuotedMessage | None
    data: dict[str, Any]
    home_url: str | None
    now: datetime


@dataclass(frozen=True)
class DialogDone:
    """A submit was accepted: close the dialog, after showing `message` in it when there is one."""

    message: str | None = None


ActionHandler = Callable[[ActionContext], Awaitable[dict[str, Any]]]
CommandHandler = Callable[[CommandContext], Awaitable[dict[str, Any]]]
# Opening returns the dialog's card; submitting returns a card to show instead (a refusal, with what was
# typed) or DialogDone.
MessageActionFetch = Callable[[MessageActionContext], Awaitable[dict[str, Any]]]
MessageActionSubmit = Callable[[MessageActionContext], Awaitable[dict[str, Any] | DialogDone]]


@dataclass(frozen=True)
class RegisteredCommand:
    phrase: str
    handler: CommandHandler
    writes: bool
    personal_only: bool


@dataclass(frozen=True)
class RegisteredMessageAction:
    command_id: str
    fetch: MessageActionFetch
    submit: MessageActionSubmit
    title: str
    width: str | int
    height: str | int


class ActionRouter:
    """Verb → handler (returns the card that replaces the one pressed), command phrase → handler
    (returns the card to reply with), and message action command id → its dialog's handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, ActionHandler] = {}
        self._commands: dict[str, RegisteredCommand] = {}
        self._message_actions: dict[str, RegisteredMessageAction] = {}

    def register(self, verb: str, handler: ActionHandler) -> None:
        if verb in self._handlers:
            raise ValueError(f"verb {verb!r} already has a handler")
        self._handlers[verb] = handler

    def handler_for(self, verb: str) -> ActionHandler | None:
        return self._handlers.get(verb)

    @property
    def verbs(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def command(
        self, phrase: str, handler: CommandHandler, *, writes: bool = False, personal_only: bool = True
    ) -> None:
        """Answer text that is `phrase` or starts with it ("goals", "goals Adele"); lower case words.

        Commands answer in the person's 1:1 chat only unless `personal_only` is off: their cards show
        someone's goals or check-ins, which a channel or group chat must not see."""
        key = " ".join(phrase.lower().split())
        if key in self._commands:
            raise ValueError(f"command {phrase!r} already has a handler")
        self._commands[key] = RegisteredCommand(key, handler, writes, personal_only)

    def command_for(self, text: str) -> tuple[RegisteredCommand, str] | None:
        """The longest registered phrase the text starts with, and the rest of the text as typed."""
        words = text.split()
        lowered = [w.lower() for w in words]
        for size in range(len(words), 0, -1):
            found = self._commands.get(" ".join(lowered[:size]))
            if found is not None:
                return found, " ".join(words[size:])
        return None

    @property
    def commands(self) -> tuple[str, ...]:
        """Every registered command phrase, in the order registered."""
        return tuple(self._commands)

    def message_action(
        self,
        command_id: str,
        fetch: MessageActionFetch,
        submit: MessageActionSubmit,
        *,
        title: str,
        width: str | int = "medium",
        height: str | int = "medium",
    ) -> None:
        """Answer the manifest's action command `command_id`: `fetch` builds the dialog, `submit` takes it.

        `title` heads the dialog; width and height are "small", "medium", "large" or pixels."""
        if command_id in self._message_actions:
            raise ValueError(f"message action {command_id!r} already has handlers")
        self._message_actions[command_id] = RegisteredMessageAction(
            command_id, fetch, submit, title, width, height
        )

    def message_action_for(self, command_id: str) -> RegisteredMessageAction | None:
        return self._message_actions.get(command_id)

    @property
    def message_actions(self) -> frozenset[str]:
        return frozenset(self._message_actions)

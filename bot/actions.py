"""Card actions: one handler per verb, the same for Action.Execute invokes and Action.Submit messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor


@dataclass(frozen=True)
class ActionContext:
    """What a verb handler gets: the open unit of work, who pressed, and the card's data."""

    session: AsyncSession
    actor: Actor
    data: dict[str, Any]
    home_url: str | None


ActionHandler = Callable[[ActionContext], Awaitable[dict[str, Any]]]


class ActionRouter:
    """Verb → handler; a handler returns the card that replaces the one that was pressed."""

    def __init__(self) -> None:
        self._handlers: dict[str, ActionHandler] = {}

    def register(self, verb: str, handler: ActionHandler) -> None:
        if verb in self._handlers:
            raise ValueError(f"verb {verb!r} already has a handler")
        self._handlers[verb] = handler

    def handler_for(self, verb: str) -> ActionHandler | None:
        return self._handlers.get(verb)

    @property
    def verbs(self) -> frozenset[str]:
        return frozenset(self._handlers)

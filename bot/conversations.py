"""Remembering each person's 1:1 conversation so the bot can reach them later."""

from __future__ import annotations

import time
from collections.abc import Callable

from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.identity import tenant_of
from bot.memory import TimedMemory
from storage.models import ConversationRef


def is_personal(activity: Activity) -> bool:
    """A 1:1 chat between one person and the bot."""
    conversation = activity.conversation
    return conversation is not None and (conversation.conversation_type or "personal") == "personal"


class KnownConversations:
    """Conversation references this process verified recently, so a chat turn needn't re-read them.

    Safe to trust for a while: the only other writer, the sender marking a conversation blocked, is
    undone by the reinstall event, which always writes.
    """

    def __init__(
        self, *, ttl: float = 600.0, size: int = 100_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._verified = TimedMemory(ttl=ttl, size=size, monotonic=monotonic)

    def verified(self, person_id: int, activity: Activity) -> bool:
        """True when this exact reference was checked against the store less than `ttl` ago."""
        wanted = _wanted(activity)
        return wanted is not None and self._verified.get(person_id) == tuple(wanted.values())

    def note(self, person_id: int, activity: Activity) -> None:
        """The store now holds this reference."""
        wanted = _wanted(activity)
        if wanted is not None:
            self._verified.put(person_id, tuple(wanted.values()))


def _wanted(activity: Activity) -> dict[str, str | None] | None:
    if not is_personal(activity) or activity.from_property is None or activity.recipient is None:
        return None
    return {
        "conversation_id": activity.conversation.id,
        "service_url": activity.service_url,
        "channel_id": activity.channel_id or "msteams",
        "bot_id": activity.recipient.id,
        "user_id": activity.from_property.id,
        "tenant_id": tenant_of(activity),
    }


async def needs_saving(session: AsyncSession, *, person_id: int, activity: Activity) -> bool:
    """True when the stored reference is missing, different, or marked blocked (they're back)."""
    wanted = _wanted(activity)
    if wanted is None:
        return False
    ref = await session.get(ConversationRef, person_id)
    return ref is None or ref.blocked_at is not None or any(getattr(ref, k) != v for k, v in wanted.items())


async def remember(session: AsyncSession, *, person_id: int, activity: Activity) -> ConversationRef | None:
    """Store or refresh the person's personal conversation reference; writes only when it changed."""
    wanted = _wanted(activity)
    if wanted is None:
        return None
    ref = await session.get(ConversationRef, person_id)
    if ref is None:
        ref = ConversationRef(person_id=person_id, **wanted)
        session.add(ref)
        return ref
    for key, value in wanted.items():
        if getattr(ref, key) != value:
            setattr(ref, key, value)
    ref.blocked_at = None  # they are writing to the bot, so they can be reached again
    return ref


async def forget_install(session: AsyncSession, *, person_id: int) -> None:
    """The person removed the app: the next install gets a welcome again."""
    ref = await session.get(ConversationRef, person_id)
    if ref is not None:
        ref.welcomed_at = None

"""Remembering each person's 1:1 conversation so the bot can reach them later."""

from __future__ import annotations

from datetime import datetime

from botbuilder.schema import Activity
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.identity import tenant_of
from storage.models import ConversationRef, ProcessedActivity


def is_personal(activity: Activity) -> bool:
    """A 1:1 chat between one person and the bot."""
    conversation = activity.conversation
    return conversation is not None and (conversation.conversation_type or "personal") == "personal"


async def remember(session: AsyncSession, *, person_id: int, activity: Activity) -> ConversationRef | None:
    """Store or refresh the person's personal conversation reference; writes only when it changed."""
    if not is_personal(activity) or activity.from_property is None or activity.recipient is None:
        return None
    wanted = {
        "conversation_id": activity.conversation.id,
        "service_url": activity.service_url,
        "channel_id": activity.channel_id or "msteams",
        "bot_id": activity.recipient.id,
        "user_id": activity.from_property.id,
        "tenant_id": tenant_of(activity),
    }
    ref = await session.get(ConversationRef, person_id)
    if ref is None:
        ref = ConversationRef(person_id=person_id, **wanted)
        session.add(ref)
        return ref
    changed = {key: value for key, value in wanted.items() if getattr(ref, key) != value}
    for key, value in changed.items():
        setattr(ref, key, value)
    if changed:
        ref.blocked_at = None  # a new conversation means the person is reachable again
    return ref


async def forget_install(session: AsyncSession, *, person_id: int) -> None:
    """The person removed the app: the next install gets a welcome again."""
    ref = await session.get(ConversationRef, person_id)
    if ref is not None:
        ref.welcomed_at = None


async def first_time(session: AsyncSession, *, activity_id: str | None, now: datetime) -> bool:
    """Record the activity id; False when Teams already delivered it (a retry after a timeout)."""
    if not activity_id:
        return True
    try:
        async with session.begin_nested():
            await session.execute(insert(ProcessedActivity).values(activity_id=activity_id, received_at=now))
    except IntegrityError:
        return False
    return True


async def prune_processed(session: AsyncSession, *, before: datetime) -> None:
    """Teams retries within minutes; older ids only take space."""
    await session.execute(delete(ProcessedActivity).where(ProcessedActivity.received_at < before))

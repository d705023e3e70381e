"""The team channels the bot is installed in: written from install, removal and channel messages, read
by the praise form (where a public praise may also be posted) and by the sender (where it may still post).

A channel is only ever marked removed, never deleted: a reinstall or a new message brings it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import is_postgres
from storage.models import TeamChannel

NAME_MAX = 256


@dataclass(frozen=True)
class SeenChannel:
    """What an activity in a channel says about it (names only when Teams sent them)."""

    conversation_id: str
    service_url: str
    tenant_id: str | None
    bot_id: str | None
    team_id: str | None
    team_name: str | None = None
    channel_name: str | None = None


@dataclass(frozen=True)
class KnownChannel:
    """A channel the bot is (or was) installed in."""

    id: int
    conversation_id: str
    service_url: str
    tenant_id: str | None
    bot_id: str | None
    team_id: str | None
    team_name: str | None
    channel_name: str | None
    removed: bool


async def remember(
    session: AsyncSession, *, seen: SeenChannel, now: datetime, installed: bool = False
) -> None:
    """Record the channel, or bring its row up to date (and back, if it was removed).

    `installed`: this is the install event itself, so the channel's installed_at starts again."""
    row = await session.scalar(select(TeamChannel).where(TeamChannel.conversation_id == seen.conversation_id))
    if row is None:
        await _insert(session, seen, now)
        return
    for key, value in _changes(row, seen).items():
        setattr(row, key, value)
    if installed or row.removed_at is not None:
        row.installed_at = now
        row.removed_at = None
    await session.flush()


async def is_current(session: AsyncSession, *, seen: SeenChannel) -> bool:
    """True when the stored row already says everything the activity says (nothing to write)."""
    row = await session.scalar(select(TeamChannel).where(TeamChannel.conversation_id == seen.conversation_id))
    return row is not None and row.removed_at is None and not _changes(row, seen)


async def remove_team(
    session: AsyncSession, *, team_id: str | None, conversation_id: str, now: datetime
) -> None:
    """The bot was removed from a team: every channel of it (or this one, when no team was named)."""
    where = TeamChannel.team_id == team_id if team_id else TeamChannel.conversation_id == conversation_id
    await session.execute(
        update(TeamChannel)
        .where(where, TeamChannel.removed_at.is_(None))
        .values(removed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def mark_removed(session: AsyncSession, *, conversation_id: str, now: datetime) -> None:
    """Teams refused a post there (403/404): the bot is no longer in the channel."""
    await session.execute(
        update(TeamChannel)
        .where(TeamChannel.conversation_id == conversation_id, TeamChannel.removed_at.is_(None))
        .values(removed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def active(session: AsyncSession, *, tenant_id: str | None) -> list[KnownChannel]:
    """The channels the bot is installed in that a person of this tenant may post to, oldest first."""
    query = select(TeamChannel).where(TeamChannel.removed_at.is_(None)).order_by(TeamChannel.id)
    if tenant_id is not None:
        # People without a tenant are matched to every tenant (domain/access.py); channels likewise.
        query = query.where(or_(TeamChannel.tenant_id == tenant_id, TeamChannel.tenant_id.is_(None)))
    return [_known(row) for row in await session.scalars(query)]


async def by_conversation(session: AsyncSession, conversation_id: str) -> KnownChannel | None:
    """The channel with this conversation id, removed or not; None when the bot never was there."""
    row = await session.scalar(select(TeamChannel).where(TeamChannel.conversation_id == conversation_id))
    return _known(row) if row is not None else None


# --- helpers -----------------------------------------------------------------------------------------


async def _insert(session: AsyncSession, seen: SeenChannel, now: datetime) -> None:
    # Teams may deliver the install event and a first message at once: the second insert is a no-op.
    insert = pg_insert if is_postgres(session) else sqlite_insert
    values = {
        "conversation_id": seen.conversation_id,
        "service_url": seen.service_url,
        "tenant_id": seen.tenant_id,
        "bot_id": seen.bot_id,
        "team_id": seen.team_id,
        "team_name": _name(seen.team_name),
        "channel_name": _name(seen.channel_name),
        "installed_at": now,
        "updated_at": now,
    }
    await session.execute(insert(TeamChannel).values(**values).on_conflict_do_nothing())


def _changes(row: TeamChannel, seen: SeenChannel) -> dict[str, str | None]:
    """The fields the activity changes; a name Teams left out keeps the one on file."""
    wanted = {
        "service_url": seen.service_url,
        "tenant_id": seen.tenant_id,
        "bot_id": seen.bot_id,
        "team_id": seen.team_id,
        "team_name": _name(seen.team_name),
        "channel_name": _name(seen.channel_name),
    }
    return {k: v for k, v in wanted.items() if v is not None and getattr(row, k) != v}


def _name(name: str | None) -> str | None:
    name = (name or "").strip()
    return name[:NAME_MAX] or None


def _known(row: TeamChannel) -> KnownChannel:
    return KnownChannel(
        id=row.id,
        conversation_id=row.conversation_id,
        service_url=row.service_url,
        tenant_id=row.tenant_id,
        bot_id=row.bot_id,
        team_id=row.team_id,
        team_name=row.team_name,
        channel_name=row.channel_name,
        removed=row.removed_at is not None,
    )

"""Recognition: HR-defined badges, and praise from anyone to anyone, public or private.

Public praise is for the whole organization to see, and may be posted to a channel the bot is installed
in (the bot posts it and records the activity with record_posted). Private praise is seen by the giver,
the receiver, the receiver's manager line and HR (domain/access.py), and is never posted. Official badges
are HR's to give. Text is stored as typed (trimmed): escaping it is each transport's job.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Select, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    Role,
    may_define_badges,
    may_give_badge,
    may_view_praise,
    relation_to,
    require,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.org import display_names
from domain.performance.recognition_views import (
    BADGE_DESCRIPTION_MAX,
    BADGE_EMOJI_MAX,
    BADGE_NAME_MAX,
    PRAISE_MAX,
    QUOTE_MAX,
    BadgeView,
    ChannelTarget,
    PraiseView,
)
from domain.text import checked_client_id, optional_text, quoted_text, required_text
from storage.models import Badge, Person, Praise

FEED_LIMIT = 50


# --- badges ------------------------------------------------------------------------------------------


async def define_badge(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    now: datetime,
    emoji: str | None = None,
    description: str | None = None,
    official: bool = False,
) -> BadgeView:
    """Define a badge (HR); names are unique, whatever their case."""
    require(may_define_badges(actor), "defining badges")
    badge = Badge(
        name=required_text(name, BADGE_NAME_MAX, "The badge name"),
        emoji=optional_text(emoji, BADGE_EMOJI_MAX, "The emoji"),
        description=optional_text(description, BADGE_DESCRIPTION_MAX, "The description"),
        official=bool(official),
        created_by_id=actor.person_id,
        created_at=now,
    )
    if await _badge_named(session, badge.name) is not None:
        raise Conflict(f"There is already a badge called “{badge.name}”.")
    try:
        async with session.begin_nested():
            session.add(badge)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"There is already a badge called “{badge.name}”.") from None
    return _badge_view(badge, actor)


async def set_badge_active(session: AsyncSession, *, actor: Actor, badge_id: int, active: bool) -> BadgeView:
    """Retire a badge (it stays on praise already given) or bring it back (HR)."""
    require(may_define_badges(actor), "changing badges")
    badge = await session.get(Badge, badge_id)
    if badge is None:
        raise NotFound("That badge does not exist.")
    badge.active = active
    await session.flush()
    return _badge_view(badge, actor)


async def list_badges(
    session: AsyncSession, *, actor: Actor, include_retired: bool = False
) -> tuple[BadgeView, ...]:
    """Badges by name, each saying whether the actor may give it; retired ones only on request."""
    query = select(Badge).order_by(Badge.name)
    if not include_retired:
        query = query.where(Badge.active.is_(True))
    return tuple(_badge_view(b, actor) for b in await session.scalars(query))


# --- praise ------------------------------------------------------------------------------------------


async def give_praise(
    session: AsyncSession,
    *,
    actor: Actor,
    receiver_id: int,
    text: str,
    now: datetime,
    badge_id: int | None = None,
    private: bool = False,
    channel: ChannelTarget | None = None,
    quote: str | None = None,
    client_request_id: str | None = None,
) -> PraiseView:
    """Praise a colleague, with a badge or not; the same client_request_id again returns the first praise."""
    if (repeat := await _repeat(session, actor, client_request_id)) is not None:
        return repeat
    if receiver_id == actor.person_id:
        raise Invalid("Praise is for someone else: you can't praise yourself.")
    if private and channel is not None:
        raise Invalid("Private praise isn't posted to a channel: make it public, or don't post it.")
    praise = Praise(
        giver_id=actor.person_id,
        receiver_id=receiver_id,
        text=required_text(text, PRAISE_MAX, "The praise"),
        private=bool(private),
        quote=quoted_text(quote, QUOTE_MAX),
        created_at=now,
        client_request_id=checked_client_id(client_request_id),
        channel_conversation_id=channel.conversation_id if channel else None,
        channel_service_url=channel.service_url if channel else None,
    )
    if badge_id is not None:
        praise.badge_id = (await _givable_badge(session, actor, badge_id)).id
    receiver = await session.get(Person, receiver_id)
    if receiver is None or not receiver.active:
        raise NotFound("That person is not in the directory.")
    try:
        async with session.begin_nested():
            session.add(praise)
            await session.flush()
    except IntegrityError:
        if (repeat := await _repeat(session, actor, client_request_id)) is not None:
            return repeat
        raise
    return (await _views(session, actor, [praise]))[0]


async def record_posted(session: AsyncSession, *, praise_id: int, activity_id: str) -> None:
    """Remember the channel activity the bot posted the praise card as (the scheduler's side)."""
    praise = await session.get(Praise, praise_id)
    if praise is None:
        raise NotFound("That praise does not exist.")
    praise.channel_activity_id = activity_id
    await session.flush()


async def get_praise(session: AsyncSession, *, actor: Actor, praise_id: int) -> PraiseView:
    """One praise, if the actor may see it."""
    praise = await session.get(Praise, praise_id, populate_existing=True)
    if praise is None or not await _visible(session, actor, praise):
        raise NotFound("That praise does not exist.")
    return (await _views(session, actor, [praise]))[0]


async def praise_for(
    session: AsyncSession, *, actor: Actor, person_id: int, limit: int = FEED_LIMIT
) -> tuple[PraiseView, ...]:
    """Praise a person received, newest first, as the actor may see it (private only within the rules)."""
    rel = await relation_to(session, actor, person_id)
    query = _newest(limit).where(Praise.receiver_id == person_id)
    if not may_view_praise(actor, rel, private=True, is_giver=False):
        query = query.where(or_(Praise.private.is_(False), Praise.giver_id == actor.person_id))
    return tuple(await _views(session, actor, list(await session.scalars(query))))


async def praise_feed(
    session: AsyncSession, *, actor: Actor, limit: int = FEED_LIMIT
) -> tuple[PraiseView, ...]:
    """Recent praise across the organization as the actor may see it: public praise, and private praise
    they gave, received, or that reached their line (everything for HR)."""
    query = _newest(limit)
    if not actor.has(Role.HR_ADMIN):
        line = await _line(session, actor)
        query = query.where(
            or_(
                Praise.private.is_(False),
                Praise.giver_id == actor.person_id,
                Praise.receiver_id.in_({actor.person_id, *line}),
            )
        )
    return tuple(await _views(session, actor, list(await session.scalars(query))))


# --- helpers -----------------------------------------------------------------------------------------


def _newest(limit: int) -> Select[tuple[Praise]]:
    return select(Praise).order_by(Praise.created_at.desc(), Praise.id.desc()).limit(limit)


async def _givable_badge(session: AsyncSession, actor: Actor, badge_id: int) -> Badge:
    badge = await session.get(Badge, badge_id)
    if badge is None:
        raise NotFound("That badge does not exist.")
    if not badge.active:
        raise Invalid(f"The badge “{badge.name}” was retired: choose another.")
    if not may_give_badge(actor, official=badge.official):
        raise Forbidden(f"“{badge.name}” is an official badge: only HR can give it.")
    return badge


async def _repeat(session: AsyncSession, actor: Actor, client_request_id: str | None) -> PraiseView | None:
    if client_request_id is None:
        return None
    found = await session.scalar(select(Praise).where(Praise.client_request_id == client_request_id))
    if found is None:
        return None
    if found.giver_id != actor.person_id:
        raise Conflict("That form was already used. Please start again from a fresh card.")
    return replace((await _views(session, actor, [found]))[0], already_submitted=True)


async def _visible(session: AsyncSession, actor: Actor, praise: Praise) -> bool:
    if not praise.private:
        return True
    rel = await relation_to(session, actor, praise.receiver_id)
    return may_view_praise(actor, rel, private=True, is_giver=praise.giver_id == actor.person_id)


async def _line(session: AsyncSession, actor: Actor) -> set[int]:
    """Everyone below the actor in reporting lines, directly or further down: one recursive query."""
    down = (
        select(Person.id.label("id"), literal(1).label("depth"))
        .where(Person.manager_id == actor.person_id)
        .cte("below", recursive=True)
    )
    step = select(Person.id, down.c.depth + 1).join(down, Person.manager_id == down.c.id)
    below = down.union_all(step.where(down.c.depth < 64))
    return set(await session.scalars(select(below.c.id).distinct()))


async def _badge_named(session: AsyncSession, name: str) -> int | None:
    return await session.scalar(select(Badge.id).where(func.lower(Badge.name) == name.lower()))


async def _views(session: AsyncSession, actor: Actor, rows: list[Praise]) -> list[PraiseView]:
    if not rows:
        return []
    names = await display_names(session, {pid for p in rows for pid in (p.giver_id, p.receiver_id)})
    badge_ids = {p.badge_id for p in rows if p.badge_id is not None}
    badges = (
        {b.id: b for b in await session.scalars(select(Badge).where(Badge.id.in_(badge_ids)))}
        if badge_ids
        else {}
    )
    return [
        PraiseView(
            id=p.id,
            giver_id=p.giver_id,
            giver_name=names.get(p.giver_id or 0, ""),
            receiver_id=p.receiver_id,
            receiver_name=names.get(p.receiver_id, ""),
            badge=_badge_view(badges[p.badge_id], actor) if p.badge_id in badges else None,
            text=p.text,
            private=p.private,
            created_at=p.created_at,
            channel=ChannelTarget(p.channel_conversation_id, p.channel_service_url or "")
            if p.channel_conversation_id
            else None,
            posted=p.channel_activity_id is not None,
            quote=p.quote,
        )
        for p in rows
    ]


def _badge_view(badge: Badge, actor: Actor) -> BadgeView:
    return BadgeView(
        id=badge.id,
        name=badge.name,
        emoji=badge.emoji,
        description=badge.description,
        official=badge.official,
        active=badge.active,
        may_give=badge.active and may_give_badge(actor, official=badge.official),
    )

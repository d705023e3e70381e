"""Draining the outbox: proactive messages to people's 1:1 chats and posts in team channels, within
Teams' limits.

429 → retry after the server's Retry-After; 412/5xx → exponential backoff with jitter; 403 → the person
blocked or removed the app, so the conversation is marked blocked and the message dropped. In a channel,
403 or 404 means the bot was removed (or the channel deleted): the channel is marked removed and the
message dropped. After a send, a hook registered for the message's kind may record the posted activity.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cards import card_activity
from bot.connector import ConnectorError, ConnectorPool, UntrustedServiceUrl
from bot.rate_limit import SendLimiter
from domain.clock import Clock
from storage import outbox, team_channels
from storage.models import ConversationRef
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

# Runs after a message of its kind was sent, in the transaction that marks it sent, with the activity id;
# features hand theirs in through bot.routes, so the sender knows no feature.
AfterSend = Callable[[AsyncSession, outbox.Claimed, str], Awaitable[None]]


@dataclass
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    dropped: int = 0

    def __add__(self, other: DrainReport) -> DrainReport:
        return DrainReport(self.sent + other.sent, self.retried + other.retried, self.dropped + other.dropped)


class OutboxSender:
    """Sends claimed outbox messages; safe to run in several processes at once."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        pool: ConnectorPool,
        clock: Clock,
        limiter: SendLimiter | None = None,
        batch: int = 50,
        after_send: Mapping[str, AfterSend] | None = None,
    ) -> None:
        self._sessions = sessions
        self._after_send = after_send or {}
        self._pool = pool
        self._clock = clock
        self._limiter = limiter or SendLimiter()
        self._batch = batch
        self.worker = f"sender-{uuid.uuid4().hex[:12]}"

    async def drain(self, *, max_batches: int | None = None) -> DrainReport:
        """Send until nothing is ready (or max_batches passes)."""
        total, batches = DrainReport(), 0
        while max_batches is None or batches < max_batches:
            report = await self.drain_once()
            total += report
            batches += 1
            if report.sent + report.retried + report.dropped == 0:
                break
        return total

    async def drain_once(self) -> DrainReport:
        """Claim one batch and send it."""
        async with unit_of_work(self._sessions) as session:
            claimed = await outbox.claim(session, worker=self.worker, now=self._clock(), limit=self._batch)
        report = DrainReport()
        for message in claimed:
            outcome = await self._send(message)
            setattr(report, outcome, getattr(report, outcome) + 1)
        return report

    async def run(self, *, interval: float = 2.0) -> None:
        """Drain forever (the server's background task)."""
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox drain failed; will try again")
            await asyncio.sleep(interval)

    async def _send(self, message: outbox.Claimed) -> str:
        async with unit_of_work(self._sessions) as session:
            target = await _target(session, message)
            if isinstance(target, str):
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=target)
                return "dropped"
        try:
            activity_id = await self._deliver(message.payload, target)
        except ConnectorError as error:
            return await self._failed(message, target, error)
        except UntrustedServiceUrl as error:
            await self._finish(outbox.give_up, message, error=str(error))
            return "dropped"
        except (TimeoutError, OSError, aiohttp.ClientError) as error:
            # aiohttp.ClientError: a dropped connection (ServerDisconnectedError) is not an OSError, and
            # escaping here would strand the rest of the batch until its lease runs out.
            await self._finish(outbox.retry_later, message, error=f"network: {error!r}", now=self._clock())
            return "retried"
        except Exception as error:
            # A bug in building one message must not strand the batch; it backs off and dies after
            # MAX_ATTEMPTS instead of blocking its lease window forever.
            log.exception("sending outbox message %s failed", message.id)
            await self._finish(outbox.retry_later, message, error=f"unexpected: {error!r}", now=self._clock())
            return "retried"
        await self._sent(message, activity_id)
        return "sent"

    async def _deliver(self, payload: dict[str, Any], target: _Target) -> str | None:
        """Post the message; the activity id Teams gave it (None when the connector named none)."""
        await self._limiter.acquire(tenant_id=target.tenant_id, conversation_id=target.conversation_id)
        activity = (
            card_activity(payload["card"]) if "card" in payload else Activity(type=ActivityTypes.message)
        )
        activity.text = payload.get("text")
        activity.summary = payload.get("summary")
        activity.conversation = ConversationAccount(
            id=target.conversation_id,
            tenant_id=target.tenant_id,
            is_group=True if target.channel else None,
            conversation_type="channel" if target.channel else None,
        )
        activity.from_property = ChannelAccount(id=target.bot_id) if target.bot_id else None
        activity.recipient = ChannelAccount(id=target.user_id) if target.user_id else None
        client = self._pool.client(target.service_url)  # refuses hosts we don't send the token to
        sent = await client.conversations.send_to_conversation(target.conversation_id, activity)
        return sent.id

    async def _sent(self, message: outbox.Claimed, activity_id: str | None) -> None:
        """Mark the message sent and let its kind's hook remember the posted activity, in one transaction."""
        hook = self._after_send.get(message.kind)
        async with unit_of_work(self._sessions) as session:
            await outbox.ack(session, worker=self.worker, message_id=message.id, now=self._clock())
            if hook is None or activity_id is None:
                return
            try:
                async with session.begin_nested():
                    await hook(session, message, activity_id)
            except Exception:
                # The message went out: retrying it would post it twice, so a failing hook only logs.
                log.exception("after-send hook for outbox message %s (%s) failed", message.id, message.kind)

    async def _failed(self, message: outbox.Claimed, target: _Target, error: ConnectorError) -> str:
        if target.channel and error.status in (403, 404):
            # The bot was removed from the team or the channel is gone: stop posting there, never retry.
            async with unit_of_work(self._sessions) as session:
                await team_channels.mark_removed(
                    session, conversation_id=target.conversation_id, now=self._clock()
                )
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=str(error))
            return "dropped"
        if error.blocked and not target.channel:
            async with unit_of_work(self._sessions) as session:
                ref = await session.get(ConversationRef, message.person_id)
                if ref is not None:
                    ref.blocked_at = self._clock()
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=str(error))
            return "dropped"
        if not error.retryable:
            await self._finish(outbox.give_up, message, error=str(error))
            return "dropped"
        delay = timedelta(seconds=error.retry_after) if error.retry_after is not None else None
        await self._finish(outbox.retry_later, message, error=str(error), now=self._clock(), delay=delay)
        return "retried"

    async def _finish(self, step: Any, message: outbox.Claimed, **kwargs: Any) -> None:
        async with unit_of_work(self._sessions) as session:
            await step(session, worker=self.worker, message_id=message.id, **kwargs)


@dataclass(frozen=True)
class _Target:
    """Where one message goes: a person's 1:1 chat, or a team channel (no recipient: the whole channel)."""

    service_url: str
    conversation_id: str
    tenant_id: str | None
    bot_id: str | None
    user_id: str | None
    channel: bool


async def _target(session: AsyncSession, message: outbox.Claimed) -> _Target | str:
    """Where the message goes now, or why it can't go anywhere (the message is then dropped)."""
    if message.person_id is None and (conversation_id := message.conversation_id) is not None:
        # Only channels the bot is still installed in, at the address Teams last used there.
        channel = await team_channels.by_conversation(session, conversation_id)
        if channel is None or channel.removed:
            return "the bot is not installed in that channel"
        return _Target(
            channel.service_url, channel.conversation_id, channel.tenant_id, channel.bot_id, None, True
        )
    ref = await session.get(ConversationRef, message.person_id) if message.person_id else None
    if ref is None or ref.blocked_at is not None:
        return "no conversation with this person" if ref is None else "person blocked the app"
    return _Target(ref.service_url, ref.conversation_id, ref.tenant_id, ref.bot_id, ref.user_id, False)

"""Draining the outbox: proactive messages to people's 1:1 chats, within Teams' limits.

429 → retry after the server's Retry-After; 412/5xx → exponential backoff with jitter; 403 → the person
blocked or removed the app, so the conversation is marked blocked and the message dropped.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
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
from storage import outbox
from storage.models import ConversationRef
from storage.uow import unit_of_work

log = logging.getLogger(__name__)


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
    ) -> None:
        self._sessions = sessions
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
            ref = await session.get(ConversationRef, message.person_id) if message.person_id else None
            if ref is None or ref.blocked_at is not None:
                reason = "no conversation with this person" if ref is None else "person blocked the app"
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=reason)
                return "dropped"
            target = (ref.service_url, ref.conversation_id, ref.tenant_id, ref.bot_id, ref.user_id)
        try:
            await self._deliver(message.payload, *target)
        except ConnectorError as error:
            return await self._failed(message, error)
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
        await self._finish(outbox.ack, message, now=self._clock())
        return "sent"

    async def _deliver(
        self,
        payload: dict[str, Any],
        service_url: str,
        conversation_id: str,
        tenant_id: str | None,
        bot_id: str,
        user_id: str,
    ) -> None:
        await self._limiter.acquire(tenant_id=tenant_id, conversation_id=conversation_id)
        activity = (
            card_activity(payload["card"]) if "card" in payload else Activity(type=ActivityTypes.message)
        )
        activity.text = payload.get("text")
        activity.summary = payload.get("summary")
        activity.conversation = ConversationAccount(id=conversation_id, tenant_id=tenant_id)
        activity.from_property = ChannelAccount(id=bot_id)
        activity.recipient = ChannelAccount(id=user_id)
        await self._pool.client(service_url).conversations.send_to_conversation(conversation_id, activity)

    async def _failed(self, message: outbox.Claimed, error: ConnectorError) -> str:
        if error.blocked:
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

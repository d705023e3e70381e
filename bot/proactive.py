"""Draining the outbox: proactive messages to people's 1:1 chats and posts in team channels, within
Teams' limits.

A drain claims messages in batches (a lease: other workers, in this process or another, skip them until
it runs out) and queues them per conversation; `concurrency` workers send them, one message per
conversation at a time, in id order, many conversations at once. Every send first waits for room in its
conversation's and its tenant's windows (bot/rate_limit.py). A worker always takes the conversation that
opens first and never waits holding one, so a full conversation never holds up the others; one that
stays full for longer than `hold` goes back to the outbox for when it opens. The next batch is claimed as
soon as too few conversations are ready, not when the last one finished. Sends start only while their
lease has a quarter of its time left, so a slow drain gives messages back rather than letting another
worker take them over mid-send.

Answers: 429 → that conversation (this message, the rest queued for it and the person's other waiting
messages) waits the server's Retry-After, other conversations keep going; 412/5xx and network errors →
exponential backoff with jitter; 403 → the person blocked or removed the app, so the conversation is
marked blocked and its messages dropped. In a channel, 403 or 404 means the bot was removed (or the
channel deleted): the channel is marked removed and the message dropped. After a send, a hook registered
for the message's kind may record the posted activity.

Delivery is at least once, and the window where it can be more than once is kept as short as it can be:
a message is marked sent as soon as Teams answers, in the next commit (answers that arrive while one
commit runs share the next, so none waits behind the others'). A process killed after Teams accepted a
message and before that commit sends it again once its lease runs out; at most `concurrency` messages
are ever in that state, and on average rate x (answer's way back + one commit) of them. No protocol
closes that gap: the POST and the commit cannot be one atomic step, and the connector neither takes an
idempotency key nor lets a bot read back what it posted. A process that is stopped rather than killed
(the server's background task cancelled) has no gap: sends in flight finish and are marked, and unsent
claims are given back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import math
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationAccount
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.cards import card_activity
from bot.connector import ConnectorError, ConnectorPool, FastConnectorClient, UntrustedServiceUrl
from bot.rate_limit import IN_FLIGHT_POLL, Send, SendLimiter
from domain.clock import Clock
from storage import outbox, team_channels
from storage.models import ConversationRef
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

# Runs after a message of its kind was sent, in the transaction that marks it sent, with the activity id;
# features hand theirs in through bot.routes, so the sender knows no feature.
AfterSend = Callable[[AsyncSession, outbox.Claimed, str], Awaitable[None]]

BLOCKED = "person blocked the app"
NOT_INSTALLED = "the bot is not installed in that channel"


@dataclass
class DrainReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retried: int = 0
    dropped: int = 0
    postponed: int = 0  # given back unsent for later: their conversation's window was full

    def __add__(self, other: DrainReport) -> DrainReport:
        return DrainReport(
            self.sent + other.sent,
            self.retried + other.retried,
            self.dropped + other.dropped,
            self.postponed + other.postponed,
        )


class OutboxSender:
    """Sends claimed outbox messages, many conversations at once; safe to run in several processes."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        pool: ConnectorPool,
        clock: Clock,
        limiter: SendLimiter | None = None,
        batch: int = 100,
        concurrency: int = 16,
        lease: timedelta = timedelta(minutes=2),
        hold: float = 5.0,
        after_send: Mapping[str, AfterSend] | None = None,
    ) -> None:
        self._sessions = sessions
        self._after_send = after_send or {}
        self._pool = pool
        self._clock = clock
        self.limiter = limiter or SendLimiter()
        self._batch = batch
        self._concurrency = max(1, concurrency)
        self._lease = lease
        self._hold = hold
        # Sessions bound to one shared connection (the tests' rolled-back transaction) cannot be used by two
        # tasks at once; on an engine every unit of work has its own connection.
        self._gate = None if isinstance(sessions.kw.get("bind"), AsyncEngine) else asyncio.Lock()
        self.worker = f"sender-{uuid.uuid4().hex[:12]}"
        # Sends started and not yet recorded: the most a crash right now could send twice.
        self.in_flight = 0
        self._answered: list[tuple[outbox.Claimed, str | None, asyncio.Future[None]]] = []
        self._marking: asyncio.Future[None] | None = None

    async def drain(self, *, max_batches: int | None = None) -> DrainReport:
        """Send until nothing is ready (or after max_batches claims), claiming more while sending."""
        report = DrainReport()
        queue = _Queue(self.limiter, hold=self._hold)
        workers = [asyncio.create_task(self._work(queue, report)) for _ in range(self._concurrency)]
        for worker in workers:
            worker.add_done_callback(queue.worker_ended)
        try:
            claims = 0
            while max_batches is None or claims < max_batches:
                # Claim once too few conversations are ready to keep the workers busy: a full chat in
                # one claim never holds up the next (claims are not a barrier).
                await queue.wants_more(ready=2 * self._concurrency, most=4 * self._batch)
                if queue.stopping:
                    break  # a worker failed: stop below, and raise its error
                await self._give_back(queue.take_postponed(), report)
                claims += 1
                claimed = await self._claim(report)
                if claimed is None:
                    break
                queue.add(*claimed)
            queue.close()
            results = await asyncio.gather(*workers, return_exceptions=True)
        except asyncio.CancelledError:
            await self._stop(queue, workers, report)
            raise
        except Exception:
            await self._stop(queue, workers, report)
            raise
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            await self._stop(queue, workers, report)
            raise failed
        await self._give_back(queue.take_postponed(), report)
        return report

    async def drain_once(self) -> DrainReport:
        """Claim one batch and send it."""
        return await self.drain(max_batches=1)

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

    async def _claim(self, report: DrainReport) -> tuple[list[_Item], float] | None:
        """Lease the next batch: what can be sent (messages with nowhere to go are dropped), and by when
        its sends must start. None: nothing was ready."""
        claimed_at = self.limiter.now()
        async with self._unit() as session:
            claimed = await outbox.claim(
                session, worker=self.worker, now=self._clock(), limit=self._batch, lease=self._lease
            )
            targets = await _targets(session, claimed)
        if not claimed:
            return None
        sendable: list[_Item] = []
        unreachable: list[tuple[outbox.Claimed, str]] = []
        for message in claimed:
            target = targets[message.id]
            if isinstance(target, str):
                unreachable.append((message, target))
            else:
                sendable.append(_Item(message, target))
        if unreachable:
            await self._give_up_all(unreachable)
            report.dropped += len(unreachable)
        # Sends start only while a quarter of the lease is left: enough for one to be answered and marked.
        return sendable, claimed_at + self._lease.total_seconds() * 0.75

    # -- the workers ------------------------------------------------------------------------------------

    async def _work(self, queue: _Queue, report: DrainReport) -> None:
        """Send whichever queued conversation opens first, until the queue is closed and empty."""
        while (item := await queue.next()) is not None:
            try:
                # Refuses hosts we don't send the token to, before the send takes any of the budget.
                client = self._pool.client(item.target.service_url)
            except UntrustedServiceUrl as error:
                await self._finish(outbox.give_up, item.message, error=str(error))
                report.dropped += 1
                queue.done(item)
                continue
            try:
                send = await self.limiter.start(
                    tenant_id=item.target.tenant_id, conversation_id=item.target.conversation_id
                )
            except asyncio.CancelledError:
                queue.put_back(item)
                raise
            # From here the send is out of the worker's hands: stopping the pass waits for it to be
            # answered and recorded rather than cutting it off mid-request (which would send it twice).
            task = asyncio.ensure_future(self._send(item, client, send))
            queue.in_flight.add(task)
            task.add_done_callback(queue.in_flight.discard)
            outcome, effect = await asyncio.shield(task)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if isinstance(effect, float):
                queue.pause(item.target.conversation_id, effect)
            elif isinstance(effect, str):
                dropped = queue.drop(item.target.conversation_id)
                if dropped:
                    await self._give_up_all((m, effect) for m in dropped)
                    report.dropped += len(dropped)
            queue.done(item)

    async def _send(
        self, item: _Item, client: FastConnectorClient, send: Send
    ) -> tuple[str, float | str | None]:
        """Post one message and record the outcome; with what it means for the rest of its conversation
        (seconds to pause it, or why to drop it)."""
        self.in_flight += 1
        try:
            return await self._send_and_record(item, client, send)
        finally:
            self.in_flight -= 1

    async def _send_and_record(
        self, item: _Item, client: FastConnectorClient, send: Send
    ) -> tuple[str, float | str | None]:
        message, target = item.message, item.target
        try:
            try:
                activity_id = await self._post(client, message.payload, target)
            finally:
                send.finish(self.limiter.now())
        except ConnectorError as error:
            return await self._failed(message, target, error)
        except (TimeoutError, OSError, aiohttp.ClientError) as error:
            # aiohttp.ClientError: a dropped connection (ServerDisconnectedError) is not an OSError.
            await self._finish(outbox.retry_later, message, error=f"network: {error!r}", now=self._clock())
            return "retried", None
        except Exception as error:
            # A bug in building one message must not strand the batch; it backs off and dies after
            # MAX_ATTEMPTS instead of blocking its lease window forever.
            log.exception("sending outbox message %s failed", message.id)
            await self._finish(outbox.retry_later, message, error=f"unexpected: {error!r}", now=self._clock())
            return "retried", None
        await self._sent(message, activity_id)
        return "sent", None

    async def _post(
        self, client: FastConnectorClient, payload: dict[str, Any], target: _Target
    ) -> str | None:
        """Post the message; the activity id Teams gave it (None when the connector named none)."""
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
        sent = await client.conversations.send_to_conversation(target.conversation_id, activity)
        return sent.id

    # -- recording outcomes -----------------------------------------------------------------------------

    async def _sent(self, message: outbox.Claimed, activity_id: str | None) -> None:
        """Mark the message sent, in the next transaction that marks every answered message sent."""
        marked = asyncio.get_running_loop().create_future()
        self._answered.append((message, activity_id, marked))
        if self._marking is None:
            self._marking = asyncio.ensure_future(self._mark_answered())
        await marked

    async def _mark_answered(self) -> None:
        # Group commit: answers that arrive while one transaction is marking messages sent wait for the
        # next one, together. A send never queues behind the others' commits (SQLite has one writer), so the
        # time between Teams' answer and "sent" - when a crash sends a message twice - stays one commit.
        try:
            while self._answered:
                group, self._answered = self._answered, []
                try:
                    await self._mark_sent(group)
                except Exception as error:
                    for _, _, marked in group:
                        marked.set_exception(error)
                else:
                    for _, _, marked in group:
                        marked.set_result(None)
        finally:
            self._marking = None

    async def _mark_sent(self, group: list[tuple[outbox.Claimed, str | None, asyncio.Future[None]]]) -> None:
        """Mark the messages sent, and let each kind's hook remember its posted activity: one transaction."""
        async with self._unit() as session:
            ids = [message.id for message, _, _ in group]
            acked = await outbox.ack_many(session, worker=self.worker, message_ids=ids, now=self._clock())
            for message, activity_id, _ in group:
                if message.id not in acked:
                    log.warning(
                        "outbox message %s was sent after its lease ran out; it may go twice", message.id
                    )
                hook = self._after_send.get(message.kind)
                if hook is None or activity_id is None:
                    continue
                try:
                    async with session.begin_nested():
                        await hook(session, message, activity_id)
                except Exception:
                    # The message went out: retrying it would post it twice, so a failing hook only logs.
                    log.exception(
                        "after-send hook for outbox message %s (%s) failed", message.id, message.kind
                    )

    async def _failed(
        self, message: outbox.Claimed, target: _Target, error: ConnectorError
    ) -> tuple[str, float | str | None]:
        if target.channel and error.status in (403, 404):
            # The bot was removed from the team or the channel is gone: stop posting there, never retry.
            async with self._unit() as session:
                await team_channels.mark_removed(
                    session, conversation_id=target.conversation_id, now=self._clock()
                )
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=str(error))
            return "dropped", NOT_INSTALLED
        if error.blocked and not target.channel:
            async with self._unit() as session:
                ref = await session.get(ConversationRef, message.person_id)
                if ref is not None:
                    ref.blocked_at = self._clock()
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=str(error))
            return "dropped", BLOCKED
        if not error.retryable:
            await self._finish(outbox.give_up, message, error=str(error))
            return "dropped", None
        if error.status == 429 and error.retry_after is not None:
            # Teams throttled this conversation: it waits, the others don't.
            now, delay = self._clock(), timedelta(seconds=error.retry_after)
            async with self._unit() as session:
                await outbox.retry_later(
                    session, worker=self.worker, message_id=message.id, error=str(error), now=now, delay=delay
                )
                if message.person_id is not None:
                    await outbox.postpone_person(
                        session, person_id=message.person_id, until=now + delay, now=now
                    )
            return "retried", error.retry_after
        await self._finish(outbox.retry_later, message, error=str(error), now=self._clock())
        return "retried", None

    async def _finish(self, step: Any, message: outbox.Claimed, **kwargs: Any) -> None:
        async with self._unit() as session:
            await step(session, worker=self.worker, message_id=message.id, **kwargs)

    async def _give_up_all(self, messages: Iterable[tuple[outbox.Claimed, str]]) -> None:
        async with self._unit() as session:
            for message, reason in messages:
                await outbox.give_up(session, worker=self.worker, message_id=message.id, error=reason)

    async def _give_back(self, postponed: list[tuple[outbox.Claimed, float]], report: DrainReport) -> None:
        """Release messages whose conversation stays full, each for when its conversation opens."""
        if not postponed:
            return
        now = self._clock()
        async with self._unit() as session:
            for message, delay in postponed:
                await outbox.release(
                    session,
                    worker=self.worker,
                    message_ids=[message.id],
                    available_at=now + timedelta(seconds=delay) if delay > 0 else None,
                )
        report.postponed += len(postponed)

    async def _stop(self, queue: _Queue, workers: list[asyncio.Task[None]], report: DrainReport) -> None:
        """Stop draining: no new sends, let those in flight be answered and recorded, give the rest back."""
        unsent = queue.stop()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if queue.in_flight:
            await asyncio.gather(*queue.in_flight, return_exceptions=True)
        unsent += queue.stop()  # what workers put back as they stopped
        try:
            await self._give_back(unsent, report)
        except Exception:
            log.exception(
                "giving back %d unsent outbox messages failed; their lease will run out", len(unsent)
            )

    @contextlib.asynccontextmanager
    async def _unit(self) -> AsyncIterator[AsyncSession]:
        async with self._gate or contextlib.nullcontext(), unit_of_work(self._sessions) as session:
            yield session


@dataclass(frozen=True)
class _Target:
    """Where one message goes: a person's 1:1 chat, or a team channel (no recipient: the whole channel)."""

    service_url: str
    conversation_id: str
    tenant_id: str | None
    bot_id: str | None
    user_id: str | None
    channel: bool


@dataclass(frozen=True)
class _Item:
    message: outbox.Claimed
    target: _Target
    deadline: float = math.inf  # on the limiter's clock: its send must start by then (its lease)


class _Queue:
    """Claimed messages waiting in this process, queued per conversation and handed to workers by when
    each conversation opens; no worker waits holding one."""

    def __init__(self, limiter: SendLimiter, *, hold: float) -> None:
        self.limiter = limiter
        self.hold = hold  # the longest a conversation may stay full before its messages go back
        self.queues: dict[str, deque[_Item]] = {}
        self.in_flight: set[asyncio.Future[Any]] = set()
        self.postponed: list[tuple[outbox.Claimed, float]] = []  # to give back, with seconds to wait
        self.stopping = False
        self._closed = False
        self._ready: list[tuple[float, int, str]] = []  # heap: (opens at, order, conversation)
        self._paused: dict[str, float] = {}  # conversation → until (Teams' Retry-After)
        self._order = 0
        self._changed = asyncio.Event()

    def add(self, items: list[_Item], deadline: float) -> None:
        now = self.limiter.now()
        for item in items:
            key = item.target.conversation_id
            queue = self.queues.get(key)
            if queue is None:
                queue = self.queues[key] = deque()
                # In order of opening: a chat waiting since before this claim goes before the new ones. (A
                # conversation being sent to is pushed again once its send is over.)
                self._push(key, now)
            queue.append(_Item(item.message, item.target, deadline))
        self._notify()

    def close(self) -> None:
        """No more messages will be added: workers end once the queue is empty."""
        self._closed = True
        self._notify()

    def worker_ended(self, worker: asyncio.Task[None]) -> None:
        """A worker that failed (the database went away, say) stops the drain rather than leave it short."""
        if not worker.cancelled() and worker.exception() is not None:
            self.stopping = True
            self._notify()

    async def wants_more(self, *, ready: int, most: int) -> None:
        """Wait until fewer than `ready` conversations can be sent to now (and fewer than `most` wait)."""
        while not self.stopping:
            now = self.limiter.now()
            waiting = sum(len(q) for q in self.queues.values())
            if waiting < most and sum(1 for opens_at, _, _ in self._ready if opens_at <= now) < ready:
                return
            await self._wait(0.02)

    async def next(self) -> _Item | None:
        """The next message to send, once its conversation has room; None when closed and empty."""
        while not self.stopping:
            if not self._ready:
                if self._closed and not self.queues:
                    return None
                await self._wait(None)
                continue
            opens_at, _, key = self._ready[0]
            now = self.limiter.now()
            if now < opens_at <= now + self.hold:
                await self._wait(opens_at - now)
                continue
            heapq.heappop(self._ready)
            wait = max(opens_at - now, self._paused.get(key, 0.0) - now, self.limiter.conversation_delay(key))
            if wait > 0:
                if math.isinf(wait):  # its window is full of sends still in flight (another drain's)
                    wait = IN_FLIGHT_POLL
                if wait > self.hold:
                    self.postponed += [(item.message, wait) for item in self.queues.pop(key)]
                    self._notify()
                else:
                    self._push(key, now + wait)
                continue
            queue = self.queues[key]
            item = queue.popleft()
            if now > item.deadline:  # its lease is nearly out: give it back for whoever claims it next
                self.postponed.append((item.message, 0.0))
                self.done(item)
                continue
            return item
        return None

    def done(self, item: _Item) -> None:
        """The item's send is over: its conversation's next message may be handed out."""
        key = item.target.conversation_id
        queue = self.queues.get(key)
        if queue:
            now = self.limiter.now()
            self._push(key, max(now + self.limiter.conversation_delay(key), self._paused.get(key, 0.0)))
            return
        if queue is not None:
            del self.queues[key]
        self._notify()  # the queue may now be empty: waiting workers may end

    def put_back(self, item: _Item) -> None:
        """An item handed out but never sent (its worker stopped): it counts as unsent again."""
        self.queues.setdefault(item.target.conversation_id, deque()).appendleft(item)

    def pause(self, conversation_id: str, seconds: float) -> None:
        self._paused[conversation_id] = self.limiter.now() + seconds

    def drop(self, conversation_id: str) -> list[outbox.Claimed]:
        """Take the conversation's remaining messages out (it can no longer be reached)."""
        dropped = [item.message for item in self.queues.pop(conversation_id, ())]
        self._notify()
        return dropped

    def take_postponed(self) -> list[tuple[outbox.Claimed, float]]:
        postponed, self.postponed = self.postponed, []
        return postponed

    def stop(self) -> list[tuple[outbox.Claimed, float]]:
        """No more hand-outs; everything not handed out, to give back now."""
        self.stopping = True
        self._notify()
        unsent = [(item.message, 0.0) for queue in self.queues.values() for item in queue]
        self.queues.clear()
        return unsent + self.take_postponed()

    def _push(self, key: str, opens_at: float) -> None:
        self._order += 1
        heapq.heappush(self._ready, (opens_at, self._order, key))
        self._notify()

    def _notify(self) -> None:
        # Wake every waiter: each holds the event that was current when it began to wait.
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, at_most: float | None) -> None:
        """Until something changes (an item added, a conversation free again), or `at_most` seconds."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), at_most)


async def _targets(session: AsyncSession, claimed: list[outbox.Claimed]) -> dict[int, _Target | str]:
    """Where each message goes now, or why it can't go anywhere (it is then dropped): one query for the
    batch's people."""
    people = {m.person_id for m in claimed if m.person_id is not None}
    refs = (
        {
            ref.person_id: ref
            for ref in await session.scalars(
                select(ConversationRef).where(ConversationRef.person_id.in_(people))
            )
        }
        if people
        else {}
    )
    targets: dict[int, _Target | str] = {}
    for message in claimed:
        if message.person_id is None and (conversation_id := message.conversation_id) is not None:
            # Only channels the bot is still installed in, at the address Teams last used there.
            channel = await team_channels.by_conversation(session, conversation_id)
            if channel is None or channel.removed:
                targets[message.id] = NOT_INSTALLED
            else:
                targets[message.id] = _Target(
                    channel.service_url,
                    channel.conversation_id,
                    channel.tenant_id,
                    channel.bot_id,
                    None,
                    True,
                )
            continue
        ref = refs.get(message.person_id) if message.person_id is not None else None
        if ref is None or ref.blocked_at is not None:
            targets[message.id] = "no conversation with this person" if ref is None else BLOCKED
        else:
            targets[message.id] = _Target(
                ref.service_url, ref.conversation_id, ref.tenant_id, ref.bot_id, ref.user_id, False
            )
    return targets

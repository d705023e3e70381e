"""Teams' send limits, kept on our side so we are not the ones who hit 429s.

Per bot per conversation: 7 per second, 8 per 2 s, 60 per 30 s and 1,800 per hour (none follows from
another: 7/s alone allows 14 in 2 s); per app per tenant: a configured rate per second (Teams allows 50;
Trellis sends 40 unless NUDGE_TENANT_RATE says otherwise). Each limit is a sliding window.

A send counts in a window from the moment it starts until the window's length after its answer came
back. Teams counts a request when it arrives, somewhere between the two, so counting start times alone
would let two sends that started 1.0 s apart arrive 0.99 s apart; counting until the answer keeps "at most
the limit in any window, at Teams' end" true whatever the network's latency and jitter. The price is
latency/window of the rate: a few per mille against a local connector, ~10 % with 100 ms to Teams. (Sends
recorded with `acquire` are instants: they end as they start.)

No lock is held while waiting. Checking every window and recording the send happen with no await between
them, which in one event loop is atomic; so a send waiting for its conversation's window never delays a
send to another conversation, and concurrent senders can never overfill a window together.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

DEFAULT_TENANT_RATE = 40
CONVERSATION_LIMITS = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
# A window full of sends still in flight frees up only when one of them is answered; look again this often.
IN_FLIGHT_POLL = 0.005
# Conversations idle for longer than the longest window are forgotten, so memory follows recent traffic.
SWEEP_EVERY = 60.0


class Send:
    """One send the limiter let through: it counts from `start` until a window's length after `end`."""

    __slots__ = ("end", "start")

    def __init__(self, start: float) -> None:
        self.start = start
        self.end = math.inf  # in flight: it may still arrive at Teams at any moment

    def finish(self, now: float) -> None:
        """The answer came back (or the request failed): from now the send only ages out."""
        self.end = min(self.end, now)


class _Windows:
    """The sends to one conversation (or one tenant) and the windows they must fit in."""

    __slots__ = ("limits", "sends")

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self.limits = limits
        self.sends: list[Send] = []  # in start order

    def wait_time(self, now: float) -> float:
        """0 if one more send may start now; else how long until one may (inf: until a send is answered)."""
        longest = self.limits[-1][1]
        stale = 0
        for send in self.sends:  # sends that left even the longest window, from the oldest
            if send.end > now - longest:
                break
            stale += 1
        if stale:
            del self.sends[:stale]
        wait = 0.0
        for limit, seconds in self.limits:
            counted = [send.end for send in self.sends if send.end > now - seconds]
            if len(counted) < limit:
                continue
            # The window has room again once enough of the counted sends have aged out of it.
            leaving = sorted(counted)[len(counted) - limit]
            wait = max(wait, leaving + seconds - now)
        return wait

    def idle(self, now: float) -> bool:
        return all(send.end <= now - self.limits[-1][1] for send in self.sends)


class SlidingWindow:
    """At most `limit` events in any `seconds`-long window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._windows = _Windows(((limit, seconds),))

    def wait_time(self, now: float) -> float:
        """0 if one more event fits now; else how long until one does."""
        return self._windows.wait_time(now)

    def record(self, now: float) -> None:
        """An event (a send that ended as it started) at `now`."""
        send = Send(now)
        send.finish(now)
        self._windows.sends.append(send)


class SendLimiter:
    """Lets a send to a conversation start only when it fits every window, and records it."""

    def __init__(
        self,
        *,
        per_tenant_per_second: int = DEFAULT_TENANT_RATE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_tenant_per_second < 1:
            raise ValueError("the tenant rate must be at least 1 per second")
        self.per_tenant_per_second = per_tenant_per_second
        self._now = monotonic
        self._tenant_limits = ((per_tenant_per_second, 1.0),)
        self._tenants: dict[str, _Windows] = {}
        self._conversations: dict[str, _Windows] = {}
        self._swept = monotonic()

    def now(self) -> float:
        """The limiter's clock (monotonic seconds)."""
        return self._now()

    def conversation_delay(self, conversation_id: str) -> float:
        """How long until the conversation's own windows let one more send start (0: now)."""
        windows = self._conversations.get(conversation_id)
        return windows.wait_time(self._now()) if windows is not None else 0.0

    def delay(self, *, tenant_id: str | None, conversation_id: str) -> float:
        """How long until a send to the conversation fits every window (0: now; inf: once one is answered)."""
        return max(w.wait_time(self._now()) for w in self._windows(tenant_id, conversation_id))

    def try_start(self, *, tenant_id: str | None, conversation_id: str) -> Send | None:
        """Record a send starting now if it fits every window; None if it would overfill one."""
        now = self._now()
        windows = self._windows(tenant_id, conversation_id)
        if any(w.wait_time(now) > 0 for w in windows):
            return None
        send = Send(now)
        for w in windows:
            w.sends.append(send)
        self._sweep(now)
        return send

    async def start(self, *, tenant_id: str | None, conversation_id: str) -> Send:
        """Wait until a send fits every window and record it; call `finish` on it once it is answered."""
        while (send := self.try_start(tenant_id=tenant_id, conversation_id=conversation_id)) is None:
            # Time frees a window (sleeping until the oldest send leaves it is exact), or an answer does.
            delay = self.delay(tenant_id=tenant_id, conversation_id=conversation_id)
            await asyncio.sleep(IN_FLIGHT_POLL if math.isinf(delay) else max(delay, 1e-6))
        return send

    async def acquire(self, *, tenant_id: str | None, conversation_id: str) -> None:
        """Wait until a send fits, and record it as an instant (for callers that don't report answers)."""
        send = await self.start(tenant_id=tenant_id, conversation_id=conversation_id)
        send.finish(send.start)

    @asynccontextmanager
    async def sending(self, *, tenant_id: str | None, conversation_id: str) -> AsyncIterator[Send]:
        """Wait for room, then count the send in its windows until the block's answer came back."""
        send = await self.start(tenant_id=tenant_id, conversation_id=conversation_id)
        try:
            yield send
        finally:
            send.finish(self._now())

    def _windows(self, tenant_id: str | None, conversation_id: str) -> tuple[_Windows, _Windows]:
        tenant = self._tenants.get(tenant_id or "")
        if tenant is None:
            tenant = self._tenants[tenant_id or ""] = _Windows(self._tenant_limits)
        conversation = self._conversations.get(conversation_id)
        if conversation is None:
            conversation = self._conversations[conversation_id] = _Windows(CONVERSATION_LIMITS)
        return tenant, conversation

    def _sweep(self, now: float) -> None:
        if now - self._swept < SWEEP_EVERY:
            return
        self._swept = now
        for key in [k for k, w in self._conversations.items() if w.idle(now)]:
            del self._conversations[key]

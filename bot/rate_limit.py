"""Teams' send limits, kept on our side so we are not the ones who hit 429s.

Per bot per conversation: 7 per second, 8 per 2 s, 60 per 30 s and 1,800 per hour (none follows from
another: 7/s alone allows 14 in 2 s); per app per tenant: 50 per second. Each limit is a sliding window.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` events in any `seconds`-long window."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._events: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        while self._events and now - self._events[0] >= self.seconds:
            self._events.popleft()
        if len(self._events) < self.limit:
            return 0.0
        return self.seconds - (now - self._events[0])

    def record(self, now: float) -> None:
        self._events.append(now)


class SendLimiter:
    """Waits until a message to a conversation fits every window, then records it."""

    def __init__(
        self, *, per_tenant_per_second: int = 50, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._now = monotonic
        self._tenant: dict[str, SlidingWindow] = defaultdict(
            lambda: SlidingWindow(per_tenant_per_second, 1.0)
        )
        self._conversation: dict[str, tuple[SlidingWindow, ...]] = defaultdict(
            lambda: (
                SlidingWindow(7, 1.0),
                SlidingWindow(8, 2.0),
                SlidingWindow(60, 30.0),
                SlidingWindow(1800, 3600.0),
            )
        )
        self._lock = asyncio.Lock()

    async def acquire(self, *, tenant_id: str | None, conversation_id: str) -> None:
        async with self._lock:
            windows = (self._tenant[tenant_id or ""], *self._conversation[conversation_id])
            # Time, not an event, frees a slot: sleeping until the oldest send leaves the window is exact.
            while (delay := max(w.wait_time(self._now()) for w in windows)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(delay)
            now = self._now()
            for window in windows:
                window.record(now)

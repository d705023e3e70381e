"""Recognising Teams' retries of an activity this process already handled.

Teams re-sends an activity when the bot took longer than 15 s, to the same endpoint, within seconds; a
process-local memory of recent ids catches that without a database write on every turn. Services that
change state key their own writes on the activity id where a retry must not write twice.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RecentActivities:
    """Activity ids seen in the last `ttl` seconds (at most `size` of them)."""

    def __init__(
        self, *, ttl: float = 600.0, size: int = 100_000, monotonic: Callable[[], float] = time.monotonic
    ):
        self._ttl = ttl
        self._size = size
        self._now = monotonic
        self._seen: OrderedDict[str, float] = OrderedDict()

    def first_time(self, activity_id: str | None) -> bool:
        """Record the id; False when it was already seen recently."""
        if not activity_id:
            return True
        now = self._now()
        self._forget_older_than(now - self._ttl)
        if activity_id in self._seen:
            return False
        self._seen[activity_id] = now
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True

    def _forget_older_than(self, cutoff: float) -> None:
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if seen_at >= cutoff:
                return
            del self._seen[oldest]

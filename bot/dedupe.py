"""Recognising Teams' retries of an activity this process already handled.

Teams re-sends an activity when the bot took longer than 15 s, to the same endpoint, within seconds; a
process-local memory of recent ids catches that without a database write on every turn. Services that
change state key their own writes on the activity id where a retry must not write twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.memory import TimedMemory


class RecentActivities:
    """Activity ids seen in the last `ttl` seconds (at most `size` of them)."""

    def __init__(
        self, *, ttl: float = 600.0, size: int = 100_000, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._seen = TimedMemory(ttl=ttl, size=size, monotonic=monotonic)

    def first_time(self, activity_id: str | None) -> bool:
        """Record the id; False when it was already seen recently."""
        if not activity_id:
            return True
        if self._seen.get(activity_id) is not None:
            return False
        self._seen.put(activity_id, True)
        return True

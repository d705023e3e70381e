"""The process-local memories behind retry detection and conversation checks."""

from __future__ import annotations

from bot.dedupe import RecentActivities
from bot.memory import TimedMemory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_retry_within_the_window_is_recognised_and_later_ids_are_not() -> None:
    clock = Clock()
    recent = RecentActivities(ttl=600, size=10, monotonic=clock)
    assert recent.first_time("1764148442375")
    assert not recent.first_time("1764148442375")
    assert recent.first_time("1764148442376")
    clock.now += 601
    assert recent.first_time("1764148442375"), "an id is forgotten after the window"
    assert recent.first_time(None) and recent.first_time(None), "activities without ids are never dropped"


def test_memory_forgets_the_oldest_past_its_size_and_expires_entries() -> None:
    clock = Clock()
    memory = TimedMemory(ttl=10, size=2, monotonic=clock)
    memory.put("a", 1)
    memory.put("b", 2)
    memory.put("c", 3)
    assert memory.get("a") is None and memory.get("b") == 2 and memory.get("c") == 3
    clock.now += 10
    assert memory.get("c") is None

"""Teams' send limits enforced on our side, measured on a fake monotonic clock (no real waiting)."""

from __future__ import annotations

import asyncio
import types

import pytest

from bot import rate_limit
from bot.rate_limit import SendLimiter, SlidingWindow


class FakeTime:
    """A monotonic clock that only moves when the limiter sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the limiter never sleeps for nothing"
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    # The limiter sleeps through its module's `asyncio`; give it one whose sleep moves the fake clock.
    monkeypatch.setattr(rate_limit, "asyncio", types.SimpleNamespace(sleep=fake.sleep, Lock=asyncio.Lock))
    return fake


async def send_times(limiter: SendLimiter, clock: FakeTime, n: int, *, conversation: str = "a:1", tenant="t"):
    """When each of n sends to one conversation was let through."""
    times = []
    for _ in range(n):
        await limiter.acquire(tenant_id=tenant, conversation_id=conversation)
        times.append(clock.now)
    return times


def in_any_window(times: list[float], seconds: float) -> int:
    """The most events inside any half-open window of `seconds`."""
    return max(sum(1 for t in times if start <= t < start + seconds) for start in times)


async def test_seven_go_at_once_and_the_eighth_within_a_second_waits(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    start = clock.now

    times = await send_times(limiter, clock, 8)

    assert times[:7] == [start] * 7, "seven per second pass without waiting"
    assert clock.sleeps, "the eighth had to wait"
    assert times[7] >= start + 1.0


async def test_no_more_than_eight_in_any_two_seconds(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)

    times = await send_times(limiter, clock, 40)

    assert in_any_window(times, 1.0) <= 7
    assert in_any_window(times, 2.0) <= 8
    assert in_any_window(times, 30.0) <= 60


async def test_sixty_per_thirty_seconds_and_1800_per_hour_per_conversation(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)

    times = await send_times(limiter, clock, 1900)

    assert in_any_window(times, 30.0) <= 60
    assert in_any_window(times, 3600.0) <= 1800
    assert times[-1] - times[0] >= 3600.0, "the 1,801st message waits for the hour to slide"


async def test_other_conversations_are_not_slowed_by_a_busy_one(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    start = clock.now
    await send_times(limiter, clock, 7, conversation="a:busy")

    times = [await send_times(limiter, clock, 1, conversation=f"a:{i}") for i in range(20)]

    assert [t[0] for t in times] == [start] * 20


async def test_fifty_per_second_across_the_tenant(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    start = clock.now

    times = [(await send_times(limiter, clock, 1, conversation=f"a:{i}"))[0] for i in range(120)]

    assert times[:50] == [start] * 50
    assert times[50] >= start + 1.0, "the 51st message in a second waits"
    assert in_any_window(times, 1.0) <= 50
    # Another tenant has its own budget.
    other = await send_times(limiter, clock, 1, conversation="a:elsewhere", tenant="other")
    assert other == [clock.now]


async def test_the_window_slides_rather_than_resetting(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    start = clock.now
    for i in range(50):  # a burst of 50 at t=0
        await limiter.acquire(tenant_id="t", conversation_id=f"a:{i}")
    clock.now = start + 0.6
    # Still inside the first burst's second: the next one waits until t=1.0, not until t=1.6.
    await limiter.acquire(tenant_id="t", conversation_id="a:late")
    assert clock.now == pytest.approx(start + 1.0)


def test_sliding_window_frees_a_slot_when_the_oldest_event_leaves() -> None:
    window = SlidingWindow(limit=2, seconds=1.0)
    window.record(0.0)
    window.record(0.4)

    assert window.wait_time(0.5) == pytest.approx(0.5)
    assert window.wait_time(1.0) == 0.0, "the event at 0.0 left the window at 1.0"
    window.record(1.0)
    assert window.wait_time(1.2) == pytest.approx(0.2)


async def test_concurrent_senders_share_the_limits(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    times: list[float] = []

    async def send() -> None:
        await limiter.acquire(tenant_id="t", conversation_id="a:1")
        times.append(clock.now)

    await asyncio.gather(*(send() for _ in range(20)))

    assert len(times) == 20
    assert in_any_window(times, 1.0) <= 7
    assert in_any_window(times, 2.0) <= 8

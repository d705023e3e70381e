"""Teams' send limits enforced on our side, measured on a fake monotonic clock (no real waiting)."""

from __future__ import annotations

import asyncio
import heapq
import random
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


@pytest.mark.parametrize("configured", [None, 50, 200])
async def test_the_tenant_rate_is_40_per_second_unless_configured(clock: FakeTime, configured) -> None:
    limiter = (
        SendLimiter(monotonic=clock)
        if configured is None
        else SendLimiter(per_tenant_per_second=configured, monotonic=clock)
    )
    rate = configured or 40
    start = clock.now

    times = [(await send_times(limiter, clock, 1, conversation=f"a:{i}"))[0] for i in range(3 * rate)]

    assert times[:rate] == [start] * rate
    assert times[rate] >= start + 1.0, "the next message in that second waits"
    assert in_any_window(times, 1.0) <= rate
    # Another tenant has its own budget.
    other = await send_times(limiter, clock, 1, conversation="a:elsewhere", tenant="other")
    assert other == [clock.now]


async def test_the_window_slides_rather_than_resetting(clock: FakeTime) -> None:
    limiter = SendLimiter(monotonic=clock)
    start = clock.now
    for i in range(40):  # a burst of 40 at t=0
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


# --- no lock held while waiting; sends counted until answered -----------------------------------------


class VirtualTime:
    """A clock whose sleeps really suspend: time jumps to the next sleeper once every task is waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self._order += 1
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, self._order, future))
        await future

    async def run(self, *tasks: asyncio.Task) -> None:
        """Drive the tasks to completion, advancing time only when all of them are asleep."""
        while not all(t.done() for t in tasks):
            for _ in range(20):  # let every runnable task run until it sleeps or ends
                await asyncio.sleep(0)
            if self._sleepers:
                wake, _, future = heapq.heappop(self._sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)
        for t in tasks:
            t.result()


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    fake = VirtualTime()
    monkeypatch.setattr(rate_limit, "asyncio", types.SimpleNamespace(sleep=fake.sleep))
    return fake


async def test_a_conversation_waiting_for_its_window_does_not_hold_up_the_others(virtual) -> None:
    # The flaw this replaces: acquire held one lock while sleeping, so the wait below stalled everyone.
    limiter = SendLimiter(monotonic=virtual)
    for _ in range(7):
        await limiter.acquire(tenant_id="t", conversation_id="a:busy")
    waiting = asyncio.create_task(limiter.acquire(tenant_id="t", conversation_id="a:busy"))
    await asyncio.sleep(0)

    for i in range(20):  # real timeout: with a shared lock this would never finish
        await asyncio.wait_for(limiter.acquire(tenant_id="t", conversation_id=f"a:{i}"), timeout=1)

    assert not waiting.done(), "the busy conversation still waits for its second to pass"
    assert virtual.now == 1000.0
    await virtual.run(waiting)
    assert virtual.now == pytest.approx(1001.0)


def test_a_send_counts_until_its_answer_came_back() -> None:
    now = [0.0]
    limiter = SendLimiter(per_tenant_per_second=2, monotonic=lambda: now[0])
    first = limiter.try_start(tenant_id="t", conversation_id="a:1")
    second = limiter.try_start(tenant_id="t", conversation_id="a:2")
    assert first is not None and second is not None
    assert limiter.try_start(tenant_id="t", conversation_id="a:3") is None

    now[0] = 5.0
    assert limiter.delay(tenant_id="t", conversation_id="a:3") == float("inf"), (
        "both may still arrive at any moment: wait for an answer, not for the clock"
    )
    first.finish(5.2)
    second.finish(5.5)
    now[0] = 5.6
    # Teams may have counted the first send as late as 5.2: its second ends at 6.2.
    assert limiter.delay(tenant_id="t", conversation_id="a:3") == pytest.approx(0.6)
    now[0] = 6.2
    assert limiter.try_start(tenant_id="t", conversation_id="a:3") is not None


async def test_concurrent_sends_with_any_latency_never_arrive_over_a_limit(virtual) -> None:
    """Whatever the latency, a request that arrives between its start and its answer fits every window."""
    limiter = SendLimiter(per_tenant_per_second=40, monotonic=virtual)
    rng = random.Random(5)
    arrivals: dict[str, list[float]] = {}
    tenant: list[float] = []
    queue = [f"a:{rng.randrange(12)}" for _ in range(600)]  # few conversations: their windows bind too

    async def worker() -> None:
        while queue:
            conversation = queue.pop()
            async with limiter.sending(tenant_id="t", conversation_id=conversation):
                latency = rng.choice([0.001, 0.02, 0.3, 1.5])
                arrived = virtual.now + rng.uniform(0, latency)
                await virtual.sleep(latency)
            arrivals.setdefault(conversation, []).append(arrived)
            tenant.append(arrived)

    await virtual.run(*(asyncio.create_task(worker()) for _ in range(16)))

    assert len(tenant) == 600
    assert in_any_window(sorted(tenant), 1.0) <= 40
    for times in arrivals.values():
        ordered = sorted(times)
        assert in_any_window(ordered, 1.0) <= 7
        assert in_any_window(ordered, 2.0) <= 8
        assert in_any_window(ordered, 30.0) <= 60


def test_idle_conversations_are_forgotten() -> None:
    now = [0.0]
    limiter = SendLimiter(monotonic=lambda: now[0])
    for i in range(1000):
        limiter.try_start(tenant_id="t", conversation_id=f"a:{i}").finish(now[0])
        now[0] += 0.03
    now[0] += 3600 + rate_limit.SWEEP_EVERY
    limiter.try_start(tenant_id="t", conversation_id="a:new")

    assert set(limiter._conversations) == {"a:new"}, "an hour after their last send, conversations go"

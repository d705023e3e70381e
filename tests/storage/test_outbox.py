"""The outbox: enqueue in the caller's transaction, lease to one worker, ack / retry / give up — and
several workers claiming at once never send a message twice nor lose one (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import outbox
from storage.engine import create_engine, session_factory
from storage.models import OutboxMessage
from storage.uow import unit_of_work

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


async def put(sessions: async_sessionmaker[AsyncSession], n: int = 1, **kwargs) -> list[int]:
    """Enqueue n messages in one committed unit of work; their ids, in order."""
    async with unit_of_work(sessions) as session:
        before = await session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))
        for i in range(n):
            kwargs.setdefault("now", T0)
            await outbox.enqueue(session, kind="nudge", payload={"text": f"message {i}"}, **kwargs)
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage.id).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
                )
            ).all()
        )


async def claim(sessions, worker: str, now: datetime, limit: int = 50, **kwargs) -> list[outbox.Claimed]:
    async with unit_of_work(sessions) as session:
        return await outbox.claim(session, worker=worker, now=now, limit=limit, **kwargs)


async def row(sessions, message_id: int) -> OutboxMessage:
    async with sessions() as session:
        found = await session.get(OutboxMessage, message_id, populate_existing=True)
        assert found is not None
        return found


async def test_enqueue_claim_ack_roundtrip(sessions) -> None:
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(session, kind="nudge", payload={"card": {"type": "AdaptiveCard"}}, now=T0)

    claimed = await claim(sessions, "w1", T0)

    assert len(claimed) == 1
    message = claimed[0]
    assert (message.kind, message.payload, message.person_id, message.attempts) == (
        "nudge",
        {"card": {"type": "AdaptiveCard"}},
        None,
        0,
    )
    stored = await row(sessions, message.id)
    assert (stored.status, stored.claimed_by, stored.claimed_until) == ("pending", "w1", T0 + LEASE)

    async with unit_of_work(sessions) as session:
        assert await outbox.ack(session, worker="w1", message_id=message.id, now=T0 + timedelta(seconds=1))

    stored = await row(sessions, message.id)
    assert stored.status == outbox.SENT
    assert stored.sent_at == T0 + timedelta(seconds=1)
    assert stored.claimed_by is None and stored.claimed_until is None
    assert await claim(sessions, "w2", T0 + timedelta(days=1)) == [], "a sent message is never sent again"


async def test_a_repeated_dedupe_key_enqueues_one_message(sessions) -> None:
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(session, kind="nudge", payload={"v": 1}, now=T0, dedupe_key="review:7:due")
        await outbox.enqueue(session, kind="nudge", payload={"v": 2}, now=T0, dedupe_key="review:7:due")
    async with unit_of_work(sessions) as session:  # a second nudge run, in its own transaction
        await outbox.enqueue(session, kind="nudge", payload={"v": 3}, now=T0, dedupe_key="review:7:due")
        await outbox.enqueue(session, kind="nudge", payload={"v": 4}, now=T0)
        await outbox.enqueue(session, kind="nudge", payload={"v": 5}, now=T0)

    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    keyed = [r for r in rows if r.dedupe_key == "review:7:due"]
    assert len(keyed) == 1 and keyed[0].payload == {"v": 1}, "the first message wins"
    assert len(rows) == 3, "messages without a key never collide with each other"


async def test_a_dedupe_key_still_holds_after_the_message_was_sent(sessions) -> None:
    [message_id] = await put(sessions, dedupe_key="checkin:2026-W48:alex")
    [claimed] = await claim(sessions, "w1", T0)
    async with unit_of_work(sessions) as session:
        await outbox.ack(session, worker="w1", message_id=claimed.id, now=T0)

    assert await put(sessions, dedupe_key="checkin:2026-W48:alex") == []
    assert (await row(sessions, message_id)).status == outbox.SENT


async def test_a_future_message_is_not_claimed_before_its_time(sessions) -> None:
    [later] = await put(sessions, available_at=T0 + timedelta(minutes=10))

    assert await claim(sessions, "w1", T0) == []
    assert await claim(sessions, "w1", T0 + timedelta(minutes=9, seconds=59)) == []
    assert [c.id for c in await claim(sessions, "w1", T0 + timedelta(minutes=10))] == [later]


async def test_claim_takes_the_oldest_first_and_no_more_than_the_limit(sessions) -> None:
    newer = await put(sessions, 2, available_at=T0 + timedelta(seconds=5))
    older = await put(sessions, 2, available_at=T0)

    first = await claim(sessions, "w1", T0 + timedelta(minutes=1), limit=3)
    second = await claim(sessions, "w2", T0 + timedelta(minutes=1), limit=3)

    # Both older ones and the first newer one (returned in id order).
    assert {c.id for c in first} == {*older, newer[0]}
    assert [c.id for c in second] == [newer[1]]


async def test_an_expired_lease_can_be_claimed_by_another_worker(sessions) -> None:
    [message_id] = await put(sessions)
    assert [c.id for c in await claim(sessions, "w1", T0)] == [message_id]

    assert await claim(sessions, "w2", T0 + timedelta(minutes=1)) == [], "the lease still holds"
    assert await claim(sessions, "w2", T0 + LEASE) == [], "the lease holds up to its last instant"
    retaken = await claim(sessions, "w2", T0 + LEASE + timedelta(seconds=1))

    assert [c.id for c in retaken] == [message_id]
    assert (await row(sessions, message_id)).claimed_by == "w2"


async def test_a_worker_that_lost_its_lease_cannot_ack_retry_or_give_up(sessions) -> None:
    [message_id] = await put(sessions)
    await claim(sessions, "w1", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    await claim(sessions, "w2", later)

    async with unit_of_work(sessions) as session:
        assert await outbox.ack(session, worker="w1", message_id=message_id, now=later) is False
        await outbox.retry_later(session, worker="w1", message_id=message_id, now=later, error="late")
        await outbox.give_up(session, worker="w1", message_id=message_id, error="late")

    stored = await row(sessions, message_id)
    assert (stored.status, stored.claimed_by, stored.attempts, stored.last_error) == (
        "pending",
        "w2",
        0,
        None,
    )
    async with unit_of_work(sessions) as session:
        assert await outbox.ack(session, worker="w2", message_id=message_id, now=later) is True
    assert (await row(sessions, message_id)).status == outbox.SENT


async def test_retry_later_moves_available_at_by_exactly_the_delay(sessions) -> None:
    [message_id] = await put(sessions)
    await claim(sessions, "w1", T0)
    failed_at = T0 + timedelta(seconds=1)

    async with unit_of_work(sessions) as session:
        await outbox.retry_later(
            session,
            worker="w1",
            message_id=message_id,
            now=failed_at,
            error="connector answered 429 Throttled",
            delay=timedelta(seconds=7),
        )

    stored = await row(sessions, message_id)
    assert stored.available_at == failed_at + timedelta(seconds=7)
    assert stored.attempts == 1
    assert stored.status == outbox.PENDING
    assert stored.claimed_by is None and stored.claimed_until is None
    assert "429" in stored.last_error
    assert await claim(sessions, "w2", failed_at + timedelta(seconds=6.999)) == []
    [again] = await claim(sessions, "w2", failed_at + timedelta(seconds=7))
    assert (again.id, again.attempts) == (message_id, 1)


async def test_retry_later_without_a_delay_backs_off(sessions) -> None:
    [message_id] = await put(sessions)
    await claim(sessions, "w1", T0)

    async with unit_of_work(sessions) as session:
        await outbox.retry_later(session, worker="w1", message_id=message_id, now=T0, error="503")

    stored = await row(sessions, message_id)
    assert T0 <= stored.available_at <= T0 + timedelta(seconds=2), "first backoff is at most 2 s"
    assert stored.attempts == 1


def test_backoff_grows_exponentially_and_is_capped() -> None:
    for attempts in range(1, 20):
        ceiling = min(3600.0, 2.0**attempts)
        waits = [outbox.backoff(attempts).total_seconds() for _ in range(50)]
        assert all(0 <= w <= ceiling for w in waits)
    assert max(outbox.backoff(6).total_seconds() for _ in range(200)) > 2.0, "later retries wait longer"


async def test_after_max_attempts_the_message_is_dead(sessions) -> None:
    [message_id] = await put(sessions)
    now = T0
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        [claimed] = await claim(sessions, "w1", now)
        assert claimed.attempts == attempt - 1
        async with unit_of_work(sessions) as session:
            await outbox.retry_later(
                session, worker="w1", message_id=message_id, now=now, error=f"503 #{attempt}"
            )
        now += timedelta(hours=2)  # past any backoff

    stored = await row(sessions, message_id)
    assert stored.status == outbox.DEAD
    assert stored.attempts == outbox.MAX_ATTEMPTS
    assert stored.last_error == f"503 #{outbox.MAX_ATTEMPTS}"
    assert await claim(sessions, "w1", now + timedelta(days=30)) == []


async def test_give_up_marks_the_message_dead(sessions) -> None:
    [message_id, other] = await put(sessions, 2)
    await claim(sessions, "w1", T0, limit=1)

    async with unit_of_work(sessions) as session:
        await outbox.give_up(session, worker="w1", message_id=message_id, error="person blocked the app")

    stored = await row(sessions, message_id)
    assert (stored.status, stored.last_error, stored.claimed_by) == (
        outbox.DEAD,
        "person blocked the app",
        None,
    )
    assert [c.id for c in await claim(sessions, "w2", T0 + timedelta(days=1))] == [other]


# --- several workers, committed data -------------------------------------------------------------------


def _url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


async def test_four_workers_claim_every_message_exactly_once(fresh_engine: AsyncEngine) -> None:
    await put(session_factory(fresh_engine), 200)
    # One engine per worker, as separate processes would have.
    engines = [create_engine(_url(fresh_engine)) for _ in range(4)]
    claimed: dict[str, list[int]] = {}

    async def worker(name: str, engine: AsyncEngine) -> None:
        sessions = session_factory(engine)
        mine = claimed.setdefault(name, [])
        while batch := await claim(sessions, name, T0, limit=10):
            assert len(batch) <= 10
            mine.extend(c.id for c in batch)
            await asyncio.sleep(0.005)  # "sending" the batch lets the others in

    try:
        await asyncio.wait_for(
            asyncio.gather(*(worker(f"w{i}", e) for i, e in enumerate(engines))), timeout=30
        )
    finally:
        for engine in engines:
            await engine.dispose()

    every = [message_id for ids in claimed.values() for message_id in ids]
    assert len(every) == 200, "no message lost"
    assert len(set(every)) == 200, "no message claimed twice"
    assert sum(1 for ids in claimed.values() if ids) >= 2, f"the workers took turns: {claimed}"
    async with session_factory(fresh_engine)() as session:
        owners = dict((await session.execute(select(OutboxMessage.id, OutboxMessage.claimed_by))).all())
    assert owners == {message_id: name for name, ids in claimed.items() for message_id in ids}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_postgresql_claims_skip_rows_another_worker_holds_without_waiting(
    fresh_engine: AsyncEngine,
) -> None:
    sessions = session_factory(fresh_engine)
    ids = await put(sessions, 30)
    other_engine = create_engine(_url(fresh_engine))
    others = session_factory(other_engine)
    try:
        async with sessions() as worker_a:  # A claims and keeps its transaction open (row locks held)
            held = await outbox.claim(worker_a, worker="a", now=T0, limit=10)
            assert [c.id for c in held] == ids[:10]

            # Without SKIP LOCKED a claim would queue behind A: a plain FOR UPDATE hits A's locks.
            async with others() as probe:
                await probe.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(DBAPIError, match="lock"):
                    await probe.execute(
                        select(OutboxMessage.id).where(OutboxMessage.id == ids[0]).with_for_update()
                    )

            taken = await asyncio.wait_for(claim(others, "b", T0, limit=10), timeout=2)

            assert [c.id for c in taken] == ids[10:20], "B takes the next rows at once, not A's"
            await worker_a.commit()

        rest = await claim(others, "c", T0, limit=50)
        assert [c.id for c in rest] == ids[20:]
    finally:
        await other_engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_sqlite_claims_wait_for_the_writer_and_then_see_its_lease(fresh_engine: AsyncEngine) -> None:
    sessions = session_factory(fresh_engine)
    ids = await put(sessions, 5)
    other_engine = create_engine(_url(fresh_engine))
    try:
        async with sessions() as worker_a:
            held = await outbox.claim(worker_a, worker="a", now=T0, limit=3)
            b = asyncio.create_task(claim(session_factory(other_engine), "b", T0, limit=10))
            await asyncio.sleep(0.2)
            assert not b.done(), "SQLite has one writer: B waits for A's transaction"
            await worker_a.commit()
        taken = await asyncio.wait_for(b, timeout=10)
        assert [c.id for c in held] == ids[:3]
        assert [c.id for c in taken] == ids[3:], "B sees A's committed lease and takes only the rest"
    finally:
        await other_engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_late_retry_does_not_undo_a_lease_taken_meanwhile(fresh_engine: AsyncEngine) -> None:
    """w1's lease ran out while sending; w2 re-claims; w1's failure report must not clear w2's lease."""
    sessions = session_factory(fresh_engine)
    [message_id] = await put(sessions)
    await claim(sessions, "w1", T0)
    later = T0 + LEASE + timedelta(seconds=1)
    other_engine = create_engine(_url(fresh_engine))
    try:
        async with session_factory(other_engine)() as w2:
            assert [c.id for c in await outbox.claim(w2, worker="w2", now=later)] == [message_id]
            # w1 reports its failure while w2's claim is still being committed.
            late = asyncio.create_task(
                _retry(sessions, worker="w1", message_id=message_id, now=later, error="503")
            )
            await asyncio.sleep(0.2)
            await w2.commit()
        await asyncio.wait_for(late, timeout=5)
    finally:
        await other_engine.dispose()

    stored = await row(sessions, message_id)
    assert (stored.claimed_by, stored.attempts) == ("w2", 0), "w2 still holds the lease"
    async with unit_of_work(sessions) as session:
        assert await outbox.ack(session, worker="w2", message_id=message_id, now=later)


async def _retry(sessions, **kwargs) -> None:
    async with unit_of_work(sessions) as session:
        await outbox.retry_later(session, **kwargs)

"""What the concurrent sender needs from the outbox: many marked sent in one statement, claims given back
without an attempt, and a person's waiting messages held for Teams' Retry-After (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import demo, outbox
from storage.models import OutboxMessage, Person
from storage.uow import unit_of_work
from tests.storage.test_outbox import LEASE, T0, claim, put, row


async def test_ack_many_marks_only_what_the_worker_still_holds(sessions) -> None:
    ids = await put(sessions, 3)
    await claim(sessions, "w1", T0)
    # w1's lease ran out and w2 took the three over; w2 has sent two of them.
    await claim(sessions, "w2", T0 + LEASE + timedelta(seconds=1))
    async with unit_of_work(sessions) as session:
        taken = await outbox.ack_many(session, worker="w2", message_ids=ids[:2], now=T0 + LEASE)

    async with unit_of_work(sessions) as session:
        late = await outbox.ack_many(session, worker="w1", message_ids=ids, now=T0 + LEASE)

    assert taken == set(ids[:2])
    assert late == set(), "a lost lease is left to its new holder"
    third = await row(sessions, ids[2])
    assert (third.status, third.claimed_by) == (outbox.PENDING, "w2")
    assert [(await row(sessions, i)).status for i in ids[:2]] == [outbox.SENT, outbox.SENT]


async def test_release_gives_claims_back_without_an_attempt(sessions) -> None:
    ids = await put(sessions, 3)
    await claim(sessions, "w1", T0)
    later = T0 + timedelta(seconds=9)

    async with unit_of_work(sessions) as session:
        now_again = await outbox.release(session, worker="w1", message_ids=ids[:1])
        for_later = await outbox.release(session, worker="w1", message_ids=ids[1:2], available_at=later)
        not_ours = await outbox.release(session, worker="w2", message_ids=ids[2:])

    assert (now_again, for_later, not_ours) == (1, 1, 0)
    first, second, third = [await row(sessions, i) for i in ids]
    assert (first.claimed_by, first.available_at, first.attempts) == (None, T0, 0), "claimable at once"
    assert (second.claimed_by, second.available_at, second.attempts) == (None, later, 0)
    assert third.claimed_by == "w1", "another worker cannot release my claim"
    assert [c.id for c in await claim(sessions, "w2", T0)] == [ids[0]]


async def test_postpone_person_holds_their_waiting_messages_but_not_another_workers(
    sessions, demo_org
) -> None:
    async with sessions() as session:
        adele, alex = [
            await session.scalar(select(Person.id).where(Person.aad_object_id == p.aad_object_id))
            for p in (demo.ADELE, demo.ALEX)
        ]
    held_by_other = (await put(sessions, 1, person_id=adele))[0]
    await claim(sessions, "w2", T0)
    waiting = await put(sessions, 2, person_id=adele)
    already_later = (await put(sessions, 1, person_id=adele, available_at=T0 + timedelta(minutes=5)))[0]
    someone_else = (await put(sessions, 1, person_id=alex))[0]
    until = T0 + timedelta(seconds=7)

    async with unit_of_work(sessions) as session:
        moved = await outbox.postpone_person(session, person_id=adele, until=until, now=T0)

    assert moved == 2
    assert [(await row(sessions, i)).available_at for i in waiting] == [until, until]
    assert (await row(sessions, already_later)).available_at == T0 + timedelta(minutes=5), "never earlier"
    assert (await row(sessions, held_by_other)).available_at == T0, "w2's lease is w2's business"
    assert (await row(sessions, someone_else)).available_at == T0
    async with sessions() as session:
        assert (await session.get(OutboxMessage, waiting[0])).attempts == 0

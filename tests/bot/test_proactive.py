"""The proactive sender against the local Bot Connector: cards arrive, Teams' refusals are honoured
(429 Retry-After, 5xx backoff, 403 blocked), nothing is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.connector import ConnectorPool
from bot.proactive import OutboxSender
from storage import demo, outbox
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ConversationRef, OutboxMessage, Person
from storage.uow import unit_of_work
from tests.support.connector import ADAPTIVE_CARD, BLOCKED_BY_USER, MESSAGE_WRITES_BLOCKED, ConnectorStandIn

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BOT_ID = "28:00000000-0000-0000-0000-00000000b07"


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def card(title: str) -> dict[str, Any]:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": title, "wrap": True}],
        "actions": [{"type": "Action.Execute", "title": "Open", "verb": "open", "data": {"id": 7}}],
    }


async def no_token() -> str | None:
    return None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[ConnectorPool]:
    pool = ConnectorPool(token=no_token)
    yield pool
    await pool.close()


@pytest.fixture
def sender(sessions: async_sessionmaker[AsyncSession], pool: ConnectorPool, clock: Clock) -> OutboxSender:
    return OutboxSender(sessions=sessions, pool=pool, clock=clock)


async def person(sessions, aad_object_id: str) -> int:
    async with sessions() as session:
        return await session.scalar(select(Person.id).where(Person.aad_object_id == aad_object_id))


async def open_chat(sessions, person_id: int, service_url: str, user_id: str) -> ConversationRef:
    """Store the person's 1:1 conversation, as installing the app does."""
    ref = ConversationRef(
        person_id=person_id,
        conversation_id=ConnectorStandIn.conversation_id_for(user_id),
        service_url=service_url,
        bot_id=BOT_ID,
        user_id=user_id,
        tenant_id=demo.DEMO_TENANT_ID,
    )
    async with unit_of_work(sessions) as session:
        session.add(ref)
    return ref


async def enqueue(sessions, clock: Clock, person_id: int | None, title: str) -> int:
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(
            session,
            kind="nudge",
            person_id=person_id,
            payload={"card": card(title), "summary": title},
            now=clock(),
            dedupe_key=f"test:{title}",
        )
    async with sessions() as session:
        return await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"test:{title}")
        )


async def stored(sessions, model: type, key: Any) -> Any:
    async with sessions() as session:
        return await session.get(model, key, populate_existing=True)


@pytest_asyncio.fixture
async def adele(sessions, demo_org, connector: ConnectorStandIn) -> ConversationRef:
    """Adele Vance with a 1:1 chat at the local connector."""
    return await open_chat(
        sessions, await person(sessions, demo.ADELE.aad_object_id), connector.service_url, "29:adele"
    )


@pytest_asyncio.fixture
async def alex(sessions, demo_org, connector: ConnectorStandIn) -> ConversationRef:
    return await open_chat(
        sessions, await person(sessions, demo.ALEX.aad_object_id), connector.service_url, "29:alex"
    )


# --- sending -------------------------------------------------------------------------------------------


async def test_a_queued_card_arrives_in_the_persons_chat(sender, sessions, clock, connector, adele) -> None:
    message_id = await enqueue(sessions, clock, adele.person_id, "Your review is due Friday")

    report = await sender.drain()

    assert (report.sent, report.retried, report.dropped) == (1, 0, 0)
    [request] = connector.requests
    assert request.method == "POST"
    assert unquote(request.path) == f"/v3/conversations/{adele.conversation_id}/activities"
    assert request.kind == "send" and request.conversation_id == adele.conversation_id
    activity = request.body
    assert activity["type"] == "message"
    assert activity["conversation"]["id"] == adele.conversation_id
    assert activity["recipient"]["id"] == "29:adele" and activity["from"]["id"] == BOT_ID
    assert activity["summary"] == "Your review is due Friday"
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == ADAPTIVE_CARD
    assert attachment["content"] == card("Your review is due Friday")
    assert request.authorization is None, "local development: no token"
    row = await stored(sessions, OutboxMessage, message_id)
    assert (row.status, row.sent_at, row.attempts) == (outbox.SENT, clock.now, 0)

    assert await sender.drain() == type(report)(), "nothing is sent twice"
    assert len(connector.requests) == 1


async def test_429_waits_exactly_retry_after_and_then_sends(
    sender, sessions, clock, connector, adele
) -> None:
    message_id = await enqueue(sessions, clock, adele.person_id, "Check-in")
    connector.fail_next(1, 429, retry_after=7)

    report = await sender.drain()

    assert (report.sent, report.retried) == (0, 1)
    row = await stored(sessions, OutboxMessage, message_id)
    assert (row.status, row.attempts) == (outbox.PENDING, 1), "not lost"
    assert row.available_at == clock.now + timedelta(seconds=7)
    assert "429" in row.last_error

    clock.advance(seconds=6)
    assert (await sender.drain()).sent == 0, "Teams said 7 seconds"
    assert len(connector.requests) == 1

    clock.advance(seconds=1)
    assert (await sender.drain()).sent == 1
    assert connector.sent[-1].body["attachments"][0]["content"] == card("Check-in")
    row = await stored(sessions, OutboxMessage, message_id)
    assert (row.status, row.attempts) == (outbox.SENT, 1)


@pytest.mark.parametrize("status", [412, 500, 502, 503, 504])
async def test_a_transient_failure_is_retried_with_backoff(
    sender, sessions, clock, connector, adele, status
) -> None:
    message_id = await enqueue(sessions, clock, adele.person_id, "Goals")
    connector.fail_next(2, status)

    assert (await sender.drain()).retried == 1
    first = await stored(sessions, OutboxMessage, message_id)
    assert (first.status, first.attempts) == (outbox.PENDING, 1)
    assert clock.now <= first.available_at <= clock.now + timedelta(seconds=2)
    assert str(status) in first.last_error

    clock.now = first.available_at
    assert (await sender.drain()).retried == 1
    second = await stored(sessions, OutboxMessage, message_id)
    assert second.attempts == 2
    assert clock.now <= second.available_at <= clock.now + timedelta(seconds=4), "the backoff grows"

    clock.now = second.available_at
    assert (await sender.drain()).sent == 1
    assert len(connector.sent) == 1


@pytest.mark.parametrize(
    "body", [BLOCKED_BY_USER, MESSAGE_WRITES_BLOCKED], ids=["blocked-by-user", "writes-blocked"]
)
async def test_403_blocked_marks_the_chat_and_stops_sending(
    sender, sessions, clock, connector, adele, alex, body
) -> None:
    first = await enqueue(sessions, clock, adele.person_id, "first")
    connector.fail_next(1, 403, body=body)

    report = await sender.drain()

    assert report.dropped == 1 and report.retried == 0
    ref = await stored(sessions, ConversationRef, adele.person_id)
    assert ref.blocked_at == clock.now
    row = await stored(sessions, OutboxMessage, first)
    assert row.status == outbox.DEAD and "403" in row.last_error

    clock.advance(minutes=5)
    later = await enqueue(sessions, clock, adele.person_id, "later")
    to_alex = await enqueue(sessions, clock, alex.person_id, "for alex")
    report = await sender.drain()

    assert (report.sent, report.dropped) == (1, 1)
    assert [r.conversation_id for r in connector.requests] == [adele.conversation_id, alex.conversation_id]
    assert (await stored(sessions, OutboxMessage, later)).status == outbox.DEAD
    assert (await stored(sessions, OutboxMessage, later)).last_error == "person blocked the app"
    assert (await stored(sessions, OutboxMessage, to_alex)).status == outbox.SENT


@pytest.mark.parametrize("status", [400, 404, 413])
async def test_a_request_teams_rejects_is_not_retried(
    sender, sessions, clock, connector, adele, status
) -> None:
    message_id = await enqueue(sessions, clock, adele.person_id, "bad")
    connector.fail_next(1, status)

    assert (await sender.drain()).dropped == 1

    assert (await stored(sessions, OutboxMessage, message_id)).status == outbox.DEAD
    assert (await stored(sessions, ConversationRef, adele.person_id)).blocked_at is None
    clock.advance(hours=2)
    assert (await sender.drain()).sent == 0 and len(connector.requests) == 1


async def test_a_message_for_someone_without_a_chat_is_dropped_with_a_reason(
    sender, sessions, clock, connector, demo_org
) -> None:
    megan = await person(sessions, demo.MEGAN.aad_object_id)
    to_megan = await enqueue(sessions, clock, megan, "no chat yet")
    to_nobody = await enqueue(sessions, clock, None, "nobody")

    report = await sender.drain()

    assert (report.sent, report.dropped) == (0, 2)
    assert connector.requests == []
    for message_id in (to_megan, to_nobody):
        row = await stored(sessions, OutboxMessage, message_id)
        assert (row.status, row.last_error) == (outbox.DEAD, "no conversation with this person")


async def test_an_unreachable_connector_is_retried_and_the_rest_of_the_batch_still_goes(
    sender, sessions, clock, connector, demo_org
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.close()  # closes the connection without an HTTP answer

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        isaiah = await open_chat(
            sessions,
            await person(sessions, demo.ISAIAH.aad_object_id),
            f"http://127.0.0.1:{port}/",
            "29:isaiah",
        )
        alex = await open_chat(
            sessions, await person(sessions, demo.ALEX.aad_object_id), connector.service_url, "29:alex"
        )
        broken = await enqueue(sessions, clock, isaiah.person_id, "to a broken host")
        fine = await enqueue(sessions, clock, alex.person_id, "to alex")

        report = await sender.drain()
    finally:
        server.close()
        await server.wait_closed()

    assert (report.sent, report.retried) == (1, 1)
    row = await stored(sessions, OutboxMessage, broken)
    assert (row.status, row.attempts, row.claimed_by) == (outbox.PENDING, 1, None)
    assert row.last_error.startswith("network")
    assert (await stored(sessions, OutboxMessage, fine)).status == outbox.SENT


# --- several drains at once, on committed data ---------------------------------------------------------


@pytest.fixture
def cluster_for_backend(backend: str, request: pytest.FixtureRequest):
    # Plain fixture: an async fixture cannot start the session's async cluster fixture on demand.
    return request.getfixturevalue("pg_cluster") if backend == "postgresql" else None


@pytest_asyncio.fixture
async def committed_sessions(cluster_for_backend, tmp_path: Path) -> AsyncIterator[async_sessionmaker]:
    """Sessions on a database of this test's own, where commits are real and connections separate."""
    name = f"sender_{uuid.uuid4().hex[:12]}"
    if cluster_for_backend is None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'sender.db'}"
    else:
        url = await cluster_for_backend.create_database(name)
    engine = create_engine(url)
    try:
        await upgrade(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()
        if cluster_for_backend is not None:
            await cluster_for_backend.drop_database(name)


async def test_concurrent_drains_send_each_message_once(
    committed_sessions, pool, clock, connector: ConnectorStandIn
) -> None:
    sessions = committed_sessions
    async with unit_of_work(sessions) as session:
        people = [
            Person(email=f"p{i}@contoso.example", display_name=f"Person {i}", tenant_id=demo.DEMO_TENANT_ID)
            for i in range(30)
        ]
        session.add_all(people)
    for i, p in enumerate(people):
        await open_chat(sessions, p.id, connector.service_url, f"29:p{i}")
        await enqueue(sessions, clock, p.id, f"hello {i}")
    one = OutboxSender(sessions=sessions, pool=pool, clock=clock, batch=4)
    other = OutboxSender(sessions=sessions, pool=pool, clock=clock, batch=4)

    reports = await asyncio.wait_for(asyncio.gather(one.drain(), one.drain(), other.drain()), timeout=30)

    assert sum(r.sent for r in reports) == 30
    summaries = [r.body["summary"] for r in connector.sent]
    assert sorted(summaries) == sorted(f"hello {i}" for i in range(30)), "each message exactly once"
    async with sessions() as session:
        statuses = (await session.scalars(select(OutboxMessage.status))).all()
    assert statuses == [outbox.SENT] * 30
    assert sum(1 for r in reports if r.sent) >= 2, "the drains really did run side by side"


# --- many conversations at once, each within its limits --------------------------------------------------


async def chats(sessions, connector: ConnectorStandIn, n: int) -> list[ConversationRef]:
    """1:1 chats with n people of the demo organization."""
    async with sessions() as session:
        ids = (await session.scalars(select(Person.id).order_by(Person.id).limit(n))).all()
    return [await open_chat(sessions, pid, connector.service_url, f"29:p{pid}") for pid in ids]


async def row(sessions, message_id: int) -> OutboxMessage:
    return await stored(sessions, OutboxMessage, message_id)


async def test_sends_to_different_people_go_out_side_by_side(
    sessions, clock, pool, connector, demo_org
) -> None:
    refs = await chats(sessions, connector, 20)
    for i, ref in enumerate(refs):
        await enqueue(sessions, clock, ref.person_id, f"nudge {i}")
    connector.latency = 0.2  # each answer takes 200 ms: one at a time would take 4 s
    sender = OutboxSender(sessions=sessions, pool=pool, clock=clock, concurrency=16)

    started = time.monotonic()
    report = await sender.drain()
    elapsed = time.monotonic() - started

    assert report.sent == 20
    assert elapsed < 2.0, f"20 sends of 200 ms each took {elapsed:.2f} s"
    assert sorted(r.body["summary"] for r in connector.sent) == sorted(f"nudge {i}" for i in range(20))


async def test_a_429_delays_exactly_that_conversation(
    sender, sessions, clock, connector, adele, alex
) -> None:
    first = await enqueue(sessions, clock, adele.person_id, "a1")
    to_alex = await enqueue(sessions, clock, alex.person_id, "x")
    second = await enqueue(sessions, clock, adele.person_id, "a2")
    connector.fail_next(1, 429, retry_after=7, path_contains=adele.conversation_id)
    # One claim of two: Adele's second message stays in the outbox, where any worker could claim it.
    sender = OutboxSender(sessions=sessions, pool=sender._pool, clock=clock, batch=2)

    report = await sender.drain_once()

    assert (report.sent, report.retried) == (1, 1)
    assert (await row(sessions, to_alex)).status == outbox.SENT, "other conversations keep flowing"
    for message_id in (first, second):
        held = await row(sessions, message_id)
        assert held.status == outbox.PENDING
        assert held.available_at == clock.now + timedelta(seconds=7), "every worker sees Teams' Retry-After"
    assert (await row(sessions, second)).attempts == 0, "waiting is not a failed attempt"

    clock.advance(seconds=6)
    assert (await sender.drain()).sent == 0
    clock.advance(seconds=1)
    assert (await sender.drain()).sent == 2
    assert [r.status for r in connector.requests if r.conversation_id == adele.conversation_id] == [
        429,
        200,
        200,
    ]


async def test_a_429_holds_the_rest_of_that_conversation_in_the_same_pass(
    sender, sessions, clock, connector, adele, alex
) -> None:
    first = await enqueue(sessions, clock, adele.person_id, "a1")
    second = await enqueue(sessions, clock, adele.person_id, "a2")
    await enqueue(sessions, clock, alex.person_id, "x")
    connector.fail_next(1, 429, retry_after=1, path_contains=adele.conversation_id)

    report = await sender.drain()

    assert (report.sent, report.retried) == (2, 1)
    throttled = next(r for r in connector.requests if r.status == 429)
    [to_alex] = connector.replies_to(alex.conversation_id)
    [after] = [r for r in connector.sent if r.conversation_id == adele.conversation_id]
    assert after.body["summary"] == "a2" and after.at >= throttled.at + 1, "Adele's chat waited 1 s"
    alex_at = next(r.at for r in connector.sent if r.conversation_id == alex.conversation_id)
    assert alex_at < throttled.at + 0.5, "Alex's did not"
    assert to_alex["summary"] == "x"
    retried = await row(sessions, first)
    assert (retried.status, retried.attempts) == (outbox.PENDING, 1)
    assert (await row(sessions, second)).status == outbox.SENT


async def test_a_long_retry_after_gives_the_rest_of_that_conversation_back(
    sender, sessions, clock, connector, adele, alex
) -> None:
    await enqueue(sessions, clock, adele.person_id, "a1")
    second = await enqueue(sessions, clock, adele.person_id, "a2")
    await enqueue(sessions, clock, alex.person_id, "x")
    connector.fail_next(1, 429, retry_after=30, path_contains=adele.conversation_id)

    report = await sender.drain()

    assert (report.sent, report.retried, report.postponed) == (1, 1, 1)
    held = await row(sessions, second)
    assert (held.status, held.claimed_by, held.attempts) == (outbox.PENDING, None, 0)
    assert clock.now + timedelta(seconds=29) < held.available_at <= clock.now + timedelta(seconds=30)
    assert [r.conversation_id for r in connector.sent] == [alex.conversation_id]


async def test_403_drops_the_rest_of_that_conversation_unsent(
    sender, sessions, clock, connector, adele, alex
) -> None:
    first = await enqueue(sessions, clock, adele.person_id, "a1")
    second = await enqueue(sessions, clock, adele.person_id, "a2")
    to_alex = await enqueue(sessions, clock, alex.person_id, "x")
    connector.fail_next(1, 403, body=MESSAGE_WRITES_BLOCKED, path_contains=adele.conversation_id)

    report = await sender.drain()

    assert (report.sent, report.dropped, report.retried) == (1, 2, 0)
    assert len([r for r in connector.requests if r.conversation_id == adele.conversation_id]) == 1
    assert (await row(sessions, first)).status == outbox.DEAD
    assert ((await row(sessions, second)).status, (await row(sessions, second)).last_error) == (
        outbox.DEAD,
        "person blocked the app",
    )
    assert (await stored(sessions, ConversationRef, adele.person_id)).blocked_at == clock.now
    assert (await row(sessions, to_alex)).status == outbox.SENT

    clock.advance(hours=1)
    assert await sender.drain() == type(report)() and len(connector.requests) == 2, "never retried"


async def test_one_chat_gets_seven_a_second_and_eight_in_two(
    sender, sessions, clock, connector, adele, alex
) -> None:
    for i in range(10):
        await enqueue(sessions, clock, adele.person_id, f"a{i}")
    await enqueue(sessions, clock, alex.person_id, "x")

    report = await sender.drain()

    assert report.sent == 11
    times = [r.at for r in connector.sent if r.conversation_id == adele.conversation_id]
    assert [r.body["summary"] for r in connector.sent if r.conversation_id == adele.conversation_id] == [
        f"a{i}" for i in range(10)
    ], "one chat's messages go in order"
    assert max(sum(1 for t in times if s <= t < s + 1.0) for s in times) <= 7
    assert max(sum(1 for t in times if s <= t < s + 2.0) for s in times) <= 8
    alex_at = next(r.at for r in connector.sent if r.conversation_id == alex.conversation_id)
    assert alex_at < times[0] + 0.5, "Alex's message did not queue behind Adele's"


async def test_a_conversation_full_for_longer_than_hold_goes_back_to_the_outbox(
    sessions, clock, pool, connector, adele
) -> None:
    ids = [await enqueue(sessions, clock, adele.person_id, f"a{i}") for i in range(10)]
    sender = OutboxSender(sessions=sessions, pool=pool, clock=clock, hold=0.5)

    report = await sender.drain()

    assert (report.sent, report.postponed) == (7, 3), "the eighth would wait a second; hold is half of one"
    for message_id in ids[7:]:
        held = await row(sessions, message_id)
        assert (held.status, held.claimed_by, held.attempts) == (outbox.PENDING, None, 0)
        assert clock.now < held.available_at <= clock.now + timedelta(seconds=1)


async def test_stopping_a_pass_lets_sends_in_flight_finish_and_gives_the_rest_back(
    sessions, clock, pool, connector, demo_org
) -> None:
    refs = await chats(sessions, connector, 30)
    ids = [await enqueue(sessions, clock, ref.person_id, f"n{i}") for i, ref in enumerate(refs)]
    connector.latency = 0.3
    sender = OutboxSender(sessions=sessions, pool=pool, clock=clock, concurrency=4)

    draining = asyncio.create_task(sender.drain())
    await connector.wait_for(lambda _r: len(connector.requests) >= 4)
    draining.cancel()  # what the server's shutdown does to its background sender
    with pytest.raises(asyncio.CancelledError):
        await draining

    received = {r.body["summary"] for r in connector.requests}
    assert len(received) == 4
    rows = [await row(sessions, message_id) for message_id in ids]
    sent = {f"n{i}" for i, r in enumerate(rows) if r.status == outbox.SENT}
    assert sent == received, "every message Teams received is marked sent: none can go twice"
    assert all((r.claimed_by, r.attempts) == (None, 0) for r in rows if r.status == outbox.PENDING), (
        "the rest are given back at once, not after their lease"
    )
    connector.latency = 0.0
    assert (await sender.drain()).sent == 26
    summaries = [r.body["summary"] for r in connector.sent]
    assert sorted(summaries) == sorted(f"n{i}" for i in range(30))


async def test_no_send_starts_in_the_last_quarter_of_the_lease(
    sessions, clock, pool, connector, demo_org
) -> None:
    refs = await chats(sessions, connector, 10)
    for i, ref in enumerate(refs):
        await enqueue(sessions, clock, ref.person_id, f"n{i}")
    connector.latency = 0.1
    sender = OutboxSender(
        sessions=sessions, pool=pool, clock=clock, concurrency=1, lease=timedelta(seconds=0.8)
    )

    started = time.monotonic()
    report = await sender.drain_once()

    assert all(r.at <= started + 0.6 + 0.15 for r in connector.requests), "nothing started after 0.6 s of 0.8"
    assert 1 <= report.sent <= 7 and report.postponed == 10 - report.sent
    async with sessions() as session:
        waiting = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.status == outbox.PENDING))
        ).all()
    assert len(waiting) == report.postponed
    assert all(m.claimed_by is None and m.available_at == clock.now for m in waiting), (
        "claimable again at once"
    )


async def test_a_failure_to_record_sends_stops_the_drain_with_its_error(
    sessions, clock, pool, connector, demo_org, monkeypatch
) -> None:
    refs = await chats(sessions, connector, 10)
    ids = [await enqueue(sessions, clock, ref.person_id, f"n{i}") for i, ref in enumerate(refs)]

    async def database_gone(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(outbox, "ack_many", database_gone)
    sender = OutboxSender(sessions=sessions, pool=pool, clock=clock, concurrency=2)

    with pytest.raises(RuntimeError, match="went away"):
        await asyncio.wait_for(sender.drain(), timeout=10)  # raises, never hangs short of workers

    received = {r.body["summary"] for r in connector.requests}
    assert 1 <= len(received) <= 2, "no new send after the failure"
    rows = {f"n{i}": await row(sessions, message_id) for i, message_id in enumerate(ids)}
    assert all(r.status == outbox.PENDING for r in rows.values())
    # Sent but not recorded: still leased, so they go again only once the lease runs out (at least once).
    assert {name for name, r in rows.items() if r.claimed_by == sender.worker} == received
    assert all(r.claimed_by is None for name, r in rows.items() if name not in received), "the rest go back"

"""The proactive sender against the local Bot Connector: cards arrive, Teams' refusals are honoured
(429 Retry-After, 5xx backoff, 403 blocked), nothing is lost and nothing is sent twice."""

from __future__ import annotations

import asyncio
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

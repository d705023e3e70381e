"""Resumable fan-out: 2,000 nudges, a real sending process SIGKILLed mid-way and started again.

Every person gets their nudge, and nobody gets it twice except for the messages caught in the one window
no sender can close: Teams (here the connector stand-in) had accepted the POST, and the killed process had
not yet committed "sent". Those are identified exactly at the moment of the kill (still leased by the dead
worker, yet already received) and must be the only duplicates; there are at most `concurrency` of them.
bot/proactive.py explains why that window cannot be zero and how it is kept that small.

The stand-in runs in this process; the workers (tests/support/outbox_worker.py: Trellis's own sender on the
database) are separate processes that reach it over HTTP. A short lease and a test-only tenant rate keep
each run to seconds.
"""

from __future__ import annotations

import asyncio
import collections
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from domain.nudges import one_per_day_key
from storage import outbox
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import ConversationRef, OutboxMessage, Person
from tests.support.connector import ConnectorStandIn

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 2000
KILL_AT = 600  # messages received by the stand-in when the worker is killed
RATE, LEASE, CONCURRENCY = 500, 3.0, 16  # test-only: fast, and a killed worker's claims return in 3 s
TENANT = "00000000-0000-0000-0000-00000000c4a5"
BOT_ID = "28:00000000-0000-0000-0000-00000000b07"


@dataclass
class Worker:
    process: asyncio.subprocess.Process
    id: str  # the claimed_by its leases carry


async def seed(url: str, connector: ConnectorStandIn) -> dict[int, str]:
    """2,000 people, each with a 1:1 chat and one nudge waiting in the outbox; person id → conversation id."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Person),
                [
                    {
                        "tenant_id": TENANT,
                        "aad_object_id": str(uuid.UUID(int=i + 1)),
                        "email": f"person{i}@crash.example",
                        "display_name": f"Person {i}",
                    }
                    for i in range(PEOPLE)
                ],
            )
            ids = (await conn.scalars(select(Person.id).order_by(Person.id))).all()
            chats = {pid: ConnectorStandIn.conversation_id_for(f"29:crash-{pid}") for pid in ids}
            await conn.execute(
                insert(ConversationRef),
                [
                    {
                        "person_id": pid,
                        "conversation_id": chats[pid],
                        "service_url": connector.service_url,
                        "bot_id": BOT_ID,
                        "user_id": f"29:crash-{pid}",
                        "tenant_id": TENANT,
                    }
                    for pid in ids
                ],
            )
            await conn.execute(
                insert(OutboxMessage),
                [
                    {
                        "kind": "nudge",
                        "person_id": pid,
                        "payload": {"summary": f"Your self review is due ({pid})", "card": card(pid)},
                        "dedupe_key": one_per_day_key(pid, "review:1:self", now.date()),
                        "status": outbox.PENDING,
                        "attempts": 0,
                        "available_at": now,
                    }
                    for pid in ids
                ],
            )
    finally:
        await engine.dispose()
    return chats


def card(pid: int) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Your self review is due Friday", "wrap": True}],
        "actions": [
            {"type": "Action.Execute", "title": "Continue", "verb": "review.open", "data": {"p": pid}}
        ],
    }


async def start_worker(url: str, started: list[Worker]) -> Worker:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.outbox_worker",
        url,
        *("--rate", str(RATE), "--lease", str(LEASE), "--concurrency", str(CONCURRENCY)),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    started.append(worker := Worker(process, ""))
    line = await asyncio.wait_for(process.stdout.readline(), timeout=30)
    if not line.startswith(b"worker "):
        raise AssertionError(f"the worker did not start: {line!r} {await process.stderr.read()!r}")
    worker.id = line.decode().split()[1]
    return worker


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    """The worker processes a test started: none outlives it (a survivor would post into later tests)."""
    started: list[Worker] = []
    yield started
    for worker in started:
        if worker.process.returncode is None:
            worker.process.kill()
            await worker.process.wait()


async def finish(worker: Worker, timeout: float = 60) -> None:
    _, err = await asyncio.wait_for(worker.process.communicate(), timeout)
    assert worker.process.returncode == 0, err.decode()[-3000:]


async def kill_when_received(connector: ConnectorStandIn, worker: Worker, n: int) -> None:
    deadline = time.monotonic() + 60
    while len(connector.requests) < n:
        assert worker.process.returncode is None, "the worker ended before it could be killed"
        assert time.monotonic() < deadline, f"only {len(connector.requests)} received in 60 s"
        await asyncio.sleep(0.002)
    worker.process.kill()  # SIGKILL: no cleanup, no last commit
    await worker.process.wait()
    await asyncio.sleep(0.2)  # let the stand-in finish recording requests that had fully arrived


async def in_the_window(
    url: str, killed: Worker, connector: ConnectorStandIn, chats: dict[int, str]
) -> set[str]:
    """Conversations whose message the stand-in received but the killed worker never marked sent: the
    at-least-once window at the moment of the kill (the dead worker's claims stay as they were, for a
    lease)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # Marked sent first, received second: another worker may still be sending meanwhile.
            acked = set(
                await conn.scalars(select(OutboxMessage.person_id).where(OutboxMessage.status == outbox.SENT))
            )
            received = {r.conversation_id for r in connector.sent}
            held = await conn.execute(
                select(OutboxMessage.person_id, OutboxMessage.status).where(
                    OutboxMessage.claimed_by == killed.id
                )
            )
            window = {
                chats[pid] for pid, status in held if status == outbox.PENDING and chats[pid] in received
            }
    finally:
        await engine.dispose()
    assert {chats[pid] for pid in acked} <= received, "nothing is marked sent before Teams accepted it"
    return window


async def outcome(url: str) -> collections.Counter[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(select(OutboxMessage.status, OutboxMessage.attempts))
            return collections.Counter(f"{status}/{attempts}" for status, attempts in rows)
    finally:
        await engine.dispose()


def check(connector: ConnectorStandIn, chats: dict[int, str], window: set[str], label: str) -> None:
    received = collections.Counter(r.conversation_id for r in connector.sent)
    lost = set(chats.values()) - set(received)
    twice = {conversation for conversation, n in received.items() if n > 1}
    print(f"\n{label}: {len(received)} reached, {len(lost)} lost, {len(twice)} twice, window {len(window)}")
    assert not lost, f"{len(lost)} people never got their nudge"
    assert set(received) <= set(chats.values())
    assert max(received.values()) <= 2
    assert twice == window, "only messages caught between Teams' answer and the commit go twice"
    assert len(window) <= CONCURRENCY, "at most one message per send in flight can be caught"
    assert not connector.failures


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Path):
    """A URL for a fresh database of this test's own (the workers are other processes: commits are real)."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster, f"crash_{uuid.uuid4().hex[:10]}"


async def url_for(database) -> str:
    if isinstance(database, str):
        return database
    cluster, name = database
    return await cluster.create_database(name)


async def test_a_killed_sender_restarted_sends_every_nudge_once(
    database, connector: ConnectorStandIn, workers: list[Worker]
) -> None:
    url = await url_for(database)
    chats = await seed(url, connector)

    first = await start_worker(url, workers)
    await kill_when_received(connector, first, KILL_AT)
    received = [r.conversation_id for r in connector.sent]
    assert KILL_AT <= len(received) < PEOPLE, "killed mid-way"
    assert len(set(received)) == len(received), "nothing twice before the crash"
    window = await in_the_window(url, first, connector, chats)

    await finish(await start_worker(url, workers))

    check(connector, chats, window, f"one worker killed at {len(received)}")
    assert (await outcome(url)) == {f"{outbox.SENT}/0": PEOPLE}, "all sent, none retried or dropped"


async def test_two_senders_on_postgresql_one_killed_send_every_nudge_once(
    pg_cluster, connector: ConnectorStandIn, workers: list[Worker]
) -> None:
    url = await pg_cluster.create_database(f"crash_{uuid.uuid4().hex[:10]}")
    chats = await seed(url, connector)

    killed, survivor = await asyncio.gather(start_worker(url, workers), start_worker(url, workers))
    await kill_when_received(connector, killed, KILL_AT)
    received = [r.conversation_id for r in connector.sent]
    assert KILL_AT <= len(received) < PEOPLE, "killed mid-way"
    assert len(set(received)) == len(received), "two workers never claim the same message"
    window = await in_the_window(url, killed, connector, chats)
    restarted = await start_worker(url, workers)  # the killed one comes back beside the survivor

    await asyncio.gather(finish(survivor), finish(restarted))

    check(connector, chats, window, f"two workers, one killed at {len(received)}")
    assert (await outcome(url)) == {f"{outbox.SENT}/0": PEOPLE}

"""The outbox: messages written in the same transaction as the change that caused them, sent after commit.

Claims are leases: a worker marks rows as its own until `claimed_until`; a worker that dies loses its
lease and the rows become claimable again. On PostgreSQL several processes claim at once without
waiting on each other (FOR UPDATE SKIP LOCKED); SQLite has one writer at a time, so the claiming
UPDATE is atomic there by construction.

A message goes to a person (their 1:1 chat, person_id) or to a conversation the bot is installed in (a
team channel, named in the payload under CONVERSATION), never both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import is_postgres
from storage.models import OutboxMessage

PENDING, SENT, DEAD = "pending", "sent", "dead"
MAX_ATTEMPTS = 8
# The payload key naming a conversation to post in: {"id": conversation id}. The sender finds where and
# whether it may still post there (storage/team_channels.py), so a stale address is never used.
CONVERSATION = "conversation"


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds the lease on."""

    id: int
    kind: str
    person_id: int | None
    payload: dict[str, Any]
    attempts: int

    @property
    def conversation_id(self) -> str | None:
        """The conversation the message is posted in, when it is not for a person."""
        target = self.payload.get(CONVERSATION)
        found = target.get("id") if isinstance(target, dict) else None
        return found if isinstance(found, str) and found else None


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    person_id: int | None = None,
    conversation_id: str | None = None,
    dedupe_key: str | None = None,
    available_at: datetime | None = None,
) -> None:
    """Add a message in the caller's transaction, for a person or a conversation (a team channel); a
    repeated dedupe_key is silently ignored."""
    if conversation_id is not None:
        if person_id is not None or not conversation_id:
            raise ValueError("a message goes to a person or to a conversation, not both")
        payload = {**payload, CONVERSATION: {"id": conversation_id}}
    values = {
        "kind": kind,
        "payload": payload,
        "person_id": person_id,
        "dedupe_key": dedupe_key,
        "status": PENDING,
        "attempts": 0,
        "available_at": available_at or now,
    }
    insert = pg_insert if is_postgres(session) else sqlite_insert
    statement = insert(OutboxMessage).values(**values)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    await session.execute(statement)


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    limit: int = 50,
    lease: timedelta = timedelta(minutes=2),
) -> list[Claimed]:
    """Lease up to `limit` ready messages to `worker`; commit the session to make the lease visible."""
    ready = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == PENDING,
            OutboxMessage.available_at <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.available_at, OutboxMessage.id)
        .limit(limit)
    )
    if is_postgres(session):
        ready = ready.with_for_update(skip_locked=True)
    ids = list((await session.scalars(ready)).all())
    if not ids:
        return []
    # Re-check the lease in the UPDATE itself so two SQLite connections that read the same ids cannot
    # both win: the second UPDATE finds the rows already leased and takes none of them.
    claimed = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.status == PENDING,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_by=worker, claimed_until=now + lease)
        .returning(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.person_id,
            OutboxMessage.payload,
            OutboxMessage.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    return sorted((Claimed(*row) for row in claimed.all()), key=lambda c: c.id)


async def ack(session: AsyncSession, *, worker: str, message_id: int, now: datetime) -> bool:
    """Mark a message sent; False if the lease was lost meanwhile (someone else may send it)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_held_by(worker, message_id))
        .values(status=SENT, sent_at=now, claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def ack_many(session: AsyncSession, *, worker: str, message_ids: list[int], now: datetime) -> set[int]:
    """Mark messages sent in one statement; the ids that were still ours (a lost lease is left alone)."""
    if not message_ids:
        return set()
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == PENDING,
        )
        .values(status=SENT, sent_at=now, claimed_by=None, claimed_until=None)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars().all())


async def retry_later(
    session: AsyncSession,
    *,
    worker: str,
    message_id: int,
    now: datetime,
    error: str,
    delay: timedelta | None = None,
) -> None:
    """Give the message back with a backoff (or the server's Retry-After); dead after MAX_ATTEMPTS."""
    # Lock the row: a read without it may see our expired lease while another worker is taking it over,
    # and writing back would clear that worker's lease (its ack then fails, the message goes out twice).
    row = await session.get(OutboxMessage, message_id, with_for_update=True, populate_existing=True)
    if row is None or row.claimed_by != worker or row.status != PENDING:
        return
    row.attempts += 1
    row.last_error = error[:2000]
    row.claimed_by = None
    row.claimed_until = None
    if row.attempts >= MAX_ATTEMPTS:
        row.status = DEAD
        return
    row.available_at = now + (delay if delay is not None else backoff(row.attempts))


async def give_up(session: AsyncSession, *, worker: str, message_id: int, error: str) -> None:
    """Stop trying a message that cannot succeed (e.g. the person blocked the app)."""
    await session.execute(
        update(OutboxMessage)
        .where(_held_by(worker, message_id))
        .values(status=DEAD, last_error=error[:2000], claimed_by=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def release(
    session: AsyncSession,
    *,
    worker: str,
    message_ids: list[int],
    available_at: datetime | None = None,
) -> int:
    """Give leased messages back unsent, without counting an attempt (a worker stopping, or a conversation
    whose window is full until `available_at`); how many were still ours."""
    if not message_ids:
        return 0
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if available_at is not None:
        values["available_at"] = available_at
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(message_ids),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == PENDING,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def postpone_person(session: AsyncSession, *, person_id: int, until: datetime, now: datetime) -> int:
    """Hold a person's waiting messages until `until` (Teams' Retry-After for their chat), unless another
    worker holds them; how many moved."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.status == PENDING,
            OutboxMessage.available_at < until,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(available_at=until)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def backoff(attempts: int, *, base: float = 2.0, cap: float = 3600.0) -> timedelta:
    """Exponential backoff with full jitter, so retries after an outage don't arrive in one wave."""
    return timedelta(seconds=random.uniform(0, min(cap, base**attempts)))


def _held_by(worker: str, message_id: int) -> Any:
    return and_(
        OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker, OutboxMessage.status == PENDING
    )

"""Read-only sessions on SQLite: a lookup runs on the event loop (handing it to aiosqlite's thread costs
more than it does), a long read asked for off_loop runs on the connection's thread, so the loop keeps
serving and two such reads can run at once."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.engine import create_engine, session_factory
from storage.uow import read_only


async def _thread_of_a_statement(db: AsyncSession) -> int:
    """The thread SQLite ran a statement on (a SQL function answers from inside it)."""
    raw = await (await db.connection()).get_raw_connection()
    raw.driver_connection._connection.create_function("thread_ident", 0, threading.get_ident)
    return int(await db.scalar(text("SELECT thread_ident()")))


async def test_a_lookup_runs_on_the_loop_and_an_off_loop_read_on_the_connection_thread(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    sessions = session_factory(engine)
    loop_thread = threading.get_ident()
    try:
        async with read_only(sessions) as db:
            assert await _thread_of_a_statement(db) == loop_thread
        async with read_only(sessions, off_loop=True) as db:
            assert await _thread_of_a_statement(db) != loop_thread
        async with read_only(sessions) as db:  # the pooled connection is a lookup's again
            assert await _thread_of_a_statement(db) == loop_thread
    finally:
        await engine.dispose()

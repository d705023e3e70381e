"""The unit of work: one transaction per change of state. Services never commit; this does."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.engine import read_only_options, write_lock


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit what the block did, or roll all of it back if it raised."""
    lock = write_lock(sessions.kw.get("bind"))
    async with lock or contextlib.nullcontext(), sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def read_only(
    sessions: async_sessionmaker[AsyncSession], *, off_loop: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session for lookups: it runs without a transaction, so it must not write. `off_loop` for a long
    read (an aggregate over the organization): on SQLite it then runs on the connection's thread rather
    than on the event loop, side by side with other work."""
    async with sessions() as session:
        options = read_only_options(sessions.kw.get("bind"), off_loop=off_loop)
        await session.connection(execution_options=options)
        try:
            yield session
        finally:
            await session.rollback()

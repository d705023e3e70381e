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
async def read_only(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for lookups: it runs without a transaction, so it must not write."""
    async with sessions() as session:
        await session.connection(execution_options=read_only_options(sessions.kw.get("bind")))
        try:
            yield session
        finally:
            await session.rollback()

"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

READ_ONLY_OPTION = "trellis_read_only"
READ_ONLY = {READ_ONLY_OPTION: True}
# A read that may take tens of milliseconds (an aggregate over the whole organization): on SQLite it keeps
# to the connection's thread, so the event loop goes on serving and such reads can run side by side.
OFF_LOOP_OPTION = "trellis_off_loop"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the settings each backend needs to be correct under concurrency."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **kwargs)
    # No pre-ping: it costs a round trip on every checkout (a fifth of a bot turn's CPU). A connection
    # the server dropped fails once, is invalidated by SQLAlchemy, and the next checkout gets a new one.
    kwargs.setdefault("pool_recycle", 1800)
    # Connections beyond pool_size are opened and closed per checkout (a TLS handshake and a backend
    # process each); size the pool for the turns in flight so busy periods don't churn connections.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, **kwargs)


def _sqlite_engine(url: str, database: str | None, **kwargs: Any) -> AsyncEngine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    path = database or ":memory:"
    kwargs.setdefault("async_creator", lambda: _InlineReadsConnection(_sqlite_connector(path), 64))
    # Lookups run without a transaction and, with WAL, side by side; writers take turns on the
    # engine's write lock (storage.uow) so they never spin in SQLite's busy handler. A fixed pool: each
    # extra connection is a thread and PRAGMAs, so none are opened and closed under load.
    kwargs.setdefault("pool_size", 4)
    kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Foreign keys are off by default in SQLite; WAL lets the tabs read while the bot writes.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # Take transaction control away from the sqlite3 module (it defers BEGIN and breaks SAVEPOINT)...
        dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # ...and start write transactions as the writer. SQLite has one writer at a time anyway; taking
        # the lock up front turns "read, then fail to upgrade" (SQLITE_BUSY, no retry) into a short wait.
        # Readers (READ_ONLY) open no transaction: they take no lock, never queue behind a writer, and
        # save two round trips to SQLite's thread; their calls also run inline (_InlineReadsConnection).
        options = connection.get_execution_options()
        read_only = bool(options.get(READ_ONLY_OPTION))
        driver = connection.connection.driver_connection
        if isinstance(driver, _InlineReadsConnection):
            driver.inline = read_only and not options.get(OFF_LOOP_OPTION)
        if not read_only:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _sqlite_connector(path: str) -> Any:
    # check_same_thread off: a connection is used by one session at a time, but its calls may run on
    # aiosqlite's thread (writes) or on the event loop (reads), never both at once.
    return lambda: sqlite3.connect(path, timeout=30, check_same_thread=False)


class _InlineReadsConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs calls on the event loop while `inline` is set.

    Handing each call to aiosqlite's thread and back costs ~100 µs; an indexed lookup costs a few. Only
    lookups run inline: in WAL mode a reader never waits for a writer's lock, so they cannot stall the
    loop on another process, while writes (which may wait up to the busy timeout) keep the thread.
    """

    inline = False

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self.inline and self._connection is not None:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (views are built from them)."""
    return async_sessionmaker(engine, expire_on_commit=False)


_write_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock(bind: Any) -> asyncio.Lock | None:
    """The lock writers take turns on, for an SQLite engine (SQLite has one writer at a time)."""
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "sqlite":
        return None
    return _write_locks.setdefault(bind.sync_engine, asyncio.Lock())


def read_only_options(bind: Any, *, off_loop: bool = False) -> dict[str, Any]:
    """Execution options for a session that only reads: no transaction to begin or roll back (and, with
    off_loop, its SQLite calls kept off the event loop)."""
    options = {**READ_ONLY, OFF_LOOP_OPTION: True} if off_loop else READ_ONLY
    if isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql":
        # asyncpg's autocommit is a client-side flag: no BEGIN/ROLLBACK round trips for a lookup.
        return {**options, "isolation_level": "AUTOCOMMIT"}
    return options


def is_postgres(engine_or_session: Any) -> bool:
    """True when talking to PostgreSQL (row locking with SKIP LOCKED is available)."""
    bind = getattr(engine_or_session, "bind", None) or engine_or_session
    return bind.dialect.name == "postgresql"

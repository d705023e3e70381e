"""Run alembic from code, inside the caller's event loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    """An alembic Config pointing at our migrations (no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database to `revision`."""
    await _migrate(engine, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision`."""
    await _migrate(engine, command.downgrade, revision)


async def _migrate(engine: AsyncEngine, fn: Any, revision: str) -> None:
    async with engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            async with conn.begin():
                await conn.run_sync(_command, fn, revision)
            return
        # SQLite batch migrations copy a table and drop the old one. With foreign keys on, that drop
        # cascades: key results would be deleted and parent links nulled. The pragma only takes effect
        # outside a transaction, so it is set on the driver connection before SQLAlchemy begins one.
        driver = (await conn.get_raw_connection()).driver_connection
        await driver.execute("PRAGMA foreign_keys=OFF")
        try:
            async with conn.begin():
                await conn.run_sync(_command, fn, revision)
                broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at nothing: {broken[:5]}")
        finally:
            await driver.execute("PRAGMA foreign_keys=ON")


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def pending_changes(engine: AsyncEngine) -> list[Any]:
    """What autogenerate would write against the models: empty when migrations and models agree."""
    async with engine.connect() as conn:
        return await conn.run_sync(_compare)


def _command(connection: Connection, fn: Any, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    fn(cfg, revision)


def _compare(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"}
    )
    return compare_metadata(context, Base.metadata)


def revision(url: str, message: str) -> None:
    """Autogenerate a new migration file against the database at `url` (a developer's command)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)

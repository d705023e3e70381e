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
    async with engine.begin() as conn:
        await conn.run_sync(_command, command.upgrade, revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the database back to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_command, command.downgrade, revision)


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

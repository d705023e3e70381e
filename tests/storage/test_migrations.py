"""Migrations on a brand-new database, on SQLite and PostgreSQL: upgrade to head leaves nothing for
autogenerate to write, downgrade removes every table, and a model change the migrations miss is caught."""

from __future__ import annotations

import types
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.models import Base

HEAD = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))


def test_there_is_one_head() -> None:
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert heads == [HEAD], "two heads means two branches of migrations that were never merged"


async def test_upgrade_head_matches_the_models_exactly(blank_engine: AsyncEngine) -> None:
    assert await migrate.current_revision(blank_engine) is None, "a new database was never migrated"

    await migrate.upgrade(blank_engine)

    assert await migrate.current_revision(blank_engine) == HEAD
    assert await table_names(blank_engine) == set(Base.metadata.tables) | {"alembic_version"}
    changes = await migrate.pending_changes(blank_engine)
    assert changes == [], f"the models changed without a migration: {changes}"

    await migrate.upgrade(blank_engine)  # `trellis migrate` runs on every start: a second time is a no-op
    assert await migrate.current_revision(blank_engine) == HEAD


async def test_downgrade_to_base_removes_the_tables_and_upgrade_rebuilds_them(
    fresh_engine: AsyncEngine,
) -> None:
    await migrate.downgrade(fresh_engine, "base")

    assert await migrate.current_revision(fresh_engine) is None
    assert await table_names(fresh_engine) <= {"alembic_version"}, "nothing of ours is left behind"

    await migrate.upgrade(fresh_engine)

    assert await migrate.current_revision(fresh_engine) == HEAD
    assert await table_names(fresh_engine) >= set(Base.metadata.tables)
    assert await migrate.pending_changes(fresh_engine) == []


async def test_an_unmigrated_database_is_reported_as_pending(blank_engine: AsyncEngine) -> None:
    changes = await migrate.pending_changes(blank_engine)

    added = {change[1].name for change in changes if change[0] == "add_table"}
    assert added == set(Base.metadata.tables)


def _changed_models(change: str) -> sa.MetaData:
    """A copy of the models with one change a developer might forget to write a migration for."""
    metadata = sa.MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    people = metadata.tables["people"]
    if change == "add_column":
        people.append_column(sa.Column("nickname", sa.String(100), nullable=True))
    elif change == "add_table":
        sa.Table("shout_outs", metadata, sa.Column("id", sa.Integer, primary_key=True))
    elif change == "add_index":
        sa.Index("ix_people_job_title", people.c.job_title)
    elif change == "nullability":
        people.c.job_title.nullable = False
    elif change == "type":
        people.c.display_name.type = sa.Text()
    else:
        raise AssertionError(change)
    return metadata


@pytest.mark.parametrize(
    ("change", "operation"),
    [
        ("add_column", "add_column"),
        ("add_table", "add_table"),
        ("add_index", "add_index"),
        ("nullability", "modify_nullable"),
        ("type", "modify_type"),
    ],
)
async def test_a_model_change_without_a_migration_is_detected(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch, change: str, operation: str
) -> None:
    # The session's migrated database (read only here): the models say one thing, the schema another.
    monkeypatch.setattr(migrate, "Base", types.SimpleNamespace(metadata=_changed_models(change)))

    changes = await migrate.pending_changes(engine)

    flattened = [c for group in changes for c in (group if isinstance(group, list) else [group])]
    assert operation in {c[0] for c in flattened}, f"{change} went unnoticed: {changes}"


async def test_0004_stores_the_roll_up_of_goals_that_already_existed(blank_engine: AsyncEngine) -> None:
    """A company goal (no key results) over two team goals weighted 3 and 1: 0.5 and 0.1 → 0.4."""
    await migrate.upgrade(blank_engine, "0003")
    async with blank_engine.begin() as conn:
        goal = (
            "INSERT INTO goals (id, owner_type, title, period_label, period_start, period_end, visibility,"
            " kind, parent_id, weight, created_at, updated_at) VALUES (:id, 'company', :title, '2026',"
            " :start, :end, 'public', 'business', :parent, :weight, :now, :now)"
        )
        now = datetime(2026, 11, 26)  # UTC, naive: how UTCDateTime stores it
        year = {"start": date(2026, 1, 1), "end": date(2026, 12, 31), "now": now}
        await conn.execute(sa.text(goal), {"id": 1, "title": "Grow", "parent": None, "weight": 1} | year)
        await conn.execute(sa.text(goal), {"id": 2, "title": "Ship", "parent": 1, "weight": 3} | year)
        await conn.execute(sa.text(goal), {"id": 3, "title": "Sell", "parent": 1, "weight": 1} | year)
        await conn.execute(
            sa.text(
                "INSERT INTO key_results (goal_id, position, title, metric, start, target, current, weight,"
                " version, created_at, updated_at) VALUES (:goal, 0, 'KR', 'number', 0, 10, :current, 1, 1,"
                " :now, :now)"
            ),
            [{"goal": 2, "current": 5, "now": now}, {"goal": 3, "current": 1, "now": now}],
        )

    await migrate.upgrade(blank_engine)

    async with blank_engine.connect() as conn:
        stored = dict((await conn.execute(sa.text("SELECT id, progress FROM goals"))).all())
    assert stored == pytest.approx({1: 0.4, 2: 0.5, 3: 0.1})
    async with blank_engine.connect() as conn:
        parents = dict((await conn.execute(sa.text("SELECT id, parent_id FROM goals"))).all())
        key_results = (await conn.execute(sa.text("SELECT count(*) FROM key_results"))).scalar()
    assert (parents, key_results) == ({1: None, 2: 1, 3: 1}, 2), "copying the table lost nothing"

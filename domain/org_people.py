"""People in bulk, shared by the CSV import and the directory sync: one read of everyone, batched writes,
and the reporting-cycle finder (the access model walks manager chains, so a cycle must never be written)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import batches
from storage.models import Person, utcnow

DEFAULT_TIME_ZONE = "UTC"
_N = TypeVar("_N")


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """A person already stored, as an import or a directory sync needs to see them."""

    id: int
    email: str
    aad_object_id: str | None = None
    tenant_id: str | None = None
    manager_id: int | None = None
    display_name: str = ""
    job_title: str | None = None
    department: str | None = None
    time_zone: str = DEFAULT_TIME_ZONE
    hire_date: date | None = None
    active: bool = True
    office_location: str | None = None
    manager_overridden: bool = False
    deactivated_at: datetime | None = None


@dataclass
class Directory:
    """The people already stored, indexed once so 100,000 rows need no query per row."""

    entries: dict[int, DirectoryEntry] = field(default_factory=dict)
    by_email: dict[str, DirectoryEntry] = field(default_factory=dict)

    @classmethod
    def of(cls, entries: Iterable[DirectoryEntry]) -> Directory:
        """Index existing people by id and by (case-insensitive) email."""
        directory = cls()
        for entry in entries:
            directory.entries[entry.id] = entry
            directory.by_email[entry.email.lower()] = entry
        return directory

    def by_aad(self, tenant_id: str | None) -> dict[str, DirectoryEntry]:
        """Existing people by Entra object id, as seen from `tenant_id`.

        A person stored without a tenant matches any tenant (single-tenant deployments often import
        before they know their tenant id), like domain.access.actor_for_teams_user; an exact tenant wins.
        """
        index: dict[str, DirectoryEntry] = {}
        exact: set[str] = set()
        for entry in self.entries.values():
            if not entry.aad_object_id:
                continue
            aad = entry.aad_object_id.lower()
            if tenant_id is not None and entry.tenant_id == tenant_id:
                index[aad] = entry
                exact.add(aad)
            elif (entry.tenant_id is None or tenant_id is None) and aad not in exact:
                index[aad] = entry
        return index


def find_cycles(manager_of: Mapping[_N, _N]) -> list[list[_N]]:
    """Each cycle once, in reporting order (every node has at most one manager, so a walk suffices)."""
    state: dict[_N, int] = {}  # 1 = on the current walk, 2 = done
    cycles: list[list[_N]] = []
    for start in manager_of:
        walk: list[_N] = []
        node: _N | None = start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = manager_of.get(node)
        if node is not None and state[node] == 1:
            cycles.append(walk[walk.index(node) :])
        for visited in walk:
            state[visited] = 2
    return cycles


# --- reading and writing ---------------------------------------------------------------------------


async def load_directory(session: AsyncSession) -> Directory:
    """Every stored person, in one query (active or not: an email stays taken when someone leaves)."""
    result = await session.execute(
        select(
            Person.id,
            Person.email,
            Person.aad_object_id,
            Person.tenant_id,
            Person.manager_id,
            Person.display_name,
            Person.job_title,
            Person.department,
            Person.time_zone,
            Person.hire_date,
            Person.active,
            Person.office_location,
            Person.manager_overridden,
            Person.deactivated_at,
        )
    )
    return Directory.of(DirectoryEntry(*row) for row in result)


async def update_people(
    session: AsyncSession, changes: list[tuple[int, dict[str, Any]]], tick: Callable[[int], None]
) -> None:
    """Update people by id in batches; every change names the same columns."""
    if not changes:
        return
    table = Person.__table__
    now = utcnow()
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in (*changes[0][1], "updated_at")})
    )
    for batch in batches(changes):
        params = [
            {"b_id": person_id, "b_updated_at": now, **{f"b_{k}": v for k, v in values.items()}}
            for person_id, values in batch
        ]
        await session.execute(statement, params)
        tick(len(batch))


async def insert_people(
    session: AsyncSession, values: list[dict[str, Any]], tick: Callable[[int], None]
) -> list[int]:
    """Insert new people without managers; their ids come back in the order given."""
    if not values:
        return []
    table = Person.__table__
    # Correlate by the unique email: asking for rows back in parameter order makes SQLAlchemy send one
    # INSERT per row on SQLite, twenty times slower.
    statement = table.insert().returning(table.c.email, table.c.id)
    ids: list[int] = []
    for batch in batches(values):
        id_of = dict((await session.execute(statement, batch)).all())
        ids.extend(id_of[row["email"]] for row in batch)
        tick(len(batch))
    return ids

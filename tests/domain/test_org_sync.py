"""Directory sync: people follow Entra ID page by page, nothing half-applied, admin overrides kept.

Every test runs on SQLite and PostgreSQL in a rolled-back transaction; the sync only flushes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import org_sync
from domain.access import Actor, Role
from domain.errors import Forbidden, Invalid
from domain.org_sync import (
    SYNCED_FIELDS,
    DirectoryUser,
    SyncReport,
    apply_directory,
    clear_manager_override,
    load_sync_state,
    save_sync_state,
    set_manager_override,
)
from storage.models import AuditEntry, Person
from storage.uow import unit_of_work

T = "11111111-aaaa-4bbb-8ccc-000000000001"
OTHER_TENANT = "22222222-aaaa-4bbb-8ccc-000000000002"
NOW = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def aad(n: int) -> str:
    return f"0000{n:04d}-0000-4000-8000-000000000000"


# name, manager, job title, department
ORG = {
    1: ("Ceo Person", None, "CEO", "Board"),
    2: ("Cto Person", 1, "CTO", "Engineering"),
    3: ("Cfo Person", 1, "CFO", "Finance"),
    4: ("Eng One", 2, "Engineer", "Engineering"),
    5: ("Eng Two", 2, "Engineer", "Engineering"),
    6: ("Eng Three", 2, "Engineer", "Engineering"),
    7: ("Eng Four", 2, "Engineer", "Engineering"),
    8: ("Fin One", 3, "Accountant", "Finance"),
    9: ("Fin Two", 3, "Accountant", "Finance"),
    10: ("Des Igner", 2, "Designer", "Engineering"),
    11: ("Hr Person", 1, "HR Lead", "People"),
    12: ("Intern Person", 4, None, None),
}


def full_user(n: int) -> DirectoryUser:
    name, manager, title, department = ORG[n]
    first = name.split()[0].lower()
    return DirectoryUser(
        id=aad(n),
        display_name=name,
        # Person 12 has no mailbox: the UPN (mixed case) becomes the email.
        mail=None if n == 12 else f"{first}{n}@contoso.com",
        user_principal_name=f"{first.title()}{n}@Contoso.onmicrosoft.com",
        job_title=title,
        department=department,
        office_location=f"Building {n % 3}" if n % 2 else None,
        hire_date=date(2020, 1, n),
        manager_id=aad(manager) if manager else None,
        fields=SYNCED_FIELDS,  # a whole record, in a delta too
    )


def email_of(n: int) -> str:
    first = ORG[n][0].split()[0].lower()
    return f"{first}{n}@contoso.onmicrosoft.com" if n == 12 else f"{first}{n}@contoso.com"


def delta(n: int, **changes: Any) -> DirectoryUser:
    """A delta entry carrying only the given fields (Graph's property names in `fields`)."""
    graph = {
        "display_name": "displayName",
        "manager_id": "manager",
        "enabled": "accountEnabled",
        "job_title": "jobTitle",
        "mail": "mail",
    }
    return DirectoryUser(id=aad(n), fields=frozenset(graph[k] for k in changes), **changes)


async def sync(session: AsyncSession, users: Iterable[Any], *, full: bool = False, **kw: Any) -> SyncReport:
    return await apply_directory(session, users, tenant_id=T, full=full, now=kw.pop("now", NOW), **kw)


async def state(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """Every stored person by Entra id (or email), manager as an Entra id, read fresh from the database."""
    rows = (await session.execute(select(Person.__table__))).mappings().all()
    by_id = {row["id"]: row for row in rows}
    return {
        row["aad_object_id"] or row["email"]: {
            **row,
            "manager": (by_id[row["manager_id"]]["aad_object_id"] if row["manager_id"] else None),
        }
        for row in rows
    }


async def count(session: AsyncSession, model: type) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


def no_cycles(people: dict[str, dict[str, Any]]) -> bool:
    manager_of = {p["id"]: p["manager_id"] for p in people.values()}
    for start in manager_of:
        seen, node = set(), start
        while node is not None:
            if node in seen:
                return False
            seen.add(node)
            node = manager_of.get(node)
    return True


async def hr_actor(session: AsyncSession, person_id: int) -> Actor:
    return Actor(
        person_id=person_id,
        display_name="HR",
        tenant_id=T,
        department="People",
        roles=frozenset({Role.EMPLOYEE, Role.HR_ADMIN}),
    )


# --- first sync --------------------------------------------------------------------------------------


async def test_a_first_full_sync_creates_everyone_with_their_manager(session: AsyncSession) -> None:
    pages = [[full_user(n) for n in range(1, 5)], [full_user(n) for n in range(5, 9)]]
    pages.append([full_user(n) for n in range(9, 13)])

    report = await sync(session, pages, full=True)

    assert (report.created, report.updated, report.deactivated, report.skipped) == (12, 0, 0, 0)
    assert report.managers_changed == 11
    assert report.notes == []
    people = await state(session)
    assert len(people) == 12
    for n, (name, manager, title, department) in ORG.items():
        person = people[aad(n)]
        assert person["tenant_id"] == T
        assert person["email"] == email_of(n)
        assert person["display_name"] == name
        assert person["job_title"] == title
        assert person["department"] == department
        assert person["office_location"] == (f"Building {n % 3}" if n % 2 else None)
        assert person["hire_date"] == date(2020, 1, n)
        assert person["manager"] == (aad(manager) if manager else None)
        assert person["active"] is True
        assert person["deactivated_at"] is None
        assert person["manager_overridden"] is False
        assert person["directory_synced_at"] == NOW
        assert person["time_zone"] == "UTC"
    assert "12 created" in str(report)


async def test_an_async_source_of_pages_is_read_too(session: AsyncSession) -> None:
    async def pages() -> AsyncIterator[list[DirectoryUser]]:
        yield [full_user(1), full_user(2)]
        yield [full_user(4)]

    report = await sync(session, pages(), full=True)

    assert report.created == 3
    assert (await state(session))[aad(4)]["manager"] == aad(2)


# --- deltas ------------------------------------------------------------------------------------------


async def test_a_delta_changes_a_manager_disables_deletes_and_renames_then_reapplying_it_changes_nothing(
    session: AsyncSession,
) -> None:
    await sync(session, [full_user(n) for n in ORG], full=True)
    before = await state(session)
    changes = [
        [delta(5, manager_id=aad(3))],  # Eng Two moves to finance
        [delta(8, enabled=False)],  # Fin One's account is disabled
        [DirectoryUser(id=aad(6), removed=True)],  # Eng Three is deleted
        [delta(10, display_name="Des Renamed")],  # only the name was sent
    ]

    report = await sync(session, changes, now=LATER)

    assert (report.created, report.updated, report.deactivated, report.managers_changed) == (0, 2, 2, 1)
    after = await state(session)
    for n in ORG:
        key = aad(n)
        changed = {k for k in after[key] if after[key][k] != before[key][k]}
        if n == 5:
            assert after[key]["manager"] == aad(3)
            assert changed == {"manager", "manager_id", "updated_at", "directory_synced_at"}
        elif n in (6, 8):
            assert after[key]["active"] is False
            assert after[key]["deactivated_at"] == LATER
            assert after[key]["manager"] == before[key]["manager"], "history keeps the last manager"
            assert changed == {"active", "deactivated_at", "updated_at", "directory_synced_at"}
        elif n == 10:
            assert after[key]["display_name"] == "Des Renamed"
            # Absent from the delta ≠ empty: title, department, email and manager stay.
            assert changed == {"display_name", "updated_at", "directory_synced_at"}
        else:
            assert changed == set(), f"person {n} should be untouched"
    assert after[aad(6)]["directory_synced_at"] == LATER

    again = await sync(session, changes, now=LATER + timedelta(hours=1))

    assert again.changes == []
    assert (again.created, again.updated, again.deactivated, again.reactivated, again.managers_changed) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert await state(session) == after


async def test_a_re_enabled_account_is_active_again(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2)], full=True)
    await sync(session, [delta(2, enabled=False)], now=LATER)

    report = await sync(session, [delta(2, enabled=True)], now=LATER + timedelta(days=1))

    person = (await state(session))[aad(2)]
    assert report.reactivated == 1
    assert (person["active"], person["deactivated_at"]) == (True, None)


async def test_a_user_listed_twice_in_one_delta_merges_their_changes(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2, 3)], full=True)

    await sync(session, [[delta(2, job_title="Chief")], [delta(2, manager_id=aad(3))]], now=LATER)
    await sync(session, [[full_user(1)], [delta(1, job_title="Chair")]], now=LATER)
    await sync(session, [DirectoryUser(id=aad(3))], now=LATER)  # an id alone: nothing we keep changed

    people = await state(session)
    assert (people[aad(2)]["job_title"], people[aad(2)]["manager"]) == ("Chief", aad(3))
    assert people[aad(2)]["department"] == "Engineering"
    assert (people[aad(1)]["job_title"], people[aad(1)]["department"]) == ("Chair", "Board")
    assert (people[aad(3)]["job_title"], people[aad(3)]["display_name"]) == ("CFO", "Cfo Person")


async def test_users_without_an_email_or_with_a_taken_one_are_skipped_and_reported(
    session: AsyncSession,
) -> None:
    nameless = DirectoryUser(id=aad(40), display_name="No Mail")
    twin = dataclasses.replace(full_user(2), id=aad(41), display_name="Same Mail")

    report = await sync(session, [full_user(1), full_user(2), nameless, twin], full=True)

    assert report.created == 2
    assert report.skipped == 2
    whats = {(note.person, note.what) for note in report.notes}
    assert ("No Mail", "skipped") in whats
    assert (email_of(2), "skipped") in whats
    assert set(await state(session)) == {aad(1), aad(2)}


async def test_a_csv_imported_person_is_matched_by_email_and_takes_the_entra_id(
    session: AsyncSession,
) -> None:
    await session.execute(
        insert(Person), [{"email": email_of(2), "display_name": "Imported", "department": "Old"}]
    )

    report = await sync(session, [full_user(1), full_user(2)], full=True)

    people = await state(session)
    assert report.created == 1 and report.updated == 1
    assert set(people) == {aad(1), aad(2)}
    assert people[aad(2)]["tenant_id"] == T
    assert (people[aad(2)]["display_name"], people[aad(2)]["department"]) == ("Cto Person", "Engineering")


# --- managers ----------------------------------------------------------------------------------------


async def test_a_manager_outside_the_synced_scope_keeps_the_previous_manager(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2, 4)], full=True)
    stranger = "99999999-0000-4000-8000-000000000000"
    newcomer = dataclasses.replace(full_user(5), manager_id=stranger)

    report = await sync(session, [delta(4, manager_id=stranger), newcomer], now=LATER)

    people = await state(session)
    assert people[aad(4)]["manager"] == aad(2)
    assert people[aad(5)]["manager"] is None
    kept = [note for note in report.notes if note.what == "kept previous manager"]
    assert {note.person for note in kept} == {email_of(4), email_of(5)}
    assert all("outside the synced scope" in note.why for note in kept)
    assert report.managers_changed == 0


async def test_a_reporting_cycle_in_the_directory_is_refused_and_never_written(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2, 4)], full=True)

    # The directory now says the CEO reports to Eng One, who reports (through the CTO) to the CEO.
    report = await sync(session, [delta(1, manager_id=aad(4))], now=LATER)

    people = await state(session)
    assert people[aad(1)]["manager"] is None
    assert report.managers_changed == 0
    assert report.changes == []
    [note] = report.notes
    assert note.person == email_of(1)
    assert "cycle" in note.why and email_of(4) in note.why
    assert no_cycles(people)


async def test_a_cycle_among_new_people_is_refused_for_everyone_on_it(session: AsyncSession) -> None:
    a = dataclasses.replace(full_user(1), manager_id=aad(2))
    b = dataclasses.replace(full_user(2), manager_id=aad(1))
    c = full_user(4)  # reports to b: not on the cycle, gets their manager

    report = await sync(session, [a, b, c], full=True)

    people = await state(session)
    assert (people[aad(1)]["manager"], people[aad(2)]["manager"], people[aad(4)]["manager"]) == (
        None,
        None,
        aad(2),
    )
    assert {n.person for n in report.notes if "cycle" in n.why} == {email_of(1), email_of(2)}
    assert no_cycles(people)


async def test_an_admin_override_survives_a_sync_naming_another_manager(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2, 3, 4, 11)], full=True)
    people = await state(session)
    hr = await hr_actor(session, people[aad(11)]["id"])

    await set_manager_override(
        session, actor=hr, person_id=people[aad(4)]["id"], manager_id=people[aad(3)]["id"]
    )
    report = await sync(session, [full_user(n) for n in (1, 2, 3, 4, 11)], full=True, now=LATER)

    after = await state(session)
    assert after[aad(4)]["manager"] == aad(3)
    assert after[aad(4)]["manager_overridden"] is True
    assert [(n.person, n.what) for n in report.notes] == [(email_of(4), "kept admin override")]
    assert report.changes == []
    entry = (await session.scalars(select(AuditEntry))).one()
    assert (entry.action, entry.actor_id, entry.subject_id) == (
        "manager_override",
        hr.person_id,
        after[aad(4)]["id"],
    )

    await clear_manager_override(session, actor=hr, person_id=after[aad(4)]["id"])
    await sync(session, [full_user(4)], full=False, now=LATER)
    assert (await state(session))[aad(4)]["manager"] == aad(2)


async def test_a_manager_override_refuses_a_cycle_and_non_admins(session: AsyncSession) -> None:
    await sync(session, [full_user(n) for n in (1, 2, 4)], full=True)
    people = await state(session)
    hr = await hr_actor(session, people[aad(1)]["id"])

    with pytest.raises(Invalid, match="cycle"):
        await set_manager_override(
            session, actor=hr, person_id=people[aad(1)]["id"], manager_id=people[aad(4)]["id"]
        )
    employee = dataclasses.replace(hr, roles=frozenset({Role.EMPLOYEE}))
    with pytest.raises(Forbidden):
        await set_manager_override(
            session, actor=employee, person_id=people[aad(4)]["id"], manager_id=people[aad(1)]["id"]
        )
    assert await count(session, AuditEntry) == 0
    assert no_cycles(await state(session))


# --- full sync -----------------------------------------------------------------------------------------


async def test_a_full_sync_deactivates_only_this_tenants_directory_people_it_no_longer_lists(
    session: AsyncSession,
) -> None:
    await session.execute(
        insert(Person),
        [
            # Another tenant's person, and people imported by CSV without an Entra id: not the directory's.
            {
                "email": "x@fabrikam.com",
                "display_name": "X",
                "tenant_id": OTHER_TENANT,
                "aad_object_id": aad(90),
            },
            {"email": "csv@contoso.com", "display_name": "Csv", "tenant_id": None},
            {"email": "csv-t@contoso.com", "display_name": "Csv T", "tenant_id": T},
        ],
    )
    await sync(session, [full_user(n) for n in ORG], full=True)

    report = await sync(session, [full_user(n) for n in ORG if n != 9], full=True, now=LATER)

    people = await state(session)
    assert (people[aad(9)]["active"], people[aad(9)]["deactivated_at"]) == (False, LATER)
    assert [(n.person, n.what) for n in report.changes] == [(email_of(9), "deactivated")]
    assert report.deactivated == 1 and report.unchanged == 11
    assert (
        people[aad(90)]["active"]
        and people["csv@contoso.com"]["active"]
        and people["csv-t@contoso.com"]["active"]
    )
    assert len(people) == 15, "nobody is ever deleted"


# --- dry run, failure, scale ---------------------------------------------------------------------------


async def test_a_dry_run_writes_nothing_and_reports_the_same(session: AsyncSession) -> None:
    users = [full_user(n) for n in ORG]

    dry = await sync(session, users, full=True, dry_run=True)

    assert await count(session, Person) == 0
    real = await sync(session, users, full=True)
    assert dataclasses.replace(dry, dry_run=False) == real
    assert str(dry).startswith("Dry run")

    before = await state(session)
    changes = [delta(5, manager_id=aad(3)), delta(8, enabled=False), DirectoryUser(id=aad(6), removed=True)]
    dry = await sync(session, changes, dry_run=True, now=LATER)
    assert await state(session) == before
    assert dataclasses.replace(dry, dry_run=False) == await sync(session, changes, now=LATER)


async def test_a_source_failing_mid_way_leaves_the_database_unchanged(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(sessions) as session:
        await sync(session, [full_user(n) for n in ORG], full=True)
    async with sessions() as session:
        before = await state(session)

    async def pages() -> AsyncIterator[list[DirectoryUser]]:
        yield [delta(5, manager_id=aad(3)), delta(8, enabled=False)]
        yield [full_user(n) for n in range(20, 23) if n in ORG]
        raise ConnectionError("Graph went away on page 3")

    with pytest.raises(ConnectionError):
        async with unit_of_work(sessions) as session:
            await sync(session, pages(), now=LATER)

    async with sessions() as session:
        assert await state(session) == before


async def test_a_failure_while_writing_rolls_the_whole_sync_back(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    async with unit_of_work(sessions) as session:
        await sync(session, [full_user(n) for n in (1, 2, 4)], full=True)
    async with sessions() as session:
        before = await state(session)

    async def broken_insert(*args: Any, **kwargs: Any) -> list[int]:
        raise RuntimeError("the database went away after the updates")

    monkeypatch.setattr(org_sync, "insert_people", broken_insert)
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions) as session:
            # Updates are written first, then the insert fails: the unit of work undoes the updates.
            await sync(session, [delta(4, display_name="Changed"), full_user(5)], now=LATER)

    async with sessions() as session:
        assert await state(session) == before


async def test_sync_state_keeps_the_delta_link_per_tenant(session: AsyncSession) -> None:
    assert (await load_sync_state(session, T)).delta_link is None
    report = await sync(session, [full_user(1)], full=True)

    await save_sync_state(
        session, tenant_id=T, delta_link="https://graph/delta?token=1", now=NOW, report=report
    )
    await save_sync_state(
        session, tenant_id=T, delta_link="https://graph/delta?token=2", now=LATER, report=SyncReport()
    )

    saved = await load_sync_state(session, T)
    assert saved.delta_link == "https://graph/delta?token=2"
    assert (saved.last_full_sync_at, saved.last_sync_at) == (NOW, LATER)
    assert saved.last_report is not None and saved.last_report["created"] == 0
    assert (await load_sync_state(session, OTHER_TENANT)).delta_link is None


async def test_five_thousand_users_sync_in_reasonable_time(session: AsyncSession, backend: str) -> None:
    def user(n: int) -> DirectoryUser:
        # A tree ten wide: everyone but the root reports to (n - 1) // 10.
        return DirectoryUser(
            id=f"{n:08d}-0000-4000-8000-000000000000",
            display_name=f"Person {n}",
            mail=f"p{n}@contoso.com",
            job_title="Role",
            department=f"Dept {n % 20}",
            manager_id=f"{(n - 1) // 10:08d}-0000-4000-8000-000000000000" if n else None,
        )

    users = [user(n) for n in range(5000)]
    pages = [users[i : i + 999] for i in range(0, len(users), 999)]
    ticks: list[tuple[int, int]] = []

    started = time.perf_counter()
    first = await sync(session, pages, full=True, progress=lambda done, total: ticks.append((done, total)))
    first_took = time.perf_counter() - started
    started = time.perf_counter()
    again = await sync(session, pages, full=True, now=LATER)
    again_took = time.perf_counter() - started

    print(f"\n{backend}: 5,000 users first sync {first_took:.2f}s, unchanged re-sync {again_took:.2f}s")
    assert first.created == 5000 and first.managers_changed == 4999
    assert again.changes == []
    assert ticks[-1] == (5000, 5000)

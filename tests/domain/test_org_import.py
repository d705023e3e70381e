"""CSV org import: every bad row reported by spreadsheet line, nothing half-written, re-runs idempotent."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from domain.errors import Invalid
from domain.org_import import (
    DirectoryEntry,
    ImportRejected,
    ImportResult,
    import_people,
    parse_people_csv,
    validate,
)
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person
from storage.uow import unit_of_work

HEADER = "email,display_name,manager_email,job_title,department,aad_object_id,time_zone,hire_date\n"
AAD_ANA = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
AAD_BEN = "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d"


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """A fresh migrated SQLite file per test."""
    engine = create_engine("sqlite+aiosqlite:///" + str(tmp_path / "trellis.db"))
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def _import(sessions: async_sessionmaker[AsyncSession], text: str, **kwargs: object) -> ImportResult:
    async with unit_of_work(sessions) as session:
        return await import_people(
            session, parse_people_csv(text), tenant_id=kwargs.pop("tenant_id", None), **kwargs
        )


async def _people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Person]:
    async with sessions() as session:
        return {p.email: p for p in (await session.scalars(select(Person))).all()}


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Person)) or 0


async def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import(sessions, HEADER + "boss@x.com,The Boss,,CEO,,,,\n")
    before = await _count(sessions)
    text = HEADER + (
        "ana@x.com,Ana,boss@x.com,,,,,\n"  # 2 good
        ",No Email,boss@x.com,,,,,\n"  # 3
        "not-an-email,Bad Email,,,,,,\n"  # 4
        "cy@x.com,Cy,bob@x.com,,,,,\n"  # 5 unknown manager
        "di@x.com,Di,,,,,Mars/Base,\n"  # 6
        "ed@x.com,Ed,,,,,,2024-13-01\n"  # 7
        "fay@x.com,Fay,,,,,,\n"  # 8 first copy
        "FAY@x.com,Fay Again,,,,,,\n"  # 9 duplicate, differently cased
        "a@x.com,A,b@x.com,,,,,\n"  # 10 cycle
        "b@x.com,B,a@x.com,,,,,\n"  # 11 cycle
        "gus@x.com,Gus,,,,not-a-guid,,\n"  # 12
        f"hal@x.com,Hal,,,,{AAD_ANA},,\n"  # 13 duplicate Entra id
        f"ivy@x.com,Ivy,,,,{AAD_ANA.upper()},,\n"  # 14 duplicate Entra id
        "jo@x.com,,,,,,,\n"  # 15 no display name
    )
    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, text)

    assert isinstance(caught.value, Invalid)
    reasons = {(p.line, p.reason) for p in caught.value.problems}
    assert reasons == {
        (3, "missing email"),
        (4, "invalid email 'not-an-email'"),
        (5, "unknown manager bob@x.com (not in this file or the directory)"),
        (6, "bad time zone 'Mars/Base' (use an IANA name like Europe/London)"),
        (7, "bad hire date '2024-13-01' (use YYYY-MM-DD)"),
        (8, "duplicate email fay@x.com (also on line 9)"),
        (9, "duplicate email FAY@x.com (also on line 8)"),
        (10, "reporting cycle: a@x.com → b@x.com → a@x.com"),
        (11, "reporting cycle: b@x.com → a@x.com → b@x.com"),
        (12, "bad Entra object id 'not-a-guid' (expected a GUID like 1b4e28ba-2fa1-11d2-883f-0016d3cca427)"),
        (13, f"duplicate Entra object id {AAD_ANA} (also on line 14)"),
        (14, f"duplicate Entra object id {AAD_ANA.upper()} (also on line 13)"),
        (15, "missing display name"),
    }
    assert [p.line for p in caught.value.problems] == sorted(p.line for p in caught.value.problems)
    assert "nothing was imported" in caught.value.message
    assert await _count(sessions) == before


async def test_a_good_file_imports_even_when_managers_come_after_their_reports(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = HEADER + (
        f"ana@x.com,Ana Lima,ben@x.com,Engineer,Engineering,{AAD_ANA.upper()},Europe/Berlin,2022-03-01\n"
        "cid@x.com,Cid Moss,Ben@X.com,Engineer,Engineering,,,\n"
        f"Ben@X.com,Ben Ode,,CTO,Engineering,{AAD_BEN},America/New_York,2015-01-05\n"
    )
    result = await _import(sessions, text, tenant_id="tenant-1")

    assert result == ImportResult(created=3, updated=0, unchanged=0)
    people = await _people(sessions)
    assert set(people) == {"ana@x.com", "ben@x.com", "cid@x.com"}  # emails are stored lowercase
    ana, ben, cid = people["ana@x.com"], people["ben@x.com"], people["cid@x.com"]
    assert ana.manager_id == ben.id and cid.manager_id == ben.id and ben.manager_id is None
    assert ana.aad_object_id == AAD_ANA  # lowercased
    assert ana.tenant_id == "tenant-1"
    assert ana.time_zone == "Europe/Berlin" and cid.time_zone == "UTC"
    assert str(ana.hire_date) == "2022-03-01" and cid.hire_date is None
    assert ben.job_title == "CTO" and cid.aad_object_id is None


async def test_importing_the_same_file_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    text = HEADER + (
        f"ana@x.com,Ana,ben@x.com,Engineer,Eng,{AAD_ANA},Europe/Berlin,2022-03-01\n"
        f"ben@x.com,Ben,,CTO,Eng,{AAD_BEN},,\n"
    )
    await _import(sessions, text)
    stamps = {email: p.updated_at for email, p in (await _people(sessions)).items()}

    again = await _import(sessions, text)

    assert again == ImportResult(created=0, updated=0, unchanged=2)
    assert {email: p.updated_at for email, p in (await _people(sessions)).items()} == stamps


async def test_a_changed_manager_and_title_count_as_updates(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import(sessions, HEADER + "ana@x.com,Ana,,,,,,\nben@x.com,Ben,,,,,,\ncid@x.com,Cid,,,,,,\n")

    result = await _import(sessions, HEADER + "ana@x.com,Ana,ben@x.com,,,,,\nben@x.com,Ben,,Boss,,,,\n")

    # Cid is not in the second file: left alone, not counted, not deactivated.
    assert result == ImportResult(created=0, updated=2, unchanged=0)
    people = await _people(sessions)
    assert people["ana@x.com"].manager_id == people["ben@x.com"].id
    assert people["ben@x.com"].job_title == "Boss"
    assert people["cid@x.com"].active


async def test_a_person_is_matched_by_entra_id_first_so_a_new_email_updates_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await _import(sessions, HEADER + f"ana@old.example,Ana,,,,{AAD_ANA},,\n")
    (before,) = (await _people(sessions)).values()

    result = await _import(sessions, HEADER + f"ana@new.example,Ana,,,,{AAD_ANA},,\n")

    assert result == ImportResult(created=0, updated=1, unchanged=0)
    (after,) = (await _people(sessions)).values()
    assert after.id == before.id and after.email == "ana@new.example"


async def test_an_email_taken_by_someone_else_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _import(sessions, HEADER + f"ana@x.com,Ana,,,,{AAD_ANA},,\nben@x.com,Ben,,,,{AAD_BEN},,\n")

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, HEADER + f"ben@x.com,Ana,,,,{AAD_ANA},,\n")

    (problem,) = caught.value.problems
    assert problem.line == 2 and "already belongs to another person" in problem.reason


async def test_two_rows_for_one_stored_person_are_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    await _import(sessions, HEADER + f"ana@x.com,Ana,,,,{AAD_ANA},,\n")

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, HEADER + f"ana@new.example,Ana,,,,{AAD_ANA},,\nANA@x.com,Ana Lima,,,,,,\n")

    assert [(p.line, p.reason) for p in caught.value.problems] == [
        (3, "ANA@x.com is the same person in the directory as line 2 (ana@new.example)")
    ]


async def test_a_cycle_through_a_person_already_in_the_directory_is_caught(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Stored: yan reports to xia. The file makes xia report to zed, and zed to yan (who is not in the file).
    await _import(sessions, HEADER + "xia@x.com,Xia,,,,,,\nyan@x.com,Yan,xia@x.com,,,,,\n")
    before = await _count(sessions)

    with pytest.raises(ImportRejected) as caught:
        await _import(sessions, HEADER + "xia@x.com,Xia,zed@x.com,,,,,\nzed@x.com,Zed,yan@x.com,,,,,\n")

    assert {(p.line, p.reason) for p in caught.value.problems} == {
        (2, "reporting cycle: xia@x.com → zed@x.com → yan@x.com → xia@x.com"),
        (3, "reporting cycle: zed@x.com → yan@x.com → xia@x.com → zed@x.com"),
    }
    assert await _count(sessions) == before


def test_a_person_cannot_be_their_own_manager() -> None:
    rows = parse_people_csv(HEADER + "ana@x.com,Ana,ANA@x.com,,,,,\n")
    assert [(p.line, p.reason) for p in validate(rows)] == [(2, "ana@x.com is listed as their own manager")]


def test_managers_may_already_be_in_the_directory() -> None:
    rows = parse_people_csv(HEADER + "ana@x.com,Ana,Boss@X.com,,,,,\n")
    existing = [DirectoryEntry(id=1, email="boss@x.com")]
    assert validate(rows, existing) == []
    assert [p.line for p in validate(rows, [])] == [2]


def test_a_bom_and_crlf_file_from_excel_parses_with_spreadsheet_line_numbers() -> None:
    data = (
        "\ufeffEmail,Display Name,Manager Email,Job Title,Extra\r\n"
        'ana@x.com,"Lima, Ana",,"Engineer,\r\nPlatform",ignored\r\n'
        "\r\n"
        "ben@x.com,Ben,ana@x.com,,\r\n"
    ).encode()

    rows = parse_people_csv(data)

    assert [(r.line, r.email, r.display_name, r.manager_email) for r in rows] == [
        (2, "ana@x.com", "Lima, Ana", ""),
        (4, "ben@x.com", "Ben", "ana@x.com"),
    ]
    assert rows[0].job_title == "Engineer,\r\nPlatform"
    assert parse_people_csv(io.BytesIO(data)) == rows
    assert parse_people_csv(data.decode("utf-8")) == rows


def test_a_file_without_the_required_columns_is_refused_at_line_1() -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_people_csv("mail,name\nana@x.com,Ana\n")
    (problem,) = caught.value.problems
    assert problem.line == 1 and "missing column email, display_name" in problem.reason


async def test_progress_reaches_the_total_for_a_callable_and_a_tqdm_bar(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    calls: list[tuple[int, int]] = []
    await _import(
        sessions,
        HEADER + "ana@x.com,Ana,,,,,,\nben@x.com,Ben,ana@x.com,,,,,\n",
        progress=lambda *a: calls.append(a),
    )
    assert calls[-1] == (2, 2)

    bar = tqdm(file=io.StringIO())
    await _import(sessions, HEADER + "ana@x.com,Ana,,,,,,\ncid@x.com,Cid,ana@x.com,,,,,\n", progress=bar)
    assert (bar.n, bar.total) == (2, 2)

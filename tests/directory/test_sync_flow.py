"""Directory sync end to end: Graph (stand-in, real wire format) → the people table, person by person."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import GraphUnavailable
from directory.graph import GraphClient
from directory.sync import sync_directory
from storage.models import Person
from tests.support.graph import GraphStandIn

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def company(graph: GraphStandIn) -> dict[str, str]:
    """Eight people over three pages: Ada heads it, Ben and Cy report to her, the rest to Ben or Cy."""
    ids = {
        "ada": graph.add_user(
            displayName="Ada Lovelace",
            mail="Ada@Contoso.example",
            userPrincipalName="ada@contoso.example",
            jobTitle="Chief Executive",
            department="Board",
            officeLocation="London",
            employeeHireDate="2014-03-01T00:00:00Z",
        )
    }
    for name, manager, title in [
        ("ben", "ada", "VP Engineering"),
        ("cy", "ada", "VP Sales"),
        ("dee", "ben", "Engineer"),
        ("eve", "ben", "Engineer"),
        ("fay", "cy", "Account Executive"),
        ("gus", "cy", "Account Executive"),
        ("hal", "cy", "Sales Engineer"),
    ]:
        ids[name] = graph.add_user(
            displayName=name.title(),
            mail=f"{name}@contoso.example",
            jobTitle=title,
            department="Engineering" if manager == "ben" or name == "ben" else "Sales",
            manager_id=ids[manager],
        )
    return ids


async def people(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Person]:
    async with sessions() as session:
        rows = (await session.scalars(select(Person))).all()
    return {p.aad_object_id: p for p in rows}


async def test_first_sync_then_a_delta_with_throttling_leave_every_person_right(
    graph: GraphStandIn, client: GraphClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = company(graph)
    graph.fail_next(1, 429, retry_after=1, path_contains="skiptoken")  # page 2 of 3 is throttled

    first = await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW)

    assert first.created == 8
    stored = await people(sessions)
    by_name = {p.display_name: p for p in stored.values()}
    ada = stored[ids["ada"]]
    assert (ada.display_name, ada.email, ada.job_title, ada.department, ada.office_location) == (
        "Ada Lovelace",
        "ada@contoso.example",
        "Chief Executive",
        "Board",
        "London",
    )
    assert ada.hire_date == date(2014, 3, 1) and ada.manager_id is None and ada.tenant_id == graph.tenant_id
    expected_managers = {
        "Ben": "ada",
        "Cy": "ada",
        "Dee": "ben",
        "Eve": "ben",
        "Fay": "cy",
        "Gus": "cy",
        "Hal": "cy",
    }
    for name, manager in expected_managers.items():
        assert by_name[name].manager_id == stored[ids[manager]].id, name
        assert by_name[name].active, name
    throttled = [r for r in graph.graph_requests if r.status == 429]
    assert len(throttled) == 1, "the throttled page was fetched again, once"

    graph.set_manager(ids["dee"], ids["cy"])  # Dee moves to Sales
    graph.disable_user(ids["eve"])  # Eve leaves
    graph.update_user(ids["fay"], jobTitle="Senior Account Executive")
    graph.fail_next(1, 503, path_contains="deltatoken")  # the delta call fails once, then succeeds

    second = await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW)

    assert (second.created, second.deactivated) == (0, 1)
    after = await people(sessions)
    assert after[ids["dee"]].manager_id == after[ids["cy"]].id
    assert not after[ids["eve"]].active and after[ids["eve"]].deactivated_at == NOW
    assert after[ids["eve"]].manager_id == after[ids["ben"]].id, "history kept: the last manager stays"
    assert after[ids["fay"]].job_title == "Senior Account Executive"
    unchanged = ("ada", "ben", "cy", "gus", "hal")
    for name in unchanged:
        assert (after[ids[name]].manager_id, after[ids[name]].job_title, after[ids[name]].active) == (
            stored[ids[name]].manager_id,
            stored[ids[name]].job_title,
            True,
        ), name
    delta_calls = [r for r in graph.graph_requests if "$deltatoken" in r.query]
    assert delta_calls, "the second sync used the delta link saved by the first"
    assert [r.status for r in delta_calls][:2] == [503, 200], "the failed delta page was fetched again"

    third = await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW)
    assert not third.changes, "nothing changed in the directory, nothing changes here"


async def test_a_dry_run_reports_and_writes_nothing(
    graph: GraphStandIn, client: GraphClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    company(graph)
    report = await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW, dry_run=True)
    assert report.created == 8
    assert await people(sessions) == {}
    real = await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW)
    assert real.created == 8, "a dry run saves no delta link: the next sync is still the full one"


async def test_graph_failing_for_good_writes_nothing(
    graph: GraphStandIn, client: GraphClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    company(graph)
    graph.fail_next(1000, 503, path_contains="skiptoken")
    with pytest.raises(GraphUnavailable, match="Graph"):  # after its retries and resumes
        await sync_directory(sessions, client, tenant_id=graph.tenant_id, now=NOW)
    assert await people(sessions) == {}, "no half-applied sync"

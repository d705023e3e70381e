"""Talent pools on the Succession tab over HTTP: starting a pool, adding people with the picker, taking
them out, who sees whom (a talent reviewer their departments, nobody themselves), refusals and bad input.

The small organization of conftest.py in its own SQLite file; Lee is a talent reviewer for Engineering.
Each test works on pools of its own names, so they hold in any order.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEntry, Person, RoleGrant, TalentPool, TalentPoolMember
from storage.uow import unit_of_work
from tabs.settings import TabSettings

from .conftest import (
    LEAVER,
    PERSONAS,
    TENANT,
    SignIn,
    get_page,
    person_ids,
    persona_clients,
    post_form,
    tab_server,
    world_store,
)
from .conftest import visible_text as _text

NOW = datetime(2026, 5, 4, 9, tzinfo=UTC)
POOLS = "/tabs/talent/succession/pools"
POOL_PERSONAS = {**PERSONAS, "lee": (TENANT, LEAVER)}


@dataclass(frozen=True)
class PoolWorld:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]


@pytest.fixture(scope="module")
async def pool_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[PoolWorld]:
    async with world_store(tmp_path_factory, "pools") as sessions:
        async with unit_of_work(sessions) as db:
            people = await person_ids(db)
            db.add(RoleGrant(person_id=people["lee"], role="talent_reviewer", scope_department="Engineering"))
        async with tab_server(sessions, tab_settings, personas=POOL_PERSONAS, clock=lambda: NOW) as url:
            yield PoolWorld(url, sessions, people)


@pytest.fixture
async def signed_in(pool_world: PoolWorld) -> AsyncIterator[SignIn]:
    async with persona_clients(pool_world.base_url) as sign_in:
        yield sign_in


async def _start(client, name: str, description: str = "") -> int:
    status, _, location = await post_form(
        client, POOLS, {"name": name, "description": description}, csrf_from=POOLS
    )
    assert status == 303, location
    found = re.search(r"#pool-(\d+)$", location)
    assert found and "saved=created" in location, location
    return int(found.group(1))


async def _add(client, pool_id: int, person: str) -> tuple[int, str, str]:
    return await post_form(client, f"{POOLS}/{pool_id}/members", {"person": person}, csrf_from=POOLS)


async def _members(world: PoolWorld, pool_id: int) -> list[str]:
    async with unit_of_work(world.sessions) as db:
        rows = await db.scalars(
            select(Person.display_name)
            .join(TalentPoolMember, TalentPoolMember.person_id == Person.id)
            .where(TalentPoolMember.pool_id == pool_id)
            .order_by(Person.display_name)
        )
        return list(rows.all())


async def _count(world: PoolWorld, model: type) -> int:
    async with unit_of_work(world.sessions) as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def _section(html: str, pool_id: int) -> str:
    start = html.index(f'id="pool-{pool_id}"')
    return html[start : html.index("</section>", start)]


def _error(html: str, error_id: str) -> str:
    found = re.search(rf'id="{error_id}" role="alert">(.*?)</p>', html, re.S)
    assert found, f"no error {error_id} on the page"
    return _text(found.group(1))


async def test_hr_starts_a_pool_adds_people_and_takes_one_out(signed_in, pool_world: PoolWorld) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, "/tabs/talent/succession")
    assert status == 200 and f'href="{POOLS}"' in html, "the board links to the pools"
    pool_id = await _start(megan, "Future engineering leaders", "For <b>staff</b> engineers & up")
    assert (await _add(megan, pool_id, "Adele Vance"))[0] == 303
    alex_email = (await _emails(pool_world))["alex"]
    status, _, location = await _add(megan, pool_id, alex_email.upper())
    assert status == 303 and location.endswith(f"?saved=added#pool-{pool_id}")
    assert await _members(pool_world, pool_id) == ["Adele Vance", "Alex Wilber"]

    status, html = await get_page(megan, POOLS)
    pool = _text(_section(html, pool_id))
    assert "Future engineering leaders (2 people)" in pool
    assert "For <b>staff</b> engineers & up" in pool, "the description is shown as typed, escaped"
    assert "<b>staff</b>" not in _section(html, pool_id)
    assert "Adele Vance Senior Software Engineer · Engineering" in pool and "Alex Wilber" in pool

    remove = f"{POOLS}/{pool_id}/members/{pool_world.people['adele']}/remove"
    status, _, location = await post_form(megan, remove, {}, csrf_from=POOLS)
    assert status == 303 and "saved=removed" in location
    assert await _members(pool_world, pool_id) == ["Alex Wilber"]
    status, html = await get_page(megan, location.split("#")[0])
    assert "Saved: they are out of the pool." in _text(html)

    async with unit_of_work(pool_world.sessions) as db:
        actions = list(
            await db.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.action.like("talent.pools.%"),
                    AuditEntry.actor_id == pool_world.people["megan"],
                )
            )
        )
    assert {"talent.pools.create", "talent.pools.add", "talent.pools.remove", "talent.pools.view"} <= set(
        actions
    )


async def _emails(world: PoolWorld) -> dict[str, str]:
    async with unit_of_work(world.sessions) as db:
        rows = await db.execute(select(Person.id, Person.email))
        by_id = dict(rows.all())
    return {name: by_id[pid] for name, pid in world.people.items()}


async def test_bad_input_is_said_by_its_field_keeps_what_was_typed_and_writes_nothing(
    signed_in, pool_world: PoolWorld
) -> None:
    megan = await signed_in("hr")
    pool_id = await _start(megan, "Future sales leaders")
    assert (await _add(megan, pool_id, "Alex Wilber"))[0] == 303
    pools_before, members_before = (
        await _count(pool_world, TalentPool),
        await _count(pool_world, TalentPoolMember),
    )
    key = f"pool-{pool_id}"

    cases = [
        ("Alex Wilber", "Alex Wilber is already in the pool “Future sales leaders”."),
        ("Nobody Atall", "No one in the directory matches “Nobody Atall”."),
        ("", "Type the person's email address or full name."),
        ("Megan Bowen", "Nobody changes their own talent pool membership"),
    ]
    for typed, message in cases:
        status, html, _ = await _add(megan, pool_id, typed)
        assert status == 400, typed
        assert message in _error(html, f"{key}-person-error")
        assert f'value="{typed}"' in _section(html, pool_id), "what was typed is kept"

    status, html, _ = await post_form(
        megan, POOLS, {"name": "  FUTURE sales LEADERS ", "description": "again"}, csrf_from=POOLS
    )
    assert status == 400
    assert "already exists" in _error(html, "new-pool-name-error")
    assert 'value="  FUTURE sales LEADERS "' in html and ">again</textarea>" in html
    status, html, _ = await post_form(megan, POOLS, {"name": "   "}, csrf_from=POOLS)
    assert status == 400 and _error(html, "new-pool-name-error")

    status, html, _ = await _add(megan, 987654, "Adele Vance")
    assert status == 404 and "That talent pool does not exist." in _text(html)
    remove = f"{POOLS}/{pool_id}/members/{pool_world.people['isaiah']}/remove"
    status, html, _ = await post_form(megan, remove, {}, csrf_from=POOLS)
    assert status == 404 and "is not in the pool" in _text(html)
    assert (await _count(pool_world, TalentPool), await _count(pool_world, TalentPoolMember)) == (
        pools_before,
        members_before,
    )


async def test_a_talent_reviewer_sees_and_changes_their_departments_and_never_themselves(
    signed_in, pool_world: PoolWorld
) -> None:
    megan, lee = await signed_in("hr"), await signed_in("lee")
    pool_id = await _start(megan, "Future architects")
    for person in ("Adele Vance", "Lee Leaving", "Isaiah Langer"):
        assert (await _add(megan, pool_id, person))[0] == 303
    assert (await _add(megan, pool_id, "Megan Bowen"))[0] == 400

    status, html = await get_page(lee, POOLS)
    assert status == 200
    pool = _text(_section(html, pool_id))
    assert "Adele Vance" in pool and "Isaiah Langer" in pool
    assert "Lee Leaving" not in pool, "his own membership is not his to see"
    status, html, _ = await _add(lee, pool_id, "Megan Bowen")
    assert status == 400 and "You don't have access" in _error(html, f"pool-{pool_id}-person-error")
    assert await _members(pool_world, pool_id) == ["Adele Vance", "Isaiah Langer", "Lee Leaving"]


@pytest.mark.parametrize("persona", ["employee", "manager"])
async def test_anyone_else_is_refused_and_changes_nothing(signed_in, pool_world: PoolWorld, persona) -> None:
    megan, other = await signed_in("hr"), await signed_in(persona)
    pool_id = await _start(megan, f"Pool seen by no {persona}")
    assert (await _add(megan, pool_id, "Isaiah Langer"))[0] == 303
    status, html = await get_page(other, POOLS)
    assert status == 403 and f"Pool seen by no {persona}" not in html and "Isaiah" not in html
    for path, form in (
        (POOLS, {"name": f"{persona}'s pool"}),
        (f"{POOLS}/{pool_id}/members", {"person": "Alex Wilber"}),
        (f"{POOLS}/{pool_id}/members/{pool_world.people['isaiah']}/remove", {}),
    ):
        status, _, _ = await post_form(other, path, form, csrf_from="/tabs/home")
        assert status == 403, path
    assert await _members(pool_world, pool_id) == ["Isaiah Langer"]

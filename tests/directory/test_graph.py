"""The Graph client against a local Graph stand-in: delta paging, faults, app installation, rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

import aiohttp
import pytest

from directory.errors import DeltaExpired, GraphUnavailable, InstallFailed
from directory.graph import GraphClient, GraphPage, RateLimiter, to_directory_user
from directory.tokens import TokenSource
from domain.org_sync import DirectoryUser
from tests.support.graph import DEFAULT_TEAMS_APP_ID, GraphStandIn

ALL_FIELDS = frozenset(
    {
        "display_name",
        "mail",
        "user_principal_name",
        "job_title",
        "department",
        "office_location",
        "hire_date",
        "enabled",
        "manager_id",
    }
)


def org(graph: GraphStandIn) -> dict[str, str]:
    """Eight people: Ada heads the org; Ben and Cy report to her; the rest report to Ben or Cy."""
    ids: dict[str, str] = {}
    ids["ada"] = graph.add_user(
        displayName="Ada Lovelace",
        mail="ada@contoso.example",
        userPrincipalName="ada@contoso.example",
        jobTitle="CEO",
        department="Board",
        officeLocation="London",
        employeeHireDate="2014-03-01T00:00:00Z",
    )
    for name, manager in [("ben", "ada"), ("cy", "ada"), ("dee", "ben"), ("eve", "ben"), ("fay", "cy")]:
        ids[name] = graph.add_user(displayName=name.title(), manager_id=ids[manager])
    for name in ("gus", "hal"):
        ids[name] = graph.add_user(displayName=name.title(), manager_id=ids["cy"])
    return ids


async def collect(pages: AsyncIterator[GraphPage]) -> list[GraphPage]:
    return [page async for page in pages]


async def test_first_listing_pages_through_everyone_and_ends_with_a_delta_link(
    graph: GraphStandIn, client: GraphClient
) -> None:
    ids = org(graph)
    pages = await collect(client.users())

    assert [len(p.users) for p in pages] == [3, 3, 2]
    assert [p.next_link is not None for p in pages] == [True, True, False]
    assert [p.delta_link is not None for p in pages] == [False, False, True]
    assert all(p.full_listing for p in pages)
    users = {u.id: u for p in pages for u in p.users}
    assert len(users) == 8 == sum(len(p.users) for p in pages)
    name = {v: k for k, v in ids.items()}
    managers = {name[u.id]: name.get(u.manager_id) for u in users.values()}
    assert managers == {
        "ada": None,
        "ben": "ada",
        "cy": "ada",
        "dee": "ben",
        "eve": "ben",
        "fay": "cy",
        "gus": "cy",
        "hal": "cy",
    }
    ada = users[ids["ada"]]
    assert ada == DirectoryUser(
        id=ids["ada"],
        display_name="Ada Lovelace",
        mail="ada@contoso.example",
        user_principal_name="ada@contoso.example",
        job_title="CEO",
        department="Board",
        office_location="London",
        hire_date=date(2014, 3, 1),
        enabled=True,
        manager_id=None,
        fields=ALL_FIELDS,
    )
    first = graph.graph_requests[0]
    assert first.path == "/v1.0/users/delta"
    assert "manager" in first.query["$select"].split(",")
    assert all(r.authorization and r.authorization.startswith("Bearer app-") for r in graph.graph_requests)
    assert len(graph.token_requests) == 1


async def test_delta_after_changes_yields_exactly_those_changes(
    graph: GraphStandIn, client: GraphClient
) -> None:
    ids = org(graph)
    pages = await collect(client.users())
    delta_link = pages[-1].delta_link
    assert delta_link is not None

    graph.set_manager(ids["dee"], ids["cy"])
    graph.disable_user(ids["eve"])
    graph.delete_user(ids["hal"])
    graph.set_manager(ids["gus"], None)

    changes = await collect(client.users(delta_link=delta_link))
    assert changes[-1].delta_link is not None and changes[-1].delta_link != delta_link
    assert not any(p.full_listing for p in changes)
    got = {u.id: u for p in changes for u in p.users}
    assert got == {
        ids["dee"]: DirectoryUser(id=ids["dee"], manager_id=ids["cy"], fields=frozenset({"manager_id"})),
        ids["eve"]: DirectoryUser(id=ids["eve"], enabled=False, fields=frozenset({"enabled"})),
        ids["hal"]: DirectoryUser(id=ids["hal"], removed=True),
        ids["gus"]: DirectoryUser(id=ids["gus"], manager_id=None, fields=frozenset({"manager_id"})),
    }

    # Nothing changed since: the next delta is empty.
    quiet = await collect(client.users(delta_link=changes[-1].delta_link))
    assert [u for p in quiet for u in p.users] == []


async def test_a_429_on_page_two_is_honoured_and_nothing_is_lost_or_repeated(
    graph: GraphStandIn, client: GraphClient
) -> None:
    graph.generate(8)
    graph.fail_next(1, 429, retry_after=1, path_contains="$skiptoken")

    started = time.monotonic()
    pages = await collect(client.users())
    elapsed = time.monotonic() - started

    ids = [u.id for p in pages for u in p.users]
    assert len(ids) == len(set(ids)) == 8
    assert elapsed >= 1.0
    statuses = [(r.status, r.query.get("$skiptoken")) for r in graph.graph_requests]
    assert [s for s, _ in statuses] == [200, 429, 200, 200]
    assert statuses[1][1] == statuses[2][1]  # the same page, asked again


async def test_5xx_beyond_retries_raises_with_a_resume_link_and_resuming_completes(
    graph: GraphStandIn,
) -> None:
    graph.generate(8)
    settings = graph.settings()
    async with aiohttp.ClientSession() as http:
        client = GraphClient(
            settings,
            TokenSource(settings, verify=graph.ca_file),
            http=http,
            max_attempts=3,
            backoff_base=0.01,
        )
        graph.fail_next(3, 503, path_contains="$skiptoken")
        seen: list[str] = []
        with pytest.raises(GraphUnavailable) as raised:
            async for page in client.users():
                seen.extend(u.id for u in page.users)
                first_next = page.next_link
        assert len(seen) == 3
        assert raised.value.resume_link == first_next
        assert raised.value.full_listing is True
        assert raised.value.status == 503

        pages = await collect(
            client.users(resume_link=raised.value.resume_link, full_listing=raised.value.full_listing)
        )
        seen.extend(u.id for p in pages for u in p.users)
        assert len(seen) == len(set(seen)) == 8
        assert pages[-1].delta_link is not None
        assert all(u.fields == ALL_FIELDS for p in pages for u in p.users)


async def test_an_expired_token_is_refreshed_once(graph: GraphStandIn, client: GraphClient) -> None:
    graph.generate(8)
    pages = client.users()
    first = await anext(pages)
    graph.expire_tokens()
    rest = [p async for p in pages]
    assert len(first.users) + sum(len(p.users) for p in rest) == 8
    assert len(graph.token_requests) == 2
    assert [r.status for r in graph.graph_requests] == [200, 401, 200, 200]


async def test_an_unknown_delta_token_means_resync(graph: GraphStandIn, client: GraphClient) -> None:
    with pytest.raises(DeltaExpired):
        await collect(client.users(delta_link=f"{graph.graph_base_url}/users/delta?$deltatoken=djk5OTk5"))


async def test_the_token_never_goes_to_another_host(client: GraphClient) -> None:
    with pytest.raises(ValueError, match="refusing to send the Graph token"):
        await collect(client.users(resume_link="https://attacker.example/v1.0/users/delta?$skiptoken=x"))


def test_mapping_of_delta_entries() -> None:
    removed_manager = to_directory_user(
        {"id": "u1", "manager@delta": [{"id": "m1", "@removed": {"reason": "deleted"}}]}
    )
    assert removed_manager.manager_id is None and removed_manager.fields == {"manager_id"}
    expanded = to_directory_user({"id": "u2", "manager": {"id": "m2"}, "employeeHireDate": None})
    assert expanded.manager_id == "m2" and expanded.hire_date is None
    assert expanded.fields == {"manager_id", "hire_date"}
    no_enabled = to_directory_user({"id": "u3", "displayName": "X"})
    assert no_enabled.enabled is True and "enabled" not in no_enabled.fields
    deleted = to_directory_user({"id": "u4", "@removed": {"reason": "changed"}})
    assert deleted.removed and deleted.fields == frozenset()


# -- app installation ------------------------------------------------------------------------------------


async def test_install_posts_the_catalog_binding_and_treats_409_as_installed(
    graph: GraphStandIn, client: GraphClient
) -> None:
    user = graph.add_user(displayName="Ada")
    await client.install_app(user, DEFAULT_TEAMS_APP_ID)
    await client.install_app(user, DEFAULT_TEAMS_APP_ID)  # already installed: 409, not an error

    posts = [r for r in graph.graph_requests if r.method == "POST"]
    assert [r.status for r in posts] == [201, 409]
    assert posts[0].path == f"/v1.0/users/{user}/teamwork/installedApps"
    assert posts[0].body == {
        "teamsApp@odata.bind": f"{graph.graph_base_url}/appCatalogs/teamsApps/{DEFAULT_TEAMS_APP_ID}"
    }
    assert [i.user_id for i in graph.installs] == [user]


async def test_install_retries_after_429_and_reports_refusals(
    graph: GraphStandIn, client: GraphClient
) -> None:
    user = graph.add_user(displayName="Ada")
    graph.fail_next(1, 429, retry_after=0.05, path_contains="installedApps")
    await client.install_app(user)  # the app id from settings
    assert [i.user_id for i in graph.installs] == [user]

    with pytest.raises(InstallFailed) as not_found:
        await client.install_app("00000000-0000-4000-8000-000000000404")
    assert not_found.value.status == 404 and "TEAMS_APP_CATALOG_ID" in not_found.value.reason

    graph.fail_next(1, 403, path_contains="installedApps")
    with pytest.raises(InstallFailed) as forbidden:
        await client.install_app(graph.add_user(displayName="Ben"))
    assert forbidden.value.status == 403
    assert "TeamsAppInstallation" in forbidden.value.reason


async def test_install_callback_lets_a_test_play_teams(graph: GraphStandIn, client: GraphClient) -> None:
    events: list[tuple[str, str]] = []

    async def installed(user_id: str, app_id: str) -> None:
        await asyncio.sleep(0)
        events.append((user_id, app_id))

    graph.on_install = installed
    user = graph.add_user(displayName="Ada")
    await client.install_app(user)
    await graph.settle()
    assert events == [(user, DEFAULT_TEAMS_APP_ID)]


async def test_installs_never_exceed_30_per_second(graph: GraphStandIn, client: GraphClient) -> None:
    users = graph.generate(45)
    started = time.monotonic()
    await asyncio.gather(*(client.install_app(u) for u in users))
    assert time.monotonic() - started >= 1.0
    stamps = sorted(i.at for i in graph.installs)
    assert len(stamps) == 45
    # Arrival times at the stand-in carry the event loop's scheduling delays: in a long test session the
    # first requests of a window can land late, next to the first of the following one. The client
    # paces over 1.1 s; checking 0.8 s windows at the server keeps the test honest (a limiter that lets
    # all 45 through at once still fails it) without failing on a busy loop.
    assert max(sum(1 for t in stamps if s <= t < s + 0.8) for s in stamps) <= 30


async def test_rate_limiter_with_a_fake_clock() -> None:
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(30, clock=lambda: now[0], sleep=sleep)
    stamps = []
    for _ in range(100):
        await limiter.acquire()
        stamps.append(now[0])
    assert max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps) == 30
    assert stamps[-1] == pytest.approx(3.0)


async def test_network_failure_on_the_first_page_resumes_from_the_start(graph: GraphStandIn) -> None:
    graph.generate(4)
    settings = graph.settings(graph_base_url="http://127.0.0.1:9/v1.0")  # nothing listens there
    tokens = TokenSource(settings, verify=graph.ca_file)
    async with aiohttp.ClientSession() as http:
        client = GraphClient(settings, tokens, http=http, max_attempts=2, backoff_base=0.01)
        with pytest.raises(GraphUnavailable) as raised:
            await collect(client.users())
    assert raised.value.resume_link == client.first_users_link
    assert raised.value.full_listing is True

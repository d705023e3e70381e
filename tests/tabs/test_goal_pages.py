"""The goal tabs over HTTP: My goals, Team goals, Alignment, and the inline key-result update.

People sign in through the developer persona picker and read real pages from a real server; the goals
are the ones described in goal_world.py, set through the goal services.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
from sqlalchemy import event, select

from domain.access import load_actor
from domain.errors import NotFound
from domain.performance import alignment, goals
from storage.models import KeyResultUpdate

from .conftest import browser_like_jar, csrf_field, dev_sign_in
from .goal_world import NOW, TODAY, GoalWorld, goal_database, goal_world

__all__ = ["goal_world"]


def _text(html: str) -> str:
    """Visible text, roughly: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def _get(client: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with client.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


@pytest.fixture
async def signed_in(goal_world: GoalWorld) -> AsyncIterator:
    """Sign in as a persona: `client = await signed_in("manager")`."""
    clients: list[aiohttp.ClientSession] = []

    async def sign_in(persona: str) -> aiohttp.ClientSession:
        base = goal_world.base_url
        client = aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base))
        clients.append(client)
        await dev_sign_in(client, persona)
        return client

    yield sign_in
    for client in clients:
        await client.close()


def _section(html: str, element_id: str) -> str:
    """The markup from the element with this id to the end of its list item (enough to read one goal)."""
    start = html.index(f'id="{element_id}"')
    end = html.find("</li>", start)
    return html[start:end]


def _form(html: str, kr_id: int) -> dict[str, str]:
    """The hidden fields of a key result's inline update form."""
    form = re.search(rf'action="/tabs/goals/key-results/{kr_id}[^"]*".*?</form>', html, re.S)
    assert form, f"no update form for key result {kr_id}"
    fields = dict(re.findall(r'name="(csrf_token|version)" value="([^"]*)"', form.group(0)))
    return fields


def _valuenow(html: str, labelled_by: str) -> int:
    match = re.search(rf'aria-valuenow="(\d+)"[^>]*aria-labelledby="{labelled_by}"', html)
    assert match, f"no progress bar labelled by {labelled_by}"
    return int(match.group(1))


# --- My goals ------------------------------------------------------------------------------------------


async def test_my_goals_shows_the_persons_goals_with_progress_status_and_history(
    signed_in, goal_world
) -> None:
    client = await signed_in("employee")
    status, html = await _get(client, "/tabs/goals")
    assert status == 200
    text = _text(html)
    for title in ("Finish the API", "Document the endpoints", "Speak at a meetup"):
        assert title in text
    for other in ("Fix flaky tests", "Migrate the build", "Secret QA plan", "Learn Rust"):
        assert other not in text
    api = goal_world.goal["api"]
    # Endpoints 12/20 = 60 %, Docs no = 0 %, the aligned sub-goal 1/5 = 20 %: (60 + 0 + 20) / 3.
    assert _valuenow(html, f"goal-{api}-title") == 26
    assert _valuenow(html, f"kr-{goal_world.kr['endpoints']}-title") == 60
    assert "On track" in _text(_section(html, f"goal-{api}"))
    assert "Behind" in _text(_section(html, f"goal-{goal_world.goal['api_docs']}"))
    # The sub-goal is nested under its parent, with its own heading level.
    assert re.search(rf'<h3 class="goal__title" id="goal-{goal_world.goal["api_docs"]}-title"', html)
    endpoints = _section(html, f"kr-{goal_world.kr['endpoints']}")
    assert "12" in _text(endpoints) and "target 20" in _text(endpoints)
    assert '<svg class="spark"' in endpoints and "2 updates: from 8 to 12" in _text(endpoints)
    assert "Carries 20 % of Ship platform v2" in text  # weight 1 of 1 + 1 + 1 + 1 + 1 (Epics done, 4 goals)
    assert "No updates yet" in _text(_section(html, f"kr-{goal_world.kr['talks_given']}"))


async def test_a_yes_no_key_result_is_a_choice_and_a_milestone_counts_steps(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    _, html = await _get(client, "/tabs/goals")
    docs = _section(html, f"kr-{goal_world.kr['docs_published']}")
    assert "<select" in docs and ">Yes</option>" in docs
    assert "No target Yes" in _text(docs)
    isaiah = await signed_in("isaiah")
    _, html = await _get(isaiah, "/tabs/goals")
    chapters = _text(_section(html, f"kr-{goal_world.kr['chapters']}"))
    assert "1 of 4 steps" in chapters and "target 4 steps" in chapters
    field = rf'id="kr-{goal_world.kr["chapters"]}-new" name="value" type="number" required\s+'
    assert re.search(field + 'step="1" min="0" max="4"', html), "whole steps up to the target"


async def test_someone_without_goals_is_told_where_to_go(signed_in) -> None:
    client = await signed_in("hr")  # Megan set the company's and a team's goals, none of her own
    status, html = await _get(client, "/tabs/goals")
    assert status == 200
    assert "You have no goals yet." in _text(html)
    assert 'href="/tabs/alignment"' in html


async def test_the_navigation_links_the_goal_tabs(signed_in) -> None:
    employee, manager = await signed_in("employee"), await signed_in("manager")
    _, html = await _get(employee, "/tabs/goals")
    nav = html[html.index('class="container site-nav"') : html.index("</nav>")]
    assert 'href="/tabs/home"' in nav and 'href="/tabs/alignment"' in nav
    assert 'href="/tabs/goals" aria-current="page"' in nav
    assert "/tabs/team-goals" not in nav, "employees have no team"
    _, html = await _get(manager, "/tabs/home")
    assert 'href="/tabs/team-goals"' in html and 'href="/tabs/home" aria-current="page"' in html


# --- Team goals ---------------------------------------------------------------------------------------


async def test_team_goals_show_a_managers_line_and_nobody_elses_private_goals(signed_in) -> None:
    client = await signed_in("manager")
    status, html = await _get(client, "/tabs/team-goals")
    assert status == 200
    text = _text(html)
    for seen in ("Adele Vance", "Isaiah Langer", "Finish the API", "Speak at a meetup", "Fix flaky tests"):
        assert seen in text, seen
    # Lee is in Engineering but reports to Patti; the QA tester reports to HR: neither is Alex's line.
    for unseen in ("Lee Leaving", "Migrate the build", "Secret QA plan", "Reorganise engineering"):
        assert unseen not in text, unseen
    assert "2 people" in text
    assert "At risk (1)" in text and "Behind (1)" in text and "On track (3)" in text


async def test_team_goals_filter_by_status(signed_in) -> None:
    client = await signed_in("manager")
    status, html = await _get(client, "/tabs/team-goals?status=at_risk")
    assert status == 200
    text = _text(html)
    assert "Fix flaky tests" in text and "Isaiah Langer" in text
    assert "Finish the API" not in text and "Adele Vance" not in text, "people without such goals drop out"
    assert 'href="/tabs/team-goals?status=at_risk&amp;scope=line" aria-current="true"' in html
    status, html = await _get(client, "/tabs/team-goals?status=behind")
    assert "Document the endpoints" in _text(html) and "Fix flaky tests" not in _text(html)
    status, html = await _get(client, "/tabs/team-goals?status=splendid")
    assert status == 400 and "“splendid” is not a goal status." in htmllib.unescape(html)


async def test_team_goals_are_for_managers(signed_in) -> None:
    client = await signed_in("employee")
    status, html = await _get(client, "/tabs/team-goals")
    assert status == 403
    text = _text(html)
    assert "Team goals are for managers" in text and "No one reports to you" in text
    assert "Fix flaky tests" not in text
    status, _ = await _get(client, "/tabs/team-goals?scope=organization")
    assert status == 403


async def test_hr_sees_their_line_or_the_whole_organization(signed_in) -> None:
    client = await signed_in("hr")
    _, html = await _get(client, "/tabs/team-goals")
    text = _text(html)
    assert "Secret QA plan <b>x</b>" in text and "Isaiah Langer" not in text, "Megan's line: the QA tester"
    assert 'href="/tabs/team-goals?scope=organization"' in html
    _, html = await _get(client, "/tabs/team-goals?scope=organization")
    text = _text(html)
    for seen in ("Fix flaky tests", "Migrate the build", "Reorganise engineering", "Secret QA plan"):
        assert seen in text, seen
    manager = await signed_in("manager")
    status, _ = await _get(manager, "/tabs/team-goals?scope=organization")
    assert status == 403


# --- Alignment ----------------------------------------------------------------------------------------


async def test_alignment_shows_company_then_team_goals_with_their_share(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    status, html = await _get(client, "/tabs/alignment")
    assert status == 200
    text = _text(html)
    assert text.index("Grow the business") < text.index("Ship platform v2") < text.index("Raise quality")
    # Grow the business is Revenue (1) + Ship (2) + Quality (1) + Hiring (1): Ship carries 2/5.
    assert "Team goal · Engineering · carries 40 % of the goal above" in text
    assert "carries 20 % of the goal above" in text
    assert "Hire well" not in text, "a private People team goal"
    company, ship = goal_world.goal["company"], goal_world.goal["ship"]
    assert _valuenow(html, f"goal-{company}-title") == _printed_percent(html, company)
    # Individual goals are a third level: collapsed, counted, and only those Adele may see.
    node = _section(html, f"goal-{ship}")
    assert f'data-expand="/tabs/alignment/nodes/{ship}"' in node
    assert "2 aligned goals" in _text(node)  # her API and Lee's build; not Isaiah's or the tester's
    assert "Finish the API" not in text, "collapsed beyond two levels"
    assert f'href="/tabs/alignment?root={ship}"' in node, "without JavaScript, a link opens the node"


def _printed_percent(html: str, goal_id: int) -> int:
    """The percentage printed next to a goal's bar (the bar's aria-valuenow must agree with it)."""
    return int(re.search(r'class="progress__value">(\d+) %', _section(html, f"goal-{goal_id}")).group(1))


@pytest.mark.parametrize(("persona", "count"), [("employee", 2), ("manager", 3), ("hr", 4)])
async def test_each_person_counts_only_the_goals_they_may_see(signed_in, goal_world, persona, count) -> None:
    client = await signed_in(persona)
    _, html = await _get(client, "/tabs/alignment")
    assert f"{count} aligned goals" in _text(_section(html, f"goal-{goal_world.goal['ship']}"))


async def test_expanding_a_node_returns_its_aligned_goals_as_a_fragment(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    ship = goal_world.goal["ship"]
    async with client.get(f"/tabs/alignment/nodes/{ship}") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        assert "frame-ancestors https://teams.microsoft.com" in response.headers["Content-Security-Policy"]
        fragment = await response.text()
    assert "<html" not in fragment and "<body" not in fragment
    text = _text(fragment)
    assert "Finish the API" in text and "Migrate the build" in text
    assert "Fix flaky tests" not in text and "Secret QA plan" not in text
    # Epics done and four aligned goals, two of which she may not see: they still count.
    assert "Adele Vance · carries 20 % of the goal above" in text
    # The next level is collapsed again, with its own expand link.
    api = _section(fragment, f"goal-{goal_world.goal['api']}")
    assert f'data-expand="/tabs/alignment/nodes/{goal_world.goal["api"]}"' in api
    assert "1 aligned goal" in _text(api)
    manager = await signed_in("manager")
    _, fragment = await _get(manager, f"/tabs/alignment/nodes/{ship}")
    assert "Fix flaky tests" in _text(fragment) and "Secret QA plan" not in _text(fragment)


async def test_a_goal_one_may_not_see_cannot_be_expanded(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    for goal in ("flaky", "hiring", "reorg"):
        status, _ = await _get(client, f"/tabs/alignment/nodes/{goal_world.goal[goal]}")
        assert status == 404, goal
        status, html = await _get(client, f"/tabs/alignment?root={goal_world.goal[goal]}")
        assert status == 404 and "That goal does not exist." in html
    for bad in ("x", "99999999", "-1"):
        status, _ = await _get(client, f"/tabs/alignment/nodes/{bad}")
        assert status == 404


async def test_without_javascript_a_node_opens_on_its_own_page(signed_in, goal_world) -> None:
    client = await signed_in("manager")
    status, html = await _get(client, f"/tabs/alignment?root={goal_world.goal['ship']}")
    assert status == 200
    text = _text(html)
    assert "Back to all company and team goals" in text
    assert "Ship platform v2" in text and "Fix flaky tests" in text and "Finish the API" in text
    assert "Grow the business" not in text


async def test_pages_of_aligned_goals(signed_in, goal_world) -> None:
    view = await _alignment(goal_world, "hr", root_id=goal_world.goal["ship"], limit=2)
    (ship,) = view.roots
    # By owner: the QA tester's name starts with "<", then Adele, Isaiah, Lee.
    assert [c.title for c in ship.children] == ["Secret QA plan <b>x</b>", "Finish the API"]
    assert ship.more == 2
    view = await _alignment(goal_world, "hr", root_id=goal_world.goal["ship"], limit=2, offset=2)
    assert [c.title for c in view.roots[0].children] == ["Fix flaky tests", "Migrate the build"]
    assert view.roots[0].more == 0


async def _alignment(goal_world: GoalWorld, who: str, **options) -> alignment.AlignmentView:
    persona = {"hr": "megan", "employee": "adele", "manager": "alex"}.get(who, who)
    actor = await goal_world.actor(persona)
    async with goal_world.sessions() as session:
        return await alignment.alignment(session, actor=actor, today=TODAY, **options)


# --- the inline update ---------------------------------------------------------------------------------


async def test_updating_a_key_result_inline_saves_it_and_shows_the_new_value(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    kr = goal_world.kr["talks_given"]
    _, html = await _get(client, "/tabs/goals")
    before = await goal_world.updates("talks_given")
    fields = _form(html, kr)
    async with client.post(
        f"/tabs/goals/key-results/{kr}",
        data={**fields, "value": "2", "comment": "Spoke at PyCon"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.headers["Location"] == f"/tabs/goals?updated={kr}#kr-{kr}"
    assert await goal_world.value("talks_given") == 2
    assert await goal_world.updates("talks_given") == before + 1
    _, html = await _get(client, f"/tabs/goals?updated={kr}")
    section = _section(html, f"kr-{kr}")
    assert "Saved: “Talks given” is now 2." in htmllib.unescape(section)
    assert _valuenow(html, f"kr-{kr}-title") == 66
    assert _form(html, kr)["version"] == str(int(fields["version"]) + 1)


async def test_a_stale_form_shows_the_latest_value_and_writes_nothing(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    kr = goal_world.kr["talks_given"]
    _, html = await _get(client, "/tabs/goals")
    fields = _form(html, kr)
    # Meanwhile her manager updates the same key result (from the bot, say).
    async with goal_world.sessions() as session:
        await goals.update_key_result(
            session,
            actor=await goal_world.actor("alex"),
            key_result_id=kr,
            value=3,
            expected_version=int(fields["version"]),
            now=NOW,
        )
        await session.commit()
    before = await goal_world.updates("talks_given")
    async with client.post(f"/tabs/goals/key-results/{kr}", data={**fields, "value": "1"}) as response:
        assert response.status == 409
        page = await response.text()
    section = htmllib.unescape(_section(page, f"kr-{kr}"))
    assert "“Talks given” was updated meanwhile (it is now 3): check it and try again." in section
    assert 'role="alert"' in section and 'value="3"' in section
    assert _form(page, kr)["version"] == str(int(fields["version"]) + 1), "trying again from here works"
    assert await goal_world.value("talks_given") == 3
    assert await goal_world.updates("talks_given") == before


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "The value must be a number (got “lots”)."),
        ("", "The value must be a number (got “”)."),
        ("nan", "The value must be a finite number."),
        ("1e999", "The value must be a finite number."),
    ],
)
async def test_a_value_that_is_not_a_number_is_refused(signed_in, goal_world, value, message) -> None:
    client = await signed_in("employee")
    kr = goal_world.kr["talks_given"]
    _, html = await _get(client, "/tabs/goals")
    before, current = await goal_world.updates("talks_given"), await goal_world.value("talks_given")
    async with client.post(f"/tabs/goals/key-results/{kr}", data={**_form(html, kr), "value": value}) as r:
        assert r.status == 400
        page = await r.text()
    section = htmllib.unescape(_section(page, f"kr-{kr}"))
    assert message in section and 'aria-invalid="true"' in section
    assert await goal_world.updates("talks_given") == before
    assert await goal_world.value("talks_given") == current


async def test_a_yes_no_key_result_refuses_other_values(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    kr = goal_world.kr["docs_published"]
    _, html = await _get(client, "/tabs/goals")
    async with client.post(f"/tabs/goals/key-results/{kr}", data={**_form(html, kr), "value": "5"}) as r:
        assert r.status == 400
        assert "A yes/no key result is 1 (yes) or 0 (no), not 5." in htmllib.unescape(await r.text())
    assert await goal_world.updates("docs_published") == 0


async def test_someone_elses_key_result_is_refused(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    _, html = await _get(client, "/tabs/goals")
    fields = _form(html, goal_world.kr["talks_given"])  # a valid token and version, another id
    for kr, status in (("tests_fixed", 403), ("jobs_moved", 403)):
        async with client.post(
            f"/tabs/goals/key-results/{goal_world.kr[kr]}", data={**fields, "value": "1"}
        ) as response:
            assert response.status == status
            page = htmllib.unescape(await response.text())
        assert "You can't change this goal" in page and 'role="alert"' in page
        assert await goal_world.updates(kr) == 0
    for missing in ("999999", "abc"):
        async with client.post(f"/tabs/goals/key-results/{missing}", data={**fields, "value": "1"}) as r:
            assert r.status == 404
            assert "That key result does not exist." in htmllib.unescape(await r.text())


async def test_a_manager_may_update_a_reports_key_result_through_the_same_form(signed_in, goal_world) -> None:
    """Alex's form posts go through the same service: his line's key results are his to update."""
    client = await signed_in("manager")
    _, html = await _get(client, "/tabs/home")
    token = csrf_field(html)
    kr = goal_world.kr["tests_fixed"]
    async with goal_world.sessions() as session:
        version = (
            (
                await goals.get_goal(
                    session,
                    actor=await goal_world.actor("alex"),
                    goal_id=goal_world.goal["flaky"],
                    today=TODAY,
                )
            )
            .key_results[0]
            .version
        )
    data = {"csrf_token": token, "version": str(version), "value": "2"}
    async with client.post(f"/tabs/goals/key-results/{kr}", data=data, allow_redirects=False) as response:
        assert response.status == 303
    assert await goal_world.value("tests_fixed") == 2


async def test_an_update_without_the_csrf_token_is_refused(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    kr = goal_world.kr["talks_given"]
    _, html = await _get(client, "/tabs/goals")
    fields = _form(html, kr)
    before = await goal_world.updates("talks_given")
    for data in (
        {"version": fields["version"], "value": "1"},
        {**fields, "csrf_token": "forged", "value": "1"},
    ):
        async with client.post(f"/tabs/goals/key-results/{kr}", data=data, allow_redirects=False) as r:
            assert r.status == 403
            assert "This form has expired" in await r.text()
    assert await goal_world.updates("talks_given") == before


async def test_an_update_without_a_session_goes_to_sign_in(goal_world) -> None:
    async with (
        aiohttp.ClientSession(goal_world.base_url) as client,
        client.post(
            f"/tabs/goals/key-results/{goal_world.kr['talks_given']}",
            data={"value": "1"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"].startswith("/tabs/signin?next=")


# --- every page ------------------------------------------------------------------------------------------


async def test_goal_pages_use_no_inline_script_or_style_and_escape_titles(signed_in, goal_world) -> None:
    client = await signed_in("hr")
    pages = []
    ship = goal_world.goal["ship"]
    for path in (
        "/tabs/goals",
        "/tabs/team-goals",
        "/tabs/team-goals?scope=organization",
        "/tabs/alignment",
        f"/tabs/alignment?root={ship}",
        f"/tabs/alignment/nodes/{ship}",
    ):
        status, html = await _get(client, path)
        assert status == 200, path
        pages.append(html)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son\w+=", html)
    for html in pages[1:3] + pages[4:]:
        assert "<b>x</b>" not in html and "Secret QA plan &lt;b&gt;x&lt;/b&gt;" in html


async def test_every_link_on_the_goal_pages_resolves(signed_in, goal_world) -> None:
    client = await signed_in("manager")
    seen: set[str] = set()
    for path in (
        "/tabs/goals",
        "/tabs/team-goals",
        "/tabs/alignment",
        f"/tabs/alignment/nodes/{goal_world.goal['ship']}",
    ):
        _, html = await _get(client, path)
        seen.update(re.findall(r'(?:href|src)="(/[^"#]*)', html))
    assert "/tabs/static/goals.js" in seen
    for link in sorted(seen):
        status, _ = await _get(client, htmllib.unescape(link))
        assert status == 200, link


async def test_pages_need_a_session(goal_world) -> None:
    async with aiohttp.ClientSession(goal_world.base_url) as client:
        for path in ("/tabs/goals", "/tabs/team-goals", "/tabs/alignment"):
            status, _ = await _get(client, path)
            assert status == 302, path
        status, _ = await _get(client, f"/tabs/alignment/nodes/{goal_world.goal['ship']}")
        assert status == 401


# --- the read models, against the rules and at scale --------------------------------------------------------


@pytest.mark.parametrize("persona", ["megan", "alex", "adele", "isaiah", "lee", "patti", "tester"])
async def test_the_alignment_tree_sees_exactly_what_the_goal_service_lets_one_see(
    goal_world, persona
) -> None:
    """Visibility in alignment.py (the line walked down in SQL) agrees with goals.get_goal (relations_to)."""
    actor = await goal_world.actor(persona)
    async with goal_world.sessions() as session:
        for name, goal_id in goal_world.goal.items():
            try:
                await goals.get_goal(session, actor=actor, goal_id=goal_id, today=TODAY)
                expected = True
            except NotFound:
                expected = False
            try:
                await alignment.alignment(session, actor=actor, today=TODAY, root_id=goal_id)
                seen = True
            except NotFound:
                seen = False
            assert seen == expected, (persona, name)


async def test_query_counts_do_not_grow_with_the_goals_shown(tmp_path, goal_world) -> None:
    sessions, (goal, _kr, people), engine = await goal_database(tmp_path / "counted.db")
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_args) -> None:
        statements[0] += 1

    async def counted() -> list[int]:
        counts = []
        async with sessions() as session:
            actor = await load_actor(session, people["alex"])
            for call in (
                alignment.alignment(session, actor=actor, today=TODAY),
                alignment.alignment(session, actor=actor, today=TODAY, root_id=goal["ship"]),
                alignment.team_goals(session, actor=actor, today=TODAY),
                alignment.key_result_history(session, actor=actor, key_result_ids=range(1, 40)),
            ):
                statements[0] = 0
                await call
                counts.append(statements[0])
        return counts

    before = await counted()
    adele = people["adele"]
    async with sessions() as session:
        actor = await load_actor(session, adele)
        for n in range(15):
            await goals.create_goal(
                session,
                actor=actor,
                title=f"Extra {n}",
                period=f"{TODAY.year}",
                now=NOW,
                parent_id=goal["ship"] if n % 2 else goal["api"],
                key_results=[goals.KeyResultInput("Steps", target=3)],
            )
        await session.commit()
    assert await counted() == before
    assert before[0] <= 5, before
    await engine.dispose()


async def test_history_keeps_the_latest_points_and_hides_what_one_may_not_see(goal_world) -> None:
    adele, lee = await goal_world.actor("adele"), await goal_world.actor("lee")
    kr = goal_world.kr["endpoints"]
    async with goal_world.sessions() as session:
        full = await alignment.key_result_history(session, actor=adele, key_result_ids=[kr])
        short = await alignment.key_result_history(session, actor=adele, key_result_ids=[kr], points=1)
        hidden = await alignment.key_result_history(
            session, actor=lee, key_result_ids=[goal_world.kr["talks_given"]]
        )
        rows = (
            await session.execute(
                select(KeyResultUpdate.new_value).where(KeyResultUpdate.key_result_id == kr)
            )
        ).all()
    assert [p.value for p in full[kr]] == [8, 10, 12] and len(rows) == 2
    assert full[kr][0].at is not None
    assert [p.value for p in short[kr]] == [10, 12] and short[kr][0].at is None, "older history fell off"
    assert hidden == {}, (
        "Lee (her teammate, not her manager) may not see Adele's private goal, nor its history"
    )

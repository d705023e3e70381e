"""Edit goal and Close goal over HTTP: the owner, their manager line and HR change a goal or close it with
a final score; everyone else is refused, and a refused form shows why and writes nothing.

People sign in through the developer persona picker and use real pages of a real server; the goals are
the ones described in goal_world.py (this module's own copy: what it changes stays here).
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import aiohttp
import pytest

from storage.models import Goal
from storage.uow import read_only
from tabs.goal_template_forms import current_quarter

from .conftest import browser_like_jar, csrf_field, dev_sign_in
from .goal_world import TODAY, GoalWorld, goal_world

__all__ = ["goal_world"]

SignIn = Callable[[str], Awaitable[aiohttp.ClientSession]]
STORED = ("title", "description", "period_label", "period_start", "period_end", "visibility", "kind")
STORED += ("weight", "closed_at", "final_score", "updated_at")


@pytest.fixture
async def signed_in(goal_world: GoalWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("manager")`."""
    clients: list[aiohttp.ClientSession] = []

    async def sign_in(persona: str) -> aiohttp.ClientSession:
        client = aiohttp.ClientSession(goal_world.base_url, cookie_jar=browser_like_jar(goal_world.base_url))
        clients.append(client)
        await dev_sign_in(client, persona)
        return client

    yield sign_in
    for client in clients:
        await client.close()


async def _stored(world: GoalWorld, name: str) -> tuple:
    """The goal's row as stored: what a refused form must leave exactly as it was."""
    async with read_only(world.sessions) as db:
        goal = await db.get(Goal, world.goal[name])
        return tuple(getattr(goal, column) for column in STORED)


def _text(html: str) -> str:
    """Visible text, roughly: tags stripped, entities decoded, whitespace collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _section(html: str, element_id: str) -> str:
    """The markup from the element with this id to the end of its list item (one goal)."""
    start = html.index(f'id="{element_id}"')
    return html[start : html.find("</li>", start)]


async def _get(client: aiohttp.ClientSession, path: str) -> tuple[int, str]:
    async with client.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


def _edit_form(html: str) -> dict[str, str]:
    """What the Edit form would send as the page shows it: inputs, the description, the chosen options."""
    form = re.search(r'<form[^>]*action="/tabs/goals/\d+/edit[^"]*".*?</form>', html, re.S)
    assert form, "no edit form on the page"
    markup = form.group(0)
    fields = {
        name: htmllib.unescape(value)
        for name, value in re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', markup)
    }
    description = re.search(r'<textarea[^>]*name="description"[^>]*>(.*?)</textarea>', markup, re.S)
    fields["description"] = htmllib.unescape(description.group(1)) if description else ""
    for select_name, options in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', markup, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[select_name] = htmllib.unescape(chosen.group(1)) if chosen else ""
    return fields


def _field_value(html: str, field_id: str) -> str:
    match = re.search(rf'<input id="{field_id}"[^>]*value="([^"]*)"', html)
    assert match, f"no input {field_id}"
    return htmllib.unescape(match.group(1))


async def _post(
    client: aiohttp.ClientSession, path: str, data: dict[str, str]
) -> tuple[int, str, str | None]:
    async with client.post(path, data=data, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers.get("Location")


async def _open_form(client: aiohttp.ClientSession, goal_id: int, query: str = "") -> dict[str, str]:
    status, html = await _get(client, f"/tabs/goals/{goal_id}/edit{query}")
    assert status == 200, html
    return _edit_form(html)


def _valuenow(html: str, labelled_by: str) -> int:
    match = re.search(rf'aria-valuenow="(\d+)"[^>]*aria-labelledby="{labelled_by}"', html)
    assert match, f"no progress bar labelled by {labelled_by}"
    return int(match.group(1))


def _edit_link(goal_id: int, query: str = "") -> str:
    return f'href="/tabs/goals/{goal_id}/edit{query}"'


# --- who may edit ------------------------------------------------------------------------------------------


async def test_the_owner_edits_title_period_and_weight_and_sees_it_on_my_goals(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    meetup = goal_world.goal["meetup"]
    _, mine = await _get(client, "/tabs/goals")
    assert _edit_link(meetup) in mine, "My goals links each of one's own open goals to its edit page"
    form = await _open_form(client, meetup)
    assert form["title"] == "Speak at a meetup" and form["period"] == "custom" and form["weight"] == "1"
    assert form["visibility"] == "private" and form["kind"] == "development"
    quarter = current_quarter(TODAY)
    form |= {"title": "Speak at two meetups", "period": quarter, "weight": "2.5"}

    status, body, location = await _post(client, f"/tabs/goals/{meetup}/edit", form)
    assert status == 303, body
    assert location == f"/tabs/goals?edited={meetup}#goal-{meetup}"
    stored = dict(zip(STORED, await _stored(goal_world, "meetup"), strict=True))
    assert (stored["title"], stored["period_label"], stored["weight"]) == (
        "Speak at two meetups",
        quarter,
        2.5,
    )
    assert stored["visibility"] == "private" and stored["kind"] == "development", "untouched fields stay"
    _, mine = await _get(client, location)
    shown = _text(_section(mine, f"goal-{meetup}"))
    assert "Speak at two meetups" in shown and f"{quarter} (" in shown
    assert "Your changes to the goal are saved." in _text(mine)
    _, plain = await _get(client, "/tabs/goals")
    assert "Your changes to the goal are saved." not in _text(plain), "only right after saving"


async def test_a_manager_edits_a_reports_goal_from_team_goals(signed_in, goal_world) -> None:
    alex = await signed_in("manager")
    flaky = goal_world.goal["flaky"]
    _, team = await _get(alex, "/tabs/team-goals")
    link = re.search(rf'href="(/tabs/goals/{flaky}/edit[^"]*)"', team)
    assert link, "Team goals links each goal in the line to its edit page"
    status, page = await _get(alex, htmllib.unescape(link.group(1)))
    assert status == 200
    assert 'href="/tabs/team-goals#goal-' in page, "Cancel goes back to Team goals"
    form = _edit_form(page) | {"title": "Fix every flaky test"}
    action = htmllib.unescape(re.search(r'action="(/tabs/goals/\d+/edit[^"]*)"', page).group(1))
    assert action == f"/tabs/goals/{flaky}/edit?back=team"

    status, body, location = await _post(alex, action, form)
    assert status == 303, body
    assert location == f"/tabs/team-goals?edited={flaky}#goal-{flaky}"
    _, team = await _get(alex, location)
    assert "Fix every flaky test" in _text(_section(team, f"goal-{flaky}"))
    assert "Your changes to the goal are saved." in _text(team)


@pytest.mark.parametrize("persona", ["lee", "isaiah"])  # outside Adele's line; her peer in Alex's team
async def test_a_colleague_outside_the_line_gets_403_and_nothing_changes(
    signed_in, goal_world, persona
) -> None:
    api = goal_world.goal["api"]
    owner = await signed_in("employee")
    form = await _open_form(owner, api)
    before = await _stored(goal_world, "api")
    client = await signed_in(persona)
    status, mine = await _get(client, "/tabs/goals")
    assert status == 200 and _edit_link(api) not in mine
    status, page = await _get(client, f"/tabs/goals/{api}/edit")
    assert status == 403 and "only its owner, their managers and HR" in _text(page)
    token = csrf_field(mine)
    for path, data in (
        (f"/tabs/goals/{api}/edit", form | {"title": "Hijacked"}),
        (f"/tabs/goals/{api}/edit", form | {"title": "", "weight": "-1"}),  # a bad form is no way in
        (f"/tabs/goals/{api}/close", {"final_score": "0", "confirm": "yes"}),
    ):
        status, body, _ = await _post(client, path, data | {"csrf_token": token})
        assert status == 403, (path, body)
        assert 'name="title"' not in body
    assert await _stored(goal_world, "api") == before


async def test_hr_may_edit_anyones_goal(signed_in, goal_world) -> None:
    megan = await signed_in("hr")
    build = goal_world.goal["build"]
    form = await _open_form(megan, build) | {"visibility": "private", "kind": "development"}
    status, body, _ = await _post(megan, f"/tabs/goals/{build}/edit", form)
    assert status == 303, body
    stored = dict(zip(STORED, await _stored(goal_world, "build"), strict=True))
    assert (stored["visibility"], stored["kind"]) == ("private", "development")
    # Titles are text: the edit page escapes them like every other page.
    status, page = await _get(megan, f"/tabs/goals/{goal_world.goal['secret']}/edit")
    assert status == 200
    assert "<b>x</b>" not in page and 'value="Secret QA plan &lt;b&gt;x&lt;/b&gt;"' in page


async def test_a_goal_one_may_not_see_is_not_found(signed_in, goal_world) -> None:
    alex = await signed_in("manager")
    for path in (
        f"/tabs/goals/{goal_world.goal['secret']}/edit",
        "/tabs/goals/99999/edit",
        "/tabs/goals/x/edit",
    ):
        status, page = await _get(alex, path)
        assert status == 404, path
        assert "That goal does not exist." in _text(page)


# --- refused forms ------------------------------------------------------------------------------------------

LATER, EARLIER = (TODAY + timedelta(days=40)).isoformat(), (TODAY + timedelta(days=10)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "   "}, "title", "Give the goal a title."),
        ({"weight": "-1"}, "weight", "The weight can't be negative (got -1)."),
        ({"weight": "heavy"}, "weight", "The weight must be a number (got “heavy”)."),
        (
            {"period": "custom", "start": LATER, "end": EARLIER},
            "period",
            f"The period ends ({EARLIER}) before it starts ({LATER}).",
        ),
        ({"period": "whenever"}, "period", "“whenever” is not a period I know"),
        ({"visibility": "everyone"}, "visibility", "“everyone” is not one of the choices"),
    ],
)
async def test_a_bad_edit_is_explained_next_to_its_field_and_writes_nothing(
    signed_in, goal_world, changes, field, message
) -> None:
    client = await signed_in("employee")
    api = goal_world.goal["api"]
    before = await _stored(goal_world, "api")
    typed = await _open_form(client, api) | {"title": "Finish the API, properly", "description": "Typed"}
    status, page, _ = await _post(client, f"/tabs/goals/{api}/edit", typed | changes)
    assert status == 400
    error = re.search(rf'<p class="[^"]*" id="edit-{field}-error" role="alert">(.*?)</p>', page, re.S)
    assert error and message in htmllib.unescape(error.group(1)), page
    described = re.search(rf'<(?:input|select) id="edit-{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in described and f"edit-{field}-error" in described
    kept = _edit_form(page)
    for name, value in (typed | changes).items():
        if name != "csrf_token":  # period names read in capitals: "whenever" is kept as WHENEVER
            assert kept[name].lower() == value.lower() if name == "period" else kept[name] == value, name
    assert await _stored(goal_world, "api") == before


@pytest.mark.parametrize(
    ("score", "confirm", "field", "message"),
    [
        ("120", "yes", "score", "The final score is from 0 to 100 %, not 120 %."),
        ("abc", "yes", "score", "The final score must be a number (got “abc”)."),
        ("", "yes", "score", "Give the final score, from 0 to 100 %."),
        ("80", "", "confirm", "Tick the box to confirm: a closed goal can't change any more."),
    ],
)
async def test_a_bad_final_score_is_explained_and_writes_nothing(
    signed_in, goal_world, score, confirm, field, message
) -> None:
    client = await signed_in("employee")
    api = goal_world.goal["api"]
    before = await _stored(goal_world, "api")
    token = (await _open_form(client, api))["csrf_token"]
    data = {"csrf_token": token, "final_score": score, "confirm": confirm}
    status, page, _ = await _post(client, f"/tabs/goals/{api}/close", data)
    assert status == 400
    error = re.search(rf'id="close-{field}-error" role="alert">(.*?)</p>', page, re.S)
    assert error and htmllib.unescape(error.group(1)) == message
    assert _field_value(page, "close-score") == score, "what was typed stays in the field"
    assert await _stored(goal_world, "api") == before


async def test_a_form_without_its_csrf_token_is_refused(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    api = goal_world.goal["api"]
    form = await _open_form(client, api)
    before = await _stored(goal_world, "api")
    for path, data in (
        (f"/tabs/goals/{api}/edit", form | {"title": "Forged"}),
        (f"/tabs/goals/{api}/close", {"final_score": "10", "confirm": "yes"}),
    ):
        for token in (None, "forged"):
            sent = {k: v for k, v in data.items() if k != "csrf_token"}
            if token:
                sent["csrf_token"] = token
            status, body, _ = await _post(client, path, sent)
            assert status == 403, (path, token)
            assert "This form has expired" in _text(body)
    assert await _stored(goal_world, "api") == before


async def test_without_a_session_the_forms_go_to_sign_in(goal_world) -> None:
    api = goal_world.goal["api"]
    async with aiohttp.ClientSession(goal_world.base_url) as client:
        status, _ = await _get(client, f"/tabs/goals/{api}/edit")
        assert status == 302
        for path in (f"/tabs/goals/{api}/edit", f"/tabs/goals/{api}/close"):
            status, _, location = await _post(client, path, {"title": "x", "final_score": "1"})
            assert status == 303 and location.startswith("/tabs/signin?next="), path


# --- closing ---------------------------------------------------------------------------------------------


async def test_closing_with_80_percent_shows_closed_and_counts_in_the_parent(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    docs, api = goal_world.goal["api_docs"], goal_world.goal["api"]
    _, mine = await _get(client, "/tabs/goals")
    # Endpoints 60 %, Docs 0 %, the aligned sub-goal 1 of 5 pages = 20 %: (60 + 0 + 20) / 3.
    assert _valuenow(mine, f"goal-{api}-title") == 26
    token = (await _open_form(client, docs))["csrf_token"]
    data = {"csrf_token": token, "final_score": "80", "confirm": "yes"}

    status, body, location = await _post(client, f"/tabs/goals/{docs}/close", data)
    assert status == 303, body
    assert location == f"/tabs/goals?closed={docs}#goal-{docs}"
    stored = dict(zip(STORED, await _stored(goal_world, "api_docs"), strict=True))
    assert stored["final_score"] == 0.8 and stored["closed_at"] is not None
    _, mine = await _get(client, location)
    closed = _section(mine, f"goal-{docs}")
    assert "Closed" in _text(closed) and _valuenow(mine, f"goal-{docs}-title") == 80
    assert "The goal is closed with its final score." in _text(mine)
    assert _edit_link(docs) not in mine, "a closed goal offers no Edit link"
    assert _valuenow(mine, f"goal-{api}-title") == 46, "the parent counts the final score: (60 + 0 + 80) / 3"
    _, team = await _get(await signed_in("manager"), "/tabs/team-goals")
    assert _edit_link(docs, "?back=team") not in team
    assert _edit_link(api, "?back=team") in team


async def test_closing_twice_is_explained_and_a_closed_goal_cannot_change(signed_in, goal_world) -> None:
    patti = await signed_in("patti")
    reorg = goal_world.goal["reorg"]
    form = await _open_form(patti, reorg)
    close = {"csrf_token": form["csrf_token"], "final_score": "50", "confirm": "yes"}
    status, body, _ = await _post(patti, f"/tabs/goals/{reorg}/close", close)
    assert status == 303, body
    closed = await _stored(goal_world, "reorg")

    # The same form again (a second tab, a double click): the first score stands.
    status, page, _ = await _post(patti, f"/tabs/goals/{reorg}/close", close | {"final_score": "90"})
    assert status == 409
    assert re.search(r'role="alert">This goal is already closed.</p>', page)
    status, page = await _get(patti, f"/tabs/goals/{reorg}/edit")
    assert status == 200
    assert "This goal is closed" in _text(page) and "final score of 50 %: it can't change any more" in _text(
        page
    )
    assert 'name="title"' not in page and 'name="final_score"' not in page, "no forms for a closed goal"
    status, page, _ = await _post(patti, f"/tabs/goals/{reorg}/edit", form | {"title": "Reorganise again"})
    assert status == 400 and "This goal is closed: it can't change any more." in _text(page)
    assert await _stored(goal_world, "reorg") == closed


async def test_the_edit_page_uses_no_inline_script_or_style(signed_in, goal_world) -> None:
    client = await signed_in("employee")
    status, page = await _get(client, f"/tabs/goals/{goal_world.goal['api']}/edit?theme=dark")
    assert status == 200
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert " style=" not in page and "<style" not in page and not re.search(r"\son\w+=", page)
    assert '<body class="theme-dark"' in page and 'action="/tabs/goals/' in page
    assert re.search(r'action="/tabs/goals/\d+/edit\?theme=dark"', page), "the theme survives the POST"
    for field_id in re.findall(r'<(?:input|select|textarea) id="([\w-]+)"', page):
        assert f'<label for="{field_id}"' in page, f"{field_id} has a label"

"""The Goal templates tab over HTTP: HR and managers define a template and assign it in one action.

A real tab server on its own SQLite file with the small organization of conftest.py (Patti → Alex →
Adele, Isaiah; Lee reports to Patti; the QA tester reports to HR's Megan; Fran has left), so the goals
written here never show up in other tab tests. People sign in through the developer persona picker.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.clock import system_clock
from domain.performance import goals
from storage.models import Goal, GoalTemplate, KeyResult, Person
from storage.uow import read_only
from tabs.settings import TabSettings

from .conftest import PERSONAS, XSS_NAME, SignIn, csrf_field, persona_clients, tab_server, world_store
from .conftest import visible_text as _text

PAGE = "/tabs/goal-templates"
ENGINEERING = ["Adele Vance", "Alex Wilber", "Isaiah Langer", "Lee Leaving", "Patti Fernandez"]


@dataclass(frozen=True)
class TemplateWorld:
    """A tab server with the Goal templates pages mounted, and its store."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]

    async def count(self, model: type, *where: object) -> int:
        async with read_only(self.sessions) as db:
            return await db.scalar(select(func.count()).select_from(model).where(*where))

    async def person_id(self, name: str) -> int:
        async with read_only(self.sessions) as db:
            return await db.scalar(select(Person.id).where(Person.display_name == name))

    async def email(self, name: str) -> str:
        async with read_only(self.sessions) as db:
            return await db.scalar(select(Person.email).where(Person.display_name == name))

    async def template_id(self, title: str) -> int:
        async with read_only(self.sessions) as db:
            return await db.scalar(select(GoalTemplate.id).where(GoalTemplate.title == title))

    async def holders(self, template_id: int) -> list[str]:
        """Who has a goal made from the template (one name per goal, so duplicates would show)."""
        async with read_only(self.sessions) as db:
            rows = await db.scalars(
                select(Person.display_name)
                .join(Goal, Goal.owner_person_id == Person.id)
                .where(Goal.template_id == template_id)
                .order_by(Person.display_name)
            )
            return list(rows.all())

    async def written(self) -> tuple[int, int, int]:
        """(templates, goals, key results) in the store: what a refused form must leave unchanged."""
        return await self.count(GoalTemplate), await self.count(Goal), await self.count(KeyResult)


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[TemplateWorld]:
    async with (
        world_store(tmp_path_factory, "templates") as sessions,
        tab_server(sessions, tab_settings, personas=PERSONAS) as base_url,
    ):
        yield TemplateWorld(base_url, sessions)


@pytest.fixture
async def signed_in(world: TemplateWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("hr")`."""
    async with persona_clients(world.base_url, next_path=PAGE) as sign_in:
        yield sign_in


def _section(html: str, heading_id: str) -> str:
    """The visible text of the <section> labelled by a heading id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section labelled {heading_id}"
    return _text(match.group(0))


def _value_of(html: str, name: str) -> str:
    """The value an input field shows."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html)
    assert match, f"no input named {name}"
    return htmllib.unescape(match.group(1))


async def _get(client: aiohttp.ClientSession, path: str = PAGE) -> tuple[int, str]:
    async with client.get(path, allow_redirects=False) as response:
        return response.status, await response.text()


async def _post(client: aiohttp.ClientSession, path: str, data: dict[str, str], *, csrf: bool = True):
    """POST a form as the page would, with the page's CSRF token unless told not to."""
    if csrf:
        _, page = await _get(client)
        data = {"csrf_token": csrf_field(page), **data}
    async with client.post(path, data=data, allow_redirects=False) as response:
        return response.status, await response.text(), response.headers.get("Location")


def _new_template(title: str, *rows: tuple[str, str, str, str, str], **fields: str) -> dict[str, str]:
    """The New template form: title, then key-result rows of (title, metric, start, target, unit)."""
    data = {"title": title, "description": "", "visibility": "team", "kind": "business", **fields}
    for i, (kr_title, metric, start, target, unit) in enumerate(rows):
        data |= {f"kr{i}_title": kr_title, f"kr{i}_metric": metric, f"kr{i}_start": start}
        data |= {f"kr{i}_target": target, f"kr{i}_unit": unit}
    return data


async def _create(client: aiohttp.ClientSession, world: TemplateWorld, title: str, *rows) -> int:
    status, body, location = await _post(client, PAGE, _new_template(title, *rows))
    assert status == 303, body
    template_id = await world.template_id(title)
    assert location == f"{PAGE}?created={template_id}#template-{template_id}"
    return template_id


# --- HR: define once, assign to a department ------------------------------------------------------------


async def test_hr_defines_a_template_and_assigns_it_to_a_department_once(signed_in, world) -> None:
    hr = await signed_in("hr")
    template_id = await _create(
        hr,
        world,
        "Security training",
        ("Modules done", "milestone", "", "4", ""),
        ("Phishing test score", "percent", "50", "90", ""),
    )

    status, page = await _get(hr, f"{PAGE}?created={template_id}")
    assert status == 200
    assert "Saved the template “Security training”" in _text(page)
    listed = _section(page, "templates-heading")
    assert "Modules done · target 4 steps" in listed
    assert "Phishing test score · target 90 %, starting from 50 %" in listed
    assert f'<option value="{template_id}" selected>Security training</option>' in page, "ready to assign"
    assert '<option value="Engineering">Engineering</option>' in page
    assert "Finance" not in _section(page, "assign-heading"), "only departments with active people"

    status, body, _ = await _post(
        hr,
        f"{PAGE}/assign",
        {"template_id": str(template_id), "period": "2026-Q4", "department": "Engineering"},
    )
    assert status == 200, body
    assert "2026-Q4 (1 Oct to 31 Dec 2026) · everyone active in Engineering" in _text(body)
    assert "5 new goals; 0 already had it; 0 skipped." in _text(body)
    assert _section(body, "created-heading") == f"Got the goal (5) {' '.join(ENGINEERING)}"
    assert await world.holders(template_id) == ENGINEERING, "one goal each, no one else"
    its_goals = select(Goal.id).where(Goal.template_id == template_id)
    assert await world.count(KeyResult, KeyResult.goal_id.in_(its_goals)) == 2 * 5

    # What Adele now has is the template's goal, with its key results, through the goals service.
    async with read_only(world.sessions) as db:
        adele = await load_actor(db, await world.person_id("Adele Vance"))
        (goal,) = await goals.my_goals(db, actor=adele, today=system_clock().date())
    assert (goal.title, goal.period.label, goal.visibility) == ("Security training", "2026-Q4", "team")
    assert [(kr.title, kr.metric, kr.start, kr.target, kr.current) for kr in goal.key_results] == [
        ("Modules done", "milestone", 0, 4, 0),
        ("Phishing test score", "percent", 50, 90, 50),
    ]

    before = await world.written()
    status, body, _ = await _post(
        hr,
        f"{PAGE}/assign",
        {"template_id": str(template_id), "period": "2026-q4", "department": "Engineering"},
    )
    assert status == 200, body
    assert "0 new goals; 5 already had it; 0 skipped." in _text(body)
    assert _section(body, "already-heading") == f"Already had it (5) {' '.join(ENGINEERING)}"
    assert _section(body, "created-heading") == "Got the goal (0) No one new."
    assert await world.written() == before, "assigning again writes nothing"


# --- a manager: only their line gets it -----------------------------------------------------------------


async def test_a_manager_assigns_to_a_list_and_people_outside_their_line_are_skipped(
    signed_in, world
) -> None:
    manager = await signed_in("manager")
    template_id = await _create(manager, world, "Code reviews", ("Reviews done", "number", "0", "20", "PRs"))
    people = "\n".join(
        [(await world.email("Adele Vance")).upper(), "  Isaiah   Langer ", "Patti Fernandez", ""]
    )

    status, body, _ = await _post(
        manager, f"{PAGE}/assign", {"template_id": str(template_id), "period": "2027-H1", "people": people}
    )

    assert status == 200, body
    text = _text(body)
    assert "2027-H1 (1 Jan to 30 Jun 2027) · 3 people listed" in text
    assert "2 new goals; 0 already had it; 1 skipped." in text
    assert _section(body, "created-heading") == "Got the goal (2) Adele Vance Isaiah Langer"
    assert (
        _section(body, "skipped-heading")
        == "Skipped (1) Patti Fernandez You can't set goals for this person."
    )
    assert await world.holders(template_id) == ["Adele Vance", "Isaiah Langer"]


async def test_names_in_the_outcome_are_escaped(signed_in, world) -> None:
    hr = await signed_in("hr")
    template_id = await _create(hr, world, "QA plan", ("Plans", "number", "0", "3", ""))

    status, body, _ = await _post(
        hr, f"{PAGE}/assign", {"template_id": str(template_id), "period": "2027", "department": "QA"}
    )

    assert status == 200
    assert XSS_NAME not in body
    assert htmllib.escape(XSS_NAME, quote=False) in body
    assert await world.holders(template_id) == [XSS_NAME]


# --- who may use it -------------------------------------------------------------------------------------


async def test_an_employee_gets_a_clear_403_and_writes_nothing(signed_in, world) -> None:
    employee = await signed_in("employee")
    status, page = await _get(employee)
    assert status == 403
    assert "Goal templates are for HR and managers." in _text(page)
    assert "New template" not in page

    # Even with the session's own CSRF token (taken from a page they can open), posting is refused.
    _, home = await _get(employee, "/tabs/home")
    before = await world.written()
    for path, data in ((PAGE, _new_template("Mine", ("X", "number", "0", "1", ""))), (f"{PAGE}/assign", {})):
        async with employee.post(
            path, data={"csrf_token": csrf_field(home), **data}, allow_redirects=False
        ) as response:
            assert response.status == 403
            assert "Goal templates are for HR and managers." in _text(await response.text())
    assert await world.written() == before


async def test_without_a_session_the_page_asks_to_sign_in(world) -> None:
    async with (
        aiohttp.ClientSession(world.base_url) as anonymous,
        anonymous.get(PAGE, allow_redirects=False) as response,
    ):
        assert response.status == 302
        location = urlsplit(response.headers["Location"])
        assert (location.path, parse_qs(location.query)) == ("/tabs/signin", {"next": [PAGE]})


@pytest.mark.parametrize("path", [PAGE, f"{PAGE}/assign"])
async def test_a_form_without_its_csrf_token_is_refused(signed_in, world, path: str) -> None:
    hr = await signed_in("hr")
    template_id = await _create(hr, world, f"Forged via {path}", ("X", "number", "0", "1", ""))
    before = await world.written()
    data = _new_template("Forged") | {"template_id": str(template_id), "period": "2026", "department": "QA"}

    for token in (None, "not-the-token"):
        posted = data if token is None else {"csrf_token": token, **data}
        status, body, _ = await _post(hr, path, posted, csrf=False)
        assert status == 403
        assert "This form has expired" in _text(body)
    assert await world.written() == before


# --- bad input: the form again, with the message and what was typed, nothing written ---------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (_new_template("  ", ("Done", "number", "0", "1", "")), "Give the goal a title."),
        (
            _new_template("Flat", ("Deals", "number", "5", "5", "deals")),
            "Key result 1: the target equals the start (5): there would be nothing to measure.",
        ),
        (
            _new_template("Odd metric", ("Deals", "number", "0", "5", ""), ("Vibes", "mood", "0", "5", "")),
            "Key result 2: “mood” is not a metric type: choose one of number, percent, currency,",
        ),
        (_new_template("No target", ("Deals", "number", "0", "", "")), "Key result 1: give it a target."),
        (_new_template("Wordy", ("Deals", "number", "zero", "5", "")), "Key result 1: the start value must"),
        (_new_template("Bad type", kind="fun"), "“fun” is not a goal type"),
    ],
)
async def test_a_bad_template_shows_the_form_again_and_writes_nothing(
    signed_in, world, fields: dict[str, str], message: str
) -> None:
    hr = await signed_in("hr")
    before = await world.written()

    status, body, location = await _post(hr, PAGE, fields)

    assert status == 400 and location is None
    error = re.search(
        r'<p class="error notice tform__error" id="create-error" role="alert">(.*?)</p>', body, re.S
    )
    assert error and message in htmllib.unescape(error.group(1)), body
    assert 'aria-describedby="create-error"' in body
    for name in ("title", "kr0_title", "kr0_start", "kr0_target", "kr0_unit", "kr1_title"):
        assert _value_of(body, name) == fields.get(name, ""), f"what was typed in {name} is kept"
    assert f'<option value="{fields.get("kr0_metric", "number")}" selected>' in body
    assert await world.written() == before


@pytest.mark.parametrize(
    ("fields", "message", "status"),
    [
        (
            {"period": "next quarter", "department": "Engineering"},
            "“next quarter” is not a period I know",
            400,
        ),
        ({"period": "2026-Q5", "department": "Engineering"}, "“2026-Q5” is not a period I know", 400),
        (
            {"period": "2026-Q4", "people": "Adele Vance\nNobody Atall\nghost@contoso.example"},
            "No one in the directory matches “Nobody Atall”, “ghost@contoso.example”.",
            400,
        ),
        (
            {"period": "2026-Q4", "people": "Fran Former"},
            "No one in the directory matches “Fran Former”.",
            400,
        ),
        ({"period": "2026-Q4", "people": "a"}, "“a” matches several people", 400),
        (
            {"period": "2026-Q4", "department": "", "people": " \n "},
            "Choose a department, or type the people",
            400,
        ),
        (
            {"period": "2026-Q4", "department": "Marketing"},
            "No one active is in a department called “Marketing”.",
            400,
        ),
        ({"period": "2026-Q4", "department": "QA", "template_id": ""}, "Choose the template to assign.", 400),
        (
            {"period": "2026-Q4", "department": "QA", "template_id": "999999"},
            "That goal template does not exist.",
            404,
        ),
    ],
)
async def test_a_bad_assignment_shows_the_form_again_and_writes_nothing(
    signed_in, world, fields: dict[str, str], message: str, status: int
) -> None:
    hr = await signed_in("hr")
    template_id = await world.template_id("Bad assignments") or await _create(
        hr, world, "Bad assignments", ("X", "number", "0", "1", "")
    )
    before = await world.written()

    answer, body, _ = await _post(hr, f"{PAGE}/assign", {"template_id": str(template_id), **fields})

    assert answer == status, body
    error = re.search(
        r'<p class="error notice tform__error" id="assign-error" role="alert">(.*?)</p>', body, re.S
    )
    assert error and message in htmllib.unescape(error.group(1)), body
    if fields.get("people", "").strip():
        assert htmllib.escape(fields["people"], quote=False) in body, "the people typed are kept"
    if fields.get("department") == "Engineering":
        assert '<option value="Engineering" selected>' in body, "the department chosen is kept"
    assert await world.written() == before
    assert await world.holders(template_id) == []


async def test_the_people_box_matches_emails_exactly_and_names_by_the_directory(signed_in, world) -> None:
    hr = await signed_in("hr")
    template_id = await _create(hr, world, "Exact matches", ("X", "number", "0", "1", ""))
    adele_email = await world.email("Adele Vance")
    partial = adele_email.split("@")[0][:-1] + "@contoso.example"

    status, body, _ = await _post(
        hr, f"{PAGE}/assign", {"template_id": str(template_id), "period": "2026", "people": partial}
    )
    assert status == 400 and f"No one in the directory matches “{partial}”." in _text(body)

    status, body, _ = await _post(
        hr,
        f"{PAGE}/assign",
        {"template_id": str(template_id), "period": "2026", "people": f"{adele_email}\nadele vance"},
    )
    assert status == 200
    assert "1 new goal; 0 already had it; 0 skipped." in _text(body), "the same person twice is one goal"
    assert await world.holders(template_id) == ["Adele Vance"]

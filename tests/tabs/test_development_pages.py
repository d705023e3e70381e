"""The My development tab over HTTP, on the demo organization in its own SQLite file with the server's clock
fixed at NOW (Monday 2 March 2026): Adele adds an action and marks its progress, Alex sees Adele's plan,
Patti (Sales) and Isaiah (Adele's teammate) are refused, bad input comes back with the message next to its
field and what was typed kept, an action becomes a development goal once, the career path shows her role
and next roles with their gaps and closes a gap into a highlighted action; and in real Chromium the page
works in the three themes and reflows down to 320 px.

Adele's role (Senior Software Engineer) expects Communication at level 4; she was assessed at 2. It
expects Delivery at 3 too (her released review put her at 2) and Coaching at 2 (her manager put her at
1). Her role leads up to Staff engineer (Communication 5, Delivery 3) and across to Engineering manager
(Coaching 3). Isaiah (Software Engineer) has no role profile.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import aiohttp
import pytest
from playwright.async_api import Browser
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.performance import goals
from domain.performance.goal_views import KeyResultInput
from domain.talent import development
from storage import demo
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    Goal,
    RoleProfile,
    RoleRequirement,
)
from storage.uow import unit_of_work
from tabs.settings import TabSettings

from .conftest import SignIn, get_page, person_ids, persona_clients, post_form, tab_server, world_store
from .conftest import visible_text as _text
from .test_browser import CONTRAST_PROBE, WIDTHS, _open, browser, expect

__all__ = ["browser"]  # the fixture, shared with test_browser

NOW = datetime(2026, 3, 2, 18, tzinfo=UTC)
LEVELS = ["Aware", "Practising", "Skilled", "Leads others", "Sets direction"]
PERSONA_KEYS = {
    "employee": demo.ADELE,
    "manager": demo.ALEX,
    "hr": demo.MEGAN,
    "patti": demo.PATTI,
    "isaiah": demo.ISAIAH,
}
TALENT_WORDS = ("potential", "9-box", "nine-box", "succession", "successor", "flight risk", "calibrat")


@dataclass(frozen=True)
class DevWorld:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    communication: int
    goal_id: int
    delivery: int


async def _build(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict[str, int], int, int, int]:
    async with unit_of_work(sessions) as db:
        await demo.seed(db)
        people = await person_ids(db, {key: p.aad_object_id for key, p in PERSONA_KEYS.items()})
        communication = Competency(
            name="Communication", name_key="communication", category="behaviours", levels=LEVELS
        )
        profile = RoleProfile(
            name="Senior engineer", name_key="senior engineer", job_title_key="senior software engineer"
        )
        delivery = Competency(name="Delivery", name_key="delivery", category="functional", levels=LEVELS)
        coaching = Competency(name="Coaching", name_key="coaching", category="leadership", levels=LEVELS)
        staff = RoleProfile(name="Staff engineer", name_key="staff engineer")
        manager = RoleProfile(name="Engineering manager", name_key="engineering manager")
        db.add_all([communication, delivery, coaching, profile, staff, manager])
        await db.flush()
        db.add_all(
            [
                CareerStep(from_profile_id=profile.id, to_profile_id=staff.id, kind="ladder"),
                CareerStep(from_profile_id=profile.id, to_profile_id=manager.id, kind="lateral"),
                RoleRequirement(role_profile_id=profile.id, competency_id=delivery.id, expected_level=3),
                RoleRequirement(role_profile_id=profile.id, competency_id=coaching.id, expected_level=2),
                CompetencyAssessment(
                    person_id=people["employee"],
                    competency_id=coaching.id,
                    level=1,
                    source="manager",
                    assessed_on=date(2026, 2, 1),
                ),
                RoleRequirement(role_profile_id=staff.id, competency_id=communication.id, expected_level=5),
                RoleRequirement(role_profile_id=staff.id, competency_id=delivery.id, expected_level=3),
                RoleRequirement(role_profile_id=manager.id, competency_id=coaching.id, expected_level=3),
                CompetencyAssessment(
                    person_id=people["employee"],
                    competency_id=delivery.id,
                    level=2,
                    source="review",
                    assessed_on=date(2026, 2, 10),
                ),
                RoleRequirement(role_profile_id=profile.id, competency_id=communication.id, expected_level=4),
                CompetencyAssessment(
                    person_id=people["employee"],
                    competency_id=communication.id,
                    level=2,
                    source="manager",
                    assessed_on=date(2026, 1, 15),
                ),
            ]
        )
        adele = await load_actor(db, people["employee"])
        goal = await goals.create_goal(
            db,
            actor=adele,
            title="Ship search",
            period="2026-Q1",
            key_results=[KeyResultInput("Done", target=100, current=60)],
            now=NOW,
        )
    return people, communication.id, goal.id, delivery.id


@pytest.fixture(scope="module")
async def dev_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[DevWorld]:
    """A tab server on its own demo organization, clock at NOW."""
    async with world_store(tmp_path_factory, "development", seeded=False) as sessions:
        people, communication, goal_id, delivery = await _build(sessions)
        personas = {key: (demo.DEMO_TENANT_ID, p.aad_object_id) for key, p in PERSONA_KEYS.items()}
        async with tab_server(sessions, tab_settings, personas=personas, clock=lambda: NOW) as base_url:
            yield DevWorld(base_url, sessions, people, communication, goal_id, delivery)


@pytest.fixture
async def signed_in(dev_world: DevWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("employee")`."""
    async with persona_clients(dev_world.base_url) as sign_in:
        yield sign_in


def _error(html: str, error_id: str) -> str:
    match = re.search(
        rf'<p class="error notice dv-form__error" id="{error_id}" role="alert">(.*?)</p>', html, re.S
    )
    assert match, f"no error {error_id} on the page"
    return htmllib.unescape(match.group(1))


async def _actions(world: DevWorld, *where) -> list[DevelopmentAction]:
    async with world.sessions() as db:
        return list(
            (await db.scalars(select(DevelopmentAction).where(*where).order_by(DevelopmentAction.id))).all()
        )


async def _add(client, world: DevWorld, person: str, **fields: str) -> tuple[int, str, str]:
    data = {
        "kind": "course",
        "title": "Presenting with confidence",
        "description": "Four evening sessions",
        "due_on": "2026-05-20",
        "competency_id": str(world.communication),
        "target_level": "4",
        "goal_id": str(world.goal_id),
        "request_id": fields.pop("request_id", "f" * 32),
    } | fields
    return await post_form(client, f"/tabs/development/{world.people[person]}/actions", data)


# --- Adele's own plan -------------------------------------------------------------------------------------


async def test_adele_adds_an_action_and_marks_its_progress(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    status, page = await get_page(adele, "/tabs/development")
    assert status == 200
    assert '<a href="/tabs/development" aria-current="page">My development</a>' in page
    assert "Your plan has no actions yet" in page
    assert "Communication (behaviours, levels 1\u20135)" in page and "Ship search (2026-Q1)" in page
    assert 'id="career-path"' in page and "Current role: Senior engineer" in page
    assert f'action="/tabs/development/{dev_world.people["employee"]}/actions"' in page

    status, _, location = await _add(adele, dev_world, "employee", request_id="a" * 32)
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == "a" * 32)
    assert (status, location) == (303, f"/tabs/development?added={action.id}#action-{action.id}")
    # The same form sent again (a double submit) adds nothing more.
    status, _, again = await _add(adele, dev_world, "employee", request_id="a" * 32)
    assert (status, again) == (303, location)
    assert len(await _actions(dev_world, DevelopmentAction.title == "Presenting with confidence")) == 1

    _, page = await get_page(adele, location)
    text = _text(page)
    assert "Added “Presenting with confidence” to the plan." in text
    assert "Only you, your manager line and HR see your plan. 1 open · 0 done." in text
    assert f'action="/tabs/development/actions/{action.id}/progress"' in page
    assert f'action="/tabs/development/actions/{action.id}/goal"' not in page, "it serves a goal already"
    assert "Course · due Wed 20 May 2026 · Added by hand" in text
    assert (
        "Communication Assessed at 2 (Practising) · target 4 (Leads others) · the role expects 4 · "
        "2 levels to go" in text
    )
    assert "Goal Ship search 2026-Q1" in text and "60 %" in text

    status, _, location = await post_form(
        adele,
        f"/tabs/development/actions/{action.id}/progress",
        {
            "progress": "50",
            "status": "in_progress",
            "note": "Two sessions done",
            "version": str(action.version),
        },
    )
    assert (status, location) == (303, f"/tabs/development?saved={action.id}#action-{action.id}")
    [stored] = await _actions(dev_world, DevelopmentAction.id == action.id)
    assert (stored.status, stored.progress, stored.note) == ("in_progress", 50, "Two sessions done")
    _, page = await get_page(adele, location)
    assert "Saved the progress of “Presenting with confidence”." in _text(page)
    item = page[page.index(f'id="action-{action.id}"') :]
    assert 'aria-valuenow="50"' in item and "In progress" in item and "Two sessions done" in item
    for word in TALENT_WORDS:
        assert word not in page.lower(), word


async def test_a_past_due_date_comes_back_with_the_message_and_what_was_typed(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    before = len(await _actions(dev_world))
    status, page, _ = await _add(
        adele, dev_world, "employee", title="Lead a design review", due_on="2026-03-01", request_id="b" * 32
    )
    assert status == 400
    assert (
        _error(page, "add-due-error")
        == "The due date (1 March 2026) is in the past: choose today or a later day."
    )
    assert 'id="add-due" name="due_on" type="date" value="2026-03-01" required aria-invalid="true"' in page
    assert 'value="Lead a design review"' in page and "Four evening sessions</textarea>" in page
    assert f'<option value="{dev_world.communication}" selected>' in page
    assert len(await _actions(dev_world)) == before, "nothing written"

    status, page, _ = await _add(adele, dev_world, "employee", due_on="next week", request_id="c" * 32)
    assert status == 400 and "must be a date like 2026-03-05" in _error(page, "add-due-error")
    status, page, _ = await _add(adele, dev_world, "employee", target_level="9", request_id="d" * 32)
    assert status == 400 and _error(page, "add-target-error").startswith("“Communication” has levels 1 to 5")
    status, page, _ = await _add(adele, dev_world, "employee", title=" ", request_id="e" * 32)
    assert status == 400 and _error(page, "add-title-error").startswith("Give the action a title")
    assert len(await _actions(dev_world)) == before


async def test_bad_progress_and_a_stale_form_write_nothing(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    await _add(adele, dev_world, "employee", title="Mentoring circle", kind="mentoring", request_id="g" * 32)
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == "g" * 32)
    path = f"/tabs/development/actions/{action.id}/progress"
    status, page, _ = await post_form(
        adele, path, {"progress": "150", "status": "in_progress", "version": "1"}
    )
    assert status == 400
    assert _error(page, f"progress-{action.id}-error").startswith(
        "Progress is a whole number of percent from 0 to 100"
    )
    assert 'value="150" aria-invalid="true"' in page, "what was typed is kept"
    status, _, _ = await post_form(adele, path, {"progress": "40", "status": "in_progress", "version": "1"})
    assert status == 303
    status, page, _ = await post_form(
        adele, path, {"progress": "70", "status": "in_progress", "version": "1"}
    )
    assert status == 409 and "was changed meanwhile: it is now in progress at 40 %" in _text(page)
    [stored] = await _actions(dev_world, DevelopmentAction.id == action.id)
    assert (stored.progress, stored.version) == (40, 2)


async def test_an_action_becomes_a_development_goal_once(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    await _add(adele, dev_world, "employee", title="Give a conference talk", goal_id="", request_id="h" * 32)
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == "h" * 32)
    for _ in range(2):
        status, _, location = await post_form(adele, f"/tabs/development/actions/{action.id}/goal", {})
        assert (status, location) == (303, f"/tabs/development?goal={action.id}#action-{action.id}")
    async with dev_world.sessions() as db:
        made = (await db.scalars(select(Goal).where(Goal.title == "Give a conference talk"))).all()
    assert [(g.kind, g.visibility, g.period_label) for g in made] == [("development", "private", "2026-Q2")]
    _, page = await get_page(adele, location)
    assert "“Give a conference talk” is now a development goal" in _text(page)
    item = page[page.index(f'id="action-{action.id}"') :]
    assert "Development goal" in item.split("</li>")[0]


async def test_she_never_reads_that_an_action_came_from_a_talent_review(signed_in, dev_world) -> None:
    async with unit_of_work(dev_world.sessions) as db:
        megan = await load_actor(db, dev_world.people["hr"])
        await development.add_action(
            db,
            actor=megan,
            person_id=dev_world.people["employee"],
            kind="stretch",
            title="Lead the platform migration",
            due_on=date(2026, 9, 30),
            source="talent_review",
            now=NOW,
        )
    adele = await signed_in("employee")
    _, page = await get_page(adele, "/tabs/development")
    assert "Stretch assignment · due Wed 30 Sep 2026 · Suggested by your manager line" in _text(page)
    assert "talent review" not in page.lower()
    alex = await signed_in("manager")
    _, page = await get_page(alex, f"/tabs/development/{dev_world.people['employee']}")
    assert "Stretch assignment · due Wed 30 Sep 2026 · From a talent review" in _text(page)


# --- someone else's plan ----------------------------------------------------------------------------------


async def test_alex_sees_adeles_plan_and_marks_it(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    await _add(adele, dev_world, "employee", title="Shadow an architect", goal_id="", request_id="i" * 32)
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == "i" * 32)
    alex = await signed_in("manager")
    _, mine = await get_page(alex, "/tabs/development")
    team = mine[mine.index('id="team"') :]
    assert f'href="/tabs/development/{dev_world.people["employee"]}">Adele Vance</a>' in team
    assert f'href="/tabs/people/{dev_world.people["employee"]}/competencies">Competencies' in team
    status, page = await get_page(alex, f"/tabs/development/{dev_world.people['employee']}")
    assert status == 200
    assert "Adele Vance's development plan" in _text(page) and "Shadow an architect" in page
    assert "Adele Vance, their manager line and HR see this plan." in _text(page)
    status, _, location = await post_form(
        alex,
        f"/tabs/development/actions/{action.id}/progress",
        {"progress": "10", "status": "in_progress", "version": "1"},
    )
    assert (status, location) == (
        303,
        f"/tabs/development/{dev_world.people['employee']}?saved={action.id}#action-{action.id}",
    )
    megan = await signed_in("hr")
    assert (await get_page(megan, f"/tabs/development/{dev_world.people['employee']}"))[0] == 200


# --- career path and "close this gap" -----------------------------------------------------------------------


def _career(page: str) -> str:
    start = page.index('<section class="card dv-section" id="career-path"')
    return page[start : page.index("</section>", start)]


async def test_the_career_path_shows_her_role_and_next_roles_with_their_gaps(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    _, page = await get_page(adele, "/tabs/development?theme=dark")
    career = _career(page)
    shown = _text(career)
    # Coaching 1 of 2, Communication 2 of 4, Delivery 2 of 3, equal weights: (0.5 + 0.5 + 0.667) / 3.
    assert "Current role: Senior engineer 55.6 % ready" in shown
    assert "Communication 2 levels short Assessed 2 · expected 4 of 5" in shown
    assert "Delivery 1 level short Assessed 2 · expected 3 of 5" in shown
    # Steps up first: Staff engineer (2/5 + 2/3) / 2 = 53.3 %, then across to Engineering manager (1/3).
    assert shown.index("Staff engineer Next step up 53.3 % ready") < shown.index(
        "Engineering manager Lateral move 33.3 % ready Coaching 2 levels short Assessed 1 · expected 3"
    )
    # Small bars, not a table: each competency's levels as squares, the short ones marked.
    assert "<table" not in career and career.count('<svg class="cf-meter"') == 6
    meter = career[career.index(f'id="career-current-c{dev_world.communication}"') :]
    meter = meter[meter.index("<svg") : meter.index("</svg>")]
    assert meter.count("cf-meter__step--have") == 2 and meter.count("cf-meter__step--short") == 2
    assert f'href="/tabs/people/{dev_world.people["employee"]}/competencies?theme=dark"' in career
    assert "All of your competencies and assessment history" in shown
    for word in TALENT_WORDS:
        assert word not in career.lower(), word


async def test_a_report_without_a_role_profile_is_told_so(signed_in, dev_world) -> None:
    alex = await signed_in("manager")
    _, page = await get_page(alex, f"/tabs/development/{dev_world.people['isaiah']}")
    career = _text(_career(page))
    assert "No role profile matches Isaiah Langer's job title or position yet" in career
    assert "All of Isaiah Langer's competencies and assessment history" in career
    assert f'href="/tabs/people/{dev_world.people["isaiah"]}/competencies"' in _career(page)


async def test_alex_closes_adeles_delivery_gap_from_her_career_path(signed_in, dev_world) -> None:
    alex = await signed_in("manager")
    adele = dev_world.people["employee"]
    path = f"/tabs/development/{adele}"
    _, page = await get_page(alex, path)
    career = _career(page)
    base = f"career-current-close-{dev_world.delivery}"
    assert f'<details class="cf-close" id="{base}">' in career
    assert f'action="/tabs/development/{adele}/gaps"' in career
    assert f'id="career-current-close-{dev_world.communication}"' not in career, "an action works on it"
    assert "Communication 2 levels short Assessed 2 · expected 4 of 5 In the development plan:" in _text(
        career
    )
    request_id = re.search(rf'id="{base}".*?name="request_id" value="([^"]+)"', career, re.S).group(1)

    before = len(await _actions(dev_world))
    fields = {
        "competency_id": str(dev_world.delivery),
        "kind": "project",
        "due_on": "2026-03-01",
        "title": "Own the <release> train",
        "request_id": request_id,
    }
    status, page, _ = await post_form(alex, f"{path}/gaps", fields)
    assert status == 400
    error = re.search(
        rf'<p class="error notice cf-form__error" id="{base}-due-error" role="alert">(.*?)</p>', page
    )
    assert htmllib.unescape(error.group(1)) == (
        "The due date (1 March 2026) is in the past: choose today or a later day."
    )
    assert f'<details class="cf-close" id="{base}" open>' in page
    assert (
        'value="2026-03-01" aria-invalid="true"' in page and 'value="Own the &lt;release&gt; train"' in page
    )
    assert '<option value="project" selected>Project</option>' in page
    assert len(await _actions(dev_world)) == before, "nothing written"

    status, _, location = await post_form(alex, f"{path}/gaps", {**fields, "due_on": "2026-06-30"})
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == request_id)
    assert (status, location) == (303, f"{path}?added={action.id}#action-{action.id}")
    # Her latest Delivery level came from a released review: so does the action; it aims at level 3.
    assert (action.source, action.kind, action.target_level, action.competency_id) == (
        "review",
        "project",
        3,
        dev_world.delivery,
    )
    status, _, again = await post_form(alex, f"{path}/gaps", {**fields, "due_on": "2026-06-30"})
    assert (status, again) == (303, location), "a second submit of the same form adds nothing"

    _, page = await get_page(alex, location)
    item = page[page.index(f'<li class="dv-action dv-action--new" id="action-{action.id}">') :].split(
        "</li>"
    )[0]
    assert "Just added" in item and page.count("dv-action--new") == 1
    assert "Project · due Tue 30 Jun 2026 · From a performance review" in _text(item)
    assert f'id="{base}"' not in _career(page)
    assert "In the development plan: Own the <release> train" in _text(_career(page))

    # Another form for the same gap now finds the open action: 409, the sentence above the gaps.
    status, page, _ = await post_form(
        alex, f"{path}/gaps", {**fields, "due_on": "2026-06-30", "request_id": "z" * 32}
    )
    assert status == 409
    assert "An open action already works on “Delivery”: “Own the <release> train”." in _text(
        page[page.index('id="career-close-error"') :].split("</p>")[0]
    )
    status, page, _ = await post_form(
        alex, f"{path}/gaps", {**fields, "competency_id": "x1", "request_id": "y" * 32}
    )
    assert status == 400 and "That competency is not in the framework" in _text(_career(page))
    assert len(await _actions(dev_world)) == before + 1


async def test_no_one_outside_her_line_closes_her_gaps(signed_in, dev_world) -> None:
    before = len(await _actions(dev_world))
    patti = await signed_in("patti")
    status, page, _ = await post_form(
        patti,
        f"/tabs/development/{dev_world.people['employee']}/gaps",
        {"competency_id": str(dev_world.communication), "kind": "course", "due_on": "2026-06-30"},
    )
    assert status == 403 and "Only Adele Vance, their manager line and HR can add" in _text(page)
    assert len(await _actions(dev_world)) == before


@pytest.mark.parametrize("persona", ["patti", "isaiah"])
async def test_outside_her_line_the_plan_is_refused(signed_in, dev_world, persona) -> None:
    adele = await signed_in("employee")
    await _add(
        adele, dev_world, "employee", title="Private plans", goal_id="", request_id=f"refused-{persona}"
    )
    [action] = await _actions(dev_world, DevelopmentAction.client_request_id == f"refused-{persona}")
    before = len(await _actions(dev_world))
    stranger = await signed_in(persona)
    status, page = await get_page(stranger, f"/tabs/development/{dev_world.people['employee']}")
    assert status == 403
    assert "You don't have access to Adele Vance's development plan." in _text(page)
    assert "Private plans" not in page
    status, page, _ = await _add(stranger, dev_world, "employee", request_id=f"stranger-{persona}")
    assert status == 403 and "Only Adele Vance, their manager line and HR can add" in _text(page)
    status, page, _ = await post_form(
        stranger,
        f"/tabs/development/actions/{action.id}/progress",
        {"progress": "99", "status": "done", "version": "1"},
    )
    assert status == 404 and "Private plans" not in page
    status, _, _ = await post_form(stranger, f"/tabs/development/actions/{action.id}/goal", {})
    assert status == 404
    assert len(await _actions(dev_world)) == before
    [stored] = await _actions(dev_world, DevelopmentAction.id == action.id)
    assert (stored.progress, stored.goal_id) == (0, None)


async def test_unknown_people_and_ones_own_id(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    assert (await get_page(adele, "/tabs/development/987654"))[0] == 404
    async with adele.get(
        f"/tabs/development/{dev_world.people['employee']}?theme=dark", allow_redirects=False
    ) as r:
        assert (r.status, r.headers["Location"]) == (302, "/tabs/development?theme=dark")
    async with (
        aiohttp.ClientSession(dev_world.base_url) as anonymous,
        anonymous.get("/tabs/development", allow_redirects=False) as r,
    ):
        assert r.status in (302, 303) and r.headers["Location"].startswith("/tabs/signin")


async def test_the_page_keeps_the_theme_and_has_no_inline_style(signed_in, dev_world) -> None:
    adele = await signed_in("employee")
    async with adele.get("/tabs/development?theme=contrast") as r:
        page = await r.text()
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert '<body class="theme-contrast"' in page
    assert "style=" not in page and "<style" not in page
    assert '<link rel="stylesheet" href="/tabs/static/development.css">' in page
    assert '/progress?theme=contrast"' in page or "no actions yet" in page
    async with adele.get("/tabs/static/development.css") as r:
        assert r.status == 200


# --- in real Chromium -------------------------------------------------------------------------------------

PAGE_TEXT = [
    "h1",
    "h2",
    "h3",
    "a",
    "label",
    "dt",
    "dd",
    ".button",
    ".meta",
    ".meta-inline",
    ".status",
    "summary",
    "input",
    "select",
    "textarea",
]


async def _browser_sign_in(browser: Browser, world: DevWorld, name: str, **options):
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    page = watched.page
    await page.goto(f"{world.base_url}/tabs/development")
    await page.get_by_role("button", name=re.compile(name)).click()
    await expect(page).to_have_url(f"{world.base_url}/tabs/development")
    return watched


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_page_works_and_meets_contrast_in_every_theme(
    browser: Browser, signed_in, dev_world: DevWorld, theme: str
) -> None:
    adele = await signed_in("employee")
    await _add(adele, dev_world, "employee", title="Contrast check", request_id="k" * 31 + theme[0])
    watched = await _browser_sign_in(browser, dev_world, "Adele Vance")
    page = watched.page
    try:
        await page.goto(f"{dev_world.base_url}/tabs/development?theme={theme}")
        await expect(page.locator("body")).to_have_class(f"theme-{theme}")
        assert await page.locator("details.cf-close").count() >= 1, "a gap to close is on the page"
        for details in await page.locator("details.dv-update, details.cf-close").all():
            await details.locator("summary").click()
        ratios = await page.evaluate(CONTRAST_PROBE, PAGE_TEXT)
        low = [r for r in ratios if r[1] < 4.5]
        assert low == [], low
        assert {".status", "dd", "label", "summary"} <= {selector for selector, _ in ratios}
        await watched.assert_clean()
    finally:
        await watched.context.close()


@pytest.mark.browser
async def test_the_page_reflows_without_horizontal_scroll(
    browser: Browser, signed_in, dev_world: DevWorld
) -> None:
    adele = await signed_in("employee")
    await _add(adele, dev_world, "employee", title="W" * 60, request_id="m" * 32)
    for width in WIDTHS:
        watched = await _browser_sign_in(
            browser, dev_world, "Adele Vance", viewport={"width": width, "height": 800}
        )
        try:
            for details in await watched.page.locator("details.dv-update, details.cf-close").all():
                await details.locator("summary").click()
            scroll, inner = await watched.page.evaluate(
                "[document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert scroll <= inner, (width, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()

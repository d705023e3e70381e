"""The competency pages over HTTP, through the real aiohttp server: the framework page (HR adds a
competency, a role profile and a career step; everyone else is refused) and a person's competencies page
(a manager records an assessment for Adele; Adele reads her own gaps without a form; someone outside her
line is refused; a bad form gets 400 with its message next to the field and the typed values kept), and
"Close this gap" on her current role's gaps, which lands on her development plan with the new action.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; Megan is HR),
in its own SQLite file, with the framework of tests/support/competencies.py built through the services.
Patti manages Alex here, so she is in Adele's line; Lee and Isaiah are not. The clock is fixed at NOW
(Monday 2 March 2026).
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import competencies
from domain.access import load_actor
from domain.talent import careers
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    RoleProfile,
)
from storage.uow import unit_of_work
from tabs.settings import TabSettings
from tests.support.competencies import NOW, Framework, build_framework

from .conftest import (
    ISAIAH,
    LEAVER,
    PATTI,
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
from .conftest import visible_text as text

FRAMEWORK = "/tabs/talent/framework"
PERSONAS_HERE = {**PERSONAS, "isaiah": (TENANT, ISAIAH), "lee": (TENANT, LEAVER), "patti": (TENANT, PATTI)}


@dataclass(frozen=True)
class World:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    fw: Framework

    def page(self, who: str) -> str:
        return f"/tabs/people/{self.people[who]}/competencies"


@pytest.fixture(scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings) -> AsyncIterator[World]:
    """A tab server on its own database: the framework, Senior → Staff (up) and → Engineering manager
    (across), and Adele's Delivery assessed 3 by Alex on 15 January."""
    async with world_store(tmp_path_factory, "competencies") as sessions:
        async with unit_of_work(sessions) as db:
            people = await person_ids(db)
            megan = await load_actor(db, people["megan"])
            alex = await load_actor(db, people["alex"])
            fw = await build_framework(db, megan)
            for target, kind in ((fw.staff, "ladder"), (fw.manager, "lateral")):
                await careers.add_career_step(
                    db, actor=megan, from_profile_id=fw.senior.id, to_profile_id=target.id, kind=kind
                )
            await competencies.assess(
                db,
                actor=alex,
                person_id=people["adele"],
                competency_id=fw.delivery.id,
                level=3,
                on=date(2026, 1, 15),
                now=NOW,
            )
        async with tab_server(sessions, tab_settings, personas=PERSONAS_HERE, clock=lambda: NOW) as base_url:
            yield World(base_url, sessions, people, fw)


@pytest.fixture
async def signed_in(world: World) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("employee")`."""
    async with persona_clients(world.base_url) as sign_in:
        yield sign_in


def section(html: str, element_id: str) -> str:
    start = html.rindex("<section", 0, html.index(f'id="{element_id}"'))
    return html[start : html.index("</section>", start)]


def error(html: str, error_id: str) -> str:
    match = re.search(
        rf'<p class="error notice cf-form__error" id="{error_id}" role="alert">(.*?)</p>', html, re.S
    )
    assert match, f"no error {error_id} on the page"
    return htmllib.unescape(match.group(1))


async def count(world: World, model, *where) -> int:
    async with unit_of_work(world.sessions) as db:
        return await db.scalar(select(func.count()).select_from(model).where(*where))


# --- the framework -----------------------------------------------------------------------------------------


async def test_hr_sees_the_framework_and_adds_a_competency(signed_in, world) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, FRAMEWORK)
    assert status == 200
    assert '<a href="/tabs/talent/framework" aria-current="page">Competencies</a>' in html
    shown = text(section(html, "competencies"))
    assert "Behaviours Communication Level 1 Listens Level 2 Explains clearly" in shown
    assert "Leadership Coaching Helping others grow" in shown
    assert "Senior engineer People whose job title is “senior software engineer”" in text(
        section(html, "profiles")
    )
    assert "Communication: level 3 Adapts to the audience · weight 2" in text(section(html, "profiles"))
    steps = text(section(html, "steps"))
    assert "Senior engineer → leads to Staff engineer Next step up" in steps
    assert "Senior engineer → leads to Engineering manager Lateral move" in steps
    assert "style=" not in html, "no inline styles under the CSP"

    status, _, location = await post_form(
        megan,
        f"{FRAMEWORK}/competencies",
        {
            "name": "Negotiation",
            "category": "Functional",
            "levels": "Haggles\n\n  Finds the middle  \nShapes the deal\n",
            "description": "",
        },
    )
    assert status == 303
    made = await count(world, Competency, Competency.name == "Negotiation")
    assert made == 1
    assert location.startswith(f"{FRAMEWORK}?saved=competency#competency-")
    _, html = await get_page(megan, FRAMEWORK, saved="competency")
    assert "Competency saved." in html
    negotiation = text(section(html, "competencies"))
    assert "Negotiation Level 1 Haggles Level 2 Finds the middle Level 3 Shapes the deal" in negotiation


async def test_a_bad_competency_form_is_refused_next_to_its_field_with_what_was_typed(
    signed_in, world
) -> None:
    megan = await signed_in("hr")
    before = await count(world, Competency)
    status, html, _ = await post_form(
        megan,
        f"{FRAMEWORK}/competencies",
        {
            "name": "Resilience",
            "category": "Behaviours",
            "levels": "Only one level",
            "description": "Bounce <b>",
        },
    )
    assert status == 400
    assert error(html, "competency-levels-error") == (
        "A competency has from 2 to 10 levels, each described: not 1."
    )
    assert 'aria-invalid="true" aria-describedby="competency-levels-hint competency-levels-error"' in html
    assert 'value="Resilience"' in html and ">Only one level</textarea>" in html
    assert "Bounce &lt;b&gt;</textarea>" in html
    status, html, _ = await post_form(
        megan,
        f"{FRAMEWORK}/competencies",
        {"name": " communication", "category": "Behaviours", "levels": "a\nb"},
    )
    assert status == 400
    assert error(html, "competency-name-error") == (
        "A competency named “Communication” already exists: choose another name."
    )
    assert await count(world, Competency) == before


async def test_hr_adds_a_role_profile_and_a_career_step_and_bad_ones_are_refused(signed_in, world) -> None:
    megan, fw = await signed_in("hr"), world.fw
    fields = {
        "name": "Principal engineer",
        "job_title": "Principal Engineer",
        "description": "",
        "req0_competency": str(fw.communication.id),
        "req0_level": "5",
        "req0_weight": "2",
        "req1_competency": str(fw.coaching.id),
        "req1_level": "4",
        "req1_weight": "",
    }
    status, html, _ = await post_form(megan, f"{FRAMEWORK}/profiles", fields)
    assert status == 400
    assert error(html, "req1-level-error") == (
        "“Coaching” has levels 1 to 3: the expected level 4 is not one of them."
    )
    assert (
        'id="req1-level" name="req1_level" type="text" inputmode="numeric" autocomplete="off" value="4"'
        in html
    )
    assert f'<option value="{fw.coaching.id}" selected>Coaching (levels 1 to 3)</option>' in html
    assert 'value="Principal engineer"' in html
    assert await count(world, RoleProfile, RoleProfile.name == "Principal engineer") == 0

    status, _, location = await post_form(megan, f"{FRAMEWORK}/profiles", {**fields, "req1_level": "3"})
    assert status == 303 and location.startswith(f"{FRAMEWORK}?saved=profile#profile-")
    principal = int(location.rsplit("-", 1)[1])

    loop = {"from_id": str(principal), "to_id": str(fw.senior.id), "kind": "ladder"}
    await post_form(
        megan, f"{FRAMEWORK}/steps", {"from_id": str(fw.staff.id), "to_id": str(principal), "kind": "ladder"}
    )
    status, html, _ = await post_form(megan, f"{FRAMEWORK}/steps", loop)
    assert status == 400
    assert "would make the ladder loop" in error(html, "step-to-error")
    assert f'<option value="{principal}" selected>Principal engineer</option>' in section(html, "new-step")
    assert await count(world, CareerStep) == 3


async def test_only_hr_opens_the_framework_page_and_its_forms(signed_in, world) -> None:
    for persona in ("employee", "manager", "patti"):
        client = await signed_in(persona)
        status, html = await get_page(client, FRAMEWORK)
        assert status == 403, persona
        assert "No access to the competency framework" in html
        assert "Communication" not in html
        status, _, _ = await post_form(
            client, f"{FRAMEWORK}/competencies", {"name": "Sneaky", "category": "x", "levels": "a\nb"}
        )
        assert status == 403
    assert await count(world, Competency, Competency.name == "Sneaky") == 0


# --- a person's competencies ---------------------------------------------------------------------------


async def test_a_manager_records_an_assessment_for_adele(signed_in, world) -> None:
    alex, fw = await signed_in("manager"), world.fw
    page = world.page("adele")
    status, html = await get_page(alex, page)
    assert status == 200
    assert "Adele Vance's competencies" in text(html)
    form = section(html, "assess")
    request_id = re.search(r'name="request_id" value="([^"]+)"', form).group(1)
    assert 'max="2026-03-02"' in form and 'value="2026-03-02"' in form
    fields = {
        "competency_id": str(fw.communication.id),
        "level": "4",
        "on": "2026-02-27",
        "note": "Ran the incident review",
        "request_id": request_id,
    }
    status, _, location = await post_form(alex, page, fields, csrf_from=page)
    assert (status, location) == (303, f"{page}?saved=1#history")
    # The same form sent again writes nothing more.
    status, _, _ = await post_form(alex, page, fields, csrf_from=page)
    assert status == 303
    assert await count(world, CompetencyAssessment, CompetencyAssessment.client_request_id == request_id) == 1

    _, html = await get_page(alex, page, saved="1")
    assert "Assessment saved." in html
    history = text(section(html, "history"))
    assert "Communication Level 4 of 5: Persuades 27 February 2026 · Assessment by Alex Wilber" in history
    assert "Ran the incident review" in history
    current = text(section(html, "current"))
    assert "Current role: Senior engineer" in current
    # Communication 3 (weight 2) has 4: met; Delivery 4 has 3: 1 short; Coaching 2 never: (2 + 0.75) / 4.
    assert "68.8 % ready" in current
    assert (
        "Communication · Behaviours · weight 2 Level 3 of 5 Adapts to the audience Level 4 Persuades"
        in current
    )
    assert "Delivery · Functional Level 4 of 4 Delivers for the org Level 3 Delivers for the team" in current
    assert "1 level short" in current and "Not assessed" in current
    options = text(section(html, "options"))
    # Staff: (1 + 2·3/4 + 0) / 4 = 62.5 %; Engineering manager: (3·0 + 1) / 4 = 25 %.
    assert options.index("Staff engineer Next step up 62.5 % ready") < options.index(
        "Engineering manager Lateral move 25.0 % ready"
    )


async def test_adele_reads_her_own_gaps_without_a_form(signed_in, world) -> None:
    adele = await signed_in("employee")
    page = world.page("adele")
    status, html = await get_page(adele, page)
    assert status == 200
    assert "Your competencies" in html
    assert "Current role: Senior engineer" in text(html)
    assert "Delivery Level 3 of 4: Delivers for the team" in text(section(html, "history"))
    assert 'id="assess"' not in html and 'name="level"' not in html and "Record an assessment" not in html
    for talent in ("potential", "9-box", "Succession", "successor", "flight risk", "Talent review"):
        assert talent not in text(section(html, "current")) + text(section(html, "history")), talent
    before = await count(world, CompetencyAssessment)
    status, html, _ = await post_form(
        adele,
        page,
        {"competency_id": str(world.fw.coaching.id), "level": "3", "on": "2026-03-01"},
        csrf_from=page,
    )
    assert status == 403 and "You can't assess your own competencies" in text(html)
    assert await count(world, CompetencyAssessment) == before


async def test_people_outside_adeles_line_are_refused(signed_in, world) -> None:
    page = world.page("adele")
    before = await count(world, CompetencyAssessment)
    for persona in ("lee", "isaiah"):
        client = await signed_in(persona)
        status, html = await get_page(client, page)
        assert status == 403, persona
        assert "You don't have access to Adele Vance's career path." in text(html) and "Delivers" not in html
        status, _, _ = await post_form(
            client, page, {"competency_id": str(world.fw.coaching.id), "level": "1", "on": "2026-03-01"}
        )
        assert status == 403
    assert await count(world, CompetencyAssessment) == before
    # Patti manages Alex here: she is in Adele's line and may assess her.
    patti = await signed_in("patti")
    status, html = await get_page(patti, page)
    assert status == 200 and 'id="assess"' in html


async def test_a_bad_assessment_form_gets_400_with_the_message_and_what_was_typed(signed_in, world) -> None:
    alex, fw = await signed_in("manager"), world.fw
    page = world.page("adele")
    before = await count(world, CompetencyAssessment)
    typed = {
        "competency_id": str(fw.coaching.id),
        "level": "9",
        "on": "2026-02-10",
        "note": "Mentored <two> juniors",
        "request_id": "bad-form-1",
    }
    status, html, _ = await post_form(alex, page, typed, csrf_from=page)
    assert status == 400
    assert (
        error(html, "assess-level-error") == "“Coaching” has levels 1 to 3: the level 9 is not one of them."
    )
    assert (
        'value="9"' in html
        and 'aria-invalid="true" aria-describedby="assess-levels assess-level-error"' in html
    )
    assert f'<option value="{fw.coaching.id}" selected>' in html
    assert ">Mentored &lt;two&gt; juniors</textarea>" in html and 'value="2026-02-10"' in html
    assert 'name="request_id" value="bad-form-1"' in html

    status, html, _ = await post_form(alex, page, {**typed, "level": "2", "on": "2026-03-03"}, csrf_from=page)
    assert status == 400
    assert error(html, "assess-on-error") == (
        "The assessment's day (3 March 2026) is in the future: choose today or an earlier day."
    )
    status, html, _ = await post_form(
        alex, page, {**typed, "level": "2", "competency_id": "999999"}, csrf_from=page
    )
    assert status == 400 and error(html, "assess-competency-error") == "That competency does not exist."
    status, html, _ = await post_form(alex, page, {**typed, "level": "two"}, csrf_from=page)
    assert status == 400 and "Type the level" in error(html, "assess-level-error")
    assert await count(world, CompetencyAssessment) == before

    status, html = await get_page(alex, "/tabs/people/999999/competencies")
    assert status == 404 and "That person is not in the directory." in html
    status, _, _ = await post_form(alex, "/tabs/people/999999/competencies", {**typed, "level": "2"})
    assert status == 404


# --- close this gap -----------------------------------------------------------------------------------------


async def test_each_gap_of_her_role_offers_close_this_gap_to_her_and_her_line(signed_in, world) -> None:
    fw = world.fw
    for persona in ("employee", "manager", "hr"):
        client = await signed_in(persona)
        _, html = await get_page(client, world.page("adele"))
        current = section(html, "current")
        # Delivery 3 of the 4 expected is a gap; Communication is met (4 of 3) and Coaching never assessed.
        assert f'<details class="cf-close" id="gaps-current-close-{fw.delivery.id}">' in current, persona
        assert current.count('class="cf-close"') == 1, persona
        assert f'action="/tabs/people/{world.people["adele"]}/competencies/gaps"' in current
        assert 'class="cf-close"' not in section(html, "options"), "next roles are not closed from here"
        plan = "/tabs/development" if persona == "employee" else f"/tabs/development/{world.people['adele']}"
        assert f'<a href="{plan}">' in html
    patti = await signed_in("patti")
    _, html = await get_page(patti, world.page("adele"))
    assert 'class="cf-close"' in html, "Patti is in Adele's line here"


async def test_a_manager_closes_a_gap_and_lands_on_her_plan_with_the_action(signed_in, world) -> None:
    alex, fw = await signed_in("manager"), world.fw
    adele = world.people["adele"]
    page = world.page("adele")
    gaps = f"{page}/gaps"
    base = f"gaps-current-close-{fw.delivery.id}"
    before = await count(world, DevelopmentAction)
    typed = {
        "competency_id": str(fw.delivery.id),
        "kind": "stretch",
        "due_on": "2026-02-28",
        "title": "",
        "request_id": "close-delivery-1",
    }
    status, html, _ = await post_form(alex, gaps, typed, csrf_from=page)
    assert status == 400
    assert error(html, f"{base}-due-error") == (
        "The due date (28 February 2026) is in the past: choose today or a later day."
    )
    assert f'<details class="cf-close" id="{base}" open>' in html
    assert '<option value="stretch" selected>Stretch assignment</option>' in html
    assert 'value="2026-02-28" aria-invalid="true"' in html and 'value="close-delivery-1"' in html
    assert await count(world, DevelopmentAction) == before, "nothing written"

    status, _, location = await post_form(alex, gaps, {**typed, "due_on": "2026-06-01"}, csrf_from=page)
    async with unit_of_work(world.sessions) as db:
        action = await db.scalar(
            select(DevelopmentAction).where(DevelopmentAction.client_request_id == "close-delivery-1")
        )
    assert (status, location) == (303, f"/tabs/development/{adele}?added={action.id}#action-{action.id}")
    # Alex assessed her Delivery himself (no review): an action added by hand, aiming at the expected 4.
    assert (action.title, action.kind, action.source, action.target_level) == (
        "Reach level 4 in Delivery",
        "stretch",
        "manual",
        4,
    )
    status, plan = await get_page(alex, location.split("#")[0].split("?")[0], added=str(action.id))
    assert (
        status == 200
        and "Just added" in plan
        and "Added “Reach level 4 in Delivery” to the plan." in text(plan)
    )

    _, html = await get_page(alex, page)
    current = section(html, "current")
    assert 'class="cf-close"' not in current
    assert f'<a href="/tabs/development/{adele}#action-{action.id}">Reach level 4 in Delivery</a>' in current
    adele_client = await signed_in("employee")
    _, html = await get_page(adele_client, page, theme="dark")
    assert f'<a href="/tabs/development?theme=dark#action-{action.id}">' in section(html, "current")

    # Again for the same gap (a fresh form): an open action works on it already.
    status, html, _ = await post_form(
        alex, gaps, {**typed, "due_on": "2026-06-01", "request_id": "close-2"}, csrf_from=page
    )
    assert status == 409
    assert error(html, "close-error") == (
        "An open action already works on “Delivery”: “Reach level 4 in Delivery”."
    )
    status, html, _ = await post_form(
        alex, gaps, {**typed, "competency_id": "999999", "request_id": "close-3"}, csrf_from=page
    )
    assert status == 400
    assert error(html, "close-error") == "That competency is not in the framework: choose one from the list."
    assert await count(world, DevelopmentAction) == before + 1


async def test_no_one_outside_her_line_closes_her_gaps(signed_in, world) -> None:
    before = await count(world, DevelopmentAction)
    for persona in ("lee", "isaiah"):
        client = await signed_in(persona)
        status, html, _ = await post_form(
            client,
            f"{world.page('adele')}/gaps",
            {"competency_id": str(world.fw.coaching.id), "kind": "course", "due_on": "2026-06-01"},
        )
        assert status == 403, persona
        assert "Only Adele Vance, their manager line and HR can add to their development plan." in text(html)
    status, html, _ = await post_form(
        await signed_in("manager"),
        "/tabs/people/999999/competencies/gaps",
        {"competency_id": str(world.fw.coaching.id), "kind": "course", "due_on": "2026-06-01"},
    )
    assert status == 404
    assert await count(world, DevelopmentAction) == before


async def test_the_pages_follow_the_teams_theme_and_forms_keep_it(signed_in, world) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, FRAMEWORK, theme="dark")
    assert status == 200 and 'class="theme-dark"' in html
    assert f'action="{FRAMEWORK}/competencies?theme=dark#new-competency"' in html
    status, html = await get_page(megan, world.page("adele"), theme="contrast")
    assert status == 200 and 'class="theme-contrast"' in html
    assert f'action="{world.page("adele")}?theme=contrast#assess"' in html
    assert "style=" not in html

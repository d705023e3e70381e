"""The Succession tab over HTTP: the board (figures, filter, heat map, cards, what the viewer never sees
about themselves), a position's page and its forms (naming, changing, removing a successor, the emergency
successor, marking critical, recording a fill), the positions list, refusals and bad input.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; the QA tester
reports to Megan, who is HR), in its own SQLite file; Lee is a talent reviewer for Engineering. The
server's clock is fixed at NOW. Positions, built through the services:

    VP of Engineering    Engineering  Patti   critical  Alex ready now (emergency, notes with markup),
                                                        Adele 1-2 years (18 months), Megan 1-2 years (by Lee)
    QA Lead              QA           tester  critical  Isaiah 3-5 years
    Head of People       People       Megan   critical  Lee ready now
    Staff Engineer       Engineering  Lee     critical  nobody
    Engineering Manager  Engineering  Alex    not critical        (the critical form's test)
    Director of Platform Engineering  vacant  critical  nobody    (the slate forms' tests)
    Director of Data     Engineering  Isaiah  critical  Adele ready now, Alex 1-2 years (the fill test)

Risk x impact from a talent review: Patti high x high, Megan medium x high, the tester low x low.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.performance import review_cycles, review_templates
from domain.performance.review_views import FIVE_POINT_SCALE, CycleDeadlines, ParticipantRule
from domain.talent import succession
from storage.models import (
    AuditEntry,
    Person,
    Position,
    PositionFill,
    RoleGrant,
    Successor,
    TalentReview,
    TalentReviewEntry,
)
from storage.uow import unit_of_work
from tabs.settings import TabSettings
from tests.support.reviews import STANDARD_SECTIONS

from .conftest import (
    LEAVER,
    PERSONAS,
    TENANT,
    XSS_NAME,
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
TODAY = NOW.date()
NOTES_SCRIPT = "<script>alert('notes')</script><b>bold</b>"
SUCCESSION_PERSONAS = {**PERSONAS, "lee": (TENANT, LEAVER)}
BOARD = "/tabs/talent/succession"


@dataclass(frozen=True)
class SuccessionWorld:
    """A tab server (dev sign-in, clock at NOW) on the positions above; ids by name."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    people: dict[str, int]
    positions: dict[str, int]


async def _build(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict[str, int], dict[str, int]]:
    async with unit_of_work(sessions) as db:
        people = await person_ids(db)
        db.add(RoleGrant(person_id=people["lee"], role="talent_reviewer", scope_department="Engineering"))
        await db.flush()
        megan, lee = await load_actor(db, people["megan"]), await load_actor(db, people["lee"])
        specs = {
            "vp_eng": ("VP of Engineering", "Engineering", "patti", True),
            "qa": ("QA Lead", "QA", "tester", True),
            "people": ("Head of People", "People", "megan", True),
            "staff": ("Staff Engineer", "Engineering", "lee", True),
            "em": ("Engineering Manager", "Engineering", "alex", False),
            "platform": ("Director of Platform", "Engineering", None, True),
            "data": ("Director of Data", "Engineering", "isaiah", True),
        }
        rows = {
            key: Position(
                title=title,
                department=dept,
                incumbent_id=people[who] if who else None,
                critical=critical,
            )
            for key, (title, dept, who, critical) in specs.items()
        }
        db.add_all(rows.values())
        await db.flush()
        positions = {key: row.id for key, row in rows.items()}

        async def nominate(actor, position, person, readiness, **kw):
            await succession.nominate(
                db,
                actor=actor,
                position_id=positions[position],
                person_id=people[person],
                readiness=readiness,
                now=NOW,
                **kw,
            )

        await nominate(megan, "vp_eng", "alex", "ready_now", emergency=True, notes=NOTES_SCRIPT)
        await nominate(megan, "vp_eng", "adele", "1_2_years", months_to_ready=18)
        await nominate(lee, "vp_eng", "megan", "1_2_years", notes="Megan's own secret")
        await nominate(megan, "qa", "isaiah", "3_5_years")
        await nominate(megan, "people", "lee", "ready_now")
        await nominate(megan, "data", "adele", "ready_now")
        await nominate(megan, "data", "alex", "1_2_years")

        template = await review_templates.create_template(
            db,
            actor=megan,
            name="Quarterly review",
            scale=FIVE_POINT_SCALE,
            sections=STANDARD_SECTIONS,
            now=NOW,
        )
        cycle = await review_cycles.create_cycle(
            db,
            actor=megan,
            name="2026-Q1 review",
            template_id=template.id,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 3, 31),
            deadlines=CycleDeadlines(
                self_review=date(2026, 6, 12),
                peer_review=date(2026, 6, 19),
                manager_review=date(2026, 6, 26),
                calibration=date(2026, 7, 3),
                acknowledgement=date(2026, 7, 17),
            ),
            participants=ParticipantRule.people([people["adele"]]),
            now=NOW,
        )
        review = TalentReview(
            name="2026 talent review", performance_cycle_id=cycle.id, medium_from=2.5, high_from=4.0
        )
        db.add(review)
        await db.flush()
        for who, risk, impact in (("patti", 3, 3), ("megan", 2, 3), ("tester", 1, 1)):
            db.add(
                TalentReviewEntry(
                    talent_review_id=review.id,
                    person_id=people[who],
                    risk_of_loss=risk,
                    impact_of_loss=impact,
                )
            )
    return people, positions


@pytest.fixture(scope="module")
async def succession_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[SuccessionWorld]:
    """A tab server on its own database of the positions above."""
    async with world_store(tmp_path_factory, "succession") as sessions:
        people, positions = await _build(sessions)
        async with tab_server(
            sessions, tab_settings, personas=SUCCESSION_PERSONAS, clock=lambda: NOW
        ) as base_url:
            yield SuccessionWorld(base_url, sessions, people, positions)


@pytest.fixture
async def signed_in(succession_world: SuccessionWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("hr")`."""
    async with persona_clients(succession_world.base_url) as sign_in:
        yield sign_in


def _block(html: str, element_id: str, tag: str = "section") -> str:
    """The markup of the <tag> with this id, nested ones included."""
    start = html.rindex(f"<{tag}", 0, html.index(f'id="{element_id}"'))
    depth = 0
    for found in re.finditer(rf"<{tag}\b|</{tag}>", html[start:]):
        depth += 1 if found.group(0) == f"<{tag}" else -1
        if depth == 0:
            return html[start : start + found.end()]
    raise AssertionError(f"{tag} {element_id} is not closed")


def _error(html: str, error_id: str) -> str:
    match = re.search(
        rf'<p class="error notice rv-form__error" id="{error_id}" role="alert">(.*?)</p>', html, re.S
    )
    assert match, f"no error {error_id} on the page"
    return htmllib.unescape(match.group(1))


async def _slate(
    world: SuccessionWorld, position: str
) -> list[tuple[str, str, int | None, bool, str | None]]:
    async with unit_of_work(world.sessions) as db:
        rows = await db.execute(
            select(
                Person.display_name,
                Successor.readiness,
                Successor.months_to_ready,
                Successor.emergency,
                Successor.notes,
            )
            .join(Person, Person.id == Successor.person_id)
            .where(Successor.position_id == world.positions[position])
            .order_by(Person.display_name)
        )
        return [tuple(row) for row in rows.all()]


async def _audits(world: SuccessionWorld, action: str) -> list[AuditEntry]:
    async with unit_of_work(world.sessions) as db:
        return list((await db.scalars(select(AuditEntry).where(AuditEntry.action == action))).all())


# --- the board -------------------------------------------------------------------------------------------


async def test_the_board_shows_figures_heat_map_and_a_card_per_critical_position(
    signed_in, succession_world: SuccessionWorld
) -> None:
    megan = await signed_in("hr")
    before = len(await _audits(succession_world, "talent.succession.view"))
    status, html = await get_page(megan, BOARD)
    assert status == 200
    assert '<a href="/tabs/talent/succession" aria-current="page">Succession</a>' in html
    text = _text(html)
    assert "Critical positions (6)" in text
    p = succession_world.positions
    cards = {key: _text(_block(html, f"position-{p[key]}", "li")) for key in p if key != "em"}
    assert f'id="position-{p["em"]}"' not in html, "not critical"
    assert (
        "VP of Engineering Engineering Patti Fernandez VP of Engineering Risk high · impact high"
        in cards["vp_eng"]
    )
    assert (
        "Alex Wilber Engineering Manager Ready now ★ Emergency successor "
        "Adele Vance Senior Software Engineer Ready in 1\u20132 years · 18 months"
    ) in cards["vp_eng"]
    assert "Megan" not in cards["vp_eng"], "her own place on the slate is hers to never see"
    assert "No successor" not in cards["vp_eng"] and "No one ready now" not in cards["vp_eng"]
    assert "Head of People People Megan Bowen VP of People Risk and impact not rated" in cards["people"], (
        "her own risk and impact are left out"
    )
    assert (
        "Isaiah Langer Software Engineer Ready in 3\u20135 years" in cards["qa"]
        and "No one ready now" in cards["qa"]
    )
    assert "Risk low · impact low" in cards["qa"]
    assert "No successor" in cards["staff"] and "sc-card--uncovered" in _block(
        html, f"position-{p['staff']}", "li"
    )
    assert "Vacant" in cards["platform"]
    assert NOTES_SCRIPT not in html and "&lt;script&gt;alert(&#39;notes&#39;)" not in html, (
        "notes stay on the page"
    )
    assert XSS_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, "names are escaped"
    # The chips are coloured by readiness and say it in words.
    assert 'class="sc-chip sc-chip--now sc-chip--emergency"' in html and "sc-chip--soon" in html
    assert "sc-chip--later" in html

    # Figures from metrics.bench_strength, for Megan: 6 critical positions; ready now on VP of Engineering,
    # Head of People and Director of Data; any on those and QA Lead. Alex is on two slates, Adele on two
    # (½ each): (½ + ½) + 1 + 1 + (½ + ½) = 4 successors over 6 positions = 0.67.
    figures = _text(_block(html, "figures-heading", "section"))
    assert "50 % Ready-now coverage 3 of 6 critical positions have someone ready now" in figures
    assert "66.7 % Any coverage 4 of 6 have at least one successor" in figures
    assert "0.67 Depth" in figures
    heat = _block(html, "heat-heading", "section")
    cells = re.findall(
        r'sc-heat__cell sc-heat__cell--(\w+)[^"]*">\s*<span class="sc-heat__count">(\d+)</span>', heat
    )
    assert cells == [
        ("medium", "0"),
        ("high", "0"),
        ("high", "1"),  # Patti: high impact, high risk
        ("low", "0"),
        ("medium", "0"),
        ("high", "0"),
        ("low", "1"),  # the tester: low, low
        ("low", "0"),
        ("medium", "0"),
    ]
    assert "1 incumbent: High impact, high risk" in _text(heat)
    assert "2 not rated" in _text(heat), "Lee and Isaiah; Megan's own rating is left out, not counted"
    audits = await _audits(succession_world, "talent.succession.view")
    assert len(audits) == before + 1 and audits[-1].detail == {"department": None, "positions": 6}


async def test_the_department_filter_and_a_talent_reviewers_scope(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, BOARD, department="QA")
    assert status == 200
    assert re.findall(r'<h3 class="sc-card__title"><a [^>]*>([^<]+)</a>', html) == ["QA Lead"]
    assert '<option value="QA" selected>QA</option>' in html
    assert "0 % Ready-now coverage 0 of 1" in _text(html)

    lee = await signed_in("lee")
    status, html = await get_page(lee, BOARD)
    assert status == 200
    titles = re.findall(r'<h3 class="sc-card__title"><a [^>]*>([^<]+)</a>', html)
    assert titles == ["Director of Data", "Director of Platform", "Staff Engineer", "VP of Engineering"]
    assert re.findall(r"<option value=\"([^\"]*)\"", _block(html, "department", "select")) == [
        "",
        "Engineering",
    ]
    staff = _text(_block(html, f"position-{succession_world.positions['staff']}", "li"))
    assert "Lee Leaving Staff Engineer Risk and impact not rated" in staff
    assert "Megan Bowen" in _text(_block(html, f"position-{succession_world.positions['vp_eng']}", "li"))
    status, html = await get_page(lee, BOARD, department="QA")
    assert status == 403 and "You don't have access to the succession board for QA." in _text(html)
    status, html = await get_page(lee, f"{BOARD}/{succession_world.positions['qa']}")
    assert status == 403 and "Isaiah" not in html


@pytest.mark.parametrize("persona", ["employee", "manager"])
async def test_everyone_else_gets_the_refusal_page_and_no_talent_data(
    signed_in, succession_world: SuccessionWorld, persona: str
) -> None:
    client = await signed_in(persona)
    position = succession_world.positions["vp_eng"]
    adele = succession_world.people["adele"]
    for path in (BOARD, f"{BOARD}/{position}", f"{BOARD}/positions"):
        status, html = await get_page(client, path)
        assert status == 403, path
        assert "Succession is for HR and talent reviewers" in html
        for secret in ("Ready now", "Emergency", "Risk", "18 months"):
            assert secret not in html, (path, secret)
    before = await _slate(succession_world, "vp_eng")
    for path, data in [
        (f"{BOARD}/{position}/successors", {"person": "Isaiah Langer", "readiness": "ready_now"}),
        (f"{BOARD}/{position}/successors/{adele}", {"readiness": "ready_now"}),
        (f"{BOARD}/{position}/successors/{adele}/remove", {}),
        (f"{BOARD}/{position}/successors/{adele}/emergency", {}),
        (f"{BOARD}/{position}/critical", {"critical": "0"}),
        (
            f"{BOARD}/{position}/fill",
            {"person": "Isaiah Langer", "filled_on": "2026-05-01", "source": "internal"},
        ),
    ]:
        status, html, _ = await post_form(client, path, data)
        assert status == 403, path
    assert await _slate(succession_world, "vp_eng") == before


async def test_a_position_page_lists_its_slate_with_forms_and_never_the_viewer(
    signed_in, succession_world
) -> None:
    megan = await signed_in("hr")
    vp_eng = succession_world.positions["vp_eng"]
    status, html = await get_page(megan, f"{BOARD}/{vp_eng}")
    assert status == 200
    assert "<h1>VP of Engineering</h1>" in html
    slate = _block(html, "slate")
    assert "Slate (2)" in _text(slate)
    assert "Megan" not in slate and "Megan's own secret" not in html
    assert f'<p class="sc-notes">{htmllib.escape(NOTES_SCRIPT, quote=False)}</p>' in slate.replace(
        "&#39;", "'"
    )
    assert "<script>alert" not in html
    alex = succession_world.people["alex"]
    form = _block(html, f"successor-{alex}", "li")
    assert f'action="{BOARD}/{vp_eng}/successors/{alex}"' in form
    assert '<option value="ready_now" selected>Ready now</option>' in form
    assert 'name="emergency" type="checkbox" value="1" checked' in form
    assert "Make emergency successor" not in form, "already the emergency successor"
    adele = _block(html, f"successor-{succession_world.people['adele']}", "li")
    assert re.search(r'name="months_to_ready"[^>]*value="18"', adele)
    assert "Make emergency successor" in adele
    nominate = _block(html, "nominate")
    assert "data-people-picker" in nominate and 'list="nominate-person-suggestions"' in nominate
    assert '<script src="/tabs/static/succession.js" defer></script>' in html
    assert "Risk high · impact high" in _text(_block(html, "incumbent"))
    [audit] = [
        a
        for a in await _audits(succession_world, "talent.succession.view_position")
        if a.subject_id == vp_eng
    ][-1:]
    assert audit.actor_id == succession_world.people["megan"] and audit.detail == {"successors": 2}

    status, html = await get_page(megan, f"{BOARD}/999999")
    assert status == 404 and "That position does not exist." in html


async def test_naming_a_successor_through_the_form(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    platform = succession_world.positions["platform"]
    page = f"{BOARD}/{platform}"
    status, _, location = await post_form(
        megan,
        f"{page}/successors?theme=dark",
        {
            "person": "Isaiah Langer",
            "readiness": "1_2_years",
            "months_to_ready": "12",
            "notes": " Runs the on-call ",
        },
        csrf_from=page,
    )
    assert status == 303 and location == f"{page}?saved=nominated&theme=dark#slate"
    assert await _slate(succession_world, "platform") == [
        ("Isaiah Langer", "1_2_years", 12, False, "Runs the on-call")
    ]
    _, html = await get_page(megan, page, saved="nominated")
    assert "Saved: the successor is on the slate." in html
    slate = _text(_block(html, "slate"))
    assert "Isaiah Langer Software Engineer Ready in 1\u20132 years · 12 months" in slate
    # By email, as the picker fills it in, as the emergency successor.
    status, _, _ = await post_form(
        megan,
        f"{page}/successors",
        {"person": " ADELEVANCE022@contoso.example ", "readiness": "ready_now", "emergency": "1"},
        csrf_from=page,
    )
    assert status == 303
    assert (await _slate(succession_world, "platform"))[0] == ("Adele Vance", "ready_now", None, True, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"readiness": "3_5_years", "months_to_ready": "12"},
            "nominate-months",
            "Ready in 3\u20135 years means 36 to 60",
        ),
        ({"months_to_ready": "soon"}, "nominate-months", "Type the months to ready as a whole number"),
        ({"readiness": "whenever"}, "nominate-readiness", "Choose a readiness"),
        ({"person": "Nobody Atall"}, "nominate-person", "No one in the directory matches “Nobody Atall”."),
        ({"person": ""}, "nominate-person", "Type the person's email address or full name."),
        (
            {"person": "Alex Wilber"},
            "nominate-person",
            "Alex Wilber is already on the slate for Director of Data.",
        ),
        ({"person": "Isaiah Langer"}, "nominate-person", "Isaiah Langer holds Director of Data now"),
        ({"person": "Fran Former"}, "nominate-person", "No one in the directory matches"),
        ({"notes": "x" * 2001}, "nominate-notes", "at most 2000 characters"),
    ],
)
async def test_a_refused_nomination_comes_back_with_the_message_by_its_field_and_the_typed_values(
    signed_in, succession_world, data: dict, field: str, message: str
) -> None:
    megan = await signed_in("hr")
    page = f"{BOARD}/{succession_world.positions['data']}"
    before = await _slate(succession_world, "data")
    typed = {
        "person": "Lee Leaving",
        "readiness": "1_2_years",
        "months_to_ready": "20",
        "notes": "Keep <this>",
    } | data
    status, html, _ = await post_form(megan, f"{page}/successors", typed, csrf_from=page)
    assert status == 400
    assert message in _error(html, f"{field}-error")
    form = _block(html, "nominate")
    assert f'id="{field}"' in form and re.search(rf'id="{field}"[^>]*aria-invalid="true"', form, re.S)
    assert f'value="{htmllib.escape(typed["person"])}"' in form
    if "readiness" in data and data["readiness"] in ("3_5_years",):
        assert '<option value="3_5_years" selected>' in form
    assert ("Keep &lt;this&gt;</textarea>" in form) or "notes" in data
    assert await _slate(succession_world, "data") == before


async def test_naming_oneself_is_refused(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    page = f"{BOARD}/{succession_world.positions['platform']}"
    before = await _slate(succession_world, "platform")
    status, html, _ = await post_form(
        megan, f"{page}/successors", {"person": "Megan Bowen", "readiness": "ready_now"}, csrf_from=page
    )
    assert status == 403 and "Nobody edits their own succession data" in _text(html)
    assert await _slate(succession_world, "platform") == before


async def test_changing_a_successor_and_the_emergency_flag_and_removing_one(
    signed_in, succession_world
) -> None:
    megan = await signed_in("hr")
    data = succession_world.positions["data"]
    page = f"{BOARD}/{data}"
    alex, adele = succession_world.people["alex"], succession_world.people["adele"]

    status, html, _ = await post_form(
        megan,
        f"{page}/successors/{alex}",
        {"readiness": "ready_now", "months_to_ready": "7", "notes": "typed"},
        csrf_from=page,
    )
    assert status == 400
    assert "Ready now means 0 months to ready, not 7" in _error(html, f"s{alex}-months-error")
    item = _block(html, f"successor-{alex}", "li")
    assert '<details class="sc-edit" open>' in item and 'value="7"' in item and ">typed</textarea>" in item
    assert '<details class="sc-edit">' in _block(html, f"successor-{adele}", "li"), "the others stay closed"

    status, _, location = await post_form(
        megan,
        f"{page}/successors/{alex}",
        {"readiness": "ready_now", "months_to_ready": "", "notes": "Ready after the migration"},
        csrf_from=page,
    )
    assert status == 303 and location == f"{page}?saved=updated#successor-{alex}"
    status, _, _ = await post_form(megan, f"{page}/successors/{alex}/emergency", {}, csrf_from=page)
    assert status == 303
    assert await _slate(succession_world, "data") == [
        ("Adele Vance", "ready_now", None, False, None),
        ("Alex Wilber", "ready_now", None, True, "Ready after the migration"),
    ]
    status, _, _ = await post_form(megan, f"{page}/successors/{adele}/emergency", {}, csrf_from=page)
    assert [row[3] for row in await _slate(succession_world, "data")] == [True, False], "the flag moved"
    status, _, _ = await post_form(megan, f"{page}/successors/{alex}/remove", {}, csrf_from=page)
    assert status == 303
    assert [row[0] for row in await _slate(succession_world, "data")] == ["Adele Vance"]
    status, html, _ = await post_form(megan, f"{page}/successors/{alex}/remove", {}, csrf_from=page)
    assert status == 404 and "Alex Wilber is not on the slate for Director of Data." in _text(html)
    # Put things back for the fill test.
    status, _, _ = await post_form(
        megan, f"{page}/successors", {"person": "Alex Wilber", "readiness": "1_2_years"}, csrf_from=page
    )
    assert status == 303


async def test_marking_a_position_critical_and_back(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    em = succession_world.positions["em"]
    page = f"{BOARD}/{em}"
    _, html = await get_page(megan, page)
    assert "Not a critical position" in html and "Mark the position critical first." in html
    status, _, location = await post_form(megan, f"{page}/critical", {"critical": "1"}, csrf_from=page)
    assert status == 303 and location == f"{page}?saved=critical#critical"
    _, html = await get_page(megan, BOARD)
    assert f'id="position-{em}"' in html
    status, _, _ = await post_form(megan, f"{page}/critical", {"critical": "0"}, csrf_from=page)
    _, html = await get_page(megan, BOARD)
    assert f'id="position-{em}"' not in html


async def test_recording_a_fill_keeps_the_rest_of_the_slate(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    data = succession_world.positions["data"]
    page = f"{BOARD}/{data}"
    async with unit_of_work(succession_world.sessions) as db:
        fills_before = await db.scalar(select(func.count()).select_from(PositionFill))
    for typed, field, message in [
        ({"filled_on": "2026-05-05"}, "fill-date", "5 May 2026 is in the future"),
        ({"filled_on": "May 1st"}, "fill-date", "Choose the date the position was filled"),
        ({"source": ""}, "fill-source", "Choose how the position was filled"),
        ({"source": "external"}, "fill-source", "Adele Vance is on the slate for Director of Data"),
        ({"person": "Isaiah Langer"}, "fill-person", "Isaiah Langer already holds Director of Data."),
    ]:
        form = {"person": "Adele Vance", "filled_on": "2026-05-01", "source": "internal"} | typed
        status, html, _ = await post_form(megan, f"{page}/fill", form, csrf_from=page)
        assert status == 400, typed
        assert message in _error(html, f"{field}-error")
        kept = _block(html, "fill")
        assert f'value="{form["person"]}"' in kept and f'value="{form["filled_on"]}"' in kept
    async with unit_of_work(succession_world.sessions) as db:
        assert await db.scalar(select(func.count()).select_from(PositionFill)) == fills_before

    status, _, location = await post_form(
        megan,
        f"{page}/fill",
        {"person": "Adele Vance", "filled_on": "2026-05-01", "source": "internal"},
        csrf_from=page,
    )
    assert status == 303 and location == f"{page}?saved=filled#fills"
    _, html = await get_page(megan, page, saved="filled")
    assert "Adele Vance Senior Software Engineer" in _text(_block(html, "incumbent"))
    assert [n for n, *_ in await _slate(succession_world, "data")] == ["Alex Wilber"], "the plan stays"
    assert (
        "Adele Vance 1 May 2026 · Internal · from the slate · after Isaiah Langer · recorded by Megan Bowen"
        in _text(_block(html, "fills"))
    )


async def test_the_positions_list_follows_scope(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    status, html = await get_page(megan, f"{BOARD}/positions")
    assert status == 200
    titles = re.findall(r'<a href="/tabs/talent/succession/\d+">([^<]+)</a>', html)
    assert len(titles) == 7 and "Engineering Manager" in titles
    lee = await signed_in("lee")
    _, html = await get_page(lee, f"{BOARD}/positions")
    titles = re.findall(r'<a href="/tabs/talent/succession/\d+">([^<]+)</a>', html)
    assert "QA Lead" not in titles and "Head of People" not in titles and "VP of Engineering" in titles


async def test_forms_without_the_csrf_token_are_refused(signed_in, succession_world) -> None:
    megan = await signed_in("hr")
    page = f"{BOARD}/{succession_world.positions['platform']}"
    before = await _slate(succession_world, "platform")
    async with megan.post(
        f"{page}/successors", data={"person": "Lee Leaving", "readiness": "ready_now"}, allow_redirects=False
    ) as response:
        assert response.status == 403
        assert "This form has expired" in await response.text()
    assert await _slate(succession_world, "platform") == before

"""The Talent metrics tab over HTTP: HR sees the figures of a small world, a talent reviewer those of their
departments, an employee or a manager the refusal, and bad query parameters a 400 with the message next
to the field.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; Megan is HR),
in its own SQLite file, plus the hand-made worlds of tests/support/metrics_world.py (slates, fills,
competencies, talent reviews with Lee in R2). Lee is a talent reviewer for Engineering. The server's
clock is fixed at NOW (1 July 2026), so the default windows are: fills from 1 Oct 2024 (eight quarters,
the current one included) to today, skill-gap baseline and retention start 1 Jul 2025.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.metrics import AUDIT_ACTION
from storage.models import AuditEntry, Person, RoleGrant
from storage.uow import unit_of_work
from tabs.settings import TabSettings
from tests.support.metrics_world import TalentBuilder, competencies, fills, slates, talent_reviews

from .conftest import (
    LEAVER,
    PERSONAS,
    TENANT,
    SignIn,
    browser_like_jar,
    dev_sign_in,
    get_page,
    persona_clients,
    tab_server,
    world_store,
)
from .conftest import visible_text as _text

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
PAGE = "/tabs/talent/metrics"
METRICS_PERSONAS = {**PERSONAS, "lee": (TENANT, LEAVER)}
# People of the world whose names must never reach the page.
NO_FILLS = '<span aria-hidden="true">\u2013</span><span class="visually-hidden">no fills</span>'
NAMES = ("Quinn", "Ruth", "Hank", "Hugo", "Hedy", "Hera", "Hiro", "Ezra", "Eve", "Lee Leaving")


@dataclass(frozen=True)
class MetricsWorld:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]


async def _build(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with unit_of_work(sessions) as db:
        lee = await db.scalar(select(Person.id).where(Person.aad_object_id == LEAVER))
        db.add(RoleGrant(person_id=lee, role="talent_reviewer", scope_department="Engineering"))
        b = TalentBuilder(db)
        b.ids["Lee"] = lee
        await slates(b)
        await fills(b)
        await competencies(b)
        await talent_reviews(b, reviewer="Lee")


@asynccontextmanager
async def _serve(
    tmp: pytest.TempPathFactory, settings: TabSettings, *, talent: bool
) -> AsyncIterator[MetricsWorld]:
    async with world_store(tmp, "metrics") as sessions:
        if talent:
            await _build(sessions)
        async with tab_server(sessions, settings, personas=METRICS_PERSONAS, clock=lambda: NOW) as base_url:
            yield MetricsWorld(base_url, sessions)


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[MetricsWorld]:
    """A tab server on its own database of the worlds above."""
    async with _serve(tmp_path_factory, tab_settings, talent=True) as served:
        yield served


@pytest.fixture(scope="module")
async def bare_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[MetricsWorld]:
    """A tab server on the small organization alone: no positions, fills, profiles or reviews."""
    async with _serve(tmp_path_factory, tab_settings, talent=False) as served:
        yield served


@pytest.fixture
async def signed_in(world: MetricsWorld) -> AsyncIterator[SignIn]:
    """Sign in as a persona: `client = await signed_in("hr")`."""
    async with persona_clients(world.base_url) as sign_in:
        yield sign_in


async def _get(client: aiohttp.ClientSession, **params: str) -> tuple[int, str]:
    """The metrics page with these query parameters: (status, body)."""
    return await get_page(client, PAGE, **params)


def _section(html: str, element_id: str) -> str:
    start = html.rindex("<section", 0, html.index(f'id="{element_id}"'))
    return html[start : html.index("</section>", start)]


async def _audits(world: MetricsWorld) -> int:
    async with unit_of_work(world.sessions) as db:
        return await db.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == AUDIT_ACTION)
        )


def _csp_safe(html: str) -> None:
    assert "style=" not in html, "the CSP forbids style attributes"
    assert re.search(r"<script(?![^>]*\bsrc=)", html) is None, "no inline script"


async def test_hr_sees_the_figures_of_the_whole_organization(signed_in, world) -> None:
    megan = await signed_in("hr")
    before = await _audits(world)
    status, html = await _get(megan)
    assert status == 200
    _csp_safe(html)
    assert '<a href="/tabs/talent/metrics" aria-current="page">Talent metrics</a>' in html
    assert '<link rel="stylesheet" href="/tabs/static/metrics.css">' in html
    assert "For the whole organization, as of 1 Jul 2026." in _text(html)
    # Bench: A, B, C, D critical; ready now A, D; any A, B, D; Pat on A and D counts ½ each.
    bench = _text(_section(html, "bench"))
    assert "4 critical positions." in bench
    assert "Ready-now coverage 50% 2 of 4 have a successor ready now." in bench
    assert "Any-readiness coverage 75% 3 of 4 have at least one successor." in bench
    assert "0.75 successors per critical position" in bench
    assert "1 critical position has no successor." in bench
    assert '<rect class="mx-bar__fill mx-bar__fill--ready-now" x="0" y="0" width="50.0" height="8">' in html
    # Fills 1 Oct 2024 - 1 Jul 2026, by quarter: 7 fills, 4 internal → 57.1 %.
    fill = _section(html, "fill-rate")
    assert "57.1% of 7 fills were internal (4), from 1 Oct 2024 to 1 Jul 2026." in _text(fill)
    rows = re.findall(
        r"<tr><th scope=\"row\">(.*?)</th><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(.*?)</td></tr>", fill
    )
    assert rows == [
        ("2024 Q4", "0", "0", "0", NO_FILLS),
        ("2025 Q1", "0", "0", "0", NO_FILLS),
        ("2025 Q2", "0", "0", "0", NO_FILLS),
        ("2025 Q3", "1", "1", "0", "100%"),
        ("2025 Q4", "2", "1", "1", "50%"),
        ("2026 Q1", "3", "2", "1", "66.7%"),
        ("2026 Q2", "0", "0", "0", NO_FILLS),
        ("2026 Q3", "1", "0", "0", "0%"),
    ]
    assert fill.count('class="mx-columns__bar"') == 3, "one column per quarter with internal fills"
    # Skill gaps since 1 Jul 2025: Ed's and Max's closed of 4; Isaiah's title gives him the Engineer
    # profile, never assessed: with Eve's Testing and Ezra's Coding, 4 requirements not assessed.
    gaps = _text(_section(html, "skill-gaps"))
    assert "Closed since 1 Jul 2025 50% 2 of 4 gaps open on 1 Jul 2025 have closed." in gaps
    assert "4 requirements were not yet assessed on the baseline date: not counted as gaps." in gaps
    readiness = _text(_section(html, "readiness"))
    assert "Ready now 2 people" in readiness and "Ready in 1\u20132 years 1 person" in readiness
    assert "Ready in 3\u20135 years 0 people" in readiness
    kept = _text(_section(html, "retention"))
    assert (
        "High performers 50% 2 of 4 still here." in kept and "High potentials 60% 3 of 5 still here." in kept
    )
    heat = _section(html, "heat-map")
    cells = re.findall(r'<td class="mx-heat__cell mx-heat__cell--(\d)">(\d+)</td>', heat)
    # Rows risk high, medium, low; columns impact low, medium, high.
    assert cells == [
        ("0", "0"),
        ("2", "1"),
        ("2", "1"),
        ("0", "0"),
        ("4", "2"),
        ("0", "0"),
        ("0", "0"),
        ("0", "0"),
        ("2", "1"),
    ]
    assert "5 people from their latest talent review; 1 without a risk or impact rating." in _text(heat)
    for name in NAMES:
        assert re.search(rf"\b{name}\b", html) is None, name
    assert await _audits(world) == before + 1


async def test_a_talent_reviewer_sees_their_departments_only(signed_in, world) -> None:
    lee = await signed_in("lee")
    status, html = await _get(lee)
    assert status == 200
    assert "For your departments (Engineering)" in _text(html)
    bench = _text(_section(html, "bench"))
    assert "Ready-now coverage 50% 1 of 2" in bench and "Any-readiness coverage 100% 2 of 2" in bench
    assert "1.25 successors per critical position" in bench
    # Lee is never counted in his own heat map: Hal, Hugo, Hans; Hue unrated.
    assert "3 people from their latest talent review; 1 without" in _text(_section(html, "heat-map"))
    options = re.findall(
        r'<option value="([^"]*)"', html.split('id="mx-department"')[1].split("</select>")[0]
    )
    assert options == ["", "Engineering"]
    status, html = await _get(lee, department="Sales")
    assert status == 403
    assert "You don&#39;t have access to talent metrics for Sales." in html


@pytest.mark.parametrize("persona", ["employee", "manager"])
async def test_anyone_else_gets_the_refusal(signed_in, world, persona) -> None:
    client = await signed_in(persona)
    before = await _audits(world)
    status, html = await _get(client)
    assert status == 403
    assert "No access to talent metrics" in html
    assert "HR and talent reviewers see them." in _text(html)
    assert 'id="bench"' not in html and "critical position" not in html
    status, _ = await _get(client, **{"from": "not a date"})
    assert status == 403, "the refusal comes before any reading of the query"
    assert await _audits(world) == before


async def test_not_signed_in_goes_to_sign_in(world) -> None:
    async with aiohttp.ClientSession(world.base_url) as anonymous:
        status, _ = await _get(anonymous)
    assert status == 302


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"from": "2026-13-01"},
            "from",
            "Enter the start of the fill-rate window as a date, like 2026-07-01.",
        ),
        ({"to": "yesterday"}, "to", "Enter the end of the fill-rate window as a date, like 2026-07-01."),
        (
            {"from": "2026-03-01", "to": "2026-01-31"},
            "from",
            "The start of the fill-rate window must be on or before its end.",
        ),
        ({"baseline": "2026-07-02"}, "baseline", "The baseline must be on or before today (1 Jul 2026)."),
        (
            {"since": "2026-7-1"},
            "since",
            "Enter the start of the retention period as a date, like 2026-07-01.",
        ),
        ({"period": "week"}, "period", "Choose months, quarters or years."),
        ({"period": "month", "from": "2020-01-01"}, "from", "Choose a window of at most 40 months."),
    ],
)
async def test_bad_query_parameters_are_a_400_with_the_message_by_the_field(
    signed_in, world, params, field, message
) -> None:
    megan = await signed_in("hr")
    before = await _audits(world)
    status, html = await _get(megan, **params)
    assert status == 400
    _csp_safe(html)
    error = re.search(rf'<p class="error mx-field__error" id="mx-{field}-error" role="alert">(.*?)</p>', html)
    assert error and htmllib.unescape(error.group(1)) == message
    assert re.search(
        rf'id="mx-{field}"[^>]*aria-invalid="true" aria-describedby="mx-{field}-error"', html, re.S
    )
    for name, typed in params.items():
        if name != "period":
            assert f'name="{name}" type="date" value="{typed}"' in html, "what was typed is kept"
    assert 'id="bench"' not in html and "Correct the dates above to see the figures." in html
    assert await _audits(world) == before, "nothing read, nothing audited"


async def test_a_department_by_month_in_the_dark_theme(signed_in, world) -> None:
    megan = await signed_in("hr")
    status, html = await _get(
        megan, department="Sales", period="month", **{"from": "2026-02-15", "to": "2026-03-31"}, theme="dark"
    )
    assert status == 200
    _csp_safe(html)
    assert 'class="theme-dark"' in html and '<input type="hidden" name="theme" value="dark">' in html
    assert "For Sales, as of 1 Jul 2026." in _text(html)
    assert '<option value="Sales" selected>Sales</option>' in html
    # Sales: C and D. D's internal fill of 31 March is the only one in the window.
    fill = _section(html, "fill-rate")
    assert "100% of 1 fill were internal (1), from 15 Feb 2026 to 31 Mar 2026." in _text(fill)
    assert [m for m in re.findall(r'<th scope="row">(.*?)</th>', fill)] == ["Feb 2026", "Mar 2026"]
    assert "Ready-now coverage 50% 1 of 2" in _text(_section(html, "bench"))
    # Max, the one Sales person with a role profile: 1 gap, closed.
    assert "100% 1 of 1 gap open on 1 Jul 2025 have closed." in _text(_section(html, "skill-gaps"))
    assert 'name="from" type="date" value="2026-02-15"' in html


async def test_an_organization_without_talent_data_shows_none_not_zero(bare_world) -> None:
    base = bare_world.base_url
    async with aiohttp.ClientSession(base, cookie_jar=browser_like_jar(base)) as megan:
        await dev_sign_in(megan, "hr")
        status, html = await _get(megan)
    assert status == 200
    text = _text(html)
    assert "No critical positions in scope yet: coverage and depth have nothing to measure." in text
    assert "Nobody is on a critical position's slate yet." in text
    assert "No positions were filled from 1 Oct 2024 to 1 Jul 2026." in text
    assert "No competency gaps on 1 Jul 2025: nothing to close." in text
    assert "High performers no data 0 of 0 still here." in text
    assert "0 people from their latest talent review." in text
    assert "0%" not in text

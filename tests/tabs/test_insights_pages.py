"""The Insights tab over HTTP, through a real tab server: HR sees the suggestions of the organization of
tests/support/insights_world.py (made by the real signals) counted per kind, filters them, opens each to
its evidence and accepts or dismisses it with a reason; a talent reviewer sees their scope and never
themselves; everyone else gets the refusal page. Refused decisions write nothing and come back next to
their form.

Each test gets its own copy of one prepared SQLite file (the small organization of conftest.py plus the
insights world), served with the clock at NOW (15 June 2026). Megan is HR; Cleo is a talent reviewer for
Engineering with a suggestion about herself; Pia is an employee with one.
"""

from __future__ import annotations

import html as htmllib
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select, update

from domain import insights
from storage.engine import create_engine, session_factory
from storage.models import AuditEntry, Person, Successor, SuggestionDecision
from storage.uow import unit_of_work
from tabs.settings import TabSettings
from tests.support.insights_world import NOW, build

from .conftest import (
    PERSONAS,
    REPO,
    TENANT,
    get_page,
    oid,
    open_store,
    persona_clients,
    post_form,
    tab_server,
)
from .test_browser import CONTRAST_PROBE, WIDTHS, _open, _sign_in_by_clicking, browser, expect

__all__ = ["browser"]  # the fixture, shared with test_browser

PAGE = "/tabs/talent/insights"
DECISIONS = "/tabs/talent/insights/decisions"
CLEO, PIA = oid(60), oid(61)
INSIGHTS_PERSONAS = {**PERSONAS, "cleo": (TENANT, CLEO), "pia": (TENANT, PIA)}


@dataclass(frozen=True)
class Prepared:
    path: Path
    ids: dict[str, int]


@dataclass
class Site:
    url: str
    sessions: object
    ids: dict[str, int]

    async def count(self, model, *where) -> int:
        async with self.sessions() as db:  # type: ignore[operator]
            return await db.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(scope="module")
async def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    path = tmp_path_factory.mktemp("insights") / "insights.db"
    sessions, engine = await open_store(path)
    async with unit_of_work(sessions) as db:
        world = await build(db, bias=False)
        for name, object_id in (("Cleo", CLEO), ("Pia", PIA)):
            await db.execute(
                update(Person)
                .where(Person.id == world.ids[name])
                .values(tenant_id=TENANT, aad_object_id=object_id)
            )
        ids = dict(world.ids)
    await engine.dispose()
    return Prepared(path, ids)


@pytest.fixture
async def site(prepared: Prepared, tmp_path: Path, tab_settings: TabSettings) -> AsyncIterator[Site]:
    copy = tmp_path / "insights.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{prepared.path}{suffix}")
        if source.exists():
            shutil.copy(source, Path(f"{copy}{suffix}"))
    engine = create_engine(f"sqlite+aiosqlite:///{copy}")
    sessions = session_factory(engine)
    async with tab_server(sessions, tab_settings, personas=INSIGHTS_PERSONAS, clock=lambda: NOW) as url:
        yield Site(url, sessions, prepared.ids)
    await engine.dispose()


@pytest.fixture
async def sign_in(site: Site) -> AsyncIterator:
    async with persona_clients(site.url) as sign:
        yield sign


def text_of(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


def item(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</li>\n", html.index("</details>", start))]


def anchor(kind: str, person_id: int, target: str = "") -> str:
    return re.sub(r"[^a-z0-9-]+", "-", f"s-{kind}-{person_id}-{target}".lower()).strip("-")


def csp_safe(html: str) -> None:
    assert "style=" not in html, "the CSP forbids style attributes"
    assert "<script>" not in html and "onclick" not in html


async def decide_form(client, site: Site, key: str, decision: str, reason: str, **back: str):
    return await post_form(
        client,
        DECISIONS,
        {"suggestion": key, "decision": decision, "reason": reason, **back},
        csrf_from=PAGE,
    )


# --- reading ----------------------------------------------------------------------------------------------


async def test_hr_sees_counts_per_kind_and_each_suggestion_with_its_evidence(site: Site, sign_in) -> None:
    megan = await sign_in("hr")
    status, html = await get_page(megan, PAGE)
    assert status == 200
    csp_safe(html)
    assert '<a href="/tabs/talent/insights" aria-current="page">Insights</a>' in html
    text = text_of(html)
    for label in (
        "Promotion readiness",
        "Development program",
        "Succession candidate",
        "High potential",
        "Career path",
        "Cross-functional leadership",
        "Development objective",
        "Flight risk",
    ):
        assert f'>{label} <span class="in-count__n">' in html, label
    assert "Rating bias" not in text.split("Filter")[0]

    ids = site.ids
    sam = item(html, anchor("succession_candidate", ids["Sam"], f"position:{ids['Director of Product']}"))
    assert "<details" in sam and "<summary" in sam
    assert "Director of Product" in sam and 'class="in-bar"' in sam and "score 0.82" in sam
    assert f'href="/tabs/talent/succession/{ids["Director of Product"]}"' not in sam  # not an evidence row
    assert f'href="/tabs/people/{ids["Sam"]}/competencies"' in sam  # his assessments
    assert "Review score" in text_of(sam) and "Assessment" in text_of(sam)
    olga = item(
        html,
        anchor(
            "development_objective",
            ids["Olga"],
            f"position:{ids['VP Engineering']}:competency:{ids['Leading people']}",
        ),
    )
    assert f'href="/tabs/talent/succession/{ids["VP Engineering"]}"' in olga
    pia = item(html, anchor("promotion_readiness", ids["Pia"]))
    assert f'href="/tabs/goals/{ids["Pia Q1-26"]}/edit"' in pia
    assert 'name="decision" value="accept"' in pia and 'name="decision" value="dismiss"' in pia
    assert f'name="suggestion" value="promotion_readiness|{ids["Pia"]}|"' in pia
    assert "required" in pia and 'maxlength="2000"' in pia
    assert await site.count(AuditEntry, AuditEntry.action == insights.VIEW_ACTION) == 1


async def test_filters_narrow_the_list_and_bad_ones_are_a_400_next_to_their_field(
    site: Site, sign_in
) -> None:
    megan = await sign_in("hr")
    ids = site.ids
    status, html = await get_page(megan, PAGE, department="Product")
    assert status == 200
    assert anchor("succession_candidate", ids["Sam"], f"position:{ids['Director of Product']}") in html
    assert anchor("promotion_readiness", ids["Pia"]) not in html
    assert '<option value="Product" selected>Product</option>' in html

    status, html = await get_page(megan, PAGE, kind="career_path")
    assert status == 200
    assert 'id="kind-career_path"' in html and 'id="kind-promotion_readiness"' not in html
    assert 'aria-current="true">Career path' in html
    assert '>All kinds <span class="in-count__n">' in html

    status, html = await get_page(megan, PAGE, min_score="0.85")
    assert status == 200
    assert all(float(x) >= 0.85 for x in re.findall(r"score (\d\.\d\d)</span>", html))

    status, html = await get_page(megan, PAGE, kind="rating_bias", min_score="lots", department="Product")
    assert status == 400
    csp_safe(html)
    assert 'id="in-kind-error" role="alert">Choose one of the kinds' in html
    assert 'id="in-min-score-error" role="alert">The minimum score is a number from 0 to 1' in html
    assert 'name="min_score" type="text" inputmode="decimal" value="lots"' in html
    assert '<option value="Product" selected>Product</option>' in html
    assert "Correct the filters above" in html
    status, html = await get_page(megan, PAGE, page="-1", kind="career_path")
    assert status == 400 and 'id="in-page-error"' in html


async def test_the_list_is_bounded_per_kind_and_paged(site: Site, sign_in, monkeypatch) -> None:
    monkeypatch.setattr(insights, "PER_KIND", 1)
    monkeypatch.setattr(insights, "PER_PAGE", 1)
    megan = await sign_in("hr")
    _, html = await get_page(megan, PAGE)
    section = html[html.index('id="kind-succession_candidate"') :]
    section = section[: section.index("</section>")]
    assert section.count('class="card in-item"') == 1
    assert "Show all 2 succession candidate suggestions" in section
    _, html = await get_page(megan, PAGE, kind="succession_candidate")
    assert "Page 1 of 2" in html and 'rel="next"' in html
    _, second = await get_page(megan, PAGE, kind="succession_candidate", page="2")
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert "VP Engineering" in second and 'start="2"' in second
    _, beyond = await get_page(megan, PAGE, kind="succession_candidate", page="9")
    assert "Page 2 of 2" in beyond


async def test_a_talent_reviewer_never_sees_themselves_nor_outside_their_scope(site: Site, sign_in) -> None:
    cleo = await sign_in("cleo")
    status, html = await get_page(cleo, PAGE)
    assert status == 200
    ids = site.ids
    assert anchor("cross_functional", ids["Cleo"]) not in html
    assert "Collaboration" not in html
    assert anchor("promotion_readiness", ids["Pia"]) in html
    assert f"succession_candidate|{ids['Sam']}|" not in html


@pytest.mark.parametrize("persona", ["employee", "manager", "pia"])
async def test_everyone_else_gets_the_refusal_page(site: Site, sign_in, persona: str) -> None:
    client = await sign_in(persona)
    status, html = await get_page(client, PAGE)
    assert status == 403
    assert "You don&#39;t have access to insights" in html or "You don't have access to insights" in html
    _, home = await get_page(client, "/tabs/home")
    assert 'href="/tabs/talent/insights"' not in home
    status, _, _ = await decide_form(client, site, f"promotion_readiness|{site.ids['Pia']}|", "accept", "Yes")
    assert status == 403
    assert await site.count(SuggestionDecision) == 0


async def test_the_page_follows_the_theme(site: Site, sign_in) -> None:
    megan = await sign_in("hr")
    status, html = await get_page(megan, PAGE, theme="contrast")
    assert status == 200 and 'class="theme-contrast"' in html
    assert 'action="/tabs/talent/insights/decisions?theme=contrast"' in html
    assert '<input type="hidden" name="theme" value="contrast">' in html


# --- deciding ---------------------------------------------------------------------------------------------


async def test_accepting_creates_the_outcome_and_comes_back_with_what_it_did(site: Site, sign_in) -> None:
    megan = await sign_in("hr")
    ids = site.ids
    key = f"succession_candidate|{ids['Sam']}|position:{ids['Director of Product']}"
    status, _, location = await decide_form(
        megan, site, key, "accept", "Strong in both roles", kind="succession_candidate"
    )
    assert status == 303
    assert location.startswith(f"{PAGE}?kind=succession_candidate&decided=") and location.endswith("#decided")
    assert await site.count(Successor, Successor.person_id == ids["Sam"]) == 1
    status, html = await get_page(megan, location.split("#")[0])
    assert status == 200
    assert "Accepted: succession candidate for Sam." in text_of(html)
    assert "Named on the succession slate for Director of Product, ready in 1\u20132 years." in text_of(html)
    assert key not in html, "decided: no longer listed"
    assert await site.count(AuditEntry, AuditEntry.action == insights.ACCEPTED_ACTION) == 1

    # The same form again (a double click): the first decision, nothing more.
    status, _, again = await decide_form(megan, site, key, "accept", "Strong in both roles")
    assert status == 303
    _, html = await get_page(megan, again.split("#")[0])
    assert "It had been decided already by Megan Bowen" in text_of(html)
    assert await site.count(Successor, Successor.person_id == ids["Sam"]) == 1
    assert await site.count(SuggestionDecision) == 1


async def test_dismissing_needs_a_reason_kept_next_to_the_field(site: Site, sign_in) -> None:
    megan = await sign_in("hr")
    ids = site.ids
    key = f"career_path|{ids['Cara']}|role:{ids['Senior Engineer']}"
    status, html, _ = await decide_form(megan, site, key, "dismiss", "   ")
    assert status == 400
    csp_safe(html)
    cara = item(html, anchor("career_path", ids["Cara"], f"role:{ids['Senior Engineer']}"))
    assert '<details class="in-details" open>' in cara
    assert 'aria-invalid="true"' in cara
    assert "Say why you dismiss this suggestion" in cara
    long = "Because " + "x" * 2000
    status, html, _ = await decide_form(megan, site, key, "dismiss", long)
    assert status == 400
    cara = item(html, anchor("career_path", ids["Cara"], f"role:{ids['Senior Engineer']}"))
    assert "The reason is too long" in cara and f">{long}</textarea>" in cara
    assert await site.count(SuggestionDecision) == 0

    status, _, location = await decide_form(megan, site, key, "dismiss", "Not this year")
    assert status == 303
    _, html = await get_page(megan, location.split("#")[0])
    assert "Dismissed: career path for Cara." in text_of(html)
    assert "Dismissed: nothing was changed." in text_of(html)
    assert await site.count(AuditEntry, AuditEntry.action == insights.DISMISSED_ACTION) == 1


@pytest.mark.parametrize(
    "key",
    [
        "promotion_readiness|{Pia}|position:1",
        "nonsense|{Pia}|",
        "promotion_readiness|not-a-number|",
        "promotion_readiness",
        "promotion_readiness|999999|",
    ],
)
async def test_a_forged_or_stale_suggestion_is_a_404_and_nothing_is_written(
    site: Site, sign_in, key: str
) -> None:
    megan = await sign_in("hr")
    status, html, _ = await decide_form(megan, site, key.format(Pia=site.ids["Pia"]), "accept", "Yes")
    assert status == 404
    assert "That suggestion is no longer there" in html
    assert anchor("promotion_readiness", site.ids["Pia"]) in html, "the list is shown again"
    assert await site.count(SuggestionDecision) == 0


async def test_deciding_about_oneself_or_without_the_form_token_is_refused(site: Site, sign_in) -> None:
    cleo = await sign_in("cleo")
    status, _, _ = await decide_form(cleo, site, f"cross_functional|{site.ids['Cleo']}|", "accept", "Me!")
    assert status == 403
    megan = await sign_in("hr")
    status, _, _ = await post_form(
        megan,
        DECISIONS,
        {"suggestion": f"promotion_readiness|{site.ids['Pia']}|", "decision": "accept", "reason": "x"},
        csrf_from=None,
    )
    assert status == 403
    status, html, _ = await decide_form(megan, site, f"promotion_readiness|{site.ids['Pia']}|", "maybe", "x")
    assert status == 400 and "Choose Accept or Dismiss." in html
    assert await site.count(SuggestionDecision) == 0


# --- in a real browser: themes, contrast, 320 px ---------------------------------------------------------

INSIGHTS_TEXT = [
    "h1",
    "h2",
    "h3",
    "a",
    "label",
    "select",
    "input",
    "textarea",
    ".button",
    ".meta",
    ".meta-inline",
    ".in-count",
    ".in-item__who",
    ".in-item__dept",
    ".in-item__target",
    ".in-score__value",
    ".in-evidence__kind",
    ".in-evidence__detail",
    "summary",
]
ARTIFACTS = REPO / "test-artifacts"
OPEN_ALL = "(all) => all.forEach((d) => { d.open = true; })"


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_page_renders_cleanly_and_meets_contrast_in_every_theme(
    browser: Browser, site: Site, theme: str
) -> None:
    watched = await _open(browser, viewport={"width": 1366, "height": 900}, color_scheme="light")
    page = watched.page
    try:
        await _sign_in_by_clicking(watched, site.url, "Megan Bowen")
        await page.goto(f"{site.url}{PAGE}?theme={theme}")
        await expect(page.locator("body")).to_have_class(f"theme-{theme}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Insights")
        await page.locator("details.in-details").evaluate_all(OPEN_ALL)
        ratios = await page.evaluate(CONTRAST_PROBE, INSIGHTS_TEXT)
        measured = {selector for selector, _ in ratios}
        assert {".in-count", ".in-score__value", ".in-evidence__kind", ".in-item__dept"} <= measured
        low = [r for r in ratios if r[1] < 4.5]
        assert low == [], (theme, low)
        # The score is drawn and written: the bar's length is the score.
        width = await page.locator(".in-bar__fill").first.get_attribute("width")
        score = await page.locator(".in-score__value").first.text_content()
        assert score and width and abs(float(score.split()[-1]) * 100 - float(width)) <= 1
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"insights-{theme}.png"), full_page=True)
        await page.screenshot(
            path=str(ARTIFACTS / f"insights-{theme}-top.png"),
            clip={"x": 0, "y": 0, "width": 1366, "height": 640},
        )
        await page.locator("#kind-succession_candidate").screenshot(
            path=str(ARTIFACTS / f"insights-{theme}-item.png")
        )
        await watched.assert_clean()
    finally:
        await watched.context.close()


@pytest.mark.browser
async def test_the_page_reflows_down_to_320_px(browser: Browser, site: Site) -> None:
    for width in WIDTHS:
        watched = await _open(browser, viewport={"width": width, "height": 800})
        try:
            await _sign_in_by_clicking(watched, site.url, "Megan Bowen")
            for query in ("", "?kind=succession_candidate", "?min_score=lots"):
                await watched.page.goto(f"{site.url}{PAGE}{query}")
                await watched.page.locator("details.in-details").evaluate_all(OPEN_ALL)
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (query, width, scroll, inner)
            watched.errors = [e for e in watched.errors if "400" not in e]  # the bad filter, on purpose
            await watched.assert_clean()
        finally:
            await watched.context.close()

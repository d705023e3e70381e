"""The goal tabs in real Chromium, against the whole of Trellis (bot and tabs on one store).

A value set from the bot's card shows on My goals; a value set in the tab shows on the bot's card; the
Alignment tree expands by mouse and keyboard; the pages reflow down to 320 px (and 200 % zoom), meet
WCAG contrast in the three themes, and never trip the Content-Security-Policy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import load_actor
from domain.performance import goals
from domain.performance.goal_views import KeyResultInput, Owner
from storage import demo
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person
from storage.uow import unit_of_work
from tests.support.connector import ConnectorStandIn
from tests.support.teams import TeamsClient
from trellis import config
from trellis.app import create_app

from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser, expect

__all__ = ["browser"]  # the Chromium fixture, shared with test_browser

pytestmark = pytest.mark.browser

NOW = datetime.now(UTC)
QUARTER = f"{NOW.year}-Q{(NOW.month - 1) // 3 + 1}"
PAGES = ("/tabs/goals", "/tabs/team-goals", "/tabs/alignment")
GOAL_TEXT = [
    ".status",
    ".progress__value",
    ".meta",
    ".kr__title",
    ".kr__value",
    ".tree__title",
    ".tree__node > summary",
    "label",
    "a",
    ".button",
    "h1",
    "h2",
]
# The filled part of each progress bar against its empty track: non-text contrast (WCAG 1.4.11) is 3:1.
BAR_PROBE = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number).slice(0, 3);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  return [...document.querySelectorAll(".progress__svg")].map((svg) => {
    const fill = lum(rgb(getComputedStyle(svg.querySelector(".progress__fill")).fill));
    const track = lum(rgb(getComputedStyle(svg.querySelector(".progress__track")).fill));
    return Math.round(((Math.max(fill, track) + 0.05) / (Math.min(fill, track) + 0.05)) * 100) / 100;
  });
}
"""


@dataclass(frozen=True)
class App:
    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    stories: int  # Adele's key result "Stories done" (0 → 10)
    team_goal: int


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[App]:
    """Trellis (bot and tabs, dev sign-in) on the demo organization, with a few goals for this quarter."""
    path = tmp_path_factory.mktemp("goal-browser") / "trellis.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade(engine)
    sessions = session_factory(engine)
    async with unit_of_work(sessions) as session:
        await demo.seed(session, people=60, seed=7)
    stories, team_goal = await _goals(sessions)
    settings = config.load(
        {"TRELLIS_SESSION_SECRET": "browser-secret-" + "x" * 32, "DATABASE_URL": f"sqlite:///{path}"}
    )
    trellis = create_app(settings, engine=engine, sessions=sessions, run_sender=False)
    runner = web.AppRunner(trellis, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield App(f"http://127.0.0.1:{runner.addresses[0][1]}", sessions, stories, team_goal)
    await runner.cleanup()
    await engine.dispose()


async def _goals(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """Company → Engineering → Alex, Adele and Isaiah, and a goal under Adele's: one more level to expand."""
    async with unit_of_work(sessions) as session:
        ids = dict((await session.execute(select(Person.aad_object_id, Person.id))).all())
        megan, alex, adele, isaiah = [
            await load_actor(session, ids[p.aad_object_id])
            for p in (demo.MEGAN, demo.ALEX, demo.ADELE, demo.ISAIAH)
        ]

        async def goal(actor, title, *krs, **options):
            options.setdefault("key_results", krs or (KeyResultInput("Milestones", target=4, current=1),))
            return await goals.create_goal(
                session, actor=actor, title=title, period=QUARTER, now=NOW, **options
            )

        company = await goal(megan, "Delight our customers", owner=Owner.company(), visibility="public")
        team = await goal(
            alex,
            "Ship the platform",
            owner=Owner.team("Engineering"),
            parent_id=company.id,
            visibility="public",
            weight=2,
        )
        mine = await goal(
            adele,
            "Finish the goals tab",
            KeyResultInput("Stories done", target=10, current=2),
            parent_id=team.id,
        )
        await goal(isaiah, "Harden the API", parent_id=team.id)
        await goal(alex, "Coach the team", KeyResultInput("One-to-ones held", target=12), parent_id=team.id)
        await goal(isaiah, "Write the runbook for the API gateway and its rate limits", parent_id=mine.id)
        await goals.update_key_result(
            session, actor=adele, key_result_id=mine.key_results[0].id, value=4, expected_version=1, now=NOW
        )
    return mine.key_results[0].id, team.id


async def _signed_in(browser: Browser, app: App, name: str, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, app.base_url, name)
    return watched


async def test_the_bot_and_the_tab_show_the_same_value(
    browser: Browser, app: App, connector: ConnectorStandIn, card_validator
) -> None:
    async with aiohttp.ClientSession() as http:
        teams = TeamsClient(
            http=http, endpoint=f"{app.base_url}/api/messages", connector=connector, validator=card_validator
        )
        adele = teams.user(aad_object_id=demo.ADELE.aad_object_id, name="Adele Vance")
        (reply,) = await adele.say("goals")
        await adele.press("Update", card=reply.card, inputs={f"value_{app.stories}": "7"})

        watched = await _signed_in(browser, app, "Adele Vance")
        page = watched.page
        try:
            await page.get_by_role("link", name="My goals").click()
            await expect(page).to_have_url(f"{app.base_url}/tabs/goals")
            await expect(page.locator(f"#kr-{app.stories}-value")).to_have_text("7")
            bar = page.get_by_role("progressbar", name="Stories done")
            await expect(bar).to_have_attribute("aria-valuenow", "70")
            history = page.get_by_role("img", name=re.compile("History of “Stories done”"))
            await expect(history).to_contain_text("2 updates: from 2 to 7")

            await page.get_by_label("New value for “Stories done”").fill("9")
            await page.get_by_role("button", name="Update “Stories done”").click()
            await expect(page).to_have_url(
                re.compile(rf"/tabs/goals\?updated={app.stories}#kr-{app.stories}$")
            )
            await expect(page.locator(f"#kr-{app.stories}-value")).to_have_text("9")
            await expect(page.get_by_role("status")).to_contain_text("Saved: “Stories done” is now 9.")
            await expect(bar).to_have_attribute("aria-valuenow", "90")
            await watched.assert_clean()
        finally:
            await watched.context.close()

        (reply,) = await adele.say("goals")
        assert "9 → 10 · 90%" in "".join(reply.card.texts()), "the card reads what the tab wrote"


async def test_a_refused_value_is_explained_next_to_the_field(browser: Browser, app: App) -> None:
    watched = await _signed_in(browser, app, "Adele Vance")
    page = watched.page
    try:
        await page.goto(f"{app.base_url}/tabs/goals")
        field = page.get_by_label("New value for “Stories done”")
        # type=number keeps letters out; a value past the target is a number the server can judge.
        await field.fill("")
        await field.evaluate("(el) => { el.type = 'text'; el.value = 'lots'; }")
        await page.get_by_role("button", name="Update “Stories done”").click()
        await expect(page.get_by_role("alert")).to_have_text("The value must be a number (got “lots”).")
        await expect(page.get_by_label("New value for “Stories done”")).to_have_attribute(
            "aria-invalid", "true"
        )
        # The 400 answer is the page itself: Chromium logs it, nothing else goes wrong.
        assert all("HTTP 400" in e or "400" in e for e in watched.errors), watched.errors
    finally:
        await watched.context.close()


async def test_the_alignment_tree_expands_by_mouse_and_keyboard(browser: Browser, app: App) -> None:
    watched = await _signed_in(browser, app, "Alex Wilber")
    page = watched.page
    try:
        await page.get_by_role("link", name="Alignment").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Alignment")
        await expect(page.get_by_text("Ship the platform", exact=True)).to_be_visible()
        await expect(
            page.get_by_text("Team goal · Engineering · carries 67 % of the goal above")
        ).to_be_visible()
        await expect(page.get_by_text("Finish the goals tab", exact=True)).to_be_hidden()  # beyond two levels

        node = page.locator(f"details[data-expand='/tabs/alignment/nodes/{app.team_goal}']")
        await node.locator("summary").click()
        await expect(page.get_by_text("Finish the goals tab", exact=True)).to_be_visible()
        await expect(page.get_by_text("Harden the API", exact=True)).to_be_visible()
        await expect(page.get_by_text("Adele Vance · carries 25 % of the goal above")).to_be_visible()

        # The next level, from the keyboard: Tab to the summary, Enter.
        deeper = page.locator("details[data-expand]").filter(has_text="1 aligned goal")
        await deeper.locator("summary").focus()
        await page.keyboard.press("Enter")
        await expect(page.get_by_text(re.compile("^Write the runbook for the API gateway"))).to_be_visible()
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_the_goal_pages_reflow_without_horizontal_scroll(browser: Browser, app: App) -> None:
    # 200 % zoom of a W-wide window lays out like a W/2-wide viewport at device scale 2 (see test_browser).
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        watched = await _signed_in(
            browser, app, "Alex Wilber", viewport={"width": width, "height": 800}, device_scale_factor=scale
        )
        try:
            for path in (*PAGES, f"/tabs/alignment?root={app.team_goal}"):
                await watched.page.goto(f"{app.base_url}{path}")
                if path == "/tabs/alignment":
                    await watched.page.locator("details[data-expand] > summary").first.click()
                    await expect(watched.page.get_by_text("Harden the API", exact=True)).to_be_visible()
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (path, width, scale, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_status_colours_and_bars_meet_contrast_in_every_theme(
    browser: Browser, app: App, theme: str
) -> None:
    watched = await _signed_in(browser, app, "Alex Wilber")
    page = watched.page
    try:
        for path in PAGES:
            await page.goto(f"{app.base_url}{path}?theme={theme}")
            await expect(page.locator("body")).to_have_class(f"theme-{theme}")
            ratios = await page.evaluate(CONTRAST_PROBE, GOAL_TEXT)
            assert any(selector == ".status" for selector, _ in ratios), path
            low = [r for r in ratios if r[1] < 4.5]
            assert low == [], (path, low)
            bars = await page.evaluate(BAR_PROBE)
            assert bars and min(bars) >= 3, (path, bars)
        await watched.assert_clean()
    finally:
        await watched.context.close()

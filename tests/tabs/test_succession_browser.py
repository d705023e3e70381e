"""The Succession tab in real Chromium: the board renders as a picture (figures, heat map, cards) with no
CSP violation and no console error in the default, dark and high-contrast themes, meets WCAG contrast,
reflows down to 320 px and 200 % zoom; the people picker suggests colleagues and a successor is named
through it; notes with markup show as text and never run; a talent pool is started and filled through its
forms, cleanly and with enough contrast. A screenshot of the board is kept in
test-artifacts/succession-board.png.

The positions are the world of test_succession_pages.py.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Dialog

from .conftest import REPO
from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser, expect
from .test_succession_pages import NOTES_SCRIPT, SuccessionWorld, succession_world

__all__ = ["browser", "succession_world"]  # the fixtures, shared with test_browser and test_succession_pages

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
SCREENSHOT = ARTIFACTS / "succession-board.png"
BOARD = "/tabs/talent/succession"
SUCCESSION_TEXT = [
    "h1",
    "h2",
    "h3",
    "a",
    "th",
    "label",
    "select",
    "input",
    "textarea",
    ".button",
    ".meta",
    ".meta-inline",
    ".person__name",
    ".sc-figure__value",
    ".sc-figure__label",
    ".sc-heat__count",
    ".sc-risk__text",
    ".sc-flag",
    ".sc-chip__name",
    ".sc-chip__title",
    ".sc-chip__readiness",
    ".sc-chip__emergency",
    ".sc-notes",
    "summary",
]


async def _megan(browser: Browser, world: SuccessionWorld, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, world.base_url, "Megan Bowen")
    return watched


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_board_renders_cleanly_and_meets_contrast_in_every_theme(
    browser: Browser, succession_world: SuccessionWorld, theme: str
) -> None:
    watched = await _megan(browser, succession_world, color_scheme="light")
    page = watched.page
    try:
        await page.goto(f"{succession_world.base_url}{BOARD}?theme={theme}")
        await expect(page.locator("body")).to_have_class(f"theme-{theme}")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Succession")
        await expect(page.locator(".sc-card")).to_have_count(6)
        # A picture, not a table: the cards sit side by side in a grid at this width.
        tops = await page.locator(".sc-card").evaluate_all("(cards) => cards.map((c) => c.offsetTop)")
        assert len(set(tops)) < len(tops), tops
        uncovered = page.locator(".sc-card--uncovered")
        await expect(uncovered.first.locator(".sc-flag--none")).to_have_text("! No successor")
        await expect(page.locator(".sc-heat__grid tbody td")).to_have_count(9)
        ratios = await page.evaluate(CONTRAST_PROBE, SUCCESSION_TEXT)
        measured = {selector for selector, _ in ratios}
        assert {".sc-chip__readiness", ".sc-flag", ".sc-heat__count", ".sc-risk__text"} <= measured
        low = [r for r in ratios if r[1] < 4.5]
        assert low == [], (theme, low)
        # Readiness is not told by colour alone: each chip says it, and their borders differ too.
        styles = await page.locator(".sc-board .sc-chip").evaluate_all(
            "(chips) => chips.map((c) => [c.className, getComputedStyle(c).borderTopStyle])"
        )
        assert {style for cls, style in styles if "sc-chip--now" in cls} == {"solid"}
        assert {style for cls, style in styles if "sc-chip--soon" in cls} == {"dashed"}
        assert {style for cls, style in styles if "sc-chip--later" in cls} == {"dotted"}
        links = await page.locator("main a[href^='/tabs/talent/succession/']").evaluate_all(
            "(links) => links.map((a) => a.getAttribute('href'))"
        )
        if theme != "default":
            assert links and all(f"theme={theme}" in href for href in links), links
        if theme == "default":
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
        else:
            await page.screenshot(path=str(ARTIFACTS / f"succession-board-{theme}.png"), full_page=True)
        await watched.assert_clean()
    finally:
        await watched.context.close()
    assert SCREENSHOT.stat().st_size > 10_000


async def test_the_succession_pages_reflow_without_horizontal_scroll(
    browser: Browser, succession_world: SuccessionWorld
) -> None:
    paths = [BOARD, f"{BOARD}/{succession_world.positions['vp_eng']}", f"{BOARD}/positions", f"{BOARD}/pools"]
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        watched = await _megan(
            browser, succession_world, viewport={"width": width, "height": 800}, device_scale_factor=scale
        )
        try:
            for path in paths:
                await watched.page.goto(f"{succession_world.base_url}{path}")
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (path, width, scale, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()


async def test_naming_a_successor_with_the_people_picker(
    browser: Browser, succession_world: SuccessionWorld
) -> None:
    watched = await _megan(browser, succession_world)
    page = watched.page
    dialogs: list[str] = []
    dismissing: list[asyncio.Future] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dismissing.append(asyncio.ensure_future(dialog.dismiss()))

    page.on("dialog", on_dialog)
    try:
        # Markup in notes shows as text and never runs.
        await page.goto(
            f"{succession_world.base_url}{BOARD}/{succession_world.positions['vp_eng']}?theme=dark"
        )
        await expect(page.locator("#slate .sc-notes").first).to_have_text(NOTES_SCRIPT)
        assert await page.locator("main script").count() == 0

        platform = succession_world.positions["platform"]
        await page.goto(f"{succession_world.base_url}{BOARD}/{platform}")
        person = page.get_by_label("Person")
        await person.press_sequentially("Lee Le", delay=20)
        suggestions = page.locator("#nominate-person-suggestions option")
        await expect(suggestions).to_have_count(1)
        email = await suggestions.first.get_attribute("value")
        assert email and email.endswith("@contoso.example")
        assert await suggestions.first.get_attribute("label") == "Lee Leaving · Staff Engineer"
        await person.fill(email)
        await page.locator("#nominate-readiness").select_option("3_5_years")
        await page.locator("#nominate-months").fill("40")
        await page.locator("#nominate-notes").fill("Wants to lead a platform team")
        await page.get_by_role("button", name="Add to the slate").click()

        await expect(page.get_by_role("status")).to_have_text("Saved: the successor is on the slate.")
        chip = page.locator("#slate .sc-chip").filter(has_text="Lee Leaving")
        await expect(chip).to_contain_text("Ready in 3\u20135 years · 40 months")
        await expect(page.locator("#slate .sc-notes").filter(has_text="platform team")).to_have_count(1)
        await page.wait_for_timeout(200)
        assert dialogs == []
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_starting_a_talent_pool_and_adding_someone_with_the_picker(
    browser: Browser, succession_world: SuccessionWorld
) -> None:
    watched = await _megan(browser, succession_world, color_scheme="dark")
    page = watched.page
    try:
        await page.goto(f"{succession_world.base_url}{BOARD}?theme=dark")
        await page.get_by_role("link", name="Talent pools").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Talent pools")
        await page.get_by_label("Name").fill("Future platform leads")
        await page.get_by_label("What it is for").fill("<i>Grow</i> platform leads")
        await page.get_by_role("button", name="Start the pool").click()
        await expect(page.get_by_role("status")).to_have_text("Saved: the talent pool is started.")
        assert "theme=dark" in page.url

        pool = page.locator("section.sc-section").filter(
            has=page.get_by_role("heading", name="Future platform leads")
        )
        await expect(pool.locator(".sc-notes")).to_have_text("<i>Grow</i> platform leads")
        person = pool.get_by_label("Add someone")
        await person.press_sequentially("Isaiah", delay=20)
        suggestion = pool.locator("datalist option")
        await expect(suggestion).to_have_count(1)
        await person.fill(await suggestion.first.get_attribute("value") or "")
        await pool.get_by_role("button", name="Add to the pool").click()
        await expect(page.get_by_role("status")).to_have_text("Saved: they are in the pool.")
        await expect(pool.locator(".sc-pool__member")).to_contain_text(["Isaiah Langer"])

        ratios = await page.evaluate(CONTRAST_PROBE, SUCCESSION_TEXT)
        low = [r for r in ratios if r[1] < 4.5]
        assert low == [], low
        await watched.assert_clean()
    finally:
        await watched.context.close()

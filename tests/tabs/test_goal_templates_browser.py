"""The Goal templates tab in real Chromium: filled in by its labels, no CSP trips, reflow down to 320 px
(and 200 % zoom), WCAG contrast in the three themes."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser
from .test_goal_templates import PAGE, TemplateWorld, world

__all__ = ["browser", "world"]  # fixtures shared with test_browser and test_goal_templates

pytestmark = pytest.mark.browser

FORM_TEXT = ["h1", "h2", "h3", "label", "legend", ".meta", ".meta-inline", "a", ".button", "input", "select"]


async def _signed_in(browser: Browser, world: TemplateWorld, name: str, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, world.base_url, name)
    return watched


async def test_a_manager_defines_and_assigns_a_template_by_its_labels(browser: Browser, world) -> None:
    watched = await _signed_in(browser, world, "Alex Wilber")
    page = watched.page
    try:
        await page.goto(f"{world.base_url}{PAGE}")
        await page.get_by_label("Goal title").fill("Pairing sessions")
        await page.get_by_label("Title of key result 1").fill("Sessions held")
        await page.get_by_label("Measured as of key result 1").select_option("number")
        await page.get_by_label("Target of key result 1").fill("12")
        await page.get_by_label("Unit of key result 1 (optional)").fill("sessions")
        await page.get_by_role("button", name="Save template").click()

        await expect(page.get_by_role("status")).to_contain_text("Saved the template “Pairing sessions”")
        await expect(page.get_by_label("Template", exact=True)).to_have_value(re.compile(r"\d+"))
        await page.get_by_label("People, one per line").fill("Adele Vance\nPatti Fernandez")
        await page.get_by_role("button", name="Assign", exact=True).click()

        await expect(page.get_by_role("heading", level=1)).to_have_text("Assigned “Pairing sessions”")
        await expect(page.get_by_role("region", name="Got the goal (1)")).to_contain_text("Adele Vance")
        skipped = page.get_by_role("region", name="Skipped (1)")
        await expect(skipped).to_contain_text("Patti Fernandez You can't set goals for this person.")
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_the_pages_reflow_without_horizontal_scroll(browser: Browser, world) -> None:
    # 200 % zoom of a W-wide window lays out like a W/2-wide viewport at device scale 2 (see test_browser).
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        watched = await _signed_in(
            browser, world, "Megan Bowen", viewport={"width": width, "height": 800}, device_scale_factor=scale
        )
        page = watched.page
        try:
            await page.goto(f"{world.base_url}{PAGE}")
            await page.get_by_label("Goal title").fill(f"Reflow {width}@{scale}: a longer title")
            await page.get_by_role("button", name="Save template").click()
            await expect(page.get_by_role("status")).to_contain_text("Saved the template")
            assert await _fits(watched), (PAGE, width, scale)
            await page.get_by_label("Everyone active in a department").select_option("Engineering")
            await page.get_by_role("button", name="Assign", exact=True).click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text("Assigned")
            assert await _fits(watched), ("outcome", width, scale)
            await watched.assert_clean()
        finally:
            await watched.context.close()


async def _fits(watched: Watched) -> bool:
    scroll, inner = await watched.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return scroll <= inner


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_forms_meet_contrast_in_every_theme(browser: Browser, world, theme: str) -> None:
    watched = await _signed_in(browser, world, "Megan Bowen")
    page = watched.page
    try:
        await page.goto(f"{world.base_url}{PAGE}?theme={theme}")
        # A blank title passes the browser's `required` but not the server: the error message shows too.
        await page.get_by_label("Goal title").fill("   ")
        await page.get_by_role("button", name="Save template").click()
        await expect(page.locator("body")).to_have_class(f"theme-{theme}")
        await expect(page.get_by_role("alert")).to_contain_text("Give the goal a title.")
        ratios = await page.evaluate(CONTRAST_PROBE, [*FORM_TEXT, ".error"])
        assert any(selector == ".error" for selector, _ in ratios)
        low = [r for r in ratios if r[1] < 4.5]
        assert low == [], low
        # Not assert_clean(): the refused form is an expected HTTP 400.
        assert await page.evaluate("window.__cspViolations") == []
    finally:
        await watched.context.close()

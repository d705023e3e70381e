"""Edit goal in real Chromium: a goal's title changed by filling its labelled fields, no CSP trips, and
the page reflows down to 320 px without scrolling sideways."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from .goal_world import GoalWorld, goal_world
from .test_browser import Watched, _open, _sign_in_by_clicking, browser

__all__ = ["browser", "goal_world"]  # fixtures shared with test_browser and the goal tests

pytestmark = pytest.mark.browser


async def _signed_in(browser: Browser, world: GoalWorld, name: str, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, world.base_url, name)
    return watched


async def test_the_owner_edits_a_title_by_its_labels_at_320_px(browser: Browser, goal_world) -> None:
    watched = await _signed_in(browser, goal_world, "Adele Vance", viewport={"width": 320, "height": 800})
    page = watched.page
    meetup = goal_world.goal["meetup"]
    try:
        await page.goto(f"{goal_world.base_url}/tabs/goals")
        await page.get_by_role("link", name="Edit “Speak at a meetup”").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Edit goal")
        await expect(page.get_by_label("Period")).to_have_value("custom")
        scroll, inner = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, (scroll, inner)

        await page.get_by_label("Title", exact=True).fill("Speak at a conference")
        await page.get_by_label("Weight").fill("2")
        await page.get_by_role("button", name="Save changes").click()

        await expect(page).to_have_url(re.compile(rf"/tabs/goals\?edited={meetup}#goal-{meetup}$"))
        await expect(page.locator(f"#goal-{meetup}-title")).to_have_text("Speak at a conference")
        await watched.assert_clean()
    finally:
        await watched.context.close()

"""The Talent review tab in real Chromium: dragging a chip to another cell in calibration asks for the
reason and lands it there with its history line; cancelling moves nobody; the keyboard does the same
through the Move form; the pages work in the default, dark and high-contrast themes (WCAG contrast, no CSP
violation, no console error) and reflow down to 320 px. A screenshot of the 9-box is kept in
test-artifacts/ninebox.png.

The world is test_talent_review_pages.py's.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from .conftest import REPO
from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser, expect
from .test_talent_review_pages import RATED, TalentWorld, new_review, talent_world

__all__ = ["browser", "talent_world"]  # the fixtures, shared with test_browser and test_talent_review_pages

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
TEXT = [
    "h1",
    "h2",
    "a",
    "label",
    "summary",
    "dt",
    "dd",
    ".button",
    ".meta",
    ".meta-inline",
    ".status",
    ".empty",
    ".error",
    ".nb__axis",
    ".nb__tick",
    ".nb-cell__count",
    ".nb-cell__empty",
    ".nb-chip__name",
    ".nb-chip__title",
    ".nb-chip__facts",
    ".nb-hipo",
    ".rv-reason",
    ".nb-history__change",
    "input",
    "select",
    "textarea",
]
REASON = "Led the <b>migration</b> across two teams"


async def _signed_in(browser: Browser, world: TalentWorld, name: str, **options) -> Watched:
    # Tall enough for the whole 9-box: a drag that has to scroll the page on the way is not a real one.
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 1400}} | options))
    await _sign_in_by_clicking(watched, world.base_url, name)
    return watched


async def test_dragging_a_chip_asks_for_the_reason_and_lands_it_with_its_history_line(
    browser: Browser, talent_world: TalentWorld
) -> None:
    review_id = await new_review(talent_world, "Dragged review", ratings=RATED, to="calibration")
    watched = await _signed_in(browser, talent_world, "Megan Bowen")
    page = watched.page
    try:
        await page.goto(f"{talent_world.base_url}/tabs/talent/reviews/{review_id}")
        isaiah = page.locator(f"#person-{talent_world.people['isaiah']}")
        await expect(page.locator("#cell-1-2")).to_contain_text("Isaiah Langer")  # Dilemma

        await isaiah.drag_to(page.locator("#cell-2-2"))  # Core
        dialog = page.get_by_role("dialog")
        await expect(dialog).to_be_visible()
        await expect(dialog.get_by_role("heading")).to_have_text("Move Isaiah Langer to Core")
        await expect(dialog.get_by_label("Reason")).to_be_focused()
        await dialog.get_by_label("Reason").fill(REASON)
        await dialog.get_by_role("button", name="Move").click()

        await expect(page.get_by_role("status")).to_have_text("Moved Isaiah Langer to Core.")
        await expect(page.locator("#cell-2-2 .nb-chip__name")).to_have_text(["Isaiah Langer"])
        await expect(page.locator("#cell-1-2 .nb-chip")).to_have_count(0)
        line = page.locator("#history .nb-history__item").first
        await expect(line.locator(".nb-history__change")).to_have_text("Dilemma → Core")
        await expect(line.locator(".rv-reason")).to_have_text(REASON)
        await expect(line).to_contain_text("by Megan Bowen")
        assert await page.locator("main b").count() == 0, "the reason is text"
        await watched.assert_clean()

        ARTIFACTS.mkdir(exist_ok=True)
        await page.locator("figure.nb").scroll_into_view_if_needed()
        await page.screenshot(path=str(ARTIFACTS / "ninebox.png"), full_page=True)
    finally:
        await watched.context.close()


async def test_cancelling_the_dialog_moves_nobody(browser: Browser, talent_world: TalentWorld) -> None:
    review_id = await new_review(talent_world, "Cancelled review", ratings=RATED, to="calibration")
    watched = await _signed_in(browser, talent_world, "Megan Bowen")
    page = watched.page
    try:
        await page.goto(f"{talent_world.base_url}/tabs/talent/reviews/{review_id}")
        adele = page.locator(f"#person-{talent_world.people['adele']}")
        await adele.drag_to(page.locator("#cell-3-3"))  # her own cell: not a target
        await expect(page.get_by_role("dialog")).to_be_hidden()
        await adele.drag_to(page.locator("#cell-1-1"))
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_role("heading")).to_have_text("Move Adele Vance to Underperformer")
        await dialog.get_by_role("button", name="Cancel").click()
        await expect(dialog).to_be_hidden()
        await expect(page.locator("#cell-3-3 .nb-chip__name")).to_have_text(["Adele Vance"])
        await expect(page.locator("#history")).to_contain_text("Nobody has been moved")
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_the_keyboard_moves_someone_through_the_move_form(
    browser: Browser, talent_world: TalentWorld
) -> None:
    review_id = await new_review(talent_world, "Keyboard review", ratings=RATED, to="calibration")
    watched = await _signed_in(browser, talent_world, "Megan Bowen")
    page = watched.page
    try:
        await page.goto(f"{talent_world.base_url}/tabs/talent/reviews/{review_id}")
        move = page.locator("summary", has_text="Move Lee Leaving")
        await move.focus()
        await page.keyboard.press("Enter")
        await page.get_by_label("To which cell to move Lee Leaving").select_option(
            label="Star (high potential, high performance)"
        )
        await page.get_by_label("Reason for moving Lee Leaving").fill("Runs the platform group")
        await page.get_by_label("Reason for moving Lee Leaving").press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_have_text("Moved Lee Leaving to Star.")
        await expect(page.locator("#cell-3-3 .nb-chip__name")).to_have_text(["Adele Vance", "Lee Leaving"])
        await watched.assert_clean()
    finally:
        await watched.context.close()


def _pages(world: TalentWorld, review_id: int) -> dict[str, list[str]]:
    return {
        "Megan Bowen": [
            "/tabs/talent/reviews",
            f"/tabs/talent/reviews/{review_id}",
            f"/tabs/talent/reviews/{review_id}/ratings",
        ],
        "Alex Wilber": [f"/tabs/talent/reviews/{review_id}/ratings"],
    }


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_pages_work_and_meet_contrast_in_every_theme(
    browser: Browser, talent_world: TalentWorld, theme: str
) -> None:
    review_id = await new_review(talent_world, f"Themed review {theme}", ratings=RATED, to="calibration")
    measured: set[str] = set()
    for name, paths in _pages(talent_world, review_id).items():
        watched = await _signed_in(browser, talent_world, name)
        page = watched.page
        try:
            for path in paths:
                await page.goto(f"{talent_world.base_url}{path}?theme={theme}")
                await expect(page.locator("body")).to_have_class(f"theme-{theme}")
                await expect(page.get_by_role("heading", level=1)).to_be_visible()
                # Open one Move form so its fields are measured too.
                summaries = page.locator("summary.nb-move__summary")
                if await summaries.count():
                    await summaries.first.click()
                ratios = await page.evaluate(CONTRAST_PROBE, TEXT)
                measured |= {selector for selector, _ in ratios}
                low = [r for r in ratios if r[1] < 4.5]
                assert low == [], (name, path, low)
            await watched.assert_clean()
        finally:
            await watched.context.close()
    assert {".nb-chip__name", ".nb-cell__count", ".nb-hipo", ".nb__tick", "select", "textarea"} <= measured


async def test_the_pages_reflow_without_horizontal_scroll(
    browser: Browser, talent_world: TalentWorld
) -> None:
    review_id = await new_review(talent_world, "Narrow review", ratings=RATED, to="calibration")
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        watched = await _signed_in(
            browser,
            talent_world,
            "Megan Bowen",
            viewport={"width": width, "height": 800},
            device_scale_factor=scale,
        )
        try:
            for path in _pages(talent_world, review_id)["Megan Bowen"]:
                await watched.page.goto(f"{talent_world.base_url}{path}")
                summaries = watched.page.locator("summary.nb-move__summary")
                if await summaries.count():
                    await summaries.first.click()
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (path, width, scale, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()

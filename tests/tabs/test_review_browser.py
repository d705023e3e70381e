"""The review tabs in real Chromium: markup typed into a review or a calibration reason is shown as text and
never runs; the pages work in the default, dark and high-contrast themes (WCAG contrast, no CSP violation,
no console error) and reflow down to 320 px and 200 % zoom.

The reviews are the world of test_review_pages.py.
"""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, Dialog

from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser, expect
from .test_review_pages import PEER_SCRIPT, ReviewWorld, review_world

__all__ = ["browser", "review_world"]  # the fixtures, shared with test_browser and test_review_pages

pytestmark = pytest.mark.browser

REVIEW_TEXT = [
    "h1",
    "h2",
    "h3",
    "a",
    "label",
    "legend",
    "dt",
    "dd",
    "th",
    "td",
    "caption",
    "code",
    ".button",
    ".meta",
    ".meta-inline",
    ".status",
    ".empty",
    ".error",
    ".rv-pool__summary",
    ".rv-pool__text",
    ".rv-reason",
    ".rv-bucket__count",
    "input",
    "select",
    "textarea",
]
SCRIPT_REASON = "<script>alert('calibrated')</script><b>bold</b>"


def _pages(world: ReviewWorld) -> dict[str, list[str]]:
    """Who opens which review pages (by the name on the persona button)."""
    c = world.cycles
    return {
        "Adele Vance": [
            "/tabs/reviews",
            f"/tabs/reviews/results/{c['A']}",
            f"/tabs/reviews/results/{c['B']}",
        ],
        "Alex Wilber": ["/tabs/reviews/team"],
        "Megan Bowen": [
            "/tabs/reviews/cycles",
            f"/tabs/reviews/cycles/{c['C']}",
            f"/tabs/reviews/cycles/{c['B']}/calibration",
            "/tabs/reviews/setup",
        ],
    }


async def _signed_in(browser: Browser, world: ReviewWorld, name: str, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, world.base_url, name)
    return watched


def _watch_dialogs(watched: Watched) -> tuple[list[str], list[asyncio.Future]]:
    dialogs: list[str] = []
    dismissing: list[asyncio.Future] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dismissing.append(asyncio.ensure_future(dialog.dismiss()))

    watched.page.on("dialog", on_dialog)
    return dialogs, dismissing


async def test_script_typed_into_a_calibration_reason_is_shown_literally_and_never_runs(
    browser: Browser, review_world: ReviewWorld
) -> None:
    watched = await _signed_in(browser, review_world, "Megan Bowen")
    page = watched.page
    dialogs, _ = _watch_dialogs(watched)
    try:
        await page.evaluate("alert('control')")
        assert dialogs == ["control"], "the watch works"
        dialogs.clear()

        await page.goto(f"{review_world.base_url}/tabs/reviews/cycles/{review_world.cycles['B']}/calibration")
        await page.get_by_label("New score for Isaiah Langer").fill("3.5")
        await page.get_by_label("Reason for changing Isaiah Langer's score").fill(SCRIPT_REASON)
        await page.get_by_role("button", name="Adjust Isaiah Langer's score").click()

        await expect(page.get_by_role("status")).to_have_text(
            "Saved: Isaiah Langer's final score is now 3.50."
        )
        reason = page.locator("#history .rv-reason")
        await expect(reason).to_have_count(1)
        assert await reason.text_content() == SCRIPT_REASON, "the text as typed, tags and all"
        await expect(page.locator("#history")).to_contain_text("\u2013 → 3.50")
        assert await page.locator("main script").count() == 0
        assert await page.locator("main b").count() == 0
        await page.wait_for_timeout(200)  # time for anything queued to run
        assert dialogs == []
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_peer_answers_with_markup_show_literally_on_the_employees_result(
    browser: Browser, review_world: ReviewWorld
) -> None:
    watched = await _signed_in(browser, review_world, "Adele Vance")
    page = watched.page
    dialogs, _ = _watch_dialogs(watched)
    try:
        await page.goto(f"{review_world.base_url}/tabs/reviews")
        await page.get_by_role("link", name="2026-Q1 review").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("2026-Q1 review")
        row = page.get_by_role("row", name="Competencies")
        await expect(row.get_by_role("cell")).to_have_text(["30", "3.67", "1.10"])
        answer = page.locator("#peers .rv-pool__text").filter(has_text="alert")
        await expect(answer).to_have_text(PEER_SCRIPT)
        assert await page.locator("main script").count() == 0
        await page.wait_for_timeout(200)
        assert dialogs == []
        await watched.assert_clean()
    finally:
        await watched.context.close()


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_review_pages_work_and_meet_contrast_in_every_theme(
    browser: Browser, review_world: ReviewWorld, theme: str
) -> None:
    measured: set[str] = set()
    for name, paths in _pages(review_world).items():
        watched = await _signed_in(browser, review_world, name)
        page = watched.page
        try:
            for path in paths:
                await page.goto(f"{review_world.base_url}{path}?theme={theme}")
                await expect(page.locator("body")).to_have_class(f"theme-{theme}")
                await expect(page.get_by_role("heading", level=1)).to_be_visible()
                ratios = await page.evaluate(CONTRAST_PROBE, REVIEW_TEXT)
                measured |= {selector for selector, _ in ratios}
                low = [r for r in ratios if r[1] < 4.5]
                assert low == [], (name, path, low)
            # Links on the pages keep the theme.
            links = await page.locator("main a[href^='/tabs/reviews']").evaluate_all(
                "(links) => links.map((a) => a.getAttribute('href'))"
            )
            if theme != "default":
                assert all(f"theme={theme}" in href for href in links), links
            await watched.assert_clean()
        finally:
            await watched.context.close()
    assert {".status", "td", ".rv-pool__text", ".rv-bucket__count", "textarea", "dt"} <= measured


async def test_the_review_pages_reflow_without_horizontal_scroll(
    browser: Browser, review_world: ReviewWorld
) -> None:
    # 200 % zoom of a W-wide window lays out like a W/2-wide viewport at device scale 2 (see test_browser).
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        for name, paths in _pages(review_world).items():
            watched = await _signed_in(
                browser,
                review_world,
                name,
                viewport={"width": width, "height": 800},
                device_scale_factor=scale,
            )
            try:
                for path in paths:
                    await watched.page.goto(f"{review_world.base_url}{path}")
                    scroll, inner = await watched.page.evaluate(
                        "[document.documentElement.scrollWidth, window.innerWidth]"
                    )
                    assert scroll <= inner, (path, width, scale, scroll, inner)
                await watched.assert_clean()
            finally:
                await watched.context.close()

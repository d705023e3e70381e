"""The Feedback tab in real Chromium: markup in feedback is shown as text and never runs; the pages work
in the default, dark and high-contrast themes (contrast, filters that keep the theme, the trend chart),
reflow down to 320 px and 200 % zoom, and never trip the Content-Security-Policy.

The feedback is the world of test_feedback_pages.py: Isaiah's feedback to Adele reads
`<script>alert(1)</script><b>bold</b>`.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Browser, Dialog

from .test_browser import CONTRAST_PROBE, WIDTHS, Watched, _open, _sign_in_by_clicking, browser, expect
from .test_feedback_pages import SCRIPT, FeedbackWorld, feedback_world

__all__ = ["browser", "feedback_world"]  # the fixtures, shared with test_browser and test_feedback_pages

pytestmark = pytest.mark.browser

PAGES = ("/tabs/feedback", "/tabs/feedback/team")
FEEDBACK_TEXT = [
    "h1",
    "h2",
    "h3",
    "a",
    "label",
    ".button",
    ".meta",
    ".meta-inline",
    ".tag",
    ".fb-item__who",
    ".fb-item__text",
    ".fb-pool__head",
    ".trend__caption",
    ".trend__numbers > summary",
    ".trend__table th",
    ".trend__table td",
]
# Contrast of SVG paint against the card behind it: the bars (non-text, 3:1) and the month and rating
# labels drawn in the chart (text, 4.5:1).
CHART_PROBE = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number).slice(0, 3);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [x, y] = [lum(a), lum(b)];
    return Math.round(((Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05)) * 100) / 100;
  };
  const ratios = { bar: [], label: [] };
  for (const svg of document.querySelectorAll(".trend__chart")) {
    const card = rgb(getComputedStyle(svg.closest(".card")).backgroundColor);
    const paint = (el) => ratio(rgb(getComputedStyle(el).fill), card);
    for (const bar of svg.querySelectorAll(".trend__bar")) ratios.bar.push(paint(bar));
    for (const text of svg.querySelectorAll("text")) ratios.label.push(paint(text));
  }
  return ratios;
}
"""


async def _signed_in(browser: Browser, world: FeedbackWorld, name: str, **options) -> Watched:
    watched = await _open(browser, **({"viewport": {"width": 1366, "height": 900}} | options))
    await _sign_in_by_clicking(watched, world.base_url, name)
    return watched


async def test_script_in_feedback_is_shown_literally_and_never_runs(
    browser: Browser, feedback_world: FeedbackWorld
) -> None:
    watched = await _signed_in(browser, feedback_world, "Adele Vance")
    page = watched.page
    dialogs: list[str] = []
    dismissing: list[asyncio.Future] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dismissing.append(asyncio.ensure_future(dialog.dismiss()))

    page.on("dialog", on_dialog)
    try:
        # The watch works: an alert the test itself raises is seen.
        await page.evaluate("alert('control')")
        assert dialogs == ["control"]
        dialogs.clear()

        await page.goto(f"{feedback_world.base_url}/tabs/feedback")
        piece = page.locator("#received .fb-item__text").filter(has_text="alert(1)")
        await expect(piece).to_have_count(1)
        assert await piece.text_content() == SCRIPT, "the text as typed, tags and all"
        await expect(piece).to_be_visible()
        assert await page.locator("main script").count() == 0, "no script element was made from it"
        assert await page.locator("main b").count() == 0, "nor any other element"
        visible = await page.locator("main").inner_text()
        assert SCRIPT in visible
        await page.wait_for_timeout(200)  # time for anything queued to run
        assert dialogs == []
        await watched.assert_clean()
    finally:
        await watched.context.close()


@pytest.mark.parametrize("theme", ["default", "dark", "contrast"])
async def test_the_feedback_pages_work_and_meet_contrast_in_every_theme(
    browser: Browser, feedback_world: FeedbackWorld, theme: str
) -> None:
    watched = await _signed_in(browser, feedback_world, "Alex Wilber")
    page = watched.page
    try:
        measured: set[str] = set()
        bars: list[float] = []
        for path in (*PAGES, f"/tabs/feedback?about={feedback_world.people['adele']}"):
            await page.goto(f"{feedback_world.base_url}{path}{'&' if '?' in path else '?'}theme={theme}")
            await expect(page.locator("body")).to_have_class(f"theme-{theme}")
            await expect(page.locator(".trend__chart").first).to_be_visible()
            # Open the tables under the charts so their text is measured too.
            for summary in await page.locator(".trend__numbers > summary").all():
                await summary.click()
            ratios = await page.evaluate(CONTRAST_PROBE, FEEDBACK_TEXT)
            measured |= {selector for selector, _ in ratios}
            low = [r for r in ratios if r[1] < 4.5]
            assert low == [], (path, low)
            chart = await page.evaluate(CHART_PROBE)
            assert all(r >= 3 for r in chart["bar"]), (path, chart["bar"])
            assert chart["label"] and min(chart["label"]) >= 4.5, (path, chart["label"])
            bars += chart["bar"]
        assert {".fb-item__text", ".fb-pool__head", ".trend__caption", ".trend__table td", ".tag"} <= measured
        assert bars, "some month had feedback to draw"

        # The filters are a plain GET form: submitting it keeps the theme and filters the list.
        await page.goto(f"{feedback_world.base_url}/tabs/feedback?theme={theme}")
        await page.get_by_label("A report's feedback").select_option(
            label="Adele Vance · Senior Software Engineer"
        )
        await page.get_by_role("button", name="Show").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Feedback about Adele Vance")
        await page.get_by_label("Tag or competency").fill("communication")
        await page.get_by_role("button", name="Filter").click()
        await expect(page).to_have_url(re.compile(r"tag=communication"))
        query = parse_qs(urlsplit(page.url).query)
        assert query["about"] == [str(feedback_world.people["adele"])]
        assert query.get("theme") == (None if theme == "default" else [theme])
        await expect(page.locator("body")).to_have_class(f"theme-{theme}")
        await expect(page.locator("#received .fb-item__text")).to_have_text(["Great demo"])
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_the_feedback_pages_reflow_without_horizontal_scroll(
    browser: Browser, feedback_world: FeedbackWorld
) -> None:
    # 200 % zoom of a W-wide window lays out like a W/2-wide viewport at device scale 2 (see test_browser).
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS[:2]]
    for width, scale in sizes:
        watched = await _signed_in(
            browser,
            feedback_world,
            "Alex Wilber",
            viewport={"width": width, "height": 800},
            device_scale_factor=scale,
        )
        try:
            for path in (*PAGES, f"/tabs/feedback?about={feedback_world.people['adele']}"):
                await watched.page.goto(f"{feedback_world.base_url}{path}")
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (path, width, scale, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()

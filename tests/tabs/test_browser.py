"""The tabs in real Chromium: sign-in by clicking, reflow, themes, contrast, keyboard, CSP, Teams SSO."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy import select

from storage.models import Person
from tests.support.identity import IdentityProviderStandIn

from .conftest import ADELE, ALEX, REPO, ServeTabs

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Nothing but the local server resolves: a page that reached for a CDN would fail loudly.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
WIDTHS = (320, 550, 720, 1366, 1920)
SCREENSHOT = REPO / "docs" / "home-tab.png"

# Records CSP violations; Playwright injects init scripts outside the page's CSP.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""

# Smallest WCAG contrast between each text element's colour and the background it is painted on.
CONTRAST_PROBE = """
(selectors) => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      const parts = rgb(c);
      if (parts.length === 3 || parts[3] > 0) return parts.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const results = [];
  for (const selector of selectors) {
    for (const el of document.querySelectorAll(selector)) {
      if (!el.offsetParent && el.tagName !== "BODY") continue;
      const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3));
      const bg = lum(background(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      results.push([selector, Math.round(ratio * 100) / 100]);
    }
  }
  return results;
}
"""
TEXT_SELECTORS = [
    "body",
    "h1",
    "h2",
    ".meta",
    ".intro__meta",
    ".empty",
    "a",
    ".button",
    ".tag",
    ".person__name",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is not installed: `make test` installs it (apt-get install chromium)", pytrace=False
        )
    async with async_playwright() as playwright:
        # launch() gives every run a fresh temporary profile (user data dir).
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


class Watched:
    """A page with its console errors, uncaught exceptions and CSP violations collected."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "response", lambda r: self.errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        )

    async def assert_clean(self) -> None:
        violations = await self.page.evaluate("window.__cspViolations || []")
        assert violations == [], violations
        assert self.errors == [], self.errors


async def _open(browser: Browser, **context_options: Any) -> Watched:
    context = await browser.new_context(**context_options)
    await context.add_init_script(WATCH_CSP)
    return Watched(context, await context.new_page())


async def _sign_in_by_clicking(watched: Watched, base_url: str, name: str = "Alex Wilber") -> None:
    page = watched.page
    await page.goto(f"{base_url}/tabs/home")
    await expect(page).to_have_url(re.compile(r"/tabs/signin\?next="))
    await page.get_by_role("button", name=re.compile(name)).click()
    await expect(page).to_have_url(f"{base_url}/tabs/home")
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)


@pytest.fixture
async def signed_in(browser: Browser, base_url: str) -> AsyncIterator[Watched]:
    """Alex Wilber (a manager) signed in through the persona picker, at 1366 x 900."""
    watched = await _open(browser, viewport={"width": 1366, "height": 900})
    await _sign_in_by_clicking(watched, base_url)
    yield watched
    await watched.context.close()


async def test_sign_in_by_clicking_shows_the_home_tab(signed_in: Watched) -> None:
    page = signed_in.page
    main = page.locator("main")
    await expect(main).to_contain_text("Engineering Manager")
    await expect(main.get_by_role("heading", name="Your manager")).to_be_visible()
    await expect(main).to_contain_text("Patti Fernandez")
    await expect(main).to_contain_text("Adele Vance")
    await expect(main).to_contain_text("Isaiah Langer")
    await expect(main).to_contain_text("Nothing is due right now.")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await signed_in.assert_clean()


async def test_screenshot_of_the_home_tab(browser: Browser, demo_base_url: str) -> None:
    """docs/home-tab.png for the README: the demo organization's manager, default theme, 1366 wide."""
    watched = await _open(browser, viewport={"width": 1366, "height": 768}, color_scheme="light")
    try:
        await _sign_in_by_clicking(watched, demo_base_url)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await watched.page.screenshot(path=str(SCREENSHOT), full_page=True)
        await watched.assert_clean()
    finally:
        await watched.context.close()
    assert SCREENSHOT.stat().st_size > 10_000


async def test_no_horizontal_scroll_at_any_width_or_at_200_percent_zoom(
    browser: Browser, base_url: str
) -> None:
    # Browser zoom at 200 % halves the CSS-pixel viewport and doubles device pixels per CSS pixel, so a
    # W-wide window at 200 % lays out exactly like a W/2-wide viewport with deviceScaleFactor 2. That is
    # what we emulate (CSS `zoom` would instead scale the page inside an unchanged viewport).
    sizes = [(w, 1) for w in WIDTHS] + [(w // 2, 2) for w in WIDTHS]
    for width, scale in sizes:
        watched = await _open(browser, viewport={"width": width, "height": 800}, device_scale_factor=scale)
        try:
            await _sign_in_by_clicking(watched, base_url)
            for path in ("/tabs/home", "/tabs/privacy", "/tabs/signin?signed_out=1"):
                await watched.page.goto(f"{base_url}{path}")
                scroll, inner = await watched.page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                assert scroll <= inner, (path, width, scale, scroll, inner)
            await watched.assert_clean()
        finally:
            await watched.context.close()


@pytest.mark.parametrize(
    ("theme", "background"),
    [("default", "rgb(255, 255, 255)"), ("dark", "rgb(31, 31, 31)"), ("contrast", "rgb(0, 0, 0)")],
)
async def test_themes_apply_and_meet_wcag_contrast(
    signed_in: Watched, base_url: str, theme: str, background: str
) -> None:
    page = signed_in.page
    await page.goto(f"{base_url}/tabs/home?theme={theme}")
    await expect(page.locator("body")).to_have_class(f"theme-{theme}")
    assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == background
    ratios = await page.evaluate(CONTRAST_PROBE, TEXT_SELECTORS)
    assert ratios, "nothing measured"
    low = [r for r in ratios if r[1] < 4.5]
    assert low == [], low
    await signed_in.assert_clean()


async def test_the_browser_colour_scheme_is_followed(browser: Browser, base_url: str) -> None:
    watched = await _open(browser, color_scheme="dark")
    try:
        await watched.page.goto(f"{base_url}/tabs/signin")
        await expect(watched.page.locator("body")).to_have_class("theme-dark")
        await watched.page.emulate_media(color_scheme="light")
        await expect(watched.page.locator("body")).to_have_class("theme-default")
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_keyboard_reaches_sign_out_with_a_visible_focus_ring(signed_in: Watched) -> None:
    page = signed_in.page
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.textContent.trim()") == "Sign out":
            break
    else:
        pytest.fail("Tab never reached the Sign out button")
    style = await page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, parseFloat(s.outlineWidth), s.outlineColor]; })()"
    )
    assert style[0] != "none" and style[1] >= 2, style
    # Enter on the focused button signs out.
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/tabs/signin\?.*signed_out=1"))
    await expect(page.get_by_role("status")).to_contain_text("You're signed out.")
    await signed_in.assert_clean()


async def test_the_skip_link_is_first_and_shows_on_focus(signed_in: Watched) -> None:
    page = signed_in.page
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    await expect(skip).to_be_focused()
    assert (await skip.bounding_box() or {}).get("y", -1) >= 0


# --- Teams SSO with a stand-in host -----------------------------------------------------------------------

# A stand-in for teams-js that behaves like the SDK inside Teams: initialize() resolves, the context names a
# theme, and getAuthToken() hands out a token (failing first as many times as the test asks).
FAKE_TEAMS_JS = """
window.microsoftTeams = (function () {
  var host = window.__teamsHost;
  return {
    app: {
      initialize: function () { return Promise.resolve(); },
      getContext: function () {
        var page = { id: "home", subPageId: host.subPageId };
        return Promise.resolve({ app: { theme: host.theme }, page: page });
      },
      registerOnThemeChangeHandler: function (handler) { host.onTheme = handler; },
      notifySuccess: function () {},
    },
    authentication: {
      getAuthToken: function () {
        host.calls += 1;
        if (host.failures > 0) {
          host.failures -= 1;
          return Promise.reject(new Error("CancelledByUser"));
        }
        return Promise.resolve(host.token);
      },
    },
  };
})();
"""


async def _in_teams(
    browser: Browser, token: str, *, theme: str = "dark", failures: int = 0, sub_page: str = ""
) -> Watched:
    watched = await _open(browser)
    host = {"token": token, "theme": theme, "failures": failures, "calls": 0, "subPageId": sub_page}
    await watched.context.add_init_script(f"window.__teamsHost = {json.dumps(host)};")
    await watched.context.route(
        "**/tabs/static/vendor/teams-js.min.js",
        lambda route: route.fulfill(body=FAKE_TEAMS_JS, content_type="text/javascript"),
    )
    return watched


async def test_teams_sso_signs_in_and_follows_the_teams_theme(
    browser: Browser, serve_tabs: ServeTabs, idp: IdentityProviderStandIn
) -> None:
    base = await serve_tabs(dev_sign_in=False)
    watched = await _in_teams(browser, idp.mint(oid=ALEX), theme="dark")
    page = watched.page
    try:
        await page.goto(f"{base}/tabs/home")
        await expect(page).to_have_url(f"{base}/tabs/home", timeout=5000)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Alex Wilber")
        await expect(page.locator("body")).to_have_class("theme-dark")
        await page.evaluate("window.__teamsHost.onTheme('contrast')")
        await expect(page.locator("body")).to_have_class("theme-contrast")
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_a_failed_teams_sign_in_shows_the_error_and_a_retry(
    browser: Browser, serve_tabs: ServeTabs, idp: IdentityProviderStandIn
) -> None:
    base = await serve_tabs(dev_sign_in=False)
    watched = await _in_teams(browser, idp.mint(oid=ALEX), failures=1)
    page = watched.page
    try:
        await page.goto(f"{base}/tabs/home")
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("Teams could not sign you in (CancelledByUser)", timeout=2000)
        await expect(page.locator("#sso-status")).to_be_hidden()  # no spinner left running
        retry = page.get_by_role("button", name="Try again")
        await expect(retry).to_be_focused()
        await retry.click()
        await expect(page).to_have_url(f"{base}/tabs/home", timeout=5000)
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def test_a_refused_token_shows_the_server_reason(
    browser: Browser, serve_tabs: ServeTabs, idp: IdentityProviderStandIn
) -> None:
    base = await serve_tabs(dev_sign_in=False)
    watched = await _in_teams(browser, idp.mint(oid=ALEX, expires_in=-600))
    watched_errors = watched.errors
    page = watched.page
    try:
        await page.goto(f"{base}/tabs/signin")
        await expect(page.get_by_role("alert")).to_contain_text("Token has expired.", timeout=2000)
        await expect(page.get_by_role("button", name="Try again")).to_be_visible()
        # Chromium logs the refused fetch (401) to the console; that is the only error expected.
        assert all("401" in e for e in watched_errors), watched_errors
    finally:
        await watched.context.close()


async def test_outside_teams_without_dev_sign_in_the_page_says_where_to_go(
    browser: Browser, serve_tabs: ServeTabs
) -> None:
    base = await serve_tabs(dev_sign_in=False)
    watched = await _open(browser)
    try:
        await watched.page.goto(f"{base}/tabs/signin")
        await expect(watched.page.get_by_text("Open Trellis from Microsoft Teams")).to_be_visible(
            timeout=2000
        )
        await expect(watched.page.locator("#sso-status")).to_be_hidden()
        await watched.assert_clean()
    finally:
        await watched.context.close()


async def _person_id(db, object_id: str) -> int:
    async with db() as session:
        return int(await session.scalar(select(Person.id).where(Person.aad_object_id == object_id)))


async def test_a_deep_link_opens_its_page_in_the_tab_once(
    browser: Browser, serve_tabs: ServeTabs, idp: IdentityProviderStandIn, db
) -> None:
    """A chat button's deep link (trellis.app.plan_link) opens My development with Adele's plan as its
    sub-page: the tab goes there; My development stays itself when Alex comes back to it through the
    nav; the tab opened by the link again goes there again."""
    base = await serve_tabs(dev_sign_in=False)
    adele = await _person_id(db, ADELE)
    watched = await _in_teams(browser, idp.mint(oid=ALEX), sub_page=f"/tabs/development/{adele}")
    page = watched.page
    try:
        await page.goto(f"{base}/tabs/development")
        await expect(page).to_have_url(f"{base}/tabs/development/{adele}", timeout=5000)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Adele Vance's development plan")
        await page.get_by_role("navigation").get_by_role("link", name="My development").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("My development plan")
        await page.wait_for_timeout(500)
        assert page.url == f"{base}/tabs/development", "no bounce back to the followed link"
        await page.goto(f"{base}/tabs/development")  # the button pressed again: Teams loads the tab anew
        await expect(page).to_have_url(f"{base}/tabs/development/{adele}", timeout=5000)
        await watched.assert_clean()
    finally:
        await watched.context.close()


@pytest.mark.parametrize(
    "sub_page", ["https://evil.example/tabs/home", "//evil.example/tabs", "/tabs/../api/x"]
)
async def test_a_deep_link_never_leaves_trellis_pages(
    browser: Browser, serve_tabs: ServeTabs, idp: IdentityProviderStandIn, sub_page: str
) -> None:
    base = await serve_tabs(dev_sign_in=False)
    watched = await _in_teams(browser, idp.mint(oid=ALEX), sub_page=sub_page)
    page = watched.page
    try:
        await page.goto(f"{base}/tabs/development")
        await expect(page.get_by_role("heading", level=1)).to_have_text("My development plan", timeout=5000)
        await page.wait_for_timeout(500)
        assert page.url == f"{base}/tabs/development"
    finally:
        await watched.context.close()

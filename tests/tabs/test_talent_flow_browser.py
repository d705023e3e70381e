"""From a closed performance cycle to the succession board, through the running tabs.

The world of test_talent_review_pages.py: "2026-H1 review" is closed with final scores Adele 4.50,
Isaiah 2.00, Alex 3.00, Lee 3.50 and the tester 4.00; Alex holds the Engineering Manager position (not
yet critical). HR (Megan) opens a talent review over the cycle with thresholds 2.5 and 4; the managers
rate potential on the ratings page (Alex his two, Patti rates Alex); the 9-box places people from the
scores and the ratings; calibration moves Isaiah with a reason; Alex's position becomes critical and Adele
its ready-now successor. The board and the talent metrics change accordingly, and Chromium screenshots of
the 9-box and the board are kept in test-artifacts/ (flow-ninebox.png, flow-succession-board.png).
"""

from __future__ import annotations

import html as htmllib
import re

import aiohttp
import pytest
from playwright.async_api import Browser
from sqlalchemy import select

from domain.talent.talent_review_views import DEFAULT_BOX_LABELS
from storage.models import Position, TalentReviewMove
from storage.uow import unit_of_work

from .conftest import REPO, csrf_field, get_page, persona_clients
from .test_browser import _open, _sign_in_by_clicking, browser, expect
from .test_talent_review_pages import TalentWorld, talent_world

__all__ = ["browser", "talent_world"]

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
REASON = "Isaiah carried the on-call rotation through the migration"


def text_of(html: str) -> str:
    """The page's words, one space apart (tags dropped, entities decoded)."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).strip()


async def page(client: aiohttp.ClientSession, path: str) -> str:
    status, html = await get_page(client, path)
    assert status == 200, (path, status)
    return html


async def post(client: aiohttp.ClientSession, form_page: str, path: str, data: dict[str, str]) -> str:
    """Post a form the way its page would (with the page's CSRF token); returns where it redirects."""
    token = csrf_field(await page(client, form_page))
    async with client.post(path, data={"csrf_token": token, **data}, allow_redirects=False) as response:
        alerts = re.findall(r'role="alert">(.*?)<', await response.text(), re.S)
        assert response.status == 303, (path, response.status, alerts)
        return response.headers["Location"]


def version_of(html: str, person_id: int) -> str:
    found = re.search(
        rf'name="person_id" value="{person_id}">\s*<input type="hidden" name="version" value="(\d+)"', html
    )
    assert found, f"no rating form for person {person_id}"
    return found.group(1)


def cell(html: str, key: str) -> str:
    """The text of one 9-box cell (id cell-<performance>-<potential>)."""
    found = re.search(rf'id="cell-{key}"(.*?)(?=id="cell-\d-\d"|</ol>\s*</section>|$)', html, re.S)
    assert found, f"no cell {key}"
    return text_of(found.group(1))


async def rate(client, world: TalentWorld, review: str, person: str, levels: tuple[int, ...]) -> None:
    ratings = f"{review}/ratings"
    sheet = await page(client, ratings)
    ability, aspiration, engagement, risk, impact = (str(n) for n in levels)
    await post(
        client,
        ratings,
        ratings,
        {
            "person_id": str(world.people[person]),
            "version": version_of(sheet, world.people[person]),
            "ability": ability,
            "aspiration": aspiration,
            "engagement": engagement,
            "risk_of_loss": risk,
            "impact_of_loss": impact,
            "high_potential": "",
            "notes": "",
        },
    )


async def test_a_closed_cycle_flows_into_the_9_box_calibration_the_slate_the_board_and_the_metrics(
    browser: Browser, talent_world: TalentWorld
) -> None:
    world = talent_world
    ARTIFACTS.mkdir(exist_ok=True)
    async with unit_of_work(world.sessions) as db:
        seat = Position(
            title="Engineering Manager", department="Engineering", incumbent_id=world.people["alex"]
        )
        db.add(seat)
        await db.flush()
        position = f"/tabs/talent/succession/{seat.id}"
    async with persona_clients(world.base_url) as sign_in:
        megan, alex, patti = [await sign_in(p) for p in ("hr", "manager", "patti")]
        board_before = text_of(await page(megan, "/tabs/talent/succession"))
        metrics_before = text_of(await page(megan, "/tabs/talent/metrics"))
        assert "Engineering Manager" not in board_before
        assert "0 of 0 critical positions" in board_before

        # HR opens the talent review over the closed cycle.
        review = await post(
            megan,
            "/tabs/talent/reviews",
            "/tabs/talent/reviews",
            {
                "name": "2026 flow talent review",
                "cycle": str(world.closed_cycle),
                "medium_from": "2.5",
                "high_from": "4",
                # The form comes with PRODUCT.md's cell names filled in.
                **{f"label_{i}": label for i, label in enumerate(DEFAULT_BOX_LABELS)},
            },
        )
        review = review.split("?")[0]
        assert re.fullmatch(r"/tabs/talent/reviews/\d+", review)

        # The managers rate potential (ability, aspiration, engagement, risk and impact of loss).
        await rate(alex, world, review, "adele", (3, 3, 3, 2, 3))
        await rate(alex, world, review, "isaiah", (2, 2, 2, 1, 1))
        await rate(patti, world, review, "alex", (3, 3, 2, 3, 3))

        # The 9-box places them from the scores (performance) and the ratings (potential).
        grid = await page(megan, review)
        assert "Adele Vance" in cell(grid, "3-3")  # high performance (4.50), high potential: Star
        assert "Isaiah Langer" in cell(grid, "1-2")  # low performance (2.00), medium potential: Dilemma
        assert "Alex Wilber" in cell(grid, "2-3")  # medium performance (3.00), high potential: Growth
        # Beside her chip, the bridge's suggestion: a high performer with no development plan, no feedback
        # and no move in two years.
        assert "1 suggestion: Flight risk" in cell(grid, "3-3")

        # Calibration moves Isaiah to Core, with the reason kept.
        await post(megan, review, f"{review}/status", {"action": "start_calibration"})
        await post(
            megan,
            review,
            f"{review}/move",
            {"person_id": str(world.people["isaiah"]), "box": "2-2", "reason": REASON},
        )
        grid = await page(megan, review)
        assert "Isaiah Langer" in cell(grid, "2-2") and "Isaiah Langer" not in cell(grid, "1-2")
        assert REASON in text_of(grid)
        async with world.sessions() as db:
            move = await db.scalar(select(TalentReviewMove).order_by(TalentReviewMove.id.desc()))
        assert (move.performance_before, move.potential_before) == (1, 2)
        assert (move.performance_after, move.potential_after, move.reason) == (2, 2, REASON)

        # Alex's position becomes critical; Adele is its ready-now (and emergency) successor.
        await post(megan, position, f"{position}/critical", {"critical": "1"})
        await post(
            megan,
            position,
            f"{position}/successors",
            {
                "person": "Adele Vance",
                "readiness": "ready_now",
                "months_to_ready": "0",
                "notes": "Runs the team when Alex is away",
                "emergency": "1",
            },
        )

        board = text_of(await page(megan, "/tabs/talent/succession"))
        assert "1 of 1 critical positions have someone ready now" in board
        assert "Engineering Manager" in board and "Adele Vance" in board
        assert board != board_before
        metrics = text_of(await page(megan, "/tabs/talent/metrics"))
        assert "1 of 1 have a successor ready now." in metrics
        assert metrics != metrics_before

        # The pictures: the 9-box and the board, as HR sees them in Chromium.
        watched = await _open(browser, viewport={"width": 1366, "height": 1400})
        try:
            await _sign_in_by_clicking(watched, world.base_url, "Megan Bowen")
            await watched.page.goto(f"{world.base_url}{review}")
            await expect(watched.page.locator("#cell-2-2")).to_contain_text("Isaiah Langer")
            await watched.page.screenshot(path=str(ARTIFACTS / "flow-ninebox.png"), full_page=True)
            await watched.page.goto(f"{world.base_url}/tabs/talent/succession")
            await expect(watched.page.get_by_text("Engineering Manager").first).to_be_visible()
            await watched.page.screenshot(path=str(ARTIFACTS / "flow-succession-board.png"), full_page=True)
            assert watched.errors == []
        finally:
            await watched.context.close()

"""The managers' monthly insights digest as it reaches Teams, on the demo organization and a test clock,
through the scheduler's pass, the outbox and the connector stand-in.

Adele (Alex's report, Lynne below Alex) is rated highly on collaboration by Patti (Sales) and Megan
(People): a cross-functional suggestion. Isaiah is a flagged high potential in the finalized 2025 talent
review, with no development plan, no feedback and no promotion: a flight risk, which his line hears of only
once HR opens that review to managers. Alex is in Los Angeles: 18:00 UTC on Wednesday 3 June 2026 is
11:00 there, in his first week of June.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.insights import InsightDigestReport
from bot.schedule import schedule_due
from storage import demo
from storage.models import OutboxMessage, Person, TalentReview
from storage.uow import unit_of_work
from tests.conftest import RunningTrellis, serving
from tests.support.clock import Clock
from tests.support.delivery import delivered
from tests.support.signal_world import SignalWorld
from tests.support.teams import TeamsUser
from trellis.app import create_app, plan_link

pytestmark = pytest.mark.usefixtures("demo_org")

JUNE = datetime(2026, 6, 3, 18, 0, tzinfo=UTC)
JULY = datetime(2026, 7, 1, 18, 0, tzinfo=UTC)  # Wednesday 1 July, 11:00 in Los Angeles
CROSS_FUNCTIONAL = "is valued by peers for collaboration: a cross-functional opportunity"
FLIGHT_RISK = "shows signs of a flight risk"


TEAMS_APP_ID = "6d1c2b3a-0000-4000-8000-00000000a11d"


@pytest.fixture
def clock() -> Clock:
    return Clock(JUNE)


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


async def a_line_with_suggestions(sessions) -> int:
    """Adele's collaboration feedback and Isaiah's flagged entry; the talent review's id."""
    async with unit_of_work(sessions) as session:
        w = SignalWorld(session)
        for persona in (demo.ADELE, demo.ISAIAH, demo.PATTI, demo.MEGAN):
            w.ids[persona.key] = await session.scalar(
                select(Person.id).where(Person.aad_object_id == persona.aad_object_id)
            )
        await w.feedback("from Patti", "adele", "patti", date(2026, 4, 1), {"Collaboration": 5})
        await w.feedback("from Megan", "adele", "megan", date(2026, 5, 1), {"Collaboration": 4})
        await w.talent_entry("isaiah", high_potential=True)
        return w.ids["talent review"]


async def run_pass(sessions, clock: Clock, links: Callable[[int], str] | None = None) -> InsightDigestReport:
    [report] = [
        r
        for r in await schedule_due(sessions, clock, default_zone=ZoneInfo("UTC"), plan_link=links)
        if isinstance(r, InsightDigestReport)
    ]
    return report


async def digests(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "insights.digest")
        )


async def test_each_manager_gets_one_digest_a_month_about_their_line(
    alex: TeamsUser,
    lynne: TeamsUser,
    adele: TeamsUser,
    isaiah: TeamsUser,
    trellis,
    sessions,
    clock,
    connector,
    settings,
) -> None:
    for user in (alex, lynne, adele, isaiah):
        await user.say("hi")  # their 1:1 chats with the bot
    review_id = await a_line_with_suggestions(sessions)

    mark = len(connector.requests)
    in_teams = replace(settings, app_id=TEAMS_APP_ID)  # a server with a Teams app links to its tabs
    report = await run_pass(sessions, clock, plan_link(in_teams))
    assert report.digests == 2, report  # Alex, and Lynne above him
    [card] = await delivered(trellis, connector, alex, mark)
    text = card.text()
    assert "Growth suggestions for your team · June 2026" in text
    assert "Trellis found 1 suggestion about 1 person in your line." in text
    assert f"Adele Vance\n {CROSS_FUNCTIONAL}." in text
    assert "Cross-functional leadership · based on 2 feedback items" in text
    assert "Isaiah" not in text and "flight risk" not in text.lower(), "the talent review is not open to him"
    # One button per person: My development in Teams, at their plan (the tab follows the sub-page).
    [button] = card.actions()
    assert (button["type"], button["title"]) == ("Action.OpenUrl", "Adele Vance's plan")
    link = urlsplit(button["url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == (
        f"https://teams.microsoft.com/l/entity/{TEAMS_APP_ID}/development"
    )
    adele_id = await person_id(sessions, demo.ADELE.aad_object_id)
    assert json.loads(parse_qs(link.query)["context"][0]) == {"subEntityId": f"/tabs/development/{adele_id}"}
    [lynnes] = await delivered(trellis, connector, lynne, mark)
    assert CROSS_FUNCTIONAL in lynnes.text()
    # Nothing about themselves, ever: neither Adele nor Isaiah gets anything.
    assert await delivered(trellis, connector, adele, mark) == []
    assert await delivered(trellis, connector, isaiah, mark) == []

    # Later the same month: nothing more.
    mark = len(connector.requests)
    again = await run_pass(sessions, clock)
    assert (again.digests, again.already) == (0, 2)
    assert await delivered(trellis, connector, alex, mark) == []
    assert await digests(sessions) == 2

    # July: HR opened the talent review to managers, so Isaiah's flight risk reaches his line.
    async with unit_of_work(sessions) as session:
        review = await session.get(TalentReview, review_id)
        review.opened_to_managers = True
    clock.set(JULY)
    mark = len(connector.requests)
    july = await run_pass(sessions, clock)
    assert july.digests == 2
    [card] = await delivered(trellis, connector, alex, mark)
    text = card.text()
    assert "Growth suggestions for your team · July 2026" in text
    assert "Trellis found 2 suggestions about 2 people in your line." in text
    assert f"Isaiah Langer\n {FLIGHT_RISK}" in text
    assert "talent review entry" not in text, "the evidence counts leave talent data out"
    assert await delivered(trellis, connector, isaiah, mark) == []


async def person_id(sessions, object_id: str) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(Person.id).where(Person.aad_object_id == object_id)))

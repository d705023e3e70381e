"""Anonymous feedback, walked through every route as its recipient.

Adele Vance asks four colleagues for feedback; three answer anonymously. What she may learn is the pooled
answers once there are three, and nothing attributable, ever. Rather than guess where a giver could leak,
the test compares worlds: Adele reads every bot command and every tab page (each GET route of the running
app, with every id and person filter that could matter), and

- with two anonymous answers in, everything she reads is identical to before they came in;
- with three in, everything she reads is identical after the givers are swapped in the database (who
  wrote which answer is changed, nothing else): so nothing she reads depends on who wrote what.

A manager-only note about her from the same colleagues never appears anywhere she reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import select, update

from domain.performance.feedback_views import FeedbackVisibility
from storage import demo
from storage.models import Feedback, FeedbackRequestAsk, Person
from storage.uow import unit_of_work
from tests.support.delivery import delivered
from tests.support.teams import TeamsClient, TeamsUser
from tests.support.walk import everything_read
from tests.tabs.conftest import browser_like_jar, dev_sign_in

pytestmark = pytest.mark.usefixtures("demo_org")

ANSWERS = ("Slides were too dense", "Great energy with the client", "Answer questions more briefly")
NOTE = "Private: Adele talks over the client"


@pytest.fixture
def people(teams: TeamsClient) -> dict[str, TeamsUser]:
    return {
        p.key: teams.user(aad_object_id=p.aad_object_id, name=p.display_name)
        for p in (demo.ADELE, demo.ALEX, demo.ISAIAH, demo.PATTI, demo.LYNNE, demo.MEGAN)
    }


@pytest_asyncio.fixture
async def tab(trellis) -> AsyncIterator[aiohttp.ClientSession]:
    """Adele, signed in to the tabs of the same running Trellis."""
    async with aiohttp.ClientSession(
        trellis.base_url, cookie_jar=browser_like_jar(trellis.base_url)
    ) as client:
        await dev_sign_in(client, "employee")
        yield client


async def person_ids(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(select(Person.aad_object_id, Person.id))
        by_aad = dict(rows.all())
    return {
        p.key: by_aad[p.aad_object_id] for p in (demo.ADELE, demo.ISAIAH, demo.PATTI, demo.LYNNE, demo.ALEX)
    }


async def swap_givers(sessions, request_id: int) -> None:
    """Change who wrote which anonymous answer (a rotation), and nothing else."""
    async with unit_of_work(sessions) as session:
        rows = list(
            await session.scalars(
                select(Feedback).where(Feedback.request_id == request_id).order_by(Feedback.id)
            )
        )
        givers = [r.giver_id for r in rows]
        rotated = givers[1:] + givers[:1]
        await session.execute(
            update(FeedbackRequestAsk)
            .where(FeedbackRequestAsk.request_id == request_id)
            .values(answered_feedback_id=None)
        )
        for row, giver in zip(rows, rotated, strict=True):
            row.giver_id = giver
            await session.flush()
            await session.execute(
                update(FeedbackRequestAsk)
                .where(FeedbackRequestAsk.request_id == request_id, FeedbackRequestAsk.asked_id == giver)
                .values(answered_feedback_id=row.id)
            )


async def test_no_route_card_or_tab_tells_adele_who_answered_anonymously(
    trellis, connector, sessions, people, tab
) -> None:
    adele, isaiah = people["adele"], people["isaiah"]
    answerers = [people["isaiah"], people["patti"], people["lynne"]]
    for user in people.values():
        await user.say("hi")
    ids = await person_ids(sessions)

    # A manager-only note about her, from one of the same colleagues.
    [form] = await isaiah.say("feedback Adele Vance")
    await isaiah.press("Send feedback", card=form.card, inputs={"text": NOTE, "visibility": "manager_only"})

    mark = len(connector.requests)
    names = " ".join(f"<at>{u.name}</at>" for u in [*answerers, people["megan"]])
    await adele.say(f"request feedback from {names} about my demo", mentions=(*answerers, people["megan"]))
    asks = {u.name: (await delivered(trellis, connector, u, mark))[0] for u in answerers}
    async with sessions() as session:
        request_id = await session.scalar(select(FeedbackRequestAsk.request_id))

    before = await everything_read(trellis, tab, adele, ids)
    mark = len(connector.requests)
    for user, text in zip(answerers[:2], ANSWERS[:2], strict=True):
        await user.press(
            "Send answer",
            card=asks[user.name],
            inputs={"text": text, "visibility": str(FeedbackVisibility.ANONYMOUS)},
        )
    assert await delivered(trellis, connector, adele, mark) == []
    with_two = await everything_read(trellis, tab, adele, ids)
    changed = [key for key in before if before[key] != with_two.get(key)]
    assert changed == [], f"two anonymous answers changed what Adele reads: {changed}"

    await answerers[2].press(
        "Send answer", card=asks[answerers[2].name], inputs={"text": ANSWERS[2], "visibility": "anonymous"}
    )
    with_three = await everything_read(trellis, tab, adele, ids)
    pooled_on = [key for key, body in with_three.items() if all(a in body for a in ANSWERS)]
    assert any(key.startswith("GET /tabs/feedback") for key in pooled_on), "the pool shows in the tab"
    assert all(NOTE not in body for body in with_three.values()), "the private note never reaches her"

    await swap_givers(sessions, request_id)
    swapped = await everything_read(trellis, tab, adele, ids)
    differs = [key for key in with_three if with_three[key] != swapped.get(key)]
    assert differs == [], f"what Adele reads depends on who wrote which answer: {differs}"
    assert len(with_three) > 40, "the walk covered the bot's commands and the tabs' pages"

"""Development actions as people live them in Teams, on the demo organization and a test clock: an action
of Adele's falls due in three days; the scheduler's pass waits for her working day, then her reminder card
reaches her 1:1 chat through the connector stand-in; she marks 50 % on the card, which updates in place
and is stored; a double click writes once; a stale card shows the latest values; bad values and forged
ids write nothing; `my plan` lists her open actions.

Adele is in Los Angeles (UTC-8 in early March): the clock is set inside and outside her working hours.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.development import DevelopmentReminderReport
from bot.schedule import schedule_due
from domain.talent import development
from storage import demo
from storage.models import DevelopmentAction, KeyResultUpdate, OutboxMessage
from storage.uow import unit_of_work
from tests.conftest import RunningTrellis, serving
from tests.support import reviews as kit
from tests.support.clock import Clock
from tests.support.delivery import delivered
from tests.support.teams import Card, TeamsUser
from trellis.app import create_app

pytestmark = pytest.mark.usefixtures("demo_org")

# Monday 2 March 2026: 07:00 in Los Angeles (before her working day), then 10:00.
EARLY = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MORNING = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
DUE = date(2026, 3, 5)  # Thursday: in three days


@pytest.fixture
def clock() -> Clock:
    return Clock(EARLY)


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    """Trellis over real HTTP, as in tests/conftest.py, on the test clock."""
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


async def an_action_due_in_three_days(sessions) -> int:
    async with unit_of_work(sessions) as session:
        adele = await kit.actor(session, demo.ADELE)
        action = await development.add_action(
            session,
            actor=adele,
            person_id=adele.person_id,
            kind="course",
            title="Presenting with confidence",
            due_on=DUE,
            now=EARLY,
        )
    return action.id


async def stored(sessions, action_id: int) -> tuple[str, int, str | None, int]:
    async with sessions() as session:
        row = await session.get(DevelopmentAction, action_id)
        return row.status, row.progress, row.note, row.version


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def run_pass(sessions, clock: Clock) -> DevelopmentReminderReport:
    [report] = [
        r
        for r in await schedule_due(sessions, clock, default_zone=ZoneInfo("UTC"))
        if isinstance(r, DevelopmentReminderReport)
    ]
    return report


def forged(card: Card, **data: object) -> Card:
    """The same card with its button's data edited, as a forged payload would be."""
    content = copy.deepcopy(card.content)
    content["actions"][0]["data"].update(data)
    return Card(content, card.activity_id)


async def test_a_reminder_is_marked_from_the_card_in_place_once(
    adele: TeamsUser, patti: TeamsUser, trellis, sessions, clock, connector
) -> None:
    await adele.say("hi")  # her 1:1 chat with the bot, where reminders go
    await patti.say("hi")
    action_id = await an_action_due_in_three_days(sessions)

    # 07:00 in Los Angeles: the reminder waits for her working day.
    mark = len(connector.requests)
    early = await run_pass(sessions, clock)
    assert (early.reminders, early.waiting) == (0, 1)
    assert await delivered(trellis, connector, adele, mark) == []

    # 10:00: the pass queues it, the outbox sender delivers it to her chat.
    clock.set(MORNING)
    mark = len(connector.requests)
    report = await run_pass(sessions, clock)
    assert report.reminders == 1
    [reminder] = await delivered(trellis, connector, adele, mark)
    texts = reminder.texts()
    assert "A development action is due soon" in texts
    assert "Presenting with confidence" in texts
    assert "Course · due on Thursday 5 March 2026" in texts
    assert "Now: 0 % · planned." in texts
    assert set(reminder.inputs()) == {"progress", "status", "note"}

    # A second pass the same day sends nothing more.
    mark = len(connector.requests)
    assert (await run_pass(sessions, clock)).reminders == 0
    assert await delivered(trellis, connector, adele, mark) == []
    assert await count(sessions, OutboxMessage, OutboxMessage.kind == "development.reminder") == 1

    # She marks 50 % on the card: it updates in place, and the store has it.
    saved = await adele.press(
        "Save progress",
        card=reminder,
        inputs={"progress": "50", "status": "in_progress", "note": "Two modules"},
    )
    assert saved.activity_id == reminder.activity_id, "the card is replaced in place"
    assert "Progress saved" in saved.texts()
    assert "Saved: 50 % · in progress." in saved.texts()
    assert await stored(sessions, action_id) == ("in_progress", 50, "Two modules", 2)
    assert saved.action("Save progress")["data"] == {"action_id": action_id, "version": 2}

    # The same click again (a double click on the old card): already saved, nothing written twice.
    again = await adele.press(
        "Save progress",
        card=reminder,
        inputs={"progress": "50", "status": "in_progress", "note": "Two modules"},
    )
    assert "Progress already saved" in again.texts()
    assert "This was already saved, so nothing more was changed." in again.texts()
    assert await stored(sessions, action_id) == ("in_progress", 50, "Two modules", 2)

    # Other values from the old card: someone else's change is shown, not overwritten.
    stale = await adele.press(
        "Save progress", card=reminder, inputs={"progress": "70", "status": "in_progress"}
    )
    assert any("was changed meanwhile: it is now in progress at 50 %" in t for t in stale.texts())
    assert stale.inputs()["progress"]["value"] == 50, "the form shows the latest values"
    assert await stored(sessions, action_id) == ("in_progress", 50, "Two modules", 2)

    # Bad values: the form again with the message and what was typed; nothing written.
    refused = await adele.press("Save progress", card=saved, inputs={"progress": "150", "status": "done"})
    assert any(
        t.startswith("Nothing was saved. Please enter a whole number from 0 to 100") for t in refused.texts()
    )
    assert refused.inputs()["status"]["value"] == "done"
    assert await stored(sessions, action_id) == ("in_progress", 50, "Two modules", 2)

    # Forged ids, and someone else's forwarded card: an error card, nothing written.
    for who, card in (
        (adele, forged(saved, action_id="not a number")),
        (adele, forged(saved, action_id=987654)),
        (patti, saved),
    ):
        error = await who.press(
            "Save progress", card=card, inputs={"progress": "90", "status": "in_progress"}
        )
        assert "Something went wrong" in error.texts()
    assert await stored(sessions, action_id) == ("in_progress", 50, "Two modules", 2)

    # Done from the latest card: 100 %.
    done = await adele.press("Save progress", card=saved, inputs={"progress": "60", "status": "done"})
    assert "Saved: 100 % · done." in done.texts()
    assert await stored(sessions, action_id) == ("done", 100, "Two modules", 3)
    assert await count(sessions, KeyResultUpdate) == 0, "no goal was made from it"


async def test_my_plan_lists_her_open_actions_and_opens_one_to_mark(
    adele: TeamsUser, trellis, sessions, clock, connector
) -> None:
    [empty] = await adele.say("my plan")
    assert "You have no open development actions" in empty.card.text()
    action_id = await an_action_due_in_three_days(sessions)
    [listing] = await adele.say("my plan")
    assert "Your development plan" in listing.card.texts()
    assert "1 open, 0 done." in listing.card.texts()
    form = await adele.press("Mark progress", card=listing.card, inputs={"action_id": str(action_id)})
    assert "Mark your progress" in form.texts()
    saved = await adele.press("Save progress", card=form, inputs={"progress": "20", "status": "in_progress"})
    assert "Saved: 20 % · in progress." in saved.texts()
    assert await stored(sessions, action_id) == ("in_progress", 20, None, 2)

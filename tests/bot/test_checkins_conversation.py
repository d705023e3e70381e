"""Weekly check-ins as people live them in Teams, with a test clock: the card arrives proactively on the
chosen day, is filled in and submitted, shows in the manager's digest, and the manager's reply arrives;
a missed one gets one reminder; double submits and bad input write nothing.

The week is Monday 23 to Sunday 29 November 2026 in each person's own time zone. Alex Wilber (Los Angeles,
UTC-8 then) manages Adele Vance (Los Angeles) and Isaiah Langer (Denver, UTC-7); cards come from 09:00
their time, so the test clock is set to their 09:00, not UTC's.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from bot.checkins import ScheduleReport, schedule_checkins
from bot.routes import BOT
from domain.access import load_actor
from domain.performance import goals
from domain.performance.goals import KeyResultInput
from storage import demo
from storage.models import CheckIn, CheckInComment, KeyResultUpdate, Person, TalkingPoint
from storage.uow import unit_of_work
from tests.conftest import RunningTrellis, serving
from tests.support.clock import Clock
from tests.support.teams import Card, TeamsUser
from trellis.app import create_app

pytestmark = pytest.mark.usefixtures("demo_org")

MONDAY = date(2026, 11, 23)
WED, THU, FRI, SAT, SUN = (MONDAY + timedelta(days=n) for n in range(2, 7))
NEXT_MONDAY = MONDAY + timedelta(days=7)


ORG = ZoneInfo("UTC")  # CHECKIN_TIME_ZONE's default


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def local(day: date, hour: int, zone: str) -> datetime:
    """The UTC instant of `hour`:00 on `day` in `zone`."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def la(day: date, hour: int = 9) -> datetime:
    return local(day, hour, demo.ALEX.time_zone)


def denver(day: date, hour: int = 9) -> datetime:
    return local(day, hour, demo.ISAIAH.time_zone)


@pytest.fixture
def clock() -> Clock:
    return Clock(at(WED))


@pytest.fixture
def org_zone() -> ZoneInfo:
    """CHECKIN_TIME_ZONE: a test parametrizes it to change the organization's zone."""
    return ORG


@pytest_asyncio.fixture
async def trellis(
    settings, engine, sessions, clock: Clock, org_zone: ZoneInfo
) -> AsyncIterator[RunningTrellis]:
    """Trellis over real HTTP, as in tests/conftest.py, but on the test clock."""
    app = create_app(
        replace(settings, checkin_time_zone=org_zone),
        clock=clock,
        engine=engine,
        sessions=sessions,
        run_sender=False,
    )
    async with serving(app) as running:
        yield running


async def run_pass(trellis: RunningTrellis, sessions, clock: Clock, zone: ZoneInfo = ORG) -> ScheduleReport:
    """What the server's background jobs do every few minutes: schedule, then drain the outbox."""
    report = await schedule_checkins(sessions, clock, default_zone=zone)
    await trellis.app[BOT].sender.drain()
    return report


async def arrived(user: TeamsUser, connector, since: int) -> list[Card]:
    """Cards sent proactively to the person's 1:1 chat since request number `since` (validated)."""
    cards = []
    for record in connector.requests[since:]:
        if record.ok and record.kind == "send" and record.conversation_id == user.conversation_id:
            for attachment in record.body.get("attachments") or []:
                card = Card(attachment["content"], record.assigned_id)
                await user.client.validate(card.content)
                user.cards.append(card)
                cards.append(card)
    return cards


async def person_id(sessions, user: TeamsUser) -> int:
    async with sessions() as session:
        return await session.scalar(select(Person.id).where(Person.aad_object_id == user.aad_object_id))


async def a_goal_for(sessions, user: TeamsUser) -> int:
    """Give the person a goal this quarter with one key result; returns the key result's id."""
    async with unit_of_work(sessions) as session:
        actor = await load_actor(session, await person_id(sessions, user))
        goal = await goals.create_goal(
            session,
            actor=actor,
            title="Launch check-ins",
            period="2026-Q4",
            key_results=[KeyResultInput("Teams onboarded", target=10)],
            now=at(MONDAY),
        )
    return goal.key_results[0].id


async def rows(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_the_weekly_check_in_from_the_chosen_day_to_the_managers_reply(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, sessions, clock, connector
) -> None:
    kr_id = await a_goal_for(sessions, adele)
    [chosen] = await adele.say("checkin day thursday")
    assert "Thursday" in chosen.card.text()
    await alex.say("hi")  # everyone has a 1:1 chat with the bot
    await isaiah.say("hi")

    # Wednesday, the day before Adele's day: nothing for her (Alex and Isaiah keep the default Friday).
    mark = len(connector.requests)
    report = await run_pass(trellis, sessions, clock)
    assert report.cards == 0
    assert await arrived(adele, connector, mark) == []

    # Thursday 08:00 in Los Angeles (16:00 UTC): still too early for her.
    clock.set(la(THU, 8))
    assert (await run_pass(trellis, sessions, clock)).cards == 0

    # Thursday 09:00 her time: her card arrives in her chat, on its own.
    clock.set(la(THU, 9))
    mark = len(connector.requests)
    assert (await run_pass(trellis, sessions, clock)).cards == 1
    [card] = await arrived(adele, connector, mark)
    assert "Your weekly check-in" in card.text()
    assert "Launch check-ins · Teams onboarded (now 0 of 10)" in {i["label"] for i in card.inputs().values()}
    assert await arrived(isaiah, connector, mark) == []

    # She fills it in and sends it.
    sent = await adele.press(
        "Send check-in",
        card=card,
        inputs={
            "mood": "4",
            "wins": "Shipped the check-in card",
            "blockers": "Waiting on a design review",
            "priorities": "Reminders",
            f"kr_{kr_id}": "3",
            "new_point": "Conference budget",
        },
    )
    assert "Check-in sent" in sent.text()
    assert "Teams onboarded: 0 → 3" in sent.text()
    assert await rows(sessions, KeyResultUpdate) == 1

    # Alex asks for his team's check-ins and sees hers.
    [digest] = await alex.say("checkins")
    assert "Adele Vance" in digest.card.text()
    assert "Shipped the check-in card" in digest.card.text()
    assert "Conference budget" in digest.card.text()
    assert "Isaiah Langer" in digest.card.text(), "listed as not checked in yet"

    # He replies; the reply reaches Adele's chat.
    [reply_box] = [key for key in digest.card.inputs() if key.startswith("comment_")]
    answered = await alex.press("Reply", card=digest.card, inputs={reply_box: "Great work on the card!"})
    assert "Sent 1 reply." in answered.text()
    mark = len(connector.requests)
    await run_pass(trellis, sessions, clock)
    [comment] = await arrived(adele, connector, mark)
    assert "Alex Wilber replied to your check-in" in comment.text()
    assert "Great work on the card!" in comment.text()

    # Monday in UTC is still Sunday for Alex in Los Angeles: no digest yet.
    clock.set(at(NEXT_MONDAY, 6))
    assert (await run_pass(trellis, sessions, clock)).digests == 0

    # His Monday 09:00, the digest comes to him on its own, once.
    clock.set(la(NEXT_MONDAY, 9))
    mark = len(connector.requests)
    assert (await run_pass(trellis, sessions, clock)).digests == 1
    [weekly] = await arrived(alex, connector, mark)
    assert "Your team's check-ins" in weekly.text()
    assert "Shipped the check-in card" in weekly.text()
    assert "Great work on the card!" in weekly.text()
    assert (await run_pass(trellis, sessions, clock)).digests == 0

    # Her talking point, still open, is on her next check-in.
    [next_card] = await adele.say("checkin")
    assert "Conference budget" in next_card.card.text()
    assert "Shipped the check-in card" not in next_card.card.text()
    assert "Reminders" in next_card.card.text(), "last week's priorities are shown"


async def test_a_missed_check_in_gets_one_reminder(
    isaiah: TeamsUser, trellis, sessions, clock, connector
) -> None:
    await isaiah.say("hi")
    clock.set(denver(FRI, 9))
    mark = len(connector.requests)
    await run_pass(trellis, sessions, clock)
    assert len(await arrived(isaiah, connector, mark)) == 1

    clock.set(denver(FRI, 23))  # later his same day (Saturday in UTC): not yet
    assert (await run_pass(trellis, sessions, clock)).reminders == 0
    clock.set(denver(SAT, 8))  # his next day, but before 09:00: not in his night
    assert (await run_pass(trellis, sessions, clock)).reminders == 0

    clock.set(denver(SAT, 9))
    mark = len(connector.requests)
    assert (await run_pass(trellis, sessions, clock)).reminders == 1
    [reminder] = await arrived(isaiah, connector, mark)
    assert "Reminder: your check-in is waiting" in reminder.text()

    mark = len(connector.requests)
    for later in (denver(SAT, 14), denver(SUN, 9), denver(NEXT_MONDAY, 9)):
        clock.set(later)
        report = await run_pass(trellis, sessions, clock)
        assert (report.cards, report.reminders) == (0, 0)
    assert await arrived(isaiah, connector, mark) == [], "one reminder, never two"

    # The reminder is the form itself: he can check in from it.
    done = await isaiah.press("Send check-in", card=reminder, inputs={"mood": "3", "wins": "Caught up"})
    assert "Check-in sent" in done.text()


async def test_a_double_submit_records_one_check_in(adele: TeamsUser, sessions, clock) -> None:
    [reply] = await adele.say("checkin")
    card = reply.card
    answers = {"mood": "5", "wins": "Once", "new_point": "Only once"}

    first = await adele.press("Send check-in", card=card, inputs=answers)
    second = await adele.press("Send check-in", card=card, inputs=answers | {"wins": "Twice"})

    assert "Check-in sent" in first.text()
    assert "Check-in already sent" in second.text()
    assert "Once" in second.text() and "Twice" not in second.text()
    me = await person_id(sessions, adele)
    assert await rows(sessions, CheckIn, CheckIn.person_id == me) == 1
    assert await rows(sessions, TalkingPoint, TalkingPoint.person_id == me) == 1


async def test_bad_input_gets_a_clear_message_and_writes_nothing(
    adele: TeamsUser, isaiah: TeamsUser, alex: TeamsUser, sessions, clock
) -> None:
    [mine] = await adele.say("checkin")
    card = mine.card

    mood = await adele.press("Send check-in", card=card, inputs={"mood": "7"})
    assert "Please choose one of the options offered for “How was your week?”." in mood.text()

    too_long = await adele.press("Send check-in", card=card, inputs={"mood": "3", "wins": "w" * 2001})
    assert "“Wins” is too long: please use at most 2000 characters (it has 2001)." in too_long.text()

    # A card whose check-in id was changed to Isaiah's.
    await isaiah.say("checkin")
    async with sessions() as session:
        his = await session.scalar(
            select(CheckIn.id).where(CheckIn.person_id == await person_id(sessions, isaiah))
        )
    forged = copy.deepcopy(card.content)
    forged["actions"][0]["data"]["checkin_id"] = his
    refused = await adele.press("Send check-in", card=Card(forged, card.activity_id), inputs={"mood": "4"})
    assert "That check-in does not exist." in refused.text()

    assert await rows(sessions, CheckIn, CheckIn.submitted_at.is_not(None)) == 0

    # And her real check-in still goes through afterwards.
    assert "Check-in sent" in (await adele.press("Send check-in", card=card, inputs={"mood": "4"})).text()

    # A reply that is too long is refused too, and nothing is written.
    [digest] = await alex.say("checkins")
    [box] = [key for key in digest.card.inputs() if key.startswith("comment_")]
    long_reply = await alex.press("Reply", card=digest.card, inputs={box: "r" * 1001})
    assert "“Reply” is too long" in long_reply.text()
    empty = await alex.press("Reply", card=digest.card, inputs={})
    assert "Write a reply to a check-in or tick a talking point" in empty.text()
    assert "Your team's check-ins" in empty.text(), "the digest stays, with the message on it"
    assert await rows(sessions, CheckInComment) == 0


async def test_a_double_click_on_reply_sends_one_comment(
    adele: TeamsUser, alex: TeamsUser, sessions, trellis, clock, connector
) -> None:
    [mine] = await adele.say("checkin")
    await adele.press("Send check-in", card=mine.card, inputs={"mood": "4", "wins": "Done"})
    [digest] = await alex.say("checkins")
    [box] = [key for key in digest.card.inputs() if key.startswith("comment_")]

    await alex.press("Reply", card=digest.card, inputs={box: "Nice"})
    again = await alex.press("Reply", card=digest.card, inputs={box: "Nice"})

    assert "already sent" in again.text()
    assert await rows(sessions, CheckInComment) == 1
    mark = len(connector.requests)
    await run_pass(trellis, sessions, clock)
    assert len(await arrived(adele, connector, mark)) == 1


async def test_choosing_the_day_on_its_card_and_pausing(
    adele: TeamsUser, trellis, sessions, clock, connector
) -> None:
    [day] = await adele.say("checkin day")
    assert "Friday (the default)" in day.card.text()
    assert "Days follow your time zone, America/Los_Angeles" in day.card.text()

    saved = await adele.press("Save", card=day.card, inputs={"weekday": "off"})
    assert "paused" in saved.text()
    clock.set(la(FRI))
    mark = len(connector.requests)
    assert (await run_pass(trellis, sessions, clock)).cards == 0
    assert await arrived(adele, connector, mark) == []

    tuesday = await adele.press("Save", card=saved, inputs={"weekday": "1"})
    assert "Tuesday" in tuesday.text()
    [unknown] = await adele.say("checkin day blursday")
    assert "“blursday” is not a day I know" in unknown.card.text()


@pytest.mark.parametrize("org_zone", [ZoneInfo("Europe/Berlin")])
async def test_someone_without_a_time_zone_follows_the_organizations(
    adele: TeamsUser, trellis, sessions, clock, connector, org_zone
) -> None:
    async with unit_of_work(sessions) as session:
        # "UTC" is what the import and the directory sync store when they don't know someone's zone.
        await session.execute(
            update(Person).where(Person.aad_object_id == adele.aad_object_id).values(time_zone="UTC")
        )
    [day] = await adele.say("checkin day")
    assert (
        "Your profile has no time zone, so days follow your organization's, Europe/Berlin" in day.card.text()
    )

    clock.set(at(FRI, 7))  # 08:00 in Berlin
    assert (await run_pass(trellis, sessions, clock, org_zone)).cards == 0
    clock.set(at(FRI, 8))  # 09:00 in Berlin
    mark = len(connector.requests)
    assert (await run_pass(trellis, sessions, clock, org_zone)).cards == 1
    assert len(await arrived(adele, connector, mark)) == 1


async def test_someone_without_reports_is_told_there_is_no_digest(adele: TeamsUser) -> None:
    [reply] = await adele.say("checkins")
    assert "Nobody reports to you" in reply.card.text()


async def test_clients_without_universal_actions_submit_through_the_fallback(
    adele: TeamsUser, connector
) -> None:
    [reply] = await adele.say("checkin")
    legacy = copy.deepcopy(reply.card.content)
    legacy["actions"] = [action["fallback"] for action in legacy["actions"]]

    sent = await adele.press("Send check-in", card=Card(legacy, reply.card.activity_id), inputs={"mood": "2"})

    assert "Check-in sent" in sent.text()
    assert connector.updates[-1].activity_id == reply.card.activity_id, "the card is replaced in place"

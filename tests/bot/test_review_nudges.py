"""Review-cycle nudges with a test clock: quiet hours and weekends on each person's own clock, one nudge per
person, phase and day, due soon, overdue, escalation to the manager, HR's "nudge now", people the bot
cannot reach, improvement plan checkpoints, and `trellis nudge --dry-run`.

March 2026. Adele Vance and Alex Wilber are in Los Angeles, Isaiah Langer in Denver; clocks in the US
move forward on Sunday 8 March (Los Angeles: UTC-8, then UTC-7; Denver: UTC-7, then UTC-6).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.review_nudges import dry_run, schedule_review_nudges
from domain.performance import improvement_plans
from domain.performance.improvement_plan_views import ExampleInput, GoalInput
from storage import demo
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import ImprovementPlanCheckpoint, OutboxMessage, Person
from storage.uow import unit_of_work
from tests.conftest import RunningTrellis, serving
from tests.support import reviews as kit
from tests.support.clock import Clock
from tests.support.delivery import delivered
from tests.support.teams import TeamsUser
from trellis import cli
from trellis.app import create_app

pytestmark = [pytest.mark.usefixtures("demo_org"), pytest.mark.parametrize("backend", ["sqlite"])]

ORG = ZoneInfo("UTC")
LA, DENVER = ZoneInfo(demo.ADELE.time_zone), ZoneInfo(demo.ISAIAH.time_zone)
SAT, SUN, MON = date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)


def at(day: date, hour: int, zone: ZoneInfo = LA, minute: int = 0) -> datetime:
    """The UTC instant of hour:minute on `day` in `zone`."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def deadlines(self_review: date) -> kit.Deadlines:
    return kit.Deadlines(
        self_review=self_review,
        manager_review=self_review + timedelta(days=14),
        calibration=self_review + timedelta(days=21),
        acknowledgement=self_review + timedelta(days=35),
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(at(SAT, 20))


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


@pytest.fixture
async def chatting(demo_org, adele, isaiah, alex, megan) -> None:
    """They have a 1:1 chat with the bot (Patti and Lynne have none)."""
    for user in (adele, isaiah, alex, megan):
        await user.say("hi")


async def nudge_pass(sessions, clock: Clock):
    return await schedule_review_nudges(sessions, clock, default_zone=ORG)


async def outbox_rows(sessions, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage).where(*where))


async def nudges_of(sessions, persona) -> list[OutboxMessage]:
    pid = await kit.person_id(sessions, persona)
    async with sessions() as session:
        return list(
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.person_id == pid).order_by(OutboxMessage.id)
            )
        )


@pytest.mark.usefixtures("chatting")
async def test_quiet_hours_weekends_and_each_persons_zone_decide_when_the_opening_nudge_goes(
    adele: TeamsUser, isaiah: TeamsUser, trellis, sessions, clock, connector
) -> None:
    # Saturday 20:00 in Los Angeles: Megan launches; nobody is told on a Saturday evening.
    cycle = await kit.launch_cycle(
        sessions, people=(demo.ADELE, demo.ISAIAH), deadlines=deadlines(date(2026, 3, 20)), now=clock()
    )
    report = await nudge_pass(sessions, clock)
    assert (report.nudges, report.waiting) == (0, 2)
    plan = await dry_run(sessions, clock, default_zone=ORG)
    assert "Adele Vance: self review in 2026-Q1 review, due 2026-03-20 | why: opened" in plan
    assert "may go: Mon 09 Mar 09:00 America/Los_Angeles (16:00 UTC)" in plan
    assert "may go: Mon 09 Mar 09:00 America/Denver (15:00 UTC)" in plan
    assert "Dry run: nothing was queued or sent." in plan

    clock.set(at(SUN, 11))  # Sunday: nothing either
    assert (await nudge_pass(sessions, clock)).nudges == 0
    assert await outbox_rows(sessions, OutboxMessage.kind == "review.nudge") == 0

    # Monday 09:00 in Denver is 08:00 in Los Angeles: Isaiah's working day has begun, Adele's not yet.
    clock.set(at(MON, 9, DENVER))
    mark = len(connector.requests)
    assert (await nudge_pass(sessions, clock)).nudges == 1
    [his] = await delivered(trellis, connector, isaiah, mark)
    assert "Time for your self review" in his.text()
    assert await delivered(trellis, connector, adele, mark) == []

    clock.set(at(MON, 9, LA))
    mark = len(connector.requests)
    report = await nudge_pass(sessions, clock)
    assert (report.nudges, report.already) == (1, 1), "Isaiah had his today"
    [hers] = await delivered(trellis, connector, adele, mark)
    assert "Time for your self review" in hers.text()
    assert await delivered(trellis, connector, isaiah, mark) == []

    # Passes later that day and the next add nothing: one per day, and the opening was told.
    for moment in (at(MON, 17, LA, 30), at(date(2026, 3, 10), 10)):
        clock.set(moment)
        assert (await nudge_pass(sessions, clock)).nudges == 0
    rows = await nudges_of(sessions, demo.ADELE)
    assert [(r.kind, r.payload["cycle_id"], r.payload["why"]) for r in rows] == [
        ("review.nudge", cycle.id, ["opened"])
    ]


@pytest.mark.usefixtures("chatting")
async def test_due_soon_then_overdue_each_day_and_the_manager_told_after_three_days(
    adele: TeamsUser, alex: TeamsUser, trellis, sessions, clock, connector
) -> None:
    deadline = date(2026, 3, 16)  # a Monday
    clock.set(at(date(2026, 3, 2), 10))
    await kit.launch_cycle(sessions, people=(demo.ADELE,), deadlines=deadlines(deadline), now=clock())
    mark = len(connector.requests)
    assert (await nudge_pass(sessions, clock)).nudges == 1
    [opening] = await delivered(trellis, connector, adele, mark)
    assert "Time for your self review" in opening.text()

    def told(day: date):
        clock.set(at(day, 10))
        return nudge_pass(sessions, clock)

    assert (await told(date(2026, 3, 12))).nudges == 0  # Thursday: nothing to say
    mark = len(connector.requests)
    assert (await told(date(2026, 3, 13))).nudges == 1, "the Friday before a Monday deadline"
    [soon] = await delivered(trellis, connector, adele, mark)
    assert "Your self review is due soon" in soon.text()
    assert "Due on Monday 16 March 2026." in soon.texts()
    assert (await told(deadline)).nudges == 0, "the deadline is the phase's last day"

    for day, days_late in ((date(2026, 3, 17), 1), (date(2026, 3, 18), 2)):
        mark = len(connector.requests)
        report = await told(day)
        assert (report.nudges, report.escalations) == (1, 0)
        [late] = await delivered(trellis, connector, adele, mark)
        assert "Your self review is overdue" in late.text()
        assert (
            f"It was due on Monday 16 March 2026: {days_late} day{'s' if days_late > 1 else ''} overdue."
            in (late.texts())
        )

    mark = len(connector.requests)
    report = await told(date(2026, 3, 19))  # three days late: her manager hears of it too
    assert (report.nudges, report.escalations) == (1, 1)
    [escalation] = await delivered(trellis, connector, alex, mark)
    assert "Overdue in your team" in escalation.text()
    assert "Adele Vance: self review, 3 days overdue" in escalation.texts()
    status = await alex.press("Show team status", card=escalation)
    assert "Adele Vance: self review not started, manager review not started" in status.texts()
    assert (await told(date(2026, 3, 19))).escalations == 0, "once a day"
    kinds = [r.kind for r in await nudges_of(sessions, demo.ALEX)]
    assert kinds == ["review.escalation"]


@pytest.mark.usefixtures("chatting")
async def test_hr_nudges_a_cycle_now_within_each_persons_working_hours_and_once_a_day(
    adele: TeamsUser, isaiah: TeamsUser, megan: TeamsUser, trellis, sessions, clock, connector
) -> None:
    clock.set(at(date(2026, 3, 2), 10))
    await kit.launch_cycle(
        sessions, people=(demo.ADELE, demo.ISAIAH), deadlines=deadlines(date(2026, 3, 20)), now=clock()
    )
    await nudge_pass(sessions, clock)  # the openings
    await delivered(trellis, connector, adele, len(connector.requests))

    [refused] = await adele.say("nudge cycle 2026-Q1")
    assert "Only HR can nudge a review cycle." in refused.card.texts()

    # Wednesday 08:30 in Los Angeles, 09:30 in Denver: nothing is due, but HR asks.
    clock.set(at(date(2026, 3, 4), 8, minute=30))
    mark = len(connector.requests)
    [done] = await megan.say("nudge cycle 2026-q1 review")
    assert "1 reminded now" in done.card.text() and "1 will be reminded when their working day starts" in (
        done.card.text()
    )
    [his] = await delivered(trellis, connector, isaiah, mark)
    assert "A reminder: your self review" in his.text()
    assert "HR sent this reminder to everyone who still has something to do in this cycle." in his.texts()
    assert await delivered(trellis, connector, adele, mark) == [], "08:30 where she is: it waits"

    clock.set(at(date(2026, 3, 4), 9))
    mark = len(connector.requests)
    [hers] = await delivered(trellis, connector, adele, mark)
    assert "A reminder: your self review" in hers.text()

    # Asking again the same day, from the card this time: nobody gets a second one.
    [chooser] = await megan.say("nudge cycle")
    again = await megan.press("Nudge now", card=chooser.card)
    assert "2 were already reminded today (one a day)" in again.text()
    assert (await nudge_pass(sessions, clock)).nudges == 0
    assert await outbox_rows(sessions, OutboxMessage.kind == "review.nudge") == 4  # 2 openings, 2 asked


@pytest.mark.usefixtures("chatting")
async def test_nobody_is_queued_a_nudge_they_cannot_get(
    patti: TeamsUser, trellis, sessions, clock, connector
) -> None:
    clock.set(at(date(2026, 3, 2), 10))
    await kit.launch_cycle(
        sessions, people=(demo.ADELE, demo.PATTI), deadlines=deadlines(date(2026, 3, 20)), now=clock()
    )
    report = await nudge_pass(sessions, clock)
    patti_id = await kit.person_id(sessions, demo.PATTI)
    assert report.nudges == 1 and report.no_chat == (patti_id,)
    assert "1 without a chat" in str(report)
    assert await outbox_rows(sessions, OutboxMessage.person_id == patti_id) == 0
    assert "Patti Fernandez: self review" in await dry_run(sessions, clock, default_zone=ORG)

    # She opens Trellis (the app installed through Graph does the same): the next pass reaches her.
    await patti.say("hi")
    mark = len(connector.requests)
    assert (await nudge_pass(sessions, clock)).nudges == 1
    [hers] = await delivered(trellis, connector, patti, mark)
    assert "Time for your self review" in hers.text()


@pytest.mark.usefixtures("chatting")
async def test_a_checkpoint_reminder_reaches_the_manager_in_working_hours_and_is_recorded_on_it(
    alex: TeamsUser, trellis, sessions, clock, connector
) -> None:
    start = date(2026, 2, 2)
    async with unit_of_work(sessions) as session:
        manager, adele = await kit.actor(session, demo.ALEX), await kit.actor(session, demo.ADELE)
        plan = await improvement_plans.create_plan(
            session,
            actor=manager,
            employee_id=adele.person_id,
            gap="Incident follow-up is not meeting expectations",
            examples=(ExampleInput(date(2026, 1, 20), "Missed the release sign-off"),),
            goals=(GoalInput("Post-incident reviews on time", "Within 3 working days"),),
            start_date=start,
            now=at(start, 10),
        )
        plan = await improvement_plans.activate_plan(
            session, actor=manager, plan_id=plan.id, now=at(start, 10)
        )
    first = plan.checkpoints[0]  # 30 days after the start: Wednesday 4 March
    clock.set(at(first.due_on - timedelta(days=2), 7))  # Monday 07:00 in Los Angeles: too early
    report = await nudge_pass(sessions, clock)
    assert (report.checkpoints, report.waiting) == (0, 1)
    clock.set(at(first.due_on - timedelta(days=2), 9))
    mark = len(connector.requests)
    assert (await nudge_pass(sessions, clock)).checkpoints == 1
    assert (await nudge_pass(sessions, clock)).checkpoints == 0, "once a day"
    [reminder] = await delivered(trellis, connector, alex, mark)
    assert "Improvement plan checkpoint" in reminder.text()
    assert (
        "Adele Vance's improvement plan: a checkpoint is due on Wednesday 4 March 2026." in reminder.texts()
    )
    recorded = await alex.press(
        "Record checkpoint",
        card=reminder,
        inputs={"checkpoint_status": "partly_met", "checkpoint_notes": "Two of three reviews on time"},
    )
    assert "Checkpoint recorded" in recorded.text() and "Due on Wednesday 4 March 2026: partly met." in (
        recorded.texts()
    )
    async with sessions() as session:
        stored = await session.get(ImprovementPlanCheckpoint, first.id)
        assert (stored.status, stored.notes) == ("partly_met", "Two of three reviews on time")


async def test_trellis_nudge_dry_run_prints_the_plan_and_queues_nothing(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    """The console script's flag, on a database of its own at the real time of day."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'trellis.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    sessions = session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            await demo.seed(session, people=60, seed=7)
        now = datetime.now(UTC)
        await kit.launch_cycle(
            sessions, people=(demo.ADELE,), deadlines=deadlines(now.date() + timedelta(days=10)), now=now
        )
        async with sessions() as session:
            before = await session.scalar(select(func.count()).select_from(OutboxMessage))
            people = await session.scalar(select(func.count()).select_from(Person))
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("TRELLIS_SESSION_SECRET", "cli-secret-" + "x" * 32)
        capsys.readouterr()
        code = await asyncio.to_thread(cli.main, ["nudge", "--dry-run"])
        printed = capsys.readouterr().out
        assert code == 0, printed
        assert "Adele Vance: self review in 2026-Q1 review" in printed and "why: opened" in printed
        assert "no chat with Trellis yet" in printed, "she never opened the app in this database"
        assert "Dry run: nothing was queued or sent." in printed
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == before == 0
            assert await session.scalar(select(func.count()).select_from(Person)) == people
    finally:
        await engine.dispose()

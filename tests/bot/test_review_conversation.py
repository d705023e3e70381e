"""A whole review cycle as people live it in Teams, on the demo organization and a test clock: Megan (HR)
launches a cycle for Adele Vance; the opening nudge reaches Adele's chat; she fills her self review step by
step, stops half-way, types `reviews` and continues where she left off, and submits (a second submit
changes nothing); Megan moves the cycle on; Alex Wilber, her manager, gets his nudge and writes the
manager review with her self review and goal results above his inputs; Megan calibrates with a reason and
releases; Adele's result shows the score as computed by hand, and she acknowledges it once.

Adele and Alex are in Los Angeles, Megan in New York: the clock is set inside their working hours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.review_nudges import schedule_review_nudges
from bot.schedule import schedule_due
from domain.performance import calibration, goals
from domain.performance.goal_views import KeyResultInput
from domain.performance.review_views import Phase, ReviewerRole
from storage import demo
from storage.models import Review, ReviewAnswer, ReviewParticipant
from storage.uow import unit_of_work
from tests.conftest import RunningTrellis, serving
from tests.support import reviews as kit
from tests.support.clock import Clock
from tests.support.delivery import delivered
from tests.support.teams import Card, TeamsUser
from trellis.app import create_app

pytestmark = pytest.mark.usefixtures("demo_org")

UTC_ZONE = ZoneInfo("UTC")
# Monday 2 March 2026, 10:00 in Los Angeles (UTC-8 until 8 March), 13:00 in New York.
LAUNCH = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
# Monday 16 March, 10:00 in Los Angeles (UTC-7 from 8 March): the self reviews were due on the 13th.
MANAGER_PHASE = datetime(2026, 3, 16, 17, 0, tzinfo=UTC)
RELEASE = datetime(2026, 4, 6, 17, 0, tzinfo=UTC)
DEADLINES = kit.Deadlines(
    self_review=date(2026, 3, 13),
    manager_review=date(2026, 3, 27),
    calibration=date(2026, 4, 3),
    acknowledgement=date(2026, 4, 17),
)


@pytest.fixture
def clock() -> Clock:
    return Clock(LAUNCH)


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    """Trellis over real HTTP, as in tests/conftest.py, on the test clock."""
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


async def adeles_goals(sessions) -> list[int]:
    """Two goals of Adele's this quarter: 60 % and 25 % of the way."""
    async with unit_of_work(sessions) as session:
        adele = await kit.actor(session, demo.ADELE)
        made = [
            await goals.create_goal(
                session,
                actor=adele,
                title=title,
                period="2026-Q1",
                key_results=[KeyResultInput("Done", target=100, current=current)],
                now=LAUNCH,
            )
            for title, current in (("Ship search", 60), ("Cut p95 latency", 25))
        ]
    return [g.id for g in made]


def rated(card: Card, values: dict[str, str]) -> dict[str, str]:
    """Inputs to fill: the rating of each item named (its key), checked to be on the card."""
    inputs = card.inputs()
    filled = {f"rating_{key}": value for key, value in values.items()}
    assert set(filled) <= set(inputs), sorted(inputs)
    return filled


async def count(sessions, model, *where) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_a_whole_cycle_from_launch_to_acknowledgement(
    adele: TeamsUser, alex: TeamsUser, megan: TeamsUser, trellis, sessions, clock, connector
) -> None:
    for user in (adele, alex, megan):
        await user.say("hi")  # everyone has a 1:1 chat with the bot, where nudges go
    ship, latency = await adeles_goals(sessions)
    goal_keys = {ship: f"goal-{ship}", latency: f"goal-{latency}"}
    cycle = await kit.launch_cycle(sessions, people=(demo.ADELE,), deadlines=DEADLINES, now=LAUNCH)

    # --- launch: the scheduler's pass puts the opening nudge in Adele's chat ---
    mark = len(connector.requests)
    *_, nudges = await schedule_due(sessions, clock, default_zone=UTC_ZONE)
    assert (nudges.nudges, nudges.escalations) == (1, 0)
    [nudge] = await delivered(trellis, connector, adele, mark)
    assert "Time for your self review" in nudge.text()
    assert "2026-Q1 review" in nudge.texts()
    assert "Due on Friday 13 March 2026." in nudge.texts()

    # --- the self review, one section per step ---
    step = await adele.press("Open my self review", card=nudge)
    assert "Step 1 of 3: Goals" in step.texts()
    assert "Ship search" in step.texts() and "Goal result: 60 % · on track" in step.text().replace("\n", "")
    step = await adele.press(
        "Next", card=step, inputs=rated(step, {goal_keys[ship]: "4", goal_keys[latency]: "3"})
    )
    assert "Saved “Goals”." in step.texts()
    assert "Step 2 of 3: Competencies" in step.texts()
    step = await adele.press("Next", card=step, inputs=rated(step, {"c1": "4", "c2": "5"}))
    assert "Step 3 of 3: Overall" in step.texts()
    # She closes Teams here: the card is dropped. Later she asks for her reviews.
    [listing] = await adele.say("reviews")
    assert "Your reviews" in listing.card.text()
    assert any("draft saved" in t for t in listing.card.texts())
    resumed = await adele.press("Continue my self review", card=listing.card)
    assert "Step 3 of 3: Overall" in resumed.texts(), "it resumes after the last step saved"
    back = await adele.press("Back", card=resumed)
    assert "Step 2 of 3: Competencies" in back.texts()
    assert (back.inputs()["rating_c1"]["value"], back.inputs()["rating_c2"]["value"]) == ("4", "5")
    last = await adele.press("Next", card=back)
    submitted = await adele.press(
        "Submit",
        card=last,
        inputs={"rating_q1": "4", "text_q2": "Shipped search to every customer", "choice_q3": "Yes"},
    )
    assert "Self review submitted" in submitted.text()
    assert "Shipped search to every customer" in submitted.text()
    self_id = await kit.review_id(sessions, cycle.id, demo.ADELE, ReviewerRole.SELF)
    answers = await count(sessions, ReviewAnswer, ReviewAnswer.review_id == self_id)
    async with sessions() as session:
        before = await session.get(Review, self_id)
        stamp = (before.status, before.version, before.submitted_at)

    again = await adele.press("Submit", card=last)  # the same card pressed again
    assert "This was already submitted, so nothing more was changed." in again.texts()
    async with sessions() as session:
        after = await session.get(Review, self_id, populate_existing=True)
        assert (after.status, after.version, after.submitted_at) == stamp
    assert await count(sessions, ReviewAnswer, ReviewAnswer.review_id == self_id) == answers == 7

    # --- HR moves the cycle on: the manager review, with her self review beside his inputs ---
    clock.set(MANAGER_PHASE)
    await kit.advance(sessions, cycle.id, Phase.MANAGER_REVIEW, MANAGER_PHASE)
    mark = len(connector.requests)
    report = await schedule_review_nudges(sessions, clock, default_zone=UTC_ZONE)
    assert report.nudges == 1
    [his] = await delivered(trellis, connector, alex, mark)
    assert await delivered(trellis, connector, adele, mark) == [], "her part is done: nothing for her"
    assert "Time for your manager review of Adele Vance" in his.text()
    step = await alex.press("Open manager review of Adele Vance", card=his)
    assert "Step 1 of 3: Goals" in step.texts()
    text = step.text()
    assert "Adele Vance's self review: " in text and "Above (4)" in text and "Meets (3)" in text
    assert "60 %" in text and "25 %" in text, "the goal results are shown above the ratings"
    step = await alex.press(
        "Next", card=step, inputs=rated(step, {goal_keys[ship]: "4", goal_keys[latency]: "3"})
    )
    assert "Far above (5)" in step.text(), "her Delivery rating, above his input"
    step = await alex.press("Next", card=step, inputs=rated(step, {"c1": "4", "c2": "5"}))
    assert "Shipped search to every customer" in step.text()
    done = await alex.press(
        "Submit", card=step, inputs={"rating_q1": "4", "text_q2": "Search landed well; keep mentoring"}
    )
    assert "Manager review of Adele Vance submitted" in done.texts()

    # --- calibration with a reason, then release ---
    await kit.advance(sessions, cycle.id, Phase.CALIBRATION, MANAGER_PHASE)
    adele_id = await kit.person_id(sessions, demo.ADELE)
    async with unit_of_work(sessions) as session:
        megan_actor = await kit.actor(session, demo.MEGAN)
        await calibration.calibrate(
            session,
            actor=megan_actor,
            cycle_id=cycle.id,
            person_id=adele_id,
            score="4.10",
            reason="Led the search launch across two teams",
            now=MANAGER_PHASE,
        )
    clock.set(RELEASE)
    await kit.advance(sessions, cycle.id, Phase.RELEASED, RELEASE)
    mark = len(connector.requests)
    assert (await schedule_review_nudges(sessions, clock, default_zone=UTC_ZONE)).nudges == 1
    [ready] = await delivered(trellis, connector, adele, mark)
    assert "Your review results are ready" in ready.text()

    # --- her result: the score as computed by hand, and its breakdown ---
    result = await adele.press("See my result", card=ready)
    # Alex's ratings: Goals 4 and 3 → 3.50, weight 50 → 50 * 3.50 / 100 = 1.75
    #                 Competencies 4 and 5 → 4.50, weight 30 → 30 * 4.50 / 100 = 1.35
    #                 Overall 4 → 4.00, weight 20 → 20 * 4.00 / 100 = 0.80
    # computed = 1.75 + 1.35 + 0.80 = 3.90; calibrated to 4.10, which rounds to point 4, "Above".
    text = result.text()
    assert "4.10" in text and " · Above" in text
    assert "Goals: weight 50 · score 3.50 · contribution 1.75" in text.replace("\n", "")
    assert "Competencies: weight 30 · score 4.50 · contribution 1.35" in text.replace("\n", "")
    assert "Overall: weight 20 · score 4.00 · contribution 0.80" in text.replace("\n", "")
    assert "From the ratings: 3.90" in text.replace("\n", "")
    assert "The manager's ratings come to 3.90; the final score was adjusted" in text
    assert "Led the search launch" not in text, "the calibration reason is HR's only"
    assert "Search landed well; keep mentoring" in text

    acknowledged = await adele.press("Acknowledge", card=result, inputs={"ack_comment": "Thanks, agreed"})
    assert "Thank you: you acknowledged this review." in acknowledged.texts()
    async with sessions() as session:
        participant = await session.scalar(
            select(ReviewParticipant).where(
                ReviewParticipant.cycle_id == cycle.id, ReviewParticipant.person_id == adele_id
            )
        )
        first = (participant.acknowledged_at, participant.acknowledgement_comment)
    assert first[1] == "Thanks, agreed"
    twice = await adele.press("Acknowledge", card=result, inputs={"ack_comment": "Changed my mind"})
    assert "You had already acknowledged this review: nothing changed." in twice.texts()
    async with sessions() as session:
        participant = await session.get(ReviewParticipant, participant.id, populate_existing=True)
        assert (participant.acknowledged_at, participant.acknowledgement_comment) == first


async def test_peers_are_nominated_during_peer_review_and_get_their_card(
    adele: TeamsUser, alex: TeamsUser, isaiah: TeamsUser, trellis, sessions, clock, connector
) -> None:
    for user in (adele, alex, isaiah):
        await user.say("hi")  # Patti Fernandez has no chat with the bot
    deadlines = kit.Deadlines(
        self_review=date(2026, 3, 6),
        peer_review=date(2026, 3, 13),
        manager_review=date(2026, 3, 27),
        calibration=date(2026, 4, 3),
        acknowledgement=date(2026, 4, 17),
    )
    cycle = await kit.launch_cycle(
        sessions,
        people=(demo.ADELE,),
        deadlines=deadlines,
        now=LAUNCH,
        sections=(*kit.SECTIONS, kit.PEER_SECTION),
    )
    await kit.advance(sessions, cycle.id, Phase.PEER_REVIEW, LAUNCH)

    [listing] = await adele.say("reviews")
    assert "2026-Q1 review: choose colleagues for your review (0 named so far)" in listing.card.texts()
    form = await adele.press("Nominate my peers", card=listing.card)
    assert "Nobody is named yet." in form.texts()
    unknown = await adele.press("Nominate", card=form, inputs={"peers": "Isaiah Langer, Nobody Atall"})
    assert "Nobody was asked. I couldn't find anyone called “Nobody Atall”." in unknown.texts()
    mark = len(connector.requests)
    asked = await adele.press("Nominate", card=unknown, inputs={"peers": "Isaiah Langer, Patti Fernandez"})
    assert "Asked Isaiah Langer, Patti Fernandez." in asked.texts()
    assert "Isaiah Langer, Patti Fernandez" in asked.text()

    [card] = await delivered(trellis, connector, isaiah, mark)
    assert "You're asked for a peer review" in card.text()
    assert any("You were named to review Adele Vance." in t for t in card.texts())
    step = await isaiah.press("Open peer review of Adele Vance", card=card)
    assert "Step 1 of 1: Working together" in step.texts()
    done = await isaiah.press("Submit", card=step, inputs={"rating_q1": "5"})
    assert "Peer review of Adele Vance submitted" in done.texts()

    # Her manager may name peers for her too; naming someone again adds nobody.
    [his] = await alex.say("reviews")
    again = await alex.press("Nominate peers for Adele Vance", card=his.card)
    assert "Isaiah Langer, Patti Fernandez" in again.text()
    same = await alex.press("Nominate", card=again, inputs={"peers": "Isaiah Langer"})
    assert not any(t.startswith("Asked") for t in same.texts())
    assert await count(sessions, Review, Review.cycle_id == cycle.id, Review.role == "peer") == 2

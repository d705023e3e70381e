"""Feedback requests as people live them in Teams: `request feedback from @A @B about …`, the ask cards
that arrive proactively, answers (named or anonymous), one reminder, expiry, and what goes wrong.

The demo organization: Alex Wilber manages Adele Vance and Isaiah Langer; Patti Fernandez and Lynne
Robbins are colleagues elsewhere; Megan Bowen is HR. The test clock starts on Monday 23 November 2026.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.feedback_requests import schedule_feedback_requests
from domain.performance.feedback_views import ANONYMITY_THRESHOLD, FeedbackVisibility
from storage.models import Feedback, FeedbackRequest, FeedbackRequestAsk
from tests.conftest import RunningTrellis, serving
from tests.support.clock import Clock
from tests.support.delivery import delivered
from tests.support.teams import Card, TeamsUser
from trellis.app import create_app

pytestmark = pytest.mark.usefixtures("demo_org")

START = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
DEMO = "about the customer demo on Friday"


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest_asyncio.fixture
async def trellis(settings, engine, sessions, clock: Clock) -> AsyncIterator[RunningTrellis]:
    """Trellis over real HTTP, as in tests/conftest.py, on the test clock."""
    app = create_app(settings, clock=clock, engine=engine, sessions=sessions, run_sender=False)
    async with serving(app) as running:
        yield running


@pytest.fixture
async def chatting(demo_org, alex, adele, isaiah, patti, lynne, megan) -> None:
    """Everyone has a 1:1 chat with the bot, where proactive cards go."""
    for user in (alex, adele, isaiah, patti, lynne, megan):
        await user.say("hi")


async def count(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


async def ask(requester: TeamsUser, *asked: TeamsUser, topic: str = DEMO, subject: TeamsUser | None = None):
    """Type the request command, @mentioning each person (and the subject after "for")."""
    names = " ".join(f"<at>{p.name}</at>" for p in asked)
    about = f"for <at>{subject.name}</at> " if subject else ""
    mentions = ((subject,) if subject else ()) + asked
    [reply] = await requester.say(f"request feedback {about}from {names} {topic}".strip(), mentions=mentions)
    return reply.card


async def answer(
    user: TeamsUser, card: Card, text: str, visibility: FeedbackVisibility, tags: str = ""
) -> Card:
    return await user.press(
        "Send answer", card=card, inputs={"text": text, "visibility": str(visibility), "tags": tags}
    )


# --- asking and answering ------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting")
async def test_colleagues_get_the_question_and_a_named_answer_reaches_the_requester_and_her_manager(
    alex, adele, isaiah, patti, trellis, connector, sessions
) -> None:
    mark = len(connector.requests)
    sent = await ask(adele, isaiah, patti)
    assert "Feedback requested" in sent.text()
    assert "the customer demo on Friday" in sent.texts()
    assert "Isaiah Langer, Patti Fernandez" in sent.text()

    [for_isaiah] = await delivered(trellis, connector, isaiah, mark)
    [for_patti] = await delivered(trellis, connector, patti, mark)
    for card in (for_isaiah, for_patti):
        assert "Adele Vance asks for your feedback:" in card.text().replace("\n", "")
        assert "the customer demo on Friday" in card.texts()
        assert {c["value"] for c in card.inputs()["visibility"]["choices"]} == {
            str(v) for v in FeedbackVisibility
        }
    assert await delivered(trellis, connector, alex, mark) == []

    mark = len(connector.requests)
    thanks = await answer(
        isaiah,
        for_isaiah,
        "Clear story, slides too dense",
        FeedbackVisibility.RECIPIENT_AND_MANAGER,
        "communication:4",
    )
    assert "Feedback sent" in thanks.text() and "Adele and their manager will see it" in thanks.text()
    [hers] = await delivered(trellis, connector, adele, mark)
    assert "Isaiah Langer" in hers.text() and "Clear story, slides too dense" in hers.texts()
    assert "Tags: communication (4/5)" in hers.texts()
    [his] = await delivered(trellis, connector, alex, mark)
    assert "Feedback for your team" in his.text()
    async with sessions() as session:
        stored = await session.scalar(select(Feedback))
        assert stored.request_id is not None and stored.visibility == "recipient_and_manager"


@pytest.mark.usefixtures("chatting")
async def test_anonymous_answers_show_nothing_until_the_third_then_only_pooled(
    adele, isaiah, patti, lynne, megan, trellis, connector
) -> None:
    mark = len(connector.requests)
    await ask(adele, isaiah, patti, lynne, megan)
    cards = {u.name: (await delivered(trellis, connector, u, mark))[0] for u in (isaiah, patti, lynne)}

    answers = {
        "Isaiah Langer": "Slides were too dense",
        "Patti Fernandez": "Great energy with the client",
        "Lynne Robbins": "Answer questions more briefly",
    }
    for n, (name, text) in enumerate(answers.items(), start=1):
        mark = len(connector.requests)
        user = {isaiah.name: isaiah, patti.name: patti, lynne.name: lynne}[name]
        done = await answer(user, cards[name], text, FeedbackVisibility.ANONYMOUS)
        assert "without your name, pooled with other answers" in done.text()
        got = await delivered(trellis, connector, adele, mark)
        if n < ANONYMITY_THRESHOLD:
            assert got == [], f"after {n} anonymous answers Adele must learn nothing"
            continue
        [pooled] = got
        assert "3 colleagues answered anonymously" in pooled.text()
        assert sorted(t for t in pooled.texts() if t in answers.values()) == sorted(answers.values())
        wire = json.dumps(pooled.content)
        for giver in answers:
            assert giver not in wire and giver.split()[0] not in wire


@pytest.mark.usefixtures("chatting")
async def test_a_manager_asks_about_a_report_and_a_colleague_may_not(
    alex, adele, isaiah, patti, trellis, connector, sessions
) -> None:
    mark = len(connector.requests)
    sent = await ask(alex, isaiah, subject=adele)
    assert "Feedback requested" in sent.text() and "About Adele Vance" in sent.text().replace("\n", "")
    [card] = await delivered(trellis, connector, isaiah, mark)
    assert "Alex Wilber asks for your feedback about Adele Vance:" in card.text().replace("\n", "")

    refused = await ask(patti, isaiah, subject=adele)
    assert "people in your team" in refused.text()
    assert await count(sessions, FeedbackRequest) == 1


@pytest.mark.usefixtures("chatting")
async def test_the_form_asks_once_however_often_it_is_pressed(
    adele, isaiah, trellis, connector, sessions
) -> None:
    form = await ask(adele, isaiah, topic="")
    assert "Ask for feedback" in form.text() and "Isaiah Langer" in form.text()
    empty = await adele.press("Ask", card=form, inputs={"question": "  "})
    assert "Nothing was sent" in empty.text() and await count(sessions, FeedbackRequest) == 0

    mark = len(connector.requests)
    first = await adele.press("Ask", card=form, inputs={"question": "How was my demo?", "days": "7"})
    second = await adele.press("Ask", card=form, inputs={"question": "How was my demo?", "days": "7"})
    assert "Feedback requested" in first.text() and "Already asked" in second.text()
    assert await count(sessions, FeedbackRequest) == 1
    [card] = await delivered(trellis, connector, isaiah, mark)
    assert "How was my demo?" in card.texts()
    assert "Please answer by Monday 30 November 2026." in card.texts()


# --- what goes wrong -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("request feedback about my demo", "Say whom to ask"),
        ("request feedback from @Nobodyhere about my demo", "couldn't find anyone called"),
        ("request feedback from <at>Adele Vance</at> about my demo", "You can't ask yourself"),
        ("request feedback from <at>Isaiah Langer</at> about " + "x" * 501, "at most 500"),
    ],
    ids=["nobody", "unknown", "oneself", "too-long"],
)
@pytest.mark.usefixtures("chatting")
async def test_a_bad_request_gets_a_message_and_writes_nothing(
    typed, message, adele, isaiah, trellis, connector, sessions
) -> None:
    mentions = tuple(u for u in (adele, isaiah) if u.name in typed)
    mark = len(connector.requests)
    [reply] = await adele.say(typed, mentions=mentions)
    assert message in reply.card.text()
    assert await count(sessions, FeedbackRequest) == 0
    assert await delivered(trellis, connector, isaiah, mark) == []


@pytest.mark.usefixtures("chatting")
async def test_answering_someone_elses_ask_twice_or_too_late_is_refused_and_loses_nothing(
    adele, isaiah, patti, trellis, connector, sessions, clock: Clock
) -> None:
    mark = len(connector.requests)
    await ask(adele, isaiah, topic="about my demo")
    [card] = await delivered(trellis, connector, isaiah, mark)

    theirs = await answer(patti, card, "Not asked of me", FeedbackVisibility.RECIPIENT_ONLY)
    assert "wasn't sent to you" in theirs.text()
    forged = await isaiah.press("Send answer", card=card, inputs={"text": "ok", "visibility": "everyone"})
    assert "choose one of the options" in forged.text()
    assert await count(sessions, Feedback) == 0

    clock.set(START + timedelta(days=15))
    late = await answer(isaiah, card, "Sorry I was away", FeedbackVisibility.RECIPIENT_ONLY)
    assert "expired on 07 December 2026" in late.text()
    assert "Sorry I was away" in json.dumps(late.content), "what he typed comes back with the refusal"
    assert await count(sessions, Feedback) == 0


@pytest.mark.usefixtures("chatting")
async def test_a_double_answer_stores_one_feedback(adele, isaiah, trellis, connector, sessions) -> None:
    mark = len(connector.requests)
    await ask(adele, isaiah)
    [card] = await delivered(trellis, connector, isaiah, mark)
    first = await answer(isaiah, card, "Good pacing", FeedbackVisibility.RECIPIENT_ONLY)
    second = await answer(isaiah, card, "Good pacing", FeedbackVisibility.RECIPIENT_ONLY)
    assert "Feedback sent" in first.text() and "Already sent" in second.text()
    assert await count(sessions, Feedback) == 1


# --- reminders and expiry ------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting")
async def test_one_reminder_for_those_who_have_not_answered_then_the_request_expires(
    adele, isaiah, patti, trellis, connector, sessions, clock: Clock
) -> None:
    mark = len(connector.requests)
    await ask(adele, isaiah, patti)
    [isaiahs] = await delivered(trellis, connector, isaiah, mark)
    await answer(isaiah, isaiahs, "Good pacing", FeedbackVisibility.RECIPIENT_ONLY)

    clock.set(START + timedelta(days=2))
    assert (await schedule_feedback_requests(sessions, clock)).reminders == 0, "too early"

    clock.set(START + timedelta(days=3))
    mark = len(connector.requests)
    report = await schedule_feedback_requests(sessions, clock)
    assert report.reminders == 1
    [reminder] = await delivered(trellis, connector, patti, mark)
    assert "Reminder: feedback request" in reminder.text()
    assert await delivered(trellis, connector, isaiah, mark) == [], "he answered"

    clock.set(START + timedelta(days=4))
    assert (await schedule_feedback_requests(sessions, clock)).reminders == 0, "one reminder only"

    clock.set(START + timedelta(days=14))
    assert (await schedule_feedback_requests(sessions, clock)).expired == 1
    async with sessions() as session:
        assert await session.scalar(select(FeedbackRequest.closed_at)) is not None
        assert await session.scalar(select(func.count()).select_from(FeedbackRequestAsk)) == 2
    late = await answer(patti, reminder, "Late", FeedbackVisibility.RECIPIENT_ONLY)
    assert "it takes no answers now" in late.text()

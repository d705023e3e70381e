"""Feedback and praise in Teams chat: `feedback @Name <text>`, the give form, `praise @Name <text>`.

The demo organization: Alex Wilber manages Adele Vance and Isaiah Langer; Megan Bowen is HR. Cards for
the recipient and the manager go through the outbox: they reach the connector stand-in only when the
sender drains it, as the server's background job does.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from adaptive_cards.elements import SUBMIT_VERB_KEY
from domain.access import load_actor
from domain.performance import recognition
from domain.performance.feedback_views import FEEDBACK_MAX, FeedbackVisibility
from storage import demo
from storage.models import Feedback, Person, Praise
from storage.uow import unit_of_work
from tests.support.delivery import delivered
from tests.support.teams import Card, TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")


@pytest.fixture
async def chatting(demo_org, alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser) -> None:
    """Everyone has a 1:1 chat with the bot, where proactive cards go."""
    for user in (alex, adele, isaiah):
        await user.say("hi")


async def rows(sessions, model) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


def tampered(card: Card, **changes: Any) -> Card:
    """The card as a forger would edit it: its buttons' data changed (None removes a key)."""
    content = copy.deepcopy(card.content)
    for action in Card(content, card.activity_id).actions():
        if action.get("verb") or action.get("data", {}).get(SUBMIT_VERB_KEY):
            for key, new in changes.items():
                if new is None:
                    action["data"].pop(key, None)
                else:
                    action["data"][key] = new
    return Card(content, card.activity_id)


# --- feedback ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting")
async def test_feedback_with_text_reaches_the_recipient_and_her_manager(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    mark = len(connector.requests)
    [reply] = await isaiah.say("feedback <at>Adele Vance</at> great demo", mentions=(adele,))
    sent = reply.card.text()
    assert "Feedback sent" in sent and "great demo" in sent
    assert "Adele and their manager will see it" in sent
    assert await rows(sessions, Feedback) == 1

    [hers] = await delivered(trellis, connector, adele, mark)
    assert "You got feedback" in hers.text() and "Isaiah Langer" in hers.text()
    assert "great demo" in hers.texts()
    [his] = await delivered(trellis, connector, alex, mark)
    assert "Feedback for your team" in his.text() and "great demo" in his.texts()
    assert await delivered(trellis, connector, isaiah, mark) == []


@pytest.mark.usefixtures("chatting")
async def test_a_manager_only_note_from_the_form_reaches_only_the_manager(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    [reply] = await isaiah.say("feedback @Adele", mentions=(adele,))
    form = reply.card
    assert "Give feedback" in form.text()
    choices = {c["value"] for c in form.inputs()["visibility"]["choices"]}
    assert FeedbackVisibility.ANONYMOUS not in choices and len(choices) == 3

    mark = len(connector.requests)
    sent = await isaiah.press(
        "Send feedback",
        card=form,
        inputs={"text": "Prepare the demo earlier", "visibility": "manager_only", "tags": "planning"},
    )
    assert "Only Adele's manager will see it: Adele won't" in sent.text()
    assert await delivered(trellis, connector, adele, mark) == []
    [note] = await delivered(trellis, connector, alex, mark)
    assert "Prepare the demo earlier" in note.texts()
    assert "A private note for you: Adele Vance can't see it." in note.texts()


@pytest.mark.usefixtures("chatting")
async def test_script_in_feedback_is_shown_as_text(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector
) -> None:
    mark = len(connector.requests)
    script = "<script>alert(1)</script> **not bold**"
    [reply] = await isaiah.say(f"feedback <at>Adele Vance</at> {script}", mentions=(adele,))
    assert script in reply.card.texts()
    [hers] = await delivered(trellis, connector, adele, mark)
    assert script in hers.texts()
    # Only TextRuns carry it: Teams never reads them as markdown or markup.
    runs = [
        run
        for block in hers.content["body"]
        for item in block.get("items", [block])
        for run in item.get("inlines", [])
    ]
    assert any(run["type"] == "TextRun" and run["text"] == script for run in runs)


@pytest.mark.parametrize(
    ("typed", "mention_adele", "message"),
    [
        ("feedback <at>Isaiah Langer</at> nice", False, "you can't feedback yourself"),
        ("feedback @Nobodyhere great demo", False, "couldn't find anyone called"),
        ("feedback <at>Adele Vance</at> " + "x" * (FEEDBACK_MAX + 1), True, f"at most {FEEDBACK_MAX}"),
        ("feedback", False, "Say who it's for"),
    ],
    ids=["oneself", "unknown", "too-long", "nobody"],
)
@pytest.mark.usefixtures("chatting")
async def test_bad_feedback_gets_a_message_and_writes_nothing(
    typed, mention_adele, message, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    mentions = (adele,) if mention_adele else (isaiah,) if "Isaiah" in typed else ()
    mark = len(connector.requests)
    [reply] = await isaiah.say(typed, mentions=mentions)
    assert message in reply.card.text()
    assert await rows(sessions, Feedback) == 0
    assert await delivered(trellis, connector, adele, mark) == []


@pytest.mark.usefixtures("chatting")
async def test_bad_form_input_keeps_the_form_and_writes_nothing(
    adele: TeamsUser, isaiah: TeamsUser, sessions
) -> None:
    [reply] = await isaiah.say("feedback @Adele", mentions=(adele,))
    empty = await isaiah.press("Send feedback", card=reply.card, inputs={"text": "   "})
    assert "Nothing was sent" in empty.text() and "Your feedback" in empty.text()
    forged = await isaiah.press(
        "Send feedback", card=reply.card, inputs={"text": "ok", "visibility": "anonymous"}
    )
    assert "choose one of the options" in forged.text()
    stale = await isaiah.press(
        "Send feedback", card=tampered(reply.card, request_id=None), inputs={"text": "ok"}
    )
    assert "out of date" in stale.text()
    someone = await isaiah.press(
        "Send feedback", card=tampered(reply.card, person_id=10**9), inputs={"text": "ok"}
    )
    assert "not in the directory" in someone.text()
    assert await rows(sessions, Feedback) == 0


@pytest.mark.usefixtures("chatting")
async def test_a_double_submit_stores_one_feedback_and_tells_once(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    [reply] = await isaiah.say("feedback @Adele", mentions=(adele,))
    mark = len(connector.requests)
    first = await isaiah.press("Send feedback", card=reply.card, inputs={"text": "Clear write-up"})
    second = await isaiah.press("Send feedback", card=reply.card, inputs={"text": "Clear write-up"})
    assert "Feedback sent" in first.text() and "Already sent" in second.text()
    assert await rows(sessions, Feedback) == 1
    assert len(await delivered(trellis, connector, adele, mark)) == 1
    assert len(await delivered(trellis, connector, alex, mark)) == 1


# --- praise --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting")
async def test_praise_reaches_its_receiver(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    mark = len(connector.requests)
    [reply] = await isaiah.say("praise <at>Adele Vance</at> thanks for the fix", mentions=(adele,))
    assert "Praise sent" in reply.card.text()
    [card] = await delivered(trellis, connector, adele, mark)
    assert "thanks for the fix" in card.texts()
    assert "Isaiah Langer → Adele Vance" in card.text().replace("\n", "")
    assert await rows(sessions, Praise) == 1


async def define_badge(sessions, **options) -> int:
    async with unit_of_work(sessions) as session:
        megan_id = await session.scalar(
            select(Person.id).where(Person.aad_object_id == demo.MEGAN.aad_object_id)
        )
        megan = await load_actor(session, megan_id)
        badge = await recognition.define_badge(session, actor=megan, now=datetime.now(UTC), **options)
    return badge.id


@pytest.mark.usefixtures("chatting")
async def test_a_badge_on_the_form_and_an_official_one_refused(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    team_player = await define_badge(sessions, name="Team player", emoji="🤝")
    official = await define_badge(sessions, name="Values award", emoji="🏆", official=True)
    [reply] = await isaiah.say("praise @Adele", mentions=(adele,))
    offered = {c["value"] for c in reply.card.inputs()["badge"]["choices"]}
    assert str(team_player) in offered and str(official) not in offered  # only what he may give

    refused = await isaiah.press(
        "Send praise", card=reply.card, inputs={"text": "Great values", "badge": str(official)}
    )
    assert "Nothing was sent" in refused.text()
    assert await rows(sessions, Praise) == 0

    mark = len(connector.requests)
    sent = await isaiah.press(
        "Send praise", card=reply.card, inputs={"text": "Great teamwork", "badge": str(team_player)}
    )
    assert "🤝 Team player" in sent.texts()
    [card] = await delivered(trellis, connector, adele, mark)
    assert "🤝 Team player" in card.texts() and "Great teamwork" in card.texts()
    assert await rows(sessions, Praise) == 1


@pytest.mark.usefixtures("chatting")
async def test_a_whole_name_typed_without_at_is_the_name_not_the_start_of_the_text(
    adele: TeamsUser, isaiah: TeamsUser, sessions
) -> None:
    [reply] = await isaiah.say("feedback Adele Vance great demo")
    assert "Feedback sent" in reply.card.text() and "great demo" in reply.card.texts()
    async with sessions() as session:
        assert await session.scalar(select(Feedback.text)) == "great demo"

"""Give feedback from a message ("..." → Give feedback), as Teams sends it, over HTTP: a dialog about the
message's author with the message quoted, feedback stored with that quote as evidence, and the same
notices as from the feedback command.

Adele Vance's recorded message (tests/fixtures/activities) thanks Isaiah for a demo; Alex Wilber is her
manager.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.routes import BOT
from storage import demo
from storage.models import Feedback
from tests.support.teams import Card, TeamsClient, TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")

QUOTE_START = "Thanks Isaiah Langer for the R&D demo — the customer loved it! 🎉"
SCRIPT = 'I typed <script>alert("pwned")</script> into the form and it stayed text.'


@pytest.fixture
def isaiah(teams: TeamsClient) -> TeamsUser:
    return teams.user(aad_object_id=demo.ISAIAH.aad_object_id, name="Isaiah Langer")


@pytest.fixture
async def chatting(demo_org, alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser) -> None:
    for user in (alex, adele, isaiah):
        await user.say("hi")


async def delivered(trellis, connector, user: TeamsUser, since: int) -> list[Card]:
    await trellis.app[BOT].sender.drain()
    cards = []
    for record in connector.requests[since:]:
        if record.ok and record.kind == "send" and record.conversation_id == user.conversation_id:
            for attachment in record.body.get("attachments") or []:
                card = Card(attachment["content"], record.assigned_id)
                await user.client.validate(card.content)
                cards.append(card)
    return cards


async def stored(sessions) -> list[Feedback]:
    async with sessions() as session:
        return list(await session.scalars(select(Feedback)))


@pytest.mark.usefixtures("chatting")
async def test_feedback_from_a_message_is_about_its_author_and_keeps_the_quote(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    dialog = await isaiah.open_message_action("giveFeedback", adele.message())
    assert dialog.kind == "continue" and dialog.title == "Give feedback"
    assert dialog.card.inputs()["person"]["value"] == "Adele Vance"
    assert any(t.startswith(QUOTE_START) for t in dialog.card.texts())

    mark = len(connector.requests)
    done = await isaiah.submit_message_action(
        dialog, "Send feedback", inputs={"text": "You made the customer feel heard", "tags": "empathy:5"}
    )
    assert done.text == (
        "Feedback sent to Adele Vance. "
        "Adele and their manager will see it (and HR, who can read all feedback)."
    )
    [row] = await stored(sessions)
    assert row.quote.startswith(QUOTE_START) and SCRIPT in row.quote, "the whole message, as plain text"
    assert row.text == "You made the customer feel heard"

    [hers] = await delivered(trellis, connector, adele, mark)
    assert "You made the customer feel heard" in hers.texts()
    assert any(QUOTE_START in t and SCRIPT in t for t in hers.texts()), "the evidence, literally"
    [his] = await delivered(trellis, connector, alex, mark)
    assert "Feedback for your team" in his.text()


@pytest.mark.usefixtures("chatting")
async def test_a_manager_only_note_from_a_message_reaches_only_the_manager(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    dialog = await isaiah.open_message_action("giveFeedback", adele.message())
    mark = len(connector.requests)
    await isaiah.submit_message_action(
        dialog, "Send feedback", inputs={"text": "Interrupts the client", "visibility": "manager_only"}
    )
    assert await delivered(trellis, connector, adele, mark) == []
    [note] = await delivered(trellis, connector, alex, mark)
    assert "Interrupts the client" in note.texts()


@pytest.mark.usefixtures("chatting")
async def test_a_refused_dialog_keeps_what_was_typed_and_a_double_submit_stores_one(
    adele: TeamsUser, isaiah: TeamsUser, sessions
) -> None:
    dialog = await isaiah.open_message_action("giveFeedback", adele.message())
    nobody = await isaiah.submit_message_action(
        dialog, "Send feedback", inputs={"person": "Nobodyhere", "text": "Thanks!"}
    )
    assert nobody.kind == "continue" and "couldn't find anyone called “Nobodyhere”" in nobody.card.text()
    assert nobody.card.inputs()["text"]["value"] == "Thanks!"
    himself = await isaiah.submit_message_action(
        dialog, "Send feedback", inputs={"person": "Isaiah Langer", "text": "Thanks!"}
    )
    assert "can't give feedback to yourself" in himself.card.text()
    assert await stored(sessions) == []

    first = await isaiah.submit_message_action(dialog, "Send feedback", inputs={"text": "Thanks!"})
    second = await isaiah.submit_message_action(dialog, "Send feedback", inputs={"text": "Thanks!"})
    assert first.text.startswith("Feedback sent") and second.text.startswith("Already sent")
    assert len(await stored(sessions)) == 1


@pytest.mark.usefixtures("chatting")
async def test_on_ones_own_message_nobody_is_prefilled(adele: TeamsUser, sessions) -> None:
    dialog = await adele.open_message_action("giveFeedback", adele.message())
    assert "value" not in dialog.card.inputs()["person"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Feedback)) == 0

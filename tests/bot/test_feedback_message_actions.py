"""Give feedback or praise from a message ("..." → Give feedback / Praise), as Teams sends it, over HTTP:
a dialog about the message's author with the message quoted, stored with that quote as evidence, and the
same notices as from the feedback and praise commands.

Adele Vance's recorded message (tests/fixtures/activities) thanks Isaiah for a demo; Alex Wilber is her
manager.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from domain.access import load_actor
from domain.performance import recognition
from storage import demo
from storage.models import Feedback, Person, Praise
from storage.uow import unit_of_work
from tests.support.delivery import delivered
from tests.support.teams import TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")

QUOTE_START = "Thanks Isaiah Langer for the R&D demo — the customer loved it! 🎉"
SCRIPT = 'I typed <script>alert("pwned")</script> into the form and it stayed text.'


@pytest.fixture
async def chatting(demo_org, alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser) -> None:
    for user in (alex, adele, isaiah):
        await user.say("hi")


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


# --- praise ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting")
async def test_praise_from_a_message_keeps_the_quote_and_offers_only_badges_one_may_give(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    async with unit_of_work(sessions) as session:
        megan = await load_actor(
            session,
            await session.scalar(select(Person.id).where(Person.aad_object_id == demo.MEGAN.aad_object_id)),
        )
        now = datetime.now(UTC)
        kind = await recognition.define_badge(session, actor=megan, name="Kindness", emoji="💛", now=now)
        award = await recognition.define_badge(session, actor=megan, name="Award", official=True, now=now)

    dialog = await isaiah.open_message_action("praise", adele.message())
    assert dialog.title == "Praise" and dialog.card.inputs()["person"]["value"] == "Adele Vance"
    offered = {c["value"] for c in dialog.card.inputs()["badge"]["choices"]}
    assert str(kind.id) in offered and str(award.id) not in offered
    forged = await isaiah.submit_message_action(
        dialog, "Send praise", inputs={"text": "Thank you", "badge": str(award.id)}
    )
    assert "only HR can give it" in forged.card.text()
    assert await praise_rows(sessions) == []

    mark = len(connector.requests)
    done = await isaiah.submit_message_action(
        dialog, "Send praise", inputs={"text": "Thank you for the demo", "badge": str(kind.id)}
    )
    assert done.text == "Praise sent to Adele Vance."
    [row] = await praise_rows(sessions)
    assert row.quote.startswith(QUOTE_START) and row.text == "Thank you for the demo"
    [hers] = await delivered(trellis, connector, adele, mark)
    assert "💛 Kindness" in hers.texts() and any(t.startswith(QUOTE_START) for t in hers.texts())


async def praise_rows(sessions) -> list[Praise]:
    async with sessions() as session:
        return list(await session.scalars(select(Praise)))

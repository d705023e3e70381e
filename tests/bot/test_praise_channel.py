"""Praise posted in a team channel: the bot remembers the channels it is installed in (installationUpdate,
channel messages), the praise form offers them for public praise, and the outbox posts the praise card
there through the connector, recording the posted activity on the praise.

The demo organization: Alex Wilber manages Adele Vance and Isaiah Langer; Megan Bowen is HR. The bot is
installed in the Engineering team by Alex; Isaiah praises Adele from his 1:1 chat.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.connector import ConnectorPool
from bot.proactive import OutboxSender
from bot.routes import BOT
from domain.access import load_actor
from domain.performance import recognition
from storage import demo, outbox
from storage.models import OutboxMessage, Person, Praise, TeamChannel
from storage.uow import unit_of_work
from tests.support.connector import Recorded
from tests.support.teams import Card, TeamsChannel, TeamsClient, TeamsUser

pytestmark = pytest.mark.usefixtures("demo_org")

GENERAL = TeamsChannel(team_id="19:4f8a3b2c1d0e9f8a7b6c5d4e3f2a1b0c@thread.tacv2", team_name="Engineering")
DESIGN = TeamsChannel(
    team_id=GENERAL.team_id,
    team_name="Engineering",
    channel_id="19:9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f@thread.tacv2",
    channel_name="Design reviews",
)
CHANNEL = "channel"  # the form's input id


@pytest.fixture
async def chatting(demo_org, adele: TeamsUser, isaiah: TeamsUser, megan: TeamsUser) -> None:
    """They have a 1:1 chat with the bot, where forms and proactive cards go."""
    for user in (adele, isaiah, megan):
        await user.say("hi")


@pytest.fixture
async def installed(alex: TeamsUser) -> None:
    """Alex adds Trellis to the Engineering team: Teams sends installationUpdate in its General channel."""
    replies = await alex.install_in_team(GENERAL)
    assert len(replies) == 1, "one welcome post in the channel"


# --- helpers -------------------------------------------------------------------------------------------


async def channel_posts(trellis, connector, client: TeamsClient, channel: TeamsChannel) -> list[Recorded]:
    """Drain the outbox as the server's background job does; the posts the channel received (validated)."""
    mark = len(connector.requests)
    await trellis.app[BOT].sender.drain()
    posts = [
        r
        for r in connector.requests[mark:]
        if r.ok and r.kind == "send" and r.conversation_id == channel.conversation_id
    ]
    for post in posts:
        for attachment in post.body.get("attachments") or []:
            await client.validate(attachment["content"])
    return posts


def card_of(post: Recorded) -> Card:
    [attachment] = post.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return Card(attachment["content"], post.assigned_id)


async def rows(sessions, model, *where: Any) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def the_channel(sessions, channel: TeamsChannel) -> TeamChannel | None:
    async with sessions() as session:
        return await session.scalar(
            select(TeamChannel).where(TeamChannel.conversation_id == channel.conversation_id)
        )


def offered(form: Card) -> dict[str, str]:
    """The channel choices on a praise form: title → value (empty when the form offers none)."""
    field = form.inputs().get(CHANNEL)
    return {c["title"]: c["value"] for c in field["choices"]} if field else {}


async def praise_form(isaiah: TeamsUser, adele: TeamsUser) -> Card:
    [reply] = await isaiah.say("praise @Adele", mentions=(adele,))
    assert reply.card is not None and "Praise" in reply.card.text()
    return reply.card


async def define_badge(sessions, **options: Any) -> int:
    async with unit_of_work(sessions) as session:
        megan_id = await session.scalar(
            select(Person.id).where(Person.aad_object_id == demo.MEGAN.aad_object_id)
        )
        megan = await load_actor(session, megan_id)
        badge = await recognition.define_badge(session, actor=megan, now=datetime.now(UTC), **options)
    return badge.id


# --- the channel post ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("chatting", "installed")
async def test_praise_chosen_for_a_channel_is_posted_there_and_its_activity_recorded(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    form = await praise_form(isaiah, adele)
    channels = offered(form)
    assert list(channels) == ["Don't post it", "Engineering / General"]
    assert form.inputs()[CHANNEL]["value"] == "none", "nothing is posted unless chosen"

    sent = await isaiah.press(
        "Send praise",
        card=form,
        inputs={"text": "Shipped the release <b>on time</b>", CHANNEL: channels["Engineering / General"]},
    )
    assert "Praise sent" in sent.text() and "also posted in the channel" in sent.text()
    assert await rows(sessions, Praise) == 1
    assert await rows(sessions, TeamChannel) == 1

    [post] = await channel_posts(trellis, connector, isaiah.client, GENERAL)
    card = card_of(post)
    assert "Shipped the release <b>on time</b>" in card.texts(), "shown literally, never as markup"
    assert "Isaiah Langer → Adele Vance" in card.text().replace("\n", "")
    assert "Private" not in card.text() and "Praise sent" not in card.text()
    assert post.body["summary"] == "Isaiah Langer praised Adele Vance"
    assert post.body["conversation"]["id"] == GENERAL.conversation_id
    assert "recipient" not in post.body, "a channel post is for the whole channel"
    async with sessions() as session:
        praise = await session.scalar(select(Praise))
    assert praise.channel_conversation_id == GENERAL.conversation_id
    assert praise.channel_service_url == connector.service_url
    assert praise.channel_activity_id == post.assigned_id is not None

    # Adele is told in her own chat as well; a second drain posts nothing again.
    assert any(r.conversation_id == adele.conversation_id for r in connector.sent)
    assert await channel_posts(trellis, connector, isaiah.client, GENERAL) == []


@pytest.mark.usefixtures("chatting", "installed")
async def test_a_double_submit_posts_the_praise_once(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    form = await praise_form(isaiah, adele)
    inputs = {"text": "Thanks!", CHANNEL: offered(form)["Engineering / General"]}
    await isaiah.press("Send praise", card=form, inputs=inputs)
    again = await isaiah.press("Send praise", card=form, inputs=inputs)
    assert "Already sent" in again.text()
    assert len(await channel_posts(trellis, connector, isaiah.client, GENERAL)) == 1
    assert await rows(sessions, Praise) == 1


@pytest.mark.usefixtures("chatting")
async def test_without_an_install_the_form_offers_no_channel_and_nothing_is_posted(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector
) -> None:
    form = await praise_form(isaiah, adele)
    assert CHANNEL not in form.inputs()
    await isaiah.press("Send praise", card=form, inputs={"text": "Nice work"})
    await trellis.app[BOT].sender.drain()
    assert not [r for r in connector.sent if r.conversation_id.startswith("19:")], "no channel post"


# --- who may give what, and forged forms ---------------------------------------------------------------


@pytest.mark.usefixtures("chatting", "installed")
async def test_only_hr_can_give_an_official_badge_and_a_forged_one_writes_nothing(
    adele: TeamsUser, isaiah: TeamsUser, megan: TeamsUser, trellis, connector, sessions
) -> None:
    official = await define_badge(sessions, name="Values award", emoji="🏆", official=True)
    form = await praise_form(isaiah, adele)
    badges = {c["value"] for c in form.inputs()["badge"]["choices"]}
    assert str(official) not in badges, "the form offers only what he may give"

    general = offered(form)["Engineering / General"]
    refused = await isaiah.press(
        "Send praise", card=form, inputs={"text": "Our values", "badge": str(official), CHANNEL: general}
    )
    assert "Nothing was sent" in refused.text() and "only HR can give it" in refused.text()
    assert "Our values" in [i.get("value") for i in refused.inputs().values()], "what he typed is kept"
    assert await rows(sessions, Praise) == 0 and await rows(sessions, OutboxMessage) == 0
    assert await channel_posts(trellis, connector, isaiah.client, GENERAL) == []

    hr_form = await praise_form(megan, adele)
    assert str(official) in {c["value"] for c in hr_form.inputs()["badge"]["choices"]}
    await megan.press(
        "Send praise", card=hr_form, inputs={"text": "Our values", "badge": str(official), CHANNEL: general}
    )
    [post] = await channel_posts(trellis, connector, megan.client, GENERAL)
    assert "🏆 Values award" in card_of(post).texts()


@pytest.mark.usefixtures("chatting", "installed")
async def test_a_forged_channel_is_refused_and_nothing_is_written(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    # A channel the bot knows, but in another organization's tenant: never offered, never accepted.
    async with unit_of_work(sessions) as session:
        elsewhere = TeamChannel(
            conversation_id="19:elsewhere@thread.tacv2",
            service_url=connector.service_url,
            tenant_id="99999999-0000-0000-0000-000000000009",
            team_name="Fabrikam",
            installed_at=datetime.now(UTC),
        )
        session.add(elsewhere)
    form = await praise_form(isaiah, adele)
    assert "Fabrikam" not in offered(form)

    for forged in ("999999", str(elsewhere.id), GENERAL.conversation_id):
        refused = await isaiah.press("Send praise", card=form, inputs={"text": "Well done", CHANNEL: forged})
        assert "Nothing was sent" in refused.text(), forged
        assert "Trellis can't post in that channel" in refused.text(), forged
        assert refused.inputs()[CHANNEL]["value"] == "none", "a forged value is not put back in the form"
    assert await rows(sessions, Praise) == 0 and await rows(sessions, OutboxMessage) == 0
    await trellis.app[BOT].sender.drain()
    assert connector.sent == [] or all(r.conversation_id != elsewhere.conversation_id for r in connector.sent)


@pytest.mark.usefixtures("chatting", "installed")
async def test_private_praise_is_never_posted_in_a_channel(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    form = await praise_form(isaiah, adele)
    general = offered(form)["Engineering / General"]
    refused = await isaiah.press(
        "Send praise", card=form, inputs={"text": "Just between us", "private": "private", CHANNEL: general}
    )
    assert "Private praise isn't posted to a channel" in refused.text()
    values = {key: field.get("value") for key, field in refused.inputs().items()}
    assert values["text"] == "Just between us" and values["private"] == "private"
    assert values[CHANNEL] == general, "the form shows what was chosen, to change it"
    assert await rows(sessions, Praise) == 0 and await rows(sessions, OutboxMessage) == 0

    sent = await isaiah.press(
        "Send praise", card=refused, inputs={"text": "Just between us", "private": "private", CHANNEL: "none"}
    )
    assert "Praise sent" in sent.text() and "Private" in sent.text()
    assert await channel_posts(trellis, connector, isaiah.client, GENERAL) == []
    assert "Just between us" not in str(
        [r.body for r in connector.sent if r.conversation_id == GENERAL.team_id]
    )


# --- Teams says the bot is gone ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [403, 404])
@pytest.mark.usefixtures("chatting", "installed")
async def test_a_channel_that_refuses_the_post_is_marked_removed_and_not_retried(
    adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions, status
) -> None:
    form = await praise_form(isaiah, adele)
    await isaiah.press(
        "Send praise", card=form, inputs={"text": "Thanks", CHANNEL: offered(form)["Engineering / General"]}
    )
    connector.fail_next(1, status, path_contains=GENERAL.conversation_id)

    report = await trellis.app[BOT].sender.drain()

    assert report.dropped == 1 and report.retried == 0
    channel = await the_channel(sessions, GENERAL)
    assert channel.removed_at is not None
    async with sessions() as session:
        message = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "praise.channel"))
        praise = await session.scalar(select(Praise))
    assert message.status == outbox.DEAD and str(status) in message.last_error
    assert praise.channel_activity_id is None
    assert await channel_posts(trellis, connector, isaiah.client, GENERAL) == [], "never retried"
    assert CHANNEL not in (await praise_form(isaiah, adele)).inputs(), "no longer offered"


@pytest.mark.usefixtures("chatting", "installed")
async def test_removing_the_app_from_the_team_drops_queued_posts_without_calling_teams(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    form = await praise_form(isaiah, adele)
    await isaiah.press(
        "Send praise", card=form, inputs={"text": "Thanks", CHANNEL: offered(form)["Engineering / General"]}
    )
    mark = len(connector.requests)
    assert await alex.remove_from_team(GENERAL) == []

    assert (await the_channel(sessions, GENERAL)).removed_at is not None
    assert await channel_posts(trellis, connector, isaiah.client, GENERAL) == []
    assert not [r for r in connector.requests[mark:] if r.conversation_id == GENERAL.conversation_id]
    async with sessions() as session:
        message = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "praise.channel"))
    assert (message.status, message.last_error) == (outbox.DEAD, "the bot is not installed in that channel")

    # Reinstalled: the same channel is offered again.
    await alex.install_in_team(GENERAL)
    assert (await the_channel(sessions, GENERAL)).removed_at is None
    assert "Engineering / General" in offered(await praise_form(isaiah, adele))


# --- channels kept current from what reaches the bot ---------------------------------------------------


@pytest.mark.usefixtures("chatting", "installed")
async def test_a_message_in_another_channel_of_the_team_makes_it_a_choice(
    alex: TeamsUser, adele: TeamsUser, isaiah: TeamsUser, trellis, connector, sessions
) -> None:
    await alex.say_in_channel(DESIGN, "hello", thread=True)

    design = await the_channel(sessions, DESIGN)
    assert design is not None and design.removed_at is None
    assert design.conversation_id == DESIGN.channel_id, "the channel, not the thread the message was in"
    assert (design.team_id, design.team_name, design.channel_name) == (
        GENERAL.team_id,
        "Engineering",
        "Design reviews",
    )
    form = await praise_form(isaiah, adele)
    assert list(offered(form)) == ["Don't post it", "Engineering / Design reviews", "Engineering / General"]

    await isaiah.press(
        "Send praise",
        card=form,
        inputs={"text": "Great review", CHANNEL: offered(form)["Engineering / Design reviews"]},
    )
    [post] = await channel_posts(trellis, connector, isaiah.client, DESIGN)
    assert "Great review" in card_of(post).texts()


@pytest.mark.usefixtures("installed")
async def test_channel_messages_write_only_what_changed(alex: TeamsUser, sessions) -> None:
    before = await the_channel(sessions, GENERAL)
    await alex.say_in_channel(GENERAL, "hello")
    after = await the_channel(sessions, GENERAL)
    assert after.updated_at == before.updated_at, "nothing new: nothing written"

    renamed = TeamsChannel(team_id=GENERAL.team_id, team_name="Platform engineering")
    await alex.say_in_channel(renamed, "hello")
    assert (await the_channel(sessions, GENERAL)).team_name == "Platform engineering"
    assert await rows(sessions, TeamChannel) == 1


async def test_a_personal_install_records_no_channel(alex: TeamsUser, sessions) -> None:
    await alex.install()
    await alex.say("hello")
    assert await rows(sessions, TeamChannel) == 0


# --- the outbox's two kinds of target ------------------------------------------------------------------


async def test_a_message_goes_to_a_person_or_a_conversation_never_both(sessions) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError):
            await outbox.enqueue(
                session, kind="x", payload={}, now=datetime.now(UTC), person_id=1, conversation_id="19:a"
            )


async def test_a_channel_on_an_untrusted_host_is_never_called(sessions, connector) -> None:
    """The channel path sends the bot's token only where the person path does: the pool's trusted hosts."""

    async def no_token() -> str | None:
        return None

    async with unit_of_work(sessions) as session:
        session.add(
            TeamChannel(
                conversation_id=GENERAL.conversation_id,
                service_url=connector.service_url,  # http://127.0.0.1: not a Teams host
                tenant_id=demo.DEMO_TENANT_ID,
                installed_at=datetime.now(UTC),
            )
        )
        await outbox.enqueue(
            session,
            kind="praise.channel",
            conversation_id=GENERAL.conversation_id,
            payload={"text": "hello"},
            now=datetime.now(UTC),
        )
    pool = ConnectorPool(token=no_token, allowed_hosts=("smba.trafficmanager.net",))
    try:
        report = await OutboxSender(sessions=sessions, pool=pool, clock=lambda: datetime.now(UTC)).drain()
    finally:
        await pool.close()

    assert report.dropped == 1 and connector.requests == []
    async with sessions() as session:
        message = await session.scalar(select(OutboxMessage))
    assert message.status == outbox.DEAD and "refusing to call serviceUrl host" in message.last_error

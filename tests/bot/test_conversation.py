"""Chatting with the bot as Teams does: install, greet, ask for help, press buttons."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage.models import ConversationRef, Person
from tests.support.teams import TeamsUser, fixture

pytestmark = __import__("pytest").mark.usefixtures("demo_org")


async def test_a_seeded_person_gets_the_reply_at_the_connector(alex: TeamsUser, connector) -> None:
    replies = await alex.say("help")

    assert len(replies) == 1, "one message per command"
    sent = connector.sent[-1]
    # A reply goes to /v3/conversations/{id}/activities/{replyToId}: the id of the activity it answers.
    assert sent.conversation_id == alex.conversation_id
    assert sent.activity_id is not None
    card = replies[0].card
    assert card is not None and "help" in card.text().lower()
    assert sent.authorization is None, "local development mode sends no token"


async def test_install_greets_once_and_never_again(alex: TeamsUser) -> None:
    first = await alex.install()  # installationUpdate + conversationUpdate, as Teams sends them
    welcomes = [r for r in first if r.card and "Trellis" in r.card.text()]
    assert len(welcomes) == 1
    assert "Alex" in welcomes[0].card.text()

    again = await alex.install()
    assert again == [], "a repeated install event must not welcome twice"
    help_reply = await alex.say("help")
    assert "Welcome" not in help_reply[0].card.text()


async def test_install_that_adds_the_person_too_greets_once(alex: TeamsUser, connector) -> None:
    """The Agents Playground (and Teams, at times) lists the person beside the bot in membersAdded; the
    SDK then looks the person up through the connector, which must answer as the SDK expects."""
    connector.add_member(alex.user_id, alex.name, alex.aad_object_id, alex.client.tenant_id)
    added = alex.activity("conversation_update_members_added_personal")
    added["membersAdded"].append({"id": alex.user_id, "aadObjectId": alex.aad_object_id})
    _, from_members = await alex.send(added)
    _, from_install = await alex.send(alex.activity("installation_update_personal"))
    replies = from_members + from_install
    assert len(replies) == 1, [r.card.text() if r.card else r.text for r in replies]
    assert "Welcome to Trellis" in replies[0].card.text()


async def test_reinstalling_after_removal_welcomes_again(alex: TeamsUser) -> None:
    await alex.install()
    await alex.uninstall()
    replies = await alex.install()
    assert len([r for r in replies if r.card]) == 1


async def test_welcome_tells_a_manager_what_managers_can_do_and_an_employee_not(
    alex: TeamsUser, adele: TeamsUser
) -> None:
    manager_card = (await alex.install())[0].card
    employee_card = (await adele.install())[0].card
    assert "manager" in manager_card.text().lower()
    assert manager_card.text() != employee_card.text()
    assert "As a manager" not in employee_card.text()


async def test_the_welcome_button_shows_help_through_action_execute(alex: TeamsUser) -> None:
    await alex.install()
    help_card = await alex.press("Show help")
    assert "help" in help_card.text().lower()


async def test_greetings_thanks_and_help_each_get_one_sensible_reply(alex: TeamsUser) -> None:
    for text in ("hi", "hello", "help", "HELP", "thanks"):
        replies = await alex.say(text)
        assert len(replies) == 1, f"{text!r} got {len(replies)} replies"
        reply = replies[0]
        assert reply.card is not None or (reply.text and reply.text.strip()), f"{text!r} got an empty reply"


async def test_unknown_input_gets_help_that_quotes_it(alex: TeamsUser) -> None:
    replies = await alex.say('make me a sandwich {{"quoted"}}')
    assert len(replies) == 1
    text = replies[0].card.text()
    assert 'make me a sandwich {{"quoted"}}' in text.replace("\u2060", "")
    # The way forward: the commands the person can type, with what each does.
    assert "Show what Trellis can do" in text


async def test_someone_not_in_the_directory_is_told_what_to_ask_hr(teams) -> None:
    stranger = teams.user(aad_object_id="5b0a1d7e-8c4f-4e2a-9b3d-6f1e2a3c4d5e", name="Pat Stranger")
    replies = await stranger.say("help")
    assert len(replies) == 1
    text = replies[0].card.text()
    assert "HR" in text
    assert "Traceback" not in text


async def test_sender_without_aad_object_id_is_found_through_the_member_lookup(teams, connector) -> None:
    # Some clients omit aadObjectId; the connector's member record carries it.
    nameless = teams.user(aad_object_id=None, name="Alex Wilber")
    connector.add_member(
        nameless.user_id, "Alex Wilber", "00000000-0000-0000-0000-0000000000020", teams.tenant_id
    )
    replies = await nameless.say("help")
    assert "directory" not in replies[0].card.text().lower()
    assert any(r.method == "GET" and "/members/" in r.path for r in connector.requests)


async def test_a_teams_retry_of_the_same_activity_is_answered_once(alex: TeamsUser, teams, connector) -> None:
    activity = alex.activity("message_personal", text="help")
    await teams.post(activity)
    await teams.post(json.loads(json.dumps(activity)))
    assert len(connector.sent) == 1


async def test_every_turn_keeps_the_persons_conversation_reference(alex: TeamsUser, sessions) -> None:
    await alex.say("hello")
    async with sessions() as session:
        ref = await session.scalar(
            select(ConversationRef).join(Person).where(Person.aad_object_id == alex.aad_object_id)
        )
    assert ref is not None
    assert ref.conversation_id == alex.conversation_id
    assert ref.user_id == alex.user_id
    assert ref.service_url == alex.client.connector.service_url


async def test_team_install_posts_once_in_the_channel_and_messages_nobody_privately(
    alex: TeamsUser, connector
) -> None:
    activity = alex.activity("installation_update_team")
    _, replies = await alex.send(activity)
    assert len(replies) == 1
    assert connector.sent[-1].conversation_id == activity["conversation"]["id"]
    assert connector.created_conversations == []
    await alex.send(json.loads(json.dumps(activity)))  # Teams retry
    assert len(connector.sent) == 1


async def test_invoke_over_http_answers_200_with_the_card(alex: TeamsUser, teams) -> None:
    """Regression for botbuilder-python #2235: the stock adapter answered every invoke with 500."""
    invoke = alex.activity("invoke_adaptive_card_action")
    async with teams.http.post(teams.endpoint, json=invoke) as response:
        assert response.status == 200
        assert response.content_type == "application/json"
        body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    await teams.validate(body["value"])


async def test_an_invoke_without_a_verb_gets_an_error_card_and_writes_nothing(
    alex: TeamsUser, teams, sessions
) -> None:
    async with sessions() as session:
        before = await session.scalar(select(func.count()).select_from(ConversationRef))
    invoke = alex.activity("invoke_adaptive_card_action")
    invoke["value"] = {"action": {"type": "Action.Execute"}, "trigger": "manual"}
    async with teams.http.post(teams.endpoint, json=invoke) as response:
        body = await response.json()
    assert response.status == 200
    await teams.validate(body["value"])
    assert "try again" in json.dumps(body["value"]).lower()
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ConversationRef)) == before


async def test_an_unknown_verb_says_the_button_no_longer_works(alex: TeamsUser, teams) -> None:
    invoke = alex.activity("invoke_adaptive_card_action")
    invoke["value"]["action"]["verb"] = "launchRocket"
    async with teams.http.post(teams.endpoint, json=invoke) as response:
        body = await response.json()
    assert "no longer" in json.dumps(body["value"])


async def test_action_submit_replaces_the_card_in_place(alex: TeamsUser, connector) -> None:
    await alex.say("help")
    card_id = alex.last_card().activity_id
    submit = alex.activity("message_personal", replyToId=card_id, value={"verb": "help"})
    submit.pop("text")
    await alex.client.post(submit)
    update = connector.updates[-1]
    assert update.method == "PUT"
    assert update.activity_id == card_id


async def test_a_failing_turn_tells_the_person_without_internals(
    alex: TeamsUser, connector, monkeypatch
) -> None:
    import bot.handler

    def explode(_text: str) -> None:
        raise RuntimeError("secret internal detail: db password hunter2")

    monkeypatch.setattr(bot.handler, "parse", explode)
    await alex.client.post(alex.activity("message_personal", text="help"))
    body = json.dumps(connector.sent[-1].body)
    assert "went wrong" in body
    assert "hunter2" not in body and "Traceback" not in body


async def test_a_body_that_is_not_an_activity_gets_400(teams) -> None:
    async with teams.http.post(
        teams.endpoint, data=b"not json", headers={"Content-Type": "application/json"}
    ) as r:
        assert r.status == 400
    async with teams.http.post(teams.endpoint, json={"text": "no type"}) as r:
        assert r.status == 400
    assert fixture("message_personal")["type"] == "message"


async def test_a_new_conversation_for_the_same_person_replaces_the_stored_one(
    alex: TeamsUser, sessions
) -> None:
    await alex.say("hello")
    alex.conversation_id = "a:1" + "f" * 60  # Teams gave Alex a new 1:1 chat (e.g. after a reinstall)
    await alex.say("hello")
    async with sessions() as session:
        ref = await session.scalar(
            select(ConversationRef).join(Person).where(Person.aad_object_id == alex.aad_object_id)
        )
    assert ref.conversation_id == alex.conversation_id


async def test_a_command_about_people_typed_in_a_channel_is_answered_only_in_the_1_1_chat(
    alex: TeamsUser, teams
) -> None:
    """`goals` in a channel would post someone's goals for the whole team to read."""
    channel = {"conversationType": "channel", "id": "19:general@thread.tacv2", "tenantId": teams.tenant_id}
    bot = {"id": alex.activity("message_personal")["recipient"]["id"], "name": "Trellis"}
    mention = {"type": "mention", "text": "<at>Trellis</at>", "mentioned": bot}
    activity = alex.activity(
        "message_personal", text="<at>Trellis</at> goals", conversation=channel, entities=[mention]
    )

    _, replies = await alex.send(activity)

    (reply,) = replies
    assert "answer that in our 1:1 chat" in reply.card.text()
    assert "Your goals" not in reply.card.text()

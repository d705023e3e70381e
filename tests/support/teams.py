"""A Teams client for tests: sends exactly the activities Teams sends, and reads what the bot answered.

Activities are built from the real Teams JSON in tests/fixtures/activities, with only the ids, text,
people and serviceUrl changed. Every card the bot sends back is validated with the real Adaptive Cards
renderer before a test sees it.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.cards import CardValidator, validate_card
from tests.support.connector import ConnectorStandIn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activities"
BOT_ID = "28:6e1a7f8c-2b1d-4f3e-9a7b-0c5d4e3f2a10"
CARD = "application/vnd.microsoft.card.adaptive"
_ids = itertools.count(1)


def fixture(name: str) -> dict[str, Any]:
    """A fresh copy of a recorded Teams activity."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class Card:
    """A card as the person sees it in the chat, with the message id Teams gave it."""

    content: dict[str, Any]
    activity_id: str | None

    def texts(self) -> list[str]:
        """Every text on the card, in order (TextBlocks, TextRuns, facts, button titles)."""
        return list(_texts(self.content))

    def text(self) -> str:
        return "\n".join(self.texts())

    def actions(self) -> list[dict[str, Any]]:
        return list(_actions(self.content))

    def action(self, title: str) -> dict[str, Any]:
        for action in self.actions():
            if action.get("title") == title:
                return action
        raise AssertionError(
            f"no button {title!r} on the card; buttons: {[a.get('title') for a in self.actions()]}"
        )

    def inputs(self) -> dict[str, dict[str, Any]]:
        return {
            el["id"]: el for el in _elements(self.content) if str(el.get("type", "")).startswith("Input.")
        }


@dataclass
class Reply:
    """One activity the bot sent to the connector."""

    activity: dict[str, Any]
    activity_id: str | None

    @property
    def text(self) -> str | None:
        return self.activity.get("text")

    @property
    def card(self) -> Card | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == CARD:
                return Card(attachment["content"], self.activity_id)
        return None


@dataclass
class Dialog:
    """What Teams got back for an action command: a dialog card, a short message, or `{}` (it closed)."""

    body: dict[str, Any]
    command_id: str
    message: dict[str, Any]  # the messagePayload the command was run on

    @property
    def kind(self) -> str | None:
        """ "continue" (a card), "message", or None when the answer closed the dialog."""
        return (self.body.get("task") or {}).get("type")

    @property
    def title(self) -> str | None:
        return self.body["task"]["value"].get("title") if self.kind == "continue" else None

    @property
    def card(self) -> Card | None:
        return Card(self.body["task"]["value"]["card"]["content"], None) if self.kind == "continue" else None

    @property
    def text(self) -> str | None:
        """The message Teams shows in place of a card."""
        return self.body["task"]["value"] if self.kind == "message" else None


@dataclass
class TeamsClient:
    """Plays the Teams service towards one bot endpoint."""

    http: aiohttp.ClientSession
    endpoint: str
    connector: ConnectorStandIn
    validator: CardValidator | None
    tenant_id: str = "00000000-0000-0000-0000-0000000000001"

    def user(self, *, aad_object_id: str | None, name: str) -> TeamsUser:
        """Someone using Teams; their 1:1 chat with the bot has a stable id, as in Teams."""
        digest = hashlib.sha256(f"{aad_object_id}:{name}".encode()).hexdigest()
        return TeamsUser(
            self, aad_object_id, name, user_id=f"29:1{digest[:40]}", conversation_id=f"a:1{digest[:60]}"
        )

    async def post(
        self, activity: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> aiohttp.ClientResponse:
        """POST an activity to the bot endpoint the way Teams does; returns the (read) response."""
        async with self.http.post(self.endpoint, json=activity, headers=headers or {}) as response:
            await response.read()
            return response

    async def validate(self, card: dict[str, Any]) -> None:
        """Every card the bot sends must pass the Store rules and render in the real renderer."""
        await validate_card(card, self.validator)


@dataclass(frozen=True)
class TeamsChannel:
    """A channel of a team, as Teams names it in activities: the General channel's id is the team's id,
    and Teams sends a channel's name only for channels other than General."""

    team_id: str
    team_name: str
    channel_id: str | None = None  # None: the team's General channel
    channel_name: str | None = None
    aad_group_id: str = "7d2b6f0e-4c3a-4b1e-9f8d-1a2b3c4d5e6f"

    @property
    def conversation_id(self) -> str:
        """The channel's conversation id: where a new post in it goes."""
        return self.channel_id or self.team_id

    def channel_data(self) -> dict[str, Any]:
        channel: dict[str, Any] = {"id": self.conversation_id}
        if self.channel_name is not None:
            channel["name"] = self.channel_name
        team = {"aadGroupId": self.aad_group_id, "name": self.team_name, "id": self.team_id}
        return {"channel": channel, "team": team}


@dataclass
class TeamsUser:
    """A person in their 1:1 chat with the bot."""

    client: TeamsClient
    aad_object_id: str | None
    name: str
    user_id: str
    conversation_id: str
    cards: list[Card] = field(default_factory=list)

    # --- what Teams sends ------------------------------------------------------------------------------

    def activity(self, template: str, **overrides: Any) -> dict[str, Any]:
        """A Teams activity from this person in their 1:1 chat."""
        activity = fixture(template)
        now = datetime.now(UTC)
        activity["id"] = (
            f"f:{next(_ids):08d}-{now.timestamp():.0f}"
            if template != "message_personal"
            else str(int(now.timestamp() * 1000) * 1000 + next(_ids))
        )
        activity["timestamp"] = now.isoformat().replace("+00:00", "Z")
        activity["serviceUrl"] = self.client.connector.service_url
        activity["from"] = {"id": self.user_id, "name": self.name}
        if self.aad_object_id is not None:
            activity["from"]["aadObjectId"] = self.aad_object_id
        if activity["conversation"].get("conversationType") == "personal":
            activity["conversation"]["id"] = self.conversation_id
        activity["conversation"]["tenantId"] = self.client.tenant_id
        activity["channelData"]["tenant"]["id"] = self.client.tenant_id
        activity["recipient"]["id"] = BOT_ID
        activity.update(overrides)
        return activity

    async def send(self, activity: dict[str, Any]) -> tuple[aiohttp.ClientResponse, list[Reply]]:
        """Send any activity; return the HTTP response and what the bot sent to the connector meanwhile."""
        before = len(self.client.connector.requests)
        response = await self.client.post(activity)
        replies = [
            Reply(rec.body, rec.assigned_id)
            for rec in self.client.connector.requests[before:]
            if rec.method == "POST" and rec.ok and rec.activity is not None
        ]
        for reply in replies:
            if reply.card is not None:
                await self.client.validate(reply.card.content)
                self.cards.append(reply.card)
        return response, replies

    async def say(self, text: str, *, mentions: tuple[TeamsUser, ...] = ()) -> list[Reply]:
        """Type a message (optionally @mentioning people, as Teams encodes mentions)."""
        entities = [*fixture("message_personal")["entities"]]
        for person in mentions:
            tag = f"<at>{person.name}</at>"
            if tag not in text:
                text = f"{text} {tag}"
            entities.append(
                {"type": "mention", "text": tag, "mentioned": {"id": person.user_id, "name": person.name}}
            )
        response, replies = await self.send(self.activity("message_personal", text=text, entities=entities))
        assert response.status in (200, 201), f"bot endpoint answered {response.status}"
        return replies

    async def install(self) -> list[Reply]:
        """Add the app for yourself: Teams sends installationUpdate and conversationUpdate."""
        _, first = await self.send(self.activity("installation_update_personal"))
        _, second = await self.send(self.activity("conversation_update_members_added_personal"))
        return first + second

    async def uninstall(self) -> list[Reply]:
        activity = self.activity("installation_update_personal")
        activity["action"] = "remove"
        _, replies = await self.send(activity)
        return replies

    # --- team channels -----------------------------------------------------------------------------

    def in_channel(self, template: str, channel: TeamsChannel, **overrides: Any) -> dict[str, Any]:
        """A Teams activity from this person in a team channel, with the channelData Teams sends there."""
        activity = self.activity(template, **overrides)
        activity["conversation"] = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": self.client.tenant_id,
            "id": channel.conversation_id,
        }
        tenant = {"id": self.client.tenant_id}
        activity["channelData"] = {**activity["channelData"], **channel.channel_data(), "tenant": tenant}
        if "settings" in activity["channelData"]:
            activity["channelData"]["settings"] = {"selectedChannel": {"id": channel.conversation_id}}
        return activity

    async def install_in_team(self, channel: TeamsChannel) -> list[Reply]:
        """Add the app to the channel's team: Teams sends installationUpdate in the channel."""
        _, replies = await self.send(self.in_channel("installation_update_team", channel))
        return replies

    async def remove_from_team(self, channel: TeamsChannel) -> list[Reply]:
        activity = self.in_channel("installation_update_team", channel)
        activity["action"] = "remove"
        _, replies = await self.send(activity)
        return replies

    async def say_in_channel(self, channel: TeamsChannel, text: str, *, thread: bool = False) -> list[Reply]:
        """Post in the channel, @mentioning the bot as channels require; `thread`: as a reply in a thread,
        whose conversation id Teams suffixes with the thread's root message id."""
        tag = "<at>Trellis</at>"
        mention = {"type": "mention", "text": tag, "mentioned": {"id": BOT_ID, "name": "Trellis"}}
        activity = self.in_channel("message_personal", channel, text=f"{tag} {text}", entities=[mention])
        if thread:
            activity["conversation"]["id"] = f"{channel.conversation_id};messageid={activity['id']}"
        response, replies = await self.send(activity)
        assert response.status in (200, 201), f"bot endpoint answered {response.status}"
        return replies

    # --- message actions ("..." on a message → an action command) -------------------------------------

    def message(self, html: str | None = None, *, message_id: str | None = None) -> dict[str, Any]:
        """A chat message this person wrote, as Teams puts it in an action command's messagePayload.

        Without html, the recorded message body and its mentions; with html, that body and no mentions."""
        payload = fixture("invoke_compose_extension_fetch_task")["value"]["messagePayload"]
        payload["id"] = message_id or str(int(datetime.now(UTC).timestamp() * 1000) * 1000 + next(_ids))
        payload["from"]["user"] = {
            "userIdentityType": "aadUser",
            "id": self.aad_object_id,
            "displayName": self.name,
        }
        if html is not None:
            payload["body"]["content"] = html
            payload["mentions"] = []
        return payload

    async def open_message_action(self, command_id: str, message: dict[str, Any] | None = None) -> Dialog:
        """Pick an action command in a message's "..." menu: Teams sends composeExtension/fetchTask."""
        invoke = self.activity("invoke_compose_extension_fetch_task")
        invoke["value"]["commandId"] = command_id
        if message is not None:
            invoke["value"]["messagePayload"] = message
        return await self.send_message_action(invoke)

    async def submit_message_action(
        self, dialog: Dialog, title: str, *, inputs: dict[str, Any] | None = None
    ) -> Dialog:
        """Fill the dialog card's inputs and press its Action.Submit: Teams sends submitAction."""
        assert dialog.card is not None, f"the dialog shows no card: {dialog.body}"
        action = dialog.card.action(title)
        assert action["type"] == "Action.Submit", f"{title!r} is an {action['type']}; dialogs submit"
        values = _fill(dialog.card, inputs or {})
        invoke = self.activity("invoke_compose_extension_submit_action")
        invoke["value"].update(
            commandId=dialog.command_id,
            messagePayload=dialog.message,
            data={**(action.get("data") or {}), **values},
        )
        return await self.send_message_action(invoke)

    async def send_message_action(self, invoke: dict[str, Any]) -> Dialog:
        """POST a fetchTask/submitAction invoke; the answer must be a 200 in a real dialog shape."""
        response = await self.client.http.post(self.client.endpoint, json=invoke)
        async with response:
            assert response.status == 200, f"invoke answered {response.status}: {await response.text()}"
            body = await response.json()
        dialog = Dialog(body, invoke["value"].get("commandId"), invoke["value"].get("messagePayload"))
        assert body == {} or dialog.kind in ("continue", "message"), f"not a dialog answer: {body}"
        if dialog.kind == "continue":
            card = body["task"]["value"]["card"]
            assert card["contentType"] == CARD, f"a dialog shows an Adaptive Card: {card}"
            await self.client.validate(card["content"])
        return dialog

    # --- cards -----------------------------------------------------------------------------------------

    def last_card(self) -> Card:
        assert self.cards, "the bot has not sent this person a card"
        return self.cards[-1]

    async def press(
        self, title: str, *, card: Card | None = None, inputs: dict[str, Any] | None = None
    ) -> Card:
        """Press a button on a card after filling its inputs; return the card that replaces it."""
        card = card or self.last_card()
        action = card.action(title)
        values = _fill(card, inputs or {})
        if action["type"] == "Action.Execute":
            return await self._execute(card, action, values)
        if action["type"] == "Action.Submit":
            return await self._submit(card, action, values)
        raise AssertionError(f"{title!r} is an {action['type']}, which does not reach the bot")

    async def _execute(self, card: Card, action: dict[str, Any], values: dict[str, Any]) -> Card:
        invoke = self.activity("invoke_adaptive_card_action")
        invoke["replyToId"] = card.activity_id
        invoke["value"] = {
            "action": {
                "type": "Action.Execute",
                "title": action.get("title"),
                "verb": action.get("verb"),
                "data": {**(action.get("data") or {}), **values},
            },
            "trigger": "manual",
        }
        response = await self.client.http.post(self.client.endpoint, json=invoke)
        async with response:
            assert response.status == 200, f"invoke answered {response.status}: {await response.text()}"
            body = await response.json()
        assert body.get("statusCode") == 200 and body.get("type") == CARD, (
            f"not a card invoke response: {body}"
        )
        await self.client.validate(body["value"])
        new = Card(body["value"], card.activity_id)
        self.cards.append(new)
        return new

    async def _submit(self, card: Card, action: dict[str, Any], values: dict[str, Any]) -> Card:
        message = self.activity(
            "message_personal", replyToId=card.activity_id, value={**(action.get("data") or {}), **values}
        )
        message.pop("text", None)
        before = len(self.client.connector.requests)
        response = await self.client.post(message)
        assert response.status in (200, 201), f"submit answered {response.status}"
        changed = [r for r in self.client.connector.requests[before:] if r.ok and r.activity is not None]
        assert changed, "the bot did not answer the submit"
        content = Reply(changed[-1].body, card.activity_id).card
        assert content is not None, f"the bot answered the submit without a card: {changed[-1].body}"
        await self.client.validate(content.content)
        self.cards.append(content)
        return content


def _fill(card: Card, inputs: dict[str, Any]) -> dict[str, Any]:
    """What Teams merges into the action data: every input's value, checked like the client checks it."""
    declared = card.inputs()
    unknown = set(inputs) - set(declared)
    assert not unknown, f"the card has no inputs {sorted(unknown)}; it has {sorted(declared)}"
    values = {key: el.get("value") for key, el in declared.items() if el.get("value") is not None}
    values.update({key: value for key, value in inputs.items()})
    missing = [key for key, el in declared.items() if el.get("isRequired") and values.get(key) in (None, "")]
    assert not missing, f"Teams would block this submit: required inputs {missing} are empty"
    return values


def _elements(node: Any) -> Any:
    if isinstance(node, dict):
        if "type" in node:
            yield node
        for key, value in node.items():
            if key not in ("data", "selectAction"):
                yield from _elements(value)
    elif isinstance(node, list):
        for item in node:
            yield from _elements(item)


def _actions(card: dict[str, Any]) -> Any:
    for element in _elements(card):
        if str(element.get("type", "")).startswith("Action."):
            yield element


def _texts(card: dict[str, Any]) -> Any:
    for element in _elements(card):
        kind = element.get("type")
        if kind in ("TextBlock", "TextRun") and element.get("text"):
            yield element["text"]
        elif kind == "FactSet":
            for fact in element.get("facts", []):
                yield f"{fact.get('title')} {fact.get('value')}"
        elif str(kind).startswith("Action.") and element.get("title"):
            yield element["title"]


def clone(activity: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, for sending the same activity twice (a Teams retry)."""
    return copy.deepcopy(activity)

"""Our JSON ↔ model conversion must produce exactly what the SDK's msrest serializer does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botbuilder.schema import Activity

from bot.wire import from_json, to_json

FIXTURES = sorted((Path(__file__).resolve().parents[1] / "fixtures" / "activities").glob("*.json"))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_reading_a_teams_activity_matches_msrest(path: Path) -> None:
    body = json.loads(path.read_text())
    ours, sdk = from_json(Activity, body), Activity().deserialize(body)
    assert to_json(ours) == sdk.serialize()
    assert ours.from_property.aad_object_id == sdk.from_property.aad_object_id
    assert ours.conversation.tenant_id == sdk.conversation.tenant_id
    assert ours.timestamp == sdk.timestamp


def test_mentions_keep_their_extra_fields_like_msrest() -> None:
    body = json.loads(FIXTURES[0].read_text()) | {
        "entities": [
            {"type": "mention", "text": "<at>Trellis</at>", "mentioned": {"id": "28:bot", "name": "Trellis"}}
        ]
    }
    ours, sdk = from_json(Activity, body), Activity().deserialize(body)
    assert ours.entities[0].additional_properties == sdk.entities[0].additional_properties
    assert ours.entities[0].additional_properties["mentioned"]["id"] == "28:bot"


def test_writing_a_reply_matches_msrest() -> None:
    body = json.loads((FIXTURES[0].parent / "message_personal.json").read_text())
    reply = Activity().deserialize(body).create_reply("hello")
    reply.attachments = []
    assert to_json(reply) == reply.serialize()

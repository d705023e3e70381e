"""Wrapping card dicts into what Teams expects: a message attachment or an invoke response."""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse
from botbuilder.schema import Activity, ActivityTypes, Attachment

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def card_activity(card: dict[str, Any]) -> Activity:
    """A message carrying one Adaptive Card."""
    return Activity(
        type=ActivityTypes.message, attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)]
    )


def card_invoke_response(card: dict[str, Any]) -> InvokeResponse:
    """The answer to an `adaptiveCard/action` invoke that replaces the card in place."""
    return InvokeResponse(status=200, body={"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card})

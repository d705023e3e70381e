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


# Dialogs (task modules), as answers to message action invokes. Built as plain dicts: the SDK's
# MessagingExtensionActionResponse would go through msrest, which the adapter deliberately skips.


def dialog_card_response(
    card: dict[str, Any], *, title: str, width: str | int = "medium", height: str | int = "medium"
) -> InvokeResponse:
    """Open the dialog, or keep it open, showing one Adaptive Card (a task `continue` response)."""
    value = {
        "title": title,
        "height": height,
        "width": width,
        "card": {"contentType": CARD_CONTENT_TYPE, "content": card},
    }
    return InvokeResponse(status=200, body={"task": {"type": "continue", "value": value}})


def dialog_message_response(message: str) -> InvokeResponse:
    """Show a short message in a small dialog instead of a card (a task `message` response)."""
    return InvokeResponse(status=200, body={"task": {"type": "message", "value": message}})


def dialog_closed_response() -> InvokeResponse:
    """Close the dialog without a word: the submit was accepted."""
    return InvokeResponse(status=200, body={})

"""What the outbox delivered: drain it as the server's background job does, then read the connector."""

from __future__ import annotations

from typing import Any

from bot.routes import BOT
from tests.support.connector import ConnectorStandIn
from tests.support.teams import Card, TeamsUser


async def delivered(trellis: Any, connector: ConnectorStandIn, user: TeamsUser, since: int) -> list[Card]:
    """Drain the outbox, then the cards sent to the person's 1:1 chat since request `since` (validated,
    and kept as the person's latest cards)."""
    await trellis.app[BOT].sender.drain()
    cards = []
    for record in connector.requests[since:]:
        if record.ok and record.kind == "send" and record.conversation_id == user.conversation_id:
            for attachment in record.body.get("attachments") or []:
                card = Card(attachment["content"], record.assigned_id)
                await user.client.validate(card.content)
                user.cards.append(card)
                cards.append(card)
    return cards

"""Who is talking: the Teams user behind an activity, as a person in the directory."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity
from sqlalchemy.ext.asyncio import AsyncSession

from bot.connector import ConnectorError, FastConnectorClient
from domain.access import Actor, actor_for_teams_user

log = logging.getLogger(__name__)


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant the activity came from."""
    if activity.conversation is not None and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    tenant = (activity.channel_data or {}).get("tenant") if isinstance(activity.channel_data, dict) else None
    return tenant.get("id") if isinstance(tenant, dict) else None


async def resolve_actor(session: AsyncSession, context: TurnContext) -> Actor | None:
    """The sender as an Actor, or None when they are not in the directory."""
    activity = context.activity
    sender = activity.from_property
    aad_object_id = getattr(sender, "aad_object_id", None) if sender else None
    if not aad_object_id and sender is not None and sender.id:
        aad_object_id = await _member_lookup(context, sender.id)
    if not aad_object_id:
        return None
    return await actor_for_teams_user(session, tenant_id=tenant_of(activity), aad_object_id=aad_object_id)


async def _member_lookup(context: TurnContext, user_id: str) -> str | None:
    # Some activities (and some clients) omit aadObjectId; the connector's member record carries it.
    client = context.turn_state.get(context.adapter.BOT_CONNECTOR_CLIENT_KEY)
    if not isinstance(client, FastConnectorClient) or context.activity.conversation is None:
        return None
    try:
        member = await client.conversations.get_conversation_member(context.activity.conversation.id, user_id)
    except ConnectorError as error:
        log.info("member lookup for %s failed: %s", user_id, error)
        return None
    return member.aad_object_id

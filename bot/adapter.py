"""The CloudAdapter, with the invoke-response fix and a turn-error policy."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, TurnContext
from botbuilder.core.serializer_helper import serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from adaptive_cards import error_card
from bot.auth import TrellisAuthentication
from bot.cards import card_activity
from bot.wire import from_json

log = logging.getLogger(__name__)

_JSON_SCALARS = (dict, list, str, int, float, bool, type(None))


class TrellisAdapter(CloudAdapter):
    """CloudAdapter whose `process` writes invoke bodies correctly (botbuilder-python issue #2235)."""

    def __init__(self, auth: TrellisAuthentication) -> None:
        super().__init__(auth)
        self.auth = auth
        self.on_turn_error = self._on_turn_error

    async def process(self, request: web.Request, bot: Bot, ws_response: Any = None) -> web.Response:
        """Authenticate and run one incoming activity; answer 201, or the invoke's status and body."""
        if request.method != "POST":
            raise web.HTTPMethodNotAllowed(request.method, ["POST"])
        if "application/json" not in request.headers.get("Content-Type", ""):
            raise web.HTTPUnsupportedMediaType(text="Send the activity as application/json.")
        try:
            body = await request.json()
        except ValueError:
            raise web.HTTPBadRequest(text="The body is not valid JSON.") from None
        if not isinstance(body, dict) or not body.get("type"):
            raise web.HTTPBadRequest(text="The body is not a Bot Framework activity (no type).")
        activity = from_json(Activity, body)
        try:
            invoke_response = await self.process_activity(
                request.headers.get("Authorization", ""), activity, bot.on_turn
            )
        except PermissionError:
            raise web.HTTPUnauthorized(text="The request's token was missing or not valid.") from None
        if invoke_response is None:
            return web.Response(status=201)
        # The SDK's handlers already serialize invoke bodies into dicts; serializing those a second
        # time is what answered 500 for every Action.Execute in the stock adapter.
        payload = invoke_response.body
        if not isinstance(payload, _JSON_SCALARS):
            payload = serializer_helper(payload)
        return web.Response(
            status=invoke_response.status,
            body=json.dumps(payload).encode() if payload is not None else None,
            content_type="application/json",
        )

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        # The trace goes to the log; the person gets a plain sentence, never internals.
        log.exception("turn failed for activity %s", context.activity.id, exc_info=error)
        if context.activity.type == "invoke":
            return
        try:
            await context.send_activity(
                card_activity(
                    error_card(message="Sorry, something went wrong on our side. Please try again.")
                )
            )
        except Exception:  # the connector itself may be what failed
            log.exception("could not tell the person about the failed turn")

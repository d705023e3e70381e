"""A Bot Connector client on one shared aiohttp session.

botbuilder's ConnectorClient (msrest) rebuilds a retry policy on every construction (~5 ms of CPU, twice a
turn) and sends through `requests` in a thread pool with a new connection each time. This client keeps
the same method names the SDK's adapter calls (`conversations.reply_to_activity`, ...), so it plugs in
behind the SDK's ConnectorFactory seam and nothing else in the SDK changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlparse

import aiohttp
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationResourceResponse,
    ResourceResponse,
)

from bot.wire import to_json

log = logging.getLogger(__name__)

TokenSource = Callable[[], Awaitable[str | None]]
BLOCKED_CODES = ("ConversationBlockedByUser", "MessageWritesBlocked")


class ConnectorError(Exception):
    """The connector answered with an error status."""

    def __init__(self, status: int, code: str | None, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"connector answered {status} {code or ''}: {message}".strip())
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def blocked(self) -> bool:
        """Teams refuses writes because the person blocked or removed the app: never retry."""
        # Current docs answer 403 ConversationBlockedByUser; older tenants put MessageWritesBlocked in the
        # message. Other 403s (BotDisabledByAdmin, ...) are not the person's choice and don't mark them.
        return self.status == 403 and (
            self.code in BLOCKED_CODES or any(code in str(self) for code in BLOCKED_CODES)
        )

    @property
    def retryable(self) -> bool:
        return self.status in (412, 429, 502, 503, 504) or self.status >= 500


class UntrustedServiceUrl(Exception):
    """An activity named a serviceUrl we will not send the bot's token to."""


class Conversations:
    """The subset of the Bot Connector conversations API the bot uses."""

    def __init__(self, client: FastConnectorClient) -> None:
        self._client = client

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = f"v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        return ResourceResponse(id=(await self._client.call("POST", path, to_json(activity))).get("id"))

    async def send_to_conversation(self, conversation_id: str, activity: Activity) -> ResourceResponse:
        path = f"v3/conversations/{_seg(conversation_id)}/activities"
        return ResourceResponse(id=(await self._client.call("POST", path, to_json(activity))).get("id"))

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity
    ) -> ResourceResponse:
        path = f"v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        return ResourceResponse(id=(await self._client.call("PUT", path, to_json(activity))).get("id"))

    async def delete_activity(self, conversation_id: str, activity_id: str) -> None:
        await self._client.call(
            "DELETE", f"v3/conversations/{_seg(conversation_id)}/activities/{_seg(activity_id)}"
        )

    async def create_conversation(self, parameters: ConversationParameters) -> ConversationResourceResponse:
        body = await self._client.call("POST", "v3/conversations", to_json(parameters))
        return ConversationResourceResponse(
            id=body.get("id"), service_url=body.get("serviceUrl"), activity_id=body.get("activityId")
        )

    async def get_conversation_member(self, conversation_id: str, member_id: str) -> ChannelAccount:
        """The member, as the SDK's own client returns it (TeamsInfo re-reads it as a TeamsChannelAccount)."""
        path = f"v3/conversations/{_seg(conversation_id)}/members/{_seg(member_id)}"
        return ChannelAccount().deserialize(await self._client.call("GET", path))


class FastConnectorClient:
    """What the SDK calls a ConnectorClient, for one serviceUrl."""

    def __init__(self, http: aiohttp.ClientSession, service_url: str, token: TokenSource) -> None:
        self._http = http
        self._base = service_url if service_url.endswith("/") else service_url + "/"
        self._token = token
        self.conversations = Conversations(self)

    async def call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        headers = {}
        token = await self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self._http.request(method, self._base + path, json=body, headers=headers) as response:
            if response.status >= 400:
                raise await _error(response)
            if response.content_type == "application/json":
                return await response.json()
            return {}


class ConnectorPool:
    """Hands out connector clients that share one HTTP session and one token cache."""

    def __init__(self, token: TokenSource, *, allowed_hosts: tuple[str, ...] = ()) -> None:
        self._token = token
        self._allowed_hosts = allowed_hosts
        self._http: aiohttp.ClientSession | None = None

    def client(self, service_url: str) -> FastConnectorClient:
        self._check(service_url)
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=15, connect=5),
                connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300),
            )
        return FastConnectorClient(self._http, service_url, self._token)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            # Let aiohttp finish closing transports before the loop moves on.
            await asyncio.sleep(0)

    def _check(self, service_url: str) -> None:
        # The bot attaches its token to calls to serviceUrl; a forged activity must not redirect it.
        if not self._allowed_hosts:
            return
        host = (urlparse(service_url).hostname or "").lower()
        if urlparse(service_url).scheme != "https" or not any(
            host == allowed or host.endswith("." + allowed) for allowed in self._allowed_hosts
        ):
            raise UntrustedServiceUrl(f"refusing to call serviceUrl host {host!r}")


def _seg(value: str) -> str:
    # Teams conversation ids contain ':' ';' '@' and '='; the connector expects them percent-encoded.
    return quote(value, safe="")


async def _error(response: aiohttp.ClientResponse) -> ConnectorError:
    code, message = None, response.reason or ""
    try:
        body = await response.json(content_type=None)
        # Two shapes are in use: {"error": {"code", "message"}} and, older, {"errorCode", "message"}.
        error = body.get("error", body) if isinstance(body, dict) else {}
        code, message = error.get("code"), str(error.get("message", message))
    except (ValueError, aiohttp.ContentTypeError):
        pass
    retry_after = response.headers.get("Retry-After")
    return ConnectorError(
        response.status,
        code,
        message,
        float(retry_after) if retry_after and _is_number(retry_after) else None,
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

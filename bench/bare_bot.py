"""The baseline: a bare aiohttp bot that parses the activity and POSTs a reply to the connector.

It does what any bot must (read the JSON, address the reply, call the connector over a kept-alive
session) and nothing else: no SDK, no authentication, no database.
"""

from __future__ import annotations

import sys
from urllib.parse import quote

import aiohttp
from aiohttp import web


def make_app() -> web.Application:
    app = web.Application()
    http: dict[str, aiohttp.ClientSession] = {}

    async def open_session(_app: web.Application) -> None:
        http["s"] = aiohttp.ClientSession()

    async def close_session(_app: web.Application) -> None:
        await http["s"].close()

    async def messages(request: web.Request) -> web.Response:
        activity = await request.json()
        conversation = quote(activity["conversation"]["id"], safe="")
        reply = {
            "type": "message",
            "text": f"You said: {activity.get('text', '')}",
            "from": activity["recipient"],
            "recipient": activity["from"],
            "conversation": activity["conversation"],
            "replyToId": activity["id"],
        }
        base = activity["serviceUrl"].rstrip("/")
        url = f"{base}/v3/conversations/{conversation}/activities/{quote(activity['id'], safe='')}"
        async with http["s"].post(url, json=reply) as response:
            await response.read()
        return web.Response(status=201)

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.router.add_post("/api/messages", messages)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)

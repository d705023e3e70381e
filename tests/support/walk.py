"""Everything one person can read from a running Trellis: every bot command's reply, every card verb's
answer to payloads naming the ids that matter, and every tab GET route (each dynamic route with every
candidate id, each static one with every person filter). Normalized, so two readings can be compared:
confidentiality tests build two worlds that differ only in what the person must never learn, and assert
the readings are identical.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp import web

from bot.routes import BOT
from tests.support.teams import Card, TeamsUser

_VOLATILE = [
    (re.compile(r"[0-9a-f]{32}"), "<id>"),  # form request ids (uuid4().hex)
    (re.compile(r'name="csrf_token" value="[^"]*"'), 'name="csrf_token" value=""'),
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
]
# The keys card payloads name things by; each verb is pressed with all of them set to one candidate id.
PAYLOAD_KEYS = (
    "id",
    "person_id",
    "subject_id",
    "goal_id",
    "action_id",
    "entry_id",
    "position_id",
    "talent_review_id",
    "review_id",
    "cycle_id",
    "plan_id",
)


def normalized(text: str) -> str:
    """The text with per-request tokens blanked out."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


async def everything_read(
    trellis: Any,
    tab: aiohttp.ClientSession,
    user: TeamsUser,
    ids: dict[str, int],
    *,
    verbs: bool = False,
    extra_ids: Iterable[int] = (),
) -> dict[str, str]:
    """Every command's reply, (with `verbs`) every card verb's answer, and every GET route's page, as
    `user` (signed in to `tab`); normalized for comparison."""
    seen: dict[str, str] = {}
    router = trellis.app[BOT].router
    for phrase in router.commands:
        for typed in (phrase, f"{phrase} @Isaiah"):  # a name and no text only opens forms
            replies = await user.say(typed)
            seen[f"bot: {typed}"] = normalized(repr([r.card.content if r.card else r.text for r in replies]))
    candidates = sorted(
        {str(v) for v in ids.values()} | {str(n) for n in range(1, 12)} | set(map(str, extra_ids))
    )
    if verbs:
        for verb in sorted(router.verbs):
            for value in candidates:
                seen[f"verb: {verb} {value}"] = normalized(repr(await _press(user, verb, int(value))))
    static, dynamic = _get_paths(trellis.app, candidates)
    people_filters = [{key: str(pid)} for pid in ids.values() for key in ("person", "about")]
    for path, query in [(p, q) for p in static for q in ({}, *people_filters)] + [(p, {}) for p in dynamic]:
        async with tab.get(path, params=query, allow_redirects=False) as page:
            seen[f"GET {path} {query}"] = f"{page.status} " + normalized(await page.text())
    return seen


async def _press(user: TeamsUser, verb: str, value: int) -> Any:
    """An Action.Execute of `verb` whose data names `value` under every key a handler might read."""
    action = {
        "type": "Action.Execute",
        "title": "Go",
        "verb": verb,
        "data": {key: value for key in PAYLOAD_KEYS} | {"version": 0},
    }
    card = Card({"type": "AdaptiveCard", "version": "1.5", "body": [], "actions": [action]}, None)
    try:
        return (await user.press("Go", card=card)).content
    except AssertionError as refused:  # an answer that is not a card (or a refusal status) is read too
        return str(refused)


def _get_paths(app: web.Application, candidates: list[str]) -> tuple[list[str], list[str]]:
    """The tabs' GET paths: those without parameters, and the others with every candidate id."""
    static, dynamic = [], []
    for route in app.router.routes():
        if route.method != "GET":
            continue
        info: dict[str, Any] = route.resource.get_info()
        if "path" in info:
            static.append(info["path"])
        elif "formatter" in info:  # one dynamic part or more: try every candidate id in each
            formatter = info["formatter"]
            names = re.findall(r"{(\w+)}", formatter)
            dynamic += [formatter.format(**{n: value for n in names}) for value in candidates]
    return _tabs_only(static), _tabs_only(dynamic)


def _tabs_only(paths: list[str]) -> list[str]:
    return [p for p in paths if p.startswith("/tabs") and "static" not in p]

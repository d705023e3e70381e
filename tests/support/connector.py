"""A local stand-in for the Bot Framework connector that Teams exposes at an activity's `serviceUrl`.

It speaks the Bot Connector REST wire format (v3), records every request it receives and can be told to
fail the next requests the way Teams does (429 with Retry-After, 5xx, 403 for a user who blocked the bot).
It can also enforce Teams' send limits (`enforce(TeamsLimits(...))`): a request that would overfill a
window when it arrives is answered 429 with the Retry-After that frees it, and recorded with the limit it
broke; and it can take a while to answer (`latency`), like a connector across the internet.

Error codes and bodies follow Microsoft's "Status codes from bot conversational APIs" table
(MicrosoftDocs/msteams-docs, msteams-platform/bots/build-conversational-capability.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict

from .background import BackgroundServer, ServedInBackground
from .faults import FaultPlan

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"

# Documented 403 for "User blocked the bot in personal chat or a channel through moderation settings".
BLOCKED_BY_USER: dict[str, Any] = {
    "error": {"code": "ConversationBlockedByUser", "message": "User blocked the conversation with the bot."}
}

# The older shape from the proactive-messaging page ("403 ... with a subCode: MessageWritesBlocked");
# pass it as `body=` to check that the app also recognises it.
MESSAGE_WRITES_BLOCKED: dict[str, Any] = {
    "errorCode": 209,
    "message": json.dumps(
        {
            "subCode": "MessageWritesBlocked",
            "details": "Thread is blocked from message writes.",
            "errorCode": None,
            "errorSubCode": None,
        },
        indent=2,
    ).replace("\n", "\r\n"),
}

# Default error bodies per status, from the documented table. 503 and 504 have no documented body: they
# come from gateways, so the stand-in answers them with an empty body and the client must cope.
_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    400: ("BadArgument", "Invalid request payload."),
    401: ("BotNotRegistered", "No registration found for this bot."),
    403: (BLOCKED_BY_USER["error"]["code"], BLOCKED_BY_USER["error"]["message"]),
    404: ("ConversationNotFound", "Conversation not found."),
    412: ("PreconditionFailed", "Precondition failed, please try again."),
    413: ("MessageSizeTooBig", "Message size too large."),
    429: ("Throttled", "Too many requests."),
    500: ("ServiceError", "Internal server error."),
    502: ("ServiceError", "Service dependency issue."),
}

# Kinds of recorded request that carry an activity the user would see.
_ACTIVITY_KINDS = frozenset({"send", "reply", "update", "create_conversation"})


@dataclass(frozen=True)
class TeamsLimits:
    """The send limits Teams enforces: (requests, seconds) per conversation and per tenant."""

    per_conversation: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))
    per_tenant: tuple[tuple[int, float], ...] = ((50, 1.0),)

    @classmethod
    def with_tenant_rate(cls, per_second: int) -> TeamsLimits:
        """Teams' per-conversation limits and the given per-tenant rate."""
        return cls(per_tenant=((per_second, 1.0),))


@dataclass
class _Arrivals:
    """When accepted requests arrived, per conversation and per tenant (for an enforcing stand-in)."""

    limits: TeamsLimits
    conversations: dict[str, deque[float]] = field(default_factory=dict)
    tenants: dict[str, deque[float]] = field(default_factory=dict)

    def admit(self, now: float, conversation_id: str | None, tenant_id: str) -> tuple[str, float] | None:
        """Record an arrival that fits every window; else the broken limit and seconds until it fits."""
        checks = [(self.tenants.setdefault(tenant_id, deque()), self.limits.per_tenant, "tenant")]
        if conversation_id is not None:
            conversation = self.conversations.setdefault(conversation_id, deque())
            checks.append((conversation, self.limits.per_conversation, "conversation"))
        for arrivals, limits, scope in checks:
            longest = limits[-1][1]
            while arrivals and arrivals[0] <= now - longest:
                arrivals.popleft()
            for limit, seconds in limits:
                inside = [t for t in arrivals if t > now - seconds]
                if len(inside) >= limit:
                    frees_at = inside[len(inside) - limit] + seconds
                    return f"{scope} {limit}/{seconds:g}s", frees_at - now
        for arrivals, _, _ in checks:
            arrivals.append(now)
        return None


def error_body(code: str, message: str) -> dict[str, Any]:
    """The connector's error envelope: {"error": {"code", "message"}}."""
    return {"error": {"code": code, "message": message}}


@dataclass(frozen=True)
class Recorded:
    """One request the connector received, with what it answered."""

    method: str
    path: str  # as received, still URL-encoded
    conversation_id: str | None  # decoded; for a created conversation, the new id
    activity_id: str | None  # decoded, from the path: the activity replied to or updated
    body: Any  # parsed JSON, None when empty, the raw text when it was not JSON
    headers: Mapping[str, str]  # case-insensitive
    at: float  # time.monotonic() when received
    status: int = 200
    kind: str = "other"  # send | reply | update | delete | create_conversation | member | members | ...
    response: Any = None  # the JSON answered, None for an empty body
    member_id: str | None = None  # decoded, for member lookups
    broke: str | None = None  # enforcing stand-in: the limit this request went over (it was answered 429)

    @property
    def authorization(self) -> str | None:
        """The Authorization header, if the client sent one."""
        return self.headers.get("Authorization")

    @property
    def assigned_id(self) -> str | None:
        """The activity id the connector answered with (sends, replies, a new conversation's first)."""
        if not isinstance(self.response, dict):
            return None
        if self.kind == "create_conversation":
            return self.response.get("activityId")
        return self.response.get("id")

    @property
    def ok(self) -> bool:
        """True when the connector accepted the request."""
        return 200 <= self.status < 300

    @property
    def activity(self) -> dict[str, Any] | None:
        """The activity this request carried (for create_conversation, its optional first activity)."""
        if self.kind == "create_conversation":
            activity = _field(self.body, "activity")
            return activity if isinstance(activity, dict) else None
        return self.body if self.kind in _ACTIVITY_KINDS and isinstance(self.body, dict) else None


@dataclass(frozen=True)
class _Member:
    id: str
    name: str
    aad_object_id: str
    tenant_id: str
    given_name: str | None = None
    surname: str | None = None
    user_role: str = "user"

    def to_json(self) -> dict[str, Any]:
        # Teams stopped returning email and userPrincipalName to bots, so they are absent on purpose.
        data = {
            "id": self.id,
            "name": self.name,
            "aadObjectId": self.aad_object_id,
            "givenName": self.given_name,
            "surname": self.surname,
            "tenantId": self.tenant_id,
            "userRole": self.user_role,
        }
        return {k: v for k, v in data.items() if v is not None}


class ConnectorStandIn(ServedInBackground):
    """A local Bot Connector: answers like Teams' connector and records every request."""

    def __init__(self, *, max_message_bytes: int = 100 * 1024) -> None:
        # Teams refuses bot messages over ~100 KB (413 MessageSizeTooBig); measured here on the request
        # body in UTF-16, as Teams counts it, so an oversized card fails in tests as it would in Teams.
        self.max_message_bytes = max_message_bytes
        self._server = BackgroundServer(self._make_app)
        self._lock = threading.Lock()
        self._records: list[Recorded] = []
        self._faults = FaultPlan()
        self._members: dict[str, _Member] = {}
        self._listeners: list[Callable[[], None]] = []
        self._last_id = 0
        self._arrivals: _Arrivals | None = None
        # Seconds each answer takes after the request was processed (Teams got it; the answer is on its way).
        self.latency = 0.0

    @property
    def service_url(self) -> str:
        """The serviceUrl to put in incoming activities, e.g. http://127.0.0.1:PORT/."""
        return self._server.base_url + "/"

    # -- test set-up -------------------------------------------------------------------------------

    def add_member(
        self,
        user_id: str,
        name: str,
        aad_object_id: str,
        tenant_id: str,
        *,
        given_name: str | None = None,
        surname: str | None = None,
        user_role: str = "user",
    ) -> dict[str, Any]:
        """Register a person the member APIs know (in every conversation); returns their JSON."""
        member = _Member(user_id, name, aad_object_id, tenant_id, given_name, surname, user_role)
        with self._lock:
            self._members[user_id] = member
        return member.to_json()

    def fail_next(
        self,
        n: int,
        status: int,
        *,
        retry_after: float | None = None,
        body: Any = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next n requests (whose raw or decoded path contains path_contains) with status.

        Without a body, the documented error body for the status is used (403 → ConversationBlockedByUser,
        429 → Throttled, ...). retry_after sets the Retry-After header in seconds.
        """
        self._faults.add(n, status, retry_after=retry_after, body=body, path_contains=path_contains)

    def enforce(self, limits: TeamsLimits | None) -> None:
        """Answer 429 to requests over Teams' limits from now on (None: accept everything again)."""
        with self._lock:
            self._arrivals = _Arrivals(limits) if limits is not None else None

    def clear(self) -> None:
        """Forget recorded requests, pending failures, limits and latency (members and ids persist)."""
        with self._lock:
            self._records.clear()
            self._arrivals = None
        self._faults.clear()
        self.latency = 0.0

    @staticmethod
    def conversation_id_for(user_id: str) -> str:
        """The 1:1 conversation id POST /v3/conversations returns for this member (stable, like Teams)."""
        digest = hashlib.sha256(user_id.encode()).digest()
        return "a:1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")

    # -- what was received -------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request received, failed ones included, in order."""
        with self._lock:
            return list(self._records)

    @property
    def failures(self) -> list[Recorded]:
        """Requests answered with an error status."""
        return [r for r in self.requests if not r.ok]

    @property
    def over_limit(self) -> list[Recorded]:
        """Requests an enforcing stand-in refused because they went over one of Teams' limits."""
        return [r for r in self.requests if r.broke is not None]

    @property
    def sent(self) -> list[Recorded]:
        """Activities the connector accepted via POST (sends and replies), in order."""
        return [r for r in self.requests if r.ok and r.kind in ("send", "reply")]

    @property
    def updates(self) -> list[Recorded]:
        """Accepted PUTs that replaced a sent activity (card updates)."""
        return [r for r in self.requests if r.ok and r.kind == "update"]

    @property
    def created_conversations(self) -> list[Recorded]:
        """Accepted POST /v3/conversations requests; conversation_id is the id returned."""
        return [r for r in self.requests if r.ok and r.kind == "create_conversation"]

    def replies_to(self, conversation_id: str) -> list[dict[str, Any]]:
        """Activities accepted for this (decoded) conversation id, by send or reply, in order."""
        return [r.body for r in self.sent if r.conversation_id == conversation_id]

    def last_activity(self) -> dict[str, Any] | None:
        """The last activity the connector accepted (send, reply, update or a new conversation's first)."""
        activities = self._accepted_activities()
        return activities[-1] if activities else None

    def cards(self) -> list[dict[str, Any]]:
        """Every Adaptive Card in accepted activities (updates included), in order."""
        cards = []
        for activity in self._accepted_activities():
            for attachment in activity.get("attachments") or []:
                if attachment.get("contentType") == ADAPTIVE_CARD:
                    content = attachment.get("content")
                    cards.append(json.loads(content) if isinstance(content, str) else content)
        return cards

    def _accepted_activities(self) -> list[dict[str, Any]]:
        return [r.activity for r in self.requests if r.ok and r.activity is not None]

    async def wait_for(self, predicate: Callable[[Recorded], bool], timeout: float = 5.0) -> Recorded:
        """Return the first recorded request matching predicate, waiting up to timeout seconds."""
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def notify() -> None:
            # Called from the server thread; the event belongs to the waiter's loop.
            with contextlib.suppress(RuntimeError):  # the waiter's loop has closed
                loop.call_soon_threadsafe(changed.set)

        with self._lock:
            self._listeners.append(notify)
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed.clear()
                    for record in self.requests:
                        if predicate(record):
                            return record
                    await changed.wait()
        except TimeoutError:
            seen = "\n".join(f"  {r.status} {r.method} {r.path} {_excerpt(r.body)}" for r in self.requests)
            raise TimeoutError(
                f"no matching connector request within {timeout} s; received:\n{seen or '  nothing'}"
            ) from None
        finally:
            with self._lock:
                self._listeners.remove(notify)

    # -- the server --------------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        # One catch-all route: conversation ids may contain encoded '/', so the raw path is split first
        # and each segment decoded, which aiohttp's router would do the other way round.
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        raw_path = request.raw_path.split("?", 1)[0]
        segments = [unquote(s) for s in raw_path.split("/") if s]
        # Real service URLs carry a region prefix (https://smba.trafficmanager.net/amer/): skip to v3.
        if "v3" in segments:
            segments = segments[segments.index("v3") :]
        text = await request.text()
        body: Any = None
        if text:
            try:
                body = json.loads(text)
            except ValueError:
                body = text

        kind, conversation_id, activity_id, member_id = _classify(request.method, segments)
        # Teams counts a request once it has arrived, which is no later than now (the body has been read).
        arrived = time.monotonic()
        broke = None
        with self._lock:
            arrivals = self._arrivals
            if arrivals is not None:
                broke = arrivals.admit(arrived, conversation_id, _tenant_of(body))
        failure = self._faults.take(raw_path, "/" + "/".join(segments)) if broke is None else None
        headers: dict[str, str] = {}
        if broke is not None:
            status, payload = 429, error_body(*_DEFAULT_ERRORS[429])
            headers["Retry-After"] = _seconds(math.ceil(broke[1] * 1000) / 1000)
        elif failure is not None:
            status, payload = failure.status, failure.body
            if payload is None and status in _DEFAULT_ERRORS:
                payload = error_body(*_DEFAULT_ERRORS[status])
            if failure.retry_after is not None:
                headers["Retry-After"] = _seconds(failure.retry_after)
        elif isinstance(body, str):
            status, payload = 400, error_body("BadSyntax", "The request body is not JSON.")
        elif len(text.encode("utf-16-le")) > self.max_message_bytes and kind in _ACTIVITY_KINDS:
            status, payload = 413, error_body(*_DEFAULT_ERRORS[413])
        else:
            status, payload, conversation_id = self._answer(
                kind, conversation_id, activity_id, member_id, body, request.query
            )

        self._record(
            Recorded(
                method=request.method,
                path=request.raw_path,
                conversation_id=conversation_id,
                activity_id=activity_id,
                body=body,
                headers=CIMultiDict(request.headers),
                at=arrived,
                status=status,
                kind=kind,
                response=payload,
                member_id=member_id,
                broke=broke[0] if broke is not None else None,
            )
        )
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    def _answer(
        self,
        kind: str,
        conversation_id: str | None,
        activity_id: str | None,
        member_id: str | None,
        body: Any,
        query: Mapping[str, str],
    ) -> tuple[int, Any, str | None]:
        """Status and JSON answer for a request, and the conversation id to record."""
        if kind in ("send", "reply", "update") and not isinstance(body, dict):
            return 400, error_body("BadArgument", "An activity is required."), conversation_id
        if kind in ("send", "reply"):
            return 200, {"id": self._new_activity_id()}, conversation_id
        if kind == "update":
            return 200, {"id": activity_id}, conversation_id
        if kind == "delete":
            return 200, None, conversation_id
        if kind == "create_conversation":
            return self._create_conversation(body)
        if kind == "member":
            member = self._find_member(member_id or "")
            if member is None:
                message = "The specified user is not a member of the conversation."
                return 404, error_body("MemberNotFoundInConversation", message), conversation_id
            return 200, member.to_json(), conversation_id
        if kind == "members":
            return 200, [m.to_json() for m in self._all_members()], conversation_id
        if kind == "paged_members":
            return 200, self._page(query), conversation_id
        return 404, error_body("NotFound", "No such connector API."), conversation_id

    def _create_conversation(self, body: Any) -> tuple[int, Any, str | None]:
        if not isinstance(body, dict):
            return 400, error_body("BadArgument", "ConversationParameters are required."), None
        # The service reads JSON keys case-insensitively; botbuilder-python sends "tenantID".
        members = _field(body, "members")
        if _field(body, "isGroup") or not isinstance(members, list) or len(members) != 1:
            message = "A 1:1 conversation needs isGroup false and exactly one member."
            return 400, error_body("BadArgument", message), None
        channel_tenant = _field(_field(body, "channelData") or {}, "tenant") or {}
        if not (_field(body, "tenantId") or _field(channel_tenant, "id")):
            return 400, error_body("BadArgument", "The tenant id is required."), None
        # Teams accepts the member's 29: id or Entra object id and returns the same chat for both.
        member_id = str(_field(members[0], "id") or "")
        known = self._find_member(member_id)
        conversation_id = self.conversation_id_for(known.id if known else member_id)
        answer: dict[str, Any] = {"id": conversation_id, "serviceUrl": self.service_url}
        if isinstance(_field(body, "activity"), dict):
            answer["activityId"] = self._new_activity_id()
        return 201, answer, conversation_id

    def _page(self, query: Mapping[str, str]) -> dict[str, Any]:
        members = [m.to_json() for m in self._all_members()]
        size = int(query.get("pageSize") or 200)
        start = int(query.get("continuationToken") or 0)
        end = start + size
        return {"members": members[start:end], "continuationToken": str(end) if end < len(members) else None}

    def _find_member(self, key: str) -> _Member | None:
        with self._lock:
            found = self._members.get(key)
            return found or next((m for m in self._members.values() if m.aad_object_id == key), None)

    def _all_members(self) -> list[_Member]:
        with self._lock:
            return list(self._members.values())

    def _new_activity_id(self) -> str:
        # Teams message ids are epoch milliseconds; keep them unique when several arrive in one ms.
        with self._lock:
            self._last_id = max(self._last_id + 1, int(time.time() * 1000))
            return str(self._last_id)

    def _record(self, record: Recorded) -> None:
        with self._lock:
            self._records.append(record)
            listeners = list(self._listeners)
        for notify in listeners:
            notify()


def _classify(method: str, segments: list[str]) -> tuple[str, str | None, str | None, str | None]:
    """Name the connector operation for a path: (kind, conversation id, activity id, member id)."""
    match method, segments:
        case "POST", ["v3", "conversations"]:
            return "create_conversation", None, None, None
        case "POST", ["v3", "conversations", cid, "activities"]:
            return "send", cid, None, None
        case "POST", ["v3", "conversations", cid, "activities", aid]:
            return "reply", cid, aid, None
        case "PUT", ["v3", "conversations", cid, "activities", aid]:
            return "update", cid, aid, None
        case "DELETE", ["v3", "conversations", cid, "activities", aid]:
            return "delete", cid, aid, None
        case "GET", ["v3", "conversations", cid, "members", uid]:
            return "member", cid, None, uid
        case "GET", ["v3", "conversations", cid, "members"]:
            return "members", cid, None, None
        case "GET", ["v3", "conversations", cid, "pagedmembers"]:
            return "paged_members", cid, None, None
        case _, ["v3", "conversations", cid, *_]:
            return "other", cid, None, None
    return "other", None, None, None


def _tenant_of(body: Any) -> str:
    """The tenant an activity (or new conversation) is for, as the connector reads it; "" when unnamed."""
    conversation = _field(body, "conversation")
    channel_tenant = _field(_field(body, "channelData") or {}, "tenant") or {}
    found = _field(conversation, "tenantId") or _field(body, "tenantId") or _field(channel_tenant, "id")
    return found if isinstance(found, str) else ""


def _field(data: Any, name: str) -> Any:
    """A JSON member looked up case-insensitively, as the .NET connector service does."""
    if not isinstance(data, dict):
        return None
    if name in data:
        return data[name]
    lowered = name.lower()
    return next((v for k, v in data.items() if k.lower() == lowered), None)


def _excerpt(body: Any, limit: int = 160) -> str:
    text = body if isinstance(body, str) else json.dumps(body)
    return text if len(text) <= limit else text[:limit] + "..."


def _seconds(value: float) -> str:
    # Retry-After is whole seconds on the wire; fractions are allowed here only to keep tests fast.
    return str(int(value)) if float(value).is_integer() else str(value)


__all__ = [
    "ADAPTIVE_CARD",
    "BLOCKED_BY_USER",
    "MESSAGE_WRITES_BLOCKED",
    "BackgroundServer",
    "ConnectorStandIn",
    "Recorded",
    "TeamsLimits",
    "error_body",
]

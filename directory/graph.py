"""Microsoft Graph over aiohttp: the directory's users (delta query) and Teams app installation.

Users are read with Graph's delta query from the first run on, so the last page of a full listing
carries an `@odata.deltaLink`; passing it back later returns only what changed since. The manager is a
navigation property selected with `$select=...,manager`: delta answers it as `manager@delta` (a list of
directory objects, an entry with `@removed` when the manager was removed).

Faults: 429 waits `Retry-After` and retries the same page; 5xx and network errors back off exponentially
with jitter and, after `max_attempts`, raise `GraphUnavailable` carrying the URL of the page that failed,
so a caller can resume from it; a 401 makes the token source fetch a new token, once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import aiohttp

from domain.org_sync import DirectoryUser

from .errors import DeltaExpired, DirectoryAuthError, GraphUnavailable, InstallFailed

log = logging.getLogger(__name__)

# Graph property → DirectoryUser field.
USER_PROPERTIES: Mapping[str, str] = {
    "displayName": "display_name",
    "mail": "mail",
    "userPrincipalName": "user_principal_name",
    "jobTitle": "job_title",
    "department": "department",
    "officeLocation": "office_location",
    "employeeHireDate": "hire_date",
    "accountEnabled": "enabled",
}
USERS_SELECT = ",".join(["id", *USER_PROPERTIES, "manager"])

# Documented limit for POST /users/{id}/teamwork/installedApps: 30 requests per second per tenant.
INSTALLS_PER_SECOND = 30
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


class Tokens(Protocol):
    async def token(self) -> str: ...
    async def invalidate(self) -> None: ...


@dataclass(frozen=True)
class GraphPage:
    """One page of users. `link` is the URL it was read from; exactly one of next/delta link is set
    on a well-formed page (`next_link` while more pages follow, `delta_link` on the last)."""

    users: list[DirectoryUser]
    link: str
    next_link: str | None = None
    delta_link: str | None = None
    full_listing: bool = False  # every user, not only changes: absent fields are empty, not unchanged


class RateLimiter:
    """At most `per_second` acquisitions in any `window` seconds (a sliding window; default one second).

    Acquire right before sending: a request that waits for a token after acquiring would bunch up with
    later ones at the server.
    """

    def __init__(
        self,
        per_second: int,
        *,
        window: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if per_second < 1:
            raise ValueError("per_second must be at least 1")
        self.per_second = per_second
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._stamps: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self._clock()
                while self._stamps and now - self._stamps[0] >= self.window:
                    self._stamps.popleft()
                if len(self._stamps) < self.per_second:
                    self._stamps.append(now)
                    return
                await self._sleep(self.window - (now - self._stamps[0]))


class GraphClient:
    """Graph calls Trellis makes with its app-only token.

    `http` is an aiohttp session to use (not closed here); without one the client opens its own, closed
    by `close()` or `async with`.
    """

    def __init__(
        self,
        settings: Any,  # trellis.config.DirectorySettings
        tokens: Tokens,
        *,
        http: aiohttp.ClientSession | None = None,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = 60.0,
        max_throttled: int = 20,
        request_timeout: float = 60.0,
        install_limiter: RateLimiter | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._settings = settings
        self._base = settings.graph_base_url.rstrip("/")
        self._origin = _origin(self._base)
        self._tokens = tokens
        self._http = http
        self._own_http = http is None
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_retry_after = max_retry_after
        self._max_throttled = max_throttled
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._sleep = sleep
        # A 10 % longer window absorbs network jitter, so Graph never sees more than 30 in a second.
        self.install_limiter = install_limiter or RateLimiter(INSTALLS_PER_SECOND, window=1.1, sleep=sleep)

    async def __aenter__(self) -> GraphClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()
            self._http = None

    @property
    def first_users_link(self) -> str:
        """The URL of a full listing's first page."""
        return f"{self._base}/users/delta?$select={USERS_SELECT}"

    # -- users ---------------------------------------------------------------------------------------

    async def users(
        self,
        *,
        delta_link: str | None = None,
        resume_link: str | None = None,
        full_listing: bool | None = None,
    ) -> AsyncIterator[GraphPage]:
        """Pages of users: a full listing, the changes since `delta_link`, or from `resume_link` on.

        The last page carries `delta_link` for the next incremental run. Raises `GraphUnavailable`
        (with `resume_link` and `full_listing`: pass both back to resume), `DeltaExpired` (start a full
        listing) or `DirectoryAuthError`. On a full listing Graph omits `manager@delta` for people
        without a manager, so there `manager_id` is always in `fields` (None = no manager).
        """
        link: str | None = resume_link or delta_link or self.first_users_link
        if full_listing is None:
            full_listing = resume_link is None and delta_link is None
        while link is not None:
            self._check_link(link)
            try:
                status, body = await self._send("GET", link, resume_link=link)
            except GraphUnavailable as exc:
                exc.full_listing = full_listing
                raise
            if status == 410:
                raise DeltaExpired(
                    "Graph no longer accepts this delta link (resync required): run a full sync."
                )
            if status in (401, 403):
                raise DirectoryAuthError(
                    f"Graph refused to list users ({status}: {_graph_error(body)[1]}): grant app "
                    f"{self._settings.client_id} the User.Read.All application permission with admin "
                    "consent in Entra ID > App registrations > API permissions."
                )
            if status != 200 or not isinstance(body, dict):
                raise GraphUnavailable(
                    f"Graph answered {status} listing users: {_graph_error(body)[1]}",
                    resume_link=link,
                    status=status,
                )
            users = [
                to_directory_user(item, full_listing=full_listing)
                for item in body.get("value") or ()
                if isinstance(item, dict) and item.get("id")
            ]
            next_link = body.get("@odata.nextLink")
            page = GraphPage(users, link, next_link, body.get("@odata.deltaLink"), full_listing)
            yield page
            link = next_link

    def _check_link(self, link: str) -> None:
        # The bearer token goes with the request: only ever to the configured Graph host.
        if _origin(link) != self._origin:
            raise ValueError(f"refusing to send the Graph token to {_origin(link)} (expected {self._origin})")

    # -- app installation ----------------------------------------------------------------------------

    async def install_app(self, user_id: str, teams_app_id: str | None = None) -> None:
        """Install the Teams app (its id in the org's app catalog) for a user; already installed is fine.

        Raises `InstallFailed` for refusals (403, 404, 400) and `GraphUnavailable` when Graph kept failing.
        """
        app_id = teams_app_id or self._settings.teams_app_catalog_id
        if not app_id:
            raise ValueError("no Teams app id: set TEAMS_APP_CATALOG_ID (the app's id in the org catalog)")
        url = f"{self._base}/users/{quote(user_id, safe='')}/teamwork/installedApps"
        body = {"teamsApp@odata.bind": f"{self._base}/appCatalogs/teamsApps/{quote(app_id, safe='')}"}
        status, answer = await self._send("POST", url, json=body, limiter=self.install_limiter)
        if status in (200, 201, 204, 409):
            return
        code, message = _graph_error(answer)
        if status == 403:
            reason = (
                f"Graph refused (403 {code}): grant TeamsAppInstallation.ReadWriteSelfForUser.All "
                f"(application) with admin consent, and check the user has a Teams licence. {message}"
            )
        elif status == 404:
            reason = (
                f"not found (404 {code}): the user or the Teams app {app_id} does not exist; check "
                f"TEAMS_APP_CATALOG_ID is the app's id in the org app catalog. {message}"
            )
        elif status == 401:
            reason = f"Graph refused the app's token (401 {code}). {message}"
        else:
            reason = f"Graph answered {status} {code}. {message}"
        raise InstallFailed(user_id, reason.strip(), status=status, code=code)

    # -- transport -------------------------------------------------------------------------------------

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return self._http

    async def _send(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        resume_link: str | None = None,
        limiter: RateLimiter | None = None,
    ) -> tuple[int, Any]:
        """Send with retries; returns (status, parsed body) for anything not retried away."""
        http = await self._session()
        failures = throttled = 0
        refreshed = False
        last = "no answer"
        last_status: int | None = None
        while True:
            token = await self._tokens.token()
            if limiter is not None:
                await limiter.acquire()
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            try:
                async with http.request(
                    method, url, json=json, headers=headers, timeout=self._timeout
                ) as response:
                    status = response.status
                    body = await _read_body(response)
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, body, retry_after = None, None, None
                last = f"{type(exc).__name__}: {exc}"
            if status == 401 and not refreshed:
                refreshed = True
                log.info("graph: 401 on %s %s, fetching a new token", method, _path(url))
                await self._tokens.invalidate()
                continue
            if status == 429 or (status in TRANSIENT_STATUSES and retry_after is not None):
                throttled += 1
                last, last_status = f"{status} (throttled)", status
                if throttled > self._max_throttled:
                    break
                wait = retry_after if retry_after is not None else self._backoff(throttled)
                wait = min(wait, self._max_retry_after)
                log.info("graph: %s on %s %s, retrying in %.1f s", status, method, _path(url), wait)
                await self._sleep(wait)
                continue
            if status is None or status in TRANSIENT_STATUSES:
                failures += 1
                if status is not None:
                    last, last_status = f"{status} {_graph_error(body)[1]}".strip(), status
                if failures >= self._max_attempts:
                    break
                wait = self._backoff(failures)
                log.info("graph: %s on %s %s, retry %d in %.2f s", last, method, _path(url), failures, wait)
                await self._sleep(wait)
                continue
            return status, body
        raise GraphUnavailable(
            f"Graph kept failing on {method} {_path(url)} after {failures + throttled} attempts "
            f"(last: {last}); resume later from the same page.",
            resume_link=resume_link,
            status=last_status,
        )

    def _backoff(self, attempt: int) -> float:
        # Exponential with "full jitter": a random wait up to base * 2^(attempt-1), capped.
        ceiling = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


def to_directory_user(item: Mapping[str, Any], *, full_listing: bool = False) -> DirectoryUser:
    """Map one Graph user (full or a delta entry carrying only changed properties) to a DirectoryUser.

    `fields` names the DirectoryUser fields the entry carried; on a full listing `manager_id` is always
    among them, since Graph sends nothing for a user without a manager.
    """
    values: dict[str, Any] = {}
    for prop, field_name in USER_PROPERTIES.items():
        if prop in item:
            values[field_name] = item[prop]
    if "hire_date" in values:
        values["hire_date"] = _date(values["hire_date"])
    if "enabled" in values:
        values["enabled"] = values["enabled"] is not False  # null → treat as enabled
    if "manager@delta" in item:
        values["manager_id"] = _manager_from_delta(item["manager@delta"])
    elif "manager" in item:
        manager = item["manager"]
        values["manager_id"] = manager.get("id") if isinstance(manager, dict) else None
    elif full_listing:
        values["manager_id"] = None
    removed = "@removed" in item
    return DirectoryUser(id=item["id"], removed=removed, fields=frozenset(values), **values)


def _manager_from_delta(entries: Any) -> str | None:
    if not isinstance(entries, list):
        return None
    current = [e.get("id") for e in entries if isinstance(e, dict) and "@removed" not in e and e.get("id")]
    return current[-1] if current else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


async def _read_body(response: aiohttp.ClientResponse) -> Any:
    text = await response.text()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Graph; fall back to backoff


def _graph_error(body: Any) -> tuple[str, str]:
    """(code, message) from Graph's {"error": {"code", "message"}} envelope."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(body, str):
        return "", body[:200]
    return "", ""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _path(url: str) -> str:
    return urlsplit(url).path


__all__ = [
    "INSTALLS_PER_SECOND",
    "USERS_SELECT",
    "GraphClient",
    "GraphPage",
    "RateLimiter",
    "to_directory_user",
]

"""The tabs' people picker: Graph's directory searched as the signed-in user, or the local one in dev mode.

With Teams single sign-on the tab's token is exchanged on behalf of the user (`TokenSource.on_behalf_of`)
for a Graph token limited to `User.ReadBasic.All`, so people see exactly what their own directory
permissions allow. When Entra answers that consent is missing, `ConsentRequired` reaches the route, which
tells the page to show a consent prompt; the prompt opens `consent_url()` (Entra's authorize endpoint with
`prompt=consent`) in the Teams authentication window.

Developer sign-in has no Entra token to exchange, so the picker searches Trellis's own people table then.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from directory.errors import GraphUnavailable
from storage.models import Person

log = logging.getLogger(__name__)

PEOPLE_SCOPES: tuple[str, ...] = ("https://graph.microsoft.com/User.ReadBasic.All",)
CONSENT_MESSAGE = "Trellis needs your permission to look people up in your organization's directory."
ADMIN_HINT = (
    "If you cannot give permission yourself, ask your Microsoft 365 administrator to grant admin consent "
    "for Trellis to the Microsoft Graph delegated permission User.ReadBasic.All "
    "(Entra ID > Enterprise applications > Trellis > Permissions)."
)
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
RESULT_LIMIT = 10
GRAPH_SELECT = "id,displayName,mail,jobTitle"
# Characters with a meaning inside Graph's quoted $search value; no one's name needs them.
_SEARCH_SYNTAX = re.compile(r'["\\]')


class OnBehalfOf(Protocol):
    """What the picker needs of `directory.tokens.TokenSource`."""

    async def on_behalf_of(self, user_assertion: str, scopes: Iterable[str]) -> str: ...


class BadQuery(ValueError):
    """The search text is unusable; the message says why and is safe to show."""


def search_text(raw: str | None) -> str:
    """The search text from ?q=, trimmed and stripped of $search syntax; BadQuery when unusable."""
    text = " ".join(_SEARCH_SYNTAX.sub(" ", raw or "").split())
    if len(text) < MIN_QUERY_LENGTH:
        raise BadQuery(f"type at least {MIN_QUERY_LENGTH} characters of a name to search")
    if len(text) > MAX_QUERY_LENGTH:
        raise BadQuery(f"the search text is too long (at most {MAX_QUERY_LENGTH} characters)")
    return text


class PeopleDirectory:
    """Graph's users searched on behalf of the signed-in user, and the consent prompt's authorize URL.

    `authority` is `{authority_host}/{tenant_id}` and `client_id` the app that exchanges the tab's SSO
    token: the same app registration the token was issued for.
    """

    def __init__(
        self,
        tokens: OnBehalfOf,
        *,
        graph_base_url: str,
        authority: str,
        client_id: str,
        scopes: Sequence[str] = PEOPLE_SCOPES,
        timeout: float = 10.0,
    ) -> None:
        self._tokens = tokens
        self._graph = graph_base_url.rstrip("/")
        self._authority = authority.rstrip("/")
        self.client_id = client_id
        self.scopes = tuple(scopes)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None

    async def search(self, user_assertion: str, text: str) -> list[dict[str, Any]]:
        """Up to ten users whose display name matches `text`, as the user sees them.

        Raises ConsentRequired, DirectoryAuthError or DirectoryUnavailable (token exchange) and
        GraphUnavailable (Graph failed or refused the search).
        """
        token = await self._tokens.on_behalf_of(user_assertion, self.scopes)
        url = f"{self._graph}/users"
        params = {"$search": f'"displayName:{text}"', "$select": GRAPH_SELECT, "$top": str(RESULT_LIMIT)}
        headers = {"Authorization": f"Bearer {token}", "ConsistencyLevel": "eventual"}
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._http.get(url, params=params, headers=headers) as response:
                if response.status != 200:
                    detail = _graph_error(await response.text())
                    raise GraphUnavailable(
                        f"Graph answered {response.status} to a people search: {detail}",
                        status=response.status,
                    )
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise GraphUnavailable(f"Graph could not be reached for a people search: {error!r}") from error
        users = body.get("value") if isinstance(body, dict) else None
        if not isinstance(users, list):
            raise GraphUnavailable("Graph answered a people search without a value list")
        return [_shape(u) for u in users[:RESULT_LIMIT] if isinstance(u, dict) and u.get("id")]

    def consent_url(self, *, redirect_uri: str, scopes: Sequence[str], login_hint: str | None = None) -> str:
        """Entra's authorize endpoint asking the user to consent to `scopes` (prompt=consent).

        The answer is posted to `redirect_uri` (response_mode=form_post, so no code lands in a URL or an
        access log); Trellis never redeems that code: the next on-behalf-of exchange simply succeeds.
        """
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "response_mode": "form_post",
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "prompt": "consent",
        }
        if login_hint:
            query["login_hint"] = login_hint
        return f"{self._authority}/oauth2/v2.0/authorize?{urlencode(query)}"

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


async def search_local(db: AsyncSession, *, tenant_id: str | None, text: str) -> list[dict[str, Any]]:
    """Active people of the tenant with a word of their name starting with `text` (dev sign-in only)."""
    pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    name = Person.display_name
    query = (
        select(Person)
        .where(
            Person.active.is_(True),
            Person.tenant_id == tenant_id if tenant_id is not None else Person.tenant_id.is_(None),
            or_(name.ilike(f"{pattern}%", escape="\\"), name.ilike(f"% {pattern}%", escape="\\")),
        )
        .order_by(name)
        .limit(RESULT_LIMIT)
    )
    people = (await db.scalars(query)).all()
    return [
        {
            "id": p.aad_object_id or str(p.id),
            "displayName": p.display_name,
            "mail": p.email,
            "jobTitle": p.job_title,
        }
        for p in people
    ]


def _shape(user: dict[str, Any]) -> dict[str, Any]:
    return {key: user.get(key) for key in ("id", "displayName", "mail", "jobTitle")}


def _graph_error(text: str) -> str:
    # Graph's envelope: {"error": {"code", "message"}}; anything else is reported by its first line.
    try:
        error = json.loads(text).get("error", {})
        return f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return (text.strip().splitlines() or ["(empty body)"])[0][:200]

"""What every tab page shares: the runtime on the app, who the visitor is, and refusing a request."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Actor, Role, actor_for_teams_user
from domain.clock import Clock, system_clock
from storage.uow import read_only, unit_of_work
from tabs import sessions as cookies
from tabs.navigation import HOME, signin_url
from tabs.pages import Pages, theme_of
from tabs.people import PeopleDirectory
from tabs.sessions import SessionSigner, check_csrf
from tabs.settings import TabSettings
from tabs.sso import KeysUnavailable, TokenRejected, TokenValidator
from tabs.visitors import (
    NOT_IN_DIRECTORY,
    Visitor,
    bearer_token,
    from_session,
)

log = logging.getLogger(__name__)


@dataclass
class TabsRuntime:
    """The tabs' long-lived parts."""

    sessions: async_sessionmaker[AsyncSession]
    settings: TabSettings
    signer: SessionSigner
    pages: Pages
    validator: TokenValidator | None
    personas: Mapping[str, tuple[str | None, str]] = field(default_factory=dict)
    # Graph people search on behalf of the user; None when the directory connection is not configured.
    people: PeopleDirectory | None = None
    # The app's clock (a test clock in tests), so tab pages and the bot agree on "today".
    clock: Clock = system_clock

    @property
    def people_search(self) -> bool:
        """Whether the Home tab offers the people picker (Graph with SSO, or the local directory)."""
        return (self.people is not None and self.validator is not None) or self.settings.dev_sign_in


TABS = web.AppKey("trellis.tabs", TabsRuntime)


def theme_query(request: web.Request) -> str:
    """The theme the form was posted from, to carry over the redirect (default needs nothing)."""
    theme = theme_of(request)
    return "" if theme == "default" else f"&theme={theme}"


def form_int(value: str | None) -> int | None:
    """A whole number from a query or form field, or None (too long or not digits)."""
    if value is None or not value.strip().isdigit() or len(value.strip()) > 18:
        return None
    return int(value)


async def resolve_visitor(request: web.Request, rt: TabsRuntime, db: AsyncSession) -> Visitor | None:
    """The signed-in visitor by bearer token or session cookie; raises 401/403 for a bad token."""
    try:
        token = bearer_token(request)
    except TokenRejected as rejected:
        raise refuse(request, 401, rejected.reason) from None
    if token is not None:
        return await bearer_visitor(request, rt, db, token)
    return await from_session(db, rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE)))


async def bearer_visitor(request: web.Request, rt: TabsRuntime, db: AsyncSession, token: str) -> Visitor:
    """The visitor a Teams SSO token names; raises 401 (bad token), 503 (keys unreachable) or 403."""
    if rt.validator is None:
        raise refuse(request, 401, "single sign-on is not configured on this server")
    try:
        identity = await rt.validator.validate(token)
        actor = await actor_for_teams_user(db, tenant_id=identity.tenant_id, aad_object_id=identity.object_id)
    except TokenRejected as rejected:
        log.info("tab SSO token rejected: %s", rejected.reason)
        raise refuse(request, 401, rejected.reason) from None
    except KeysUnavailable as error:
        log.warning("tab SSO unavailable: %s", error)
        raise refuse(request, 503, "sign-in is unavailable right now; try again in a minute") from None
    if actor is None:
        raise refuse(request, 403, NOT_IN_DIRECTORY)
    return Visitor(actor, None)


def signin_redirect(request: web.Request) -> web.HTTPException:
    """Send a visitor without a valid session to sign in (JSON callers get 401 instead)."""
    if wants_json(request):
        return refuse(request, 401, "not signed in")
    response = web.HTTPFound(signin_url(request.rel_url.path_qs))
    if cookies.SESSION_COOKIE in request.cookies:  # expired, forged, or the person left
        cookies.clear_session_cookie(response)
    return response


_TITLES = {401: "Sign-in failed", 403: "No access", 503: "Sign-in unavailable"}


def refuse(request: web.Request, status: int, reason: str) -> web.HTTPException:
    """A 401/403/503 as JSON {"error"} for scripts, or as a page with a way to try again."""
    rt = request.app[TABS]
    if wants_json(request):
        exc = web.HTTPException(text=json.dumps({"error": reason}), content_type="application/json")
        exc.set_status(status)
    else:
        message = reason if status == 403 else f"Trellis could not sign you in: {reason}."
        exc = rt.pages.error(
            request,
            status=status,
            title=_TITLES.get(status, "Error"),
            message=message,
            retry_url=signin_url(request.rel_url.path_qs if request.method == "GET" else HOME),
        )
    if status == 401:
        exc.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return exc


def csrf_refusal(request: web.Request, rt: TabsRuntime) -> web.HTTPException:
    """The 403 page for a form posted without its session's CSRF token."""
    return rt.pages.error(
        request,
        status=403,
        title="This form has expired",
        message="The form was missing its security token or it no longer matches your session. "
        "Go back, reload the page and try again.",
        retry_url=signin_url(HOME),
    )


def wants_json(request: web.Request) -> bool:
    """Whether the caller is a script (JSON errors) rather than a person in a browser (error pages)."""
    accept = request.headers.get("Accept", "")
    return (
        request.path == "/tabs/session"
        or request.path.startswith("/tabs/api/")
        or "application/json" in accept
        or request.headers.get("X-Requested-With", "").lower() == "xmlhttprequest"
    )


def form_field(form: Mapping[str, object], name: str) -> str | None:
    """A posted text field, or None when it is missing (or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else None


# --- what every page and form starts with --------------------------------------------------------------


async def page_visitor(request: web.Request, rt: TabsRuntime) -> Visitor:
    """The signed-in visitor of a page, or the sign-in redirect."""
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
    if visitor is None:
        raise signin_redirect(request)
    return visitor


async def posted_form(request: web.Request, back: str) -> tuple[TabsRuntime, Visitor, Mapping[str, object]]:
    """The runtime, the signed-in visitor and the form of a POST: no session → sign in (then `back`), no
    CSRF token → 403."""
    rt = request.app[TABS]
    session = rt.signer.read(request.cookies.get(cookies.SESSION_COOKIE))
    form = await request.post()
    async with read_only(rt.sessions) as db:
        visitor = await from_session(db, session)
    if visitor is None:
        raise web.HTTPSeeOther(signin_url(back))
    if not check_csrf(session, form_field(form, "csrf_token")):
        raise csrf_refusal(request, rt)
    return rt, visitor, form


def reading(rt: TabsRuntime, actor: Actor) -> AbstractAsyncContextManager[AsyncSession]:
    """HR's reads may write audit entries (a private note outside their line, an anonymous giver or
    reviewer), so they run in a unit of work that commits them; everyone else's are plain lookups."""
    return unit_of_work(rt.sessions) if actor.has(Role.HR_ADMIN) else read_only(rt.sessions)

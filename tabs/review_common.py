"""What the review pages share: who is asking, refusing as the other tab pages do, and reading as HR.

Visitors, CSRF, error pages and redirects work exactly as on the goal and feedback pages; the review
services decide who may see and do what, and their refusals (Forbidden → 403, NotFound → 404) are shown
with the service's own sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Role
from domain.errors import DomainError, Forbidden
from storage.uow import read_only, unit_of_work
from tabs import sessions as cookies
from tabs.navigation import REVIEWS, signin_url
from tabs.runtime import (
    TABS,
    TabsRuntime,
    csrf_refusal,
    form_field,
    form_int,
    resolve_visitor,
    signin_redirect,
)
from tabs.sessions import check_csrf
from tabs.visitors import Visitor, from_session


async def visitor_of(request: web.Request, rt: TabsRuntime) -> Visitor:
    """The signed-in visitor of a page, or the sign-in redirect."""
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
    if visitor is None:
        raise signin_redirect(request)
    return visitor


async def posted(request: web.Request, back: str) -> tuple[TabsRuntime, Visitor, Mapping[str, object]]:
    """The runtime, the signed-in visitor and the form of a POST, refused as the other tab forms are:
    no session → sign in (then `back`), no CSRF token → 403."""
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
    """HR's reads may write audit entries, so they run in a unit of work that commits them; everyone
    else's are plain lookups."""
    return unit_of_work(rt.sessions) if actor.has(Role.HR_ADMIN) else read_only(rt.sessions)


def cycle_id_of(request: web.Request) -> int | None:
    return form_int(request.match_info.get("cycle_id"))


def refusal(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    refused: DomainError,
    *,
    title: str,
    retry_url: str = REVIEWS,
) -> web.HTTPException:
    """The 403 (Forbidden) or 404 (anything else: it does not exist, or the visitor may not know it does)
    page with the service's sentence."""
    forbidden = isinstance(refused, Forbidden)
    return rt.pages.error(
        request,
        status=403 if forbidden else 404,
        title=title if forbidden else "Not found",
        message=refused.message,
        retry_url=retry_url,
        visitor=visitor,
    )


def hr_only(request: web.Request, rt: TabsRuntime, visitor: Visitor) -> None:
    """Refuse anyone but HR the cycle pages (the services would too; this says it in the page's words)."""
    if not visitor.actor.has(Role.HR_ADMIN):
        raise rt.pages.error(
            request,
            status=403,
            title="Review cycles are for HR",
            message="You don't have access to review cycles: HR runs them. Your own reviews are on the "
            "My reviews page.",
            retry_url=REVIEWS,
            visitor=visitor,
        )

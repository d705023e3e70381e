"""What the review pages share: who is asking, refusing as the other tab pages do, and reading as HR.

Visitors, CSRF, error pages and redirects work exactly as on the goal and feedback pages; the review
services decide who may see and do what, and their refusals (Forbidden → 403, NotFound → 404) are shown
with the service's own sentence.
"""

from __future__ import annotations

from aiohttp import web

from domain.access import Role
from domain.errors import DomainError, Forbidden
from tabs.navigation import REVIEWS
from tabs.runtime import (
    TabsRuntime,
    form_int,
)
from tabs.visitors import Visitor


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

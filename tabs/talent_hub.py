"""The Talent tab's landing page: it sends each person to the talent work that is theirs to do.

HR and talent reviewers land on the succession board, managers on the talent reviews they rate, everyone
else on their own development plan. Where a person lands depends only on their own roles, so it tells
nobody anything about how they themselves are rated.
"""

from __future__ import annotations

from aiohttp import web

from domain.access import Role, may_view_talent_pages
from tabs.navigation import DEVELOPMENT, SUCCESSION, TALENT_REVIEWS
from tabs.runtime import TABS, page_visitor, theme_query

TALENT = "/tabs/talent"


def mount_talent_hub(app: web.Application) -> None:
    """Add /tabs/talent."""
    app.router.add_get(TALENT, talent_hub)


async def talent_hub(request: web.Request) -> web.StreamResponse:
    """Redirect to the visitor's talent page (their development plan unless they lead or manage)."""
    visitor = await page_visitor(request, request.app[TABS])
    if may_view_talent_pages(visitor.actor):
        target = SUCCESSION
    elif visitor.actor.has(Role.MANAGER):
        target = TALENT_REVIEWS
    else:
        target = DEVELOPMENT
    query = theme_query(request)
    raise web.HTTPSeeOther(f"{target}?{query.lstrip('&')}" if query else target)

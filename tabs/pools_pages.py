"""Talent pools on the Succession tab: every pool with the members the visitor may see, a form to start a
pool, and per pool a form to add someone (the people picker) and a button to take each member out.

domain.talent.pools decides who may see and change what (HR, and talent reviewers for the people of the
departments in their scope; nobody their own membership) and writes the audit entries, so the page reads
inside a unit of work. Anyone else gets the Succession refusal page. A refused form writes nothing and
comes back (400) with the sentence next to its field and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from domain.errors import Forbidden, Invalid, NotFound
from domain.talent import pools, succession
from domain.talent.succession_views import POOL_DESCRIPTION_MAX, POOL_NAME_MAX
from storage.uow import unit_of_work
from tabs.navigation import SUCCESSION
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form, theme_query
from tabs.succession_pages import NAV, UI, Problem, form_text, refused_page, talent_only
from tabs.visitors import Visitor

POOLS = f"{SUCCESSION}/pools"
POOL = f"{POOLS}/{{pool_id:\\d+}}"
CREATE = "create"
SAVED = {
    "created": "Saved: the talent pool is started.",
    "added": "Saved: they are in the pool.",
    "removed": "Saved: they are out of the pool.",
}
LIMITS = {"name": POOL_NAME_MAX, "description": POOL_DESCRIPTION_MAX}


def mount_pools(app: web.Application) -> None:
    """Add the talent pools page and its forms."""
    app.router.add_get(POOLS, pools_page)
    app.router.add_post(POOLS, create)
    app.router.add_post(f"{POOL}/members", add)
    app.router.add_post(f"{POOL}/members/{{person_id:\\d+}}/remove", remove)


def adding(pool_id: int) -> str:
    """The name of a pool's add-someone form (what a Problem and the typed values are keyed by)."""
    return f"pool-{pool_id}"


async def pools_page(request: web.Request) -> web.StreamResponse:
    """Every pool, its members, and the forms."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    talent_only(request, rt, visitor)
    return await _render(request, rt, visitor)


async def create(request: web.Request) -> web.StreamResponse:
    """Start a pool: a name (unique whatever its case) and an optional description."""
    rt, visitor, form = await posted_form(request, POOLS)
    talent_only(request, rt, visitor)
    typed = {"name": form_text(form, "name"), "description": form_text(form, "description")}
    try:
        async with unit_of_work(rt.sessions) as db:
            pool = await pools.create_pool(
                db, actor=visitor.actor, name=typed["name"], description=typed["description"], now=rt.clock()
            )
    except Invalid as invalid:
        return await _render(request, rt, visitor, Problem.of(CREATE, invalid), {CREATE: typed})
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=POOLS) from None
    raise _saved(request, "created", pool.id)


async def add(request: web.Request) -> web.StreamResponse:
    """Put the person typed or picked in the pool."""
    pool_id = _pool_of(request)
    rt, visitor, form = await posted_form(request, POOLS)
    talent_only(request, rt, visitor)
    typed = {"person": form_text(form, "person")}
    try:
        async with unit_of_work(rt.sessions) as db:
            person_id = await succession.resolve_person(db, actor=visitor.actor, text=typed["person"])
            await pools.add_member(
                db, actor=visitor.actor, pool_id=pool_id, person_id=person_id, now=rt.clock()
            )
    except (Invalid, Forbidden) as refused:
        # Forbidden here concerns the person typed (oneself, or someone outside the visitor's scope): the
        # visitor may use the page, so it is said by the field like any other reason they can't be added.
        key = adding(pool_id)
        problem = (
            Problem.of(key, refused)
            if isinstance(refused, Invalid)
            else Problem(key, refused.message, "person")
        )
        return await _render(request, rt, visitor, problem, {key: typed})
    except NotFound as missing:
        raise refused_page(request, rt, visitor, missing, retry_url=POOLS) from None
    raise _saved(request, "added", pool_id)


async def remove(request: web.Request) -> web.StreamResponse:
    """Take one member out of the pool."""
    pool_id = _pool_of(request)
    person_id = form_int(request.match_info.get("person_id"))
    rt, visitor, _form = await posted_form(request, POOLS)
    talent_only(request, rt, visitor)
    try:
        if person_id is None:
            raise NotFound(succession.NO_PERSON)
        async with unit_of_work(rt.sessions) as db:
            await pools.remove_member(db, actor=visitor.actor, pool_id=pool_id, person_id=person_id)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=POOLS) from None
    raise _saved(request, "removed", pool_id)


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    problem: Problem | None = None,
    typed: Mapping[str, Mapping[str, str]] | None = None,
) -> web.Response:
    """The page; with a problem, a 400 showing it by its form and what was typed there."""
    try:
        async with unit_of_work(rt.sessions) as db:
            found = await pools.list_pools(db, actor=visitor.actor)
    except Forbidden as refused:
        raise refused_page(request, rt, visitor, refused) from None
    return rt.pages.render(
        request,
        "talent_pools.html",
        title="Talent pools",
        visitor=visitor,
        status=400 if problem else 200,
        nav=NAV,
        sc=UI,
        pools=found,
        problem=problem,
        typed=typed or {},
        adding=adding,
        create_form=CREATE,
        limits=LIMITS,
        saved=None if problem else SAVED.get(request.query.get("saved", "")),
    )


def _pool_of(request: web.Request) -> int:
    pool_id = form_int(request.match_info.get("pool_id"))
    if pool_id is None:  # the route only matches digits: too long a number
        raise web.HTTPNotFound()
    return pool_id


def _saved(request: web.Request, what: str, pool_id: int) -> web.HTTPException:
    return web.HTTPSeeOther(f"{POOLS}?saved={what}{theme_query(request)}#pool-{pool_id}")

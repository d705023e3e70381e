"""The goal tabs: My goals (with the inline key-result update), Team goals and Alignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import alignment, goals
from domain.performance.goal_views import GoalView
from storage.uow import read_only, unit_of_work
from tabs import goal_display
from tabs.runtime import (
    TABS,
    TabsRuntime,
    form_field,
    form_int,
    posted_form,
    refuse,
    resolve_visitor,
    signin_redirect,
    theme_query,
)
from tabs.visitors import (
    Visitor,
)


@dataclass(frozen=True)
class MyGoals:
    """What the My goals page shows: the trees, each key result's history, what each tree aligns to."""

    goals: list[GoalView]
    history: dict[int, tuple[alignment.HistoryPoint, ...]]
    parents: dict[int, alignment.ParentLink]


async def goals_page(request: web.Request) -> web.StreamResponse:
    """My goals: my goal trees with progress, status, key-result history and an update form per result."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        page = await _my_goals(db, visitor.actor, rt.clock().date())
    updated = form_int(request.query.get("updated"))
    return _render_goals(request, rt, visitor, page, updated=updated, saved=saved_notice(request))


def saved_notice(request: web.Request) -> str | None:
    """What the goal edit page just did, from the query it redirected with (?edited= / ?closed=)."""
    if form_int(request.query.get("closed")) is not None:
        return "The goal is closed with its final score."
    if form_int(request.query.get("edited")) is not None:
        return "Your changes to the goal are saved."
    return None


async def update_key_result(request: web.Request) -> web.StreamResponse:
    """The inline form: a key result's new value, through the same service as the bot's card."""
    key_result_id = form_int(request.match_info["key_result_id"])
    rt, visitor, form = await posted_form(request, "/tabs/goals")
    value, version = form_field(form, "value"), form_int(form_field(form, "version"))
    try:
        if key_result_id is None:
            raise NotFound("That key result does not exist.")
        if version is None:
            raise Invalid("The form was incomplete: reload the page and try again.")
        async with unit_of_work(rt.sessions) as db:
            await goals.update_key_result(
                db,
                actor=visitor.actor,
                key_result_id=key_result_id,
                value=(value or "").strip(),
                expected_version=version,
                now=rt.clock(),
                comment=form_field(form, "comment"),
            )
    except goals.KeyResultChanged as changed:
        return await _goals_again(request, rt, visitor, 409, form_errors={key_result_id: changed.message})
    except Invalid as invalid:
        entered = {key_result_id: value or ""}
        errors = {key_result_id: invalid.message}
        return await _goals_again(request, rt, visitor, 400, form_errors=errors, entered=entered)
    except (Forbidden, NotFound) as refused:
        status = 403 if isinstance(refused, Forbidden) else 404
        return await _goals_again(request, rt, visitor, status, problem=refused.message)
    theme = theme_query(request)
    raise web.HTTPSeeOther(f"/tabs/goals?updated={key_result_id}{theme}#kr-{key_result_id}")


async def _goals_again(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, status: int, **messages: Any
) -> web.StreamResponse:
    """My goals as they are now, with the form's message: nothing was written."""
    async with read_only(rt.sessions) as db:
        page = await _my_goals(db, visitor.actor, rt.clock().date())
    return _render_goals(request, rt, visitor, page, status=status, **messages)


async def _my_goals(db: AsyncSession, actor: Actor, today: date) -> MyGoals:
    trees = await goals.my_goals(db, actor=actor, today=today)
    kr_ids = [kr.id for goal in _walk_goals(trees) for kr in goal.key_results]
    history = await alignment.key_result_history(db, actor=actor, key_result_ids=kr_ids)
    parents = await alignment.aligned_to(db, actor=actor, goal_ids=[g.id for g in trees if g.parent_id])
    return MyGoals(trees, history, parents)


def _walk_goals(trees: list[GoalView]) -> list[GoalView]:
    found, stack = [], list(trees)
    while stack:
        goal = stack.pop()
        found.append(goal)
        stack.extend(goal.children)
    return found


def _render_goals(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    page: MyGoals,
    *,
    status: int = 200,
    updated: int | None = None,
    saved: str | None = None,
    form_errors: dict[int | None, str] | None = None,
    entered: dict[int | None, str] | None = None,
    problem: str | None = None,
) -> web.Response:
    return rt.pages.render(
        request,
        "goals.html",
        title="My goals",
        visitor=visitor,
        status=status,
        nav="goals",
        ui=goal_display,
        page=page,
        updated=updated,
        saved=saved,
        form_errors=form_errors or {},
        entered=entered or {},
        problem=problem,
    )


async def team_goals_page(request: web.Request) -> web.StreamResponse:
    """Team goals: everyone in my line (HR: the organization) and their goals, filterable by status."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        if not alignment.may_see_team_goals(visitor.actor):
            raise rt.pages.error(
                request,
                status=403,
                title="Team goals are for managers",
                message="No one reports to you, so there are no team goals to show. Your own goals are "
                "on My goals; how they add up is on Alignment.",
                retry_url="/tabs/goals",
                visitor=visitor,
            )
        try:
            view = await alignment.team_goals(
                db,
                actor=visitor.actor,
                today=rt.clock().date(),
                status=request.query.get("status") or None,
                page=form_int(request.query.get("page")) or 1,
                scope=request.query.get("scope") or None,
            )
        except (Invalid, Forbidden) as refused:
            raise rt.pages.error(
                request,
                status=400 if isinstance(refused, Invalid) else 403,
                title="Team goals",
                message=refused.message,
                retry_url="/tabs/team-goals",
                visitor=visitor,
            ) from None
    return rt.pages.render(
        request,
        "team_goals.html",
        title="Team goals",
        visitor=visitor,
        nav="team-goals",
        ui=goal_display,
        view=view,
        saved=saved_notice(request),
    )


async def alignment_page(request: web.Request) -> web.StreamResponse:
    """Alignment: company → team → individual goals, collapsed beyond two levels; ?root= focuses one goal."""
    rt = request.app[TABS]
    root_id = form_int(request.query.get("root"))
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        view = await _alignment(request, rt, db, visitor, root_id)
    return rt.pages.render(
        request,
        "alignment.html",
        title="Alignment",
        visitor=visitor,
        nav="alignment",
        ui=goal_display,
        view=view,
    )


async def alignment_node(request: web.Request) -> web.StreamResponse:
    """The goals aligned to one goal, as an HTML fragment the Alignment page inserts when a node opens."""
    rt = request.app[TABS]
    root_id = form_int(request.match_info["goal_id"])
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise refuse(request, 401, "not signed in")
        view = await _alignment(request, rt, db, visitor, root_id, fragment=True)
    return rt.pages.render(
        request,
        "_alignment_children.html",
        title="Alignment",
        visitor=visitor,
        ui=goal_display,
        node=view.roots[0],
        offset=view.offset,
    )


async def _alignment(
    request: web.Request,
    rt: TabsRuntime,
    db: AsyncSession,
    visitor: Visitor,
    root_id: int | None,
    *,
    fragment: bool = False,
) -> alignment.AlignmentView:
    asked_root = request.query.get("root") if not fragment else request.match_info["goal_id"]
    offset = form_int(request.query.get("offset")) or 0
    try:
        if asked_root and root_id is None:
            raise NotFound("That goal does not exist.")
        return await alignment.alignment(
            db, actor=visitor.actor, today=rt.clock().date(), root_id=root_id, offset=offset
        )
    except (NotFound, Invalid) as missing:
        if fragment:
            raise refuse(request, 404, missing.message) from None
        raise rt.pages.error(
            request,
            status=404 if isinstance(missing, NotFound) else 400,
            title="Goal not found",
            message=missing.message,
            retry_url="/tabs/alignment",
            visitor=visitor,
        ) from None

"""Edit goal: the owner, their manager line and HR change a goal's title, description, period, visibility,
type and weight, or close it with a final score.

Visitors, CSRF, error pages and redirects work as on the other tab pages (tabs.routes); the writes go
through goals.edit_goal and goals.close_goal, each in one unit of work, so a refused form writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import goals
from domain.performance.goal_views import GoalView
from storage.uow import read_only, unit_of_work
from tabs import goal_display
from tabs import goal_edit_forms as forms
from tabs.goal_edit_forms import CloseForm, EditForm, Problem
from tabs.pages import theme_of
from tabs.runtime import (
    TABS,
    TabsRuntime,
    form_int,
    posted_form,
    resolve_visitor,
    signin_redirect,
    theme_query,
)
from tabs.visitors import Visitor

PAGE = "/tabs/goals/{goal_id}/edit"
NO_ACCESS = "You can't change this goal: only its owner, their managers and HR can."


def mount_goal_edit(app: web.Application) -> None:
    """Add the Edit goal page and its two forms; tabs.routes.mount calls this."""
    app.router.add_get(PAGE, edit_page)
    app.router.add_post(PAGE, save_goal)
    app.router.add_post("/tabs/goals/{goal_id}/close", close_goal)


# --- pages -------------------------------------------------------------------------------------------


async def edit_page(request: web.Request) -> web.StreamResponse:
    """The goal's fields in a form, and the Close form; a closed goal only says it can't change."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
        if visitor is None:
            raise signin_redirect(request)
        goal = await _editable_goal(request, rt, db, visitor, form_int(request.match_info["goal_id"]))
    return _render(request, rt, visitor, goal, edit=EditForm.of(goal))


async def save_goal(request: web.Request) -> web.StreamResponse:
    """The Edit form: every field as typed goes to goals.edit_goal, then back to the goals."""
    rt, visitor, form, goal_id = await _posted(request)
    entered = EditForm.posted(form)
    try:
        changes = entered.changes()
        async with unit_of_work(rt.sessions) as db:
            await goals.edit_goal(db, actor=visitor.actor, goal_id=goal_id, now=rt.clock(), **changes)
    except Invalid as invalid:
        return await _again(
            request, rt, visitor, goal_id, 400, edit=entered, edit_problem=Problem.of(invalid)
        )
    except (Forbidden, NotFound) as refused:
        raise _refusal(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(_back(request, "edited", goal_id))


async def close_goal(request: web.Request) -> web.StreamResponse:
    """The Close form: the final score in percent goes to goals.close_goal, then back to the goals."""
    rt, visitor, form, goal_id = await _posted(request)
    entered = CloseForm.posted(form)
    try:
        score = entered.final_score()
        async with unit_of_work(rt.sessions) as db:
            await goals.close_goal(
                db, actor=visitor.actor, goal_id=goal_id, final_score=score, now=rt.clock()
            )
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _again(
            request, rt, visitor, goal_id, status, close=entered, close_problem=Problem.of(refused)
        )
    except (Forbidden, NotFound) as refused:
        raise _refusal(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(_back(request, "closed", goal_id))


# --- helpers -----------------------------------------------------------------------------------------


async def _posted(request: web.Request) -> tuple[TabsRuntime, Visitor, Mapping[str, object], int]:
    """The runtime, the signed-in visitor, the form and the goal id of a POST, refused as the other tab
    forms are: no session → sign in, no CSRF token → 403, no such goal → 404."""
    goal_id = form_int(request.match_info["goal_id"])
    rt, visitor, form = await posted_form(
        request, f"/tabs/goals/{goal_id}/edit" if goal_id else "/tabs/goals"
    )
    if goal_id is None:
        raise _refusal(request, rt, visitor, NotFound("That goal does not exist."))
    return rt, visitor, form, goal_id


async def _editable_goal(
    request: web.Request, rt: TabsRuntime, db: AsyncSession, visitor: Visitor, goal_id: int | None
) -> GoalView:
    """The goal, or the 404 (not visible) or 403 (visible, not the visitor's to change) page."""
    try:
        if goal_id is None:
            raise NotFound("That goal does not exist.")
        goal = await goals.get_goal(db, actor=visitor.actor, goal_id=goal_id, today=rt.clock().date())
        if not await goals.may_edit(db, actor=visitor.actor, goal_id=goal.id):
            raise Forbidden(NO_ACCESS)
    except (Forbidden, NotFound) as refused:
        raise _refusal(request, rt, visitor, refused) from None
    return goal


async def _again(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, goal_id: int, status: int, **form: object
) -> web.Response:
    """The page as the store has it now, with what was typed and why it was refused: nothing was written."""
    # The form checks its fields before the service checks who is asking: someone who may not change
    # the goal gets the 403 for a malformed form too, never the form.
    async with read_only(rt.sessions) as db:
        goal = await _editable_goal(request, rt, db, visitor, goal_id)
    form.setdefault("edit", EditForm.of(goal))
    return _render(request, rt, visitor, goal, status=status, **form)


def _back(request: web.Request, outcome: str, goal_id: int) -> str:
    """Where a saved form goes: Team goals when it was opened from there, My goals otherwise."""
    page = "/tabs/team-goals" if request.query.get("back") == "team" else "/tabs/goals"
    return f"{page}?{outcome}={goal_id}{theme_query(request)}#goal-{goal_id}"


def _form_query(request: web.Request, back_team: bool) -> str:
    """What the forms post to keep: where to go back to, and the theme."""
    theme = theme_of(request)
    parts = ["back=team"] if back_team else []
    if theme != "default":
        parts.append(f"theme={theme}")
    return "?" + "&".join(parts) if parts else ""


def _refusal(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: Forbidden | NotFound
) -> web.HTTPException:
    forbidden = isinstance(refused, Forbidden)
    return rt.pages.error(
        request,
        status=403 if forbidden else 404,
        title="You can't change this goal" if forbidden else "Goal not found",
        message=refused.message,
        retry_url="/tabs/goals",
        visitor=visitor,
    )


def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    goal: GoalView,
    *,
    status: int = 200,
    edit: EditForm,
    edit_problem: Problem | None = None,
    close: CloseForm | None = None,
    close_problem: Problem | None = None,
) -> web.Response:
    back_team = request.query.get("back") == "team"
    return rt.pages.render(
        request,
        "goal_edit.html",
        title="Edit goal",
        visitor=visitor,
        status=status,
        nav="team-goals" if back_team else "goals",
        ui=goal_display,
        forms=forms,
        goal=goal,
        back_team=back_team,
        query=_form_query(request, back_team),
        periods=forms.period_options(rt.clock().date(), edit, goal.period),
        edit=edit,
        edit_problem=edit_problem,
        close=close or CloseForm(),
        close_problem=close_problem,
    )

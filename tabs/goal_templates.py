"""The Goal templates tab: HR and managers define a goal once, then assign it to a department or a list
of people in one action.

Visitors, CSRF, error pages and redirects work exactly as on the other tab pages (tabs.routes); the
writes go through goals.create_template and goals.assign_template, each in one unit of work, so a
refused form writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import goal_templates, goals
from domain.performance.goal_progress import Period
from domain.performance.goal_templates import NamedAssignment
from domain.performance.goal_views import TemplateView
from storage.uow import read_only, unit_of_work
from tabs import goal_display
from tabs import goal_template_forms as forms
from tabs.goal_template_forms import AssignForm, TemplateForm
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

PAGE = "/tabs/goal-templates"
NAV = "goal-templates"
NO_ACCESS = (
    "Goal templates are for HR and managers. To set a goal of your own, ask the Trellis bot "
    "(“new goal”) or see My goals."
)


def mount_templates(app: web.Application) -> None:
    """Add the Goal templates pages; tabs.routes.mount calls this."""
    app.router.add_get(PAGE, templates_page)
    app.router.add_post(PAGE, create_template)
    app.router.add_post(f"{PAGE}/assign", assign_template)


# --- pages -------------------------------------------------------------------------------------------


async def templates_page(request: web.Request) -> web.StreamResponse:
    """The templates with their key results, the New template form and the Assign form."""
    rt = request.app[TABS]
    async with read_only(rt.sessions) as db:
        visitor = await resolve_visitor(request, rt, db)
    if visitor is None:
        raise signin_redirect(request)
    _require_access(request, rt, visitor)
    created = form_int(request.query.get("created"))
    # A template just saved is the one to assign next.
    chosen = request.query.get("template") or (str(created) if created else "")
    return await _render(request, rt, visitor, created=created, assign=AssignForm(template_id=chosen))


async def create_template(request: web.Request) -> web.StreamResponse:
    """The New template form: one template with up to five key results, then back to the list."""
    rt, visitor, form = await _posted(request)
    entered = TemplateForm.posted(form)
    try:
        key_results = entered.key_results()
        async with unit_of_work(rt.sessions) as db:
            template = await goals.create_template(
                db,
                actor=visitor.actor,
                title=entered.title,
                now=rt.clock(),
                description=entered.description,
                visibility=entered.visibility,
                kind=entered.kind,
                key_results=key_results,
            )
    except Invalid as invalid:
        return await _render(request, rt, visitor, status=400, create=entered, create_error=invalid.message)
    except Forbidden as refused:
        raise _no_access(request, rt, visitor, refused.message) from None
    raise web.HTTPSeeOther(f"{PAGE}?created={template.id}{theme_query(request)}#template-{template.id}")


async def assign_template(request: web.Request) -> web.StreamResponse:
    """The Assign form: one goal from the template for each person chosen, then who got one and who not.

    The outcome is shown in answer to the POST rather than after a redirect: it exists only now, and
    sending the form again is harmless (assigning again never duplicates; it reports "already had it")."""
    rt, visitor, form = await _posted(request)
    entered = AssignForm.posted(form)
    try:
        async with unit_of_work(rt.sessions) as db:
            template_id = entered.template()
            template = await goal_templates.get_template(db, actor=visitor.actor, template_id=template_id)
            department = await _department(db, visitor, entered)
            lines = entered.people_lines()
            person_ids = await goal_templates.resolve_people(db, actor=visitor.actor, lines=lines)
            if department is None and not person_ids:
                raise Invalid("Choose a department, or type the people to assign the goal to (or both).")
            report = await goals.assign_template(
                db,
                actor=visitor.actor,
                template_id=template_id,
                period=entered.period,
                now=rt.clock(),
                department=department,
                person_ids=person_ids or None,
            )
            outcome = await goal_templates.name_report(db, actor=visitor.actor, report=report)
    except (Invalid, NotFound) as invalid:
        status = 404 if isinstance(invalid, NotFound) else 400
        return await _render(
            request, rt, visitor, status=status, assign=entered, assign_error=invalid.message
        )
    except Forbidden as refused:
        raise _no_access(request, rt, visitor, refused.message) from None
    return _render_outcome(request, rt, visitor, template, entered, outcome)


# --- helpers -----------------------------------------------------------------------------------------


async def _posted(request: web.Request) -> tuple[TabsRuntime, Visitor, Mapping[str, object]]:
    """The runtime, the signed-in visitor and the form of a POST, refused as the other tab forms are:
    no session → sign in, no CSRF token → 403, neither HR nor a manager → 403."""
    rt, visitor, form = await posted_form(request, PAGE)
    _require_access(request, rt, visitor)
    return rt, visitor, form


async def _department(db: AsyncSession, visitor: Visitor, entered: AssignForm) -> str | None:
    """The chosen department, or None; one that no active person belongs to is a mistake, not a no-op."""
    if not entered.department:
        return None
    if entered.department not in await goal_templates.departments(db, actor=visitor.actor):
        raise Invalid(f"No one active is in a department called “{entered.department}”.")
    return entered.department


def _require_access(request: web.Request, rt: TabsRuntime, visitor: Visitor) -> None:
    if not goal_templates.may_use_templates(visitor.actor):
        raise _no_access(request, rt, visitor, NO_ACCESS)


def _no_access(request: web.Request, rt: TabsRuntime, visitor: Visitor, message: str) -> web.HTTPException:
    return rt.pages.error(
        request,
        status=403,
        title="No access to goal templates",
        message=message,
        retry_url="/tabs/goals",
        visitor=visitor,
    )


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    created: int | None = None,
    create: TemplateForm | None = None,
    create_error: str | None = None,
    assign: AssignForm | None = None,
    assign_error: str | None = None,
) -> web.Response:
    """The Goal templates page as the store has it now, with what was typed into a refused form."""
    async with read_only(rt.sessions) as db:
        templates = await goal_templates.list_templates(db, actor=visitor.actor)
        departments = await goal_templates.departments(db, actor=visitor.actor)
    today = rt.clock().date()
    assign = assign or AssignForm()
    if not assign.period:
        assign = AssignForm(
            assign.template_id, forms.current_quarter(today), assign.department, assign.people
        )
    return rt.pages.render(
        request,
        "goal_templates.html",
        title="Goal templates",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=goal_display,
        forms=forms,
        templates=templates,
        created=_find(templates, created),
        departments=departments,
        periods=forms.period_choices(today),
        create=create or TemplateForm(),
        create_error=create_error,
        assign=assign,
        assign_error=assign_error,
    )


def _find(templates: list[TemplateView], template_id: int | None) -> TemplateView | None:
    return next((t for t in templates if t.id == template_id), None)


def _render_outcome(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    template: TemplateView,
    entered: AssignForm,
    outcome: NamedAssignment,
) -> web.Response:
    return rt.pages.render(
        request,
        "goal_template_assigned.html",
        title="Template assigned",
        visitor=visitor,
        nav=NAV,
        assigned=template,
        # assign_template accepted it, so it parses.
        period=goal_display.period(Period.of(entered.period)),
        department=entered.department or None,
        listed=len(entered.people_lines()),
        outcome=outcome,
    )

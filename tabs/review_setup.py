"""Review setup for HR: the review templates, the New template form and the New cycle form (saved as a
draft, or saved and launched in one go).

The New template form's competencies sections may rate framework competencies, ticked from the active
ones by category (domain.competencies.list_framework), besides or instead of typed ones.

Each form goes through its service in one unit of work (review_templates.create_template;
review_cycles.create_cycle, then launch_cycle when asked), so a refusal anywhere, launching included,
writes nothing: the page comes back with what was typed and the refusal next to the field it is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain import competencies
from domain.competency_views import CategoryView, CompetencyView
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import goal_templates, review_cycles, review_templates
from domain.performance.review_views import ParticipantRule
from storage.uow import unit_of_work
from tabs import review_display as ui
from tabs import review_forms as forms
from tabs.navigation import REVIEW_CYCLES, REVIEW_SETUP
from tabs.review_common import hr_only, refusal
from tabs.review_forms import CycleForm, FieldInvalid, Problem, TemplateForm
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form, reading, theme_query
from tabs.visitors import Visitor

NAV = "review-cycles"
WHO_FIELDS = {"department": "department", "manager": "manager", "people": "people"}


def mount(app: web.Application) -> None:
    """Add the Review setup page and its two forms."""
    app.router.add_get(REVIEW_SETUP, setup_page)
    app.router.add_post(f"{REVIEW_SETUP}/templates", create_template)
    app.router.add_post(f"{REVIEW_SETUP}/cycles", create_cycle)


async def setup_page(request: web.Request) -> web.StreamResponse:
    """The templates, and the forms to define a template and a cycle."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    hr_only(request, rt, visitor)
    created = form_int(request.query.get("template_created"))
    chosen = str(created) if created else request.query.get("template", "")
    return await _render(request, rt, visitor, created=created, cycle=CycleForm(template_id=chosen))


async def create_template(request: web.Request) -> web.StreamResponse:
    """The New template form: a scale and up to SECTION_ROWS sections, then back to the page."""
    rt, visitor, form = await posted_form(request, REVIEW_SETUP)
    hr_only(request, rt, visitor)
    entered = TemplateForm.posted(form)
    try:
        sections = entered.section_inputs()
        async with unit_of_work(rt.sessions) as db:
            template = await review_templates.create_template(
                db,
                actor=visitor.actor,
                name=entered.name,
                scale=entered.scale_labels(),
                sections=sections,
                now=rt.clock(),
                description=entered.description,
            )
    except Invalid as invalid:
        async with reading(rt, visitor.actor) as db:
            names = {c.id: c.name for c in (await _framework(db, visitor)).competencies}
        problem = entered.problem(invalid, names)
        return await _render(request, rt, visitor, status=400, template=entered, template_problem=problem)
    except Forbidden as refused:
        raise refusal(request, rt, visitor, refused, title="Review setup is for HR") from None
    raise web.HTTPSeeOther(
        f"{REVIEW_SETUP}?template_created={template.id}{theme_query(request)}#template-{template.id}"
    )


async def create_cycle(request: web.Request) -> web.StreamResponse:
    """The New cycle form: a draft, or (Save and launch) a launched cycle with its participants frozen."""
    rt, visitor, form = await posted_form(request, REVIEW_SETUP)
    hr_only(request, rt, visitor)
    entered = CycleForm.posted(form)
    who_field = WHO_FIELDS.get(entered.who)
    try:
        template_id = entered.template()
        start, end = entered.period()
        deadlines = entered.cycle_deadlines()
        async with unit_of_work(rt.sessions) as db:
            rule = await _rule(db, visitor, entered)
            cycle = await review_cycles.create_cycle(
                db,
                actor=visitor.actor,
                name=entered.name,
                template_id=template_id,
                period_start=start,
                period_end=end,
                deadlines=deadlines,
                participants=rule,
                now=rt.clock(),
                recurrence=entered.recurrence,
            )
            if entered.launch:
                cycle = await review_cycles.launch_cycle(
                    db, actor=visitor.actor, cycle_id=cycle.id, now=rt.clock()
                )
    except (Invalid, NotFound) as refused:
        return await _render(
            request,
            rt,
            visitor,
            status=400,
            cycle=entered,
            cycle_problem=entered.problem(refused, who_field=who_field),
        )
    except Forbidden as refused:
        raise refusal(request, rt, visitor, refused, title="Review setup is for HR") from None
    outcome = "launched" if entered.launch else "created"
    raise web.HTTPSeeOther(f"{REVIEW_CYCLES}/{cycle.id}?{outcome}=1{theme_query(request)}")


async def _rule(db: AsyncSession, visitor: Visitor, entered: CycleForm) -> ParticipantRule:
    """Who the cycle reviews, from the part of the form chosen; FieldInvalid names the box to fix."""
    actor = visitor.actor
    if entered.who == "department":
        if not entered.department:
            raise FieldInvalid("department", "Choose the department to review.")
        if entered.department not in await goal_templates.departments(db, actor=actor):
            raise FieldInvalid(
                "department", f"No one active is in a department called “{entered.department}”."
            )
        return ParticipantRule.of_department(entered.department)
    if entered.who == "manager":
        line = entered.manager_line()
        try:
            [manager_id] = await goal_templates.resolve_people(db, actor=actor, lines=[line])
        except Invalid as invalid:
            raise FieldInvalid("manager", invalid.message) from None
        return ParticipantRule.below_manager(manager_id)
    if entered.who == "people":
        lines = entered.people_lines()
        try:
            person_ids = await goal_templates.resolve_people(db, actor=actor, lines=lines)
        except Invalid as invalid:
            raise FieldInvalid("people", invalid.message) from None
        return ParticipantRule.people(person_ids)
    raise FieldInvalid(
        "who", "Choose who the cycle reviews: a department, everyone below a manager, or a list of people."
    )


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    created: int | None = None,
    template: TemplateForm | None = None,
    template_problem: Problem | None = None,
    cycle: CycleForm | None = None,
    cycle_problem: Problem | None = None,
) -> web.Response:
    """The page as the store has it now, with what was typed into a refused form."""
    async with reading(rt, visitor.actor) as db:
        templates = await review_templates.list_templates(db, actor=visitor.actor)
        departments = await goal_templates.departments(db, actor=visitor.actor)
        framework = await _framework(db, visitor)
    return rt.pages.render(
        request,
        "review_setup.html",
        title="Review setup",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=ui,
        forms=forms,
        templates=templates,
        created=next((t for t in templates if t.id == created), None),
        departments=departments,
        tform=template or TemplateForm(),
        template_problem=template_problem,
        cform=cycle or CycleForm(),
        cycle_problem=cycle_problem,
        framework=framework.categories,
    )


@dataclass(frozen=True)
class _Framework:
    """The framework competencies a template may rate: the active ones, by category."""

    categories: tuple[CategoryView, ...]

    @property
    def competencies(self) -> tuple[CompetencyView, ...]:
        return tuple(c for group in self.categories for c in group.competencies)


async def _framework(db: AsyncSession, visitor: Visitor) -> _Framework:
    """The active framework competencies by category (HR's view also lists the retired: left out here)."""
    framework = await competencies.list_framework(db, actor=visitor.actor)
    groups = (
        CategoryView(group.category, tuple(c for c in group.competencies if c.active))
        for group in framework.categories
    )
    return _Framework(tuple(group for group in groups if group.competencies))

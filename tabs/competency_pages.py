"""The competency framework page (HR) and a person's competencies page: gaps, career options, history.

Framework (/tabs/talent/framework): competencies by category with their level descriptions, role profiles
with what they expect, career steps, and the forms that add to them. HR only: anyone else gets the refusal
page. Competencies (/tabs/people/{id}/competencies): the person's gap to their current role and to each
next role, their assessment history, and for their manager line and HR a form to record an assessment;
the person reads it, without the form. Each gap of the current role has a "Close this gap" form for
whoever may edit the person's development plan (the person, their line, HR: tabs/development_pages.py's
GapCloser), which adds a development action and goes on to the plan with the action highlighted. Nothing
from talent reviews or succession is on either page.

Visitors, CSRF, error pages and redirects work as on the other tab pages (tabs.runtime). The services in
domain/competencies.py and domain/talent/careers.py decide who may see and do what; a refused form writes
nothing and is shown again (400) with the message next to its field and what was typed kept.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from aiohttp import web

from domain import competencies
from domain.access import may_define_competencies
from domain.competency_views import (
    LEVELS_MAX,
    SOURCE_LABELS,
    STEP_KIND_LABELS,
    FrameworkView,
    RequirementInput,
    StepKind,
)
from domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.talent import careers, development
from storage.uow import read_only, unit_of_work
from tabs import development_pages
from tabs.development_pages import CloseGapForm, GapCloser
from tabs.navigation import DEVELOPMENT, FRAMEWORK, HOME
from tabs.pages import theme_of
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form, theme_query
from tabs.visitors import Visitor

NAV = "framework"
PERSON_PAGE = "/tabs/people/{person_id}/competencies"
CLOSE_GAP = PERSON_PAGE + "/gaps"
REQUIREMENT_ROWS = 6
NO_ACCESS = (
    "The competency framework is HR's to define. Your own competencies and career options are on your "
    "competencies page."
)


def mount_competencies(app: web.Application) -> None:
    """Add the framework page, a person's competencies page and their forms; tabs.routes calls this."""
    app.router.add_get(FRAMEWORK, framework_page)
    app.router.add_post(f"{FRAMEWORK}/competencies", add_competency)
    app.router.add_post(f"{FRAMEWORK}/competencies/{{competency_id}}/active", set_active)
    app.router.add_post(f"{FRAMEWORK}/profiles", add_profile)
    app.router.add_post(f"{FRAMEWORK}/steps", add_step)
    app.router.add_post(f"{FRAMEWORK}/steps/remove", remove_step)
    app.router.add_get(PERSON_PAGE, person_page)
    app.router.add_post(PERSON_PAGE, record_assessment)
    app.router.add_post(CLOSE_GAP, close_gap)


# --- what was typed ------------------------------------------------------------------------------------


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Problem:
    """A refusal to show next to `field`, or above the form's button when `field` is None."""

    message: str
    field: str | None = None


def _problem(error: DomainError, rules: Sequence[tuple[str, str]], default: str | None) -> Problem:
    """The refusal next to the field its sentence is about: the first rule whose words it contains, outside
    what it quotes of the typed text (a competency called "Levelling" is about its name, not its levels)."""
    own_words = re.sub(r"“[^”]*”", "", error.message).lower()
    return Problem(error.message, next((name for words, name in rules if words in own_words), default))


# The services' sentences name what they refuse; these say which field each is about, first match wins.
COMPETENCY_FIELDS = (("level", "levels"), ("category", "category"), ("description", "description"))
ASSESSMENT_FIELDS = (
    ("level", "level"),
    ("day", "on"),
    ("note", "note"),
    ("competenc", "competency_id"),
    ("retired", "competency_id"),
)
PROFILE_FIELDS = (("role profile named", "name"), ("job title", "job_title"), ("description", "description"))


@dataclass(frozen=True)
class CompetencyForm:
    """The Add a competency form as typed: the levels one per line, lowest first."""

    name: str = ""
    category: str = ""
    levels: str = ""
    description: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> CompetencyForm:
        return cls(
            _text(form, "name"), _text(form, "category"), _text(form, "levels"), _text(form, "description")
        )

    def level_lines(self) -> list[str]:
        return [line.strip() for line in self.levels.splitlines() if line.strip()]


@dataclass(frozen=True)
class RequirementRow:
    """One requirement row of the role profile form as typed."""

    competency_id: str = ""
    level: str = ""
    weight: str = ""

    @property
    def blank(self) -> bool:
        return not (self.competency_id.strip() or self.level.strip() or self.weight.strip())


@dataclass(frozen=True)
class ProfileForm:
    """The Add a role profile form as typed."""

    name: str = ""
    job_title: str = ""
    description: str = ""
    rows: tuple[RequirementRow, ...] = field(
        default_factory=lambda: tuple(RequirementRow() for _ in range(REQUIREMENT_ROWS))
    )

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> ProfileForm:
        rows = tuple(
            RequirementRow(
                _text(form, f"req{i}_competency"), _text(form, f"req{i}_level"), _text(form, f"req{i}_weight")
            )
            for i in range(REQUIREMENT_ROWS)
        )
        return cls(_text(form, "name"), _text(form, "job_title"), _text(form, "description"), rows)

    def requirements(self) -> list[RequirementInput]:
        """The filled rows as domain input; a row half filled is refused, naming its field."""
        found = []
        for n, row in enumerate(self.rows):
            if row.blank:
                continue
            competency_id = form_int(row.competency_id)
            if competency_id is None:
                raise _RowInvalid(f"Requirement {n + 1}: choose a competency.", f"req{n}_competency")
            level = form_int(row.level)
            if level is None:
                raise _RowInvalid(
                    f"Requirement {n + 1}: type the expected level (a whole number).", f"req{n}_level"
                )
            found.append(RequirementInput(competency_id, level, row.weight.strip() or 1))
        return found

    def problem(self, error: DomainError, framework: FrameworkView) -> Problem:
        """Next to the requirement row a refusal names (by its competency), or the field it is about."""
        if isinstance(error, _RowInvalid):
            return Problem(error.message, error.field)
        if isinstance(error, NotFound):
            return Problem(error.message, None)
        about_profile = _problem(error, PROFILE_FIELDS, None)
        if about_profile.field is not None:
            return about_profile
        # The requirement sentences name their competency: next to the row that chose it.
        names = {str(c.id): c.name for c in framework.competencies}
        for n, row in enumerate(self.rows):
            name = names.get(row.competency_id.strip())
            if name and f"“{name}”" in error.message:
                lowered = error.message.lower()
                target = "weight" if "weight" in lowered else "level" if "level" in lowered else "competency"
                return Problem(error.message, f"req{n}_{target}")
        return Problem(error.message, "name")


class _RowInvalid(Invalid):
    def __init__(self, message: str, field_name: str) -> None:
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class StepForm:
    """The Add a career step form as typed."""

    from_id: str = ""
    to_id: str = ""
    kind: str = StepKind.LADDER.value

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> StepForm:
        return cls(_text(form, "from_id"), _text(form, "to_id"), _text(form, "kind") or StepKind.LADDER.value)


@dataclass(frozen=True)
class AssessmentForm:
    """The Record an assessment form as typed; request_id makes a second submit harmless."""

    competency_id: str = ""
    level: str = ""
    on: str = ""
    note: str = ""
    request_id: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> AssessmentForm:
        return cls(
            _text(form, "competency_id"),
            _text(form, "level"),
            _text(form, "on"),
            _text(form, "note"),
            _text(form, "request_id"),
        )

    @classmethod
    def fresh(cls, today: date) -> AssessmentForm:
        return cls(on=today.isoformat(), request_id=uuid.uuid4().hex)


# --- the framework -------------------------------------------------------------------------------------


async def framework_page(request: web.Request) -> web.StreamResponse:
    """The framework, with the forms that add to it (HR)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    _hr_only(request, rt, visitor)
    return await _render_framework(request, rt, visitor, saved=request.query.get("saved", ""))


async def add_competency(request: web.Request) -> web.StreamResponse:
    """The Add a competency form: one competency, levels one per line."""
    rt, visitor, form = await _posted_framework(request)
    entered = CompetencyForm.posted(form)
    try:
        async with unit_of_work(rt.sessions) as db:
            made = await competencies.create_competency(
                db,
                actor=visitor.actor,
                name=entered.name,
                category=entered.category,
                levels=entered.level_lines(),
                description=entered.description,
            )
    except Invalid as invalid:
        problem = _problem(invalid, COMPETENCY_FIELDS, "name")
        return await _render_framework(
            request, rt, visitor, status=400, competency=entered, competency_problem=problem
        )
    except Forbidden as refused:
        raise _no_access(request, rt, visitor, refused.message) from None
    raise web.HTTPSeeOther(f"{FRAMEWORK}?saved=competency{theme_query(request)}#competency-{made.id}")


async def set_active(request: web.Request) -> web.StreamResponse:
    """Retire a competency, or bring it back."""
    rt, visitor, form = await _posted_framework(request)
    competency_id = form_int(request.match_info.get("competency_id"))
    active = _text(form, "active") == "1"
    try:
        if competency_id is None:
            raise NotFound("That competency does not exist.")
        async with unit_of_work(rt.sessions) as db:
            change = competencies.reactivate_competency if active else competencies.deactivate_competency
            await change(db, actor=visitor.actor, competency_id=competency_id)
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(f"{FRAMEWORK}?saved=competency{theme_query(request)}#competency-{competency_id}")


async def add_profile(request: web.Request) -> web.StreamResponse:
    """The Add a role profile form: a name, the job title it maps, up to six requirements."""
    rt, visitor, form = await _posted_framework(request)
    entered = ProfileForm.posted(form)
    try:
        requirements = entered.requirements()
        async with unit_of_work(rt.sessions) as db:
            made = await competencies.create_role_profile(
                db,
                actor=visitor.actor,
                name=entered.name,
                description=entered.description,
                job_title=entered.job_title,
                requirements=requirements,
            )
    except (Invalid, NotFound) as invalid:
        async with read_only(rt.sessions) as db:
            framework = await competencies.list_framework(db, actor=visitor.actor)
        problem = entered.problem(invalid, framework)
        return await _render_framework(
            request, rt, visitor, status=400, profile=entered, profile_problem=problem
        )
    except Forbidden as refused:
        raise _no_access(request, rt, visitor, refused.message) from None
    raise web.HTTPSeeOther(f"{FRAMEWORK}?saved=profile{theme_query(request)}#profile-{made.id}")


async def add_step(request: web.Request) -> web.StreamResponse:
    """The Add a career step form: from a role profile to a next one, up or across."""
    rt, visitor, form = await _posted_framework(request)
    entered = StepForm.posted(form)
    try:
        origin, target = form_int(entered.from_id), form_int(entered.to_id)
        if origin is None or target is None:
            raise Invalid("Choose the role a step starts from and the next role it leads to.")
        async with unit_of_work(rt.sessions) as db:
            await careers.add_career_step(
                db, actor=visitor.actor, from_profile_id=origin, to_profile_id=target, kind=entered.kind
            )
    except (Invalid, NotFound) as invalid:
        problem = Problem(invalid.message, "kind" if "kind of career step" in invalid.message else "to_id")
        return await _render_framework(request, rt, visitor, status=400, step=entered, step_problem=problem)
    except Forbidden as refused:
        raise _no_access(request, rt, visitor, refused.message) from None
    raise web.HTTPSeeOther(f"{FRAMEWORK}?saved=step{theme_query(request)}#steps")


async def remove_step(request: web.Request) -> web.StreamResponse:
    """Remove a career step."""
    rt, visitor, form = await _posted_framework(request)
    origin, target = form_int(_text(form, "from_id")), form_int(_text(form, "to_id"))
    try:
        if origin is None or target is None:
            raise NotFound(careers.STEP_NOT_FOUND)
        async with unit_of_work(rt.sessions) as db:
            await careers.remove_career_step(
                db, actor=visitor.actor, from_profile_id=origin, to_profile_id=target
            )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(f"{FRAMEWORK}?saved=removed{theme_query(request)}#steps")


async def _posted_framework(request: web.Request) -> tuple[TabsRuntime, Visitor, Mapping[str, object]]:
    rt, visitor, form = await posted_form(request, FRAMEWORK)
    _hr_only(request, rt, visitor)
    return rt, visitor, form


async def _render_framework(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    saved: str = "",
    competency: CompetencyForm | None = None,
    competency_problem: Problem | None = None,
    profile: ProfileForm | None = None,
    profile_problem: Problem | None = None,
    step: StepForm | None = None,
    step_problem: Problem | None = None,
) -> web.Response:
    async with read_only(rt.sessions) as db:
        framework = await competencies.list_framework(db, actor=visitor.actor)
    return rt.pages.render(
        request,
        "framework.html",
        title="Competency framework",
        visitor=visitor,
        status=status,
        nav=NAV,
        v=framework,
        saved=saved,
        categories=sorted({c.category for c in framework.competencies}),
        levels_max=LEVELS_MAX,
        kind_labels={k.value: label for k, label in STEP_KIND_LABELS.items()},
        competency=competency or CompetencyForm(),
        competency_problem=competency_problem,
        profile=profile or ProfileForm(),
        profile_problem=profile_problem,
        step=step or StepForm(),
        step_problem=step_problem,
    )


# --- a person's competencies ---------------------------------------------------------------------------


async def person_page(request: web.Request) -> web.StreamResponse:
    """A person's gaps, career options and assessment history, with the form for their line and HR."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render_person(request, rt, visitor, saved=request.query.get("saved") == "1")


async def record_assessment(request: web.Request) -> web.StreamResponse:
    """The Record an assessment form: competencies.assess with what was typed."""
    person_id = form_int(request.match_info.get("person_id"))
    back = PERSON_PAGE.format(person_id=person_id) if person_id is not None else HOME
    rt, visitor, form = await posted_form(request, back)
    entered = AssessmentForm.posted(form)
    try:
        if person_id is None:
            raise NotFound(competencies.PERSON_NOT_FOUND)
        competency_id = form_int(entered.competency_id)
        if competency_id is None:
            raise Invalid("Choose the competency to assess.")
        level = form_int(entered.level)
        if level is None:
            raise Invalid(f"Type the level: a whole number, from 1 to at most {LEVELS_MAX}.")
        on = _date(entered.on)
        async with unit_of_work(rt.sessions) as db:
            await competencies.assess(
                db,
                actor=visitor.actor,
                person_id=person_id,
                competency_id=competency_id,
                level=level,
                on=on,
                now=rt.clock(),
                note=entered.note,
                request_id=entered.request_id or None,
            )
    except (Invalid, Conflict) as invalid:
        problem = _problem(invalid, ASSESSMENT_FIELDS, None)
        status = 409 if isinstance(invalid, Conflict) else 400
        return await _render_person(request, rt, visitor, status=status, entered=entered, problem=problem)
    except NotFound as missing:
        if person_id is not None and "competency" in missing.message:
            problem = Problem(missing.message, "competency_id")
            return await _render_person(request, rt, visitor, status=400, entered=entered, problem=problem)
        raise _refused(request, rt, visitor, missing) from None
    except Forbidden as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(f"{back}?saved=1{theme_query(request)}#history")


async def close_gap(request: web.Request) -> web.StreamResponse:
    """A "Close this gap" form: development.close_gap, then the plan page with the new action highlighted;
    a refusal comes back here (400, or 409 when an open action already works on the gap)."""
    person_id = form_int(request.match_info.get("person_id"))
    back = PERSON_PAGE.format(person_id=person_id) if person_id is not None else HOME
    rt, visitor, form = await posted_form(request, back)
    entered = CloseGapForm.posted(form)
    try:
        view = await development_pages.submit_close_gap(rt, visitor, person_id, entered)
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        problem = development_pages.Problem.of(refused)
        return await _render_person(
            request, rt, visitor, status=status, closing=entered, close_problem=problem
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(development_pages.plan_url_after(visitor, view, request))


async def _render_person(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    saved: bool = False,
    entered: AssessmentForm | None = None,
    problem: Problem | None = None,
    closing: CloseGapForm | None = None,
    close_problem: development_pages.Problem | None = None,
) -> web.Response:
    person_id = form_int(request.match_info.get("person_id"))
    today = rt.clock().date()
    theme = theme_of(request)
    theme_q = "" if theme == "default" else f"?theme={theme}"
    try:
        if person_id is None:
            raise NotFound(competencies.PERSON_NOT_FOUND)
        async with read_only(rt.sessions) as db:
            path = await careers.career_options(db, actor=visitor.actor, person_id=person_id)
            history = await competencies.assessment_history(db, actor=visitor.actor, person_id=person_id)
            form = await competencies.assessment_form(db, actor=visitor.actor, person_id=person_id)
            plan = await development.get_plan(db, actor=visitor.actor, person_id=person_id, today=today)
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    closer = GapCloser.for_plan(
        plan,
        action_url=CLOSE_GAP.format(person_id=person_id) + theme_q,
        today=today,
        entered=closing,
        problem=close_problem,
        theme_q=theme_q,
    )
    is_self = person_id == visitor.actor.person_id
    name = "Your" if is_self else f"{path.person_name}'s"
    return rt.pages.render(
        request,
        "competencies_person.html",
        title=f"{name} competencies",
        visitor=visitor,
        status=status,
        nav="development" if is_self else "",
        path=path,
        history=history,
        form=form,
        is_self=is_self,
        heading=f"{name} competencies",
        saved=saved,
        entered=entered or AssessmentForm.fresh(today),
        problem=problem,
        today=today.isoformat(),
        source_labels={s.value: label for s, label in SOURCE_LABELS.items()},
        kind_labels={k.value: label for k, label in STEP_KIND_LABELS.items()},
        levels_max=LEVELS_MAX,
        day=_day,
        closer=closer,
        plan_url=DEVELOPMENT if is_self else f"{DEVELOPMENT}/{person_id}",
    )


# --- helpers -------------------------------------------------------------------------------------------


def _day(value: date) -> str:
    """A date as the pages show it: 5 March 2026."""
    return f"{value.day} {value:%B %Y}"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("Choose the day of the assessment (a date like 2026-03-02).") from None


def _hr_only(request: web.Request, rt: TabsRuntime, visitor: Visitor) -> None:
    if not may_define_competencies(visitor.actor):
        raise _no_access(request, rt, visitor, NO_ACCESS)


def _no_access(request: web.Request, rt: TabsRuntime, visitor: Visitor, message: str) -> web.HTTPException:
    return rt.pages.error(
        request,
        status=403,
        title="No access to the competency framework",
        message=message,
        retry_url=PERSON_PAGE.format(person_id=visitor.actor.person_id),
        visitor=visitor,
    )


def _refused(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: DomainError
) -> web.HTTPException:
    """The 403 (Forbidden) or 404 page with the service's sentence."""
    forbidden = isinstance(refused, Forbidden)
    return rt.pages.error(
        request,
        status=403 if forbidden else 404,
        title="No access to these competencies" if forbidden else "Not found",
        message=refused.message,
        retry_url=HOME,
        visitor=visitor,
    )

"""The My development tab: one's own development plan (DEVELOPMENT), and a report's for their manager line
and HR (/tabs/development/{person_id}): the actions with their progress, the competency gaps and goals they
are linked to, a form to add one, a progress form per action, and "make this a development goal".

Everything goes through domain.talent.development, which decides who sees and writes a plan (the person,
their manager line, HR); a refusal is shown on the error page in the service's words. A refused form
writes nothing and comes back (400, or 409 for someone else's change) with the sentence next to its field
and what was typed kept. Nothing from talent reviews or succession is read here.

The "Career path" section (the `career_path` block of development.html, _development_career.html) shows
the person's current role and each next role from domain.talent.careers.career_options, with readiness and
each competency's assessed level against the expected one, and links to the full competencies page. Each
gap of the current role has a "Close this gap" form (development.close_gap, its source derived from the
latest assessment) for whoever may edit the plan; the person's competencies page posts the same form to
its own route (tabs/competency_pages.py) through submit_close_gap and GapCloser here. Either way the new
action comes back highlighted on this page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, timedelta
from typing import TypeVar

from aiohttp import web

from domain.competency_views import STEP_KIND_LABELS, GapLine
from domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.talent import careers, development
from domain.talent.development import ACTION_NOT_FOUND, ActionChanged, InvalidInput
from domain.talent.development_views import (
    KIND_LABELS,
    STATUS_LABELS,
    TITLE_MAX,
    ActionStatus,
    ActionView,
    CompetencyLink,
    PlanView,
)
from storage.uow import read_only, unit_of_work
from tabs import goal_display
from tabs.navigation import DEVELOPMENT, HOME
from tabs.pages import theme_of
from tabs.runtime import TABS, TabsRuntime, form_field, form_int, page_visitor, posted_form, theme_query
from tabs.visitors import Visitor

NAV = "development"
PERSON_PAGE = DEVELOPMENT + "/{person_id:\\d+}"
ADD = DEVELOPMENT + "/{person_id:\\d+}/actions"
PROGRESS = DEVELOPMENT + "/actions/{action_id:\\d+}/progress"
MAKE_GOAL = DEVELOPMENT + "/actions/{action_id:\\d+}/goal"
CLOSE_GAP = DEVELOPMENT + "/{person_id:\\d+}/gaps"
# The person's competencies page (tabs/competency_pages.py), which this page links to.
COMPETENCIES_PAGE = "/tabs/people/{person_id}/competencies"
# "Close this gap" offers a due day this far ahead; the person changes it as they like.
CLOSE_GAP_DUE_DAYS = 90
NO_PERSON = "That person is not in the directory."
SOURCE_LABELS = {
    "manual": "Added by hand",
    "review": "From a performance review",
    "talent_review": "From a talent review",
}
# The person never learns what their talent review said, not even that an action came out of it.
OWN_SOURCE_LABELS = SOURCE_LABELS | {"talent_review": "Suggested by your manager line"}
# Badges reuse the goal statuses' colours (trellis.css), so the three themes follow.
STATUS_CLASSES = {
    ActionStatus.PLANNED: "status--not-started",
    ActionStatus.IN_PROGRESS: "status--on-track",
    ActionStatus.DONE: "status--closed",
    ActionStatus.CANCELLED: "status--expired",
}


def mount_development(app: web.Application) -> None:
    """Add the My development pages and their forms."""
    app.router.add_get(DEVELOPMENT, my_plan_page)
    app.router.add_get(PERSON_PAGE, plan_page)
    app.router.add_post(ADD, add_action)
    app.router.add_post(PROGRESS, mark_progress)
    app.router.add_post(MAKE_GOAL, make_goal)
    app.router.add_post(CLOSE_GAP, close_gap)


# --- forms ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A refusal to show next to `field` (a form field's name), or above the form's button when None."""

    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> Problem:
        return cls(error.message, getattr(error, "field", None))


_Typed = TypeVar("_Typed")


def _as_typed(cls: type[_Typed], form: Mapping[str, object]) -> _Typed:
    """A form of text fields as posted (a missing one empty), with a new request id when none came (the
    id makes a second submit of the same form a no-op)."""
    typed = {f.name: form_field(form, f.name) or "" for f in fields(cls)}
    return cls(**{**typed, "request_id": typed["request_id"] or uuid.uuid4().hex})


@dataclass(frozen=True)
class ActionForm:
    """The add-action form as typed (kept to show again on a refusal)."""

    kind: str = ""
    title: str = ""
    description: str = ""
    due_on: str = ""
    competency_id: str = ""
    target_level: str = ""
    goal_id: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> ActionForm:
        return _as_typed(cls, form)

    def parsed(self) -> dict[str, object]:
        """The service's arguments; what only a web form can get wrong (a date, a picked id) is refused
        here, next to its field."""
        return {
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
            "due_on": _day(self.due_on),
            "competency_id": _picked(
                self.competency_id, "competency_id", "Choose a competency from the list."
            ),
            "target_level": self.target_level.strip() or None,
            "goal_id": _picked(self.goal_id, "goal_id", "Choose one of the goals listed."),
        }


@dataclass(frozen=True)
class ProgressForm:
    """One action's progress form as typed."""

    action_id: int
    progress: str
    status: str
    note: str
    version: str

    @classmethod
    def posted(cls, form: Mapping[str, object], action_id: int) -> ProgressForm:
        return cls(
            action_id=action_id,
            progress=form_field(form, "progress") or "",
            status=form_field(form, "status") or "",
            note=form_field(form, "note") or "",
            version=form_field(form, "version") or "",
        )

    def checked_version(self) -> int:
        version = form_int(self.version)
        if version is None:
            raise Invalid("This form is out of date: reload the page and try again.")
        return version


@dataclass(frozen=True)
class CloseGapForm:
    """A "Close this gap" form as typed: the competency (hidden), the kind, the due day, a title (blank:
    the service's "Reach level N in …")."""

    competency_id: str = ""
    kind: str = ""
    due_on: str = ""
    title: str = ""
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> CloseGapForm:
        return _as_typed(cls, form)

    @classmethod
    def fresh(cls, competency_id: int, today: date) -> CloseGapForm:
        due = today + timedelta(days=CLOSE_GAP_DUE_DAYS)
        return cls(competency_id=str(competency_id), due_on=due.isoformat())

    def parsed(self) -> dict[str, object]:
        """development.close_gap's arguments; a tampered competency id is refused next to the form."""
        competency_id = form_int(self.competency_id)
        if competency_id is None:
            raise InvalidInput(
                "competency_id", "That competency is not in the framework: choose one from the list."
            )
        return {
            "competency_id": competency_id,
            "kind": self.kind,
            "due_on": _day(self.due_on),
            "title": self.title if self.title.strip() else None,
        }


@dataclass(frozen=True)
class GapCloser:
    """What the "Close this gap" forms of a page need: where they post, which gaps an open action already
    works on (no form there: a link to it), and the form refused last with its problem."""

    action_url: str
    plan_url: str
    today: date
    working_on: Mapping[int, ActionView]  # competency id → the open action on it
    entered: CloseGapForm | None = None
    problem: Problem | None = None
    theme_q: str = ""  # "?theme=dark" on the links the forms show
    kind_labels: Mapping[str, str] = field(
        default_factory=lambda: {k.value: v for k, v in KIND_LABELS.items()}
    )

    def shows_form(self, line: GapLine) -> bool:
        """A gap (assessed below expected) that no open action works on yet."""
        return bool(line.gap) and line.competency_id not in self.working_on

    def form_for(self, line: GapLine) -> CloseGapForm:
        if self.entered is not None and self.entered.competency_id == str(line.competency_id):
            return self.entered
        return CloseGapForm.fresh(line.competency_id, self.today)

    def problem_for(self, line: GapLine) -> Problem | None:
        if self.entered is not None and self.entered.competency_id == str(line.competency_id):
            return self.problem
        return None

    def planned_url(self, action: ActionView) -> str:
        """The open action already working on a gap, on the plan page."""
        return f"{self.plan_url}{self.theme_q}#action-{action.id}"

    def stray(self, lines: tuple[GapLine, ...]) -> Problem | None:
        """The refusal of a form for a gap no longer offered (or never): shown above the gaps instead."""
        if self.problem is None or self.entered is None:
            return None
        shown = {str(line.competency_id) for line in lines if self.shows_form(line)}
        return None if self.entered.competency_id in shown else self.problem

    @classmethod
    def for_plan(
        cls,
        plan: PlanView,
        *,
        action_url: str,
        today: date,
        entered: CloseGapForm | None = None,
        problem: Problem | None = None,
        theme_q: str = "",
    ) -> GapCloser | None:
        """The forms for this plan's person, or None when the actor may not edit the plan (only the
        person, their manager line and HR may)."""
        if not plan.can_edit:
            return None
        working_on: dict[int, ActionView] = {}
        for action in plan.actions:  # open ones first, soonest due first: the soonest is linked to
            if action.open and action.competency is not None:
                working_on.setdefault(action.competency.id, action)
        plan_url = DEVELOPMENT if plan.is_self else f"{DEVELOPMENT}/{plan.person_id}"
        return cls(action_url, plan_url, today, working_on, entered, problem, theme_q)


async def submit_close_gap(
    rt: TabsRuntime, visitor: Visitor, person_id: int | None, entered: CloseGapForm
) -> ActionView:
    """development.close_gap with what a "Close this gap" form typed (its source derived from the latest
    assessment); the domain's refusals propagate, nothing written."""
    if person_id is None:
        raise NotFound(NO_PERSON)
    values = entered.parsed()
    async with unit_of_work(rt.sessions) as db:
        return await development.close_gap(
            db,
            actor=visitor.actor,
            person_id=person_id,
            now=rt.clock(),
            request_id=entered.request_id,
            **values,  # type: ignore[arg-type]
        )


def plan_url_after(visitor: Visitor, view: ActionView, request: web.Request) -> str:
    """The plan page with a new action highlighted, after a form on another page."""
    return _back(visitor, view.person_id, request, added=view.id)


def _day(value: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "due_on", f"The due date must be a date like 2026-03-05 (year-month-day), not “{text[:40]}”."
        ) from None


def _picked(value: str, name: str, message: str) -> int | None:
    if not value.strip():
        return None
    picked = form_int(value)
    if picked is None:
        raise InvalidInput(name, message)
    return picked


# --- how things read -------------------------------------------------------------------------------------


class UI:
    """Helpers the template reaches as `ui.<name>`: plain text or numbers, never markup."""

    kind_labels = KIND_LABELS
    step_kind_labels = {k.value: label for k, label in STEP_KIND_LABELS.items()}
    status_labels = STATUS_LABELS
    title_max = TITLE_MAX

    @staticmethod
    def source(action: ActionView, is_self: bool) -> str:
        """Where an action came from, as its reader may know it."""
        return (OWN_SOURCE_LABELS if is_self else SOURCE_LABELS)[action.source.value]

    @staticmethod
    def day(value: date | None) -> str:
        """Thu 5 Mar 2026."""
        return "\u2013" if value is None else f"{value:%a} {value.day} {value:%b %Y}"

    @staticmethod
    def status_class(status: ActionStatus) -> str:
        return STATUS_CLASSES[status]

    @staticmethod
    def goal_status_class(status: object) -> str:
        return goal_display.status_class(status)  # type: ignore[arg-type]

    @staticmethod
    def goal_status(status: object) -> str:
        return goal_display.status_label(status)  # type: ignore[arg-type]

    @staticmethod
    def percent(fraction: float) -> int:
        return goal_display.percent(fraction)

    @staticmethod
    def gap(link: CompetencyLink) -> str:
        """Where the person stands on the competency, against the action's aim and the role's level."""
        level = link.assessed_level
        parts = ["Not assessed yet" if level is None else f"Assessed at {link.level_name(level)}"]
        if link.target_level is not None:
            parts.append(f"target {link.level_name(link.target_level)}")
        if link.expected_level is not None:
            parts.append(f"the role expects {link.expected_level}")
        gap = link.gap
        if gap is not None:
            parts.append("gap closed" if gap == 0 else f"{gap} {'level' if gap == 1 else 'levels'} to go")
        return " · ".join(parts)


# --- pages -----------------------------------------------------------------------------------------------


async def my_plan_page(request: web.Request) -> web.StreamResponse:
    """The visitor's own plan."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render(request, rt, visitor, visitor.actor.person_id)


async def plan_page(request: web.Request) -> web.StreamResponse:
    """Someone's plan: their manager line and HR; anyone else gets the refusal page."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    person_id = form_int(request.match_info.get("person_id"))
    if person_id == visitor.actor.person_id:
        query = theme_query(request).lstrip("&")
        raise web.HTTPFound(f"{DEVELOPMENT}?{query}" if query else DEVELOPMENT)
    if person_id is None:
        raise _refused(request, rt, visitor, NotFound(NO_PERSON))
    return await _render(request, rt, visitor, person_id)


async def add_action(request: web.Request) -> web.StreamResponse:
    """The add form: development.add_action as typed (one action per form, however often it is sent)."""
    person_id = form_int(request.match_info.get("person_id"))
    rt, visitor, form = await posted_form(request, DEVELOPMENT)
    entered = ActionForm.posted(form)
    try:
        if person_id is None:
            raise NotFound(NO_PERSON)
        values = entered.parsed()
        async with unit_of_work(rt.sessions) as db:
            view = await development.add_action(
                db,
                actor=visitor.actor,
                person_id=person_id,
                now=rt.clock(),
                request_id=entered.request_id,
                **values,  # type: ignore[arg-type]
            )
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _render(
            request,
            rt,
            visitor,
            person_id or 0,
            status=status,
            adding=entered,
            add_problem=Problem.of(refused),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(_back(visitor, view.person_id, request, added=view.id))


async def mark_progress(request: web.Request) -> web.StreamResponse:
    """An action's progress form: development.update_progress on the version the page showed."""
    action_id = form_int(request.match_info.get("action_id"))
    rt, visitor, form = await posted_form(request, DEVELOPMENT)
    if action_id is None:
        raise _refused(request, rt, visitor, NotFound(ACTION_NOT_FOUND))
    entered = ProgressForm.posted(form, action_id)
    try:
        version = entered.checked_version()
        async with unit_of_work(rt.sessions) as db:
            view = await development.update_progress(
                db,
                actor=visitor.actor,
                action_id=action_id,
                status=entered.status,
                progress=entered.progress,
                note=entered.note,
                version=version,
                now=rt.clock(),
            )
    except ActionChanged as changed:
        return await _render(
            request,
            rt,
            visitor,
            changed.latest.person_id,
            status=409,
            progress_entered=entered,
            progress_problem=Problem(changed.message),
        )
    except Invalid as invalid:
        owner = await _owner(rt, visitor, action_id)
        if owner is None:
            raise _refused(request, rt, visitor, NotFound(ACTION_NOT_FOUND)) from None
        return await _render(
            request,
            rt,
            visitor,
            owner,
            status=400,
            progress_entered=entered,
            progress_problem=Problem.of(invalid),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(_back(visitor, view.person_id, request, saved=view.id))


async def make_goal(request: web.Request) -> web.StreamResponse:
    """The "make this a development goal" button: development.make_goal (the same goal again if it exists)."""
    action_id = form_int(request.match_info.get("action_id"))
    rt, visitor, _form = await posted_form(request, DEVELOPMENT)
    if action_id is None:
        raise _refused(request, rt, visitor, NotFound(ACTION_NOT_FOUND))
    try:
        async with unit_of_work(rt.sessions) as db:
            await development.make_goal(db, actor=visitor.actor, action_id=action_id, now=rt.clock())
            owner = (
                await development.get_action(db, actor=visitor.actor, action_id=action_id, today=_today(rt))
            ).person_id
    except Invalid as invalid:
        owner = await _owner(rt, visitor, action_id)
        if owner is None:
            raise _refused(request, rt, visitor, NotFound(ACTION_NOT_FOUND)) from None
        return await _render(
            request,
            rt,
            visitor,
            owner,
            status=400,
            goal_problem=(action_id, Problem(invalid.message)),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(_back(visitor, owner, request, goal=action_id))


async def close_gap(request: web.Request) -> web.StreamResponse:
    """A "Close this gap" form of the career section: development.close_gap, then the new action shown."""
    person_id = form_int(request.match_info.get("person_id"))
    rt, visitor, form = await posted_form(request, DEVELOPMENT)
    entered = CloseGapForm.posted(form)
    try:
        view = await submit_close_gap(rt, visitor, person_id, entered)
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _render(
            request,
            rt,
            visitor,
            person_id or 0,
            status=status,
            closing=entered,
            close_problem=Problem.of(refused),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(plan_url_after(visitor, view, request))


# --- rendering -------------------------------------------------------------------------------------------


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    person_id: int,
    *,
    status: int = 200,
    adding: ActionForm | None = None,
    add_problem: Problem | None = None,
    progress_entered: ProgressForm | None = None,
    progress_problem: Problem | None = None,
    goal_problem: tuple[int, Problem] | None = None,
    closing: CloseGapForm | None = None,
    close_problem: Problem | None = None,
) -> web.Response:
    actor = visitor.actor
    today = _today(rt)
    theme = theme_of(request)
    theme_q = "" if theme == "default" else f"?theme={theme}"
    try:
        async with read_only(rt.sessions) as db:
            plan = await development.get_plan(db, actor=actor, person_id=person_id, today=today)
            options = (
                await development.action_options(db, actor=actor, person_id=person_id, today=today)
                if plan.can_edit
                else None
            )
            team = await development.team_plans(db, actor=actor, today=today) if plan.is_self else ()
            career = await careers.career_options(db, actor=actor, person_id=person_id)
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    closer = GapCloser.for_plan(
        plan,
        action_url=f"{DEVELOPMENT}/{person_id}/gaps{theme_q}",
        today=today,
        entered=closing,
        problem=close_problem,
        theme_q=theme_q,
    )
    title = "My development plan" if plan.is_self else f"{plan.person_name}'s development plan"
    return rt.pages.render(
        request,
        "development.html",
        title=title,
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=UI,
        plan=plan,
        options=options,
        team=team,
        adding=adding or ActionForm(),
        add_problem=add_problem,
        entered=progress_entered,
        problem=progress_problem,
        goal_problem=goal_problem,
        notice=_notice(request, plan.actions),
        new_action=form_int(request.query.get("added")),
        add_url=f"{DEVELOPMENT}/{person_id}/actions",
        theme_q=theme_q,
        career=career,
        closer=closer,
        competencies_url=COMPETENCIES_PAGE.format(person_id=person_id) + theme_q,
        team_competencies=COMPETENCIES_PAGE,
    )


def _notice(request: web.Request, actions: tuple[ActionView, ...]) -> str | None:
    """What the last form did, from the redirect's query."""
    by_id = {str(a.id): a for a in actions}
    for key, words in (
        ("added", "Added “{}” to the plan."),
        ("saved", "Saved the progress of “{}”."),
        ("goal", "“{}” is now a development goal: it is on the goals page too."),
    ):
        found = by_id.get(request.query.get(key, ""))
        if found is not None:
            return words.format(found.title)
    return None


async def _owner(rt: TabsRuntime, visitor: Visitor, action_id: int) -> int | None:
    """Whose plan an action is in, if the visitor may see it."""
    try:
        async with read_only(rt.sessions) as db:
            view = await development.get_action(
                db, actor=visitor.actor, action_id=action_id, today=_today(rt)
            )
    except NotFound:
        return None
    return view.person_id


def _plan_path(visitor: Visitor, person_id: int) -> str:
    return DEVELOPMENT if person_id == visitor.actor.person_id else f"{DEVELOPMENT}/{person_id}"


def _back(visitor: Visitor, person_id: int, request: web.Request, **what: int) -> str:
    """The plan page after a form: with what it did, the theme, and the action in view."""
    [(key, value)] = what.items()
    return f"{_plan_path(visitor, person_id)}?{key}={value}{theme_query(request)}#action-{value}"


def _refused(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: DomainError
) -> web.HTTPException:
    """The 403 (Forbidden) or 404 page with the service's sentence."""
    forbidden = isinstance(refused, Forbidden)
    return rt.pages.error(
        request,
        status=403 if forbidden else 404,
        title="No access to this development plan" if forbidden else "Not found",
        message=refused.message,
        retry_url=DEVELOPMENT if visitor is not None else HOME,
        visitor=visitor,
    )


def _today(rt: TabsRuntime) -> date:
    return rt.clock().astimezone(UTC).date()

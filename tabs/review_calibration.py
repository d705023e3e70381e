"""Calibration of a review cycle: the manager ratings side by side (grouped by manager), the distribution
per manager and per department against the advisory guideline (shown, never enforced), a form per person
to adjust the final score with a required reason, and the history of adjustments.

The page and its forms go through domain.performance.calibration, which decides who calibrates whom (HR,
and calibration leads for their departments; nobody their own score) and when (the calibration phase).
A refused adjustment writes nothing and is shown next to its field in that person's form, with what was
typed kept.
"""

from __future__ import annotations

from aiohttp import web

from domain import signal_risks
from domain.access import Role
from domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.performance import calibration
from domain.performance.review_views import CalibrationRow, CalibrationView
from domain.signal_views import Suggestion
from storage.uow import unit_of_work
from tabs import review_display as ui
from tabs.navigation import REVIEW_CYCLES, REVIEWS
from tabs.review_common import cycle_id_of, refusal
from tabs.review_forms import CalibrationForm, GuidelineForm, Problem
from tabs.runtime import TABS, TabsRuntime, page_visitor, posted_form, reading, theme_query
from tabs.visitors import Visitor

NAV = "review-cycles"
PAGE = f"{REVIEW_CYCLES}/{{cycle_id}}/calibration"
NO_CYCLE = "That review cycle does not exist."


def mount(app: web.Application) -> None:
    """Add the calibration page and its forms."""
    app.router.add_get(PAGE, calibration_page)
    app.router.add_post(PAGE, adjust)
    app.router.add_post(f"{PAGE}/guideline", guideline)


async def calibration_page(request: web.Request) -> web.StreamResponse:
    """The cycle's scores side by side, distributions, the guideline and the adjustments so far."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render(request, rt, visitor)


async def adjust(request: web.Request) -> web.StreamResponse:
    """One person's Adjust form: calibration.calibrate with the score and reason as typed."""
    cycle_id = cycle_id_of(request)
    back = PAGE.format(cycle_id=cycle_id) if cycle_id else REVIEWS
    rt, visitor, form = await posted_form(request, back)
    entered = CalibrationForm.posted(form)
    person_id = entered.person()
    try:
        if cycle_id is None:
            raise NotFound(NO_CYCLE)
        if person_id is None:
            raise NotFound("That person is not reviewed in this cycle.")
        score = entered.checked_score()
        async with unit_of_work(rt.sessions) as db:
            await calibration.calibrate(
                db,
                actor=visitor.actor,
                cycle_id=cycle_id,
                person_id=person_id,
                score=score,
                reason=entered.reason,
                now=rt.clock(),
            )
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _render(
            request, rt, visitor, status=status, entered=entered, problem=entered.problem(refused)
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(f"{back}?adjusted={person_id}{theme_query(request)}#person-{person_id}")


async def guideline(request: web.Request) -> web.StreamResponse:
    """The guideline form (HR): percent per point of the scale, advisory only."""
    cycle_id = cycle_id_of(request)
    back = PAGE.format(cycle_id=cycle_id) if cycle_id else REVIEWS
    rt, visitor, form = await posted_form(request, back)
    entered = GuidelineForm.posted(form)
    try:
        if cycle_id is None:
            raise NotFound(NO_CYCLE)
        percentages = entered.percentages()
        async with unit_of_work(rt.sessions) as db:
            await calibration.set_guideline(
                db, actor=visitor.actor, cycle_id=cycle_id, percentages=percentages, now=rt.clock()
            )
    except Invalid as invalid:
        return await _render(
            request,
            rt,
            visitor,
            status=400,
            guideline_text=entered.text,
            guideline_problem=Problem(invalid.message, "guideline"),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(f"{back}?guideline=1{theme_query(request)}#guideline")


def _refused(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: DomainError
) -> web.HTTPException:
    retry = REVIEW_CYCLES if visitor.actor.has(Role.HR_ADMIN) else REVIEWS
    return refusal(request, rt, visitor, refused, title="No access to calibration", retry_url=retry)


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    entered: CalibrationForm | None = None,
    problem: Problem | None = None,
    guideline_text: str | None = None,
    guideline_problem: Problem | None = None,
) -> web.Response:
    cycle_id = cycle_id_of(request)
    try:
        if cycle_id is None:
            raise NotFound(NO_CYCLE)
        async with reading(rt, visitor.actor) as db:
            view = await calibration.calibration_view(db, actor=visitor.actor, cycle_id=cycle_id)
    except Invalid as invalid:
        # A draft has nothing to calibrate yet: say so on the error page, with the way back.
        raise rt.pages.error(
            request,
            status=400,
            title="Nothing to calibrate yet",
            message=invalid.message,
            retry_url=f"{REVIEW_CYCLES}/{cycle_id}",
            visitor=visitor,
        ) from None
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    bias = await _bias_flags(rt, visitor, view)
    adjusted = request.query.get("adjusted", "")
    return rt.pages.render(
        request,
        "review_calibration.html",
        title=f"Calibration: {view.cycle_name}",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=ui,
        v=view,
        groups=_by_manager(view),
        bias=bias,
        entered=entered,
        problem=problem,
        adjusted=next((r for r in view.rows if str(r.person_id) == adjusted), None),
        guideline_text=guideline_text if guideline_text is not None else _guideline_text(view),
        guideline_problem=guideline_problem,
        guideline_saved=request.query.get("guideline") == "1",
        is_hr=visitor.actor.has(Role.HR_ADMIN),
    )


def _by_manager(view: CalibrationView) -> list[tuple[str, list[CalibrationRow]]]:
    """The rows grouped by the manager who rated them, managers by name (no manager last)."""
    groups: dict[str, list[CalibrationRow]] = {}
    for row in view.rows:
        groups.setdefault(row.manager_name or "", []).append(row)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0] == "", kv[0].casefold()))
    return [(name or "No manager", rows) for name, rows in ordered]


async def _bias_flags(rt: TabsRuntime, visitor: Visitor, view: CalibrationView) -> dict[str, Suggestion]:
    """Rating-bias flags by the manager name each group is headed with: advisory figures, never a change.
    In a unit of work of its own: showing a flag is audited, and the page's reads are read-only for
    calibration leads who aren't HR."""
    managers = {
        r.manager_id: r.manager_name for r in view.rows if r.manager_id is not None and r.manager_name
    }
    if not managers:
        return {}
    async with unit_of_work(rt.sessions) as db:
        flags = await signal_risks.calibration_flags(
            db, actor=visitor.actor, cycle_id=view.cycle_id, manager_ids=managers
        )
    return {managers[mid]: flag for mid, flag in flags.items()}


def _guideline_text(view: CalibrationView) -> str:
    return "-".join(str(p) for p in view.guideline.percentages) if view.guideline else ""

"""The Review cycles tab for HR: every cycle, and one cycle's dashboard: its phases and deadlines, completion
per phase and per department, who is overdue, the nudges sent, and the button that moves it on.

Reads go through review_cycles and review_reads (HR only: the services refuse anyone else, and so does
the page, in its own words); moving a cycle on is review_cycles.advance in one unit of work, which names
the phase wanted, so a second click changes nothing and an illegal move is refused with the domain's
sentence above the button.
"""

from __future__ import annotations

from aiohttp import web

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import review_cycles, review_reads
from domain.performance.review_views import PHASE_LABELS, Phase
from storage.uow import unit_of_work
from tabs import review_display as ui
from tabs import review_forms as forms
from tabs.navigation import REVIEW_CYCLES, REVIEW_SETUP
from tabs.review_common import cycle_id_of, hr_only, refusal
from tabs.review_forms import Problem
from tabs.runtime import TABS, TabsRuntime, form_field, page_visitor, posted_form, reading, theme_query
from tabs.visitors import Visitor

NAV = "review-cycles"
CYCLE = f"{REVIEW_CYCLES}/{{cycle_id}}"
NO_CYCLE = "That review cycle does not exist."
CONFIRM = "Tick the box to confirm: a cycle's phases only move forward, so this can't be undone."


def mount(app: web.Application) -> None:
    """Add the Review cycles pages."""
    app.router.add_get(REVIEW_CYCLES, cycles_page)
    app.router.add_get(CYCLE, cycle_page)
    app.router.add_post(f"{CYCLE}/advance", advance)


async def cycles_page(request: web.Request) -> web.StreamResponse:
    """Every cycle, newest period first, with its phase and how many people it reviews."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    hr_only(request, rt, visitor)
    try:
        async with reading(rt, visitor.actor) as db:
            cycles = await review_cycles.list_cycles(db, actor=visitor.actor)
    except Forbidden as refused:
        raise refusal(request, rt, visitor, refused, title="Review cycles are for HR") from None
    return rt.pages.render(
        request,
        "review_cycles.html",
        title="Review cycles",
        visitor=visitor,
        nav=NAV,
        ui=ui,
        cycles=cycles,
        setup_url=REVIEW_SETUP,
    )


async def cycle_page(request: web.Request) -> web.StreamResponse:
    """One cycle's dashboard."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    hr_only(request, rt, visitor)
    return await _render(request, rt, visitor)


async def advance(request: web.Request) -> web.StreamResponse:
    """Move the cycle on to the phase named in the form (launching a draft), once confirmed."""
    cycle_id = cycle_id_of(request)
    back = CYCLE.format(cycle_id=cycle_id) if cycle_id else REVIEW_CYCLES
    rt, visitor, form = await posted_form(request, back)
    hr_only(request, rt, visitor)
    if cycle_id is None:
        raise refusal(request, rt, visitor, NotFound(NO_CYCLE), title="Not found", retry_url=REVIEW_CYCLES)
    target = forms.phase_choice(form_field(form, "to") or "")
    if target is None:
        return await _render(
            request, rt, visitor, status=400, problem=Problem("Choose the phase to move to.")
        )
    if form_field(form, "confirm") != "yes":
        return await _render(request, rt, visitor, status=400, problem=Problem(CONFIRM, "confirm"))
    try:
        async with unit_of_work(rt.sessions) as db:
            moved = await review_cycles.advance(
                db, actor=visitor.actor, cycle_id=cycle_id, to=target, now=rt.clock()
            )
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _render(request, rt, visitor, status=status, problem=Problem(refused.message))
    except (Forbidden, NotFound) as refused:
        raise refusal(request, rt, visitor, refused, title="Not allowed", retry_url=REVIEW_CYCLES) from None
    outcome = "already" if moved.already_submitted else "moved"
    raise web.HTTPSeeOther(f"{back}?{outcome}={moved.phase.value}{theme_query(request)}#phase")


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    problem: Problem | None = None,
) -> web.Response:
    cycle_id = cycle_id_of(request)
    today = rt.clock().date()
    try:
        if cycle_id is None:
            raise NotFound(NO_CYCLE)
        async with reading(rt, visitor.actor) as db:
            dashboard = await review_reads.cycle_dashboard(
                db, actor=visitor.actor, cycle_id=cycle_id, today=today
            )
            nudges = await review_reads.nudge_history(db, actor=visitor.actor, cycle_id=cycle_id)
    except (Forbidden, NotFound) as refused:
        raise refusal(request, rt, visitor, refused, title="Not allowed", retry_url=REVIEW_CYCLES) from None
    cycle = dashboard.cycle
    moved = forms.phase_choice(request.query.get("moved", ""))
    already = forms.phase_choice(request.query.get("already", ""))
    return rt.pages.render(
        request,
        "review_cycle.html",
        title=cycle.name,
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=ui,
        forms=forms,
        d=dashboard,
        cycle=cycle,
        next_phase=cycle.next_phase,
        moved=PHASE_LABELS[moved] if moved else None,
        already=PHASE_LABELS[already] if already else None,
        problem=problem,
        launched=cycle.phase is not Phase.DRAFT,
        nudges=nudges,
        fresh=next((k for k in ("launched", "created") if request.query.get(k) == "1"), None),
    )

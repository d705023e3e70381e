"""The review tabs everyone and managers use: My reviews (what I write, my released results, acknowledging
them) and Team reviews (where my line stands in each phase, overdue marked). HR's pages are in
tabs/review_cycles_pages.py, review_calibration.py and review_setup.py; mount_reviews adds them all.

Every page reads through the review services (review_reads, review_results), which decide what each
person sees: before a cycle is released the person reviewed gets their own self review back and nothing
else, so no page here can show a score early. Forms post with the session's CSRF token and go through one
service in one unit of work: a refused form writes nothing and shows why next to its field.
"""

from __future__ import annotations

from aiohttp import web

from domain.access import Role
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import review_reads, review_results
from domain.performance.review_views import (
    ANONYMITY_THRESHOLD,
    Phase,
    ReviewResultView,
)
from storage.uow import unit_of_work
from tabs import review_calibration, review_cycles_pages, review_setup
from tabs import review_display as ui
from tabs.navigation import REVIEWS, REVIEWS_TEAM
from tabs.review_common import cycle_id_of, refusal
from tabs.review_forms import Problem
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form, reading, theme_query
from tabs.visitors import Visitor

NAV = "reviews"
NAV_TEAM = "team-reviews"
RESULT = "/tabs/reviews/results/{cycle_id}"
NOT_FOUND = "That review does not exist."  # the words the service uses for any review not yours


def mount_reviews(app: web.Application) -> None:
    """Add every review page; tabs.routes.mount calls this."""
    router = app.router
    router.add_get(REVIEWS, my_reviews_page)
    router.add_get(REVIEWS_TEAM, team_reviews_page)
    router.add_get(RESULT, result_page)
    router.add_post(f"{RESULT}/acknowledge", acknowledge)
    review_cycles_pages.mount(app)
    review_calibration.mount(app)
    review_setup.mount(app)


# --- My reviews --------------------------------------------------------------------------------------


async def my_reviews_page(request: web.Request) -> web.StreamResponse:
    """The reviews I write in open cycles (status, due date) and my released results (score, band)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    async with reading(rt, visitor.actor) as db:
        mine = await review_reads.my_reviews(db, actor=visitor.actor, today=rt.clock().date())
    return rt.pages.render(
        request,
        "reviews.html",
        title="My reviews",
        visitor=visitor,
        nav=NAV,
        ui=ui,
        mine=mine,
        is_manager=visitor.actor.has(Role.MANAGER),
        is_hr=visitor.actor.has(Role.HR_ADMIN),
    )


async def result_page(request: web.Request) -> web.StreamResponse:
    """One cycle's review of me (or, with ?person=, of someone in my line; anyone's for HR)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render_result(request, rt, visitor)


async def acknowledge(request: web.Request) -> web.StreamResponse:
    """The Acknowledge form: once, with an optional comment; then back to the result."""
    cycle_id = cycle_id_of(request)
    back = RESULT.format(cycle_id=cycle_id) if cycle_id else REVIEWS
    rt, visitor, form = await posted_form(request, back)
    if cycle_id is None:
        raise refusal(request, rt, visitor, NotFound(NOT_FOUND), title="Not found")
    comment = form.get("comment")
    typed = comment if isinstance(comment, str) else ""
    try:
        async with unit_of_work(rt.sessions) as db:
            view = await review_results.acknowledge(
                db, actor=visitor.actor, cycle_id=cycle_id, now=rt.clock(), comment=typed
            )
    except Invalid as invalid:
        return await _render_result(
            request, rt, visitor, status=400, comment=typed, problem=Problem(invalid.message, "comment")
        )
    except (Forbidden, NotFound) as refused:
        raise refusal(request, rt, visitor, refused, title="Not your review") from None
    outcome = "already" if view.already_submitted else "acknowledged"
    raise web.HTTPSeeOther(f"{back}?{outcome}=1{theme_query(request)}#acknowledge")


async def _render_result(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    comment: str = "",
    problem: Problem | None = None,
) -> web.Response:
    cycle_id = cycle_id_of(request)
    raw_person = request.query.get("person", "").strip()
    person_id = form_int(raw_person) if raw_person else visitor.actor.person_id
    if cycle_id is None or person_id is None:
        raise refusal(request, rt, visitor, NotFound(NOT_FOUND), title="Not found")
    try:
        async with reading(rt, visitor.actor) as db:
            result = await review_results.review_result(
                db, actor=visitor.actor, cycle_id=cycle_id, person_id=person_id, now=rt.clock()
            )
    except (Forbidden, NotFound) as refused:
        # The service says "does not exist" for someone else's review too: nothing tells them apart.
        raise refusal(request, rt, visitor, refused, title="Not your review") from None
    own = result.person_id == visitor.actor.person_id
    return rt.pages.render(
        request,
        "review_result.html",
        title=f"{result.cycle_name}: your review" if own else f"{result.cycle_name}: {result.person_name}",
        visitor=visitor,
        status=status,
        nav=NAV if own else NAV_TEAM,
        ui=ui,
        r=result,
        own=own,
        may_acknowledge=own and _acknowledgeable(result),
        acknowledged_now=request.query.get("acknowledged") == "1",
        already=request.query.get("already") == "1",
        comment=comment,
        problem=problem,
        threshold=ANONYMITY_THRESHOLD,
    )


def _acknowledgeable(result: ReviewResultView) -> bool:
    return result.phase is Phase.RELEASED and result.acknowledged_at is None and result.score is not None


# --- Team reviews ------------------------------------------------------------------------------------


async def team_reviews_page(request: web.Request) -> web.StreamResponse:
    """My line's status per phase in every open cycle, overdue items marked (statuses, never content)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    actor = visitor.actor
    if not (actor.has(Role.MANAGER) or actor.has(Role.HR_ADMIN)):
        raise rt.pages.error(
            request,
            status=403,
            title="Team reviews are for managers",
            message="No one reports to you, so there is no team to show. Your own reviews are on the "
            "My reviews page.",
            retry_url=REVIEWS,
            visitor=visitor,
        )
    now = rt.clock()
    async with reading(rt, actor) as db:
        members = await review_reads.team_review_status(db, actor=actor)
        overdue = []
        if members:
            # team_review_status carries no deadlines; the nudge engine's read of every open cycle's
            # pending items does, so the board picks its own line's overdue items out of that.
            theirs = {m.participant_id for m in members}
            overdue = [
                item
                for item in await review_reads.due_items(db, now=now)
                if item.participant_id in theirs and item.deadline is not None and item.deadline < now.date()
            ]
    cycles: dict[int, list] = {}
    for member in members:
        cycles.setdefault(member.cycle_id, []).append(member)
    return rt.pages.render(
        request,
        "review_team.html",
        title="Team reviews",
        visitor=visitor,
        nav=NAV_TEAM,
        ui=ui,
        cycles=list(reversed(cycles.values())),  # the newest cycle first
        overdue=ui.overdue_by(overdue),
        columns=ui.BOARD_COLUMNS,
        is_hr=actor.has(Role.HR_ADMIN),
    )

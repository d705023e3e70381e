"""The Talent review tab: the list of talent reviews (HR opens one over a closed performance cycle), the
9-box of a review as a picture (a 3 by 3 grid, potential up, performance across, people as chips that can be
moved with a reason during calibration), and the ratings page where managers rate their line's potential.

Every page reads through domain.talent.talent_reviews, which decides who sees whom (never oneself) and
writes the audit entry for each read, so the reads run in a unit of work that commits it. Moving a chip
works without JavaScript (each chip has a Move form: the target cell and a reason); ninebox.js adds drag
and drop on top, which opens a small form asking for the reason and posts the same form. A refused move
or rating writes nothing and is shown next to that person's form with what was typed kept (400; 409 when
someone saved meanwhile).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain import insights
from domain.access import may_view_talent_pages
from domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.insight_views import PersonInsights
from domain.talent import talent_reviews
from domain.talent.talent_review_views import (
    DEFAULT_BOX_LABELS,
    LEVEL_LABELS,
    RATING_INPUTS,
    STATUS_LABELS,
    NineBoxCell,
    NineBoxView,
    RatingRow,
    RatingSheet,
    TalentReviewStatus,
    box_index,
)
from storage.uow import read_only, unit_of_work
from tabs import review_display
from tabs.navigation import TALENT_REVIEWS
from tabs.pages import theme_of
from tabs.review_common import refusal
from tabs.review_forms import Problem
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form
from tabs.visitors import Visitor

NAV = "talent-reviews"
REVIEW = f"{TALENT_REVIEWS}/{{review_id}}"
RATINGS = f"{REVIEW}/ratings"
# Chips per cell on the 9-box: a cell of a 10,000-person review links to the rest ("Show all").
CHIPS_PER_CELL = 12
# One cell shown in full, a page at a time: 200 chips are about 200 kB of page, with their Move forms.
EXPANDED_PER_PAGE = 200
RATINGS_PER_PAGE = 50
UNPLACED = "unplaced"
STATUS_ACTIONS = {
    "start_calibration": "Start calibration",
    "finalize": "Finalize",
    "open": "Open to managers",
    "close": "Close to managers",
}


def mount_talent_reviews(app: web.Application) -> None:
    """Add the talent review pages and forms; tabs.routes.mount calls this."""
    router = app.router
    router.add_get(TALENT_REVIEWS, list_page)
    router.add_post(TALENT_REVIEWS, open_review)
    router.add_get(REVIEW, nine_box_page)
    router.add_post(f"{REVIEW}/move", move_person)
    router.add_post(f"{REVIEW}/status", change_status)
    router.add_get(RATINGS, ratings_page)
    router.add_post(RATINGS, rate_person)


# --- what the pages show ------------------------------------------------------------------------------


class Display:
    """Wording and links for the templates (given to them as `ui`)."""

    url = staticmethod(review_display.url)
    moment = staticmethod(review_display.moment)
    score = staticmethod(review_display.score)
    LEVELS = LEVEL_LABELS
    INPUTS = RATING_INPUTS

    @staticmethod
    def level(value: int | None) -> str:
        return LEVEL_LABELS[value] if value is not None else "Not rated"

    @staticmethod
    def status(value: TalentReviewStatus) -> str:
        return STATUS_LABELS[value].capitalize()

    @staticmethod
    def status_class(value: TalentReviewStatus) -> str:
        return {
            TalentReviewStatus.RATING: "status--not-started",
            TalentReviewStatus.CALIBRATION: "status--behind",
            TalentReviewStatus.FINALIZED: "status--on-track",
        }[value]

    @staticmethod
    def axes(performance: int | None, potential: int | None) -> str:
        """'high potential, low performance' (the words a screen reader gets for a cell)."""
        if performance is None or potential is None:
            return "not placed"
        return f"{LEVEL_LABELS[potential].lower()} potential, {LEVEL_LABELS[performance].lower()} performance"

    @staticmethod
    def cell_name(labels: tuple[str, ...], performance: int, potential: int) -> str:
        return f"{labels[box_index(performance, potential)]} ({Display.axes(performance, potential)})"

    @staticmethod
    def targets(view: NineBoxView, performance: int | None, potential: int | None) -> list[tuple[str, str]]:
        """The cells someone can be moved to: every cell but their own, as (key, name)."""
        return [
            (cell.key, Display.cell_name(view.labels, cell.performance, cell.potential))
            for cell in view.cells
            if (cell.performance, cell.potential) != (performance, potential)
        ]

    @staticmethod
    def potential_sum(row: RatingRow) -> str:
        if row.ability is None or row.aspiration is None or row.engagement is None:
            return ""
        return f"{row.ability + row.aspiration + row.engagement} of 9"

    @staticmethod
    def thresholds(view: NineBoxView) -> str:
        low, high = _number(view.medium_from), _number(view.high_from)
        return (
            f"Performance from “{view.cycle_name}”: low below {low}, medium from {low}, high from {high} "
            f"(scale 1 to {len(view.scale)})."
        )


def _number(value: Any) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- forms --------------------------------------------------------------------------------------------


def _text(form: Mapping[str, object], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class OpenForm:
    """HR's form opening a talent review, as typed."""

    name: str = ""
    cycle: str = ""
    medium_from: str = ""
    high_from: str = ""
    labels: tuple[str, ...] = DEFAULT_BOX_LABELS

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> OpenForm:
        return cls(
            name=_text(form, "name"),
            cycle=_text(form, "cycle"),
            medium_from=_text(form, "medium_from"),
            high_from=_text(form, "high_from"),
            labels=tuple(_text(form, f"label_{i}") for i in range(9)),
        )


@dataclass(frozen=True)
class MoveForm:
    """One chip's Move form (or the drag-and-drop dialog): who, to which cell, why, and where to return."""

    person_id: str = ""
    box: str = ""
    reason: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> MoveForm:
        return cls(person_id=_text(form, "person_id"), box=_text(form, "box"), reason=_text(form, "reason"))

    def person(self) -> int | None:
        return form_int(self.person_id)

    def axes(self) -> tuple[str, str]:
        """(performance, potential) as posted ("2-3"); the domain checks them."""
        performance, _, potential = self.box.partition("-")
        if not performance or not potential:
            raise talent_reviews.FieldInvalid("box", "Choose the cell to move them to.")
        return performance, potential


@dataclass(frozen=True)
class RatingForm:
    """One person's rating form, as typed."""

    person_id: str = ""
    ability: str = ""
    aspiration: str = ""
    engagement: str = ""
    risk_of_loss: str = ""
    impact_of_loss: str = ""
    high_potential: str = ""
    notes: str = ""
    version: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> RatingForm:
        return cls(**{name: _text(form, name) for name in cls.__dataclass_fields__})

    @classmethod
    def of(cls, row: RatingRow) -> RatingForm:
        """The form as stored (what the page shows before anyone types)."""

        def level(value: int | None) -> str:
            return "" if value is None else str(value)

        return cls(
            person_id=str(row.person_id),
            ability=level(row.ability),
            aspiration=level(row.aspiration),
            engagement=level(row.engagement),
            risk_of_loss=level(row.risk_of_loss),
            impact_of_loss=level(row.impact_of_loss),
            high_potential=("yes" if row.high_potential else "no") if row.high_potential_overridden else "",
            notes=row.notes or "",
            version=str(row.version),
        )

    def flag(self) -> bool | None:
        choice = self.high_potential.strip()
        if choice not in ("", "yes", "no"):
            raise talent_reviews.FieldInvalid(
                "high_potential", "Choose whether they are a high potential: from the ratings, yes or no."
            )
        return None if not choice else choice == "yes"

    def value(self, field: str) -> str:
        return str(getattr(self, field))


@dataclass(frozen=True)
class Back:
    """Where a form returns to: the page's filter, expanded cell and page, carried as hidden fields."""

    department: str | None = None
    cell: str | None = None
    page: int = 1

    @classmethod
    def of(cls, values: Mapping[str, object]) -> Back:
        # Cut to what a department or cell key can be: the filter is written into the audit entry.
        department = _text(values, "department").strip()[:200] or None
        cell = _text(values, "cell").strip()[:16] or None
        page = form_int(_text(values, "page") or None) or 1
        return cls(department=department, cell=cell, page=max(page, 1))

    def query(self, **more: object) -> dict[str, object]:
        """The filter, expanded cell and its page (page 1 goes without saying), and `more`."""
        page = self.page if self.cell and self.page > 1 else None
        return {"department": self.department, "cell": self.cell, "page": page, **more}


def _review_id(request: web.Request) -> int | None:
    return form_int(request.match_info.get("review_id"))


def _expanded(cell: str | None) -> tuple[int, int] | str | None:
    """A cell key from the query ("2-3": performance 2, potential 3) or "unplaced"; None when not one."""
    if cell == UNPLACED:
        return UNPLACED
    performance, _, potential = (cell or "").partition("-")
    if performance in ("1", "2", "3") and potential in ("1", "2", "3"):
        return int(performance), int(potential)
    return None


# --- the list -----------------------------------------------------------------------------------------


async def list_page(request: web.Request) -> web.StreamResponse:
    """The talent reviews the visitor takes part in; HR's form to open one."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render_list(request, rt, visitor)


async def open_review(request: web.Request) -> web.StreamResponse:
    """HR's Open form: talent_reviews.open_talent_review, then the new review's 9-box."""
    rt, visitor, form = await posted_form(request, TALENT_REVIEWS)
    entered = OpenForm.posted(form)
    try:
        cycle_id = form_int(entered.cycle)
        if cycle_id is None:
            raise talent_reviews.FieldInvalid("cycle", "Choose the closed performance cycle it reads.")
        async with unit_of_work(rt.sessions) as db:
            summary = await talent_reviews.open_talent_review(
                db,
                actor=visitor.actor,
                name=entered.name,
                performance_cycle_id=cycle_id,
                medium_from=entered.medium_from,
                high_from=entered.high_from,
                box_labels=entered.labels,
                now=rt.clock(),
            )
    except Invalid as invalid:
        return await _render_list(
            request, rt, visitor, status=400, entered=entered, problem=Problem.of(invalid)
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    raise web.HTTPSeeOther(review_display.url(REVIEW.format(review_id=summary.id), theme_of(request)))


async def _render_list(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    entered: OpenForm | None = None,
    problem: Problem | None = None,
) -> web.Response:
    async with read_only(rt.sessions) as db:
        listing = await talent_reviews.list_talent_reviews(db, actor=visitor.actor)
    return rt.pages.render(
        request,
        "talent_reviews.html",
        title="Talent reviews",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=Display,
        listing=listing,
        entered=entered or OpenForm(medium_from="2.5", high_from="4"),
        problem=problem,
    )


# --- the 9-box ----------------------------------------------------------------------------------------


async def nine_box_page(request: web.Request) -> web.StreamResponse:
    """The 9-box of one review as far as the visitor may see it, with the history of moves."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render_grid(request, rt, visitor, Back.of(request.query))


async def move_person(request: web.Request) -> web.StreamResponse:
    """A chip's Move form (or the drag-and-drop dialog): talent_reviews.move with the cell and reason."""
    review_id = _review_id(request)
    back_path = REVIEW.format(review_id=review_id) if review_id else TALENT_REVIEWS
    rt, visitor, form = await posted_form(request, back_path)
    entered, back = MoveForm.posted(form), Back.of(form)
    person_id = entered.person()
    try:
        if review_id is None:
            raise NotFound(talent_reviews.REVIEW_NOT_FOUND)
        if person_id is None:
            raise NotFound(talent_reviews.PERSON_NOT_FOUND)
        performance, potential = entered.axes()
        async with unit_of_work(rt.sessions) as db:
            await talent_reviews.move(
                db,
                actor=visitor.actor,
                talent_review_id=review_id,
                person_id=person_id,
                performance=performance,
                potential=potential,
                reason=entered.reason,
                now=rt.clock(),
            )
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        problem = Problem.of(refused)
        if problem.field in ("performance", "potential"):
            problem = Problem(problem.message, "box")  # the page asks for both axes in one cell choice
        return await _render_grid(request, rt, visitor, back, status=status, entered=entered, problem=problem)
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    target = review_display.url(back_path, theme_of(request), back.query(moved=person_id))
    raise web.HTTPSeeOther(f"{target}#history")


async def change_status(request: web.Request) -> web.StreamResponse:
    """HR's buttons: start calibration, finalize, open to (or close to) managers."""
    review_id = _review_id(request)
    back_path = REVIEW.format(review_id=review_id) if review_id else TALENT_REVIEWS
    rt, visitor, form = await posted_form(request, back_path)
    action = _text(form, "action")
    try:
        if review_id is None:
            raise NotFound(talent_reviews.REVIEW_NOT_FOUND)
        async with unit_of_work(rt.sessions) as db:
            now, actor = rt.clock(), visitor.actor
            if action == "start_calibration":
                await talent_reviews.start_calibration(db, actor=actor, talent_review_id=review_id, now=now)
            elif action == "finalize":
                await talent_reviews.finalize(db, actor=actor, talent_review_id=review_id, now=now)
            elif action in ("open", "close"):
                await talent_reviews.set_opened_to_managers(
                    db, actor=actor, talent_review_id=review_id, opened=action == "open", now=now
                )
            else:
                raise Invalid("Choose one of the buttons: start calibration, finalize, or open to managers.")
    except (Invalid, Conflict) as refused:
        return await _render_grid(
            request,
            rt,
            visitor,
            Back.of(form),
            status=409 if isinstance(refused, Conflict) else 400,
            status_problem=refused.message,
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    target = review_display.url(back_path, theme_of(request), Back.of(form).query(done=action))
    raise web.HTTPSeeOther(target)


async def _render_grid(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    back: Back,
    *,
    status: int = 200,
    entered: MoveForm | None = None,
    problem: Problem | None = None,
    status_problem: str | None = None,
) -> web.Response:
    review_id = _review_id(request)
    expanded = _expanded(back.cell)
    try:
        if review_id is None:
            raise NotFound(talent_reviews.REVIEW_NOT_FOUND)
        async with unit_of_work(rt.sessions) as db:
            view = await talent_reviews.nine_box(
                db,
                actor=visitor.actor,
                talent_review_id=review_id,
                department=back.department,
                per_cell=CHIPS_PER_CELL,
                expand=back.cell if expanded is not None else None,
                expand_from=(back.page - 1) * EXPANDED_PER_PAGE,
                expand_limit=EXPANDED_PER_PAGE,
            )
            suggested = await _suggested(db, rt, visitor, view)
    except Forbidden:
        # Only a manager rating people in the review hears that it exists without seeing its 9-box: they
        # rate their line on the ratings page until HR opens the 9-box to managers.
        ratings = review_display.url(RATINGS.format(review_id=review_id), theme_of(request), grid="closed")
        raise web.HTTPFound(ratings) from None
    except NotFound as refused:
        raise _refused(request, rt, visitor, refused) from None
    pages = 1
    if expanded is not None:
        view = _only(view, expanded)
        pages = max(1, -(-_expanded_count(view, expanded) // EXPANDED_PER_PAGE))
    # A refusal goes next to the person's Move form, or above the 9-box when it has none on the page (not
    # movable any more, or no longer among the people listed).
    in_form = entered is not None and any(p.person_id == entered.person() and p.movable for p in view.people)
    moved_id = form_int(request.query.get("moved"))
    moved = next((m for m in view.moves if m.person_id == moved_id), None) if moved_id else None
    done = request.query.get("done", "")
    return rt.pages.render(
        request,
        "talent_review.html",
        title=f"Talent review: {view.name}",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=Display,
        v=view,
        back=back,
        expanded=expanded,
        entered=entered,
        problem=problem,
        problem_in_form=in_form,
        status_problem=status_problem,
        moved=moved,
        done=STATUS_ACTIONS.get(done),
        unplaced_key=UNPLACED,
        suggested=suggested,
        pages=pages,
        first_listed=(back.page - 1) * EXPANDED_PER_PAGE + 1,
    )


async def _suggested(
    db: AsyncSession, rt: TabsRuntime, visitor: Visitor, view: NineBoxView
) -> dict[int, PersonInsights]:
    """The bridge's open suggestions about the people on the page, for HR and talent reviewers (beside
    each chip): computed for those people only, so the page stays quick."""
    if not may_view_talent_pages(visitor.actor) or not view.people:
        return {}
    return await insights.suggestions_by_person(
        db, actor=visitor.actor, today=rt.clock().date(), person_ids=[p.person_id for p in view.people]
    )


def _expanded_count(view: NineBoxView, expanded: tuple[int, int] | str) -> int:
    """How many people are in the expanded cell (or not placed)."""
    if expanded == UNPLACED:
        return view.unplaced_count
    return next(c.count for c in view.cells if (c.performance, c.potential) == expanded)


def _only(view: NineBoxView, expanded: tuple[int, int] | str) -> NineBoxView:
    """The view with one cell (or the unplaced) listed in full and the others as counts: a "Show all"
    page of one cell."""

    def keep(cell: NineBoxCell) -> NineBoxCell:
        wanted = expanded != UNPLACED and (cell.performance, cell.potential) == expanded
        return cell if wanted else replace(cell, people=())

    return replace(
        view,
        cells=tuple(keep(c) for c in view.cells),
        unplaced=view.unplaced if expanded == UNPLACED else (),
    )


# --- ratings ------------------------------------------------------------------------------------------


async def ratings_page(request: web.Request) -> web.StreamResponse:
    """The people the visitor may rate in this review, a form each (a page of 50 at a time)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    return await _render_ratings(request, rt, visitor, Back.of(request.query))


async def rate_person(request: web.Request) -> web.StreamResponse:
    """One person's rating form: talent_reviews.rate with the levels, flag and notes as typed."""
    review_id = _review_id(request)
    back_path = RATINGS.format(review_id=review_id) if review_id else TALENT_REVIEWS
    rt, visitor, form = await posted_form(request, back_path)
    entered, back = RatingForm.posted(form), Back.of(form)
    person_id = form_int(entered.person_id)
    try:
        if review_id is None:
            raise NotFound(talent_reviews.REVIEW_NOT_FOUND)
        if person_id is None:
            raise NotFound(talent_reviews.PERSON_NOT_FOUND)
        version = form_int(entered.version)
        if version is None:
            raise Invalid("The form lost its version: reload the page and rate again.")
        flag = entered.flag()
        async with unit_of_work(rt.sessions) as db:
            await talent_reviews.rate(
                db,
                actor=visitor.actor,
                talent_review_id=review_id,
                person_id=person_id,
                ability=entered.ability,
                aspiration=entered.aspiration,
                engagement=entered.engagement,
                risk_of_loss=entered.risk_of_loss,
                impact_of_loss=entered.impact_of_loss,
                high_potential=flag,
                notes=entered.notes,
                version=version,
                now=rt.clock(),
            )
    except talent_reviews.RatingConflict as conflict:
        # What was typed stays; the version becomes the stored one, so saving again is a choice.
        kept = replace(entered, version=str(conflict.latest.version))
        return await _render_ratings(
            request, rt, visitor, back, status=409, entered=kept, problem=Problem(conflict.message)
        )
    except (Invalid, Conflict) as refused:
        return await _render_ratings(
            request,
            rt,
            visitor,
            back,
            status=409 if isinstance(refused, Conflict) else 400,
            entered=entered,
            problem=Problem.of(refused),
        )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    target = review_display.url(back_path, theme_of(request), back.query(page=back.page, saved=person_id))
    raise web.HTTPSeeOther(f"{target}#person-{person_id}")


async def _render_ratings(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    back: Back,
    *,
    status: int = 200,
    entered: RatingForm | None = None,
    problem: Problem | None = None,
) -> web.Response:
    review_id = _review_id(request)
    try:
        if review_id is None:
            raise NotFound(talent_reviews.REVIEW_NOT_FOUND)
        async with unit_of_work(rt.sessions) as db:
            sheet = await talent_reviews.rating_sheet(
                db,
                actor=visitor.actor,
                talent_review_id=review_id,
                department=back.department,
                offset=(back.page - 1) * RATINGS_PER_PAGE,
                limit=RATINGS_PER_PAGE,
            )
    except (Forbidden, NotFound) as refused:
        raise _refused(request, rt, visitor, refused) from None
    saved_id = form_int(request.query.get("saved"))
    saved = next((r for r in sheet.rows if r.person_id == saved_id), None) if saved_id else None
    return rt.pages.render(
        request,
        "talent_review_ratings.html",
        title=f"Ratings: {sheet.name}",
        visitor=visitor,
        status=status,
        nav=NAV,
        ui=Display,
        s=sheet,
        back=back,
        forms=_forms(sheet, entered),
        entered=entered,
        problem=problem,
        saved=saved,
        grid_closed=request.query.get("grid") == "closed",
        pages=max(1, -(-sheet.total // RATINGS_PER_PAGE)),
    )


def _forms(sheet: RatingSheet, entered: RatingForm | None) -> dict[int, RatingForm]:
    """Each row's form: as stored, or as typed for the one that was refused."""
    forms = {row.person_id: RatingForm.of(row) for row in sheet.rows}
    if entered is not None and (pid := form_int(entered.person_id)) in forms:
        forms[pid] = entered  # type: ignore[index]
    return forms


# --- shared -------------------------------------------------------------------------------------------


def _refused(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: DomainError
) -> web.HTTPException:
    return refusal(
        request, rt, visitor, refused, title="No access to this talent review", retry_url=TALENT_REVIEWS
    )

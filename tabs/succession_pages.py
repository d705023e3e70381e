"""The Succession tab: the board (bench figures, the risk x impact heat map, a card per critical position,
filtered by department) and one position's page (its slate with edit forms, naming a successor with the
people picker, taking someone off, the emergency successor, marking the position critical, recording how
it was filled), plus the list of positions to plan for.

Everything goes through domain.talent.succession and domain.talent.mobility, which decide who may see and
change what (HR, and talent reviewers for the departments in their scope; nobody their own succession
data) and write the audit entries; pages read inside a unit of work so those entries are committed.
Anyone else gets the refusal page. A refused form writes nothing and comes back (400) with the sentence
next to its field and what was typed kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

from aiohttp import web

from domain.access import may_view_talent_pages
from domain.errors import DomainError, Forbidden, Invalid, NotFound
from domain.talent import mobility, succession
from domain.talent.succession_views import (
    EXTERNAL_HIRE_WINDOW_DAYS,
    LEVEL_LABELS,
    MONTHS_RANGE,
    NOTES_MAX,
    READINESS_LABELS,
    SOURCE_LABELS,
    FieldInvalid,
    IncumbentHeatMap,
    RiskImpact,
)
from storage.uow import read_only, unit_of_work
from tabs.navigation import SUCCESSION
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, posted_form, theme_query
from tabs.visitors import Visitor

NAV = "succession"
POSITIONS = f"{SUCCESSION}/positions"
POSITION = f"{SUCCESSION}/{{position_id:\\d+}}"
SUCCESSOR = f"{POSITION}/successors/{{person_id:\\d+}}"
DASH = "\u2013"
SAVED = {
    "nominated": "Saved: the successor is on the slate.",
    "updated": "Saved: the successor's plan is updated.",
    "removed": "Saved: the successor is off the slate.",
    "emergency": "Saved: the emergency successor is changed.",
    "critical": "Saved: the position is now critical.",
    "not-critical": "Saved: the position is no longer critical; its slate is kept.",
    "filled": "Saved: the fill is recorded and the new incumbent is off the slate.",
}
# Form fields by the domain argument each refusal names.
FIELDS = {"person_id": "person"}


def mount_succession(app: web.Application) -> None:
    """Add the succession board, the positions list, a position's page and their forms."""
    router = app.router
    router.add_get(SUCCESSION, board_page)
    router.add_get(POSITIONS, positions_page)
    router.add_get(POSITION, position_page)
    router.add_post(f"{POSITION}/successors", nominate)
    router.add_post(SUCCESSOR, update)
    router.add_post(f"{SUCCESSOR}/remove", remove)
    router.add_post(f"{SUCCESSOR}/emergency", emergency)
    router.add_post(f"{POSITION}/critical", critical)
    router.add_post(f"{POSITION}/fill", fill)


# --- what was typed ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A refusal to show next to `field` of form `form` (above the form's button when `field` is None)."""

    form: str
    message: str
    field: str | None = None

    @classmethod
    def of(cls, form: str, error: DomainError) -> Problem:
        field = getattr(error, "field", None)
        return cls(form, error.message, FIELDS.get(field, field) if field else None)

    def at(self, form: str, field: str | None) -> bool:
        return self.form == form and self.field == field


@dataclass(frozen=True)
class SlateForm:
    """A successor's form as typed: the person (nominating only), readiness, months, notes, emergency."""

    person: str = ""
    readiness: str = ""
    months_to_ready: str = ""
    notes: str = ""
    emergency: bool = False

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> SlateForm:
        return cls(
            person=form_text(form, "person"),
            readiness=form_text(form, "readiness"),
            months_to_ready=form_text(form, "months_to_ready"),
            notes=form_text(form, "notes"),
            emergency=form_text(form, "emergency") == "1",
        )

    def months(self) -> int | None:
        text = self.months_to_ready.strip()
        if not text:
            return None
        if text.lstrip("-").isdigit() and len(text) <= 6:
            return int(text)
        raise FieldInvalid("months_to_ready", "Type the months to ready as a whole number, like 18.")


@dataclass(frozen=True)
class FillForm:
    """The fill form as typed."""

    person: str = ""
    filled_on: str = ""
    source: str = ""

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> FillForm:
        return cls(
            person=form_text(form, "person"),
            filled_on=form_text(form, "filled_on"),
            source=form_text(form, "source"),
        )

    def day(self) -> date:
        try:
            return date.fromisoformat(self.filled_on.strip())
        except ValueError:
            raise FieldInvalid(
                "filled_on", "Choose the date the position was filled (year-month-day)."
            ) from None


def form_text(form: Mapping[str, object], name: str) -> str:
    """A posted field's text; empty when it is missing or not text (a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- pages ---------------------------------------------------------------------------------------------


async def board_page(request: web.Request) -> web.StreamResponse:
    """The board: figures, the department filter, the heat map and a card per critical position."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    talent_only(request, rt, visitor)
    department = (request.query.get("department") or "").strip()[:200] or None
    try:
        async with unit_of_work(rt.sessions) as db:
            board = await succession.succession_board(db, actor=visitor.actor, department=department)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused) from None
    return rt.pages.render(
        request,
        "succession.html",
        title="Succession",
        visitor=visitor,
        nav=NAV,
        sc=UI,
        b=board,
        heat=heat_rows(board.heat_map),
    )


async def positions_page(request: web.Request) -> web.StreamResponse:
    """Every position the visitor plans for, to open one (and mark it critical)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    talent_only(request, rt, visitor)
    department = (request.query.get("department") or "").strip()[:200] or None
    # Directory data only (titles, departments, incumbents): nothing to audit, nothing written.
    async with read_only(rt.sessions) as db:
        found = await succession.list_positions(db, actor=visitor.actor, department=department)
    return rt.pages.render(
        request,
        "_succession_positions.html",
        title="Positions",
        visitor=visitor,
        nav=NAV,
        sc=UI,
        positions=found,
        department=department,
    )


async def position_page(request: web.Request) -> web.StreamResponse:
    """One position: its slate with edit forms, naming a successor, recording a fill."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    talent_only(request, rt, visitor)
    return await _render_position(request, rt, visitor)


# --- forms ---------------------------------------------------------------------------------------------


async def nominate(request: web.Request) -> web.StreamResponse:
    """Name a successor: the person typed or picked, readiness, months, notes, emergency."""
    position_id, back = _position_of(request)
    rt, visitor, form = await posted_form(request, back)
    talent_only(request, rt, visitor)
    entered = SlateForm.posted(form)
    try:
        months = entered.months()
        async with unit_of_work(rt.sessions) as db:
            person_id = await succession.resolve_person(db, actor=visitor.actor, text=entered.person)
            await succession.nominate(
                db,
                actor=visitor.actor,
                position_id=position_id,
                person_id=person_id,
                readiness=entered.readiness,
                months_to_ready=months,
                notes=entered.notes,
                emergency=entered.emergency,
                now=rt.clock(),
            )
    except Invalid as invalid:
        problem = Problem.of("nominate", invalid)
        return await _render_position(request, rt, visitor, status=400, problem=problem, slate=entered)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=back) from None
    raise _saved(request, back, "nominated", "slate")


async def update(request: web.Request) -> web.StreamResponse:
    """Change one successor's readiness, months, notes and emergency flag."""
    position_id, back = _position_of(request)
    person_id = form_int(request.match_info.get("person_id"))
    rt, visitor, form = await posted_form(request, back)
    talent_only(request, rt, visitor)
    entered = SlateForm.posted(form)
    key = f"s{person_id}"
    try:
        if person_id is None:
            raise NotFound(succession.NO_PERSON)
        months = entered.months()
        async with unit_of_work(rt.sessions) as db:
            await succession.update_successor(
                db,
                actor=visitor.actor,
                position_id=position_id,
                person_id=person_id,
                readiness=entered.readiness,
                months_to_ready=months,
                notes=entered.notes,
                emergency=entered.emergency,
                now=rt.clock(),
            )
    except Invalid as invalid:
        problem = Problem.of(key, invalid)
        return await _render_position(request, rt, visitor, status=400, problem=problem, slate=entered)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=back) from None
    raise _saved(request, back, "updated", f"successor-{person_id}")


async def remove(request: web.Request) -> web.StreamResponse:
    """Take one successor off the slate."""
    return await _successor_action(request, succession.remove_successor, "removed")


async def emergency(request: web.Request) -> web.StreamResponse:
    """Make one successor the emergency successor (the flag moves from whoever had it)."""
    return await _successor_action(request, succession.set_emergency, "emergency")


async def critical(request: web.Request) -> web.StreamResponse:
    """Mark the position critical, or no longer critical (its slate is kept)."""
    position_id, back = _position_of(request)
    rt, visitor, form = await posted_form(request, back)
    talent_only(request, rt, visitor)
    wanted = form_text(form, "critical") == "1"
    try:
        async with unit_of_work(rt.sessions) as db:
            await succession.set_critical(
                db, actor=visitor.actor, position_id=position_id, critical=wanted, now=rt.clock()
            )
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=back) from None
    raise _saved(request, back, "critical" if wanted else "not-critical", "critical")


async def fill(request: web.Request) -> web.StreamResponse:
    """Record how the position was filled: who, when, internal or external."""
    position_id, back = _position_of(request)
    rt, visitor, form = await posted_form(request, back)
    talent_only(request, rt, visitor)
    entered = FillForm.posted(form)
    try:
        async with unit_of_work(rt.sessions) as db:
            person_id = await succession.resolve_person(db, actor=visitor.actor, text=entered.person)
            await mobility.fill_position(
                db,
                actor=visitor.actor,
                position_id=position_id,
                person_id=person_id,
                filled_on=entered.day(),
                source=entered.source,
                now=rt.clock(),
            )
    except Invalid as invalid:
        problem = Problem.of("fill", invalid)
        return await _render_position(request, rt, visitor, status=400, problem=problem, filled=entered)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=back) from None
    raise _saved(request, back, "filled", "fills")


async def _successor_action(
    request: web.Request, action: Callable[..., Awaitable[object]], saved: str
) -> web.StreamResponse:
    position_id, back = _position_of(request)
    person_id = form_int(request.match_info.get("person_id"))
    rt, visitor, _form = await posted_form(request, back)
    talent_only(request, rt, visitor)
    try:
        if person_id is None:
            raise NotFound(succession.NO_PERSON)
        async with unit_of_work(rt.sessions) as db:
            await action(
                db, actor=visitor.actor, position_id=position_id, person_id=person_id, now=rt.clock()
            )
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused, retry_url=back) from None
    raise _saved(request, back, saved, "slate")


# --- rendering -----------------------------------------------------------------------------------------


async def _render_position(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    *,
    status: int = 200,
    problem: Problem | None = None,
    slate: SlateForm | None = None,
    filled: FillForm | None = None,
) -> web.Response:
    position_id, _ = _position_of(request)
    try:
        async with unit_of_work(rt.sessions) as db:
            view = await succession.position_slate(db, actor=visitor.actor, position_id=position_id)
    except (Forbidden, NotFound) as refused:
        raise refused_page(request, rt, visitor, refused) from None
    saved = SAVED.get(request.query.get("saved", ""))
    return rt.pages.render(
        request,
        "succession_position.html",
        title=view.card.title,
        visitor=visitor,
        status=status,
        nav=NAV,
        sc=UI,
        v=view,
        c=view.card,
        problem=problem,
        slate=slate,
        filled=filled or FillForm(source="internal"),
        saved=None if status != 200 else saved,
        today=rt.clock().date().isoformat(),
    )


def _position_of(request: web.Request) -> tuple[int, str]:
    position_id = form_int(request.match_info.get("position_id"))
    if position_id is None:  # the route only matches digits: too long a number
        raise web.HTTPNotFound()
    return position_id, f"{SUCCESSION}/{position_id}"


def _saved(request: web.Request, back: str, what: str, anchor: str) -> web.HTTPException:
    return web.HTTPSeeOther(f"{back}?saved={what}{theme_query(request)}#{anchor}")


def talent_only(request: web.Request, rt: TabsRuntime, visitor: Visitor) -> None:
    """Refuse everyone but HR and talent reviewers in the page's words (the services would too)."""
    if not may_view_talent_pages(visitor.actor):
        raise rt.pages.error(
            request,
            status=403,
            title="Succession is for HR and talent reviewers",
            message="You don't have access to the succession board: HR and talent reviewers plan "
            "succession. Your own development plan is on the My development page.",
            retry_url="/tabs/development",
            visitor=visitor,
        )


def refused_page(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    refused: DomainError,
    *,
    retry_url: str = SUCCESSION,
) -> web.HTTPException:
    """The refusal page for a Forbidden (403) or NotFound (404) from the succession services."""
    forbidden = isinstance(refused, Forbidden)
    return rt.pages.error(
        request,
        status=403 if forbidden else 404,
        title="No access to this succession plan" if forbidden else "Not found",
        message=refused.message,
        retry_url=retry_url,
        visitor=visitor,
    )


# --- display helpers (the templates' `sc`) -------------------------------------------------------------


def percent(value: Decimal | None) -> str:
    """A coverage figure: "62.5 %", or a dash without critical positions."""
    return DASH if value is None else f"{value.normalize():f} %"


def depth(value: Decimal | None) -> str:
    return DASH if value is None else f"{value:.2f}"


def readiness_class(readiness: str) -> str:
    return {"ready_now": "now", "1_2_years": "soon", "3_5_years": "later"}.get(readiness, "later")


def months(value: int | None) -> str:
    if value is None:
        return ""
    return "1 month" if value == 1 else f"{value} months"


def severity(risk: int, impact: int) -> str:
    """How urgent a risk x impact cell is: high when both are high or one high and one medium."""
    total = risk + impact
    return "high" if total >= 5 else "medium" if total == 4 else "low"


def risk_text(rating: RiskImpact | None) -> str:
    if rating is None:
        return "Risk and impact of loss not rated"
    return f"Risk of loss {rating.risk_label.lower()} \u00b7 impact of loss {rating.impact_label.lower()}"


def url(path: str, theme: str, **params: object) -> str:
    """A link that keeps the theme; empty parameters are left out."""
    kept = {k: str(v) for k, v in params.items() if v is not None and str(v).strip()}
    if theme != "default":
        kept["theme"] = theme
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass(frozen=True)
class HeatCell:
    risk: int
    impact: int
    count: int
    severity: str
    label: str


def heat_rows(heat: IncumbentHeatMap) -> list[tuple[str, list[HeatCell]]]:
    """The heat map's rows, high impact first, each cell low risk first (how such grids are read)."""
    rows = []
    for impact in (3, 2, 1):
        cells = [
            HeatCell(
                risk=risk,
                impact=impact,
                count=heat.count(risk=risk, impact=impact),
                severity=severity(risk, impact),
                label=f"{LEVEL_LABELS[impact]} impact, {LEVEL_LABELS[risk].lower()} risk",
            )
            for risk in (1, 2, 3)
        ]
        rows.append((LEVEL_LABELS[impact], cells))
    return rows


UI = SimpleNamespace(
    percent=percent,
    depth=depth,
    readiness_class=readiness_class,
    months=months,
    severity=severity,
    risk_text=risk_text,
    url=url,
    readiness_labels=READINESS_LABELS,
    source_labels=SOURCE_LABELS,
    level_labels=LEVEL_LABELS,
    months_range=MONTHS_RANGE,
    notes_max=NOTES_MAX,
    hire_window=EXTERNAL_HIRE_WINDOW_DAYS,
    positions=POSITIONS,
    pools=f"{SUCCESSION}/pools",
    board=SUCCESSION,
)

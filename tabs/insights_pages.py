"""The Insights tab: the bridge's suggestions for HR and talent reviewers, each expandable to its evidence
and decided with a reason; everyone else gets the refusal page.

The list is filtered by kind, department and minimum score (GET parameters, so a chosen view is a link; a
bad one is a 400 with the sentence next to its field and what was typed kept). Counts per kind come
first; then the strongest few of each kind, or one kind's pages. Each suggestion is a <details> (no
script needed) holding its evidence, with links where the evidence has a page of its own, and one form
with a required reason and two buttons, Accept and Dismiss. A refused decision writes nothing and is shown
next to that suggestion's form, open, with the reason as typed (400; 409 when the talent review entry
changed meanwhile; 404 with a notice when the suggestion is gone). After a decision the page comes back
(303) with what it did.

Reading runs in a unit of work: the domain writes the audit entries of every view and decision. The
suggestions a reader got are kept a few minutes per application (domain.insights.SuggestionCache), so
the page costs milliseconds however large the organization once they were computed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from aiohttp import web

from domain import insights
from domain.access import may_view_talent_pages
from domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from domain.insight_views import (
    ACCEPT_EFFECTS,
    KIND_LABELS,
    LISTED_KINDS,
    REASON_MAX,
    DecisionView,
    InsightsView,
)
from domain.signal_views import Evidence, EvidenceKind, SignalKind, Suggestion
from storage.uow import unit_of_work
from tabs.navigation import HOME, INSIGHTS
from tabs.pages import theme_of
from tabs.review_common import refusal
from tabs.review_forms import Problem
from tabs.runtime import TABS, TabsRuntime, form_field, form_int, page_visitor, posted_form
from tabs.visitors import Visitor

NAV = "insights"
DECISIONS = f"{INSIGHTS}/decisions"
CACHE = web.AppKey("trellis.insights_cache", insights.SuggestionCache)
FILTERS = ("kind", "department", "min_score", "page")
REFUSED = "You don't have access to insights: HR and talent reviewers see them."


def mount_insights(app: web.Application) -> None:
    """Add the Insights page and its decision form; tabs.routes.mount calls this."""
    app[CACHE] = insights.SuggestionCache()
    app.router.add_get(INSIGHTS, insights_page)
    app.router.add_post(DECISIONS, decide)


# --- the page ---------------------------------------------------------------------------------------------


async def insights_page(request: web.Request) -> web.StreamResponse:
    """The suggestions the visitor may see, as the query filters them."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    if not may_view_talent_pages(visitor.actor):
        raise _refused(request, rt, visitor, Forbidden(REFUSED))
    filters = Filters.from_query(request.query)
    decided = form_int(request.query.get("decided"))
    already = request.query.get("already") == "1"
    return await _render(request, rt, visitor, filters, decided_id=decided, already=already)


async def decide(request: web.Request) -> web.StreamResponse:
    """One suggestion's form: Accept or Dismiss with a reason (domain.insights.decide)."""
    rt, visitor, form = await posted_form(request, INSIGHTS)
    filters = Filters.from_query(form)
    entered = DecisionForm.posted(form)
    try:
        kind, person_id, target_key = entered.suggestion()
        if entered.accept is None:
            raise Invalid("Choose Accept or Dismiss.")
        async with unit_of_work(rt.sessions) as db:
            view = await insights.decide(
                db,
                actor=visitor.actor,
                kind=kind,
                person_id=person_id,
                target_key=target_key,
                accept=entered.accept,
                reason=entered.reason,
                now=rt.clock(),
            )
    except NotFound as gone:
        return await _render(request, rt, visitor, filters, status=404, notice=gone.message)
    except (Invalid, Conflict) as refused:
        status = 409 if isinstance(refused, Conflict) else 400
        return await _render(
            request, rt, visitor, filters, status=status, entered=entered, problem=Problem.of(refused)
        )
    except Forbidden as refused:
        raise _refused(request, rt, visitor, refused) from None
    extra = {"already": "1"} if view.already else {}
    query = filters.query(theme_of(request), decided=str(view.id), **extra)
    raise web.HTTPSeeOther(f"{INSIGHTS}?{query}#decided")


async def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    filters: Filters,
    *,
    status: int = 200,
    decided_id: int | None = None,
    already: bool = False,
    notice: str | None = None,
    entered: DecisionForm | None = None,
    problem: Problem | None = None,
) -> web.Response:
    view: InsightsView | None = None
    decided: DecisionView | None = None
    if filters.problems:
        status = 400
    else:
        try:
            async with unit_of_work(rt.sessions) as db:
                view = await insights.insights(
                    db,
                    actor=visitor.actor,
                    today=rt.clock().date(),
                    kind=filters.typed["kind"],
                    department=filters.typed["department"],
                    min_score=filters.typed["min_score"],
                    page=filters.typed["page"],
                    cache=request.app[CACHE],
                )
                if decided_id is not None:
                    decided = await insights.get_decision(db, actor=visitor.actor, decision_id=decided_id)
                    if decided is not None and already:
                        decided = replace(decided, already=True)
        except insights.FieldInvalid as bad:
            filters.problems[bad.field] = bad.message
            status = 400
        except Forbidden as refused:
            raise _refused(request, rt, visitor, refused) from None
    return rt.pages.render(
        request,
        "insights.html",
        title="Insights",
        visitor=visitor,
        status=status,
        nav=NAV,
        v=view,
        f=filters,
        decided=decided,
        notice=notice,
        entered=entered,
        problem=problem,
        ui=Display,
    )


def _refused(
    request: web.Request, rt: TabsRuntime, visitor: Visitor, refused: DomainError
) -> web.HTTPException:
    return refusal(request, rt, visitor, refused, title="No access to insights", retry_url=HOME)


# --- the query and the form -------------------------------------------------------------------------------


@dataclass
class Filters:
    """The page's filters as typed, with a sentence per bad one."""

    typed: dict[str, str]
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> Filters:
        typed = {name: (form_field(query, name) or "").strip()[:200] for name in FILTERS}
        return cls(typed, insights.filter_problems(**typed))

    def query(self, theme: str = "default", **more: str) -> str:
        """The filters as a query string (empty ones left out), with `more` on top."""
        values = {k: v for k, v in self.typed.items() if v} | more
        if theme != "default":
            values["theme"] = theme
        return urlencode({k: v for k, v in values.items() if v})

    def link(self, theme: str, **changes: str) -> str:
        """The page with some filters changed (the page number starts again unless given)."""
        values = {**self.typed, "page": "", **changes}
        return f"{INSIGHTS}?{Filters(values).query(theme)}".rstrip("?")


@dataclass(frozen=True)
class DecisionForm:
    """A posted decision as typed: which suggestion, accept or dismiss, and the reason."""

    key: str
    accept: bool | None
    reason: str

    @classmethod
    def posted(cls, form: Mapping[str, object]) -> DecisionForm:
        choice = form_field(form, "decision")
        accept = True if choice == "accept" else False if choice == "dismiss" else None
        return cls(
            key=(form_field(form, "suggestion") or "")[:200],
            accept=accept,
            reason=(form_field(form, "reason") or "")[: REASON_MAX * 2],
        )

    def suggestion(self) -> tuple[str, int, str]:
        """The suggestion's (kind, person id, target key); a forged one is NotFound."""
        parts = self.key.split("|", 2)
        person_id = form_int(parts[1]) if len(parts) == 3 else None
        if person_id is None:
            raise NotFound(insights.NO_SUGGESTION)
        return parts[0], person_id, parts[2]


# --- what the template shows ------------------------------------------------------------------------------


class Display:
    """Formatting and links for insights.html."""

    KIND_LABELS = KIND_LABELS
    LISTED_KINDS = LISTED_KINDS
    ACCEPT_EFFECTS = ACCEPT_EFFECTS
    REASON_MAX = REASON_MAX

    @staticmethod
    def effect(s: Suggestion) -> str:
        """What accepting this one does."""
        if s.kind is SignalKind.DEVELOPMENT_PROGRAM and not s.target_key:
            return "There is no development pool yet: accepting records the decision only."
        return ACCEPT_EFFECTS[s.kind]

    @staticmethod
    def key(s: Suggestion) -> str:
        """What the form posts to name the suggestion."""
        return f"{s.kind.value}|{s.person_id}|{s.target_key}"

    @staticmethod
    def anchor(s: Suggestion) -> str:
        """An element id for the suggestion."""
        return re.sub(r"[^a-z0-9-]+", "-", f"s-{s.kind.value}-{s.person_id}-{s.target_key}".lower()).strip(
            "-"
        )

    @staticmethod
    def percent(score: float) -> int:
        return round(min(max(score, 0.0), 1.0) * 100)

    @staticmethod
    def score(score: float) -> str:
        return f"{score:.2f}"

    @staticmethod
    def day(value: object) -> str:
        return f"{value.day} {value:%b %Y}" if value is not None else ""  # type: ignore[attr-defined]

    @staticmethod
    def evidence_link(s: Suggestion, e: Evidence) -> str | None:
        """The page an evidence row has, if any."""
        if e.kind is EvidenceKind.GOAL and e.ref_id is not None:
            return f"/tabs/goals/{e.ref_id}/edit"
        if e.kind is EvidenceKind.POSITION and e.ref_id is not None:
            return f"/tabs/talent/succession/{e.ref_id}"
        if e.kind is EvidenceKind.ASSESSMENT:
            return f"/tabs/people/{s.person_id}/competencies"
        if e.kind is EvidenceKind.DEVELOPMENT_ACTION:
            return f"/tabs/development/{s.person_id}"
        return None

    @staticmethod
    def evidence_kind(e: Evidence) -> str:
        return e.kind.value.replace("_", " ").capitalize()

"""The Feedback tab: what I received (anonymous answers only pooled), gave and asked for, with filters
by person, tag and date and a trend by month; a manager's line on its own page; HR opens anyone's.

Every page reads through domain.performance.feedback_read, which reads through the feedback services:
nothing here decides who may see what. Filters travel as GET query parameters (?person=&tag=&from=&to=),
so a filtered page is a link; a bad one is answered 400 with the message next to its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Role
from domain.errors import Forbidden, NotFound
from domain.performance import feedback_read
from domain.performance.feedback_read_views import (
    TREND_MONTHS,
    FeedbackFilter,
    FeedbackTrend,
    FilterInvalid,
    PeopleChoices,
    PersonFeedback,
    parse_filter,
)
from domain.performance.feedback_views import FeedbackView, FeedbackVisibility, RequestStatus, TagView
from tabs.navigation import FEEDBACK, FEEDBACK_TEAM
from tabs.runtime import TABS, TabsRuntime, form_int, page_visitor, reading
from tabs.visitors import Visitor

NAV = "feedback"
NO_RATING = "\u2013"  # an en dash under a month without ratings
TEAM_LATEST = 3  # pieces of feedback per person on the team page; the rest is a link away


def mount_feedback(app: web.Application) -> None:
    """Add the Feedback pages; tabs.routes.mount calls this."""
    app.router.add_get(FEEDBACK, feedback_page)
    app.router.add_get(FEEDBACK_TEAM, team_feedback_page)


# --- the filter form ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FilterForm:
    """The filters as typed (to show again) and their query parameters."""

    person: str = ""
    tag: str = ""
    since: str = ""
    until: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> FilterForm:
        return cls(
            person=query.get("person", ""),
            tag=query.get("tag", ""),
            since=query.get("from", ""),
            until=query.get("to", ""),
        )

    def parse(self) -> FeedbackFilter:
        return parse_filter(person=self.person, tag=self.tag, since=self.since, until=self.until)

    @property
    def params(self) -> dict[str, str]:
        return {"person": self.person, "tag": self.tag, "from": self.since, "to": self.until}

    @property
    def filtered(self) -> bool:
        return any(value.strip() for value in self.params.values())


@dataclass(frozen=True)
class Problem:
    """A refusal to show next to `field` (a filter, or the find box)."""

    field: str
    message: str


def _filters(form: FilterForm) -> tuple[FeedbackFilter, Problem | None]:
    """The parsed filters, or none at all with the reason: a page half-filtered would mislead."""
    try:
        return form.parse(), None
    except FilterInvalid as bad:
        return FeedbackFilter(), Problem(bad.field, bad.message)


# --- pages -------------------------------------------------------------------------------------------


async def feedback_page(request: web.Request) -> web.StreamResponse:
    """Feedback: mine (received, given, requested), or with ?about= a report's (anyone's for HR)."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    actor = visitor.actor
    form = FilterForm.of(request.query)
    filters, problem = _filters(form)
    about = _about(request, rt, visitor)
    async with reading(rt, actor) as db:
        choices, find_problem = await _choices(db, actor, request.query.get("find"))
        if about is None:
            mine = await feedback_read.my_feedback(db, actor=actor, now=rt.clock(), filters=filters)
            other = None
        else:
            mine, other = None, await _person_feedback(request, rt, db, visitor, about, filters)
    return rt.pages.render(
        request,
        "feedback.html",
        title=f"Feedback about {other.received.person_name}" if other else "Feedback",
        visitor=visitor,
        status=400 if problem or find_problem else 200,
        nav=NAV,
        ui=Display,
        mine=mine,
        other=other,
        about=about,
        form=form,
        problem=problem,
        choices=choices,
        find=request.query.get("find", ""),
        find_problem=find_problem,
        is_manager=actor.has(Role.MANAGER),
    )


async def team_feedback_page(request: web.Request) -> web.StreamResponse:
    """My team: what the first people of my line (by name) received, each with a trend."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    actor = visitor.actor
    if not (actor.has(Role.MANAGER) or actor.has(Role.HR_ADMIN)):
        raise rt.pages.error(
            request,
            status=403,
            title="My team is for managers",
            message="No one reports to you, so there is no team feedback to show. Your own feedback is on "
            "the Feedback page.",
            retry_url=FEEDBACK,
            visitor=visitor,
        )
    form = FilterForm.of(request.query)
    filters, problem = _filters(form)
    async with reading(rt, actor) as db:
        line = await feedback_read.line_feedback(db, actor=actor, now=rt.clock(), filters=filters)
    return rt.pages.render(
        request,
        "feedback_team.html",
        title="My team's feedback",
        visitor=visitor,
        status=400 if problem else 200,
        nav=NAV,
        ui=Display,
        line=line,
        form=form,
        problem=problem,
        latest=TEAM_LATEST,
    )


def _about(request: web.Request, rt: TabsRuntime, visitor: Visitor) -> int | None:
    """Whose received feedback to show: None for the visitor's own page."""
    raw = request.query.get("about", "").strip()
    if not raw:
        return None
    person_id = form_int(raw)
    if person_id is None:
        raise _not_found(request, rt, visitor, "That person is not in the directory.")
    return None if person_id == visitor.actor.person_id else person_id


async def _person_feedback(
    request: web.Request,
    rt: TabsRuntime,
    db: AsyncSession,
    visitor: Visitor,
    person_id: int,
    filters: FeedbackFilter,
) -> PersonFeedback:
    try:
        return await feedback_read.person_feedback(
            db, actor=visitor.actor, person_id=person_id, now=rt.clock(), filters=filters
        )
    except Forbidden as refused:
        raise rt.pages.error(
            request,
            status=403,
            title="Not your team's feedback",
            message=f"{refused.message} You can read your own feedback, and the feedback of people who "
            "report to you.",
            retry_url=FEEDBACK,
            visitor=visitor,
        ) from None
    except NotFound as missing:
        raise _not_found(request, rt, visitor, missing.message) from None


def _not_found(request: web.Request, rt: TabsRuntime, visitor: Visitor, message: str) -> web.HTTPException:
    return rt.pages.error(
        request, status=404, title="Person not found", message=message, retry_url=FEEDBACK, visitor=visitor
    )


async def _choices(db: AsyncSession, actor: Actor, find: str | None) -> tuple[PeopleChoices, Problem | None]:
    """Whose feedback the visitor may open (their line; anyone for HR), or all of them when the name to
    find was refused."""
    if not (actor.has(Role.MANAGER) or actor.has(Role.HR_ADMIN)):
        return PeopleChoices(people=(), total=0, whole_organization=False), None  # no one: skip the queries
    try:
        return await feedback_read.people_choices(db, actor=actor, find=find), None
    except FilterInvalid as bad:
        return await feedback_read.people_choices(db, actor=actor), Problem(bad.field, bad.message)


# --- how things read on the page ---------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One month of a trend chart, in the SVG's user units (viewBox 0 0 TREND_WIDTH TREND_HEIGHT)."""

    x: float  # left of the bar
    middle: float
    top: float
    height: float
    count: int
    month: str  # "Nov"
    rating: str  # "4.5", or NO_RATING


class Display:
    """Helpers the feedback templates reach as `ui.<name>`: plain text or numbers, never markup."""

    SLOT = 20  # user units per month
    BAR_WIDTH = 12
    BAR_MAX = 40
    BASELINE = 52
    TREND_HEIGHT = 78
    TREND_WIDTH = SLOT * TREND_MONTHS

    STATUS_LABELS = {
        RequestStatus.OPEN: "Open",
        RequestStatus.CLOSED: "Closed",
        RequestStatus.EXPIRED: "Expired",
    }

    @staticmethod
    def day(moment: datetime | date) -> str:
        """23 Nov 2026 (UTC, like the date filters)."""
        if isinstance(moment, datetime):
            moment = moment.astimezone(UTC).date()
        return f"{moment.day} {moment:%b %Y}"

    @staticmethod
    def month(first: date) -> str:
        """November 2026."""
        return f"{first:%B %Y}"

    @staticmethod
    def rating(value: float | None) -> str:
        """4.5 (one decimal), or a dash when nothing was rated."""
        return NO_RATING if value is None else f"{value:.1f}"

    @staticmethod
    def tag(tag: TagView) -> str:
        """Communication, or Communication 4/5 when rated."""
        return tag.tag if tag.rating is None else f"{tag.tag} {tag.rating}/5"

    @staticmethod
    def status(status: RequestStatus | str) -> str:
        return Display.STATUS_LABELS.get(RequestStatus(status), str(status))

    @classmethod
    def bars(cls, trend: FeedbackTrend) -> list[Bar]:
        """Count bars scaled to the busiest month (a month with feedback always shows a sliver)."""
        busiest = trend.busiest or 1
        bars = []
        for i, month in enumerate(trend.months):
            height = max(round(cls.BAR_MAX * month.count / busiest, 2), 1.5) if month.count else 0.0
            x = i * cls.SLOT + (cls.SLOT - cls.BAR_WIDTH) / 2
            bars.append(
                Bar(
                    x=x,
                    middle=i * cls.SLOT + cls.SLOT / 2,
                    top=round(cls.BASELINE - height, 2),
                    height=height,
                    count=month.count,
                    month=f"{month.month:%b}",
                    rating=cls.rating(month.average_rating),
                )
            )
        return bars

    @staticmethod
    def trend_summary(trend: FeedbackTrend) -> str:
        """Last 12 months (Dec 2025 to Nov 2026): 4 pieces of feedback, average rating 3.5 of 5."""
        first, last = trend.months[0].month, trend.months[-1].month
        span = f"Last {len(trend.months)} months ({first:%b %Y} to {last:%b %Y})"
        pieces = f"{trend.total} {'piece' if trend.total == 1 else 'pieces'} of feedback"
        if trend.average_rating is None:
            return f"{span}: {pieces}, none rated."
        return f"{span}: {pieces}, average rating {trend.average_rating:.1f} of 5."

    @staticmethod
    def visibility_note(view: FeedbackView, viewer_id: int) -> str | None:
        """Who else sees a piece of feedback, when it is not simply the recipient and their managers."""
        name, gave_it = view.recipient_name, view.giver_id == viewer_id
        if view.visibility == FeedbackVisibility.MANAGER_ONLY:
            return f"Private note: only {name}'s managers and HR see it."
        if view.visibility == FeedbackVisibility.RECIPIENT_ONLY:
            if gave_it:
                return f"Only {name} sees it, besides you."
            if view.recipient_id == viewer_id:
                return "Only you and whoever gave it see it."
            # Nobody else may read a recipient-only piece by itself: the viewer is HR.
            return f"Only {name} and whoever gave it see it; you see it as HR."
        if view.visibility == FeedbackVisibility.ANONYMOUS:
            if gave_it:
                return f"You answered anonymously: {name} sees it only pooled with others'."
            # Nobody but its giver and HR reads an anonymous answer by itself (with its giver).
            return f"Anonymous to {name}: you see who gave it as HR, and this read is logged."
        return None

    @staticmethod
    def url(path: str, theme: str, params: Mapping[str, object] | None = None, **more: object) -> str:
        """A link that keeps the theme; empty parameters are left out."""
        every = {**(params or {}), **more}
        kept = {k: str(v) for k, v in every.items() if v is not None and str(v).strip()}
        if theme != "default":
            kept["theme"] = theme
        return f"{path}?{urlencode(kept)}" if kept else path

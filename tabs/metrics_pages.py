"""The Talent metrics tab: bench strength, internal fill rate per period, skill-gap closure, promotion
readiness, retention of high performers and high potentials, and the risk x impact heat map, for HR and
talent reviewers (their scope); everyone else gets the refusal page.

Figures only, never names (domain/metrics.py defines and counts them; reading them writes one audit entry,
so the page reads in a unit of work). The charts are inline SVG drawn here and in _charts.html, coloured
by classes of metrics.css (the CSP allows no style attributes); each carries its numbers in text too. The
window, baseline and department are GET parameters, so a chosen view is a link; a bad one is a 400 with
the message next to its field and what was typed kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from aiohttp import web

from domain import metrics
from domain.access import may_view_talent_pages
from domain.errors import Forbidden, Invalid
from domain.metrics_views import FillRate, HeatMap, Period, PromotionReadiness, TalentMetrics
from storage.uow import read_only, unit_of_work
from tabs.navigation import HOME, TALENT_METRICS
from tabs.runtime import TABS, TabsRuntime, page_visitor
from tabs.visitors import Visitor

NAV = "talent-metrics"
# How many periods the fill-rate chart shows when no window is asked for.
DEFAULT_PERIODS = {Period.QUARTER: 8, Period.MONTH: 12, Period.YEAR: 5}
PERIOD_LABELS = {Period.QUARTER: "Quarters", Period.MONTH: "Months", Period.YEAR: "Years"}
LEVELS = ("Low", "Medium", "High")
DASH = "\u2013"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def mount_metrics(app: web.Application) -> None:
    """Add the Talent metrics page; tabs.routes.mount calls this."""
    app.router.add_get(TALENT_METRICS, metrics_page)


async def metrics_page(request: web.Request) -> web.StreamResponse:
    """The figures for the visitor's scope, with the window and department of the query."""
    rt = request.app[TABS]
    visitor = await page_visitor(request, rt)
    if not may_view_talent_pages(visitor.actor):
        raise _refused(
            request, rt, visitor, "You don't have access to talent metrics: HR and talent reviewers see them."
        )
    choice = MetricsChoice.from_query(request.query, today=rt.clock().date())
    if choice.problems:
        return _render(request, rt, visitor, choice, None, status=400)
    try:
        # Two connections: skill-gap closure is counted on the second while the rest is on the first.
        async with unit_of_work(rt.sessions) as db, read_only(rt.sessions, off_loop=True) as side:
            view = await metrics.talent_metrics(
                db,
                side=side,
                actor=visitor.actor,
                as_of=choice.today,
                fill_start=choice.start,
                fill_end=choice.end,
                period=choice.period,
                baseline=choice.baseline,
                since=choice.since,
                department=choice.department or None,
            )
    except Invalid as invalid:
        # The window is checked above; what is left (too many periods) concerns its start.
        choice.problems["from"] = invalid.message
        return _render(request, rt, visitor, choice, None, status=400)
    except Forbidden as refused:
        raise _refused(request, rt, visitor, refused.message) from None
    return _render(request, rt, visitor, choice, view)


def _refused(request: web.Request, rt: TabsRuntime, visitor: Visitor, message: str) -> web.HTTPException:
    return rt.pages.error(
        request,
        status=403,
        title="No access to talent metrics",
        message=message,
        retry_url=HOME,
        visitor=visitor,
    )


def _render(
    request: web.Request,
    rt: TabsRuntime,
    visitor: Visitor,
    choice: MetricsChoice,
    view: TalentMetrics | None,
    *,
    status: int = 200,
) -> web.Response:
    return rt.pages.render(
        request,
        "talent_metrics.html",
        title="Talent metrics",
        visitor=visitor,
        status=status,
        nav=NAV,
        choice=choice,
        v=view,
        ui=Display,
    )


# --- the query -----------------------------------------------------------------------------------------


@dataclass
class MetricsChoice:
    """The page's GET parameters as typed (`typed`) and as dates, with a sentence per bad field."""

    today: date
    typed: dict[str, str]
    period: Period = Period.QUARTER
    start: date = date.min
    end: date = date.min
    baseline: date = date.min
    since: date = date.min
    department: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, str], *, today: date) -> MetricsChoice:
        """Read department, period, from, to, baseline and since; the defaults fill what is missing."""
        typed = {
            name: query.get(name, "").strip()[:200]
            for name in ("department", "period", "from", "to", "baseline", "since")
        }
        choice = cls(today=today, typed=typed, department=typed["department"])
        try:
            choice.period = Period(typed["period"] or Period.QUARTER)
        except ValueError:
            choice.problems["period"] = "Choose months, quarters or years."
        a_year_ago = _years_before(today, 1)
        choice.end = choice._day("to", today, "the end of the fill-rate window")
        default_start = _periods_before(choice.period, choice.end, DEFAULT_PERIODS[choice.period] - 1)
        choice.start = choice._day("from", default_start, "the start of the fill-rate window")
        choice.baseline = choice._day("baseline", a_year_ago, "the skill-gap baseline")
        choice.since = choice._day("since", a_year_ago, "the start of the retention period")
        if not {"from", "to"} & choice.problems.keys() and choice.start > choice.end:
            choice.problems["from"] = "The start of the fill-rate window must be on or before its end."
        for name, day, what in (
            ("baseline", choice.baseline, "baseline"),
            ("since", choice.since, "retention start"),
        ):
            if name not in choice.problems and day > today:
                choice.problems[name] = f"The {what} must be on or before today ({Display.day(today)})."
        return choice

    def _day(self, name: str, default: date, what: str) -> date:
        text = self.typed[name]
        if not text:
            return default
        try:
            if not _ISO_DAY.fullmatch(text):
                raise ValueError(text)
            return date.fromisoformat(text)
        except ValueError:
            self.problems[name] = f"Enter {what} as a date, like {self.today.isoformat()}."
            return default

    def value(self, name: str) -> str:
        """What the field shows: as typed, else the date in use."""
        if self.typed[name] or name in self.problems:
            return self.typed[name]
        return {"from": self.start, "to": self.end, "baseline": self.baseline, "since": self.since}[
            name
        ].isoformat()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _periods_before(kind: Period, day: date, count: int) -> date:
    """The first day of the calendar period `count` periods before the one holding `day`."""
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[kind]
    index = max(day.year * 12 + (day.month - 1) // months * months - months * count, 12)
    return date(index // 12, index % 12 + 1, 1)


# --- what the template draws ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One period of the fill-rate chart (SVG units: COLUMN_WIDTH wide, CHART_HEIGHT tall)."""

    x: float
    middle: float
    top: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, its length in percent of the track, the number written beside it."""

    key: str
    label: str
    length: float
    value: str


class Display:
    """Formatting and chart geometry for talent_metrics.html."""

    COLUMN_WIDTH = 40
    COLUMN_GAP = 10
    CHART_TOP = 14
    CHART_HEIGHT = 100
    LABEL_SPACE = 16
    LEVELS = LEVELS
    DASH = DASH
    PERIOD_LABELS = PERIOD_LABELS

    @staticmethod
    def percent(value: Decimal | None, none: str = "no data") -> str:
        """50.0 → "50%", 66.7 → "66.7%", None → `none`."""
        if value is None:
            return none
        text = f"{value:.1f}".removesuffix(".0")
        return f"{text}%"

    @staticmethod
    def length(value: Decimal | None) -> float:
        """A percentage as a bar length in 0..100."""
        return 0.0 if value is None else float(min(max(value, Decimal(0)), Decimal(100)))

    @staticmethod
    def day(value: date) -> str:
        return f"{value.day} {value:%b %Y}"

    @staticmethod
    def count(n: int, one: str, many: str) -> str:
        return f"{n} {one if n == 1 else many}"

    @classmethod
    def chart_width(cls, fill: FillRate) -> int:
        return len(fill.periods) * (cls.COLUMN_WIDTH + cls.COLUMN_GAP) + cls.COLUMN_GAP

    @classmethod
    def baseline_y(cls) -> int:
        return cls.CHART_TOP + cls.CHART_HEIGHT

    @classmethod
    def columns(cls, fill: FillRate) -> list[Column]:
        """Bars of the internal fill rate per period, 100 % at the top."""
        out = []
        for index, period in enumerate(fill.periods):
            x = cls.COLUMN_GAP + index * (cls.COLUMN_WIDTH + cls.COLUMN_GAP)
            height = cls.length(period.rate) * cls.CHART_HEIGHT / 100
            out.append(
                Column(
                    x=x,
                    middle=x + cls.COLUMN_WIDTH / 2,
                    top=cls.baseline_y() - height,
                    height=height,
                    label=period.label,
                    value=cls.percent(period.rate, DASH),
                )
            )
        return out

    @staticmethod
    def readiness_bars(r: PromotionReadiness) -> list[Bar]:
        """Ready now, 1-2 years, 3-5 years: people, each bar relative to the largest."""
        counts = (
            ("ready-now", "Ready now", r.ready_now),
            ("soon", f"Ready in 1{DASH}2 years", r.one_to_two_years),
        )
        counts += (("later", f"Ready in 3{DASH}5 years", r.three_to_five_years),)
        largest = max((n for _, _, n in counts), default=0)
        return [
            Bar(key, label, 100 * n / largest if largest else 0.0, Display.count(n, "person", "people"))
            for key, label, n in counts
        ]

    @staticmethod
    def heat_level(heat: HeatMap, risk: int, impact: int) -> int:
        """0 for an empty cell, else 1-4 by its share of the fullest cell (the class of its shade)."""
        n = heat.count(risk, impact)
        if not n or not heat.largest:
            return 0
        return min(4, 1 + (4 * n - 1) // heat.largest)

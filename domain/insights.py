"""The bridge's suggestions where people act on them: the Insights tab's list, deciding one (accepting
creates what it proposes), the open suggestions beside people in a talent review, and the monthly digest
of a manager's line.

Suggestions come from domain.signals: computed from the store, only about people the reader may see talent
data for (never the reader), undecided ones only. Computing every signal for a large organization takes
seconds, so the tab keeps what a reader got for a few minutes (SuggestionCache) and takes out, at each
read, whatever was decided since; deciding always computes the one suggestion afresh, so a stale or forged
one is refused ("That suggestion is no longer there") and nothing is written.

Deciding (HR and talent reviewers, never about themselves) needs a reason and is recorded once per
suggestion (storage.models.SuggestionDecision, unique on kind, person and target): a second submit gets
the first decision back and writes nothing. Accepting creates the outcome through the existing services,
which check their own access: a slate nomination (succession.nominate), a talent pool membership
(pools.add_member), a development action (development.add_action), a private development goal
(goals.create_goal), a note or the risk of loss on the person's entry in their latest talent review that
is not finalized. A refusal by one of them (Invalid, Forbidden) writes nothing at all: the outcome and the
decision share one savepoint. Every decision is audited ("insight.accepted", "insight.dismissed"), and so
is every read ("insights.view").

The digest (digest_plan) acts for no one: it asks each signal for the people below each manager, leaves
out what was decided, and gives a manager only development-oriented kinds (insight_views.DIGEST_KINDS)
about their line, flight risks only where their line's talent data is open to them
(access.may_view_talent with the person's latest talent review's opened_to_managers), never anything about
themselves, in our words with evidence counts, never the signal's details.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain import signal_risks, signals
from domain.access import (
    Actor,
    Relation,
    Role,
    audit,
    may_calibrate_talent,
    may_view_talent,
    may_view_talent_pages,
    relations_to,
    require,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.insight_views import (
    DIGEST_EVIDENCE,
    DIGEST_KINDS,
    KIND_DIGEST,
    KIND_LABELS,
    LISTED_KINDS,
    REASON_MAX,
    DecisionView,
    DigestItem,
    DigestNudge,
    DigestPlan,
    InsightGroup,
    InsightsView,
    KindCount,
    ManagerDigest,
    PersonInsights,
    evidence_summary,
)
from domain.nudges import DEFAULT_HOURS, WorkingHours, nudge_time
from domain.performance import goals
from domain.performance.goal_progress import Metric, Period
from domain.performance.goal_views import KeyResultInput, Kind, Owner, Visibility
from domain.performance.review_chat_reads import recipients, used_keys
from domain.performance.review_nudges import Reach
from domain.signal_views import Evidence, SignalKind, Suggestion
from domain.talent import development, pools, succession
from domain.talent.development_views import ActionKind, ActionSource
from domain.talent.placements import latest_entries
from domain.talent.succession_views import NOTES_MAX as SLATE_NOTES_MAX
from domain.talent.talent_review_views import NOTES_MAX as ENTRY_NOTES_MAX
from storage.models import (
    Competency,
    Person,
    Position,
    ReviewCycle,
    Successor,
    SuggestionDecision,
    TalentPool,
    TalentReview,
    TalentReviewEntry,
)

NO_SUGGESTION = (
    "That suggestion is no longer there: someone decided it, or what it rested on changed. "
    "Reload the page to see the current suggestions."
)
OWN = "Nobody decides on suggestions about themselves: ask another HR admin or talent reviewer."
VIEW_ACTION = "insights.view"
ACCEPTED_ACTION = "insight.accepted"
DISMISSED_ACTION = "insight.dismissed"
PER_KIND = 10  # suggestions of each kind on the overview; a kind's own pages show PER_PAGE
PER_PAGE = 50
DEPARTMENT_MAX = 200
TARGET_KEY_MAX = 64  # the decisions' target_key column
DUE_IN_DAYS = 90  # a development action or goal made by accepting a suggestion runs this long
DEFAULT_READINESS = "1_2_years"  # a slate nomination from a suggestion; HR changes it on the slate
RISK_HIGH = 3
DIGEST_ITEMS = 5  # the strongest items a digest lists; the counts cover the rest
DIGEST_DAYS = 7  # a digest goes in the first days of the month, on the manager's clock
BIAS_CYCLES = 3  # the recent cycles a rating-bias flag is looked for in when no cycle is named
CACHE_SECONDS = 300.0
CACHE_READERS = 64


class FieldInvalid(Invalid):
    """Invalid input in one named field (the tab shows the sentence next to it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# --- what a reader got, for a few minutes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Cached:
    suggestions: tuple[Suggestion, ...]
    last_decision: int  # the newest decision id when they were computed: later ones are taken out on read
    at: float


class SuggestionCache:
    """Each reader's suggestions for a day, kept `seconds` (at most `readers` readers, the least recently
    read dropped first). One per application: the tab's runtime holds it."""

    def __init__(
        self,
        *,
        seconds: float = CACHE_SECONDS,
        readers: int = CACHE_READERS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._readers = readers
        self._timer = timer
        self._entries: OrderedDict[tuple[Any, ...], _Cached] = OrderedDict()

    @staticmethod
    def key(actor: Actor, today: date) -> tuple[Any, ...]:
        # Roles and scope belong to the key: a grant changed meanwhile must not show the old selection.
        return (actor.person_id, actor.roles, actor.talent_scope, today)

    def get(self, key: tuple[Any, ...]) -> _Cached | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._timer() - entry.at > self._seconds:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple[Any, ...], suggestions: tuple[Suggestion, ...], last_decision: int) -> None:
        self._entries[key] = _Cached(suggestions, last_decision, self._timer())
        self._entries.move_to_end(key)
        while len(self._entries) > self._readers:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


async def _open_suggestions(
    session: AsyncSession, actor: Actor, today: date, cache: SuggestionCache | None
) -> tuple[Suggestion, ...]:
    """Every open suggestion the actor may see (signals.suggestions), from the cache when it has them."""
    if cache is None:
        return await signals.suggestions(session, actor=actor, today=today)
    key = SuggestionCache.key(actor, today)
    entry = cache.get(key)
    if entry is None:
        last = await _last_decision_id(session)  # read first: a decision made meanwhile is taken out below
        found = await signals.suggestions(session, actor=actor, today=today)
        cache.put(key, found, last)
        return found
    decided = await _decided_after(session, entry.last_decision)
    if not decided:
        return entry.suggestions
    return tuple(s for s in entry.suggestions if s.key not in decided)


async def _last_decision_id(session: AsyncSession) -> int:
    return await session.scalar(select(func.coalesce(func.max(SuggestionDecision.id), 0))) or 0


async def _decided_after(session: AsyncSession, decision_id: int) -> set[tuple[str, int, str]]:
    rows = await session.execute(
        select(SuggestionDecision.kind, SuggestionDecision.person_id, SuggestionDecision.target_key).where(
            SuggestionDecision.id > decision_id
        )
    )
    return {(kind, pid, target) for kind, pid, target in rows.all()}


# --- the Insights tab ------------------------------------------------------------------------------------


async def insights(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    kind: SignalKind | str | None = None,
    department: str | None = None,
    min_score: float | str | None = None,
    page: int | str = 1,
    cache: SuggestionCache | None = None,
) -> InsightsView:
    """The open suggestions the actor may see (HR and talent reviewers), counted per kind, filtered by
    department and minimum score: the PER_KIND strongest of each kind, or one kind's page of PER_PAGE.
    Bad filters are FieldInvalid naming the field. Audited."""
    require(may_view_talent_pages(actor), "insights")
    chosen_kind = _kind_filter(kind)
    chosen_department = _department_filter(department)
    floor = _score_filter(min_score)
    wanted_page = _page_filter(page)
    everything = await _open_suggestions(session, actor, today, cache)
    departments = tuple(sorted({s.department for s in everything if s.department}, key=str.casefold))
    shown = [
        s
        for s in everything
        if (chosen_department is None or s.department == chosen_department)
        and (floor is None or s.score >= floor)
    ]
    by_kind: dict[SignalKind, list[Suggestion]] = defaultdict(list)
    for suggestion in shown:
        by_kind[suggestion.kind].append(suggestion)
    counts = tuple(KindCount(k, len(by_kind[k])) for k in LISTED_KINDS if by_kind.get(k))
    if chosen_kind is None:
        pages, wanted_page = 1, 1
        groups = tuple(
            InsightGroup(k, len(by_kind[k]), 0, tuple(by_kind[k][:PER_KIND]))
            for k in LISTED_KINDS
            if by_kind.get(k)
        )
    else:
        of_kind = by_kind.get(chosen_kind, [])
        pages = max(1, math.ceil(len(of_kind) / PER_PAGE))
        wanted_page = min(wanted_page, pages)
        start = (wanted_page - 1) * PER_PAGE
        groups = (
            (InsightGroup(chosen_kind, len(of_kind), start, tuple(of_kind[start : start + PER_PAGE])),)
            if of_kind
            else ()
        )
    await audit(
        session,
        actor,
        action=VIEW_ACTION,
        subject_type="suggestions",
        subject_id=None,
        kind=chosen_kind.value if chosen_kind else None,
        department=chosen_department,
        min_score=floor,
        shown=sum(len(g.suggestions) for g in groups),
    )
    return InsightsView(
        counts=counts,
        groups=groups,
        total=len(shown),
        kind=chosen_kind,
        department=chosen_department,
        min_score=floor,
        departments=departments,
        page=wanted_page,
        pages=pages,
        per_page=PER_PAGE if chosen_kind else PER_KIND,
    )


def filter_problems(
    *, kind: str | None, department: str | None, min_score: str | None, page: str | None
) -> dict[str, str]:
    """Every bad filter of the Insights tab with its sentence, by field (empty when all are fine)."""
    problems: dict[str, str] = {}
    checks: tuple[tuple[Callable[[Any], object], object], ...] = (
        (_kind_filter, kind),
        (_department_filter, department),
        (_score_filter, min_score),
        (_page_filter, page or ""),
    )
    for check, value in checks:
        try:
            check(value)
        except FieldInvalid as bad:
            problems[bad.field] = bad.message
    return problems


def _kind_filter(value: SignalKind | str | None) -> SignalKind | None:
    if value is None or value == "":
        return None
    try:
        kind = SignalKind(value)
    except ValueError:
        kind = None
    if kind is None or kind not in LISTED_KINDS:
        raise FieldInvalid("kind", "Choose one of the kinds of suggestion listed, or all of them.")
    return kind


def _department_filter(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    if len(text) > DEPARTMENT_MAX:
        raise FieldInvalid("department", f"A department's name has at most {DEPARTMENT_MAX} characters.")
    return text or None


def _score_filter(value: float | str | None) -> float | None:
    words = "The minimum score is a number from 0 to 1, like 0.6."
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise FieldInvalid("min_score", words)
    try:
        number = float(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except ValueError:
        raise FieldInvalid("min_score", words) from None
    if not math.isfinite(number) or not 0 <= number <= 1:
        raise FieldInvalid("min_score", words)
    return number


def _page_filter(value: int | str) -> int:
    words = "The page is a whole number, 1 or more."
    if isinstance(value, bool):
        raise FieldInvalid("page", words)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 1
        if not text.isdigit() or len(text) > 6:
            raise FieldInvalid("page", words)
        value = int(text)
    if not isinstance(value, int) or value < 1:
        raise FieldInvalid("page", words)
    return value


# --- beside each person in a talent review ---------------------------------------------------------------


async def suggestions_by_person(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    person_ids: Collection[int],
    cache: SuggestionCache | None = None,
) -> dict[int, PersonInsights]:
    """The open suggestions about each of these people that the actor may see (person id → them, best
    first; people without any left out): for a talent review's chips. Audited."""
    require(may_view_talent_pages(actor), "insights")
    wanted = set(person_ids)
    if not wanted:
        return {}
    if cache is not None:
        found = [s for s in await _open_suggestions(session, actor, today, cache) if s.person_id in wanted]
    else:
        found = list(await signals.suggestions(session, actor=actor, today=today, person_ids=wanted))
    grouped: dict[int, list[Suggestion]] = defaultdict(list)
    for suggestion in found:
        if suggestion.kind in LISTED_KINDS:
            grouped[suggestion.person_id].append(suggestion)
    await audit(
        session,
        actor,
        action=VIEW_ACTION,
        subject_type="suggestions",
        subject_id=None,
        people=len(wanted),
        with_suggestions=len(grouped),
    )
    return {pid: PersonInsights(pid, tuple(items)) for pid, items in grouped.items()}


# --- deciding --------------------------------------------------------------------------------------------


async def decide(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: SignalKind | str,
    person_id: int,
    target_key: str,
    accept: bool,
    reason: str | None,
    now: datetime,
    cycle_id: int | None = None,
) -> DecisionView:
    """Accept (creating what it proposes) or dismiss a suggestion, with a reason: HR and talent reviewers
    who may see the person's talent data, never about themselves. The suggestion is computed afresh
    (gone, stale or forged: NotFound, nothing written); a second submit returns the first decision
    (already) and writes nothing. A rating-bias flag is looked for in `cycle_id`, or the recent cycles."""
    require(may_view_talent_pages(actor), "talent suggestions")
    signal = _signal_kind(kind)
    if not isinstance(target_key, str) or len(target_key) > TARGET_KEY_MAX:
        raise NotFound(NO_SUGGESTION)
    if isinstance(person_id, bool) or not isinstance(person_id, int):
        raise NotFound(NO_SUGGESTION)
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(NO_SUGGESTION)
    if person.id == actor.person_id:
        raise Forbidden(OWN)
    rel = (await relations_to(session, actor, {person.id: person.department}))[person.id]
    if not may_view_talent(actor, rel):
        raise NotFound(NO_SUGGESTION)
    text = _reason(reason, accept)
    if (earlier := await _decision_row(session, signal, person.id, target_key)) is not None:
        return await _view(session, earlier, person, already=True)
    today = now.astimezone(UTC).date()
    suggestion = await _current(session, actor, signal, person.id, target_key, today, cycle_id)
    try:
        async with session.begin_nested():
            outcome = await _carry_out(session, actor, suggestion, rel, text, now) if accept else None
            row = SuggestionDecision(
                kind=signal.value,
                person_id=person.id,
                target_key=target_key,
                status="accepted" if accept else "dismissed",
                reason=text,
                score=suggestion.score,
                evidence=[_evidence_json(e) for e in suggestion.evidence],
                outcome=outcome,
                decided_by_id=actor.person_id,
                decided_at=now,
            )
            session.add(row)
            await session.flush()
    except IntegrityError:
        # The same suggestion decided in another transaction meanwhile (a double submit): theirs stands,
        # and this one's outcome went with the savepoint.
        earlier = await _decision_row(session, signal, person.id, target_key)
        if earlier is None:
            raise
        return await _view(session, earlier, person, already=True)
    await audit(
        session,
        actor,
        action=ACCEPTED_ACTION if accept else DISMISSED_ACTION,
        subject_type="person",
        subject_id=person.id,
        kind=signal.value,
        target=target_key,
        outcome=outcome,
        decision_id=row.id,
    )
    return await _view(session, row, person, suggestion=suggestion)


async def get_decision(session: AsyncSession, *, actor: Actor, decision_id: int) -> DecisionView | None:
    """A decision the actor may see (the talent data of its person; never about themselves), or None."""
    if not may_view_talent_pages(actor):
        return None
    row = await session.get(SuggestionDecision, decision_id)
    if row is None or row.person_id == actor.person_id:
        return None
    person = await session.get(Person, row.person_id)
    if person is None:
        return None
    rel = (await relations_to(session, actor, {person.id: person.department}))[person.id]
    if not may_view_talent(actor, rel):
        return None
    return await _view(session, row, person)


def _signal_kind(value: SignalKind | str) -> SignalKind:
    try:
        return SignalKind(value)
    except ValueError:
        raise NotFound(NO_SUGGESTION) from None


def _reason(value: str | None, accept: bool) -> str:
    text = (value or "").strip() if isinstance(value, str | None) else ""
    if not text:
        verb = "accept" if accept else "dismiss"
        raise FieldInvalid(
            "reason", f"Say why you {verb} this suggestion: the reason is kept with the decision."
        )
    if len(text) > REASON_MAX:
        raise FieldInvalid(
            "reason", f"The reason is too long: at most {REASON_MAX} characters (it has {len(text)})."
        )
    return text


async def _current(
    session: AsyncSession,
    actor: Actor,
    kind: SignalKind,
    person_id: int,
    target_key: str,
    today: date,
    cycle_id: int | None,
) -> Suggestion:
    """The suggestion as the signals compute it now (NotFound when they no longer make it)."""
    if kind is SignalKind.RATING_BIAS:
        for cycle in await _bias_cycles(session, cycle_id):
            for flag in await signal_risks.rating_bias(session, cycle_id=cycle):
                if flag.person_id == person_id and flag.target_key == target_key:
                    return flag
        raise NotFound(NO_SUGGESTION)
    found = await signals.suggestions(session, actor=actor, today=today, kinds=[kind], person_ids=[person_id])
    for suggestion in found:
        if suggestion.person_id == person_id and suggestion.target_key == target_key:
            return suggestion
    raise NotFound(NO_SUGGESTION)


async def _bias_cycles(session: AsyncSession, cycle_id: int | None) -> list[int]:
    if cycle_id is not None:
        return [cycle_id] if await session.get(ReviewCycle, cycle_id) is not None else []
    rows = await session.scalars(
        select(ReviewCycle.id)
        .where(ReviewCycle.phase.in_(("calibration", "released", "closed")))
        .order_by(ReviewCycle.period_end.desc(), ReviewCycle.id.desc())
        .limit(BIAS_CYCLES)
    )
    return list(rows)


async def _carry_out(
    session: AsyncSession, actor: Actor, s: Suggestion, rel: Relation, reason: str, now: datetime
) -> str | None:
    """Create what the suggestion proposes, through the service that owns it; the outcome's key."""
    today = now.astimezone(UTC).date()
    due = today + timedelta(days=DUE_IN_DAYS)
    if s.kind is SignalKind.SUCCESSION_CANDIDATE:
        position_id = _target_id(s.target_key, "position")
        await succession.nominate(
            session,
            actor=actor,
            position_id=position_id,
            person_id=s.person_id,
            readiness=DEFAULT_READINESS,
            notes=_cut(f"From an insight accepted by {actor.display_name}: {reason}", SLATE_NOTES_MAX),
            now=now,
        )
        successor = await session.scalar(
            select(Successor.id).where(
                Successor.position_id == position_id, Successor.person_id == s.person_id
            )
        )
        return f"successor:{successor}"
    if s.kind is SignalKind.DEVELOPMENT_PROGRAM:
        if not s.target_key:
            return None  # no development pool to add them to: the decision is recorded alone
        pool_id = _target_id(s.target_key, "pool")
        await pools.add_member(session, actor=actor, pool_id=pool_id, person_id=s.person_id, now=now)
        return f"pool_member:{pool_id}:{s.person_id}"
    if s.kind in (SignalKind.CAREER_PATH, SignalKind.CROSS_FUNCTIONAL):
        # The person reads their own plan: the action names the step, never the suggestion or the reason.
        career = s.kind is SignalKind.CAREER_PATH
        if career:
            _target_id(s.target_key, "role")
            title = f"Stretch assignment toward {s.target_label}" if s.target_label else "Stretch assignment"
        else:
            title = "Lead a cross-functional project"
        action = await development.add_action(
            session,
            actor=actor,
            person_id=s.person_id,
            kind=ActionKind.STRETCH if career else ActionKind.PROJECT,
            title=_cut(title, 200),
            due_on=due,
            now=now,
            source=ActionSource.TALENT_REVIEW,
        )
        return f"development_action:{action.id}"
    if s.kind is SignalKind.DEVELOPMENT_OBJECTIVE:
        goal = await goals.create_goal(
            session,
            actor=actor,
            owner=Owner.person(s.person_id),
            title=_cut(await _objective_title(session, s.target_key), 200),
            period=_quarter_of(due),
            visibility=Visibility.PRIVATE,
            kind=Kind.DEVELOPMENT,
            key_results=[KeyResultInput("Progress", target=100, start=0, metric=Metric.PERCENT, unit="%")],
            now=now,
        )
        return f"goal:{goal.id}"
    if s.kind in (SignalKind.PROMOTION_READINESS, SignalKind.HIGH_POTENTIAL, SignalKind.FLIGHT_RISK):
        entry = await _open_entry(session, s.person_id)
        if entry is None:
            return None  # no talent review under way: the decision is recorded alone
        entry_rel = Relation(is_self=False, in_line=rel.in_line, subject_department=entry.department)
        require(may_calibrate_talent(actor, entry_rel), f"{s.person_name}'s talent review entry")
        if s.kind is SignalKind.FLIGHT_RISK:
            values: dict[str, object] = {"risk_of_loss": RISK_HIGH}
        else:
            line = (
                f"{KIND_LABELS[s.kind]} suggested by Trellis insights; accepted by {actor.display_name} "
                f"on {_day(today)}: {reason}"
            )
            values = {"notes": _cut(f"{entry.notes}\n\n{line}" if entry.notes else line, ENTRY_NOTES_MAX)}
        await _write_entry(session, entry, values)
        return f"talent_entry:{entry.id}"
    return None  # a rating-bias flag: acknowledged, nothing changes


def _target_id(target_key: str, prefix: str) -> int:
    parts = target_key.split(":")
    if len(parts) < 2 or parts[0] != prefix or not parts[1].isdigit():
        raise NotFound(NO_SUGGESTION)
    return int(parts[1])


async def _objective_title(session: AsyncSession, target_key: str) -> str:
    """The goal names the competency only: the position it came from is succession data, and the goal is
    the person's to read."""
    parts = target_key.split(":")
    competency_id = (
        int(parts[3]) if len(parts) == 4 and parts[2] == "competency" and parts[3].isdigit() else None
    )
    name = await session.scalar(select(Competency.name).where(Competency.id == competency_id))
    return f"Grow in {name}" if name else "Development objective"


async def _open_entry(session: AsyncSession, person_id: int) -> TalentReviewEntry | None:
    """The person's entry in their latest talent review that is not finalized."""
    return await session.scalar(
        select(TalentReviewEntry)
        .join(TalentReview, TalentReview.id == TalentReviewEntry.talent_review_id)
        .where(TalentReviewEntry.person_id == person_id, TalentReview.status != "finalized")
        .order_by(TalentReviewEntry.talent_review_id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )


async def _write_entry(session: AsyncSession, entry: TalentReviewEntry, values: Mapping[str, object]) -> None:
    # Compare-and-set on the version, as the rating form does: a rating saved meanwhile is not overwritten,
    # and a form open on the old version is told to look again.
    still_open = (
        select(TalentReview.id)
        .where(TalentReview.id == entry.talent_review_id, TalentReview.status != "finalized")
        .exists()
    )
    changed = await session.execute(
        update(TalentReviewEntry)
        .where(TalentReviewEntry.id == entry.id, TalentReviewEntry.version == entry.version, still_open)
        .values(**values, version=entry.version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Their talent review entry changed meanwhile: reload the page and decide again.")


async def _decision_row(
    session: AsyncSession, kind: SignalKind, person_id: int, target_key: str
) -> SuggestionDecision | None:
    return await session.scalar(
        select(SuggestionDecision).where(
            SuggestionDecision.kind == kind.value,
            SuggestionDecision.person_id == person_id,
            SuggestionDecision.target_key == target_key,
        )
    )


async def _view(
    session: AsyncSession,
    row: SuggestionDecision,
    person: Person,
    *,
    suggestion: Suggestion | None = None,
    already: bool = False,
) -> DecisionView:
    decided_by = await session.scalar(select(Person.display_name).where(Person.id == row.decided_by_id))
    kind = SignalKind(row.kind)
    label = suggestion.target_label if suggestion is not None else await _outcome_target(session, row.outcome)
    return DecisionView(
        id=row.id,
        kind=kind,
        person_id=person.id,
        person_name=person.display_name,
        target_key=row.target_key,
        target_label=label,
        accepted=row.status == "accepted",
        reason=row.reason,
        score=row.score,
        outcome=row.outcome,
        outcome_label=_outcome_label(kind, row.status == "accepted", row.outcome, label),
        decided_by=decided_by,
        decided_at=row.decided_at,
        already=already,
    )


async def _outcome_target(session: AsyncSession, outcome: str | None) -> str | None:
    """What a stored outcome names (a slate's position, a pool), for a decision read back later."""
    parts = (outcome or "").split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    if parts[0] == "successor":
        return await session.scalar(
            select(Position.title)
            .join(Successor, Successor.position_id == Position.id)
            .where(Successor.id == int(parts[1]))
        )
    if parts[0] == "pool_member":
        return await session.scalar(select(TalentPool.name).where(TalentPool.id == int(parts[1])))
    return None


def _outcome_label(kind: SignalKind, accepted: bool, outcome: str | None, target: str | None) -> str:
    if not accepted:
        return "Dismissed: nothing was changed."
    what = (outcome or "").split(":")[0]
    if what == "successor":
        return f"Named on the succession slate{f' for {target}' if target else ''}, ready in 1\u20132 years."
    if what == "pool_member":
        return f"Added to the talent pool{f' {target}' if target else ''}."
    if what == "development_action":
        return "Added to their development plan, due in 90 days."
    if what == "goal":
        return "Added a private development goal to their goals."
    if what == "talent_entry":
        if kind is SignalKind.FLIGHT_RISK:
            return "Their risk of loss is now high in the open talent review."
        return "Noted on their entry in the open talent review."
    if kind is SignalKind.RATING_BIAS:
        return "Acknowledged: nothing was changed."
    if kind is SignalKind.DEVELOPMENT_PROGRAM:
        return "Recorded: there is no development pool to add them to."
    return "Recorded: no talent review is under way to note it in."


def _evidence_json(item: Evidence) -> dict[str, object]:
    return {
        "kind": item.kind.value,
        "ref_id": item.ref_id,
        "label": item.label,
        "detail": item.detail,
        "on": item.on.isoformat() if item.on else None,
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quarter_of(day: date) -> Period:
    return Period.of(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


# --- the managers' monthly digest (acts for no one; sending is the bot's job) -----------------------------


async def digest_plan(
    session: AsyncSession, *, now: datetime, default_zone: ZoneInfo, hours: WorkingHours = DEFAULT_HOURS
) -> DigestPlan:
    """Each manager's digest of their line's open suggestions that may go now: in their working hours in
    the first DIGEST_DAYS days of their month, once a month (the outbox key). Writes nothing; the signals
    are computed only for the lines of managers whose digest may go now."""
    people = await _people(session)
    reports: dict[int, list[int]] = defaultdict(list)
    for pid, (_, _, manager_id) in people.items():
        if manager_id is not None and manager_id in people and manager_id != pid:
            reports[manager_id].append(pid)
    if not reports:
        return DigestPlan(())
    reach = await recipients(session, reports)
    keyed: dict[int, tuple[Any, str]] = {}
    waiting = 0
    no_chat: list[int] = []
    blocked = 0
    for manager_id in sorted(reports):
        recipient = reach.get(manager_id)
        if recipient is None:
            continue
        when = nudge_time(now, time_zone=recipient.time_zone, default_zone=default_zone, hours=hours)
        if when.local_date.day > DIGEST_DAYS:
            continue  # this month's window has passed (or opens next month)
        if recipient.reach is Reach.NO_CHAT:
            no_chat.append(manager_id)
        elif recipient.reach is Reach.BLOCKED:
            blocked += 1
        else:
            keyed[manager_id] = (when, f"{KIND_DIGEST}:{manager_id}:{when.local_date:%Y-%m}")
    sent = await used_keys(session, [key for _, key in keyed.values()])
    already = sum(1 for _, key in keyed.values() if key in sent)
    due: dict[int, tuple[Any, str]] = {}
    for manager_id, (when, key) in keyed.items():
        if key in sent:
            continue
        if when.now:
            due[manager_id] = (when, key)
        else:
            waiting += 1
    lines = {manager_id: _line_below(manager_id, reports) for manager_id in due}
    everyone = set().union(*lines.values()) if lines else set()
    found = await _line_suggestions(session, now.astimezone(UTC).date(), everyone) if everyone else []
    opened = await _opened_to_line(session, {s.person_id for s in found if s.kind is SignalKind.FLIGHT_RISK})
    nudges = []
    nothing = 0
    for manager_id, (when, key) in due.items():
        line = lines[manager_id]
        mine = [
            s
            for s in found
            if s.person_id in line
            and _may_tell_manager(s, people[s.person_id][1], opened.get(s.person_id, False))
        ]
        if not mine:
            nothing += 1
            continue
        nudges.append(
            DigestNudge(
                _digest(manager_id, people[manager_id][0], when.local_date.replace(day=1), mine),
                when,
                key,
            )
        )
    return DigestPlan(
        tuple(nudges),
        waiting=waiting,
        already=already,
        nothing=nothing,
        no_chat=tuple(no_chat),
        blocked=blocked,
    )


async def _people(session: AsyncSession) -> dict[int, tuple[str, str | None, int | None]]:
    rows = await session.execute(
        select(Person.id, Person.display_name, Person.department, Person.manager_id).where(
            Person.active.is_(True)
        )
    )
    return {pid: (name, department, manager_id) for pid, name, department, manager_id in rows.all()}


def _line_below(manager_id: int, reports: Mapping[int, list[int]]) -> set[int]:
    """Everyone below the manager, directly or further down (cycle-safe), never the manager."""
    found: set[int] = set()
    stack = list(reports.get(manager_id, ()))
    while stack:
        pid = stack.pop()
        if pid in found or pid == manager_id:
            continue
        found.add(pid)
        stack.extend(reports.get(pid, ()))
    return found


async def _line_suggestions(session: AsyncSession, today: date, person_ids: set[int]) -> list[Suggestion]:
    """The digest kinds' suggestions about these people, flight risks included, undecided ones only."""
    ids = sorted(person_ids)
    found: list[Suggestion] = []
    for compute in (
        signals.promotion_readiness,
        signals.development_program,
        signals.career_path,
        signals.cross_functional,
        signals.development_objective,
    ):
        found += await compute(session, today=today, person_ids=ids)
    found += await signal_risks.flight_risks(session, today=today, person_ids=ids)
    decided = {
        (kind, pid, target)
        for kind, pid, target in (
            await session.execute(
                select(SuggestionDecision.kind, SuggestionDecision.person_id, SuggestionDecision.target_key)
            )
        ).all()
    }
    return [s for s in found if s.key not in decided and s.person_id in person_ids]


async def _opened_to_line(session: AsyncSession, person_ids: set[int]) -> dict[int, bool]:
    """Whether each person's latest talent review is open to their manager line."""
    if not person_ids:
        return {}
    entries = await latest_entries(session, sorted(person_ids))
    review_ids = {entry.talent_review_id for entry in entries.values()}
    opened = set(
        await session.scalars(
            select(TalentReview.id).where(
                TalentReview.id.in_(sorted(review_ids)), TalentReview.opened_to_managers.is_(True)
            )
        )
    )
    return {pid: entry.talent_review_id in opened for pid, entry in entries.items()}


# A manager as the digest sees them: their line, no grant (HR reads the Insights tab for the rest).
_LINE_MANAGER = Actor(
    person_id=0,
    display_name="",
    tenant_id=None,
    department=None,
    roles=frozenset({Role.EMPLOYEE, Role.MANAGER}),
)


def _may_tell_manager(s: Suggestion, department: str | None, opened: bool) -> bool:
    if s.kind in DIGEST_KINDS:
        return True
    if s.kind is SignalKind.FLIGHT_RISK:
        rel = Relation(is_self=False, in_line=True, subject_department=department)
        return may_view_talent(_LINE_MANAGER, rel, opened_to_line=opened)
    return False


def _digest(manager_id: int, name: str, month: date, found: Iterable[Suggestion]) -> ManagerDigest:
    ordered = sorted(found, key=lambda s: (-s.score, s.person_name.casefold(), s.person_id, s.kind.value))
    counts: dict[SignalKind, int] = defaultdict(int)
    for suggestion in ordered:
        counts[suggestion.kind] += 1
    items = tuple(
        DigestItem(
            person_id=s.person_id,
            person_name=s.person_name,
            kind=s.kind,
            target_label=s.target_label if s.kind is SignalKind.CAREER_PATH else None,
            evidence=evidence_summary(s, DIGEST_EVIDENCE),
            score=s.score,
        )
        for s in ordered[:DIGEST_ITEMS]
    )
    return ManagerDigest(
        manager_id=manager_id,
        manager_name=name,
        month=month,
        counts=tuple(
            KindCount(k, counts[k]) for k in (*DIGEST_KINDS, SignalKind.FLIGHT_RISK) if counts.get(k)
        ),
        items=items,
        total=len(ordered),
        people=len({s.person_id for s in ordered}),
    )

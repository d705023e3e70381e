"""The bridge's signals: performance data read as talent suggestions, each with the evidence it came from.

One public function per row of PRODUCT.md's table ("Performance signals → talent outcomes"), plus the
reverse direction (a succession gap → a development objective). Each reads the store in a few bulk
queries, whatever the size of the organization, and returns `Suggestion`s (domain/signal_views.py) whose
evidence is exactly the rows the rule used. Only active people get suggestions. Days are UTC dates; a
window "of N days before today" runs from today - N (included) to today (included).

None of them checks access: `suggestions` does. HR and talent reviewers only; only people the actor may
see talent data for (access.may_view_talent), never the actor themselves; not a suggestion naming a
position whose succession the actor may not manage (access.may_manage_succession for its department);
not what someone already decided (storage.models.SuggestionDecision: same kind, person and target). It
adds the flight risks of domain/signal_risks.py (calibration bias flags are per cycle: the calibration
view asks signal_risks.rating_bias) and writes one audit entry per call (AUDIT_ACTION).

Feedback as evidence
    Only feedback whose giver chose *recipient + manager* visibility (and who is named) is ever read by
    these rules: private notes, recipient-only and anonymous feedback are left out entirely, so no
    suggestion can show them, name an anonymous giver, or lean on them without showing them.

Review scores
    A performance review's final score (ReviewParticipant.final_score) counts once its cycle is released
    or closed; it is compared on a 0..1 scale: (score - 1) / (points of the template's scale - 1), so 4 on
    a five-point scale is 0.75.

Readiness for a role profile
    As domain.competencies.readiness: Σ weight · min(assessed / expected, 1) / Σ weight over the profile's
    requirements on active competencies, in percent, never assessed counting 0; the assessed level is the
    person's latest assessment on or before today.

1. promotion_readiness — consistent goal achievement → a promotion-readiness assessment (target "")
    A period is a (start, end) of the person's own goals of kind GOAL_KINDS that ended before today and
    within GOAL_LOOKBACK_DAYS. A goal's achievement is its final score when closed, else its progress as
    it stands; a period's achievement is the weight-weighted mean of its goals' (the plain mean
    if every weight is 0). Suggested when the person's PROMOTION_PERIODS most recent such periods each
    reach PERIOD_ACHIEVED, unless their latest released review is below REVIEW_MEDIUM (a low review vetoes).
    Evidence: every goal of those periods; the latest review when there is one (it is then ≥ medium).
    Score: 0.75 · mean period achievement + 0.25 · latest review on 0..1 (0.5 when there is none).

2. development_program — feedback trends showing growth → a development-program nomination
    Feedback received with a rated tag naming an active competency (tag = its name, any case). Two halves:
    the last GROWTH_HALF_DAYS days and the GROWTH_HALF_DAYS before. Suggested when the recent half has at
    least GROWTH_MIN_RECENT such feedback items and more than the earlier half, the earlier half at least
    GROWTH_MIN_EARLIER (a trend needs a start), and the recent average tag rating is at least
    GROWTH_RATING_RISE above the earlier one and at least GROWTH_MIN_RATING. Target "pool:<id>": the
    first talent pool (lowest id) whose name contains one of DEVELOPMENT_POOL_WORDS, else "". Not
    suggested for someone already in that pool. Evidence: every feedback item of both halves (with the
    competency ratings it carried) and a FIGURE with the two halves' counts and averages.
    Score: 0.5 + 0.25 · min(1, rise / 2) + 0.25 · min(1, (recent - earlier) / earlier).

3. succession_candidate — review history across several roles → a succession-slate candidate
    Strong reviews: released or closed cycles that ended within REVIEW_HISTORY_DAYS, final score ≥
    SUCCESSION_REVIEW_MIN on 0..1. Suggested when a person has strong reviews in at least
    SUCCESSION_MIN_CYCLES cycles and held several roles over them: the strong reviews name at least two
    departments (as frozen in each cycle), or else the person moved into a position internally
    (PositionFill, source internal) between the start of the first strong cycle and today. Then, for
    each critical position with a role profile other than the person's current one, not held by them and
    whose slate does not already name them, with readiness ≥ SUCCESSION_MIN_READINESS: target
    "position:<id>", the SUCCESSION_MAX_POSITIONS best fits (readiness, then position id). Evidence: the
    strong reviews, the internal fill when it was needed, the ROLE_PROFILE readiness figure and the
    person's latest assessment of each competency the profile expects.
    Score: 0.5 · readiness / 100 + 0.5 · mean strong score on 0..1.

4. high_potential — leadership-competency ratings → high potential, for the talent review to confirm
    Each person's latest assessment of each active competency of category LEADERSHIP_CATEGORY, kept when
    made within HIPO_RECENT_DAYS. Suggested when at least HIPO_MIN_COMPETENCIES are kept and their mean of
    level / the competency's number of levels is at least HIPO_MIN_SHARE, unless the person's latest
    talent-review entry already flags them high potential. Target "". Evidence: those assessments.
    Score: that mean.

5. career_path — performance during stretch assignments → a career-path recommendation
    Successful stretch assignments: development actions of kind stretch, done (completed, or else due)
    within CAREER_RECENT_DAYS, whose linked goal, if any, reached STRETCH_GOAL_MET (final score when
    closed, else progress). Suggested when a person has at least CAREER_MIN_STRETCH of them and a next
    role from their current role profile (domain.talent.careers' steps) with readiness ≥
    CAREER_MIN_READINESS: the readiest step up the ladder, else the readiest lateral move (then the lower
    profile id). Target "role:<profile id>". Evidence: the successful actions, their linked goals and the
    ROLE_PROFILE readiness figure. Score: 0.6 · readiness / 100 + 0.4 · min(1, actions / 2).

6. cross_functional — peer feedback on collaboration → a cross-functional leadership opportunity
    Feedback received within CROSS_RECENT_DAYS with a rated tag containing COLLABORATION_TAG (any case)
    from givers whose department is set and differs from the person's. Suggested when those givers are
    in at least CROSS_MIN_DEPARTMENTS departments and the mean of those tag ratings is at least
    CROSS_MIN_RATING. Target "". Evidence: those feedback items.
    Score: 0.5 · mean rating / 5 + 0.5 · min(1, departments / 3).

7. development_objective — a succession gap → a development objective in a successor's goals
    Critical positions with a role profile and no active ready-now successor. For each active successor on
    such a slate, their competency gaps against the profile: a requirement on an active competency whose
    latest assessed level is below the expected one (never assessed is no gap: nothing says they fall
    short). The largest gap (then the heavier weight, then the competency name) among competencies the
    person has no open (planned or in progress) development action on: target
    "position:<id>:competency:<id>". Evidence: the POSITION (no ready-now successor), the ROLE_PROFILE
    requirement and the ASSESSMENT. Score: OBJECTIVE_READINESS_WEIGHT[readiness] · (0.6 + 0.4 · min(1,
    gap / 2)).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.access import (
    Actor,
    Relation,
    audit,
    may_manage_succession,
    may_view_talent,
    may_view_talent_pages,
    relations_to,
    require,
)
from domain.competencies import current_role_profiles, readiness
from domain.competency_views import GapLine
from domain.performance.feedback_views import FeedbackVisibility
from domain.performance.review_results import latest_final_scores
from domain.signal_views import Evidence, EvidenceKind, SignalKind, Suggestion
from domain.talent.placements import latest_entries
from storage.models import (
    CareerStep,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    Person,
    Position,
    PositionFill,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    RoleProfile,
    RoleRequirement,
    Successor,
    SuggestionDecision,
    TalentPool,
    TalentPoolMember,
)

# --- the rules' thresholds (see the module docstring for how each is used) -------------------------------

# Feedback the rules may read (and show): the giver chose that the recipient's line sees it.
SHOWN_FEEDBACK = (FeedbackVisibility.RECIPIENT_AND_MANAGER.value,)
REVIEWED_PHASES = ("released", "closed")
REVIEW_MEDIUM = 0.5  # 3 on a five-point scale ("meets")

GOAL_KINDS = ("business",)
GOAL_LOOKBACK_DAYS = 730
PROMOTION_PERIODS = 3
PERIOD_ACHIEVED = 0.85

GROWTH_HALF_DAYS = 182
GROWTH_MIN_RECENT = 3
GROWTH_MIN_EARLIER = 1
GROWTH_RATING_RISE = 0.5
GROWTH_MIN_RATING = 3.0
DEVELOPMENT_POOL_WORDS = ("develop", "emerging", "accelerat", "future")

REVIEW_HISTORY_DAYS = 3 * 365
SUCCESSION_REVIEW_MIN = 0.7  # 3.8 on a five-point scale
SUCCESSION_MIN_CYCLES = 2
SUCCESSION_MIN_READINESS = Decimal(70)
SUCCESSION_MAX_POSITIONS = 3

LEADERSHIP_CATEGORY = "leadership"
HIPO_RECENT_DAYS = 730
HIPO_MIN_COMPETENCIES = 2
HIPO_MIN_SHARE = 0.75  # e.g. 4 of 5 levels on average

CAREER_RECENT_DAYS = 730
STRETCH_GOAL_MET = 0.8
CAREER_MIN_STRETCH = 1
CAREER_MIN_READINESS = Decimal(75)

COLLABORATION_TAG = "collaborat"
CROSS_RECENT_DAYS = 365
CROSS_MIN_DEPARTMENTS = 2
CROSS_MIN_RATING = 4.0

OBJECTIVE_READINESS_WEIGHT = {"1_2_years": 0.9, "3_5_years": 0.7}
OPEN_ACTION_STATUSES = ("planned", "in_progress")

IDS_CHUNK = 2000  # ids per IN (...): well under SQLite's and asyncpg's bound-parameter limits
AUDIT_ACTION = "talent.suggestions.view"

# What `suggestions` computes when no kinds are given: every signal about people. A calibration bias flag
# is about a cycle's managers and needs the cycle: the calibration view asks signal_risks.rating_bias.
DEFAULT_KINDS = tuple(kind for kind in SignalKind if kind is not SignalKind.RATING_BIAS)


# --- the aggregator --------------------------------------------------------------------------------------


async def suggestions(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    kinds: Collection[SignalKind] | None = None,
    person_ids: Collection[int] | None = None,
) -> tuple[Suggestion, ...]:
    """Every undecided suggestion about people the actor may see talent data for (never themselves),
    strongest first: HR and talent reviewers only. Audited."""
    require(may_view_talent_pages(actor), "talent suggestions")
    wanted = [kind for kind in DEFAULT_KINDS if kinds is None or kind in kinds]
    found: list[Suggestion] = []
    for kind in wanted:
        found += await _SIGNALS[kind](session, today=today, person_ids=person_ids)
    found = [s for s in found if s.person_id != actor.person_id]
    rels = await _relations(session, actor, {s.person_id: s.department for s in found})
    found = [s for s in found if may_view_talent(actor, rels[s.person_id])]
    found = await _positions_in_scope(session, actor, found)
    decided = await _decided(session, wanted, {s.person_id for s in found})
    shown = sorted(
        (s for s in found if s.key not in decided),
        key=lambda s: (-s.score, s.kind.value, s.person_name.casefold(), s.person_id, s.target_key),
    )
    await audit(
        session,
        actor,
        action=AUDIT_ACTION,
        subject_type="suggestions",
        subject_id=None,
        kinds=[kind.value for kind in wanted],
        people=len({s.person_id for s in shown}),
        suggestions=len(shown),
    )
    return tuple(shown)


async def _flight_risks(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    # Imported here: signal_risks is a sibling module that may import this one's helpers one day.
    from domain import signal_risks

    return await signal_risks.flight_risks(session, today=today, person_ids=person_ids)


async def _relations(
    session: AsyncSession, actor: Actor, departments: Mapping[int, str | None]
) -> dict[int, Relation]:
    """The actor's relation to each person. Reporting lines are walked (relations_to, in bulk) only for
    people whom may_view_talent would answer differently in and out of the actor's line: with the rules
    as they are (the line counts only for a talent review opened to managers), nobody, which spares a
    recursive query over thousands of people."""
    found: dict[int, Relation] = {}
    for pid, department in departments.items():
        outside = Relation(is_self=pid == actor.person_id, in_line=False, subject_department=department)
        inside = Relation(is_self=outside.is_self, in_line=True, subject_department=department)
        if may_view_talent(actor, outside) == may_view_talent(actor, inside):
            found[pid] = outside
    ids = sorted(pid for pid in departments if pid not in found)
    for start in range(0, len(ids), IDS_CHUNK):
        chunk = {pid: departments[pid] for pid in ids[start : start + IDS_CHUNK]}
        found.update(await relations_to(session, actor, chunk))
    return found


async def _positions_in_scope(
    session: AsyncSession, actor: Actor, found: list[Suggestion]
) -> list[Suggestion]:
    """Leave out suggestions naming a position the actor may not manage the succession of (its slate and
    coverage are succession data of its department)."""
    position_ids = {pid for s in found if (pid := _position_of(s.target_key)) is not None}
    if not position_ids:
        return found
    departments = dict(
        (
            await session.execute(
                select(Position.id, Position.department).where(Position.id.in_(sorted(position_ids)))
            )
        ).all()
    )
    return [
        s
        for s in found
        if (pid := _position_of(s.target_key)) is None
        or (pid in departments and may_manage_succession(actor, department=departments[pid]))
    ]


def _position_of(target_key: str) -> int | None:
    parts = target_key.split(":")
    if len(parts) >= 2 and parts[0] == "position" and parts[1].isdigit():
        return int(parts[1])
    return None


async def _decided(
    session: AsyncSession, kinds: Sequence[SignalKind], person_ids: set[int]
) -> set[tuple[str, int, str]]:
    if not person_ids or not kinds:
        return set()
    rows = await session.execute(
        select(SuggestionDecision.kind, SuggestionDecision.person_id, SuggestionDecision.target_key).where(
            SuggestionDecision.kind.in_([kind.value for kind in kinds])
        )
    )
    return {(kind, pid, target) for kind, pid, target in rows.all() if pid in person_ids}


# --- 1. consistent goal achievement → promotion readiness -------------------------------------------------


async def promotion_readiness(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People whose last PROMOTION_PERIODS goal periods each reached PERIOD_ACHIEVED (rule 1)."""
    achievement = _achievement()
    ended = and_(
        Goal.owner_type == "person",
        Goal.kind.in_(GOAL_KINDS),
        Goal.period_end < today,
        Goal.period_end >= today - timedelta(days=GOAL_LOOKBACK_DAYS),
    )
    # Each person's periods, newest first, with their (weighted) achievement; the people whose latest
    # PROMOTION_PERIODS all reached PERIOD_ACHIEVED are picked in the database, whatever its size.
    achieved = case(
        (func.sum(Goal.weight) > 0, func.sum(Goal.weight * achievement) / func.sum(Goal.weight)),
        else_=func.avg(achievement),
    )
    per_period = (
        select(
            Goal.owner_person_id.label("person_id"),
            Goal.period_start.label("starts"),
            Goal.period_end.label("ends"),
            achieved.label("achieved"),
            func.row_number()
            .over(
                partition_by=Goal.owner_person_id, order_by=(Goal.period_end.desc(), Goal.period_start.desc())
            )
            .label("rank"),
        )
        .join(Person, Person.id == Goal.owner_person_id)
        .where(ended, _active(person_ids))
        .group_by(Goal.owner_person_id, Goal.period_start, Goal.period_end)
        .subquery()
    )
    latest = select(per_period).where(per_period.c.rank <= PROMOTION_PERIODS).cte("latest_periods")
    consistent = (
        select(latest.c.person_id)
        .group_by(latest.c.person_id)
        .having(func.count() == PROMOTION_PERIODS, func.min(latest.c.achieved) >= PERIOD_ACHIEVED)
    )
    chosen: dict[int, list[tuple[date, date, float]]] = defaultdict(list)
    for pid, start, end, value in (
        await session.execute(
            select(latest.c.person_id, latest.c.starts, latest.c.ends, latest.c.achieved).where(
                latest.c.person_id.in_(consistent)
            )
        )
    ).all():
        chosen[pid].append((start, end, float(value)))
    if not chosen:
        return []
    reviews = await _latest_reviews(session, chosen, today)
    chosen = {
        pid: rows for pid, rows in chosen.items() if pid not in reviews or reviews[pid].norm >= REVIEW_MEDIUM
    }
    goals: dict[int, list[Evidence]] = defaultdict(list)
    for chunk in _chunks(chosen):
        rows = await session.execute(
            select(
                Goal.id,
                Goal.owner_person_id,
                Goal.title,
                Goal.period_label,
                Goal.period_start,
                Goal.period_end,
                Goal.closed_at,
                achievement,
            )
            .where(ended, Goal.owner_person_id.in_(chunk))
            .order_by(Goal.period_end, Goal.id)
        )
        for gid, pid, title, label, start, end, closed_at, value in rows.all():
            if (start, end) in {(s, e) for s, e, _ in chosen[pid]}:
                how = "final score" if closed_at is not None else "progress"
                goals[pid].append(
                    Evidence(EvidenceKind.GOAL, gid, title, f"{label}: {_pct(value)} achieved ({how})", end)
                )
    who = await _who(session, chosen)
    found = []
    for pid, rows in chosen.items():
        mean = sum(value for _, _, value in rows) / len(rows)
        review = reviews.get(pid)
        evidence = list(goals[pid])
        if review is not None:
            evidence.append(review.evidence())
        found.append(
            _suggestion(
                SignalKind.PROMOTION_READINESS,
                who[pid],
                "",
                None,
                0.75 * min(mean, 1.0) + 0.25 * (review.norm if review is not None else 0.5),
                f"Reached {_pct(PERIOD_ACHIEVED)} or more of their goals in each of their last "
                f"{len(rows)} periods (on average {_pct(mean)}): assess their promotion readiness.",
                evidence,
            )
        )
    return found


def _achievement() -> ColumnElement[float]:
    """A goal's achievement: its final score once closed, else its progress."""
    return case(
        (Goal.closed_at.is_not(None), func.coalesce(Goal.final_score, Goal.progress)), else_=Goal.progress
    )


@dataclass(frozen=True)
class _Review:
    participant_id: int
    cycle_id: int
    cycle_name: str
    period_start: date
    period_end: date
    score: float
    points: int
    department: str | None

    @property
    def norm(self) -> float:
        return _norm(self.score, self.points)

    def evidence(self) -> Evidence:
        where = f" in {self.department}" if self.department else ""
        return Evidence(
            EvidenceKind.REVIEW_SCORE,
            self.participant_id,
            self.cycle_name,
            f"Final score {self.score:g} of {self.points}{where}",
            self.period_end,
        )


def _review(participant_id: int, cycle: Any, score: float, department: str | None) -> _Review:
    return _Review(
        participant_id,
        cycle.id,
        cycle.name,
        cycle.period_start,
        cycle.period_end,
        score,
        len(cycle.scale_labels),
        department,
    )


def _norm(score: float, points: int) -> float:
    return (score - 1) / (points - 1) if points > 1 else 0.0


async def _cycles(session: AsyncSession, today: date, *, since: date | None = None) -> dict[int, Any]:
    """Released and closed cycles (id → name, period end, points of the scale)."""
    query = (
        select(
            ReviewCycle.id,
            ReviewCycle.name,
            ReviewCycle.period_start,
            ReviewCycle.period_end,
            ReviewTemplate.scale_labels,
        )
        .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
        .where(ReviewCycle.phase.in_(REVIEWED_PHASES), ReviewCycle.period_end <= today)
    )
    if since is not None:
        query = query.where(ReviewCycle.period_end >= since)
    return {row.id: row for row in (await session.execute(query)).all()}


async def _latest_reviews(
    session: AsyncSession, person_ids: Collection[int], today: date
) -> dict[int, _Review]:
    cycles = await _cycles(session, today)
    if not cycles:
        return {}
    found: dict[int, _Review] = {}
    reviewed = ReviewCycle.id.in_(sorted(cycles))
    for chunk in _chunks(person_ids):
        for pid, s in (await latest_final_scores(session, cycles=reviewed, person_ids=chunk)).items():
            found[pid] = _review(s.participant_id, cycles[s.cycle_id], s.score, s.department)
    return found


# --- 2. feedback trends showing growth → development program ------------------------------------------------


async def development_program(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People receiving more and better-rated feedback on named competencies than half a year before
    (rule 2)."""
    recent_from = _start_of(today - timedelta(days=GROWTH_HALF_DAYS - 1))
    earlier_from = _start_of(today - timedelta(days=2 * GROWTH_HALF_DAYS - 1))
    until = _start_of(today + timedelta(days=1))
    tagged = (
        select(Feedback.recipient_id)
        .join(FeedbackTag, FeedbackTag.feedback_id == Feedback.id)
        .join(Competency, Competency.name_key == func.lower(FeedbackTag.tag))
        .join(Person, Person.id == Feedback.recipient_id)
        .where(
            Feedback.visibility.in_(SHOWN_FEEDBACK),
            Feedback.giver_id.is_not(None),
            FeedbackTag.rating.is_not(None),
            Competency.active.is_(True),
            Feedback.created_at >= earlier_from,
            Feedback.created_at < until,
            _active(person_ids),
        )
    )
    # Both halves in one pass: counts of feedback items and mean tag ratings, recent and earlier.
    recent, earlier = Feedback.created_at >= recent_from, Feedback.created_at < recent_from
    trend = (
        tagged.add_columns(
            func.count(func.distinct(case((earlier, Feedback.id)))),
            func.avg(case((earlier, FeedbackTag.rating))),
            func.count(func.distinct(case((recent, Feedback.id)))),
            func.avg(case((recent, FeedbackTag.rating))),
        )
        .group_by(Feedback.recipient_id)
        .having(
            func.count(func.distinct(case((recent, Feedback.id)))) >= GROWTH_MIN_RECENT,
            func.count(func.distinct(case((earlier, Feedback.id)))) >= GROWTH_MIN_EARLIER,
        )
    )
    halves: dict[int, dict[int, tuple[int, float]]] = {}
    for pid, n1, r1, n2, r2 in (await session.execute(trend)).all():
        halves[pid] = {0: (n1, float(r1)), 1: (n2, float(r2))}
    growing = set()
    for pid, by_half in halves.items():
        (n1, r1), (n2, r2) = by_half.get(0, (0, 0.0)), by_half.get(1, (0, 0.0))
        if (
            n2 >= GROWTH_MIN_RECENT
            and n1 >= GROWTH_MIN_EARLIER
            and n2 > n1
            and r2 >= r1 + GROWTH_RATING_RISE
            and r2 >= GROWTH_MIN_RATING
        ):
            growing.add(pid)
    if not growing:
        return []
    pool = await _development_pool(session)
    if pool is not None:
        growing -= await _pool_members(session, pool.id, growing)
    giver = aliased(Person)
    items: dict[int, dict[int, list[Any]]] = defaultdict(dict)
    for chunk in _chunks(growing):
        rows = await session.execute(
            tagged.with_only_columns(
                Feedback.recipient_id,
                Feedback.id,
                Feedback.created_at,
                giver.display_name,
                Competency.name,
                FeedbackTag.rating,
            )
            .join(giver, giver.id == Feedback.giver_id)
            .where(Feedback.recipient_id.in_(chunk))
            .order_by(Feedback.created_at, Feedback.id, Competency.name)
        )
        for pid, fid, at, giver_name, competency, rating in rows.all():
            items[pid].setdefault(fid, [_day_of(at), giver_name, []])[2].append(f"{competency} {rating}/5")
    who = await _who(session, growing)
    found = []
    for pid in growing:
        (n1, r1), (n2, r2) = halves[pid][0], halves[pid][1]
        evidence = [
            Evidence(EvidenceKind.FEEDBACK, fid, f"Feedback from {giver_name}", ", ".join(ratings), on)
            for fid, (on, giver_name, ratings) in items[pid].items()
        ]
        evidence.append(
            Evidence(
                EvidenceKind.FIGURE,
                None,
                "Feedback on competencies, half a year against the half before",
                f"{n1} item(s) averaging {r1:.1f}/5 before, {n2} averaging {r2:.1f}/5 in the last "
                f"{GROWTH_HALF_DAYS} days",
            )
        )
        found.append(
            _suggestion(
                SignalKind.DEVELOPMENT_PROGRAM,
                who[pid],
                f"pool:{pool.id}" if pool is not None else "",
                pool.name if pool is not None else None,
                0.5 + 0.25 * min(1.0, (r2 - r1) / 2) + 0.25 * min(1.0, (n2 - n1) / n1),
                f"More feedback on their competencies ({n1} → {n2}) and better rated ({r1:.1f} → {r2:.1f}): "
                "nominate them for a development program.",
                evidence,
            )
        )
    return found


async def _development_pool(session: AsyncSession) -> Any:
    for pool in (
        await session.execute(
            select(TalentPool.id, TalentPool.name, TalentPool.name_key).order_by(TalentPool.id)
        )
    ).all():
        if any(word in pool.name_key for word in DEVELOPMENT_POOL_WORDS):
            return pool
    return None


async def _pool_members(session: AsyncSession, pool_id: int, person_ids: Collection[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(person_ids):
        found.update(
            await session.scalars(
                select(TalentPoolMember.person_id).where(
                    TalentPoolMember.pool_id == pool_id, TalentPoolMember.person_id.in_(chunk)
                )
            )
        )
    return found


# --- 3. review history across several roles → succession candidate ---------------------------------------


async def succession_candidate(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People with strong reviews in several roles, for critical positions whose role profile they fit
    (rule 3)."""
    cycles = await _cycles(session, today, since=today - timedelta(days=REVIEW_HISTORY_DAYS))
    if not cycles:
        return []
    strong_enough = or_(
        *(
            and_(
                ReviewParticipant.cycle_id == cid,
                ReviewParticipant.final_score >= 1 + SUCCESSION_REVIEW_MIN * (len(c.scale_labels) - 1),
            )
            for cid, c in cycles.items()
        )
    )
    rows = await session.execute(
        select(
            ReviewParticipant.id,
            ReviewParticipant.person_id,
            ReviewParticipant.cycle_id,
            ReviewParticipant.final_score,
            ReviewParticipant.department,
        )
        .join(Person, Person.id == ReviewParticipant.person_id)
        .where(strong_enough, _active(person_ids))
    )
    strong: dict[int, list[_Review]] = defaultdict(list)
    for participant_id, pid, cid, score, department in rows.all():
        strong[pid].append(_review(participant_id, cycles[cid], score, department))
    strong = {pid: reviews for pid, reviews in strong.items() if len(reviews) >= SUCCESSION_MIN_CYCLES}
    one_department = {
        pid: min(r.period_start for r in reviews)
        for pid, reviews in strong.items()
        if len({r.department for r in reviews}) < 2
    }
    moves = await _internal_moves(session, one_department, today)
    roles = {pid: moves.get(pid) for pid in strong if pid not in one_department or pid in moves}
    if not roles:
        return []
    positions = (
        await session.execute(
            select(Position.id, Position.title, Position.role_profile_id, Position.incumbent_id).where(
                Position.critical.is_(True), Position.role_profile_id.is_not(None)
            )
        )
    ).all()
    requirements, profile_names = await _requirements(session, {p.role_profile_id for p in positions})
    current = await current_role_profiles(session, sorted(roles))
    slated = await _slated(session, roles)
    latest = await _latest_assessments(
        session, roles, {r.competency_id for reqs in requirements.values() for r in reqs}, today
    )
    who = await _who(session, roles)
    found = []
    by_profile: dict[int, list[Any]] = defaultdict(list)
    for position in positions:
        by_profile[position.role_profile_id].append(position)
    for pid, move in roles.items():
        fits = []
        for profile, seats in by_profile.items():
            if profile == current.get(pid):
                continue
            ready, used = _fit(requirements.get(profile, []), latest, pid)
            if ready is None or ready < SUCCESSION_MIN_READINESS:
                continue
            fits += [
                (ready, position, used)
                for position in seats
                if position.incumbent_id != pid and (position.id, pid) not in slated
            ]
        fits.sort(key=lambda f: (-f[0], f[1].id))
        reviews = sorted(strong[pid], key=lambda r: (r.period_end, r.participant_id))
        mean = sum(r.norm for r in reviews) / len(reviews)
        departments = sorted({r.department for r in reviews if r.department})
        for ready, position, used in fits[:SUCCESSION_MAX_POSITIONS]:
            evidence = [r.evidence() for r in reviews]
            if move is not None:
                evidence.append(move)
            evidence.append(_profile_evidence(position.role_profile_id, profile_names, ready))
            evidence += used
            held = (
                f"in {len(departments)} departments ({', '.join(departments)})"
                if move is None
                else f"before and after moving into {move.label}"
            )
            found.append(
                _suggestion(
                    SignalKind.SUCCESSION_CANDIDATE,
                    who[pid],
                    f"position:{position.id}",
                    position.title,
                    0.5 * float(ready) / 100 + 0.5 * mean,
                    f"Strong reviews in {len(reviews)} cycles {held}, and {ready} % ready for "
                    f"{position.title}: consider them for its succession slate.",
                    evidence,
                )
            )
    return found


async def _internal_moves(
    session: AsyncSession, since: Mapping[int, date], today: date
) -> dict[int, Evidence]:
    """Each person's latest internal move into a position between their date in `since` and today."""
    found: dict[int, Evidence] = {}
    if not since:
        return found
    for chunk in _chunks(since):
        rows = await session.execute(
            select(PositionFill.person_id, PositionFill.position_id, PositionFill.filled_on, Position.title)
            .join(Position, Position.id == PositionFill.position_id)
            .where(
                PositionFill.person_id.in_(chunk),
                PositionFill.source == "internal",
                PositionFill.filled_on >= min(since[pid] for pid in chunk),
                PositionFill.filled_on <= today,
            )
            .order_by(PositionFill.filled_on, PositionFill.id)
        )
        for pid, position_id, on, title in rows.all():
            if on >= since[pid]:
                found[pid] = Evidence(
                    EvidenceKind.POSITION, position_id, title, "Moved into this position (internal fill)", on
                )
    return found


async def _slated(session: AsyncSession, person_ids: Collection[int]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for chunk in _chunks(person_ids):
        rows = await session.execute(
            select(Successor.position_id, Successor.person_id).where(Successor.person_id.in_(chunk))
        )
        found.update((position, pid) for position, pid in rows.all())
    return found


# --- 4. leadership-competency ratings → high potential ------------------------------------------------------


async def high_potential(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People assessed high on several leadership competencies, not yet flagged high potential (rule 4)."""
    leadership = {
        row.id: row
        for row in (
            await session.execute(
                select(Competency.id, Competency.name, Competency.levels).where(
                    Competency.category == LEADERSHIP_CATEGORY, Competency.active.is_(True)
                )
            )
        ).all()
    }
    if not leadership:
        return []
    ranked = (
        select(
            CompetencyAssessment.id,
            CompetencyAssessment.person_id,
            CompetencyAssessment.competency_id,
            CompetencyAssessment.level,
            CompetencyAssessment.assessed_on,
            _newest_first().label("rank"),
        )
        .join(Person, Person.id == CompetencyAssessment.person_id)
        .where(
            CompetencyAssessment.competency_id.in_(sorted(leadership)),
            CompetencyAssessment.assessed_on <= today,
            _active(person_ids),
        )
        .subquery()
    )
    rows = await session.execute(
        select(ranked).where(
            ranked.c.rank == 1, ranked.c.assessed_on >= today - timedelta(days=HIPO_RECENT_DAYS)
        )
    )
    assessed: dict[int, list[Any]] = defaultdict(list)
    for row in rows.all():
        assessed[row.person_id].append(row)
    strong = {
        pid: rows
        for pid, rows in assessed.items()
        if len(rows) >= HIPO_MIN_COMPETENCIES
        and _mean(r.level / len(leadership[r.competency_id].levels) for r in rows) >= HIPO_MIN_SHARE
    }
    if not strong:
        return []
    entries = await latest_entries(session, sorted(strong))
    strong = {
        pid: rows for pid, rows in strong.items() if not (pid in entries and entries[pid].high_potential)
    }
    who = await _who(session, strong)
    found = []
    for pid, rows in strong.items():
        rows.sort(key=lambda r: (leadership[r.competency_id].name.casefold(), r.id))
        share = _mean(r.level / len(leadership[r.competency_id].levels) for r in rows)
        evidence = [
            Evidence(
                EvidenceKind.ASSESSMENT,
                r.id,
                leadership[r.competency_id].name,
                f"Level {r.level} of {len(leadership[r.competency_id].levels)}",
                r.assessed_on,
            )
            for r in rows
        ]
        found.append(
            _suggestion(
                SignalKind.HIGH_POTENTIAL,
                who[pid],
                "",
                None,
                share,
                f"Assessed at {_pct(share)} of the top level on average across {len(rows)} leadership "
                "competencies: consider them a high potential in the next talent review.",
                evidence,
            )
        )
    return found


# --- 5. performance during stretch assignments → career path ---------------------------------------------


async def career_path(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People who succeeded in stretch assignments, for the next role they are readiest for (rule 5)."""
    since = today - timedelta(days=CAREER_RECENT_DAYS)
    rows = await session.execute(
        select(
            DevelopmentPlan.person_id,
            DevelopmentAction.id,
            DevelopmentAction.title,
            DevelopmentAction.goal_id,
            DevelopmentAction.completed_at,
            DevelopmentAction.due_on,
        )
        .join(DevelopmentPlan, DevelopmentPlan.id == DevelopmentAction.plan_id)
        .join(Person, Person.id == DevelopmentPlan.person_id)
        .where(
            DevelopmentAction.kind == "stretch",
            DevelopmentAction.status == "done",
            or_(
                DevelopmentAction.completed_at >= _start_of(since),
                and_(DevelopmentAction.completed_at.is_(None), DevelopmentAction.due_on >= since),
            ),
            _active(person_ids),
        )
        .order_by(DevelopmentAction.id)
    )
    actions = [
        (pid, aid, title, goal_id, _day_of(completed) if completed is not None else due)
        for pid, aid, title, goal_id, completed, due in rows.all()
    ]
    actions = [a for a in actions if a[4] <= today]
    goals = await _goals(session, {a[3] for a in actions if a[3] is not None})
    succeeded: dict[int, list[Evidence]] = defaultdict(list)
    counted: dict[int, int] = defaultdict(int)
    for pid, aid, title, goal_id, on in actions:
        goal = goals.get(goal_id) if goal_id is not None else None
        if goal_id is not None and (goal is None or goal.achievement < STRETCH_GOAL_MET):
            continue
        succeeded[pid].append(
            Evidence(EvidenceKind.DEVELOPMENT_ACTION, aid, title, "Stretch assignment, done", on)
        )
        if goal is not None:
            succeeded[pid].append(goal.evidence())
        counted[pid] += 1
    candidates = {pid for pid, n in counted.items() if n >= CAREER_MIN_STRETCH}
    if not candidates:
        return []
    current = await current_role_profiles(session, sorted(candidates))
    steps: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for origin, target, kind in (
        await session.execute(
            select(CareerStep.from_profile_id, CareerStep.to_profile_id, CareerStep.kind).where(
                CareerStep.from_profile_id.in_(sorted(set(current.values())))
            )
        )
    ).all():
        steps[origin].append((target, kind))
    targets = {target for options in steps.values() for target, _ in options}
    requirements, profile_names = await _requirements(session, targets)
    latest = await _latest_assessments(
        session, candidates, {r.competency_id for reqs in requirements.values() for r in reqs}, today
    )
    who = await _who(session, candidates)
    found = []
    for pid in sorted(candidates):
        options = []
        for target, kind in steps.get(current.get(pid, -1), []):
            ready, _ = _fit(requirements.get(target, []), latest, pid)
            if ready is not None and ready >= CAREER_MIN_READINESS:
                options.append((kind != "ladder", -ready, target, kind, ready))
        if not options:
            continue
        _, _, target, kind, ready = min(options)
        evidence = [*succeeded[pid], _profile_evidence(target, profile_names, ready)]
        move = "a step up" if kind == "ladder" else "a lateral move"
        found.append(
            _suggestion(
                SignalKind.CAREER_PATH,
                who[pid],
                f"role:{target}",
                profile_names[target],
                0.6 * float(ready) / 100 + 0.4 * min(1.0, counted[pid] / 2),
                f"Succeeded in {counted[pid]} stretch assignment(s) and {ready} % ready for "
                f"{profile_names[target]} ({move}): recommend it as their next role.",
                evidence,
            )
        )
    return found


@dataclass(frozen=True)
class _Goal:
    id: int
    title: str
    period_label: str
    period_end: date
    closed: bool
    achievement: float

    def evidence(self) -> Evidence:
        how = "final score" if self.closed else "progress"
        return Evidence(
            EvidenceKind.GOAL,
            self.id,
            self.title,
            f"{self.period_label}: {_pct(self.achievement)} achieved ({how})",
            self.period_end,
        )


async def _goals(session: AsyncSession, goal_ids: Collection[int]) -> dict[int, _Goal]:
    found: dict[int, _Goal] = {}
    for chunk in _chunks(goal_ids):
        rows = await session.execute(
            select(
                Goal.id, Goal.title, Goal.period_label, Goal.period_end, Goal.closed_at, _achievement()
            ).where(Goal.id.in_(chunk))
        )
        for gid, title, label, end, closed_at, value in rows.all():
            found[gid] = _Goal(gid, title, label, end, closed_at is not None, float(value or 0))
    return found


# --- 6. peer feedback on collaboration → cross-functional opportunity ---------------------------------------


async def cross_functional(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """People rated highly on collaboration by colleagues of several other departments (rule 6)."""
    recipient, giver = aliased(Person), aliased(Person)
    rows = await session.execute(
        select(
            Feedback.recipient_id,
            Feedback.id,
            Feedback.created_at,
            giver.display_name,
            giver.department,
            FeedbackTag.tag,
            FeedbackTag.rating,
        )
        .join(FeedbackTag, FeedbackTag.feedback_id == Feedback.id)
        .join(recipient, recipient.id == Feedback.recipient_id)
        .join(giver, giver.id == Feedback.giver_id)
        .where(
            Feedback.visibility.in_(SHOWN_FEEDBACK),
            func.lower(FeedbackTag.tag).contains(COLLABORATION_TAG, autoescape=True),
            FeedbackTag.rating.is_not(None),
            Feedback.created_at >= _start_of(today - timedelta(days=CROSS_RECENT_DAYS)),
            Feedback.created_at < _start_of(today + timedelta(days=1)),
            recipient.active.is_(True),
            recipient.department.is_not(None),
            giver.department.is_not(None),
            giver.department != recipient.department,
            *([] if person_ids is None else [recipient.id.in_(list(person_ids))]),
        )
        .order_by(Feedback.created_at, Feedback.id, FeedbackTag.tag)
    )
    received: dict[int, dict[int, list[Any]]] = defaultdict(dict)
    for pid, fid, at, giver_name, department, tag, rating in rows.all():
        received[pid].setdefault(fid, [_day_of(at), giver_name, department, []])[3].append((tag, rating))
    found = []
    chosen = {}
    for pid, items in received.items():
        ratings = [rating for *_, tags in items.values() for _, rating in tags]
        departments = {department for _, _, department, _ in items.values()}
        if len(departments) >= CROSS_MIN_DEPARTMENTS and _mean(ratings) >= CROSS_MIN_RATING:
            chosen[pid] = (items, _mean(ratings), sorted(departments))
    who = await _who(session, chosen)
    for pid, (items, mean, departments) in chosen.items():
        evidence = [
            Evidence(
                EvidenceKind.FEEDBACK,
                fid,
                f"Feedback from {giver_name} ({department})",
                ", ".join(f"{tag} {rating}/5" for tag, rating in tags),
                on,
            )
            for fid, (on, giver_name, department, tags) in items.items()
        ]
        found.append(
            _suggestion(
                SignalKind.CROSS_FUNCTIONAL,
                who[pid],
                "",
                None,
                0.5 * mean / 5 + 0.5 * min(1.0, len(departments) / 3),
                f"Rated {mean:.1f}/5 on collaboration by colleagues in {len(departments)} other departments "
                f"({', '.join(departments)}): offer them a cross-functional leadership opportunity.",
                evidence,
            )
        )
    return found


# --- 7. a succession gap → a development objective --------------------------------------------------------


async def development_objective(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """Successors on slates with no one ready now, for their largest competency gap (rule 7)."""
    ready_now = (
        select(Successor.id)
        .join(Person, Person.id == Successor.person_id)
        .where(
            Successor.position_id == Position.id,
            Successor.readiness == "ready_now",
            Person.active.is_(True),
        )
    )
    rows = await session.execute(
        select(
            Position.id,
            Position.title,
            Position.role_profile_id,
            Successor.person_id,
            Successor.readiness,
            func.count().over(partition_by=Position.id).label("slate"),
        )
        .join(Successor, Successor.position_id == Position.id)
        .join(Person, Person.id == Successor.person_id)
        .where(
            Position.critical.is_(True),
            Position.role_profile_id.is_not(None),
            ~exists(ready_now),
            Person.active.is_(True),
        )
        .order_by(Position.id, Successor.id)
    )
    wanted = None if person_ids is None else set(person_ids)
    slates = [row for row in rows.all() if wanted is None or row.person_id in wanted]
    if not slates:
        return []
    people = {row.person_id for row in slates}
    requirements, profile_names = await _requirements(session, {row.role_profile_id for row in slates})
    latest = await _latest_assessments(
        session, people, {r.competency_id for reqs in requirements.values() for r in reqs}, today
    )
    working_on = await _open_actions(session, people)
    who = await _who(session, people)
    found = []
    for row in slates:
        gaps = [
            (req.expected - assessed.level, req, assessed)
            for req in requirements.get(row.role_profile_id, [])
            if (assessed := latest.get((row.person_id, req.competency_id))) is not None
            and assessed.level < req.expected
            and (row.person_id, req.competency_id) not in working_on
        ]
        if not gaps:
            continue
        gap, req, assessed = min(gaps, key=lambda g: (-g[0], -g[1].weight, g[1].name.casefold()))
        evidence = [
            Evidence(
                EvidenceKind.POSITION,
                row.id,
                row.title,
                f"Critical; no one on its slate ({row.slate}) is ready now",
            ),
            Evidence(
                EvidenceKind.ROLE_PROFILE,
                row.role_profile_id,
                profile_names[row.role_profile_id],
                f"Expects {req.name} at level {req.expected} of {req.levels} (weight {req.weight:g})",
            ),
            _assessment_evidence(req, assessed),
        ]
        found.append(
            _suggestion(
                SignalKind.DEVELOPMENT_OBJECTIVE,
                who[row.person_id],
                f"position:{row.id}:competency:{req.competency_id}",
                f"{req.name} for {row.title}",
                OBJECTIVE_READINESS_WEIGHT.get(row.readiness, 0.5) * (0.6 + 0.4 * min(1.0, gap / 2)),
                f"{row.title} has no ready-now successor; {req.name} is {gap} level(s) short of what it "
                f"expects ({assessed.level} of {req.expected}): make closing it a development objective.",
                evidence,
            )
        )
    return found


async def _open_actions(session: AsyncSession, person_ids: Collection[int]) -> set[tuple[int, int]]:
    found: set[tuple[int, int]] = set()
    for chunk in _chunks(person_ids):
        rows = await session.execute(
            select(DevelopmentPlan.person_id, DevelopmentAction.competency_id)
            .join(DevelopmentPlan, DevelopmentPlan.id == DevelopmentAction.plan_id)
            .where(
                DevelopmentPlan.person_id.in_(chunk),
                DevelopmentAction.status.in_(OPEN_ACTION_STATUSES),
                DevelopmentAction.competency_id.is_not(None),
            )
        )
        found.update((pid, cid) for pid, cid in rows.all())
    return found


# --- shared helpers ---------------------------------------------------------------------------------------


_SIGNALS: dict[SignalKind, Callable[..., Awaitable[list[Suggestion]]]] = {
    SignalKind.PROMOTION_READINESS: promotion_readiness,
    SignalKind.DEVELOPMENT_PROGRAM: development_program,
    SignalKind.SUCCESSION_CANDIDATE: succession_candidate,
    SignalKind.HIGH_POTENTIAL: high_potential,
    SignalKind.CAREER_PATH: career_path,
    SignalKind.CROSS_FUNCTIONAL: cross_functional,
    SignalKind.DEVELOPMENT_OBJECTIVE: development_objective,
    SignalKind.FLIGHT_RISK: _flight_risks,
}


@dataclass(frozen=True)
class _Who:
    id: int
    name: str
    department: str | None


@dataclass(frozen=True)
class _Requirement:
    competency_id: int
    name: str
    category: str
    levels: int
    expected: int
    weight: float


@dataclass(frozen=True)
class _Assessed:
    id: int
    level: int
    on: date


def _active(person_ids: Collection[int] | None) -> ColumnElement[bool]:
    """Active people (of `person_ids`, when given), on the query's Person."""
    if person_ids is None:
        return Person.active.is_(True)
    return and_(Person.active.is_(True), Person.id.in_(sorted(set(person_ids))))


async def _who(session: AsyncSession, person_ids: Iterable[int]) -> dict[int, _Who]:
    found: dict[int, _Who] = {}
    for chunk in _chunks(person_ids):
        rows = await session.execute(
            select(Person.id, Person.display_name, Person.department).where(Person.id.in_(chunk))
        )
        found.update({pid: _Who(pid, name, department) for pid, name, department in rows.all()})
    return found


async def _requirements(
    session: AsyncSession, profile_ids: Collection[int]
) -> tuple[dict[int, list[_Requirement]], dict[int, str]]:
    """What each role profile expects, on active competencies (profile id → requirements), and names."""
    wanted = sorted(set(profile_ids))
    if not wanted:
        return {}, {}
    found: dict[int, list[_Requirement]] = defaultdict(list)
    rows = await session.execute(
        select(
            RoleRequirement.role_profile_id,
            Competency.id,
            Competency.name,
            Competency.category,
            Competency.levels,
            RoleRequirement.expected_level,
            RoleRequirement.weight,
        )
        .join(Competency, Competency.id == RoleRequirement.competency_id)
        .where(RoleRequirement.role_profile_id.in_(wanted), Competency.active.is_(True))
        .order_by(Competency.category, Competency.name_key)
    )
    for profile, cid, name, category, levels, expected, weight in rows.all():
        found[profile].append(_Requirement(cid, name, category, len(levels), expected, weight))
    names = dict(
        (
            await session.execute(select(RoleProfile.id, RoleProfile.name).where(RoleProfile.id.in_(wanted)))
        ).all()
    )
    return found, names


def _newest_first() -> ColumnElement[int]:
    return func.row_number().over(
        partition_by=(CompetencyAssessment.person_id, CompetencyAssessment.competency_id),
        order_by=(CompetencyAssessment.assessed_on.desc(), CompetencyAssessment.id.desc()),
    )


async def _latest_assessments(
    session: AsyncSession, person_ids: Collection[int], competency_ids: Collection[int], today: date
) -> dict[tuple[int, int], _Assessed]:
    """Each person's latest assessment on or before today of each of these competencies."""
    found: dict[tuple[int, int], _Assessed] = {}
    if not competency_ids:
        return found
    for chunk in _chunks(person_ids):
        ranked = (
            select(
                CompetencyAssessment.id,
                CompetencyAssessment.person_id,
                CompetencyAssessment.competency_id,
                CompetencyAssessment.level,
                CompetencyAssessment.assessed_on,
                _newest_first().label("rank"),
            )
            .where(
                CompetencyAssessment.person_id.in_(chunk),
                CompetencyAssessment.competency_id.in_(sorted(set(competency_ids))),
                CompetencyAssessment.assessed_on <= today,
            )
            .subquery()
        )
        rows = await session.execute(select(ranked).where(ranked.c.rank == 1))
        for row in rows.all():
            found[(row.person_id, row.competency_id)] = _Assessed(row.id, row.level, row.assessed_on)
    return found


def _fit(
    requirements: Sequence[_Requirement], latest: Mapping[tuple[int, int], _Assessed], person_id: int
) -> tuple[Decimal | None, list[Evidence]]:
    """A person's readiness for a role profile (domain.competencies.readiness) and the assessments used."""
    lines, used = [], []
    for req in requirements:
        assessed = latest.get((person_id, req.competency_id))
        lines.append(
            GapLine(
                competency_id=req.competency_id,
                competency_name=req.name,
                category=req.category,
                expected_level=req.expected,
                expected_label="",
                weight=req.weight,
                levels=req.levels,
                assessed_level=None if assessed is None else assessed.level,
                assessed_label=None,
                assessed_on=None if assessed is None else assessed.on,
            )
        )
        if assessed is not None:
            used.append(_assessment_evidence(req, assessed))
    return readiness(lines), used


def _assessment_evidence(req: _Requirement, assessed: _Assessed) -> Evidence:
    return Evidence(
        EvidenceKind.ASSESSMENT,
        assessed.id,
        req.name,
        f"Level {assessed.level} of {req.levels} (the role expects {req.expected})",
        assessed.on,
    )


def _profile_evidence(profile_id: int, names: Mapping[int, str], ready: Decimal) -> Evidence:
    return Evidence(
        EvidenceKind.ROLE_PROFILE,
        profile_id,
        names[profile_id],
        f"Readiness {ready} % (weighted share of each expected level reached, by the latest assessments)",
    )


def _suggestion(
    kind: SignalKind,
    who: _Who,
    target_key: str,
    target_label: str | None,
    score: float,
    summary: str,
    evidence: Sequence[Evidence],
) -> Suggestion:
    return Suggestion(
        kind=kind,
        person_id=who.id,
        person_name=who.name,
        department=who.department,
        target_key=target_key,
        target_label=target_label,
        score=round(min(max(score, 0.0), 1.0), 3),
        summary=summary,
        evidence=tuple(evidence),
    )


def _chunks(ids: Iterable[int]) -> list[list[int]]:
    ordered = sorted(set(ids))
    return [ordered[i : i + IDS_CHUNK] for i in range(0, len(ordered), IDS_CHUNK)]


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _pct(value: float) -> str:
    return f"{round(value * 100)} %"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _day_of(at: datetime) -> date:
    return at.astimezone(UTC).date() if at.tzinfo is not None else at.date()

"""Two of the bridge's signals: flight risks, and calibration bias flags (domain/signals.py gathers every
signal, filters what the reader may see and leaves out what was decided). Both read the store only, in a
few bulk queries whatever the size of the organization, and carry exactly the evidence that made them.

Flight risk (flight_risks): a high performer or high potential showing signs of leaving
    Who is considered: active people who are
      - a high performer. Their latest talent-review entry (the one talent.placements.latest_entries
        picks) decides, by performance axis HIGH (3), unless their latest released review (a cycle released
        or closed, with a final score) is of a newer cycle than the one that talent review read (by period
        end, then id): then that review's final score decides, high when in the top band,
        (score - 1) / (points - 1) >= TOP_BAND_FROM (4.00 and up on a 5-point scale). With no talent-review
        entry the latest released review decides.
      - or a high potential: flagged high_potential in their latest talent-review entry.
    The signs, each counted at most once, as of `today`:
      - NO_DEVELOPMENT: no development plan, or one without an open action (planned or in progress).
      - NO_FEEDBACK: no feedback received in the FEEDBACK_DAYS days up to today (none created on or after
        today - FEEDBACK_DAYS; feedback dated after today is ignored).
      - NO_PROMOTION: no internal position fill of theirs (source internal) from the same day
        PROMOTION_MONTHS months ago up to today, while they have been with the organization at least that
        long (hire date on or before that day, or unknown): newcomers never show this sign.
      - FALLING_MOOD: of their submitted check-ins with a mood, for weeks starting in the MOOD_LOOKBACK_DAYS
        up to today, the latest MOOD_WINDOW (by week) average at least MOOD_DROP below the MOOD_WINDOW
        before them. Fewer than 2 * MOOD_WINDOW such check-ins: no sign.
    Suggested when at least MIN_SIGNS (3) of the four signs show: two are the normal state of a high
    performer (most have no development plan and no recent move), not a pattern. Score = the sum of
    SIGN_WEIGHTS over the signs shown (the four add up to 1; a falling mood weighs double), rounded to 2
    places: 0.60 to 1. target_key "" (accepting feeds the risk-of-loss field). Evidence, in this order: the
    REVIEW_SCORE row (ref: the review participant) and/or the TALENT_ENTRY row (performance, potential,
    flag) that made them a high performer or potential; then one FIGURE per sign (development, feedback,
    promotion, mood), the mood's followed by its 2 * MOOD_WINDOW CHECKIN rows, oldest first.

Rating bias (rating_bias): a manager rating more leniently or severely than the organization
    Ratings: the manager-submitted scores of one cycle (ReviewParticipant.computed_score, before any
    calibration), grouped by the participant's manager. A manager is compared when at least MIN_TEAM of
    their reports are rated and at least MIN_ORG other participants are (the organization: every rated
    participant who is not their report).
      d = (team mean - organization mean) / organization standard deviation (sample, n - 1)
      z = d * sqrt(team size)                       (the z of the team's mean)
    Their team's results, each a share from 0 to 1 per rated report:
      - goal achievement: the mean progress (a closed goal: its final score) of the report's business goals
        whose period overlaps the cycle's;
      - peer feedback: the report's peer-review ratings in this cycle (submitted reviews, on the cycle's
        scale) and the ratings on feedback tags they received during the cycle's period from anyone but
        their manager (1 to 5), each rescaled to 0..1, pooled.
      For each result k: d_k, the same standardized difference among the rated reports that have one (at
      least MIN_OUTCOME_PEOPLE of the team and 2 others with a spread; otherwise unknown, not compared).
    Flagged "lenient" when d >= MIN_EFFECT, z >= MIN_Z and, for each known result k, d - d_k >= MIN_EXCESS
    (the team's results don't account for its ratings); "severe" the mirror (d <= -MIN_EFFECT,
    z <= -MIN_Z, d - d_k <= -MIN_EXCESS). A result is called average when |d_k| < AVERAGE_BAND.
    Score = min(1, |gap| / FULL_SCORE_GAP) rounded to 2 places, where gap = d less the known d_k closest to
    it (the largest when lenient, the smallest when severe), or d when none is known. Evidence: three
    FIGURE rows (ratings, goal results, peer feedback) with the numbers. Advisory only: nothing changes a
    score; calibration_flags shows them on the calibration page.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, audit, may_view_talent_pages, require
from domain.performance.review_records import cycle_row
from domain.performance.review_results import latest_final_scores
from domain.signal_views import Evidence, EvidenceKind, SignalKind, Suggestion
from storage.models import (
    CheckIn,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    Person,
    PositionFill,
    Review,
    ReviewAnswer,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    TalentReview,
    TalentReviewEntry,
)

# --- flight risk -----------------------------------------------------------------------------------------

HIGH = 3  # the high level of a 9-box axis
TOP_BAND_FROM = 0.75  # share of the scale from its lowest point: 4.00 of 5, 3.25 of 4, 2.50 of 3
FEEDBACK_DAYS = 90
PROMOTION_MONTHS = 24
MOOD_WINDOW = 4  # check-ins in each of the two halves compared
MOOD_DROP = 1.0  # points of mood (1 to 5)
MOOD_LOOKBACK_DAYS = 16 * 7  # room for half the weeks skipped
# Not 2: most high performers have no development plan and no internal move in two years, so two signs are
# their normal state, not a pattern. With 2, the planted organization (bench/signal_quality.py) gave every
# planted flight risk but also a 26 % false-positive rate.
MIN_SIGNS = 3
RELEASED = ("released", "closed")
OPEN_ACTIONS = ("planned", "in_progress")
INTERNAL = "internal"
CHUNK = 2000  # ids bound per query


class Sign(StrEnum):
    NO_DEVELOPMENT = "no_development"
    NO_FEEDBACK = "no_feedback"
    NO_PROMOTION = "no_promotion"
    FALLING_MOOD = "falling_mood"


SIGN_WEIGHTS: Mapping[Sign, float] = {
    Sign.NO_DEVELOPMENT: 0.2,
    Sign.NO_FEEDBACK: 0.2,
    Sign.NO_PROMOTION: 0.2,
    Sign.FALLING_MOOD: 0.4,
}
SIGN_PHRASES: Mapping[Sign, str] = {
    Sign.NO_DEVELOPMENT: "no open development action",
    Sign.NO_FEEDBACK: f"no feedback in {FEEDBACK_DAYS} days",
    Sign.NO_PROMOTION: f"no promotion in {PROMOTION_MONTHS} months",
    Sign.FALLING_MOOD: "a falling check-in mood",
}
LEVELS = {1: "low", 2: "medium", 3: "high"}

# --- rating bias -----------------------------------------------------------------------------------------

MIN_TEAM = 5  # rated reports a manager needs to be compared
MIN_ORG = 10  # other rated participants the organization needs
MIN_EFFECT = 0.8  # standard deviations between the team's mean and the organization's
MIN_Z = 2.0  # the z of the team's mean
MIN_EXCESS = 0.5  # standard deviations the ratings differ by beyond the team's results
MIN_OUTCOME_PEOPLE = 3  # reports with a goal result (or a peer rating) for it to be compared
AVERAGE_BAND = 0.5  # a team result within this many standard deviations of the organization's is average
FULL_SCORE_GAP = 2.0  # the gap (standard deviations) that scores 1
LENIENT, SEVERE = "lenient", "severe"
FEEDBACK_POINTS = 5  # feedback tag ratings are 1 to 5
_EPSILON = 1e-9


# --- flight risk -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    """What flight risk reads of a person's latest talent-review entry."""

    id: int
    talent_review_id: int
    performance: int | None
    potential: int | None
    high_potential: bool


@dataclass(frozen=True)
class _Released:
    participant_id: int
    cycle_id: int
    score: float


@dataclass(frozen=True)
class _Cycle:
    name: str
    period_end: date
    points: int


async def flight_risks(
    session: AsyncSession, *, today: date, person_ids: Collection[int] | None = None
) -> list[Suggestion]:
    """High performers and high potentials showing at least MIN_SIGNS signs of leaving (no access filtering:
    the caller shows them only to whom may see talent data), strongest first."""
    entries = await _latest_entries(session, person_ids)
    released = await _latest_released(session, person_ids)
    reviews = await _talent_reviews(session, {e.talent_review_id for e in entries.values()})
    cycles = await _cycles(
        session, {r.cycle_id for r in released.values()} | {cycle for _, cycle, _ in reviews.values()}
    )
    standing: dict[int, tuple[str, list[Evidence]]] = {}
    for pid in set(entries) | set(released):
        found = _standing(entries.get(pid), released.get(pid), reviews, cycles)
        if found is not None:
            standing[pid] = found
    people = await _active_people(session, standing)
    ids = sorted(people)
    plans = await _development(session, ids)
    last_feedback = await _last_feedback(session, ids, today)
    last_move = await _last_internal_move(session, ids, today)
    moods = await _moods(session, ids, today)

    feedback_from = today - timedelta(days=FEEDBACK_DAYS)
    promotion_from = _months_before(today, PROMOTION_MONTHS)
    found: list[Suggestion] = []
    for pid in ids:
        name, department, hired = people[pid]
        signs: list[Sign] = []
        evidence = list(standing[pid][1])
        plan = plans.get(pid)
        if plan is None or plan[1] == 0:
            signs.append(Sign.NO_DEVELOPMENT)
            evidence.append(_no_development(plan))
        last = last_feedback.get(pid)
        if last is None or last < feedback_from:
            signs.append(Sign.NO_FEEDBACK)
            evidence.append(_no_feedback(last, today))
        moved = last_move.get(pid)
        if (moved is None or moved < promotion_from) and (hired is None or hired <= promotion_from):
            signs.append(Sign.NO_PROMOTION)
            evidence.append(_no_promotion(moved, hired))
        falling = _falling(moods.get(pid, []))
        if falling is not None:
            signs.append(Sign.FALLING_MOOD)
            evidence.extend(falling)
        if len(signs) < MIN_SIGNS:
            continue
        who = standing[pid][0]
        found.append(
            Suggestion(
                kind=SignalKind.FLIGHT_RISK,
                person_id=pid,
                person_name=name,
                department=department,
                target_key="",
                target_label="Risk of loss",
                score=round(sum(SIGN_WEIGHTS[s] for s in signs), 2),
                summary=(
                    f"{who} showing {len(signs)} of {len(Sign)} signs of leaving: "
                    f"{_listed([SIGN_PHRASES[s] for s in signs])}."
                ),
                evidence=tuple(evidence),
            )
        )
    return sorted(found, key=lambda s: (-s.score, s.person_name, s.person_id))


def _standing(
    entry: _Entry | None,
    review: _Released | None,
    reviews: Mapping[int, tuple[str, int, date]],
    cycles: Mapping[int, _Cycle],
) -> tuple[str, list[Evidence]] | None:
    """Whether a person is a high performer and/or a high potential, and the rows that say so."""
    talent = reviews.get(entry.talent_review_id) if entry is not None else None
    review_is_newer = review is not None and (
        talent is None
        or (cycles[review.cycle_id].period_end, review.cycle_id) > (cycles[talent[1]].period_end, talent[1])
    )
    evidence: list[Evidence] = []
    performer = potential = False
    if entry is not None and talent is not None:
        performer = not review_is_newer and entry.performance == HIGH
        potential = entry.high_potential
        if performer or potential:
            evidence.append(_entry_evidence(entry, talent[0], talent[2], performer, potential))
    if review_is_newer and review is not None:
        cycle = cycles[review.cycle_id]
        threshold = 1 + TOP_BAND_FROM * (cycle.points - 1)
        if review.score >= threshold - _EPSILON:
            performer = True
            evidence.insert(
                0,
                Evidence(
                    kind=EvidenceKind.REVIEW_SCORE,
                    ref_id=review.participant_id,
                    label="Review score in the top band",
                    detail=(
                        f"{cycle.name}: final score {review.score:.2f} of {cycle.points} "
                        f"(the top band starts at {threshold:.2f})"
                    ),
                    on=cycle.period_end,
                ),
            )
    if not (performer or potential):
        return None
    who = "High performer and high potential" if performer and potential else "High performer"
    return (who if performer else "High potential"), evidence


def _entry_evidence(entry: _Entry, review_name: str, on: date, performer: bool, potential: bool) -> Evidence:
    label = (
        "High performer and high potential"
        if performer and potential
        else ("High performer" if performer else "High potential")
    )
    parts = [
        f"performance {LEVELS.get(entry.performance or 0, 'not rated')}",
        f"potential {LEVELS.get(entry.potential or 0, 'not rated')}",
    ]
    if potential:
        parts.append("flagged as a high potential")
    return Evidence(
        kind=EvidenceKind.TALENT_ENTRY,
        ref_id=entry.id,
        label=label,
        detail=f"{review_name}: {', '.join(parts)}",
        on=on,
    )


def _no_development(plan: tuple[int, int] | None) -> Evidence:
    if plan is None:
        detail = "They have no development plan."
    elif plan[0] == 0:
        detail = "Their development plan has no action."
    else:
        done = plan[0]
        detail = f"Their development plan has no open action ({done} done or cancelled)."
    return Evidence(kind=EvidenceKind.FIGURE, ref_id=None, label="No development action", detail=detail)


def _no_feedback(last: date | None, today: date) -> Evidence:
    window = f"Nothing received in the {FEEDBACK_DAYS} days up to {_day(today)}"
    if last is None:
        return Evidence(
            kind=EvidenceKind.FIGURE,
            ref_id=None,
            label="No feedback received",
            detail=f"{window}, nor ever before.",
        )
    return Evidence(
        kind=EvidenceKind.FIGURE,
        ref_id=None,
        label=f"No feedback since {_day(last)}",
        detail=f"{window}: the last feedback was received on {_day(last)}.",
        on=last,
    )


def _no_promotion(moved: date | None, hired: date | None) -> Evidence:
    if moved is not None:
        detail = f"Their last internal move was on {_day(moved)}."
    elif hired is not None:
        detail = f"No internal move recorded since they joined on {_day(hired)}."
    else:
        detail = "No internal move recorded."
    return Evidence(
        kind=EvidenceKind.FIGURE,
        ref_id=None,
        label=f"No promotion in {PROMOTION_MONTHS} months",
        detail=detail,
        on=moved,
    )


def _falling(moods: Sequence[tuple[int, date, int]]) -> list[Evidence] | None:
    """The falling-mood figure and its check-ins (newest first in `moods`), or None when it isn't falling."""
    if len(moods) < 2 * MOOD_WINDOW:
        return None
    recent = sum(m for _, _, m in moods[:MOOD_WINDOW]) / MOOD_WINDOW
    before = sum(m for _, _, m in moods[MOOD_WINDOW : 2 * MOOD_WINDOW]) / MOOD_WINDOW
    if before - recent < MOOD_DROP - _EPSILON:
        return None
    figure = Evidence(
        kind=EvidenceKind.FIGURE,
        ref_id=None,
        label="Check-in mood falling",
        detail=(
            f"Mean mood {recent:.2f} over their last {MOOD_WINDOW} check-ins against {before:.2f} over the "
            f"{MOOD_WINDOW} before them (down {before - recent:.2f} of 5)."
        ),
        on=moods[0][1],
    )
    checkins = [
        Evidence(
            kind=EvidenceKind.CHECKIN,
            ref_id=cid,
            label=f"Check-in, week of {_day(week)}",
            detail=f"Mood {mood} of 5",
            on=week,
        )
        for cid, week, mood in reversed(moods[: 2 * MOOD_WINDOW])
    ]
    return [figure, *checkins]


async def _latest_entries(session: AsyncSession, person_ids: Collection[int] | None) -> dict[int, _Entry]:
    """Each person's entry in the most recent talent review they are in, as talent.placements.latest_entries
    picks it, read as columns (ten thousand ORM rows cost more than the rest of this signal)."""
    found: dict[int, _Entry] = {}
    for ids in _chunks(person_ids):
        ranked = select(
            TalentReviewEntry.id,
            TalentReviewEntry.person_id,
            TalentReviewEntry.talent_review_id,
            TalentReviewEntry.performance,
            TalentReviewEntry.potential,
            TalentReviewEntry.high_potential,
            func.row_number()
            .over(
                partition_by=TalentReviewEntry.person_id, order_by=TalentReviewEntry.talent_review_id.desc()
            )
            .label("rank"),
        )
        if ids is not None:
            ranked = ranked.where(TalentReviewEntry.person_id.in_(ids))
        sub = ranked.subquery()
        rows = await session.execute(
            select(
                sub.c.id,
                sub.c.person_id,
                sub.c.talent_review_id,
                sub.c.performance,
                sub.c.potential,
                sub.c.high_potential,
            ).where(sub.c.rank == 1)
        )
        for eid, pid, review_id, performance, potential, flagged in rows:
            found[pid] = _Entry(eid, review_id, performance, potential, bool(flagged))
    return found


async def _latest_released(session: AsyncSession, person_ids: Collection[int] | None) -> dict[int, _Released]:
    """Each person's final score in their latest released (or closed) cycle, by period end then id."""
    found: dict[int, _Released] = {}
    for ids in _chunks(person_ids):
        scores = await latest_final_scores(session, cycles=ReviewCycle.phase.in_(RELEASED), person_ids=ids)
        found.update({pid: _Released(s.participant_id, s.cycle_id, s.score) for pid, s in scores.items()})
    return found


async def _talent_reviews(session: AsyncSession, ids: set[int]) -> dict[int, tuple[str, int, date]]:
    """Talent reviews by id: name, the performance cycle read, and the day it was finalized (or opened)."""
    if not ids:
        return {}
    rows = await session.execute(
        select(
            TalentReview.id,
            TalentReview.name,
            TalentReview.performance_cycle_id,
            TalentReview.finalized_at,
            TalentReview.created_at,
        ).where(TalentReview.id.in_(sorted(ids)))
    )
    return {
        rid: (name, cycle_id, (finalized or created).astimezone(UTC).date())
        for rid, name, cycle_id, finalized, created in rows
    }


async def _cycles(session: AsyncSession, ids: set[int]) -> dict[int, _Cycle]:
    if not ids:
        return {}
    rows = await session.execute(
        select(ReviewCycle.id, ReviewCycle.name, ReviewCycle.period_end, ReviewTemplate.scale_labels)
        .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
        .where(ReviewCycle.id.in_(sorted(ids)))
    )
    return {cid: _Cycle(name, end, len(scale)) for cid, name, end, scale in rows}


async def _active_people(
    session: AsyncSession, ids: Collection[int]
) -> dict[int, tuple[str, str | None, date | None]]:
    found: dict[int, tuple[str, str | None, date | None]] = {}
    for chunk in _chunks(ids, required=True):
        rows = await session.execute(
            select(Person.id, Person.display_name, Person.department, Person.hire_date).where(
                Person.id.in_(chunk), Person.active.is_(True)
            )
        )
        found.update({pid: (name, department, hired) for pid, name, department, hired in rows})
    return found


async def _development(session: AsyncSession, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per person with a plan: (actions that are done or cancelled, open actions)."""
    found: dict[int, tuple[int, int]] = {}
    open_action = DevelopmentAction.status.in_(OPEN_ACTIONS)
    for chunk in _chunks(ids, required=True):
        rows = await session.execute(
            select(
                DevelopmentPlan.person_id,
                func.sum(case((open_action, 0), (DevelopmentAction.id.is_not(None), 1), else_=0)),
                func.sum(case((open_action, 1), else_=0)),
            )
            .outerjoin(DevelopmentAction, DevelopmentAction.plan_id == DevelopmentPlan.id)
            .where(DevelopmentPlan.person_id.in_(chunk))
            .group_by(DevelopmentPlan.person_id)
        )
        found.update({pid: (int(closed), int(opened)) for pid, closed, opened in rows})
    return found


async def _last_feedback(session: AsyncSession, ids: Sequence[int], today: date) -> dict[int, date]:
    """The day each person last received feedback, up to today (UTC)."""
    found: dict[int, date] = {}
    for chunk in _chunks(ids, required=True):
        rows = await session.execute(
            select(Feedback.recipient_id, func.max(Feedback.created_at))
            .where(
                Feedback.recipient_id.in_(chunk), Feedback.created_at < _start_of(today + timedelta(days=1))
            )
            .group_by(Feedback.recipient_id)
        )
        found.update({pid: _as_day(at) for pid, at in rows})
    return found


async def _last_internal_move(session: AsyncSession, ids: Sequence[int], today: date) -> dict[int, date]:
    found: dict[int, date] = {}
    for chunk in _chunks(ids, required=True):
        rows = await session.execute(
            select(PositionFill.person_id, func.max(PositionFill.filled_on))
            .where(
                PositionFill.person_id.in_(chunk),
                PositionFill.source == INTERNAL,
                PositionFill.filled_on <= today,
            )
            .group_by(PositionFill.person_id)
        )
        found.update({pid: day for pid, day in rows})
    return found


async def _moods(
    session: AsyncSession, ids: Sequence[int], today: date
) -> dict[int, list[tuple[int, date, int]]]:
    """Each person's latest 2 * MOOD_WINDOW submitted moods in the lookback: (check-in id, week, mood),
    newest first."""
    found: dict[int, list[tuple[int, date, int]]] = {}
    for chunk in _chunks(ids, required=True):
        ranked = (
            select(
                CheckIn.id,
                CheckIn.person_id,
                CheckIn.week_start,
                CheckIn.mood,
                func.row_number()
                .over(partition_by=CheckIn.person_id, order_by=CheckIn.week_start.desc())
                .label("rank"),
            )
            .where(
                CheckIn.person_id.in_(chunk),
                CheckIn.submitted_at.is_not(None),
                CheckIn.mood.is_not(None),
                CheckIn.week_start <= today,
                CheckIn.week_start >= today - timedelta(days=MOOD_LOOKBACK_DAYS),
            )
            .subquery()
        )
        rows = await session.execute(
            select(ranked.c.id, ranked.c.person_id, ranked.c.week_start, ranked.c.mood)
            .where(ranked.c.rank <= 2 * MOOD_WINDOW)
            .order_by(ranked.c.person_id, ranked.c.rank)
        )
        for cid, pid, week, mood in rows:
            found.setdefault(pid, []).append((cid, week, int(mood)))
    return found


# --- rating bias -----------------------------------------------------------------------------------------


@dataclass
class _Sums:
    """Count, sum and sum of squares: the organization's figures are the totals less a team's."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    def add(self, value: float) -> None:
        self.n += 1
        self.total += value
        self.squares += value * value

    def less(self, other: _Sums) -> _Sums:
        return _Sums(self.n - other.n, self.total - other.total, self.squares - other.squares)

    @property
    def mean(self) -> float:
        return self.total / self.n

    @property
    def sd(self) -> float:
        """The sample standard deviation (0 below 2 values)."""
        if self.n < 2:
            return 0.0
        return math.sqrt(max(0.0, (self.squares - self.total * self.total / self.n) / (self.n - 1)))


@dataclass(frozen=True)
class _Comparison:
    """A team's mean against the organization's (the other rated participants), standardized."""

    team_mean: float
    team_n: int
    org_mean: float
    org_n: int
    org_sd: float

    @property
    def d(self) -> float:
        return (self.team_mean - self.org_mean) / self.org_sd

    @property
    def z(self) -> float:
        return self.d * math.sqrt(self.team_n)


def _compare(everyone: _Sums, team: _Sums, *, min_team: int, min_org: int) -> _Comparison | None:
    org = everyone.less(team)
    if team.n < min_team or org.n < max(min_org, 2) or org.sd < _EPSILON:
        return None
    return _Comparison(team.mean, team.n, org.mean, org.n, org.sd)


async def rating_bias(session: AsyncSession, *, cycle_id: int) -> list[Suggestion]:
    """Managers whose manager-submitted ratings in a cycle sit far above (lenient) or below (severe) the
    organization's while their team's goal results and peer feedback don't explain it: advisory flags,
    strongest first. No access filtering (the caller's)."""
    cycle = await cycle_row(session, cycle_id)
    scale = await session.scalar(
        select(ReviewTemplate.scale_labels).where(ReviewTemplate.id == cycle.template_id)
    )
    points = len(scale or ()) or FEEDBACK_POINTS
    rated = (
        await session.execute(
            select(
                ReviewParticipant.person_id, ReviewParticipant.manager_id, ReviewParticipant.computed_score
            ).where(ReviewParticipant.cycle_id == cycle_id, ReviewParticipant.computed_score.is_not(None))
        )
    ).all()
    goals = await _goal_results(session, cycle)
    peers = await _peer_ratings(session, cycle, points)

    everyone = {"rating": _Sums(), "goals": _Sums(), "peers": _Sums()}
    teams: dict[int, dict[str, _Sums]] = {}
    for pid, manager_id, score in rated:
        values = {"rating": float(score), "goals": goals.get(pid), "peers": peers.get(pid)}
        team = (
            teams.setdefault(manager_id, {k: _Sums() for k in everyone}) if manager_id is not None else None
        )
        for key, value in values.items():
            if value is None:
                continue
            everyone[key].add(value)
            if team is not None:
                team[key].add(value)

    candidates: dict[int, tuple[str, _Comparison, dict[str, _Comparison | None]]] = {}
    for manager_id, team in teams.items():
        ratings = _compare(everyone["rating"], team["rating"], min_team=MIN_TEAM, min_org=MIN_ORG)
        if ratings is None:
            continue
        d, z = ratings.d, ratings.z
        direction = (
            LENIENT
            if d >= MIN_EFFECT and z >= MIN_Z
            else SEVERE
            if d <= -MIN_EFFECT and z <= -MIN_Z
            else None
        )
        if direction is None:
            continue
        results = {
            key: _compare(everyone[key], team[key], min_team=MIN_OUTCOME_PEOPLE, min_org=2)
            for key in ("goals", "peers")
        }
        sign = 1 if direction == LENIENT else -1
        if all(sign * (d - r.d) >= MIN_EXCESS for r in results.values() if r is not None):
            candidates[manager_id] = (direction, ratings, results)
    if not candidates:
        return []

    managers = {
        pid: (name, department)
        for pid, name, department in await session.execute(
            select(Person.id, Person.display_name, Person.department).where(Person.id.in_(sorted(candidates)))
        )
    }
    found = [
        _bias(manager_id, *managers.get(manager_id, ("", None)), *found_for, cycle, points)
        for manager_id, found_for in candidates.items()
    ]
    return sorted(found, key=lambda s: (-s.score, s.person_name, s.person_id))


def _bias(
    manager_id: int,
    name: str,
    department: str | None,
    direction: str,
    ratings: _Comparison,
    results: Mapping[str, _Comparison | None],
    cycle: ReviewCycle,
    points: int,
) -> Suggestion:
    known = [r.d for r in results.values() if r is not None]
    # What the team's results would account for: the closest of them to the ratings (none known: nothing).
    explained = (max(known) if direction == LENIENT else min(known)) if known else 0.0
    gap = ratings.d - explained
    higher = "higher" if direction == LENIENT else "lower"
    said = [
        f"their team's goal results are {_word(results['goals'])}" if results["goals"] else None,
        f"peer feedback on their team is {_word(results['peers'])}" if results["peers"] else None,
    ]
    clause = _listed([s for s in said if s]) if any(said) else ""
    summary = (
        f"Rates {higher} than the organization: mean {ratings.team_mean:.2f} vs {ratings.org_mean:.2f} "
        f"(n = {ratings.team_n})"
        + (f" while {clause}." if clause else ", with no goal results or peer feedback to compare.")
    )
    figures = (
        Evidence(
            kind=EvidenceKind.FIGURE,
            ref_id=None,
            label="Their ratings against the organization's",
            detail=(
                f"Mean {ratings.team_mean:.2f} of {points} over {ratings.team_n} reports (manager-submitted "
                f"scores, before calibration) against {ratings.org_mean:.2f} over the {ratings.org_n} other "
                f"people rated in this cycle (standard deviation {ratings.org_sd:.2f}): "
                f"{ratings.d:+.2f} standard deviations, z = {ratings.z:+.2f}."
            ),
            on=cycle.period_end,
        ),
        _result_figure(
            "Their team's goal results",
            "Mean goal achievement",
            "reports with goals in the cycle's period",
            results["goals"],
            ratings,
            cycle,
        ),
        _result_figure(
            "Peer feedback on their team",
            "Mean peer rating",
            "reports rated by peers (reviews in this cycle, feedback in its period)",
            results["peers"],
            ratings,
            cycle,
        ),
    )
    return Suggestion(
        kind=SignalKind.RATING_BIAS,
        person_id=manager_id,
        person_name=name,
        department=department,
        target_key=direction,
        target_label=f"Rates {'leniently' if direction == LENIENT else 'severely'}",
        score=round(min(1.0, abs(gap) / FULL_SCORE_GAP), 2),
        summary=summary,
        evidence=figures,
    )


def _result_figure(
    label: str, what: str, who: str, result: _Comparison | None, ratings: _Comparison, cycle: ReviewCycle
) -> Evidence:
    if result is None:
        detail = (
            f"Not compared: fewer than {MIN_OUTCOME_PEOPLE} of their reports (or too few others) have any."
        )
    else:
        detail = (
            f"{what} {_percent(result.team_mean)} over {result.team_n} {who} against "
            f"{_percent(result.org_mean)} over {result.org_n} others (standard deviation "
            f"{_percent(result.org_sd)}): {result.d:+.2f} standard "
            f"deviations, {_word(result)}; their ratings differ by {ratings.d - result.d:+.2f} more."
        )
    return Evidence(kind=EvidenceKind.FIGURE, ref_id=None, label=label, detail=detail, on=cycle.period_end)


def _word(result: _Comparison | None) -> str:
    if result is None:
        return "unknown"
    if abs(result.d) < AVERAGE_BAND:
        return "average"
    return "above average" if result.d > 0 else "below average"


async def _goal_results(session: AsyncSession, cycle: ReviewCycle) -> dict[int, float]:
    """Each rated participant's mean goal achievement (0..1) over their business goals in the period."""
    rows = await session.execute(
        select(Goal.owner_person_id, func.avg(Goal.progress))
        .join(
            ReviewParticipant,
            and_(
                ReviewParticipant.person_id == Goal.owner_person_id,
                ReviewParticipant.cycle_id == cycle.id,
                ReviewParticipant.computed_score.is_not(None),
            ),
        )
        .where(
            Goal.owner_type == "person",
            Goal.kind == "business",
            Goal.period_start <= cycle.period_end,
            Goal.period_end >= cycle.period_start,
        )
        .group_by(Goal.owner_person_id)
    )
    return {pid: float(mean) for pid, mean in rows if mean is not None}


async def _peer_ratings(session: AsyncSession, cycle: ReviewCycle, points: int) -> dict[int, float]:
    """Each participant's pooled peer rating, rescaled to 0..1: peer-review ratings in the cycle (on its
    scale) and feedback-tag ratings received in its period from anyone but their manager (1 to 5)."""
    pooled: dict[int, list[float]] = {}  # person → [Σ rescaled ratings, count]
    reviews = await session.execute(
        select(Review.reviewee_id, func.sum(ReviewAnswer.rating), func.count(ReviewAnswer.rating))
        .join(ReviewAnswer, ReviewAnswer.review_id == Review.id)
        .where(
            Review.cycle_id == cycle.id,
            Review.role == "peer",
            Review.status == "submitted",
            ReviewAnswer.rating.is_not(None),
        )
        .group_by(Review.reviewee_id)
    )
    for pid, total, n in reviews:
        if n and points > 1:
            into = pooled.setdefault(pid, [0.0, 0])
            into[0] += (float(total) - n) / (points - 1)
            into[1] += n
    tags = await session.execute(
        select(Feedback.recipient_id, func.sum(FeedbackTag.rating), func.count(FeedbackTag.rating))
        .join(FeedbackTag, FeedbackTag.feedback_id == Feedback.id)
        .join(
            ReviewParticipant,
            and_(
                ReviewParticipant.person_id == Feedback.recipient_id, ReviewParticipant.cycle_id == cycle.id
            ),
        )
        .where(
            FeedbackTag.rating.is_not(None),
            Feedback.created_at >= _start_of(cycle.period_start),
            Feedback.created_at < _start_of(cycle.period_end + timedelta(days=1)),
            or_(
                ReviewParticipant.manager_id.is_(None),
                Feedback.giver_id.is_(None),
                Feedback.giver_id != ReviewParticipant.manager_id,
            ),
        )
        .group_by(Feedback.recipient_id)
    )
    for pid, total, n in tags:
        if n:
            into = pooled.setdefault(pid, [0.0, 0])
            into[0] += (float(total) - n) / (FEEDBACK_POINTS - 1)
            into[1] += n
    return {pid: total / n for pid, (total, n) in pooled.items() if n}


# --- the calibration view ----------------------------------------------------------------------------------


async def calibration_flags(
    session: AsyncSession, *, actor: Actor, cycle_id: int, manager_ids: Collection[int]
) -> dict[int, Suggestion]:
    """The rating-bias flags of the managers a calibration page shows (manager id → flag): for HR and
    talent reviewers, never a flag about the reader; showing any is audited."""
    require(may_view_talent_pages(actor), "calibration")
    shown = set(manager_ids) - {actor.person_id}
    if not shown:
        return {}
    flags = {s.person_id: s for s in await rating_bias(session, cycle_id=cycle_id) if s.person_id in shown}
    if flags:
        await audit(
            session,
            actor,
            action="talent.rating_bias.view",
            subject_type="review_cycle",
            subject_id=cycle_id,
            managers=sorted(flags),
        )
    return flags


# --- helpers ---------------------------------------------------------------------------------------------


def _chunks(ids: Collection[int] | None, *, required: bool = False) -> Iterator[list[int] | None]:
    """Ids in slices of CHUNK for `IN` lists; None (no filter) once when no ids are given."""
    if ids is None:
        if required:
            raise ValueError("ids are required")
        yield None
        return
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it is shorter)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _as_day(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()
    return moment


def _percent(share: float) -> str:
    """0.625 → 62 % (how the tabs write percentages)."""
    return f"{share * 100:.0f} %"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def _listed(parts: Sequence[str]) -> str:
    """a, b and c."""
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"

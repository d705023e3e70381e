"""A generated organization with planted truth: the yardstick for the bridge's signals (issue 7).

Over a seeded demo organization with its talent data (storage.demo, then storage.demo_talent), this
writes about two years of performance data from one latent performance per person, with noise: closed
goals with final scores over eight quarters, feedback with tags and ratings, weekly check-ins with moods,
two closed annual review cycles, and the talent review of the latest one. Into it, it plants known cases
and returns them (PlantedTruth) to be kept outside the store, never in a table a signal reads:

- high potentials: strong leadership-competency assessments (4 and 5) and good review scores, not yet
  flagged high potential by the talent review;
- lenient and severe managers: in the latest closed cycle their reports' scores are 0.8 to 1.0 points
  above or below what the reports' goal results and peer feedback support (teams of six or more, whose
  goals and feedback are about the organization's average);
- flight risks: high performers (talent-review performance 3) with no development plan, no feedback in
  the last 150 days, no position filled in 24 months (they joined before), and check-in moods falling
  over the last 8 weeks (the last 4 about 1.7 points below the 4 before, all 16 weeks submitted);
- growth: feedback received in the last half-year more frequent and better rated (on named
  competencies) than in the half-year before.

Near misses are planted too (recorded as PlantedTruth.near_misses), so a false-positive rate means
something: strong leadership with weak reviews, one leadership strength only, star and struggling teams
whose high or low scores their goals and feedback do explain, high performers with three of the four
flight-risk signs, low performers with all four, more feedback without better ratings and the reverse.
Every other high performer or high potential has at least one clear sign against a flight risk (a recent
feedback, an open development action or a recent internal move) and a check-in mood that is not falling.

Deterministic per seed (given the same organization and `today`); bulk inserts like storage/demo_goals.py,
so 2,000 people take seconds. Storage sits below the domain: nothing here imports it.
"""

from __future__ import annotations

import json
import math
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.bulk import batches
from storage.demo import PLAYGROUND_PEOPLE
from storage.demo_goals import INDIVIDUAL_GOALS, KEY_RESULTS, Quarter
from storage.demo_talent import HIGH_FROM, MEDIUM_FROM
from storage.models import (
    CheckIn,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    KeyResult,
    KeyResultUpdate,
    Person,
    Position,
    PositionFill,
    ReviewCycle,
    ReviewParticipant,
    RoleProfile,
    RoleRequirement,
    TalentReview,
    TalentReviewEntry,
)

TRUTH_KINDS = ("high_potential", "lenient_managers", "severe_managers", "flight_risk", "growth")
LEADERSHIP = "leadership"
MIN_BIASED_TEAM = 6
BIAS_SHIFT = (0.8, 1.0)
STAR_TEAM_SHIFT = 1.2  # latent performance of a star (or struggling) team: its scores are deserved
GOAL_QUARTERS = 8
CHECKIN_WEEKS = 26
HALF_YEAR = 182
SILENT_DAYS = 150  # a planted flight risk has had no feedback for at least this long
RECENT_DAYS = 60  # a clear sign against a flight risk: feedback this recent
NO_MOVE_DAYS = 730  # nor any position filled in the last 24 months
SETTLED_DAYS = 760  # planted people joined before this many days ago
# How far a planted flight risk's mood has fallen below their usual, 8 weeks ago to last week: gently at
# first, then clearly (the last 4 weeks sit about 1.7 points below the 4 before, 2.2 below the usual).
FALL = (0.2, 0.4, 0.6, 0.9, 1.6, 2.0, 2.4, 2.8)
VISIBILITIES = (("recipient_and_manager", 70), ("recipient_only", 12), ("manager_only", 8), ("anonymous", 10))
FEEDBACK_TEXTS = (
    "Thanks for the clear write-up; it saved the team a day.",
    "Great job steering the release through the last-minute changes.",
    "Your review comments were thorough and kind.",
    "The customer call went well because you prepared the data.",
    "I'd like to see you speak up earlier when you see a risk.",
    "The onboarding guide you wrote is already helping new joiners.",
    "You kept the project on track when priorities shifted.",
    "Consider sharing drafts sooner so others can help.",
)
CHECKIN_WINS = ("Shipped my part of the release", "Closed two customer issues", "Finished the analysis", None)
CHECKIN_BLOCKERS = ("Waiting on another team", "Too many meetings", None, None, None)


@dataclass(frozen=True)
class PlantedTruth:
    """Who was planted as what, and the near misses; written to a JSON file, never to the store."""

    seed: int
    people: int
    today: date
    cycle_id: int  # the closed review cycle the lenient and severe managers rated
    talent_review_id: int
    truth: dict[str, tuple[int, ...]]
    near_misses: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The truth file's content."""
        return {
            "seed": self.seed,
            "people": self.people,
            "today": self.today.isoformat(),
            "cycle_id": self.cycle_id,
            "talent_review_id": self.talent_review_id,
            "truth": {kind: list(self.truth.get(kind, ())) for kind in TRUTH_KINDS},
            "near_misses": {kind: list(ids) for kind, ids in self.near_misses.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlantedTruth:
        """Read back what as_json wrote."""
        return cls(
            seed=data["seed"],
            people=data["people"],
            today=date.fromisoformat(data["today"]),
            cycle_id=data["cycle_id"],
            talent_review_id=data["talent_review_id"],
            truth={kind: tuple(ids) for kind, ids in data["truth"].items()},
            near_misses={kind: tuple(ids) for kind, ids in data.get("near_misses", {}).items()},
        )

    def write(self, path: Path) -> Path:
        """Write the truth file (its folder is created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=1) + "\n", encoding="utf-8")
        return path

    def __str__(self) -> str:
        counts = ", ".join(f"{len(self.truth[k])} {k.replace('_', ' ')}" for k in TRUTH_KINDS)
        return f"planted {counts} in {self.people} people"


@dataclass(frozen=True, slots=True)
class _Member:
    id: int
    manager_id: int | None
    title: str | None
    department: str | None
    hire_date: date | None
    email: str


@dataclass
class _Feedback:
    ago: int  # days before today
    giver: int
    visibility: str
    tags: list[tuple[str, int | None]]


async def seed_planted(session: AsyncSession, *, today: date, seed: int = 7) -> PlantedTruth:
    """Write the planted performance data over a demo organization whose talent data storage.demo_talent
    has written (does not commit), and return the truth."""
    planter = _Planter(await _Org.load(session), today, seed)
    planter.plan()
    await planter.write(session)
    return planter.truth()


class _Org:
    """What the plant reads from the seeded organization."""

    people: list[_Member]
    by_id: dict[int, _Member]
    reports: dict[int, list[int]]
    position_of: dict[int, int]
    competencies: list[tuple[int, str, str]]
    expected_leadership: dict[str, dict[int, int]]
    cycle: Any
    review_id: int
    plans: dict[int, int]
    open_plans: set[int]
    fills: list[tuple[int, int, str, date]]

    @classmethod
    async def load(cls, session: AsyncSession) -> _Org:
        org = cls()
        rows = await session.execute(
            select(
                Person.id,
                Person.manager_id,
                Person.job_title,
                Person.department,
                Person.hire_date,
                Person.email,
            )
            .where(Person.active.is_(True))
            .order_by(Person.id)
        )
        org.people = [_Member(*row) for row in rows]
        org.by_id = {p.id: p for p in org.people}
        org.reports = defaultdict(list)
        for person in org.people:
            if person.manager_id in org.by_id:
                org.reports[person.manager_id].append(person.id)
        org.position_of = {}
        for position_id, incumbent in await session.execute(
            select(Position.id, Position.incumbent_id)
            .where(Position.incumbent_id.is_not(None))
            .order_by(Position.id)
        ):
            org.position_of.setdefault(incumbent, position_id)
        org.competencies = [
            tuple(row)
            for row in await session.execute(
                select(Competency.id, Competency.name, Competency.category)
                .where(Competency.active.is_(True))
                .order_by(Competency.id)
            )
        ]
        if not any(category == LEADERSHIP for _, _, category in org.competencies):
            raise RuntimeError("seed the demo talent data (storage.demo_talent) before planting")
        org.expected_leadership = defaultdict(dict)
        for title_key, competency_id, level in await session.execute(
            select(RoleProfile.job_title_key, RoleRequirement.competency_id, RoleRequirement.expected_level)
            .join(RoleRequirement, RoleRequirement.role_profile_id == RoleProfile.id)
            .join(Competency, Competency.id == RoleRequirement.competency_id)
            .where(Competency.category == LEADERSHIP)
        ):
            org.expected_leadership[title_key][competency_id] = level
        org.cycle = (
            await session.execute(
                select(
                    ReviewCycle.id, ReviewCycle.template_id, ReviewCycle.period_start, ReviewCycle.launched_at
                )
                .where(ReviewCycle.phase == "closed")
                .order_by(ReviewCycle.period_end.desc(), ReviewCycle.id.desc())
                .limit(1)
            )
        ).one()
        org.review_id = await session.scalar(
            select(TalentReview.id).where(TalentReview.performance_cycle_id == org.cycle.id).limit(1)
        )
        org.plans = dict((await session.execute(select(DevelopmentPlan.person_id, DevelopmentPlan.id))).all())
        org.open_plans = set(
            await session.scalars(
                select(DevelopmentAction.plan_id).where(
                    DevelopmentAction.status.in_(("planned", "in_progress"))
                )
            )
        )
        org.fills = [
            tuple(row)
            for row in await session.execute(
                select(PositionFill.id, PositionFill.person_id, PositionFill.source, PositionFill.filled_on)
            )
        ]
        return org


class _Planter:
    """Plans everything in memory from one random generator (so a seed gives one organization), then
    writes it in bulk."""

    def __init__(self, org: _Org, today: date, seed: int) -> None:
        self.org, self.today, self.seed = org, today, seed
        self.rng = random.Random(seed * 1_000_003 + 17)
        ids = [p.id for p in org.people]
        self.ids = ids
        self.index = {pid: i for i, pid in enumerate(ids)}
        personas = {persona.email for persona in PLAYGROUND_PEOPLE}
        self.personas = {p.id for p in org.people if p.email in personas}
        self.participants = [p.id for p in org.people if p.manager_id in org.by_id]
        self.leaders = {m for m in org.reports if org.reports[m]}
        self.directors = {m for m in self.leaders if any(r in self.leaders for r in org.reports[m])}
        top = {p.id for p in org.people if p.manager_id is None}
        self.executives = top | {p.id for p in org.people if p.manager_id in top}
        self.latent: dict[int, float] = {}
        self.score: dict[int, float] = {}  # the planted (latest) cycle's score
        self.old_score: dict[int, float] = {}
        self.sets: dict[str, list[int]] = {}
        self.near: dict[str, list[int]] = {}
        self.fr_near_type: dict[int, str] = {}
        self.entries: dict[int, dict[str, Any]] = {}
        self.feedback: dict[int, list[_Feedback]] = {}
        self.moods: dict[int, dict[int, int | None]] = {}
        self.plan_open: set[int] = set()  # people given an open development action
        self.no_plan: set[int] = set()  # people whose plan is removed
        self.moves: dict[int, date] = {}  # people given a recent internal fill
        self.no_moves: set[int] = set()  # people whose fills of the last 24 months are removed
        self.leadership: dict[int, list[tuple[int, int, int]]] = {}  # person → (competency, before, after)
        self.base: dict[int, float] = {}  # the score goals and feedback support, before any bias
        self.bias: dict[int, float] = {}  # manager → the shift of their reports' scores
        self.silent: set[int] = set()  # people given no feedback in the last SILENT_DAYS days
        self.recent_move: set[int] = set()

    # --- planning ---------------------------------------------------------------------------------------

    def plan(self) -> None:
        rng = self.rng
        self.latent = {pid: rng.gauss(0.0, 1.0) for pid in self.ids}
        self._plan_teams()
        self._plan_people()
        self._plan_scores()
        self._plan_entries()
        self._plan_flight_risk_signs()
        self._plan_feedback()
        self._plan_moods()
        self._plan_leadership()

    def _plan_teams(self) -> None:
        """Star and struggling teams (deserved scores), then lenient and severe managers of average teams."""
        rng, org = self.rng, self.org
        count = max(2, len(self.ids) // 200)
        eligible = [
            m
            for m in sorted(self.leaders)
            # The CEO's ratings are of the executives, not a team's: left out.
            if len(org.reports[m]) >= MIN_BIASED_TEAM
            and m not in self.personas
            and org.by_id[m].manager_id in org.by_id
        ]
        rng.shuffle(eligible)
        stars = max(1, count // 2)
        self.near["star_teams"] = sorted(eligible[:stars])
        self.near["struggling_teams"] = sorted(eligible[stars : 2 * stars])
        for manager, shift in [(m, STAR_TEAM_SHIFT) for m in self.near["star_teams"]] + [
            (m, -STAR_TEAM_SHIFT) for m in self.near["struggling_teams"]
        ]:
            # The team's mean latent performance lands at the shift: a clearly better (or worse) team.
            team = org.reports[manager]
            offset = shift - fmean(self.latent[r] for r in team)
            for report in team:
                self.latent[report] += offset
        base = {pid: self._base(pid) for pid in self.ids}
        org_mean = fmean(base[pid] for pid in self.participants)
        rest = eligible[2 * stars :]
        # Average teams: what the goals and feedback support is the organization's mean, so the shift is
        # all bias.
        rest.sort(key=lambda m: (abs(fmean(base[r] for r in org.reports[m]) - org_mean), m))
        close = sum(1 for m in rest if abs(fmean(base[r] for r in org.reports[m]) - org_mean) <= 0.15)
        pool = rest[: max(2 * count, close)]
        rng.shuffle(pool)
        self.sets["lenient_managers"] = sorted(pool[:count])
        self.sets["severe_managers"] = sorted(pool[count : 2 * count])
        self.base = base
        for manager in self.sets["lenient_managers"]:
            self.bias[manager] = rng.uniform(*BIAS_SHIFT)
        for manager in self.sets["severe_managers"]:
            self.bias[manager] = -rng.uniform(*BIAS_SHIFT)

    def _base(self, pid: int) -> float:
        return 3.2 + 0.55 * self.latent[pid] + self.rng.gauss(0.0, 0.25)

    def _plan_people(self) -> None:
        """Choose the planted people and the near misses among ordinary individual contributors and
        first-line managers who joined more than two years ago (so that no move in 24 months means
        something), outside the biased and star teams."""
        rng, org = self.rng, self.org
        special_teams = set(self.bias) | set(self.near["star_teams"]) | set(self.near["struggling_teams"])
        settled = self.today - timedelta(days=SETTLED_DAYS)
        candidates = [
            p.id
            for p in org.people
            if p.id not in self.personas
            and p.id in self.participants
            and p.id not in self.executives
            and p.id not in self.directors
            and p.id not in special_teams
            and p.manager_id not in special_teams
            and p.hire_date is not None
            and p.hire_date <= settled
        ]
        rng.shuffle(candidates)
        n = max(3, len(self.ids) * 3 // 100)
        half = max(1, n // 2)
        managers = [pid for pid in candidates if pid in self.leaders and pid in org.position_of]
        taken: set[int] = set()

        def take(count: int, among: Sequence[int] | None = None) -> list[int]:
            chosen = [pid for pid in (among if among is not None else candidates) if pid not in taken][:count]
            taken.update(chosen)
            return sorted(chosen)

        # First the near misses of a recent move: they need a position of their own.
        promoted = take(max(1, n // 4), managers)
        self.sets["high_potential"] = take(n)
        self.sets["flight_risk"] = take(n)
        self.sets["growth"] = take(n)
        self.near["high_potential_weak_reviews"] = take(half)
        self.near["high_potential_one_strength"] = take(half)
        self.near["flight_risk_low_performers"] = take(half)
        self.near["growth_more_not_better"] = take(half)
        self.near["growth_better_not_more"] = take(half)
        others = take(n - len(promoted))
        kinds = ("plan", "feedback", "mood")
        for pid in promoted:
            self.fr_near_type[pid] = "promotion"
        for i, pid in enumerate(others):
            self.fr_near_type[pid] = kinds[i % len(kinds)]
        self.near["flight_risk_three_signs"] = sorted(self.fr_near_type)
        strong = self.sets["high_potential"] + self.sets["flight_risk"] + self.near["flight_risk_three_signs"]
        for pid in strong + self.near["high_potential_one_strength"]:
            self.latent[pid] = max(self.latent[pid], 1.0 + abs(rng.gauss(0.0, 0.4)))
        for pid in self.near["high_potential_weak_reviews"]:
            self.latent[pid] = min(self.latent[pid], -0.4 - abs(rng.gauss(0.0, 0.3)))
        for pid in self.near["flight_risk_low_performers"]:
            self.latent[pid] = min(self.latent[pid], -0.2 - abs(rng.gauss(0.0, 0.3)))

    def _plan_scores(self) -> None:
        rng = self.rng
        good = set(
            self.sets["high_potential"]
            + self.sets["flight_risk"]
            + self.near["flight_risk_three_signs"]
            + self.near["high_potential_one_strength"]
        )
        weak = set(self.near["high_potential_weak_reviews"])
        low = set(self.near["flight_risk_low_performers"])
        for pid in self.participants:
            base = self._base(pid) if pid in good | weak | low else self.base[pid]
            if pid in good:
                base = min(4.8, max(base, 3.85 + abs(rng.gauss(0.0, 0.25))))
            elif pid in weak:
                base = min(base, 3.05)
            elif pid in low:
                base = min(base, 3.3)
            manager = self.org.by_id[pid].manager_id
            self.score[pid] = _clip(base + self.bias.get(manager, 0.0))
            old = _clip(3.2 + 0.55 * self.latent[pid] + rng.gauss(0.0, 0.3))
            if pid in good:
                old = max(old, 3.6)
            elif pid in weak:
                old = min(old, 3.1)
            self.old_score[pid] = old
        self._keep_bias_visible()

    def _keep_bias_visible(self) -> None:
        """Scores are clipped at the scale's ends; push a planted team's shift until its mean sits at least
        0.65 from the organization's, as planted."""
        org_mean = fmean(self.score[pid] for pid in self.participants)
        for manager, shift in self.bias.items():
            team = self.org.reports[manager]
            sign = 1 if shift > 0 else -1
            for _ in range(10):
                if sign * (fmean(self.score[r] for r in team) - org_mean) >= 0.65:
                    break
                for r in team:
                    self.score[r] = _clip(self.score[r] + sign * 0.05)

    def _plan_entries(self) -> None:
        """The talent review of the planted cycle, placed by PRODUCT.md's rules from the final scores."""
        rng = self.rng
        hipo = set(self.sets["high_potential"])
        low = set(self.near["flight_risk_low_performers"])
        risky = set(self.sets["flight_risk"]) | set(self.fr_near_type) | low
        for pid in self.participants:
            score = round(self.score[pid], 2)
            performance = 1 if score < MEDIUM_FROM else 2 if score < HIGH_FROM else 3
            ability = max(1, min(3, performance + rng.choice((-1, 0, 0, 1))))
            aspiration, engagement = rng.choice((1, 2, 2, 3)), rng.choice((1, 2, 2, 3, 3))
            if pid in hipo:  # not yet recognized: the signal is what should bring them up
                ability, aspiration, engagement = 2, rng.choice((2, 3)), 2
            if pid in low:
                aspiration = 1 if ability + aspiration + engagement >= 8 else aspiration
            total = ability + aspiration + engagement
            potential = 1 if total <= 4 else 2 if total <= 7 else 3
            risk = rng.choice((1, 2)) if pid in risky else rng.choice((1, 1, 2, 2, 3))
            self.entries[pid] = {
                "performance_score": score,
                "performance": performance,
                "ability": ability,
                "aspiration": aspiration,
                "engagement": engagement,
                "potential": potential,
                "risk_of_loss": risk,
                "impact_of_loss": rng.choice((1, 2, 2, 3)),
                "high_potential": potential == 3 and performance >= 2,
            }

    def eligible(self, pid: int) -> bool:
        """A high performer or high potential in the latest finalized talent review."""
        entry = self.entries.get(pid)
        return entry is not None and (entry["performance"] == 3 or entry["high_potential"])

    def _plan_flight_risk_signs(self) -> None:
        rng, org = self.rng, self.org
        silent = set(self.sets["flight_risk"]) | set(self.near["flight_risk_low_performers"])
        for pid, kind in self.fr_near_type.items():
            if kind != "plan":
                self.no_plan.add(pid)
            else:
                self.plan_open.add(pid)
            if kind == "promotion":
                self.moves[pid] = self.today - timedelta(days=rng.randint(60, 300))
            else:
                self.no_moves.add(pid)
        self.no_plan |= silent
        self.no_moves |= silent
        self.silent = silent | {pid for pid, kind in self.fr_near_type.items() if kind != "feedback"}
        self.recent_move = set(self.moves)
        for _fill_id, person, source, filled_on in org.fills:
            if source == "internal" and (self.today - filled_on).days <= 365:
                self.recent_move.add(person)

    def _plan_feedback(self) -> None:
        rng, org = self.rng, self.org
        tags = [name for _, name, category in org.competencies if category != LEADERSHIP]
        all_tags = [name for _, name, _ in org.competencies]
        growth = set(self.sets["growth"])
        more = set(self.near["growth_more_not_better"])
        better = set(self.near["growth_better_not_more"])
        for p in org.people:
            pid = p.id
            tenure = (self.today - p.hire_date).days if p.hire_date else 4 * HALF_YEAR
            rate = rng.uniform(1.0, 3.5)
            events: list[_Feedback] = []
            for half in range(4):
                for _ in range(_poisson(rng, rate)):
                    ago = rng.randint(half * HALF_YEAR + 1, (half + 1) * HALF_YEAR)
                    if ago < tenure:
                        events.append(self._event(pid, ago, self._rating(pid), all_tags))
            if pid in growth or pid in more or pid in better:
                focus = rng.sample(tags, 2)
                older = [e for e in events if e.ago > 2 * HALF_YEAR]
                if pid in growth:
                    before, after, low, high = rng.randint(2, 3), rng.randint(5, 7), (2.6, 2, 3), (4.4, 4, 5)
                elif pid in more:
                    before, after, low, high = rng.randint(2, 3), 6, (3.3, 2, 4), (3.3, 2, 4)
                else:
                    before = rng.randint(2, 3)
                    after, low, high = before, (2.6, 2, 3), (4.4, 4, 5)
                events = older
                for count, (mean, lo, hi), (start, end) in (
                    (before, low, (HALF_YEAR + 1, 2 * HALF_YEAR)),
                    (after, high, (1, HALF_YEAR)),
                ):
                    for n in range(count):
                        # One of the latest within RECENT_DAYS: a clear sign against a flight risk already.
                        ago = (
                            rng.randint(5, RECENT_DAYS) if start == 1 and n == 0 else rng.randint(start, end)
                        )
                        rated = [
                            (tag, max(lo, min(hi, round(mean + rng.gauss(0.0, 0.4)))))
                            for tag in rng.sample(focus, rng.randint(1, 2))
                        ]
                        events.append(_Feedback(ago, self._giver(pid), "recipient_and_manager", rated))
            if pid in self.silent:
                events = [e for e in events if e.ago >= SILENT_DAYS]
                while len(events) < 2:
                    events.append(
                        self._event(pid, rng.randint(SILENT_DAYS + 20, 500), self._rating(pid), all_tags)
                    )
            elif self.fr_near_type.get(pid) == "feedback":
                events.append(
                    self._event(pid, rng.randint(20, RECENT_DAYS), self._rating(pid), tags, visible=True)
                )
            elif self.eligible(pid) and not self._clear_sign(pid, events):
                events.append(
                    self._event(pid, rng.randint(3, RECENT_DAYS), self._rating(pid), tags, visible=True)
                )
            self.feedback[pid] = events

    def _clear_sign(self, pid: int, events: Iterable[_Feedback]) -> bool:
        """One sign against a flight risk that any reading of the rule sees."""
        if pid in self.recent_move:
            return True
        plan = self.org.plans.get(pid)
        if pid not in self.no_plan and plan is not None and plan in self.org.open_plans:
            return True
        return any(e.ago <= RECENT_DAYS and e.visibility == "recipient_and_manager" for e in events)

    def _rating(self, pid: int) -> float:
        return 3.3 + 0.6 * self.latent[pid]

    def _event(
        self, pid: int, ago: int, mean: float, tags: Sequence[str], *, visible: bool = False
    ) -> _Feedback:
        rng = self.rng
        visibility = "recipient_and_manager" if visible else _weighted(rng, VISIBILITIES)
        chosen: list[tuple[str, int | None]] = []
        if rng.random() < 0.75:
            for tag in rng.sample(list(tags), rng.randint(1, 2)):
                rating = max(1, min(5, round(mean + rng.gauss(0.0, 0.7)))) if rng.random() < 0.85 else None
                chosen.append((tag, rating))
        return _Feedback(ago, self._giver(pid), visibility, chosen)

    def _giver(self, pid: int) -> int:
        """A teammate mostly, sometimes the manager, sometimes anyone."""
        rng, org = self.rng, self.org
        manager = org.by_id[pid].manager_id
        roll = rng.random()
        if manager is not None and roll < 0.55:
            mates = [m for m in org.reports[manager] if m != pid]
            if mates:
                return rng.choice(mates)
        if manager is not None and roll < 0.7:
            return manager
        while True:
            giver = rng.choice(self.ids)
            if giver != pid:
                return giver

    def _plan_moods(self) -> None:
        """Weekly moods for the last 26 weeks: a personal baseline with noise; planted flight risks (and
        their near misses but the mood one) fall over the last 8 weeks; every other high performer's mood
        does not fall."""
        rng, org = self.rng, self.org
        falling = set(self.sets["flight_risk"]) | set(self.near["flight_risk_low_performers"])
        falling |= {pid for pid, kind in self.fr_near_type.items() if kind != "mood"}
        flat = {pid for pid, kind in self.fr_near_type.items() if kind == "mood"}
        start = self.today - timedelta(days=self.today.weekday())
        for p in org.people:
            pid = p.id
            watched = pid in falling or pid in flat
            baseline = rng.uniform(4.1, 4.6) if watched else rng.uniform(3.0, 4.6)
            drift = rng.gauss(0.0, 0.06) if rng.random() < 0.1 else 0.0
            moods: dict[int, int | None] = {}
            for week in range(CHECKIN_WEEKS, 0, -1):  # oldest first; week 1 is last week
                monday = start - timedelta(weeks=week)
                if p.hire_date is not None and monday < p.hire_date:
                    continue
                submitted = (watched and week <= 16) or rng.random() < 0.85
                if not submitted:
                    moods[week] = None
                    continue
                if pid in falling and week <= 8:
                    value = baseline - FALL[8 - week] + rng.gauss(0.0, 0.2)
                elif pid in flat:
                    value = round(baseline) + (rng.choice((-1, 1)) if week == 12 else 0)
                elif watched:  # steady until the fall
                    value = baseline + rng.gauss(0.0, 0.3)
                else:
                    value = baseline + drift * (CHECKIN_WEEKS - week) + rng.gauss(0.0, 0.5)
                moods[week] = max(1, min(5, round(value)))
            if not watched and self.eligible(pid):
                _steady(moods)
            self.moods[pid] = moods

    def _plan_leadership(self) -> None:
        """Leadership assessments a year ago and lately: leaders near their role's level, some individual
        contributors too; planted high potentials at 4 and 5."""
        rng, org = self.rng, self.org
        leadership = [cid for cid, _, category in org.competencies if category == LEADERSHIP]
        strong = set(self.sets["high_potential"]) | set(self.near["high_potential_weak_reviews"])
        single = set(self.near["high_potential_one_strength"])
        for p in org.people:
            pid = p.id
            expected = org.expected_leadership.get((p.title or "").lower(), {})
            if pid in strong:
                after = [rng.choice((4, 5, 5)) for _ in leadership]
                if sum(after) < 13 * len(leadership) / 3:
                    after[0] = 5
            elif pid in single:
                after = [5] + [rng.choice((2, 3)) for _ in leadership[1:]]
                rng.shuffle(after)
            elif expected or pid in self.leaders:
                after = []
                for cid in leadership:
                    level = expected.get(cid, 2)
                    after.append(max(1, min(max(level, 3), level + rng.choice((-1, 0, 0, 1)))))
            elif rng.random() < 0.4:
                after = [rng.choice((1, 2, 2, 2, 3, 3)) for _ in leadership]
            else:
                continue
            self.leadership[pid] = [
                (cid, max(1, level - rng.choice((0, 1, 1))), level)
                for cid, level in zip(leadership, after, strict=True)
            ]

    # --- the truth --------------------------------------------------------------------------------------

    def truth(self) -> PlantedTruth:
        return PlantedTruth(
            seed=self.seed,
            people=len(self.ids),
            today=self.today,
            cycle_id=self.org.cycle.id,
            talent_review_id=self.org.review_id,
            truth={kind: tuple(sorted(self.sets[kind])) for kind in TRUTH_KINDS},
            near_misses={kind: tuple(sorted(ids)) for kind, ids in sorted(self.near.items())},
        )

    # --- writing ----------------------------------------------------------------------------------------

    async def write(self, session: AsyncSession) -> None:
        await self._write_reviews(session)
        await self._write_development(session)
        await self._write_fills(session)
        await self._write_feedback(session)
        await self._write_checkins(session)
        await self._write_goals(session)
        await self._write_assessments(session)

    async def _write_reviews(self, session: AsyncSession) -> None:
        """The planted cycle's scores and talent review rewritten; the annual cycle a year before added."""
        org, cycle = self.org, self.org.cycle
        await session.execute(delete(ReviewParticipant).where(ReviewParticipant.cycle_id == cycle.id))
        await session.execute(
            delete(TalentReviewEntry).where(TalentReviewEntry.talent_review_id == org.review_id)
        )
        launched = cycle.launched_at
        closed = launched + timedelta(days=60)
        rows, entries = [], []
        for pid in self.participants:
            person = org.by_id[pid]
            score = round(self.score[pid], 2)
            rows.append(_participant(cycle.id, person, score, launched, closed - timedelta(days=20)))
            entries.append(
                {
                    "talent_review_id": org.review_id,
                    "person_id": pid,
                    "manager_id": person.manager_id,
                    "department": person.department,
                    **self.entries[pid],
                    "rated_by_id": person.manager_id,
                    "rated_at": closed,
                    "version": 1,
                }
            )
        await _insert(session, ReviewParticipant, rows)
        await _insert(session, TalentReviewEntry, entries)
        year = cycle.period_start.year - 1
        old_launch = launched - timedelta(days=365)
        table = ReviewCycle.__table__
        old_id = (
            await session.execute(
                table.insert().returning(table.c.id),
                {
                    "name": f"{year} annual review",
                    "kind": "regular",
                    "template_id": cycle.template_id,
                    "period_start": date(year, 1, 1),
                    "period_end": date(year, 12, 31),
                    "phase": "closed",
                    "recurrence": "none",
                    "launched_at": old_launch,
                    "created_at": old_launch - timedelta(days=14),
                    "updated_at": old_launch + timedelta(days=60),
                },
            )
        ).scalar_one()
        joined_by = date(year, 10, 1)
        old_rows = [
            _participant(
                old_id,
                org.by_id[pid],
                round(self.old_score[pid], 2),
                old_launch,
                old_launch + timedelta(days=40),
            )
            for pid in self.participants
            if org.by_id[pid].hire_date is None or org.by_id[pid].hire_date <= joined_by
        ]
        await _insert(session, ReviewParticipant, old_rows)

    async def _write_development(self, session: AsyncSession) -> None:
        org = self.org
        gone = sorted(org.plans[pid] for pid in self.no_plan if pid in org.plans)
        for batch in batches(gone):
            await session.execute(delete(DevelopmentAction).where(DevelopmentAction.plan_id.in_(batch)))
            await session.execute(delete(DevelopmentPlan).where(DevelopmentPlan.id.in_(batch)))
        needed = sorted(pid for pid in self.plan_open if pid not in org.plans)
        plan_of = {pid: org.plans[pid] for pid in self.plan_open if pid in org.plans}
        if needed:
            table = DevelopmentPlan.__table__
            at = datetime.combine(self.today - timedelta(days=90), time(10), UTC)
            rows = [
                {"person_id": pid, "source": "self", "created_by_id": pid, "created_at": at, "updated_at": at}
                for pid in needed
            ]
            result = await session.execute(table.insert().returning(table.c.person_id, table.c.id), rows)
            plan_of.update(dict(result.all()))
        behaviours = [cid for cid, _, category in org.competencies if category != LEADERSHIP]
        actions = []
        for pid in sorted(plan_of):
            at = datetime.combine(self.today - timedelta(days=60), time(10), UTC)
            actions.append(
                {
                    "plan_id": plan_of[pid],
                    "kind": self.rng.choice(("training", "mentoring", "course", "project")),
                    "title": "Grow into the next role",
                    "competency_id": self.rng.choice(behaviours),
                    "target_level": 4,
                    "due_on": self.today + timedelta(days=self.rng.randint(30, 120)),
                    "status": "in_progress",
                    "progress": self.rng.choice((20, 40, 60)),
                    "source": "manual",
                    "created_by_id": pid,
                    "created_at": at,
                    "updated_at": at,
                    "version": 0,
                }
            )
        await _insert(session, DevelopmentAction, actions)

    async def _write_fills(self, session: AsyncSession) -> None:
        since = self.today - timedelta(days=NO_MOVE_DAYS)
        gone = sorted(
            fid
            for fid, person, _, filled_on in self.org.fills
            if person in self.no_moves and filled_on >= since
        )
        for batch in batches(gone):
            await session.execute(delete(PositionFill).where(PositionFill.id.in_(batch)))
        rows = [
            {
                "position_id": self.org.position_of[pid],
                "person_id": pid,
                "filled_on": filled_on,
                "source": "internal",
                "from_slate": self.index[pid] % 2 == 0,
                "recorded_at": datetime.combine(filled_on, time(12), UTC),
            }
            for pid, filled_on in sorted(self.moves.items())
        ]
        await _insert(session, PositionFill, rows)

    async def _write_feedback(self, session: AsyncSession) -> None:
        table = Feedback.__table__
        statement = table.insert().returning(table.c.client_request_id, table.c.id)
        rows, tag_rows = [], []
        for pid in self.ids:
            for event in sorted(self.feedback[pid], key=lambda e: -e.ago):
                key = f"planted-{self.seed}-{len(rows)}"
                at = datetime.combine(self.today - timedelta(days=event.ago), time(11), UTC)
                rows.append(
                    {
                        "giver_id": event.giver,
                        "recipient_id": pid,
                        "text": FEEDBACK_TEXTS[len(rows) % len(FEEDBACK_TEXTS)],
                        "visibility": event.visibility,
                        "created_at": at,
                        "client_request_id": key,
                    }
                )
                tag_rows.append((key, event.tags))
        id_of: dict[str, int] = {}
        for batch in batches(rows):
            id_of.update(dict((await session.execute(statement, batch)).all()))
        tags = [
            {"feedback_id": id_of[key], "tag": tag, "rating": rating}
            for key, chosen in tag_rows
            for tag, rating in chosen
        ]
        await _insert(session, FeedbackTag, tags)

    async def _write_checkins(self, session: AsyncSession) -> None:
        rng = self.rng
        start = self.today - timedelta(days=self.today.weekday())
        rows = []
        for p in self.org.people:
            weekday = self.index[p.id] % 5
            for week, mood in self.moods[p.id].items():
                monday = start - timedelta(weeks=week)
                due = monday + timedelta(days=weekday)
                sent = datetime.combine(due, time(9), UTC)
                submitted = None if mood is None else sent + timedelta(hours=rng.randint(1, 8))
                rows.append(
                    {
                        "person_id": p.id,
                        "manager_id": p.manager_id,
                        "week_start": monday,
                        "due_on": due,
                        "sent_at": sent,
                        "reminded_at": None if mood is not None else sent + timedelta(days=1),
                        "submitted_at": submitted,
                        "mood": mood,
                        "wins": None if mood is None else rng.choice(CHECKIN_WINS),
                        "blockers": None if mood is None else rng.choice(CHECKIN_BLOCKERS),
                        "priorities": None,
                        "created_at": sent,
                        "updated_at": submitted or sent,
                    }
                )
        await _insert(session, CheckIn, rows)

    async def _write_goals(self, session: AsyncSession) -> None:
        """One or two closed goals a quarter for the last eight quarters, each with one or two key results
        ending where the final score says, and the update that took them there."""
        rng, org = self.rng, self.org
        quarters: list[Quarter] = []
        day = Quarter.containing(self.today).start - timedelta(days=1)
        while len(quarters) < GOAL_QUARTERS:
            quarters.append(Quarter.containing(day))
            day = quarters[-1].start - timedelta(days=1)
        goals, results = [], []
        for p in org.people:
            for quarter in reversed(quarters):
                if p.hire_date is not None and quarter.end < p.hire_date + timedelta(days=30):
                    continue
                for n in range(rng.choice((1, 2, 2))):
                    final = round(max(0.0, min(1.0, 0.7 + 0.13 * self.latent[p.id] + rng.gauss(0.0, 0.1))), 2)
                    key = f"planted-{self.seed}-goal-{len(goals)}"
                    opened = datetime.combine(quarter.start, time(9), UTC)
                    closed = min(
                        datetime.combine(quarter.end + timedelta(days=rng.randint(3, 14)), time(17), UTC),
                        datetime.combine(self.today - timedelta(days=1), time(17), UTC),
                    )
                    goals.append(
                        {
                            "owner_type": "person",
                            "owner_person_id": p.id,
                            "owner_department": None,
                            "title": INDIVIDUAL_GOALS[(len(goals) + n) % len(INDIVIDUAL_GOALS)],
                            "description": None,
                            "period_label": quarter.label,
                            "period_start": quarter.start,
                            "period_end": quarter.end,
                            "visibility": "team",
                            "kind": "development" if rng.random() < 0.1 else "business",
                            "parent_id": None,
                            "weight": 1.0,
                            "closed_at": closed,
                            "final_score": final,
                            "progress": final,
                            "request_id": key,
                            "created_by_id": p.id,
                            "created_at": opened,
                            "updated_at": closed,
                        }
                    )
                    for position in range(rng.randint(1, 2)):
                        title, metric, unit, start, target = rng.choice(KEY_RESULTS)
                        share = max(0.0, min(1.0, final + rng.gauss(0.0, 0.05)))
                        current = _current(metric, start, target, share)
                        results.append(
                            (key, position, title, metric, unit, start, target, current, opened, closed, p.id)
                        )
        table = Goal.__table__
        statement = table.insert().returning(table.c.request_id, table.c.id)
        goal_id: dict[str, int] = {}
        for batch in batches(goals):
            goal_id.update(dict((await session.execute(statement, batch)).all()))
        kr_table = KeyResult.__table__
        kr_statement = kr_table.insert().returning(kr_table.c.goal_id, kr_table.c.position, kr_table.c.id)
        kr_rows = [
            {
                "goal_id": goal_id[key],
                "position": position,
                "title": title,
                "metric": metric,
                "unit": unit,
                "start": start,
                "target": target,
                "current": current,
                "weight": 1.0,
                "version": 1 if current == start else 2,
                "created_at": opened,
                "updated_at": closed,
            }
            for key, position, title, metric, unit, start, target, current, opened, closed, _ in results
        ]
        kr_id: dict[tuple[int, int], int] = {}
        for batch in batches(kr_rows):
            for goal, position, kid in await session.execute(kr_statement, batch):
                kr_id[goal, position] = kid
        updates = [
            {
                "key_result_id": kr_id[goal_id[key], position],
                "by_id": owner,
                "at": closed - timedelta(days=2),
                "old_value": start,
                "new_value": current,
                "comment": None,
                "confidence": 7,
                "version": 2,
            }
            for key, position, _, _, _, start, _, current, _, closed, owner in results
            if current != start
        ]
        await _insert(session, KeyResultUpdate, updates)

    async def _write_assessments(self, session: AsyncSession) -> None:
        """Replace demo_talent's leadership assessments with the planned ones."""
        leadership = [cid for cid, _, category in self.org.competencies if category == LEADERSHIP]
        await session.execute(
            delete(CompetencyAssessment).where(CompetencyAssessment.competency_id.in_(leadership))
        )
        earlier, recent = self.today - timedelta(days=390), self.today - timedelta(days=30)
        rows = []
        for pid, levels in sorted(self.leadership.items()):
            assessor = self.org.by_id[pid].manager_id
            for cid, before, after in levels:
                for level, day in ((before, earlier), (after, recent)):
                    rows.append(
                        {
                            "person_id": pid,
                            "competency_id": cid,
                            "level": level,
                            "source": "manager",
                            "assessed_on": day,
                            "assessed_by_id": assessor,
                            "created_at": datetime.combine(day, time(15), UTC),
                        }
                    )
        await _insert(session, CompetencyAssessment, rows)


# --- helpers -----------------------------------------------------------------------------------------------


def _steady(moods: dict[int, int | None]) -> None:
    """Make a mood series not fall over its last 8 weeks, whichever way that is read (the slope, the last
    4 weeks against the 4 before, the last 8 against the 8 before): reverse those weeks, else swap them
    with the 8 before, else flatten them."""
    recent = range(8, 0, -1)  # oldest first
    if not _falling(moods):
        return
    reversed_values = [moods.get(w) for w in recent][::-1]
    for week, value in zip(recent, reversed_values, strict=True):
        moods[week] = value
    if not _falling(moods):
        return
    for week in range(1, 9):
        moods[week], moods[week + 8] = moods.get(week + 8), moods.get(week)
    if not _falling(moods):
        return
    level = math.ceil(
        max(fmean(_moods(moods, range(16, 8, -1)) or [4]), fmean(_moods(moods, range(8, 0, -1)) or [4]))
    )
    for week in range(1, 9):
        if moods.get(week) is not None:
            moods[week] = min(5, level)


def _falling(moods: dict[int, int | None]) -> bool:
    """Any decrease over the last 8 weeks (week 1 is last week)."""
    last4, prev4 = _moods(moods, range(4, 0, -1)), _moods(moods, range(8, 4, -1))
    last8, prior8 = _moods(moods, range(8, 0, -1)), _moods(moods, range(16, 8, -1))
    slope = _slope([(i, moods.get(w)) for i, w in enumerate(range(8, 0, -1))])
    return (
        slope < 0
        or bool(last4 and prev4 and fmean(last4) < fmean(prev4))
        or bool(last8 and prior8 and fmean(last8) < fmean(prior8))
    )


def _moods(moods: dict[int, int | None], weeks: Iterable[int]) -> list[int]:
    return [value for week in weeks if (value := moods.get(week)) is not None]


def _slope(points: Sequence[tuple[int, int | None]]) -> float:
    known = [(x, y) for x, y in points if y is not None]
    if len(known) < 2:
        return 0.0
    mx, my = fmean(x for x, _ in known), fmean(y for _, y in known)
    spread = sum((x - mx) ** 2 for x, _ in known)
    return sum((x - mx) * (y - my) for x, y in known) / spread if spread else 0.0


def _participant(
    cycle_id: int, person: _Member, score: float, added: datetime, submitted: datetime
) -> dict[str, Any]:
    return {
        "cycle_id": cycle_id,
        "person_id": person.id,
        "manager_id": person.manager_id,
        "department": person.department,
        "source": "launch",
        "added_at": added,
        "computed_score": score,
        "final_score": score,
        "manager_submitted_at": submitted,
    }


def _current(metric: str, start: float, target: float, share: float) -> float:
    if metric == "boolean":
        return target if share >= 0.8 else start
    if metric == "milestone":
        return float(round(share * target))
    return round(start + (target - start) * share, 1)


def _clip(score: float) -> float:
    return max(1.0, min(5.0, score))


def _poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights)[0]


async def _insert(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for batch in batches(rows):
        await session.execute(model.__table__.insert(), batch)

"""The planted organization (storage.demo_planted) holds what its truth says, and only that: the same seed
gives the same organization, the truth names people who exist, each planted pattern is in the data the
signals read, and near misses (one sign short of a pattern) exist, while every other high performer has a
clear sign against a flight risk."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import demo, demo_planted, demo_talent
from storage.demo_planted import PlantedTruth
from storage.models import (
    CheckIn,
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    Person,
    PositionFill,
    ReviewCycle,
    ReviewParticipant,
    TalentReviewEntry,
)

TODAY = date(2026, 11, 26)
PEOPLE = 300


async def _plant(session: AsyncSession, seed: int) -> PlantedTruth:
    await demo.seed(session, people=PEOPLE, seed=seed)
    await demo_talent.seed_talent(session, today=TODAY, seed=seed)
    return await demo_planted.seed_planted(session, today=TODAY, seed=seed)


class _Facts:
    """What the signals would read, per person, gathered with a few bulk queries."""

    @classmethod
    async def read(cls, session: AsyncSession, truth: PlantedTruth) -> _Facts:
        facts = cls()
        facts.truth = truth
        facts.email = dict((await session.execute(select(Person.id, Person.email))).all())
        facts.manager = dict((await session.execute(select(Person.id, Person.manager_id))).all())
        facts.scores = {
            row.person_id: row
            for row in await session.scalars(
                select(ReviewParticipant).where(ReviewParticipant.cycle_id == truth.cycle_id)
            )
        }
        facts.entries = {
            row.person_id: row
            for row in await session.scalars(
                select(TalentReviewEntry).where(TalentReviewEntry.talent_review_id == truth.talent_review_id)
            )
        }
        facts.goals = defaultdict(list)
        for owner, score in await session.execute(
            select(Goal.owner_person_id, Goal.final_score).where(Goal.final_score.is_not(None))
        ):
            facts.goals[owner].append(score)
        facts.feedback = defaultdict(list)  # recipient → [(days ago, giver, visibility, [ratings])]
        ratings: dict[int, list[int]] = defaultdict(list)
        for feedback_id, rating in await session.execute(
            select(FeedbackTag.feedback_id, FeedbackTag.rating).where(FeedbackTag.rating.is_not(None))
        ):
            ratings[feedback_id].append(rating)
        for row in await session.execute(
            select(
                Feedback.id,
                Feedback.recipient_id,
                Feedback.giver_id,
                Feedback.visibility,
                Feedback.created_at,
            )
        ):
            ago = (TODAY - row.created_at.date()).days
            facts.feedback[row.recipient_id].append((ago, row.giver_id, row.visibility, ratings[row.id]))
        facts.open_actions = set(
            await session.scalars(
                select(DevelopmentPlan.person_id)
                .join(DevelopmentAction, DevelopmentAction.plan_id == DevelopmentPlan.id)
                .where(DevelopmentAction.status.in_(("planned", "in_progress")))
            )
        )
        facts.plans = set(await session.scalars(select(DevelopmentPlan.person_id)))
        facts.moves = defaultdict(list)
        for person, source, filled_on in await session.execute(
            select(PositionFill.person_id, PositionFill.source, PositionFill.filled_on)
        ):
            facts.moves[person].append((source, (TODAY - filled_on).days))
        monday = TODAY - timedelta(days=TODAY.weekday())
        facts.moods = defaultdict(dict)  # person → {weeks ago: mood}
        for person, week_start, mood in await session.execute(
            select(CheckIn.person_id, CheckIn.week_start, CheckIn.mood).where(CheckIn.mood.is_not(None))
        ):
            facts.moods[person][(monday - week_start).days // 7] = mood
        latest: dict[tuple[int, int], tuple[date, int]] = {}
        for person, competency, level, on in await session.execute(
            select(
                CompetencyAssessment.person_id,
                CompetencyAssessment.competency_id,
                CompetencyAssessment.level,
                CompetencyAssessment.assessed_on,
            )
            .join(Competency, Competency.id == CompetencyAssessment.competency_id)
            .where(Competency.category == "leadership")
        ):
            if (person, competency) not in latest or latest[person, competency][0] < on:
                latest[person, competency] = (on, level)
        facts.leadership = defaultdict(list)
        for (person, _), (_, level) in sorted(latest.items()):
            facts.leadership[person].append(level)
        return facts

    def eligible(self, pid: int) -> bool:
        entry = self.entries.get(pid)
        return entry is not None and (entry.performance == 3 or entry.high_potential)

    def mood(self, pid: int, weeks: range) -> float:
        values = [self.moods[pid][w] for w in weeks if w in self.moods[pid]]
        return fmean(values) if values else float("nan")

    def signs(self, pid: int) -> dict[str, bool]:
        """The four flight-risk signs, each read strictly."""
        return {
            "no_plan": pid not in self.plans,
            "no_feedback": all(ago > 120 for ago, *_ in self.feedback[pid]),
            "no_move": all(days > 730 for _, days in self.moves[pid]),
            "mood_falling": self.mood(pid, range(1, 5)) <= self.mood(pid, range(5, 9)) - 1
            and self.mood(pid, range(1, 9)) <= self.mood(pid, range(9, 17)) - 0.5,
        }

    def clear_sign_against(self, pid: int) -> bool:
        """A sign no reading of the flight-risk rule misses: feedback the manager sees in the last 60 days,
        an open development action, or an internal move in the last 12 months."""
        return (
            any(ago <= 60 and vis == "recipient_and_manager" for ago, _, vis, _ in self.feedback[pid])
            or pid in self.open_actions
            or any(source == "internal" and days <= 365 for source, days in self.moves[pid])
        )

    def halves(self, pid: int) -> tuple[tuple[int, float], tuple[int, float]]:
        """(count, mean rating) of the feedback received in the last half-year and the one before."""
        result = []
        for low, high in ((0, 182), (183, 364)):
            items = [r for ago, _, _, r in self.feedback[pid] if low <= ago <= high]
            rated = [x for r in items for x in r]
            result.append((len(items), fmean(rated) if rated else 0.0))
        return result[0], result[1]

    def fingerprint(self) -> str:
        """The organization by email (ids differ between databases), as one digest."""
        by = self.email
        content: dict[str, Any] = {
            "truth": {k: sorted(by[i] for i in ids) for k, ids in self.truth.truth.items()},
            "near": {k: sorted(by[i] for i in ids) for k, ids in self.truth.near_misses.items()},
            "scores": sorted((by[p], r.computed_score, r.final_score) for p, r in self.scores.items()),
            "entries": sorted(
                (by[p], e.performance, e.potential, e.high_potential) for p, e in self.entries.items()
            ),
            "goals": sorted((by[p], sorted(s)) for p, s in self.goals.items()),
            "feedback": sorted(
                (by[p], sorted((ago, by.get(giver), vis, sorted(r)) for ago, giver, vis, r in items))
                for p, items in self.feedback.items()
            ),
            "moods": sorted((by[p], sorted(m.items())) for p, m in self.moods.items()),
            "leadership": sorted((by[p], levels) for p, levels in self.leadership.items()),
            "plans": sorted(by[p] for p in self.plans),
            "moves": sorted((by[p], sorted(m)) for p, m in self.moves.items()),
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


async def test_the_same_seed_plants_the_same_organization_and_another_seed_another(
    session: AsyncSession,
) -> None:
    prints = []
    for seed in (7, 7, 8):
        async with session.begin_nested() as savepoint:
            truth = await _plant(session, seed)
            prints.append((await _Facts.read(session, truth)).fingerprint())
            await savepoint.rollback()
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


async def test_the_truth_names_people_who_exist_and_survives_its_file(
    session: AsyncSession, tmp_path
) -> None:
    truth = await _plant(session, 7)

    people = set(await session.scalars(select(Person.id)))
    assert truth.people == PEOPLE == len(people)
    planted = PEOPLE * 3 // 100
    assert [len(truth.truth[k]) for k in ("high_potential", "flight_risk", "growth")] == [planted] * 3
    assert len(truth.truth["lenient_managers"]) == len(truth.truth["severe_managers"]) == 2
    for ids in (*truth.truth.values(), *truth.near_misses.values()):
        assert ids and set(ids) <= people and list(ids) == sorted(set(ids))
    # Each person is planted as one thing at most, and never one of the Playground's people (HR would
    # not see suggestions about herself).
    people_sets = [truth.truth[k] for k in ("high_potential", "flight_risk", "growth")]
    people_sets += [v for k, v in truth.near_misses.items() if not k.endswith("_teams")]
    everyone = [pid for ids in people_sets for pid in ids]
    assert len(everyone) == len(set(everyone))
    personas = set(
        await session.scalars(
            select(Person.id).where(Person.email.in_([p.email for p in demo.PLAYGROUND_PEOPLE]))
        )
    )
    assert not personas & set(everyone) and not personas & set(truth.truth["lenient_managers"])
    cycle = await session.get(ReviewCycle, truth.cycle_id)
    assert cycle.phase == "closed"

    path = truth.write(tmp_path / "deep" / "truth.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) >= {"seed", "people", "truth"} and data["seed"] == 7 and data["people"] == PEOPLE
    assert PlantedTruth.from_json(data) == truth


async def test_each_planted_pattern_holds_in_the_data(session: AsyncSession) -> None:
    truth = await _plant(session, 7)
    facts = await _Facts.read(session, truth)
    reports: dict[int, list[int]] = defaultdict(list)
    for pid, row in facts.scores.items():
        reports[row.manager_id].append(pid)
    org_score = fmean(r.computed_score for r in facts.scores.values())
    org_final = fmean(r.final_score for r in facts.scores.values())
    org_goals = fmean(fmean(s) for s in facts.goals.values())

    # Lenient and severe managers: teams of six or more whose scores sit 0.6+ from the organization's,
    # while their goals are about the organization's average (the shift is not deserved).
    for kind, sign in (("lenient_managers", 1), ("severe_managers", -1)):
        for manager in truth.truth[kind]:
            team = reports[manager]
            assert len(team) >= 6
            assert sign * (fmean(facts.scores[p].computed_score for p in team) - org_score) >= 0.6
            assert sign * (fmean(facts.scores[p].final_score for p in team) - org_final) >= 0.6
            assert abs(fmean(fmean(facts.goals[p]) for p in team) - org_goals) < 0.1

    # High potentials: leadership assessed at 4 or 5 (mean 4.33+), a high score, not flagged yet.
    for pid in truth.truth["high_potential"]:
        levels = facts.leadership[pid]
        assert len(levels) == 3 and min(levels) >= 4 and fmean(levels) >= 13 / 3
        assert facts.scores[pid].final_score >= 3.75
        assert not facts.entries[pid].high_potential

    # Flight risks: high performers with all four signs.
    for pid in truth.truth["flight_risk"]:
        assert facts.eligible(pid)
        assert facts.signs(pid) == dict.fromkeys(("no_plan", "no_feedback", "no_move", "mood_falling"), True)
        assert pid not in facts.open_actions
        assert facts.feedback[pid], "they used to get feedback"
        assert facts.mood(pid, range(1, 5)) <= facts.mood(pid, range(9, 17)) - 1

    # Growth: more feedback, and better rated, on named competencies, than the half-year before.
    names = set(await session.scalars(select(Competency.name)))
    for pid in truth.truth["growth"]:
        (recent, recent_rating), (before, before_rating) = facts.halves(pid)
        assert recent > before and recent_rating >= before_rating + 1
        recent_tags = await session.scalars(
            select(FeedbackTag.tag)
            .join(Feedback, Feedback.id == FeedbackTag.feedback_id)
            .where(
                Feedback.recipient_id == pid,
                Feedback.created_at >= datetime.combine(TODAY - timedelta(days=182), time(0), UTC),
            )
        )
        assert set(recent_tags) <= names


async def test_near_misses_are_one_sign_short_and_nobody_else_looks_like_a_flight_risk(
    session: AsyncSession,
) -> None:
    truth = await _plant(session, 7)
    facts = await _Facts.read(session, truth)
    near = truth.near_misses

    for pid in near["high_potential_weak_reviews"]:
        assert min(facts.leadership[pid]) >= 4 and facts.scores[pid].final_score < 3.2
    for pid in near["high_potential_one_strength"]:
        levels = facts.leadership[pid]
        assert max(levels) == 5 and fmean(levels) < 4 and facts.scores[pid].final_score >= 3.75

    for pid in near["flight_risk_three_signs"]:
        assert facts.eligible(pid)
        assert sum(facts.signs(pid).values()) == 3, facts.signs(pid)
    kinds = {next(k for k, v in facts.signs(pid).items() if not v) for pid in near["flight_risk_three_signs"]}
    assert kinds == {"no_plan", "no_feedback", "no_move", "mood_falling"}
    for pid in near["flight_risk_low_performers"]:
        assert not facts.eligible(pid) and all(facts.signs(pid).values())

    planted = set(truth.truth["flight_risk"]) | set(near["flight_risk_three_signs"])
    others = [pid for pid in facts.entries if facts.eligible(pid) and pid not in planted]
    assert len(others) > 3 * len(planted)
    for pid in others:
        assert facts.clear_sign_against(pid), pid
        last4, prev4 = facts.mood(pid, range(1, 5)), facts.mood(pid, range(5, 9))
        assert not last4 < prev4, (pid, facts.moods[pid])

    for pid in near["growth_more_not_better"]:
        (recent, recent_rating), (before, before_rating) = facts.halves(pid)
        assert recent > before and recent_rating < before_rating + 1
    for pid in near["growth_better_not_more"]:
        (recent, recent_rating), (before, before_rating) = facts.halves(pid)
        assert recent == before and recent_rating >= before_rating + 1

    # Star and struggling teams: scores far from the organization's that their goals do explain.
    reports: dict[int, list[int]] = defaultdict(list)
    for pid, row in facts.scores.items():
        reports[row.manager_id].append(pid)
    org_score = fmean(r.final_score for r in facts.scores.values())
    org_goals = fmean(fmean(s) for s in facts.goals.values())
    for kind, sign in (("star_teams", 1), ("struggling_teams", -1)):
        for manager in near[kind]:
            team = reports[manager]
            assert sign * (fmean(facts.scores[p].final_score for p in team) - org_score) >= 0.3
            assert sign * (fmean(fmean(facts.goals[p]) for p in team) - org_goals) >= 0.08

"""Flight risks and calibration bias flags (domain/signal_risks.py) on small hand-made worlds, built straight
from the ORM models, on SQLite and PostgreSQL.

Flight risks, as of Monday 20 July 2026 (TODAY):
    Ada   high performer (talent entry, performance 3): all four signs
    Ben   high potential (flag, performance 2): a plan without actions, no feedback ever, no promotion;
          exactly three signs
    Cy    high performer by a newer released review (4.50 of 5): no open development action, last moved
          26 months ago, mood down 1.00; exactly three signs
    Dee   ordinary (performance 2, no flag) with all four signs: never suggested
    Eve   high performer who joined in June 2025: only no feedback (and a mood down 0.75): one sign
    Fay   performance 3 in a talent review, but her newer released review (3.90) is below the top band
    Gil   high performer with all four signs who has left
    Hal   high performer with an open action: no feedback ever, no promotion; exactly two signs, too few

Rating bias, one cycle: Lena (lenient), Sam (severe), Avery and Ari (average), Tara (a strong team whose
goal results and peer feedback account for her high ratings) and Xia (3 reports: too few).
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import signal_risks
from domain.access import load_actor
from domain.errors import Forbidden, NotFound
from domain.signal_views import Evidence, EvidenceKind, SignalKind
from storage.models import (
    AuditEntry,
    CheckIn,
    DevelopmentAction,
    DevelopmentPlan,
    Feedback,
    FeedbackTag,
    Goal,
    Person,
    Position,
    PositionFill,
    Review,
    ReviewAnswer,
    ReviewCycle,
    ReviewParticipant,
    ReviewSection,
    ReviewTemplate,
    RoleGrant,
    TalentReview,
    TalentReviewEntry,
)

TODAY = date(2026, 7, 20)  # a Monday
AT = datetime(2026, 7, 1, 9, tzinfo=UTC)
WEEKS = [TODAY - timedelta(weeks=k) for k in range(7, -1, -1)]  # the last 8 Mondays, oldest first
SCALE = ["Far below", "Below", "Meets", "Above", "Far above"]


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@dataclass
class World:
    session: AsyncSession
    ids: dict[str, int] = field(default_factory=dict)

    async def add(self, row: object) -> int:
        self.session.add(row)
        await self.session.flush()
        return row.id  # type: ignore[attr-defined]

    async def person(
        self, name: str, *, hired: date | None = date(2020, 1, 1), manager: str | None = None, active=True
    ) -> int:
        slug = re.sub(r"[^a-z0-9]", "", name.lower())
        self.ids[name] = await self.add(
            Person(
                email=f"{slug}@risks.example",
                display_name=name,
                department="Engineering",
                hire_date=hired,
                active=active,
                manager_id=self.ids[manager] if manager else None,
            )
        )
        return self.ids[name]

    async def template(self) -> int:
        if "template" not in self.ids:
            self.ids["template"] = await self.add(
                ReviewTemplate(name="Risks review", name_key="risks review", scale_labels=SCALE)
            )
            self.ids["section"] = await self.add(
                ReviewSection(
                    template_id=self.ids["template"],
                    position=0,
                    kind="questions",
                    title="Questions",
                    weight=100,
                    answered_by=["manager", "peer"],
                )
            )
        return self.ids["template"]

    async def cycle(self, name: str, start: date, end: date, phase: str) -> int:
        self.ids[name] = await self.add(
            ReviewCycle(
                name=name, template_id=await self.template(), period_start=start, period_end=end, phase=phase
            )
        )
        return self.ids[name]

    async def participant(
        self, cycle: str, person: str, *, manager: str | None = None, computed=None, final=None
    ) -> int:
        key = f"{cycle}/{person}"
        self.ids[key] = await self.add(
            ReviewParticipant(
                cycle_id=self.ids[cycle],
                person_id=self.ids[person],
                manager_id=self.ids[manager] if manager else None,
                department="Engineering",
                source="launch",
                added_at=AT,
                computed_score=computed,
                final_score=final,
            )
        )
        return self.ids[key]

    async def entry(self, review: str, person: str, *, performance=None, potential=None, flag=False) -> int:
        self.ids[f"{review}/{person}"] = await self.add(
            TalentReviewEntry(
                talent_review_id=self.ids[review],
                person_id=self.ids[person],
                performance=performance,
                potential=potential,
                high_potential=flag,
            )
        )
        return self.ids[f"{review}/{person}"]

    async def plan(self, person: str, *statuses: str) -> None:
        plan = await self.add(DevelopmentPlan(person_id=self.ids[person]))
        for n, status in enumerate(statuses):
            self.ids[f"{person}/action{n}"] = await self.add(
                DevelopmentAction(
                    plan_id=plan, kind="training", title=f"Action {n}", due_on=date(2026, 9, 1), status=status
                )
            )

    async def feedback(
        self, to: str, on: date, *, giver: str | None = None, rating: int | None = None
    ) -> int:
        fid = await self.add(
            Feedback(
                giver_id=self.ids[giver] if giver else None,
                recipient_id=self.ids[to],
                text="Thanks",
                visibility="recipient_only",
                created_at=at(on),
            )
        )
        if rating is not None:
            await self.add(FeedbackTag(feedback_id=fid, tag="collaboration", rating=rating))
        return fid

    async def fill(self, person: str, on: date, source: str = "internal") -> None:
        position = await self.add(Position(title=f"Seat of {person} {on}"))
        await self.add(
            PositionFill(position_id=position, person_id=self.ids[person], filled_on=on, source=source)
        )

    async def moods(self, person: str, moods: list[int], weeks: list[date] = WEEKS) -> list[int]:
        """Submitted check-ins with these moods, oldest first; their ids."""
        found = []
        for week, mood in zip(weeks, moods, strict=True):
            found.append(
                await self.add(
                    CheckIn(
                        person_id=self.ids[person],
                        week_start=week,
                        due_on=week,
                        submitted_at=at(week),
                        mood=mood,
                    )
                )
            )
        return found


# --- flight risk -------------------------------------------------------------------------------------------


@dataclass
class RiskWorld:
    w: World
    checkins: dict[str, list[int]]


async def _risk_world(session: AsyncSession) -> RiskWorld:
    w = World(session)
    for name in ("Ada", "Ben", "Cy", "Dee", "Fay", "Hal"):
        await w.person(name)
    await w.person("Eve", hired=date(2025, 6, 1))
    await w.person("Gil", active=False)
    await w.person("Pia")  # a colleague who gives feedback

    # Last year's review, read by the finalized talent review; this year's first half, released.
    await w.cycle("2025 review", date(2025, 1, 1), date(2025, 12, 31), "closed")
    await w.cycle("2026-H1 review", date(2026, 1, 1), date(2026, 6, 30), "released")
    w.ids["2025 talent review"] = await w.add(
        TalentReview(
            name="2025 talent review",
            performance_cycle_id=w.ids["2025 review"],
            status="finalized",
            medium_from=2.5,
            high_from=3.75,
            created_at=at(date(2026, 1, 10)),
            finalized_at=at(date(2026, 2, 1)),
        )
    )
    await w.entry("2025 talent review", "Ada", performance=3, potential=2)
    await w.entry("2025 talent review", "Ben", performance=2, potential=3, flag=True)
    await w.entry("2025 talent review", "Dee", performance=2, potential=2)
    await w.entry("2025 talent review", "Eve", performance=3, potential=2)
    await w.entry("2025 talent review", "Fay", performance=3, potential=2)
    await w.entry("2025 talent review", "Gil", performance=3, potential=3, flag=True)
    await w.entry("2025 talent review", "Hal", performance=3, potential=2)
    await w.participant("2025 review", "Ada", computed=3.5, final=3.5)  # older than the talent review's
    await w.participant("2026-H1 review", "Cy", computed=4.5, final=4.5)
    await w.participant("2026-H1 review", "Fay", computed=3.9, final=3.9)
    await w.participant("2026-H1 review", "Dee", computed=3.99, final=3.99)  # just below 4.00

    checkins: dict[str, list[int]] = {}
    # Ada: no plan, feedback last on 1 March, no move since 2020, mood 4,4,4,4 then 3,3,3,2 (down 1.25).
    await w.feedback("Ada", date(2026, 3, 1), giver="Pia")
    checkins["Ada"] = await w.moods("Ada", [4, 4, 4, 4, 3, 3, 3, 2])
    # Older and unsubmitted check-ins don't count.
    await w.add(
        CheckIn(
            person_id=w.ids["Ada"],
            week_start=WEEKS[0] - timedelta(weeks=1),
            due_on=WEEKS[0],
            mood=1,
            submitted_at=at(WEEKS[0]),
        )
    )
    await w.add(
        CheckIn(
            person_id=w.ids["Ada"],
            week_start=TODAY + timedelta(weeks=1),
            due_on=TODAY,
            mood=5,
            submitted_at=at(TODAY),
        )
    )
    # Ben: a plan without actions, no feedback ever, no move, a flat mood.
    await w.plan("Ben")
    checkins["Ben"] = await w.moods("Ben", [3, 3, 3, 3, 3, 3, 3, 3])
    # Cy: only done or cancelled actions, recent feedback, last moved 26 months ago, mood down exactly 1.
    await w.plan("Cy", "done", "cancelled")
    await w.feedback("Cy", TODAY - timedelta(days=10), giver="Pia")
    await w.fill("Cy", date(2024, 5, 12))
    checkins["Cy"] = await w.moods("Cy", [4, 4, 4, 4, 3, 3, 3, 3])
    # Dee: every sign, but not a high performer or potential.
    await w.feedback("Dee", date(2025, 1, 5), giver="Pia")
    await w.moods("Dee", [5, 5, 5, 5, 2, 2, 2, 2])
    # Eve: a newcomer with an open action and no feedback; mood down 0.75 only.
    await w.plan("Eve", "planned")
    await w.moods("Eve", [4, 4, 4, 4, 4, 3, 3, 3])
    # Fay and Gil: every sign.
    for name in ("Fay", "Gil"):
        await w.moods(name, [5, 5, 5, 5, 1, 1, 1, 1])
    # Hal: an open action, no feedback ever, no move, a flat mood: two signs.
    await w.plan("Hal", "done", "in_progress")
    checkins["Hal"] = await w.moods("Hal", [3, 3, 3, 3, 3, 3, 3, 3])
    return RiskWorld(w, checkins)


def _mood_evidence(ids: list[int], moods: list[int]) -> list[Evidence]:
    return [
        Evidence(
            EvidenceKind.CHECKIN, cid, f"Check-in, week of {week.day} {week:%b %Y}", f"Mood {mood} of 5", week
        )
        for cid, week, mood in zip(ids, WEEKS, moods, strict=True)
    ]


async def test_flight_risks_count_each_sign_and_carry_exactly_their_evidence(session) -> None:
    world = await _risk_world(session)
    ids = world.w.ids
    found = await signal_risks.flight_risks(session, today=TODAY)
    by_name = {s.person_name: s for s in found}
    assert list(by_name) == ["Ada", "Cy", "Ben"], (
        "strongest first; Dee, Eve, Fay, Gil and Hal are not suggested"
    )

    ada = by_name["Ada"]
    assert (ada.kind, ada.person_id, ada.target_key, ada.department) == (
        SignalKind.FLIGHT_RISK,
        ids["Ada"],
        "",
        "Engineering",
    )
    assert ada.score == 1.0
    assert ada.summary == (
        "High performer showing 4 of 4 signs of leaving: no open development action, no feedback in 90 days, "
        "no promotion in 24 months and a falling check-in mood."
    )
    assert ada.evidence == (
        Evidence(
            EvidenceKind.TALENT_ENTRY,
            ids["2025 talent review/Ada"],
            "High performer",
            "2025 talent review: performance high, potential medium",
            date(2026, 2, 1),
        ),
        Evidence(EvidenceKind.FIGURE, None, "No development action", "They have no development plan."),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No feedback since 1 Mar 2026",
            "Nothing received in the 90 days up to 20 Jul 2026: "
            "the last feedback was received on 1 Mar 2026.",
            date(2026, 3, 1),
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No promotion in 24 months",
            "No internal move recorded since they joined on 1 Jan 2020.",
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "Check-in mood falling",
            "Mean mood 2.75 over their last 4 check-ins against 4.00 over the 4 before them "
            "(down 1.25 of 5).",
            TODAY,
        ),
        *_mood_evidence(world.checkins["Ada"], [4, 4, 4, 4, 3, 3, 3, 2]),
    )

    ben = by_name["Ben"]
    assert ben.score == 0.6
    assert ben.summary == (
        "High potential showing 3 of 4 signs of leaving: "
        "no open development action, no feedback in 90 days and no promotion in 24 months."
    )
    assert ben.evidence == (
        Evidence(
            EvidenceKind.TALENT_ENTRY,
            ids["2025 talent review/Ben"],
            "High potential",
            "2025 talent review: performance medium, potential high, flagged as a high potential",
            date(2026, 2, 1),
        ),
        Evidence(EvidenceKind.FIGURE, None, "No development action", "Their development plan has no action."),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No feedback received",
            "Nothing received in the 90 days up to 20 Jul 2026, nor ever before.",
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No promotion in 24 months",
            "No internal move recorded since they joined on 1 Jan 2020.",
        ),
    )

    cy = by_name["Cy"]
    assert cy.score == 0.8
    assert cy.summary == (
        "High performer showing 3 of 4 signs of leaving: "
        "no open development action, no promotion in 24 months and a falling check-in mood."
    )
    assert cy.evidence == (
        Evidence(
            EvidenceKind.REVIEW_SCORE,
            ids["2026-H1 review/Cy"],
            "Review score in the top band",
            "2026-H1 review: final score 4.50 of 5 (the top band starts at 4.00)",
            date(2026, 6, 30),
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No development action",
            "Their development plan has no open action (2 done or cancelled).",
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No promotion in 24 months",
            "Their last internal move was on 12 May 2024.",
            date(2024, 5, 12),
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "Check-in mood falling",
            "Mean mood 3.00 over their last 4 check-ins against 4.00 over the 4 before them "
            "(down 1.00 of 5).",
            TODAY,
        ),
        *_mood_evidence(world.checkins["Cy"], [4, 4, 4, 4, 3, 3, 3, 3]),
    )


async def test_person_ids_narrow_the_people_considered(session) -> None:
    world = await _risk_world(session)
    found = await signal_risks.flight_risks(
        session, today=TODAY, person_ids=[world.w.ids["Ben"], world.w.ids["Dee"]]
    )
    assert [s.person_name for s in found] == ["Ben"]
    assert await signal_risks.flight_risks(session, today=TODAY, person_ids=[]) == []


async def _removed(world: RiskWorld, what: str) -> None:
    """Take away one piece of evidence of a sign (Ben and Cy show exactly three: two are left)."""
    w = world.w
    if what == "feedback 90 days ago":  # the window's first day counts as recent
        await w.feedback("Ben", TODAY - timedelta(days=90), giver="Pia")
    elif what == "an internal move 24 months ago":  # the window's first day counts as recent
        await w.fill("Ben", date(2024, 7, 20))
    elif what == "an open development action":
        await w.session.execute(
            update(DevelopmentAction)
            .where(DevelopmentAction.id == w.ids["Cy/action1"])
            .values(status="planned")
        )
    elif what == "one better mood":
        await w.session.execute(update(CheckIn).where(CheckIn.id == world.checkins["Cy"][-1]).values(mood=4))
    elif what == "the talent entry":
        await w.session.execute(
            delete(TalentReviewEntry).where(TalentReviewEntry.id == w.ids["2025 talent review/Ben"])
        )
    elif what == "the top-band score":
        await w.session.execute(
            update(ReviewParticipant)
            .where(ReviewParticipant.id == w.ids["2026-H1 review/Cy"])
            .values(final_score=3.99)
        )


@pytest.mark.parametrize(
    ("what", "person"),
    [
        ("feedback 90 days ago", "Ben"),
        ("an internal move 24 months ago", "Ben"),
        ("the talent entry", "Ben"),
        ("an open development action", "Cy"),
        ("one better mood", "Cy"),
        ("the top-band score", "Cy"),
    ],
)
async def test_one_piece_of_evidence_less_and_the_suggestion_is_gone(session, what, person) -> None:
    world = await _risk_world(session)
    shown = {s.person_name: s for s in await signal_risks.flight_risks(session, today=TODAY)}
    before = set(shown)
    assert person in before
    assert " showing 3 of 4 signs " in shown[person].summary
    await _removed(world, what)
    after = {s.person_name for s in await signal_risks.flight_risks(session, today=TODAY)}
    assert after == before - {person}


async def test_the_signs_just_outside_their_windows_still_count(session) -> None:
    world = await _risk_world(session)
    await world.w.feedback("Ben", TODAY - timedelta(days=91), giver="Pia")
    await world.w.fill("Ben", date(2024, 7, 19))
    await world.w.fill("Ben", TODAY + timedelta(days=1))  # not yet: ignored
    await world.w.fill("Ben", date(2026, 1, 5), source="external")  # not internal: not a promotion
    ben = next(s for s in await signal_risks.flight_risks(session, today=TODAY) if s.person_name == "Ben")
    assert [e.label for e in ben.evidence] == [
        "High potential",
        "No development action",
        "No feedback since 20 Apr 2026",
        "No promotion in 24 months",
    ]
    assert ben.evidence[3].detail == "Their last internal move was on 19 Jul 2024."


async def test_a_newcomer_shows_no_promotion_sign_and_one_sign_is_not_enough(session) -> None:
    world = await _risk_world(session)
    found = {s.person_name for s in await signal_risks.flight_risks(session, today=TODAY)}
    assert "Eve" not in found
    # Her action done: no development action and no feedback make two, and as a newcomer no third.
    await session.execute(
        update(DevelopmentAction)
        .where(DevelopmentAction.id == world.w.ids["Eve/action0"])
        .values(status="done")
    )
    found = {s.person_name for s in await signal_risks.flight_risks(session, today=TODAY)}
    assert "Eve" not in found
    # Joined 24 months ago to the day: the sign shows, and that makes three.
    await session.execute(
        update(Person).where(Person.id == world.w.ids["Eve"]).values(hire_date=date(2024, 7, 20))
    )
    eve = next(s for s in await signal_risks.flight_risks(session, today=TODAY) if s.person_name == "Eve")
    assert [e.label for e in eve.evidence] == [
        "High performer",
        "No development action",
        "No feedback received",
        "No promotion in 24 months",
    ]


async def test_two_signs_are_not_enough(session) -> None:
    world = await _risk_world(session)
    ids = world.w.ids
    found = {s.person_name for s in await signal_risks.flight_risks(session, today=TODAY)}
    assert "Hal" not in found, "no feedback and no promotion: two signs"
    # His open action closed: a third sign, and he is suggested with exactly the three.
    await session.execute(
        update(DevelopmentAction).where(DevelopmentAction.id == ids["Hal/action1"]).values(status="cancelled")
    )
    hal = next(s for s in await signal_risks.flight_risks(session, today=TODAY) if s.person_name == "Hal")
    assert hal.score == 0.6
    assert hal.summary == (
        "High performer showing 3 of 4 signs of leaving: "
        "no open development action, no feedback in 90 days and no promotion in 24 months."
    )
    assert hal.evidence == (
        Evidence(
            EvidenceKind.TALENT_ENTRY,
            ids["2025 talent review/Hal"],
            "High performer",
            "2025 talent review: performance high, potential medium",
            date(2026, 2, 1),
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No development action",
            "Their development plan has no open action (2 done or cancelled).",
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No feedback received",
            "Nothing received in the 90 days up to 20 Jul 2026, nor ever before.",
        ),
        Evidence(
            EvidenceKind.FIGURE,
            None,
            "No promotion in 24 months",
            "No internal move recorded since they joined on 1 Jan 2020.",
        ),
    )


# --- rating bias -------------------------------------------------------------------------------------------

Q2 = (date(2026, 4, 1), date(2026, 6, 30))
# Manager → their reports' (manager-submitted score, goal achievement, peer feedback rating 1-5).
TEAMS = {
    "Lena": ([4.5, 4.5, 4.0, 5.0, 4.5, 4.0], [0.7, 0.65, 0.75, 0.7, 0.65, 0.75], [4, 4, 3, 4, 4, 3]),
    "Sam": ([2.0, 1.5, 2.0, 2.5, 2.0], [0.7, 0.7, 0.6, 0.65, 0.7], [3, 3, 4, 3, 4]),
    "Avery": ([3.0, 3.5, 3.0, 2.5, 3.5, 3.0], [0.6, 0.5, 0.7, 0.55, 0.6, 0.65], [3, 4, 3, 3, 3, 4]),
    "Ari": ([3.5, 3.0, 3.0, 3.5, 2.5, 3.0], [0.55, 0.6, 0.65, 0.6, 0.5, 0.7], [4, 3, 3, 3, 4, 3]),
    "Tara": ([4.5, 4.0, 4.5, 4.5, 4.0, 4.5], [0.95, 1.0, 0.9, 0.95, 1.0, 0.9], [5, 5, 5, 4, 5, 5]),
    "Xia": ([5.0, 5.0, 5.0], [0.6, 0.6, 0.6], [3, 3, 3]),
}
# Avery's first report also has a submitted peer review rating 5 and 3 (on the cycle's 5-point scale).
PEER_REVIEW = (5, 3)


@dataclass
class BiasWorld:
    w: World
    cycle_id: int
    peers: dict[str, list[float]]  # report → their peer ratings rescaled to 0..1, as the rule pools them
    goals: dict[str, float]
    ratings: dict[str, float]
    team: dict[str, str]  # report → manager


async def _bias_world(session: AsyncSession) -> BiasWorld:
    w = World(session)
    cycle_id = await w.cycle("2026-Q2 review", *Q2, "calibration")
    await w.person("Pia")
    world = BiasWorld(w, cycle_id, {}, {}, {}, {})
    for manager, (ratings, goals, peers) in TEAMS.items():
        await w.person(manager)
        for n, (rating, goal, peer) in enumerate(zip(ratings, goals, peers, strict=True)):
            name = f"{manager}'s report {n + 1}"
            await w.person(name, manager=manager)
            await w.participant("2026-Q2 review", name, manager=manager, computed=rating, final=3.0)
            await w.add(
                Goal(
                    owner_type="person",
                    owner_person_id=w.ids[name],
                    title="Deliver",
                    period_label="2026-Q2",
                    period_start=Q2[0],
                    period_end=Q2[1],
                    visibility="public",
                    kind="business",
                    progress=goal,
                )
            )
            await w.feedback(name, date(2026, 5, 4), giver="Pia", rating=peer)
            world.ratings[name], world.goals[name], world.team[name] = rating, goal, manager
            world.peers[name] = [(peer - 1) / 4]
    # None of these count: a development goal, a goal of another period, the manager's own rating on a tag,
    # feedback outside the period, a peer review still a draft, an unrated participant.
    first = "Lena's report 1"
    for kind, start, end in (("development", *Q2), ("business", date(2026, 7, 1), date(2026, 9, 30))):
        await w.add(
            Goal(
                owner_type="person",
                owner_person_id=w.ids[first],
                title="Other",
                period_label="x",
                period_start=start,
                period_end=end,
                visibility="public",
                kind=kind,
                progress=0.0,
            )
        )
    await w.feedback(first, date(2026, 5, 5), giver="Lena", rating=5)
    await w.feedback(first, date(2026, 7, 1), giver="Pia", rating=1)
    await w.person("Unrated", manager="Lena")
    await w.participant("2026-Q2 review", "Unrated", manager="Lena")
    # Avery's first report: a submitted peer review with two ratings, and a draft one.
    reviewee = "Avery's report 1"
    for status, reviewer in (("submitted", "Pia"), ("draft", "Ari's report 1")):
        review = await w.add(
            Review(
                cycle_id=cycle_id,
                participant_id=w.ids[f"2026-Q2 review/{reviewee}"],
                reviewee_id=w.ids[reviewee],
                reviewer_id=w.ids[reviewer],
                role="peer",
                status=status,
                created_at=AT,
                updated_at=AT,
            )
        )
        for key, rating in zip(("q1", "q2"), PEER_REVIEW, strict=True):
            await w.add(
                ReviewAnswer(
                    review_id=review,
                    section_id=w.ids["section"],
                    item_key=key,
                    rating=rating,
                    version=1,
                    updated_at=AT,
                )
            )
    world.peers[reviewee] += [(r - 1) / 4 for r in PEER_REVIEW]
    return world


def _expected(world: BiasWorld, manager: str) -> dict[str, tuple[float, int, float, int, float, float]]:
    """Worked out independently: (team mean, n, org mean, org n, org sd, d) per measure."""
    values = {
        "rating": world.ratings,
        "goals": world.goals,
        "peers": {p: statistics.mean(v) for p, v in world.peers.items()},
    }
    out = {}
    for key, by_person in values.items():
        team = [v for p, v in by_person.items() if world.team[p] == manager]
        org = [v for p, v in by_person.items() if world.team[p] != manager]
        sd = statistics.stdev(org)
        out[key] = (
            statistics.mean(team),
            len(team),
            statistics.mean(org),
            len(org),
            sd,
            (statistics.mean(team) - statistics.mean(org)) / sd,
        )
    return out


def _figures(world: BiasWorld, manager: str) -> tuple[Evidence, ...]:
    e = _expected(world, manager)
    tm, n, om, on, sd, d = e["rating"]
    ratings = Evidence(
        EvidenceKind.FIGURE,
        None,
        "Their ratings against the organization's",
        f"Mean {tm:.2f} of 5 over {n} reports (manager-submitted scores, before calibration) against "
        f"{om:.2f} over the {on} other people rated in this cycle (standard deviation {sd:.2f}): "
        f"{d:+.2f} standard deviations, z = {d * math.sqrt(n):+.2f}.",
        Q2[1],
    )

    def result(label, what, who, key):
        rm, rn, rom, ron, rsd, rd = e[key]
        word = "average" if abs(rd) < 0.5 else ("above average" if rd > 0 else "below average")
        return Evidence(
            EvidenceKind.FIGURE,
            None,
            label,
            f"{what} {rm * 100:.0f} % over {rn} {who} against {rom * 100:.0f} % over {ron} others (standard "
            f"deviation {rsd * 100:.0f} %): {rd:+.2f} standard deviations, {word}; "
            f"their ratings differ by {d - rd:+.2f} more.",
            Q2[1],
        )

    return (
        ratings,
        result(
            "Their team's goal results",
            "Mean goal achievement",
            "reports with goals in the cycle's period",
            "goals",
        ),
        result(
            "Peer feedback on their team",
            "Mean peer rating",
            "reports rated by peers (reviews in this cycle, feedback in its period)",
            "peers",
        ),
    )


async def test_a_lenient_and_a_severe_manager_are_flagged_with_their_figures(session) -> None:
    world = await _bias_world(session)
    ids = world.w.ids
    found = await signal_risks.rating_bias(session, cycle_id=world.cycle_id)
    assert [(s.person_name, s.target_key) for s in found] == [("Sam", "severe"), ("Lena", "lenient")], (
        "Avery and Ari rate like everyone, Tara's team's results explain her ratings, Xia has 3 reports"
    )
    sam, lena = found
    assert (lena.kind, lena.person_id, lena.department, lena.target_label) == (
        SignalKind.RATING_BIAS,
        ids["Lena"],
        "Engineering",
        "Rates leniently",
    )
    e = _expected(world, "Lena")
    assert e["rating"][1] == 6 and round(e["rating"][5], 2) == 1.01, "the hand-made numbers"
    assert round(e["goals"][5], 2) == 0.04 and round(e["peers"][5], 2) == -0.02
    assert lena.summary == (
        f"Rates higher than the organization: mean 4.42 vs {e['rating'][2]:.2f} (n = 6) while their team's "
        "goal results are average and peer feedback on their team is average."
    )
    assert lena.evidence == _figures(world, "Lena")
    gap = e["rating"][5] - max(e["goals"][5], e["peers"][5])
    assert lena.score == round(min(1.0, gap / 2), 2)

    s = _expected(world, "Sam")
    assert sam.target_label == "Rates severely"
    assert sam.summary.startswith(
        f"Rates lower than the organization: mean 2.00 vs {s['rating'][2]:.2f} (n = 5) while "
    )
    assert sam.evidence == _figures(world, "Sam")
    assert sam.score == round(min(1.0, abs(s["rating"][5] - min(s["goals"][5], s["peers"][5])) / 2), 2)


async def test_a_lenient_manager_whose_team_results_are_as_high_is_not_flagged(session) -> None:
    world = await _bias_world(session)
    reports = [p for p, m in world.team.items() if m == "Lena"]
    await session.execute(
        update(Goal)
        .where(Goal.owner_person_id.in_([world.w.ids[p] for p in reports]), Goal.title == "Deliver")
        .values(progress=0.97)
    )
    found = await signal_risks.rating_bias(session, cycle_id=world.cycle_id)
    assert [s.person_name for s in found] == ["Sam"]


async def test_without_goal_results_or_peer_feedback_the_ratings_alone_decide(session) -> None:
    world = await _bias_world(session)
    await session.execute(delete(Goal))
    await session.execute(delete(Feedback))
    await session.execute(delete(Review))
    found = await signal_risks.rating_bias(session, cycle_id=world.cycle_id)
    lena = next(s for s in found if s.person_name == "Lena")
    assert lena.summary.endswith(", with no goal results or peer feedback to compare.")
    assert [e.detail for e in lena.evidence[1:]] == [
        "Not compared: fewer than 3 of their reports (or too few others) have any."
    ] * 2


async def test_a_team_of_four_is_too_small(session) -> None:
    world = await _bias_world(session)
    # Lena down to four rated reports: not compared at all, however lenient.
    await session.execute(
        update(ReviewParticipant)
        .where(
            ReviewParticipant.id.in_(
                [world.w.ids["2026-Q2 review/Lena's report 1"], world.w.ids["2026-Q2 review/Lena's report 2"]]
            )
        )
        .values(computed_score=None)
    )
    found = await signal_risks.rating_bias(session, cycle_id=world.cycle_id)
    assert [s.person_name for s in found] == ["Sam"]


async def test_an_unknown_cycle_is_not_found(session) -> None:
    with pytest.raises(NotFound):
        await signal_risks.rating_bias(session, cycle_id=999_999)


async def test_calibration_flags_are_for_calibrators_never_about_themselves_and_audited(session) -> None:
    world = await _bias_world(session)
    ids = world.w.ids
    for name, role in (("Hana", "hr_admin"), ("Lena", "talent_reviewer")):
        if name not in ids:
            await world.w.person(name)
        await world.w.add(RoleGrant(person_id=ids[name], role=role))
    hana, lena, pia = [await load_actor(session, ids[n]) for n in ("Hana", "Lena", "Pia")]
    managers = [ids[m] for m in TEAMS]

    flags = await signal_risks.calibration_flags(
        session, actor=hana, cycle_id=world.cycle_id, manager_ids=managers
    )
    assert sorted(flags) == sorted([ids["Lena"], ids["Sam"]])
    audits = (
        await session.scalars(select(AuditEntry).where(AuditEntry.action == "talent.rating_bias.view"))
    ).all()
    assert [(a.actor_id, a.subject_type, a.subject_id, a.detail) for a in audits] == [
        (ids["Hana"], "review_cycle", world.cycle_id, {"managers": sorted([ids["Lena"], ids["Sam"]])})
    ]
    # Only the managers shown, never the reader's own flag.
    flags = await signal_risks.calibration_flags(
        session, actor=lena, cycle_id=world.cycle_id, manager_ids=managers
    )
    assert list(flags) == [ids["Sam"]]
    assert (
        await signal_risks.calibration_flags(
            session, actor=hana, cycle_id=world.cycle_id, manager_ids=[ids["Avery"]]
        )
        == {}
    )
    with pytest.raises(Forbidden):
        await signal_risks.calibration_flags(
            session, actor=pia, cycle_id=world.cycle_id, manager_ids=managers
        )

"""The bridge's signals on small hand-made worlds (tests/support/signal_world.py), on both databases.

For each signal: the suggestion appears with exactly the evidence that produced it, and is gone once one
piece of that evidence is removed or changed. Then the aggregator: who may list suggestions, that the
actor never sees their own, scopes, and that a decided suggestion is no longer listed.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from domain import signals
from domain.errors import Forbidden
from domain.signal_views import EvidenceKind, SignalKind, Suggestion
from storage.models import (
    AuditEntry,
    CompetencyAssessment,
    DevelopmentAction,
    Feedback,
    Goal,
    Person,
    Position,
    ReviewParticipant,
    Successor,
)
from tests.support.signal_world import (
    ENGINEERING,
    FINANCE,
    MARKETING,
    PRODUCT,
    SALES,
    TODAY,
    SignalWorld,
)

E = EvidenceKind
Q2_25 = ("2025-Q2", date(2025, 4, 1), date(2025, 6, 30))
Q3_25 = ("2025-Q3", date(2025, 7, 1), date(2025, 9, 30))
Q4_25 = ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31))
Q1_26 = ("2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
Q2_26 = ("2026-Q2", date(2026, 4, 1), date(2026, 6, 30))  # not over on TODAY


@pytest.fixture
def world(session) -> SignalWorld:
    return SignalWorld(session)


def evidence_of(
    found: list[Suggestion] | tuple[Suggestion, ...], person_id: int
) -> set[tuple[EvidenceKind, int | None]]:
    (only,) = [s for s in found if s.person_id == person_id]
    return {(e.kind, e.ref_id) for e in only.evidence}


def about(found: list[Suggestion] | tuple[Suggestion, ...], person_id: int) -> list[Suggestion]:
    return [s for s in found if s.person_id == person_id]


# --- 1. promotion readiness ------------------------------------------------------------------------------


async def _achiever(w: SignalWorld) -> None:
    """Pia reached ≥ 85 % in each of her last three finished quarters, after a weak one; her latest review
    (2025, 4 of 5) is above medium. Paul has two good quarters only."""
    await w.person("Pia", ENGINEERING)
    await w.person("Paul", ENGINEERING)
    await w.goal("Pia Q2-25", "Pia", Q2_25, progress=0.3)
    await w.goal("Pia Q3-25", "Pia", Q3_25, progress=0.5, final_score=0.9)
    await w.goal("Pia Q4-25", "Pia", Q4_25, progress=0.95)
    await w.goal("Pia Q1-26 a", "Pia", Q1_26, progress=0.95)
    await w.goal("Pia Q1-26 b", "Pia", Q1_26, progress=0.8)
    await w.goal("Pia Q2-26", "Pia", Q2_26, progress=0.2)  # this quarter: not over
    await w.goal("Pia learning", "Pia", Q4_25, progress=0.1, kind="development")
    await w.goal("Paul Q4-25", "Paul", Q4_25, progress=1.0)
    await w.goal("Paul Q1-26", "Paul", Q1_26, progress=1.0)
    await w.cycle("2024 review", date(2024, 1, 1), date(2024, 12, 31))
    await w.cycle("2025 review", date(2025, 1, 1), date(2025, 12, 31))
    await w.participant("Pia 2024", "2024 review", "Pia", 2.0)
    await w.participant("Pia 2025", "2025 review", "Pia", 4.0)


async def test_promotion_readiness_rests_on_three_achieved_periods_and_the_latest_review(session, world):
    w = world
    await _achiever(w)
    found = await signals.promotion_readiness(session, today=TODAY)
    assert [s.person_id for s in found] == [w.ids["Pia"]]
    (pia,) = found
    assert pia.kind is SignalKind.PROMOTION_READINESS and pia.target_key == ""
    assert evidence_of(found, w.ids["Pia"]) == {
        (E.GOAL, w.ids["Pia Q3-25"]),
        (E.GOAL, w.ids["Pia Q4-25"]),
        (E.GOAL, w.ids["Pia Q1-26 a"]),
        (E.GOAL, w.ids["Pia Q1-26 b"]),
        (E.REVIEW_SCORE, w.ids["Pia 2025"]),
    }
    # 0.75 · mean(0.9, 0.95, 0.875) + 0.25 · (4 - 1) / 4
    assert pia.score == pytest.approx(0.75 * (0.9 + 0.95 + 0.875) / 3 + 0.25 * 0.75, abs=1e-3)
    assert 0 <= pia.score <= 1

    # Without the goal that lifted 2026-Q1 above 85 %, the quarter falls short: no suggestion.
    await w.delete(Goal, "Pia Q1-26 a")
    assert await signals.promotion_readiness(session, today=TODAY) == []


async def test_promotion_readiness_is_vetoed_by_a_low_latest_review(session, world):
    w = world
    await _achiever(w)
    await session.execute(
        update(ReviewParticipant).where(ReviewParticipant.id == w.ids["Pia 2025"]).values(final_score=2.5)
    )
    assert await signals.promotion_readiness(session, today=TODAY) == []
    # person_ids narrows the people considered.
    await session.execute(
        update(ReviewParticipant).where(ReviewParticipant.id == w.ids["Pia 2025"]).values(final_score=3.0)
    )
    assert len(await signals.promotion_readiness(session, today=TODAY, person_ids=[w.ids["Pia"]])) == 1
    assert await signals.promotion_readiness(session, today=TODAY, person_ids=[w.ids["Paul"]]) == []


# --- 2. development program ------------------------------------------------------------------------------


async def _grower(w: SignalWorld, *, pool: bool = True) -> None:
    """Dan: one item on Communication (3/5) in the earlier half-year, three better ones in the last; an
    anonymous 5/5 and a tag naming no competency are not read. "Future leaders" is a development pool."""
    await w.competency("Communication", "behaviours")
    await w.competency("Ownership", "behaviours")
    for name in ("Dan", "Gia", "Gus", "Gwen"):
        await w.person(name, ENGINEERING)
    await w.pool("Board members")  # no development word in its name
    if pool:
        await w.pool("Future leaders")
    await w.feedback("Dan 1", "Dan", "Gia", date(2025, 9, 1), {"Communication": 3})
    await w.feedback("Dan 2", "Dan", "Gus", date(2026, 1, 10), {"communication": 4})
    await w.feedback("Dan 3", "Dan", "Gwen", date(2026, 3, 1), {"Ownership": 4, "Communication": 4})
    await w.feedback("Dan 4", "Dan", "Gia", date(2026, 5, 1), {"Communication": 5, "teamwork": 1})
    await w.feedback("Dan anon", "Dan", "Gus", date(2026, 5, 2), {"Communication": 5}, visibility="anonymous")
    await w.feedback("Dan old", "Dan", "Gus", date(2025, 5, 1), {"Communication": 1})  # over a year ago


async def test_development_program_rests_on_the_growing_feedback(session, world):
    w = world
    await _grower(w)
    found = await signals.development_program(session, today=TODAY)
    (dan,) = found
    assert dan.person_id == w.ids["Dan"]
    assert dan.target_key == f"pool:{w.ids['Future leaders']}"
    assert evidence_of(found, w.ids["Dan"]) == {
        (E.FEEDBACK, w.ids["Dan 1"]),
        (E.FEEDBACK, w.ids["Dan 2"]),
        (E.FEEDBACK, w.ids["Dan 3"]),
        (E.FEEDBACK, w.ids["Dan 4"]),
        (E.FIGURE, None),
    }
    # Only competency ratings are listed; the giver of anonymous feedback is never named.
    details = {e.ref_id: e.detail for e in dan.evidence}
    assert details[w.ids["Dan 4"]] == "Communication 5/5"
    assert all("teamwork" not in e.detail for e in dan.evidence)

    await w.delete(Feedback, "Dan 3")
    assert await signals.development_program(session, today=TODAY) == []


async def test_development_program_leaves_out_members_of_the_pool(session, world):
    w = world
    await _grower(w)
    await w.member("Future leaders", "Dan")
    assert await signals.development_program(session, today=TODAY) == []


async def test_development_program_without_a_development_pool_targets_nothing(session, world):
    w = world
    await _grower(w, pool=False)
    (dan,) = await signals.development_program(session, today=TODAY)
    assert (dan.target_key, dan.target_label) == ("", None)
    await w.delete(Feedback, "Dan 1")  # no earlier half: no trend
    assert await signals.development_program(session, today=TODAY) == []


# --- 3. succession candidate -----------------------------------------------------------------------------


async def _strong_mover(w: SignalWorld) -> None:
    """Sam: 4.2 in Engineering (2024), 4.0 in Product (2025); assessed Leading 4, Strategy 3 against the
    Director profile (both 4): 87.5 % ready. Two critical Director positions: Sam is already on one."""
    await w.competency("Leading people", "leadership")
    await w.competency("Strategy", "leadership")
    await w.profile("Engineer", "Engineer", {})
    await w.profile("Director", None, {"Leading people": 4, "Strategy": 4})
    await w.person("Sam", PRODUCT, title="Engineer")
    await w.person("Dora", PRODUCT)
    await w.position("Director of Product", PRODUCT, profile="Director", incumbent="Dora")
    await w.position("Director of Sales", SALES, profile="Director")
    await w.position("Team lead", PRODUCT, profile="Director", critical=False)
    await w.successor("Director of Sales", "Sam", "1_2_years")
    await w.cycle("2024 review", date(2024, 1, 1), date(2024, 12, 31))
    await w.cycle("2025 review", date(2025, 1, 1), date(2025, 12, 31))
    await w.participant("Sam 2024", "2024 review", "Sam", 4.2, department=ENGINEERING)
    await w.participant("Sam 2025", "2025 review", "Sam", 4.0, department=PRODUCT)
    await w.assess("Sam leading", "Sam", "Leading people", 4, date(2026, 1, 10))
    await w.assess("Sam strategy old", "Sam", "Strategy", 1, date(2024, 1, 10))
    await w.assess("Sam strategy", "Sam", "Strategy", 3, date(2026, 1, 10))


async def test_succession_candidate_rests_on_strong_reviews_in_two_roles_and_the_fit(session, world):
    w = world
    await _strong_mover(w)
    found = await signals.succession_candidate(session, today=TODAY)
    (sam,) = found
    assert sam.target_key == f"position:{w.ids['Director of Product']}"
    assert sam.target_label == "Director of Product"
    assert evidence_of(found, w.ids["Sam"]) == {
        (E.REVIEW_SCORE, w.ids["Sam 2024"]),
        (E.REVIEW_SCORE, w.ids["Sam 2025"]),
        (E.ROLE_PROFILE, w.ids["Director"]),
        (E.ASSESSMENT, w.ids["Sam leading"]),
        (E.ASSESSMENT, w.ids["Sam strategy"]),
    }
    assert "87.5 %" in next(e.detail for e in sam.evidence if e.kind is E.ROLE_PROFILE)

    await session.execute(
        update(ReviewParticipant).where(ReviewParticipant.id == w.ids["Sam 2025"]).values(final_score=3.5)
    )
    assert await signals.succession_candidate(session, today=TODAY) == []


async def test_succession_candidate_in_one_department_needs_an_internal_move(session, world):
    w = world
    await _strong_mover(w)
    await session.execute(
        update(ReviewParticipant)
        .where(ReviewParticipant.id == w.ids["Sam 2025"])
        .values(department=ENGINEERING)
    )
    assert await signals.succession_candidate(session, today=TODAY) == []
    await w.position("Staff engineer", ENGINEERING, critical=False)
    await w.fill("Staff engineer", "Sam", date(2025, 2, 1))
    found = await signals.succession_candidate(session, today=TODAY)
    assert (E.POSITION, w.ids["Staff engineer"]) in evidence_of(found, w.ids["Sam"])
    # Weaker fit than required: nothing.
    await w.delete(CompetencyAssessment, "Sam strategy")  # Strategy falls back to the 2024 level 1
    assert await signals.succession_candidate(session, today=TODAY) == []


# --- 4. high potential -----------------------------------------------------------------------------------


async def _leader(w: SignalWorld) -> None:
    """Hana: Leading people 4/5 (over an older 2/5) and Strategy 4/5. Hugo the same, already flagged."""
    await w.competency("Leading people", "leadership")
    await w.competency("Strategy", "leadership")
    await w.competency("Coding", "functional")
    for name in ("Hana", "Hugo"):
        await w.person(name, ENGINEERING)
        await w.assess(f"{name} leading old", name, "Leading people", 2, date(2024, 1, 1))
        await w.assess(f"{name} leading", name, "Leading people", 4, date(2026, 2, 1))
        await w.assess(f"{name} strategy", name, "Strategy", 4, date(2026, 2, 1))
        await w.assess(f"{name} coding", name, "Coding", 5, date(2026, 2, 1))
    await w.talent_entry("Hugo", high_potential=True)
    await w.talent_entry("Hana", high_potential=False)


async def test_high_potential_rests_on_the_latest_leadership_assessments(session, world):
    w = world
    await _leader(w)
    found = await signals.high_potential(session, today=TODAY)
    assert [s.person_id for s in found] == [w.ids["Hana"]]
    assert evidence_of(found, w.ids["Hana"]) == {
        (E.ASSESSMENT, w.ids["Hana leading"]),
        (E.ASSESSMENT, w.ids["Hana strategy"]),
    }
    assert found[0].score == pytest.approx(0.8)

    await w.delete(CompetencyAssessment, "Hana strategy")
    assert await signals.high_potential(session, today=TODAY) == []


# --- 5. career path --------------------------------------------------------------------------------------


async def _stretcher(w: SignalWorld) -> None:
    """Cara (Engineer) did a stretch assignment whose goal reached 90 %; she meets Senior Engineer (a step
    up) fully and Designer (lateral) too: the step up is recommended."""
    await w.competency("Coding")
    await w.competency("Mentoring")
    await w.competency("Design")
    await w.profile("Engineer", "Engineer", {"Coding": 3})
    await w.profile("Senior Engineer", "Senior Engineer", {"Coding": 4, "Mentoring": 3})
    await w.profile("Designer", "Designer", {"Design": 2})
    await w.step("Engineer", "Senior Engineer", "ladder")
    await w.step("Engineer", "Designer", "lateral")
    await w.person("Cara", ENGINEERING, title="Engineer")
    await w.goal("Cara migration", "Cara", Q1_26, progress=0.9)
    await w.action("Lead the migration", "Cara", goal="Cara migration", completed=date(2026, 3, 20))
    await w.action("Run the offsite", "Cara", status="in_progress")
    await w.action("Mentor two juniors", "Cara", kind="mentoring", completed=date(2026, 3, 20))
    await w.assess("Cara coding", "Cara", "Coding", 4, date(2026, 4, 1))
    await w.assess("Cara mentoring", "Cara", "Mentoring", 3, date(2026, 4, 1))
    await w.assess("Cara design", "Cara", "Design", 2, date(2026, 4, 1))


async def test_career_path_rests_on_the_stretch_assignment_its_goal_and_the_next_role(session, world):
    w = world
    await _stretcher(w)
    found = await signals.career_path(session, today=TODAY)
    (cara,) = found
    assert cara.target_key == f"role:{w.ids['Senior Engineer']}"
    assert evidence_of(found, w.ids["Cara"]) == {
        (E.DEVELOPMENT_ACTION, w.ids["Lead the migration"]),
        (E.GOAL, w.ids["Cara migration"]),
        (E.ROLE_PROFILE, w.ids["Senior Engineer"]),
    }

    # The stretch goal fell short: the assignment no longer counts.
    await session.execute(update(Goal).where(Goal.id == w.ids["Cara migration"]).values(progress=0.5))
    assert await signals.career_path(session, today=TODAY) == []


async def test_career_path_falls_back_to_a_lateral_move_and_needs_the_assignment(session, world):
    w = world
    await _stretcher(w)
    await w.delete(CompetencyAssessment, "Cara mentoring")  # Senior Engineer: 50 % ready
    (cara,) = await signals.career_path(session, today=TODAY)
    assert cara.target_key == f"role:{w.ids['Designer']}"
    await w.delete(DevelopmentAction, "Lead the migration")
    assert await signals.career_path(session, today=TODAY) == []


# --- 6. cross-functional ---------------------------------------------------------------------------------


async def _collaborator(w: SignalWorld) -> None:
    """Cleo (Engineering) is rated on collaboration by Sales (5) and Marketing (4); her own department's 2
    and an anonymous Finance 1 are not read."""
    await w.person("Cleo", ENGINEERING)
    await w.person("Sid", SALES)
    await w.person("Mia", MARKETING)
    await w.person("Eddie", ENGINEERING)
    await w.person("Fay", FINANCE)
    await w.feedback("Cleo sales", "Cleo", "Sid", date(2026, 2, 1), {"Collaboration": 5})
    await w.feedback("Cleo marketing", "Cleo", "Mia", date(2026, 4, 1), {"cross-team collaborator": 4})
    await w.feedback("Cleo eng", "Cleo", "Eddie", date(2026, 4, 2), {"Collaboration": 2})
    await w.feedback(
        "Cleo anon", "Cleo", "Fay", date(2026, 4, 3), {"Collaboration": 1}, visibility="anonymous"
    )
    await w.feedback("Cleo untagged", "Cleo", "Fay", date(2026, 4, 4), {"Ownership": 5})


async def test_cross_functional_rests_on_collaboration_feedback_from_other_departments(session, world):
    w = world
    await _collaborator(w)
    found = await signals.cross_functional(session, today=TODAY)
    (cleo,) = found
    assert evidence_of(found, w.ids["Cleo"]) == {
        (E.FEEDBACK, w.ids["Cleo sales"]),
        (E.FEEDBACK, w.ids["Cleo marketing"]),
    }
    assert cleo.target_key == ""

    await w.delete(Feedback, "Cleo marketing")
    assert await signals.cross_functional(session, today=TODAY) == []


# --- 7. development objective ----------------------------------------------------------------------------


async def _thin_slate(w: SignalWorld) -> None:
    """VP Engineering expects Leading 5 and Strategy 4; nobody on its slate is ready now. Olga (1-2 years)
    is 2 short on Leading; Omar (3-5 years) is 2 short on Strategy, which he is already working on, and 1
    short on Leading. CTO's slate has someone ready now: no objective there."""
    await w.competency("Leading people", "leadership")
    await w.competency("Strategy", "leadership")
    await w.profile("VP", None, {"Leading people": 5, "Strategy": 4})
    for name in ("Olga", "Omar", "Rita"):
        await w.person(name, ENGINEERING)
    await w.position("VP Engineering", ENGINEERING, profile="VP")
    await w.position("CTO", ENGINEERING, profile="VP")
    await w.successor("VP Engineering", "Olga", "1_2_years")
    await w.successor("VP Engineering", "Omar", "3_5_years")
    await w.successor("CTO", "Olga", "1_2_years")
    await w.successor("CTO", "Rita", "ready_now")
    await w.assess("Olga leading", "Olga", "Leading people", 3, date(2026, 1, 1))
    await w.assess("Olga strategy", "Olga", "Strategy", 4, date(2026, 1, 1))
    await w.assess("Omar leading", "Omar", "Leading people", 4, date(2026, 1, 1))
    await w.assess("Omar strategy", "Omar", "Strategy", 2, date(2026, 1, 1))
    await w.action("Strategy course", "Omar", kind="course", status="in_progress", competency="Strategy")


async def test_development_objective_rests_on_the_position_its_profile_and_the_gap(session, world):
    w = world
    await _thin_slate(w)
    found = await signals.development_objective(session, today=TODAY)
    vp, leading = w.ids["VP Engineering"], w.ids["Leading people"]
    assert {(s.person_id, s.target_key) for s in found} == {
        (w.ids["Olga"], f"position:{vp}:competency:{leading}"),
        (w.ids["Omar"], f"position:{vp}:competency:{leading}"),
    }
    assert evidence_of(found, w.ids["Olga"]) == {
        (E.POSITION, vp),
        (E.ROLE_PROFILE, w.ids["VP"]),
        (E.ASSESSMENT, w.ids["Olga leading"]),
    }
    assert evidence_of(found, w.ids["Omar"]) == {
        (E.POSITION, vp),
        (E.ROLE_PROFILE, w.ids["VP"]),
        (E.ASSESSMENT, w.ids["Omar leading"]),
    }
    olga, omar = (next(s for s in found if s.person_id == w.ids[n]) for n in ("Olga", "Omar"))
    assert olga.score > omar.score  # closer to ready, larger gap

    await w.delete(CompetencyAssessment, "Olga leading")
    assert about(await signals.development_objective(session, today=TODAY), w.ids["Olga"]) == []
    # Someone ready now on the slate: no objective for anyone.
    await session.execute(
        update(Successor).where(Successor.id == w.ids["Omar on VP Engineering"]).values(readiness="ready_now")
    )
    assert await signals.development_objective(session, today=TODAY) == []


# --- the aggregator --------------------------------------------------------------------------------------


async def _office(w: SignalWorld) -> None:
    """Megan (HR) and Hana (Engineering) both look like high potentials; Tess reviews talent in Sales;
    Eli is an employee."""
    await _leader(w)
    await w.person("Megan", "People")
    await w.assess("Megan leading", "Megan", "Leading people", 5, date(2026, 2, 1))
    await w.assess("Megan strategy", "Megan", "Strategy", 5, date(2026, 2, 1))
    await w.grant("Megan", "hr_admin")
    await w.person("Tess", SALES)
    await w.grant("Tess", "talent_reviewer", SALES)
    await w.person("Eli", ENGINEERING)


ALL_BUT_FLIGHT = [kind for kind in signals.DEFAULT_KINDS if kind is not SignalKind.FLIGHT_RISK]


async def test_suggestions_are_for_hr_and_talent_reviewers_only(session, world):
    w = world
    await _office(w)
    with pytest.raises(Forbidden):
        await signals.suggestions(session, actor=await w.actor("Eli"), today=TODAY)
    with pytest.raises(Forbidden):
        await signals.suggestions(session, actor=await w.actor("Hana"), today=TODAY, kinds=ALL_BUT_FLIGHT)


async def test_hr_sees_others_never_themselves_and_not_what_was_decided(session, world):
    w = world
    await _office(w)
    megan = await w.actor("Megan")
    # Megan qualifies herself, but never sees it.
    assert {s.person_id for s in await signals.high_potential(session, today=TODAY)} == {
        w.ids["Hana"],
        w.ids["Megan"],
    }
    found = await signals.suggestions(session, actor=megan, today=TODAY, kinds=ALL_BUT_FLIGHT)
    assert [(s.kind, s.person_id) for s in found] == [(SignalKind.HIGH_POTENTIAL, w.ids["Hana"])]
    audited = (await session.scalars(select(AuditEntry).where(AuditEntry.actor_id == megan.person_id))).all()
    assert [a.action for a in audited] == [signals.AUDIT_ACTION]

    await w.decide(SignalKind.HIGH_POTENTIAL.value, "Hana")
    assert await signals.suggestions(session, actor=megan, today=TODAY, kinds=ALL_BUT_FLIGHT) == ()


async def test_every_signal_at_once_sorted_by_score(session, world):
    w = world
    await _achiever(w)
    await _collaborator(w)
    await _thin_slate(w)
    await w.person("Megan", "People")
    await w.grant("Megan", "hr_admin")
    found = await signals.suggestions(
        session, actor=await w.actor("Megan"), today=TODAY, kinds=ALL_BUT_FLIGHT
    )
    assert {s.kind for s in found} == {
        SignalKind.PROMOTION_READINESS,
        SignalKind.CROSS_FUNCTIONAL,
        SignalKind.DEVELOPMENT_OBJECTIVE,
    }
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    # The same, narrowed to Pia.
    only = await signals.suggestions(
        session, actor=await w.actor("Megan"), today=TODAY, kinds=ALL_BUT_FLIGHT, person_ids=[w.ids["Pia"]]
    )
    assert [s.person_id for s in only] == [w.ids["Pia"]]


async def test_a_talent_reviewer_sees_their_scope_only(session, world):
    w = world
    await _office(w)
    await _thin_slate(w)
    tess = await w.actor("Tess")
    # Everyone suggested is in Engineering; Tess reviews Sales.
    assert await signals.suggestions(session, actor=tess, today=TODAY, kinds=ALL_BUT_FLIGHT) == ()
    # Olga moves to Sales: she is in Tess's scope, but the VP Engineering position is not.
    await session.execute(update(Person).where(Person.id == w.ids["Olga"]).values(department=SALES))
    assert await signals.suggestions(session, actor=tess, today=TODAY, kinds=ALL_BUT_FLIGHT) == ()
    await session.execute(
        update(Position).where(Position.id == w.ids["VP Engineering"]).values(department=SALES)
    )
    found = await signals.suggestions(session, actor=tess, today=TODAY, kinds=ALL_BUT_FLIGHT)
    assert [(s.kind, s.person_id) for s in found] == [(SignalKind.DEVELOPMENT_OBJECTIVE, w.ids["Olga"])]


async def test_suggestions_include_flight_risks(session, world):
    w = world
    await _office(w)
    found = await signals.suggestions(session, actor=await w.actor("Megan"), today=TODAY)
    assert all(s.person_id != w.ids["Megan"] for s in found)

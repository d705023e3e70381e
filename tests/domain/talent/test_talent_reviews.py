"""Talent reviews on SQLite and PostgreSQL: opening one over a closed cycle, rating potential, calibration
moves with a reason, finalizing, and who reads what (never oneself; audited).

The closed cycle (built through the review services on the demo organization): Alex's five engineers —
Adele, Isaiah and three generated ones, o1 to o3 — reviewed by Alex with every rating 3 (score 3.00), then
calibrated to Adele 4.50, Isaiah 2.00, o1 3.50, o2 3.00; o3's manager review was never submitted (no
score). With thresholds 2.5 (medium) and 4 (high): Adele high, Isaiah low, o1 and o2 medium, o3 unplaced.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from domain.access import Actor, Role, load_actor
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import calibration, reviews
from domain.performance.review_views import AnswerInput, ItemKind, Phase, ReviewerRole
from domain.talent import talent_reviews as tr
from domain.talent.talent_review_views import DEFAULT_BOX_LABELS, TalentReviewStatus
from storage.models import AuditEntry, Person, TalentReview, TalentReviewEntry, TalentReviewMove
from tests.domain.conftest import REVIEW_NOW, Cast, ReviewKit

NOW = REVIEW_NOW + timedelta(days=60)
SCORES = {"adele": "4.5", "isaiah": "2", "o1": "3.5", "o2": "3"}


@dataclasses.dataclass(frozen=True)
class World:
    cycle_id: int
    people: dict[str, Actor]  # adele, isaiah, o1, o2, o3


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def _manager_review(session, kit: ReviewKit, cycle_id: int, reviewee: Actor, alex: Actor) -> None:
    review_id = await kit.review_id(cycle_id, reviewee, ReviewerRole.MANAGER, alex)
    form = await reviews.review_form(session, actor=alex, review_id=review_id, now=kit.now)
    for section in form.sections:
        answers = {
            i.key: AnswerInput(rating=3) if i.kind is ItemKind.RATING else AnswerInput(text="Fine")
            for i in section.items
            if i.kind is not ItemKind.CHOICE
        }
        form = await reviews.save_step(
            session,
            actor=alex,
            review_id=review_id,
            section_id=section.id,
            answers=answers,
            expected_version=form.version,
            now=kit.now,
        )
    await reviews.submit_review(session, actor=alex, review_id=review_id, now=kit.now)


async def closed_world(session, kit: ReviewKit, cast: Cast, *, close: bool = True) -> World:
    """Alex's team reviewed, calibrated and (unless told otherwise) released and closed."""
    ids = await session.scalars(
        select(Person.id)
        .where(
            Person.manager_id == cast.alex.person_id,
            Person.id.not_in([cast.adele.person_id, cast.isaiah.person_id]),
        )
        .order_by(Person.id)
    )
    others = [await load_actor(session, pid) for pid in ids]
    assert len(others) == 3
    people = {"adele": cast.adele, "isaiah": cast.isaiah, "o1": others[0], "o2": others[1], "o3": others[2]}
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    for key in ("adele", "isaiah", "o1", "o2"):
        await _manager_review(session, kit, cycle.id, people[key], cast.alex)
    await kit.move_to(cycle.id, Phase.CALIBRATION)
    for key, score in SCORES.items():
        if score != "3":
            await calibration.calibrate(
                session,
                actor=cast.megan,
                cycle_id=cycle.id,
                person_id=people[key].person_id,
                score=score,
                reason="Calibrated",
                now=kit.now,
            )
    if close:
        await kit.move_to(cycle.id, Phase.CLOSED)
    return World(cycle.id, people)


async def opened(session, cast: Cast, world: World, **kw) -> int:
    arguments = {"name": "2026 talent review", "medium_from": "2.5", "high_from": "4"} | kw
    summary = await tr.open_talent_review(
        session, actor=cast.megan, performance_cycle_id=world.cycle_id, now=NOW, **arguments
    )
    return summary.id


def reviewer(of: Actor, *scope: str) -> Actor:
    """`of` as a talent reviewer for `scope` (and nothing else)."""
    return dataclasses.replace(
        of, roles=frozenset({Role.EMPLOYEE, Role.TALENT_REVIEWER}), talent_scope=frozenset(scope)
    )


def as_hr(of: Actor) -> Actor:
    return dataclasses.replace(of, roles=of.roles | {Role.HR_ADMIN})


async def rate(session, who: Actor, review_id: int, person: Actor, *levels: int, version: int = 0, **kw):
    ability, aspiration, engagement, risk, impact = levels
    return await tr.rate(
        session,
        actor=who,
        talent_review_id=review_id,
        person_id=person.person_id,
        ability=ability,
        aspiration=aspiration,
        engagement=engagement,
        risk_of_loss=risk,
        impact_of_loss=impact,
        version=version,
        now=NOW,
        **kw,
    )


async def entry(session, review_id: int, person: Actor) -> TalentReviewEntry:
    found = await session.scalar(
        select(TalentReviewEntry)
        .where(
            TalentReviewEntry.talent_review_id == review_id, TalentReviewEntry.person_id == person.person_id
        )
        .execution_options(populate_existing=True)
    )
    assert found is not None
    return found


def placed(view) -> dict[str, str]:
    """Name → cell label of everyone on the 9-box, 'unplaced' for the rest."""
    where = {p.name: cell.label for cell in view.cells for p in cell.people}
    where.update({p.name: "unplaced" for p in view.unplaced})
    return where


# --- the definitions, by hand ------------------------------------------------------------------------------


def test_potential_is_the_sum_of_its_three_inputs_cut_at_4_and_7() -> None:
    assert [tr.potential_from(*levels) for levels in ((1, 1, 1), (1, 1, 2), (2, 1, 2), (3, 3, 1))] == [
        1,
        1,
        2,
        2,
    ]
    assert [tr.potential_from(*levels) for levels in ((3, 2, 2), (2, 3, 3), (3, 3, 3))] == [2, 3, 3]


def test_performance_axis_from_the_thresholds() -> None:
    medium, high = Decimal("2.5"), Decimal("4")
    scores = ["1", "2.49", "2.5", "3.99", "4", "5"]
    assert [tr.performance_from(Decimal(s), medium, high) for s in scores] == [1, 1, 2, 2, 3, 3]
    assert tr.performance_from(None, medium, high) is None


def test_high_potential_needs_high_potential_and_at_least_medium_performance() -> None:
    assert tr.derived_high_potential(3, 2) and tr.derived_high_potential(3, 3)
    assert not tr.derived_high_potential(3, 1)
    assert not tr.derived_high_potential(2, 3), "a high performer of medium potential is not one"
    assert not tr.derived_high_potential(3, None)


# --- opening -----------------------------------------------------------------------------------------------


async def test_opening_places_each_participant_by_their_final_score(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    summary = await tr.open_talent_review(
        session,
        actor=cast.megan,
        name="  2026 talent review ",
        performance_cycle_id=world.cycle_id,
        medium_from="2.5",
        high_from=4,
        now=NOW,
    )
    assert (summary.name, summary.status, summary.people, summary.cycle_name) == (
        "2026 talent review",
        TalentReviewStatus.RATING,
        5,
        "2026-Q1 review",
    )
    rows = {
        e.person_id: e
        for e in await session.scalars(
            select(TalentReviewEntry).where(TalentReviewEntry.talent_review_id == summary.id)
        )
    }
    got = {
        key: (rows[a.person_id].performance_score, rows[a.person_id].performance)
        for key, a in world.people.items()
    }
    assert got == {
        "adele": (4.5, 3),
        "isaiah": (2.0, 1),
        "o1": (3.5, 2),
        "o2": (3.0, 2),
        "o3": (None, None),
    }
    adele = rows[cast.adele.person_id]
    assert (adele.manager_id, adele.department, adele.potential, adele.high_potential, adele.version) == (
        cast.alex.person_id,
        "Engineering",
        None,
        False,
        0,
    )

    # A second submit of the same form opens nothing new.
    again = await tr.open_talent_review(
        session,
        actor=cast.megan,
        name="2026 TALENT review",
        performance_cycle_id=world.cycle_id,
        medium_from="2.5",
        high_from="4",
        now=NOW,
    )
    assert (again.id, again.already_submitted) == (summary.id, True)
    assert await count(session, TalentReview) == 1


async def test_someone_who_left_is_not_in_the_talent_review(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    o1 = await session.get(Person, world.people["o1"].person_id)
    o1.active = False
    await session.flush()
    review_id = await opened(session, cast, world)
    assert await count(session, TalentReviewEntry, TalentReviewEntry.talent_review_id == review_id) == 4


async def test_a_cycle_that_is_not_closed_is_refused(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast, close=False)
    with pytest.raises(Invalid) as refused:
        await opened(session, cast, world)
    assert refused.value.message.startswith(
        "“2026-Q1 review” is in calibration: a talent review reads a closed cycle's results."
    )
    await kit.move_to(world.cycle_id, Phase.RELEASED)
    with pytest.raises(Invalid, match="is released but not closed: a talent review reads a closed cycle"):
        await opened(session, cast, world)
    assert await count(session, TalentReview) == 0
    assert await count(session, TalentReviewEntry) == 0


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "   "}, "name", "Name the talent review"),
        ({"medium_from": "abc"}, "medium_from", "must be a number on the scale, like 3.5, not “abc”"),
        ({"medium_from": ""}, "medium_from", "not nothing"),
        ({"medium_from": "0.5"}, "medium_from", "must lie on the cycle's scale, 1 to 5: 0.5 is outside it"),
        ({"high_from": "5.5"}, "high_from", "1 to 5: 5.5 is outside it"),
        ({"high_from": "NaN"}, "high_from", "must be a number"),
        (
            {"medium_from": "4", "high_from": "3"},
            "high_from",
            "out of order: high performance must start above",
        ),
        ({"medium_from": "3", "high_from": "3"}, "high_from", "(3 is not above 3)"),
        ({"box_labels": ["A"] * 8}, "box_labels", "nine cell names, high potential row first: 8 were given"),
        ({"box_labels": "Enigma"}, "box_labels", "1 was given"),
        ({"box_labels": ["A"] * 4 + [" "] + ["B"] * 4}, "box_labels", "Cell name 5 is empty"),
        ({"box_labels": ["A"] * 8 + [7]}, "box_labels", "Cell name 9 is empty"),
    ],
)
async def test_bad_input_when_opening_is_refused_and_nothing_is_written(
    session, kit, cast, changes, field, words
) -> None:
    world = await closed_world(session, kit, cast)
    with pytest.raises(Invalid) as refused:
        await opened(session, cast, world, **changes)
    assert words in refused.value.message
    assert refused.value.field == field
    assert await count(session, TalentReview) == 0
    assert await count(session, TalentReviewEntry) == 0


async def test_only_hr_opens_and_moves_a_review_on(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    for who in (cast.alex, cast.lynne, reviewer(cast.patti, "*")):
        with pytest.raises(Forbidden):
            await tr.open_talent_review(
                session,
                actor=who,
                name="Mine",
                performance_cycle_id=world.cycle_id,
                medium_from=2.5,
                high_from=4,
                now=NOW,
            )
        with pytest.raises(Forbidden):
            await tr.closed_cycles(session, actor=who)
    review_id = await opened(session, cast, world)
    for step in (tr.start_calibration, tr.finalize):
        with pytest.raises(Forbidden):
            await step(session, actor=cast.alex, talent_review_id=review_id, now=NOW)
    with pytest.raises(Forbidden):
        await tr.set_opened_to_managers(
            session, actor=cast.alex, talent_review_id=review_id, opened=True, now=NOW
        )
    with pytest.raises(NotFound):
        await tr.start_calibration(session, actor=cast.megan, talent_review_id=review_id + 999, now=NOW)
    assert [c.id for c in await tr.closed_cycles(session, actor=cast.megan)] == [world.cycle_id]


async def test_custom_cell_names_are_kept_and_shown(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    names = [f"Box {n}" for n in range(1, 10)]
    review_id = await opened(session, cast, world, box_labels=names)
    view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert [c.label for c in view.cells] == names
    assert [(c.potential, c.performance) for c in view.cells] == [
        (3, 1),
        (3, 2),
        (3, 3),
        (2, 1),
        (2, 2),
        (2, 3),
        (1, 1),
        (1, 2),
        (1, 3),
    ]
    default = await opened(session, cast, world, name="Another")
    assert (
        await tr.nine_box(session, actor=cast.megan, talent_review_id=default)
    ).labels == DEFAULT_BOX_LABELS


# --- rating ------------------------------------------------------------------------------------------------


async def test_rating_derives_potential_and_the_high_potential_flag(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    p = world.people
    # Adele: 3+3+2 = 8 → high potential; performance high → a high potential.
    row = await rate(session, cast.alex, review_id, p["adele"], 3, 3, 2, 1, 3, notes="  Ready to lead  ")
    assert (row.potential, row.high_potential, row.high_potential_overridden, row.version) == (
        3,
        True,
        False,
        1,
    )
    assert (row.notes, row.rated_by_name, row.rated_at) == ("Ready to lead", "Alex Wilber", NOW)
    # Isaiah: 3+3+3 → high potential, but low performance → not flagged.
    row = await rate(session, cast.alex, review_id, p["isaiah"], 3, 3, 3, 2, 2)
    assert (row.potential, row.high_potential) == (3, False)
    # o1: 2+2+3 = 7 → medium; flagged by hand anyway.
    row = await rate(session, cast.megan, review_id, p["o1"], 2, 2, 3, 3, 3, high_potential=True)
    assert (row.potential, row.high_potential, row.high_potential_overridden) == (2, True, True)
    # o2: 1+2+1 = 4 → low; and a form's strings are read as levels.
    row = await rate(session, cast.lynne, review_id, p["o2"], "1", " 2 ", "1", "1", "1")
    assert (row.potential, row.high_potential, row.rated_by_name) == (1, False, "Lynne Robbins")
    # o3 has no score: rated all the same (unplaced until someone gives them a performance).
    row = await rate(session, cast.alex, review_id, p["o3"], 3, 3, 3, 1, 1)
    assert (row.potential, row.high_potential, row.performance) == (3, False, None)

    view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert placed(view) == {
        "Adele Vance": "Star",
        "Isaiah Langer": "Enigma",
        p["o1"].display_name: "Core",
        p["o2"].display_name: "Effective",
        p["o3"].display_name: "unplaced",
    }
    assert (view.total, view.placed, view.high_potentials) == (5, 4, 2)
    star = next(c for c in view.cells if c.label == "Star")
    (adele,) = star.people
    assert (adele.ability, adele.aspiration, adele.engagement, adele.risk_of_loss, adele.impact_of_loss) == (
        3,
        3,
        2,
        1,
        3,
    )
    assert (adele.performance_score, adele.job_title, adele.department) == (
        Decimal("4.50"),
        "Senior Software Engineer",
        "Engineering",
    )


@pytest.mark.parametrize(
    ("levels", "field", "words"),
    [
        ((0, 2, 2, 2, 2), "ability", "Ability must be 1 (low), 2 (medium) or 3 (high), not “0”"),
        ((2, 4, 2, 2, 2), "aspiration", "Aspiration must be"),
        (
            (2, 2, "high", 2, 2),
            "engagement",
            "Engagement must be 1 (low), 2 (medium) or 3 (high), not “high”",
        ),
        (
            (2, 2, 2, None, 2),
            "risk_of_loss",
            "Risk of loss must be 1 (low), 2 (medium) or 3 (high), not nothing",
        ),
        ((2, 2, 2, 2, True), "impact_of_loss", "Impact of loss must be"),
        ((2, 2, 2, 2, 2.5), "impact_of_loss", "Impact of loss must be"),
    ],
)
async def test_a_rating_outside_1_to_3_is_refused_naming_the_field(
    session, kit, cast, levels, field, words
) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    with pytest.raises(Invalid) as refused:
        await rate(session, cast.alex, review_id, world.people["adele"], *levels)
    assert words in refused.value.message and refused.value.field == field
    adele = await entry(session, review_id, cast.adele)
    assert (adele.ability, adele.rated_at, adele.version) == (None, None, 0)


async def test_notes_too_long_are_refused(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    with pytest.raises(Invalid, match="too long: at most 4000 characters") as refused:
        await rate(session, cast.alex, review_id, world.people["adele"], 2, 2, 2, 2, 2, notes="x" * 4001)
    assert refused.value.field == "notes"
    assert (await entry(session, review_id, cast.adele)).version == 0


async def test_who_may_rate_whom(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    adele = world.people["adele"]
    engineering, sales = reviewer(cast.patti, "Engineering"), reviewer(cast.patti, "Sales")
    # The line, HR and a talent reviewer in scope may.
    version = 0
    for who in (cast.alex, cast.lynne, cast.megan, engineering):
        row = await rate(
            session, who, review_id, adele, 2, 2, 2, 2, 2, version=version, notes=who.display_name
        )
        version = row.version
    # A colleague, someone in another department, a reviewer out of scope, and Adele herself may not.
    for who in (cast.isaiah, cast.patti, sales, cast.adele, as_hr(cast.adele), reviewer(cast.adele, "*")):
        with pytest.raises(NotFound, match="That person is not in this talent review"):
            await rate(session, who, review_id, adele, 3, 3, 3, 3, 3, version=version)
    # A tampered person id or review id.
    with pytest.raises(NotFound):
        await rate(session, cast.megan, review_id, cast.megan, 3, 3, 3, 3, 3)
    with pytest.raises(NotFound, match="That talent review does not exist"):
        await rate(session, cast.megan, review_id + 999, adele, 3, 3, 3, 3, 3)
    stored = await entry(session, review_id, adele)
    assert (stored.version, stored.notes, stored.ability) == (4, engineering.display_name, 2)


async def test_a_stale_rating_conflicts_with_the_latest_values_and_a_double_submit_writes_once(
    session, kit, cast
) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    adele = world.people["adele"]
    first = await rate(session, cast.alex, review_id, adele, 3, 3, 2, 1, 3)
    assert (first.version, first.already_submitted) == (1, False)

    # The same form submitted again (still at version 0): written once.
    again = await rate(session, cast.alex, review_id, adele, 3, 3, 2, 1, 3)
    assert (again.version, again.already_submitted) == (1, True)

    # Lynne read the page at version 0 and saves other values: a conflict naming what is stored now.
    with pytest.raises(Conflict) as conflict:
        await rate(session, cast.lynne, review_id, adele, 1, 1, 1, 1, 1)
    assert conflict.value.message == (
        "Someone saved Adele Vance's ratings meanwhile: ability high, aspiration high, engagement medium, "
        "risk of loss low, impact of loss high, high potential yes. Check them and save again."
    )
    assert isinstance(conflict.value, tr.RatingConflict) and conflict.value.latest.version == 1
    stored = await entry(session, review_id, adele)
    assert (stored.ability, stored.version, stored.rated_by_id) == (3, 1, cast.alex.person_id)

    # With the latest version, her save goes through.
    row = await rate(session, cast.lynne, review_id, adele, 1, 1, 1, 1, 1, version=1)
    assert (row.version, row.potential, row.high_potential) == (2, 1, False)


async def test_a_bad_version_is_refused(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    with pytest.raises(Invalid, match="bad version"):
        await rate(session, cast.alex, review_id, world.people["adele"], 2, 2, 2, 2, 2, version="0")


# --- calibration -------------------------------------------------------------------------------------------


async def rated_and_calibrating(session, kit, cast) -> tuple[World, int]:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    p = world.people
    await rate(session, cast.alex, review_id, p["adele"], 3, 3, 2, 1, 3)
    await rate(session, cast.alex, review_id, p["isaiah"], 2, 2, 2, 3, 2)
    await rate(session, cast.alex, review_id, p["o1"], 3, 3, 3, 2, 2, high_potential=False)
    await rate(session, cast.alex, review_id, p["o2"], 1, 1, 1, 1, 1)
    await tr.start_calibration(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    return world, review_id


async def move(session, who: Actor, review_id: int, person: Actor, performance, potential, reason="Compared"):
    return await tr.move(
        session,
        actor=who,
        talent_review_id=review_id,
        person_id=person.person_id,
        performance=performance,
        potential=potential,
        reason=reason,
        now=NOW,
    )


async def test_a_move_keeps_before_after_who_when_and_why(session, kit, cast) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    isaiah = world.people["isaiah"]
    before = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert placed(before)["Isaiah Langer"] == "Dilemma"  # performance low, potential 2+2+2 → medium
    assert before.may_move and all(p.movable for c in before.cells for p in c.people)

    moved = await move(session, cast.megan, review_id, isaiah, "2", 3, reason="  Led the migration  ")
    assert (moved.person_name, moved.from_label, moved.to_label, moved.reason, moved.by_name, moved.at) == (
        "Isaiah Langer",
        "Dilemma",
        "Growth",
        "Led the migration",
        "Megan Bowen",
        NOW,
    )
    stored = await entry(session, review_id, isaiah)
    assert (stored.performance, stored.potential, stored.high_potential) == (2, 3, True), (
        "a flag that followed the inputs follows the move"
    )
    assert (stored.ability, stored.aspiration, stored.engagement) == (2, 2, 2), "the inputs stay as rated"
    (recorded,) = await session.scalars(select(TalentReviewMove))
    assert (
        recorded.performance_before,
        recorded.potential_before,
        recorded.performance_after,
        recorded.potential_after,
        recorded.by_id,
    ) == (1, 2, 2, 3, cast.megan.person_id)

    after = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert placed(after)["Isaiah Langer"] == "Growth"
    (history,) = after.moves
    assert (history.from_label, history.to_label, history.reason) == (
        "Dilemma",
        "Growth",
        "Led the migration",
    )

    # A flag set by hand stays as set: o1 (high potential, medium performance) was marked "no".
    await move(session, cast.megan, review_id, world.people["o1"], 3, 3)
    assert (await entry(session, review_id, world.people["o1"])).high_potential is False

    # The same move submitted twice: recorded once.
    again = await move(session, cast.megan, review_id, isaiah, 2, 3, reason="Led the migration")
    assert (again.id, again.already_submitted) == (moved.id, True)
    assert await count(session, TalentReviewMove) == 2


async def test_the_unplaced_can_be_placed_in_calibration(session, kit, cast) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    o3 = world.people["o3"]  # no score, not rated
    moved = await move(session, cast.megan, review_id, o3, 2, 2, reason="Joined late; placed by the panel")
    assert (moved.from_label, moved.to_label) == (None, "Core")
    view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert placed(view)[o3.display_name] == "Core" and view.unplaced == ()


@pytest.mark.parametrize(
    ("performance", "potential", "reason", "field", "words"),
    [
        (2, 2, "   ", "reason", "A move needs a reason: say why Isaiah Langer belongs in Core."),
        (2, 2, None, "reason", "A move needs a reason"),
        (2, 2, "x" * 2001, "reason", "The reason is too long: at most 2000 characters"),
        (4, 2, "Why not", "performance", "Performance must be 1 (low), 2 (medium) or 3 (high), not “4”"),
        (2, 0, "Why not", "potential", "Potential must be 1 (low), 2 (medium) or 3 (high)"),
        (1, 2, "Same place", "box", "Isaiah Langer is in Dilemma already: choose another cell."),
    ],
)
async def test_a_bad_move_is_refused_and_nothing_is_written(
    session, kit, cast, performance, potential, reason, field, words
) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    with pytest.raises(Invalid) as refused:
        await move(session, cast.megan, review_id, world.people["isaiah"], performance, potential, reason)
    assert words in refused.value.message and refused.value.field == field
    stored = await entry(session, review_id, world.people["isaiah"])
    assert (stored.performance, stored.potential) == (1, 2)
    assert await count(session, TalentReviewMove) == 0


async def test_moves_happen_only_in_calibration_and_finalize_locks_everything(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)
    adele = world.people["adele"]
    await rate(session, cast.alex, review_id, adele, 3, 3, 2, 1, 3)
    with pytest.raises(Invalid, match=r"People are moved between cells during calibration: .* is in rating"):
        await move(session, cast.megan, review_id, adele, 2, 2)
    with pytest.raises(Invalid, match="Start calibration before finalizing"):
        await tr.finalize(session, actor=cast.megan, talent_review_id=review_id, now=NOW)

    started = await tr.start_calibration(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    assert started.status is TalentReviewStatus.CALIBRATION
    again = await tr.start_calibration(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    assert again.already_submitted
    with pytest.raises(
        Invalid, match=r"Potential is rated while a talent review is in rating: .* in calibration"
    ):
        await rate(session, cast.alex, review_id, adele, 1, 1, 1, 1, 1, version=1)
    await move(session, cast.megan, review_id, adele, 2, 3)

    done = await tr.finalize(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    assert (done.status, done.finalized_at) == (TalentReviewStatus.FINALIZED, NOW)
    assert (
        await tr.finalize(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    ).already_submitted
    with pytest.raises(Invalid, match="finalized, and nothing in it can change any more"):
        await move(session, cast.megan, review_id, adele, 3, 3)
    with pytest.raises(Invalid, match="finalized"):
        await rate(session, cast.alex, review_id, adele, 1, 1, 1, 1, 1, version=2)
    with pytest.raises(Invalid, match="This talent review is finalized: nothing in it can change any more"):
        await tr.start_calibration(session, actor=cast.megan, talent_review_id=review_id, now=NOW)
    stored = await entry(session, review_id, adele)
    assert (stored.performance, stored.potential, stored.ability) == (2, 3, 3)
    assert await count(session, TalentReviewMove) == 1
    view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert not view.may_move and not view.may_rate


async def test_who_may_move_whom(session, kit, cast) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    adele = world.people["adele"]
    await tr.set_opened_to_managers(
        session, actor=cast.megan, talent_review_id=review_id, opened=True, now=NOW
    )
    # Her manager sees her (opened) but does not calibrate; an outsider and she herself get nothing.
    with pytest.raises(Forbidden):
        await move(session, cast.alex, review_id, adele, 2, 2)
    for who in (cast.patti, reviewer(cast.patti, "Sales"), cast.adele, as_hr(cast.adele)):
        with pytest.raises(NotFound):
            await move(session, who, review_id, adele, 2, 2)
    moved = await move(session, reviewer(cast.patti, "Engineering"), review_id, adele, 2, 2)
    assert moved.by_name == "Patti Fernandez"
    assert await count(session, TalentReviewMove) == 1


# --- reading ------------------------------------------------------------------------------------------------


async def test_nobody_reads_their_own_place_whatever_roles_they_hold(session, kit, cast) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    await tr.set_opened_to_managers(
        session, actor=cast.megan, talent_review_id=review_id, opened=True, now=NOW
    )
    # Adele as an employee: no 9-box, no ratings page, no review in her list; not even told it exists
    # (the answer a wrong id gets).
    for read in (tr.nine_box, tr.rating_sheet):
        with pytest.raises(NotFound, match="That talent review does not exist"):
            await read(session, actor=cast.adele, talent_review_id=review_id)
    assert (await tr.list_talent_reviews(session, actor=cast.adele)).reviews == ()
    # Adele as HR and as a talent reviewer of everything: everyone but herself.
    for who in (as_hr(cast.adele), reviewer(cast.adele, "*")):
        view = await tr.nine_box(session, actor=who, talent_review_id=review_id)
        assert "Adele Vance" not in placed(view) and len(placed(view)) == 4
        assert "Adele Vance" not in repr(view)
        sheet = await tr.rating_sheet(session, actor=who, talent_review_id=review_id)
        assert cast.adele.person_id not in {r.person_id for r in sheet.rows} and len(sheet.rows) == 4
    # Her move is not in anyone's history she reads either.
    await move(session, cast.megan, review_id, adele := world.people["adele"], 2, 2, reason="Adele's secret")
    assert adele.person_id
    view = await tr.nine_box(session, actor=as_hr(cast.adele), talent_review_id=review_id)
    assert view.moves == () and "Adele's secret" not in repr(view)


async def test_a_talent_reviewer_out_of_scope_sees_nobody(session, kit, cast) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    await move(session, cast.megan, review_id, world.people["adele"], 2, 2)
    sales = reviewer(cast.patti, "Sales")
    view = await tr.nine_box(session, actor=sales, talent_review_id=review_id)
    assert (view.total, view.moves, view.departments, view.may_move) == (0, (), (), False)
    assert (await tr.rating_sheet(session, actor=sales, talent_review_id=review_id)).rows == ()
    engineering = await tr.nine_box(
        session, actor=reviewer(cast.patti, "Engineering"), talent_review_id=review_id
    )
    assert engineering.total == 5 and len(engineering.moves) == 1


async def test_managers_rate_their_line_and_see_the_9_box_only_once_opened(session, kit, cast) -> None:
    _, review_id = await rated_and_calibrating(session, kit, cast)
    # Alex rates his five; the 9-box is closed to him.
    (summary,) = (await tr.list_talent_reviews(session, actor=cast.alex)).reviews
    assert (summary.to_rate, summary.rated, summary.may_view_grid, summary.may_manage) == (5, 4, False, False)
    sheet = await tr.rating_sheet(session, actor=cast.alex, talent_review_id=review_id)
    assert (len(sheet.rows), sheet.rated, sheet.editable, sheet.may_view_grid) == (5, 4, False, False)
    with pytest.raises(Forbidden, match="HR has not opened it to managers"):
        await tr.nine_box(session, actor=cast.alex, talent_review_id=review_id)
    # Patti has nobody in it: nothing listed, nothing to open.
    assert (await tr.list_talent_reviews(session, actor=cast.patti)).reviews == ()
    for read in (tr.nine_box, tr.rating_sheet):
        with pytest.raises(NotFound):
            await read(session, actor=cast.patti, talent_review_id=review_id)

    opened_view = await tr.set_opened_to_managers(
        session, actor=cast.megan, talent_review_id=review_id, opened=True, now=NOW
    )
    assert opened_view.opened_to_managers
    view = await tr.nine_box(session, actor=cast.alex, talent_review_id=review_id)
    assert (view.total, view.may_move) == (5, False)
    (summary,) = (await tr.list_talent_reviews(session, actor=cast.alex)).reviews
    assert summary.may_view_grid
    # Isaiah has nobody below him: still nothing.
    with pytest.raises(NotFound):
        await tr.nine_box(session, actor=cast.isaiah, talent_review_id=review_id)


async def test_hr_lists_every_review_with_the_closed_cycles(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    first = await opened(session, cast, world, name="First")
    second = await opened(session, cast, world, name="Second")
    listing = await tr.list_talent_reviews(session, actor=cast.megan)
    assert [r.id for r in listing.reviews] == [second, first]
    assert listing.may_open and [c.id for c in listing.closed_cycles] == [world.cycle_id]
    assert listing.closed_cycles[0].scale[0] == "Far below"
    assert all(r.people == 5 and r.to_rate == 5 and r.rated == 0 and r.may_manage for r in listing.reviews)
    reviewers_list = await tr.list_talent_reviews(session, actor=reviewer(cast.patti, "Sales"))
    assert len(reviewers_list.reviews) == 2 and not reviewers_list.may_open
    assert reviewers_list.reviews[0].to_rate == 0


async def test_department_filter(session, kit, cast) -> None:
    _, review_id = await rated_and_calibrating(session, kit, cast)
    view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    assert view.departments == ("Engineering",)
    empty = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id, department="Sales")
    assert (empty.total, empty.departments, empty.department) == (0, ("Engineering",), "Sales")


async def test_every_read_of_talent_data_is_audited(session, kit, cast) -> None:
    _, review_id = await rated_and_calibrating(session, kit, cast)
    audited = (AuditEntry.action == "talent.review.view", AuditEntry.subject_id == review_id)
    before = await count(session, AuditEntry, *audited)
    await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
    await tr.rating_sheet(session, actor=cast.alex, talent_review_id=review_id)
    await session.flush()
    rows = list(
        await session.scalars(select(AuditEntry).where(*audited).order_by(AuditEntry.id).offset(before))
    )
    assert [(r.actor_id, r.subject_type, r.detail["view"], r.detail["people"]) for r in rows] == [
        (cast.megan.person_id, "talent_review", "nine_box", 5),
        (cast.alex.person_id, "talent_review", "ratings", 5),
    ]
    # A refused read writes nothing.
    with pytest.raises(NotFound):
        await tr.nine_box(session, actor=cast.adele, talent_review_id=review_id)
    await session.flush()
    assert await count(session, AuditEntry, *audited) == before + 2
    # The list shows no talent data and writes none.
    await tr.list_talent_reviews(session, actor=cast.megan)
    await session.flush()
    assert await count(session, AuditEntry, *audited) == before + 2


async def test_the_reads_run_a_constant_number_of_queries(session, kit, cast, engine) -> None:
    world, review_id = await rated_and_calibrating(session, kit, cast)
    await move(session, cast.megan, review_id, world.people["adele"], 2, 2)
    statements: list[str] = []

    def counted(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
        await session.flush()
        few = len(statements)
        for key in ("isaiah", "o1", "o2"):
            await move(session, cast.megan, review_id, world.people[key], 3, 1)
        statements.clear()
        await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id)
        await session.flush()
        assert len(statements) == few <= 8, statements
        statements.clear()
        await tr.rating_sheet(session, actor=cast.megan, talent_review_id=review_id)
        await session.flush()
        assert len(statements) <= 5, statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counted)


async def test_a_cell_is_listed_a_page_at_a_time(session, kit, cast) -> None:
    world = await closed_world(session, kit, cast)
    review_id = await opened(session, cast, world)  # nobody rated yet: all five are not placed

    async def unplaced(**kw) -> tuple[list[str], int]:
        view = await tr.nine_box(session, actor=cast.megan, talent_review_id=review_id, **kw)
        return [p.name for p in view.unplaced], view.unplaced_count

    everyone, count = await unplaced()
    assert count == 5 and len(everyone) == 5 and everyone == sorted(everyone, key=str.casefold)
    assert await unplaced(per_cell=1) == (everyone[:1], 5)
    window = {"per_cell": 1, "expand": "unplaced", "expand_limit": 2}
    assert await unplaced(**window) == (everyone[:2], 5)
    assert await unplaced(**window, expand_from=2) == (everyone[2:4], 5)
    assert await unplaced(**window, expand_from=4) == (everyone[4:], 5)
    assert await unplaced(**window, expand_from=10) == ([], 5)
    assert await unplaced(per_cell=1, expand="unplaced") == (everyone, 5), "no limit: the whole cell"
    assert await unplaced(per_cell=1, expand="9-9", expand_from=2) == (everyone[:1], 5), "not a cell"

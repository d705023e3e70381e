"""The competency framework on SQLite and PostgreSQL: competencies, role profiles, assessments with their
history, gaps and readiness computed by hand, levels as of a day, and released reviews recording levels.

Alex Wilber manages Adele Vance and Isaiah Langer; Lynne Robbins manages Alex (so is in Adele's line);
Patti Fernandez is in Sales, in no one's line here; Megan Bowen is HR. The framework is
tests/support/competencies.py's: Adele's job title makes her a Senior engineer.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from domain import competencies
from domain.competency_views import (
    AssessmentSource,
    GapView,
    RequirementInput,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import review_cycles, reviews
from domain.performance.review_views import (
    FIVE_POINT_SCALE,
    AnswerInput,
    ItemInput,
    ItemKind,
    ParticipantRule,
    Phase,
    ReviewerRole,
    SectionInput,
    SectionKind,
)
from storage.models import (
    Competency,
    CompetencyAssessment,
    Position,
    ReviewItem,
    ReviewTemplate,
    RoleProfile,
    RoleRequirement,
)
from tests.support.competencies import COMMUNICATION_LEVELS, NOW, Framework, build_framework

TODAY = NOW.date()
MANAGER_AND_SELF = (ReviewerRole.SELF, ReviewerRole.MANAGER)


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def framework_counts(session) -> tuple[int, ...]:
    return tuple(
        [await count(session, m) for m in (Competency, RoleProfile, RoleRequirement, CompetencyAssessment)]
    )


@pytest.fixture
async def fw(session, cast) -> Framework:
    return await build_framework(session, cast.megan)


async def assess(session, actor, person, competency, level, on=TODAY, **kw):
    return await competencies.assess(
        session,
        actor=actor,
        person_id=person.person_id,
        competency_id=competency.id,
        level=level,
        on=on,
        now=NOW,
        **kw,
    )


# --- competencies ----------------------------------------------------------------------------------------


async def test_hr_defines_competencies_that_everyone_reads_by_category(session, cast, fw) -> None:
    assert fw.communication.levels == COMMUNICATION_LEVELS
    assert fw.communication.category == "behaviours", "categories are grouped whatever their case"
    assert fw.coaching.level_label(2) == "2 · Coaches a peer"

    seen = await competencies.list_framework(session, actor=cast.adele)
    assert [(g.category, [c.name for c in g.competencies]) for g in seen.categories] == [
        ("behaviours", ["Communication"]),
        ("functional", ["Delivery"]),
        ("leadership", ["Coaching"]),
    ]
    assert not seen.may_edit
    senior = next(p for p in seen.profiles if p.name == "Senior engineer")
    assert senior.job_title_key == "senior software engineer"
    assert [
        (r.competency_name, r.expected_level, r.weight, r.expected_label) for r in senior.requirements
    ] == [
        ("Communication", 3, 2, "Adapts to the audience"),
        ("Delivery", 4, 1, "Delivers for the org"),
        ("Coaching", 2, 1, "Coaches a peer"),
    ]
    assert (await competencies.list_framework(session, actor=cast.megan)).may_edit


async def test_only_hr_changes_the_framework(session, cast, fw) -> None:
    before = await framework_counts(session)
    for who in (cast.alex, cast.adele, cast.lynne):
        with pytest.raises(Forbidden):
            await competencies.create_competency(
                session, actor=who, name="Negotiation", category="functional", levels=("a", "b")
            )
        with pytest.raises(Forbidden):
            await competencies.create_role_profile(session, actor=who, name="Architect")
        with pytest.raises(Forbidden):
            await competencies.deactivate_competency(session, actor=who, competency_id=fw.delivery.id)
        with pytest.raises(Forbidden):
            await competencies.set_requirements(
                session, actor=who, role_profile_id=fw.senior.id, requirements=[]
            )
    assert await framework_counts(session) == before


@pytest.mark.parametrize(
    ("name", "levels", "message"),
    [
        ("  communication ", ("a", "b"), "A competency named “Communication” already exists"),
        ("COMMUNICATION", ("a", "b"), "A competency named “Communication” already exists"),
        ("Negotiation", ("Only one",), "from 2 to 10 levels, each described: not 1"),
        (
            "Negotiation",
            tuple(f"Level {n}" for n in range(11)),
            "from 2 to 10 levels, each described: not 11",
        ),
        ("Negotiation", (), "not 0"),
        ("Negotiation", ("Haggles", "  "), "The description of level 2 is empty"),
        ("Negotiation", ("Haggles", "haggles"), "Level 2 is described as “haggles” like a level before it"),
        ("  ", ("a", "b"), "The competency's name is empty"),
    ],
)
async def test_a_bad_competency_is_refused_with_nothing_written(
    session, cast, fw, name, levels, message
) -> None:
    before = await framework_counts(session)
    with pytest.raises(Invalid) as refused:
        await competencies.create_competency(
            session, actor=cast.megan, name=name, category="Functional", levels=levels
        )
    assert message in refused.value.message
    assert await framework_counts(session) == before


async def test_a_competency_without_a_category_is_refused(session, cast) -> None:
    with pytest.raises(Invalid, match="The category is empty"):
        await competencies.create_competency(
            session, actor=cast.megan, name="X", category=" ", levels=("a", "b")
        )


async def test_update_rewords_and_adds_levels_but_keeps_the_ones_in_use(session, cast, fw) -> None:
    updated = await competencies.update_competency(
        session,
        actor=cast.megan,
        competency_id=fw.coaching.id,
        name="Coaching others",
        category="leadership",
        levels=("Shares", "Coaches", "Grows a team", "Grows leaders"),
    )
    assert (updated.name, len(updated.levels)) == ("Coaching others", 4)
    with pytest.raises(
        Invalid, match="“Coaching others” can't drop to 2 levels: a role profile expects level 3"
    ):
        await competencies.update_competency(
            session,
            actor=cast.megan,
            competency_id=fw.coaching.id,
            name="Coaching",
            category="x",
            levels=("a", "b"),
        )
    with pytest.raises(Invalid, match="A competency named “Delivery” already exists"):
        await competencies.update_competency(
            session,
            actor=cast.megan,
            competency_id=fw.coaching.id,
            name="delivery",
            category="x",
            levels=("a", "b", "c"),
        )
    row = await session.get(Competency, fw.coaching.id)
    assert (row.name, len(row.levels), row.category) == ("Coaching others", 4, "leadership")
    with pytest.raises(NotFound):
        await competencies.update_competency(
            session, actor=cast.megan, competency_id=10**9, name="Ghost", category="x", levels=("a", "b")
        )


async def test_a_retired_competency_is_hidden_from_others_and_no_longer_assessed(session, cast, fw) -> None:
    retired = await competencies.deactivate_competency(
        session, actor=cast.megan, competency_id=fw.coaching.id
    )
    again = await competencies.deactivate_competency(session, actor=cast.megan, competency_id=fw.coaching.id)
    assert (retired.active, again.active) == (False, False)
    adele_sees = await competencies.list_framework(session, actor=cast.adele)
    assert "Coaching" not in [c.name for c in adele_sees.competencies]
    assert "Coaching" in [
        c.name for c in (await competencies.list_framework(session, actor=cast.megan)).competencies
    ]
    with pytest.raises(Invalid, match="“Coaching” is retired"):
        await assess(session, cast.alex, cast.adele, fw.coaching, 2)
    with pytest.raises(Invalid, match="“Coaching” is retired from the framework: a role can't expect it"):
        await competencies.create_role_profile(
            session, actor=cast.megan, name="Coach", requirements=[RequirementInput(fw.coaching.id, 1)]
        )
    # Out of the gaps too (the requirement is kept, shown as retired in the framework).
    gaps = await competencies.gap_view(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert [line.competency_name for line in gaps.lines] == ["Communication", "Delivery"]
    form = await competencies.assessment_form(session, actor=cast.alex, person_id=cast.adele.person_id)
    assert form is not None and "Coaching" not in [c.name for c in form.competencies]
    back = await competencies.reactivate_competency(session, actor=cast.megan, competency_id=fw.coaching.id)
    assert back.active


# --- role profiles -----------------------------------------------------------------------------------------


async def test_role_profile_names_and_job_titles_are_unique_whatever_their_case(session, cast, fw) -> None:
    before = await framework_counts(session)
    with pytest.raises(Invalid, match="A role profile named “Senior engineer” already exists"):
        await competencies.create_role_profile(session, actor=cast.megan, name="SENIOR ENGINEER ")
    with pytest.raises(Invalid) as refused:
        await competencies.create_role_profile(
            session, actor=cast.megan, name="Senior dev", job_title="senior software ENGINEER"
        )
    assert refused.value.message == (
        "People with the job title “senior software engineer” already hold the role profile "
        "“Senior engineer”: a job title maps to one profile."
    )
    assert await framework_counts(session) == before


@pytest.mark.parametrize(
    ("requirement", "error", "message"),
    [
        (
            "communication:6",
            Invalid,
            "“Communication” has levels 1 to 5: the expected level 6 is not one of them.",
        ),
        ("communication:0", Invalid, "the expected level 0 is not one of them"),
        ("coaching:4", Invalid, "“Coaching” has levels 1 to 3"),
        ("delivery:2:0", Invalid, "The weight of “Delivery” is above 0 and at most 100, not 0."),
        ("delivery:2:-1", Invalid, "not -1"),
        ("delivery:2:101", Invalid, "not 101"),
        ("delivery:2:heavy", Invalid, "The weight of “Delivery” is a number above 0, not “heavy”."),
        ("twice", Invalid, "“Delivery” is expected twice"),
        ("unknown", NotFound, "That competency does not exist."),
    ],
)
async def test_bad_requirements_are_refused_with_nothing_written(
    session, cast, fw, requirement, error, message
):
    ids = {"communication": fw.communication.id, "delivery": fw.delivery.id, "coaching": fw.coaching.id}
    if requirement == "twice":
        given = [RequirementInput(fw.delivery.id, 2), RequirementInput(fw.delivery.id, 3)]
    elif requirement == "unknown":
        given = [RequirementInput(10**9, 1)]
    else:
        name, level, *weight = requirement.split(":")
        given = [RequirementInput(ids[name], int(level), weight[0] if weight else 1)]
    before = await framework_counts(session)
    with pytest.raises(error) as refused:
        await competencies.create_role_profile(
            session, actor=cast.megan, name="Architect", requirements=given
        )
    assert message in refused.value.message
    with pytest.raises(error):
        await competencies.set_requirements(
            session, actor=cast.megan, role_profile_id=fw.senior.id, requirements=given
        )
    assert await framework_counts(session) == before


async def test_set_requirements_replaces_what_a_role_expects(session, cast, fw) -> None:
    changed = await competencies.set_requirements(
        session,
        actor=cast.megan,
        role_profile_id=fw.senior.id,
        requirements=[RequirementInput(fw.delivery.id, 3, 1.5), RequirementInput(fw.communication.id, 3, 2)],
    )
    assert [(r.competency_name, r.expected_level, r.weight) for r in changed.requirements] == [
        ("Communication", 3, 2),
        ("Delivery", 3, 1.5),
    ]
    assert await count(session, RoleRequirement, RoleRequirement.role_profile_id == fw.senior.id) == 2
    with pytest.raises(NotFound):
        await competencies.set_requirements(session, actor=cast.megan, role_profile_id=10**9, requirements=[])
    renamed = await competencies.update_role_profile(
        session,
        actor=cast.megan,
        role_profile_id=fw.staff.id,
        name="Staff engineer",
        job_title="Staff Engineer",
    )
    assert renamed.job_title_key == "staff engineer"


# --- assessments -------------------------------------------------------------------------------------------


async def test_the_manager_line_and_hr_assess_and_the_person_reads_the_history(session, cast, fw) -> None:
    first = await assess(
        session, cast.alex, cast.adele, fw.communication, 2, on=date(2026, 1, 10), note=" Quiet "
    )
    await assess(session, cast.lynne, cast.adele, fw.communication, 4, on=date(2026, 2, 20))
    await assess(session, cast.megan, cast.adele, fw.delivery, 3, on=date(2026, 1, 15))
    assert (first.level, first.level_label, first.source, first.note) == (
        2,
        "Explains clearly",
        AssessmentSource.MANAGER,
        "Quiet",
    )
    assert (first.assessed_by_name, first.already_submitted) == ("Alex Wilber", False)

    history = await competencies.assessment_history(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert [(a.competency_name, a.level, a.assessed_on, a.assessed_by_name) for a in history] == [
        ("Communication", 4, date(2026, 2, 20), "Lynne Robbins"),
        ("Delivery", 3, date(2026, 1, 15), "Megan Bowen"),
        ("Communication", 2, date(2026, 1, 10), "Alex Wilber"),
    ]
    only = await competencies.assessment_history(
        session, actor=cast.alex, person_id=cast.adele.person_id, competency_id=fw.delivery.id
    )
    assert [a.level for a in only] == [3]


async def test_nobody_assesses_themselves_and_outsiders_neither_assess_nor_read(session, cast, fw) -> None:
    with pytest.raises(Forbidden, match="You can't assess your own competencies"):
        await assess(session, cast.adele, cast.adele, fw.communication, 3)
    with pytest.raises(Forbidden):
        await assess(session, cast.megan, cast.megan, fw.communication, 3)
    with pytest.raises(Forbidden, match="Only Adele Vance's manager line and HR"):
        await assess(session, cast.patti, cast.adele, fw.communication, 3)
    with pytest.raises(Forbidden):
        await assess(session, cast.isaiah, cast.adele, fw.communication, 3)
    for read in (competencies.assessment_history, competencies.gap_view):
        with pytest.raises(Forbidden):
            await read(session, actor=cast.patti, person_id=cast.adele.person_id)
    assert (
        await competencies.assessment_form(session, actor=cast.patti, person_id=cast.adele.person_id) is None
    )
    assert (
        await competencies.assessment_form(session, actor=cast.adele, person_id=cast.adele.person_id) is None
    )
    assert (
        await competencies.assessment_form(session, actor=cast.lynne, person_id=cast.adele.person_id)
        is not None
    )
    assert await count(session, CompetencyAssessment) == 0


@pytest.mark.parametrize(
    ("level", "on", "message"),
    [
        (6, TODAY, "“Communication” has levels 1 to 5: the level 6 is not one of them."),
        (0, TODAY, "the level 0 is not one of them"),
        (-1, TODAY, "the level -1 is not one of them"),
        ("three", TODAY, "the level three is not one of them"),
        (True, TODAY, "the level True is not one of them"),
        (3, TODAY + timedelta(days=1), "The assessment's day (3 March 2026) is in the future"),
    ],
)
async def test_a_bad_assessment_is_refused_with_nothing_written(
    session, cast, fw, level, on, message
) -> None:
    with pytest.raises(Invalid) as refused:
        await assess(session, cast.alex, cast.adele, fw.communication, level, on=on, request_id="form-1")
    assert message in refused.value.message
    assert await count(session, CompetencyAssessment) == 0


async def test_tampered_ids_are_not_found(session, cast, fw) -> None:
    with pytest.raises(NotFound):
        await assess(
            session, cast.alex, cast.adele, type(fw.communication)(10**9, "x", "x", None, ("a", "b"), True), 1
        )
    with pytest.raises(NotFound):
        await competencies.assess(
            session,
            actor=cast.megan,
            person_id=10**9,
            competency_id=fw.communication.id,
            level=1,
            on=TODAY,
            now=NOW,
        )
    with pytest.raises(NotFound):
        await competencies.gap_view(session, actor=cast.megan, person_id=10**9)
    with pytest.raises(NotFound):
        await competencies.gap_view(
            session, actor=cast.megan, person_id=cast.adele.person_id, role_profile_id=10**9
        )
    with pytest.raises(NotFound):
        await competencies.assessment_history(session, actor=cast.megan, person_id=10**9)
    assert await count(session, CompetencyAssessment) == 0


async def test_a_repeated_request_id_returns_the_first_assessment_without_writing(session, cast, fw) -> None:
    first = await assess(session, cast.alex, cast.adele, fw.delivery, 2, request_id="form-42")
    again = await assess(session, cast.alex, cast.adele, fw.delivery, 4, request_id="form-42")
    assert (again.id, again.level, again.already_submitted) == (first.id, 2, True)
    assert await count(session, CompetencyAssessment) == 1
    with pytest.raises(Conflict):
        await assess(session, cast.megan, cast.adele, fw.delivery, 4, request_id="form-42")
    with pytest.raises(Invalid, match="bad request id"):
        await assess(session, cast.alex, cast.adele, fw.delivery, 2, request_id="x" * 65)
    assert await count(session, CompetencyAssessment) == 1


# --- gaps --------------------------------------------------------------------------------------------------


async def adele_assessed(session, cast, fw) -> None:
    """Communication 2 then 4 (latest), Delivery 3, Coaching never."""
    await assess(session, cast.alex, cast.adele, fw.communication, 2, on=date(2026, 1, 10))
    await assess(session, cast.alex, cast.adele, fw.communication, 4, on=date(2026, 2, 20))
    await assess(session, cast.alex, cast.adele, fw.delivery, 3, on=date(2026, 1, 15))


def lines(view: GapView) -> list[tuple]:
    return [(x.competency_name, x.expected_level, x.assessed_level, x.gap) for x in view.lines]


async def test_the_gap_to_the_current_role_is_computed_by_hand(session, cast, fw) -> None:
    await adele_assessed(session, cast, fw)
    mine = await competencies.gap_view(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert (mine.role_profile_id, mine.role_profile_name, mine.current) == (
        fw.senior.id,
        "Senior engineer",
        True,
    )
    # Communication expects 3 (weight 2), assessed 4: met; Delivery expects 4, assessed 3: one short;
    # Coaching expects 2, never assessed.
    assert lines(mine) == [("Communication", 3, 4, 0), ("Delivery", 4, 3, 1), ("Coaching", 2, None, None)]
    assert [x.category for x in mine.lines] == ["behaviours", "functional", "leadership"]
    # (2·min(4/3, 1) + 1·3/4 + 1·0) / 4 = 2.75 / 4 = 68.75 % → 68.8 (half up).
    assert str(mine.readiness) == "68.8"
    assert (mine.open_gaps, mine.not_assessed) == (1, 1)
    assert mine.lines[0].assessed_on == date(2026, 2, 20)


async def test_the_gap_to_a_target_role(session, cast, fw) -> None:
    await adele_assessed(session, cast, fw)
    staff = await competencies.gap_view(
        session, actor=cast.alex, person_id=cast.adele.person_id, role_profile_id=fw.staff.id
    )
    assert not staff.current
    assert lines(staff) == [("Communication", 4, 4, 0), ("Delivery", 4, 3, 1), ("Coaching", 3, None, None)]
    # (1·4/4 + 2·3/4 + 1·0) / 4 = 2.5 / 4 = 62.5 %.
    assert str(staff.readiness) == "62.5"
    manager = await competencies.gap_view(
        session, actor=cast.megan, person_id=cast.adele.person_id, role_profile_id=fw.manager.id
    )
    # (3·0 + 1·4/4) / 4 = 25 %.
    assert str(manager.readiness) == "25.0"


async def test_a_person_without_a_role_profile_has_no_gaps(session, cast, fw) -> None:
    view = await competencies.gap_view(session, actor=cast.megan, person_id=cast.patti.person_id)
    assert (view.role_profile_id, view.lines, view.readiness) == (None, (), None)
    empty = await competencies.create_role_profile(session, actor=cast.megan, name="Observer")
    target = await competencies.gap_view(
        session, actor=cast.megan, person_id=cast.patti.person_id, role_profile_id=empty.id
    )
    assert (target.lines, target.readiness) == ((), None)


async def test_the_position_held_sets_the_current_role_before_the_job_title(session, cast, fw) -> None:
    session.add(Position(title="Staff seat", incumbent_id=cast.adele.person_id, role_profile_id=fw.staff.id))
    await session.flush()
    view = await competencies.gap_view(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert (view.role_profile_name, view.current) == ("Staff engineer", True)


async def test_levels_as_of_a_day_take_the_latest_assessment_on_or_before_it(session, cast, fw) -> None:
    await adele_assessed(session, cast, fw)
    await assess(session, cast.alex, cast.isaiah, fw.delivery, 1, on=date(2026, 2, 1))
    # Two on one day: the one recorded last counts.
    await assess(session, cast.alex, cast.isaiah, fw.delivery, 2, on=date(2026, 2, 1))
    adele, isaiah = cast.adele.person_id, cast.isaiah.person_id
    assert await competencies.levels_as_of(session, [adele, isaiah], date(2026, 1, 5)) == {}
    assert await competencies.levels_as_of(session, [adele, isaiah], date(2026, 2, 1)) == {
        (adele, fw.communication.id): 2,
        (adele, fw.delivery.id): 3,
        (isaiah, fw.delivery.id): 2,
    }
    assert await competencies.levels_as_of(session, [adele], TODAY) == {
        (adele, fw.communication.id): 4,
        (adele, fw.delivery.id): 3,
    }
    everyone = await competencies.levels_as_of(session, None, TODAY)
    assert everyone[(isaiah, fw.delivery.id)] == 2 and len(everyone) == 3
    assert await competencies.levels_as_of(session, [], TODAY) == {}


# --- reviews -----------------------------------------------------------------------------------------------


def test_review_ratings_convert_to_levels_half_up() -> None:
    # round(1 + (r - 1)(levels - 1)/(points - 1)), by hand:
    assert [competencies.review_level(r, 5, 5) for r in range(1, 6)] == [1, 2, 3, 4, 5]
    # 4 levels: 1, 1.75, 2.5, 3.25, 4
    assert [competencies.review_level(r, 5, 4) for r in range(1, 6)] == [1, 2, 3, 3, 4]
    # 3 levels: 1, 1.5, 2, 2.5, 3
    assert [competencies.review_level(r, 5, 3) for r in range(1, 6)] == [1, 2, 2, 3, 3]
    # 10 levels on a 4-point scale: 1, 4, 7, 10; on 5 points: 1, 3.25, 5.5, 7.75, 10
    assert [competencies.review_level(r, 4, 10) for r in range(1, 5)] == [1, 4, 7, 10]
    assert [competencies.review_level(r, 5, 10) for r in range(1, 6)] == [1, 3, 6, 8, 10]
    # 2 points onto 5 levels: 1, 5
    assert [competencies.review_level(r, 2, 5) for r in (1, 2)] == [1, 5]


def linked_sections(fw: Framework, *items: ItemInput) -> tuple[SectionInput, ...]:
    return (
        SectionInput(SectionKind.COMPETENCIES, "Competencies", 100, MANAGER_AND_SELF, items),
        SectionInput(
            SectionKind.QUESTIONS,
            "Summary",
            0,
            MANAGER_AND_SELF,
            (ItemInput("What went well?", ItemKind.TEXT),),
        ),
    )


async def test_a_template_item_names_a_framework_competency(session, kit, fw) -> None:
    template = await kit.template(
        sections=linked_sections(
            fw,
            ItemInput(competency_id=fw.communication.id),
            ItemInput("Getting things done", competency_id=fw.delivery.id),
            ItemInput("Ownership"),
        )
    )
    items = template.sections[0].items
    assert [(i.text, i.competency_id) for i in items] == [
        ("Communication", fw.communication.id),
        ("Getting things done", fw.delivery.id),
        ("Ownership", None),
    ]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "“Competencies” names a competency that is not in the framework"),
        ("retired", "“Coaching” is retired from the competency framework"),
        ("twice", "“Communication” is rated twice in this template"),
        ("question", "Only a competencies section rates framework competencies: “Summary” is not one."),
    ],
)
async def test_a_template_naming_a_bad_competency_is_refused_with_nothing_written(
    session, cast, kit, fw, case, message
):
    await competencies.deactivate_competency(session, actor=cast.megan, competency_id=fw.coaching.id)
    summary = SectionInput(
        SectionKind.QUESTIONS, "Summary", 0, MANAGER_AND_SELF, (ItemInput("Notes", ItemKind.TEXT),)
    )
    if case == "unknown":
        sections = linked_sections(fw, ItemInput(competency_id=10**9))
    elif case == "retired":
        sections = linked_sections(fw, ItemInput(competency_id=fw.coaching.id))
    elif case == "twice":
        sections = linked_sections(
            fw,
            ItemInput(competency_id=fw.communication.id),
            ItemInput("Talking", competency_id=fw.communication.id),
        )
    else:
        summary = SectionInput(
            SectionKind.QUESTIONS,
            "Summary",
            0,
            MANAGER_AND_SELF,
            (ItemInput("How is their communication?", competency_id=fw.communication.id),),
        )
        sections = (linked_sections(fw, ItemInput("Ownership"))[0], summary)
    with pytest.raises(Invalid) as refused:
        await kit.template(sections=sections)
    assert message in refused.value.message
    assert (await count(session, ReviewTemplate), await count(session, ReviewItem)) == (0, 0)


async def rate(session, actor, review_id: int, ratings: dict[str, int]) -> None:
    """Answer every step of a form: rating items from `ratings` by text (3 otherwise), texts "Fine"."""
    form = await reviews.review_form(session, actor=actor, review_id=review_id, now=NOW)
    for section in form.sections:
        answers = {
            i.key: AnswerInput(rating=ratings.get(i.text, 3))
            if i.kind is ItemKind.RATING
            else AnswerInput(text="Fine")
            for i in section.items
        }
        form = await reviews.save_step(
            session,
            actor=actor,
            review_id=review_id,
            section_id=section.id,
            answers=answers,
            expected_version=form.version,
            now=NOW,
        )
    await reviews.submit_review(session, actor=actor, review_id=review_id, now=NOW)


async def test_a_released_review_records_the_managers_competency_ratings_as_levels(
    session, cast, kit, fw
) -> None:
    assert FIVE_POINT_SCALE and len(FIVE_POINT_SCALE) == 5
    template = await kit.template(
        sections=linked_sections(
            fw,
            ItemInput(competency_id=fw.communication.id),
            ItemInput(competency_id=fw.delivery.id),
            ItemInput(competency_id=fw.coaching.id),
            ItemInput("Ownership"),
        )
    )
    cycle = await kit.launched(
        template=template, rule=ParticipantRule.people([cast.adele.person_id, cast.isaiah.person_id])
    )
    # Adele's own ratings are never her level: only the manager's count.
    await rate(
        session,
        cast.adele,
        await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF),
        {"Communication": 5},
    )
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    manager_review = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    await rate(
        session, cast.alex, manager_review, {"Communication": 4, "Delivery": 3, "Coaching": 2, "Ownership": 1}
    )
    # Isaiah's manager review is never submitted: nothing is recorded for him.
    await kit.move_to(cycle.id, Phase.CALIBRATION)
    assert await count(session, CompetencyAssessment) == 0, "nothing before release"

    await kit.move_to(cycle.id, Phase.RELEASED)
    rows = (
        await session.scalars(select(CompetencyAssessment).order_by(CompetencyAssessment.competency_id))
    ).all()
    # Five points onto 5 levels: 4 → 4; onto 4 levels: 1 + 2·3/4 = 2.5 → 3;
    # onto 3 levels: 1 + 1·2/4 = 1.5 → 2.
    participant = rows[0].review_participant_id
    assert participant is not None
    assert sorted((r.competency_id, r.level) for r in rows) == sorted(
        [(fw.communication.id, 4), (fw.delivery.id, 3), (fw.coaching.id, 2)]
    )
    assert {
        (r.person_id, r.source, r.assessed_on, r.assessed_by_id, r.review_participant_id) for r in rows
    } == {(cast.adele.person_id, "review", TODAY, cast.alex.person_id, participant)}

    # Replaying the release writes nothing more.
    again = await review_cycles.advance(
        session, actor=cast.megan, cycle_id=cycle.id, to=Phase.RELEASED, now=NOW
    )
    assert again.already_submitted
    assert await competencies.record_review_assessments(session, cycle_id=cycle.id, on=TODAY) == 0
    assert await count(session, CompetencyAssessment) == 3

    # The history names the review; the gap reads the recorded levels.
    history = await competencies.assessment_history(session, actor=cast.adele, person_id=cast.adele.person_id)
    assert {(a.source, a.review_cycle_name, a.assessed_by_name) for a in history} == {
        (AssessmentSource.REVIEW, "2026-Q1 review", "Alex Wilber")
    }
    gap = await competencies.gap_view(session, actor=cast.adele, person_id=cast.adele.person_id)
    # Senior: Communication 3 (w2) has 4, Delivery 4 has 3, Coaching 2 has 2: (2 + 0.75 + 1) / 4 = 93.75 %.
    assert lines(gap) == [("Communication", 3, 4, 0), ("Delivery", 4, 3, 1), ("Coaching", 2, 2, 0)]
    assert str(gap.readiness) == "93.8"

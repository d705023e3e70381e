"""Performance reviews against the demo organization, on SQLite and PostgreSQL: templates, cycles and their
state machine, participants frozen at launch, and review forms (drafts, resume, merges, submit).

Alex Wilber manages Adele Vance, Isaiah Langer and three more engineers; Lynne Robbins is Alex's manager;
Patti Fernandez is in Sales; Megan Bowen is HR. The `kit` fixture (conftest) builds templates and cycles
as Megan; its standard template weighs goals 50, competencies 30 and questions 20.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update

from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import (
    goals,
    review_cycles,
    review_participants,
    review_results,
    review_templates,
    reviews,
)
from domain.performance.review_views import (
    ANSWER_MAX,
    AnswerInput,
    AnswerView,
    ItemInput,
    ItemKind,
    ParticipantRule,
    ParticipantSource,
    Phase,
    ReviewerRole,
    ReviewStatus,
    SectionInput,
    SectionKind,
)
from storage.models import Person, Review, ReviewAnswer, ReviewCycle, ReviewParticipant, ReviewTemplate
from tests.domain.conftest import Q1_DEADLINES, REVIEW_NOW
from tests.support.reviews import MANAGER_AND_SELF, STANDARD_SECTIONS

NOW = REVIEW_NOW


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def adeles_goals(session, cast) -> list[goals.GoalView]:
    """Three goals of Adele's in 2026-Q1, and one in 2026-Q3 that no Q1 review rates."""
    made = [
        await goals.create_goal(session, actor=cast.adele, title=title, period="2026-Q1", now=NOW)
        for title in ("Ship search", "Cut p95 latency", "Mentor a new hire")
    ]
    await goals.create_goal(session, actor=cast.adele, title="Later goal", period="2026-Q3", now=NOW)
    return made


async def fill(session, actor, review_id: int, ratings: dict[str, int] | None = None, **texts: str):
    """Answer every step of a form: each rating item with `ratings[key]` (default 4), each text item."""
    form = await reviews.review_form(session, actor=actor, review_id=review_id, now=NOW)
    for section in form.sections:
        answers = {}
        for item in section.items:
            if item.kind is ItemKind.RATING:
                answers[item.key] = AnswerInput(rating=(ratings or {}).get(item.key, 4))
            elif item.kind is ItemKind.TEXT:
                answers[item.key] = AnswerInput(text=texts.get(item.key, "Good work"))
        form = await reviews.save_step(
            session,
            actor=actor,
            review_id=review_id,
            section_id=section.id,
            answers=answers,
            expected_version=form.version,
            now=NOW,
        )
    return form


# --- templates -------------------------------------------------------------------------------------------


async def test_a_template_keeps_its_scale_and_sections_in_order(session, kit) -> None:
    template = await kit.template()

    assert template.scale == ("Far below", "Below", "Meets", "Above", "Far above")
    assert [(s.kind, s.title, s.weight) for s in template.sections] == [
        (SectionKind.GOALS, "Goals", 50),
        (SectionKind.COMPETENCIES, "Competencies", 30),
        (SectionKind.QUESTIONS, "Overall", 20),
        (SectionKind.QUESTIONS, "Working together", 0),
    ]
    competencies, overall = template.sections[1], template.sections[2]
    assert [(i.key, i.text, i.kind) for i in competencies.items] == [
        ("c1", "Communication", ItemKind.RATING),
        ("c2", "Delivery", ItemKind.RATING),
        ("c3", "Ownership", ItemKind.RATING),
    ]
    assert [(i.key, i.kind, i.required, i.choices) for i in overall.items] == [
        ("q1", ItemKind.RATING, True, ()),
        ("q2", ItemKind.TEXT, True, ()),
        ("q3", ItemKind.CHOICE, False, ("Yes", "Not yet")),
    ]
    assert template.sections[3].answered_by == (ReviewerRole.PEER, ReviewerRole.REPORT)
    assert (
        await review_templates.get_template(session, actor=kit.cast.megan, template_id=template.id)
        == template
    )


GOALS, COMPETENCIES, OVERALL, TOGETHER = STANDARD_SECTIONS
NOTHING_SCORED = (
    "The final score comes from the manager's ratings: at least one section the manager answers needs a "
    "weight above 0 and something to rate (goals, competencies or a rating question)."
)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scale": ("Only",)}, "A rating scale has from 2 to 10 points, not 1."),
        ({"scale": tuple(str(i) for i in range(11))}, "A rating scale has from 2 to 10 points, not 11."),
        (
            {"scale": ("Low", "low")},
            "Two points of the scale are both called “low”: give each its own label.",
        ),
        ({"scale": ("Low", " ")}, "The label of point 2 is empty: write something first."),
        ({"sections": ()}, "A template needs at least one section."),
        (
            {"sections": (replace(GOALS, weight=-1), COMPETENCIES)},
            "The weight of “Goals” is from 0 to 1000, not -1.",
        ),
        (
            {"sections": (replace(GOALS, weight=0), replace(COMPETENCIES, weight=0))},
            NOTHING_SCORED,
        ),
        (
            {"sections": (replace(GOALS, answered_by=(ReviewerRole.SELF,)),)},
            NOTHING_SCORED,
        ),
        (
            {
                "sections": (
                    SectionInput(
                        SectionKind.QUESTIONS, "Text only", 1, MANAGER_AND_SELF, (ItemInput("Why?", "text"),)
                    ),
                )
            },
            NOTHING_SCORED,
        ),
        (
            {"sections": (replace(GOALS, answered_by=(ReviewerRole.MANAGER, ReviewerRole.PEER)),)},
            "Goals are rated by the person and their manager only (“Goals”): goals may be private.",
        ),
        (
            {"sections": (replace(GOALS, answered_by=()),)},
            "Choose who answers “Goals”: the person, their manager, peers or direct reports.",
        ),
        (
            {"sections": (replace(GOALS, items=(ItemInput("Extra"),)),)},
            "A goals section takes no questions (“Goals”): the reviewee's goals are its items.",
        ),
        ({"sections": (GOALS, GOALS)}, "A template has at most one goals section: each goal is rated once."),
        (
            {"sections": (replace(COMPETENCIES, items=(ItemInput("Craft", ItemKind.TEXT),)),)},
            "Competencies are rated: “Craft” can't be a text question.",
        ),
        ({"sections": (replace(OVERALL, items=()),)}, "“Overall” needs at least one question."),
        (
            {"sections": (replace(OVERALL, items=(ItemInput("Pick", ItemKind.CHOICE, choices=("One",)),)),)},
            "“Pick” offers from 2 to 10 choices, not 1.",
        ),
        (
            {"sections": (replace(OVERALL, items=(ItemInput("Rate", choices=("a", "b")),)),)},
            "Only a choice question offers choices: “Rate” is a rating question.",
        ),
        (
            {"sections": (replace(OVERALL, items=(ItemInput("Essay?", "essay"),)),)},
            "“essay” is not a kind of question: choose one of text, rating, choice.",
        ),
        (
            {"sections": (replace(COMPETENCIES, items=(ItemInput("Craft"), ItemInput("craft"))),)},
            "“craft” is in “Competencies” twice: each competency once.",
        ),
        ({"name": "  "}, "The template's name is empty: write something first."),
    ],
)
async def test_a_bad_template_is_refused_with_a_clear_message_and_nothing_is_written(
    session, kit, change, message
) -> None:
    with pytest.raises(Invalid) as refused:
        await kit.template(**change)

    assert refused.value.message == message
    assert await count(session, ReviewTemplate) == 0


async def test_template_names_are_unique_whatever_their_case_and_only_hr_defines_them(
    session, kit, cast
) -> None:
    await kit.template(name="Quarterly review")

    with pytest.raises(Invalid, match="A review template named “quarterly REVIEW” already exists"):
        await kit.template(name="quarterly REVIEW")
    for who in (cast.alex, cast.lynne, cast.adele):
        with pytest.raises(Forbidden):
            await review_templates.create_template(
                session, actor=who, name="Mine", scale=("a", "b"), sections=STANDARD_SECTIONS, now=NOW
            )
        with pytest.raises(Forbidden):
            await review_templates.list_templates(session, actor=who)
    assert [t.name for t in await review_templates.list_templates(session, actor=cast.megan)] == [
        "Quarterly review"
    ]


# --- cycles ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"deadlines": replace(Q1_DEADLINES, manager_review=date(2026, 3, 14))},
            Invalid,
            "Each phase ends on or after the one before: the manager review deadline (14 March 2026) is "
            "before the peer review deadline (20 March 2026).",
        ),
        (
            {"deadlines": replace(Q1_DEADLINES, peer_review=None)},
            Invalid,
            "Choose the peer review deadline (the last day of that phase).",
        ),
        (
            {"period": (date(2026, 3, 31), date(2026, 1, 1))},
            Invalid,
            "The period ends (1 January 2026) before it starts (31 March 2026): swap the dates.",
        ),
        (
            {"rule": ParticipantRule()},
            Invalid,
            "Choose who the cycle reviews: a department, everyone below a manager, or a list of people.",
        ),
        (
            {"rule": ParticipantRule(department="Engineering", person_ids=(1,))},
            Invalid,
            "Choose who the cycle reviews: a department, everyone below a manager, or a list of people.",
        ),
        ({"rule": ParticipantRule.below_manager(10**9)}, NotFound, "That manager is not in the directory."),
        ({"rule": ParticipantRule.people([10**9])}, NotFound, "Someone on the list is not in the directory."),
        ({"name": ""}, Invalid, "The cycle's name is empty: write something first."),
    ],
)
async def test_a_bad_cycle_is_refused_and_nothing_is_written(session, kit, change, error, message) -> None:
    template = await kit.template()

    with pytest.raises(error) as refused:
        await kit.cycle(template=template, **change)

    assert refused.value.message == message
    assert await count(session, ReviewCycle) == 0


async def test_only_hr_runs_cycles(session, kit, cast) -> None:
    cycle = await kit.cycle()

    for who in (cast.alex, cast.lynne, cast.adele, cast.patti):
        with pytest.raises(Forbidden):
            await review_cycles.advance(session, actor=who, cycle_id=cycle.id, to=Phase.SELF_REVIEW, now=NOW)
        with pytest.raises(Forbidden):
            await review_cycles.get_cycle(session, actor=who, cycle_id=cycle.id)
    assert (await review_cycles.get_cycle(session, actor=cast.megan, cycle_id=cycle.id)).phase is Phase.DRAFT


async def test_launching_with_nobody_to_review_is_refused_and_the_cycle_stays_a_draft(
    session, kit, cast
) -> None:
    cycle = await kit.cycle(rule=ParticipantRule.of_department("Nowhere"))

    with pytest.raises(Invalid) as refused:
        await review_cycles.launch_cycle(session, actor=cast.megan, cycle_id=cycle.id, now=NOW)

    assert refused.value.message == (
        "Nobody would be reviewed: the Nowhere department has nobody active in the directory. Choose other "
        "participants before launching."
    )
    after = await review_cycles.get_cycle(session, actor=cast.megan, cycle_id=cycle.id)
    assert (after.phase, after.participants, after.launched_at) == (Phase.DRAFT, 0, None)
    assert await count(session, Review) == 0


async def test_launching_after_the_self_review_deadline_is_refused(session, kit, cast) -> None:
    cycle = await kit.cycle()

    with pytest.raises(Invalid, match=r"The self review deadline \(13 March 2026\) has passed"):
        await review_cycles.launch_cycle(
            session, actor=cast.megan, cycle_id=cycle.id, now=NOW + timedelta(days=12)
        )


async def test_the_state_machine_moves_one_phase_at_a_time_and_a_second_click_writes_nothing(
    session, kit, cast
) -> None:
    cycle = await kit.launched()
    megan = cast.megan

    async def move(to: Phase):
        return await review_cycles.advance(session, actor=megan, cycle_id=cycle.id, to=to, now=NOW)

    with pytest.raises(Invalid) as skipped:
        await move(Phase.CALIBRATION)
    assert skipped.value.message == (
        "The cycle is in self review: it can move on to peer review next, not to calibration."
    )
    again = await move(Phase.SELF_REVIEW)
    assert again.already_submitted and again.phase is Phase.SELF_REVIEW

    for phase in (Phase.PEER_REVIEW, Phase.MANAGER_REVIEW, Phase.CALIBRATION, Phase.RELEASED):
        moved = await move(phase)
        assert (moved.phase, moved.already_submitted) == (phase, False)
        opened = next(p for p in moved.phases if p.phase is phase)
        assert opened.opened_at == NOW
    with pytest.raises(Conflict, match="it has already moved past manager review"):
        await move(Phase.MANAGER_REVIEW)

    assert (await move(Phase.CLOSED)).phase is Phase.CLOSED
    assert (await move(Phase.CLOSED)).already_submitted
    with pytest.raises(Invalid, match=r"^The cycle is closed: it can't move any more"):
        await move(Phase.RELEASED)
    phases = (await review_cycles.get_cycle(session, actor=megan, cycle_id=cycle.id)).phases
    assert all(p.closed_at == NOW for p in phases), "every phase recorded when it closed"


async def test_a_cycle_whose_template_has_no_peer_sections_has_no_peer_review(session, kit, cast) -> None:
    template = await kit.template(sections=(GOALS, COMPETENCIES))
    cycle = await kit.launched(template=template, deadlines=replace(Q1_DEADLINES, peer_review=None))

    assert [p.phase for p in cycle.phases] == [
        Phase.DRAFT,
        Phase.SELF_REVIEW,
        Phase.MANAGER_REVIEW,
        Phase.CALIBRATION,
        Phase.RELEASED,
        Phase.CLOSED,
    ]
    with pytest.raises(Invalid, match="This cycle has no peer review"):
        await review_cycles.advance(
            session, actor=cast.megan, cycle_id=cycle.id, to=Phase.PEER_REVIEW, now=NOW
        )
    moved = await review_cycles.advance(
        session, actor=cast.megan, cycle_id=cycle.id, to=Phase.MANAGER_REVIEW, now=NOW
    )
    assert moved.phase is Phase.MANAGER_REVIEW


async def test_a_draft_can_change_and_a_launched_cycle_cannot(session, kit, cast) -> None:
    cycle = await kit.cycle()

    changed = await review_cycles.update_draft(
        session,
        actor=cast.megan,
        cycle_id=cycle.id,
        now=NOW,
        name="Q1 review",
        deadlines=replace(Q1_DEADLINES, self_review=date(2026, 3, 16)),
    )

    assert (changed.name, changed.due_on(Phase.SELF_REVIEW)) == ("Q1 review", date(2026, 3, 16))
    await review_cycles.launch_cycle(session, actor=cast.megan, cycle_id=cycle.id, now=NOW)
    with pytest.raises(Invalid, match=r"^Only a draft cycle can change: this one is in self review already"):
        await review_cycles.update_draft(session, actor=cast.megan, cycle_id=cycle.id, now=NOW, name="Other")


# --- participants ------------------------------------------------------------------------------------------


async def test_launch_freezes_participants_with_their_manager_and_creates_their_reviews(
    session, kit, cast
) -> None:
    cycle = await kit.launched()

    people = await review_participants.list_participants(session, actor=cast.megan, cycle_id=cycle.id)
    assert cycle.participants == len(people) == 5
    assert {p.person_name for p in people} >= {"Adele Vance", "Isaiah Langer"}
    assert {(p.manager_id, p.department, p.source, p.added_by_id) for p in people} == {
        (cast.alex.person_id, "Engineering", ParticipantSource.LAUNCH, cast.megan.person_id)
    }
    rows = (await session.execute(select(Review.role, func.count()).group_by(Review.role))).all()
    assert dict(rows) == {"self": 5, "manager": 5}, "nobody in Alex's team has reports: no upward reviews"


async def test_people_who_join_or_move_later_are_not_added_silently_but_hr_can_add_them(
    session, kit, cast
) -> None:
    cycle = await kit.launched()
    # After launch: Isaiah moves under Lynne, and someone new joins Alex's team.
    await session.execute(
        update(Person).where(Person.id == cast.isaiah.person_id).values(manager_id=cast.lynne.person_id)
    )
    newcomer = Person(
        email="new@contoso.example",
        display_name="Nora Newcomer",
        department="Engineering",
        manager_id=cast.alex.person_id,
    )
    session.add(newcomer)
    await session.flush()

    people = await review_participants.list_participants(session, actor=cast.megan, cycle_id=cycle.id)
    assert "Nora Newcomer" not in {p.person_name for p in people}
    isaiah = next(p for p in people if p.person_id == cast.isaiah.person_id)
    assert isaiah.manager_id == cast.alex.person_id, "the manager frozen at launch writes the review"
    manager_review = await kit.review_id(cycle.id, cast.isaiah, ReviewerRole.MANAGER)
    assert (await session.get(Review, manager_review)).reviewer_id == cast.alex.person_id

    later = NOW + timedelta(days=3)
    added = await review_participants.add_participant(
        session, actor=cast.megan, cycle_id=cycle.id, person_id=newcomer.id, now=later
    )
    assert (added.source, added.added_by_id, added.added_at, added.manager_id) == (
        ParticipantSource.ADDED,
        cast.megan.person_id,
        later,
        cast.alex.person_id,
    )
    assert not added.already_submitted
    assert await count(session, Review, Review.reviewee_id == newcomer.id) == 2, "self and manager review"
    again = await review_participants.add_participant(
        session, actor=cast.megan, cycle_id=cycle.id, person_id=newcomer.id, now=later
    )
    assert again.already_submitted and again.id == added.id
    with pytest.raises(Forbidden):
        await review_participants.add_participant(
            session, actor=cast.alex, cycle_id=cycle.id, person_id=cast.patti.person_id, now=later
        )
    await kit.move_to(cycle.id, Phase.CALIBRATION)
    with pytest.raises(Invalid, match="People can be added until the manager review ends"):
        await review_participants.add_participant(
            session, actor=cast.megan, cycle_id=cycle.id, person_id=cast.patti.person_id, now=later
        )


async def test_overlapping_open_cycles_may_not_review_the_same_people(session, kit, cast) -> None:
    template = await kit.template()
    await kit.launched(template=template)  # 2026-Q1, Alex's team
    overlapping = await kit.cycle(
        template=template,
        name="Engineering spring",
        rule=ParticipantRule.of_department("Engineering"),
        period=(date(2026, 2, 1), date(2026, 4, 30)),
    )

    with pytest.raises(Invalid) as refused:
        await review_cycles.launch_cycle(session, actor=cast.megan, cycle_id=overlapping.id, now=NOW)

    assert refused.value.message == (
        "“2026-Q1 review” (1 January 2026 to 31 March 2026) is still open, overlaps this period and already "
        "reviews 5 of these people. Close it first, or choose other people or another period."
    )
    assert (
        await review_cycles.get_cycle(session, actor=cast.megan, cycle_id=overlapping.id)
    ).participants == 0
    elsewhere = await kit.launched(
        template=template, name="Sales Q1", rule=ParticipantRule.people([cast.patti.person_id])
    )
    later = await kit.launched(
        template=template,
        name="Engineering Q2",
        rule=ParticipantRule.of_department("Engineering"),
        period=(date(2026, 4, 1), date(2026, 6, 30)),
    )
    assert elsewhere.phase is later.phase is Phase.SELF_REVIEW


async def test_a_template_asking_direct_reports_gives_each_an_upward_review(session, kit, cast) -> None:
    cycle = await kit.launched(rule=ParticipantRule.people([cast.alex.person_id]))

    reviewers = set(
        await session.scalars(
            select(Review.reviewer_id).where(Review.cycle_id == cycle.id, Review.role == "report")
        )
    )
    reports = set(await session.scalars(select(Person.id).where(Person.manager_id == cast.alex.person_id)))
    assert reviewers == reports and len(reports) == 5


async def test_peers_are_nominated_during_peer_review_by_the_person_their_line_or_hr(
    session, kit, cast
) -> None:
    cycle = await kit.launched()
    adele = cast.adele.person_id

    with pytest.raises(
        Invalid, match=r"^Peers are nominated during the peer review: this cycle is in self review"
    ):
        await review_participants.nominate_peers(
            session,
            actor=cast.adele,
            cycle_id=cycle.id,
            reviewee_id=adele,
            peer_ids=[cast.patti.person_id],
            now=NOW,
        )
    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    first = await review_participants.nominate_peers(
        session,
        actor=cast.adele,
        cycle_id=cycle.id,
        reviewee_id=adele,
        peer_ids=[cast.patti.person_id],
        now=NOW,
    )
    assert first.added == (cast.patti.person_id,)
    by_manager = await review_participants.nominate_peers(
        session,
        actor=cast.lynne,
        cycle_id=cycle.id,
        reviewee_id=adele,
        peer_ids=[cast.patti.person_id, cast.isaiah.person_id],
        now=NOW,
    )
    assert by_manager.added == (cast.isaiah.person_id,), "naming Patti again adds nothing"
    assert [name for _, name in by_manager.peers] == ["Patti Fernandez", "Isaiah Langer"]
    with pytest.raises(Forbidden):
        await review_participants.nominate_peers(
            session,
            actor=cast.patti,
            cycle_id=cycle.id,
            reviewee_id=adele,
            peer_ids=[cast.megan.person_id],
            now=NOW,
        )
    for wrong, message in (
        (adele, "Nobody reviews themselves as a peer: name colleagues."),
        (cast.alex.person_id, "Their manager writes the manager review: name peers other than them."),
    ):
        with pytest.raises(Invalid, match=message):
            await review_participants.nominate_peers(
                session, actor=cast.megan, cycle_id=cycle.id, reviewee_id=adele, peer_ids=[wrong], now=NOW
            )
    assert await count(session, Review, Review.role == "peer") == 2


# --- forms -----------------------------------------------------------------------------------------------


async def test_the_self_review_form_lists_the_persons_steps_and_goals_of_the_period(
    session, kit, cast
) -> None:
    q1_goals = await adeles_goals(session, cast)
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)

    form = await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)

    assert (form.role, form.status, form.version, form.resume_step, form.editable) == (
        ReviewerRole.SELF,
        ReviewStatus.PENDING,
        0,
        0,
        True,
    )
    assert (form.reviewee_name, form.due_on, form.scale[0]) == ("Adele Vance", date(2026, 3, 13), "Far below")
    assert [s.title for s in form.sections] == ["Goals", "Competencies", "Overall"], "not the peers' section"
    assert [(i.key, i.text) for i in form.sections[0].items] == [(f"goal-{g.id}", g.title) for g in q1_goals]
    assert all(i.required and i.goal is not None for i in form.sections[0].items)
    assert form.beside_self_review is None and form.beside_goals == ()


async def test_a_saved_step_is_a_draft_and_the_form_resumes_after_it(session, kit, cast) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    form = await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)
    competencies = form.sections[1]

    saved = await reviews.save_step(
        session,
        actor=cast.adele,
        review_id=review_id,
        section_id=competencies.id,
        answers={"c1": AnswerInput(rating=4, text="Clear writing"), "c2": AnswerInput(rating=3)},
        expected_version=form.version,
        now=NOW,
    )

    assert (saved.status, saved.version, saved.resume_step) == (ReviewStatus.DRAFT, 1, 2)
    # Teams closed half-way: opening the review again finds everything typed, at the next step.
    reopened = await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)
    answers = {i.key: i.answer for i in reopened.sections[1].items}
    assert answers == {
        "c1": AnswerView(4, None, "Clear writing"),
        "c2": AnswerView(3, None, None),
        "c3": None,
    }
    assert reopened.resume_step == 2
    last = await reviews.save_step(
        session,
        actor=cast.adele,
        review_id=review_id,
        section_id=reopened.sections[2].id,
        answers={"q3": AnswerInput(choice="not YET")},
        expected_version=reopened.version,
        now=NOW,
    )
    assert last.resume_step == 2, "the last step stays the step to open"
    assert last.sections[2].items[2].answer == AnswerView(None, "Not yet", None), "the offered spelling"


@pytest.mark.parametrize(
    ("section", "answers", "message"),
    [
        (1, {"c1": AnswerInput(rating=6)}, "Rate “Communication” with a whole point from 1 to 5, not 6."),
        (1, {"c1": AnswerInput(rating=0)}, "Rate “Communication” with a whole point from 1 to 5, not 0."),
        (
            1,
            {"c1": AnswerInput(rating=True)},
            "Rate “Communication” with a whole point from 1 to 5, not True.",
        ),
        (1, {"c1": AnswerInput(choice="Yes")}, "“Communication” takes a rating, not a choice."),
        (
            2,
            {"q3": AnswerInput(choice="Maybe")},
            "“Maybe” is not offered for “Ready for promotion?”: choose one of Yes, Not yet.",
        ),
        (2, {"q3": AnswerInput(rating=3)}, "“Ready for promotion?” takes a choice, not a rating."),
        (2, {"q2": AnswerInput(rating=3)}, "“Highlights of the quarter” takes text, not a rating."),
        (
            2,
            {"q2": AnswerInput(text="x" * (ANSWER_MAX + 1))},
            f"Your answer to “Highlights of the quarter” is too long: at most {ANSWER_MAX} characters (it "
            f"has {ANSWER_MAX + 1}).",
        ),
        (2, {"q9": AnswerInput(text="?")}, "“q9” is not a question of “Overall”: open the review again."),
    ],
)
async def test_a_bad_answer_is_refused_with_a_clear_message_and_nothing_is_saved(
    session, kit, cast, section, answers, message
) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    form = await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)
    good = {"c2": AnswerInput(rating=3)} if section == 1 else {"q1": AnswerInput(rating=3)}

    with pytest.raises(Invalid) as refused:
        await reviews.save_step(
            session,
            actor=cast.adele,
            review_id=review_id,
            section_id=form.sections[section].id,
            answers=good | answers,
            expected_version=0,
            now=NOW,
        )

    assert refused.value.message == message
    assert await count(session, ReviewAnswer) == 0
    assert (await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)).version == 0


async def test_a_section_the_role_does_not_answer_is_not_part_of_the_form(session, kit, cast) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    template = await review_templates.get_template(session, actor=cast.megan, template_id=cycle.template_id)
    peers_only = template.sections[3]

    with pytest.raises(Invalid, match=r"^That part of the form is not in this review: open the review again"):
        await reviews.save_step(
            session,
            actor=cast.adele,
            review_id=review_id,
            section_id=peers_only.id,
            answers={"q1": AnswerInput(rating=3)},
            expected_version=0,
            now=NOW,
        )


async def test_submit_names_the_first_required_question_left_empty(session, kit, cast) -> None:
    await adeles_goals(session, cast)
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    form = await fill(session, cast.adele, review_id)
    # Empty the text answer of the last step again (the choice question there is optional).
    await reviews.save_step(
        session,
        actor=cast.adele,
        review_id=review_id,
        section_id=form.sections[2].id,
        answers={"q2": AnswerInput()},
        expected_version=form.version,
        now=NOW,
    )

    with pytest.raises(reviews.ReviewIncomplete) as refused:
        await reviews.submit_review(session, actor=cast.adele, review_id=review_id, now=NOW)

    assert refused.value.message == (
        "Answer “Highlights of the quarter” in “Overall” (step 3 of 3) before you submit."
    )
    assert (refused.value.section_id, refused.value.item_key, refused.value.step) == (
        form.sections[2].id,
        "q2",
        2,
    )
    assert (await session.get(Review, review_id)).status == ReviewStatus.DRAFT


async def test_every_goal_must_be_rated_before_submit(session, kit, cast) -> None:
    q1_goals = await adeles_goals(session, cast)
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    await fill(session, cast.adele, review_id)
    # A goal set after the form was filled in is an item too.
    late = await goals.create_goal(session, actor=cast.adele, title="Late goal", period="2026-Q1", now=NOW)

    with pytest.raises(reviews.ReviewIncomplete) as refused:
        await reviews.submit_review(session, actor=cast.adele, review_id=review_id, now=NOW)

    assert refused.value.item_key == f"goal-{late.id}" and len(q1_goals) == 3
    assert refused.value.message == "Answer “Late goal” in “Goals” (step 1 of 3) before you submit."


async def test_a_second_submit_writes_nothing(session, kit, cast) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    await fill(session, cast.adele, review_id)

    first = await reviews.submit_review(session, actor=cast.adele, review_id=review_id, now=NOW)
    second = await reviews.submit_review(
        session, actor=cast.adele, review_id=review_id, now=NOW + timedelta(hours=1)
    )
    late_save = await reviews.save_step(
        session,
        actor=cast.adele,
        review_id=review_id,
        section_id=first.sections[1].id,
        answers={"c1": AnswerInput(rating=1)},
        expected_version=first.version,
        now=NOW,
    )

    assert (first.status, first.already_submitted, first.editable) == (ReviewStatus.SUBMITTED, False, False)
    assert second.already_submitted and second.submitted_at == first.submitted_at == NOW
    assert late_save.already_submitted and late_save == replace(first, already_submitted=True)


async def test_a_review_cannot_change_once_its_phase_closed(session, kit, cast) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    form = await fill(session, cast.adele, review_id)
    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    closed = (
        "The self review phase of this cycle has closed (it was due on 13 March 2026): this review can't "
        "change any more."
    )

    with pytest.raises(Invalid) as submitting:
        await reviews.submit_review(session, actor=cast.adele, review_id=review_id, now=NOW)
    with pytest.raises(Invalid) as saving:
        await reviews.save_step(
            session,
            actor=cast.adele,
            review_id=review_id,
            section_id=form.sections[1].id,
            answers={"c1": AnswerInput(rating=1)},
            expected_version=form.version,
            now=NOW,
        )

    assert submitting.value.message == saving.value.message == closed
    after = await reviews.review_form(session, actor=cast.adele, review_id=review_id, now=NOW)
    assert (after.status, after.editable, after.version) == (ReviewStatus.DRAFT, False, form.version)


async def test_someone_elses_review_id_reads_as_not_existing(session, kit, cast) -> None:
    cycle = await kit.launched()
    isaiahs = await kit.review_id(cycle.id, cast.isaiah, ReviewerRole.SELF)
    adeles_manager_review = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    missing = await session.scalar(select(func.max(Review.id))) + 1000

    attempts = [
        (cast.adele, isaiahs),
        (cast.adele, adeles_manager_review),  # her manager's review of her
        (cast.megan, isaiahs),  # HR reads reviews through results, never writes someone's form
        (cast.lynne, adeles_manager_review),  # Alex's manager
        (cast.adele, missing),
    ]
    for who, review_id in attempts:
        for call in (
            reviews.review_form(session, actor=who, review_id=review_id, now=NOW),
            reviews.save_step(
                session, actor=who, review_id=review_id, section_id=1, answers={}, expected_version=0, now=NOW
            ),
            reviews.submit_review(session, actor=who, review_id=review_id, now=NOW),
        ):
            with pytest.raises(NotFound) as refused:
                await call
            assert refused.value.message == "That review does not exist."
    assert await count(session, ReviewAnswer) == 0


# --- concurrent edits --------------------------------------------------------------------------------------


async def test_two_windows_editing_different_items_of_one_step_lose_neither(session, kit, cast) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    shown = await reviews.review_form(session, actor=cast.alex, review_id=review_id, now=NOW)
    step = shown.sections[1].id  # both windows show version 0 with nothing answered

    # Window 1 rates Communication and Delivery; it sends Ownership as it showed it, empty.
    one = {"c1": AnswerInput(rating=4), "c2": AnswerInput(rating=3), "c3": AnswerInput()}
    await reviews.save_step(
        session,
        actor=cast.alex,
        review_id=review_id,
        section_id=step,
        answers=one,
        expected_version=0,
        now=NOW,
    )
    # Window 2, still at version 0, rates Ownership; it sends the other two empty, as it showed them.
    two = {"c1": AnswerInput(), "c2": AnswerInput(), "c3": AnswerInput(rating=5, text="Owns incidents")}
    merged = await reviews.save_step(
        session,
        actor=cast.alex,
        review_id=review_id,
        section_id=step,
        answers=two,
        expected_version=0,
        now=NOW,
    )

    assert {i.key: i.answer for i in merged.sections[1].items} == {
        "c1": AnswerView(4, None, None),
        "c2": AnswerView(3, None, None),
        "c3": AnswerView(5, None, "Owns incidents"),
    }
    assert merged.version == 2


async def test_both_windows_changing_one_item_is_a_conflict_carrying_the_latest_and_nothing_is_saved(
    session, kit, cast
) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    step = (await reviews.review_form(session, actor=cast.alex, review_id=review_id, now=NOW)).sections[1].id
    await reviews.save_step(
        session,
        actor=cast.alex,
        review_id=review_id,
        section_id=step,
        answers={"c1": AnswerInput(rating=4)},
        expected_version=0,
        now=NOW,
    )
    sent = {"c1": AnswerInput(rating=2), "c2": AnswerInput(rating=5)}

    with pytest.raises(reviews.ReviewChanged) as refused:
        await reviews.save_step(
            session,
            actor=cast.alex,
            review_id=review_id,
            section_id=step,
            answers=sent,
            expected_version=0,
            now=NOW,
        )

    (conflict,) = refused.value.conflicts
    assert (conflict.item_key, conflict.item_text, conflict.yours, conflict.theirs) == (
        "c1",
        "Communication",
        AnswerView(2, None, None),
        AnswerView(4, None, None),
    )
    assert refused.value.message.startswith("“Communication” was changed meanwhile")
    assert refused.value.answers == sent, "what the person typed comes back, to show again"
    latest = refused.value.latest
    assert latest.version == 1 and {i.key: i.answer for i in latest.sections[1].items}["c2"] is None
    assert await count(session, ReviewAnswer) == 1, "nothing of the step was saved"


async def test_a_save_that_loses_a_race_merges_with_the_winner(session, kit, cast, monkeypatch) -> None:
    cycle = await kit.launched()
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    step = (await reviews.review_form(session, actor=cast.alex, review_id=review_id, now=NOW)).sections[1].id
    claim = reviews._claim_save
    raced = False

    async def another_save_commits_first(session, review, changed, next_step, now):
        nonlocal raced
        if not raced:
            raced = True
            await reviews.save_step(
                session,
                actor=cast.alex,
                review_id=review_id,
                section_id=step,
                answers={"c2": AnswerInput(rating=1)},
                expected_version=0,
                now=now,
            )
        return await claim(session, review, changed, next_step, now)

    monkeypatch.setattr(reviews, "_claim_save", another_save_commits_first)
    saved = await reviews.save_step(
        session,
        actor=cast.alex,
        review_id=review_id,
        section_id=step,
        answers={"c1": AnswerInput(rating=4)},
        expected_version=0,
        now=NOW,
    )

    assert raced
    assert {i.key: i.answer for i in saved.sections[1].items} == {
        "c1": AnswerView(4, None, None),
        "c2": AnswerView(1, None, None),
        "c3": None,
    }
    assert saved.version == 2


# --- the manager's form and the score ----------------------------------------------------------------------


async def test_the_manager_sees_the_self_review_and_goal_results_beside_their_form(
    session, kit, cast
) -> None:
    q1_goals = await adeles_goals(session, cast)
    cycle = await kit.launched()
    own = await kit.review_id(cycle.id, cast.adele, ReviewerRole.SELF)
    manager_review = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)

    before = await reviews.review_form(session, actor=cast.alex, review_id=manager_review, now=NOW)
    assert before.beside_self_review is None, "a draft self review is not shown"
    assert [(g.title, g.progress, g.final_score) for g in before.beside_goals] == [
        (g.title, 0.0, None) for g in q1_goals
    ]
    await fill(session, cast.adele, own, q2="Shipped search")
    await reviews.submit_review(session, actor=cast.adele, review_id=own, now=NOW)

    after = await reviews.review_form(session, actor=cast.alex, review_id=manager_review, now=NOW)
    beside = after.beside_self_review
    assert beside is not None and beside.role is ReviewerRole.SELF and beside.submitted_at == NOW
    assert beside.sections[2].items[1].answer == AnswerView(None, None, "Shipped search")


async def test_the_managers_submit_computes_the_score_as_computed_by_hand(session, kit, cast) -> None:
    q1_goals = await adeles_goals(session, cast)
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    ratings = {f"goal-{q1_goals[0].id}": 4, f"goal-{q1_goals[1].id}": 3, f"goal-{q1_goals[2].id}": 3}
    ratings |= {"c1": 5, "c2": 4, "c3": 4, "q1": 3}
    await fill(session, cast.alex, review_id, ratings)

    await reviews.submit_review(session, actor=cast.alex, review_id=review_id, now=NOW)

    # Goals (50): (4 + 3 + 3) / 3 = 3.333… → 3.33, contributing 50 · 3.333… / 100 = 1.67
    # Competencies (30): (5 + 4 + 4) / 3 = 4.333… → 4.33, contributing 30 · 4.333… / 100 = 1.30
    # Overall (20): 3 → 3.00, contributing 20 · 3 / 100 = 0.60
    # Final: 1.666… + 1.3 + 0.6 = 3.5666… → 3.57 ("Above" on the 5-point scale)
    result = await review_results.review_result(
        session, actor=cast.lynne, cycle_id=cycle.id, person_id=cast.adele.person_id, now=NOW
    )
    score = result.score
    assert score is not None
    assert (str(score.final), str(score.computed), score.calibrated, score.band_label) == (
        "3.57",
        "3.57",
        False,
        "Above",
    )
    assert [(s.title, str(s.score), str(s.contribution)) for s in score.sections] == [
        ("Goals", "3.33", "1.67"),
        ("Competencies", "4.33", "1.30"),
        ("Overall", "3.00", "0.60"),
    ]
    stored = await session.scalar(
        select(ReviewParticipant).where(ReviewParticipant.person_id == cast.adele.person_id)
    )
    assert (stored.computed_score, stored.final_score, stored.manager_submitted_at) == (3.57, 3.57, NOW)

"""Performance reviews after the forms, on SQLite and PostgreSQL: who sees results when, pooled peer and
upward answers, calibration, release and acknowledgement, recurring and new-hire cycles, and the reads the
tabs and the nudge engine use.

Alex Wilber manages Adele Vance, Isaiah Langer and three more engineers; Lynne Robbins is Alex's manager;
Patti Fernandez is in Sales; Megan Bowen is HR (and a talent reviewer of the whole organization).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select, update

from domain.access import Actor, Role
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import (
    calibration,
    review_cycles,
    review_new_hires,
    review_participants,
    review_reads,
    review_results,
    reviews,
)
from domain.performance.review_views import (
    AnswerInput,
    CycleKind,
    DueWhat,
    ItemKind,
    ParticipantRule,
    Phase,
    Recurrence,
    ReviewerRole,
    ReviewStatus,
)
from storage import outbox
from storage.models import AuditEntry, Person, ReviewCalibration, ReviewCycle, ReviewParticipant
from tests.domain.conftest import REVIEW_NOW, ReviewKit

NOW = REVIEW_NOW
MANAGER_NOTE = "Private manager note about Adele"


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def fill(session, actor, review_id: int, rating: int = 4, text: str = "Good work") -> None:
    """Answer every step of a form: each rating item with `rating`, each text item with `text`."""
    form = await reviews.review_form(session, actor=actor, review_id=review_id, now=NOW)
    for section in form.sections:
        answers = {
            i.key: AnswerInput(rating=rating) if i.kind is ItemKind.RATING else AnswerInput(text=text)
            for i in section.items
            if i.kind is not ItemKind.CHOICE
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


async def submitted(
    session, kit: ReviewKit, cycle_id: int, reviewee: Actor, role: ReviewerRole, reviewer: Actor, **kw
):
    review_id = await kit.review_id(cycle_id, reviewee, role, reviewer)
    await fill(session, reviewer, review_id, **kw)
    return await reviews.submit_review(session, actor=reviewer, review_id=review_id, now=NOW)


async def alex_team_others(session, cast) -> list[Actor]:
    """The three generated engineers in Alex's team, as actors."""
    from domain.access import load_actor

    ids = await session.scalars(
        select(Person.id)
        .where(
            Person.manager_id == cast.alex.person_id,
            Person.id.not_in([cast.adele.person_id, cast.isaiah.person_id]),
        )
        .order_by(Person.id)
    )
    return [await load_actor(session, pid) for pid in ids]


async def result(session, who: Actor, cycle_id: int, person: Actor):
    return await review_results.review_result(
        session, actor=who, cycle_id=cycle_id, person_id=person.person_id, now=NOW
    )


# --- nothing before release ---------------------------------------------------------------------------------


async def test_the_reviewee_sees_nothing_of_their_score_until_release(session, kit, cast) -> None:
    cycle = await kit.launched()
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.SELF, cast.adele, text="My own words")
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    await submitted(
        session, kit, cycle.id, cast.adele, ReviewerRole.MANAGER, cast.alex, rating=3, text=MANAGER_NOTE
    )
    await kit.move_to(cycle.id, Phase.CALIBRATION)
    await calibration.calibrate(
        session,
        actor=cast.megan,
        cycle_id=cycle.id,
        person_id=cast.adele.person_id,
        score="3.5",
        reason="Raised against the department",
        now=NOW,
    )

    mine = await result(session, cast.adele, cycle.id, cast.adele)
    everything = [mine, await review_reads.my_reviews(session, actor=cast.adele, today=NOW.date())]
    assert (mine.released, mine.score, mine.manager_review, mine.peers, mine.reports) == (
        False,
        None,
        None,
        None,
        None,
    )
    assert mine.self_review is not None, "her own self review is hers to read"
    assert everything[1].results == ()
    shown = repr(everything)
    assert MANAGER_NOTE not in shown and "3.5" not in shown and "Raised against" not in shown
    manager_review = await kit.review_id(cycle.id, cast.adele, ReviewerRole.MANAGER)
    with pytest.raises(NotFound):
        await reviews.review_form(session, actor=cast.adele, review_id=manager_review, now=NOW)
    with pytest.raises(Forbidden):
        await calibration.calibration_view(session, actor=cast.adele, cycle_id=cycle.id)

    # Her manager line and HR see it all the while.
    for who in (cast.alex, cast.lynne, cast.megan):
        seen = await result(session, who, cycle.id, cast.adele)
        assert seen.score is not None and str(seen.score.final) == "3.50", who.display_name
        assert seen.manager_review is not None
    for who in (cast.isaiah, cast.patti):
        with pytest.raises(NotFound):
            await result(session, who, cycle.id, cast.adele)

    await kit.move_to(cycle.id, Phase.RELEASED)
    released = await result(session, cast.adele, cycle.id, cast.adele)
    assert released.released and released.score is not None
    assert (str(released.score.final), str(released.score.computed), released.score.calibrated) == (
        "3.50",
        "3.00",
        True,
    )
    assert [str(s.contribution) for s in released.score.sections] == ["0.00", "1.80", "1.20"]  # no Q1 goals
    assert released.manager_review is not None and MANAGER_NOTE in repr(released.manager_review)
    assert "Raised against" not in repr(released), "the calibration reason is never hers to read"
    (summary,) = (await review_reads.my_reviews(session, actor=cast.adele, today=NOW.date())).results
    assert (str(summary.final), summary.band_label, summary.acknowledge_by) == (
        "3.50",
        "Above",
        date(2026, 4, 17),
    )


# --- pooled peer and upward answers -------------------------------------------------------------------------


async def test_peer_answers_are_shown_only_pooled_and_only_from_three(session, kit, cast) -> None:
    others = await alex_team_others(session, cast)
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    peers = [cast.isaiah, cast.patti, others[0]]
    await review_participants.nominate_peers(
        session,
        actor=cast.adele,
        cycle_id=cycle.id,
        reviewee_id=cast.adele.person_id,
        peer_ids=[p.person_id for p in peers],
        now=NOW,
    )

    async def peer_review(peer: Actor, rating: int, text: str | None) -> None:
        review_id = await kit.review_id(cycle.id, cast.adele, ReviewerRole.PEER, peer)
        form = await reviews.review_form(session, actor=peer, review_id=review_id, now=NOW)
        (section,) = form.sections
        answers = {"q1": AnswerInput(rating=rating), "q2": AnswerInput(text=text)}
        await reviews.save_step(
            session,
            actor=peer,
            review_id=review_id,
            section_id=section.id,
            answers=answers,
            expected_version=0,
            now=NOW,
        )
        await reviews.submit_review(session, actor=peer, review_id=review_id, now=NOW)

    await peer_review(cast.isaiah, 4, "Great pairing")
    await peer_review(cast.patti, 2, "Helpful in demos")
    for who in (cast.alex, cast.lynne, cast.megan):
        assert (await result(session, who, cycle.id, cast.adele)).peers is None, "two answers are not a pool"

    await peer_review(others[0], 5, None)

    pool = (await result(session, cast.alex, cycle.id, cast.adele)).peers
    assert pool is not None and pool.reviews == 3 and pool.role is ReviewerRole.PEER
    (section,) = pool.sections
    collaboration, keep_doing = section.items
    # (4 + 2 + 5) / 3 = 3.666… → 3.67
    assert (collaboration.count, collaboration.shown, str(collaboration.mean)) == (3, True, "3.67")
    assert (keep_doing.count, keep_doing.shown, keep_doing.texts) == (2, False, ()), "two texts stay hidden"
    assert "Great pairing" not in repr(pool) and "Isaiah" not in repr(pool)

    await kit.move_to(cycle.id, Phase.RELEASED)
    hers = (await result(session, cast.adele, cycle.id, cast.adele)).peers
    assert hers == pool, "the person reviewed sees the same pool once released, and no names"


async def test_upward_answers_are_pooled_too(session, kit, cast) -> None:
    others = await alex_team_others(session, cast)
    cycle = await kit.launched(rule=ParticipantRule.people([cast.alex.person_id]))
    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    for report in (cast.adele, cast.isaiah):
        await submitted(
            session, kit, cycle.id, cast.alex, ReviewerRole.REPORT, report, rating=2, text="More 1:1s"
        )
    assert (await result(session, cast.lynne, cycle.id, cast.alex)).reports is None

    await submitted(
        session, kit, cycle.id, cast.alex, ReviewerRole.REPORT, others[0], rating=5, text="Clear goals"
    )

    pool = (await result(session, cast.lynne, cycle.id, cast.alex)).reports
    assert pool is not None and pool.reviews == 3 and pool.role is ReviewerRole.REPORT
    collaboration, keep_doing = pool.sections[0].items
    # (2 + 2 + 5) / 3 = 3.00; texts sorted by text, not by who wrote first
    assert (str(collaboration.mean), keep_doing.texts) == ("3.00", ("Clear goals", "More 1:1s", "More 1:1s"))
    with pytest.raises(NotFound):
        await result(session, cast.adele, cycle.id, cast.alex)  # a report never reads her manager's review


async def test_only_hr_reads_who_wrote_peer_reviews_and_each_read_is_audited(session, kit, cast) -> None:
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    await review_participants.nominate_peers(
        session,
        actor=cast.alex,
        cycle_id=cycle.id,
        reviewee_id=cast.adele.person_id,
        peer_ids=[cast.patti.person_id],
        now=NOW,
    )
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.PEER, cast.patti, rating=1, text="Rude")

    for who in (cast.alex, cast.lynne, cast.adele):
        with pytest.raises(NotFound):
            await review_results.review_authors(
                session, actor=who, cycle_id=cycle.id, person_id=cast.adele.person_id, now=NOW
            )
    assert await count(session, AuditEntry) == 0
    (authored,) = await review_results.review_authors(
        session, actor=cast.megan, cycle_id=cycle.id, person_id=cast.adele.person_id, now=NOW
    )

    assert (authored.reviewer_name, authored.role, authored.status) == (
        "Patti Fernandez",
        ReviewerRole.PEER,
        ReviewStatus.SUBMITTED,
    )
    assert authored.sections[0].items[1].answer.text == "Rude"
    entry = await session.scalar(select(AuditEntry))
    assert (entry.actor_id, entry.action, entry.subject_type, entry.detail["about"]) == (
        cast.megan.person_id,
        "review.read_anonymous_reviewers",
        "review_participant",
        cast.adele.person_id,
    )


# --- calibration --------------------------------------------------------------------------------------------


async def calibrating(session, kit, cast):
    """A cycle in calibration: Alex rated Adele all 4s and Isaiah all 2s; his other three are unrated."""
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.MANAGER, cast.alex, rating=4)
    await submitted(session, kit, cycle.id, cast.isaiah, ReviewerRole.MANAGER, cast.alex, rating=2)
    await kit.move_to(cycle.id, Phase.CALIBRATION)
    return cycle


async def test_calibration_shows_ratings_side_by_side_with_an_advisory_guideline(session, kit, cast) -> None:
    cycle = await calibrating(session, kit, cast)

    view = await calibration.calibration_view(session, actor=cast.megan, cycle_id=cycle.id)

    assert view.editable and len(view.rows) == 5
    rows = {r.person_name: r for r in view.rows}
    assert (str(rows["Adele Vance"].computed), rows["Adele Vance"].band) == ("4.00", 4)
    assert (str(rows["Isaiah Langer"].final), rows["Isaiah Langer"].manager_review) == (
        "2.00",
        ReviewStatus.SUBMITTED,
    )
    assert (view.overall.counts, view.overall.unscored) == ((0, 1, 0, 1, 0), 3)
    assert [(d.label, d.counts) for d in view.by_manager] == [("Alex Wilber", (0, 1, 0, 1, 0))]
    assert [(d.label, d.unscored) for d in view.by_department] == [("Engineering", 3)]
    guideline = view.guideline
    assert guideline is not None and guideline.percentages == (10, 20, 40, 20, 10)
    assert guideline.applies is False, "two scored people: the guideline is shown, and said not to apply"


async def test_calibrating_needs_a_reason_and_keeps_before_after_who_and_when(session, kit, cast) -> None:
    cycle = await calibrating(session, kit, cast)
    adele = cast.adele.person_id

    with pytest.raises(Invalid) as refused:
        await calibration.calibrate(
            session, actor=cast.megan, cycle_id=cycle.id, person_id=adele, score=3.5, reason="  ", now=NOW
        )
    assert refused.value.message == "The reason for the change is empty: write something first."
    assert await count(session, ReviewCalibration) == 0

    later = NOW + timedelta(hours=2)
    view = await calibration.calibrate(
        session,
        actor=cast.megan,
        cycle_id=cycle.id,
        person_id=adele,
        score="3.5",
        reason="Peer evidence",
        now=later,
    )

    row = next(r for r in view.rows if r.person_id == adele)
    assert (str(row.computed), str(row.final), row.band, row.calibrated) == ("4.00", "3.50", 4, True)
    (adjustment,) = view.adjustments
    assert (
        str(adjustment.before),
        str(adjustment.after),
        adjustment.reason,
        adjustment.by_name,
        adjustment.at,
    ) == (
        "4.00",
        "3.50",
        "Peer evidence",
        "Megan Bowen",
        later,
    )
    again = await calibration.calibrate(
        session,
        actor=cast.megan,
        cycle_id=cycle.id,
        person_id=adele,
        score="3.50",
        reason="Peer evidence",
        now=later,
    )
    assert again.already_submitted and len(again.adjustments) == 1
    with pytest.raises(Invalid, match=r"^Adele Vance's score is 3\.50 already"):
        await calibration.calibrate(
            session,
            actor=cast.megan,
            cycle_id=cycle.id,
            person_id=adele,
            score=3.5,
            reason="Other",
            now=later,
        )
    back = await calibration.calibrate(
        session,
        actor=cast.megan,
        cycle_id=cycle.id,
        person_id=adele,
        score=4,
        reason="Second look",
        now=later,
    )
    assert [(str(a.before), str(a.after)) for a in back.adjustments] == [("3.50", "4.00"), ("4.00", "3.50")]


async def test_scores_change_only_in_calibration(session, kit, cast) -> None:
    cycle = await kit.launched()
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.MANAGER, cast.alex)

    with pytest.raises(Invalid) as refused:
        await calibration.calibrate(
            session,
            actor=cast.megan,
            cycle_id=cycle.id,
            person_id=cast.adele.person_id,
            score=3,
            reason="x",
            now=NOW,
        )

    assert refused.value.message == "Scores are adjusted during calibration: this cycle is in manager review."


async def test_calibration_leads_calibrate_within_their_scope_and_nobody_their_own_score(
    session, kit, cast
) -> None:
    cycle = await calibrating(session, kit, cast)

    def lead(base: Actor, *scope: str) -> Actor:
        return dataclasses.replace(
            base, roles=base.roles | {Role.TALENT_REVIEWER}, talent_scope=frozenset(scope)
        )

    sales_lead, engineering_lead = lead(cast.patti, "Sales"), lead(cast.patti, "Engineering")
    assert (await calibration.calibration_view(session, actor=sales_lead, cycle_id=cycle.id)).rows == ()
    with pytest.raises(Forbidden):
        await calibration.calibrate(
            session,
            actor=sales_lead,
            cycle_id=cycle.id,
            person_id=cast.adele.person_id,
            score=3,
            reason="x",
            now=NOW,
        )
    assert (
        len((await calibration.calibration_view(session, actor=engineering_lead, cycle_id=cycle.id)).rows)
        == 5
    )
    await calibration.calibrate(
        session,
        actor=engineering_lead,
        cycle_id=cycle.id,
        person_id=cast.adele.person_id,
        score=3,
        reason="x",
        now=NOW,
    )
    adele_as_lead = lead(cast.adele, "*")
    seen = await calibration.calibration_view(session, actor=adele_as_lead, cycle_id=cycle.id)
    assert cast.adele.person_id not in {r.person_id for r in seen.rows}, "never one's own row"
    with pytest.raises(Forbidden):
        await calibration.calibrate(
            session,
            actor=adele_as_lead,
            cycle_id=cycle.id,
            person_id=cast.adele.person_id,
            score=5,
            reason="x",
            now=NOW,
        )
    for who in (cast.alex, cast.lynne):
        with pytest.raises(Forbidden):
            await calibration.calibration_view(session, actor=who, cycle_id=cycle.id)


async def test_hr_sets_the_guideline_until_release(session, kit, cast) -> None:
    cycle = await calibrating(session, kit, cast)

    view = await calibration.set_guideline(
        session, actor=cast.megan, cycle_id=cycle.id, percentages=[5, 15, 60, 15, 5], now=NOW
    )

    assert view.guideline is not None and view.guideline.expected == (0.1, 0.3, 1.2, 0.3, 0.1)
    with pytest.raises(Invalid, match="add up to 90"):
        await calibration.set_guideline(
            session, actor=cast.megan, cycle_id=cycle.id, percentages=[5, 15, 50, 15, 5], now=NOW
        )
    with pytest.raises(Forbidden):
        await calibration.set_guideline(
            session, actor=cast.alex, cycle_id=cycle.id, percentages=[20] * 5, now=NOW
        )
    await kit.move_to(cycle.id, Phase.RELEASED)
    with pytest.raises(Invalid, match="released"):
        await calibration.set_guideline(
            session, actor=cast.megan, cycle_id=cycle.id, percentages=[20] * 5, now=NOW
        )


# --- acknowledgement ----------------------------------------------------------------------------------------


async def test_the_reviewee_acknowledges_a_released_review_once(session, kit, cast) -> None:
    cycle = await calibrating(session, kit, cast)

    with pytest.raises(Invalid, match=r"^Your review isn't released yet: there is nothing to acknowledge\.$"):
        await review_results.acknowledge(session, actor=cast.adele, cycle_id=cycle.id, now=NOW)
    await kit.move_to(cycle.id, Phase.RELEASED)
    later = NOW + timedelta(days=1)
    first = await review_results.acknowledge(
        session, actor=cast.adele, cycle_id=cycle.id, now=later, comment=" Thanks, agreed. "
    )
    second = await review_results.acknowledge(
        session,
        actor=cast.adele,
        cycle_id=cycle.id,
        now=later + timedelta(hours=1),
        comment="Changed my mind",
    )

    assert (first.acknowledged_at, first.acknowledgement_comment, first.already_submitted) == (
        later,
        "Thanks, agreed.",
        False,
    )
    assert second.already_submitted and second == dataclasses.replace(first, already_submitted=True)
    others = await alex_team_others(session, cast)
    with pytest.raises(Invalid, match="Your manager's review wasn't submitted"):
        await review_results.acknowledge(session, actor=others[0], cycle_id=cycle.id, now=later)
    with pytest.raises(NotFound):
        await review_results.acknowledge(session, actor=cast.patti, cycle_id=cycle.id, now=later)
    manager_view = await result(session, cast.alex, cycle.id, cast.adele)
    assert manager_view.acknowledgement_comment == "Thanks, agreed."
    await kit.move_to(cycle.id, Phase.CLOSED)
    with pytest.raises(Invalid, match="This cycle is closed"):
        await review_results.acknowledge(session, actor=cast.isaiah, cycle_id=cycle.id, now=later)


# --- recurring and event-driven cycles ----------------------------------------------------------------------


async def test_closing_a_recurring_cycle_creates_the_next_periods_draft_once(session, kit, cast) -> None:
    cycle = await kit.launched(recurrence=Recurrence.QUARTERLY)

    closed = await kit.move_to(cycle.id, Phase.CLOSED)

    assert closed.next_cycle_id is not None
    following = await review_cycles.get_cycle(session, actor=cast.megan, cycle_id=closed.next_cycle_id)
    assert (following.name, following.phase, following.recurrence, following.previous_cycle_id) == (
        "2026-Q2 review",
        Phase.DRAFT,
        Recurrence.QUARTERLY,
        cycle.id,
    )
    assert (following.period_start, following.period_end) == (date(2026, 4, 1), date(2026, 6, 30))
    assert [(p.phase, p.due_on) for p in following.phases if p.due_on] == [
        (Phase.SELF_REVIEW, date(2026, 6, 13)),
        (Phase.PEER_REVIEW, date(2026, 6, 20)),
        (Phase.MANAGER_REVIEW, date(2026, 6, 27)),
        (Phase.CALIBRATION, date(2026, 7, 3)),
        (Phase.RELEASED, date(2026, 7, 17)),
    ]
    assert following.rule == cycle.rule and following.participants == 0, "people are resolved at its launch"
    again = await review_cycles.advance(
        session, actor=cast.megan, cycle_id=cycle.id, to=Phase.CLOSED, now=NOW
    )
    assert again.already_submitted and await count(session, ReviewCycle) == 2
    one_off = await kit.launched(name="One-off", rule=ParticipantRule.people([cast.patti.person_id]))
    assert (await kit.move_to(one_off.id, Phase.CLOSED)).next_cycle_id is None


async def test_new_hires_get_one_90_day_review_however_often_the_scheduler_runs(session, kit, cast) -> None:
    template = await kit.template()
    today = NOW.date()
    hired = {
        cast.isaiah.person_id: today - timedelta(days=95),  # due: the 90th day was 5 days ago
        cast.patti.person_id: today - timedelta(days=200),  # long ago: not caught up
        cast.adele.person_id: today - timedelta(days=60),  # not yet
    }
    for pid, day in hired.items():
        await session.execute(update(Person).where(Person.id == pid).values(hire_date=day))
    await session.execute(
        update(Person).where(Person.id.not_in(list(hired))).values(hire_date=date(2020, 1, 6))
    )

    (created,) = await review_new_hires.create_new_hire_reviews(session, template_id=template.id, now=NOW)
    again = await review_new_hires.create_new_hire_reviews(session, template_id=template.id, now=NOW)

    assert again == ()
    assert (created.kind, created.name, created.phase, created.participants) == (
        CycleKind.NEW_HIRE,
        "New hire 90-day review · Isaiah Langer",
        Phase.SELF_REVIEW,
        1,
    )
    assert (created.period_start, created.period_end) == (
        hired[cast.isaiah.person_id],
        today - timedelta(days=5),
    )
    assert created.due_on(Phase.SELF_REVIEW) == today + timedelta(days=7)
    assert await kit.review_id(created.id, cast.isaiah, ReviewerRole.SELF, cast.isaiah)
    assert await kit.review_id(created.id, cast.isaiah, ReviewerRole.MANAGER, cast.alex)
    regular = await kit.launched(template=template)
    assert regular.participants == 5, "a new-hire review does not block the regular cycle"


# --- reads for the tabs and the nudges ----------------------------------------------------------------------


async def test_due_items_list_what_each_phase_waits_for(session, kit, cast, engine) -> None:
    others = await alex_team_others(session, cast)
    cycle = await kit.launched()
    team = {cast.adele.person_id, cast.isaiah.person_id, *(o.person_id for o in others)}

    items = await review_reads.due_items(session, now=NOW)
    assert {(i.person_id, i.what, i.deadline, i.phase_opened_at) for i in items} == {
        (pid, DueWhat.SELF_REVIEW, date(2026, 3, 13), NOW) for pid in team
    }
    assert all(i.review_id is not None and i.reviewee_id == i.person_id for i in items)
    assert await review_reads.due_items(session, now=NOW - timedelta(minutes=1)) == (), "not open yet then"

    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.SELF, cast.adele)
    await session.execute(update(Person).where(Person.id == others[2].person_id).values(active=False))
    left = {i.person_id for i in await review_reads.due_items(session, now=NOW)}
    assert left == team - {cast.adele.person_id, others[2].person_id}, (
        "submitted and departed people are done"
    )

    await kit.move_to(cycle.id, Phase.PEER_REVIEW)
    await review_participants.nominate_peers(
        session,
        actor=cast.adele,
        cycle_id=cycle.id,
        reviewee_id=cast.adele.person_id,
        peer_ids=[cast.patti.person_id],
        now=NOW,
    )
    upward = await kit.launched(name="Alex upward", rule=ParticipantRule.people([cast.alex.person_id]))
    await kit.move_to(upward.id, Phase.PEER_REVIEW)
    items = await review_reads.due_items(session, now=NOW)
    assert {(i.person_id, i.what, i.reviewee_id) for i in items} == {
        (cast.patti.person_id, DueWhat.PEER_REVIEW, cast.adele.person_id),
        *(
            (pid, DueWhat.UPWARD_REVIEW, cast.alex.person_id)
            for pid in team - {others[2].person_id}  # the one who left is not asked
        ),
    }

    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.MANAGER, cast.alex)
    mine = [i for i in await review_reads.due_items(session, now=NOW) if i.cycle_id == cycle.id]
    assert {(i.person_id, i.what, i.reviewee_id) for i in mine} == {
        (cast.alex.person_id, DueWhat.MANAGER_REVIEW, pid)
        for pid in team - {cast.adele.person_id, others[2].person_id}
    }
    assert {i.deadline for i in mine} == {date(2026, 3, 27)}

    await kit.move_to(cycle.id, Phase.RELEASED)
    mine = [i for i in await review_reads.due_items(session, now=NOW) if i.cycle_id == cycle.id]
    assert [(i.person_id, i.what, i.review_id, i.deadline) for i in mine] == [
        (cast.adele.person_id, DueWhat.ACKNOWLEDGEMENT, None, date(2026, 4, 17))
    ], "only a review with a manager's part is acknowledged"
    await review_results.acknowledge(session, actor=cast.adele, cycle_id=cycle.id, now=NOW)
    assert not [i for i in await review_reads.due_items(session, now=NOW) if i.cycle_id == cycle.id]

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        await review_reads.due_items(session, now=NOW)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert len(statements) == 2, statements


async def test_my_reviews_lists_what_to_write_with_due_dates_and_overdue(session, kit, cast) -> None:
    cycle = await kit.launched()

    mine = await review_reads.my_reviews(session, actor=cast.alex, today=date(2026, 3, 28))
    assert {(t.role, t.status, t.due_on, t.open, t.overdue) for t in mine.to_write} == {
        (ReviewerRole.MANAGER, ReviewStatus.PENDING, date(2026, 3, 27), True, True)
    }
    assert len(mine.to_write) == 5 and mine.results == ()
    adeles = (await review_reads.my_reviews(session, actor=cast.adele, today=NOW.date())).to_write
    assert [(t.role, t.reviewee_name, t.overdue) for t in adeles] == [
        (ReviewerRole.SELF, "Adele Vance", False)
    ]
    await kit.move_to(cycle.id, Phase.MANAGER_REVIEW)
    adeles = (await review_reads.my_reviews(session, actor=cast.adele, today=NOW.date())).to_write
    assert [(t.open, t.overdue) for t in adeles] == [(False, False)], "closed, not overdue: nothing to do"


async def test_team_status_shows_the_line_each_phases_status_and_nothing_to_others(
    session, kit, cast
) -> None:
    cycle = await kit.launched()
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.SELF, cast.adele)

    for manager in (cast.alex, cast.lynne):
        board = await review_reads.team_review_status(session, actor=manager)
        assert len(board) == 5, manager.display_name
        adele = next(m for m in board if m.person_id == cast.adele.person_id)
        assert (adele.self_review, adele.manager_review, adele.peers_nominated, adele.acknowledged) == (
            ReviewStatus.SUBMITTED,
            ReviewStatus.PENDING,
            0,
            False,
        )
    for other in (cast.patti, cast.adele):
        assert await review_reads.team_review_status(session, actor=other) == ()


async def test_the_cycle_dashboard_counts_completion_and_lists_who_is_overdue(session, kit, cast) -> None:
    cycle = await kit.launched()
    await submitted(session, kit, cycle.id, cast.adele, ReviewerRole.SELF, cast.adele)

    board = await review_reads.cycle_dashboard(
        session, actor=cast.megan, cycle_id=cycle.id, today=date(2026, 3, 14)
    )

    assert {(c.what, c.done, c.total) for c in board.completion} == {
        (DueWhat.SELF_REVIEW, 1, 5),
        (DueWhat.MANAGER_REVIEW, 0, 5),
    }
    assert [d.department for d in board.by_department] == ["Engineering"]
    assert board.overdue_total == len(board.overdue) == 4
    assert {board.names[i.person_id] for i in board.overdue} >= {"Isaiah Langer"}
    assert all(i.what is DueWhat.SELF_REVIEW and i.deadline == date(2026, 3, 13) for i in board.overdue)
    on_time = await review_reads.cycle_dashboard(
        session, actor=cast.megan, cycle_id=cycle.id, today=date(2026, 3, 13)
    )
    assert on_time.overdue == ()
    for who in (cast.alex, cast.lynne, cast.adele):
        with pytest.raises(Forbidden):
            await review_reads.cycle_dashboard(session, actor=who, cycle_id=cycle.id, today=NOW.date())
    assert await count(session, ReviewParticipant) == 5


async def test_nudge_history_lists_one_cycles_nudges_for_hr_only(session, kit, cast) -> None:
    cycle = await kit.launched()
    other = await kit.launched(name="Another", rule=ParticipantRule.people([cast.patti.person_id]))
    for kind, who, cycle_id in (
        ("review.nudge", cast.adele, cycle.id),
        ("review.escalation", cast.alex, cycle.id),
        ("review.nudge", cast.patti, other.id),
        ("feedback.ask", cast.isaiah, cycle.id),  # not a review nudge
    ):
        await outbox.enqueue(
            session, kind=kind, person_id=who.person_id, payload={"cycle_id": cycle_id}, now=NOW
        )
    history = await review_reads.nudge_history(session, actor=cast.megan, cycle_id=cycle.id)
    assert sorted((h.person_name, h.escalation, h.status) for h in history) == [
        ("Adele Vance", False, "pending"),
        ("Alex Wilber", True, "pending"),
    ]
    with pytest.raises(Forbidden):
        await review_reads.nudge_history(session, actor=cast.alex, cycle_id=cycle.id)

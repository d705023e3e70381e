"""Check-in services and planning against the demo organization, on SQLite and PostgreSQL.

Alex Wilber manages Adele Vance and Isaiah Langer (and three more engineers); Lynne Robbins is Alex's
manager; Patti Fernandez is in Sales; Megan Bowen is HR. The week is Monday 23 to Sunday 29 November
2026, in each person's own time zone: Alex, Adele and Lynne are in Los Angeles (UTC-8 then), Isaiah in
Denver (UTC-7), Patti in Chicago, Megan in New York. The organization's zone (ORG) is UTC unless a test
says otherwise.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from domain.access import Actor, Relation, Role, may_reply_to_checkin, may_view_checkin
from domain.errors import Forbidden, Invalid, NotFound
from domain.performance import checkins, goals
from domain.performance.checkin_views import (
    SEND_FROM,
    CheckInAnswers,
    DueCard,
    DueDigest,
    DueReminder,
    KeyResultValue,
    week_start,
)
from domain.performance.goals import KeyResultInput
from storage import demo
from storage.models import (
    CheckIn,
    CheckInComment,
    CheckInDigest,
    CheckInPreference,
    ConversationRef,
    KeyResultUpdate,
    Person,
    TalkingPoint,
)

MONDAY = date(2026, 11, 23)
WEEK = MONDAY


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


WED, THU, FRI, SAT, SUN = (MONDAY + timedelta(days=n) for n in (2, 3, 4, 5, 6))
NEXT_MONDAY = MONDAY + timedelta(days=7)
NOW = at(WED)
ORG = ZoneInfo("UTC")
LOS_ANGELES, DENVER = ZoneInfo("America/Los_Angeles"), ZoneInfo("America/Denver")


def local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of `hour`:00 on `day` in `zone`: what the scheduler's clock reads then."""
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def la(day: date, hour: int = 9) -> datetime:
    return local(day, hour, LOS_ANGELES)


async def lives_in(session, actor: Actor, zone: str) -> None:
    await session.execute(update(Person).where(Person.id == actor.person_id).values(time_zone=zone))


async def reachable(session, *people: Actor) -> None:
    """Give people a 1:1 chat with the bot, as installing the app does."""
    for person in people:
        session.add(
            ConversationRef(
                person_id=person.person_id,
                conversation_id=f"a:1-{person.person_id}",
                service_url="https://smba.example/",
                bot_id="28:bot",
                user_id=f"29:{person.person_id}",
                tenant_id=demo.DEMO_TENANT_ID,
            )
        )
    await session.flush()


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def a_goal(session, actor: Actor, **overrides) -> goals.GoalView:
    kwargs = {
        "title": "Ship check-ins",
        "period": "2026-Q4",
        "key_results": [KeyResultInput("Stories done", target=10)],
        "now": at(MONDAY),
    }
    return await goals.create_goal(session, actor=actor, **(kwargs | overrides))


async def submitted(session, actor: Actor, now: datetime = NOW, **answers) -> checkins.CheckInView:
    view = await checkins.open_checkin(session, default_zone=ORG, actor=actor, now=now)
    return await checkins.submit_checkin(
        session,
        default_zone=ORG,
        actor=actor,
        checkin_id=view.id,
        answers=CheckInAnswers(**({"mood": 4} | answers)),
        now=now,
    )


# --- the person's check-in -----------------------------------------------------------------------------


async def test_opening_twice_finds_the_same_check_in_with_the_default_day(session, cast) -> None:
    first = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)
    again = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=at(THU))

    assert first.id == again.id
    assert (first.week_start, first.due_on) == (MONDAY, FRI), "Friday unless they chose a day"
    row = await session.get(CheckIn, first.id)
    assert row.manager_id == cast.alex.person_id, "the digest it belongs to is fixed when it opens"
    assert row.sent_at is None, "opening by command is not the scheduled card"
    assert await count(session, CheckIn) == 1


async def test_the_form_offers_the_key_results_of_ones_own_active_goals(session, cast) -> None:
    mine = await a_goal(session, cast.adele, key_results=[KeyResultInput("Stories", target=10, unit="pts")])
    closed = await a_goal(session, cast.adele, title="Old goal")
    await goals.close_goal(session, actor=cast.adele, goal_id=closed.id, final_score=1, now=NOW)
    await a_goal(session, cast.adele, title="Next year", period="2027-Q1")
    await a_goal(session, cast.isaiah, title="Isaiah's own")

    view = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)

    [line] = view.key_results
    assert (line.id, line.goal_title, line.title, line.unit) == (
        mine.key_results[0].id,
        "Ship check-ins",
        "Stories",
        "pts",
    )
    assert (line.current, line.target, line.version) == (0, 10, 1)


async def test_submit_records_the_answers_and_moves_key_results_through_goals(session, cast) -> None:
    goal = await a_goal(session, cast.adele)
    kr = goal.key_results[0]
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)

    view = await checkins.submit_checkin(
        session,
        default_zone=ORG,
        actor=cast.adele,
        checkin_id=form.id,
        answers=CheckInAnswers(
            mood=4,
            wins="  Shipped the digest  ",
            blockers=None,
            priorities="Reminders",
            key_results=(KeyResultValue(kr.id, 4, kr.version),),
            new_talking_point="Conference budget",
        ),
        now=NOW,
    )

    assert view.submitted and not view.already_submitted
    assert (view.mood, view.wins, view.blockers, view.priorities) == (
        4,
        "Shipped the digest",
        None,
        "Reminders",
    )
    assert [(c.title, c.old, c.new) for c in view.changes] == [("Stories done", 0, 4)]
    assert [p.text for p in view.open_points] == ["Conference budget"]
    [history] = (await session.scalars(select(KeyResultUpdate))).all()
    assert (history.old_value, history.new_value, history.by_id) == (0, 4, cast.adele.person_id)
    assert "Weekly check-in" in history.comment
    updated = await goals.get_goal(session, actor=cast.adele, goal_id=goal.id, today=WED)
    assert updated.key_results[0].current == 4
    assert updated.progress == pytest.approx(0.4)


async def test_a_second_submit_writes_nothing(session, cast) -> None:
    goal = await a_goal(session, cast.adele)
    kr = goal.key_results[0]
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)
    answers = CheckInAnswers(
        mood=5, wins="first", key_results=(KeyResultValue(kr.id, 3, kr.version),), new_talking_point="x"
    )
    await checkins.submit_checkin(
        session, default_zone=ORG, actor=cast.adele, checkin_id=form.id, answers=answers, now=NOW
    )

    again = await checkins.submit_checkin(
        session,
        default_zone=ORG,
        actor=cast.adele,
        checkin_id=form.id,
        answers=CheckInAnswers(mood=1, wins="second", key_results=(KeyResultValue(kr.id, 9, kr.version),)),
        now=NOW + timedelta(seconds=1),
    )

    assert again.already_submitted
    assert (again.mood, again.wins) == (5, "first")
    assert await count(session, CheckIn) == 1
    assert await count(session, KeyResultUpdate) == 1
    assert await count(session, TalkingPoint) == 1


async def test_a_key_result_changed_meanwhile_leaves_the_whole_check_in_unsaved(session, cast) -> None:
    goal = await a_goal(
        session, cast.adele, key_results=[KeyResultInput("A", target=10), KeyResultInput("B", target=10)]
    )
    a, b = goal.key_results
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)
    # Alex moves B after Adele's card was drawn.
    await goals.update_key_result(
        session, actor=cast.alex, key_result_id=b.id, value=2, expected_version=b.version, now=NOW
    )
    answers = CheckInAnswers(
        mood=3,
        wins="kept",
        key_results=(KeyResultValue(a.id, 5, a.version), KeyResultValue(b.id, 6, b.version)),
        new_talking_point="not yet",
    )

    with pytest.raises(checkins.CheckInNotSaved) as refused:
        await checkins.submit_checkin(
            session, default_zone=ORG, actor=cast.adele, checkin_id=form.id, answers=answers, now=NOW
        )

    assert "“B” was updated meanwhile" in refused.value.message
    assert refused.value.answers.wins == "kept", "the card can ask again without losing the text"
    latest = {line.title: line for line in refused.value.latest.key_results}
    assert (latest["B"].current, latest["B"].version) == (2, 2)
    row = await session.get(CheckIn, form.id, populate_existing=True)
    assert row.submitted_at is None and row.wins is None
    assert await count(session, KeyResultUpdate, KeyResultUpdate.by_id == cast.adele.person_id) == 0
    assert await count(session, TalkingPoint) == 0


async def test_a_submit_that_loses_a_race_answers_like_a_second_click(session, cast, monkeypatch) -> None:
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)
    checked = checkins._own_open_points

    async def another_submit_wins_meanwhile(*args):
        # Between reading the check-in and claiming it, another transaction submits it.
        await session.execute(update(CheckIn).where(CheckIn.id == form.id).values(submitted_at=NOW, mood=2))
        return await checked(*args)

    monkeypatch.setattr(checkins, "_own_open_points", another_submit_wins_meanwhile)
    view = await checkins.submit_checkin(
        session,
        default_zone=ORG,
        actor=cast.adele,
        checkin_id=form.id,
        answers=CheckInAnswers(mood=5, wins="mine", new_talking_point="lost"),
        now=NOW,
    )

    assert view.already_submitted and (view.mood, view.wins) == (2, None)
    assert await count(session, TalkingPoint) == 0


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"mood": 7}, "from 1 (rough) to 5 (great)"),
        ({"mood": 0}, "from 1 (rough) to 5 (great)"),
        ({"wins": "x" * 2001}, "Wins is too long: at most 2000 characters (it has 2001)."),
        ({"new_talking_point": "y" * 501}, "The talking point is too long"),
    ],
)
async def test_bad_answers_are_refused_with_a_clear_message(session, cast, answers, message) -> None:
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)

    with pytest.raises(Invalid, match=re.escape(message)):
        await checkins.submit_checkin(
            session,
            default_zone=ORG,
            actor=cast.adele,
            checkin_id=form.id,
            answers=CheckInAnswers(**({"mood": 3} | answers)),
            now=NOW,
        )

    assert (await session.get(CheckIn, form.id, populate_existing=True)).submitted_at is None
    assert await count(session, TalkingPoint) == 0


async def test_a_key_result_that_is_not_on_ones_own_goals_is_refused(session, cast) -> None:
    theirs = await a_goal(session, cast.isaiah)
    kr = theirs.key_results[0]
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)

    with pytest.raises(Forbidden):
        await checkins.submit_checkin(
            session,
            default_zone=ORG,
            actor=cast.adele,
            checkin_id=form.id,
            answers=CheckInAnswers(mood=3, key_results=(KeyResultValue(kr.id, 5, kr.version),)),
            now=NOW,
        )
    assert await count(session, KeyResultUpdate) == 0


async def test_only_the_person_fills_in_their_check_in_and_only_their_line_and_hr_see_it(
    session, cast
) -> None:
    isaiahs = await checkins.open_checkin(session, default_zone=ORG, actor=cast.isaiah, now=NOW)
    answers = CheckInAnswers(mood=3, wins="not mine")

    with pytest.raises(NotFound, match=r"That check-in does not exist\."):
        await checkins.submit_checkin(
            session, default_zone=ORG, actor=cast.adele, checkin_id=isaiahs.id, answers=answers, now=NOW
        )
    with pytest.raises(Forbidden, match="someone else's"):
        await checkins.submit_checkin(
            session, default_zone=ORG, actor=cast.alex, checkin_id=isaiahs.id, answers=answers, now=NOW
        )
    with pytest.raises(NotFound):
        await checkins.get_checkin(session, actor=cast.patti, checkin_id=isaiahs.id)
    with pytest.raises(NotFound):
        await checkins.get_checkin(session, actor=cast.adele, checkin_id=999_999)

    for who in (cast.isaiah, cast.alex, cast.lynne, cast.megan):
        assert (await checkins.get_checkin(session, actor=who, checkin_id=isaiahs.id)).person_id == (
            cast.isaiah.person_id
        )
    assert (await session.get(CheckIn, isaiahs.id)).submitted_at is None


@pytest.mark.parametrize(
    ("roles", "relation", "view", "reply"),
    [
        ((), "self", True, False),
        ((Role.MANAGER,), "in line", True, True),
        ((Role.MANAGER,), "outside", False, False),
        ((Role.HR_ADMIN,), "outside", True, True),
        ((Role.TALENT_REVIEWER,), "outside", False, False),
        ((), "outside", False, False),
    ],
)
def test_who_may_see_a_check_in_and_who_may_reply(roles, relation, view, reply) -> None:
    actor = Actor(1, "Someone", None, "Engineering", frozenset({Role.EMPLOYEE, *roles}))
    rel = (
        Relation.to_self(actor)
        if relation == "self"
        else Relation(is_self=False, in_line=relation == "in line", subject_department="Engineering")
    )
    assert (may_view_checkin(actor, rel), may_reply_to_checkin(actor, rel)) == (view, reply)


# --- talking points and replies ------------------------------------------------------------------------


async def test_talking_points_carry_over_until_resolved(session, cast) -> None:
    first = await submitted(session, cast.adele, new_talking_point="Promotion timeline")
    [point] = first.open_points

    next_week = await checkins.open_checkin(
        session, default_zone=ORG, actor=cast.adele, now=at(WED + timedelta(days=7))
    )
    assert [p.text for p in next_week.open_points] == ["Promotion timeline"]
    assert next_week.open_points[0].raised_by == "Adele Vance"

    assert await checkins.resolve_talking_points(session, actor=cast.alex, point_ids=[point.id], now=NOW) == 1
    assert await checkins.resolve_talking_points(session, actor=cast.alex, point_ids=[point.id], now=NOW) == 0

    later = await checkins.open_checkin(
        session, default_zone=ORG, actor=cast.adele, now=at(WED + timedelta(days=14))
    )
    assert later.open_points == ()


async def test_the_person_resolves_their_points_when_submitting_and_nobody_else_outside_the_line(
    session, cast
) -> None:
    first = await submitted(session, cast.adele, new_talking_point="Laptop")
    [point] = first.open_points

    with pytest.raises(NotFound):
        await checkins.resolve_talking_points(session, actor=cast.patti, point_ids=[point.id], now=NOW)
    later = await submitted(session, cast.adele, now=at(WED + timedelta(days=7)), resolved_points=(point.id,))

    assert later.open_points == ()
    resolved = await session.get(TalkingPoint, point.id, populate_existing=True)
    assert resolved.resolved_by_id == cast.adele.person_id


async def test_points_raised_by_the_manager_show_with_their_name(session, cast) -> None:
    form = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=NOW)

    added = await checkins.add_talking_point(
        session, actor=cast.alex, checkin_id=form.id, text="Your next project", now=NOW
    )

    assert added.raised_by == "Alex Wilber"
    with pytest.raises(NotFound):
        await checkins.add_talking_point(session, actor=cast.patti, checkin_id=form.id, text="hi", now=NOW)
    with pytest.raises(Invalid, match="empty"):
        await checkins.add_talking_point(session, actor=cast.adele, checkin_id=form.id, text="  ", now=NOW)


async def test_the_manager_line_replies_to_a_submitted_check_in_once(session, cast) -> None:
    mine = await submitted(session, cast.adele, wins="Demo went well")

    comment = await checkins.comment_on_checkin(
        session, actor=cast.alex, checkin_id=mine.id, text=" Great demo! ", now=NOW, seen_after=0
    )
    repeat = await checkins.comment_on_checkin(
        session, actor=cast.alex, checkin_id=mine.id, text="Great demo!", now=NOW, seen_after=0
    )

    assert (comment.text, comment.author, comment.person_id) == (
        "Great demo!",
        "Alex Wilber",
        cast.adele.person_id,
    )
    assert repeat is None, "a second click on the same card writes nothing"
    assert await count(session, CheckInComment) == 1
    skip_level = await checkins.comment_on_checkin(
        session, actor=cast.lynne, checkin_id=mine.id, text="Nice", now=NOW
    )
    assert skip_level is not None
    view = await checkins.get_checkin(session, actor=cast.adele, checkin_id=mine.id)
    assert [(c.author, c.text) for c in view.comments] == [
        ("Alex Wilber", "Great demo!"),
        ("Lynne Robbins", "Nice"),
    ]


async def test_who_may_not_reply(session, cast) -> None:
    mine = await submitted(session, cast.adele)
    open_one = await checkins.open_checkin(session, default_zone=ORG, actor=cast.isaiah, now=NOW)

    with pytest.raises(Forbidden):
        await checkins.comment_on_checkin(session, actor=cast.adele, checkin_id=mine.id, text="me", now=NOW)
    with pytest.raises(NotFound):
        await checkins.comment_on_checkin(session, actor=cast.patti, checkin_id=mine.id, text="hi", now=NOW)
    with pytest.raises(Invalid, match="isn't submitted yet"):
        await checkins.comment_on_checkin(
            session, actor=cast.alex, checkin_id=open_one.id, text="hi", now=NOW
        )
    with pytest.raises(Invalid, match="too long"):
        await checkins.comment_on_checkin(
            session, actor=cast.alex, checkin_id=mine.id, text="z" * 1001, now=NOW
        )
    assert await count(session, CheckInComment) == 0


async def test_a_reply_is_all_or_nothing(session, cast) -> None:
    adeles = await submitted(session, cast.adele, new_talking_point="Budget")
    pattis = await submitted(session, cast.patti)

    with pytest.raises(NotFound):
        await checkins.reply_to_checkins(
            session,
            actor=cast.alex,
            week=MONDAY,
            comments={adeles.id: "Well done", pattis.id: "Not my report"},
            resolved=[adeles.open_points[0].id],
            seen_comment=0,
            now=NOW,
        )
    assert await count(session, CheckInComment) == 0
    assert await count(session, TalkingPoint, TalkingPoint.resolved_at.is_not(None)) == 0

    with pytest.raises(Invalid, match="Write a reply"):
        await checkins.reply_to_checkins(
            session,
            actor=cast.alex,
            week=MONDAY,
            comments={adeles.id: "  "},
            resolved=[],
            seen_comment=0,
            now=NOW,
        )

    done = await checkins.reply_to_checkins(
        session,
        actor=cast.alex,
        week=MONDAY,
        comments={adeles.id: "Well done"},
        resolved=[adeles.open_points[0].id],
        seen_comment=0,
        now=NOW,
    )
    assert [c.text for c in done.comments] == ["Well done"]
    assert done.resolved == 1
    [entry] = done.digest.checkins
    assert entry.open_points == () and [c.text for c in entry.comments] == ["Well done"]


async def test_the_digest_shows_submitted_check_ins_of_direct_reports_and_who_is_missing(
    session, cast
) -> None:
    await submitted(session, cast.adele, wins="Shipped it", blockers="Flaky CI", priorities="Docs")
    await checkins.open_checkin(
        session, default_zone=ORG, actor=cast.isaiah, now=NOW
    )  # opened, not submitted
    await submitted(session, cast.alex, wins="Hired")
    await submitted(session, cast.patti)

    view = await checkins.digest(session, actor=cast.alex, week=WED)

    assert view.week_start == MONDAY and view.has_reports
    [adele] = view.checkins
    assert (adele.person_name, adele.mood, adele.wins, adele.blockers, adele.priorities) == (
        "Adele Vance",
        4,
        "Shipped it",
        "Flaky CI",
        "Docs",
    )
    assert "Isaiah Langer" in view.waiting and "Adele Vance" not in view.waiting
    assert len(view.waiting) == 4, "Alex has five reports; one checked in"

    lynnes = await checkins.digest(session, actor=cast.lynne, week=MONDAY)
    assert [c.person_name for c in lynnes.checkins] == ["Alex Wilber"], "direct reports only"
    nobody = await checkins.digest(session, actor=cast.adele, week=MONDAY)
    assert not nobody.has_reports and nobody.checkins == ()


async def test_a_check_in_leaves_the_digest_of_a_manager_no_longer_in_the_persons_line(session, cast) -> None:
    await submitted(session, cast.adele, wins="Before the move")
    await session.execute(
        update(Person).where(Person.id == cast.adele.person_id).values(manager_id=cast.lynne.person_id)
    )

    alex_view = await checkins.digest(session, actor=cast.alex, week=MONDAY)

    # Alex is no longer in Adele's line, so the rule says no, whatever the row remembers.
    assert alex_view.checkins == ()


# --- the check-in day --------------------------------------------------------------------------------


async def test_choosing_a_day_pausing_and_choosing_again(session, cast) -> None:
    default = await checkins.checkin_day(session, default_zone=ORG, actor=cast.adele, now=at(WED))
    assert (default.weekday, default.chosen, default.paused, default.next_card_on) == (4, False, False, FRI)

    thursday = await checkins.set_checkin_day(
        session, default_zone=ORG, actor=cast.adele, weekday=3, now=at(WED)
    )
    assert (thursday.weekday, thursday.chosen, thursday.next_card_on) == (3, True, THU)
    monday = await checkins.set_checkin_day(
        session, default_zone=ORG, actor=cast.adele, weekday=0, now=at(WED)
    )
    assert monday.next_card_on == NEXT_MONDAY, "Monday has passed this week"

    paused = await checkins.set_checkin_day(
        session, default_zone=ORG, actor=cast.adele, weekday=None, now=at(WED)
    )
    assert (paused.paused, paused.weekday, paused.next_card_on) == (True, 0, None)
    again = await checkins.set_checkin_day(
        session, default_zone=ORG, actor=cast.adele, weekday=2, now=at(WED)
    )
    assert (again.paused, again.next_card_on) == (False, WED)
    assert await count(session, CheckInPreference) == 1

    with pytest.raises(Invalid):
        await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.adele, weekday=7, now=at(WED))


async def test_the_next_card_is_next_week_once_this_weeks_went_out(session, cast) -> None:
    await reachable(session, cast.adele)
    [due] = (await checkins.plan_due(session, default_zone=ORG, now=la(FRI))).cards
    await checkins.issue_card(session, due=due, now=la(FRI))

    view = await checkins.checkin_day(session, default_zone=ORG, actor=cast.adele, now=la(FRI))

    assert view.next_card_on == FRI + timedelta(days=7)


async def test_the_day_follows_the_persons_own_zone_or_else_the_organizations(session, cast) -> None:
    # Saturday 05:00 UTC is still Friday evening in Los Angeles: this week's card is still to come.
    own = await checkins.checkin_day(session, default_zone=ORG, actor=cast.adele, now=at(SAT, 5))
    assert (own.next_card_on, own.time_zone, own.own_time_zone) == (FRI, "America/Los_Angeles", True)

    berlin = ZoneInfo("Europe/Berlin")
    for unset in ("UTC", "", "Mars/Olympus"):  # what the import stores when unknown, empty, a typo
        await lives_in(session, cast.adele, unset)
        view = await checkins.checkin_day(session, default_zone=berlin, actor=cast.adele, now=at(SAT, 5))
        # Already Saturday in Berlin: the Friday card not sent yet is caught up today.
        assert (view.next_card_on, view.time_zone, view.own_time_zone) == (SAT, "Europe/Berlin", False), unset


def test_a_zone_name_is_the_persons_own_unless_unset_or_unknown() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert checkins.person_zone("America/Denver", tokyo) == DENVER
    assert checkins.person_zone(None, tokyo) is tokyo
    assert checkins.person_zone("UTC", tokyo) is tokyo
    assert checkins.person_zone("../../etc/passwd", tokyo) is tokyo


async def test_the_form_is_for_the_persons_own_week(session, cast) -> None:
    # Monday 05:00 UTC is Sunday 21:00 in Los Angeles: Adele is still in the week of the 23rd.
    view = await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=at(NEXT_MONDAY, 5))
    assert view.week_start == MONDAY

    week = await checkins.current_week(session, default_zone=ORG, actor=cast.alex, now=at(NEXT_MONDAY, 5))
    assert week == MONDAY


# --- planning ----------------------------------------------------------------------------------------


def people(plan_items) -> set[int]:
    return {item.person_id for item in plan_items}


async def cards_at(session, now: datetime, zone: ZoneInfo = ORG) -> tuple[DueCard, ...]:
    return (await checkins.plan_due(session, default_zone=zone, now=now)).cards


async def test_the_card_is_due_from_9_on_the_chosen_day_not_before(session, cast) -> None:
    await reachable(session, cast.adele, cast.isaiah)
    await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.adele, weekday=3, now=at(MONDAY))

    assert people(await cards_at(session, la(WED, 12))) == set()
    assert people(await cards_at(session, la(THU, 8))) == set(), "Thursday, but before 09:00 her time"
    assert await cards_at(session, la(THU, 9)) == (DueCard(cast.adele.person_id, MONDAY, THU, THU),)
    friday = await cards_at(session, la(FRI))  # 10:00 in Denver, Isaiah's default Friday
    assert people(friday) == {cast.adele.person_id, cast.isaiah.person_id}, "a missed day, one day late"
    saturday = await cards_at(session, la(SAT))
    assert people(saturday) == {cast.isaiah.person_id}, "two days late is too late for Adele"


async def test_alex_in_los_angeles_gets_his_friday_card_at_9_his_time(session, cast) -> None:
    await reachable(session, cast.alex)
    await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.alex, weekday=4, now=at(MONDAY))

    assert await cards_at(session, at(FRI, 8)) == (), "Thursday night in Los Angeles"
    assert await cards_at(session, at(FRI, 16)) == (), "08:00 on Friday in Los Angeles"
    assert await cards_at(session, at(FRI, 17)) == (DueCard(cast.alex.person_id, MONDAY, FRI, FRI),)


async def test_someone_in_tokyo_gets_the_monday_card_at_9_tokyo_time(session, cast) -> None:
    await reachable(session, cast.patti)
    await lives_in(session, cast.patti, "Asia/Tokyo")
    await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.patti, weekday=0, now=at(MONDAY))
    week = DueCard(cast.patti.person_id, NEXT_MONDAY, NEXT_MONDAY, NEXT_MONDAY)

    assert await cards_at(session, at(SUN, 0)) == (), "Sunday 09:00 in Tokyo"
    assert await cards_at(session, at(SUN, 23)) == (), "Monday 08:00 in Tokyo"
    assert await cards_at(session, at(NEXT_MONDAY, 0)) == (week,), "Monday 09:00 in Tokyo"


async def test_the_week_is_the_persons_own_when_it_starts_before_utcs(session, cast) -> None:
    await reachable(session, cast.patti)
    await lives_in(session, cast.patti, "Pacific/Auckland")  # UTC+13 in November
    await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.patti, weekday=0, now=at(MONDAY))

    # Sunday 20:00 UTC, still the week of the 23rd in UTC, is Monday 09:00 of the next week in Auckland.
    [due] = await cards_at(session, at(SUN, 20))
    assert (due.week_start, due.due_on) == (NEXT_MONDAY, NEXT_MONDAY)
    view = await checkins.issue_card(session, due=due, now=at(SUN, 20))
    assert (await session.get(CheckIn, view.id)).week_start == NEXT_MONDAY


async def test_someone_without_a_zone_follows_the_organizations(session, cast) -> None:
    await reachable(session, cast.adele, cast.isaiah)
    await lives_in(session, cast.adele, "UTC")  # what the import and the directory sync store for "unknown"
    await lives_in(session, cast.isaiah, "Mars/Olympus")
    berlin = ZoneInfo("Europe/Berlin")  # UTC+1 in November

    assert await cards_at(session, at(FRI, 7), berlin) == (), "08:00 in Berlin"
    assert people(await cards_at(session, at(FRI, 8), berlin)) == {
        cast.adele.person_id,
        cast.isaiah.person_id,
    }
    assert people(await cards_at(session, at(FRI, 9), ORG)) == {cast.adele.person_id, cast.isaiah.person_id}
    assert await cards_at(session, at(FRI, 8), ORG) == (), "08:00 with UTC as the organization's zone"


async def test_only_reachable_active_people_who_have_not_paused_get_cards(session, cast) -> None:
    await reachable(session, cast.adele, cast.isaiah, cast.alex, cast.patti)
    await session.execute(
        update(ConversationRef)
        .where(ConversationRef.person_id == cast.isaiah.person_id)
        .values(blocked_at=NOW)
    )
    await checkins.set_checkin_day(session, default_zone=ORG, actor=cast.alex, weekday=None, now=NOW)
    await session.execute(update(Person).where(Person.id == cast.patti.person_id).values(active=False))

    plan = await checkins.plan_due(session, default_zone=ORG, now=la(FRI))

    # Megan and Lynne have no chat with the bot; Isaiah blocked it; Alex paused; Patti left.
    assert people(plan.cards) == {cast.adele.person_id}


async def test_issuing_a_card_marks_it_so_it_goes_once(session, cast) -> None:
    await reachable(session, cast.adele)
    [due] = await cards_at(session, la(FRI))

    view = await checkins.issue_card(session, due=due, now=la(FRI))

    assert view is not None and view.person_id == cast.adele.person_id
    assert (await session.get(CheckIn, view.id)).sent_at == la(FRI)
    assert await checkins.issue_card(session, due=due, now=la(FRI)) is None
    assert await cards_at(session, la(FRI, 18)) == ()


async def test_a_check_in_opened_by_command_still_gets_its_card_but_a_submitted_one_does_not(
    session, cast
) -> None:
    await reachable(session, cast.adele, cast.isaiah)
    await checkins.open_checkin(session, default_zone=ORG, actor=cast.adele, now=at(MONDAY))
    await submitted(session, cast.isaiah, now=at(MONDAY))

    plan = await checkins.plan_due(session, default_zone=ORG, now=la(FRI))

    assert people(plan.cards) == {cast.adele.person_id}


async def reminders_at(session, now: datetime) -> tuple[DueReminder, ...]:
    return (await checkins.plan_due(session, default_zone=ORG, now=now)).reminders


async def test_an_unsubmitted_card_gets_one_reminder_from_9_the_next_local_day(session, cast) -> None:
    await reachable(session, cast.isaiah)
    [due] = await cards_at(session, local(FRI, 9, DENVER))
    sent = await checkins.issue_card(session, due=due, now=local(FRI, 9, DENVER))

    # Friday 23:00 in Denver is Saturday in UTC, but still his Friday: no reminder yet.
    assert await reminders_at(session, local(FRI, 23, DENVER)) == ()
    assert await reminders_at(session, local(SAT, 8, DENVER)) == (), "his Saturday, before 09:00"
    [reminder] = await reminders_at(session, local(SAT, 9, DENVER))
    assert reminder == DueReminder(sent.id, cast.isaiah.person_id, MONDAY, SAT)

    again = await checkins.issue_reminder(session, due=reminder, now=local(SAT, 9, DENVER))
    assert again is not None and again.id == sent.id
    assert await checkins.issue_reminder(session, due=reminder, now=local(SAT, 9, DENVER)) is None
    assert await reminders_at(session, local(SAT, 12, DENVER)) == ()
    assert await reminders_at(session, local(NEXT_MONDAY, 9, DENVER)) == ()


async def test_a_card_sent_late_is_reminded_the_day_after_it_went(session, cast) -> None:
    await reachable(session, cast.adele)
    [due] = await cards_at(session, la(SAT, 10))  # the scheduler was down all her Friday
    await checkins.issue_card(session, due=due, now=la(SAT, 10))

    assert await reminders_at(session, la(SAT, 20)) == ()
    assert people(await reminders_at(session, la(SUN, 9))) == {cast.adele.person_id}


async def test_no_reminder_once_submitted_or_when_too_old(session, cast) -> None:
    await reachable(session, cast.adele, cast.isaiah)
    for due in await cards_at(session, la(FRI)):
        await checkins.issue_card(session, due=due, now=la(FRI))
    await submitted(session, cast.adele, now=la(FRI, 10))

    assert people(await reminders_at(session, la(SAT))) == {cast.isaiah.person_id}
    a_week_later = la(FRI + timedelta(days=7))
    assert all(r.week_start != MONDAY for r in await reminders_at(session, a_week_later))


async def digests_at(session, now: datetime) -> tuple[DueDigest, ...]:
    return (await checkins.plan_due(session, default_zone=ORG, now=now)).digests


async def test_the_manager_digest_goes_once_from_9_on_his_monday(session, cast) -> None:
    await reachable(session, cast.alex)
    await submitted(session, cast.adele, wins="Shipped it", now=at(THU))

    assert await digests_at(session, la(SAT)) == (), "not during the week"
    assert await digests_at(session, at(NEXT_MONDAY, 0)) == (), "Monday in UTC, Sunday in Los Angeles"
    assert await digests_at(session, la(NEXT_MONDAY, 8)) == (), "his Monday, before 09:00"
    [due] = await digests_at(session, la(NEXT_MONDAY, 9))
    assert due == DueDigest(cast.alex.person_id, MONDAY)

    view = await checkins.issue_digest(session, due=due, now=la(NEXT_MONDAY))
    assert [(c.person_name, c.wins) for c in view.checkins] == [("Adele Vance", "Shipped it")]
    assert await checkins.issue_digest(session, due=due, now=la(NEXT_MONDAY)) is None
    assert await digests_at(session, la(NEXT_MONDAY, 12)) == ()
    assert await count(session, CheckInDigest) == 1


@pytest.mark.parametrize(
    ("manager_zone", "report_zone", "first"),
    [
        # Alex's Monday 09:00 in Tokyo is Adele's Sunday 16:00 in Los Angeles: her Friday is long past.
        ("Asia/Tokyo", "America/Los_Angeles", at(NEXT_MONDAY, 0)),
        # Alex's Monday 09:00 in Los Angeles is Adele's Tuesday morning in Auckland.
        ("America/Los_Angeles", "Pacific/Auckland", at(NEXT_MONDAY, 17)),
    ],
)
async def test_a_digest_across_zones_arrives_once(session, cast, manager_zone, report_zone, first) -> None:
    await reachable(session, cast.alex)
    await lives_in(session, cast.alex, manager_zone)
    await lives_in(session, cast.adele, report_zone)
    await submitted(session, cast.adele, wins="Shipped it", now=at(THU, 20))

    sent = []
    for hour in range(24 * 5):  # hourly passes from Saturday to Wednesday (UTC)
        now = at(SAT, 0) + timedelta(hours=hour)
        for due in await digests_at(session, now):
            if await checkins.issue_digest(session, due=due, now=now) is not None:
                sent.append((now, due))

    assert sent == [(first, DueDigest(cast.alex.person_id, MONDAY))]


async def test_no_digest_without_a_submitted_check_in_or_a_chat_with_the_manager(session, cast) -> None:
    await reachable(session, cast.alex)
    await checkins.open_checkin(session, default_zone=ORG, actor=cast.isaiah, now=at(THU))  # never submitted
    await submitted(session, cast.alex, now=at(THU))  # Lynne's report; Lynne has no chat with the bot

    assert await digests_at(session, la(NEXT_MONDAY, 9)) == ()


async def test_planning_asks_four_queries_however_many_people_and_zones(session, demo_org, engine) -> None:
    everyone = (await session.scalars(select(Person).where(Person.active.is_(True)))).all()
    await reachable(session, *(SimpleNamespace(person_id=p.id) for p in everyone))
    now = at(FRI, 17)
    statements: list[str] = []

    def counted(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        plan = await checkins.plan_due(session, default_zone=ORG, now=now, limit=1000)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", counted)

    assert len(everyone) >= 60 and len({p.time_zone for p in everyone}) >= 6
    assert len(statements) == 4, "zones, cards, reminders, digests: not one query per person or zone"

    def due(person: Person) -> bool:  # Friday by default, one day late allowed, from 09:00 either way
        local_now = now.astimezone(ZoneInfo(person.time_zone))
        return local_now.time() >= SEND_FROM and local_now.date() in (FRI, SAT)

    assert people(plan.cards) == {p.id for p in everyone if due(p)}
    assert {c.due_on for c in plan.cards} == {FRI}


async def test_weeks_start_on_monday() -> None:
    assert week_start(date(2026, 11, 29)) == MONDAY  # a Sunday
    assert week_start(MONDAY) == MONDAY

"""The Feedback tab's read model: filters, a manager's line, the monthly trend, and anonymity, on SQLite
and PostgreSQL against the demo organization.

Alex Wilber manages Adele Vance, Isaiah Langer, Ines Ruiz, Keanu Ahmed and Leo Haddad; Lynne Robbins is
Alex's manager; Patti Fernandez is in Sales, in no one's line here; Megan Bowen is HR. Every expected
number below is worked out by hand from the feedback each test gives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from domain.access import load_actor
from domain.errors import Forbidden, NotFound
from domain.performance import feedback, feedback_read
from domain.performance.feedback_read_views import (
    FeedbackFilter,
    FilterInvalid,
    month_starts,
    parse_filter,
)
from domain.performance.feedback_views import FeedbackVisibility, TagInput
from storage.models import AuditEntry, Person

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
V = FeedbackVisibility


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def give(session, giver, recipient, text, when, *tags, visibility=V.RECIPIENT_AND_MANAGER):
    return await feedback.give_feedback(
        session,
        actor=giver,
        recipient_id=recipient.person_id,
        text=text,
        now=when,
        tags=[TagInput(*t) if isinstance(t, tuple) else TagInput(t) for t in tags],
        visibility=visibility,
    )


def texts(views) -> list[str]:
    return [v.text for v in views]


def month(trend, year: int, number: int):
    return next(m for m in trend.months if m.month == date(year, number, 1))


# --- parsing the filters (pure) ----------------------------------------------------------------------


def test_filters_parse_what_a_form_sends_and_blank_means_any() -> None:
    assert parse_filter(person=" ", tag="", since=None, until="") == FeedbackFilter()
    chosen = parse_filter(person="42", tag="  Communication ", since="2026-10-01", until="2026-10-31")
    assert chosen == FeedbackFilter(42, "Communication", date(2026, 10, 1), date(2026, 10, 31))
    assert parse_filter(since="2026-10-01", until="2026-10-01").since == date(2026, 10, 1), "one day is fine"


@pytest.mark.parametrize(
    ("typed", "field", "words"),
    [
        ({"since": "23/11/2026"}, "from", "The “From date” must be a date like 2026-11-23"),
        ({"until": "2026-02-30"}, "to", "not “2026-02-30”"),
        ({"until": "20261123"}, "to", "(year-month-day)"),
        ({"since": "2026-12-01", "until": "2026-11-01"}, "from", "is after the “To date”"),
        ({"person": "Patti"}, "person", "Choose a person from the list."),
        ({"person": "9" * 19}, "person", "Choose a person"),
        ({"tag": "x" * 51}, "tag", "at most 50 characters"),
    ],
)
def test_bad_filters_say_which_field_and_how_to_fix_it(typed, field, words) -> None:
    with pytest.raises(FilterInvalid) as refused:
        parse_filter(**typed)
    assert refused.value.field == field
    assert words in refused.value.message


def test_the_trend_window_is_the_last_twelve_months_ending_this_month() -> None:
    starts = month_starts(date(2026, 1, 31))
    assert (starts[0], starts[-1], len(starts)) == (date(2025, 2, 1), date(2026, 1, 1), 12)


# --- filters on real feedback ------------------------------------------------------------------------


async def test_received_and_given_filter_by_person_tag_and_inclusive_dates(session, cast) -> None:
    await give(session, cast.patti, cast.adele, "A", at(2026, 10, 1, 0), ("Communication", 4))
    await give(session, cast.isaiah, cast.adele, "B", at(2026, 10, 31, 23), ("communication", 2))
    await give(session, cast.patti, cast.adele, "C", at(2026, 11, 2))
    await give(session, cast.adele, cast.isaiah, "D", at(2026, 11, 5), "Ownership")
    await give(session, cast.adele, cast.patti, "E", at(2026, 9, 5))

    async def page(**typed):
        chosen = parse_filter(**typed)
        return await feedback_read.my_feedback(session, actor=cast.adele, now=NOW, filters=chosen)

    everything = await page()
    assert texts(everything.received.feedback) == ["C", "B", "A"], "newest first"
    assert texts(everything.given.feedback) == ["D", "E"]
    assert [(p.name, p.person_id) for p in everything.people] == [
        ("Isaiah Langer", cast.isaiah.person_id),
        ("Patti Fernandez", cast.patti.person_id),
    ]
    assert sorted(t.casefold() for t in everything.tags) == ["communication", "ownership"]

    patti = await page(person=str(cast.patti.person_id))
    assert texts(patti.received.feedback) == ["C", "A"], "received: the giver"
    assert texts(patti.given.feedback) == ["E"], "given: the recipient"
    assert patti.received.total == 2

    tagged = await page(tag="COMMUNICATION")
    assert texts(tagged.received.feedback) == ["B", "A"], "tags match whatever their case"
    assert texts(tagged.given.feedback) == []

    dated = await page(since="2026-10-31", until="2026-11-02")
    assert texts(dated.received.feedback) == ["C", "B"], "both ends count"
    assert texts(dated.given.feedback) == []
    assert texts((await page(since="2026-10-02")).received.feedback) == ["C", "B"]
    assert texts((await page(until="2026-10-01")).received.feedback) == ["A"]
    combined = await page(person=str(cast.isaiah.person_id), tag="communication", until="2026-10-31")
    assert texts(combined.received.feedback) == ["B"]


async def test_requests_filter_by_the_person_asked_and_the_day_asked(session, cast) -> None:
    await feedback.request_feedback(
        session, actor=cast.adele, asked_ids=[cast.patti.person_id], question="Early?", now=at(2026, 11, 10)
    )
    late = await feedback.request_feedback(
        session, actor=cast.adele, asked_ids=[cast.isaiah.person_id], question="Late?", now=at(2026, 11, 20)
    )
    await feedback.answer_request(
        session,
        actor=cast.isaiah,
        request_id=late.request.id,
        text="Yes",
        tags=[TagInput("Delivery", 4)],
        now=at(2026, 11, 21),
    )

    async def questions(**typed) -> list[str]:
        page = await feedback_read.my_feedback(
            session, actor=cast.adele, now=NOW, filters=parse_filter(**typed)
        )
        return [r.question for r in page.requested.requests]

    assert await questions() == ["Late?", "Early?"]
    assert await questions(person=str(cast.patti.person_id)) == ["Early?"]
    assert await questions(since="2026-11-11") == ["Late?"]
    assert await questions(until="2026-11-10") == ["Early?"]
    assert await questions(tag="delivery") == ["Late?"], "a request with an answer carrying the tag"
    pending = (await feedback_read.my_feedback(session, actor=cast.patti, now=NOW)).pending
    assert [p.question for p in pending] == ["Early?"], "asked of Patti, waiting for her answer"


# --- the trend ---------------------------------------------------------------------------------------


async def test_the_monthly_trend_counts_and_averages_what_the_viewer_may_see(session, cast) -> None:
    await give(session, cast.patti, cast.adele, "old", at(2025, 11, 30), ("Communication", 1))
    await give(session, cast.patti, cast.adele, "first month", at(2025, 12, 1, 0), ("Communication", 3))
    await give(session, cast.patti, cast.adele, "no tags", at(2026, 9, 15))
    await give(
        session, cast.patti, cast.adele, "two tags", at(2026, 11, 3), ("Communication", 4), ("Ownership", 2)
    )
    await give(session, cast.isaiah, cast.adele, "again", at(2026, 11, 20), ("Communication", 5))
    await give(
        session,
        cast.patti,
        cast.adele,
        "note",
        at(2026, 11, 10),
        ("Communication", 1),
        visibility=V.MANAGER_ONLY,
    )

    adele = (await feedback_read.my_feedback(session, actor=cast.adele, now=NOW)).received.trend
    assert [m.month for m in adele.months] == list(month_starts(date(2026, 11, 23)))
    # Nov 2025 is outside the window; the private note is not hers to see.
    first = month(adele, 2025, 12)
    assert (first.count, first.ratings, first.average_rating) == (1, 1, 3.0)
    assert (month(adele, 2026, 9).count, month(adele, 2026, 9).average_rating) == (1, None)
    nov = month(adele, 2026, 11)
    assert (nov.count, nov.ratings) == (2, 3) and nov.average_rating == pytest.approx((4 + 2 + 5) / 3)
    assert sum(m.count for m in adele.months) == adele.total == 4
    assert adele.average_rating == pytest.approx((3 + 4 + 2 + 5) / 4), (
        "every rating once, not a mean of means"
    )
    assert adele.busiest == 2

    communication = parse_filter(tag="communication")
    tagged = (
        await feedback_read.my_feedback(session, actor=cast.adele, now=NOW, filters=communication)
    ).received.trend
    assert (month(tagged, 2026, 11).count, month(tagged, 2026, 11).average_rating) == (2, 4.5)
    assert month(tagged, 2026, 9).count == 0, "no Communication tag that month"

    alex = (
        await feedback_read.person_feedback(session, actor=cast.alex, person_id=cast.adele.person_id, now=NOW)
    ).received.trend
    alex_nov = month(alex, 2026, 11)
    assert (alex_nov.count, alex_nov.average_rating) == (3, (4 + 2 + 5 + 1) / 4), "her manager sees the note"

    dated = parse_filter(since="2026-11-01")
    with_dates = await feedback_read.my_feedback(session, actor=cast.adele, now=NOW, filters=dated)
    assert texts(with_dates.received.feedback) == ["again", "two tags"]
    assert with_dates.received.trend == adele, "the trend keeps its own twelve months"


# --- anonymity ---------------------------------------------------------------------------------------


async def test_anonymous_answers_are_only_ever_pooled_for_the_recipient_and_never_in_the_trend(
    session, cast
) -> None:
    askees = [cast.patti, cast.isaiah, cast.lynne]
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[p.person_id for p in askees],
        question="What should I change?",
        now=at(2026, 11, 1),
    )
    answers = [("Speak up", [TagInput("Clarity", 5)]), ("Write more", []), ("Ask sooner", [])]
    await give(session, cast.patti, cast.adele, "Named praise", at(2026, 11, 2), ("Clarity", 3))

    async def answer(i: int) -> None:
        text, tags = answers[i]
        await feedback.answer_request(
            session,
            actor=askees[i],
            request_id=outcome.request.id,
            text=text,
            tags=tags,
            visibility=V.ANONYMOUS,
            now=at(2026, 11, 3 + i),
        )

    await answer(0)
    await answer(1)
    page = await feedback_read.my_feedback(session, actor=cast.adele, now=NOW)
    assert texts(page.received.feedback) == ["Named praise"]
    assert page.received.anonymous == () and page.received.trend.total == 1
    for text, _ in answers:
        assert text not in repr(page), "nothing of two anonymous answers, anywhere"

    await answer(2)
    page = await feedback_read.my_feedback(session, actor=cast.adele, now=NOW)
    assert texts(page.received.feedback) == ["Named praise"], "never one by one"
    [pool] = page.received.anonymous
    assert sorted(a.text for a in pool.answers) == sorted(t for t, _ in answers)
    assert page.requested.requests[0].anonymous == pool
    assert month(page.received.trend, 2026, 11).count == 1, "pooled answers get no month"
    assert month(page.received.trend, 2026, 11).average_rating == 3.0, "nor do their ratings count"
    assert {p.person_id for p in page.people} == {cast.patti.person_id, *(p.person_id for p in askees)}, (
        "the people asked are on the request anyway; the filter list adds no one"
    )

    # A pool is kept or left out whole, never narrowed to the answers that match.
    tagged = await feedback_read.my_feedback(
        session, actor=cast.adele, now=NOW, filters=parse_filter(tag="clarity")
    )
    assert [len(p.answers) for p in tagged.received.anonymous] == [3]
    other_tag = await feedback_read.my_feedback(
        session, actor=cast.adele, now=NOW, filters=parse_filter(tag="Other")
    )
    assert (other_tag.received.anonymous, other_tag.received.anonymous_left_out) == ((), 0)
    for typed in ({"since": "2026-11-01"}, {"person": str(cast.patti.person_id)}):
        narrowed = await feedback_read.my_feedback(
            session, actor=cast.adele, now=NOW, filters=parse_filter(**typed)
        )
        assert narrowed.received.anonymous == () and narrowed.received.anonymous_left_out == 1, typed

    manager = await feedback_read.person_feedback(
        session, actor=cast.alex, person_id=cast.adele.person_id, now=NOW
    )
    assert manager.received.anonymous == (pool,) and manager.received.trend.total == 1

    # HR may read them one by one, with their givers (an audited read), but the trend still leaves them out.
    hr = await feedback_read.person_feedback(
        session, actor=cast.megan, person_id=cast.adele.person_id, now=NOW
    )
    assert len(hr.received.feedback) == 4 and hr.received.trend.total == 1


# --- a manager's line, and whose feedback one may open -----------------------------------------------


async def test_a_manager_reads_the_line_within_visibility_first_by_name(session, cast) -> None:
    await give(session, cast.patti, cast.adele, "For Adele", at(2026, 11, 2))
    await give(
        session, cast.patti, cast.isaiah, "Only for Isaiah", at(2026, 11, 2), visibility=V.RECIPIENT_ONLY
    )
    await give(session, cast.patti, cast.isaiah, "Note on Isaiah", at(2026, 11, 3), visibility=V.MANAGER_ONLY)

    line = await feedback_read.line_feedback(session, actor=cast.alex, now=NOW)

    names = ["Adele Vance", "Ines Ruiz", "Isaiah Langer", "Keanu Ahmed", "Leo Haddad"]
    assert [p.person_name for p in line.people] == names and line.total == 5 and not line.cut
    by_name = {p.person_name: p for p in line.people}
    assert texts(by_name["Adele Vance"].feedback) == ["For Adele"]
    assert texts(by_name["Isaiah Langer"].feedback) == ["Note on Isaiah"], "a recipient-only piece is not his"
    assert by_name["Isaiah Langer"].trend.total == 1

    skip_level = await feedback_read.line_feedback(session, actor=cast.lynne, now=NOW, limit=3)
    assert skip_level.cut and skip_level.total > 3 and len(skip_level.people) == 3
    everyone = await feedback_read.line_feedback(session, actor=cast.lynne, now=NOW, limit=1000)
    assert {"Alex Wilber", *names} <= {p.person_name for p in everyone.people}, "indirect reports too"
    assert [p.person_name for p in skip_level.people] == [p.person_name for p in everyone.people][:3]

    none = await feedback_read.line_feedback(session, actor=cast.adele, now=NOW)
    assert (none.people, none.total) == ((), 0)


async def test_a_big_line_costs_the_same_beyond_the_cap(session, cast) -> None:
    """Only the first `limit` people are read: more people below the cap add no queries."""
    statements: list[str] = []
    connection = await session.connection()

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(connection.sync_connection, "before_cursor_execute", count)
    manager = cast.isaiah
    sizes = {}
    try:
        for added, total in ((4, 4), (5, 9)):
            session.add_all(
                Person(
                    tenant_id=manager.tenant_id,
                    email=f"report{total}-{n}@contoso.example",
                    display_name=f"Report {total}-{n}",
                    department="Engineering",
                    manager_id=manager.person_id,
                )
                for n in range(added)
            )
            await session.flush()
            isaiah = await load_actor(session, manager.person_id)
            statements.clear()
            line = await feedback_read.line_feedback(session, actor=isaiah, now=NOW, limit=3)
            sizes[total] = len(statements)
            assert (len(line.people), line.total) == (3, total)
    finally:
        event.remove(connection.sync_connection, "before_cursor_execute", count)
    assert sizes[4] == sizes[9], sizes


async def test_whose_feedback_one_may_open(session, cast) -> None:
    alex = await feedback_read.people_choices(session, actor=cast.alex)
    assert [p.name for p in alex.people] == [
        "Adele Vance",
        "Ines Ruiz",
        "Isaiah Langer",
        "Keanu Ahmed",
        "Leo Haddad",
    ]
    assert not alex.whole_organization and not alex.cut
    assert (await feedback_read.people_choices(session, actor=cast.adele)).total == 0

    hr = await feedback_read.people_choices(session, actor=cast.megan, limit=10)
    assert hr.whole_organization and hr.cut and len(hr.people) == 10
    assert cast.megan.person_id not in {p.person_id for p in hr.people}
    found = await feedback_read.people_choices(session, actor=cast.megan, find="FERN")
    assert [(p.name, p.job_title is not None) for p in found.people] == [("Patti Fernandez", True)]
    assert (await feedback_read.people_choices(session, actor=cast.megan, find="%")).total == 0, "no wildcard"
    with pytest.raises(FilterInvalid, match="at most 100"):
        await feedback_read.people_choices(session, actor=cast.megan, find="x" * 101)


async def test_someone_outside_the_line_is_refused_and_hr_reads_are_audited(session, cast) -> None:
    note = await give(session, cast.patti, cast.adele, "Private", at(2026, 11, 2), visibility=V.MANAGER_ONLY)

    with pytest.raises(Forbidden):
        await feedback_read.person_feedback(
            session, actor=cast.isaiah, person_id=cast.adele.person_id, now=NOW
        )
    with pytest.raises(NotFound):
        await feedback_read.person_feedback(session, actor=cast.megan, person_id=999_999, now=NOW)
    own = await feedback_read.my_feedback(session, actor=cast.adele, now=NOW)
    assert "Private" not in repr(own), "a manager-only note never reaches its recipient"

    hr = await feedback_read.person_feedback(
        session, actor=cast.megan, person_id=cast.adele.person_id, now=NOW
    )
    await session.flush()

    assert texts(hr.received.feedback) == ["Private"]
    audited = await session.scalars(
        select(AuditEntry.subject_id).where(AuditEntry.actor_id == cast.megan.person_id)
    )
    assert list(audited) == [note.feedback.id]

"""Feedback: the visibility rules as a matrix, then the services against the demo organization, on SQLite
and PostgreSQL.

Alex Wilber manages Adele Vance and Isaiah Langer; Lynne Robbins is Alex's manager (so in Adele's line);
Patti Fernandez is in Sales, in no one's line here; Megan Bowen is HR.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from domain.access import (
    Actor,
    Relation,
    Role,
    audited_feedback_read,
    may_request_feedback,
    may_view_anonymous_aggregate,
    may_view_feedback,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance import feedback
from domain.performance.feedback_views import (
    FEEDBACK_MAX,
    QUOTE_MAX,
    DueAskReminder,
    FeedbackVisibility,
    RequestStatus,
    TagInput,
)
from storage.models import AuditEntry, Feedback, FeedbackRequestAsk, FeedbackTag, Person

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
V = FeedbackVisibility
VISIBILITIES = (V.RECIPIENT_AND_MANAGER, V.RECIPIENT_ONLY, V.MANAGER_ONLY, V.ANONYMOUS)


# --- the rules, as a matrix --------------------------------------------------------------------------


def someone(*roles: Role) -> Actor:
    return Actor(100, "Someone", "t", "Engineering", frozenset({Role.EMPLOYEE, *roles}))


VIEWERS = {
    # viewer: (actor, relation to the recipient, is the giver)
    "giver": (someone(), Relation(False, False, "Engineering"), True),
    "recipient": (someone(), Relation.to_self(someone()), False),
    "direct manager": (someone(Role.MANAGER), Relation(False, True, "Engineering"), False),
    "skip-level manager": (someone(Role.MANAGER), Relation(False, True, "Engineering"), False),
    "colleague": (someone(), Relation(False, False, "Engineering"), False),
    "manager elsewhere": (someone(Role.MANAGER), Relation(False, False, "Engineering"), False),
    "HR admin": (someone(Role.HR_ADMIN), Relation(False, False, "Engineering"), False),
    "HR admin as recipient": (someone(Role.HR_ADMIN), Relation.to_self(someone()), False),
}

T, F = True, False
# Written out by hand from PRODUCT.md and the issue, not derived from the code under test.
# Columns: recipient+manager, recipient only, manager only, anonymous (by itself, with its giver).
FEEDBACK_MATRIX = {
    "giver": (T, T, T, T),
    "recipient": (T, T, F, F),
    "direct manager": (T, F, T, F),
    "skip-level manager": (T, F, T, F),
    "colleague": (F, F, F, F),
    "manager elsewhere": (F, F, F, F),
    "HR admin": (T, T, T, T),
    "HR admin as recipient": (T, T, F, F),
}
# Who may read anonymous answers pooled (once enough arrived).
AGGREGATE = {
    "recipient": T,
    "direct manager": T,
    "skip-level manager": T,
    "colleague": F,
    "manager elsewhere": F,
    "HR admin as recipient": T,
}


@pytest.mark.parametrize("viewer", FEEDBACK_MATRIX)
@pytest.mark.parametrize("column", range(4))
def test_who_sees_feedback_by_visibility(viewer: str, column: int) -> None:
    who, rel, is_giver = VIEWERS[viewer]
    allowed = may_view_feedback(who, rel, visibility=VISIBILITIES[column], is_giver=is_giver)
    assert allowed is FEEDBACK_MATRIX[viewer][column], f"{viewer} / {VISIBILITIES[column]}"


@pytest.mark.parametrize("viewer", AGGREGATE)
def test_who_sees_anonymous_answers_pooled(viewer: str) -> None:
    who, rel, _ = VIEWERS[viewer]
    assert may_view_anonymous_aggregate(who, rel) is AGGREGATE[viewer]


@pytest.mark.parametrize(
    ("viewer", "visibility", "action"),
    [
        ("HR admin", V.MANAGER_ONLY, "feedback.read_private_note"),
        ("HR admin", V.ANONYMOUS, "feedback.read_anonymous_giver"),
        ("HR admin", V.RECIPIENT_AND_MANAGER, None),
        ("HR admin", V.RECIPIENT_ONLY, None),
        ("direct manager", V.MANAGER_ONLY, None),
        ("giver", V.ANONYMOUS, None),
    ],
)
def test_reads_only_hr_may_make_are_audited(viewer: str, visibility: str, action: str | None) -> None:
    who, rel, is_giver = VIEWERS[viewer]
    assert audited_feedback_read(who, rel, visibility=visibility, is_giver=is_giver) == action
    in_line_hr = Relation(False, True, "Engineering")
    assert (
        audited_feedback_read(someone(Role.HR_ADMIN), in_line_hr, visibility=V.MANAGER_ONLY, is_giver=F)
        is None
    )


@pytest.mark.parametrize(
    ("viewer", "allowed"), [("recipient", T), ("direct manager", T), ("colleague", F), ("HR admin", F)]
)
def test_who_may_ask_for_feedback_about_someone(viewer: str, allowed: bool) -> None:
    who, rel, _ = VIEWERS[viewer]
    assert may_request_feedback(who, rel) is allowed


# --- helpers -----------------------------------------------------------------------------------------


def fields_named(value: object, names: set[str]) -> list[object]:
    """Every value of a field with one of `names`, anywhere inside a (nested) view."""
    found: list[object] = []
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            inner = getattr(value, f.name)
            if f.name in names:
                found.append(inner)
            found += fields_named(inner, names)
    elif isinstance(value, tuple | list):
        for item in value:
            found += fields_named(item, names)
    return found


async def feedback_count(session) -> int:
    return await session.scalar(select(func.count(Feedback.id)))


async def everything_the_recipient_gets(session, who: Actor, request_ids: list[int]) -> list[object]:
    """Every view a person can get about themselves from this module."""
    views: list[object] = [await feedback.feedback_received(session, actor=who)]
    views.append(await feedback.feedback_about(session, actor=who, person_id=who.person_id))
    views.append(await feedback.feedback_given(session, actor=who))
    views.append(await feedback.pending_requests(session, actor=who, now=NOW))
    views.append(await feedback.requests_made(session, actor=who, now=NOW))
    for request_id in request_ids:
        views.append(await feedback.get_request(session, actor=who, request_id=request_id, now=NOW))
    return views


# --- giving, and who sees it -------------------------------------------------------------------------

# Patti (not in Adele's line) gives Adele feedback: who reads it, through get_feedback and the histories.
SEES = {
    V.RECIPIENT_AND_MANAGER: {"patti", "adele", "alex", "lynne", "megan"},
    V.RECIPIENT_ONLY: {"patti", "adele", "megan"},
    V.MANAGER_ONLY: {"patti", "alex", "lynne", "megan"},
}


@pytest.mark.parametrize("visibility", list(SEES))
async def test_each_visibility_reaches_exactly_its_readers(session, cast, visibility) -> None:
    given = await feedback.give_feedback(
        session,
        actor=cast.patti,
        recipient_id=cast.adele.person_id,
        text="Great demo",
        visibility=visibility,
        now=NOW,
    )

    for name in ("patti", "adele", "alex", "lynne", "isaiah", "megan"):
        who = getattr(cast, name)
        try:
            view = await feedback.get_feedback(session, actor=who, feedback_id=given.feedback.id)
        except NotFound:
            view = None
        assert (view is not None) is (name in SEES[visibility]), name
        if view is not None:
            assert view.giver_name == "Patti Fernandez", "only anonymous feedback hides its giver"
        if name in {"adele", "alex", "lynne", "megan"}:
            history = await feedback.feedback_about(session, actor=who, person_id=cast.adele.person_id)
            assert [v.text for v in history.feedback] == (["Great demo"] if name in SEES[visibility] else [])


@pytest.mark.parametrize(
    ("visibility", "told"),
    [
        (V.RECIPIENT_AND_MANAGER, {"adele", "alex"}),
        (V.RECIPIENT_ONLY, {"adele"}),
        (V.MANAGER_ONLY, {"alex"}),
    ],
)
async def test_the_recipient_and_manager_are_told_as_the_visibility_allows(
    session, cast, visibility, told
) -> None:
    given = await feedback.give_feedback(
        session,
        actor=cast.patti,
        recipient_id=cast.adele.person_id,
        text="Thanks",
        visibility=visibility,
        now=NOW,
    )
    ids = {getattr(cast, name).person_id for name in told}
    assert {n.person_id for n in given.notify} == ids
    assert all(n.feedback.giver_name == "Patti Fernandez" for n in given.notify)


async def test_feedback_keeps_tags_quote_and_markup_as_typed(session, cast) -> None:
    given = await feedback.give_feedback(
        session,
        actor=cast.adele,
        recipient_id=cast.isaiah.person_id,
        text="  <script>alert('x')</script> & <b>well done</b>  ",
        tags=[TagInput("Communication", 5), TagInput("Ownership")],
        quote="The deploy is green " * 200,
        now=NOW,
    )

    view = given.feedback
    assert view.text == "<script>alert('x')</script> & <b>well done</b>", "trimmed, never escaped here"
    assert [(t.tag, t.rating) for t in view.tags] == [("Communication", 5), ("Ownership", None)]
    assert view.quote is not None and len(view.quote) == QUOTE_MAX and view.quote.endswith("…")
    assert [v.id for v in await feedback.feedback_given(session, actor=cast.adele)] == [view.id]


async def test_a_double_submit_stores_one_feedback(session, cast) -> None:
    first = await feedback.give_feedback(
        session,
        actor=cast.adele,
        recipient_id=cast.isaiah.person_id,
        text="Nice",
        now=NOW,
        client_request_id="c1",
    )
    second = await feedback.give_feedback(
        session,
        actor=cast.adele,
        recipient_id=cast.isaiah.person_id,
        text="Nice",
        now=NOW,
        client_request_id="c1",
    )

    assert second.feedback.id == first.feedback.id and second.feedback.already_submitted
    assert second.notify == (), "nobody is told twice"
    assert await feedback_count(session) == 1
    with pytest.raises(Conflict):
        await feedback.give_feedback(
            session,
            actor=cast.patti,
            recipient_id=cast.isaiah.person_id,
            text="x",
            now=NOW,
            client_request_id="c1",
        )


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"recipient_id": "self"}, Invalid, "yourself"),
        ({"recipient_id": 999_999}, NotFound, "directory"),
        ({"recipient_id": "inactive"}, NotFound, "directory"),
        ({"text": "   "}, Invalid, "empty"),
        ({"text": "x" * (FEEDBACK_MAX + 1)}, Invalid, f"at most {FEEDBACK_MAX} characters"),
        ({"tags": [TagInput("Craft", 0)]}, Invalid, "from 1 to 5"),
        ({"tags": [TagInput("Craft", 6)]}, Invalid, "from 1 to 5"),
        ({"tags": [TagInput("Craft", True)]}, Invalid, "from 1 to 5"),
        ({"tags": [TagInput(f"t{n}") for n in range(11)]}, Invalid, "at most 10"),
        ({"tags": [TagInput("x" * 51)]}, Invalid, "at most 50"),
        ({"tags": [TagInput("Craft"), TagInput("craft")]}, Invalid, "twice"),
        ({"tags": [TagInput(" ")]}, Invalid, "empty"),
        ({"visibility": "everyone"}, Invalid, "Choose who may see"),
        ({"visibility": V.ANONYMOUS}, Invalid, "answer to a feedback request"),
        ({"client_request_id": "x" * 65}, Invalid, "fresh card"),
    ],
)
async def test_bad_feedback_is_refused_with_a_clear_message_and_nothing_written(
    session, cast, change, error, words
) -> None:
    inactive = cast.isaiah.person_id
    await session.execute(update(Person).where(Person.id == inactive).values(active=False))
    args = {"recipient_id": cast.adele.person_id, "text": "Good work"} | change
    args["recipient_id"] = {"self": cast.patti.person_id, "inactive": inactive}.get(
        args["recipient_id"], args["recipient_id"]
    )

    with pytest.raises(error) as refused:
        await feedback.give_feedback(session, actor=cast.patti, now=NOW, **args)

    assert words in refused.value.message
    assert await feedback_count(session) == 0
    assert await session.scalar(select(func.count(FeedbackTag.id))) == 0


# --- manager-only notes and HR's audited reads -------------------------------------------------------


async def test_a_manager_only_note_never_reaches_its_recipient_by_any_function(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session, actor=cast.adele, asked_ids=[cast.patti.person_id], question="How was my demo?", now=NOW
    )
    request_id = outcome.request.id
    note = "PRIVATE-NOTE: needs coaching on estimates"
    answered = await feedback.answer_request(
        session, actor=cast.patti, request_id=request_id, text=note, visibility=V.MANAGER_ONLY, now=NOW
    )
    await feedback.give_feedback(
        session,
        actor=cast.isaiah,
        recipient_id=cast.adele.person_id,
        text=note,
        visibility=V.MANAGER_ONLY,
        now=NOW,
    )

    assert {n.person_id for n in answered.notify} == {cast.alex.person_id}, "Adele asked, but isn't told"
    for view in await everything_the_recipient_gets(session, cast.adele, [request_id]):
        assert note not in repr(view)
    request = await feedback.get_request(session, actor=cast.adele, request_id=request_id, now=NOW)
    assert [a.answered for a in request.asks] == [False], "not even a tick gives the note away"
    with pytest.raises(NotFound):
        await feedback.get_feedback(session, actor=cast.adele, feedback_id=answered.feedback.id)
    alex_sees = await feedback.get_request(session, actor=cast.alex, request_id=request_id, now=NOW)
    assert [a.text for a in alex_sees.answers] == [note] and [a.answered for a in alex_sees.asks] == [True]


async def test_hr_reading_a_private_note_writes_one_audit_entry_per_read(session, cast) -> None:
    given = await feedback.give_feedback(
        session,
        actor=cast.patti,
        recipient_id=cast.adele.person_id,
        text="Private",
        visibility=V.MANAGER_ONLY,
        now=NOW,
    )
    entries = select(AuditEntry).where(AuditEntry.subject_type == "feedback")

    await feedback.feedback_about(session, actor=cast.alex, person_id=cast.adele.person_id)
    assert (await session.scalars(entries)).all() == [], "her manager's read is his right, not HR's privilege"

    await feedback.feedback_about(session, actor=cast.megan, person_id=cast.adele.person_id)
    await feedback.get_feedback(session, actor=cast.megan, feedback_id=given.feedback.id)
    await session.flush()

    rows = (await session.scalars(entries)).all()
    assert [(r.actor_id, r.action, r.subject_id) for r in rows] == [
        (cast.megan.person_id, "feedback.read_private_note", given.feedback.id)
    ] * 2


async def test_someone_outside_the_line_cannot_read_a_persons_feedback(session, cast) -> None:
    with pytest.raises(Forbidden):
        await feedback.feedback_about(session, actor=cast.patti, person_id=cast.adele.person_id)


# --- anonymity ---------------------------------------------------------------------------------------


async def test_anonymous_answers_appear_pooled_only_from_the_third(session, cast) -> None:
    askees = [cast.patti, cast.isaiah, cast.megan]
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[p.person_id for p in askees],
        question="What should I do differently?",
        now=NOW,
    )
    request_id = outcome.request.id
    texts = ["Speak up more", "Write things down", "Ask for help sooner"]
    givers = {p.person_id for p in askees}

    notices = []
    for giver, text in zip(askees[:2], texts[:2], strict=True):
        done = await feedback.answer_request(
            session, actor=giver, request_id=request_id, text=text, visibility=V.ANONYMOUS, now=NOW
        )
        notices += done.aggregates + done.notify

    assert notices == [], "below three, nobody is told anything"
    for view in await everything_the_recipient_gets(session, cast.adele, [request_id]):
        assert not any(t in repr(view) for t in texts), "nothing attributable below three"
        assert not givers & set(fields_named(view, {"giver_id"}))
    received = await feedback.feedback_received(session, actor=cast.adele)
    assert (received.feedback, received.anonymous) == ((), ())

    third = await feedback.answer_request(
        session, actor=askees[2], request_id=request_id, text=texts[2], visibility=V.ANONYMOUS, now=NOW
    )

    assert [n.person_id for n in third.aggregates] == [cast.adele.person_id] and third.notify == ()
    assert third.aggregates[0].aggregate.count == 3
    received = await feedback.feedback_received(session, actor=cast.adele)
    assert received.feedback == ()
    [pooled] = received.anonymous
    assert [a.text for a in pooled.answers] == sorted(texts), "sorted by text, not by who came first"
    for view in await everything_the_recipient_gets(session, cast.adele, [request_id]):
        assert set(fields_named(view, {"giver_id", "giver_name"})) <= {None}, "no giver, anywhere"
    assert set(fields_named(pooled, {"id", "person_id", "created_at"})) == set(), "nothing to trace it by"
    request = await feedback.get_request(session, actor=cast.adele, request_id=request_id, now=NOW)
    assert [a.answered for a in request.asks] == [False] * 3 and request.anonymous == pooled

    manager = await feedback.feedback_about(session, actor=cast.alex, person_id=cast.adele.person_id)
    assert manager.anonymous == (pooled,) and manager.feedback == (), "her line sees the pool, no giver"

    skip_level = await feedback.feedback_about(session, actor=cast.lynne, person_id=cast.adele.person_id)
    assert skip_level.anonymous == (pooled,)


async def test_hr_sees_who_gave_anonymous_feedback_and_the_read_is_audited(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session, actor=cast.adele, asked_ids=[cast.patti.person_id], question="Anything?", now=NOW
    )
    await feedback.answer_request(
        session, actor=cast.patti, request_id=outcome.request.id, text="Hm", visibility=V.ANONYMOUS, now=NOW
    )

    history = await feedback.feedback_about(session, actor=cast.megan, person_id=cast.adele.person_id)

    assert [(v.text, v.giver_name) for v in history.feedback] == [("Hm", "Patti Fernandez")]
    actions = await session.scalars(
        select(AuditEntry.action).where(AuditEntry.actor_id == cast.megan.person_id)
    )
    assert list(actions) == ["feedback.read_anonymous_giver"]
    own = await feedback.feedback_given(session, actor=cast.patti)
    assert own[0].giver_name == "Patti Fernandez", "the giver sees their own"


async def test_an_anonymous_giver_in_the_line_does_not_count_towards_their_own_pool(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[cast.patti.person_id, cast.isaiah.person_id, cast.lynne.person_id],
        question="Feedback please",
        now=NOW,
    )
    for who in (cast.patti, cast.isaiah, cast.lynne):
        await feedback.answer_request(
            session,
            actor=who,
            request_id=outcome.request.id,
            text=who.display_name,
            visibility=V.ANONYMOUS,
            now=NOW,
        )

    lynne = await feedback.feedback_about(session, actor=cast.lynne, person_id=cast.adele.person_id)

    assert [v.text for v in lynne.feedback] == ["Lynne Robbins"], "her own answer, as hers"
    assert lynne.anonymous == (), "two others are too few to pool for someone who knows the third"


# --- requests ----------------------------------------------------------------------------------------


async def test_a_request_notifies_each_person_asked_and_expires_in_14_days(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[cast.patti.person_id, cast.isaiah.person_id, cast.patti.person_id],
        question="  How did the launch go?  ",
        now=NOW,
        client_request_id="r1",
    )

    assert outcome.request.expires_at == NOW + timedelta(days=14)
    assert outcome.request.status is RequestStatus.OPEN
    assert [(n.asked_id, n.question, n.about_themselves) for n in outcome.to_notify] == [
        (cast.patti.person_id, "How did the launch go?", True),
        (cast.isaiah.person_id, "How did the launch go?", True),
    ]
    again = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[cast.patti.person_id],
        question="x",
        now=NOW,
        client_request_id="r1",
    )
    assert (
        again.request.id == outcome.request.id and again.request.already_submitted and again.to_notify == ()
    )
    pending = await feedback.pending_requests(session, actor=cast.patti, now=NOW)
    assert [(p.request_id, p.subject_name) for p in pending] == [(outcome.request.id, "Adele Vance")]


async def test_a_manager_asks_about_a_report_and_sees_answers_within_visibility(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session,
        actor=cast.alex,
        subject_id=cast.adele.person_id,
        asked_ids=[cast.patti.person_id, cast.isaiah.person_id],
        question="How is Adele doing?",
        now=NOW,
    )
    assert outcome.to_notify[0].about_themselves is False
    shared = await feedback.answer_request(
        session, actor=cast.patti, request_id=outcome.request.id, text="Strong", now=NOW
    )
    only_her = await feedback.answer_request(
        session,
        actor=cast.isaiah,
        request_id=outcome.request.id,
        text="Just for Adele",
        visibility=V.RECIPIENT_ONLY,
        now=NOW,
    )

    assert {n.person_id for n in shared.notify} == {cast.adele.person_id, cast.alex.person_id}
    assert {n.person_id for n in only_her.notify} == {cast.adele.person_id}, "the asker may not read it"
    alex = await feedback.get_request(session, actor=cast.alex, request_id=outcome.request.id, now=NOW)
    assert [a.text for a in alex.answers] == ["Strong"] and [a.answered for a in alex.asks] == [True, False]
    received = await feedback.feedback_received(session, actor=cast.adele)
    assert {v.text for v in received.feedback} == {"Strong", "Just for Adele"}


@pytest.mark.parametrize(
    ("who", "subject", "asked", "error"),
    [
        ("patti", "adele", ["isaiah"], Forbidden),  # not her line
        ("adele", "isaiah", ["patti"], Forbidden),  # a peer
        ("adele", None, ["adele"], Invalid),  # oneself
        ("alex", "adele", ["adele"], Invalid),  # the subject
        ("adele", None, [], Invalid),
        ("adele", None, [999_999], NotFound),
    ],
)
async def test_bad_requests_are_refused(session, cast, who, subject, asked, error) -> None:
    def pid(name):
        return name if isinstance(name, int) else getattr(cast, name).person_id

    with pytest.raises(error):
        await feedback.request_feedback(
            session,
            actor=getattr(cast, who),
            subject_id=None if subject is None else pid(subject),
            asked_ids=[pid(a) for a in asked],
            question="?",
            now=NOW,
        )
    assert await session.scalar(select(func.count(FeedbackRequestAsk.id))) == 0


async def test_answers_are_refused_after_expiry_from_others_and_twice(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[cast.patti.person_id, cast.isaiah.person_id],
        question="?",
        now=NOW,
        expires_at=NOW + timedelta(days=2),
    )
    request_id = outcome.request.id

    with pytest.raises(NotFound, match="wasn't sent to you"):
        await feedback.answer_request(session, actor=cast.alex, request_id=request_id, text="x", now=NOW)
    await feedback.answer_request(
        session, actor=cast.patti, request_id=request_id, text="once", now=NOW, client_request_id="a1"
    )
    repeat = await feedback.answer_request(
        session, actor=cast.patti, request_id=request_id, text="once", now=NOW, client_request_id="a1"
    )
    assert repeat.feedback.already_submitted
    with pytest.raises(Conflict, match="already answered"):
        await feedback.answer_request(session, actor=cast.patti, request_id=request_id, text="twice", now=NOW)
    with pytest.raises(Invalid, match="expired"):
        await feedback.answer_request(
            session, actor=cast.isaiah, request_id=request_id, text="late", now=NOW + timedelta(days=2)
        )
    assert await feedback_count(session) == 1
    assert await feedback.pending_requests(session, actor=cast.isaiah, now=NOW + timedelta(days=2)) == ()


async def test_a_closed_request_takes_no_answers(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session, actor=cast.adele, asked_ids=[cast.patti.person_id], question="?", now=NOW
    )
    with pytest.raises(Forbidden):
        await feedback.close_request(session, actor=cast.alex, request_id=outcome.request.id, now=NOW)
    closed = await feedback.close_request(session, actor=cast.adele, request_id=outcome.request.id, now=NOW)

    assert closed.status is RequestStatus.CLOSED
    with pytest.raises(Invalid, match="closed"):
        await feedback.answer_request(
            session, actor=cast.patti, request_id=outcome.request.id, text="x", now=NOW
        )


async def test_reminders_go_once_to_unanswered_asks_and_requests_expire(session, cast) -> None:
    outcome = await feedback.request_feedback(
        session,
        actor=cast.adele,
        asked_ids=[cast.patti.person_id, cast.isaiah.person_id, cast.megan.person_id],
        question="?",
        now=NOW,
    )
    request_id = outcome.request.id
    patti_ask, isaiah_ask, megan_ask = (n.ask_id for n in outcome.to_notify)
    assert await feedback.plan_reminders(session, now=NOW + timedelta(days=5)) == (), "no card went out yet"
    assert await feedback.mark_sent(session, ask_ids=[patti_ask, isaiah_ask, megan_ask], now=NOW) == 3
    await feedback.answer_request(session, actor=cast.patti, request_id=request_id, text="Done", now=NOW)
    await session.execute(update(Person).where(Person.id == cast.megan.person_id).values(active=False))

    assert await feedback.plan_reminders(session, now=NOW + timedelta(days=2)) == ()
    due = await feedback.plan_reminders(session, now=NOW + timedelta(days=3))
    assert due == (DueAskReminder(isaiah_ask, request_id, cast.isaiah.person_id),)
    assert await feedback.mark_reminded(session, ask_ids=[isaiah_ask], now=NOW + timedelta(days=3)) == (
        isaiah_ask,
    )
    assert await feedback.mark_reminded(session, ask_ids=[isaiah_ask], now=NOW + timedelta(days=3)) == ()
    assert await feedback.plan_reminders(session, now=NOW + timedelta(days=4)) == (), "once"

    assert await feedback.expire_requests(session, now=NOW + timedelta(days=13)) == ()
    assert await feedback.expire_requests(session, now=NOW + timedelta(days=14)) == (request_id,)
    view = await feedback.get_request(
        session, actor=cast.adele, request_id=request_id, now=NOW + timedelta(days=15)
    )
    assert view.status is RequestStatus.EXPIRED

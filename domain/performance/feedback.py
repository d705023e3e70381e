"""Continuous feedback: give it, ask colleagues for it, answer, remind once, expire, and read it back.

Who sees what is decided in domain/access.py from the visibility the giver chose; every read here filters
row by row with it, for whoever reads, so no function hands out more than the rules allow:
- manager-only notes never reach their recipient (not in history, not in a request, not as an "answered"
  tick, not as a notice);
- anonymous feedback carries its giver only for the giver and HR. Anyone else may see it only pooled, per
  request, once ANONYMITY_THRESHOLD people other than the viewer answered that request anonymously
  (AnonymousAggregate: texts and tags sorted by text, no id, no time, no count below the threshold).
  Below the threshold the recipient learns nothing: no text, no count, no tick on the ask. Anonymous
  feedback is only given as an answer to a request: outside one there is nothing to pool it with, so it
  could never be shown;
- HR reads everything, and each read that only HR's role allows (a private note outside their line, the
  giver of anonymous feedback) writes one audit entry per piece of feedback per read.

Notices (whom the bot should tell) are built for each person without HR's privilege, so a notice never
reveals what only an audited read may.

Services flush but never commit. Text is stored as typed (trimmed): escaping it is each transport's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.access import (
    Actor,
    Relation,
    Role,
    audit,
    audited_feedback_read,
    load_actor,
    may_request_feedback,
    may_view_anonymous_aggregate,
    may_view_feedback,
    may_view_performance,
    relation_to,
    relations_to,
    require,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.org import display_names
from domain.performance.feedback_views import (
    ANONYMITY_THRESHOLD,
    ASKED_MAX,
    FEEDBACK_MAX,
    QUESTION_MAX,
    QUOTE_MAX,
    RATINGS,
    REMIND_AFTER_DAYS,
    REQUEST_DAYS,
    REQUEST_MAX_DAYS,
    TAG_MAX,
    TAGS_MAX,
    AggregateNotice,
    AnonymousAggregate,
    AnonymousAnswer,
    AskNotice,
    AskView,
    DueAskReminder,
    FeedbackGiven,
    FeedbackHistory,
    FeedbackNotice,
    FeedbackRequestView,
    FeedbackView,
    FeedbackVisibility,
    PendingAsk,
    RequestOutcome,
    RequestStatus,
    TagInput,
    TagView,
)
from domain.text import checked_client_id, quoted_text, required_text
from storage.models import Feedback, FeedbackRequest, FeedbackRequestAsk, FeedbackTag, Person

PLAN_LIMIT = 200


class _AlreadyAnswered(Exception):
    """A concurrent answer to the same ask won: roll back this one's savepoint."""


# --- giving ------------------------------------------------------------------------------------------


async def give_feedback(
    session: AsyncSession,
    *,
    actor: Actor,
    recipient_id: int,
    text: str,
    now: datetime,
    visibility: FeedbackVisibility | str = FeedbackVisibility.RECIPIENT_AND_MANAGER,
    tags: Sequence[TagInput] = (),
    quote: str | None = None,
    client_request_id: str | None = None,
) -> FeedbackGiven:
    """Give feedback to a colleague; the same client_request_id again returns the first one, unwritten."""
    if (repeat := await _repeat(session, actor, client_request_id)) is not None:
        return repeat
    chosen = _visibility(visibility)
    if chosen is FeedbackVisibility.ANONYMOUS:
        raise Invalid(
            "Anonymous feedback is given as an answer to a feedback request, where it's shown pooled once "
            f"{ANONYMITY_THRESHOLD} people answered. Choose who may see this feedback instead."
        )
    if recipient_id == actor.person_id:
        raise Invalid("Feedback is for someone else: you can't give feedback to yourself.")
    row = _feedback_row(actor, recipient_id, text, chosen, tags, quote, client_request_id, now)
    await _active_person(session, recipient_id)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        if (repeat := await _repeat(session, actor, client_request_id)) is not None:
            return repeat
        raise
    return await _given(session, actor, row)


async def answer_request(
    session: AsyncSession,
    *,
    actor: Actor,
    request_id: int,
    text: str,
    now: datetime,
    visibility: FeedbackVisibility | str = FeedbackVisibility.RECIPIENT_AND_MANAGER,
    tags: Sequence[TagInput] = (),
    quote: str | None = None,
    client_request_id: str | None = None,
) -> FeedbackGiven:
    """Answer a feedback request one was asked in: once, while it is open and not expired."""
    if (repeat := await _repeat(session, actor, client_request_id)) is not None:
        return repeat
    chosen = _visibility(visibility)
    ask = await session.scalar(
        select(FeedbackRequestAsk).where(
            FeedbackRequestAsk.request_id == request_id, FeedbackRequestAsk.asked_id == actor.person_id
        )
    )
    if ask is None:
        # The same answer for "no such request" and "asked of someone else": ids are guessable.
        raise NotFound("That feedback request wasn't sent to you.")
    request = await session.get(FeedbackRequest, request_id)
    assert request is not None  # the ask points at it
    _require_open(request, now)
    if ask.answered_feedback_id is not None:
        raise Conflict("You already answered this feedback request.")
    row = _feedback_row(actor, request.subject_id, text, chosen, tags, quote, client_request_id, now)
    row.request_id = request.id
    await _active_person(session, request.subject_id)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
            await _claim_ask(session, ask.id, row.id)
    except _AlreadyAnswered:
        raise Conflict("You already answered this feedback request.") from None
    except IntegrityError:
        if (repeat := await _repeat(session, actor, client_request_id)) is not None:
            return repeat
        raise
    return await _given(session, actor, row)


# --- reading -----------------------------------------------------------------------------------------


async def feedback_received(session: AsyncSession, *, actor: Actor) -> FeedbackHistory:
    """Feedback about the actor, as they may see it (anonymous answers only pooled)."""
    return await _history(session, actor, actor.person_id)


async def feedback_about(session: AsyncSession, *, actor: Actor, person_id: int) -> FeedbackHistory:
    """Feedback about someone: the person, their manager line and HR, each within the visibility rules."""
    rel = await relation_to(session, actor, person_id)
    require(may_view_performance(actor, rel), "this person's feedback")
    return await _history(session, actor, person_id)


async def feedback_given(session: AsyncSession, *, actor: Actor) -> tuple[FeedbackView, ...]:
    """Feedback the actor gave, newest first (their own anonymous answers included, as theirs)."""
    rows = await _rows(session, _FEEDBACK.where(Feedback.giver_id == actor.person_id))
    views, _pooled = await _visible(session, actor, rows)
    return tuple(views)


async def get_feedback(session: AsyncSession, *, actor: Actor, feedback_id: int) -> FeedbackView:
    """One piece of feedback, if the actor may see it by itself."""
    views, _pooled = await _visible(
        session, actor, await _rows(session, _FEEDBACK.where(Feedback.id == feedback_id))
    )
    if not views:
        # Not "forbidden": whether a private note exists about someone is itself private.
        raise NotFound("That feedback does not exist.")
    return views[0]


# --- requests ----------------------------------------------------------------------------------------


async def request_feedback(
    session: AsyncSession,
    *,
    actor: Actor,
    asked_ids: Iterable[int],
    question: str,
    now: datetime,
    subject_id: int | None = None,
    expires_at: datetime | None = None,
    client_request_id: str | None = None,
) -> RequestOutcome:
    """Ask colleagues for feedback about oneself, or (a manager) about someone in one's line.

    Returns the request and the asks whose cards the bot should send; a second submit returns the first
    request with nothing to send."""
    client_id = checked_client_id(client_request_id)
    if client_id is not None and (done := await _request_by_client_id(session, actor, client_id)):
        view = await _request_view(session, actor, done, now)
        return RequestOutcome(replace(view, already_submitted=True), ())
    subject_id = actor.person_id if subject_id is None else subject_id
    subject = await _active_person(session, subject_id)
    if not may_request_feedback(actor, await relation_to(session, actor, subject_id)):
        raise Forbidden("You can ask for feedback about yourself, or about people in your team.")
    request = FeedbackRequest(
        requester_id=actor.person_id,
        subject_id=subject_id,
        question=required_text(question, QUESTION_MAX, "The question"),
        created_at=now,
        expires_at=_expiry(now, expires_at),
        client_request_id=client_id,
    )
    asked = await _askable(session, actor, subject_id, asked_ids)
    try:
        async with session.begin_nested():
            session.add(request)
            await session.flush()
            asks = [FeedbackRequestAsk(request_id=request.id, asked_id=pid) for pid in asked]
            session.add_all(asks)
            await session.flush()
    except IntegrityError:
        if client_id is not None and (done := await _request_by_client_id(session, actor, client_id)):
            view = await _request_view(session, actor, done, now)
            return RequestOutcome(replace(view, already_submitted=True), ())
        raise
    names = {actor.person_id: actor.display_name, subject_id: subject.display_name}
    notices = tuple(_ask_notice(ask.id, ask.asked_id, request, names) for ask in asks)
    return RequestOutcome(await _request_view(session, actor, request, now), notices)


async def get_request(
    session: AsyncSession, *, actor: Actor, request_id: int, now: datetime
) -> FeedbackRequestView:
    """A request with its answers as the actor may see them: the requester, the people asked, and whoever
    may see the subject's feedback (the subject, their line, HR)."""
    request = await session.get(FeedbackRequest, request_id, populate_existing=True)
    if request is None or not await _may_see_request(session, actor, request):
        raise NotFound("That feedback request does not exist.")
    return await _request_view(session, actor, request, now)


async def requests_made(
    session: AsyncSession, *, actor: Actor, now: datetime
) -> tuple[FeedbackRequestView, ...]:
    """The requests the actor made, newest first, with the answers they may see."""
    rows = (
        await session.scalars(
            select(FeedbackRequest)
            .where(FeedbackRequest.requester_id == actor.person_id)
            .order_by(FeedbackRequest.created_at.desc(), FeedbackRequest.id.desc())
        )
    ).all()
    return tuple([await _request_view(session, actor, r, now) for r in rows])


async def pending_requests(session: AsyncSession, *, actor: Actor, now: datetime) -> tuple[PendingAsk, ...]:
    """Requests waiting for the actor's answer: open, not expired, soonest expiry first."""
    rows = (
        await session.execute(
            select(FeedbackRequestAsk.id, FeedbackRequest)
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackRequestAsk.request_id)
            .join(Person, Person.id == FeedbackRequest.subject_id)
            .where(
                FeedbackRequestAsk.asked_id == actor.person_id,
                FeedbackRequestAsk.answered_feedback_id.is_(None),
                FeedbackRequest.closed_at.is_(None),
                FeedbackRequest.expires_at > now,
                Person.active.is_(True),
            )
            .order_by(FeedbackRequest.expires_at, FeedbackRequest.id)
        )
    ).all()
    names = await display_names(session, {pid for _, r in rows for pid in (r.requester_id, r.subject_id)})
    return tuple(
        PendingAsk(
            ask_id=ask_id,
            request_id=r.id,
            requester_name=names.get(r.requester_id, ""),
            subject_id=r.subject_id,
            subject_name=names.get(r.subject_id, ""),
            question=r.question,
            expires_at=r.expires_at,
        )
        for ask_id, r in rows
    )


async def close_request(
    session: AsyncSession, *, actor: Actor, request_id: int, now: datetime
) -> FeedbackRequestView:
    """Stop taking answers to one's own request (closing it twice changes nothing)."""
    request = await session.get(FeedbackRequest, request_id, populate_existing=True)
    if request is None or not await _may_see_request(session, actor, request):
        raise NotFound("That feedback request does not exist.")
    if request.requester_id != actor.person_id:
        raise Forbidden("Only the person who asked can close this feedback request.")
    if request.closed_at is None and now < request.expires_at:
        request.closed_at = now
        await session.flush()
    return await _request_view(session, actor, request, now)


# --- the scheduler's side (acts for no one; sending is the bot's job) ---------------------------------


async def mark_sent(session: AsyncSession, *, ask_ids: Iterable[int], now: datetime) -> int:
    """Record that the asks' cards went out (the reminder clock starts then); returns how many."""
    done = await session.execute(
        update(FeedbackRequestAsk)
        .where(FeedbackRequestAsk.id.in_(list(ask_ids)), FeedbackRequestAsk.sent_at.is_(None))
        .values(sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount  # type: ignore[attr-defined,no-any-return]


async def plan_reminders(
    session: AsyncSession,
    *,
    now: datetime,
    remind_after: timedelta = timedelta(days=REMIND_AFTER_DAYS),
    limit: int = PLAN_LIMIT,
) -> tuple[DueAskReminder, ...]:
    """Asks to remind, once: sent at least `remind_after` ago, unanswered, the request open and not expired,
    the asked person and the subject still in the directory."""
    subject = Person.__table__.alias("subject")
    rows = await session.execute(
        select(FeedbackRequestAsk.id, FeedbackRequestAsk.request_id, FeedbackRequestAsk.asked_id)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackRequestAsk.request_id)
        .join(Person, Person.id == FeedbackRequestAsk.asked_id)
        .join(subject, subject.c.id == FeedbackRequest.subject_id)
        .where(
            FeedbackRequestAsk.answered_feedback_id.is_(None),
            FeedbackRequestAsk.reminded_at.is_(None),
            FeedbackRequestAsk.sent_at <= now - remind_after,
            FeedbackRequest.closed_at.is_(None),
            FeedbackRequest.expires_at > now,
            Person.active.is_(True),
            subject.c.active.is_(True),
        )
        .order_by(FeedbackRequestAsk.id)
        .limit(limit)
    )
    return tuple(DueAskReminder(ask_id, request_id, asked_id) for ask_id, request_id, asked_id in rows)


async def mark_reminded(session: AsyncSession, *, ask_ids: Iterable[int], now: datetime) -> tuple[int, ...]:
    """Claim asks for their one reminder; returns those this call claimed (a concurrent pass gets none)."""
    claimed = []
    for ask_id in sorted(set(ask_ids)):
        done = await session.execute(
            update(FeedbackRequestAsk)
            .where(FeedbackRequestAsk.id == ask_id, FeedbackRequestAsk.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(ask_id)
    return tuple(claimed)


async def ask_notices(session: AsyncSession, *, ask_ids: Iterable[int]) -> tuple[AskNotice, ...]:
    """The cards to send again for asks (a reminder): each still unanswered on an open request."""
    ids = sorted(set(ask_ids))
    if not ids:
        return ()
    rows = (
        await session.execute(
            select(FeedbackRequestAsk.id, FeedbackRequestAsk.asked_id, FeedbackRequest)
            .join(FeedbackRequest, FeedbackRequest.id == FeedbackRequestAsk.request_id)
            .where(
                FeedbackRequestAsk.id.in_(ids),
                FeedbackRequestAsk.answered_feedback_id.is_(None),
                FeedbackRequest.closed_at.is_(None),
            )
            .order_by(FeedbackRequestAsk.id)
        )
    ).all()
    names = await display_names(session, {pid for _, _, r in rows for pid in (r.requester_id, r.subject_id)})
    return tuple(_ask_notice(ask_id, asked_id, r, names) for ask_id, asked_id, r in rows)


async def expire_requests(
    session: AsyncSession, *, now: datetime, limit: int = PLAN_LIMIT
) -> tuple[int, ...]:
    """Close requests past their expiry (answers are refused from expires_at on anyway); returns their ids,
    so the bot can update cards."""
    ids = list(
        await session.scalars(
            select(FeedbackRequest.id)
            .where(FeedbackRequest.closed_at.is_(None), FeedbackRequest.expires_at <= now)
            .order_by(FeedbackRequest.id)
            .limit(limit)
        )
    )
    if ids:
        await session.execute(
            update(FeedbackRequest)
            .where(FeedbackRequest.id.in_(ids), FeedbackRequest.closed_at.is_(None))
            .values(closed_at=now)
            .execution_options(synchronize_session=False)
        )
    return tuple(ids)


# --- validation --------------------------------------------------------------------------------------


def _feedback_row(
    actor: Actor,
    recipient_id: int,
    text: str,
    visibility: FeedbackVisibility,
    tags: Sequence[TagInput],
    quote: str | None,
    client_request_id: str | None,
    now: datetime,
) -> Feedback:
    """A validated, unsaved feedback row (Invalid before anything is written)."""
    return Feedback(
        giver_id=actor.person_id,
        recipient_id=recipient_id,
        text=required_text(text, FEEDBACK_MAX, "The feedback"),
        visibility=visibility.value,
        quote=quoted_text(quote, QUOTE_MAX),
        created_at=now,
        client_request_id=checked_client_id(client_request_id),
        tags=[FeedbackTag(tag=t.tag, rating=t.rating) for t in _tags(tags)],
    )


def _visibility(value: FeedbackVisibility | str) -> FeedbackVisibility:
    try:
        return FeedbackVisibility(value)
    except ValueError:
        raise Invalid(
            "Choose who may see the feedback: them and their manager, only them, only their manager, "
            "or anonymous."
        ) from None


def _tags(tags: Sequence[TagInput]) -> list[TagInput]:
    if len(tags) > TAGS_MAX:
        raise Invalid(f"Too many tags: at most {TAGS_MAX} (there are {len(tags)}).")
    seen: set[str] = set()
    clean = []
    for given in tags:
        tag = (given.tag or "").strip()
        if not tag:
            raise Invalid("A tag is empty: name it or remove it.")
        if len(tag) > TAG_MAX:
            raise Invalid(f"The tag “{tag[:20]}…” is too long: at most {TAG_MAX} characters.")
        if tag.casefold() in seen:
            raise Invalid(f"The tag “{tag}” is there twice.")
        if given.rating is not None and (isinstance(given.rating, bool) or given.rating not in RATINGS):
            raise Invalid(f"Rate “{tag}” from {RATINGS.start} to {RATINGS.stop - 1}, or leave it unrated.")
        seen.add(tag.casefold())
        clean.append(TagInput(tag, given.rating))
    return clean


def _expiry(now: datetime, expires_at: datetime | None) -> datetime:
    if expires_at is None:
        return now + timedelta(days=REQUEST_DAYS)
    if expires_at <= now:
        raise Invalid("The request would expire before it starts: choose a date in the future.")
    if expires_at > now + timedelta(days=REQUEST_MAX_DAYS):
        raise Invalid(f"A feedback request can stay open for at most {REQUEST_MAX_DAYS} days.")
    return expires_at


def _require_open(request: FeedbackRequest, now: datetime) -> None:
    status = _status(request, now)
    if status is RequestStatus.EXPIRED:
        raise Invalid(
            f"This feedback request expired on {request.expires_at:%d %B %Y}: it takes no answers now."
        )
    if status is RequestStatus.CLOSED:
        raise Invalid("This feedback request was closed by the person who asked: it takes no answers now.")


async def _active_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound("That person is not in the directory.")
    return person


async def _askable(
    session: AsyncSession, actor: Actor, subject_id: int, asked_ids: Iterable[int]
) -> list[int]:
    """The people to ask, each active, neither the requester nor the subject; Invalid otherwise."""
    wanted = list(dict.fromkeys(asked_ids))
    if not wanted:
        raise Invalid("Name at least one person to ask for feedback.")
    if len(wanted) > ASKED_MAX:
        raise Invalid(f"Ask at most {ASKED_MAX} people at once (there are {len(wanted)}).")
    if actor.person_id in wanted:
        raise Invalid("You can't ask yourself for feedback: name colleagues.")
    if subject_id in wanted:
        raise Invalid("The person the feedback is about can't be asked to give it.")
    found = set(
        await session.scalars(select(Person.id).where(Person.id.in_(wanted), Person.active.is_(True)))
    )
    if len(found) != len(wanted):
        raise NotFound("Someone you named is not in the directory.")
    return wanted


# --- writing helpers ---------------------------------------------------------------------------------


async def _claim_ask(session: AsyncSession, ask_id: int, feedback_id: int) -> None:
    # Compare-and-set: of two answers racing on one ask, one sets it; the other's savepoint rolls back.
    claimed = await session.execute(
        update(FeedbackRequestAsk)
        .where(FeedbackRequestAsk.id == ask_id, FeedbackRequestAsk.answered_feedback_id.is_(None))
        .values(answered_feedback_id=feedback_id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _AlreadyAnswered


async def _repeat(session: AsyncSession, actor: Actor, client_request_id: str | None) -> FeedbackGiven | None:
    """A second submit of the same form: the feedback it stored, marked as such, and nobody to tell."""
    if client_request_id is None:
        return None
    found = await session.scalar(select(Feedback.id).where(Feedback.client_request_id == client_request_id))
    if found is None:
        return None
    rows = await _rows(session, _FEEDBACK.where(Feedback.id == found, Feedback.giver_id == actor.person_id))
    if not rows:
        raise Conflict("That form was already used. Please start again from a fresh card.")
    return FeedbackGiven(
        replace(_view(rows[0], await _names_of(session, rows), True), already_submitted=True)
    )


async def _request_by_client_id(
    session: AsyncSession, actor: Actor, client_id: str
) -> FeedbackRequest | None:
    found = await session.scalar(
        select(FeedbackRequest).where(FeedbackRequest.client_request_id == client_id)
    )
    if found is not None and found.requester_id != actor.person_id:
        raise Conflict("That form was already used. Please start again from a fresh card.")
    return found


async def _given(session: AsyncSession, actor: Actor, row: Feedback) -> FeedbackGiven:
    """The new feedback as its giver sees it, and whom to tell about it."""
    rows = await _rows(session, _FEEDBACK.where(Feedback.id == row.id))
    names = await _names_of(session, rows)
    notify = []
    if row.visibility != FeedbackVisibility.ANONYMOUS:
        for person_id in await _audience(session, row):
            if await _sees_without_privilege(session, person_id, row):
                notify.append(FeedbackNotice(person_id, _view(rows[0], names, True)))
    return FeedbackGiven(_view(rows[0], names, True), tuple(notify), await _aggregate_notices(session, row))


async def _audience(session: AsyncSession, row: Feedback) -> list[int]:
    """Who might be told: the recipient, their direct manager, whoever asked; never the giver."""
    manager_id = await session.scalar(select(Person.manager_id).where(Person.id == row.recipient_id))
    requester_id = None
    if row.request_id is not None:
        requester_id = await session.scalar(
            select(FeedbackRequest.requester_id).where(FeedbackRequest.id == row.request_id)
        )
    candidates = (row.recipient_id, manager_id, requester_id)
    return [pid for pid in dict.fromkeys(candidates) if pid is not None and pid != row.giver_id]


async def _sees_without_privilege(session: AsyncSession, person_id: int, row: Feedback) -> bool:
    """Whether the person may see the feedback as an employee or manager; HR's role is left out on purpose:
    a notice is not an audited read."""
    try:
        person = await load_actor(session, person_id)
    except NotFound:
        return False  # left the directory
    person = replace(person, roles=person.roles - {Role.HR_ADMIN})
    rel = await relation_to(session, person, row.recipient_id)
    return may_view_feedback(person, rel, visibility=row.visibility, is_giver=False)


async def _aggregate_notices(session: AsyncSession, row: Feedback) -> tuple[AggregateNotice, ...]:
    """For an anonymous answer that brings its request to the threshold or beyond: tell the requester."""
    if row.visibility != FeedbackVisibility.ANONYMOUS or row.request_id is None:
        return ()
    request = await session.get(FeedbackRequest, row.request_id)
    assert request is not None
    try:
        requester = await load_actor(session, request.requester_id)
    except NotFound:
        return ()
    requester = replace(requester, roles=requester.roles - {Role.HR_ADMIN})
    rows = await _rows(session, _FEEDBACK.where(Feedback.request_id == request.id))
    _views, pooled = await _visible(session, requester, rows)
    aggregates = _aggregates(requester, pooled, {request.id: request})
    return tuple(AggregateNotice(requester.person_id, a) for a in aggregates)


# --- reading helpers ---------------------------------------------------------------------------------

_FEEDBACK: Select[tuple[Feedback]] = (
    select(Feedback)
    .options(selectinload(Feedback.tags))
    .order_by(Feedback.created_at.desc(), Feedback.id.desc())
)


async def _rows(session: AsyncSession, query: Select[tuple[Feedback]]) -> list[Feedback]:
    return list((await session.scalars(query.execution_options(populate_existing=True))).all())


async def _history(session: AsyncSession, actor: Actor, person_id: int) -> FeedbackHistory:
    rows = await _rows(session, _FEEDBACK.where(Feedback.recipient_id == person_id))
    views, pooled = await _visible(session, actor, rows)
    request_ids = {fb.request_id for fb in pooled if fb.request_id is not None}
    requests = await _requests(session, request_ids)
    names = await display_names(session, {person_id})
    return FeedbackHistory(
        person_id=person_id,
        person_name=names.get(person_id, ""),
        feedback=tuple(views),
        anonymous=_aggregates(actor, pooled, requests),
    )


async def _visible(
    session: AsyncSession, actor: Actor, rows: Sequence[Feedback]
) -> tuple[list[FeedbackView], list[Feedback]]:
    """The views the actor may see by themselves (auditing HR-only reads), and the anonymous answers they
    may see only pooled."""
    relations = await _relations(session, actor, {fb.recipient_id for fb in rows})
    names = await _names_of(session, rows)
    views, pooled = [], []
    for fb in rows:
        rel = relations[fb.recipient_id]
        is_giver = fb.giver_id == actor.person_id
        if may_view_feedback(actor, rel, visibility=fb.visibility, is_giver=is_giver):
            if action := audited_feedback_read(actor, rel, visibility=fb.visibility, is_giver=is_giver):
                await audit(
                    session,
                    actor,
                    action=action,
                    subject_type="feedback",
                    subject_id=fb.id,
                    about=fb.recipient_id,
                )
            shows_giver = (
                fb.visibility != FeedbackVisibility.ANONYMOUS or is_giver or actor.has(Role.HR_ADMIN)
            )
            views.append(_view(fb, names, shows_giver))
        elif fb.visibility == FeedbackVisibility.ANONYMOUS and may_view_anonymous_aggregate(actor, rel):
            pooled.append(fb)
    return views, pooled


def _aggregates(
    actor: Actor, pooled: Sequence[Feedback], requests: dict[int, FeedbackRequest]
) -> tuple[AnonymousAggregate, ...]:
    """Pooled anonymous answers per request, only where enough people other than the actor answered."""
    by_request: dict[int, list[Feedback]] = {}
    for fb in pooled:
        if fb.request_id is not None and fb.giver_id != actor.person_id:
            by_request.setdefault(fb.request_id, []).append(fb)
    return tuple(
        AnonymousAggregate(
            request_id=request_id,
            subject_id=requests[request_id].subject_id,
            question=requests[request_id].question,
            answers=tuple(
                sorted(
                    (AnonymousAnswer(fb.text, _tag_views(fb)) for fb in answers),
                    key=lambda a: (a.text, a.tags),
                )
            ),
        )
        for request_id, answers in sorted(by_request.items())
        if len(answers) >= ANONYMITY_THRESHOLD and request_id in requests
    )


async def _request_view(
    session: AsyncSession, actor: Actor, request: FeedbackRequest, now: datetime
) -> FeedbackRequestView:
    asks = (
        await session.scalars(
            select(FeedbackRequestAsk)
            .where(FeedbackRequestAsk.request_id == request.id)
            .order_by(FeedbackRequestAsk.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    rows = await _rows(session, _FEEDBACK.where(Feedback.request_id == request.id))
    views, pooled = await _visible(session, actor, rows)
    seen = {v.id for v in views}
    names = await display_names(
        session, {request.requester_id, request.subject_id, *(a.asked_id for a in asks)}
    )
    aggregates = _aggregates(actor, pooled, {request.id: request})
    return FeedbackRequestView(
        id=request.id,
        requester_id=request.requester_id,
        requester_name=names.get(request.requester_id, ""),
        subject_id=request.subject_id,
        subject_name=names.get(request.subject_id, ""),
        question=request.question,
        created_at=request.created_at,
        expires_at=request.expires_at,
        closed_at=request.closed_at,
        status=_status(request, now),
        asks=tuple(
            AskView(a.id, a.asked_id, names.get(a.asked_id, ""), a.answered_feedback_id in seen) for a in asks
        ),
        answers=tuple(views),
        anonymous=aggregates[0] if aggregates else None,
    )


def _ask_notice(ask_id: int, asked_id: int, request: FeedbackRequest, names: dict[int, str]) -> AskNotice:
    return AskNotice(
        ask_id=ask_id,
        request_id=request.id,
        asked_id=asked_id,
        requester_name=names.get(request.requester_id, ""),
        subject_id=request.subject_id,
        subject_name=names.get(request.subject_id, ""),
        about_themselves=request.subject_id == request.requester_id,
        question=request.question,
        expires_at=request.expires_at,
    )


async def _may_see_request(session: AsyncSession, actor: Actor, request: FeedbackRequest) -> bool:
    if actor.person_id == request.requester_id:
        return True
    asked = await session.scalar(
        select(FeedbackRequestAsk.id).where(
            FeedbackRequestAsk.request_id == request.id, FeedbackRequestAsk.asked_id == actor.person_id
        )
    )
    if asked is not None:
        return True
    return may_view_performance(actor, await relation_to(session, actor, request.subject_id))


def _status(request: FeedbackRequest, now: datetime) -> RequestStatus:
    if request.expires_at <= (request.closed_at or now):
        return RequestStatus.EXPIRED
    return RequestStatus.CLOSED if request.closed_at is not None else RequestStatus.OPEN


async def _requests(session: AsyncSession, ids: Iterable[int]) -> dict[int, FeedbackRequest]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(FeedbackRequest).where(FeedbackRequest.id.in_(wanted)))
    return {r.id: r for r in rows}


def _view(fb: Feedback, names: dict[int, str], shows_giver: bool) -> FeedbackView:
    giver_id = fb.giver_id if shows_giver else None
    return FeedbackView(
        id=fb.id,
        recipient_id=fb.recipient_id,
        recipient_name=names.get(fb.recipient_id, ""),
        giver_id=giver_id,
        giver_name=names.get(giver_id, "") if giver_id is not None else None,
        text=fb.text,
        quote=fb.quote,
        visibility=fb.visibility,
        tags=_tag_views(fb),
        created_at=fb.created_at,
        request_id=fb.request_id,
    )


def _tag_views(fb: Feedback) -> tuple[TagView, ...]:
    return tuple(TagView(t.tag, t.rating) for t in fb.tags)


async def _relations(session: AsyncSession, actor: Actor, person_ids: Iterable[int]) -> dict[int, Relation]:
    ids = set(person_ids)
    if not ids:
        return {}
    departments = dict(
        (await session.execute(select(Person.id, Person.department).where(Person.id.in_(ids)))).all()
    )
    return await relations_to(session, actor, departments)


async def _names_of(session: AsyncSession, rows: Sequence[Feedback]) -> dict[int, str]:
    return await display_names(session, {pid for fb in rows for pid in (fb.giver_id, fb.recipient_id)})

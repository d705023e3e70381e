"""The Feedback tab's reads: one viewer's received, given and requested feedback, filtered, with a monthly
trend; a manager's line; whose feedback a viewer may open.

Every piece of feedback comes from the services in feedback.py (feedback_received, feedback_about,
feedback_given, requests_made, pending_requests), which apply the visibility rules and audit HR's
privileged reads. This module only narrows and counts what they return (feedback_read_views), so who
sees what is decided in one place. HR's reads write audit entries: run these in a unit of work that
commits. Services never commit; nor does this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import CTE, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Role
from domain.performance import feedback
from domain.performance.feedback_read_views import (
    LINE_LIMIT,
    LIST_LIMIT,
    FeedbackFilter,
    FeedbackList,
    FilterInvalid,
    LineFeedback,
    MyFeedback,
    PeopleChoices,
    PersonChoice,
    PersonFeedback,
    ReceivedFeedback,
    RequestList,
    aggregate_has_tag,
    matches,
    monthly_trend,
    request_matches,
)
from domain.performance.feedback_views import (
    AnonymousAggregate,
    FeedbackHistory,
    FeedbackRequestView,
    FeedbackView,
    TagView,
)
from storage.models import Person

FIND_MAX = 100
_People = Select[tuple[int, str, str | None]]  # id, name, job title
NO_FILTER = FeedbackFilter()


async def my_feedback(
    session: AsyncSession, *, actor: Actor, now: datetime, filters: FeedbackFilter = NO_FILTER
) -> MyFeedback:
    """The actor's own feedback: received (anonymous answers only pooled), given, the requests they made
    with the answers they may read, and the asks waiting for them."""
    history = await feedback.feedback_received(session, actor=actor)
    given = await feedback.feedback_given(session, actor=actor)
    requested = await feedback.requests_made(session, actor=actor, now=now)
    pending = await feedback.pending_requests(session, actor=actor, now=now)
    kept_given = [v for v in given if matches(v, filters, other_party=v.recipient_id)]
    kept_requests = [r for r in requested if request_matches(r, filters)]
    answers = [a for r in requested for a in r.answers]
    pools = [*history.anonymous, *(r.anonymous for r in requested if r.anonymous is not None)]
    return MyFeedback(
        received=_received(history, filters, now),
        given=FeedbackList(tuple(kept_given[:LIST_LIMIT]), len(kept_given)),
        requested=RequestList(tuple(kept_requests[:LIST_LIMIT]), len(kept_requests)),
        pending=pending,
        people=_people(actor.person_id, history.feedback, given, answers, requested),
        tags=_tags([*history.feedback, *given, *answers], pools),
    )


async def person_feedback(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: int,
    now: datetime,
    filters: FeedbackFilter = NO_FILTER,
) -> PersonFeedback:
    """Feedback someone received, as the actor may see it: the person, their manager line, or HR
    (Forbidden for anyone else, NotFound for someone not in the directory)."""
    history = await feedback.feedback_about(session, actor=actor, person_id=person_id)
    return PersonFeedback(
        received=_received(history, filters, now),
        people=_people(person_id, history.feedback),
        tags=_tags(history.feedback, history.anonymous),
    )


async def line_feedback(
    session: AsyncSession,
    *,
    actor: Actor,
    now: datetime,
    filters: FeedbackFilter = NO_FILTER,
    limit: int = LINE_LIMIT,
) -> LineFeedback:
    """What the actor's line (direct and indirect reports) received, for the first `limit` people by name.

    Each person is read through feedback_about, so the visibility rules and HR's audit stay in
    feedback.py; the cap keeps a big line to `limit` reads, and the line itself is two queries."""
    query = _choosable(actor, find=None, whole_organization=False)
    total = await _count(session, query)
    chosen = await _first(session, query, limit)
    people = [
        _received(await feedback.feedback_about(session, actor=actor, person_id=p.person_id), filters, now)
        for p in chosen
    ]
    return LineFeedback(tuple(people), total)


async def people_choices(
    session: AsyncSession, *, actor: Actor, find: str | None = None, limit: int = LINE_LIMIT
) -> PeopleChoices:
    """Whose received feedback the actor may open besides their own: their line, or anyone for HR; the
    first `limit` by name, narrowed to names containing `find`."""
    wanted = _find(find)
    whole = actor.has(Role.HR_ADMIN)
    query = _choosable(actor, find=wanted, whole_organization=whole)
    return PeopleChoices(
        people=await _first(session, query, limit),
        total=await _count(session, query),
        whole_organization=whole,
        find=wanted,
    )


# --- narrowing what the services returned ------------------------------------------------------------


def _received(history: FeedbackHistory, filters: FeedbackFilter, now: datetime) -> ReceivedFeedback:
    kept = [v for v in history.feedback if matches(v, filters, other_party=v.giver_id)]
    # Pools are kept or dropped whole (a filter never shrinks one below what the service released).
    tagged = [a for a in history.anonymous if aggregate_has_tag(a, filters.tag)]
    pools = tagged if filters.keeps_anonymous else []
    # The trend has its own time axis (the last months): it follows the person and tag filters only.
    undated = replace(filters, since=None, until=None)
    trend_views = [v for v in history.feedback if matches(v, undated, other_party=v.giver_id)]
    return ReceivedFeedback(
        person_id=history.person_id,
        person_name=history.person_name,
        feedback=tuple(kept[:LIST_LIMIT]),
        total=len(kept),
        anonymous=tuple(pools),
        anonymous_left_out=len(tagged) - len(pools),
        trend=monthly_trend(trend_views, today=now.astimezone(UTC).date(), tag=filters.tag),
    )


def _people(
    subject_id: int,
    received: Iterable[FeedbackView],
    given: Iterable[FeedbackView] = (),
    answers: Iterable[FeedbackView] = (),
    requests: Iterable[FeedbackRequestView] = (),
) -> tuple[PersonChoice, ...]:
    """The other parties the viewer already sees in these views (never anyone an anonymous view hides),
    by name; the person the feedback is about is no other party."""
    named: dict[int, str] = {}
    for view in (*received, *answers):
        if view.giver_id is not None and view.giver_name:
            named[view.giver_id] = view.giver_name
    for view in given:
        named[view.recipient_id] = view.recipient_name
    for request in requests:
        named[request.subject_id] = request.subject_name
        named.update((ask.person_id, ask.person_name) for ask in request.asks)
    named.pop(subject_id, None)
    ordered = sorted(named.items(), key=lambda item: (item[1].casefold(), item[0]))
    return tuple(PersonChoice(pid, name) for pid, name in ordered if name)


def _tags(views: Iterable[FeedbackView], pools: Iterable[AnonymousAggregate]) -> tuple[str, ...]:
    """Each tag once (as first spelled), sorted, from everything the viewer sees."""
    tags: list[TagView] = [t for v in views for t in v.tags]
    tags += [t for pool in pools for answer in pool.answers for t in answer.tags]
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(tag.tag.casefold(), tag.tag)
    return tuple(seen[key] for key in sorted(seen))


# --- whose feedback one may open ---------------------------------------------------------------------


def _find(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > FIND_MAX:
        raise FilterInvalid("find", f"Search for at most {FIND_MAX} characters of a name.")
    return text or None


def _line(actor: Actor) -> CTE:
    """Everyone below the actor in reporting lines. UNION (not ALL) lists each once and ends even in a
    cycle, which the org import refuses anyway."""
    down = (
        select(Person.id.label("id"))
        .where(Person.manager_id == actor.person_id)
        .cte("feedback_line", recursive=True)
    )
    return down.union(select(Person.id).join(down, Person.manager_id == down.c.id))


def _choosable(actor: Actor, *, find: str | None, whole_organization: bool) -> _People:
    query = select(Person.id, Person.display_name, Person.job_title).where(
        Person.active.is_(True), Person.id != actor.person_id
    )
    if not whole_organization:
        line = _line(actor)
        query = query.join(line, line.c.id == Person.id)
    if find is not None:
        query = query.where(func.lower(Person.display_name).contains(find.lower(), autoescape=True))
    return query


async def _count(session: AsyncSession, query: _People) -> int:
    return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def _first(session: AsyncSession, query: _People, limit: int) -> tuple[PersonChoice, ...]:
    rows = await session.execute(query.order_by(func.lower(Person.display_name), Person.id).limit(limit))
    return tuple(PersonChoice(pid, name, title) for pid, name, title in rows)

"""Weekly check-ins: mood, progress on active goals, wins, blockers and priorities; talking points that
carry over until resolved; replies from the manager line; and when to send which card.

Days and weeks are each person's own: a check-in day is a date in the person's time zone (Person.time_zone,
an IANA name) and a week runs Monday to Sunday there; a manager's digest follows the manager's zone. Who
has no zone on file, or one zoneinfo does not know, follows the organization's zone, which callers pass
in as `default_zone` (CHECKIN_TIME_ZONE: the domain reads no settings). Rows store dates, not instants:
CheckIn.week_start is the person's local Monday and due_on their local day, so the dedupe keys
(person, week, kind) stay what they were.

Who gets a card: every active person Trellis can reach (a stored 1:1 conversation the person has not
blocked) who has not paused check-ins, manager or not: someone without a manager still records their
week, only the digest needs one. Their day is the one they chose, else DEFAULT_WEEKDAY (Friday).

When (plan_due, run by the scheduler every few minutes; each kind goes once, guarded by a row; nothing
goes before SEND_FROM, 09:00 on the recipient's own clock, so never in their night):
- the card: from 09:00 on the person's day; a day missed while the scheduler was down is caught up at
  most LATE_CARD_DAYS later, within the same week, again from 09:00;
- a reminder: once, from 09:00 on a later local day than the card went out, while the check-in is
  unsubmitted and its day is at most REMIND_WITHIN_DAYS old;
- a manager's digest of last week's check-ins of their direct reports: once, from 09:00 on the manager's
  following Monday (or the first pass after it that week) at which at least one of them is submitted.
  `checkins` shows the current week at any time.

Planning stays set-based for a large organization: a pass reads which time zones reachable people have
(a handful), works out each zone's local date and time once, and asks for everyone at once with CASE
expressions keyed on the stored zone name, never one query per person.

Every service checks access (domain/access.py), flushes but never commits. The scheduler's functions
(plan_due, issue_*) act for no one: they show a person only their own check-in, built as that person,
and a manager only their own line, built as that manager. Forms with several parts
(submit, reply) write inside a savepoint: a refusal part-way leaves nothing written, and the transport
may show the form again with the person's text instead of an error card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, case, exists, false, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    Relation,
    load_actor,
    may_reply_to_checkin,
    may_view_checkin,
    relations_to,
)
from domain.errors import DomainError, Forbidden, Invalid, NotFound
from domain.org import display_names
from domain.org_people import DEFAULT_TIME_ZONE
from domain.performance import goals
from domain.performance.checkin_views import (
    ANSWER_MAX,
    COMMENT_MAX,
    SEND_FROM,
    TALKING_POINT_MAX,
    CheckInAnswers,
    CheckInDayView,
    CheckInPlan,
    CheckInView,
    CommentView,
    DigestView,
    DueCard,
    DueDigest,
    DueReminder,
    KeyResultChange,
    KeyResultLine,
    ReplyOutcome,
    TalkingPointView,
    week_label,
    week_start,
)
from domain.performance.goal_views import GoalView
from domain.text import optional_text, required_text
from storage.engine import is_postgres
from storage.models import (
    CheckIn,
    CheckInComment,
    CheckInDigest,
    CheckInPreference,
    ConversationRef,
    Goal,
    KeyResult,
    Person,
    TalkingPoint,
)

DEFAULT_WEEKDAY = 4  # Friday
LATE_CARD_DAYS = 1
REMIND_WITHIN_DAYS = 6
PLAN_LIMIT = 200
# What the import and the directory sync store when they don't know a person's zone (the column's default
# too): read as "no zone on file", so those people follow the organization's zone, not UTC.
UNSET_TIME_ZONES = frozenset({"", DEFAULT_TIME_ZONE})


class CheckInNotSaved(DomainError):
    """Nothing of the check-in was saved (a key result changed meanwhile, or a new value is wrong);
    `latest` is the form as it is now and `answers` what the person sent, so they can be asked again."""

    def __init__(self, message: str, latest: CheckInView, answers: CheckInAnswers) -> None:
        super().__init__(message)
        self.latest = latest
        self.answers = answers


class _AlreadySubmitted(Exception):
    """A concurrent submit won: roll back this one's savepoint and answer like a second click."""


# --- the person's check-in -----------------------------------------------------------------------------


async def open_checkin(
    session: AsyncSession, *, actor: Actor, now: datetime, default_zone: ZoneInfo
) -> CheckInView:
    """The actor's check-in for this week (their own), opened if need be, with the key results it offers."""
    today = (await _local_now(session, actor.person_id, now, default_zone)).date()
    checkin_id = await _ensure_checkin(session, actor.person_id, week_start(today), now)
    return await _form_view(session, actor, checkin_id, today)


async def current_week(session: AsyncSession, *, actor: Actor, now: datetime, default_zone: ZoneInfo) -> date:
    """The Monday of the actor's own current week."""
    return week_start((await _local_now(session, actor.person_id, now, default_zone)).date())


async def get_checkin(session: AsyncSession, *, actor: Actor, checkin_id: int) -> CheckInView:
    """One check-in with its talking points and replies: the person, their manager line and HR."""
    checkin, _rel = await _visible_checkin(session, actor, checkin_id)
    return (await _views(session, [checkin]))[0]


async def submit_checkin(
    session: AsyncSession,
    *,
    actor: Actor,
    checkin_id: int,
    answers: CheckInAnswers,
    now: datetime,
    default_zone: ZoneInfo,
) -> CheckInView:
    """Submit one's own check-in once; a second submit returns it unchanged with already_submitted set.

    New key result values go through goals.update_key_result (history and roll-up as any update)."""
    answers = _validated(answers)
    checkin, _rel = await _visible_checkin(session, actor, checkin_id)
    if checkin.person_id != actor.person_id:
        raise Forbidden("This check-in is someone else's: you can only fill in your own.")
    if checkin.submitted_at is not None:
        return replace((await _views(session, [checkin]))[0], already_submitted=True)
    key_results = await _own_key_results(session, actor, answers)
    points = await _own_open_points(session, actor.person_id, answers.resolved_points)
    try:
        async with session.begin_nested():
            await _claim_submit(session, checkin, answers, now)
            changes = await _apply_key_results(session, actor, checkin, answers, key_results, now)
            checkin.key_result_changes = [_change_json(c) for c in changes] or None
            await _resolve(session, actor, points, now)
            if answers.new_talking_point:
                _raise_point(session, actor, checkin, answers.new_talking_point, now)
            await session.flush()
    except _AlreadySubmitted:
        await session.refresh(checkin)
        return replace((await _views(session, [checkin]))[0], already_submitted=True)
    except (goals.KeyResultChanged, Invalid) as refused:
        # The savepoint is gone: nothing of this submit stays. Ask again on the latest form.
        await session.refresh(checkin)
        today = (await _local_now(session, actor.person_id, now, default_zone)).date()
        latest = await _form_view(session, actor, checkin.id, today)
        raise CheckInNotSaved(refused.message, latest, answers) from refused
    await session.refresh(checkin)
    return (await _views(session, [checkin]))[0]


async def add_talking_point(
    session: AsyncSession, *, actor: Actor, checkin_id: int, text: str, now: datetime
) -> TalkingPointView:
    """Raise a talking point on a check-in (the person or their manager line); it carries over until
    someone resolves it."""
    checkin, _rel = await _visible_checkin(session, actor, checkin_id)
    point = _raise_point(
        session, actor, checkin, required_text(text, TALKING_POINT_MAX, "The talking point"), now
    )
    await session.flush()
    return TalkingPointView(point.id, point.text, actor.display_name, now.date())


async def resolve_talking_points(
    session: AsyncSession, *, actor: Actor, point_ids: Iterable[int], now: datetime
) -> int:
    """Mark talking points resolved (the person, their manager line, HR); returns how many were open."""
    points = await _visible_points(session, actor, point_ids)
    return await _resolve(session, actor, points, now)


async def comment_on_checkin(
    session: AsyncSession,
    *,
    actor: Actor,
    checkin_id: int,
    text: str,
    now: datetime,
    seen_after: int | None = None,
) -> CommentView | None:
    """Reply to a submitted check-in (the person's manager line or HR).

    `seen_after` is the newest comment id the card showed: the same text from the same author after it is
    a second click, answered with None and not written again."""
    body = required_text(text, COMMENT_MAX, "The reply")
    checkin, rel = await _visible_checkin(session, actor, checkin_id)
    if not may_reply_to_checkin(actor, rel):
        raise Forbidden("Only the person's managers can reply to their check-in.")
    if checkin.submitted_at is None:
        raise Invalid("This check-in isn't submitted yet: reply once it is.")
    if seen_after is not None and await _already_commented(session, actor, checkin_id, body, seen_after):
        return None
    comment = CheckInComment(checkin_id=checkin_id, author_id=actor.person_id, text=body, at=now)
    session.add(comment)
    await session.flush()
    return CommentView(
        comment.id, checkin_id, checkin.person_id, actor.display_name, body, now, checkin.week_start
    )


async def reply_to_checkins(
    session: AsyncSession,
    *,
    actor: Actor,
    week: date,
    comments: Mapping[int, str],
    resolved: Sequence[int],
    seen_comment: int,
    now: datetime,
) -> ReplyOutcome:
    """A manager's Reply on the digest: comments on some check-ins and talking points resolved, all or
    nothing; returns the new comments (to notify their people) and the digest refreshed."""
    if not any((text or "").strip() for text in comments.values()) and not resolved:
        raise Invalid("Write a reply to a check-in or tick a talking point, then press Reply.")
    async with session.begin_nested():
        written = []
        for checkin_id, text in comments.items():
            if (text or "").strip():
                comment = await comment_on_checkin(
                    session, actor=actor, checkin_id=checkin_id, text=text, now=now, seen_after=seen_comment
                )
                if comment is not None:
                    written.append(comment)
        count = await resolve_talking_points(session, actor=actor, point_ids=resolved, now=now)
    return ReplyOutcome(tuple(written), count, await digest(session, actor=actor, week=week))


async def digest(session: AsyncSession, *, actor: Actor, week: date) -> DigestView:
    """The actor's direct reports' check-ins for the week starting on `week` (a Monday), and who hasn't."""
    monday = week_start(week)
    reports = dict(
        (
            await session.execute(
                select(Person.id, Person.display_name).where(
                    Person.manager_id == actor.person_id, Person.active.is_(True)
                )
            )
        ).all()
    )
    rows = list(
        (
            await session.scalars(
                select(CheckIn).where(CheckIn.manager_id == actor.person_id, CheckIn.week_start == monday)
            )
        ).all()
    )
    relations = await _relations(session, actor, {*reports, *(c.person_id for c in rows)})
    rows = [c for c in rows if may_view_checkin(actor, relations[c.person_id])]
    submitted = [c for c in rows if c.submitted_at is not None]
    views = await _views(session, submitted)
    done = {c.person_id for c in submitted}
    names = {**reports, **await display_names(session, {c.person_id for c in rows})}
    waiting = sorted(names[pid] for pid in {*reports, *(c.person_id for c in rows)} - done if pid in names)
    return DigestView(
        manager_id=actor.person_id,
        manager_name=actor.display_name,
        week_start=monday,
        checkins=tuple(sorted(views, key=lambda v: v.person_name)),
        waiting=tuple(waiting),
        has_reports=bool(reports or rows),
        seen_comment=max((c.id for v in views for c in v.comments), default=0),
    )


# --- the check-in day ------------------------------------------------------------------------------


async def set_checkin_day(
    session: AsyncSession, *, actor: Actor, weekday: int | None, now: datetime, default_zone: ZoneInfo
) -> CheckInDayView:
    """Choose the weekday (0 = Monday) the check-in card comes on, or None to pause the cards."""
    if weekday is not None and (isinstance(weekday, bool) or weekday not in range(7)):
        raise Invalid("A check-in day is a weekday from Monday to Sunday.")
    current, _paused, _chosen = await _preference(session, actor.person_id)
    values = {
        "person_id": actor.person_id,
        "weekday": current if weekday is None else weekday,
        "paused": weekday is None,
        "updated_at": now,
    }
    insert = pg_insert if is_postgres(session) else sqlite_insert
    # An upsert: two clicks on Save at once must not fail on the primary key.
    await session.execute(
        insert(CheckInPreference)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["person_id"], set_={k: v for k, v in values.items() if k != "person_id"}
        )
    )
    return await checkin_day(session, actor=actor, now=now, default_zone=default_zone)


async def checkin_day(
    session: AsyncSession, *, actor: Actor, now: datetime, default_zone: ZoneInfo
) -> CheckInDayView:
    """The actor's check-in day, whether they chose it, when their next card comes and in which zone."""
    weekday, paused, chosen = await _preference(session, actor.person_id)
    own = _own_zone(await _zone_name(session, actor.person_id))
    zone = own or default_zone
    today = now.astimezone(zone).date()
    return CheckInDayView(
        weekday=weekday,
        paused=paused,
        chosen=chosen,
        next_card_on=None if paused else await _next_card_on(session, actor.person_id, weekday, today),
        time_zone=zone.key,
        own_time_zone=own is not None,
    )


# --- planning and issuing (the scheduler's side) -----------------------------------------------------


async def plan_due(
    session: AsyncSession, *, now: datetime, default_zone: ZoneInfo, limit: int = PLAN_LIMIT
) -> CheckInPlan:
    """What is due to send now: cards, reminders and digests, up to `limit` of each. Reads only."""
    # Only zones where it is 09:00 or later matter this pass; elsewhere it is still night.
    awake = [c for c in await _zone_clocks(session, now, default_zone) if c.local.time() >= SEND_FROM]
    if not awake:
        return CheckInPlan()
    return CheckInPlan(
        cards=await _due_cards(session, awake, limit),
        reminders=await _due_reminders(session, awake, limit),
        digests=await _due_digests(session, awake, limit),
    )


async def issue_card(session: AsyncSession, *, due: DueCard, now: datetime) -> CheckInView | None:
    """Open and mark sent the person's check-in for the week; the form to send, or None when another
    pass sent it (or the person submitted) meanwhile."""
    try:
        actor = await load_actor(session, due.person_id)
    except NotFound:
        return None
    checkin_id = await _ensure_checkin(session, due.person_id, due.week_start, now)
    claimed = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin_id, CheckIn.sent_at.is_(None), CheckIn.submitted_at.is_(None))
        .values(sent_at=now, due_on=due.due_on, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await _form_view(session, actor, checkin_id, due.today)


async def issue_reminder(session: AsyncSession, *, due: DueReminder, now: datetime) -> CheckInView | None:
    """Mark the reminder sent (once); the form to send again, or None when it went or was submitted."""
    try:
        actor = await load_actor(session, due.person_id)
    except NotFound:
        return None
    claimed = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == due.checkin_id, CheckIn.reminded_at.is_(None), CheckIn.submitted_at.is_(None))
        .values(reminded_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await _form_view(session, actor, due.checkin_id, due.today)


async def issue_digest(session: AsyncSession, *, due: DueDigest, now: datetime) -> DigestView | None:
    """Mark the manager's digest for the week sent (once); the digest, or None when there is none to send."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    added = await session.execute(
        insert(CheckInDigest)
        .values(manager_id=due.manager_id, week_start=due.week_start, sent_at=now)
        .on_conflict_do_nothing(index_elements=["manager_id", "week_start"])
    )
    if added.rowcount != 1:  # type: ignore[attr-defined]
        return None
    try:
        manager = await load_actor(session, due.manager_id)
    except NotFound:
        return None
    view = await digest(session, actor=manager, week=due.week_start)
    return view if view.checkins else None


# --- time zones --------------------------------------------------------------------------------------


def person_zone(name: str | None, default_zone: ZoneInfo) -> ZoneInfo:
    """The zone a stored time zone name stands for, or the organization's when none is on file."""
    return _own_zone(name) or default_zone


def _own_zone(name: str | None) -> ZoneInfo | None:
    """The person's own zone; None when unset or unknown to zoneinfo (a typo must not stop their cards)."""
    if name is None or name.strip() in UNSET_TIME_ZONES:
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


async def _zone_name(session: AsyncSession, person_id: int) -> str | None:
    return await session.scalar(select(Person.time_zone).where(Person.id == person_id))


async def _local_now(
    session: AsyncSession, person_id: int, now: datetime, default_zone: ZoneInfo
) -> datetime:
    """`now` on the person's own clock."""
    return now.astimezone(person_zone(await _zone_name(session, person_id), default_zone))


@dataclass(frozen=True)
class _ZoneClock:
    """One time zone's clock for a planning pass, and the stored zone names that follow it."""

    names: tuple[str | None, ...]  # as stored in Person.time_zone; None for NULL
    local: datetime

    @property
    def today(self) -> date:
        return self.local.date()

    @property
    def monday(self) -> date:
        return week_start(self.today)

    @property
    def midnight(self) -> datetime:
        """The instant this zone's today began."""
        return datetime.combine(self.today, time(), tzinfo=self.local.tzinfo)


async def _zone_clocks(session: AsyncSession, now: datetime, default_zone: ZoneInfo) -> list[_ZoneClock]:
    """The clocks of the zones reachable people have: one row per stored name, a handful in practice."""
    names = await session.scalars(
        select(Person.time_zone)
        .join(ConversationRef, ConversationRef.person_id == Person.id)
        .where(Person.active.is_(True), ConversationRef.blocked_at.is_(None))
        .distinct()
    )
    by_zone: dict[str, list[str | None]] = {}
    zones: dict[str, ZoneInfo] = {}
    for name in names:
        zone = person_zone(name, default_zone)
        zones[zone.key] = zone
        by_zone.setdefault(zone.key, []).append(name)
    return [_ZoneClock(tuple(names), now.astimezone(zones[key])) for key, names in by_zone.items()]


def _in_zones(column: Any, clocks: Sequence[_ZoneClock]) -> Any:
    """The rows whose stored zone name is one of these clocks' (a name stored since is left to next pass)."""
    names = [name for c in clocks for name in c.names if name is not None]
    clause = column.in_(names)
    return or_(clause, column.is_(None)) if any(None in c.names for c in clocks) else clause


def _per_zone(
    column: Any, clocks: Sequence[_ZoneClock], value: Callable[[_ZoneClock], Any], type_: Any
) -> Any:
    """A CASE giving each row its zone's value, keyed on the stored zone name (NULL takes the default's)."""
    whens = {name: literal(value(c), type_) for c in clocks for name in c.names if name is not None}
    unset = next((literal(value(c), type_) for c in clocks if None in c.names), None)
    if not whens:
        return unset
    return case(whens, value=column, else_=unset)


def _clock_of(clocks: Sequence[_ZoneClock], name: str | None) -> _ZoneClock:
    return next(c for c in clocks if name in c.names)


# --- planning queries ------------------------------------------------------------------------------


def _reachable() -> Any:
    """Active people with a 1:1 chat they haven't blocked and check-ins not paused (for joins below)."""
    return and_(
        Person.active.is_(True),
        ConversationRef.blocked_at.is_(None),
        or_(CheckInPreference.person_id.is_(None), CheckInPreference.paused == false()),
    )


async def _due_cards(session: AsyncSession, clocks: Sequence[_ZoneClock], limit: int) -> tuple[DueCard, ...]:
    weekday = func.coalesce(CheckInPreference.weekday, DEFAULT_WEEKDAY)
    today = _per_zone(Person.time_zone, clocks, lambda c: c.today.weekday(), CheckInPreference.weekday.type)
    handled = exists().where(
        CheckIn.person_id == Person.id,
        CheckIn.week_start
        == _per_zone(Person.time_zone, clocks, lambda c: c.monday, CheckIn.week_start.type),
        or_(CheckIn.sent_at.is_not(None), CheckIn.submitted_at.is_not(None)),
    )
    rows = await session.execute(
        select(Person.id, weekday, Person.time_zone)
        .join(ConversationRef, ConversationRef.person_id == Person.id)
        .outerjoin(CheckInPreference, CheckInPreference.person_id == Person.id)
        .where(
            _reachable(),
            _in_zones(Person.time_zone, clocks),
            # Today in their zone, or up to LATE_CARD_DAYS after it within the same week.
            weekday.between(today - LATE_CARD_DAYS, today),
            ~handled,
        )
        .order_by(Person.id)
        .limit(limit)
    )
    due = []
    for pid, day, name in rows:
        clock = _clock_of(clocks, name)
        due.append(DueCard(pid, clock.monday, clock.monday + timedelta(days=day), clock.today))
    return tuple(due)


async def _due_reminders(
    session: AsyncSession, clocks: Sequence[_ZoneClock], limit: int
) -> tuple[DueReminder, ...]:
    zone = Person.time_zone
    today = _per_zone(zone, clocks, lambda c: c.today, CheckIn.due_on.type)
    rows = await session.execute(
        select(CheckIn.id, CheckIn.person_id, CheckIn.week_start, zone)
        .join(Person, Person.id == CheckIn.person_id)
        .join(ConversationRef, ConversationRef.person_id == Person.id)
        .outerjoin(CheckInPreference, CheckInPreference.person_id == Person.id)
        .where(
            _reachable(),
            _in_zones(zone, clocks),
            # Only the last two weeks can qualify anywhere; the index on week_start keeps this cheap.
            CheckIn.week_start >= min(c.monday for c in clocks) - timedelta(days=7),
            # The card went out before the person's today began: the reminder is for a later day.
            CheckIn.sent_at < _per_zone(zone, clocks, lambda c: c.midnight, CheckIn.sent_at.type),
            CheckIn.submitted_at.is_(None),
            CheckIn.reminded_at.is_(None),
            CheckIn.due_on < today,
            CheckIn.due_on
            >= _per_zone(
                zone, clocks, lambda c: c.today - timedelta(days=REMIND_WITHIN_DAYS), CheckIn.due_on.type
            ),
        )
        .order_by(CheckIn.id)
        .limit(limit)
    )
    return tuple(
        DueReminder(cid, pid, monday, _clock_of(clocks, name).today) for cid, pid, monday, name in rows
    )


async def _due_digests(
    session: AsyncSession, clocks: Sequence[_ZoneClock], limit: int
) -> tuple[DueDigest, ...]:
    # The week before the manager's own current one; reports' week_start dates name the same weeks.
    last_week = _per_zone(
        Person.time_zone, clocks, lambda c: c.monday - timedelta(days=7), CheckIn.week_start.type
    )
    sent = exists().where(
        CheckInDigest.manager_id == CheckIn.manager_id, CheckInDigest.week_start == CheckIn.week_start
    )
    rows = await session.execute(
        select(CheckIn.manager_id, CheckIn.week_start)
        .join(Person, Person.id == CheckIn.manager_id)
        .join(ConversationRef, ConversationRef.person_id == Person.id)
        .where(
            Person.active.is_(True),
            ConversationRef.blocked_at.is_(None),
            _in_zones(Person.time_zone, clocks),
            CheckIn.week_start == last_week,
            CheckIn.submitted_at.is_not(None),
            ~sent,
        )
        .distinct()
        .order_by(CheckIn.manager_id)
        .limit(limit)
    )
    return tuple(DueDigest(manager_id, week) for manager_id, week in rows)


# --- writing helpers -----------------------------------------------------------------------------------


async def _ensure_checkin(session: AsyncSession, person_id: int, monday: date, now: datetime) -> int:
    """The id of the person's check-in for the week, inserting it (race-safe) when missing."""
    found = await _checkin_id(session, person_id, monday)
    if found is not None:
        return found
    manager_id = await session.scalar(select(Person.manager_id).where(Person.id == person_id))
    weekday, _paused, _chosen = await _preference(session, person_id)
    insert = pg_insert if is_postgres(session) else sqlite_insert
    await session.execute(
        insert(CheckIn)
        .values(
            person_id=person_id,
            manager_id=manager_id,
            week_start=monday,
            due_on=monday + timedelta(days=weekday),
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["person_id", "week_start"])
    )
    found = await _checkin_id(session, person_id, monday)
    assert found is not None  # inserted now, or by the transaction that won the race
    return found


async def _checkin_id(session: AsyncSession, person_id: int, monday: date) -> int | None:
    return await session.scalar(
        select(CheckIn.id).where(CheckIn.person_id == person_id, CheckIn.week_start == monday)
    )


async def _claim_submit(
    session: AsyncSession, checkin: CheckIn, answers: CheckInAnswers, now: datetime
) -> None:
    # Compare-and-set: of two submits racing, one changes the row; the other finds it submitted.
    claimed = await session.execute(
        update(CheckIn)
        .where(CheckIn.id == checkin.id, CheckIn.submitted_at.is_(None))
        .values(
            submitted_at=now,
            mood=answers.mood,
            wins=answers.wins,
            blockers=answers.blockers,
            priorities=answers.priorities,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _AlreadySubmitted
    await session.refresh(checkin)


async def _apply_key_results(
    session: AsyncSession,
    actor: Actor,
    checkin: CheckIn,
    answers: CheckInAnswers,
    rows: Mapping[int, KeyResult],
    now: datetime,
) -> list[KeyResultChange]:
    changes = []
    note = f"Weekly check-in, {week_label(checkin.week_start)}"
    for entry in answers.key_results:
        kr = rows[entry.key_result_id]
        old = kr.current
        if entry.value == old:
            continue  # unchanged: no history row, and no conflict if someone else moved it meanwhile
        await goals.update_key_result(
            session,
            actor=actor,
            key_result_id=kr.id,
            value=entry.value,
            expected_version=entry.expected_version,
            now=now,
            comment=note,
        )
        changes.append(KeyResultChange(kr.title, kr.unit, old, entry.value))
    return changes


async def _own_key_results(
    session: AsyncSession, actor: Actor, answers: CheckInAnswers
) -> dict[int, KeyResult]:
    """The key results the answers move, refused unless each is on one of the actor's own open goals."""
    wanted = [entry.key_result_id for entry in answers.key_results]
    if not wanted:
        return {}
    rows = {
        kr.id: kr
        for kr in (
            await session.scalars(
                select(KeyResult)
                .join(Goal, Goal.id == KeyResult.goal_id)
                .where(
                    KeyResult.id.in_(wanted),
                    Goal.owner_person_id == actor.person_id,
                    Goal.closed_at.is_(None),
                )
            )
        ).all()
    }
    if set(wanted) - set(rows):
        raise Forbidden("A key result on this card isn't on one of your open goals.")
    return rows


async def _own_open_points(session: AsyncSession, person_id: int, ids: Iterable[int]) -> list[TalkingPoint]:
    """Talking points of the person's own check-ins, refused when any is someone else's."""
    wanted = set(ids)
    if not wanted:
        return []
    points = list(
        (
            await session.scalars(
                select(TalkingPoint).where(TalkingPoint.id.in_(wanted), TalkingPoint.person_id == person_id)
            )
        ).all()
    )
    if len(points) != len(wanted):
        raise NotFound("That talking point does not exist.")
    return points


async def _visible_points(session: AsyncSession, actor: Actor, ids: Iterable[int]) -> list[TalkingPoint]:
    wanted = set(ids)
    if not wanted:
        return []
    points = list((await session.scalars(select(TalkingPoint).where(TalkingPoint.id.in_(wanted)))).all())
    relations = await _relations(session, actor, {p.person_id for p in points})
    visible = [p for p in points if may_view_checkin(actor, relations[p.person_id])]
    if len(visible) != len(wanted):
        # The same answer for "no such point" and "a point you may not see": existence is not leaked.
        raise NotFound("That talking point does not exist.")
    return visible


async def _resolve(session: AsyncSession, actor: Actor, points: Sequence[TalkingPoint], now: datetime) -> int:
    if not points:
        return 0
    resolved = await session.execute(
        update(TalkingPoint)
        .where(TalkingPoint.id.in_([p.id for p in points]), TalkingPoint.resolved_at.is_(None))
        .values(resolved_at=now, resolved_by_id=actor.person_id)
        .execution_options(synchronize_session=False)
    )
    return resolved.rowcount  # type: ignore[attr-defined,no-any-return]


def _raise_point(
    session: AsyncSession, actor: Actor, checkin: CheckIn, text: str, now: datetime
) -> TalkingPoint:
    point = TalkingPoint(
        person_id=checkin.person_id,
        checkin_id=checkin.id,
        text=text,
        raised_by_id=actor.person_id,
        raised_at=now,
    )
    session.add(point)
    return point


async def _already_commented(
    session: AsyncSession, actor: Actor, checkin_id: int, text: str, seen_after: int
) -> bool:
    found = await session.scalar(
        select(CheckInComment.id).where(
            CheckInComment.checkin_id == checkin_id,
            CheckInComment.author_id == actor.person_id,
            CheckInComment.text == text,
            CheckInComment.id > seen_after,
        )
    )
    return found is not None


def _validated(answers: CheckInAnswers) -> CheckInAnswers:
    """The answers with text trimmed, or Invalid naming what to fix (the card checks the same)."""
    if isinstance(answers.mood, bool) or answers.mood not in range(1, 6):
        raise Invalid("Choose how your week was, from 1 (rough) to 5 (great).")
    seen = set()
    for entry in answers.key_results:
        if entry.key_result_id in seen:
            raise Invalid("The card sent one key result twice. Please start again from a fresh card.")
        seen.add(entry.key_result_id)
    return replace(
        answers,
        wins=optional_text(answers.wins, ANSWER_MAX, "Wins"),
        blockers=optional_text(answers.blockers, ANSWER_MAX, "Blockers"),
        priorities=optional_text(answers.priorities, ANSWER_MAX, "Priorities for next week"),
        new_talking_point=optional_text(answers.new_talking_point, TALKING_POINT_MAX, "The talking point"),
    )


def _change_json(change: KeyResultChange) -> dict[str, Any]:
    return {"title": change.title, "unit": change.unit, "old": change.old, "new": change.new}


# --- reading -----------------------------------------------------------------------------------------


async def _preference(session: AsyncSession, person_id: int) -> tuple[int, bool, bool]:
    """(weekday, paused, chosen) for the person; the default day when they never chose one."""
    pref = await session.get(CheckInPreference, person_id)
    if pref is None:
        return DEFAULT_WEEKDAY, False, False
    return pref.weekday, pref.paused, True


async def _next_card_on(session: AsyncSession, person_id: int, weekday: int, today: date) -> date:
    """The day the next card goes out, by the same rule as plan_due."""
    monday = week_start(today)
    handled = await session.scalar(
        select(CheckIn.id).where(
            CheckIn.person_id == person_id,
            CheckIn.week_start == monday,
            or_(CheckIn.sent_at.is_not(None), CheckIn.submitted_at.is_not(None)),
        )
    )
    this_week = monday + timedelta(days=weekday)
    if handled is None and today - timedelta(days=LATE_CARD_DAYS) <= this_week:
        return max(this_week, today)
    return this_week + timedelta(days=7)


async def _visible_checkin(session: AsyncSession, actor: Actor, checkin_id: int) -> tuple[CheckIn, Relation]:
    checkin = await session.get(CheckIn, checkin_id, populate_existing=True)
    if checkin is None:
        raise NotFound("That check-in does not exist.")
    rel = (await _relations(session, actor, {checkin.person_id}))[checkin.person_id]
    if not may_view_checkin(actor, rel):
        # The same answer as for a check-in that doesn't exist: ids are guessable, existence is private.
        raise NotFound("That check-in does not exist.")
    return checkin, rel


async def _relations(session: AsyncSession, actor: Actor, person_ids: Iterable[int]) -> dict[int, Relation]:
    ids = set(person_ids)
    if not ids:
        return {}
    departments = dict(
        (await session.execute(select(Person.id, Person.department).where(Person.id.in_(ids)))).all()
    )
    return await relations_to(session, actor, departments)


async def _views(session: AsyncSession, checkins: Sequence[CheckIn]) -> list[CheckInView]:
    """Views of the check-ins with their open talking points and replies: four queries however many."""
    if not checkins:
        return []
    people = {c.person_id for c in checkins}
    points = (
        await session.scalars(
            select(TalkingPoint)
            .where(TalkingPoint.person_id.in_(people), TalkingPoint.resolved_at.is_(None))
            .order_by(TalkingPoint.raised_at, TalkingPoint.id)
        )
    ).all()
    comments = (
        await session.scalars(
            select(CheckInComment)
            .where(CheckInComment.checkin_id.in_([c.id for c in checkins]))
            .order_by(CheckInComment.id)
        )
    ).all()
    names = await display_names(
        session, {*people, *(p.raised_by_id for p in points), *(c.author_id for c in comments)}
    )
    by_id = {c.id: c for c in checkins}
    open_points: dict[int, list[TalkingPointView]] = {}
    for p in points:
        open_points.setdefault(p.person_id, []).append(
            TalkingPointView(p.id, p.text, names.get(p.raised_by_id or 0, ""), p.raised_at.date())
        )
    replies: dict[int, list[CommentView]] = {}
    for c in comments:
        owner = by_id[c.checkin_id]
        replies.setdefault(c.checkin_id, []).append(
            CommentView(
                c.id,
                c.checkin_id,
                owner.person_id,
                names.get(c.author_id or 0, ""),
                c.text,
                c.at,
                owner.week_start,
            )
        )
    return [
        CheckInView(
            id=c.id,
            person_id=c.person_id,
            person_name=names.get(c.person_id, ""),
            week_start=c.week_start,
            due_on=c.due_on,
            submitted_at=c.submitted_at,
            mood=c.mood,
            wins=c.wins,
            blockers=c.blockers,
            priorities=c.priorities,
            changes=tuple(
                KeyResultChange(ch["title"], ch.get("unit"), ch["old"], ch["new"])
                for ch in c.key_result_changes or ()
            ),
            open_points=tuple(open_points.get(c.person_id, ())),
            comments=tuple(replies.get(c.id, ())),
        )
        for c in checkins
    ]


async def _form_view(session: AsyncSession, actor: Actor, checkin_id: int, today: date) -> CheckInView:
    """The check-in as the person's form shows it: plus their active goals' key results and last week's
    priorities."""
    checkin = await session.get(CheckIn, checkin_id, populate_existing=True)
    assert checkin is not None
    view = (await _views(session, [checkin]))[0]
    previous = await session.scalar(
        select(CheckIn.priorities).where(
            CheckIn.person_id == checkin.person_id,
            CheckIn.week_start == checkin.week_start - timedelta(days=7),
            CheckIn.submitted_at.is_not(None),
        )
    )
    lines = _active_key_results(await goals.my_goals(session, actor=actor, today=today), actor, today)
    return replace(view, key_results=tuple(lines), previous_priorities=previous)


def _active_key_results(trees: Iterable[GoalView], actor: Actor, today: date) -> list[KeyResultLine]:
    """Key results of the actor's own open goals whose period has begun and not ended."""
    lines: list[KeyResultLine] = []
    pending = list(trees)
    while pending:
        goal = pending.pop(0)
        pending[:0] = goal.children
        active = goal.closed_at is None and goal.period.start <= today <= goal.period.end
        if goal.owner_person_id != actor.person_id or not active:
            continue
        lines += [
            KeyResultLine(kr.id, goal.title, kr.title, kr.metric, kr.unit, kr.current, kr.target, kr.version)
            for kr in goal.key_results
        ]
    return lines

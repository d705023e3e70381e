"""Review-cycle nudges: who is told about what, why, and when it may reach them. Pure rules, no store:
review_chat_reads loads what they read (review_reads.due_items, people, conversations, the outbox keys
already used) and bot/review_nudges sends what they decide.

- One nudge per person, cycle and phase: a manager with five reviews to write gets one card listing them.
  Its topic, "review:<cycle>:<phase>", is what nudges.one_per_day_key counts, so there is at most one
  such nudge per person, phase and local day, whoever asks (the scheduler, HR's "nudge now").
- Why a nudge goes (each on the person's own calendar):
  * opened: from the day the phase opened until OPEN_GRACE_DAYS after the first working day the person
    could be told, while no nudge about the phase went yet (a phase opened on Saturday is told on
    Monday; a server down that day, or a phase opened at 17:59, is caught up the next days);
  * due soon: DUE_SOON_DAYS before the deadline, or the working day before that when it is a day off
    (a Monday deadline is announced on the Friday before);
  * overdue: every working day after the deadline (the deadline is the phase's last day);
  * requested: HR pressed "nudge now" for the cycle.
  Between these a person who has time left hears nothing.
- Escalation: an item ESCALATE_AFTER_DAYS or more days overdue is also told to the person's manager:
  one card per manager, cycle and phase per day ("review:<cycle>:<phase>:escalation").
- Improvement plans: improvement_plans.due_checkpoints' checkpoints go to the manager, one per
  checkpoint per day.
- When: only in the recipient's working hours, on their clock (nudges.nudge_time). The scheduler skips a
  nudge outside them (its next pass in working hours decides again); "nudge now" queues it for the
  recipient's next opening instead, under that day's key.
- Nobody is queued a nudge they could not get: people without a chat with the bot yet (`NO_CHAT`) and
  people who blocked it (`BLOCKED`) are reported, not queued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from domain.nudges import DEFAULT_HOURS, NudgeTime, WorkingHours, nudge_time, one_per_day_key
from domain.performance.improvement_plan_views import DueCheckpoint
from domain.performance.review_views import DueItem, DueWhat, Phase, ReviewStatus

DUE_SOON_DAYS = 2
ESCALATE_AFTER_DAYS = 3
OPEN_GRACE_DAYS = 3

# Outbox kinds: the HR dashboard reads a cycle's nudge history from these (payload "cycle_id").
KIND_NUDGE = "review.nudge"
KIND_ESCALATION = "review.escalation"
KIND_CHECKPOINT = "pip.checkpoint"


class Why(StrEnum):
    OPENED = "opened"
    DUE_SOON = "due soon"
    OVERDUE = "overdue"
    REQUESTED = "nudged by HR"
    NOMINATED = "nominated as a peer"
    ESCALATION = "escalation"
    CHECKPOINT = "checkpoint"


class Delivery(StrEnum):
    """What becomes of a planned nudge."""

    NOW = "now"  # queued for right away
    LATER = "later"  # outside the recipient's working hours: at `when.at`
    SENT_TODAY = "already nudged today"  # the day's key is used (one per day)
    NO_CHAT = "no chat with Trellis yet"  # never opened the app: nothing to send to
    BLOCKED = "blocked Trellis"  # Teams answered 403: they blocked or removed the app


class Reach(StrEnum):
    CHAT = "chat"
    NO_CHAT = "no_chat"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Recipient:
    """Someone a nudge may go to, or be about."""

    person_id: int
    name: str
    time_zone: str | None
    manager_id: int | None  # active managers only
    reach: Reach = Reach.NO_CHAT


@dataclass(frozen=True)
class NudgeItem:
    """One thing due, as a nudge card lists it."""

    what: DueWhat
    person_id: int  # who has to do it
    person_name: str
    review_id: int | None  # None for an acknowledgement
    reviewee_id: int
    reviewee_name: str
    status: ReviewStatus | None  # of the review (None for an acknowledgement)
    days_overdue: int = 0


@dataclass(frozen=True)
class ReviewNudge:
    """A nudge about one cycle phase to one person (or, escalated, to their manager)."""

    kind: str  # KIND_NUDGE or KIND_ESCALATION
    person_id: int  # the recipient
    person_name: str
    cycle_id: int
    cycle_name: str
    phase: Phase
    deadline: date | None
    reasons: tuple[Why, ...]
    items: tuple[NudgeItem, ...]
    when: NudgeTime
    key: str
    delivery: Delivery

    @property
    def days_overdue(self) -> int:
        return max((i.days_overdue for i in self.items), default=0)

    @property
    def escalation(self) -> bool:
        return self.kind == KIND_ESCALATION


@dataclass(frozen=True)
class CheckpointNudge:
    """A reminder to a manager of an improvement plan's checkpoint."""

    manager_id: int
    manager_name: str
    employee_id: int
    employee_name: str
    plan_id: int
    checkpoint_id: int
    due_on: date
    overdue: bool
    when: NudgeTime
    key: str
    delivery: Delivery


@dataclass(frozen=True)
class NudgePlan:
    """Everything one pass would do, and why."""

    now: datetime
    reviews: tuple[ReviewNudge, ...]
    checkpoints: tuple[CheckpointNudge, ...] = ()

    def count(self, delivery: Delivery) -> int:
        return sum(1 for n in (*self.reviews, *self.checkpoints) if n.delivery is delivery)

    def people(self, delivery: Delivery) -> tuple[int, ...]:
        """Recipients of nudges planned with this delivery (e.g. NO_CHAT: whom to install the app for)."""
        found = {n.person_id for n in self.reviews if n.delivery is delivery}
        found |= {n.manager_id for n in self.checkpoints if n.delivery is delivery}
        return tuple(sorted(found))


@dataclass(frozen=True)
class Requested:
    """Someone asked for nudges now, whatever the day: HR for a cycle, or a nomination for new peers."""

    cycle_id: int
    why: Why = Why.REQUESTED
    people: frozenset[int] | None = None  # None: everyone with something pending in the cycle

    def covers(self, cycle_id: int, person_id: int) -> bool:
        return cycle_id == self.cycle_id and (self.people is None or person_id in self.people)


@dataclass(frozen=True)
class ReviewFacts:
    """What the plan reads besides the due items: people, cycle names, review statuses."""

    people: Mapping[int, Recipient]
    cycle_names: Mapping[int, str]
    statuses: Mapping[int, ReviewStatus]  # review id → status


def topic(cycle_id: int, phase: Phase | str, *, escalation: bool = False) -> str:
    """What a review nudge is about, for one_per_day_key."""
    return f"review:{cycle_id}:{phase}" + (":escalation" if escalation else "")


def opening_days(
    opened_at: datetime | None, time_zone: str | None, default_zone: ZoneInfo, hours: WorkingHours
) -> tuple[date, date] | None:
    """The person's date when the phase opened, and the date of the first moment it could be told to
    them (the same day in working hours; a phase opened on Saturday is told on Monday)."""
    if opened_at is None:
        return None
    first = nudge_time(opened_at, time_zone=time_zone, default_zone=default_zone, hours=hours)
    return opened_at.astimezone(first.zone).date(), first.local_date


def due_soon_day(deadline: date, hours: WorkingHours = DEFAULT_HOURS) -> date:
    """The day "due soon" is said: DUE_SOON_DAYS before the deadline, or the working day before that when
    it falls on a day off (a Monday deadline is announced on the Friday before)."""
    day = deadline - timedelta(days=DUE_SOON_DAYS)
    while day.weekday() not in hours.days:
        day -= timedelta(days=1)
    return day


# --- planning ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    person_id: int
    cycle_id: int
    phase: Phase
    deadline: date | None
    opened_at: datetime | None
    items: tuple[DueItem, ...]


def _groups(items: Iterable[DueItem]) -> list[_Group]:
    by_key: dict[tuple[int, int, Phase], list[DueItem]] = defaultdict(list)
    for item in items:
        by_key[(item.person_id, item.cycle_id, item.phase)].append(item)
    return [
        _Group(pid, cid, phase, found[0].deadline, found[0].phase_opened_at, tuple(found))
        for (pid, cid, phase), found in by_key.items()
    ]


class _Calendar:
    """The time arithmetic of one plan, per time zone: a cycle of 50,000 people has a handful of zones."""

    def __init__(self, now: datetime, default_zone: ZoneInfo, hours: WorkingHours) -> None:
        self.now, self.default_zone, self.hours = now, default_zone, hours
        self._when: dict[str | None, NudgeTime] = {}
        self._today: dict[str | None, date] = {}
        self._opened: dict[tuple[datetime, str | None], tuple[date, date]] = {}

    def when(self, time_zone: str | None) -> NudgeTime:
        """When a nudge to someone in this zone may go (nudges.nudge_time)."""
        found = self._when.get(time_zone)
        if found is None:
            found = self._when[time_zone] = nudge_time(
                self.now, time_zone=time_zone, default_zone=self.default_zone, hours=self.hours
            )
        return found

    def today(self, time_zone: str | None) -> date:
        found = self._today.get(time_zone)
        if found is None:
            found = self._today[time_zone] = self.now.astimezone(self.when(time_zone).zone).date()
        return found

    def opened(self, opened_at: datetime | None, time_zone: str | None) -> tuple[date, date] | None:
        if opened_at is None:
            return None
        found = self._opened.get((opened_at, time_zone))
        if found is None:
            found = opening_days(opened_at, time_zone, self.default_zone, self.hours)
            assert found is not None
            self._opened[(opened_at, time_zone)] = found
        return found

    def opening_keys(self, group: _Group, time_zone: str | None, subject: str) -> list[str] | None:
        """The keys of the days the opening could have been told on before today; None when the opening
        is not (or no longer) something to tell."""
        opened = self.opened(group.opened_at, time_zone)
        today = self.today(time_zone)
        if opened is None or not opened[0] <= today <= opened[1] + timedelta(days=OPEN_GRACE_DAYS):
            return None
        first = opened[1]
        return [
            one_per_day_key(group.person_id, subject, first + timedelta(days=n))
            for n in range((today - first).days)
        ]


def keys_to_check(
    items: Sequence[DueItem],
    people: Mapping[int, Recipient],
    *,
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
) -> set[str]:
    """The outbox keys the plan needs to know about: each group's key today (and at its next opening),
    the keys of the days since its phase opened (was the opening told?), and the escalations' keys."""
    calendar = _Calendar(now, default_zone, hours)
    keys: set[str] = set()
    for group in _groups(items):
        person = people.get(group.person_id)
        zone = person.time_zone if person else None
        subject = topic(group.cycle_id, group.phase)
        keys.add(one_per_day_key(group.person_id, subject, calendar.today(zone)))
        keys.add(calendar.when(zone).key(group.person_id, subject))
        keys.update(calendar.opening_keys(group, zone, subject) or ())
        manager = people.get(person.manager_id) if person and person.manager_id else None
        if manager is not None:
            escalated = topic(group.cycle_id, group.phase, escalation=True)
            keys.add(calendar.when(manager.time_zone).key(manager.person_id, escalated))
    return keys


def plan_reviews(
    items: Sequence[DueItem],
    facts: ReviewFacts,
    *,
    sent: frozenset[str] | set[str],
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
    requested: Requested | None = None,
) -> tuple[ReviewNudge, ...]:
    """The review nudges and escalations due at `now`. `sent` holds the outbox keys already used (of those
    keys_to_check named); `requested`: nudges someone asked for now, whatever the day."""
    calendar = _Calendar(now, default_zone, hours)
    nudges: list[ReviewNudge] = []
    escalations: dict[tuple[int, int, Phase], list[tuple[_Group, NudgeItem]]] = defaultdict(list)
    for group in _groups(items):
        person = facts.people.get(group.person_id)
        if person is None:
            continue
        today = calendar.today(person.time_zone)
        reasons = _reasons(group, person, calendar, sent)
        if requested is not None and requested.covers(group.cycle_id, group.person_id):
            reasons = (*reasons, requested.why)
        overdue = (today - group.deadline).days if group.deadline and today > group.deadline else 0
        listed = tuple(_item(i, facts, overdue) for i in group.items)
        if reasons:
            nudges.append(_nudge(KIND_NUDGE, person, group, reasons, listed, facts, sent, calendar))
        if overdue >= ESCALATE_AFTER_DAYS and person.manager_id in facts.people:
            for item in listed:
                escalations[(person.manager_id, group.cycle_id, group.phase)].append((group, item))
    for (manager_id, _cycle_id, _phase), found in sorted(escalations.items()):
        items_of = tuple(sorted((item for _, item in found), key=lambda i: (i.person_name, i.person_id)))
        nudges.append(
            _nudge(
                KIND_ESCALATION,
                facts.people[manager_id],
                found[0][0],
                (Why.ESCALATION,),
                items_of,
                facts,
                sent,
                calendar,
            )
        )
    return tuple(
        sorted(nudges, key=lambda n: (n.person_name, n.person_id, n.cycle_id, n.phase.value, n.kind))
    )


def _reasons(
    group: _Group, person: Recipient, calendar: _Calendar, sent: frozenset[str] | set[str]
) -> tuple[Why, ...]:
    reasons: list[Why] = []
    today = calendar.today(person.time_zone)
    earlier = calendar.opening_keys(group, person.time_zone, topic(group.cycle_id, group.phase))
    if earlier is not None and not any(key in sent for key in earlier):
        reasons.append(Why.OPENED)
    if group.deadline is not None:
        if today == due_soon_day(group.deadline, calendar.hours):
            reasons.append(Why.DUE_SOON)
        if today > group.deadline:
            reasons.append(Why.OVERDUE)
    return tuple(reasons)


def _item(item: DueItem, facts: ReviewFacts, overdue: int) -> NudgeItem:
    person = facts.people.get(item.person_id)
    reviewee = facts.people.get(item.reviewee_id)
    return NudgeItem(
        what=item.what,
        person_id=item.person_id,
        person_name=person.name if person else "",
        review_id=item.review_id,
        reviewee_id=item.reviewee_id,
        reviewee_name=reviewee.name if reviewee else "",
        status=facts.statuses.get(item.review_id) if item.review_id is not None else None,
        days_overdue=overdue,
    )


def _nudge(
    kind: str,
    recipient: Recipient,
    group: _Group,
    reasons: tuple[Why, ...],
    items: tuple[NudgeItem, ...],
    facts: ReviewFacts,
    sent: frozenset[str] | set[str],
    calendar: _Calendar,
) -> ReviewNudge:
    when = calendar.when(recipient.time_zone)
    escalated = kind == KIND_ESCALATION
    key = when.key(recipient.person_id, topic(group.cycle_id, group.phase, escalation=escalated))
    return ReviewNudge(
        kind=kind,
        person_id=recipient.person_id,
        person_name=recipient.name,
        cycle_id=group.cycle_id,
        cycle_name=facts.cycle_names.get(group.cycle_id, ""),
        phase=group.phase,
        deadline=group.deadline,
        reasons=reasons,
        items=items,
        when=when,
        key=key,
        delivery=_delivery(recipient, when, key, sent),
    )


def _delivery(recipient: Recipient, when: NudgeTime, key: str, sent: frozenset[str] | set[str]) -> Delivery:
    if recipient.reach is Reach.NO_CHAT:
        return Delivery.NO_CHAT
    if recipient.reach is Reach.BLOCKED:
        return Delivery.BLOCKED
    if key in sent:
        return Delivery.SENT_TODAY
    return Delivery.NOW if when.now else Delivery.LATER


def plan_checkpoints(
    due: Sequence[DueCheckpoint],
    people: Mapping[int, Recipient],
    *,
    sent: frozenset[str] | set[str],
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
) -> tuple[CheckpointNudge, ...]:
    """Reminders of improvement plan checkpoints to the managers, in their working hours."""
    calendar = _Calendar(now, default_zone, hours)
    planned = []
    for checkpoint in due:
        manager = people.get(checkpoint.manager_id)
        if manager is None:
            continue
        employee = people.get(checkpoint.employee_id)
        when = calendar.when(manager.time_zone)
        key = when.key(manager.person_id, checkpoint.topic)
        planned.append(
            CheckpointNudge(
                manager_id=manager.person_id,
                manager_name=manager.name,
                employee_id=checkpoint.employee_id,
                employee_name=employee.name if employee else "",
                plan_id=checkpoint.plan_id,
                checkpoint_id=checkpoint.checkpoint_id,
                due_on=checkpoint.due_on,
                overdue=checkpoint.overdue,
                when=when,
                key=key,
                delivery=_delivery(manager, when, key, sent),
            )
        )
    return tuple(planned)


def checkpoint_keys(
    due: Sequence[DueCheckpoint],
    people: Mapping[int, Recipient],
    *,
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
) -> set[str]:
    """The outbox keys plan_checkpoints will look up."""
    calendar = _Calendar(now, default_zone, hours)
    keys = set()
    for checkpoint in due:
        manager = people.get(checkpoint.manager_id)
        keys.add(
            calendar.when(manager.time_zone if manager else None).key(checkpoint.manager_id, checkpoint.topic)
        )
    return keys

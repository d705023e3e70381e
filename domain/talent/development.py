"""Individual development plans: actions that close competency gaps or serve goals, their progress, the
development goals they can become, and the reminders of actions coming due.

A person has one plan, created with its first action. An action is training, mentoring, a stretch
assignment, a course or a project, due on a day, linked to a competency (with a target level) and/or to
one of the person's goals. The person, their manager line and HR see and write the plan
(access.may_view_development / may_edit_development); anyone else is refused. "Close this gap"
(close_gap) adds an action on a competency where the person's latest assessed level is below what their
current role expects, aiming at that level. A talent review or a released review names itself as the
source; from the competency or development page no source is given and it is derived from the evidence:
'review' when the person's latest assessment of that competency came from a released review, else
'manual' (their line assessed it, or the person asked).

Progress is marked with compare-and-set on the action's version: the card or form sends the version it
showed. The same values again (a double click) write nothing and come back as already saved; other values
on an old version are someone else's change: ActionChanged, carrying the action as it is now. Done sets
progress to 100 and the completion time; cancelled keeps the progress reached; a planned action with
progress becomes in progress.

An action can become a *development* goal in the goals module (make_goal): private, owned by the person,
for the quarter it is due in, with one percent key result that follows the action's progress from then on.

Reminders: due_reminders lists the open actions that need one today (UTC): the first when the action
comes within REMIND_WITHIN_DAYS days of its due date, one on the day it is due, then one a week while it
is overdue, for OVERDUE_REMINDER_DAYS at most (a reminder every day would teach people to ignore them);
reminder_plan adds who can be reached and when (their working hours, nudges.py),
and the one-per-day outbox key per person and action; the bot claims what it sends with mark_reminded
in the transaction that queues it.

Services flush but never commit; nothing is written on a refusal (everything is checked first).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.access import (
    Actor,
    Relation,
    may_edit_development,
    may_view_development,
    relation_to,
)
from domain.clock import system_clock
from domain.competencies import current_role_profiles
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.nudges import DEFAULT_HOURS, WorkingHours, nudge_time
from domain.performance import goals
from domain.performance.goal_progress import Metric, Period
from domain.performance.goal_views import GoalView, KeyResultInput, Kind, Owner, Visibility
from domain.performance.review_chat_reads import recipients, used_keys
from domain.performance.review_nudges import Delivery, Reach, Recipient
from domain.talent.development_views import (
    DESCRIPTION_MAX,
    DUE_MAX_DAYS,
    KIND_LABELS,
    NOTE_MAX,
    OPEN_STATUSES,
    OVERDUE_EVERY_DAYS,
    OVERDUE_REMINDER_DAYS,
    PLAN_SOURCES,
    REMIND_WITHIN_DAYS,
    STATUS_LABELS,
    TITLE_MAX,
    ActionKind,
    ActionOptions,
    ActionSource,
    ActionStatus,
    ActionView,
    CompetencyLink,
    CompetencyOption,
    DueAction,
    GoalLink,
    GoalOption,
    PlanCounts,
    PlanView,
    ReminderNudge,
    TeamMemberPlan,
)
from domain.text import checked_client_id, optional_text
from storage.models import (
    Competency,
    CompetencyAssessment,
    DevelopmentAction,
    DevelopmentPlan,
    Goal,
    KeyResult,
    Person,
    RoleRequirement,
)

ACTION_NOT_FOUND = "That development action does not exist."
FORM_USED = "That form was already used. Please start again from a fresh form."
PROGRESS_WORDS = "Progress is a whole number of percent from 0 to 100."
# The goal a development action became carries this request id: make_goal finds it again by it.
_GOAL_REQUEST = "development-action:{}"


class ActionChanged(Conflict):
    """Someone changed the action since the card or form showed it; `latest` is the action as it is now."""

    def __init__(self, message: str, latest: ActionView) -> None:
        super().__init__(message)
        self.latest = latest


class InvalidInput(Invalid):
    """Bad input to one parameter, named as the service names it, so a form can show the sentence next to
    its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class _Checked:
    """An action's validated fields, not yet written."""

    kind: ActionKind
    title: str
    description: str | None
    due_on: date
    source: ActionSource
    competency_id: int | None
    target_level: int | None
    goal_id: int | None


# --- reading ---------------------------------------------------------------------------------------------


async def get_plan(
    session: AsyncSession, *, actor: Actor, person_id: int, today: date | None = None
) -> PlanView:
    """Someone's development plan as the actor may see it (the person, their line, HR): every action with
    its competency gap and goal; an empty view when there is no plan yet. `today` decides what is overdue
    (default: today in UTC)."""
    today = today or system_clock().date()
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    if not may_view_development(actor, rel):
        raise Forbidden(f"You don't have access to {person.display_name}'s development plan.")
    plan = await session.scalar(
        select(DevelopmentPlan)
        .options(selectinload(DevelopmentPlan.actions))
        .where(DevelopmentPlan.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    rows = list(plan.actions) if plan is not None else []
    views = await _views(session, actor, person_id, rows, today)
    ordered = sorted(views, key=lambda a: (not a.open, a.due_on if a.open else date.max, a.id))
    return PlanView(
        person_id=person_id,
        person_name=person.display_name,
        plan_id=plan.id if plan is not None else None,
        source=plan.source if plan is not None else None,
        actions=tuple(ordered),
        counts=PlanCounts(
            total=len(views),
            open=sum(1 for a in views if a.open),
            done=sum(1 for a in views if a.status is ActionStatus.DONE),
            cancelled=sum(1 for a in views if a.status is ActionStatus.CANCELLED),
            overdue=sum(1 for a in views if a.overdue),
        ),
        is_self=rel.is_self,
        can_edit=may_edit_development(actor, rel),
    )


async def get_action(session: AsyncSession, *, actor: Actor, action_id: int, today: date) -> ActionView:
    """One action, for whoever may see its plan."""
    action, person, _rel = await _visible(session, actor, action_id)
    return (await _views(session, actor, person.id, [action], today))[0]


async def action_options(
    session: AsyncSession, *, actor: Actor, person_id: int, today: date | None = None
) -> ActionOptions:
    """What an action of this person's may link to: the framework's active competencies, and the person's
    open goals (as the goals module shows them to the actor)."""
    today = today or system_clock().date()
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    if not may_edit_development(actor, rel):
        raise Forbidden(
            f"Only {person.display_name}, their manager line and HR can add to their development plan."
        )
    competencies = await session.execute(
        select(Competency.id, Competency.name, Competency.category, Competency.levels)
        .where(Competency.active.is_(True))
        .order_by(Competency.category, Competency.name_key)
    )
    found: list[GoalOption] = []
    stack = list(await goals.goals_of(session, actor=actor, person_id=person_id, today=today))
    while stack:
        goal = stack.pop(0)
        stack.extend(goal.children)
        if (
            goal.owner_person_id == person_id
            and goal.closed_at is None
            and goal.id not in {g.id for g in found}
        ):
            found.append(GoalOption(goal.id, goal.title, goal.period.label, goal.kind))
    return ActionOptions(
        competencies=tuple(
            CompetencyOption(cid, name, category, len(levels or ()))
            for cid, name, category, levels in competencies
        ),
        goals=tuple(found),
    )


async def team_plans(
    session: AsyncSession, *, actor: Actor, today: date | None = None
) -> tuple[TeamMemberPlan, ...]:
    """The actor's direct reports with their plans at a glance (open and overdue actions, progress), by
    name: their manager may see each plan (may_view_development)."""
    today = today or system_clock().date()
    reports = (
        await session.execute(
            select(Person.id, Person.display_name)
            .where(Person.manager_id == actor.person_id, Person.active.is_(True))
            .order_by(Person.display_name, Person.id)
        )
    ).all()
    if not reports:
        return ()
    actions: dict[int, list[tuple[str, int, date]]] = {pid: [] for pid, _ in reports}
    rows = await session.execute(
        select(
            DevelopmentPlan.person_id,
            DevelopmentAction.status,
            DevelopmentAction.progress,
            DevelopmentAction.due_on,
        )
        .join(DevelopmentAction, DevelopmentAction.plan_id == DevelopmentPlan.id)
        .where(DevelopmentPlan.person_id.in_(list(actions)))
    )
    for pid, status, progress, due_on in rows:
        actions[pid].append((status, progress, due_on))
    summaries = []
    for pid, name in reports:
        mine = actions[pid]
        open_ones = [a for a in mine if ActionStatus(a[0]) in OPEN_STATUSES]
        counted = [a[1] for a in mine if a[0] != ActionStatus.CANCELLED.value]
        summaries.append(
            TeamMemberPlan(
                person_id=pid,
                name=name,
                open=len(open_ones),
                overdue=sum(1 for a in open_ones if a[2] < today),
                progress=round(sum(counted) / len(counted)) if counted else None,
            )
        )
    return tuple(summaries)


# --- writing ---------------------------------------------------------------------------------------------


async def add_action(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: int,
    kind: ActionKind | str,
    title: str,
    due_on: date | None,
    now: datetime,
    description: str | None = None,
    competency_id: int | None = None,
    target_level: int | None = None,
    goal_id: int | None = None,
    source: ActionSource | str = ActionSource.MANUAL,
    request_id: str | None = None,
) -> ActionView:
    """Add an action to someone's plan (the person, their line, HR), creating the plan on first use. The
    same request_id again returns the action it made, unwritten (already_saved)."""
    client_id = checked_client_id(request_id)
    today = _today(now)
    if client_id is not None and (repeat := await _repeat(session, actor, client_id, person_id, today)):
        return repeat
    person = await _active_person(session, person_id)
    await _editing(session, actor, person)
    checked = await _checked(
        session,
        person,
        kind=kind,
        title=title,
        description=description,
        due_on=due_on,
        source=source,
        competency_id=competency_id,
        target_level=target_level,
        goal_id=goal_id,
        today=today,
    )
    return await _insert(session, actor, person, checked, client_id, now)


async def close_gap(
    session: AsyncSession,
    *,
    actor: Actor,
    person_id: int,
    competency_id: int,
    due_on: date | None,
    now: datetime,
    source: ActionSource | str | None = None,
    kind: ActionKind | str = ActionKind.TRAINING,
    title: str | None = None,
    description: str | None = None,
    goal_id: int | None = None,
    request_id: str | None = None,
) -> ActionView:
    """Close a competency gap ("close this gap"): an action on a competency where the person's latest
    assessed level is below what their current role expects, aiming at that level (the title defaults to
    "Reach level N in <competency>"). `source` None derives it: review when that latest assessment came
    from a released review, else manual. Refused when there is no gap, or when an open action already
    works on it."""
    client_id = checked_client_id(request_id)
    today = _today(now)
    if client_id is not None and (repeat := await _repeat(session, actor, client_id, person_id, today)):
        return repeat
    person = await _active_person(session, person_id)
    await _editing(session, actor, person)
    chosen = None if source is None else _source(source)
    competency = await _competency(session, competency_id)
    expected = await _expected_levels(session, person.id, [competency.id])
    if competency.id not in expected:
        raise Invalid(
            f"{person.display_name}'s current role doesn't expect “{competency.name}”: there is no gap "
            "to close."
        )
    aim = expected[competency.id]
    assessed = await _latest_assessment(session, person.id, competency.id)
    if assessed is None:
        raise Invalid(
            f"{person.display_name} has no assessed level on “{competency.name}” yet: assess it first, then "
            "close the gap."
        )
    level, assessed_from = assessed
    if level >= aim:
        raise Invalid(
            f"{person.display_name} is at level {level} on “{competency.name}”, and their role expects "
            f"{aim}: there is no gap to close."
        )
    if chosen is None:
        chosen = ActionSource.REVIEW if assessed_from == "review" else ActionSource.MANUAL
    already = await session.scalar(
        select(DevelopmentAction.title)
        .join(DevelopmentPlan, DevelopmentPlan.id == DevelopmentAction.plan_id)
        .where(
            DevelopmentPlan.person_id == person.id,
            DevelopmentAction.competency_id == competency.id,
            DevelopmentAction.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .limit(1)
    )
    if already is not None:
        raise Conflict(f"An open action already works on “{competency.name}”: “{already}”.")
    checked = await _checked(
        session,
        person,
        kind=kind,
        title=title if title is not None else f"Reach level {aim} in {competency.name}"[:TITLE_MAX],
        description=description,
        due_on=due_on,
        source=chosen,
        competency_id=competency.id,
        target_level=aim,
        goal_id=goal_id,
        today=today,
    )
    return await _insert(session, actor, person, checked, client_id, now)


async def update_progress(
    session: AsyncSession,
    *,
    actor: Actor,
    action_id: int,
    status: ActionStatus | str,
    progress: int | str,
    version: int,
    now: datetime,
    note: str | None = None,
) -> ActionView:
    """Mark an action's status and progress (0-100), with a note (None keeps the note as it is), on the
    version the card or form showed. The same values again: unwritten, already_saved; other values on an
    old version: ActionChanged with the latest."""
    action, person, _rel = await _editable(session, actor, action_id)
    today = _today(now)
    chosen = _status(status)
    amount = _progress(progress)
    text = action.note if note is None else _text(note, NOTE_MAX, "The note", "note")
    new_status, new_progress = _normalized(chosen, amount, action.progress)
    wanted = (new_status.value, new_progress, text)
    if (action.status, action.progress, action.note) == wanted:
        view = (await _views(session, actor, person.id, [action], today))[0]
        return replace(view, already_saved=True)
    if action.version != version:
        raise await _changed(session, actor, person.id, action, today)
    if new_status is ActionStatus.DONE:
        completed = action.completed_at if action.status == ActionStatus.DONE.value else now
    else:
        completed = None
    claimed = await session.execute(
        update(DevelopmentAction)
        .where(DevelopmentAction.id == action.id, DevelopmentAction.version == version)
        .values(
            status=new_status.value,
            progress=new_progress,
            note=text,
            completed_at=completed,
            updated_at=now,
            version=version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    action = await _load(session, action.id)
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        # A concurrent save won the race: the same values are this one's twin, others a change.
        if (action.status, action.progress, action.note) == wanted:
            view = (await _views(session, actor, person.id, [action], today))[0]
            return replace(view, already_saved=True)
        raise await _changed(session, actor, person.id, action, today)
    await _mirror_to_goal(session, actor, action, now)
    return (await _views(session, actor, person.id, [action], today))[0]


async def make_goal(session: AsyncSession, *, actor: Actor, action_id: int, now: datetime) -> GoalView:
    """Turn an action into a private *development* goal of the person, for the quarter it is due in, with
    one percent key result at the action's progress; the action links to it. Again: the same goal."""
    action, person, _rel = await _editable(session, actor, action_id)
    today = _today(now)
    request = _GOAL_REQUEST.format(action.id)
    if action.goal_id is not None:
        linked = await session.get(Goal, action.goal_id)
        if linked is not None and linked.request_id == request:
            return await goals.get_goal(session, actor=actor, goal_id=linked.id, today=today)
        title = linked.title if linked is not None else "another goal"
        raise Invalid(f"This action is already linked to the goal “{title}”: it can't become a second one.")
    made = await session.scalar(select(Goal.id).where(Goal.request_id == request))
    if made is None:
        if action.status == ActionStatus.CANCELLED.value:
            raise Invalid("This action was cancelled: reopen it before making it a goal.")
        try:
            view = await goals.create_goal(
                session,
                actor=actor,
                owner=Owner.person(person.id),
                title=action.title,
                description=action.description,
                period=_quarter_of(action.due_on),
                visibility=Visibility.PRIVATE,
                kind=Kind.DEVELOPMENT,
                key_results=[
                    KeyResultInput(
                        f"{KIND_LABELS[ActionKind(action.kind)]} progress",
                        target=100,
                        start=0,
                        metric=Metric.PERCENT,
                        unit="%",
                        current=action.progress,
                    )
                ],
                request_id=request,
                now=now,
            )
        except IntegrityError:
            # Someone else's click made it meanwhile (create_goal finds only the actor's own requests).
            made = await session.scalar(select(Goal.id).where(Goal.request_id == request))
            if made is None:
                raise
        else:
            made = view.id
    await session.execute(
        update(DevelopmentAction)
        .where(DevelopmentAction.id == action.id, DevelopmentAction.goal_id.is_(None))
        .values(goal_id=made, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return await goals.get_goal(session, actor=actor, goal_id=made, today=today)


# --- reminders (the nudge engine's side: acts for no one; sending is the bot's job) -------------------------


async def due_reminders(
    session: AsyncSession, *, today: date, within_days: int = REMIND_WITHIN_DAYS
) -> tuple[DueAction, ...]:
    """Open actions (planned, in progress) of active people that need a reminder `today`: the first once
    due within `within_days` days, one on the due day, then weekly while overdue (for
    OVERDUE_REMINDER_DAYS); soonest due first. One query, on the (status, due_on) index."""
    if within_days < 0:
        raise ValueError("within_days is a number of days ahead, 0 or more")
    a, plan = DevelopmentAction, DevelopmentPlan
    needs_one = or_(
        a.reminded_on.is_(None),
        and_(a.due_on <= today, a.reminded_on < a.due_on),
        and_(a.due_on < today, a.reminded_on <= today - timedelta(days=OVERDUE_EVERY_DAYS)),
    )
    rows = await session.execute(
        select(a.id, plan.person_id, a.title, a.kind, a.due_on, a.status, a.progress, a.note, a.version)
        .join(plan, plan.id == a.plan_id)
        .join(Person, and_(Person.id == plan.person_id, Person.active.is_(True)))
        .where(
            a.status.in_([s.value for s in OPEN_STATUSES]),
            a.due_on <= today + timedelta(days=within_days),
            a.due_on >= today - timedelta(days=OVERDUE_REMINDER_DAYS),
            needs_one,
        )
        .order_by(a.due_on, a.id)
    )
    return tuple(
        DueAction(
            action_id=r.id,
            person_id=r.person_id,
            title=r.title,
            kind=ActionKind(r.kind),
            due_on=r.due_on,
            status=ActionStatus(r.status),
            progress=r.progress,
            note=r.note,
            version=r.version,
            overdue=r.due_on < today,
        )
        for r in rows
    )


async def mark_reminded(session: AsyncSession, *, action_ids: Iterable[int], today: date) -> tuple[int, ...]:
    """Claim actions for `today`'s reminder; returns those this call claimed, sorted (a concurrent pass, or
    a second one today, gets none)."""
    ids = sorted(set(action_ids))
    if not ids:
        return ()
    a = DevelopmentAction
    claimed = await session.execute(
        update(a)
        .where(a.id.in_(ids), or_(a.reminded_on.is_(None), a.reminded_on < today))
        .values(reminded_on=today)
        .returning(a.id)
        .execution_options(synchronize_session=False)
    )
    return tuple(sorted(claimed.scalars()))


def plan_reminders(
    due: Sequence[DueAction],
    people: Mapping[int, Recipient],
    *,
    sent: Collection[str],
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
) -> tuple[ReminderNudge, ...]:
    """Each due action's reminder to its person: in their working hours (on their clock), under the
    one-per-day outbox key of the person and action; `sent` holds the keys already used. Pure."""
    planned = []
    for action in due:
        person = people.get(action.person_id)
        if person is None:
            continue
        when = nudge_time(now, time_zone=person.time_zone, default_zone=default_zone, hours=hours)
        key = when.key(person.person_id, action.topic)
        planned.append(
            ReminderNudge(action, person.name, when, key, _delivery(person.reach, when.now, key, sent))
        )
    return tuple(planned)


async def reminder_plan(
    session: AsyncSession,
    *,
    now: datetime,
    default_zone: ZoneInfo,
    hours: WorkingHours = DEFAULT_HOURS,
    within_days: int = REMIND_WITHIN_DAYS,
) -> tuple[ReminderNudge, ...]:
    """The reminders a pass at `now` would send, to whom and when (writes nothing)."""
    due = await due_reminders(session, today=_today(now), within_days=within_days)
    if not due:
        return ()
    people = await recipients(session, {d.person_id for d in due})
    keys = {
        nudge_time(now, time_zone=p.time_zone, default_zone=default_zone, hours=hours).key(
            p.person_id, d.topic
        )
        for d in due
        if (p := people.get(d.person_id)) is not None
    }
    sent = await used_keys(session, keys)
    return plan_reminders(due, people, sent=sent, now=now, default_zone=default_zone, hours=hours)


def _delivery(reach: Reach, may_go_now: bool, key: str, sent: Collection[str]) -> Delivery:
    if reach is Reach.NO_CHAT:
        return Delivery.NO_CHAT
    if reach is Reach.BLOCKED:
        return Delivery.BLOCKED
    if key in sent:
        return Delivery.SENT_TODAY
    return Delivery.NOW if may_go_now else Delivery.LATER


# --- validation ------------------------------------------------------------------------------------------


async def _checked(
    session: AsyncSession,
    person: Person,
    *,
    kind: ActionKind | str,
    title: str | None,
    description: str | None,
    due_on: date | None,
    source: ActionSource | str,
    competency_id: int | None,
    target_level: int | None,
    goal_id: int | None,
    today: date,
) -> _Checked:
    """An action's fields checked in the order the form shows them; InvalidInput (naming the parameter)
    before anything is written."""
    chosen_kind = _kind(kind)
    clean_title = _text(title, TITLE_MAX, "The title", "title")
    if clean_title is None:
        raise InvalidInput("title", "Give the action a title: what will be done?")
    clean_description = _text(description, DESCRIPTION_MAX, "The description", "description")
    due = _due(due_on, today)
    chosen_source = _source(source)
    level: int | None = None
    if target_level is not None:
        if competency_id is None:
            raise InvalidInput(
                "competency_id", "A target level needs a competency: choose the competency it is about."
            )
        level = _whole(target_level, "The target level", field="target_level")
    if competency_id is not None:
        competency = await _competency(session, competency_id)
        if level is not None and not 1 <= level <= len(competency.levels):
            raise InvalidInput(
                "target_level",
                f"“{competency.name}” has levels 1 to {len(competency.levels)}: choose a target level "
                "among them.",
            )
    if goal_id is not None:
        goal = await session.get(Goal, goal_id)
        if goal is None or goal.owner_type != "person" or goal.owner_person_id != person.id:
            raise InvalidInput(
                "goal_id", f"That goal isn't one of {person.display_name}'s goals: link one of theirs."
            )
        if goal.closed_at is not None:
            raise InvalidInput("goal_id", f"The goal “{goal.title}” is closed: link an open goal.")
    return _Checked(
        kind=chosen_kind,
        title=clean_title,
        description=clean_description,
        due_on=due,
        source=chosen_source,
        competency_id=competency_id,
        target_level=level,
        goal_id=goal_id,
    )


def _kind(value: ActionKind | str) -> ActionKind:
    try:
        return ActionKind(value)
    except ValueError:
        names = ", ".join(label.lower() for label in KIND_LABELS.values())
        raise InvalidInput("kind", f"Choose what kind of action this is: {names}.") from None


def _status(value: ActionStatus | str) -> ActionStatus:
    try:
        return ActionStatus(value)
    except ValueError:
        names = ", ".join(label.lower() for label in STATUS_LABELS.values())
        raise InvalidInput("status", f"Choose the action's status: {names}.") from None


def _source(value: ActionSource | str) -> ActionSource:
    try:
        return ActionSource(value)
    except ValueError:
        raise InvalidInput(
            "source", "A development action comes from a person, a released review or a talent review."
        ) from None


def _due(value: date | None, today: date) -> date:
    if value is None:
        raise InvalidInput("due_on", "Choose the day the action is due.")
    if value < today:
        raise InvalidInput(
            "due_on", f"The due date ({_day(value)}) is in the past: choose today or a later day."
        )
    limit = today + timedelta(days=DUE_MAX_DAYS)
    if value > limit:
        raise InvalidInput(
            "due_on", f"The due date is more than five years away: choose a day on or before {_day(limit)}."
        )
    return value


def _progress(value: int | str) -> int:
    amount = _whole(value, "Progress", field="progress", words=PROGRESS_WORDS)
    if not 0 <= amount <= 100:
        raise InvalidInput("progress", f"{PROGRESS_WORDS} ({amount} isn't.)")
    return amount


def _whole(value: object, what: str, *, field: str, words: str | None = None) -> int:
    """A whole number from a caller or a form; InvalidInput otherwise."""
    refused = InvalidInput(field, words or f"{what} must be a whole number.")
    if isinstance(value, bool):
        raise refused
    if isinstance(value, int):
        return value
    text = str(value).strip() if isinstance(value, str | float) else ""
    try:
        number = float(text)
    except ValueError:
        raise refused from None
    if not number.is_integer() or len(text) > 12:
        raise refused
    return int(number)


def _text(value: str | None, limit: int, what: str, field: str) -> str | None:
    try:
        return optional_text(value, limit, what)
    except Invalid as invalid:
        raise InvalidInput(field, invalid.message) from None


def _normalized(chosen: ActionStatus, progress: int, stored_progress: int) -> tuple[ActionStatus, int]:
    """What a status and progress save as: done is 100 %, cancelled keeps the progress reached, and a
    planned action with progress is under way."""
    if chosen is ActionStatus.DONE:
        return chosen, 100
    if chosen is ActionStatus.CANCELLED:
        return chosen, stored_progress
    if chosen is ActionStatus.PLANNED and progress > 0:
        return ActionStatus.IN_PROGRESS, progress
    return chosen, progress


# --- helpers ---------------------------------------------------------------------------------------------

_ACTION: Select[tuple[DevelopmentAction]] = select(DevelopmentAction).execution_options(
    populate_existing=True
)


async def _load(session: AsyncSession, action_id: int) -> DevelopmentAction:
    action = await session.scalar(_ACTION.where(DevelopmentAction.id == action_id))
    if action is None:
        raise NotFound(ACTION_NOT_FOUND)
    return action


async def _visible(
    session: AsyncSession, actor: Actor, action_id: int
) -> tuple[DevelopmentAction, Person, Relation]:
    """The action, its person and the actor's relation to them; NotFound for whoever may not see it (the
    action's existence is as private as the plan)."""
    action = await session.scalar(_ACTION.where(DevelopmentAction.id == action_id))
    if action is None:
        raise NotFound(ACTION_NOT_FOUND)
    person_id = await session.scalar(
        select(DevelopmentPlan.person_id).where(DevelopmentPlan.id == action.plan_id)
    )
    assert person_id is not None  # actions cascade away with their plan
    person = await _person(session, person_id)
    rel = await relation_to(session, actor, person_id)
    if not may_view_development(actor, rel):
        raise NotFound(ACTION_NOT_FOUND)
    return action, person, rel


async def _editable(
    session: AsyncSession, actor: Actor, action_id: int
) -> tuple[DevelopmentAction, Person, Relation]:
    action, person, rel = await _visible(session, actor, action_id)
    if not may_edit_development(actor, rel):
        raise Forbidden(f"Only {person.display_name}, their manager line and HR can change this plan.")
    return action, person, rel


async def _editing(session: AsyncSession, actor: Actor, person: Person) -> Relation:
    rel = await relation_to(session, actor, person.id)
    if not may_edit_development(actor, rel):
        raise Forbidden(
            f"Only {person.display_name}, their manager line and HR can add to their development plan."
        )
    return rel


async def _insert(
    session: AsyncSession,
    actor: Actor,
    person: Person,
    checked: _Checked,
    client_id: str | None,
    now: datetime,
) -> ActionView:
    plan_id = await _plan_for(session, actor, person.id, checked.source, now)
    action = DevelopmentAction(
        plan_id=plan_id,
        kind=checked.kind.value,
        title=checked.title,
        description=checked.description,
        competency_id=checked.competency_id,
        target_level=checked.target_level,
        goal_id=checked.goal_id,
        due_on=checked.due_on,
        status=ActionStatus.PLANNED.value,
        progress=0,
        source=checked.source.value,
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
        version=1,
        client_request_id=client_id,
    )
    try:
        async with session.begin_nested():
            session.add(action)
            await session.flush()
    except IntegrityError:
        # The same form won a race in another transaction (a double submit).
        today = _today(now)
        if client_id is not None and (repeat := await _repeat(session, actor, client_id, person.id, today)):
            return repeat
        raise
    return (await _views(session, actor, person.id, [await _load(session, action.id)], _today(now)))[0]


async def _plan_for(
    session: AsyncSession, actor: Actor, person_id: int, source: ActionSource, now: datetime
) -> int:
    """The person's plan id, created (with where it came from) on first use, however racing."""
    found = await session.scalar(select(DevelopmentPlan.id).where(DevelopmentPlan.person_id == person_id))
    if found is not None:
        await session.execute(
            update(DevelopmentPlan)
            .where(DevelopmentPlan.id == found)
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return found
    plan = DevelopmentPlan(
        person_id=person_id,
        source=PLAN_SOURCES[source],
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(plan)
            await session.flush()
    except IntegrityError:
        found = await session.scalar(select(DevelopmentPlan.id).where(DevelopmentPlan.person_id == person_id))
        if found is None:
            raise
        return found
    return plan.id


async def _repeat(
    session: AsyncSession, actor: Actor, client_id: str, person_id: int, today: date
) -> ActionView | None:
    """A second submit of the form that made an action: that action, marked already saved."""
    found = await session.execute(
        select(DevelopmentAction.id, DevelopmentAction.created_by_id, DevelopmentPlan.person_id)
        .join(DevelopmentPlan, DevelopmentPlan.id == DevelopmentAction.plan_id)
        .where(DevelopmentAction.client_request_id == client_id)
    )
    row = found.first()
    if row is None:
        return None
    if row.created_by_id != actor.person_id or row.person_id != person_id:
        raise Conflict(FORM_USED)
    try:
        action, person, _rel = await _visible(session, actor, row.id)
    except NotFound:
        raise Conflict(FORM_USED) from None  # they added it, but have left the person's line since
    return replace((await _views(session, actor, person.id, [action], today))[0], already_saved=True)


async def _changed(
    session: AsyncSession, actor: Actor, person_id: int, action: DevelopmentAction, today: date
) -> ActionChanged:
    latest = (await _views(session, actor, person_id, [action], today))[0]
    return ActionChanged(
        f"“{latest.title}” was changed meanwhile: it is now {latest.status_label.lower()} at "
        f"{latest.progress} %. Check it and save again.",
        latest,
    )


async def _mirror_to_goal(
    session: AsyncSession, actor: Actor, action: DevelopmentAction, now: datetime
) -> None:
    """Move the key result of the goal this action became (make_goal) to the action's progress."""
    if action.goal_id is None:
        return
    goal = await session.get(Goal, action.goal_id)
    if goal is None or goal.request_id != _GOAL_REQUEST.format(action.id) or goal.closed_at is not None:
        return
    results = (
        await session.scalars(
            select(KeyResult).where(KeyResult.goal_id == goal.id).execution_options(populate_existing=True)
        )
    ).all()
    if len(results) != 1:
        return  # reshaped on the goals page since: leave it to its owner
    kr = results[0]
    if (kr.metric, kr.start, kr.target) != (Metric.PERCENT.value, 0, 100) or kr.current == action.progress:
        return
    await goals.update_key_result(
        session,
        actor=actor,
        key_result_id=kr.id,
        value=action.progress,
        expected_version=kr.version,
        now=now,
        comment="Progress marked on the development plan.",
    )


async def _views(
    session: AsyncSession, actor: Actor, person_id: int, rows: Sequence[DevelopmentAction], today: date
) -> list[ActionView]:
    """Actions as views, with their competency gaps and goals (a few queries for all of them)."""
    competency_ids = sorted({r.competency_id for r in rows if r.competency_id is not None})
    competencies: dict[int, tuple[str, tuple[str, ...]]] = {}
    assessed: dict[int, tuple[int, date]] = {}
    expected: dict[int, int] = {}
    if competency_ids:
        found = await session.execute(
            select(Competency.id, Competency.name, Competency.levels).where(Competency.id.in_(competency_ids))
        )
        competencies = {cid: (name, tuple(str(x) for x in levels or ())) for cid, name, levels in found}
        assessed = await _latest_assessments(session, person_id, competency_ids)
        expected = await _expected_levels(session, person_id, competency_ids)
    linked = await _goal_links(session, actor, rows, today)
    views = []
    for r in rows:
        competency = None
        if r.competency_id is not None and r.competency_id in competencies:
            name, levels = competencies[r.competency_id]
            level, on = assessed.get(r.competency_id, (None, None))
            competency = CompetencyLink(
                id=r.competency_id,
                name=name,
                levels=levels,
                assessed_level=level,
                assessed_on=on,
                target_level=r.target_level,
                expected_level=expected.get(r.competency_id),
            )
        status = ActionStatus(r.status)
        views.append(
            ActionView(
                id=r.id,
                plan_id=r.plan_id,
                person_id=person_id,
                kind=ActionKind(r.kind),
                title=r.title,
                description=r.description,
                due_on=r.due_on,
                status=status,
                progress=r.progress,
                note=r.note,
                source=ActionSource(r.source),
                overdue=status in OPEN_STATUSES and r.due_on < today,
                competency=competency,
                goal=linked.get(r.goal_id) if r.goal_id is not None else None,
                version=r.version,
                created_at=r.created_at,
                completed_at=r.completed_at,
            )
        )
    return views


async def _goal_links(
    session: AsyncSession, actor: Actor, rows: Sequence[DevelopmentAction], today: date
) -> dict[int, GoalLink]:
    """The linked goals as the goals module shows them (its own progress and status)."""
    made_by = {r.goal_id: r.id for r in rows if r.goal_id is not None}
    if not made_by:
        return {}
    requests = dict(
        (await session.execute(select(Goal.id, Goal.request_id).where(Goal.id.in_(made_by)))).all()
    )
    links = {}
    for goal_id, action_id in made_by.items():
        try:
            goal = await goals.get_goal(session, actor=actor, goal_id=goal_id, today=today)
        except (NotFound, Forbidden):
            continue  # deleted meanwhile, or out of the actor's sight: show the action without it
        links[goal_id] = GoalLink(
            id=goal.id,
            title=goal.title,
            kind=goal.kind,
            period_label=goal.period.label,
            progress=goal.progress,
            status=goal.status,
            made_from_action=requests.get(goal_id) == _GOAL_REQUEST.format(action_id),
        )
    return links


async def _latest_assessments(
    session: AsyncSession, person_id: int, competency_ids: Collection[int]
) -> dict[int, tuple[int, date]]:
    """The person's latest assessed level (and its day) per competency."""
    ca = CompetencyAssessment
    rows = await session.execute(
        select(ca.competency_id, ca.level, ca.assessed_on)
        .where(ca.person_id == person_id, ca.competency_id.in_(list(competency_ids)))
        .order_by(ca.competency_id, ca.assessed_on.desc(), ca.id.desc())
    )
    latest: dict[int, tuple[int, date]] = {}
    for cid, level, on in rows:
        latest.setdefault(cid, (level, on))
    return latest


async def _latest_assessment(
    session: AsyncSession, person_id: int, competency_id: int
) -> tuple[int, str] | None:
    """The person's latest assessed level on a competency and where it came from (review | manager)."""
    ca = CompetencyAssessment
    row = (
        await session.execute(
            select(ca.level, ca.source)
            .where(ca.person_id == person_id, ca.competency_id == competency_id)
            .order_by(ca.assessed_on.desc(), ca.id.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else (row.level, row.source)


async def _expected_levels(
    session: AsyncSession, person_id: int, competency_ids: Collection[int]
) -> dict[int, int]:
    """What the person's current role profile expects of these competencies."""
    profile = (await current_role_profiles(session, [person_id])).get(person_id)
    if profile is None:
        return {}
    rows = await session.execute(
        select(RoleRequirement.competency_id, RoleRequirement.expected_level).where(
            RoleRequirement.role_profile_id == profile,
            RoleRequirement.competency_id.in_(list(competency_ids)),
        )
    )
    return dict(rows.all())


async def _competency(session: AsyncSession, competency_id: int) -> Competency:
    competency = await session.get(Competency, competency_id)
    if competency is None:
        raise InvalidInput(
            "competency_id", "That competency is not in the framework: choose one from the list."
        )
    if not competency.active:
        raise InvalidInput(
            "competency_id", f"“{competency.name}” was retired from the framework: choose another competency."
        )
    return competency


async def _person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound("That person is not in the directory.")
    return person


async def _active_person(session: AsyncSession, person_id: int) -> Person:
    person = await _person(session, person_id)
    if not person.active:
        raise NotFound("That person is not in the directory.")
    return person


def _quarter_of(day: date) -> Period:
    return Period.of(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def _today(now: datetime) -> date:
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(UTC).date()


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"

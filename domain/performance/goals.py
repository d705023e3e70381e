"""Goals and key results: set, align, update, close, and assign from templates.

Every service checks access (domain/access.py), flushes but never commits, and returns views, not rows.
Progress rolls up in Python over whole subtrees loaded in a handful of queries (goal_progress.rollup),
so a tree costs the same few queries however deep or wide it is.

Double-click on Update: a key result carries a version; the card sends the version it showed. The second
click of a double click arrives with the old version. If the update that moved the key result past that
version was this actor's, to this same value, the second click is recognised as a repeat and returns the
current view without writing (one KeyResultUpdate). Anything else on an old version is someone else's
change: Conflict (KeyResultChanged) carrying the latest view, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, case, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from domain.access import (
    Actor,
    Relation,
    Role,
    manager_chain,
    may_edit_goal,
    may_view_goal,
    relations_to,
    require,
)
from domain.errors import Conflict, Forbidden, Invalid, NotFound
from domain.performance.goal_progress import (
    GoalNode,
    Metric,
    Period,
    goal_status,
    key_result_progress,
    node_progress,
    number,
    rollup,
    validate_key_result,
    validate_title,
    validate_value,
    validate_weight,
)
from domain.performance.goal_views import (
    COMPANY_LABEL,
    AssignmentReport,
    GoalView,
    KeyResultInput,
    KeyResultView,
    Kind,
    Owner,
    OwnerType,
    TemplateView,
    Visibility,
)
from domain.text import optional_text
from storage.engine import is_postgres
from storage.models import (
    Goal,
    GoalTemplate,
    KeyResult,
    KeyResultTemplate,
    KeyResultUpdate,
    Person,
)

DESCRIPTION_MAX = 4000
COMMENT_MAX = 2000
UNIT_MAX = 32


class KeyResultChanged(Conflict):
    """Someone updated the key result since the card or form showed it; `latest` is the goal as it is now."""

    def __init__(self, message: str, latest: GoalView) -> None:
        super().__init__(message)
        self.latest = latest


# --- services ----------------------------------------------------------------------------------------


async def create_goal(
    session: AsyncSession,
    *,
    actor: Actor,
    title: str,
    period: Period | str,
    now: datetime,
    owner: Owner | None = None,
    description: str | None = None,
    visibility: Visibility | str = Visibility.TEAM,
    kind: Kind | str = Kind.BUSINESS,
    parent_id: int | None = None,
    weight: float = 1.0,
    key_results: Sequence[KeyResultInput] = (),
    request_id: str | None = None,
) -> GoalView:
    """Set a goal for oneself, a report, a team or the company, with its key results.

    `request_id` names the card or form that asked: the same request again returns the goal it created."""
    if request_id is not None and (done := await _created_by_request(session, actor, request_id)):
        return await _view_one(session, actor, done, now.date())
    owner = owner or Owner.person(actor.person_id)
    goal = Goal(
        title=validate_title(title, "goal"),
        description=_description(description),
        visibility=_choice(Visibility, visibility, "visibility"),
        kind=_choice(Kind, kind, "goal type"),
        weight=validate_weight(weight),
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    _set_period(goal, period)
    await _set_owner(session, actor, goal, owner)
    rows = [_key_result(kr, i, now) for i, kr in enumerate(key_results)]
    if parent_id is not None:
        await _check_parent(session, actor, parent_id)
        goal.parent_id = parent_id
    goal.key_results = rows
    goal.request_id = optional_text(request_id, 64, "The request id")
    try:
        async with session.begin_nested():
            session.add(goal)
            await session.flush()
    except IntegrityError:
        # The same request won a race in another transaction (a double submit): show its goal.
        if request_id is not None and (done := await _created_by_request(session, actor, request_id)):
            return await _view_one(session, actor, done, now.date())
        raise
    await _refresh_progress(session, [goal.id])
    return await _view_one(session, actor, goal.id, now.date())


async def align_goal(
    session: AsyncSession, *, actor: Actor, goal_id: int, parent_id: int | None, now: datetime
) -> GoalView:
    """Align a goal under another (or detach it with None); a goal can't align under its own descendant."""
    goal = await _editable_goal(session, actor, goal_id)
    if parent_id is not None:
        await _check_parent(session, actor, parent_id)
        if parent_id == goal_id or parent_id in await _descendant_ids(session, goal_id):
            raise Invalid("A goal can't align under itself or under one of the goals aligned to it.")
    old_parent_id = goal.parent_id
    goal.parent_id = parent_id
    goal.updated_at = now
    await session.flush()
    await _refresh_progress(session, [goal_id, old_parent_id])
    return await _view_one(session, actor, goal_id, now.date())


async def update_key_result(
    session: AsyncSession,
    *,
    actor: Actor,
    key_result_id: int,
    value: object,
    expected_version: int,
    now: datetime,
    comment: str | None = None,
    confidence: int | None = None,
) -> GoalView:
    """Record a new value for a key result (owner, their manager line or HR); returns its goal, rolled up."""
    kr = await session.get(KeyResult, key_result_id)
    if kr is None:
        raise NotFound("That key result does not exist.")
    goal = await _editable_goal(session, actor, kr.goal_id)
    if goal.closed_at is not None:
        raise Invalid("This goal is closed: its key results can't change any more.")
    new_value = validate_value(Metric(kr.metric), value, target=kr.target)
    note = optional_text(comment, COMMENT_MAX, "The comment")
    if confidence is not None:
        confidence = _confidence(confidence)

    old_value, version = kr.current, kr.version
    if version == expected_version:
        # Compare-and-set: a concurrent update that won the race leaves no row to change here.
        changed = await session.execute(
            update(KeyResult)
            .where(KeyResult.id == key_result_id, KeyResult.version == expected_version)
            .values(current=new_value, version=expected_version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            session.add(
                KeyResultUpdate(
                    key_result_id=key_result_id,
                    by_id=actor.person_id,
                    at=now,
                    old_value=old_value,
                    new_value=new_value,
                    comment=note,
                    confidence=confidence,
                    version=expected_version + 1,
                )
            )
            await session.flush()
            await session.refresh(kr)
            await _refresh_progress(session, [goal.id])
            return await _view_one(session, actor, goal.id, now.date())
        await session.refresh(kr)

    if await _is_repeat(session, actor, kr, expected_version, new_value):
        return await _view_one(session, actor, goal.id, now.date())
    latest = await _view_one(session, actor, goal.id, now.date())
    raise KeyResultChanged(
        f"“{kr.title}” was updated meanwhile (it is now {kr.current:g}): check it and try again.",
        latest,
    )


_UNCHANGED: Any = object()


async def edit_goal(
    session: AsyncSession,
    *,
    actor: Actor,
    goal_id: int,
    now: datetime,
    title: str | None = None,
    description: str | None = _UNCHANGED,
    period: Period | str | None = None,
    visibility: Visibility | str | None = None,
    kind: Kind | str | None = None,
    weight: float | None = None,
) -> GoalView:
    """Change a goal's fields (owner, their manager line or HR); what is not passed stays as it is."""
    goal = await _editable_goal(session, actor, goal_id)
    if goal.closed_at is not None:
        raise Invalid("This goal is closed: it can't change any more.")
    if title is not None:
        goal.title = validate_title(title, "goal")
    if description is not _UNCHANGED:
        goal.description = _description(description)
    if period is not None:
        _set_period(goal, period)
    if visibility is not None:
        goal.visibility = _choice(Visibility, visibility, "visibility")
    if kind is not None:
        goal.kind = _choice(Kind, kind, "goal type")
    reweighted = weight is not None and validate_weight(weight) != goal.weight
    if weight is not None:
        goal.weight = validate_weight(weight)
    goal.updated_at = now
    await session.flush()
    if reweighted:
        await _refresh_progress(session, [goal.parent_id])
    return await _view_one(session, actor, goal_id, now.date())


async def close_goal(
    session: AsyncSession, *, actor: Actor, goal_id: int, final_score: float, now: datetime
) -> GoalView:
    """Close a goal with a final score (0..1); from then on it counts with that score."""
    goal = await _editable_goal(session, actor, goal_id)
    if goal.closed_at is not None:
        raise Conflict("This goal is already closed.")
    score = number(final_score, "The final score")
    if not 0 <= score <= 1:
        raise Invalid(f"The final score is between 0 and 1 (0 % to 100 %), not {score:g}.")
    goal.closed_at, goal.final_score, goal.updated_at = now, score, now
    await session.flush()
    await _refresh_progress(session, [goal_id])
    return await _view_one(session, actor, goal_id, now.date())


async def may_edit(session: AsyncSession, *, actor: Actor, goal_id: int) -> bool:
    """Whether the actor may change this goal (the rule every write here applies), to offer the forms."""
    try:
        await _editable_goal(session, actor, goal_id)
    except (Forbidden, NotFound):
        return False
    return True


async def get_goal(session: AsyncSession, *, actor: Actor, goal_id: int, today: date) -> GoalView:
    """One goal with its key results and the aligned goals the actor may see."""
    return await _view_one(session, actor, goal_id, today)


async def my_goals(session: AsyncSession, *, actor: Actor, today: date) -> list[GoalView]:
    """The actor's own goals, as trees (a goal aligned under another of theirs appears under it)."""
    return await _person_goals(session, actor, actor.person_id, today)


async def goals_of(session: AsyncSession, *, actor: Actor, person_id: int, today: date) -> list[GoalView]:
    """Someone's goals the actor may see (all of them for the person, their manager line and HR)."""
    if await session.get(Person, person_id) is None:
        raise NotFound("That person is not in the directory.")
    return await _person_goals(session, actor, person_id, today)


async def alignable_goals(
    session: AsyncSession, *, actor: Actor, today: date, limit: int = 100
) -> list[GoalView]:
    """Open goals the actor may align a new goal under, flat (no children): the company's, their own
    team's and their managers' teams', their own and their manager line's; company goals first."""
    chain = await manager_chain(session, actor.person_id)
    people = [actor.person_id, *chain]
    departments = {actor.department} if actor.department else set()
    if chain:
        departments |= set(
            await session.scalars(
                select(Person.department).where(Person.id.in_(chain), Person.department.is_not(None))
            )
        )
    candidates = (
        await session.scalars(
            select(Goal)
            .where(
                Goal.closed_at.is_(None),
                Goal.period_end >= today,
                or_(
                    Goal.owner_type == OwnerType.COMPANY.value,
                    Goal.owner_department.in_(departments),
                    Goal.owner_person_id.in_(people),
                ),
            )
            .order_by(_OWNER_ORDER, Goal.owner_department, Goal.owner_person_id, Goal.title, Goal.id)
            .limit(limit * 2)
        )
    ).all()
    scopes = await _scopes(session, actor, candidates)
    shown = [g for g in candidates if _visible(actor, g, scopes)][:limit]
    names = await _names(session, shown)
    return [_flat_view(g, names, today) for g in shown]


async def create_template(
    session: AsyncSession,
    *,
    actor: Actor,
    title: str,
    now: datetime,
    description: str | None = None,
    visibility: Visibility | str = Visibility.TEAM,
    kind: Kind | str = Kind.BUSINESS,
    key_results: Sequence[KeyResultInput] = (),
) -> TemplateView:
    """Define a goal once (HR or a manager), to assign to many people later."""
    require(actor.has(Role.HR_ADMIN) or actor.has(Role.MANAGER), "goal templates")
    template = GoalTemplate(
        title=validate_title(title, "goal"),
        description=_description(description),
        visibility=_choice(Visibility, visibility, "visibility"),
        kind=_choice(Kind, kind, "goal type"),
        created_by_id=actor.person_id,
        created_at=now,
        updated_at=now,
    )
    rows = []
    for i, kr in enumerate(key_results):
        metric, start, target = validate_key_result(kr.metric, kr.start, kr.target)
        rows.append(
            KeyResultTemplate(
                position=i,
                title=validate_title(kr.title, "key result"),
                metric=metric.value,
                unit=optional_text(kr.unit, UNIT_MAX, "The unit"),
                start=start,
                target=target,
                weight=validate_weight(kr.weight, "A key result's weight"),
            )
        )
    # Set on the new object before it is added: reading an unloaded collection later would need IO.
    template.key_results = rows
    session.add(template)
    await session.flush()
    return template_view(template)


async def assign_template(
    session: AsyncSession,
    *,
    actor: Actor,
    template_id: int,
    period: Period | str,
    now: datetime,
    department: str | None = None,
    person_ids: Iterable[int] | None = None,
) -> AssignmentReport:
    """Give everyone in a department and/or a list one goal from the template, in one action.

    People the actor may not set goals for are skipped and reported; people who already have this
    template's goal for this period keep it (assigning again never duplicates)."""
    require(actor.has(Role.HR_ADMIN) or actor.has(Role.MANAGER), "goal templates")
    template = await session.get(GoalTemplate, template_id)
    if template is None:
        raise NotFound("That goal template does not exist.")
    if department is None and person_ids is None:
        raise Invalid("Choose a department or people to assign the goal to.")
    when = _period(period)

    wanted: list[int] = list(dict.fromkeys(person_ids or ()))
    if department is not None:
        in_department = await session.scalars(
            select(Person.id)
            .where(Person.department == department, Person.active.is_(True))
            .order_by(Person.id)
        )
        wanted += [pid for pid in in_department if pid not in wanted]

    report = AssignmentReport()
    active = {
        row.id: row
        for row in (
            await session.execute(
                select(Person.id, Person.department, Person.active).where(Person.id.in_(wanted))
            )
        ).all()
    }
    relations = await relations_to(session, actor, {pid: row.department for pid, row in active.items()})
    existing = dict(
        (
            await session.execute(
                select(Goal.owner_person_id, Goal.id).where(
                    Goal.template_id == template_id,
                    Goal.owner_person_id.in_(wanted),
                    Goal.period_start == when.start,
                    Goal.period_end == when.end,
                )
            )
        ).all()
    )
    kr_templates = (
        await session.scalars(
            select(KeyResultTemplate)
            .where(KeyResultTemplate.template_id == template_id)
            .order_by(KeyResultTemplate.position)
        )
    ).all()
    new_goals: dict[int, Goal] = {}
    for pid in wanted:
        if pid not in active or not active[pid].active:
            report.skipped[pid] = "not an active person in the directory"
        elif not may_edit_goal(actor, rel=relations[pid], department=None):
            report.skipped[pid] = "you can't set goals for this person"
        elif pid in existing:
            report.already_assigned[pid] = existing[pid]
        else:
            goal = Goal(
                owner_type=OwnerType.PERSON.value,
                owner_person_id=pid,
                title=template.title,
                description=template.description,
                visibility=template.visibility,
                kind=template.kind,
                weight=1.0,
                template_id=template_id,
                period_label=when.label,
                period_start=when.start,
                period_end=when.end,
                created_by_id=actor.person_id,
                created_at=now,
                updated_at=now,
                key_results=[
                    KeyResult(
                        position=t.position,
                        title=t.title,
                        metric=t.metric,
                        unit=t.unit,
                        start=t.start,
                        target=t.target,
                        current=t.start,
                        weight=t.weight,
                        version=1,
                        created_at=now,
                        updated_at=now,
                    )
                    for t in kr_templates
                ],
            )
            session.add(goal)
            new_goals[pid] = goal
    await session.flush()
    report.created.update({pid: goal.id for pid, goal in new_goals.items()})
    await _refresh_progress(session, report.created.values())
    return report


# --- writing helpers ---------------------------------------------------------------------------------


def _choice(enum: type[StrEnum], value: object, what: str) -> str:
    try:
        return enum(value).value  # type: ignore[arg-type]
    except ValueError:
        choices = ", ".join(e.value for e in enum)
        raise Invalid(f"“{value}” is not a {what}: choose one of {choices}.") from None


def _description(value: str | None) -> str | None:
    return optional_text(value, DESCRIPTION_MAX, "The description")


def _confidence(value: object) -> int:
    level = number(value, "The confidence")
    if not level.is_integer() or not 1 <= level <= 10:
        raise Invalid(f"Confidence is a whole number from 1 to 10, not {level:g}.")
    return int(level)


def _period(period: Period | str) -> Period:
    resolved = Period.of(period) if isinstance(period, str) else period
    resolved.validate()
    return resolved


def _set_period(goal: Goal, period: Period | str) -> None:
    resolved = _period(period)
    goal.period_label, goal.period_start, goal.period_end = resolved.label, resolved.start, resolved.end


def _key_result(kr: KeyResultInput, position: int, now: datetime) -> KeyResult:
    metric, start, target = validate_key_result(kr.metric, kr.start, kr.target)
    current = start if kr.current is None else validate_value(metric, kr.current, target=target)
    return KeyResult(
        position=position,
        title=validate_title(kr.title, "key result"),
        metric=metric.value,
        unit=optional_text(kr.unit, UNIT_MAX, "The unit"),
        start=start,
        target=target,
        current=current,
        weight=validate_weight(kr.weight, "A key result's weight"),
        version=1,
        created_at=now,
        updated_at=now,
    )


async def _set_owner(session: AsyncSession, actor: Actor, goal: Goal, owner: Owner) -> None:
    if owner.type is OwnerType.PERSON:
        if owner.person_id is None:
            raise Invalid("Choose whose goal this is.")
        person = await session.get(Person, owner.person_id)
        if person is None or not person.active:
            raise NotFound("That person is not in the directory.")
        rel = (await relations_to(session, actor, {person.id: person.department}))[person.id]
        require(may_edit_goal(actor, rel=rel, department=None), "this person's goals")
        goal.owner_person_id = person.id
    elif owner.type is OwnerType.DEPARTMENT:
        department = (owner.department or "").strip()
        if not department:
            raise Invalid("Choose the team (department) this goal belongs to.")
        require(may_edit_goal(actor, rel=None, department=department), f"the {department} team's goals")
        goal.owner_department = department
    else:
        require(may_edit_goal(actor, rel=None, department=None), "the company's goals")
    goal.owner_type = owner.type.value


async def _check_parent(session: AsyncSession, actor: Actor, parent_id: int) -> None:
    parent = await session.get(Goal, parent_id)
    # The same answer for "no such goal" and "a private goal you can't see": existence is not leaked.
    if parent is None or not await _may_view(session, actor, parent):
        raise Invalid("Pick a goal you can see to align this one under.")
    if parent.closed_at is not None:
        raise Invalid("That goal is closed: pick an open goal to align under.")


async def _editable_goal(session: AsyncSession, actor: Actor, goal_id: int) -> Goal:
    goal = await session.get(Goal, goal_id)
    if goal is None:
        raise NotFound("That goal does not exist.")
    scope = await _scopes(session, actor, [goal])
    rel, department = scope[goal.id]
    if not may_edit_goal(actor, rel=rel, department=department):
        raise Forbidden("You can't change this goal: only its owner, their managers and HR can.")
    return goal


async def _is_repeat(
    session: AsyncSession, actor: Actor, kr: KeyResult, expected_version: int, value: float
) -> bool:
    """The update right after `expected_version` was this actor's, to this value: a double click."""
    if kr.version != expected_version + 1 or kr.current != value:
        return False
    last = await session.scalar(
        select(KeyResultUpdate.by_id).where(
            KeyResultUpdate.key_result_id == kr.id, KeyResultUpdate.version == kr.version
        )
    )
    return last == actor.person_id


async def _created_by_request(session: AsyncSession, actor: Actor, request_id: str) -> int | None:
    return await session.scalar(
        select(Goal.id).where(Goal.request_id == request_id, Goal.created_by_id == actor.person_id)
    )


# --- stored roll-up ----------------------------------------------------------------------------------

_START = bindparam("start", expanding=True)
_AFFECTED = bindparam("affected", expanding=True)
_ROLLUP_COLUMNS = (Goal.id, Goal.parent_id, Goal.weight, Goal.closed_at, Goal.final_score, Goal.progress)


async def _refresh_progress(session: AsyncSession, start_ids: Iterable[int | None]) -> None:
    """Rewrite the stored progress of these goals and of all their ancestors, children before parents.

    Goals off the changed paths keep their stored progress, so the cost follows the depth of the tree
    and the width of the levels on the path, not the size of the tree. On PostgreSQL the goals on the
    paths are locked in id order first: two updates under one parent then take turns, and the later one
    computes the parent from both children instead of from the other's stale value. SQLite's writers
    already take turns.
    """
    start = [goal_id for goal_id in dict.fromkeys(start_ids) if goal_id is not None]
    if not start:
        return
    up = select(Goal.id.label("id"), Goal.parent_id.label("parent_id"), literal(0).label("depth"))
    chain = up.where(Goal.id.in_(_START)).cte("ancestors", recursive=True)
    chain = chain.union_all(
        select(Goal.id, Goal.parent_id, chain.c.depth + 1)
        .join(chain, Goal.id == chain.c.parent_id)
        .where(chain.c.depth < 64)
    )
    affected = sorted(set(await session.scalars(select(chain.c.id), {"start": start})))
    params = {"affected": affected}
    if is_postgres(session):
        await session.execute(
            select(Goal.id).where(Goal.id.in_(_AFFECTED)).order_by(Goal.id).with_for_update(), params
        )
    rows = (
        await session.execute(
            select(*_ROLLUP_COLUMNS).where(or_(Goal.id.in_(_AFFECTED), Goal.parent_id.in_(_AFFECTED))),
            params,
        )
    ).all()
    parts = await _key_result_parts(session, KeyResult.goal_id.in_(_AFFECTED), params)
    await _store_progress(session, _recompute(set(affected), rows, parts))


async def rebuild_progress(session: AsyncSession) -> int:
    """Recompute every goal's stored roll-up from scratch (after a bulk load, or to repair); returns how
    many goals changed."""
    rows = (await session.execute(select(*_ROLLUP_COLUMNS))).all()
    parts = await _key_result_parts(session, literal(True), {})
    nodes = {
        row.id: GoalNode(
            id=row.id,
            parent_id=row.parent_id,
            weight=row.weight,
            key_results=tuple(parts.get(row.id, ())),
            final_score=row.final_score,
            closed=row.closed_at is not None,
        )
        for row in rows
    }
    stored = {row.id: row.progress for row in rows}
    changed = {goal_id: value for goal_id, value in rollup(nodes).items() if _moved(stored[goal_id], value)}
    await _store_progress(session, changed)
    return len(changed)


async def _key_result_parts(
    session: AsyncSession, where: Any, params: dict[str, Any]
) -> dict[int, list[tuple[float, float]]]:
    """(weight, progress) of each goal's key results, by goal id."""
    parts: dict[int, list[tuple[float, float]]] = {}
    columns = (KeyResult.goal_id, KeyResult.metric, KeyResult.start, KeyResult.target, KeyResult.current)
    for kr in await session.execute(select(*columns, KeyResult.weight).where(where), params):
        parts.setdefault(kr.goal_id, []).append(
            (kr.weight, key_result_progress(kr.metric, kr.start, kr.target, kr.current))
        )
    return parts


def _recompute(affected: set[int], rows: Sequence, parts: dict[int, list[tuple[float, float]]]) -> dict:
    """New progress of each affected goal; children outside `affected` count with their stored value."""
    by_id = {row.id: row for row in rows}
    children: dict[int, list] = {}
    for row in rows:
        if row.parent_id in affected and row.id != row.parent_id:
            children.setdefault(row.parent_id, []).append(row)
    computed: dict[int, float] = {}

    def compute(goal_id: int, path: frozenset[int]) -> float:
        if goal_id not in computed:
            row, path = by_id[goal_id], path | {goal_id}
            aligned = [
                (c.weight, compute(c.id, path) if c.id in affected and c.id not in path else c.progress)
                for c in children.get(goal_id, ())
            ]
            node = GoalNode(
                id=goal_id,
                parent_id=row.parent_id,
                weight=row.weight,
                key_results=tuple(parts.get(goal_id, ())),
                final_score=row.final_score,
                closed=row.closed_at is not None,
            )
            computed[goal_id] = node_progress(node, aligned)
        return computed[goal_id]

    for goal_id in affected:
        compute(goal_id, frozenset())
    return {goal_id: value for goal_id, value in computed.items() if _moved(by_id[goal_id].progress, value)}


def _moved(stored: float, value: float) -> bool:
    # Sums taken in another order differ in the last bits; that is not a change worth a write.
    return abs(stored - value) > 1e-12


async def _store_progress(session: AsyncSession, progress: dict[int, float]) -> None:
    if not progress:
        return
    table = Goal.__table__
    await session.execute(
        update(table).where(table.c.id == bindparam("goal_id")).values(progress=bindparam("value")),
        [{"goal_id": goal_id, "value": value} for goal_id, value in progress.items()],
    )
    # Goals this session already holds would otherwise keep showing the old value.
    for goal_id, value in progress.items():
        held = session.identity_map.get(identity_key(Goal, goal_id))
        if held is not None:
            set_committed_value(held, "progress", value)


# --- reading: subtrees in few queries, roll-up in Python ---------------------------------------------


async def _scopes(
    session: AsyncSession, actor: Actor, goals: Iterable[Goal]
) -> dict[int, tuple[Relation | None, str | None]]:
    """For each goal, what access rules take: (relation to its owner, its department)."""
    goals = list(goals)
    owner_ids = {g.owner_person_id for g in goals if g.owner_person_id is not None}
    departments: dict[int, str | None] = {}
    if owner_ids:
        departments = dict(
            (
                await session.execute(select(Person.id, Person.department).where(Person.id.in_(owner_ids)))
            ).all()
        )
    relations = await relations_to(session, actor, departments)
    return {
        g.id: (relations[g.owner_person_id], departments[g.owner_person_id])
        if g.owner_person_id is not None
        else (None, g.owner_department)
        for g in goals
    }


async def _may_view(session: AsyncSession, actor: Actor, goal: Goal) -> bool:
    return _visible(actor, goal, await _scopes(session, actor, [goal]))


async def _descendant_ids(session: AsyncSession, goal_id: int) -> set[int]:
    down = select(Goal.id.label("id"), literal(0).label("depth")).where(Goal.id == goal_id)
    tree = down.cte("subtree", recursive=True)
    tree = tree.union_all(
        select(Goal.id, tree.c.depth + 1).join(tree, Goal.parent_id == tree.c.id).where(tree.c.depth < 64)
    )
    return set(await session.scalars(select(tree.c.id))) - {goal_id}


# How many levels of aligned goals a goal's view lists below it, and how many aligned goals per goal are
# read for it (before visibility): a view stays small however many goals align to a company goal. Progress
# needs no subtree: every goal stores its rolled-up progress. The Alignment tab walks the rest.
VIEW_DEPTH = 2
CHILDREN_READ = 100


async def _load_tree(
    session: AsyncSession, root_ids: Sequence[int], depth: int
) -> tuple[dict[int, Goal], list]:
    """The roots, up to `depth` levels of aligned goals (CHILDREN_READ per goal), and their key results."""
    goals = {g.id: g for g in (await session.scalars(select(Goal).where(Goal.id.in_(root_ids)))).all()}
    frontier = list(goals)
    for _ in range(depth):
        if not frontier:
            break
        ranked = (
            select(Goal.id, func.row_number().over(partition_by=Goal.parent_id, order_by=Goal.id).label("n"))
            .where(Goal.parent_id.in_(frontier))
            .subquery()
        )
        level = (
            await session.scalars(
                select(Goal).join(ranked, Goal.id == ranked.c.id).where(ranked.c.n <= CHILDREN_READ)
            )
        ).all()
        frontier = [g.id for g in level if g.id not in goals]
        goals.update((g.id, g) for g in level)
    krs = (
        await session.scalars(
            select(KeyResult)
            .where(KeyResult.goal_id.in_(list(goals)))
            .order_by(KeyResult.goal_id, KeyResult.position)
        )
    ).all()
    return goals, list(krs)


async def _build(
    session: AsyncSession, actor: Actor, root_ids: Sequence[int], today: date, depth: int = VIEW_DEPTH
) -> dict[int, GoalView]:
    """Views of the roots, each with the aligned goals the actor may see, `depth` levels down."""
    if not root_ids:
        return {}
    goals, krs = await _load_tree(session, root_ids, depth)
    krs_of: dict[int, list[KeyResult]] = {}
    for kr in krs:
        krs_of.setdefault(kr.goal_id, []).append(kr)
    scopes = await _scopes(session, actor, goals.values())
    names = await _names(session, goals.values())
    children: dict[int, list[Goal]] = {}
    for g in sorted(goals.values(), key=lambda g: g.id):
        if g.parent_id in goals:
            children.setdefault(g.parent_id, []).append(g)

    def view(g: Goal, path: frozenset[int]) -> GoalView:
        path = path | {g.id}
        key_results = tuple(
            _key_result_view(kr, key_result_progress(kr.metric, kr.start, kr.target, kr.current))
            for kr in krs_of.get(g.id, ())
        )
        aligned = tuple(
            view(c, path) for c in children.get(g.id, ()) if c.id not in path and _visible(actor, c, scopes)
        )
        return _goal_view(g, names, today, g.progress, key_results, aligned)

    return {rid: view(goals[rid], frozenset()) for rid in root_ids if rid in goals}


async def _view_one(session: AsyncSession, actor: Actor, goal_id: int, today: date) -> GoalView:
    goal = await session.get(Goal, goal_id)
    if goal is None or not await _may_view(session, actor, goal):
        raise NotFound("That goal does not exist.")
    return (await _build(session, actor, [goal_id], today))[goal_id]


async def _person_goals(session: AsyncSession, actor: Actor, person_id: int, today: date) -> list[GoalView]:
    own = (
        await session.scalars(
            select(Goal)
            .where(and_(Goal.owner_type == OwnerType.PERSON.value, Goal.owner_person_id == person_id))
            .order_by(Goal.period_start, Goal.id)
        )
    ).all()
    scopes = await _scopes(session, actor, own)
    shown = [g for g in own if _visible(actor, g, scopes)]
    shown_ids = {g.id for g in shown}
    roots = [g.id for g in shown if g.parent_id not in shown_ids]
    # Each goal of theirs with the goals aligned directly under it; their own goals then nest in full,
    # however deep, while other people's aligned goals are listed one level down (a CEO's goal would
    # otherwise carry the whole organization).
    views = await _build(session, actor, [g.id for g in shown], today, depth=1)

    def nest(goal_id: int, path: frozenset[int]) -> GoalView:
        path = path | {goal_id}
        view = views[goal_id]
        aligned = tuple(nest(c.id, path) if c.id in views and c.id not in path else c for c in view.children)
        return replace(view, children=aligned)

    return [nest(r, frozenset()) for r in roots]


_OWNER_ORDER = case(
    (Goal.owner_type == OwnerType.COMPANY.value, 0),
    (Goal.owner_type == OwnerType.DEPARTMENT.value, 1),
    else_=2,
)


def _visible(actor: Actor, goal: Goal, scopes: dict[int, tuple[Relation | None, str | None]]) -> bool:
    rel, department = scopes[goal.id]
    return may_view_goal(actor, visibility=goal.visibility, rel=rel, department=department)


async def _names(session: AsyncSession, goals: Iterable[Goal]) -> dict[int, str]:
    owner_ids = {g.owner_person_id for g in goals if g.owner_person_id is not None}
    if not owner_ids:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(owner_ids)))
    return dict(rows.all())


def _key_result_view(kr: KeyResult, progress: float) -> KeyResultView:
    return KeyResultView(
        id=kr.id,
        title=kr.title,
        metric=kr.metric,
        unit=kr.unit,
        start=kr.start,
        target=kr.target,
        current=kr.current,
        weight=kr.weight,
        progress=progress,
        version=kr.version,
    )


def _goal_view(
    g: Goal,
    names: dict[int, str],
    today: date,
    progress: float,
    key_results: tuple[KeyResultView, ...] = (),
    children: tuple[GoalView, ...] = (),
) -> GoalView:
    period = Period(g.period_label, g.period_start, g.period_end)
    return GoalView(
        id=g.id,
        title=g.title,
        description=g.description,
        owner_type=g.owner_type,
        owner_person_id=g.owner_person_id,
        owner_label=_owner_label(g, names),
        period=period,
        visibility=g.visibility,
        kind=g.kind,
        weight=g.weight,
        parent_id=g.parent_id,
        progress=progress,
        status=goal_status(progress, period, today=today, closed=g.closed_at is not None),
        closed_at=g.closed_at,
        final_score=g.final_score,
        key_results=key_results,
        children=children,
    )


def _flat_view(g: Goal, names: dict[int, str], today: date) -> GoalView:
    """A goal without its key results or children, at its stored progress (for pick lists)."""
    return _goal_view(g, names, today, g.progress)


def _owner_label(goal: Goal, names: dict[int, str]) -> str:
    if goal.owner_type == OwnerType.PERSON and goal.owner_person_id is not None:
        return names.get(goal.owner_person_id, "")
    if goal.owner_type == OwnerType.DEPARTMENT:
        return goal.owner_department or ""
    return COMPANY_LABEL


def template_view(template: GoalTemplate) -> TemplateView:
    """A template as the transports show it (its key results must already be loaded)."""
    return TemplateView(
        id=template.id,
        title=template.title,
        description=template.description,
        visibility=template.visibility,
        kind=template.kind,
        key_results=tuple(
            KeyResultInput(
                title=t.title, target=t.target, start=t.start, metric=t.metric, unit=t.unit, weight=t.weight
            )
            for t in template.key_results
        ),
    )

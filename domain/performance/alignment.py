"""Read models for the goal tabs: the alignment tree, a manager's team goals, key-result history.

Built for large organizations. Every goal shown is read with its stored, always-current progress
(Goal.progress) instead of loading its subtree; the tree is fetched one level per query, and what lies
beyond the levels shown is counted with one grouped query. So the number of queries depends on the depth
shown, never on how many goals there are.

Who may see a goal is decided by domain.access.may_view_goal, as everywhere. What is computed here in SQL
is only the actor's relation to each goal's owner: the actor's whole line (direct and indirect reports) is
walked downward once, in a recursive CTE joined to the goals. That is the relation access.relations_to
walks upward from each person; walking down from the actor lets one statement join it to tens of
thousands of goals, where walking up from each owner would cost a chain per owner.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import CTE, Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Relation, Role, may_view_goal, require
from domain.errors import Invalid, NotFound
from domain.performance.goal_progress import Period, Status, goal_status
from domain.performance.goal_views import COMPANY_LABEL, OwnerType
from storage.models import Goal, KeyResult, KeyResultUpdate, Person

# Levels of the alignment tree shown at first: company goals, then team goals. Deeper levels are counted,
# and the tab expands them one node at a time.
DEPTH = 2
# Aligned goals listed under one node; the rest are counted and reachable page by page.
CHILDREN_SHOWN = 50
# Where each kind of owner sits in company → team → individual (a team goal stays on level 2 even when it
# is aligned to no company goal, so "two levels" means the same thing for every tree).
TIER = {OwnerType.COMPANY.value: 1, OwnerType.DEPARTMENT.value: 2, OwnerType.PERSON.value: 3}
TEAM_PAGE_SIZE = 25
HISTORY_POINTS = 24
MAX_DEPTH = 6


# --- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlignedGoal:
    """A goal in the alignment tree and the share of its parent's progress it carries."""

    id: int
    title: str
    owner_type: str
    owner_label: str
    period: Period
    progress: float  # 0..1, rolled up over everything aligned to it (seen or not)
    status: Status
    weight: float
    # weight / (Σ weights of the parent's key results and aligned goals): the parent's progress is
    # Σ contribution · progress over its parts. None at the top of a tree and under a closed, scored goal.
    contribution: float | None
    children: tuple[AlignedGoal, ...]
    # Aligned goals the actor may see that are not in `children`: beyond the levels shown, or past the
    # page of children listed.
    more: int

    @property
    def collapsed(self) -> bool:
        """Aligned goals exist but none are listed: the tab offers to expand the node."""
        return not self.children and self.more > 0


@dataclass(frozen=True)
class AlignmentView:
    """Company and team goals with what aligns to them; or one node's subtree when `focus` is set."""

    roots: tuple[AlignedGoal, ...]
    focus: int | None = None
    offset: int = 0  # the first of the focused node's children listed
    limit: int = CHILDREN_SHOWN


@dataclass(frozen=True)
class ParentLink:
    """The goal another goal is aligned to, and the share of its progress that goal carries."""

    id: int
    title: str
    owner_label: str
    contribution: float | None


@dataclass(frozen=True)
class GoalSummary:
    """One goal in a list (no key results or children)."""

    id: int
    title: str
    kind: str
    visibility: str
    period: Period
    progress: float
    status: Status


@dataclass(frozen=True)
class PersonGoals:
    """Someone in the actor's line and their goals."""

    person_id: int
    display_name: str
    job_title: str | None
    department: str | None
    goals: tuple[GoalSummary, ...]


@dataclass(frozen=True)
class TeamGoalsView:
    """A page of people and their goals, for a manager (their line) or HR (the organization)."""

    scope: str  # "line" or "organization"
    status: Status | None  # the filter, if any
    counts: dict[Status, int]  # goals per status across the whole scope, before the filter
    people: tuple[PersonGoals, ...]
    page: int
    pages: int
    total_people: int
    may_choose_scope: bool = False  # HR with a line of their own can switch between the two


@dataclass(frozen=True)
class HistoryPoint:
    """A key result's value from `at` on (None: earlier than the history kept)."""

    at: datetime | None
    value: float


@dataclass
class _Tree:
    """What one walk down the tree found, before it becomes views."""

    shown: dict[int, list[Any]] = field(default_factory=dict)  # parent id → child rows listed
    weights: dict[int, float] = field(default_factory=dict)  # parent id → Σ weights of aligned goals
    more: dict[int, int] = field(default_factory=dict)  # goal id → visible aligned goals not listed


# --- the alignment tree ------------------------------------------------------------------------------


async def alignment(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    root_id: int | None = None,
    depth: int = DEPTH,
    offset: int = 0,
    limit: int = CHILDREN_SHOWN,
) -> AlignmentView:
    """Company and team goals running today, each with what aligns to it down to `depth` levels of
    company → team → individual (deeper goals are only counted); with `root_id`, that goal and `depth - 1`
    levels below it, its children listed from `offset`."""
    if not 1 <= depth <= MAX_DEPTH:
        raise Invalid(f"Show between 1 and {MAX_DEPTH} levels of the tree.")
    if offset < 0 or limit < 1:
        raise Invalid("Choose a page of aligned goals from the first one on.")
    line = _line(actor)
    if root_id is None:
        tops = await _visible_rows(session, actor, _goal_rows(actor, line).where(*_running_tops(today)))
        tops.sort(key=_order)
        below = {row.id: max(0, depth - TIER[row.owner_type]) for row in tops}
    else:
        tops = await _visible_rows(session, actor, _goal_rows(actor, line).where(Goal.id == root_id))
        if not tops:
            raise NotFound("That goal does not exist.")
        below = {root_id: depth - 1}
    tree = await _walk(session, actor, line, tops, below, offsets={root_id: offset}, limit=limit)
    krs = await _kr_weights(session, tree.shown)
    closed = {row.id for rows in [tops, *tree.shown.values()] for row in rows if _scored(row)}
    roots = tuple(_aligned(row, None, tree, krs, closed, today) for row in tops)
    return AlignmentView(roots=roots, focus=root_id, offset=offset, limit=limit)


async def aligned_to(
    session: AsyncSession, *, actor: Actor, goal_ids: Iterable[int]
) -> dict[int, ParentLink]:
    """For each goal aligned under one the actor may see: that parent and the share this goal carries."""
    ids = list(dict.fromkeys(goal_ids))
    if not ids:
        return {}
    children = (
        await session.execute(select(Goal.id, Goal.parent_id, Goal.weight).where(Goal.id.in_(ids)))
    ).all()
    parent_ids = {c.parent_id for c in children if c.parent_id is not None}
    if not parent_ids:
        return {}
    line = _line(actor)
    parents = {
        row.id: row
        for row in await _visible_rows(session, actor, _goal_rows(actor, line).where(Goal.id.in_(parent_ids)))
    }
    weights = dict(
        (
            await session.execute(
                select(Goal.parent_id, func.sum(Goal.weight))
                .where(Goal.parent_id.in_(list(parents)))
                .group_by(Goal.parent_id)
            )
        ).all()
    )
    krs = await _kr_weights(session, parents)
    links = {}
    for child in children:
        parent = parents.get(child.parent_id)
        if parent is not None:
            total = (weights.get(parent.id) or 0.0) + krs.get(parent.id, 0.0)
            share = None if _scored(parent) else _share(child.weight, total)
            links[child.id] = ParentLink(parent.id, parent.title, _owner_label(parent), share)
    return links


async def _walk(
    session: AsyncSession,
    actor: Actor,
    line: CTE,
    tops: Sequence[Any],
    below: dict[int, int],
    *,
    offsets: dict[int | None, int],
    limit: int,
) -> _Tree:
    """Breadth first from `tops`: one query per level listed, then one to count what lies below."""
    tree = _Tree()
    may_see = _Visibility(actor)
    left = dict(below)
    expand = [row.id for row in tops if left[row.id] > 0]
    counted = [row.id for row in tops if left[row.id] == 0]
    while expand:
        rows = (await session.execute(_goal_rows(actor, line).where(Goal.parent_id.in_(expand)))).all()
        by_parent: dict[int, list[Any]] = {pid: [] for pid in expand}
        for row in rows:
            by_parent[row.parent_id].append(row)
        expand = []
        for parent_id, children in by_parent.items():
            tree.weights[parent_id] = math.fsum(c.weight for c in children)
            visible = sorted((c for c in children if may_see(c)), key=_order)
            start = offsets.get(parent_id, 0)
            tree.shown[parent_id] = visible[start : start + limit]
            # Those before the page are reached by paging back; `more` counts what follows it.
            tree.more[parent_id] = max(0, len(visible) - start - len(tree.shown[parent_id]))
            for child in tree.shown[parent_id]:
                left[child.id] = left[parent_id] - 1
                (expand if left[child.id] > 0 else counted).append(child.id)
    tree.more.update(await _visible_counts(session, actor, line, counted))
    return tree


def _aligned(
    row: Any, parent_total: float | None, tree: _Tree, krs: dict[int, float], closed: set[int], today: date
) -> AlignedGoal:
    total = tree.weights.get(row.id, 0.0) + krs.get(row.id, 0.0)
    children = tuple(
        _aligned(child, None if row.id in closed else total, tree, krs, closed, today)
        for child in tree.shown.get(row.id, ())
    )
    period = Period(row.period_label, row.period_start, row.period_end)
    return AlignedGoal(
        id=row.id,
        title=row.title,
        owner_type=row.owner_type,
        owner_label=_owner_label(row),
        period=period,
        progress=row.progress,
        status=goal_status(row.progress, period, today=today, closed=row.closed_at is not None),
        weight=row.weight,
        contribution=None if parent_total is None else _share(row.weight, parent_total),
        children=children,
        more=tree.more.get(row.id, 0),
    )


def _running_tops(today: date) -> tuple[Any, ...]:
    # owner_person_id IS NULL is what the owner types mean (a check constraint), and it is indexed.
    return (
        Goal.parent_id.is_(None),
        Goal.owner_person_id.is_(None),
        Goal.owner_type.in_((OwnerType.COMPANY.value, OwnerType.DEPARTMENT.value)),
        Goal.period_start <= today,
        Goal.period_end >= today,
    )


async def _visible_counts(
    session: AsyncSession, actor: Actor, line: CTE, parent_ids: Sequence[int]
) -> dict[int, int]:
    """How many goals aligned to each parent the actor may see, without loading them.

    The goals are grouped by everything may_view_goal looks at (visibility, owner kind, department, self,
    in line); each group is asked once."""
    if not parent_ids:
        return {}
    flags = (
        select(
            Goal.parent_id,
            Goal.visibility,
            Goal.owner_type,
            Goal.owner_department,
            Person.department.label("person_department"),
            (Goal.owner_person_id == actor.person_id).label("is_self"),
            line.c.id.is_not(None).label("in_line"),
        )
        .outerjoin(Person, Person.id == Goal.owner_person_id)
        .outerjoin(line, line.c.id == Goal.owner_person_id)
        .where(Goal.parent_id.in_(parent_ids))
        .subquery()
    )
    groups = select(*flags.c, func.count().label("n")).group_by(*flags.c)
    counts = dict.fromkeys(parent_ids, 0)
    for group in await session.execute(groups):
        if _visible(actor, group):
            counts[group.parent_id] += group.n
    return counts


async def _kr_weights(session: AsyncSession, goal_ids: Iterable[int]) -> dict[int, float]:
    ids = list(goal_ids)
    if not ids:
        return {}
    rows = await session.execute(
        select(KeyResult.goal_id, func.sum(KeyResult.weight))
        .where(KeyResult.goal_id.in_(ids))
        .group_by(KeyResult.goal_id)
    )
    return {goal_id: total or 0.0 for goal_id, total in rows}


def _share(weight: float, total: float) -> float:
    return weight / total if total > 0 else 0.0


def _scored(row: Any) -> bool:
    """A closed goal with a final score counts with that score: what is aligned to it no longer moves it."""
    return row.closed_at is not None and row.final_score is not None


def _order(row: Any) -> tuple[int, str, int]:
    return TIER[row.owner_type], _owner_label(row).casefold(), row.id


# --- team goals --------------------------------------------------------------------------------------


async def team_goals(
    session: AsyncSession,
    *,
    actor: Actor,
    today: date,
    status: Status | str | None = None,
    page: int = 1,
    scope: str | None = None,
) -> TeamGoalsView:
    """The goals of everyone in the actor's line (direct and indirect reports), grouped by person.

    Managers see their line. HR admins see the whole organization, or their own line when they have one
    and ask for it: their role already lets them see every goal (access.may_edit_goal), and a
    people-by-people list is how HR follows up on goal setting. Anyone else is refused."""
    chosen = _scope(actor, scope)
    wanted = _status(status)
    if page < 1:
        raise Invalid("Pages are numbered from 1.")
    line = _line(actor)
    people = (await session.execute(_people_in(actor, chosen))).all()
    # Everyone's goals are counted by status, but only the page's are read in full: a VP's line or the
    # whole organization is tens of thousands of goals, and each full row costs more than its status.
    visible, status_of = _Visibility(actor), _StatusOf(today)
    goals_of: dict[int, list[int]] = {}
    counts = dict.fromkeys(Status, 0)
    for row in await session.execute(_goals_in(actor, line, chosen)):
        if not visible(row):
            continue
        found = status_of(row)
        counts[found] += 1
        if wanted is None or found is wanted:
            goals_of.setdefault(row.owner_person_id, []).append(row.id)
    listed = [p for p in people if wanted is None or p.id in goals_of]
    pages = max(1, math.ceil(len(listed) / TEAM_PAGE_SIZE))
    on_page = listed[(page - 1) * TEAM_PAGE_SIZE : page * TEAM_PAGE_SIZE]
    shown = [goal_id for p in on_page for goal_id in goals_of.get(p.id, ())]
    summaries: dict[int, list[GoalSummary]] = {}
    if shown:
        rows = await session.execute(
            _goal_rows(actor, line).where(Goal.id.in_(shown)).order_by(Goal.period_start, Goal.id)
        )
        for row in rows:
            summaries.setdefault(row.owner_person_id, []).append(_summary(row, status_of))
    return TeamGoalsView(
        scope=chosen,
        status=wanted,
        counts=counts,
        people=tuple(
            PersonGoals(p.id, p.display_name, p.job_title, p.department, tuple(summaries.get(p.id, ())))
            for p in on_page
        ),
        page=page,
        pages=pages,
        total_people=len(listed),
        may_choose_scope=actor.has(Role.HR_ADMIN) and actor.has(Role.MANAGER),
    )


def may_see_team_goals(actor: Actor) -> bool:
    """Team goals are for managers (their line) and HR admins (the organization)."""
    return actor.has(Role.MANAGER) or actor.has(Role.HR_ADMIN)


def _scope(actor: Actor, asked: str | None) -> str:
    hr, manager = actor.has(Role.HR_ADMIN), actor.has(Role.MANAGER)
    require(may_see_team_goals(actor), "team goals: they are for managers and HR")
    if asked is None:
        return "line" if manager else "organization"
    if asked not in ("line", "organization"):
        raise Invalid("Choose your line or the whole organization.")
    require(asked == "line" or hr, "the whole organization's goals")
    return asked


def _status(value: Status | str | None) -> Status | None:
    if value is None or value == "":
        return None
    try:
        return Status(value)
    except ValueError:
        raise Invalid(f"“{value}” is not a goal status.") from None


def _people_in(actor: Actor, scope: str) -> Select[Any]:
    """Active people in scope: nearest reports first (their depth in the line), then by name."""
    columns = (Person.id, Person.display_name, Person.job_title, Person.department)
    if scope == "line":
        ranked = _line(actor, with_depth=True)
        depth = select(ranked.c.id, func.min(ranked.c.depth).label("depth")).group_by(ranked.c.id).subquery()
        query = (
            select(*columns).join(depth, depth.c.id == Person.id).order_by(depth.c.depth, Person.display_name)
        )
    else:
        query = (
            select(*columns)
            .where(Person.id != actor.person_id)
            .order_by(Person.department, Person.display_name)
        )
    return query.where(Person.active.is_(True)).order_by(Person.id)


def _goals_in(actor: Actor, line: CTE, scope: str) -> Select[Any]:
    """Just what visibility and status need of each goal in scope (no titles, no order)."""
    query = (
        select(
            Goal.id,
            Goal.owner_person_id,
            Goal.owner_type,
            Goal.owner_department,
            Goal.visibility,
            Goal.progress,
            Goal.period_label,
            Goal.period_start,
            Goal.period_end,
            Goal.closed_at,
            Person.department.label("person_department"),
            (Goal.owner_person_id == actor.person_id).label("is_self"),
            line.c.id.is_not(None).label("in_line"),
        )
        .join(Person, Person.id == Goal.owner_person_id)
        .outerjoin(line, line.c.id == Goal.owner_person_id)
        .where(
            Goal.owner_type == OwnerType.PERSON.value,
            Person.active.is_(True),
            Goal.owner_person_id != actor.person_id,
        )
    )
    return query.where(line.c.id.is_not(None)) if scope == "line" else query


class _StatusOf:
    """goal_status for rows, with one Period per distinct period (most goals share a quarter)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.periods: dict[tuple[str, date, date], Period] = {}

    def period(self, row: Any) -> Period:
        key = (row.period_label, row.period_start, row.period_end)
        if key not in self.periods:
            self.periods[key] = Period(*key)
        return self.periods[key]

    def __call__(self, row: Any) -> Status:
        return goal_status(row.progress, self.period(row), today=self.today, closed=row.closed_at is not None)


def _summary(row: Any, status_of: _StatusOf) -> GoalSummary:
    return GoalSummary(
        id=row.id,
        title=row.title,
        kind=row.kind,
        visibility=row.visibility,
        period=status_of.period(row),
        progress=row.progress,
        status=status_of(row),
    )


# --- key-result history ------------------------------------------------------------------------------


async def key_result_history(
    session: AsyncSession, *, actor: Actor, key_result_ids: Iterable[int], points: int = HISTORY_POINTS
) -> dict[int, tuple[HistoryPoint, ...]]:
    """The latest `points` values of each key result, oldest first, for sparklines.

    Key results of goals the actor may not see are left out, as if they did not exist."""
    ids = list(dict.fromkeys(key_result_ids))
    if not ids:
        return {}
    line = _line(actor)
    owned = (
        _goal_rows(actor, line)
        .add_columns(
            KeyResult.id.label("kr_id"), KeyResult.current, KeyResult.created_at.label("kr_created_at")
        )
        .join(KeyResult, KeyResult.goal_id == Goal.id)
        .where(KeyResult.id.in_(ids))
    )
    krs = {row.kr_id: row for row in (await session.execute(owned)).all() if _visible(actor, row)}
    if not krs:
        return {}
    newest_first = func.row_number().over(
        partition_by=KeyResultUpdate.key_result_id, order_by=KeyResultUpdate.version.desc()
    )
    ranked = (
        select(
            KeyResultUpdate.key_result_id,
            KeyResultUpdate.at,
            KeyResultUpdate.old_value,
            KeyResultUpdate.new_value,
            KeyResultUpdate.version,
            newest_first.label("rank"),
            func.count().over(partition_by=KeyResultUpdate.key_result_id).label("total"),
        )
        .where(KeyResultUpdate.key_result_id.in_(list(krs)))
        .subquery()
    )
    updates: dict[int, list[Any]] = {}
    recent = select(ranked).where(ranked.c.rank <= points).order_by(ranked.c.key_result_id, ranked.c.version)
    for update in await session.execute(recent):
        updates.setdefault(update.key_result_id, []).append(update)
    return {kr_id: _series(kr, updates.get(kr_id, [])) for kr_id, kr in krs.items()}


def _series(kr: Any, updates: Sequence[Any]) -> tuple[HistoryPoint, ...]:
    if not updates:
        return (HistoryPoint(kr.kr_created_at, kr.current),)
    first = updates[0]
    # When older updates fell off, the first value kept was set at an unknown earlier time.
    began = kr.kr_created_at if first.total <= len(updates) else None
    return (HistoryPoint(began, first.old_value), *(HistoryPoint(u.at, u.new_value) for u in updates))


# --- shared ------------------------------------------------------------------------------------------


def _line(actor: Actor, *, with_depth: bool = False) -> CTE:
    """Everyone below the actor in the reporting lines, as a recursive CTE (id[, depth])."""
    if with_depth:
        # UNION ALL, bounded: a cycle (the org import refuses them) stops at 64 levels, as in relations_to.
        start = select(Person.id.label("id"), literal(1).label("depth")).where(
            Person.manager_id == actor.person_id
        )
        ranked = start.cte("line_depth", recursive=True)
        step = select(Person.id, ranked.c.depth + 1).join(ranked, Person.manager_id == ranked.c.id)
        return ranked.union_all(step.where(ranked.c.depth < 64))
    # UNION (distinct): every person once, so joining goals to it never multiplies them, even in a cycle.
    down = (
        select(Person.id.label("id")).where(Person.manager_id == actor.person_id).cte("line", recursive=True)
    )
    return down.union(select(Person.id).join(down, Person.manager_id == down.c.id))


def _goal_rows(actor: Actor, line: CTE) -> Select[Any]:
    """Goals with what may_view_goal needs to know about their owner, and the owner's name."""
    return (
        select(
            Goal.id,
            Goal.parent_id,
            Goal.title,
            Goal.kind,
            Goal.owner_type,
            Goal.owner_person_id,
            Goal.owner_department,
            Goal.visibility,
            Goal.weight,
            Goal.progress,
            Goal.period_label,
            Goal.period_start,
            Goal.period_end,
            Goal.closed_at,
            Goal.final_score,
            Person.display_name.label("owner_name"),
            Person.department.label("person_department"),
            (Goal.owner_person_id == actor.person_id).label("is_self"),
            line.c.id.is_not(None).label("in_line"),
        )
        .outerjoin(Person, Person.id == Goal.owner_person_id)
        .outerjoin(line, line.c.id == Goal.owner_person_id)
    )


async def _visible_rows(session: AsyncSession, actor: Actor, query: Select[Any]) -> list[Any]:
    return [row for row in (await session.execute(query)).all() if _visible(actor, row)]


class _Visibility:
    """_visible, asked once per distinct combination of what it looks at (a handful per page)."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.answers: dict[tuple[Any, ...], bool] = {}

    def __call__(self, row: Any) -> bool:
        key = (
            row.visibility,
            row.owner_type,
            bool(row.is_self),
            bool(row.in_line),
            row.person_department,
            row.owner_department,
        )
        if key not in self.answers:
            self.answers[key] = _visible(self.actor, row)
        return self.answers[key]


def _visible(actor: Actor, row: Any) -> bool:
    """may_view_goal for a row of _goal_rows (or a group of _visible_counts)."""
    if row.owner_type == OwnerType.PERSON.value:
        department = row.person_department
        rel = (
            Relation.to_self(actor)
            if row.is_self
            else Relation(is_self=False, in_line=bool(row.in_line), subject_department=department)
        )
        return may_view_goal(actor, visibility=row.visibility, rel=rel, department=department)
    department = row.owner_department if row.owner_type == OwnerType.DEPARTMENT.value else None
    return may_view_goal(actor, visibility=row.visibility, rel=None, department=department)


def _owner_label(row: Any) -> str:
    if row.owner_type == OwnerType.PERSON.value:
        return row.owner_name or ""
    if row.owner_type == OwnerType.DEPARTMENT.value:
        return row.owner_department or ""
    return COMPANY_LABEL

"""Talent reviews: a 9-box over a closed performance cycle, rated by managers, calibrated, then locked.

A talent review reads one closed performance cycle (PRODUCT.md: "a talent review runs after a performance
cycle closes and reads its results"). Opening it (HR) freezes one entry per active participant: their
manager and department as the cycle had them, their final score and the performance axis it gives by the
review's thresholds. In *rating* the manager line (and HR, and talent reviewers in scope) rate ability,
aspiration and engagement, which give potential, and risk and impact of loss. In *calibration* HR and
talent reviewers in scope move people between cells, each move with a reason, before and after kept.
*Finalized* locks it all.

Confidentiality: placements, potential, risk and impact are talent data (domain.access.may_view_talent):
never shown to the person they are about, whatever roles they hold, and every read of them is written to
the audit log ("talent.review.view"). The reads take everyone's relation to the reader from one query over
the reader's own line (walking down from the reader, so a 10,000-person review costs the size of the
reader's line, not 10,000 walks up), then ask the access rules once per kind of relation (the reader
themselves or not, in their line or not, the department). Whoever takes no part in a review gets the
answer a wrong id gets: not even its existence is theirs to know.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import (
    Actor,
    Relation,
    audit,
    may_calibrate_talent,
    may_manage_talent_reviews,
    may_rate_potential,
    may_view_talent,
    may_view_talent_pages,
    relations_to,
    require,
)
from domain.errors import Conflict, Invalid, NotFound
from domain.org import display_names
from domain.performance.review_scoring import decimal
from domain.performance.review_views import PHASE_LABELS, Phase
from domain.talent.talent_review_views import (
    BOX_LABEL_MAX,
    DEFAULT_BOX_LABELS,
    LEVEL_LABELS,
    NAME_MAX,
    NOTES_MAX,
    RATING_INPUTS,
    REASON_MAX,
    STATUS_LABELS,
    ClosedCycle,
    MoveView,
    NineBoxCell,
    NineBoxPerson,
    NineBoxView,
    RatingRow,
    RatingSheet,
    TalentReviewList,
    TalentReviewStatus,
    TalentReviewSummary,
    box_index,
    box_label,
)
from domain.text import optional_text
from storage.models import (
    Person,
    ReviewCycle,
    ReviewParticipant,
    ReviewTemplate,
    TalentReview,
    TalentReviewEntry,
    TalentReviewMove,
    talent_review_name_key,
)

REVIEW_NOT_FOUND = "That talent review does not exist."
PERSON_NOT_FOUND = "That person is not in this talent review."
CYCLE_NOT_FOUND = "That review cycle does not exist."
VIEW_ACTION = "talent.review.view"
UNPLACED = "unplaced"  # the key of the people without a cell, beside the nine "performance-potential"
# The org import refuses cycles in the reporting lines; the walk stops here all the same.
MAX_DEPTH = 64
INSERT_CHUNK = 2000


class FieldInvalid(Invalid):
    """Invalid input in one named field (the pages show the sentence next to it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RatingConflict(Conflict):
    """Someone saved other ratings for this person since the form was read: `latest` is what is stored."""

    def __init__(self, message: str, latest: RatingRow) -> None:
        super().__init__(message)
        self.latest = latest


# --- the definitions (PRODUCT.md) ----------------------------------------------------------------------


def potential_from(ability: int, aspiration: int, engagement: int) -> int:
    """Potential from its three inputs (each 1-3): a sum up to 4 is low, up to 7 medium, 8 or 9 high."""
    total = ability + aspiration + engagement
    return 1 if total <= 4 else 2 if total <= 7 else 3


def performance_from(score: Decimal | None, medium_from: Decimal, high_from: Decimal) -> int | None:
    """The performance axis of a score: below medium_from low, below high_from medium, else high."""
    if score is None:
        return None
    return 1 if score < medium_from else 2 if score < high_from else 3


def derived_high_potential(potential: int | None, performance: int | None) -> bool:
    """High potential unless said otherwise: high potential with at least medium performance (PRODUCT.md:
    not every high performer is one, so high performance alone never makes it)."""
    return potential == 3 and performance is not None and performance >= 2


# --- HR: opening and moving a review on ----------------------------------------------------------------


async def closed_cycles(session: AsyncSession, *, actor: Actor) -> tuple[ClosedCycle, ...]:
    """The closed performance cycles a talent review can read (HR), newest period first."""
    require(may_manage_talent_reviews(actor), "talent reviews")
    rows = await session.execute(
        select(ReviewCycle.id, ReviewCycle.name, ReviewTemplate.scale_labels)
        .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
        .where(ReviewCycle.phase == Phase.CLOSED.value)
        .order_by(ReviewCycle.period_end.desc(), ReviewCycle.id.desc())
    )
    return tuple(ClosedCycle(id=r.id, name=r.name, scale=tuple(r.scale_labels)) for r in rows)


async def open_talent_review(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    performance_cycle_id: int,
    medium_from: object,
    high_from: object,
    box_labels: Sequence[object] | None = None,
    now: datetime,
) -> TalentReviewSummary:
    """Open a talent review over a closed cycle (HR): one entry per active participant, with their score
    and performance axis. The same name over the same cycle again (a second submit) opens nothing new."""
    require(may_manage_talent_reviews(actor), "talent reviews")
    title = optional_text(name, NAME_MAX, "The name")
    if title is None:
        raise FieldInvalid("name", "Name the talent review, like “2026 talent review”.")
    cycle = await session.get(ReviewCycle, performance_cycle_id, populate_existing=True)
    if cycle is None:
        raise FieldInvalid("cycle", CYCLE_NOT_FOUND)
    if cycle.phase != Phase.CLOSED.value:
        raise FieldInvalid(
            "cycle",
            f"“{cycle.name}” {_where_cycle_is(Phase(cycle.phase))}: a talent review reads a closed cycle's "
            "results. Close the cycle first, then open the talent review.",
        )
    template = await session.get(ReviewTemplate, cycle.template_id)
    assert template is not None  # a cycle's template can't be deleted (RESTRICT)
    points = len(template.scale_labels)
    medium = _threshold(medium_from, "medium_from", "medium performance", points)
    high = _threshold(high_from, "high_from", "high performance", points)
    if high <= medium:
        raise FieldInvalid(
            "high_from",
            f"The thresholds are out of order: high performance must start above medium performance "
            f"({_number(high)} is not above {_number(medium)}).",
        )
    labels = _checked_labels(box_labels)
    same = select(TalentReview).where(
        TalentReview.performance_cycle_id == cycle.id,
        TalentReview.name_key == talent_review_name_key(title),
    )
    earlier = await session.scalar(same)
    if earlier is not None:
        return replace(await _summary(session, actor, earlier), already_submitted=True)
    review = TalentReview(
        name=title,
        name_key=talent_review_name_key(title),
        performance_cycle_id=cycle.id,
        status=TalentReviewStatus.RATING.value,
        medium_from=float(medium),
        high_from=float(high),
        box_labels=None if labels == DEFAULT_BOX_LABELS else list(labels),
        opened_to_managers=False,
        created_by_id=actor.person_id,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(review)
            await session.flush()
    except IntegrityError:
        # The same submit, racing this one, committed first (the unique key waited for it): that one it is.
        raced = await session.scalar(same)
        if raced is None:
            raise
        return replace(await _summary(session, actor, raced), already_submitted=True)
    participants = await session.execute(
        select(
            ReviewParticipant.person_id,
            ReviewParticipant.manager_id,
            ReviewParticipant.department,
            ReviewParticipant.final_score,
            ReviewParticipant.computed_score,
        )
        .join(Person, Person.id == ReviewParticipant.person_id)
        .where(ReviewParticipant.cycle_id == cycle.id, Person.active.is_(True))
        .order_by(ReviewParticipant.person_id)
    )
    rows = []
    for p in participants:
        score = decimal(p.final_score if p.final_score is not None else p.computed_score)
        rows.append(
            {
                "talent_review_id": review.id,
                "person_id": p.person_id,
                "manager_id": p.manager_id,
                "department": p.department,
                "performance_score": None if score is None else float(score),
                "performance": performance_from(score, medium, high),
                "high_potential": False,
                "version": 0,
            }
        )
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(TalentReviewEntry), rows[start : start + INSERT_CHUNK])
    return await _summary(session, actor, review)


async def start_calibration(
    session: AsyncSession, *, actor: Actor, talent_review_id: int, now: datetime
) -> TalentReviewSummary:
    """Close the rating and open calibration (HR). Already in calibration: unchanged, already_submitted."""
    return await _advance(
        session,
        actor,
        talent_review_id,
        TalentReviewStatus.RATING,
        TalentReviewStatus.CALIBRATION,
        {"calibration_started_at": now},
    )


async def finalize(
    session: AsyncSession, *, actor: Actor, talent_review_id: int, now: datetime
) -> TalentReviewSummary:
    """Lock the review after calibration (HR): nothing in it changes any more."""
    return await _advance(
        session,
        actor,
        talent_review_id,
        TalentReviewStatus.CALIBRATION,
        TalentReviewStatus.FINALIZED,
        {"finalized_at": now, "finalized_by_id": actor.person_id},
    )


async def set_opened_to_managers(
    session: AsyncSession, *, actor: Actor, talent_review_id: int, opened: bool, now: datetime
) -> TalentReviewSummary:
    """Open (or close again) the 9-box placements of each manager's line to them (HR). Allowed once
    finalized too: sharing the outcome with managers is what usually follows; nothing it shows changes."""
    require(may_manage_talent_reviews(actor), "talent reviews")
    if not isinstance(opened, bool):
        raise Invalid("Say whether managers see their line's placements: yes or no.")
    review = await _review_row(session, talent_review_id)
    if review.opened_to_managers == opened:
        return replace(await _summary(session, actor, review), already_submitted=True)
    review.opened_to_managers = opened
    await session.flush()
    return await _summary(session, actor, review)


# --- rating --------------------------------------------------------------------------------------------


async def rate(
    session: AsyncSession,
    *,
    actor: Actor,
    talent_review_id: int,
    person_id: int,
    ability: object,
    aspiration: object,
    engagement: object,
    risk_of_loss: object,
    impact_of_loss: object,
    high_potential: bool | None = None,
    notes: str | None = None,
    version: int,
    now: datetime,
) -> RatingRow:
    """Rate someone's potential (ability, aspiration, engagement), risk and impact of loss, each 1-3, while
    the review is in rating: their manager line, HR and talent reviewers in scope, never oneself.

    `version` is the one the form was read at: if someone saved since, RatingConflict with what is stored
    now (unless it is exactly what this form says: a second submit, already_submitted, written once).
    The high-potential flag is `high_potential` when given, else derived_high_potential."""
    review = await _review_row(session, talent_review_id)
    entry = await _entry_row(session, review.id, person_id)
    rel = await _relation(session, actor, entry)
    if not may_rate_potential(actor, rel):
        raise NotFound(PERSON_NOT_FOUND)
    if review.status != TalentReviewStatus.RATING.value:
        raise Invalid(
            f"Potential is rated while a talent review is in rating: this one is "
            f"{_where_review_is(TalentReviewStatus(review.status))}."
        )
    levels = {
        field: _level(value, field, label)
        for (field, label), value in zip(
            RATING_INPUTS, (ability, aspiration, engagement, risk_of_loss, impact_of_loss), strict=True
        )
    }
    if high_potential is not None and not isinstance(high_potential, bool):
        raise FieldInvalid(
            "high_potential", "Say whether they are a high potential: yes, no, or from the ratings."
        )
    text = _optional(notes, NOTES_MAX, "notes", "The notes")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid("The form sent a bad version: reload the page and rate again.")
    potential = potential_from(levels["ability"], levels["aspiration"], levels["engagement"])
    flag = (
        high_potential if high_potential is not None else derived_high_potential(potential, entry.performance)
    )
    values: dict[str, Any] = {**levels, "potential": potential, "high_potential": flag, "notes": text}
    unchanged = all(getattr(entry, key) == value for key, value in values.items())
    if entry.version != version:
        if unchanged and entry.rated_at is not None:
            return replace(await _rating_row(session, entry), already_submitted=True)
        latest = await _rating_row(session, entry)
        raise RatingConflict(
            f"Someone saved {latest.name}'s ratings meanwhile: {_describe(latest)}. Check them and save "
            "again.",
            latest,
        )
    if unchanged and entry.rated_at is not None:
        return replace(await _rating_row(session, entry), already_submitted=True)
    # Compare-and-set on the version and the review's status: of two saves racing (or a save racing the
    # start of calibration), one changes the row and the other finds nothing to change.
    changed = await session.execute(
        update(TalentReviewEntry)
        .where(
            TalentReviewEntry.id == entry.id,
            TalentReviewEntry.version == version,
            _review_in(review.id, TalentReviewStatus.RATING),
        )
        .values(**values, rated_by_id=actor.person_id, rated_at=now, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Someone changed this talent review meanwhile: reload the page and try again.")
    entry = await _entry_row(session, review.id, person_id)
    return await _rating_row(session, entry)


# --- calibration ---------------------------------------------------------------------------------------


async def move(
    session: AsyncSession,
    *,
    actor: Actor,
    talent_review_id: int,
    person_id: int,
    performance: object,
    potential: object,
    reason: str | None,
    now: datetime,
) -> MoveView:
    """Move someone to another cell during calibration, with a reason (HR and talent reviewers in scope):
    before, after, who, when and why are kept. The same move again by the same person with the same
    reason (a second submit): the first one, already_submitted."""
    review = await _review_row(session, talent_review_id)
    entry = await _entry_row(session, review.id, person_id)
    rel = await _relation(session, actor, entry)
    if not may_calibrate_talent(actor, rel):
        if may_view_talent(actor, rel, opened_to_line=review.opened_to_managers):
            require(False, "moving people on this 9-box")
        raise NotFound(PERSON_NOT_FOUND)
    status = TalentReviewStatus(review.status)
    if status is not TalentReviewStatus.CALIBRATION:
        raise Invalid(
            f"People are moved between cells during calibration: this talent review is "
            f"{_where_review_is(status)}."
        )
    after_performance = _level(performance, "performance", "Performance")
    after_potential = _level(potential, "potential", "Potential")
    labels = _labels_of(review)
    to_label = labels[box_index(after_performance, after_potential)]
    name = await session.scalar(select(Person.display_name).where(Person.id == person_id)) or "This person"
    why = (reason or "").strip()
    if not why:
        raise FieldInvalid("reason", f"A move needs a reason: say why {name} belongs in {to_label}.")
    if len(why) > REASON_MAX:
        raise FieldInvalid(
            "reason", f"The reason is too long: at most {REASON_MAX} characters (it has {len(why)})."
        )
    before = (entry.performance, entry.potential)
    if before == (after_performance, after_potential):
        latest = await session.scalar(
            select(TalentReviewMove)
            .where(TalentReviewMove.entry_id == entry.id)
            .order_by(TalentReviewMove.id.desc())
            .limit(1)
        )
        if latest is not None and latest.by_id == actor.person_id and latest.reason == why:
            return replace((await _moves(session, review, labels, [latest]))[0], already_submitted=True)
        raise FieldInvalid("box", f"{name} is in {to_label} already: choose another cell.")
    flag = entry.high_potential
    if entry.high_potential == derived_high_potential(entry.potential, entry.performance):
        # A flag that followed the inputs follows the move; one set by hand stays as it was set.
        flag = derived_high_potential(after_potential, after_performance)
    changed = await session.execute(
        update(TalentReviewEntry)
        .where(
            TalentReviewEntry.id == entry.id,
            _is(TalentReviewEntry.performance, entry.performance),
            _is(TalentReviewEntry.potential, entry.potential),
            _review_in(review.id, TalentReviewStatus.CALIBRATION),
        )
        .values(
            performance=after_performance,
            potential=after_potential,
            high_potential=flag,
            version=TalentReviewEntry.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Someone moved {name} meanwhile: reload the 9-box and try again.")
    recorded = TalentReviewMove(
        entry_id=entry.id,
        performance_before=before[0],
        potential_before=before[1],
        performance_after=after_performance,
        potential_after=after_potential,
        reason=why,
        by_id=actor.person_id,
        at=now,
    )
    session.add(recorded)
    await session.flush()
    return (await _moves(session, review, labels, [recorded]))[0]


# --- reads ---------------------------------------------------------------------------------------------


async def list_talent_reviews(session: AsyncSession, *, actor: Actor) -> TalentReviewList:
    """The talent reviews the reader takes part in, newest first: all of them for HR and talent
    reviewers; for managers those with someone they may rate (or, once opened, see). No talent data."""
    leads = may_view_talent_pages(actor)
    reviews = list(
        await session.scalars(
            select(TalentReview).order_by(TalentReview.created_at.desc(), TalentReview.id.desc())
        )
    )
    summaries = [
        s for s in await _summaries(session, actor, reviews) if leads or s.to_rate or s.may_view_grid
    ]
    may_open = may_manage_talent_reviews(actor)
    return TalentReviewList(
        reviews=tuple(summaries),
        may_open=may_open,
        closed_cycles=await closed_cycles(session, actor=actor) if may_open else (),
    )


async def nine_box(
    session: AsyncSession,
    *,
    actor: Actor,
    talent_review_id: int,
    department: str | None = None,
    per_cell: int | None = None,
    expand: str | None = None,
    expand_from: int = 0,
    expand_limit: int | None = None,
) -> NineBoxView:
    """The 9-box as far as the reader may see it: HR and talent reviewers (in their scope), and a
    manager's line once HR opened the review to managers; never the reader's own place. Only
    `department`'s people when given. With `per_cell`, each cell (and the unplaced) lists only its first
    people by name, except the cell `expand` names ("performance-potential", or "unplaced"), which lists
    everyone by name from position `expand_from` on (`expand_limit` of them at most: a page); the counts
    always cover everyone. Audited."""
    review = await _review_row(session, talent_review_id)
    cycle_name, scale = await _cycle_of(session, review)
    labels = _labels_of(review)
    status = TalentReviewStatus(review.status)
    rules = _Rules(actor, opened_to_line=review.opened_to_managers)
    groups = await _entry_groups(session, actor, review.id, _GRID_COLUMNS)
    answered = rules.ask(groups)
    visible = [(rows, answers) for rows, answers in answered if answers.view]
    ratable = any(answers.rate for _, answers in answered)
    if not (may_view_talent_pages(actor) or (review.opened_to_managers and visible)):
        # Whoever takes no part in a review is not told that it exists (the same answer as a wrong id);
        # a manager rating people in it knows, and is told the 9-box is not open to them.
        if not ratable:
            raise NotFound(REVIEW_NOT_FOUND)
        require(False, "this talent review's 9-box: HR has not opened it to managers")
    await audit(
        session,
        actor,
        action=VIEW_ACTION,
        subject_type="talent_review",
        subject_id=review.id,
        view="nine_box",
        people=sum(len(rows) for rows, _ in visible),
        department=department,
    )
    calibrating = status is TalentReviewStatus.CALIBRATION
    departments = tuple(sorted({rows[0][_DEPARTMENT] for rows, _ in visible} - {None}, key=str.casefold))
    movable = {
        row[_PERSON_ID] for rows, answers in visible if calibrating and answers.calibrate for row in rows
    }
    shown = sorted(
        (row for rows, _ in visible for row in rows if department is None or row[_DEPARTMENT] == department),
        key=_by_name,
    )
    # The unplaced are "cell" 9. Only the people listed become views: ten thousand of them would cost more
    # than the query.
    counts = [0] * 10
    listed: list[list[NineBoxPerson]] = [[] for _ in range(10)]
    # The positions in each cell that are listed, [start, stop) (stop None: to the end).
    windows: list[tuple[int, int | None]] = [(0, per_cell)] * 10
    keys = [f"{1 + i % 3}-{3 - i // 3}" for i in range(9)] + [UNPLACED]
    if expand in keys:
        start = max(expand_from, 0)
        windows[keys.index(expand)] = (start, None if expand_limit is None else start + expand_limit)
    high_potentials = 0
    for row in shown:
        performance, potential = row[_PERFORMANCE], row[_POTENTIAL]
        at = 9 if performance is None or potential is None else box_index(performance, potential)
        position, (start, stop) = counts[at], windows[at]
        counts[at] += 1
        high_potentials += bool(row[_HIGH_POTENTIAL])
        if start <= position and (stop is None or position < stop):
            listed[at].append(_chip(row, movable=row[_PERSON_ID] in movable))
    cells = tuple(
        NineBoxCell(
            performance=1 + i % 3,
            potential=3 - i // 3,
            label=labels[i],
            count=counts[i],
            people=tuple(listed[i]),
        )
        for i in range(9)
    )
    seen = {row[_ENTRY_ID] for row in shown}
    history = [m for m in await _review_moves(session, review.id) if m.entry_id in seen]
    return NineBoxView(
        talent_review_id=review.id,
        name=review.name,
        cycle_id=review.performance_cycle_id,
        cycle_name=cycle_name,
        status=status,
        opened_to_managers=review.opened_to_managers,
        scale=scale,
        medium_from=_stored(review.medium_from),
        high_from=_stored(review.high_from),
        labels=labels,
        cells=cells,
        unplaced_count=counts[9],
        unplaced=tuple(listed[9]),
        high_potentials=high_potentials,
        moves=await _moves(session, review, labels, history),
        departments=departments,
        department=department,
        may_move=bool(movable.intersection(row[_PERSON_ID] for row in shown)),
        may_manage=may_manage_talent_reviews(actor),
        may_rate=status is TalentReviewStatus.RATING and ratable,
    )


async def rating_sheet(
    session: AsyncSession,
    *,
    actor: Actor,
    talent_review_id: int,
    department: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> RatingSheet:
    """The people the reader may rate (their line; HR everyone; talent reviewers their scope), never
    themselves, by name, with the current inputs and versions; `department`'s only when given, and from
    `offset` at most `limit` of them when given. Audited."""
    review = await _review_row(session, talent_review_id)
    cycle_name, _ = await _cycle_of(session, review)
    rules = _Rules(actor, opened_to_line=review.opened_to_managers)
    groups = await _entry_groups(session, actor, review.id, _SHEET_COLUMNS)
    ratable = [row for rows, answers in rules.ask(groups) if answers.rate for row in rows]
    leads = may_view_talent_pages(actor)
    if not ratable and not leads:
        raise NotFound(REVIEW_NOT_FOUND)  # nobody in it is theirs: not told that it exists
    departments = tuple(sorted({r[_DEPARTMENT] for r in ratable} - {None}, key=str.casefold))
    matching = sorted(
        (r for r in ratable if department is None or r[_DEPARTMENT] == department), key=_by_name
    )
    start = max(offset, 0)
    page = matching[start : None if limit is None else start + max(limit, 0)]
    names = await display_names(session, [i for r in page for i in (r[_MANAGER_ID], r[_RATED_BY_ID])])
    await audit(
        session,
        actor,
        action=VIEW_ACTION,
        subject_type="talent_review",
        subject_id=review.id,
        view="ratings",
        people=len(page),
        department=department,
    )
    status = TalentReviewStatus(review.status)
    opened_grid = review.opened_to_managers and any(
        answers.view and answers.rate for _, answers in rules.ask(groups)
    )
    return RatingSheet(
        talent_review_id=review.id,
        name=review.name,
        cycle_name=cycle_name,
        status=status,
        editable=status is TalentReviewStatus.RATING,
        may_view_grid=leads or opened_grid,
        rows=tuple(_rating_view(r, names) for r in page),
        total=len(matching),
        rated=sum(r[_RATED_AT] is not None for r in matching),
        offset=start,
        departments=departments,
        department=department,
    )


# --- loading -------------------------------------------------------------------------------------------

_E = TalentReviewEntry
# The reads take rows, not objects (a review may hold ten thousand people), by position.
_BASE_COLUMNS: tuple[Any, ...] = (
    _E.id,
    _E.person_id,
    Person.display_name,
    Person.job_title,
    _E.department,
    _E.performance_score,
    _E.performance,
    _E.potential,
    _E.ability,
    _E.aspiration,
    _E.engagement,
    _E.risk_of_loss,
    _E.impact_of_loss,
    _E.high_potential,
)
(
    _ENTRY_ID,
    _PERSON_ID,
    _NAME,
    _JOB_TITLE,
    _DEPARTMENT,
    _SCORE,
    _PERFORMANCE,
    _POTENTIAL,
    _ABILITY,
    _ASPIRATION,
    _ENGAGEMENT,
    _RISK,
    _IMPACT,
    _HIGH_POTENTIAL,
) = range(len(_BASE_COLUMNS))
_GRID_COLUMNS = _BASE_COLUMNS
_SHEET_COLUMNS = (*_BASE_COLUMNS, _E.notes, _E.manager_id, _E.rated_by_id, _E.rated_at, _E.version)
_NOTES, _MANAGER_ID, _RATED_BY_ID, _RATED_AT, _VERSION = range(len(_BASE_COLUMNS), len(_SHEET_COLUMNS))
# Rows grouped by what the access rules depend on: (is the reader, in the reader's line, department).
_Groups = dict[tuple[bool, bool, str | None], list[Any]]


def _by_name(row: Any) -> tuple[str, int]:
    return row[_NAME].casefold(), row[_PERSON_ID]


@dataclass(frozen=True)
class _Answers:
    view: bool
    rate: bool
    calibrate: bool


class _Rules:
    """The access rules for a whole review: they depend only on (self, in the reader's line, department),
    and ten thousand rows share a handful of those, so each group is asked once."""

    def __init__(self, actor: Actor, *, opened_to_line: bool) -> None:
        self.actor = actor
        self.opened_to_line = opened_to_line

    def ask(self, groups: _Groups) -> list[tuple[list[Any], _Answers]]:
        answered = []
        for (own, in_line, department), rows in groups.items():
            rel = (
                Relation.to_self(self.actor)
                if own
                else Relation(is_self=False, in_line=in_line, subject_department=department)
            )
            answers = _Answers(
                view=may_view_talent(self.actor, rel, opened_to_line=self.opened_to_line),
                rate=may_rate_potential(self.actor, rel),
                calibrate=may_calibrate_talent(self.actor, rel),
            )
            answered.append((rows, answers))
        return answered


def _line_below(actor_id: int) -> Any:
    """The ids of everyone below the reader, at any depth (walking down their line)."""
    down = (
        select(Person.id.label("id"), literal(1).label("depth"))
        .where(Person.manager_id == actor_id)
        .cte("line_below", recursive=True)
    )
    step = (
        select(Person.id, down.c.depth + 1)
        .join(down, Person.manager_id == down.c.id)
        .where(down.c.depth < MAX_DEPTH)
    )
    return select(down.union_all(step).c.id)


async def _entry_groups(
    session: AsyncSession, actor: Actor, review_id: int, columns: Sequence[Any]
) -> _Groups:
    """Every entry of a review with the person's name and title, grouped by the reader's relation to
    them, in one query (run on the connection: plain rows, without the ORM's per-row work)."""
    in_line = case((_E.person_id.in_(_line_below(actor.person_id)), True), else_=False)
    query = (
        select(*columns, in_line)
        .join(Person, Person.id == _E.person_id)
        .where(_E.talent_review_id == review_id)
    )
    connection = await session.connection()
    me, last = actor.person_id, len(columns)
    groups: _Groups = {}
    for row in (await connection.execute(query)).all():
        key = (row[_PERSON_ID] == me, bool(row[last]), row[_DEPARTMENT])
        found = groups.get(key)
        if found is None:
            groups[key] = [row]
        else:
            found.append(row)
    return groups


def _chip(row: Any, *, movable: bool) -> NineBoxPerson:
    return NineBoxPerson(
        person_id=row[_PERSON_ID],
        name=row[_NAME],
        job_title=row[_JOB_TITLE],
        department=row[_DEPARTMENT],
        performance_score=decimal(row[_SCORE]),
        performance=row[_PERFORMANCE],
        potential=row[_POTENTIAL],
        ability=row[_ABILITY],
        aspiration=row[_ASPIRATION],
        engagement=row[_ENGAGEMENT],
        high_potential=bool(row[_HIGH_POTENTIAL]),
        risk_of_loss=row[_RISK],
        impact_of_loss=row[_IMPACT],
        movable=movable,
    )


def _rating_view(row: Any, names: Mapping[int, str]) -> RatingRow:
    potential, performance, flag = row[_POTENTIAL], row[_PERFORMANCE], bool(row[_HIGH_POTENTIAL])
    manager_id, rated_by_id = row[_MANAGER_ID], row[_RATED_BY_ID]
    return RatingRow(
        person_id=row[_PERSON_ID],
        name=row[_NAME],
        job_title=row[_JOB_TITLE],
        department=row[_DEPARTMENT],
        manager_name=names.get(manager_id) if manager_id is not None else None,
        performance_score=decimal(row[_SCORE]),
        performance=performance,
        ability=row[_ABILITY],
        aspiration=row[_ASPIRATION],
        engagement=row[_ENGAGEMENT],
        potential=potential,
        risk_of_loss=row[_RISK],
        impact_of_loss=row[_IMPACT],
        high_potential=flag,
        high_potential_overridden=potential is not None
        and flag != derived_high_potential(potential, performance),
        notes=row[_NOTES],
        rated_by_name=names.get(rated_by_id) if rated_by_id is not None else None,
        rated_at=row[_RATED_AT],
        version=row[_VERSION],
    )


async def _review_row(session: AsyncSession, talent_review_id: int) -> TalentReview:
    found = await session.get(TalentReview, talent_review_id, populate_existing=True)
    if found is None:
        raise NotFound(REVIEW_NOT_FOUND)
    return found


async def _entry_row(session: AsyncSession, review_id: int, person_id: int) -> TalentReviewEntry:
    found = await session.scalar(
        select(TalentReviewEntry)
        .where(TalentReviewEntry.talent_review_id == review_id, TalentReviewEntry.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(PERSON_NOT_FOUND)
    return found


async def _relation(session: AsyncSession, actor: Actor, entry: TalentReviewEntry) -> Relation:
    # The department frozen on the entry decides a talent reviewer's scope, as it does in the reads.
    return (await relations_to(session, actor, {entry.person_id: entry.department}))[entry.person_id]


async def _cycle_of(session: AsyncSession, review: TalentReview) -> tuple[str, tuple[str, ...]]:
    row = (
        await session.execute(
            select(ReviewCycle.name, ReviewTemplate.scale_labels)
            .join(ReviewTemplate, ReviewTemplate.id == ReviewCycle.template_id)
            .where(ReviewCycle.id == review.performance_cycle_id)
        )
    ).one()
    return row.name, tuple(row.scale_labels)


async def _review_moves(session: AsyncSession, review_id: int) -> list[TalentReviewMove]:
    return list(
        await session.scalars(
            select(TalentReviewMove)
            .join(TalentReviewEntry, TalentReviewEntry.id == TalentReviewMove.entry_id)
            .where(TalentReviewEntry.talent_review_id == review_id)
            .order_by(TalentReviewMove.at.desc(), TalentReviewMove.id.desc())
        )
    )


async def _moves(
    session: AsyncSession,
    review: TalentReview,
    labels: tuple[str, ...],
    moves: Sequence[TalentReviewMove],
    names: Mapping[int, str] | None = None,
) -> tuple[MoveView, ...]:
    """Views of moves: two queries (whose entries, and the names not already known)."""
    if not moves:
        return ()
    people = dict(
        (
            await session.execute(
                select(TalentReviewEntry.id, TalentReviewEntry.person_id).where(
                    TalentReviewEntry.id.in_({m.entry_id for m in moves})
                )
            )
        ).all()
    )
    known = dict(names or {})
    missing = {pid for pid in (*people.values(), *(m.by_id for m in moves)) if pid is not None} - known.keys()
    if missing:
        known.update(
            (
                await session.execute(select(Person.id, Person.display_name).where(Person.id.in_(missing)))
            ).all()
        )
    return tuple(
        MoveView(
            id=m.id,
            person_id=people[m.entry_id],
            person_name=known.get(people[m.entry_id], ""),
            by_name=known.get(m.by_id, "") if m.by_id is not None else "",
            at=m.at,
            from_performance=m.performance_before,
            from_potential=m.potential_before,
            from_label=box_label(labels, m.performance_before, m.potential_before),
            to_performance=m.performance_after,
            to_potential=m.potential_after,
            to_label=labels[box_index(m.performance_after, m.potential_after)],
            reason=m.reason,
        )
        for m in moves
    )


async def _rating_row(session: AsyncSession, entry: TalentReviewEntry) -> RatingRow:
    """One entry as its rating row (after a save, or to show what is stored now)."""
    row = (
        await session.execute(
            select(*_SHEET_COLUMNS).join(Person, Person.id == _E.person_id).where(_E.id == entry.id)
        )
    ).one()
    return _rating_view(row, await display_names(session, [row[_MANAGER_ID], row[_RATED_BY_ID]]))


async def _summary(session: AsyncSession, actor: Actor, review: TalentReview) -> TalentReviewSummary:
    return (await _summaries(session, actor, [review]))[0]


async def _summaries(
    session: AsyncSession, actor: Actor, reviews: Sequence[TalentReview]
) -> list[TalentReviewSummary]:
    """Summaries in two queries: the cycles' names, and entry counts grouped by what decides access
    (review, department, in the reader's line, the reader themselves) so the rules run per group."""
    if not reviews:
        return []
    ids = [r.id for r in reviews]
    cycle_names = dict(
        (
            await session.execute(
                select(ReviewCycle.id, ReviewCycle.name).where(
                    ReviewCycle.id.in_({r.performance_cycle_id for r in reviews})
                )
            )
        ).all()
    )
    E = TalentReviewEntry
    # Grouped in an outer query: PostgreSQL matches GROUP BY expressions literally, and these carry
    # parameters.
    entries = (
        select(
            E.talent_review_id.label("review_id"),
            E.department.label("department"),
            case((E.person_id.in_(_line_below(actor.person_id)), True), else_=False).label("in_line"),
            case((E.person_id == actor.person_id, True), else_=False).label("own"),
            E.rated_at.label("rated_at"),
        )
        .where(E.talent_review_id.in_(ids))
        .subquery()
    )
    keys = (entries.c.review_id, entries.c.department, entries.c.in_line, entries.c.own)
    groups = await session.execute(
        select(*keys, func.count(), func.count(entries.c.rated_at)).group_by(*keys)
    )
    counts: dict[int, list[int]] = {i: [0, 0, 0] for i in ids}  # people, to rate, rated
    line_opened: set[int] = set()
    by_id = {r.id: r for r in reviews}
    for review_id, department, line, own, people, rated in groups:
        rel = (
            Relation.to_self(actor)
            if own
            else Relation(is_self=False, in_line=bool(line), subject_department=department)
        )
        total = counts[review_id]
        total[0] += people
        if may_rate_potential(actor, rel):
            total[1] += people
            total[2] += rated
        if by_id[review_id].opened_to_managers and may_view_talent(actor, rel, opened_to_line=True):
            line_opened.add(review_id)
    leads = may_view_talent_pages(actor)
    manages = may_manage_talent_reviews(actor)
    return [
        TalentReviewSummary(
            id=r.id,
            name=r.name,
            cycle_id=r.performance_cycle_id,
            cycle_name=cycle_names.get(r.performance_cycle_id, ""),
            status=TalentReviewStatus(r.status),
            opened_to_managers=r.opened_to_managers,
            created_at=r.created_at,
            finalized_at=r.finalized_at,
            people=counts[r.id][0],
            to_rate=counts[r.id][1],
            rated=counts[r.id][2],
            may_view_grid=leads or r.id in line_opened,
            may_manage=manages,
        )
        for r in reviews
    ]


async def _advance(
    session: AsyncSession,
    actor: Actor,
    talent_review_id: int,
    source: TalentReviewStatus,
    target: TalentReviewStatus,
    values: Mapping[str, object],
) -> TalentReviewSummary:
    require(may_manage_talent_reviews(actor), "talent reviews")
    review = await _review_row(session, talent_review_id)
    current = TalentReviewStatus(review.status)
    if current is target:
        return replace(await _summary(session, actor, review), already_submitted=True)
    if current is not source:
        raise Invalid(_cannot_move(current, target))
    moved = await session.execute(
        update(TalentReview)
        .where(TalentReview.id == review.id, TalentReview.status == source.value)
        .values(status=target.value, **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This talent review moved on meanwhile: reload it and try again.")
    return await _summary(session, actor, await _review_row(session, review.id))


# --- small checks --------------------------------------------------------------------------------------


def _cannot_move(current: TalentReviewStatus, target: TalentReviewStatus) -> str:
    if current is TalentReviewStatus.FINALIZED:
        return "This talent review is finalized: nothing in it can change any more."
    if target is TalentReviewStatus.FINALIZED:
        return "Start calibration before finalizing: this talent review is still in rating."
    return f"This talent review can't go to {STATUS_LABELS[target]}: it is {_where_review_is(current)}."


def _where_review_is(status: TalentReviewStatus) -> str:
    if status is TalentReviewStatus.FINALIZED:
        return "finalized, and nothing in it can change any more"
    return f"in {STATUS_LABELS[status]}"


def _where_cycle_is(phase: Phase) -> str:
    if phase is Phase.DRAFT:
        return "is a draft"
    if phase is Phase.RELEASED:
        return "is released but not closed"
    return f"is in {PHASE_LABELS[phase]}"


def _review_in(review_id: int, status: TalentReviewStatus) -> ColumnElement[bool]:
    return exists().where(TalentReview.id == review_id, TalentReview.status == status.value)


def _is(column: Any, value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _level(value: object, field: str, label: str) -> int:
    """A 1-3 rating from a form or a caller: whole numbers only."""
    level: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        level = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 2:
        level = int(value.strip())
    if level not in LEVEL_LABELS:
        shown = "nothing" if value is None or value == "" else f"“{value}”"
        raise FieldInvalid(field, f"{label} must be 1 (low), 2 (medium) or 3 (high), not {shown}.")
    return level


def _optional(value: str | None, limit: int, field: str, what: str) -> str | None:
    try:
        return optional_text(value, limit, what)
    except Invalid as invalid:
        raise FieldInvalid(field, invalid.message) from None


def _threshold(value: object, field: str, what: str, points: int) -> Decimal:
    text = str(value).strip().replace(",", ".") if value is not None else ""
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        shown = f"“{value}”" if text else "nothing"
        raise FieldInvalid(
            field, f"The threshold for {what} must be a number on the scale, like 3.5, not {shown}."
        )
    if not 1 <= number <= points:
        raise FieldInvalid(
            field,
            f"The threshold for {what} must lie on the cycle's scale, 1 to {points}: {_number(number)} is "
            "outside it.",
        )
    return number


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _stored(value: float) -> Decimal:
    return Decimal(str(value))


def _checked_labels(labels: Sequence[object] | None) -> tuple[str, ...]:
    if labels is None:
        return DEFAULT_BOX_LABELS
    if isinstance(labels, str) or len(labels) != 9:
        count = 1 if isinstance(labels, str) else len(labels)
        raise FieldInvalid(
            "box_labels",
            f"The 9-box needs nine cell names, high potential row first: {count} "
            f"{'was' if count == 1 else 'were'} given.",
        )
    checked = []
    for number, label in enumerate(labels, start=1):
        text = label.strip() if isinstance(label, str) else ""
        if not text:
            raise FieldInvalid("box_labels", f"Cell name {number} is empty: name every cell.")
        if len(text) > BOX_LABEL_MAX:
            raise FieldInvalid(
                "box_labels", f"Cell name {number} is too long: at most {BOX_LABEL_MAX} characters."
            )
        checked.append(text)
    return tuple(checked)


def _labels_of(review: TalentReview) -> tuple[str, ...]:
    stored = review.box_labels
    if isinstance(stored, list) and len(stored) == 9 and all(isinstance(x, str) for x in stored):
        return tuple(stored)
    return DEFAULT_BOX_LABELS


def _describe(row: RatingRow) -> str:
    def level(value: int | None) -> str:
        return LEVEL_LABELS[value].lower() if value is not None else "not rated"

    parts = [f"{label.lower()} {level(getattr(row, field))}" for field, label in RATING_INPUTS]
    parts.append(f"high potential {'yes' if row.high_potential else 'no'}")
    return ", ".join(parts)

"""Succession planning: critical positions, their slates of successors, and the succession board.

A slate belongs to a position, not to whoever holds it, so it survives a change of incumbent
(mobility.fill_position only takes the new incumbent off it). Each successor has a readiness — ready now,
ready in 1-2 years, ready in 3-5 years — and optionally the months until ready, which must agree with it:
0 (or nothing) for ready now, 1 to 35 for 1-2 years (no category covers "under a year", and "two years"
lasts until the third begins), 36 to 60 for 3-5 years. At most one successor per position is the
emergency successor; naming another moves the flag in the same transaction.

Who: HR and talent reviewers for positions in their scope (access.may_manage_succession). Nobody touches
their own succession data: the actor is never put on a slate by themselves, never sees their own row on
any slate, and never sees their own risk and impact of loss. Every read is audited.

Bad input is refused with a sentence before anything is written; a tampered position or person id is
NotFound.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, false, func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain import metrics
from domain.access import (
    WHOLE_ORGANIZATION,
    Actor,
    Relation,
    Role,
    audit,
    may_manage_succession,
    may_view_talent,
    may_view_talent_pages,
    require,
)
from domain.errors import Forbidden, Invalid, NotFound
from domain.people_lookup import find_by_name
from domain.talent.placements import latest_entries
from domain.talent.succession_views import (
    LEVELS,
    MONTHS_RANGE,
    NOTES_MAX,
    READINESS,
    READINESS_LABELS,
    BoardView,
    FieldInvalid,
    FillView,
    IncumbentHeatMap,
    PersonRef,
    PositionCard,
    PositionSummary,
    RiskImpact,
    SlateView,
    SuccessorView,
)
from storage.models import Person, Position, PositionFill, Successor

NO_POSITION = "That position does not exist."
NO_PERSON = "That person is not in the directory."
OWN_DATA = "Nobody edits their own succession data: ask another HR admin or talent reviewer to do this."
# The fills shown on a position's page, newest first.
FILLS_SHOWN = 10


# --- writes ----------------------------------------------------------------------------------------------


async def set_critical(
    session: AsyncSession, *, actor: Actor, position_id: int, critical: bool, now: datetime
) -> PositionSummary:
    """Mark a position critical (it gets a card on the board) or not; its slate is kept either way."""
    position = await managed_position(session, actor, position_id)
    if position.critical != critical:
        position.critical = critical
        position.updated_at = now
        await session.flush()
        await audit(
            session,
            actor,
            action="talent.succession.set_critical",
            subject_type="position",
            subject_id=position.id,
            critical=critical,
        )
    incumbent = await session.get(Person, position.incumbent_id) if position.incumbent_id else None
    return PositionSummary(
        position_id=position.id,
        title=position.title,
        department=position.department,
        critical=position.critical,
        incumbent=_ref(incumbent) if incumbent else None,
    )


async def nominate(
    session: AsyncSession,
    *,
    actor: Actor,
    position_id: int,
    person_id: int,
    readiness: str,
    months_to_ready: int | None = None,
    notes: str | None = None,
    emergency: bool = False,
    now: datetime,
) -> SuccessorView:
    """Put someone on a critical position's slate (as its emergency successor when `emergency`)."""
    position = await managed_position(session, actor, position_id)
    person = await _person(session, actor, person_id)
    months, notes = _checked(readiness, months_to_ready, notes)
    if not person.active:
        raise FieldInvalid(
            "person_id", f"{person.display_name} has left the organization: only active people can be named."
        )
    if not position.critical:
        raise Invalid(
            f"{position.title} is not a critical position: mark it critical before naming successors."
        )
    if person.id == position.incumbent_id:
        raise FieldInvalid(
            "person_id",
            f"{person.display_name} holds {position.title} now: the incumbent can't be their own successor.",
        )
    taken = f"{person.display_name} is already on the slate for {position.title}."
    if await _slate_row(session, position.id, person.id) is not None:
        raise FieldInvalid("person_id", taken)
    row = Successor(
        position_id=position.id,
        person_id=person.id,
        readiness=readiness,
        months_to_ready=months,
        emergency=emergency,
        notes=notes,
        nominated_by_id=actor.person_id,
        nominated_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            if emergency:
                await _clear_emergency(session, position.id)
            session.add(row)
            await session.flush()
    except IntegrityError:
        # A second submit of the same form, racing the first in another transaction.
        raise FieldInvalid("person_id", taken) from None
    await _audit_write(session, actor, "talent.succession.nominate", position.id, person.id)
    return _successor(row, person)


async def update_successor(
    session: AsyncSession,
    *,
    actor: Actor,
    position_id: int,
    person_id: int,
    readiness: str,
    months_to_ready: int | None = None,
    notes: str | None = None,
    emergency: bool = False,
    now: datetime,
) -> SuccessorView:
    """Change a successor's readiness, months to ready, notes and whether they are the emergency one."""
    position = await managed_position(session, actor, position_id)
    person = await _person(session, actor, person_id)
    row = await _on_slate(session, position, person)
    months, notes = _checked(readiness, months_to_ready, notes)
    if emergency and not row.emergency:
        _able_to_step_in(person)
        await _clear_emergency(session, position.id)
    row.readiness = readiness
    row.months_to_ready = months
    row.notes = notes
    row.emergency = emergency
    row.updated_at = now
    await session.flush()
    await _audit_write(session, actor, "talent.succession.update", position.id, person.id)
    return _successor(row, person)


async def remove_successor(
    session: AsyncSession, *, actor: Actor, position_id: int, person_id: int, now: datetime
) -> None:
    """Take someone off a position's slate."""
    position = await managed_position(session, actor, position_id)
    person = await _person(session, actor, person_id)
    row = await _on_slate(session, position, person)
    await session.delete(row)
    await session.flush()
    await _audit_write(session, actor, "talent.succession.remove", position.id, person.id)


async def set_emergency(
    session: AsyncSession, *, actor: Actor, position_id: int, person_id: int, now: datetime
) -> SuccessorView:
    """Make a successor the position's emergency successor, taking the flag from whoever had it."""
    position = await managed_position(session, actor, position_id)
    person = await _person(session, actor, person_id)
    row = await _on_slate(session, position, person)
    if not row.emergency:
        _able_to_step_in(person)
        await _clear_emergency(session, position.id)
        row.emergency = True
        row.updated_at = now
        await session.flush()
        await _audit_write(session, actor, "talent.succession.emergency", position.id, person.id)
    return _successor(row, person)


async def resolve_person(session: AsyncSession, *, actor: Actor, text: str | None) -> int:
    """The one person typed into a picker: an email address (exact, any case) or a name. FieldInvalid
    ("person_id") when it names no one or several people."""
    require(may_view_talent_pages(actor), "succession planning")
    wanted = " ".join((text or "").split())
    if not wanted:
        raise FieldInvalid("person_id", "Type the person's email address or full name.")
    if len(wanted) > 320:
        raise FieldInvalid("person_id", "That is too long for a name or an email address.")
    if "@" in wanted:
        found = await session.scalar(select(Person.id).where(func.lower(Person.email) == wanted.lower()))
        if found is None:
            raise FieldInvalid("person_id", f"No one in the directory has the email address “{wanted}”.")
        return found
    matches = await find_by_name(session, actor=actor, name=wanted)
    if not matches:
        raise FieldInvalid("person_id", f"No one in the directory matches “{wanted}”.")
    if len(matches) > 1:
        names = ", ".join(m.display_name for m in matches[:8])
        raise FieldInvalid(
            "person_id", f"“{wanted}” matches several people ({names}): type the full name or the email."
        )
    return matches[0].id


# --- reads -----------------------------------------------------------------------------------------------


async def succession_board(
    session: AsyncSession, *, actor: Actor, department: str | None = None
) -> BoardView:
    """Every critical position the actor covers (HR: all; talent reviewers: their scope) as a card, the
    bench figures and the risk x impact heat map of their incumbents; one audit entry."""
    require(may_view_talent_pages(actor), "the succession board")
    department = " ".join(department.split()) if department else None
    if department and not may_manage_succession(actor, department=department):
        raise Forbidden(f"You don't have access to the succession board for {department}.")
    where = [Position.critical.is_(True), scope_clause(actor)]
    if department:
        where.append(Position.department == department)
    incumbent = aliased(Person)
    rows = (
        await session.execute(
            select(
                Position.id,
                Position.title,
                Position.department,
                incumbent.id,
                incumbent.display_name,
                incumbent.job_title,
                incumbent.department,
                incumbent.active,
            )
            .outerjoin(incumbent, incumbent.id == Position.incumbent_id)
            .where(*where)
        )
    ).all()
    slates = await _slates(session, actor, select(Position.id).where(*where), active_only=True)
    incumbents = {
        row[3]: _row_ref(row[3:8]) for row in rows if row[3] is not None and row[3] != actor.person_id
    }
    ratings = await _risk_impact(session, actor, incumbents.values())
    cards = sorted(
        (
            PositionCard(
                position_id=row[0],
                title=row[1],
                department=row[2],
                critical=True,
                incumbent=_row_ref(row[3:8]) if row[3] is not None else None,
                risk_impact=ratings.get(row[3]) if row[3] is not None else None,
                successors=tuple(slates.get(row[0], ())),
            )
            for row in rows
        ),
        key=lambda c: ((c.department or "").casefold(), c.title.casefold(), c.position_id),
    )
    counts = [[0, 0, 0] for _ in LEVELS]
    for rating in ratings.values():
        counts[rating.impact - 1][rating.risk - 1] += 1
    departments = await session.scalars(
        select(Position.department)
        .where(Position.critical.is_(True), scope_clause(actor), Position.department.is_not(None))
        .distinct()
    )
    # The board's own audit row records this view, figures included.
    bench = await metrics.bench_strength(session, actor=actor, department=department, audit=False)
    await audit(
        session,
        actor,
        action="talent.succession.view",
        subject_type="succession_board",
        subject_id=None,
        department=department,
        positions=len(cards),
    )
    return BoardView(
        department=department,
        departments=tuple(sorted((d for d in departments if d), key=str.casefold)),
        bench=bench,
        heat_map=IncumbentHeatMap(
            counts=tuple(tuple(row) for row in counts),
            unrated=len({pid for pid, ref in incumbents.items() if ref.active}) - len(ratings),
        ),
        cards=tuple(cards),
    )


async def position_slate(session: AsyncSession, *, actor: Actor, position_id: int) -> SlateView:
    """One position in full for its edit page: incumbent, risk x impact, the whole slate (people who left
    included, so they can be taken off) and its latest fills; one audit entry."""
    position = await managed_position(session, actor, position_id)
    incumbent = await session.get(Person, position.incumbent_id) if position.incumbent_id else None
    ref = _ref(incumbent) if incumbent is not None else None
    ratings = (
        await _risk_impact(session, actor, [ref])
        if ref is not None and ref.id != actor.person_id and ref.active
        else {}
    )
    slates = await _slates(session, actor, [position.id], active_only=False)
    card = PositionCard(
        position_id=position.id,
        title=position.title,
        department=position.department,
        critical=position.critical,
        incumbent=ref,
        risk_impact=ratings.get(ref.id) if ref is not None else None,
        successors=tuple(slates.get(position.id, ())),
    )
    fills = await fill_views(session, actor, [PositionFill.position_id == position.id], limit=FILLS_SHOWN)
    await audit(
        session,
        actor,
        action="talent.succession.view_position",
        subject_type="position",
        subject_id=position.id,
        successors=len(card.successors),
    )
    return SlateView(card=card, fills=tuple(fills))


async def list_positions(
    session: AsyncSession, *, actor: Actor, department: str | None = None
) -> list[PositionSummary]:
    """The positions the actor may plan for (critical or not), by department and title: directory data."""
    require(may_view_talent_pages(actor), "succession planning")
    incumbent = aliased(Person)
    query = (
        select(
            Position.id,
            Position.title,
            Position.department,
            Position.critical,
            incumbent.id,
            incumbent.display_name,
            incumbent.job_title,
            incumbent.department,
            incumbent.active,
        )
        .outerjoin(incumbent, incumbent.id == Position.incumbent_id)
        .where(scope_clause(actor))
    )
    if department:
        query = query.where(Position.department == department)
    rows = (await session.execute(query)).all()
    found = [
        PositionSummary(
            position_id=row[0],
            title=row[1],
            department=row[2],
            critical=row[3],
            incumbent=_row_ref(row[4:9]) if row[4] is not None else None,
        )
        for row in rows
    ]
    return sorted(found, key=lambda p: ((p.department or "").casefold(), p.title.casefold(), p.position_id))


async def fill_views(
    session: AsyncSession, actor: Actor, where: Sequence[ColumnElement[bool]], *, limit: int | None = None
) -> list[FillView]:
    """Fills matching `where` in positions the actor covers, newest first, never the actor's own (whether
    they came from a slate is succession data about them). Callers check access and audit."""
    person, previous, recorder = aliased(Person), aliased(Person), aliased(Person)
    query = (
        select(
            PositionFill,
            Position.title,
            Position.department,
            person.id,
            person.display_name,
            person.job_title,
            person.department,
            person.active,
            previous.id,
            previous.display_name,
            previous.job_title,
            previous.department,
            previous.active,
            recorder.display_name,
        )
        .join(Position, Position.id == PositionFill.position_id)
        .join(person, person.id == PositionFill.person_id)
        .outerjoin(previous, previous.id == PositionFill.previous_incumbent_id)
        .outerjoin(recorder, recorder.id == PositionFill.recorded_by_id)
        .where(*where, scope_clause(actor), PositionFill.person_id != actor.person_id)
        .order_by(PositionFill.filled_on.desc(), PositionFill.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    views = []
    for fill, title, department, *rest in (await session.execute(query)).all():
        views.append(
            FillView(
                id=fill.id,
                position_id=fill.position_id,
                position_title=title,
                department=department,
                person=_row_ref(rest[0:5]),
                previous_incumbent=_row_ref(rest[5:10]) if rest[5] is not None else None,
                filled_on=fill.filled_on,
                source=fill.source,
                from_slate=fill.from_slate,
                recorded_by=rest[10],
                recorded_at=fill.recorded_at,
            )
        )
    return views


# --- helpers ---------------------------------------------------------------------------------------------


def scope_clause(actor: Actor) -> ColumnElement[bool]:
    """The positions the actor covers, as a WHERE clause (the SQL form of may_manage_succession)."""
    if actor.has(Role.HR_ADMIN) or WHOLE_ORGANIZATION in actor.talent_scope:
        return true()
    if not actor.has(Role.TALENT_REVIEWER) or not actor.talent_scope:
        return false()
    return Position.department.in_(sorted(actor.talent_scope))


async def managed_position(session: AsyncSession, actor: Actor, position_id: int) -> Position:
    """The position, if it exists (NotFound) and the actor may plan its succession (Forbidden)."""
    position = await session.get(Position, position_id)
    if position is None:
        raise NotFound(NO_POSITION)
    require(may_manage_succession(actor, department=position.department), "this position's succession plan")
    return position


async def _person(session: AsyncSession, actor: Actor, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(NO_PERSON)
    if person.id == actor.person_id:
        raise Forbidden(OWN_DATA)
    return person


async def _slate_row(session: AsyncSession, position_id: int, person_id: int) -> Successor | None:
    return await session.scalar(
        select(Successor).where(Successor.position_id == position_id, Successor.person_id == person_id)
    )


async def _on_slate(session: AsyncSession, position: Position, person: Person) -> Successor:
    row = await _slate_row(session, position.id, person.id)
    if row is None:
        raise NotFound(f"{person.display_name} is not on the slate for {position.title}.")
    return row


def _able_to_step_in(person: Person) -> None:
    if not person.active:
        raise FieldInvalid(
            "person_id",
            f"{person.display_name} has left the organization: they can't be the emergency successor.",
        )


async def _clear_emergency(session: AsyncSession, position_id: int) -> None:
    # Its own statement, run before the new flag is written: the one-emergency index is checked per row.
    await session.execute(
        update(Successor)
        .where(Successor.position_id == position_id, Successor.emergency.is_(True))
        .values(emergency=False)
        .execution_options(synchronize_session="fetch")
    )


def _checked(readiness: str, months_to_ready: int | None, notes: str | None) -> tuple[int | None, str | None]:
    """The months and notes to store, once readiness, months and notes agree; FieldInvalid otherwise."""
    if readiness not in READINESS:
        raise FieldInvalid(
            "readiness", "Choose a readiness: ready now, ready in 1\u20132 years or ready in 3\u20135 years."
        )
    months = months_to_ready
    if months is not None:
        if isinstance(months, bool) or not isinstance(months, int):
            raise FieldInvalid("months_to_ready", "Months to ready must be a whole number.")
        low, high = MONTHS_RANGE[readiness]
        if months < 0:
            raise FieldInvalid("months_to_ready", "Months to ready can't be negative.")
        if not low <= months <= high:
            label = READINESS_LABELS[readiness]
            allowed = "0" if high == 0 else f"{low} to {high}"
            raise FieldInvalid(
                "months_to_ready",
                f"{label} means {allowed} months to ready, not {months}: change the months or the readiness.",
            )
    text = (notes or "").strip()
    if len(text) > NOTES_MAX:
        raise FieldInvalid(
            "notes", f"The notes are too long: at most {NOTES_MAX} characters (they have {len(text)})."
        )
    return months, text or None


async def _slates(
    session: AsyncSession, actor: Actor, position_ids: Any, *, active_only: bool
) -> dict[int, list[SuccessorView]]:
    """The slates of the positions (ids, or a subquery of them), each ordered nearest readiness first, then
    by name; never the actor's own row. One query."""
    query = (
        select(
            Successor.position_id,
            Successor.readiness,
            Successor.months_to_ready,
            Successor.emergency,
            Successor.notes,
            Person.id,
            Person.display_name,
            Person.job_title,
            Person.department,
            Person.active,
        )
        .join(Person, Person.id == Successor.person_id)
        .where(Successor.position_id.in_(position_ids), Successor.person_id != actor.person_id)
    )
    if active_only:
        query = query.where(Person.active.is_(True))
    slates: dict[int, list[SuccessorView]] = defaultdict(list)
    for row in (await session.execute(query)).all():
        slates[row[0]].append(
            SuccessorView(
                person=_row_ref(row[5:10]),
                readiness=row[1],
                months_to_ready=row[2],
                emergency=row[3],
                notes=row[4],
            )
        )
    for slate in slates.values():
        slate.sort(key=_slate_order)
    return slates


def _slate_order(successor: SuccessorView) -> tuple[int, str, int]:
    return (READINESS.index(successor.readiness), successor.person.name.casefold(), successor.person.id)


async def _risk_impact(
    session: AsyncSession, actor: Actor, people: Iterable[PersonRef]
) -> dict[int, RiskImpact]:
    """Risk x impact of loss from each person's latest talent review, for those the actor may see (never
    themselves, nobody who left) and who have both rated. One query."""
    visible = {
        p.id
        for p in people
        if p.active
        and may_view_talent(
            actor, Relation(is_self=p.id == actor.person_id, in_line=False, subject_department=p.department)
        )
    }
    if not visible:
        return {}
    entries = await latest_entries(session, visible)
    return {
        pid: RiskImpact(risk=e.risk_of_loss, impact=e.impact_of_loss)
        for pid, e in entries.items()
        if e.risk_of_loss is not None and e.impact_of_loss is not None
    }


async def _audit_write(
    session: AsyncSession, actor: Actor, action: str, position_id: int, person_id: int
) -> None:
    await audit(
        session, actor, action=action, subject_type="position", subject_id=position_id, person_id=person_id
    )


def _successor(row: Successor, person: Person) -> SuccessorView:
    return SuccessorView(
        person=_ref(person),
        readiness=row.readiness,
        months_to_ready=row.months_to_ready,
        emergency=row.emergency,
        notes=row.notes,
    )


def _ref(person: Person) -> PersonRef:
    return PersonRef(
        id=person.id,
        name=person.display_name,
        title=person.job_title,
        department=person.department,
        active=person.active,
    )


def _row_ref(values: Sequence[Any]) -> PersonRef:
    pid, name, title, department, active = values
    return PersonRef(id=pid, name=name, title=title, department=department, active=bool(active))

"""Calibration of review scores: a cycle's manager ratings side by side, and adjustments with a reason.

Who: HR, and calibration leads (talent reviewers, for the departments in their scope: PRODUCT.md gives
them "calibration for their scope"); nobody calibrates their own score (domain/access.may_calibrate).
The view shows each participant's computed and final score, the distribution over the scale's points
overall, per manager and per department, and the advisory guideline (percent per point; shown, never
enforced, and marked as not applying below GUIDELINE_MIN_PEOPLE scored people). Adjusting (calibrate)
happens only in the calibration phase, needs a reason, and keeps before, after, reason, who and when in
review_calibrations; the person reviewed sees none of it before release, and never the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, Role, may_calibrate, may_manage_reviews, require
from domain.errors import Conflict, Invalid, NotFound
from domain.org import display_names as names
from domain.performance.review_records import cycle_row
from domain.performance.review_scoring import (
    band,
    calibrated_score,
    decimal,
    distribution,
    guideline,
    rounded,
    validate_guideline,
)
from domain.performance.review_templates import load_template
from domain.performance.review_views import (
    PHASE_LABELS,
    REASON_MAX,
    AdjustmentView,
    CalibrationRow,
    CalibrationView,
    Distribution,
    Phase,
    ReviewerRole,
    ReviewStatus,
)
from domain.text import required_text
from storage.models import Review, ReviewCalibration, ReviewCycle, ReviewParticipant

EVERYONE = "Everyone"
NO_MANAGER = "No manager"
NO_DEPARTMENT = "No department"


async def calibration_view(session: AsyncSession, *, actor: Actor, cycle_id: int) -> CalibrationView:
    """A launched cycle's scores side by side, as far as the actor's scope reaches (HR: everyone)."""
    _require_calibrator(actor)
    cycle = await cycle_row(session, cycle_id)
    if cycle.phase == Phase.DRAFT:
        raise Invalid("This cycle hasn't launched: there is nothing to calibrate yet.")
    return await _view(session, actor, cycle)


async def calibrate(
    session: AsyncSession,
    *,
    actor: Actor,
    cycle_id: int,
    person_id: int,
    score: object,
    reason: str,
    now: datetime,
) -> CalibrationView:
    """Set a participant's final score during calibration, with a reason (kept with before, after, who,
    when). The same change again by the same person with the same reason: unchanged, already_submitted."""
    _require_calibrator(actor)
    cycle = await cycle_row(session, cycle_id)
    participant = await session.scalar(
        select(ReviewParticipant)
        .where(ReviewParticipant.cycle_id == cycle_id, ReviewParticipant.person_id == person_id)
        .execution_options(populate_existing=True)
    )
    if participant is None:
        raise NotFound("That person is not reviewed in this cycle.")
    require(
        may_calibrate(actor, department=participant.department, is_self=person_id == actor.person_id),
        "this person's calibration",
    )
    if cycle.phase != Phase.CALIBRATION:
        raise Invalid(
            f"Scores are adjusted during calibration: this cycle is in {PHASE_LABELS[Phase(cycle.phase)]}."
        )
    why = required_text(reason, REASON_MAX, "The reason for the change")
    template = await load_template(session, cycle.template_id)
    after = calibrated_score(score, len(template.scale))
    before = decimal(participant.final_score)
    if before == after:
        latest = await session.scalar(
            select(ReviewCalibration)
            .where(ReviewCalibration.participant_id == participant.id)
            .order_by(ReviewCalibration.id.desc())
            .limit(1)
        )
        if latest is not None and latest.by_id == actor.person_id and latest.reason == why:
            return replace(await _view(session, actor, cycle), already_submitted=True)
        person = (await names(session, [person_id])).get(person_id, "This person")
        raise Invalid(f"{person}'s score is {after} already: there is nothing to change.")
    # Compare-and-set: someone else's adjustment since this one was read leaves no row to change.
    unchanged = (
        ReviewParticipant.final_score.is_(None)
        if participant.final_score is None
        else ReviewParticipant.final_score == participant.final_score
    )
    changed = await session.execute(
        update(ReviewParticipant)
        .where(ReviewParticipant.id == participant.id, unchanged)
        .values(final_score=float(after))
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("Someone changed this score meanwhile: reload the calibration and try again.")
    session.add(
        ReviewCalibration(
            participant_id=participant.id,
            before=None if before is None else float(before),
            after=float(after),
            reason=why,
            by_id=actor.person_id,
            at=now,
        )
    )
    await session.flush()
    return await _view(session, actor, cycle)


async def set_guideline(
    session: AsyncSession, *, actor: Actor, cycle_id: int, percentages: Sequence[int], now: datetime
) -> CalibrationView:
    """Set a cycle's advisory distribution guideline (HR), until it is released: percent per point of the
    scale, lowest first, adding up to 100."""
    require(may_manage_reviews(actor), "review cycles")
    cycle = await cycle_row(session, cycle_id)
    if Phase(cycle.phase) in (Phase.RELEASED, Phase.CLOSED):
        raise Invalid("This cycle's results are released: its guideline can't change any more.")
    template = await load_template(session, cycle.template_id)
    cycle.guideline = list(validate_guideline(list(percentages), len(template.scale)))
    cycle.updated_at = now
    await session.flush()
    return await _view(session, actor, cycle)


def _require_calibrator(actor: Actor) -> None:
    require(actor.has(Role.HR_ADMIN) or actor.has(Role.TALENT_REVIEWER), "calibration")


async def _view(session: AsyncSession, actor: Actor, cycle: ReviewCycle) -> CalibrationView:
    template = await load_template(session, cycle.template_id)
    points = len(template.scale)
    participants = [
        p
        for p in await session.scalars(
            select(ReviewParticipant)
            .where(ReviewParticipant.cycle_id == cycle.id)
            .execution_options(populate_existing=True)
        )
        if may_calibrate(actor, department=p.department, is_self=p.person_id == actor.person_id)
    ]
    statuses = dict(
        (
            await session.execute(
                select(Review.participant_id, Review.status).where(
                    Review.cycle_id == cycle.id, Review.role == ReviewerRole.MANAGER.value
                )
            )
        ).all()
    )
    visible = {p.id for p in participants}
    adjustments = [
        a
        for a in await session.scalars(
            select(ReviewCalibration)
            .join(ReviewParticipant, ReviewParticipant.id == ReviewCalibration.participant_id)
            .where(ReviewParticipant.cycle_id == cycle.id)
            .order_by(ReviewCalibration.at.desc(), ReviewCalibration.id.desc())
        )
        if a.participant_id in visible
    ]
    calibrated = {a.participant_id for a in adjustments}
    people = await names(
        session,
        [pid for p in participants for pid in (p.person_id, p.manager_id)] + [a.by_id for a in adjustments],
    )
    rows = []
    for p in sorted(participants, key=lambda p: (people.get(p.person_id, ""), p.id)):
        final = decimal(p.final_score)
        status = statuses.get(p.id)
        rows.append(
            CalibrationRow(
                participant_id=p.id,
                person_id=p.person_id,
                person_name=people.get(p.person_id, ""),
                department=p.department,
                manager_id=p.manager_id,
                manager_name=people.get(p.manager_id) if p.manager_id is not None else None,
                manager_review=ReviewStatus(status) if status is not None else None,
                computed=decimal(p.computed_score),
                final=final,
                band=band(final, points),
                calibrated=p.id in calibrated,
            )
        )
    overall = distribution(EVERYONE, [r.band for r in rows], points)
    by_participant = {p.id: p for p in participants}
    return CalibrationView(
        cycle_id=cycle.id,
        cycle_name=cycle.name,
        phase=Phase(cycle.phase),
        editable=cycle.phase == Phase.CALIBRATION,
        scale=template.scale,
        rows=tuple(rows),
        overall=overall,
        by_manager=_grouped(rows, lambda r: r.manager_name or NO_MANAGER, points),
        by_department=_grouped(rows, lambda r: r.department or NO_DEPARTMENT, points),
        guideline=guideline(cycle.guideline, overall.scored),
        adjustments=tuple(
            AdjustmentView(
                id=a.id,
                participant_id=a.participant_id,
                person_name=people.get(by_participant[a.participant_id].person_id, ""),
                before=decimal(a.before),
                after=rounded(Decimal(str(a.after))),
                reason=a.reason,
                by_id=a.by_id,
                by_name=people.get(a.by_id, "") if a.by_id is not None else "",
                at=a.at,
            )
            for a in adjustments
        ),
    )


def _grouped(
    rows: Sequence[CalibrationRow], key: Callable[[CalibrationRow], str], points: int
) -> tuple[Distribution, ...]:
    groups: dict[str, list[int | None]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r.band)
    return tuple(distribution(label, bands, points) for label, bands in sorted(groups.items()))

"""Review forms: fill in one's review step by step, drafts saved per item and merged, submit once.

A review belongs to its reviewer: every id that is not one's own review reads as "does not exist", like
an id that isn't there. The form (review_form) lists the sections the reviewer's role answers, in order,
one step each, with the answers saved so far and the step to resume at; the manager's form also carries the
reviewee's submitted self review and their goals' results, to read beside it.

Drafts (save_step) are saved per item and merged. A form sends the review version it showed; an item
someone changed since then is merged three ways against the value that version had (kept in the answer's
revisions): the sender's value wins where only they changed it, the other's where only the other did,
and where both changed it to different values nothing of the step is saved and ReviewChanged carries the
latest form, the items in conflict and what the person sent, so nothing typed is lost. A review can be
written from the moment it exists until its phase closes (review_phases.open_for); submitting checks the
required items and names the first one missing (ReviewIncomplete); a second submit writes nothing.

Submitting the manager review computes the participant's score (review_scoring) and stores it;
calibration may change the final score afterwards (calibration.py). Results: review_results.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.access import Actor, may_write_review
from domain.errors import Conflict, Invalid, NotFound
from domain.org import display_names as names
from domain.performance.review_phases import closed_message, open_for
from domain.performance.review_records import (
    REVIEW_NOT_FOUND,
    answers_of,
    form_sections,
    goal_results,
    phase_row,
    role_sections,
    section_ratings,
)
from domain.performance.review_scoring import breakdown
from domain.performance.review_templates import load_template
from domain.performance.review_views import (
    ANSWER_MAX,
    BLANK_ANSWER,
    ROLE_PHASE,
    AnswerConflict,
    AnswerInput,
    AnswerView,
    FormItem,
    FormSection,
    GoalResult,
    ItemKind,
    Phase,
    ReviewerRole,
    ReviewFormView,
    ReviewStatus,
    SectionKind,
    SectionView,
    SubmittedReview,
    TemplateView,
)
from domain.text import optional_text
from storage.models import Review, ReviewAnswer, ReviewAnswerRevision, ReviewCycle, ReviewParticipant

SAVE_ATTEMPTS = 3


class ReviewChanged(Conflict):
    """Nothing of the step was saved: items in it were changed meanwhile to other values than the person's.
    `latest` is the form as it is now, `conflicts` the items both changed, `answers` what the person sent."""

    def __init__(
        self,
        message: str,
        latest: ReviewFormView,
        conflicts: tuple[AnswerConflict, ...],
        answers: Mapping[str, AnswerInput],
    ) -> None:
        super().__init__(message)
        self.latest = latest
        self.conflicts = conflicts
        self.answers = dict(answers)


class ReviewIncomplete(Invalid):
    """A required item has no answer at submit: `section_id`, `item_key` and `step` say where it is."""

    def __init__(self, message: str, section_id: int, item_key: str, step: int) -> None:
        super().__init__(message)
        self.section_id = section_id
        self.item_key = item_key
        self.step = step


# --- the reviewer's form ---------------------------------------------------------------------------------


async def review_form(
    session: AsyncSession, *, actor: Actor, review_id: int, now: datetime
) -> ReviewFormView:
    """One's own review form: every step, the answers saved so far, the step to resume at."""
    review = await _own_review(session, actor, review_id)
    return await _form(session, review, now)


async def save_step(
    session: AsyncSession,
    *,
    actor: Actor,
    review_id: int,
    section_id: int,
    answers: Mapping[str, AnswerInput],
    expected_version: int,
    now: datetime,
) -> ReviewFormView:
    """Save the answers of one step (a section) of one's own review as a draft, item by item, and remember
    the step after it as where to resume. `answers` maps item keys to answers (all None clears one).

    Merged with changes made since `expected_version` (see the module); ReviewChanged when both sides
    changed an item differently. On a submitted review: the form unchanged, already_submitted set."""
    review = await _own_review(session, actor, review_id)
    for _attempt in range(SAVE_ATTEMPTS):
        if review.status == ReviewStatus.SUBMITTED:
            return replace(await _form(session, review, now), already_submitted=True)
        context = await _context(session, review, now)
        step, section = context.section(section_id)
        clean = _validated(section, answers, len(context.template.scale))
        current = await _answer_rows(session, review.id, section.id, list(clean))
        conflicts, changed = await _merge(session, section, clean, current, expected_version)
        if conflicts:
            latest = await _form(session, review, now)
            raise ReviewChanged(_conflict_message(conflicts), latest, conflicts, answers)
        next_step = min(step + 1, len(context.sections) - 1)
        if await _claim_save(session, review, bool(changed), next_step, now):
            await _write_answers(session, actor, review, section.id, changed, current, now)
            await session.refresh(review)
            return await _form(session, review, now)
        # A save of the same review committed meanwhile: merge against it.
        review = await _reload(session, review.id)
    raise Conflict("This review is being saved from somewhere else at the same moment: try again.")


async def submit_review(
    session: AsyncSession, *, actor: Actor, review_id: int, now: datetime
) -> ReviewFormView:
    """Submit one's own review: every required item answered, its phase still open. A second submit
    returns the form unchanged with already_submitted set. A manager review's submit computes the score."""
    review = await _own_review(session, actor, review_id)
    for _attempt in range(SAVE_ATTEMPTS):
        if review.status == ReviewStatus.SUBMITTED:
            return replace(await _form(session, review, now), already_submitted=True)
        context = await _context(session, review, now)
        _check_required(context)
        # Compare-and-set on the version too: answers saved meanwhile are checked again before submitting.
        submitted = await session.execute(
            update(Review)
            .where(
                Review.id == review.id,
                Review.version == review.version,
                Review.status != ReviewStatus.SUBMITTED.value,
            )
            .values(status=ReviewStatus.SUBMITTED.value, submitted_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        review = await _reload(session, review.id)
        if submitted.rowcount == 1:  # type: ignore[attr-defined]
            break
    else:
        raise Conflict("This review is being saved from somewhere else at the same moment: try again.")
    if review.role == ReviewerRole.MANAGER:
        score, _parts = breakdown(section_ratings(context.template, ReviewerRole.MANAGER, context.answers))
        stored = None if score is None else float(score)
        await session.execute(
            update(ReviewParticipant)
            .where(ReviewParticipant.id == review.participant_id)
            .values(computed_score=stored, final_score=stored, manager_submitted_at=now)
        )
    return await _form(session, review, now)


def _check_required(context: _Context) -> None:
    """ReviewIncomplete naming the first required item without an answer, in form order."""
    for form_section in form_sections(context.sections, context.goals, context.answers):
        for item in form_section.items:
            if item.required and not _answered(item):
                raise ReviewIncomplete(
                    f"Answer “{item.text}” in “{form_section.title}” (step {form_section.step + 1} of "
                    f"{len(context.sections)}) before you submit.",
                    form_section.id,
                    item.key,
                    form_section.step,
                )


# --- building forms --------------------------------------------------------------------------------------


class _Context:
    """What a review's form is made of: its cycle, template, sections, the reviewee's goals, answers."""

    def __init__(
        self,
        cycle: ReviewCycle,
        template: TemplateView,
        sections: tuple[SectionView, ...],
        goals: tuple[GoalResult, ...],
        answers: dict[tuple[int, str], AnswerView],
    ) -> None:
        self.cycle, self.template, self.sections, self.goals, self.answers = (
            cycle,
            template,
            sections,
            goals,
            answers,
        )

    def section(self, section_id: int) -> tuple[int, FormSection]:
        for form_section in form_sections(self.sections, self.goals, self.answers):
            if form_section.id == section_id:
                return form_section.step, form_section
        raise Invalid("That part of the form is not in this review: open the review again.")


async def _context(session: AsyncSession, review: Review, now: datetime) -> _Context:
    cycle = await session.get(ReviewCycle, review.cycle_id, populate_existing=True)
    assert cycle is not None
    role = ReviewerRole(review.role)
    template = await load_template(session, cycle.template_id)
    if not open_for(role, Phase(cycle.phase)) and review.status != ReviewStatus.SUBMITTED:
        due = await phase_row(session, cycle.id, ROLE_PHASE[role])
        raise Invalid(closed_message(role, due.due_on if due else None))
    sections = role_sections(template, role)
    goals = await _goals(session, cycle, review.reviewee_id, sections, role, now)
    answers = (await answers_of(session, [review.id]))[review.id]
    return _Context(cycle, template, sections, goals, answers)


async def _form(session: AsyncSession, review: Review, now: datetime) -> ReviewFormView:
    cycle = await session.get(ReviewCycle, review.cycle_id, populate_existing=True)
    assert cycle is not None
    role = ReviewerRole(review.role)
    template = await load_template(session, cycle.template_id)
    sections = role_sections(template, role)
    goals = await _goals(session, cycle, review.reviewee_id, sections, role, now)
    answers = (await answers_of(session, [review.id]))[review.id]
    due = await phase_row(session, cycle.id, ROLE_PHASE[role])
    beside = None
    if role is ReviewerRole.MANAGER:
        own = await session.scalar(
            select(Review).where(
                Review.participant_id == review.participant_id,
                Review.role == ReviewerRole.SELF.value,
                Review.status == ReviewStatus.SUBMITTED.value,
            )
        )
        if own is not None:
            beside = await _submitted(session, template, own, goals)
    people = await names(session, [review.reviewee_id])
    status = ReviewStatus(review.status)
    return ReviewFormView(
        review_id=review.id,
        cycle_id=cycle.id,
        cycle_name=cycle.name,
        role=role,
        reviewee_id=review.reviewee_id,
        reviewee_name=people.get(review.reviewee_id, ""),
        status=status,
        version=review.version,
        resume_step=max(0, min(review.step, len(sections) - 1)),
        editable=status is not ReviewStatus.SUBMITTED and open_for(role, Phase(cycle.phase)),
        due_on=due.due_on if due else None,
        scale=template.scale,
        sections=form_sections(sections, goals, answers),
        submitted_at=review.submitted_at,
        beside_self_review=beside,
        beside_goals=goals if role is ReviewerRole.MANAGER else (),
    )


async def _goals(
    session: AsyncSession,
    cycle: ReviewCycle,
    reviewee_id: int,
    sections: Sequence[SectionView],
    role: ReviewerRole,
    now: datetime,
) -> tuple[GoalResult, ...]:
    if role is not ReviewerRole.MANAGER and not any(s.kind is SectionKind.GOALS for s in sections):
        return ()
    return await goal_results(session, reviewee_id, cycle.period_start, cycle.period_end, now.date())


async def _submitted(
    session: AsyncSession, template: TemplateView, review: Review, goals: Sequence[GoalResult]
) -> SubmittedReview:
    answers = (await answers_of(session, [review.id]))[review.id]
    role = ReviewerRole(review.role)
    assert review.submitted_at is not None
    return SubmittedReview(
        role, review.submitted_at, form_sections(role_sections(template, role), goals, answers)
    )


def _answered(item: FormItem) -> bool:
    a = item.answer
    if a is None:
        return False
    if item.kind is ItemKind.RATING:
        return a.rating is not None
    if item.kind is ItemKind.CHOICE:
        return a.choice is not None
    return a.text is not None


# --- saving ----------------------------------------------------------------------------------------------


def _validated(
    section: FormSection, answers: Mapping[str, AnswerInput], points: int
) -> dict[str, AnswerView]:
    """Each answer checked against its item (rating on the scale, choice offered, text not too long)."""
    items = {i.key: i for i in section.items}
    clean: dict[str, AnswerView] = {}
    for key, given in answers.items():
        item = items.get(key)
        if item is None:
            raise Invalid(f"“{key}” is not a question of “{section.title}”: open the review again.")
        clean[key] = _answer(item, given, points)
    return clean


def _answer(item: FormItem, given: AnswerInput, points: int) -> AnswerView:
    text = optional_text(given.text, ANSWER_MAX, f"Your answer to “{item.text}”")
    if item.kind is ItemKind.RATING:
        if given.choice is not None:
            raise Invalid(f"“{item.text}” takes a rating, not a choice.")
        rating = given.rating
        if rating is not None and (
            isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= points
        ):
            raise Invalid(f"Rate “{item.text}” with a whole point from 1 to {points}, not {rating}.")
        return AnswerView(rating, None, text)
    if given.rating is not None:
        raise Invalid(
            f"“{item.text}” takes {'a choice' if item.kind is ItemKind.CHOICE else 'text'}, not a rating."
        )
    if item.kind is ItemKind.CHOICE:
        if text is not None:
            raise Invalid(f"“{item.text}” takes a choice, not text.")
        choice = (given.choice or "").strip() or None
        if choice is not None:
            offered = {c.casefold(): c for c in item.choices}
            if choice.casefold() not in offered:
                raise Invalid(
                    f"“{choice}” is not offered for “{item.text}”: choose one of {', '.join(item.choices)}."
                )
            choice = offered[choice.casefold()]
        return AnswerView(None, choice, None)
    if given.choice is not None:
        raise Invalid(f"“{item.text}” takes text, not a choice.")
    return AnswerView(None, None, text)


async def _answer_rows(
    session: AsyncSession, review_id: int, section_id: int, keys: Sequence[str]
) -> dict[str, ReviewAnswer]:
    if not keys:
        return {}
    rows = await session.scalars(
        select(ReviewAnswer)
        .where(
            ReviewAnswer.review_id == review_id,
            ReviewAnswer.section_id == section_id,
            ReviewAnswer.item_key.in_(keys),
        )
        .execution_options(populate_existing=True)
    )
    return {r.item_key: r for r in rows}


async def _merge(
    session: AsyncSession,
    section: FormSection,
    clean: Mapping[str, AnswerView],
    current: Mapping[str, ReviewAnswer],
    expected_version: int,
) -> tuple[tuple[AnswerConflict, ...], dict[str, AnswerView]]:
    """(items in conflict, items to write): three-way, against the value each item had at expected_version."""
    stale = {key: row for key, row in current.items() if row.version > expected_version}
    bases = await _values_at(session, [row.id for row in stale.values()], expected_version)
    texts = {i.key: i.text for i in section.items}
    conflicts, changed = [], {}
    for key, mine in clean.items():
        row = current.get(key)
        now_value = _value(row) if row is not None else BLANK_ANSWER
        if mine == now_value:
            continue
        if row is not None and key in stale and mine == bases.get(row.id, BLANK_ANSWER):
            continue  # only the other side changed it since the form was shown: theirs stays
        if row is not None and key in stale:
            conflicts.append(AnswerConflict(section.id, key, texts.get(key, key), mine, now_value))
            continue
        changed[key] = mine
    return tuple(conflicts), changed


async def _values_at(session: AsyncSession, answer_ids: Sequence[int], version: int) -> dict[int, AnswerView]:
    """Each answer's value as of a review version (absent: it had none yet)."""
    if not answer_ids:
        return {}
    latest = (
        select(ReviewAnswerRevision.answer_id, func.max(ReviewAnswerRevision.version).label("version"))
        .where(ReviewAnswerRevision.answer_id.in_(answer_ids), ReviewAnswerRevision.version <= version)
        .group_by(ReviewAnswerRevision.answer_id)
        .subquery()
    )
    rows = await session.execute(
        select(ReviewAnswerRevision).join(
            latest,
            (latest.c.answer_id == ReviewAnswerRevision.answer_id)
            & (latest.c.version == ReviewAnswerRevision.version),
        )
    )
    return {r.answer_id: AnswerView(r.rating, r.choice, r.text) for r in rows.scalars()}


async def _claim_save(session: AsyncSession, review: Review, changed: bool, step: int, now: datetime) -> bool:
    """Compare-and-set on the review's version: False when another save of it committed since it was read."""
    values: dict[str, object] = {"step": step, "updated_at": now}
    if changed:
        values |= {"version": review.version + 1, "status": ReviewStatus.DRAFT.value}
    claimed = await session.execute(
        update(Review)
        .where(
            Review.id == review.id,
            Review.version == review.version,
            Review.status != ReviewStatus.SUBMITTED.value,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def _write_answers(
    session: AsyncSession,
    actor: Actor,
    review: Review,
    section_id: int,
    changed: Mapping[str, AnswerView],
    current: Mapping[str, ReviewAnswer],
    now: datetime,
) -> None:
    """Upsert the changed items at the review's next version, and keep each new value as a revision."""
    version = review.version + 1
    rows = []
    for key, value in changed.items():
        row = current.get(key)
        if row is None:
            row = ReviewAnswer(review_id=review.id, section_id=section_id, item_key=key)
            session.add(row)
        row.rating, row.choice, row.text = value.rating, value.choice, value.text
        row.version, row.updated_at = version, now
        rows.append(row)
    await session.flush()
    session.add_all(
        ReviewAnswerRevision(
            answer_id=row.id,
            version=version,
            rating=row.rating,
            choice=row.choice,
            text=row.text,
            by_id=actor.person_id,
            at=now,
        )
        for row in rows
    )
    await session.flush()


def _value(row: ReviewAnswer) -> AnswerView:
    return AnswerView(row.rating, row.choice, row.text)


def _conflict_message(conflicts: Sequence[AnswerConflict]) -> str:
    listed = ", ".join(f"“{c.item_text}”" for c in conflicts)
    return (
        f"{listed} {'was' if len(conflicts) == 1 else 'were'} changed meanwhile, from another window or "
        "device: check the latest answer and save again. Nothing of this step was saved yet."
    )


# --- loading ---------------------------------------------------------------------------------------------


async def _own_review(session: AsyncSession, actor: Actor, review_id: int) -> Review:
    review = await session.get(Review, review_id, populate_existing=True)
    # The same answer for a review that doesn't exist and one that is someone else's: ids are guessable.
    if review is None or not may_write_review(actor, reviewer_id=review.reviewer_id):
        raise NotFound(REVIEW_NOT_FOUND)
    return review


async def _reload(session: AsyncSession, review_id: int) -> Review:
    review = await session.get(Review, review_id, populate_existing=True)
    assert review is not None
    return review

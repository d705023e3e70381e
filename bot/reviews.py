"""Performance reviews in Teams chat: the `reviews` command, the review form one section per card step,
released results and their acknowledgement, and peer nominations. Nudges: bot/review_nudges.py.

Every button of a form step saves the step as a draft first (save_step, with the version the card showed),
then shows where the person asked to go; so `reviews` → Continue, after Teams was closed half-way, opens
the step after the last one saved, with every answer saved. Submit saves the last step and submits; the
card becomes a summary, and a second submit writes nothing. Refusals write nothing and give the form back
with the reason: a forged value, a required question left empty (named, on its step), a phase that
closed, someone else's review (told as "does not exist"), or answers changed meanwhile from another
window (the latest values, with what the person had sent beside them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from adaptive_cards import review_payloads as payloads
from adaptive_cards import reviews as cards
from adaptive_cards.payloads import PayloadError
from adaptive_cards.review_results import review_result_card
from bot import people, review_nudges
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain.access import Actor, may_manage_reviews
from domain.errors import DomainError, Invalid, NotFound
from domain.people_lookup import PersonMatch
from domain.performance import review_chat_reads, review_participants, review_reads, review_results, reviews
from domain.performance.review_chat_reads import NominationOpening
from domain.performance.review_phases import closed_message
from domain.performance.review_views import ReviewFormView, ReviewStatus

Card = dict[str, Any]
COMMAND = "reviews"


def register(router: ActionRouter, *, default_zone: ZoneInfo) -> None:
    """The `reviews` command, the form's and results' verbs, and the nudges' (review_nudges)."""

    def zoned(handler: Callable[..., Awaitable[Card]]) -> Callable[[Any], Awaitable[Card]]:
        return partial(handler, default_zone=default_zone)

    router.command(COMMAND, _reviews_command)
    router.register(payloads.LIST, _list)
    router.register(payloads.PICK, _pick)
    router.register(payloads.OPEN, _open)
    router.register(payloads.SAVE, _save)
    router.register(payloads.SUBMIT, _submit)
    router.register(payloads.RESULT, _result)
    router.register(payloads.ACKNOWLEDGE, _acknowledge)
    router.register(payloads.NOMINATIONS, _nominations)
    router.register(payloads.NOMINATE, zoned(_nominate))
    review_nudges.register(router, default_zone=default_zone)


# --- the list --------------------------------------------------------------------------------------------


async def _reviews_command(ctx: CommandContext) -> Card:
    return await _my_reviews(ctx)


async def _list(ctx: ActionContext) -> Card:
    return await _my_reviews(ctx)


async def _my_reviews(ctx: CommandContext | ActionContext, notice: str | None = None) -> Card:
    mine = await review_reads.my_reviews(ctx.session, actor=ctx.actor, today=ctx.now.date())
    openings = await review_chat_reads.nomination_openings(ctx.session, actor=ctx.actor)
    return cards.my_reviews_card(
        mine,
        nominations=[_nomination(o, ctx.actor) for o in openings],
        hr=may_manage_reviews(ctx.actor),
        notice=notice,
    )


async def _pick(ctx: ActionContext) -> Card:
    picked = payloads.parse_picked(ctx.data)
    if picked.verb == payloads.OPEN:
        return await _show(ctx, picked.ids[0])
    if picked.verb == payloads.RESULT:
        return await _show_result(ctx, picked.ids[0])
    if len(picked.ids) != 2:
        raise PayloadError(payloads.STALE)
    return await _show_nomination(ctx, *picked.ids)


# --- the form --------------------------------------------------------------------------------------------


async def _open(ctx: ActionContext) -> Card:
    return await _show(ctx, payloads.parse_id(ctx.data, payloads.REVIEW_ID))


async def _show(ctx: ActionContext, review_id: int) -> Card:
    """The form at the step to resume at, or its summary once submitted or closed."""
    form = await reviews.review_form(ctx.session, actor=ctx.actor, review_id=review_id, now=ctx.now)
    if not form.editable and form.status is not ReviewStatus.SUBMITTED:
        return cards.review_summary_card(form, notice=closed_message(form.role, form.due_on))
    return cards.review_step_card(form)


async def _save(ctx: ActionContext) -> Card:
    """Save the step shown, then go back, stay or go on."""
    step = payloads.parse_step(ctx.data)
    form = await reviews.review_form(ctx.session, actor=ctx.actor, review_id=step.review_id, now=ctx.now)
    saved = await _save_step(ctx, form, step)
    if not isinstance(saved, ReviewFormView):
        return saved
    if saved.already_submitted or saved.status is ReviewStatus.SUBMITTED:
        return cards.review_summary_card(saved)
    at, page = _where_next(saved, step)
    section = next(s for s in saved.sections if s.id == step.section_id)
    return cards.review_step_card(saved, step=at, page=page, saved=f"Saved “{section.title}”.")


async def _submit(ctx: ActionContext) -> Card:
    """Save the last step, then submit: the card becomes the review's summary."""
    step = payloads.parse_step(ctx.data)
    form = await reviews.review_form(ctx.session, actor=ctx.actor, review_id=step.review_id, now=ctx.now)
    if form.sections and form.status is not ReviewStatus.SUBMITTED:
        saved = await _save_step(ctx, form, step)
        if not isinstance(saved, ReviewFormView):
            return saved
    try:
        async with ctx.session.begin_nested():
            submitted = await reviews.submit_review(
                ctx.session, actor=ctx.actor, review_id=step.review_id, now=ctx.now
            )
    except reviews.ReviewIncomplete as missing:
        latest = await reviews.review_form(
            ctx.session, actor=ctx.actor, review_id=step.review_id, now=ctx.now
        )
        page = _page_of(latest, missing.step, missing.item_key)
        return cards.review_step_card(latest, step=missing.step, page=page, notice=missing.message)
    except Invalid as refused:
        return await _refused(ctx, step, refused.message)
    return cards.review_summary_card(submitted)


async def _save_step(
    ctx: ActionContext, form: ReviewFormView, step: payloads.StepPayload
) -> ReviewFormView | Card:
    """The form after saving the step's answers, or the card saying why nothing was saved."""
    if form.status is ReviewStatus.SUBMITTED:
        return reviews_already(form)
    section = next((s for s in form.sections if s.id == step.section_id), None)
    if section is None:
        raise PayloadError(payloads.STALE)
    try:
        answers = payloads.parse_answers(ctx.data, section, step.keys, len(form.scale))
    except PayloadError as refused:
        typed = payloads.typed_answers(ctx.data, section, step.keys, len(form.scale))
        return cards.review_step_card(
            form, step=step.step, page=step.page, notice=f"Nothing was saved. {refused}", typed=typed
        )
    try:
        async with ctx.session.begin_nested():
            return await reviews.save_step(
                ctx.session,
                actor=ctx.actor,
                review_id=step.review_id,
                section_id=step.section_id,
                answers=answers,
                expected_version=step.version,
                now=ctx.now,
            )
    except reviews.ReviewChanged as changed:
        return cards.review_step_card(
            changed.latest,
            step=step.step,
            page=step.page,
            notice=changed.message,
            conflicts=changed.conflicts,
        )
    except Invalid as refused:
        typed = payloads.typed_answers(ctx.data, section, step.keys, len(form.scale))
        return await _refused(ctx, step, refused.message, typed=typed)


def reviews_already(form: ReviewFormView) -> Card:
    return cards.review_summary_card(replace(form, already_submitted=True))


async def _refused(
    ctx: ActionContext, step: payloads.StepPayload, message: str, *, typed: Any = None
) -> Card:
    """The form again (read-only once its phase closed) with why nothing was saved."""
    latest = await reviews.review_form(ctx.session, actor=ctx.actor, review_id=step.review_id, now=ctx.now)
    notice = f"Nothing was saved. {message}"
    if not latest.editable:
        return cards.review_summary_card(latest, notice=notice)
    return cards.review_step_card(latest, step=step.step, page=step.page, notice=notice, typed=typed)


def _where_next(form: ReviewFormView, step: payloads.StepPayload) -> tuple[int, int]:
    at, page = min(step.step, form.steps - 1), step.page
    if step.go == payloads.NEXT:
        if page + 1 < cards.step_pages(form, at):
            return at, page + 1
        return min(at + 1, form.steps - 1), 0
    if step.go == payloads.BACK:
        if page > 0:
            return at, page - 1
        if at == 0:
            return 0, 0
        return at - 1, cards.step_pages(form, at - 1) - 1
    return at, page


def _page_of(form: ReviewFormView, step: int, item_key: str) -> int:
    """The part of a long step that shows the item."""
    if not 0 <= step < form.steps:
        return 0
    ids = {prefix + item_key for prefix in (payloads.RATING, payloads.TEXT, payloads.CHOICE)}
    for page in range(cards.step_pages(form, step)):
        card = cards.review_step_card(form, step=step, page=page)
        if any(e.get("id") in ids for e in _inputs(card.get("body", []))):
            return page
    return 0


def _inputs(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input."):
            found.append(node)
        for value in node.values():
            found += _inputs(value)
    elif isinstance(node, list):
        for value in node:
            found += _inputs(value)
    return found


# --- results ---------------------------------------------------------------------------------------------


async def _result(ctx: ActionContext) -> Card:
    return await _show_result(ctx, payloads.parse_id(ctx.data, payloads.CYCLE_ID))


async def _show_result(ctx: ActionContext, cycle_id: int) -> Card:
    view = await review_results.review_result(
        ctx.session, actor=ctx.actor, cycle_id=cycle_id, person_id=ctx.actor.person_id, now=ctx.now
    )
    return review_result_card(view, scale=await review_chat_reads.scale_of(ctx.session, cycle_id))


async def _acknowledge(ctx: ActionContext) -> Card:
    cycle_id = payloads.parse_id(ctx.data, payloads.CYCLE_ID)
    try:
        _, comment = payloads.parse_acknowledgement(ctx.data)
        async with ctx.session.begin_nested():
            view = await review_results.acknowledge(
                ctx.session, actor=ctx.actor, cycle_id=cycle_id, now=ctx.now, comment=comment
            )
    except (PayloadError, Invalid) as refused:
        view = await review_results.review_result(
            ctx.session, actor=ctx.actor, cycle_id=cycle_id, person_id=ctx.actor.person_id, now=ctx.now
        )
        typed = ctx.data.get(payloads.ACK_COMMENT)
        return review_result_card(
            view,
            scale=await review_chat_reads.scale_of(ctx.session, cycle_id),
            notice=f"Nothing was saved. {_message(refused)}",
            typed_comment=typed[:2000] if isinstance(typed, str) else None,
        )
    return review_result_card(
        view,
        scale=await review_chat_reads.scale_of(ctx.session, cycle_id),
        acknowledged_now=not view.already_submitted,
    )


# --- peer nominations ------------------------------------------------------------------------------------


async def _nominations(ctx: ActionContext) -> Card:
    cycle_id = payloads.parse_id(ctx.data, payloads.CYCLE_ID)
    return await _show_nomination(ctx, cycle_id, payloads.parse_id(ctx.data, payloads.REVIEWEE_ID))


async def _show_nomination(
    ctx: ActionContext, cycle_id: int, reviewee_id: int, *, notice: str | None = None, **extra: Any
) -> Card:
    opening = await _opening(ctx, cycle_id, reviewee_id)
    return cards.nomination_card(_nomination(opening, ctx.actor), notice=notice, **extra)


async def _opening(ctx: ActionContext, cycle_id: int, reviewee_id: int) -> NominationOpening:
    for opening in await review_chat_reads.nomination_openings(ctx.session, actor=ctx.actor):
        if (opening.cycle_id, opening.reviewee_id) == (cycle_id, reviewee_id):
            return opening
    raise NotFound("Peers can't be nominated for that review now: its peer review phase is not open.")


async def _nominate(ctx: ActionContext, *, default_zone: ZoneInfo) -> Card:
    """Name peers by name; each new one gets their peer review's card (in their working hours)."""
    cycle_id = payloads.parse_id(ctx.data, payloads.CYCLE_ID)
    reviewee_id = payloads.parse_id(ctx.data, payloads.REVIEWEE_ID)
    typed = ctx.data.get(payloads.PEERS)
    typed = typed[: payloads.PEERS_TYPED_MAX] if isinstance(typed, str) else None
    try:
        _, _, typed_names = payloads.parse_nomination(ctx.data)
        peers = await _people_named(ctx, typed_names)
        async with ctx.session.begin_nested():
            nominated = await review_participants.nominate_peers(
                ctx.session,
                actor=ctx.actor,
                cycle_id=cycle_id,
                reviewee_id=reviewee_id,
                peer_ids=[p.id for p in peers],
                now=ctx.now,
            )
            await review_nudges.nudge_nominated(
                ctx.session,
                cycle_id=cycle_id,
                person_ids=nominated.added,
                now=ctx.now,
                default_zone=default_zone,
            )
    except (PayloadError, DomainError) as refused:
        # Not theirs to nominate (or no such cycle): _show_nomination finds no opening and says so.
        return await _show_nomination(
            ctx, cycle_id, reviewee_id, notice=f"Nobody was asked. {_message(refused)}", typed=typed
        )
    added = dict(nominated.peers)
    return await _show_nomination(
        ctx, cycle_id, reviewee_id, added=[added.get(pid, "") for pid in nominated.added]
    )


async def _people_named(ctx: ActionContext, names: list[str]) -> list[PersonMatch]:
    found = []
    for typed in names:
        person = await people.person_called(ctx, typed)
        if isinstance(person, PersonMatch):
            found.append(person)
        elif isinstance(person, people.SeveralMatches):
            raise PayloadError(f"Several people are called “{typed[:60]}”: type their whole name.")
        else:
            raise PayloadError(f"I couldn't find anyone called “{typed[:60]}”.")
    return found


def _message(refused: DomainError | PayloadError) -> str:
    return refused.message if isinstance(refused, DomainError) else str(refused)


def _nomination(opening: NominationOpening, actor: Actor) -> cards.Nomination:
    return cards.Nomination(
        cycle_id=opening.cycle_id,
        cycle_name=opening.cycle_name,
        reviewee_id=opening.reviewee_id,
        reviewee_name=opening.reviewee_name,
        own=opening.reviewee_id == actor.person_id,
        peers=opening.peers,
        due_on=opening.due_on,
    )

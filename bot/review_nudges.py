"""Review-cycle nudges in Teams: the scheduler's pass (schedule_review_nudges), `trellis nudge --dry-run`
(dry_run), HR's `nudge cycle <name>` ("nudge now"), and the verbs of the nudge cards (a manager's team
status, recording an improvement plan checkpoint).

The rules are domain.performance.review_nudges' (who, why, when); the plan's inputs come from
review_chat_reads in a few bulk queries. Each nudge is the actionable card itself, put in the outbox for
the person's 1:1 conversation under nudges.one_per_day_key, so whoever queues it (several servers, a
rerun, HR and the scheduler on the same day) it goes once per person, phase and day; the outbox sender
delivers it within Teams' limits.

People with no conversation with the bot are not queued anything (the sender could only drop it, and
the day's key would be spent): the report lists them, and `trellis nudge` asks Graph to install Trellis
for them when the directory is configured (directory/install.py); Teams then sends the installation to
the bot, which stores their conversation, and the next pass in their working hours nudges them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards import review_nudges as cards
from adaptive_cards import review_payloads as payloads
from adaptive_cards.elements import CardTooLarge
from adaptive_cards.payloads import PayloadError
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain.access import Actor, may_manage_reviews
from domain.clock import Clock
from domain.errors import DomainError, Forbidden, Invalid, NotFound
from domain.performance import improvement_plans, review_chat_reads, review_cycles, review_reads
from domain.performance.review_nudges import (
    KIND_CHECKPOINT,
    CheckpointNudge,
    Delivery,
    NudgeItem,
    NudgePlan,
    Requested,
    ReviewNudge,
    Why,
)
from domain.performance.review_views import OPEN_PHASES, PHASE_LABELS, CycleView, DueWhat
from storage import outbox
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)

Card = dict[str, Any]
COMMAND = "nudge cycle"
BATCH = 500  # nudges queued per transaction


def register(router: ActionRouter, *, default_zone: ZoneInfo) -> None:
    """HR's `nudge cycle` command and the nudge cards' verbs."""

    def zoned(handler: Callable[..., Awaitable[Card]]) -> Callable[[Any], Awaitable[Card]]:
        return partial(handler, default_zone=default_zone)

    router.command(COMMAND, zoned(_nudge_command), writes=True)
    router.register(payloads.NUDGE_NOW, zoned(_nudge_now))
    router.register(payloads.TEAM_STATUS, _team_status)
    router.register(payloads.CHECKPOINT, _record_checkpoint)


# --- the scheduler's pass --------------------------------------------------------------------------------


@dataclass
class ReviewNudgeReport:
    """What one pass queued, and what it left for later or could not send."""

    nudges: int = 0
    escalations: int = 0
    checkpoints: int = 0
    waiting: int = 0  # outside the person's working hours: a later pass decides again
    already: int = 0  # the day's nudge was queued before
    no_chat: tuple[int, ...] = ()  # people with no conversation with the bot yet
    blocked: int = 0
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.nudges or self.escalations or self.checkpoints or self.no_chat or self.failed)

    def __str__(self) -> str:
        text = (
            f"review nudges: {self.nudges} nudges, {self.escalations} escalations, {self.checkpoints} "
            f"checkpoint reminders queued; {self.waiting} waiting for working hours, {self.already} already "
            f"sent today, {len(self.no_chat)} without a chat, {self.blocked} blocked"
        )
        return text + (f"; {len(self.failed)} could not be built" if self.failed else "")


async def schedule_review_nudges(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, default_zone: ZoneInfo, batch: int = BATCH
) -> ReviewNudgeReport:
    """Plan (bulk reads), then queue what may go now, a batch per transaction. A pass that dies halfway is
    resumed by the next one: the outbox keeps one message per key, and checkpoints are claimed in the
    transaction that queues their reminder."""
    async with read_only(sessions) as session:
        now = clock()
        plan = await review_chat_reads.nudge_plan(session, now=now, default_zone=default_zone)
    report = ReviewNudgeReport(
        waiting=plan.count(Delivery.LATER),
        already=plan.count(Delivery.SENT_TODAY),
        no_chat=plan.people(Delivery.NO_CHAT),
        blocked=plan.count(Delivery.BLOCKED),
    )
    for chunk in _chunks([n for n in plan.reviews if n.delivery is Delivery.NOW], batch):
        async with unit_of_work(sessions) as session:
            for nudge in chunk:
                if await enqueue_review_nudge(session, nudge, now, report.failed):
                    if nudge.escalation:
                        report.escalations += 1
                    else:
                        report.nudges += 1
    for chunk in _chunks([c for c in plan.checkpoints if c.delivery is Delivery.NOW], batch):
        async with unit_of_work(sessions) as session:
            claimed = set(
                await improvement_plans.mark_checkpoint_reminded(
                    session, checkpoint_ids=[c.checkpoint_id for c in chunk], now=now
                )
            )
            for checkpoint in chunk:
                if checkpoint.checkpoint_id in claimed:
                    report.checkpoints += await _enqueue_checkpoint(session, checkpoint, now, report.failed)
    return report


async def enqueue_review_nudge(
    session: AsyncSession, nudge: ReviewNudge, now: datetime, failed: list[str] | None = None
) -> bool:
    """Put the nudge's card in the outbox: now, or (LATER) at the start of the person's working day.
    False when its card could not be built."""
    try:
        card = cards.review_nudge_card(nudge)
    except (CardTooLarge, ValueError):
        # One card that can't be built must not hold up everyone else's.
        log.exception("could not build the review nudge %s for person %s", nudge.key, nudge.person_id)
        if failed is not None:
            failed.append(nudge.key)
        return False
    await outbox.enqueue(
        session,
        kind=nudge.kind,
        person_id=nudge.person_id,
        payload={
            "card": card,
            "summary": cards.nudge_summary(nudge),
            "cycle_id": nudge.cycle_id,
            "phase": nudge.phase.value,
            "why": [r.value for r in nudge.reasons],
            "reviews": [i.review_id for i in nudge.items if i.review_id is not None],
        },
        now=now,
        dedupe_key=nudge.key,
        available_at=nudge.when.at if nudge.delivery is Delivery.LATER else None,
    )
    return True


async def _enqueue_checkpoint(
    session: AsyncSession, checkpoint: CheckpointNudge, now: datetime, failed: list[str]
) -> int:
    facts = cards.CheckpointFacts(
        plan_id=checkpoint.plan_id,
        checkpoint_id=checkpoint.checkpoint_id,
        employee_name=checkpoint.employee_name,
        due_on=checkpoint.due_on,
        overdue=checkpoint.overdue,
    )
    try:
        card = cards.checkpoint_card(facts)
    except (CardTooLarge, ValueError):
        log.exception("could not build the checkpoint reminder %s", checkpoint.key)
        failed.append(checkpoint.key)
        return 0
    await outbox.enqueue(
        session,
        kind=KIND_CHECKPOINT,
        person_id=checkpoint.manager_id,
        payload={
            "card": card,
            "summary": f"An improvement plan checkpoint is {'overdue' if checkpoint.overdue else 'due'}",
            "plan_id": checkpoint.plan_id,
            "checkpoint_id": checkpoint.checkpoint_id,
        },
        now=now,
        dedupe_key=checkpoint.key,
    )
    return 1


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- `trellis nudge --dry-run` ---------------------------------------------------------------------------


async def dry_run(sessions: async_sessionmaker[AsyncSession], clock: Clock, *, default_zone: ZoneInfo) -> str:
    """The review and checkpoint nudges a pass would queue now, who, what, why and when; writes nothing."""
    async with read_only(sessions) as session:
        plan = await review_chat_reads.nudge_plan(session, now=clock(), default_zone=default_zone)
    return render_plan(plan)


def render_plan(plan: NudgePlan) -> str:
    """The plan as lines an operator reads."""
    nudges = [n for n in plan.reviews if not n.escalation]
    escalations = [n for n in plan.reviews if n.escalation]
    lines = [
        f"Review nudges planned at {plan.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC: "
        f"{plan.count(Delivery.NOW)} may go now, {plan.count(Delivery.LATER)} wait for working hours, "
        f"{plan.count(Delivery.SENT_TODAY)} already sent today, {plan.count(Delivery.NO_CHAT)} without a "
        f"chat, {plan.count(Delivery.BLOCKED)} blocked."
    ]
    if not (plan.reviews or plan.checkpoints):
        lines.append("Nobody is due a nudge.")
    for title, group in (("Nudges", nudges), ("Escalations to managers", escalations)):
        if group:
            lines.append(f"{title}:")
            lines += [f"  {_line(n)}" for n in group]
    if plan.checkpoints:
        lines.append("Improvement plan checkpoints:")
        for c in plan.checkpoints:
            state = "overdue" if c.overdue else "due"
            lines.append(
                f"  {c.manager_name}: {c.employee_name}'s checkpoint {state} {c.due_on.isoformat()}"
                f" | may go: {_when(c.delivery, c.when.at, c.when.zone)}"
            )
    lines.append("Dry run: nothing was queued or sent.")
    return "\n".join(lines)


def _line(nudge: ReviewNudge) -> str:
    what = "; ".join(_what(i, escalation=nudge.escalation) for i in nudge.items)
    why = ", ".join(r.value for r in nudge.reasons)
    if Why.OVERDUE in nudge.reasons or nudge.escalation:
        why += f" ({nudge.days_overdue} days)"
    deadline = f", due {nudge.deadline.isoformat()}" if nudge.deadline else ""
    return (
        f"{nudge.person_name}: {what} in {nudge.cycle_name}{deadline} | why: {why} | may go: "
        f"{_when(nudge.delivery, nudge.when.at, nudge.when.zone)}"
    )


def _what(item: NudgeItem, *, escalation: bool) -> str:
    what = item.what.value.replace("_", " ")
    if item.what is not DueWhat.ACKNOWLEDGEMENT and item.reviewee_id != item.person_id:
        what += f" of {item.reviewee_name}"
    return f"{item.person_name}'s {what}" if escalation else what


def _when(delivery: Delivery, at: datetime, zone: ZoneInfo) -> str:
    if delivery is Delivery.NOW:
        return "now"
    if delivery is Delivery.LATER:
        local = at.astimezone(zone)
        return f"{local:%a %d %b %H:%M} {zone.key} ({at.astimezone(UTC):%H:%M} UTC)"
    if delivery is Delivery.NO_CHAT:
        return "no chat with Trellis yet (trellis nudge installs the app for them when Graph is set up)"
    return str(delivery.value)


# --- HR: nudge now ---------------------------------------------------------------------------------------


async def nudge_cycle_now(
    session: AsyncSession, *, actor: Actor, cycle_id: int, now: datetime, default_zone: ZoneInfo
) -> NudgePlan:
    """HR reminds everyone with something pending in an open cycle, now: those in working hours right
    away, the others at the start of their working day; one nudge per person, phase and day still holds."""
    if not may_manage_reviews(actor):
        raise Forbidden("Only HR can nudge a review cycle.")
    cycle = await review_cycles.get_cycle(session, actor=actor, cycle_id=cycle_id)
    if cycle.phase not in OPEN_PHASES:
        raise Invalid(f"“{cycle.name}” is {PHASE_LABELS[cycle.phase]}: there is nobody to nudge.")
    return await _queue_requested(session, Requested(cycle_id), now=now, default_zone=default_zone)


async def nudge_nominated(
    session: AsyncSession, *, cycle_id: int, person_ids: Iterable[int], now: datetime, default_zone: ZoneInfo
) -> NudgePlan:
    """The colleagues just nominated as peers get their review's card (in their working hours); the
    nomination itself was allowed by review_participants.nominate_peers."""
    requested = Requested(cycle_id, Why.NOMINATED, frozenset(person_ids))
    return await _queue_requested(session, requested, now=now, default_zone=default_zone)


async def _queue_requested(
    session: AsyncSession, requested: Requested, *, now: datetime, default_zone: ZoneInfo
) -> NudgePlan:
    plan = await review_chat_reads.nudge_plan(
        session, now=now, default_zone=default_zone, requested=requested, checkpoints=False
    )
    for nudge in plan.reviews:
        if nudge.delivery in (Delivery.NOW, Delivery.LATER):
            await enqueue_review_nudge(session, nudge, now)
    return plan


async def _nudge_command(ctx: CommandContext, *, default_zone: ZoneInfo) -> Card:
    if not may_manage_reviews(ctx.actor):
        raise Forbidden("Only HR can nudge a review cycle.")
    cycles = await review_cycles.list_cycles(ctx.session, actor=ctx.actor, phases=OPEN_PHASES)
    typed = " ".join(ctx.args.split())
    if not typed:
        return cards.nudge_cycle_card(_choices(cycles))
    found = _cycle_named(cycles, typed)
    if not isinstance(found, CycleView):
        return cards.nudge_cycle_card(_choices(found or cycles), notice=_not_one(typed, found))
    plan = await nudge_cycle_now(
        ctx.session, actor=ctx.actor, cycle_id=found.id, now=ctx.now, default_zone=default_zone
    )
    return cards.nudge_now_card(found.name, plan)


async def _nudge_now(ctx: ActionContext, *, default_zone: ZoneInfo) -> Card:
    cycle_id = payloads.parse_cycle_choice(ctx.data)
    cycle = await review_cycles.get_cycle(ctx.session, actor=ctx.actor, cycle_id=cycle_id)
    async with ctx.session.begin_nested():
        plan = await nudge_cycle_now(
            ctx.session, actor=ctx.actor, cycle_id=cycle_id, now=ctx.now, default_zone=default_zone
        )
    return cards.nudge_now_card(cycle.name, plan)


def _choices(cycles: Sequence[CycleView]) -> list[tuple[int, str, str]]:
    return [(c.id, c.name, PHASE_LABELS[c.phase]) for c in cycles]


def _cycle_named(cycles: Sequence[CycleView], typed: str) -> CycleView | list[CycleView]:
    """The open cycle whose name is `typed` (any case), else the one whose name contains it; else the
    candidates (none, or several)."""
    wanted = typed.casefold()
    exact = [c for c in cycles if c.name.casefold() == wanted]
    if len(exact) == 1:
        return exact[0]
    partial_matches = [c for c in cycles if wanted in c.name.casefold()]
    return partial_matches[0] if len(partial_matches) == 1 else partial_matches


def _not_one(typed: str, found: list[CycleView]) -> str:
    shown = typed if len(typed) <= 60 else typed[:59] + "…"
    if found:
        return f"Several open cycles match “{shown}”: choose one."
    return f"No open review cycle is called “{shown}”: choose one."


# --- the nudge cards' verbs ------------------------------------------------------------------------------


async def _team_status(ctx: ActionContext) -> Card:
    cycle_id = payloads.parse_id(ctx.data, payloads.CYCLE_ID)
    people = [
        p
        for p in await review_reads.team_review_status(ctx.session, actor=ctx.actor)
        if p.cycle_id == cycle_id
    ]
    name = people[0].cycle_name if people else "This cycle"
    return cards.team_status_card(name, people)


async def _record_checkpoint(ctx: ActionContext) -> Card:
    plan_id = payloads.parse_id(ctx.data, payloads.PLAN_ID)
    checkpoint_id = payloads.parse_id(ctx.data, payloads.CHECKPOINT_ID)
    try:
        _, _, status, notes = payloads.parse_checkpoint(ctx.data)
        async with ctx.session.begin_nested():
            plan = await improvement_plans.record_checkpoint(
                ctx.session,
                actor=ctx.actor,
                plan_id=plan_id,
                checkpoint_id=checkpoint_id,
                status=status,
                notes=notes,
                now=ctx.now,
            )
    except (PayloadError, Invalid) as refused:
        view = await improvement_plans.get_plan(ctx.session, actor=ctx.actor, plan_id=plan_id)
        checkpoint = next((c for c in view.checkpoints if c.id == checkpoint_id), None)
        if checkpoint is None:
            raise NotFound("That checkpoint is not part of this plan.") from None
        facts = cards.CheckpointFacts(
            plan_id, checkpoint_id, view.employee_name, checkpoint.due_on, checkpoint.due_on < ctx.now.date()
        )
        message = refused.message if isinstance(refused, DomainError) else str(refused)
        status_typed = ctx.data.get(payloads.CHECKPOINT_STATUS)
        notes_typed = ctx.data.get(payloads.CHECKPOINT_NOTES)
        return cards.checkpoint_card(
            facts,
            notice=f"Nothing was saved. {message}",
            typed_status=status_typed if isinstance(status_typed, str) and len(status_typed) < 20 else None,
            typed_notes=notes_typed[:4000] if isinstance(notes_typed, str) else None,
        )
    return cards.checkpoint_recorded_card(plan, checkpoint_id)

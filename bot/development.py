"""Development plans in Teams chat: the scheduler's reminders of actions coming due, marking progress on
the reminder card (which updates in place), and "my plan".

The planning is domain.talent.development's (which actions, whose working hours, the one-per-day key);
this queues each reminder card in the outbox for the person's 1:1 chat, claiming the action for the day
(mark_reminded) in the same transaction, so several servers or a rerun send it once. A save goes through
development.update_progress: a double click comes back as "already saved" without a second write, a
stale card with the latest values and a sentence, a bad value with the form again, as typed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards import development as cards
from adaptive_cards.elements import CardTooLarge
from adaptive_cards.payloads import PayloadError
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain.clock import Clock
from domain.errors import Invalid
from domain.performance.review_nudges import Delivery
from domain.talent import development
from domain.talent.development import ActionChanged
from domain.talent.development_views import KIND_REMINDER, ReminderNudge
from storage import outbox
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)

Card = dict[str, Any]
COMMAND = "my plan"
BATCH = 500  # reminders queued per transaction


def register(router: ActionRouter) -> None:
    """`my plan` and the development cards' verbs."""
    router.command(COMMAND, _my_plan)
    router.register(cards.PROGRESS, _save_progress)
    router.register(cards.OPEN, _open_action)


# --- the scheduler's pass --------------------------------------------------------------------------------


@dataclass
class DevelopmentReminderReport:
    """What one pass queued, and what it left for later or could not send."""

    reminders: int = 0
    waiting: int = 0  # outside the person's working hours: a later pass decides again
    already: int = 0  # the day's reminder was queued before
    no_chat: tuple[int, ...] = ()  # people with no conversation with the bot yet
    blocked: int = 0
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.reminders or self.no_chat or self.failed)

    def __str__(self) -> str:
        text = (
            f"development reminders: {self.reminders} queued; {self.waiting} waiting for working hours, "
            f"{self.already} already sent today, {len(self.no_chat)} without a chat, {self.blocked} blocked"
        )
        return text + (f"; {len(self.failed)} could not be built" if self.failed else "")


async def schedule_development_reminders(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, default_zone: ZoneInfo, batch: int = BATCH
) -> DevelopmentReminderReport:
    """Plan (bulk reads), then queue the reminders that may go now, a batch per transaction, each action
    claimed for the day in the transaction that queues its card."""
    async with read_only(sessions) as session:
        now = clock()
        planned = await development.reminder_plan(session, now=now, default_zone=default_zone)
    report = DevelopmentReminderReport(
        waiting=_count(planned, Delivery.LATER),
        already=_count(planned, Delivery.SENT_TODAY),
        no_chat=tuple(sorted({r.action.person_id for r in planned if r.delivery is Delivery.NO_CHAT})),
        blocked=_count(planned, Delivery.BLOCKED),
    )
    today = now.astimezone(UTC).date()
    for chunk in _chunks([r for r in planned if r.delivery is Delivery.NOW], batch):
        async with unit_of_work(sessions) as session:
            claimed = set(
                await development.mark_reminded(
                    session, action_ids=[r.action.action_id for r in chunk], today=today
                )
            )
            for reminder in chunk:
                if reminder.action.action_id in claimed:
                    report.reminders += await _enqueue(session, reminder, now, report.failed)
    return report


async def _enqueue(session: AsyncSession, reminder: ReminderNudge, now: datetime, failed: list[str]) -> int:
    facts = cards.facts_of(reminder.action)
    try:
        card = cards.reminder_card(facts)
    except (CardTooLarge, ValueError):
        # One card that can't be built must not hold up everyone else's.
        log.exception("could not build the development reminder %s", reminder.key)
        failed.append(reminder.key)
        return 0
    await outbox.enqueue(
        session,
        kind=KIND_REMINDER,
        person_id=reminder.action.person_id,
        payload={"card": card, "summary": cards.reminder_summary(facts), "action_id": facts.action_id},
        now=now,
        dedupe_key=reminder.key,
    )
    return 1


def _count(planned: Sequence[ReminderNudge], delivery: Delivery) -> int:
    return sum(1 for r in planned if r.delivery is delivery)


def _chunks(items: Sequence[ReminderNudge], size: int) -> Iterable[Sequence[ReminderNudge]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- the cards' verbs ------------------------------------------------------------------------------------


async def _save_progress(ctx: ActionContext) -> Card:
    """Save progress on a reminder (or "my plan") card: the card comes back in place, as saved."""
    action_id = cards.parse_action_id(ctx.data)  # forged or stale: an error card, nothing written
    today = ctx.now.date()
    try:
        values = cards.parse_progress(ctx.data)
        async with ctx.session.begin_nested():
            view = await development.update_progress(
                ctx.session,
                actor=ctx.actor,
                action_id=action_id,
                status=values.status,
                progress=values.progress,
                note=values.note if values.note is not None else "",
                version=values.version,
                now=ctx.now,
            )
    except ActionChanged as changed:
        return cards.progress_card(
            cards.facts_of(changed.latest), notice=f"Nothing was saved. {changed.message}"
        )
    except (PayloadError, Invalid) as refused:
        latest = await development.get_action(ctx.session, actor=ctx.actor, action_id=action_id, today=today)
        message = refused.message if isinstance(refused, Invalid) else str(refused)
        return cards.progress_card(
            cards.facts_of(latest), notice=f"Nothing was saved. {message}", typed=ctx.data
        )
    return cards.saved_card(cards.facts_of(view), already=view.already_saved)


async def _open_action(ctx: ActionContext) -> Card:
    """Mark progress under an action of "my plan": its form, in place of the list."""
    action_id = cards.parse_action_id(ctx.data)
    view = await development.get_action(
        ctx.session, actor=ctx.actor, action_id=action_id, today=ctx.now.date()
    )
    return cards.progress_card(cards.facts_of(view))


async def _my_plan(ctx: CommandContext) -> Card:
    """`my plan`: one's own open actions (never anyone else's: the tab shows a report's plan)."""
    today = ctx.now.date()
    plan = await development.get_plan(
        ctx.session, actor=ctx.actor, person_id=ctx.actor.person_id, today=today
    )
    return cards.my_plan_card(plan, home_url=ctx.home_url)

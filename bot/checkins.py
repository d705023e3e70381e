"""Check-ins in chat: the `checkin`, `checkin day` and `checkins` commands, the verbs of the check-in
cards, and the scheduling pass that puts due cards, reminders and digests in the outbox.

Weeks and days are each person's own (their time zone, else the organization's `default_zone`, from
CHECKIN_TIME_ZONE): the handlers get that zone bound at registration and pass it to the services."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards import checkins as cards
from adaptive_cards.elements import CardTooLarge
from adaptive_cards.payloads import PayloadError
from bot.actions import ActionContext, ActionRouter, CommandContext
from domain.clock import Clock
from domain.errors import DomainError
from domain.performance import checkins
from domain.performance.checkin_views import CheckInPlan
from storage import outbox
from storage.uow import unit_of_work

log = logging.getLogger(__name__)

Card = dict[str, Any]


def register(router: ActionRouter, *, default_zone: ZoneInfo) -> None:
    """Add the check-in commands and card verbs to the router; `default_zone` is the organization's."""

    def zoned(handler: Callable[..., Awaitable[Card]]) -> Callable[[Any], Awaitable[Card]]:
        return partial(handler, default_zone=default_zone)

    router.command("checkin", zoned(_show_checkin), writes=True)  # opens this week's check-in
    router.command("checkin day", zoned(_checkin_day), writes=True)
    router.command("checkins", zoned(_show_digest))
    router.register(cards.SUBMIT, zoned(_submit))
    router.register(cards.REPLY, _reply)
    router.register(cards.OPEN, zoned(_open))
    router.register(cards.DIGEST, _digest)
    router.register(cards.SET_DAY, zoned(_set_day))


# --- commands ----------------------------------------------------------------------------------------


async def _show_checkin(ctx: CommandContext, *, default_zone: ZoneInfo) -> Card:
    view = await checkins.open_checkin(ctx.session, actor=ctx.actor, now=ctx.now, default_zone=default_zone)
    return cards.checkin_card(view)


async def _checkin_day(ctx: CommandContext, *, default_zone: ZoneInfo) -> Card:
    if not ctx.args.strip():
        view = await checkins.checkin_day(
            ctx.session, actor=ctx.actor, now=ctx.now, default_zone=default_zone
        )
        return cards.checkin_day_card(view)
    weekday = cards.parse_weekday(ctx.args)
    view = await checkins.set_checkin_day(
        ctx.session, actor=ctx.actor, weekday=weekday, now=ctx.now, default_zone=default_zone
    )
    return cards.checkin_day_card(view, saved=True)


async def _show_digest(ctx: CommandContext, *, default_zone: ZoneInfo) -> Card:
    words = " ".join(ctx.args.lower().split())
    if words not in ("", "last week", "this week"):
        raise PayloadError("Type checkins for this week's, or checkins last week.")
    # The manager's own week: late on Sunday in Los Angeles is still that week, though Monday in UTC.
    this_week = await checkins.current_week(
        ctx.session, actor=ctx.actor, now=ctx.now, default_zone=default_zone
    )
    week = this_week - timedelta(days=7 if words == "last week" else 0)
    return cards.checkin_digest_card(await checkins.digest(ctx.session, actor=ctx.actor, week=week))


# --- card verbs --------------------------------------------------------------------------------------


async def _submit(ctx: ActionContext, *, default_zone: ZoneInfo) -> Card:
    checkin_id, answers = cards.parse_checkin_submit(ctx.data)
    try:
        view = await checkins.submit_checkin(
            ctx.session,
            actor=ctx.actor,
            checkin_id=checkin_id,
            answers=answers,
            now=ctx.now,
            default_zone=default_zone,
        )
    except checkins.CheckInNotSaved as refused:
        # Nothing was written; the form comes back with what they typed and the latest values.
        return cards.checkin_card(refused.latest, notice=refused.message, draft=refused.answers)
    return cards.checkin_submitted_card(view)


async def _reply(ctx: ActionContext) -> Card:
    week, comments, resolved, seen = cards.parse_checkin_reply(ctx.data)
    try:
        outcome = await checkins.reply_to_checkins(
            ctx.session,
            actor=ctx.actor,
            week=week,
            comments=comments,
            resolved=resolved,
            seen_comment=seen,
            now=ctx.now,
        )
    except DomainError as refused:
        # The service wrote nothing (its savepoint is gone): keep the digest, say what to fix.
        view = await checkins.digest(ctx.session, actor=ctx.actor, week=week)
        return cards.checkin_digest_card(view, notice=refused.message)
    for comment in outcome.comments:
        await outbox.enqueue(
            ctx.session,
            kind="checkin.comment",
            person_id=comment.person_id,
            payload={
                "card": cards.checkin_comment_card(comment),
                "summary": f"{comment.author} replied to your check-in",
            },
            now=ctx.now,
            dedupe_key=f"checkin:comment:{comment.id}",
        )
    return cards.checkin_digest_card(
        outcome.digest, done=_reply_summary(len(outcome.comments), outcome.resolved)
    )


async def _open(ctx: ActionContext, *, default_zone: ZoneInfo) -> Card:
    view = await checkins.open_checkin(ctx.session, actor=ctx.actor, now=ctx.now, default_zone=default_zone)
    return cards.checkin_card(view)


async def _digest(ctx: ActionContext) -> Card:
    week = cards.parse_week(ctx.data)
    return cards.checkin_digest_card(await checkins.digest(ctx.session, actor=ctx.actor, week=week))


async def _set_day(ctx: ActionContext, *, default_zone: ZoneInfo) -> Card:
    weekday = cards.parse_checkin_day(ctx.data)
    view = await checkins.set_checkin_day(
        ctx.session, actor=ctx.actor, weekday=weekday, now=ctx.now, default_zone=default_zone
    )
    return cards.checkin_day_card(view, saved=True)


def _reply_summary(comments: int, resolved: int) -> str:
    parts = []
    if comments:
        parts.append(f"Sent {comments} {'reply' if comments == 1 else 'replies'}")
    if resolved:
        parts.append(f"resolved {resolved} talking {'point' if resolved == 1 else 'points'}")
    return (", ".join(parts) or "Nothing new to send: that was already sent") + "."


# --- scheduling --------------------------------------------------------------------------------------


@dataclass
class ScheduleReport:
    """What one scheduling pass put in the outbox."""

    cards: int = 0
    reminders: int = 0
    digests: int = 0
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.cards or self.reminders or self.digests or self.failed)

    def __str__(self) -> str:
        text = f"check-ins: {self.cards} cards, {self.reminders} reminders, {self.digests} digests queued"
        return text + (f"; {len(self.failed)} could not be built" if self.failed else "")


async def schedule_checkins(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    default_zone: ZoneInfo,
    batch: int = checkins.PLAN_LIMIT,
) -> ScheduleReport:
    """Queue every check-in card, reminder and digest that is due: one unit of work per batch, each item
    marked sent in the same transaction as its outbox message, so a pass that dies halfway is simply
    resumed by the next one and nothing goes twice (the outbox's dedupe keys guard that too).

    Each person's day follows their own time zone; `default_zone` (CHECKIN_TIME_ZONE) is for those
    without one."""
    report = ScheduleReport()
    handled: set[tuple[str, int, date]] = set()
    while True:
        async with unit_of_work(sessions) as session:
            now = clock()
            plan = await checkins.plan_due(session, now=now, default_zone=default_zone, limit=batch)
            keys = _keys(plan)
            if plan.empty:
                break
            if keys & handled:
                # Issuing marks each item, so a plan never repeats one; if it does, stop rather than loop.
                log.error("check-in planning offered already handled items again: %s", sorted(keys & handled))
                break
            handled |= keys
            await _queue(session, plan, now, report)
    return report


def _keys(plan: CheckInPlan) -> set[tuple[str, int, date]]:
    return (
        {("card", d.person_id, d.week_start) for d in plan.cards}
        | {("reminder", d.person_id, d.week_start) for d in plan.reminders}
        | {("digest", d.manager_id, d.week_start) for d in plan.digests}
    )


async def _queue(session: AsyncSession, plan: CheckInPlan, now: datetime, report: ScheduleReport) -> None:
    for due in plan.cards:
        if (view := await checkins.issue_card(session, due=due, now=now)) is not None:
            report.cards += await _put(
                session, "card", due.person_id, due.week_start, cards.checkin_card, view, now, report
            )
    for due in plan.reminders:
        if (view := await checkins.issue_reminder(session, due=due, now=now)) is not None:
            report.reminders += await _put(
                session,
                "reminder",
                due.person_id,
                due.week_start,
                cards.checkin_reminder_card,
                view,
                now,
                report,
            )
    for due in plan.digests:
        if (digest := await checkins.issue_digest(session, due=due, now=now)) is not None:
            report.digests += await _put(
                session,
                "digest",
                due.manager_id,
                due.week_start,
                cards.checkin_digest_card,
                digest,
                now,
                report,
            )


_SUMMARIES = {
    "card": "Time for your weekly check-in",
    "reminder": "Your weekly check-in is still waiting",
    "digest": "Your team's check-ins are in",
}


async def _put(
    session: AsyncSession,
    kind: str,
    person_id: int,
    week: date,
    build: Callable[[Any], Card],
    view: Any,
    now: datetime,
    report: ScheduleReport,
) -> int:
    """Queue one card (one per person, week and kind); 1 when queued, 0 when it could not be built."""
    key = f"checkin:{kind}:{person_id}:{week.isoformat()}"
    try:
        card = build(view)
    except (CardTooLarge, ValueError):
        # One card that can't be built must not hold up everyone else's; the item stays marked, so the
        # next pass doesn't retry it forever.
        log.exception("could not build the check-in %s card for person %s", kind, person_id)
        report.failed.append(key)
        return 0
    await outbox.enqueue(
        session,
        kind=f"checkin.{kind}",
        person_id=person_id,
        payload={"card": card, "summary": _SUMMARIES[kind]},
        now=now,
        dedupe_key=key,
    )
    return 1

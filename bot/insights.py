"""The managers' monthly insights digest in Teams chat: the scheduler's pass queues each digest card in the
outbox for the manager's 1:1 chat.

The planning is domain.insights.digest_plan's (which managers, whose working hours, what about their line
they may be told, the one-per-month key); this builds the cards and queues them under that key, so several
servers or a rerun send each manager one digest a month.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adaptive_cards import insights as cards
from adaptive_cards.elements import CardTooLarge
from domain import insights
from domain.clock import Clock
from domain.insight_views import KIND_DIGEST
from storage import outbox
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)


@dataclass
class InsightDigestReport:
    """What one pass queued, and what it left for later or could not send."""

    digests: int = 0
    waiting: int = 0  # outside the manager's working hours: a later pass decides again
    already: int = 0  # this month's digest was queued before
    nothing: int = 0  # no suggestion about their line to tell them
    no_chat: tuple[int, ...] = ()
    blocked: int = 0
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.digests or self.failed)

    def __str__(self) -> str:
        text = (
            f"insights digests: {self.digests} queued; {self.waiting} waiting for working hours, "
            f"{self.already} already sent this month, {self.nothing} with nothing to tell, "
            f"{len(self.no_chat)} without a chat, {self.blocked} blocked"
        )
        return text + (f"; {len(self.failed)} could not be built" if self.failed else "")


async def schedule_insight_digests(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    default_zone: ZoneInfo,
    plan_link: Callable[[int], str] | None = None,
) -> InsightDigestReport:
    """Plan (bulk reads), then queue the digests that may go now in one transaction, each under its
    one-per-month outbox key. With `plan_link` (person id → where their development plan opens) each
    listed person gets a button to it."""
    async with read_only(sessions) as session:
        now = clock()
        plan = await insights.digest_plan(session, now=now, default_zone=default_zone)
    report = InsightDigestReport(
        waiting=plan.waiting,
        already=plan.already,
        nothing=plan.nothing,
        no_chat=plan.no_chat,
        blocked=plan.blocked,
    )
    if not plan.nudges:
        return report
    async with unit_of_work(sessions) as session:
        for nudge in plan.nudges:
            digest = nudge.digest
            links = {i.person_id: plan_link(i.person_id) for i in digest.items} if plan_link else None
            try:
                card = cards.digest_card(digest, plan_links=links)
            except (CardTooLarge, ValueError):
                # One card that can't be built must not hold up everyone else's.
                log.exception("could not build the insights digest %s", nudge.key)
                report.failed.append(nudge.key)
                continue
            await outbox.enqueue(
                session,
                kind=KIND_DIGEST,
                person_id=digest.manager_id,
                payload={"card": card, "summary": cards.digest_summary(digest)},
                now=now,
                dedupe_key=nudge.key,
            )
            report.digests += 1
    return report

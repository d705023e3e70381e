"""The scheduler's pass: queue every proactive card that is due (the outbox sender delivers them)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.checkins import ScheduleReport, schedule_checkins
from bot.feedback_requests import RequestsReport, schedule_feedback_requests
from domain.clock import Clock


async def schedule_due(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, *, default_zone: ZoneInfo
) -> tuple[ScheduleReport, RequestsReport]:
    """Check-in cards, reminders and digests; feedback request reminders and expiry. Each job claims what
    it sends in the transaction that queues it, so several servers may run this at once."""
    return (
        await schedule_checkins(sessions, clock, default_zone=default_zone),
        await schedule_feedback_requests(sessions, clock),
    )

"""The scheduler's pass: queue every proactive card that is due (the outbox sender delivers them)."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.checkins import ScheduleReport, schedule_checkins
from bot.development import DevelopmentReminderReport, schedule_development_reminders
from bot.feedback_requests import RequestsReport, schedule_feedback_requests
from bot.insights import InsightDigestReport, schedule_insight_digests
from bot.review_nudges import ReviewNudgeReport, schedule_review_nudges
from domain.clock import Clock


async def schedule_due(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    default_zone: ZoneInfo,
    plan_link: Callable[[int], str] | None = None,
) -> tuple[ScheduleReport, RequestsReport, DevelopmentReminderReport, InsightDigestReport, ReviewNudgeReport]:
    """Check-in cards, reminders and digests; feedback request reminders and expiry; review-cycle nudges,
    escalations and improvement plan checkpoint reminders; development action reminders and the managers'
    monthly insights digests (queued before the review nudges, whose report callers read last). Each job
    claims what it sends in the transaction that queues it (review nudges by their one-per-day outbox key,
    digests by their one-per-month key), so several servers may run this at once. `plan_link` (person id →
    where their development plan opens) gives each person a digest names a button to their plan."""
    return (
        await schedule_checkins(sessions, clock, default_zone=default_zone),
        await schedule_feedback_requests(sessions, clock),
        await schedule_development_reminders(sessions, clock, default_zone=default_zone),
        await schedule_insight_digests(sessions, clock, default_zone=default_zone, plan_link=plan_link),
        await schedule_review_nudges(sessions, clock, default_zone=default_zone),
    )

"""Mounting the bot on the aiohttp app: POST /api/messages and the outbox sender."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import adaptive_cards as cards
from bot import checkins, development, feedback, feedback_requests, goals, message_feedback, praise, reviews
from bot.actions import ActionContext, ActionRouter
from bot.adapter import TrellisAdapter
from bot.auth import BotCredentials, TrellisAuthentication
from bot.handler import TrellisBot
from bot.proactive import OutboxSender
from bot.rate_limit import DEFAULT_TENANT_RATE, SendLimiter
from domain.clock import Clock

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class BotSettings:
    """What the bot needs from configuration."""

    app_id: str = ""
    app_password: str = ""
    app_type: str = "SingleTenant"
    app_tenant_id: str = ""
    home_url: str | None = None
    hr_contact: str | None = None
    openid_metadata_url: str | None = None
    allowed_service_hosts: tuple[str, ...] = ()
    # Whose days check-ins follow when a person has no time zone on file (CHECKIN_TIME_ZONE).
    checkin_time_zone: ZoneInfo = UTC_ZONE
    # Proactive sends per second per tenant from this process (NUDGE_TENANT_RATE).
    nudge_tenant_rate: int = DEFAULT_TENANT_RATE


@dataclass
class BotRuntime:
    """The bot's long-lived parts, for the composition root and tests."""

    adapter: TrellisAdapter
    bot: TrellisBot
    router: ActionRouter
    sender: OutboxSender


BOT = web.AppKey("trellis.bot", BotRuntime)
# What to record once an outbox message of a kind went out (the activity id Teams gave it).
AFTER_SEND = {praise.KIND_CHANNEL_POST: praise.record_channel_post}


def mount(
    app: web.Application, *, sessions: async_sessionmaker[AsyncSession], settings: BotSettings, clock: Clock
) -> BotRuntime:
    """Add /api/messages to the app and return the runtime (its sender is not started here)."""
    auth = TrellisAuthentication(
        BotCredentials(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password,
            # Without an app id botbuilder runs anonymously only in its MultiTenant mode.
            APP_TYPE=settings.app_type if settings.app_id else "MultiTenant",
            APP_TENANTID=settings.app_tenant_id,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
        ),
        allowed_service_hosts=settings.allowed_service_hosts,
    )
    router = default_router(checkin_time_zone=settings.checkin_time_zone)
    bot = TrellisBot(
        sessions=sessions,
        clock=clock,
        router=router,
        home_url=settings.home_url,
        hr_contact=settings.hr_contact,
    )
    adapter = TrellisAdapter(auth)
    sender = OutboxSender(
        sessions=sessions,
        pool=auth.pool,
        clock=clock,
        limiter=SendLimiter(per_tenant_per_second=settings.nudge_tenant_rate),
        after_send=AFTER_SEND,
    )
    runtime = BotRuntime(adapter, bot, router, sender)
    app[BOT] = runtime

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    async def close_pool(_app: web.Application) -> None:
        await auth.pool.close()

    app.router.add_post("/api/messages", messages)
    app.on_cleanup.append(close_pool)
    return runtime


def default_router(*, checkin_time_zone: ZoneInfo = UTC_ZONE) -> ActionRouter:
    """The verbs every Trellis card may use; feature packages register theirs beside these."""
    router = ActionRouter()
    router.register("help", _help)
    goals.register(router)
    checkins.register(router, default_zone=checkin_time_zone)
    feedback.register(router)
    feedback_requests.register(router)
    message_feedback.register(router)
    praise.register(router)
    reviews.register(router, default_zone=checkin_time_zone)
    development.register(router)
    return router


async def _help(ctx: ActionContext) -> dict:
    return cards.help_card(roles=frozenset(r.value for r in ctx.actor.roles), home_url=ctx.home_url)

"""The aiohttp application: bot and tabs mounted on one store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import routes as bot_routes
from bot.schedule import schedule_due
from directory.errors import DirectoryError
from directory.graph import GraphClient
from directory.sync import sync_directory
from directory.tokens import TokenSource
from domain.clock import Clock, system_clock
from manifest.build import DEVELOPMENT_TAB
from storage import demo
from storage.engine import READ_ONLY, create_engine, session_factory
from tabs import routes as tab_routes
from tabs.navigation import DEVELOPMENT
from tabs.people import PeopleDirectory
from tabs.security import security_headers
from tabs.settings import TabSettings
from trellis.config import Settings

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TEAMS_JS = (
    PROJECT_ROOT / "node_modules" / "@microsoft" / "teams-js" / "dist" / "umd" / "MicrosoftTeams.min.js"
)
ENGINE = web.AppKey("trellis.engine", AsyncEngine)


def create_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    engine: AsyncEngine | None = None,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    run_sender: bool = True,
) -> web.Application:
    """Build the app; the engine is disposed on cleanup only when this function created it.

    run_sender=False leaves out the proactive background jobs (the outbox sender and the check-in
    scheduler): tests and one-shot commands run them by hand."""
    own_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    sessions = sessions or session_factory(engine)
    app = web.Application(middlewares=[security_headers])
    app[ENGINE] = engine
    runtime = bot_routes.mount(app, sessions=sessions, settings=_bot_settings(settings), clock=clock)
    tab_routes.mount(
        app,
        sessions=sessions,
        settings=_tab_settings(settings),
        personas=_personas(settings),
        people=_people(settings),
        clock=clock,
    )
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/", _index)
    if run_sender:
        app.cleanup_ctx.append(_background(runtime.sender.run))
    if run_sender and settings.checkin_schedule_minutes > 0:
        minutes, zone = settings.checkin_schedule_minutes, settings.checkin_time_zone
        links = plan_link(settings)
        app.cleanup_ctx.append(_background(lambda: _schedule_every(minutes, zone, sessions, clock, links)))
    if settings.directory.configured and settings.directory.sync_interval_minutes > 0:
        app.cleanup_ctx.append(_background(lambda: _sync_directory_every(settings, sessions, clock)))
    if own_engine:
        app.on_cleanup.append(lambda _app: engine.dispose())
    return app


def _bot_settings(settings: Settings) -> bot_routes.BotSettings:
    return bot_routes.BotSettings(
        app_id=settings.app_id,
        app_password=settings.app_password,
        app_type=settings.app_type,
        app_tenant_id=settings.app_tenant_id,
        home_url=_home_deep_link(settings),
        hr_contact=settings.hr_contact,
        openid_metadata_url=settings.bot_openid_metadata_url,
        allowed_service_hosts=settings.allowed_service_hosts,
        checkin_time_zone=settings.checkin_time_zone,
        nudge_tenant_rate=settings.nudge_tenant_rate,
    )


def _home_deep_link(settings: Settings) -> str | None:
    # Inside Teams a card button should open the Home tab in Teams, not a browser window. The manifest
    # uses the bot's app id as the Teams app id, and "home" is the tab's entityId.
    if not settings.app_id:
        return None
    return f"https://teams.microsoft.com/l/entity/{settings.app_id}/home"


def plan_link(settings: Settings) -> Callable[[int], str] | None:
    """Where a chat button opens someone's development plan: a deep link to the My development tab whose
    sub-page is the plan's path (tabs/static/trellis.js follows it). None without a Teams app id (local
    development): Teams takes only https links on cards, and a browser outside Teams has no sign-in."""
    if not settings.app_id:
        return None
    entity = f"https://teams.microsoft.com/l/entity/{settings.app_id}/{DEVELOPMENT_TAB}"

    def deep_link(person_id: int) -> str:
        context = json.dumps({"subEntityId": f"{DEVELOPMENT}/{person_id}"}, separators=(",", ":"))
        return f"{entity}?context={quote(context, safe='')}"

    return deep_link


def _tab_settings(settings: Settings) -> TabSettings:
    return TabSettings(
        public_base_url=settings.public_base_url,
        session_secret=settings.session_secret,
        dev_sign_in=settings.dev_sign_in_enabled,
        sso_client_id=settings.sso.client_id,
        sso_allowed_tenants=settings.sso.allowed_tenants,
        sso_openid_metadata_url=settings.sso.openid_metadata_url,
        sso_app_id_uri=settings.sso.app_id_uri,
        teams_js_path=TEAMS_JS if TEAMS_JS.exists() else None,
    )


def _people(settings: Settings) -> PeopleDirectory | None:
    # The people picker exchanges the tab's SSO token on behalf of the user, so it needs both SSO and the
    # directory's app credentials, and both must be the same app registration (the token's audience).
    directory = settings.directory
    if not directory.configured or not settings.sso.enabled:
        return None
    if (settings.sso.client_id or "").lower() != directory.client_id.lower():
        log.warning(
            "people search is off: the tab SSO app (%s) and the Graph app (%s) differ; on-behalf-of "
            "needs one app registration for both",
            settings.sso.client_id,
            directory.client_id,
        )
        return None
    return PeopleDirectory(
        TokenSource(directory),
        graph_base_url=directory.graph_base_url,
        authority=directory.authority,
        client_id=directory.client_id,
    )


def _personas(settings: Settings) -> dict[str, tuple[str | None, str]] | None:
    # The dev sign-in offers the demo organization's employee, manager and HR persona.
    if not settings.dev_sign_in_enabled:
        return None
    return {name: (demo.DEMO_TENANT_ID, aad_id) for name, aad_id in demo.PERSONAS.items()}


def _background(job) -> object:  # type: ignore[no-untyped-def]
    async def context(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(job())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _sync_directory_every(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> None:
    """The scheduled directory sync: at start-up, then every DIRECTORY_SYNC_INTERVAL_MINUTES."""
    directory = settings.directory
    async with GraphClient(directory, TokenSource(directory)) as graph:
        while True:
            try:
                report = await sync_directory(sessions, graph, tenant_id=directory.tenant_id, now=clock())
                log.info("%s", report.render(limit=5))
            except DirectoryError as error:
                log.error("directory sync failed: %s", error)
            await asyncio.sleep(directory.sync_interval_minutes * 60)


async def _schedule_every(
    minutes: int,
    zone: ZoneInfo,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    links: Callable[[int], str] | None,
) -> None:
    """Queue due check-ins and feedback request reminders (and expire requests) at start-up, then every
    CHECKIN_SCHEDULE_MINUTES; the outbox sender delivers them. Several servers may run this at once: each
    item is claimed once."""
    while True:
        try:
            for report in await schedule_due(sessions, clock, default_zone=zone, plan_link=links):
                if report:
                    log.info("%s", report)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("scheduling proactive cards failed; will try again")
        await asyncio.sleep(minutes * 60)


async def _healthz(request: web.Request) -> web.Response:
    try:
        async with asyncio.timeout(2):
            async with request.app[ENGINE].connect() as conn:
                await conn.execution_options(**READ_ONLY)
                await conn.execute(text("SELECT 1"))
    except Exception as error:
        log.warning("health check: database unreachable: %r", error)
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def _index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/tabs/home")

"""Check-ins run on their own: the server's scheduler (CHECKIN_SCHEDULE_MINUTES) and `trellis nudge` put
the due card in the person's chat through the outbox, once, from 09:00 on the person's day in their own
time zone (CHECKIN_TIME_ZONE for someone with none). Adele Vance is in Los Angeles (UTC-8 in November)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import demo
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import CheckInPreference, ConversationRef, Person
from storage.uow import unit_of_work
from tests.support.connector import ConnectorStandIn
from trellis import config
from trellis.app import create_app
from trellis.config import ConfigError

TRELLIS = Path(sys.executable).with_name("trellis")
THURSDAY = datetime(2026, 11, 26, 17, tzinfo=UTC)  # 09:00 in Los Angeles


def test_the_schedule_is_every_15_minutes_unless_configured() -> None:
    assert config.load({}).checkin_schedule_minutes == 15
    assert config.load({"CHECKIN_SCHEDULE_MINUTES": "0"}).checkin_schedule_minutes == 0
    assert config.load({"CHECKIN_SCHEDULE_MINUTES": " 5 "}).checkin_schedule_minutes == 5
    with pytest.raises(ConfigError, match="CHECKIN_SCHEDULE_MINUTES must be a whole number of minutes"):
        config.load({"CHECKIN_SCHEDULE_MINUTES": "soon"})


def test_the_organizations_check_in_zone_is_utc_unless_configured() -> None:
    assert config.load({}).checkin_time_zone == ZoneInfo("UTC")
    assert config.load({"CHECKIN_TIME_ZONE": " Europe/Berlin "}).checkin_time_zone == ZoneInfo(
        "Europe/Berlin"
    )
    for wrong in ("Europe/Berlln", "CET+1", "../etc/passwd"):
        with pytest.raises(ConfigError, match=r"CHECKIN_TIME_ZONE must be an IANA time zone name such as"):
            config.load({"CHECKIN_TIME_ZONE": wrong})


@pytest_asyncio.fixture
async def own_database(tmp_path: Path) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A SQLite file of this test's own with the demo organization (background jobs commit for real)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'trellis.db'}"
    engine = create_engine(url)
    await upgrade(engine)
    async with unit_of_work(session_factory(engine)) as session:
        await demo.seed(session, people=60, seed=7)
    yield url, engine
    await engine.dispose()


async def reachable_on(
    engine: AsyncEngine, connector: ConnectorStandIn, weekday: int, time_zone: str | None = None
) -> str:
    """Adele has a chat with the bot at the connector and wants her card on `weekday` (in `time_zone`
    when given, else her own); her chat's id."""
    conversation_id = ConnectorStandIn.conversation_id_for("29:adele")
    async with unit_of_work(session_factory(engine)) as session:
        adele = await session.scalar(
            select(Person.id).where(Person.aad_object_id == demo.ADELE.aad_object_id)
        )
        if time_zone is not None:
            await session.execute(update(Person).where(Person.id == adele).values(time_zone=time_zone))
        session.add(
            ConversationRef(
                person_id=adele,
                conversation_id=conversation_id,
                service_url=connector.service_url,
                bot_id="28:trellis",
                user_id="29:adele",
                tenant_id=demo.DEMO_TENANT_ID,
            )
        )
        session.add(CheckInPreference(person_id=adele, weekday=weekday, paused=False, updated_at=THURSDAY))
    return conversation_id


@pytest.mark.parametrize(
    ("time_zone", "environ", "now"),
    [
        (None, {}, THURSDAY),
        # No zone on file: Thursday 00:00 UTC is Thursday 09:00 in the organization's Tokyo (with UTC's
        # it would be midnight, and nothing would go).
        ("UTC", {"CHECKIN_TIME_ZONE": "Asia/Tokyo"}, datetime(2026, 11, 26, 0, tzinfo=UTC)),
    ],
)
async def test_the_server_schedules_and_sends_the_card_by_itself(
    own_database, connector, time_zone, environ, now
) -> None:
    _url, engine = own_database
    chat = await reachable_on(engine, connector, THURSDAY.weekday(), time_zone)
    settings = config.load({"TRELLIS_SESSION_SECRET": "x" * 40, "CHECKIN_SCHEDULE_MINUTES": "60"} | environ)
    app = create_app(settings, clock=lambda: now, engine=engine)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        sent = await connector.wait_for(lambda r: r.kind == "send" and r.conversation_id == chat, timeout=15)
    finally:
        await runner.cleanup()

    [attachment] = sent.body["attachments"]
    assert "Your weekly check-in" in str(attachment["content"])


async def test_trellis_nudge_sends_what_is_due_once(own_database, connector, tmp_path: Path) -> None:
    url, engine = own_database
    # `trellis nudge` runs on the real clock. Adele has no zone on file ("UTC"), so hers is the
    # organization's, set to wherever it is about noon now: today there is her day, and past 09:00.
    zone, local_now = _about_noon(datetime.now(UTC))
    chat = await reachable_on(engine, connector, local_now.weekday(), time_zone="UTC")
    env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "CHECKIN_TIME_ZONE": zone}

    first = await _run("nudge", cwd=tmp_path, env=env)
    again = await _run("nudge", cwd=tmp_path, env=env)

    assert first[0] == 0, first
    assert "check-ins: 1 cards, 0 reminders, 0 digests queued" in first[1], first
    assert "sent=1" in first[1], first
    assert "check-ins: 0 cards" in again[1], again
    assert len([r for r in connector.sent if r.conversation_id == chat]) == 1


def _about_noon(now: datetime) -> tuple[str, datetime]:
    """A fixed-offset zone where `now` is between 12:00 and 13:00, and the time there."""
    hours = 12 - now.hour  # from -11 to +12, all of which Etc/GMT offers
    name = f"Etc/GMT{-hours:+d}" if hours else "Etc/GMT"  # POSIX signs: Etc/GMT-5 is five hours ahead
    local_now = now.astimezone(ZoneInfo(name))
    assert local_now.hour == 12 and local_now.utcoffset() == timedelta(hours=hours)
    return name, local_now


async def _run(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(TRELLIS),
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()

"""NUDGE_TENANT_RATE: read once in trellis.config, carried by BotSettings to the outbox sender's limiter."""

from __future__ import annotations

import pytest

from bot.routes import BOT
from trellis import config
from trellis.app import create_app

SECRET = {"TRELLIS_SESSION_SECRET": "test-secret-" + "x" * 32}


def test_the_tenant_rate_defaults_to_40_per_second() -> None:
    assert config.load(SECRET).nudge_tenant_rate == 40


@pytest.mark.parametrize("raw", ["1", "25", "50", "200"])
def test_the_tenant_rate_is_read_from_the_environment(raw: str) -> None:
    assert config.load({**SECRET, "NUDGE_TENANT_RATE": raw}).nudge_tenant_rate == int(raw)


@pytest.mark.parametrize("raw", ["0", "-5", "40.5", "fast"])
def test_a_bad_tenant_rate_stops_with_a_message_naming_the_variable(raw: str) -> None:
    with pytest.raises(config.ConfigError, match="NUDGE_TENANT_RATE"):
        config.load({**SECRET, "NUDGE_TENANT_RATE": raw})


@pytest.mark.parametrize("raw", [None, "12"])
async def test_the_server_sender_uses_the_configured_rate(raw: str | None, sqlite_engine) -> None:
    settings = config.load({**SECRET, **({"NUDGE_TENANT_RATE": raw} if raw else {})})

    app = create_app(settings, engine=sqlite_engine, run_sender=False)

    assert app[BOT].sender.limiter.per_tenant_per_second == int(raw or 40)

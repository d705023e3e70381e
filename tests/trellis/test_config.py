"""Settings: sensible defaults for a laptop, and one readable line naming the variable for every bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trellis import config
from trellis.config import ConfigError

APP_ID = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-8888-7777-6666-555555555555"
SECRET = "s" * 40
PRODUCTION = {
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": "app-password",
    "MicrosoftAppTenantId": TENANT,
    "PUBLIC_BASE_URL": "https://trellis.example.com",
    "TRELLIS_SESSION_SECRET": SECRET,
}
TRELLIS_CLI = Path(sys.executable).with_name("trellis")


def test_defaults_are_local_development_on_sqlite() -> None:
    settings = config.load({})

    assert settings.port == 3978
    assert settings.database_url == "sqlite+aiosqlite:///var/trellis.db"
    assert settings.production is False
    assert settings.dev_sign_in_enabled is True
    assert settings.app_id == "" and settings.app_password == ""
    assert settings.public_base_url == "http://localhost:3978"
    assert settings.log_level == "INFO"
    assert settings.sso.enabled is False
    assert settings.allowed_service_hosts == (), "dev mode talks to local connectors"
    assert len(settings.session_secret) >= 32, "a random secret is generated when none is given"


def test_a_complete_production_configuration_loads() -> None:
    settings = config.load(PRODUCTION)

    assert settings.production is True
    assert settings.dev_sign_in_enabled is False
    assert settings.app_id == APP_ID
    assert settings.app_tenant_id == TENANT
    assert settings.app_type == "SingleTenant"
    assert "smba.trafficmanager.net" in settings.allowed_service_hosts
    assert "app-password" not in repr(settings), "secrets stay out of logs"
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        pytest.param({"PORT": "abc"}, "PORT", id="port-not-a-number"),
        pytest.param({"PORT": "70000"}, "PORT", id="port-out-of-range"),
        pytest.param({"PORT": "0"}, "PORT", id="port-zero"),
        pytest.param({"PORT": "-1"}, "PORT", id="port-negative"),
        pytest.param({"MicrosoftAppId": "not-a-guid"}, "MicrosoftAppId", id="app-id-not-a-guid"),
        pytest.param(
            {k: v for k, v in PRODUCTION.items() if k != "MicrosoftAppPassword"},
            "MicrosoftAppPassword",
            id="app-id-without-password",
        ),
        pytest.param(
            {k: v for k, v in PRODUCTION.items() if k != "MicrosoftAppTenantId"},
            "MicrosoftAppTenantId",
            id="single-tenant-without-tenant",
        ),
        pytest.param(PRODUCTION | {"MicrosoftAppType": "Single"}, "MicrosoftAppType", id="bad-app-type"),
        pytest.param({"PUBLIC_BASE_URL": "ftp://x"}, "PUBLIC_BASE_URL", id="base-url-ftp"),
        pytest.param({"PUBLIC_BASE_URL": "trellis.example.com"}, "PUBLIC_BASE_URL", id="base-url-no-scheme"),
        pytest.param(
            PRODUCTION | {"PUBLIC_BASE_URL": "http://trellis.example.com"},
            "PUBLIC_BASE_URL",
            id="http-base-url-in-production",
        ),
        pytest.param(
            PRODUCTION | {"TRELLIS_SESSION_SECRET": "short"},
            "TRELLIS_SESSION_SECRET",
            id="short-session-secret-in-production",
        ),
        pytest.param({"DATABASE_URL": "mysql://u:p@db/trellis"}, "DATABASE_URL", id="database-mysql"),
        pytest.param(
            {"DATABASE_URL": "postgresql+psycopg2://db/trellis"}, "DATABASE_URL", id="database-sync-driver"
        ),
        pytest.param({"TAB_SSO_CLIENT_ID": APP_ID}, "TAB_SSO_ALLOWED_TENANTS", id="sso-without-tenants"),
        pytest.param({"TAB_SSO_CLIENT_ID": "nope"}, "TAB_SSO_CLIENT_ID", id="sso-client-not-a-guid"),
        pytest.param(
            {"TAB_SSO_CLIENT_ID": APP_ID, "TAB_SSO_ALLOWED_TENANTS": "contoso"},
            "TAB_SSO_ALLOWED_TENANTS",
            id="sso-tenant-not-a-guid",
        ),
        pytest.param({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", id="log-level"),
    ],
)
def test_a_bad_value_stops_with_a_message_naming_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load(environ)

    message = str(raised.value)
    assert variable in message
    assert "\n" not in message, "one line for the operator's log"


def test_the_database_password_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ConfigError) as raised:
        config.load({"DATABASE_URL": "mysql://trellis:hunter2@db/trellis"})
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/trellis", "postgresql+asyncpg://u:p@db:5432/trellis"),
        ("postgresql://u@db/trellis", "postgresql+asyncpg://u@db/trellis"),
        ("postgresql+asyncpg://u@db/trellis", "postgresql+asyncpg://u@db/trellis"),
        ("sqlite:////srv/trellis/trellis.db", "sqlite+aiosqlite:////srv/trellis/trellis.db"),
        ("sqlite+aiosqlite:///var/x.db", "sqlite+aiosqlite:///var/x.db"),
    ],
)
def test_database_urls_people_paste_get_the_async_driver(given: str, expected: str) -> None:
    assert config.load({"DATABASE_URL": given}).database_url == expected


def test_sso_tenants_default_to_the_bot_tenant_and_the_app_id_uri_to_the_public_host() -> None:
    settings = config.load(PRODUCTION | {"TAB_SSO_CLIENT_ID": APP_ID})

    assert settings.sso.enabled
    assert settings.sso.allowed_tenants == frozenset({TENANT})
    assert settings.sso.app_id_uri == f"api://trellis.example.com/{APP_ID}"


def test_port_and_log_level_are_read() -> None:
    settings = config.load({"PORT": "8080", "LOG_LEVEL": "debug"})
    assert settings.port == 8080
    assert settings.log_level == "DEBUG"
    assert settings.public_base_url == "http://localhost:8080"


def test_the_cli_prints_one_line_naming_the_variable_and_exits_2(tmp_path: Path) -> None:
    assert TRELLIS_CLI.exists(), f"the console script is installed at {TRELLIS_CLI}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PORT": "abc"}

    done = subprocess.run(
        [str(TRELLIS_CLI), "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    assert "PORT" in lines[0] and "abc" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists(), "nothing is created before the configuration is valid"

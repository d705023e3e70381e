"""The `trellis` console script, run as an operator runs it: a real process, its own database, exit codes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import func, inspect, select

from storage import demo
from storage.engine import create_engine
from storage.models import Person

TRELLIS = Path(sys.executable).with_name("trellis")
APP_ID = "3f9b2c71-6a0e-4d5b-8c19-7e2a4f6d0b38"
TENANT_ID = "c0ffee00-1234-4abc-9def-0123456789ab"
PRODUCTION = {
    "MicrosoftAppId": APP_ID,
    "MicrosoftAppPassword": "not-a-real-secret",
    "MicrosoftAppTenantId": TENANT_ID,
    "PUBLIC_BASE_URL": "https://trellis.example.com/",
    "TRELLIS_SESSION_SECRET": "cli-session-secret-" + "x" * 32,
}
# Whatever the developer's shell has set must not leak into these runs.
_TRELLIS_VARIABLES = ("DATABASE_URL", "PORT", "HOST", "PUBLIC_BASE_URL", "LOG_LEVEL")
_TRELLIS_PREFIXES = ("Microsoft", "TRELLIS_", "BOT_", "TAB_SSO_")

HEADER = "email,display_name,manager_email,job_title,department,aad_object_id,time_zone,hire_date\n"
GOOD_CSV = HEADER + (
    "ceo@contoso.example,Cleo Chief,,Chief Executive,Executive,,Europe/London,2019-04-01\n"
    "vp@contoso.example,Vic President,ceo@contoso.example,VP Engineering,Engineering,,America/New_York,\n"
    "ann@contoso.example,Ann Analyst,vp@contoso.example,Engineer,Engineering,,UTC,2022-02-28\n"
    "ben@contoso.example,Ben Builder,vp@contoso.example,Engineer,Engineering,"
    "1b4e28ba-2fa1-11d2-883f-0016d3cca427,Asia/Tokyo,2023-10-09\n"
)
# Line numbers are spreadsheet rows: the header is line 1.
BAD_CSV = HEADER + (
    "ceo@contoso.example,Cleo Chief,,Chief Executive,Executive,,Europe/London,2019-04-01\n"  # 2 good
    "ann@contoso.example,Ann Analyst,ceo@contoso.example,Engineer,Engineering,,UTC,\n"  # 3 good
    "bob@contoso.example,Bob Ghost,ghost@contoso.example,Engineer,Engineering,,UTC,\n"  # 4 unknown manager
    "cat@contoso.example,Cat Circle,dan@contoso.example,Engineer,Engineering,,UTC,\n"  # 5 cycle
    "dan@contoso.example,Dan Circle,cat@contoso.example,Engineer,Engineering,,UTC,\n"  # 6 cycle
    "eve@contoso.example,Eve Twice,ceo@contoso.example,Engineer,Engineering,,UTC,\n"  # 7 duplicate
    "EVE@contoso.example,Eve Again,ceo@contoso.example,Engineer,Engineering,,UTC,\n"  # 8 duplicate
    "fay@contoso.example,Fay Zone,ceo@contoso.example,Engineer,Engineering,,Mars/Olympus_Mons,\n"  # 9 zone
    "gus@contoso.example,Gus Date,ceo@contoso.example,Engineer,Engineering,,UTC,2023-02-30\n"  # 10 date
    "hal@contoso.example,Hal Good,ann@contoso.example,Engineer,Engineering,,UTC,2024-01-15\n"  # 11 good
)
BAD_LINES = {
    4: ("unknown manager", "ghost@contoso.example"),
    5: ("reporting cycle", "cat@contoso.example"),
    6: ("reporting cycle", "dan@contoso.example"),
    7: ("duplicate email", "line 8"),
    8: ("duplicate email", "line 7"),
    9: ("bad time zone", "Mars/Olympus_Mons"),
    10: ("bad hire date", "2023-02-30"),
}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _environment(extra: dict[str, str]) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _TRELLIS_VARIABLES and not name.startswith(_TRELLIS_PREFIXES)
    }
    return env | {"PYTHONUNBUFFERED": "1"} | extra


async def trellis(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    """Run the installed console script to completion."""
    process = await asyncio.create_subprocess_exec(
        str(TRELLIS),
        *args,
        cwd=cwd,
        env=_environment(env or {}),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return Result(process.returncode or 0, out.decode(), err.decode())


async def count_people(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(Person))
    finally:
        await engine.dispose()


async def people_by_email(database_url: str) -> dict[str, Person]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(Person))).all()
            return {row.email: row for row in rows}
    finally:
        await engine.dispose()


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'var' / 'trellis.db'}"  # as an operator writes it; the CLI adds aiosqlite


def _async_url(url: str) -> str:
    return url.replace("sqlite://", "sqlite+aiosqlite://", 1)


@pytest.fixture(params=["sqlite", "postgresql"])
def cluster_for_backend(request: pytest.FixtureRequest):
    # Plain fixture: an async fixture cannot start the session's async cluster fixture on demand.
    return request.getfixturevalue("pg_cluster") if request.param == "postgresql" else None


@pytest_asyncio.fixture
async def database_url(cluster_for_backend, tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test's own: a SQLite file under tmp_path, or a fresh PostgreSQL database."""
    if cluster_for_backend is None:
        yield _sqlite_url(tmp_path)
        return
    name = f"cli_{uuid.uuid4().hex[:12]}"
    url = await cluster_for_backend.create_database(name)
    # Hand the CLI the URL people paste (postgresql://); it picks the async driver itself.
    yield url.replace("postgresql+asyncpg://", "postgresql://", 1)
    await cluster_for_backend.drop_database(name)


def _engine_url(url: str) -> str:
    return _async_url(url).replace("postgresql://", "postgresql+asyncpg://", 1)


# --- org import ----------------------------------------------------------------------------------------


async def test_org_import_rejects_a_bad_file_whole_then_imports_a_good_one(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "bad.csv").write_text(BAD_CSV, encoding="utf-8")
    (tmp_path / "people.csv").write_text(GOOD_CSV, encoding="utf-8")
    env = {"DATABASE_URL": database_url}

    bad = await trellis("org", "import", "bad.csv", cwd=tmp_path, env=env)

    assert bad.code == 1, bad
    assert "nothing was written" in bad.stderr, bad
    reported = {
        int(line.split(":")[0].removeprefix("line ")): line
        for line in (raw.strip() for raw in bad.stderr.splitlines())
        if line.startswith("line ")
    }
    assert set(reported) == set(BAD_LINES), f"every bad row and only those:\n{bad}"
    for line, words in BAD_LINES.items():
        for word in words:
            assert word in reported[line], (line, reported[line])
    assert await count_people(_engine_url(database_url)) == 0, "the good rows must not be written either"

    good = await trellis("org", "import", "people.csv", cwd=tmp_path, env=env)

    assert good.code == 0, good
    assert "4 created, 0 updated, 0 unchanged" in good.stdout, good
    people = await people_by_email(_engine_url(database_url))
    assert set(people) == {
        "ceo@contoso.example",
        "vp@contoso.example",
        "ann@contoso.example",
        "ben@contoso.example",
    }
    assert people["ann@contoso.example"].manager_id == people["vp@contoso.example"].id
    assert people["vp@contoso.example"].manager_id == people["ceo@contoso.example"].id
    assert people["ben@contoso.example"].aad_object_id == "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    assert people["ben@contoso.example"].time_zone == "Asia/Tokyo"

    again = await trellis("org", "import", "people.csv", cwd=tmp_path, env=env)

    assert again.code == 0, again
    assert "0 created, 0 updated, 4 unchanged" in again.stdout, again
    assert await count_people(_engine_url(database_url)) == 4


async def test_org_import_of_a_missing_file_says_so(tmp_path: Path) -> None:
    result = await trellis(
        "org", "import", "nowhere.csv", cwd=tmp_path, env={"DATABASE_URL": _sqlite_url(tmp_path)}
    )
    assert result.code == 1, result
    assert "cannot read nowhere.csv" in result.stderr
    assert "Traceback" not in result.stderr


# --- demo seed -----------------------------------------------------------------------------------------


async def test_demo_seed_fills_an_empty_database_once(tmp_path: Path) -> None:
    env = {"DATABASE_URL": _sqlite_url(tmp_path)}
    url = _async_url(env["DATABASE_URL"])

    first = await trellis("demo", "seed", "--people", "200", cwd=tmp_path, env=env)
    assert first.code == 0, first
    assert "Seeded the demo organization: 200 people" in first.stdout, first
    assert await count_people(url) == 200

    second = await trellis("demo", "seed", "--people", "200", cwd=tmp_path, env=env)
    assert second.code == 1, second
    assert "already has people" in second.stderr, second
    assert "Traceback" not in second.stderr
    assert await count_people(url) == 200

    too_few = await trellis("demo", "seed", "--people", "3", cwd=tmp_path, env=env)
    assert too_few.code == 2, too_few
    assert f"--people must be at least {demo.MIN_PEOPLE}" in too_few.stderr, too_few
    assert await count_people(url) == 200


async def test_demo_seed_planted_writes_the_truth_next_to_the_database_never_into_it(tmp_path: Path) -> None:
    env = {"DATABASE_URL": _sqlite_url(tmp_path)}
    url = _async_url(env["DATABASE_URL"])

    alone = await trellis("demo", "seed", "--truth", "t.json", cwd=tmp_path, env=env)
    assert alone.code == 2 and "--truth goes with --planted" in alone.stderr, alone

    result = await trellis("demo", "seed", "--people", "200", "--planted", cwd=tmp_path, env=env)

    assert result.code == 0, result
    truth_file = tmp_path / "var" / "planted-truth.json"
    assert f"written to {truth_file}" in result.stdout, result
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    assert truth["seed"] == 7 and truth["people"] == 200
    assert set(truth["truth"]) == {
        "high_potential",
        "lenient_managers",
        "severe_managers",
        "flight_risk",
        "growth",
    }
    planted = {pid for ids in truth["truth"].values() for pid in ids}
    assert all(truth["truth"].values())
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            people = set(await conn.scalars(select(Person.id)))
    finally:
        await engine.dispose()
    assert planted <= people

    elsewhere = tmp_path / "elsewhere"
    env = {"DATABASE_URL": _sqlite_url(elsewhere)}
    chosen = elsewhere / "truth" / "seed-3.json"
    again = await trellis(
        "demo",
        "seed",
        "--people",
        "60",
        "--seed",
        "3",
        "--planted",
        "--truth",
        str(chosen),
        cwd=tmp_path,
        env=env,
    )
    assert again.code == 0, again
    assert json.loads(chosen.read_text(encoding="utf-8"))["seed"] == 3
    assert not (elsewhere / "var" / "planted-truth.json").exists()


# --- migrate -------------------------------------------------------------------------------------------


async def test_migrate_creates_the_schema_in_an_empty_database(tmp_path: Path) -> None:
    env = {"DATABASE_URL": _sqlite_url(tmp_path)}

    result = await trellis("migrate", cwd=tmp_path, env=env)

    assert result.code == 0, result
    assert "Database is at the latest schema." in result.stdout
    engine = create_engine(_async_url(env["DATABASE_URL"]))
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert {"people", "positions", "role_grants", "conversation_refs", "outbox", "audit_log"} <= tables
    assert "alembic_version" in tables

    again = await trellis("migrate", cwd=tmp_path, env=env)
    assert again.code == 0, again


# --- manifest build ------------------------------------------------------------------------------------


async def test_manifest_build_without_an_app_id_is_one_clear_line(tmp_path: Path) -> None:
    result = await trellis("manifest", "build", "--out", "app.zip", cwd=tmp_path)

    assert result.code == 2, result
    assert result.stderr.strip().splitlines() == [
        "trellis: set MicrosoftAppId (the bot's Entra app id) to build the Teams app package."
    ]
    assert not (tmp_path / "app.zip").exists()


async def test_manifest_build_writes_the_app_package(tmp_path: Path) -> None:
    result = await trellis("manifest", "build", "--out", "out/app.zip", cwd=tmp_path, env=PRODUCTION)

    assert result.code == 0, result
    assert "out/app.zip" in result.stdout
    with zipfile.ZipFile(tmp_path / "out" / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        color, outline = package.read("color.png"), package.read("outline.png")
    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert manifest["validDomains"] == ["trellis.example.com"]
    tab_urls = [tab["contentUrl"] for tab in manifest["staticTabs"] if "contentUrl" in tab]
    assert tab_urls and all(url.startswith("https://trellis.example.com/") for url in tab_urls), tab_urls
    assert color.startswith(b"\x89PNG") and outline.startswith(b"\x89PNG")
    assert list(tmp_path.joinpath("out").iterdir()) == [tmp_path / "out" / "app.zip"], "no temporary left"


# --- serve ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: asyncio.subprocess.Process
    base_url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def start_server(tmp_path: Path, env: dict[str, str], *, name: str) -> Server:
    port = _free_port()
    log = tmp_path / f"{name}.log"
    with log.open("wb") as sink:  # the child keeps its own copy of the descriptor
        process = await asyncio.create_subprocess_exec(
            str(TRELLIS),
            "serve",
            "--demo",
            cwd=tmp_path,
            env=_environment(env | {"PORT": str(port)}),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise AssertionError(f"trellis serve exited with {process.returncode}:\n{server.output()}")
            try:
                async with http.get(f"{server.base_url}/healthz") as response:
                    if response.status == 200:
                        assert await response.json() == {"status": "ok", "database": "ok"}
                        return server
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                await stop_server(server)
                raise AssertionError(f"trellis serve did not become healthy:\n{server.output()}")
            await asyncio.sleep(0.1)


async def stop_server(server: Server) -> int:
    """Ctrl-C, as an operator stops it; killed (and the test failed) if it does not exit promptly."""
    if server.process.returncode is None:
        server.process.send_signal(signal.SIGINT)
    try:
        return await asyncio.wait_for(server.process.wait(), 10)
    except TimeoutError:
        server.process.kill()
        await server.process.wait()
        raise AssertionError(f"trellis serve ignored SIGINT:\n{server.output()}") from None


async def test_serve_demo_seeds_once_answers_health_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {"DATABASE_URL": _sqlite_url(tmp_path)}
    url = _async_url(env["DATABASE_URL"])

    first = await start_server(tmp_path, env, name="first")
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{first.base_url}/tabs/signin") as response:
            assert response.status == 200
            page = await response.text()
        for persona in ("Alex Wilber", "Adele Vance", "Megan Bowen"):
            assert persona in page, f"the dev sign-in should offer {persona}"
        seeded = await count_people(url)
        assert seeded > 0
    finally:
        code = await stop_server(first)
    assert code == 0, first.output()
    assert "Seeded the demo organization" in first.output()
    assert "Traceback" not in first.output()

    second = await start_server(tmp_path, env, name="second")
    try:
        assert await count_people(url) == seeded, "a second start must not seed again"
    finally:
        code = await stop_server(second)
    assert code == 0, second.output()
    assert "Seeded the demo organization" not in second.output()
    assert f"Trellis is listening on http://127.0.0.1:{second.base_url.rsplit(':', 1)[1]}" in second.output()


async def test_hr_overrides_a_manager_by_hand_and_nobody_else_may(tmp_path: Path) -> None:
    url = _sqlite_url(tmp_path)
    env = {"DATABASE_URL": url}
    assert (await trellis("demo", "seed", "--people", "60", cwd=tmp_path, env=env)).code == 0

    refused = await trellis(
        "org",
        "override-manager",
        "adelev@example.com",
        "lynner@example.com",
        "--by",
        "isaiahl@example.com",
        cwd=tmp_path,
        env=env,
    )
    assert (
        refused.code == 1 and "You don't have access" in refused.stderr and "Traceback" not in refused.stderr
    )

    done = await trellis(
        "org",
        "override-manager",
        "adelev@example.com",
        "lynner@example.com",
        "--by",
        "meganb@example.com",
        cwd=tmp_path,
        env=env,
    )
    assert done.code == 0, done.stderr
    people = await people_by_email(_async_url(url))
    adele, lynne = people["adelev@example.com"], people["lynner@example.com"]
    assert adele.manager_id == lynne.id and adele.manager_overridden

    unknown = await trellis(
        "org",
        "override-manager",
        "nobody@example.com",
        "lynner@example.com",
        "--by",
        "meganb@example.com",
        cwd=tmp_path,
        env=env,
    )
    assert unknown.code == 1 and "nobody@example.com" in unknown.stderr

    cleared = await trellis(
        "org",
        "override-manager",
        "adelev@example.com",
        "--clear",
        "--by",
        "meganb@example.com",
        cwd=tmp_path,
        env=env,
    )
    assert cleared.code == 0, cleared.stderr
    assert not (await people_by_email(_async_url(url)))["adelev@example.com"].manager_overridden

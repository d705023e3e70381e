"""`trellis` command line: serve, migrate, seed, import, manifest, outbox, nudge."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tqdm import tqdm

from bot import review_nudges
from bot.routes import BOT, BotRuntime
from bot.schedule import schedule_due
from directory.errors import DirectoryError
from directory.graph import GraphClient
from directory.install import install_for_unreachable
from directory.sync import sync_directory
from directory.tokens import TokenSource
from domain import org, org_import
from domain.access import load_actor
from domain.clock import system_clock
from domain.errors import DomainError, NotFound
from domain.org_sync import clear_manager_override, set_manager_override
from domain.performance import goals
from storage import demo, demo_goals, demo_planted, demo_talent, migrate
from storage.engine import create_engine, session_factory
from storage.uow import unit_of_work
from trellis import config
from trellis.app import create_app, plan_link


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `trellis` console script."""
    args = _parser().parse_args(argv)
    try:
        settings = config.load()
    except config.ConfigError as error:
        print(f"trellis: configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.run(settings, args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trellis", description="Performance and talent management in Teams."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot endpoint and the tabs")
    serve.add_argument(
        "--demo", action="store_true", help="seed the demo organization when the database is empty"
    )
    serve.set_defaults(run=_serve)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(run=_migrate)

    org = commands.add_parser("org", help="the organization's people").add_subparsers(
        required=True, metavar="ACTION"
    )
    importer = org.add_parser("import", help="import or update people from a CSV file")
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--tenant", help="Entra tenant id of the imported people (default: MicrosoftAppTenantId)"
    )
    importer.set_defaults(run=_org_import)

    sync = org.add_parser("sync", help="bring people in line with Microsoft Entra ID (through Graph)")
    sync.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    sync.add_argument("--full", action="store_true", help="read the whole directory, not only what changed")
    sync.set_defaults(run=_org_sync)
    override = org.add_parser(
        "override-manager", help="set someone's manager by hand; directory syncs keep it"
    )
    override.add_argument("person", help="work email of the person")
    override.add_argument("manager", nargs="?", help="work email of their manager (leave out with --clear)")
    override.add_argument(
        "--by", required=True, help="work email of the HR admin making the change (audited)"
    )
    override.add_argument("--clear", action="store_true", help="hand the manager back to the directory")
    override.set_defaults(run=_override_manager)
    install = org.add_parser("install", help="install Trellis for active people who have no chat with it yet")
    install.set_defaults(run=_org_install)

    demo_cmd = commands.add_parser("demo", help="the demo organization").add_subparsers(
        required=True, metavar="ACTION"
    )
    seed = demo_cmd.add_parser("seed", help="create a fictional company in an empty database")
    seed.add_argument("--people", type=int, default=60)
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument(
        "--planted",
        action="store_true",
        help="add two years of performance data with known high potentials, lenient and severe managers, "
        "flight risks and growth trends planted, to measure the signals against",
    )
    seed.add_argument(
        "--truth",
        type=Path,
        help="where --planted writes who was planted (default: planted-truth.json next to a SQLite "
        "database, else in the current folder)",
    )
    seed.set_defaults(run=_demo_seed)

    manifest_cmd = commands.add_parser("manifest", help="the Teams app package").add_subparsers(
        required=True, metavar="ACTION"
    )
    build = manifest_cmd.add_parser("build", help="write the app package zip to upload to Teams")
    build.add_argument("--out", type=Path, default=Path("var") / "trellis-teams-app.zip")
    build.add_argument("--version", default="1.0.0")
    build.set_defaults(run=_manifest_build)

    outbox_cmd = commands.add_parser("outbox", help="proactive messages").add_subparsers(
        required=True, metavar="ACTION"
    )
    outbox_cmd.add_parser("drain", help="send every message that is due, then exit").set_defaults(
        run=_outbox_drain
    )
    nudge = commands.add_parser(
        "nudge",
        help="queue the check-in, feedback request and review cycle cards that are due, send them, then exit",
    )
    nudge.add_argument(
        "--dry-run",
        action="store_true",
        help="print the review nudge plan (who, what, why, when it may go); queue and send nothing",
    )
    nudge.set_defaults(run=_nudge)
    return parser


def _serve(settings: config.Settings, args: argparse.Namespace) -> int:
    asyncio.run(_prepare_database(settings, seed_demo=args.demo))
    where = f"http://{settings.host}:{settings.port}"
    print(f"Trellis is listening on {where} (bot: {where}/api/messages, tabs: {where}/tabs/home)")
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return 0


@asynccontextmanager
async def _store(settings: config.Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database, brought up to the latest schema first."""
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def _prepare_database(settings: config.Settings, *, seed_demo: bool) -> None:
    async with _store(settings) as sessions:
        if not seed_demo:
            return
        async with unit_of_work(sessions) as session:
            if await demo.is_empty(session):
                result = await _seed_demo(session, people=60, seed=7)
                print(f"Seeded the demo organization: {result}")


async def _seed_demo(session: AsyncSession, *, people: int, seed: int, progress: Any = None) -> str:
    """The demo people, their goals for this quarter with the roll-up computed, then their talent data
    (framework, assessments, slates, last year's talent review, development plans)."""
    today = system_clock().date()
    result = await demo.seed(session, people=people, seed=seed, progress=progress)
    goal_count = await demo_goals.seed_goals(session, today=today, seed=seed)
    await goals.rebuild_progress(session)
    talent = await demo_talent.seed_talent(session, today=today, seed=seed)
    pooled = await demo_talent.seed_pools(session, today=today, seed=seed)
    return f"{result}, {goal_count} goals, {talent}, {pooled} people in {len(demo_talent.POOLS)} talent pools"


def _migrate(settings: config.Settings, _args: argparse.Namespace) -> int:
    asyncio.run(_prepare_database(settings, seed_demo=False))
    print("Database is at the latest schema.")
    return 0


def _org_import(settings: config.Settings, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except OSError as error:
        print(f"trellis: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        rows = org_import.parse_people_csv(text)
        result = asyncio.run(_import(settings, rows, args.tenant or settings.app_tenant_id or None))
    except org_import.ImportRejected as rejected:
        print(f"trellis: {args.file} was not imported; nothing was written. Fix these rows:", file=sys.stderr)
        for problem in rejected.problems:
            print(f"  line {problem.line}: {problem.reason}", file=sys.stderr)
        return 1
    except org_import.Invalid as error:
        print(f"trellis: {args.file} was not imported: {error.message}", file=sys.stderr)
        return 1
    print(f"Imported {args.file}: {result}")
    return 0


async def _import(settings: config.Settings, rows: list, tenant_id: str | None) -> object:
    async with _store(settings) as sessions, unit_of_work(sessions) as session:
        with tqdm(total=len(rows), unit="person", desc="import", disable=len(rows) < 1000) as bar:
            return await org_import.import_people(
                session, rows, tenant_id=tenant_id, progress=lambda done, _total: bar.update(done - bar.n)
            )


def _org_sync(settings: config.Settings, args: argparse.Namespace) -> int:
    return _with_directory(settings, lambda sessions, graph: _sync(settings, sessions, graph, args))


async def _sync(settings: config.Settings, sessions: Any, graph: Any, args: argparse.Namespace) -> int:
    with tqdm(unit="user", desc="directory", disable=not sys.stderr.isatty()) as bar:
        report = await sync_directory(
            sessions,
            graph,
            tenant_id=settings.directory.tenant_id,
            now=system_clock(),
            full=args.full,
            dry_run=args.dry_run,
            on_page=bar.update,
        )
    print(report)
    return 0


def _org_install(settings: config.Settings, _args: argparse.Namespace) -> int:
    if not settings.directory.teams_app_catalog_id:
        print(
            "trellis: set TEAMS_APP_CATALOG_ID (Trellis's id in your org's app catalog) first.",
            file=sys.stderr,
        )
        return 2

    async def install(sessions: Any, graph: Any) -> int:
        report = await install_for_unreachable(
            sessions, graph, teams_app_id=settings.directory.teams_app_catalog_id
        )
        print(report)
        return 1 if report.failed else 0

    return _with_directory(settings, install)


def _override_manager(settings: config.Settings, args: argparse.Namespace) -> int:
    if not args.clear and not args.manager:
        print(
            "trellis: name the manager's email, or pass --clear to hand it back to the directory.",
            file=sys.stderr,
        )
        return 2

    async def override() -> str:
        async with _store(settings) as sessions, unit_of_work(sessions) as session:
            actor = await load_actor(session, await _person(session, args.by))
            person_id = await _person(session, args.person)
            if args.clear:
                await clear_manager_override(session, actor=actor, person_id=person_id)
                return f"{args.person}'s manager is the directory's again (from the next sync)."
            manager_id = await _person(session, args.manager)
            await set_manager_override(session, actor=actor, person_id=person_id, manager_id=manager_id)
            return f"{args.person} now reports to {args.manager}; directory syncs will keep it."

    try:
        print(asyncio.run(override()))
    except DomainError as refused:
        print(f"trellis: {refused.message}", file=sys.stderr)
        return 1
    return 0


async def _person(session: Any, email: str) -> int:
    person_id = await org.person_id_by_email(session, email)
    if person_id is None:
        raise NotFound(f"Nobody with the email {email} is in the directory.")
    return person_id


def _with_directory(settings: config.Settings, job: Callable[[Any, Any], Awaitable[int]]) -> int:
    """Run a job with the store and a Graph client; directory problems end in one clear line."""
    if not settings.directory.configured:
        print(
            "trellis: the directory is not configured: set MicrosoftAppTenantId and MicrosoftAppId with "
            "MicrosoftAppPassword (or GRAPH_CLIENT_ID with GRAPH_CLIENT_SECRET).",
            file=sys.stderr,
        )
        return 2

    async def run() -> int:
        async with (
            _store(settings) as sessions,
            GraphClient(settings.directory, TokenSource(settings.directory)) as graph,
        ):
            return await job(sessions, graph)

    try:
        return asyncio.run(run())
    except DirectoryError as error:
        print(f"trellis: {error}", file=sys.stderr)
        return 1


def _demo_seed(settings: config.Settings, args: argparse.Namespace) -> int:
    if args.people < demo.MIN_PEOPLE:
        print(
            f"trellis: --people must be at least {demo.MIN_PEOPLE} (a CEO, VPs, managers and their reports)",
            file=sys.stderr,
        )
        return 2
    if args.truth is not None and not args.planted:
        print("trellis: --truth goes with --planted (the truth of the planted organization)", file=sys.stderr)
        return 2
    truth_path = (args.truth or _default_truth_path(settings.database_url)) if args.planted else None
    return asyncio.run(_seed(settings, args.people, args.seed, truth_path))


def _default_truth_path(database_url: str) -> Path:
    """planted-truth.json next to a SQLite database file, else in the current folder."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "planted-truth.json"
    return Path("planted-truth.json")


async def _seed(settings: config.Settings, people: int, seed: int, truth_path: Path | None = None) -> int:
    async with _store(settings) as sessions:
        async with unit_of_work(sessions) as session:
            if not await demo.is_empty(session):
                print(
                    "trellis: the database already has people; demo seed only fills an empty one.",
                    file=sys.stderr,
                )
                return 1
            with tqdm(total=people, unit="person", desc="seed", disable=people < 1000) as bar:
                result = await _seed_demo(
                    session, people=people, seed=seed, progress=lambda done, _total: bar.update(done - bar.n)
                )
            # The truth is kept out of the store: the signals must find it in the data.
            truth = (
                await demo_planted.seed_planted(session, today=system_clock().date(), seed=seed)
                if truth_path is not None
                else None
            )
        print(f"Seeded the demo organization: {result}")
        if truth is not None and truth_path is not None:
            print(f"Planted truth ({truth}) written to {truth.write(truth_path)}")
        return 0


def _manifest_build(settings: config.Settings, args: argparse.Namespace) -> int:
    from manifest import ManifestSettings, write_package

    if not settings.app_id:
        print(
            "trellis: set MicrosoftAppId (the bot's Entra app id) to build the Teams app package.",
            file=sys.stderr,
        )
        return 2
    try:
        package = write_package(
            ManifestSettings(
                app_id=settings.app_id,
                bot_id=settings.app_id,
                public_base_url=settings.public_base_url,
                sso_client_id=settings.sso.client_id,
                version=args.version,
            ),
            args.out,
        )
    except ValueError as error:
        print(f"trellis: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {package}: upload it in Teams (Apps > Manage your apps > Upload an app).")
    return 0


def _outbox_drain(settings: config.Settings, _args: argparse.Namespace) -> int:
    async def drain() -> None:
        async with _store(settings) as sessions, _bot_runtime(settings, sessions) as runtime:
            print(await runtime.sender.drain())

    asyncio.run(drain())
    return 0


@asynccontextmanager
async def _bot_runtime(
    settings: config.Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[BotRuntime]:
    """The bot's parts (its outbox sender) without serving HTTP or starting the background jobs."""
    app = create_app(settings, engine=sessions.kw["bind"], sessions=sessions, run_sender=False)
    # Frozen but never started: no background job runs (a configured directory sync included), and the
    # cleanup still closes the connector pool. A bare shutdown() refuses an app that was never frozen.
    app.freeze()
    try:
        yield app[BOT]
    finally:
        await app.shutdown()
        await app.cleanup()


def _nudge(settings: config.Settings, args: argparse.Namespace) -> int:
    """One scheduling pass and one drain: what the server's background jobs do, for cron or by hand.

    People due a review nudge who have no chat with Trellis get the app installed through Graph (when the
    directory and TEAMS_APP_CATALOG_ID are set): their chat is stored when Teams tells the bot, and the
    next pass in their working hours reaches them."""
    zone = settings.checkin_time_zone

    async def dry_run() -> None:
        async with _store(settings) as sessions:
            print(await review_nudges.dry_run(sessions, system_clock, default_zone=zone))

    async def nudge() -> tuple[int, ...]:
        unreachable: tuple[int, ...] = ()
        async with _store(settings) as sessions, _bot_runtime(settings, sessions) as runtime:
            links = plan_link(settings)
            for report in await schedule_due(sessions, system_clock, default_zone=zone, plan_link=links):
                print(report)
                if isinstance(report, review_nudges.ReviewNudgeReport):
                    unreachable = report.no_chat
            print(await runtime.sender.drain())
        return unreachable

    if args.dry_run:
        asyncio.run(dry_run())
        return 0
    unreachable = asyncio.run(nudge())
    if unreachable and settings.directory.configured and settings.directory.teams_app_catalog_id:

        async def install(sessions: Any, graph: Any) -> int:
            print(
                await install_for_unreachable(
                    sessions,
                    graph,
                    teams_app_id=settings.directory.teams_app_catalog_id,
                    person_ids=unreachable,
                )
            )
            return 0

        return _with_directory(settings, install)
    return 0

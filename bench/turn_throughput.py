"""Message → reply turns per second: Trellis against a bare aiohttp handler, same machine, same run.

Each server runs in its own process, the connector stand-in in a third; this script is the load:
`--concurrency` Teams-like message activities in flight, from people of a seeded demo organization (so
every Trellis turn looks the person up in the database). Rounds alternate baseline and Trellis; the
figure is the ratio of the medians.

    .venv/bin/python bench/turn_throughput.py [--turns 2000] [--rounds 3] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import aiohttp
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.engine import create_engine
from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TEMPLATE = json.loads((ROOT / "tests" / "fixtures" / "activities" / "message_personal.json").read_text())


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until_up(url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.post(url, data=b"{}", headers={"Content-Type": "application/json"}):
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def activities(people: list[tuple[str, str]], service_url: str, count: int) -> list[dict]:
    out = []
    for i in range(count):
        aad, name = people[i % len(people)]
        activity = json.loads(json.dumps(TEMPLATE))
        activity["id"] = f"{1764148442375 + i}"
        activity["serviceUrl"] = service_url
        activity["text"] = "help"
        activity["from"] = {"id": f"29:1user-{aad}", "name": name, "aadObjectId": aad}
        activity["conversation"]["id"] = f"a:1conversation-{aad}"
        out.append(activity)
    return out


async def drive(url: str, batch: list[dict], concurrency: int) -> float:
    """Send the batch with `concurrency` in flight; turns per second."""
    queue = iter(batch)
    failures = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        for activity in queue:
            async with http.post(url, json=activity) as response:
                await response.read()
                failures += response.status not in (200, 201)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        start = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{failures} turns failed")
    return len(batch) / elapsed


async def check_people_recognised(database: str, people: int) -> None:
    """After the warm-up everyone has a stored conversation; if not, Trellis is serving another database."""
    engine = create_engine(database.replace("sqlite://", "sqlite+aiosqlite://"))
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM conversation_refs"))).scalar_one()
    finally:
        await engine.dispose()
    if stored < people:
        raise RuntimeError(
            f"Trellis recognised {stored} of {people} people: it is not serving the seeded database"
        )


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )


async def seeded_database(people: int, backend: str, stack: contextlib.AsyncExitStack) -> tuple[str, list]:
    """A database URL with the demo organization in it, and the (aad id, name) of its people."""
    if backend == "postgresql":
        cluster = await stack.enter_async_context(PostgresCluster())
        url = await cluster.create_database("bench")
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='trellis-bench-')) / 'bench.db'}"
    seed = [PYTHON, "-m", "trellis", "demo", "seed", "--people", str(people)]
    subprocess.run(  # noqa: ASYNC221 (a one-off set-up step before any load)
        seed, cwd=ROOT, env={**os.environ, "DATABASE_URL": url}, check=True, stdout=subprocess.DEVNULL
    )
    engine = create_engine(url.replace("sqlite://", "sqlite+aiosqlite://"))
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT aad_object_id, display_name FROM people WHERE aad_object_id <> ''")
            )
            return url, [tuple(row) for row in rows]
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    async with contextlib.AsyncExitStack() as stack:
        await run(args, stack)


async def run(args: argparse.Namespace, stack: contextlib.AsyncExitStack) -> None:

    connector = start([PYTHON, str(ROOT / "bench" / "connector_server.py")])
    service_url = connector.stdout.readline().strip()
    database, people = await seeded_database(args.people, args.database, stack)
    bare_port, trellis_port = free_port(), free_port()
    bare = start([PYTHON, str(ROOT / "bench" / "bare_bot.py"), str(bare_port)])
    trellis = start(
        [PYTHON, "-m", "trellis", "serve"],
        env={
            **os.environ,
            "DATABASE_URL": database,
            "PORT": str(trellis_port),
            "LOG_LEVEL": "WARNING",
        },
    )
    try:
        targets = {
            "bare aiohttp": f"http://127.0.0.1:{bare_port}/api/messages",
            "trellis": f"http://127.0.0.1:{trellis_port}/api/messages",
        }
        for url in targets.values():
            await wait_until_up(url)
        rates: dict[str, list[float]] = {name: [] for name in targets}
        offset = 0
        for round_no in range(args.rounds + 1):  # round 0 warms both up (connections, caches, first refs)
            for name, url in targets.items():
                batch = activities(people, service_url, args.turns)
                for activity in batch:  # unique activity ids across rounds: Trellis drops Teams retries
                    activity["id"] = str(int(activity["id"]) + offset)
                offset += args.turns
                rate = await drive(url, batch, args.concurrency)
                if round_no == 0 and name == "trellis":
                    await check_people_recognised(database, len(people))
                if round_no:
                    rates[name].append(rate)
                    print(f"round {round_no}: {name:13s} {rate:8.0f} turns/s", flush=True)
        bare_rate, trellis_rate = (
            statistics.median(rates["bare aiohttp"]),
            statistics.median(rates["trellis"]),
        )
        setup = (
            f"{args.turns} turns x {args.rounds} rounds, concurrency {args.concurrency}, {len(people)} people"
        )
        print(
            f"\nmedian: bare {bare_rate:.0f}/s, trellis {trellis_rate:.0f}/s -> "
            f"trellis = {100 * trellis_rate / bare_rate:.1f}% of bare ({setup})"
        )
    finally:
        for process in (bare, trellis, connector):
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    asyncio.run(main())

"""`trellis org sync` on a large directory: wall time and peak memory of the sync process.

The Graph stand-in (real wire format: delta paging, manager@delta) serves a generated directory; the sync
runs as its own process, as an operator would run it.

    .venv/bin/python bench/directory_sync.py [--users 50000] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.graph import GraphStandIn
from tests.support.postgres import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]
# The sync, in-process, reporting its own peak resident memory when it ends.
SYNC = (
    "import resource, sys\n"
    "from trellis.cli import main\n"
    "code = main(['org', 'sync'])\n"
    "print('peak_rss_mb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


async def sync_once(env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SYNC,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(err.decode()[-2000:])
    peak = next(int(line.split()[1]) for line in err.decode().splitlines() if line.startswith("peak_rss_mb"))
    return elapsed, peak, out.decode().splitlines()[0]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    async with contextlib.AsyncExitStack() as stack:
        graph = await stack.enter_async_context(GraphStandIn(page_size=999))
        ids = graph.generate(args.users)
        if args.database == "postgresql":
            cluster = await stack.enter_async_context(PostgresCluster())
            database = await cluster.create_database("directory_bench")
        else:
            database = f"sqlite:///{Path(tempfile.mkdtemp(prefix='trellis-sync-')) / 'sync.db'}"
        env = {
            **os.environ,
            "DATABASE_URL": database,
            "MicrosoftAppTenantId": graph.tenant_id,
            "GRAPH_CLIENT_ID": graph.client_id,
            "GRAPH_CLIENT_SECRET": graph.client_secret,
            "ENTRA_AUTHORITY_HOST": graph.authority_host,
            "GRAPH_BASE_URL": graph.graph_base_url,
            "REQUESTS_CA_BUNDLE": graph.ca_file,
            "LOG_LEVEL": "WARNING",
        }
        print(f"{args.users} users, {args.database}, pages of 999")
        await report("first (full) sync", env)
        await report("delta, nothing changed", env)
        for user_id in ids[1:501]:
            graph.update_user(user_id, jobTitle="Senior Engineer")
        for user_id in ids[-50:]:
            graph.disable_user(user_id)
        await report("delta, 500 promoted, 50 left", env)


async def report(label: str, env: dict[str, str]) -> None:
    elapsed, peak, summary = await sync_once(env)
    print(f"{label:30s} {elapsed:6.1f} s  peak {peak:4d} MB | {summary[:120]}")


if __name__ == "__main__":
    asyncio.run(main())

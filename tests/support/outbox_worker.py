"""A process that drains an outbox with Trellis's own sender until nothing is left to send, then exits.

The crash tests start it, SIGKILL it mid-fan-out and start it again. It is the production sender
(OutboxSender, SendLimiter, ConnectorPool) on a real database; only what makes a test fast differs: a
short lease (a killed worker's claims come back in seconds, not minutes) and a test-only tenant rate.

    python -m tests.support.outbox_worker DATABASE_URL --rate 400 --lease 3 --concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from sqlalchemy import func, select

from bot.connector import ConnectorPool
from bot.proactive import DrainReport, OutboxSender
from bot.rate_limit import SendLimiter
from domain.clock import system_clock
from storage import outbox
from storage.engine import create_engine, session_factory
from storage.models import OutboxMessage
from storage.uow import read_only


async def no_token() -> str | None:
    return None  # local development mode: the stand-in takes no token


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("--rate", type=int, default=40)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    engine = create_engine(args.database)
    pool = ConnectorPool(token=no_token)
    sessions = session_factory(engine)
    sender = OutboxSender(
        sessions=sessions,
        pool=pool,
        clock=system_clock,
        limiter=SendLimiter(per_tenant_per_second=args.rate),
        batch=args.batch,
        concurrency=args.concurrency,
        lease=timedelta(seconds=args.lease),
    )
    print(f"worker {sender.worker}", flush=True)  # the id its leases carry (claimed_by)
    total = DrainReport()
    try:
        # Messages another (killed) worker holds come back when its lease runs out: keep looking till then.
        while True:
            total += await sender.drain()
            async with read_only(sessions) as session:
                pending = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == outbox.PENDING)
                )
            if not pending:
                break
            await asyncio.sleep(0.1)
    finally:
        await pool.close()
        await engine.dispose()
    print(f"{sender.worker}: {total}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

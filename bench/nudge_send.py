"""Nudge fan-out against Teams' limits: the achieved send rate as a share of the configured tenant rate,
and how many sends went over any limit.

5,000 nudges wait in the outbox, one per person except for a few people who get a dozen (so the
per-conversation windows bind too). The connector stand-in runs in its own process and ENFORCES Teams'
limits: 7/1 s, 8/2 s, 60/30 s and 1,800/h per conversation, and the configured rate per tenant; a request
over any of them is answered 429 and counted. The sender is the server's own (NUDGE_TENANT_RATE read by
trellis.config, handed to the limiter through the bot's settings), draining until the outbox is empty.
Figures are printed, never asserted.

    .venv/bin/python bench/nudge_send.py [--nudges 5000] [--rates 40,200] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.routes import BOT
from domain.nudges import one_per_day_key
from storage import outbox
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import ConversationRef, OutboxMessage, Person
from tests.support.connector import ConnectorStandIn, TeamsLimits
from tests.support.postgres import PostgresCluster
from trellis import config
from trellis.app import create_app

ROOT = Path(__file__).resolve().parents[1]
TENANT = "00000000-0000-0000-0000-0000000be4c4"
BOT_ID = "28:00000000-0000-0000-0000-00000000b07"


# --- the enforcing connector, in its own process ----------------------------------------------------------


async def serve_connector(tenant_rate: int) -> None:
    """Child mode: serve the stand-in enforcing Teams' limits; answer `report` on stdin with JSON."""
    connector = ConnectorStandIn()
    await connector.start()
    connector.enforce(TeamsLimits.with_tenant_rate(tenant_rate))
    print(connector.service_url, flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if line.strip() == "report":
            print(json.dumps(summary(connector, tenant_rate)), flush=True)
    await connector.close()


def summary(connector: ConnectorStandIn, tenant_rate: int) -> dict:
    accepted = connector.sent
    arrivals = sorted(r.at for r in accepted)
    per_conversation: dict[str, list[float]] = {}
    for r in accepted:
        per_conversation.setdefault(r.conversation_id, []).append(r.at)
    busiest = {
        f"{limit}/{seconds:g}s": max(
            most_in_window(sorted(times), seconds) for times in per_conversation.values()
        )
        for limit, seconds in TeamsLimits().per_conversation[:3]
    }
    # Wall-clock arrival of each message (by its unique summary), to set against the sender's sent_at.
    wall = time.time() - time.monotonic()
    arrived = {r.body.get("summary"): r.at + wall for r in accepted if isinstance(r.body, dict)}
    return {
        "arrived": arrived,
        "accepted": len(accepted),
        "over_limit": len(connector.over_limit),
        "broke": sorted({r.broke for r in connector.over_limit}),
        "other_failures": len(connector.failures) - len(connector.over_limit),
        "first": arrivals[0] if arrivals else None,
        "last": arrivals[-1] if arrivals else None,
        "tenant_max_in_1s": most_in_window(arrivals, 1.0),
        "tenant_limit": tenant_rate,
        "conversation_max": busiest,
    }


def most_in_window(times: list[float], seconds: float) -> int:
    """The most sorted instants inside any half-open window of `seconds`."""
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


# --- the outbox -------------------------------------------------------------------------------------------


async def seed(url: str, service_url: str, nudges: int, busy: int, each: int) -> None:
    """People with 1:1 chats and one nudge each, except `busy` people who get `each` nudges."""
    people = nudges - busy * (each - 1)
    engine = create_engine(url)
    now = datetime.now(UTC)
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                insert(Person),
                [
                    {
                        "tenant_id": TENANT,
                        "aad_object_id": str(uuid.UUID(int=i + 1)),
                        "email": f"person{i}@bench.example",
                        "display_name": f"Person {i}",
                    }
                    for i in range(people)
                ],
            )
            ids = (await conn.scalars(select(Person.id).order_by(Person.id))).all()
            await conn.execute(
                insert(ConversationRef),
                [
                    {
                        "person_id": pid,
                        "conversation_id": ConnectorStandIn.conversation_id_for(f"29:bench-{pid}"),
                        "service_url": service_url,
                        "bot_id": BOT_ID,
                        "user_id": f"29:bench-{pid}",
                        "tenant_id": TENANT,
                    }
                    for pid in ids
                ],
            )
            # The busy people's dozen first: their chats' windows bind while everyone else's nudge goes.
            rows = [(pid, f"review:1:goal-{k}") for pid in ids[:busy] for k in range(each - 1)]
            rows += [(pid, "review:1:self") for pid in ids]
            await conn.execute(
                insert(OutboxMessage),
                [
                    {
                        "kind": "nudge",
                        "person_id": pid,
                        "payload": {"summary": f"Your self review is due Friday ({n})", "card": card(pid)},
                        "dedupe_key": one_per_day_key(pid, phase, now.date()),
                        "status": outbox.PENDING,
                        "attempts": 0,
                        "available_at": now,
                    }
                    for n, (pid, phase) in enumerate(rows)
                ],
            )
    finally:
        await engine.dispose()


def card(pid: int) -> dict:
    return {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "Your self review is due Friday", "wrap": True, "weight": "Bolder"},
            {
                "type": "TextBlock",
                "text": "Three sections left: goals, competencies, questions.",
                "wrap": True,
            },
        ],
        "actions": [
            {
                "type": "Action.Execute",
                "title": "Continue my review",
                "verb": "review.open",
                "data": {"p": pid},
            }
        ],
    }


async def pending(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == outbox.PENDING)
            )
    finally:
        await engine.dispose()


async def drain_all(url: str, rate: int) -> tuple[float, dict]:
    """Drain the outbox with the server's sender at NUDGE_TENANT_RATE=rate; seconds taken, sender figures."""
    settings = config.load({"DATABASE_URL": url, "NUDGE_TENANT_RATE": str(rate), "LOG_LEVEL": "WARNING"})
    app = create_app(settings, run_sender=False)
    app.freeze()
    sender = app[BOT].sender
    samples: list[int] = []

    async def sample() -> None:
        while True:
            samples.append(sender.in_flight)
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample())
    totals = {"sent": 0, "retried": 0, "postponed": 0, "dropped": 0}
    started = time.perf_counter()
    try:
        while True:
            report = await sender.drain()
            for name in totals:
                totals[name] += getattr(report, name)
            if not await pending(url):
                break
            await asyncio.sleep(0.05)  # postponed messages come back when their conversation opens
        elapsed = time.perf_counter() - started
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await app.shutdown()
        await app.cleanup()
    totals["in_flight_max"] = max(samples, default=0)
    totals["in_flight_mean"] = statistics.fmean(samples) if samples else 0.0
    return elapsed, totals


# --- one run per rate -------------------------------------------------------------------------------------


async def at_least_once_window(url: str, arrived: dict[str, float], elapsed: float) -> dict[str, float]:
    """How long each message spent between the connector taking it and the sender committing it sent."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(OutboxMessage.payload, OutboxMessage.sent_at))).all()
    finally:
        await engine.dispose()
    gaps = [
        max(0.0, sent_at.timestamp() - arrived[payload["summary"]])
        for payload, sent_at in rows
        if sent_at is not None and payload["summary"] in arrived
    ]
    if not gaps:
        return {"mean_ms": 0.0, "max_ms": 0.0, "expected": 0.0}
    return {
        "mean_ms": 1000 * statistics.fmean(gaps),
        "max_ms": 1000 * max(gaps),
        "expected": sum(gaps) / elapsed,  # time-averaged count of messages inside the window
    }


def start_connector(rate: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, __file__, "--connector", str(rate)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


async def run_once(args: argparse.Namespace, rate: int, stack: contextlib.AsyncExitStack) -> None:
    connector = start_connector(rate)
    try:
        service_url = connector.stdout.readline().strip()
        if args.database == "postgresql":
            cluster = await stack.enter_async_context(PostgresCluster())
            url = await cluster.create_database(f"nudges_{rate}")
        else:
            url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='trellis-nudges-')) / 'bench.db'}"
        await seed(url, service_url, args.nudges, args.busy, args.each)
        elapsed, sender = await drain_all(url, rate)
        connector.stdin.write("report\n")
        connector.stdin.flush()
        seen = json.loads(connector.stdout.readline())
    finally:
        connector.stdin.close()
        connector.wait(10)
    window = await at_least_once_window(url, seen["arrived"], elapsed)
    accepted, span = seen["accepted"], (seen["last"] or 0) - (seen["first"] or 0)
    overall = accepted / elapsed
    # A sliding window lets a full second's worth through at once at the start; after that, sends go at
    # the sustained rate. (accepted - rate) / span is that rate, whatever the run's length.
    sustained = (accepted - rate) / span if span > 0 and accepted > rate else overall
    print(
        f"tenant rate {rate}/s: {accepted:,} accepted in {elapsed:.1f} s ({overall:.1f}/s overall); "
        f"sustained {sustained:.1f}/s = {100 * sustained / rate:.1f} % of the configured rate; "
        f"{seen['over_limit']} sends over a limit{' ' + str(seen['broke']) if seen['broke'] else ''}, "
        f"{seen['other_failures']} other failures",
        flush=True,
    )
    print(
        f"    busiest second at the connector: {seen['tenant_max_in_1s']} (limit {rate}); busiest chat: "
        + ", ".join(f"{n} for {limit}" for limit, n in seen["conversation_max"].items())
        + f"; sender: {sender['sent']:,} sent, {sender['retried']} retried, {sender['postponed']} postponed; "
        f"sends in flight (what a crash could send twice): max {sender['in_flight_max']}, "
        f"mean {sender['in_flight_mean']:.2f}",
        flush=True,
    )
    print(
        f"    accepted by the connector but not yet marked sent (sent twice if killed then): "
        f"{window['mean_ms']:.1f} ms on average, {window['max_ms']:.1f} ms at most; "
        f"a kill at a random moment would catch {window['expected']:.3f} messages",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=5000)
    parser.add_argument("--rates", default="40,200", help="tenant rates to run at, comma-separated")
    parser.add_argument("--busy", type=int, default=5, help="people who get several nudges")
    parser.add_argument("--each", type=int, default=12, help="nudges each busy person gets")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--connector", type=int, help=argparse.SUPPRESS)  # child mode: the stand-in
    args = parser.parse_args()
    if args.connector:
        await serve_connector(args.connector)
        return
    print(
        f"{args.nudges:,} nudges ({args.busy} people get {args.each} each, everyone else one) on "
        f"{args.database}, to a connector enforcing Teams' limits at the configured tenant rate",
        flush=True,
    )
    async with contextlib.AsyncExitStack() as stack:
        for rate in (int(r) for r in args.rates.split(",")):
            await run_once(args, rate, stack)


if __name__ == "__main__":
    asyncio.run(main())

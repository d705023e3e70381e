"""Signal quality on the planted organization: recall, false-positive rate and precision per signal.

For each seed, a fresh database gets the demo organization the way `trellis demo seed --planted` writes it
(storage.demo, this quarter's goals, storage.demo_talent, then storage.demo_planted, which returns the
truth and keeps it out of the store). Then the signals run as they would for HR (Megan Bowen):
domain.signals.suggestions for high potentials, flight risks and growth (development-program
nominations), and domain.signal_risks.rating_bias on the planted closed cycle, and are compared with the
truth:

    recall     = planted and suggested / planted
    FP rate    = suggested but not planted / everyone not planted (people HR may see: everyone but
                 Megan; for rating bias: every manager rated in the cycle)
    precision  = planted and suggested / suggested

The false positives are broken down by the near misses the plant put in (one sign short of a pattern),
and a flight risk's by the number of signs it showed, so a miss says which rule let it through.

    .venv/bin/python bench/signal_quality.py [--seeds 1 2 3] [--people 2000]
        [--database sqlite postgresql]

Targets (issue 7): recall >= 90 % with a false-positive rate <= 10 % for high potentials, lenient and
severe managers and flight risks; growth is reported without a target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.page_timing import analyze
from domain import signal_risks, signals
from domain.access import load_actor
from domain.clock import system_clock
from domain.performance import goals
from domain.signal_views import SignalKind, Suggestion
from storage import demo, demo_goals, demo_planted, demo_talent
from storage.demo_planted import PlantedTruth
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Person, ReviewParticipant
from storage.uow import unit_of_work
from tests.support.postgres import PostgresCluster

TARGET_RECALL, TARGET_FP = 0.90, 0.10
# (truth key, how it is named here, the suggestion kind, held to the targets)
SIGNALS = (
    ("high_potential", "high potentials", SignalKind.HIGH_POTENTIAL, True),
    ("lenient_managers", "lenient managers", SignalKind.RATING_BIAS, True),
    ("severe_managers", "severe managers", SignalKind.RATING_BIAS, True),
    ("flight_risk", "flight risks", SignalKind.FLIGHT_RISK, True),
    ("growth", "growth (dev. program)", SignalKind.DEVELOPMENT_PROGRAM, False),
)
PERSON_KINDS = (SignalKind.HIGH_POTENTIAL, SignalKind.FLIGHT_RISK, SignalKind.DEVELOPMENT_PROGRAM)
SIGNS_SHOWN = re.compile(r"showing (\d) of \d signs")


@dataclass(frozen=True)
class Quality:
    seed: int
    signal: str
    planted: int
    suggested: int
    hits: int
    false_positives: int
    negatives: int
    why: str  # the false positives by near miss (or number of signs)

    @property
    def recall(self) -> float:
        return self.hits / self.planted if self.planted else 1.0

    @property
    def fp_rate(self) -> float:
        return self.false_positives / self.negatives if self.negatives else 0.0

    @property
    def precision(self) -> float:
        return self.hits / self.suggested if self.suggested else 1.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--database", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite"])
    args = parser.parse_args()
    today = system_clock().date()
    results: dict[str, list[Quality]] = {}
    async with contextlib.AsyncExitStack() as stack:
        cluster = None
        if "postgresql" in args.database:
            cluster = await stack.enter_async_context(PostgresCluster())
        for backend in args.database:
            results[backend] = []
            for seed in args.seeds:
                results[backend] += await _one(backend, cluster, args.people, seed, today)
    for backend, found in results.items():
        _report(backend, found, args.seeds)


async def _one(
    backend: str, cluster: PostgresCluster | None, people: int, seed: int, today: date
) -> list[Quality]:
    folder = None
    if backend == "postgresql":
        assert cluster is not None
        name = f"signal_quality_{seed}"
        url = await cluster.create_database(name)
    else:
        folder = tempfile.mkdtemp(prefix=f"trellis-signal-quality-{seed}-")
        url = f"sqlite+aiosqlite:///{Path(folder) / 'planted.db'}"
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        truth = await _seed(engine, people, seed, today)
        seeded = time.perf_counter() - began
        await analyze(engine)
        found, timing = await _run_signals(engine, truth)
        print(
            f"{backend} seed {seed}: {truth} (seeded in {seeded:.1f} s; signals {timing})",
            flush=True,
        )
        return found
    finally:
        await engine.dispose()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        elif cluster is not None:
            await cluster.drop_database(f"signal_quality_{seed}")


async def _seed(engine: AsyncEngine, people: int, seed: int, today: date) -> PlantedTruth:
    """What `trellis demo seed --planted` writes."""
    await upgrade(engine)
    async with unit_of_work(session_factory(engine)) as session:
        await demo.seed(session, people=people, seed=seed)
        await demo_goals.seed_goals(session, today=today, seed=seed)
        await goals.rebuild_progress(session)
        await demo_talent.seed_talent(session, today=today, seed=seed)
        return await demo_planted.seed_planted(session, today=today, seed=seed)


async def _run_signals(engine: AsyncEngine, truth: PlantedTruth) -> tuple[list[Quality], str]:
    async with unit_of_work(session_factory(engine)) as session:
        hr = await session.scalar(select(Person.id).where(Person.email == demo.MEGAN.email))
        actor = await load_actor(session, hr)
        people = set(await session.scalars(select(Person.id).where(Person.active.is_(True)))) - {hr}
        managers = set(
            await session.scalars(
                select(ReviewParticipant.manager_id).where(
                    ReviewParticipant.cycle_id == truth.cycle_id, ReviewParticipant.manager_id.is_not(None)
                )
            )
        )
        began = time.perf_counter()
        shown = await signals.suggestions(session, actor=actor, today=truth.today, kinds=PERSON_KINDS)
        person_time = time.perf_counter() - began
        began = time.perf_counter()
        flags = await signal_risks.rating_bias(session, cycle_id=truth.cycle_id)
        bias_time = time.perf_counter() - began
    suggested: dict[str, list[Suggestion]] = {
        "high_potential": [s for s in shown if s.kind is SignalKind.HIGH_POTENTIAL],
        "flight_risk": [s for s in shown if s.kind is SignalKind.FLIGHT_RISK],
        "growth": [s for s in shown if s.kind is SignalKind.DEVELOPMENT_PROGRAM],
        "lenient_managers": [s for s in flags if _direction(s) == "lenient"],
        "severe_managers": [s for s in flags if _direction(s) == "severe"],
    }
    found = []
    for key, _, _, _ in SIGNALS:
        universe = managers if key.endswith("_managers") else people
        found.append(_quality(truth, key, suggested[key], universe))
    timing = f"{person_time:.2f} s for the person signals, {bias_time:.2f} s for rating bias"
    return found, timing


def _direction(flag: Suggestion) -> str:
    """lenient or severe: the flag's target key, else its label or summary."""
    for text in (flag.target_key, flag.target_label or "", flag.summary):
        lowered = text.lower()
        if "lenient" in lowered or "higher" in lowered:
            return "lenient"
        if "severe" in lowered or "lower" in lowered:
            return "severe"
    return "unknown"


def _quality(
    truth: PlantedTruth, key: str, suggested: list[Suggestion], universe: Collection[int]
) -> Quality:
    planted = set(truth.truth[key]) & set(universe)
    flagged = {s.person_id for s in suggested}
    wrong = flagged - planted
    why: Counter[str] = Counter()
    for pid in sorted(wrong):
        near = [name for name, ids in truth.near_misses.items() if pid in ids]
        others = [k for k, ids in truth.truth.items() if k != key and pid in ids]
        why[near[0] if near else f"planted {others[0]}" if others else "other"] += 1
    by_signs = ""
    if key == "flight_risk":
        signs = Counter(
            m.group(1) for s in suggested if s.person_id in wrong and (m := SIGNS_SHOWN.search(s.summary))
        )
        by_signs = "; by signs shown: " + ", ".join(f"{n} signs {signs[n]}" for n in sorted(signs))
    return Quality(
        seed=truth.seed,
        signal=key,
        planted=len(planted),
        suggested=len(flagged),
        hits=len(flagged & planted),
        false_positives=len(wrong),
        negatives=len(set(universe) - planted),
        why=", ".join(f"{name} {n}" for name, n in sorted(why.items(), key=lambda kv: (-kv[1], kv[0])))
        + (by_signs if wrong else ""),
    )


def _report(backend: str, found: list[Quality], seeds: Iterable[int]) -> None:
    print(f"\n{backend}: per seed")
    print("seed  signal                  planted  suggested  recall   FP rate  precision  false positives")
    for q in found:
        print(
            f"{q.seed:4d}  {_name(q.signal):22s}  {q.planted:7d}  {q.suggested:9d}  {q.recall:6.1%}  "
            f"{q.fp_rate:7.2%}  {q.precision:9.1%}  {q.why or '-'}"
        )
    print(f"\n{backend}: averaged over seeds {', '.join(str(s) for s in seeds)}")
    print("signal                  recall   FP rate  precision  target")
    for key, name, _, held in SIGNALS:
        rows = [q for q in found if q.signal == key]
        if not rows:
            continue
        recall = sum(q.recall for q in rows) / len(rows)
        fp = sum(q.fp_rate for q in rows) / len(rows)
        precision = sum(q.precision for q in rows) / len(rows)
        verdict = "-"
        if held:
            missed = [
                f"recall < {TARGET_RECALL:.0%}" if recall < TARGET_RECALL else "",
                f"FP > {TARGET_FP:.0%}" if fp > TARGET_FP else "",
            ]
            verdict = "met" if not any(missed) else "MISSED (" + ", ".join(m for m in missed if m) + ")"
        print(f"{name:22s}  {recall:6.1%}  {fp:7.2%}  {precision:9.1%}  {verdict}")


def _name(key: str) -> str:
    return next(name for k, name, _, _ in SIGNALS if k == key)


if __name__ == "__main__":
    asyncio.run(main())

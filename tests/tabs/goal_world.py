"""Goals for the tab tests, set through the goal services as the bot or a tab would set them.

The small organization of conftest.py (Patti → Alex → Adele, Isaiah; Lee reports to Patti; the QA tester
reports to HR's Megan), in its own SQLite file so the goals never show up in other tab tests:

    Grow the business (company, public)                        ← Megan
    ├── Ship platform v2 (Engineering team, public, weight 2)   ← Alex
    │   ├── Finish the API (Adele, team)
    │   │   └── Document the endpoints (Adele, team)            (level 4: collapsed on every page)
    │   ├── Fix flaky tests (Isaiah, private)                   Alex (his line) and HR only
    │   ├── Migrate the build (Lee, team)                       Engineering sees it; not Alex's line
    │   └── Secret QA plan (the QA tester, private)             HR only
    ├── Raise quality (Engineering team, team)                  ← Alex
    │   └── Learn Rust (Isaiah, team, development)
    └── Hire well (People team, private)                        HR and People's managers only
    Speak at a meetup (Adele, private, development)             not aligned
    Reorganise engineering (Patti, private)                     not aligned

Every goal runs from 30 days ago to 60 days ahead: 30/91 of the period is behind us whatever the date.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Actor, load_actor
from domain.performance import goals
from domain.performance.goal_progress import Period
from domain.performance.goal_views import KeyResultInput, Owner
from storage.models import KeyResult, KeyResultUpdate
from storage.uow import unit_of_work
from tabs.settings import TabSettings

from .conftest import (
    ISAIAH,
    LEAVER,
    PATTI,
    PERSONAS,
    TENANT,
    XSS,
    open_store,
    person_ids,
    tab_server,
    world_store,
)

NOW = datetime.now(UTC)
TODAY = NOW.date()
PERIOD = Period.custom(TODAY - timedelta(days=30), TODAY + timedelta(days=60))
# Beyond the Home tab's three personas: people whose view of the same goals differs.
GOAL_PERSONAS = {
    **PERSONAS,
    "isaiah": (TENANT, ISAIAH),
    "lee": (TENANT, LEAVER),
    "patti": (TENANT, PATTI),
    "tester": (TENANT, XSS),
}


@dataclass(frozen=True)
class GoalWorld:
    """A tab server on the goals above; goal and key-result ids by short name."""

    base_url: str
    sessions: async_sessionmaker[AsyncSession]
    goal: dict[str, int]
    kr: dict[str, int]
    people: dict[str, int]

    async def actor(self, name: str) -> Actor:
        async with unit_of_work(self.sessions) as session:
            return await load_actor(session, self.people[name])

    async def value(self, kr: str) -> float:
        async with unit_of_work(self.sessions) as session:
            return await session.scalar(select(KeyResult.current).where(KeyResult.id == self.kr[kr]))

    async def updates(self, kr: str) -> int:
        async with unit_of_work(self.sessions) as session:
            return await session.scalar(
                select(func.count())
                .select_from(KeyResultUpdate)
                .where(KeyResultUpdate.key_result_id == self.kr[kr])
            )


async def build_goals(sessions: async_sessionmaker[AsyncSession]) -> tuple[dict, dict, dict]:
    """Write the goals of the module docstring; returns (goal ids, key-result ids, person ids)."""
    async with unit_of_work(sessions) as session:
        people = await person_ids(session)
        who = {name: await load_actor(session, pid) for name, pid in people.items()}
    goal: dict[str, int] = {}
    kr: dict[str, int] = {}

    async def new(name: str, by: str, title: str, krs: list[KeyResultInput], **options) -> None:
        async with unit_of_work(sessions) as session:
            view = await goals.create_goal(
                session, actor=who[by], title=title, period=PERIOD, now=NOW, key_results=krs, **options
            )
        goal[name] = view.id
        for result in view.key_results:
            kr[re.sub(r"\W+", "_", result.title.lower()).strip("_")] = result.id

    await new(
        "company",
        "megan",
        "Grow the business",
        [KeyResultInput("Revenue", target=100, current=20)],
        owner=Owner.company(),
        visibility="public",
    )
    await new(
        "ship",
        "alex",
        "Ship platform v2",
        [KeyResultInput("Epics done", target=10, current=5)],
        owner=Owner.team("Engineering"),
        visibility="public",
        parent_id=goal["company"],
        weight=2,
    )
    await new(
        "quality",
        "alex",
        "Raise quality",
        [KeyResultInput("Bugs closed", target=50, current=20)],
        owner=Owner.team("Engineering"),
        visibility="team",
        parent_id=goal["company"],
    )
    await new(
        "hiring",
        "megan",
        "Hire well",
        [KeyResultInput("Hires", target=8, current=2)],
        owner=Owner.team("People"),
        visibility="private",
        parent_id=goal["company"],
    )
    endpoints = KeyResultInput("Endpoints", target=20, current=8)
    docs = KeyResultInput("Docs published", metric="boolean", target=1)
    await new("api", "adele", "Finish the API", [endpoints, docs], visibility="team", parent_id=goal["ship"])
    await new(
        "api_docs",
        "adele",
        "Document the endpoints",
        [KeyResultInput("Pages", target=5, current=1)],
        visibility="team",
        parent_id=goal["api"],
    )
    await new(
        "meetup",
        "adele",
        "Speak at a meetup",
        [KeyResultInput("Talks given", target=3, current=1)],
        visibility="private",
        kind="development",
    )
    await new(
        "flaky",
        "isaiah",
        "Fix flaky tests",
        [KeyResultInput("Tests fixed", target=10)],
        visibility="private",
        parent_id=goal["ship"],
    )
    await new(
        "rust",
        "isaiah",
        "Learn Rust",
        [KeyResultInput("Chapters", metric="milestone", target=4, current=1)],
        visibility="team",
        kind="development",
        parent_id=goal["quality"],
    )
    await new(
        "build",
        "lee",
        "Migrate the build",
        [KeyResultInput("Jobs moved", target=3, current=1)],
        visibility="team",
        parent_id=goal["ship"],
    )
    await new(
        "secret",
        "tester",
        "Secret QA plan <b>x</b>",
        [KeyResultInput("Plans", target=5)],
        visibility="private",
        parent_id=goal["ship"],
    )
    await new(
        "reorg", "patti", "Reorganise engineering", [KeyResultInput("Teams", target=4)], visibility="private"
    )
    # History for the sparkline: Endpoints went 8 → 10 → 12.
    for version, value in ((1, 10), (2, 12)):
        async with unit_of_work(sessions) as session:
            await goals.update_key_result(
                session,
                actor=who["adele"],
                key_result_id=kr["endpoints"],
                value=value,
                expected_version=version,
                now=NOW,
            )
    return goal, kr, people


async def goal_database(
    path: Path,
) -> tuple[async_sessionmaker[AsyncSession], tuple[dict, dict, dict], object]:
    """A migrated SQLite file with the people of conftest.py and the goals above."""
    sessions, engine = await open_store(path)
    return sessions, await build_goals(sessions), engine


@pytest.fixture(scope="module")
async def goal_world(
    tmp_path_factory: pytest.TempPathFactory, tab_settings: TabSettings
) -> AsyncIterator[GoalWorld]:
    """A tab server (dev sign-in with the goal personas) on its own database of the goals above."""
    async with world_store(tmp_path_factory, "goals") as sessions:
        goal, kr, people = await build_goals(sessions)
        async with tab_server(sessions, tab_settings, personas=GOAL_PERSONAS) as base_url:
            yield GoalWorld(base_url, sessions, goal, kr, people)

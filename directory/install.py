"""Installing Trellis for people who have no chat with the bot yet, so nudges can reach them.

Teams answers an installation with an installationUpdate to the bot, which stores the person's
conversation (bot/): this module only asks Graph. A refusal is recorded and tried again at most
MAX_ATTEMPTS times in all, never forever.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import GraphUnavailable, InstallFailed
from directory.graph import GraphClient
from storage.models import AppInstallation, ConversationRef, Person
from storage.uow import read_only, unit_of_work

MAX_ATTEMPTS = 3
REQUESTED, FAILED = "requested", "failed"


@dataclass
class InstallReport:
    """What one installation run did."""

    requested: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (person, reason)
    gave_up: int = 0  # people whose earlier attempts all failed

    def __str__(self) -> str:
        lines = [
            f"installed for {self.requested} people, {len(self.failed)} failed, {self.gave_up} given up on"
        ]
        lines += [f"  {who}: {why}" for who, why in self.failed]
        return "\n".join(lines)


async def install_for_unreachable(
    sessions: async_sessionmaker[AsyncSession],
    graph: GraphClient,
    *,
    teams_app_id: str,
    person_ids: Iterable[int] | None = None,
) -> InstallReport:
    """Install the app for active people (all, or those given) who have no conversation with the bot."""
    report = InstallReport()
    for person_id, aad_object_id, name, attempts in await _unreachable(sessions, person_ids):
        if attempts >= MAX_ATTEMPTS:
            report.gave_up += 1
            continue
        try:
            await graph.install_app(aad_object_id, teams_app_id)
        except (InstallFailed, GraphUnavailable) as refusal:
            report.failed.append((name, str(refusal)))
            await _record(sessions, person_id, FAILED, str(refusal))
            continue
        report.requested += 1
        await _record(sessions, person_id, REQUESTED, None)
    return report


async def _unreachable(
    sessions: async_sessionmaker[AsyncSession], person_ids: Iterable[int] | None
) -> list[tuple[int, str, str, int]]:
    query = (
        select(Person.id, Person.aad_object_id, Person.display_name, AppInstallation.attempts)
        .outerjoin(ConversationRef, ConversationRef.person_id == Person.id)
        .outerjoin(AppInstallation, AppInstallation.person_id == Person.id)
        .where(
            Person.active.is_(True), Person.aad_object_id.is_not(None), ConversationRef.person_id.is_(None)
        )
        .order_by(Person.id)
    )
    if person_ids is not None:
        query = query.where(Person.id.in_(list(person_ids)))
    async with read_only(sessions) as session:
        rows = (await session.execute(query)).all()
    return [(pid, aad, name, attempts or 0) for pid, aad, name, attempts in rows]


async def _record(
    sessions: async_sessionmaker[AsyncSession], person_id: int, status: str, error: str | None
) -> None:
    async with unit_of_work(sessions) as session:
        row = await session.get(AppInstallation, person_id)
        if row is None:
            row = AppInstallation(person_id=person_id, attempts=0)
            session.add(row)
        row.status = status
        row.attempts += 1
        row.last_error = error

"""One directory sync: read every page from Graph, then apply them in one transaction.

Reading finishes before anything is written, so a Graph fault mid-paging writes nothing; the pages read
so far are kept and paging resumes from the page that failed. The delta link for the next run is saved
in the same transaction as the changes it covers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory.errors import DeltaExpired, GraphUnavailable
from directory.graph import GraphClient
from domain.org_sync import DirectoryUser, SyncReport, apply_directory, load_sync_state, save_sync_state
from storage.uow import read_only, unit_of_work

log = logging.getLogger(__name__)

MAX_RESUMES = 5


async def sync_directory(
    sessions: async_sessionmaker[AsyncSession],
    graph: GraphClient,
    *,
    tenant_id: str,
    now: datetime,
    full: bool = False,
    dry_run: bool = False,
    on_page: Callable[[int], None] | None = None,
) -> SyncReport:
    """Bring people in line with the directory: a full listing the first time or when asked, else a delta."""
    async with read_only(sessions) as session:
        state = await load_sync_state(session, tenant_id)
    delta_link = None if full else state.delta_link
    try:
        users, next_delta, full_listing = await _read_all(graph, delta_link, on_page)
    except DeltaExpired:
        log.warning("Graph expired the delta link; reading the whole directory again")
        users, next_delta, full_listing = await _read_all(graph, None, on_page)
    async with unit_of_work(sessions) as session:
        report = await apply_directory(
            session, users, tenant_id=tenant_id, full=full_listing, now=now, dry_run=dry_run
        )
        if not dry_run:
            await save_sync_state(session, tenant_id=tenant_id, delta_link=next_delta, now=now, report=report)
    return report


async def _read_all(
    graph: GraphClient, delta_link: str | None, on_page: Callable[[int], None] | None
) -> tuple[list[DirectoryUser], str | None, bool]:
    users: list[DirectoryUser] = []
    resume: str | None = None
    full_listing: bool | None = None
    for _attempt in range(MAX_RESUMES + 1):
        try:
            async for page in graph.users(
                delta_link=delta_link, resume_link=resume, full_listing=full_listing
            ):
                users.extend(page.users)
                if on_page is not None:
                    on_page(len(page.users))
                if page.delta_link is not None:
                    return users, page.delta_link, page.full_listing
            return users, None, bool(full_listing)
        except GraphUnavailable as fault:
            if fault.resume_link is None:
                raise
            # Keep what was read; carry on from the page that failed.
            log.warning("Graph failed mid-paging (%s); resuming from the last page", fault)
            resume, full_listing = fault.resume_link, fault.full_listing
    raise GraphUnavailable("Graph kept failing while listing users; nothing was changed.", resume_link=resume)

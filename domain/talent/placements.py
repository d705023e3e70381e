"""Where each person stands in talent reviews: their latest entry (the succession board, metrics and the
bridge read it; the talent review service writes it)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import TalentReview, TalentReviewEntry


async def latest_entries(
    session: AsyncSession, person_ids: Collection[int] | None = None, *, finalized_only: bool = False
) -> dict[int, TalentReviewEntry]:
    """Each person's entry in the most recent talent review they are in (person id → row). Callers check
    access (`may_view_talent`) and audit before showing any of it."""
    newest = select(
        TalentReviewEntry.id,
        func.row_number()
        .over(partition_by=TalentReviewEntry.person_id, order_by=TalentReviewEntry.talent_review_id.desc())
        .label("rank"),
    ).join(TalentReview, TalentReview.id == TalentReviewEntry.talent_review_id)
    if finalized_only:
        newest = newest.where(TalentReview.status == "finalized")
    if person_ids is not None:
        newest = newest.where(TalentReviewEntry.person_id.in_(person_ids))
    ranked = newest.subquery()
    rows = await session.scalars(
        select(TalentReviewEntry).join(ranked, ranked.c.id == TalentReviewEntry.id).where(ranked.c.rank == 1)
    )
    return {row.person_id: row for row in rows}

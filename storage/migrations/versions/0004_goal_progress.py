"""goal progress: the rolled-up progress stored on each goal; the request that created a goal

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("progress", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("request_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_goals_request_id"), ["request_id"])
    _backfill_progress(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_goals_request_id"), type_="unique")
        batch_op.drop_column("request_id")
        batch_op.drop_column("progress")


def _backfill_progress(bind: sa.Connection) -> None:
    """Store the roll-up for goals that existed before this revision.

    A frozen copy of the rule as it stood at this revision (PRODUCT.md, Goal progress), so that later
    changes to domain code can never change what this migration does. Goals from before it are few.
    """
    goals = bind.execute(sa.text("SELECT id, parent_id, weight, closed_at, final_score FROM goals")).all()
    if not goals:
        return
    krs = bind.execute(sa.text("SELECT goal_id, metric, start, target, current, weight FROM key_results"))
    parts: dict[int, list[tuple[float, float]]] = {}
    for goal_id, metric, start, target, current, weight in krs:
        parts.setdefault(goal_id, []).append((weight, _kr_progress(metric, start, target, current)))
    children: dict[int, list[int]] = {}
    for row in goals:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row.id)
    by_id = {row.id: row for row in goals}
    progress: dict[int, float] = {}

    def compute(goal_id: int, path: frozenset[int]) -> float:
        if goal_id not in progress:
            row = by_id[goal_id]
            if row.closed_at is not None and row.final_score is not None:
                progress[goal_id] = row.final_score
            else:
                mine = list(parts.get(goal_id, ()))
                mine += [
                    (by_id[c].weight, compute(c, path | {goal_id}))
                    for c in children.get(goal_id, ())
                    if c not in path
                ]
                total = sum(w for w, _ in mine)
                progress[goal_id] = sum(w * p for w, p in mine) / total if total > 0 else 0.0
        return progress[goal_id]

    for row in goals:
        compute(row.id, frozenset())
    bind.execute(
        sa.text("UPDATE goals SET progress = :progress WHERE id = :id"),
        [{"id": goal_id, "progress": value} for goal_id, value in progress.items()],
    )


def _kr_progress(metric: str, start: float, target: float, current: float) -> float:
    if target == start:
        return 0.0
    if metric == "boolean":
        return 1.0 if current == target else 0.0
    return min(1.0, max(0.0, (current - start) / (target - start)))

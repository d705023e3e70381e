"""suggestion decisions: what people decided about the bridge's suggestions (accepted with what it
created, or dismissed), with the reason and the evidence as shown

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 00:32:42.456716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suggestion_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("target_key", sa.String(length=64), server_default="", nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'dismissed')", name=op.f("ck_suggestion_decisions_status")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["people.id"],
            name=op.f("fk_suggestion_decisions_decided_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_suggestion_decisions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_decisions")),
        sa.UniqueConstraint("kind", "person_id", "target_key", name="uq_suggestion_decisions_suggestion"),
    )
    with op.batch_alter_table("suggestion_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_suggestion_decisions_person_id", ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("suggestion_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_decisions_person_id")

    op.drop_table("suggestion_decisions")

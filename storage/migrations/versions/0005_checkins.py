"""checkins: weekly check-ins, the day each person wants them, talking points, replies, manager digests

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 18:47:36.853408
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin_digests",
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_checkin_digests_manager_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("manager_id", "week_start", name=op.f("pk_checkin_digests")),
    )
    op.create_table(
        "checkin_preferences",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        # sa.false() renders as 0 on SQLite and false on PostgreSQL.
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("weekday >= 0 AND weekday <= 6", name=op.f("ck_checkin_preferences_weekday")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_checkin_preferences_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_checkin_preferences")),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("submitted_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("mood", sa.Integer(), nullable=True),
        sa.Column("wins", sa.Text(), nullable=True),
        sa.Column("blockers", sa.Text(), nullable=True),
        sa.Column("priorities", sa.Text(), nullable=True),
        sa.Column("key_result_changes", sa.JSON(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("mood IS NULL OR (mood >= 1 AND mood <= 5)", name=op.f("ck_checkins_mood")),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["people.id"], name=op.f("fk_checkins_manager_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_checkins_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("person_id", "week_start", name="uq_checkins_person_week"),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index("ix_checkins_manager_week", ["manager_id", "week_start"], unique=False)
        batch_op.create_index("ix_checkins_week_start", ["week_start"], unique=False)

    op.create_table(
        "checkin_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_checkin_comments_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_checkin_comments_checkin_id_checkins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_comments")),
    )
    with op.batch_alter_table("checkin_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkin_comments_checkin_id"), ["checkin_id"], unique=False)

    op.create_table(
        "talking_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("raised_by_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_talking_points_checkin_id_checkins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_talking_points_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["raised_by_id"],
            ["people.id"],
            name=op.f("fk_talking_points_raised_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"],
            ["people.id"],
            name=op.f("fk_talking_points_resolved_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talking_points")),
    )
    with op.batch_alter_table("talking_points", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talking_points_checkin_id"), ["checkin_id"], unique=False)
        batch_op.create_index("ix_talking_points_person_open", ["person_id", "resolved_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("talking_points", schema=None) as batch_op:
        batch_op.drop_index("ix_talking_points_person_open")
        batch_op.drop_index(batch_op.f("ix_talking_points_checkin_id"))

    op.drop_table("talking_points")
    with op.batch_alter_table("checkin_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_comments_checkin_id"))

    op.drop_table("checkin_comments")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index("ix_checkins_week_start")
        batch_op.drop_index("ix_checkins_manager_week")

    op.drop_table("checkins")
    op.drop_table("checkin_preferences")
    op.drop_table("checkin_digests")

"""goals: goals (person, department or company), key results and their update history, goal templates

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 18:19:54.486107
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goal_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_goal_templates_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_templates")),
    )
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_type", sa.String(length=16), nullable=False),
        sa.Column("owner_person_id", sa.Integer(), nullable=True),
        sa.Column("owner_department", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("period_label", sa.String(length=32), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(owner_type = 'person' AND owner_person_id IS NOT NULL AND owner_department IS NULL)"
            " OR (owner_type = 'department' AND owner_person_id IS NULL AND owner_department IS NOT NULL)"
            " OR (owner_type = 'company' AND owner_person_id IS NULL AND owner_department IS NULL)",
            name=op.f("ck_goals_one_owner"),
        ),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name=op.f("ck_goals_not_own_parent")),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_goals_period_in_order")),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_goals_weight_not_negative")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_goals_created_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["owner_person_id"],
            ["people.id"],
            name=op.f("fk_goals_owner_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["goals.id"], name=op.f("fk_goals_parent_id_goals"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["goal_templates.id"],
            name=op.f("fk_goals_template_id_goal_templates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint(
            "template_id",
            "owner_person_id",
            "period_start",
            "period_end",
            name="uq_goals_template_assignment",
        ),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goals_owner_department"), ["owner_department"], unique=False)
        batch_op.create_index(batch_op.f("ix_goals_owner_person_id"), ["owner_person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_goals_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_goals_template_id"), ["template_id"], unique=False)

    op.create_table(
        "key_result_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["goal_templates.id"],
            name=op.f("fk_key_result_templates_template_id_goal_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_result_templates")),
    )
    with op.batch_alter_table("key_result_templates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_result_templates_template_id"), ["template_id"], unique=False
        )

    op.create_table(
        "key_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=True),
        sa.Column("start", sa.Float(), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("current", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint("target <> start", name=op.f("ck_key_results_target_differs_from_start")),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_key_results_weight_not_negative")),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_key_results_goal_id_goals"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_results")),
    )
    with op.batch_alter_table("key_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_results_goal_id"), ["goal_id"], unique=False)

    op.create_table(
        "key_result_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_result_id", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("old_value", sa.Float(), nullable=False),
        sa.Column("new_value", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "confidence IS NULL OR (confidence >= 1 AND confidence <= 10)",
            name=op.f("ck_key_result_updates_confidence"),
        ),
        sa.ForeignKeyConstraint(
            ["by_id"], ["people.id"], name=op.f("fk_key_result_updates_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["key_result_id"],
            ["key_results.id"],
            name=op.f("fk_key_result_updates_key_result_id_key_results"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_result_updates")),
    )
    with op.batch_alter_table("key_result_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_result_updates_key_result_id"), ["key_result_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("key_result_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_result_updates_key_result_id"))

    op.drop_table("key_result_updates")
    with op.batch_alter_table("key_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_results_goal_id"))

    op.drop_table("key_results")
    with op.batch_alter_table("key_result_templates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_result_templates_template_id"))

    op.drop_table("key_result_templates")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goals_template_id"))
        batch_op.drop_index(batch_op.f("ix_goals_parent_id"))
        batch_op.drop_index(batch_op.f("ix_goals_owner_person_id"))
        batch_op.drop_index(batch_op.f("ix_goals_owner_department"))

    op.drop_table("goals")
    op.drop_table("goal_templates")

"""improvement plans: plans (one in progress per employee), their dated examples, measurable goals,
checkpoints (indexed for the reminder scan) and outcome decisions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 21:48:14.660106
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status <> 'closed'")


def upgrade() -> None:
    # New tables only. The one-open-plan index is partial (both databases support WHERE on an index).
    op.create_table(
        "improvement_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("gap", sa.Text(), nullable=False),
        sa.Column("support", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("activated_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("activated_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledgement_comment", sa.Text(), nullable=True),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "(status = 'draft' AND outcome = 'open')"
            " OR (status = 'active' AND outcome IN ('open', 'extended'))"
            " OR (status = 'closed' AND outcome IN ('successful', 'unsuccessful', 'cancelled'))",
            name=op.f("ck_improvement_plans_outcome_fits_status"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'closed')", name=op.f("ck_improvement_plans_status")
        ),
        sa.CheckConstraint("end_date > start_date", name=op.f("ck_improvement_plans_period_in_order")),
        sa.ForeignKeyConstraint(
            ["activated_by_id"],
            ["people.id"],
            name=op.f("fk_improvement_plans_activated_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_improvement_plans_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"],
            ["people.id"],
            name=op.f("fk_improvement_plans_employee_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_plans")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_improvement_plans_client_request_id")),
    )
    with op.batch_alter_table("improvement_plans", schema=None) as batch_op:
        batch_op.create_index("ix_improvement_plans_employee_id", ["employee_id"], unique=False)
        batch_op.create_index(
            "uq_improvement_plans_one_open",
            ["employee_id"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )

    op.create_table(
        "improvement_plan_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending' AND recorded_at IS NULL)"
            " OR (status <> 'pending' AND recorded_at IS NOT NULL)",
            name=op.f("ck_improvement_plan_checkpoints_recorded_when_not_pending"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'met', 'partly_met', 'not_met')",
            name=op.f("ck_improvement_plan_checkpoints_status"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["improvement_plans.id"],
            name=op.f("fk_improvement_plan_checkpoints_plan_id_improvement_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["people.id"],
            name=op.f("fk_improvement_plan_checkpoints_recorded_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_plan_checkpoints")),
        sa.UniqueConstraint("plan_id", "position", name="uq_improvement_plan_checkpoints_position"),
    )
    with op.batch_alter_table("improvement_plan_checkpoints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_improvement_plan_checkpoints_status_due", ["status", "due_on"], unique=False
        )

    op.create_table(
        "improvement_plan_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("previous_end_date", sa.Date(), nullable=False),
        sa.Column("new_end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(outcome = 'extended' AND new_end_date IS NOT NULL)"
            " OR (outcome <> 'extended' AND new_end_date IS NULL)",
            name=op.f("ck_improvement_plan_decisions_end_date_only_when_extended"),
        ),
        sa.CheckConstraint(
            "outcome IN ('extended', 'successful', 'unsuccessful', 'cancelled')",
            name=op.f("ck_improvement_plan_decisions_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["people.id"],
            name=op.f("fk_improvement_plan_decisions_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["improvement_plans.id"],
            name=op.f("fk_improvement_plan_decisions_plan_id_improvement_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_plan_decisions")),
    )
    with op.batch_alter_table("improvement_plan_decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_improvement_plan_decisions_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "improvement_plan_examples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["improvement_plans.id"],
            name=op.f("fk_improvement_plan_examples_plan_id_improvement_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_plan_examples")),
        sa.UniqueConstraint("plan_id", "position", name="uq_improvement_plan_examples_position"),
    )
    op.create_table(
        "improvement_plan_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("measure", sa.Text(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["goals.id"],
            name=op.f("fk_improvement_plan_goals_goal_id_goals"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["improvement_plans.id"],
            name=op.f("fk_improvement_plan_goals_plan_id_improvement_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_plan_goals")),
        sa.UniqueConstraint("plan_id", "position", name="uq_improvement_plan_goals_position"),
    )
    with op.batch_alter_table("improvement_plan_goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_improvement_plan_goals_goal_id"), ["goal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("improvement_plan_goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_improvement_plan_goals_goal_id"))

    op.drop_table("improvement_plan_goals")
    op.drop_table("improvement_plan_examples")
    with op.batch_alter_table("improvement_plan_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_improvement_plan_decisions_plan_id"))

    op.drop_table("improvement_plan_decisions")
    with op.batch_alter_table("improvement_plan_checkpoints", schema=None) as batch_op:
        batch_op.drop_index("ix_improvement_plan_checkpoints_status_due")

    op.drop_table("improvement_plan_checkpoints")
    with op.batch_alter_table("improvement_plans", schema=None) as batch_op:
        batch_op.drop_index("uq_improvement_plans_one_open", sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index("ix_improvement_plans_employee_id")

    op.drop_table("improvement_plans")

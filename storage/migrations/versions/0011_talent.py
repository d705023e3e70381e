"""talent: the competency framework (competencies, role profiles and their requirements, assessments,
career steps), talent reviews (entries, calibration moves), succession (successors, one emergency each;
talent pools; position fills) and development plans; positions get a role profile and review items a
foreign key to the competency they rate

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 23:44:11.112596
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EMERGENCY = sa.text("emergency")


def upgrade() -> None:
    op.create_table(
        "competencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competencies")),
        sa.UniqueConstraint("name_key", name="uq_competencies_name_key"),
    )
    op.create_table(
        "role_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("job_title_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_profiles")),
        sa.UniqueConstraint("job_title_key", name="uq_role_profiles_job_title_key"),
        sa.UniqueConstraint("name_key", name="uq_role_profiles_name_key"),
    )
    op.create_table(
        "talent_pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talent_pools")),
        sa.UniqueConstraint("name_key", name="uq_talent_pools_name_key"),
    )
    op.create_table(
        "career_steps",
        sa.Column("from_profile_id", sa.Integer(), nullable=False),
        sa.Column("to_profile_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.CheckConstraint("kind IN ('ladder', 'lateral')", name=op.f("ck_career_steps_kind")),
        sa.CheckConstraint("from_profile_id <> to_profile_id", name=op.f("ck_career_steps_not_to_itself")),
        sa.ForeignKeyConstraint(
            ["from_profile_id"],
            ["role_profiles.id"],
            name=op.f("fk_career_steps_from_profile_id_role_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_profile_id"],
            ["role_profiles.id"],
            name=op.f("fk_career_steps_to_profile_id_role_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("from_profile_id", "to_profile_id", name=op.f("pk_career_steps")),
    )
    with op.batch_alter_table("career_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_career_steps_to_profile_id"), ["to_profile_id"], unique=False)

    op.create_table(
        "development_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_development_plans_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_development_plans_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_development_plans")),
        sa.UniqueConstraint("person_id", name="uq_development_plans_person_id"),
    )
    op.create_table(
        "role_requirements",
        sa.Column("role_profile_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("expected_level", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.CheckConstraint("expected_level >= 1", name=op.f("ck_role_requirements_level_positive")),
        sa.CheckConstraint("weight > 0", name=op.f("ck_role_requirements_weight_positive")),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_role_requirements_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_profile_id"],
            ["role_profiles.id"],
            name=op.f("fk_role_requirements_role_profile_id_role_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("role_profile_id", "competency_id", name=op.f("pk_role_requirements")),
    )
    with op.batch_alter_table("role_requirements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_role_requirements_competency_id"), ["competency_id"], unique=False
        )

    op.create_table(
        "talent_pool_members",
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["people.id"],
            name=op.f("fk_talent_pool_members_added_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_talent_pool_members_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["talent_pools.id"],
            name=op.f("fk_talent_pool_members_pool_id_talent_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pool_id", "person_id", name=op.f("pk_talent_pool_members")),
    )
    with op.batch_alter_table("talent_pool_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talent_pool_members_person_id"), ["person_id"], unique=False)

    op.create_table(
        "position_fills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("previous_incumbent_id", sa.Integer(), nullable=True),
        sa.Column("filled_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("from_slate", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "source = 'internal' OR NOT from_slate", name=op.f("ck_position_fills_slate_is_internal")
        ),
        sa.CheckConstraint("source IN ('internal', 'external')", name=op.f("ck_position_fills_source")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_position_fills_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_position_fills_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_incumbent_id"],
            ["people.id"],
            name=op.f("fk_position_fills_previous_incumbent_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["people.id"],
            name=op.f("fk_position_fills_recorded_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_fills")),
    )
    with op.batch_alter_table("position_fills", schema=None) as batch_op:
        batch_op.create_index("ix_position_fills_filled_on", ["filled_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_position_fills_position_id"), ["position_id"], unique=False)

    op.create_table(
        "successors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("readiness", sa.String(length=16), nullable=False),
        sa.Column("months_to_ready", sa.Integer(), nullable=True),
        sa.Column("emergency", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("nominated_by_id", sa.Integer(), nullable=True),
        sa.Column("nominated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "readiness IN ('ready_now', '1_2_years', '3_5_years')", name=op.f("ck_successors_readiness")
        ),
        sa.CheckConstraint(
            "months_to_ready IS NULL OR months_to_ready >= 0", name=op.f("ck_successors_months_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by_id"],
            ["people.id"],
            name=op.f("fk_successors_nominated_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_successors_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["positions.id"],
            name=op.f("fk_successors_position_id_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_successors")),
        sa.UniqueConstraint("position_id", "person_id", name="uq_successors_position_person"),
    )
    with op.batch_alter_table("successors", schema=None) as batch_op:
        batch_op.create_index("ix_successors_person_id", ["person_id"], unique=False)
        batch_op.create_index(
            "uq_successors_one_emergency",
            ["position_id"],
            unique=True,
            sqlite_where=EMERGENCY,
            postgresql_where=EMERGENCY,
        )

    op.create_table(
        "development_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("competency_id", sa.Integer(), nullable=True),
        sa.Column("target_level", sa.Integer(), nullable=True),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("completed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('training', 'mentoring', 'stretch', 'course', 'project')",
            name=op.f("ck_development_actions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'in_progress', 'done', 'cancelled')",
            name=op.f("ck_development_actions_status"),
        ),
        sa.CheckConstraint(
            "progress BETWEEN 0 AND 100", name=op.f("ck_development_actions_progress_percent")
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_development_actions_competency_id_competencies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_development_actions_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_development_actions_goal_id_goals"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["development_plans.id"],
            name=op.f("fk_development_actions_plan_id_development_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_development_actions")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_development_actions_client_request_id")),
    )
    with op.batch_alter_table("development_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_development_actions_goal_id"), ["goal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_development_actions_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index("ix_development_actions_status_due", ["status", "due_on"], unique=False)

    op.create_table(
        "talent_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("performance_cycle_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("medium_from", sa.Float(), nullable=False),
        sa.Column("high_from", sa.Float(), nullable=False),
        sa.Column("box_labels", sa.JSON(), nullable=True),
        sa.Column("opened_to_managers", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("calibration_started_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("finalized_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("finalized_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('rating', 'calibration', 'finalized')", name=op.f("ck_talent_reviews_status")
        ),
        sa.CheckConstraint("high_from > medium_from", name=op.f("ck_talent_reviews_thresholds_in_order")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_talent_reviews_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["finalized_by_id"],
            ["people.id"],
            name=op.f("fk_talent_reviews_finalized_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["performance_cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_talent_reviews_performance_cycle_id_review_cycles"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talent_reviews")),
    )
    with op.batch_alter_table("talent_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_talent_reviews_performance_cycle_id"), ["performance_cycle_id"], unique=False
        )

    op.create_table(
        "competency_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("competency_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("review_participant_id", sa.Integer(), nullable=True),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("source IN ('review', 'manager')", name=op.f("ck_competency_assessments_source")),
        sa.CheckConstraint("level >= 1", name=op.f("ck_competency_assessments_level_positive")),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"],
            ["people.id"],
            name=op.f("fk_competency_assessments_assessed_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_assessments_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_competency_assessments_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_participant_id"],
            ["review_participants.id"],
            name=op.f("fk_competency_assessments_review_participant_id_review_participants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competency_assessments")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_competency_assessments_client_request_id")),
        sa.UniqueConstraint(
            "review_participant_id", "competency_id", name="uq_competency_assessments_review"
        ),
    )
    with op.batch_alter_table("competency_assessments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_competency_assessments_person_competency",
            ["person_id", "competency_id", "assessed_on", "id", "level"],
            unique=False,
        )

    op.create_table(
        "talent_review_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("talent_review_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("performance_score", sa.Float(), nullable=True),
        sa.Column("performance", sa.Integer(), nullable=True),
        sa.Column("ability", sa.Integer(), nullable=True),
        sa.Column("aspiration", sa.Integer(), nullable=True),
        sa.Column("engagement", sa.Integer(), nullable=True),
        sa.Column("potential", sa.Integer(), nullable=True),
        sa.Column("risk_of_loss", sa.Integer(), nullable=True),
        sa.Column("impact_of_loss", sa.Integer(), nullable=True),
        sa.Column("high_potential", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("rated_by_id", sa.Integer(), nullable=True),
        sa.Column("rated_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "ability IS NULL OR ability BETWEEN 1 AND 3", name=op.f("ck_talent_review_entries_ability_level")
        ),
        sa.CheckConstraint(
            "aspiration IS NULL OR aspiration BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_aspiration_level"),
        ),
        sa.CheckConstraint(
            "engagement IS NULL OR engagement BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_engagement_level"),
        ),
        sa.CheckConstraint(
            "impact_of_loss IS NULL OR impact_of_loss BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_impact_of_loss_level"),
        ),
        sa.CheckConstraint(
            "performance IS NULL OR performance BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_performance_level"),
        ),
        sa.CheckConstraint(
            "potential IS NULL OR potential BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_potential_level"),
        ),
        sa.CheckConstraint(
            "risk_of_loss IS NULL OR risk_of_loss BETWEEN 1 AND 3",
            name=op.f("ck_talent_review_entries_risk_of_loss_level"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_talent_review_entries_manager_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_talent_review_entries_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rated_by_id"],
            ["people.id"],
            name=op.f("fk_talent_review_entries_rated_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["talent_review_id"],
            ["talent_reviews.id"],
            name=op.f("fk_talent_review_entries_talent_review_id_talent_reviews"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talent_review_entries")),
        sa.UniqueConstraint("talent_review_id", "person_id", name="uq_talent_review_entries_person"),
    )
    with op.batch_alter_table("talent_review_entries", schema=None) as batch_op:
        batch_op.create_index("ix_talent_review_entries_person_id", ["person_id"], unique=False)

    op.create_table(
        "talent_review_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("performance_before", sa.Integer(), nullable=True),
        sa.Column("potential_before", sa.Integer(), nullable=True),
        sa.Column("performance_after", sa.Integer(), nullable=False),
        sa.Column("potential_after", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["people.id"], name=op.f("fk_talent_review_moves_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["talent_review_entries.id"],
            name=op.f("fk_talent_review_moves_entry_id_talent_review_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_talent_review_moves")),
    )
    with op.batch_alter_table("talent_review_moves", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_talent_review_moves_entry_id"), ["entry_id"], unique=False)

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role_profile_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_positions_role_profile_id"), ["role_profile_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_positions_role_profile_id_role_profiles"),
            "role_profiles",
            ["role_profile_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_items_competency_id"), ["competency_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_review_items_competency_id_competencies"),
            "competencies",
            ["competency_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_review_items_competency_id_competencies"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_review_items_competency_id"))

    with op.batch_alter_table("positions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_positions_role_profile_id_role_profiles"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_positions_role_profile_id"))
        batch_op.drop_column("role_profile_id")

    with op.batch_alter_table("talent_review_moves", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talent_review_moves_entry_id"))

    op.drop_table("talent_review_moves")
    with op.batch_alter_table("talent_review_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_talent_review_entries_person_id")

    op.drop_table("talent_review_entries")
    with op.batch_alter_table("competency_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_competency_assessments_person_competency")

    op.drop_table("competency_assessments")
    with op.batch_alter_table("talent_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talent_reviews_performance_cycle_id"))

    op.drop_table("talent_reviews")
    with op.batch_alter_table("development_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_development_actions_status_due")
        batch_op.drop_index(batch_op.f("ix_development_actions_plan_id"))
        batch_op.drop_index(batch_op.f("ix_development_actions_goal_id"))

    op.drop_table("development_actions")
    with op.batch_alter_table("successors", schema=None) as batch_op:
        batch_op.drop_index("uq_successors_one_emergency", sqlite_where=EMERGENCY, postgresql_where=EMERGENCY)
        batch_op.drop_index("ix_successors_person_id")

    op.drop_table("successors")
    with op.batch_alter_table("position_fills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_position_fills_position_id"))
        batch_op.drop_index("ix_position_fills_filled_on")

    op.drop_table("position_fills")
    with op.batch_alter_table("talent_pool_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_talent_pool_members_person_id"))

    op.drop_table("talent_pool_members")
    with op.batch_alter_table("role_requirements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_requirements_competency_id"))

    op.drop_table("role_requirements")
    op.drop_table("development_plans")
    with op.batch_alter_table("career_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_career_steps_to_profile_id"))

    op.drop_table("career_steps")
    op.drop_table("talent_pools")
    op.drop_table("role_profiles")
    op.drop_table("competencies")

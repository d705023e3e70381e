"""reviews: review templates (sections, items), cycles and their phases, participants frozen at launch,
reviews, answers with their revisions, calibration adjustments

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 21:20:00.879845
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # New tables only: no batch copy of an existing one. sa.true() renders as 1 on SQLite, true on PostgreSQL.
    op.create_table(
        "review_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("scale_labels", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_review_templates_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_templates")),
        sa.UniqueConstraint("name_key", name="uq_review_templates_name_key"),
    )
    op.create_table(
        "review_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("rule_department", sa.String(length=200), nullable=True),
        sa.Column("rule_manager_id", sa.Integer(), nullable=True),
        sa.Column("rule_person_ids", sa.JSON(), nullable=True),
        sa.Column("guideline", sa.JSON(), nullable=True),
        sa.Column("previous_cycle_id", sa.Integer(), nullable=True),
        sa.Column("new_hire_person_id", sa.Integer(), nullable=True),
        sa.Column("launched_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "phase IN ('draft', 'self_review', 'peer_review', 'manager_review', 'calibration', 'released',"
            " 'closed')",
            name=op.f("ck_review_cycles_phase"),
        ),
        sa.CheckConstraint("period_end >= period_start", name=op.f("ck_review_cycles_period_in_order")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["people.id"],
            name=op.f("fk_review_cycles_created_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["new_hire_person_id"],
            ["people.id"],
            name=op.f("fk_review_cycles_new_hire_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_review_cycles_previous_cycle_id_review_cycles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["rule_manager_id"],
            ["people.id"],
            name=op.f("fk_review_cycles_rule_manager_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["review_templates.id"],
            name=op.f("fk_review_cycles_template_id_review_templates"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_cycles")),
        sa.UniqueConstraint("new_hire_person_id", name=op.f("uq_review_cycles_new_hire_person_id")),
        sa.UniqueConstraint("previous_cycle_id", name=op.f("uq_review_cycles_previous_cycle_id")),
    )
    with op.batch_alter_table("review_cycles", schema=None) as batch_op:
        batch_op.create_index("ix_review_cycles_phase", ["phase"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_cycles_template_id"), ["template_id"], unique=False)

    op.create_table(
        "review_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("answered_by", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('goals', 'competencies', 'questions')", name=op.f("ck_review_sections_kind")
        ),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_review_sections_weight_not_negative")),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["review_templates.id"],
            name=op.f("fk_review_sections_template_id_review_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_sections")),
        sa.UniqueConstraint("template_id", "position", name="uq_review_sections_position"),
    )
    op.create_table(
        "review_cycle_phases",
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("opened_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_review_cycle_phases_cycle_id_review_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["people.id"],
            name=op.f("fk_review_cycle_phases_opened_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("cycle_id", "phase", name=op.f("pk_review_cycle_phases")),
    )
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("competency_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('text', 'rating', 'choice')", name=op.f("ck_review_items_kind")),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["review_sections.id"],
            name=op.f("fk_review_items_section_id_review_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_items")),
        sa.UniqueConstraint("section_id", "key", name="uq_review_items_section_key"),
    )
    op.create_table(
        "review_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("computed_score", sa.Float(), nullable=True),
        sa.Column("final_score", sa.Float(), nullable=True),
        sa.Column("manager_submitted_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledged_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("acknowledgement_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_by_id"],
            ["people.id"],
            name=op.f("fk_review_participants_added_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_review_participants_cycle_id_review_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["people.id"],
            name=op.f("fk_review_participants_manager_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_review_participants_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_participants")),
        sa.UniqueConstraint("cycle_id", "person_id", name="uq_review_participants_cycle_person"),
    )
    with op.batch_alter_table("review_participants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_participants_cycle_manager", ["cycle_id", "manager_id"], unique=False
        )
        batch_op.create_index("ix_review_participants_person_id", ["person_id"], unique=False)

    op.create_table(
        "review_calibrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.Float(), nullable=True),
        sa.Column("after", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["people.id"], name=op.f("fk_review_calibrations_by_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["review_participants.id"],
            name=op.f("fk_review_calibrations_participant_id_review_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_calibrations")),
    )
    with op.batch_alter_table("review_calibrations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_calibrations_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("reviewee_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("nominated_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("submitted_at", storage.types.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "(role = 'self' AND reviewer_id = reviewee_id)"
            " OR (role <> 'self' AND reviewer_id <> reviewee_id)",
            name=op.f("ck_reviews_self_only_by_self"),
        ),
        sa.CheckConstraint("role IN ('self', 'manager', 'peer', 'report')", name=op.f("ck_reviews_role")),
        sa.CheckConstraint("status IN ('pending', 'draft', 'submitted')", name=op.f("ck_reviews_status")),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["review_cycles.id"],
            name=op.f("fk_reviews_cycle_id_review_cycles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["nominated_by_id"],
            ["people.id"],
            name=op.f("fk_reviews_nominated_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["review_participants.id"],
            name=op.f("fk_reviews_participant_id_review_participants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewee_id"], ["people.id"], name=op.f("fk_reviews_reviewee_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["people.id"], name=op.f("fk_reviews_reviewer_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint(
            "cycle_id", "reviewee_id", "reviewer_id", "role", name="uq_reviews_reviewer_role"
        ),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_cycle_role_status", ["cycle_id", "role", "status"], unique=False)
        batch_op.create_index("ix_reviews_participant_id", ["participant_id"], unique=False)
        batch_op.create_index("ix_reviews_reviewer_id", ["reviewer_id"], unique=False)

    op.create_table(
        "review_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("choice", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["reviews.id"],
            name=op.f("fk_review_answers_review_id_reviews"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["review_sections.id"],
            name=op.f("fk_review_answers_section_id_review_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_answers")),
        sa.UniqueConstraint("review_id", "section_id", "item_key", name="uq_review_answers_item"),
    )
    with op.batch_alter_table("review_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_answers_section_id"), ["section_id"], unique=False)

    op.create_table(
        "review_answer_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("choice", sa.String(length=100), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["review_answers.id"],
            name=op.f("fk_review_answer_revisions_answer_id_review_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["people.id"],
            name=op.f("fk_review_answer_revisions_by_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_answer_revisions")),
    )
    with op.batch_alter_table("review_answer_revisions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_answer_revisions_answer_version", ["answer_id", "version"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_answer_revisions", schema=None) as batch_op:
        batch_op.drop_index("ix_review_answer_revisions_answer_version")

    op.drop_table("review_answer_revisions")
    with op.batch_alter_table("review_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_answers_section_id"))

    op.drop_table("review_answers")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_reviewer_id")
        batch_op.drop_index("ix_reviews_participant_id")
        batch_op.drop_index("ix_reviews_cycle_role_status")

    op.drop_table("reviews")
    with op.batch_alter_table("review_calibrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_calibrations_participant_id"))

    op.drop_table("review_calibrations")
    with op.batch_alter_table("review_participants", schema=None) as batch_op:
        batch_op.drop_index("ix_review_participants_person_id")
        batch_op.drop_index("ix_review_participants_cycle_manager")

    op.drop_table("review_participants")
    op.drop_table("review_items")
    op.drop_table("review_cycle_phases")
    op.drop_table("review_sections")
    with op.batch_alter_table("review_cycles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_cycles_template_id"))
        batch_op.drop_index("ix_review_cycles_phase")

    op.drop_table("review_cycles")
    op.drop_table("review_templates")

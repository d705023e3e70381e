"""feedback: feedback with tags, feedback requests and who was asked, badges, praise

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 20:14:51.020811
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # sa.false()/sa.true() render as 0/1 on SQLite and false/true on PostgreSQL.
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("emoji", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("official", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["people.id"], name=op.f("fk_badges_created_by_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("name", name="uq_badges_name"),
    )
    op.create_table(
        "feedback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("closed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_feedback_requests_expires_after_created")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["people.id"],
            name=op.f("fk_feedback_requests_requester_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["people.id"],
            name=op.f("fk_feedback_requests_subject_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_requests")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_feedback_requests_client_request_id")),
    )
    with op.batch_alter_table("feedback_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_requests_requester_id"), ["requester_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_requests_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=True),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=24), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("quote", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "visibility IN ('recipient_and_manager', 'recipient_only', 'manager_only', 'anonymous')",
            name=op.f("ck_feedback_visibility"),
        ),
        sa.CheckConstraint(
            "giver_id IS NULL OR giver_id <> recipient_id", name=op.f("ck_feedback_not_to_oneself")
        ),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["people.id"], name=op.f("fk_feedback_giver_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["people.id"], name=op.f("fk_feedback_recipient_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feedback_requests.id"],
            name=op.f("fk_feedback_request_id_feedback_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_feedback_client_request_id")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_giver_created", ["giver_id", "created_at"], unique=False)
        batch_op.create_index("ix_feedback_recipient_created", ["recipient_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_request_id"), ["request_id"], unique=False)

    op.create_table(
        "praise",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=True),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("badge_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("channel_conversation_id", sa.String(length=512), nullable=True),
        sa.Column("channel_service_url", sa.String(length=512), nullable=True),
        sa.Column("channel_activity_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("client_request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["badge_id"], ["badges.id"], name=op.f("fk_praise_badge_id_badges"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["people.id"], name=op.f("fk_praise_giver_id_people"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"], ["people.id"], name=op.f("fk_praise_receiver_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_praise")),
        sa.UniqueConstraint("client_request_id", name=op.f("uq_praise_client_request_id")),
    )
    with op.batch_alter_table("praise", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_praise_badge_id"), ["badge_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_praise_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_praise_giver_id"), ["giver_id"], unique=False)
        batch_op.create_index("ix_praise_receiver_created", ["receiver_id", "created_at"], unique=False)

    op.create_table(
        "feedback_request_asks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("asked_id", sa.Integer(), nullable=False),
        sa.Column("answered_feedback_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("reminded_at", storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answered_feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_request_asks_answered_feedback_id_feedback"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["asked_id"],
            ["people.id"],
            name=op.f("fk_feedback_request_asks_asked_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["feedback_requests.id"],
            name=op.f("fk_feedback_request_asks_request_id_feedback_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_request_asks")),
        sa.UniqueConstraint(
            "answered_feedback_id", name=op.f("uq_feedback_request_asks_answered_feedback_id")
        ),
        sa.UniqueConstraint("request_id", "asked_id", name="uq_feedback_request_asks_asked"),
    )
    with op.batch_alter_table("feedback_request_asks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_request_asks_asked_id"), ["asked_id"], unique=False)

    op.create_table(
        "feedback_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("feedback_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_feedback_tags_rating")
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback.id"],
            name=op.f("fk_feedback_tags_feedback_id_feedback"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_tags")),
        sa.UniqueConstraint("feedback_id", "tag", name="uq_feedback_tags_feedback_tag"),
    )
    with op.batch_alter_table("feedback_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_tags_tag"), ["tag"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_tags_tag"))

    op.drop_table("feedback_tags")
    with op.batch_alter_table("feedback_request_asks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_request_asks_asked_id"))

    op.drop_table("feedback_request_asks")
    with op.batch_alter_table("praise", schema=None) as batch_op:
        batch_op.drop_index("ix_praise_receiver_created")
        batch_op.drop_index(batch_op.f("ix_praise_giver_id"))
        batch_op.drop_index(batch_op.f("ix_praise_created_at"))
        batch_op.drop_index(batch_op.f("ix_praise_badge_id"))

    op.drop_table("praise")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_request_id"))
        batch_op.drop_index("ix_feedback_recipient_created")
        batch_op.drop_index("ix_feedback_giver_created")

    op.drop_table("feedback")
    with op.batch_alter_table("feedback_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_requests_subject_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_requests_requester_id"))

    op.drop_table("feedback_requests")
    op.drop_table("badges")

"""team channels: the team channels the bot is installed in, where public praise may be posted

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 20:59:38.967976
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A new table only: no batch copy of an existing one, so SQLite and PostgreSQL run the same DDL.
    op.create_table(
        "team_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=512), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("bot_id", sa.String(length=128), nullable=True),
        sa.Column("team_id", sa.String(length=512), nullable=True),
        sa.Column("team_name", sa.String(length=256), nullable=True),
        sa.Column("channel_name", sa.String(length=256), nullable=True),
        sa.Column("installed_at", storage.types.UTCDateTime(), nullable=False),
        sa.Column("removed_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_channels")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_team_channels_conversation_id")),
    )
    with op.batch_alter_table("team_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_team_channels_team_id"), ["team_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_team_channels_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("team_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_team_channels_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_team_channels_team_id"))

    op.drop_table("team_channels")

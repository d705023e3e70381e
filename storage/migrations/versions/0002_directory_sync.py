"""directory sync: Person manager override, office, sync and deactivation times; sync state per tenant

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:57:46.824387
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_installations",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_app_installations_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_app_installations")),
    )
    op.create_table(
        "directory_sync_state",
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("delta_link", sa.Text(), nullable=True),
        sa.Column("last_full_sync_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("last_sync_at", storage.types.UTCDateTime(), nullable=True),
        sa.Column("last_report", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_directory_sync_state")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        # A server default: existing people get False without a data migration (sa.false() is portable).
        batch_op.add_column(
            sa.Column("manager_overridden", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("office_location", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("directory_synced_at", storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deactivated_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("deactivated_at")
        batch_op.drop_column("directory_synced_at")
        batch_op.drop_column("office_location")
        batch_op.drop_column("manager_overridden")

    op.drop_table("directory_sync_state")
    op.drop_table("app_installations")

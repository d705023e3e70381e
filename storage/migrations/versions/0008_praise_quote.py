"""praise quote: the message praise was given from, kept as evidence

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, no table copy.
    op.add_column("praise", sa.Column("quote", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("praise", schema=None) as batch_op:
        batch_op.drop_column("quote")

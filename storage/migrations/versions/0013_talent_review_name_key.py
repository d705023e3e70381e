"""talent review names unique per performance cycle, whatever their case and spacing: a second submit of
the open form, even one racing the first, opens nothing new

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_MAX = 200


def upgrade() -> None:
    with op.batch_alter_table("talent_reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=KEY_MAX), nullable=True))
    _fill_keys(op.get_bind())
    with op.batch_alter_table("talent_reviews", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=KEY_MAX), nullable=False)
        batch_op.create_unique_constraint(
            "uq_talent_reviews_cycle_name_key", ["performance_cycle_id", "name_key"]
        )


def downgrade() -> None:
    with op.batch_alter_table("talent_reviews", schema=None) as batch_op:
        batch_op.drop_constraint("uq_talent_reviews_cycle_name_key", type_="unique")
        batch_op.drop_column("name_key")


def _fill_keys(connection: sa.Connection) -> None:
    """The key of each existing review's name (storage.models.talent_review_name_key's rule, written out
    here as migrations keep their own copy). Reviews that already share a key in one cycle (a raced second
    submit) all stay; the later ones get their id in the key."""
    rows = connection.execute(
        sa.text("SELECT id, performance_cycle_id, name FROM talent_reviews ORDER BY id")
    ).all()
    taken: set[tuple[int, str]] = set()
    for review_id, cycle_id, name in rows:
        key = " ".join(name.split()).casefold()[:KEY_MAX]
        if (cycle_id, key) in taken:
            key = f"{key[: KEY_MAX - 24]} #{review_id}"
        taken.add((cycle_id, key))
        connection.execute(
            sa.text("UPDATE talent_reviews SET name_key = :key WHERE id = :id"), {"key": key, "id": review_id}
        )

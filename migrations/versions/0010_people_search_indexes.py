"""Index people's name keys for prefix search (LIKE 'x%') in name order.

The database's collation (C.UTF-8) keeps a prefix off the existing btrees; text_pattern_ops
compares byte by byte, so PostgreSQL can turn a prefix into an index range and read the matches
in order. SQLite ignores postgresql_ops: plain indexes there, as in the models.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 10:12:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PATTERN = "text_pattern_ops"


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            "ix_people_family_name_pattern",
            ["family_name_key", "given_name_key", "id"],
            unique=False,
            postgresql_ops={"family_name_key": PATTERN, "given_name_key": PATTERN},
        )
        batch_op.create_index(
            "ix_people_given_name_pattern",
            ["given_name_key", "family_name_key", "id"],
            unique=False,
            postgresql_ops={"given_name_key": PATTERN, "family_name_key": PATTERN},
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_given_name_pattern")
        batch_op.drop_index("ix_people_family_name_pattern")

"""Definitions declare their facts and questions: the officer's answers to them, kept on the encounter.

- ``encounters.declared_facts``: answers by fact name (existing rows: none).

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-01 12:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared_facts", sa.JSON(), nullable=True))
    op.execute("UPDATE encounters SET declared_facts = '{}'")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.alter_column("declared_facts", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("declared_facts")

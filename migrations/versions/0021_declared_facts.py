"""Definitions declare their facts and questions: the officer's answers to them, kept on the encounter.

- ``encounters.declared_facts``: answers by fact name (existing rows: none).

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-01 12:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A server default, so bulk loads that name their columns (bench/generate.py's COPY) need not know it.
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("declared_facts", sa.JSON(), server_default=sa.text("'{}'"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("declared_facts")

"""Monitoring that can be published (issue 13): populations, coded reasons.

- ``decisions.in_population``: whether the encounter is one the programme is for (the definition's
  ``population``); only those are in a programme's monitoring base. Versions written before
  populations existed have none, so every decision already stored is in (true).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-01 12:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_population", sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("in_population")

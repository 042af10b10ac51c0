"""Exports in the background: a job kind, the filters it was asked for and the file it made.

Revision ID: 0022
Revises: 0016
Create Date: 2026-12-01 12:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("output", sa.LargeBinary(), nullable=True))
        batch_op.drop_constraint(batch_op.f("ck_jobs_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_jobs_kind"), "kind IN ('import', 'sweep', 'export')")


def downgrade() -> None:
    # Export jobs cannot be described by the older table: they go with it.
    op.execute("DELETE FROM jobs WHERE kind = 'export'")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_jobs_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_jobs_kind"), "kind IN ('import', 'sweep')")
        batch_op.drop_column("output")
        batch_op.drop_column("params")

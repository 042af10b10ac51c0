"""Index decisions by the decision they override (finding the effective decision).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 11:04:00.293050
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_overrides_id"), ["overrides_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_overrides_id"))

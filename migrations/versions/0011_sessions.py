"""Sessions that end, and sign-in attempts counted in the database.

users.session_generation is copied into each session at sign-in and checked on every request;
sign_in_attempts holds the failures (and the addresses that succeeded) that sign-in throttling
counts, so its limits hold across processes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))

    op.create_table(
        "sign_in_attempts",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('address', 'account')", name=op.f("ck_sign_in_attempts_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_attempts")),
    )
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_attempts_lookup", ["kind", "key", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sign_in_attempts_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sign_in_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sign_in_attempts_at"))
        batch_op.drop_index("ix_sign_in_attempts_lookup")
    op.drop_table("sign_in_attempts")

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")

"""Administration in the browser: organisation kinds for scrutiny panels and the service operator,
one-time password reset links, and effective dates on programme assignments.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('police_force', 'yot', 'yju', 'provider', 'pcc')"
NEW_KINDS = "kind IN ('police_force', 'yot', 'yju', 'provider', 'pcc', 'scrutiny', 'service')"


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organisations_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_organisations_kind"), NEW_KINDS)

    with op.batch_alter_table("programme_operators", schema=None) as batch_op:
        batch_op.add_column(sa.Column("effective_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("effective_to", sa.Date(), nullable=True))

    op.create_table(
        "password_resets",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_password_resets_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_resets_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_resets_user_id"))
    op.drop_table("password_resets")

    with op.batch_alter_table("programme_operators", schema=None) as batch_op:
        batch_op.drop_column("effective_to")
        batch_op.drop_column("effective_from")

    # The older schema has no word for these kinds; their rows are kept (users belong to them).
    op.execute("UPDATE organisations SET kind = 'provider' WHERE kind IN ('scrutiny', 'service')")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_organisations_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_organisations_kind"), OLD_KINDS)

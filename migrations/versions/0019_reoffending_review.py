"""A flag for a new encounter during a live case: ``case_flags.kind`` may be 'reoffending_review'.

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0020"
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('non_engagement', 'first_contact_overdue', 'contract_expired')"
NEW_KINDS = "kind IN ('non_engagement', 'first_contact_overdue', 'contract_expired', 'reoffending_review')"


def upgrade() -> None:
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_case_flags_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_case_flags_kind"), NEW_KINDS)


def downgrade() -> None:
    # The older schema has no word for the review; a flag still open asks a person to look at the
    # case, which is what a non-engagement flag does too, so the rows are kept under that kind.
    op.execute("UPDATE case_flags SET kind = 'non_engagement' WHERE kind = 'reoffending_review'")
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_case_flags_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_case_flags_kind"), OLD_KINDS)

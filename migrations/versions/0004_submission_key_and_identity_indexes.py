"""Encounters get a submission key (a form submitted twice records one encounter); people get identity indexes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:19:37.516280
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submission_key", sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_encounters_submission_key"), ["submission_key"])

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(
            "ix_people_identity", ["family_name_key", "given_name_key", "date_of_birth"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_people_merged_into_id"), ["merged_into_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_merged_into_id"))
        batch_op.drop_index("ix_people_identity")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_encounters_submission_key"), type_="unique")
        batch_op.drop_column("submission_key")

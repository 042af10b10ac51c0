"""Contract conditions name their definition's condition group instead of a fixed kind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD_KINDS = ("do_not_reoffend", "victim", "pathway", "voluntary_work")


def upgrade() -> None:
    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("condition_group", sa.String(length=40), nullable=True))
    # The old kinds were derived from the shipped groups; 'victim' was the victim_restorative group.
    op.execute(
        "UPDATE contract_conditions SET condition_group = "
        "CASE kind WHEN 'victim' THEN 'victim_restorative' ELSE kind END"
    )
    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.alter_column("condition_group", existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_constraint(batch_op.f("ck_contract_conditions_kind"), type_="check")
        batch_op.drop_column("kind")


def downgrade() -> None:
    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE contract_conditions SET kind = CASE "
        "WHEN condition_group IN ('do_not_reoffend', 'pathway', 'voluntary_work') THEN condition_group "
        "WHEN condition_group LIKE 'victim%' THEN 'victim' ELSE 'pathway' END"
    )
    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.alter_column("kind", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_check_constraint("kind", f"kind IN {OLD_KINDS!r}")
        batch_op.drop_column("condition_group")

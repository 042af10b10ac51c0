"""Population baselines uploaded by an administrator, for the monitoring share comparison.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "population_baselines",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source_note", sa.Text(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_population_baselines_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_baselines")),
    )
    with op.batch_alter_table("population_baselines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_population_baselines_uploaded_by_id"), ["uploaded_by_id"], unique=False
        )

    op.create_table(
        "population_baseline_rows",
        sa.Column("baseline_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=False),
        sa.Column("ethnic_group", sa.String(length=20), nullable=False),
        sa.Column("gender", sa.String(length=12), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "population >= 0", name=op.f("ck_population_baseline_rows_population_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["baseline_id"],
            ["population_baselines.id"],
            name=op.f("fk_population_baseline_rows_baseline_id_population_baselines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_population_baseline_rows")),
        sa.UniqueConstraint(
            "baseline_id",
            "area",
            "ethnic_group",
            "gender",
            "age_band",
            name=op.f("uq_population_baseline_rows_baseline_id"),
        ),
    )
    with op.batch_alter_table("population_baseline_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_population_baseline_rows_baseline_id"), ["baseline_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("population_baseline_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_population_baseline_rows_baseline_id"))
    op.drop_table("population_baseline_rows")
    with op.batch_alter_table("population_baselines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_population_baselines_uploaded_by_id"))
    op.drop_table("population_baselines")

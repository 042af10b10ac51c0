"""Policy simulations: the draft replayed, on which data, by whom, and its counts.

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "simulations",
        sa.Column("draft_version_id", sa.Integer(), nullable=False),
        sa.Column("baseline_version_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("date_from", sa.Date(), nullable=True),
        sa.Column("date_to", sa.Date(), nullable=True),
        sa.Column("dimension", sa.String(length=30), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("latest_decision_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_simulations_status")
        ),
        sa.ForeignKeyConstraint(
            ["draft_version_id"],
            ["programme_versions.id"],
            name=op.f("fk_simulations_draft_version_id_programme_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["baseline_version_id"],
            ["programme_versions.id"],
            name=op.f("fk_simulations_baseline_version_id_programme_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_simulations_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["started_by_id"], ["users.id"], name=op.f("fk_simulations_started_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_simulations")),
    )
    with op.batch_alter_table("simulations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_simulations_draft_version_id"), ["draft_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_simulations_organisation_id"), ["organisation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("simulations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_simulations_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_simulations_draft_version_id"))
    op.drop_table("simulations")

"""DIVERT as the scheme runs: referrals without an offence, goals and placements, confidential needs.

- ``encounters.offence_category`` may be empty (a self-referral has no offence) and
  ``encounters.referral_source`` says who referred the person when no officer did;
- ``referrals.into_eet_at`` and ``referrals.rearrested_at``: the outcomes DIVERT reports;
- ``case_goals``: goals in education, training, employment or a programme, with the placement;
- ``needs_assessments.visibility``: the working team only (existing rows too), or shared.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.alter_column("offence_category", existing_type=sa.String(), nullable=True)
        batch_op.add_column(sa.Column("referral_source", sa.String(length=20), nullable=True))
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("into_eet_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rearrested_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=12), server_default="team", nullable=False)
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_needs_assessments_visibility"), "visibility IN ('team', 'shared')"
        )
    op.create_table(
        "case_goals",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("placement", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('education', 'training', 'employment', 'programme')", name=op.f("ck_case_goals_kind")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'started', 'completed', 'dropped')", name=op.f("ck_case_goals_status")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_case_goals_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_case_goals_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_goals")),
    )
    with op.batch_alter_table("case_goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_goals_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_goals_referral_id"))
    op.drop_table("case_goals")
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_needs_assessments_visibility"), type_="check")
        batch_op.drop_column("visibility")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_column("rearrested_at")
        batch_op.drop_column("into_eet_at")
    # The older schema cannot say "no offence"; its catch-all category is the nearest it has.
    op.execute("UPDATE encounters SET offence_category = 'other' WHERE offence_category IS NULL")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("referral_source")
        batch_op.alter_column("offence_category", existing_type=sa.String(), nullable=False)

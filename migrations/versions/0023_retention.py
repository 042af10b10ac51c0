"""Retention, anonymisation and restriction (issue 17): when a person was anonymised and the age
band left of their date of birth, each encounter's age band for monitoring, who restricted
processing and why, and 'retention' as a kind of background job.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0021"
branch_labels = None
depends_on = None

# Another migration (0022, exports) widens the same constraint; the lead reconciles the lists.
KINDS_BEFORE = "kind IN ('import', 'sweep', 'export')"
KINDS_AFTER = "kind IN ('import', 'sweep', 'export', 'retention')"


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("age_band", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("restricted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("restricted_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("restricted_reason", sa.Text(), server_default="", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_people_restricted_by_id_users"), "users", ["restricted_by_id"], ["id"]
        )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("age_floor", sa.SmallInteger(), nullable=True))
    for table in ("monitoring_journeys", "monitoring_encounters"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("age_floor", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_jobs_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_jobs_kind"), KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM jobs WHERE kind = 'retention'")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_jobs_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_jobs_kind"), KINDS_BEFORE)
    for table in ("monitoring_encounters", "monitoring_journeys"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("age_floor")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("age_floor")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_people_restricted_by_id_users"), type_="foreignkey")
        batch_op.drop_column("restricted_reason")
        batch_op.drop_column("restricted_by_id")
        batch_op.drop_column("restricted_at")
        batch_op.drop_column("age_band")
        batch_op.drop_column("anonymised_at")

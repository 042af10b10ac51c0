"""Programme versions uploaded in the browser are drafts until published; reference codes keep history.

``programme_versions`` gains a status (every version stored so far was loaded from a file and
decides encounters, so it is published), who uploaded it and who published it, and when.
``change_history`` gains ``object_key`` for records keyed by text (an offence slug, an ethnicity
code); ``object_id`` becomes optional because those rows have none.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 10:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programme_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=10), server_default="published", nullable=False)
        )
        batch_op.add_column(sa.Column("uploaded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("published_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_programme_versions_uploaded_by_id_users"), "users", ["uploaded_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_programme_versions_published_by_id_users"), "users", ["published_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_programme_versions_status"), "status IN ('draft', 'published')"
        )
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_key", sa.String(length=60), nullable=True))
        batch_op.alter_column("object_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index("ix_change_history_key", ["object_type", "object_key"], unique=False)


def downgrade() -> None:
    # History of text-keyed records cannot be kept without the column that names them.
    op.execute("DELETE FROM change_history WHERE object_id IS NULL")
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.drop_index("ix_change_history_key")
        batch_op.alter_column("object_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("object_key")
    # Drafts never decided anything, so nothing points at them.
    op.execute("DELETE FROM programme_versions WHERE status = 'draft'")
    with op.batch_alter_table("programme_versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_programme_versions_status"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_programme_versions_published_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_programme_versions_uploaded_by_id_users"), type_="foreignkey")
        batch_op.drop_column("published_by_id")
        batch_op.drop_column("published_at")
        batch_op.drop_column("uploaded_by_id")
        batch_op.drop_column("status")

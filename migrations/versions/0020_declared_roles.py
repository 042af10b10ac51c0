"""Roles as data: a programme definition may declare roles beyond the built-in ones.

``users.role`` was limited to the built-in roles by a check constraint; a declared role (a
women's-centre keyworker, a drug-service worker) needs no code, so the constraint goes and the
role a user may be given is checked where it is given (``pathways.users``).

Downgrading restores the constraint; it fails while any user holds a declared role, since the
older schema cannot say what such a user may do.

Revision ID: 0020
Revises: 0024
Create Date: 2026-12-01 13:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0024"
branch_labels = None
depends_on = None

BUILT_IN = "('officer', 'yot_caseworker', 'yju_decision_maker', 'navigator', 'coach', 'supervisor', 'analyst', 'admin')"


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f("ck_users_role"), f"role IN {BUILT_IN}")

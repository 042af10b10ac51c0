"""Reminders to participants and notifications to staff (issue 18).

- ``reminder_consents``: a participant's agreement to reminders on a case, contact details,
  channel and language, and its withdrawal;
- ``outbox_messages``: every message written with the change that causes it, sent by the worker;
- ``message_templates``: an administrator's wording, per kind, language and (optionally) programme;
- ``staff_notifications``: what a member of staff sees on their home page.

Revision ID: 0017
Revises: 0023
Create Date: 2026-12-01 12:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("programme_code", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reminder_booked', 'reminder_moved', 'reminder_before', 'new_referral', 'flag_raised', 'escalation_waiting', 'case_reallocated')",
            name=op.f("ck_message_templates_kind"),
        ),
        sa.CheckConstraint("language IN ('en', 'cy')", name=op.f("ck_message_templates_language")),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_message_templates_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
    )
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_templates_scope", ["kind", "language", "programme_code"], unique=True
        )

    op.create_table(
        "reminder_consents",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("agreed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_reminder_consents_channel")),
        sa.CheckConstraint("language IN ('en', 'cy')", name=op.f("ck_reminder_consents_language")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_reminder_consents_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_reminder_consents_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"], ["users.id"], name=op.f("fk_reminder_consents_withdrawn_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_consents")),
    )
    with op.batch_alter_table("reminder_consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reminder_consents_referral_id"), ["referral_id"], unique=False)

    op.create_table(
        "staff_notifications",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('new_referral', 'flag_raised', 'escalation_waiting', 'case_reallocated')",
            name=op.f("ck_staff_notifications_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_staff_notifications_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_staff_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_notifications")),
    )
    with op.batch_alter_table("staff_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "outbox_messages",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("recipient_user_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("personalisation", sa.JSON(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("provider_reference", sa.String(length=64), nullable=True),
        sa.Column("claim", sa.String(length=36), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint(
            "kind IN ('reminder_booked', 'reminder_moved', 'reminder_before', 'new_referral', 'flag_raised', 'escalation_waiting', 'case_reallocated')",
            name=op.f("ck_outbox_messages_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'cancelled')",
            name=op.f("ck_outbox_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["case_contacts.id"], name=op.f("fk_outbox_messages_contact_id_case_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_outbox_messages_programme_id_programmes")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_user_id"], ["users.id"], name=op.f("fk_outbox_messages_recipient_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_outbox_messages_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
    )
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_messages_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index("ix_outbox_messages_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_recipient_user_id"), ["recipient_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_messages_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_messages_referral_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_messages_recipient_user_id"))
        batch_op.drop_index("ix_outbox_messages_due")
        batch_op.drop_index(batch_op.f("ix_outbox_messages_contact_id"))

    op.drop_table("outbox_messages")
    with op.batch_alter_table("staff_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_notifications_user_id"))

    op.drop_table("staff_notifications")
    with op.batch_alter_table("reminder_consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reminder_consents_referral_id"))

    op.drop_table("reminder_consents")
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_index("ix_message_templates_scope")

    op.drop_table("message_templates")

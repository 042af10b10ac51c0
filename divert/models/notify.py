"""Messages: a participant's agreement to reminders, the outbox, editable wording, staff notifications.

A message is written to the outbox in the same transaction as the change that causes it (a booking,
a flag) and sent by the worker after commit, so a rolled-back change never sends anything and a
sent message always has its cause on record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, utcnow
from divert.models.casework import CaseContact
from divert.models.referral import Referral
from divert.models.user import User
from divert.rules.messages import CHANNELS, LANGUAGES, MESSAGE_KINDS, STAFF_KINDS, STATUSES


class ReminderConsent(IdMixin, TimestampMixin, Base):
    """A participant's agreement to reminders on one case, with how to reach them.

    Kept per case because the person agrees with the team running the programme, not with the force;
    withdrawal is a date on the row, so when they agreed and when they stopped stays on record.
    """

    __tablename__ = "reminder_consents"
    __history__ = True
    __table_args__ = (
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        CheckConstraint(f"language IN {LANGUAGES!r}", name="language"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="en")
    agreed_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None]
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    referral: Mapped[Referral] = relationship()


class OutboxMessage(IdMixin, TimestampMixin, Base):
    """One message to send, its schedule and what became of it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(f"kind IN {MESSAGE_KINDS!r}", name="kind"),
        CheckConstraint(f"channel IN {CHANNELS!r}", name="channel"),
        CheckConstraint(f"status IN {STATUSES!r}", name="status"),
        # The worker's question: what is queued and due now.
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
    )

    kind: Mapped[str] = mapped_column(String(30))
    channel: Mapped[str] = mapped_column(String(8))
    # A phone number or an email address, copied at writing: the consent may change later, and
    # the message goes where the person said at the time.
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    # Which words (rules/messages.py kinds, or an administrator's edit) and for which programme.
    template: Mapped[str] = mapped_column(String(40))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    # Only the fields rules/messages.py allows (never the offence).
    personalisation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("case_contacts.id"), index=True)
    scheduled_for: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # Unique: the same cause writes the same key, so writing twice is refused, and the key is
    # the provider's reference, so a worker that died mid-send can ask whether it went.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    provider_reference: Mapped[str | None] = mapped_column(String(64))
    # Which run of the worker holds the message ('sending'): a claim is one UPDATE for a batch, and
    # a worker sends only the rows carrying its own token.
    claim: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")

    contact: Mapped[CaseContact | None] = relationship()


class MessageTemplate(IdMixin, TimestampMixin, Base):
    """An administrator's wording for one kind of message, language and (optionally) programme.

    Absent, the shipped wording in rules/messages.py is used. Changes are kept in the change history
    like other reference data.
    """

    __tablename__ = "message_templates"
    __history__ = True
    __table_args__ = (
        CheckConstraint(f"kind IN {MESSAGE_KINDS!r}", name="kind"),
        CheckConstraint(f"language IN {LANGUAGES!r}", name="language"),
        # One wording per kind, language and programme ('' for every programme): a NULL would
        # not be unique on either database.
        Index("ix_message_templates_scope", "kind", "language", "programme_code", unique=True),
    )

    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(2))
    programme_code: Mapped[str] = mapped_column(String(60), default="")
    subject: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class StaffNotification(IdMixin, Base):
    """Something a member of staff should know, on their home page (and by email via the outbox)."""

    __tablename__ = "staff_notifications"
    __table_args__ = (CheckConstraint(f"kind IN {STAFF_KINDS!r}", name="kind"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    text: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    referral: Mapped[Referral | None] = relationship()

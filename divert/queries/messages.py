"""What the case page and the home page show of messages: the consent, each message's status, notices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from divert.models import MessageTemplate, OutboxMessage, Referral, ReminderConsent, StaffNotification, User
from divert.rules.messages import DEFAULT_WORDS, Words

HOME_NOTICES = 20


def case_messages(session: Session, case: Referral) -> dict[str, Any]:
    """The participant's agreement and every reminder written on the case, newest first."""
    return {
        "consent": session.scalar(
            select(ReminderConsent)
            .where(ReminderConsent.referral_id == case.id, ReminderConsent.withdrawn_at.is_(None))
            .order_by(ReminderConsent.id.desc())
            .limit(1)
        ),
        "messages": session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.referral_id == case.id, OutboxMessage.contact_id.is_not(None))
            .order_by(OutboxMessage.scheduled_for.desc(), OutboxMessage.id.desc())
        ).all(),
    }


def unread_notices(session: Session, user: User) -> Sequence[StaffNotification]:
    return session.scalars(
        select(StaffNotification)
        .where(StaffNotification.user_id == user.id, StaffNotification.read_at.is_(None))
        .order_by(StaffNotification.id.desc())
        .limit(HOME_NOTICES)
    ).all()


def wording(session: Session) -> list[dict[str, Any]]:
    """Every kind and language of message with the words now used: the edit, or the shipped words."""
    edited = {(t.kind, t.language, t.programme_code): t for t in session.scalars(select(MessageTemplate))}
    rows = []
    for (kind, language), words in DEFAULT_WORDS.items():
        own = edited.get((kind, language, ""))
        rows.append(_row(kind, language, "", own, words))
    for (kind, language, code), own in sorted(edited.items()):
        if code:
            rows.append(_row(kind, language, code, own, DEFAULT_WORDS.get((kind, language), Words("", ""))))
    return rows


def _row(kind: str, language: str, code: str, own: MessageTemplate | None, shipped: Words) -> dict[str, Any]:
    return {
        "kind": kind,
        "language": language,
        "programme_code": code,
        "subject": own.subject if own else shipped.subject,
        "body": own.body if own else shipped.body,
        "edited": own is not None,
    }

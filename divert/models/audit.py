"""Audit log (DPA 2018 s.62) and field-level change history. Both are append-only."""

from __future__ import annotations

from datetime import datetime

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from divert.models.base import Base, IdMixin, utcnow

AUDIT_ACTIONS = (
    "view",
    "create",
    "update",
    "delete",
    "export",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "search",
    # An attempt the app refused (403, or 404 for another organisation's record): evidence of probing.
    "refused",
)


class AuditEntry(IdMixin, Base):
    """Who did what to which record, when and from where."""

    __tablename__ = "audit_log"
    __append_only__ = True
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    path: Mapped[str | None] = mapped_column(String(300))


class ChangeRecord(IdMixin, Base):
    """One field's old and new value, written on every change to a person's record or case."""

    __tablename__ = "change_history"
    __append_only__ = True
    __table_args__ = (Index("ix_change_history_object", "object_type", "object_id"),)

    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


def record(
    session: Session, action: str, object_type: str, object_id: object = None, detail: str = ""
) -> AuditEntry:
    """Add an audit entry to the current transaction.

    It commits with the request, so an audited change and its entry stand or fall together.
    Views of data are audited the same way; a failed request writes neither.
    """
    entry = AuditEntry(
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
    )
    if has_request_context():
        entry.ip_address = request.remote_addr
        entry.user_agent = (request.user_agent.string or "")[:300]
        entry.path = request.full_path[:300]
        if current_user and current_user.is_authenticated:
            entry.user_id = current_user.id
    else:
        entry.user_id = session.info.get("actor_id")
    session.add(entry)
    return entry

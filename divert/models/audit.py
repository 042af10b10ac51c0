"""Audit log (DPA 2018 s.62) and field-level change history. Both are append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from divert.models.base import Base, IdMixin, utcnow

if TYPE_CHECKING:
    from divert.models.user import User

# Keys of ``Session.info`` for the unit of work's actor and origin (see ``act_as``).
ACTOR = "actor_id"
ORIGIN = "origin"

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
    # Retention and restriction (issue 17).
    "anonymise",
    "erase",
    "restrict",
    "lift_restriction",
    # A person's record shared with another force under an agreement (issue 17).
    "share",
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
    """One field's old and new value, written on every change to a person's record, a case or a
    reference code."""

    __tablename__ = "change_history"
    __append_only__ = True
    __table_args__ = (
        Index("ix_change_history_object", "object_type", "object_id"),
        Index("ix_change_history_key", "object_type", "object_key"),
    )

    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    object_type: Mapped[str] = mapped_column(String(40))
    # Reference codes are keyed by text (an offence slug, an ethnicity code), so their history names
    # them in ``object_key``; every other record is keyed by its id.
    object_id: Mapped[int | None]
    object_key: Mapped[str | None] = mapped_column(String(60))
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the request layer saw it."""

    ip_address: str | None
    user_agent: str
    path: str


def act_as(session: Session, actor_id: int | None, origin: Origin | None = None) -> None:
    """Open a unit of work for ``actor_id``: field history rows written by its flushes name them,
    and its audit entries say where the request came from. Called by the request layer (the
    signed-in user) and by commands (the user they run as), never by an operation."""
    session.info[ACTOR] = actor_id
    session.info[ORIGIN] = origin


def record(
    session: Session,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object = None,
    detail: str = "",
) -> AuditEntry:
    """Add an audit entry for what ``actor`` (a user, or None for the system) did, to the current
    transaction.

    It commits with the request, so an audited change and its entry stand or fall together.
    Views of data are audited the same way; a failed request writes neither.
    """
    origin: Origin | None = session.info.get(ORIGIN)
    entry = AuditEntry(
        user_id=None if actor is None else actor.id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
        ip_address=origin.ip_address if origin else None,
        user_agent=origin.user_agent[:300] if origin else None,
        path=origin.path[:300] if origin else None,
    )
    session.add(entry)
    return entry

"""Recording who viewed, changed, exported or deleted personal data (DPA 2018 s.62)."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Session

from .models import AuditEntry


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

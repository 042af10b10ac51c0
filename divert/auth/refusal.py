"""Refused attempts are audited, and the audit entry outlives the refused request.

A refused request answers 403 or 404, and every response of 400 or more rolls its transaction back
(``divert.app.db.register_transaction``), which would take an ordinary audit entry with it. So a
refusal entry is built here, held aside, and written by the transaction hook in a short transaction
of its own after the rollback: one place, for pages and the API alike.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import abort, g
from flask_login import current_user
from sqlalchemy.orm import Session

from divert.app.db import KEPT
from divert.models import audit


def record_refusal(session: Session, object_type: str, object_id: object, detail: str) -> None:
    """Audit a refused attempt (who, from where, which path: as every entry); kept past the rollback."""
    actor = current_user if current_user.is_authenticated else None
    entry = audit.record(session, actor, "refused", object_type, object_id, detail=detail[:500])
    # Out of the request's transaction, which is about to be rolled back; written after it.
    session.expunge(entry)
    g.setdefault(KEPT, []).append(entry)


def not_found(session: Session, model: type[Any], object_id: int, object_type: str) -> NoReturn:
    """404 for a record the user may not see. If it exists (another organisation's), the attempt is
    audited as refused; the answer is the same 404 either way, so it does not reveal that it exists."""
    if session.get(model, object_id) is not None:
        record_refusal(session, object_type, object_id, "not visible to the user's organisation")
    abort(404)

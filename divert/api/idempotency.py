"""``Idempotency-Key`` on POST: a retried request gets the first response instead of a second record.

The remembered response is written in the request's own transaction, so it exists exactly when
the thing it describes does; a failed request remembers nothing and may simply be retried.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from divert.api.errors import error_response
from divert.app.extensions import db
from divert.models.api import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 200


def _key() -> str | None:
    key = request.headers.get(HEADER, "").strip()
    return key or None


def _fingerprint(payload: Any) -> str:
    canonical = json.dumps([request.method, request.path, payload], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def replay(payload: Any) -> tuple[Response, int] | None:
    """The first response to this key, or an error if the key was used for a different request."""
    key = _key()
    if key is None:
        return None
    if len(key) > MAX_KEY:
        return error_response(422, "invalid", f"The {HEADER} header must be {MAX_KEY} characters or fewer")
    if not key.isprintable():
        return error_response(422, "invalid", f"The {HEADER} header must not contain control characters")
    earlier = db.session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.user_id == current_user.id, IdempotentRequest.key == key
        )
    )
    if earlier is None:
        return None
    if earlier.request_hash != _fingerprint(payload):
        return error_response(
            422,
            "idempotency_key_reused",
            f"This {HEADER} was already used for a different request. Use a new key for a new request.",
        )
    return jsonify(earlier.body), earlier.status


def remember(payload: Any, status: int, body: dict[str, Any]) -> tuple[Response, int] | None:
    key = _key()
    if key is None:
        return None
    # ON CONFLICT DO NOTHING rather than a savepoint around a plain INSERT: a concurrent twin of
    # this request (which waits for the first to commit) still fails cleanly rather than with a
    # 500, and no request pays the savepoint's two extra round trips.
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    written = db.session.execute(
        insert(IdempotentRequest)
        .values(
            user_id=current_user.id,
            key=key,
            method=request.method,
            path=request.path[:300],
            request_hash=_fingerprint(payload),
            status=status,
            body=body,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
    )
    if written.rowcount == 0:  # type: ignore[attr-defined]  # a CursorResult for an INSERT
        return error_response(
            409, "conflict", f"A request with this {HEADER} is already being handled. Retry it shortly."
        )
    return None

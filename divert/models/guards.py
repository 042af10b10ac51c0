"""Session hooks that keep history honest.

- Append-only tables (events, audit, change history) refuse updates and deletes.
- Models marked ``__history__`` get a ``ChangeRecord`` per changed column, with the acting user
  taken from the unit of work's actor (``audit.act_as``: the request or the command sets it).

The hooks go on the app's session factory (``register``, called from ``create_app``), not on every
``Session`` in the process, so a session someone builds for another purpose is left alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker
from sqlalchemy.orm.attributes import instance_state

from divert.models.audit import ACTOR, ChangeRecord
from divert.models.base import utcnow


class AppendOnlyViolation(RuntimeError):
    """Something tried to change or delete a row of an append-only table."""


def _render(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool | int | float | Decimal | str):
        return str(value)
    return repr(value)


def _is_tracked(obj: object) -> bool:
    return bool(getattr(obj, "__history__", False))


def register(factory: sessionmaker[Session]) -> None:
    """Guard the sessions this factory makes. Safe to call again: an app made twice in one
    process (the tests, a benchmark) must not write each history row twice."""
    for name, listener in (("before_flush", _refuse_rewrites), ("after_flush", _write_history)):
        if not event.contains(factory, name, listener):
            event.listen(factory, name, listener)


def _refuse_rewrites(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if getattr(obj, "__append_only__", False) and (obj in session.deleted or session.is_modified(obj)):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are append-only")


def _write_history(session: Session, flush_context: UOWTransaction) -> None:
    # Runs after the rows are written (so new objects have ids) but while each attribute still
    # holds its pre-flush history; core inserts avoid re-entering the flush.
    rows: list[dict[str, Any]] = []
    actor = session.info.get(ACTOR)
    now = utcnow()
    for obj in session.new:
        if _is_tracked(obj):
            rows.extend(_rows_for(obj, actor, now, created=True))
    for obj in session.dirty:
        if _is_tracked(obj):
            rows.extend(_rows_for(obj, actor, now, created=False))
    for obj in session.deleted:
        if _is_tracked(obj):
            state = instance_state(obj)
            rows.append(_row(obj, actor, now, "(record)", "deleted", None, state.identity))
    if rows:
        session.connection().execute(insert(ChangeRecord), rows)


def _rows_for(obj: object, actor: int | None, now: datetime, *, created: bool) -> list[dict[str, Any]]:
    state = instance_state(obj)
    out = []
    for attr in state.mapper.column_attrs:
        key = attr.key
        if key in {"id", "created_at", "updated_at", "version_id"} or key.endswith("_key"):
            continue
        hist = state.attrs[key].history
        if created:
            value = state.attrs[key].value
            if value is not None:
                out.append(_row(obj, actor, now, key, None, _render(value), state.identity))
        elif hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if _render(old) != _render(new):
                out.append(_row(obj, actor, now, key, _render(old), _render(new), state.identity))
    return out


def _row(
    obj: object, actor: int | None, now: datetime, field: str, old: str | None, new: str | None, identity: Any
) -> dict[str, Any]:
    object_id = identity[0] if identity else getattr(obj, "id", None)
    keyed_by_text = isinstance(object_id, str)
    return {
        "at": now,
        "user_id": actor,
        "object_type": type(obj).__name__.lower(),
        "object_id": None if keyed_by_text else object_id,
        "object_key": object_id if keyed_by_text else None,
        "field": field,
        "old_value": old,
        "new_value": new,
    }

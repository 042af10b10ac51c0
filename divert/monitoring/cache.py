"""Monitoring results kept between requests, valid while the data they are counted from is unchanged.

Why a table and not a background job: the protected release depends on the analyst's scope (its
organisation's reach and its date range), so the scopes worth computing are the ones somebody asks
for; a job after every data change would recount every organisation's scopes while an officer
records encounters all day, and a page would still have to wait for it. So a result is computed
on the first request after a change and kept in ``monitoring_cache`` (every worker process and the
CLI share it; it survives restarts), keyed on what it is for and on a *data version*. A published
result is only ever used with the exact data version it was computed from: the proof that its
hidden cells are safe holds for those counts, not for counts that moved since.

The data version is one cheap statement (primary-key maxima, no scan of the data):

* ``monitoring_changes``: one row inserted by every transaction that writes a table monitoring
  counts from (``TABLES``), through the ORM or a Core statement on the session (``register``).
  Its largest id *and* its row count, because an id is handed out when a transaction inserts it
  but seen when it commits: a transaction that took id 10 and commits after one that took 11
  changes the count, not the maximum.
* the largest encounter and decision ids, for bulk loads written straight through a connection
  (``bench/generate.py``; ``flask monitoring-rebuild`` after them);
* the largest programme-version id (a new definition changes who counts where);
* ``FORMAT``, raised when what is kept or how it is computed changes.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction, sessionmaker

from divert.models import Decision, Encounter, MonitoringCache, MonitoringChange, ProgrammeVersion, utcnow
from divert.monitoring.query import PROGRAMME_IDS

FORMAT = 1

# Every table a monitoring figure is counted or grouped from: a write to one is a data change.
TABLES = frozenset(
    {
        "encounters",
        "decisions",
        "referrals",
        "referral_events",
        "people",
        "programmes",
        "programme_versions",
        "programme_operators",
        "organisations",
        "ethnicity_codes",
        "offence_categories",
        "outcome_codes",
        "monitoring_journeys",
        "monitoring_encounters",
    }
)
_NOTED = "monitoring_change_noted"
_KEEP_CHANGES = 10_000  # change rows kept before old ones are cleared (the count stays cheap)


# --- the data version ------------------------------------------------------------------------


def data_version(session: Session) -> str:
    row = session.execute(
        select(
            select(func.max(MonitoringChange.id)).scalar_subquery(),
            select(func.count()).select_from(MonitoringChange).scalar_subquery(),
            select(func.max(Encounter.id)).scalar_subquery(),
            select(func.max(Decision.id)).scalar_subquery(),
            select(func.max(ProgrammeVersion.id)).scalar_subquery(),
        )
    ).one()
    # A change after this, in the same transaction, must move the version again (a transaction
    # notes its changes once, not once a flush).
    session.info.pop(_NOTED, None)
    return ":".join([str(FORMAT), *(str(v or 0) for v in row)])


def _note(session: Session) -> None:
    if session.info.get(_NOTED):
        return
    session.info[_NOTED] = True
    # Straight on the connection: inside a flush the session cannot flush again.
    session.connection().execute(insert(MonitoringChange).values(changed_at=utcnow()))


def note_change(session: Session) -> None:
    """Say that what monitoring counts changed (after a bulk load or a rebuild outside the ORM)."""
    session.execute(insert(MonitoringChange).values(changed_at=utcnow()))


def _after_flush(session: Session, flush_context: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if getattr(type(obj), "__tablename__", None) in TABLES:
            _note(session)
            return


def _on_execute(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in TABLES:
        _note(state.session)


def _transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Also after a savepoint: a note rolled back with it must be made again by the next change.
    # Not after the inner transaction each flush opens: the note stands for the whole transaction
    # (one insert a request, not one a flush).
    if transaction.parent is not None and not transaction.nested:
        return
    session.info.pop(_NOTED, None)
    session.info.pop(PROGRAMME_IDS, None)


_HOOKS = (
    ("after_flush", _after_flush),
    ("do_orm_execute", _on_execute),
    ("after_transaction_end", _transaction_end),
)


def register(factory: sessionmaker[Session]) -> None:
    """Note every data change made through this factory's sessions. Safe to call again."""
    for name, listener in _HOOKS:
        if not event.contains(factory, name, listener):
            event.listen(factory, name, listener)


def clear_old_changes(session: Session) -> None:
    """Keep the change log short: once it is long, rows older than a day go, and one new row is
    added so the version still moves on (the maximum grows; no earlier version comes back)."""
    if (session.scalar(select(func.count()).select_from(MonitoringChange)) or 0) <= _KEEP_CHANGES:
        return
    old = utcnow() - timedelta(days=1)
    session.execute(delete(MonitoringChange).where(MonitoringChange.changed_at < old))
    session.execute(insert(MonitoringChange).values(changed_at=utcnow()))


# --- kept results ----------------------------------------------------------------------------

T = TypeVar("T")


def reach_parts(reach: Any) -> list[Any] | None:
    """What a result depends on of whose figures it holds (a query.Reach, or None for all)."""
    if reach is None:
        return None
    return [reach.organisation_id, reach.police, reach.receiving, reach.oversight]


def cache_key(kind: str, parts: Iterable[Any]) -> str:
    said = json.dumps([FORMAT, kind, *parts], default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(said.encode("utf-8")).hexdigest()


# Decoded results of the last few rows in this process (a decoded release is tens of MB at a
# force's size, so only a few are kept), by key, version and when the row was computed: a row
# rolled back and computed again for other data with the same ids (as tests do) is not mistaken.
_DECODED: dict[tuple[str, str, datetime], Any] = {}
_DECODED_MAX = 4


def remember(
    read: Session,
    write: Session,
    kind: str,
    parts: Iterable[Any],
    compute: Callable[[], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
) -> T:
    """The kept result for ``parts`` at the current data version, or ``compute()`` kept for next
    time. ``read`` is where the figures are counted (a replica, perhaps), ``write`` the primary."""
    version = data_version(read)
    key = cache_key(kind, parts)
    computed_at = write.scalar(
        select(MonitoringCache.computed_at).where(
            MonitoringCache.key == key, MonitoringCache.data_version == version
        )
    )
    if computed_at is not None and (key, version, computed_at) in _DECODED:
        return _DECODED[key, version, computed_at]  # type: ignore[no-any-return]
    body = None
    if computed_at is not None:
        body = write.scalar(select(MonitoringCache.body).where(MonitoringCache.key == key))
    if body is not None and computed_at is not None:
        found = decode(json.loads(zlib.decompress(body)))
    else:
        started = time.perf_counter()
        found = compute()
        seconds = time.perf_counter() - started
        stored = zlib.compress(json.dumps(encode(found), separators=(",", ":")).encode("utf-8"), 6)
        computed_at = _store(write, key, kind, version, stored, seconds)
    while len(_DECODED) >= _DECODED_MAX:
        _DECODED.pop(next(iter(_DECODED)))
    _DECODED[key, version, computed_at] = found
    return found


def _store(session: Session, key: str, kind: str, version: str, body: bytes, seconds: float) -> datetime:
    computed_at = utcnow()
    values = {
        "key": key,
        "kind": kind,
        "data_version": version,
        "computed_at": computed_at,
        "seconds": seconds,
        "body": body,
    }
    dialect = session.get_bind().dialect.name
    table = MonitoringCache
    # Two requests for the same scope may both compute it; the later one's row wins, and both
    # are the same result for the same data version.
    update = {k: v for k, v in values.items() if k != "key"}
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(values)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_=update)
    else:
        stmt = sqlite.insert(table).values(values)
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_=update)
    session.execute(stmt)
    clear_old_changes(session)
    return computed_at


def forget_decoded() -> None:
    """Drop this process's decoded results (tests that rebuild the database between cases)."""
    _DECODED.clear()

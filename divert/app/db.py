"""Engine and session handling.

One session per application context. Operations only flush; the request commits once at the
end when the response succeeded, and rolls back otherwise, so a failed request leaves nothing
half-written (see ``register_transaction``).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, scoped_session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool

from divert.app.clock import uk_day_number

# The ``g`` attribute where records to write after a rollback wait (see ``divert.auth.refusal``).
KEPT = "kept_after_rollback"

log = logging.getLogger(__name__)


def make_engine(url: str, echo: bool = False) -> Engine:
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"check_same_thread": False}
        if not parsed.database or parsed.database == ":memory:":
            kwargs["poolclass"] = StaticPool
        else:
            # A fresh clone has no instance folder yet; SQLite creates the file but not its folder.
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _fix_sqlite(engine)
    return engine


# How long a writer waits for another's transaction before "database is locked" (see below).
BUSY_TIMEOUT_MS = 15_000
# Rows an index that ANALYZE samples on SQLite (PRAGMA analysis_limit).
ANALYSIS_LIMIT = 1000
# PRAGMA optimize's mask when a connection opens: 0x10000 (check every table's size, 3.46+) and
# 0x02 (ANALYZE those that need it), as https://sqlite.org/pragma.html#pragma_optimize advises.
OPTIMIZE_AT_OPEN = 0x10002
# A pooled connection may live for days: it runs PRAGMA optimize again when it is handed back
# this long after it last did (SQLite suggests hourly or daily).
OPTIMIZE_EVERY_SECONDS = 3600.0
OPTIMIZED_AT = "divert_optimized_at"
# PRAGMA optimize may run ANALYZE, which writes and so waits for the write lock: it waits this
# long at most, and when a long import holds the lock it is simply left for the next time.
OPTIMIZE_WAIT_MS = 200


def _optimize(dbapi_connection: Any, mask: int | None = None) -> None:
    """PRAGMA optimize on a driver connection outside any transaction; never fails the caller.

    Usually a no-op: SQLite re-analyzes only the tables whose statistics are missing or stale and
    that the planner has needed. Being out of date is not an error, so a busy or read-only
    database leaves the statistics for the next time rather than failing a request.
    """
    pragma = "PRAGMA optimize" if mask is None else f"PRAGMA optimize={mask:#x}"
    try:
        if getattr(dbapi_connection, "in_transaction", False):
            return  # a connection handed back mid-transaction is rolled back first by the pool
        dbapi_connection.execute(f"PRAGMA busy_timeout={OPTIMIZE_WAIT_MS}")
        try:
            dbapi_connection.execute(pragma)
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    except sqlite3.Error:
        log.info("PRAGMA optimize skipped", exc_info=True)


def refresh_statistics(connection: Connection) -> None:
    """Bring the planner's statistics up to date after a bulk change: a migration, an import, the
    demo data. Many rows arriving at once is when a plan made on old figures goes wrong.

    SQLite: ANALYZE, sampled (``analysis_limit``), so it takes milliseconds. PRAGMA optimize alone
    would not do before 3.46: it re-analyzes only tables this connection has queried that were
    never analyzed or have grown 25-fold since.
    It runs on the driver connection: inside the transaction if one is open (committed with it),
    on its own otherwise. PostgreSQL keeps its own statistics (autovacuum's ANALYZE): nothing is
    done there.
    """
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    driver.execute("ANALYZE")


def _fix_sqlite(engine: Engine) -> None:
    """Make SQLite behave: foreign keys on, and real transactions so SAVEPOINT works.

    pysqlite starts transactions lazily and commits around DDL, which breaks savepoints (used by
    the tests' rollback isolation) and transactional migrations; taking over BEGIN fixes both.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # A writer waits this long for another's transaction (one writer at a time) before "database
        # is locked": long enough for the largest upload the import page takes (see web/views/imports).
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Any ANALYZE this connection runs (PRAGMA optimize's, refresh_statistics') samples this
        # many rows an index, so it takes milliseconds however large the tables; SQLite's own
        # advice is 100-1000, and 3.46+ sets such a limit itself inside PRAGMA optimize.
        cursor.execute(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
        cursor.close()
        # The UK date of a stored UTC timestamp, for monitoring's cohorts (clock.uk_day_number).
        dbapi_connection.create_function("uk_day", 1, uk_day_number, deterministic=True)
        # SQLite's advice for a long-lived connection (a pooled one is): optimize=0x10002 when it
        # opens (3.46+: look at every table, not only those this connection has used), plain
        # optimize now and then (on check-in, below) and before it closes.
        _optimize(dbapi_connection, OPTIMIZE_AT_OPEN)
        connection_record.info[OPTIMIZED_AT] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        if dbapi_connection is None:
            return  # invalidated: nothing to optimize on
        last = connection_record.info.get(OPTIMIZED_AT, 0.0)
        if time.monotonic() - last >= OPTIMIZE_EVERY_SECONDS:
            _optimize(dbapi_connection)
            connection_record.info[OPTIMIZED_AT] = time.monotonic()

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, connection_record: Any) -> None:
        _optimize(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock at the start, so two writers queue (busy_timeout) instead
        # of both reading and then one failing with "database is locked" when it tries to write.
        # A page that only reads (``reads_only``) begins DEFERRED instead: in WAL mode it reads
        # beside a writer, so a job's progress page stays live while the worker holds the lock
        # for a long import.
        conn.exec_driver_sql("BEGIN" if _reading_only() else "BEGIN IMMEDIATE")


F = TypeVar("F", bound=Callable[..., Any])
READS_ONLY = "reads_only"


def reads_only(view: F) -> F:
    """Mark a view that never writes the database (no audit entry either: it shows no personal
    data, like a job's progress). On SQLite its transaction does not wait for the write lock."""
    setattr(view, READS_ONLY, True)
    return view


# Set by ``reading_only()`` for work outside a request that only reads (a simulation's replay).
_READING: ContextVar[bool] = ContextVar("reading_only", default=False)


@contextmanager
def reading_only() -> Iterator[None]:
    """Transactions begun inside the block only read: on SQLite they begin DEFERRED, so a long
    read (a background replay) never holds the write lock that officers' recordings wait for."""
    token = _READING.set(True)
    try:
        yield
    finally:
        _READING.reset(token)


def _reading_only() -> bool:
    if _READING.get():
        return True
    if not has_request_context() or request.endpoint is None:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return bool(getattr(view, READS_ONLY, False))


class Database:
    """Holds the engine and a session scoped to the current application context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.factory = sessionmaker(expire_on_commit=False)
        self.scoped = scoped_session(self.factory, scopefunc=_context_key)
        # Monitoring reads only aggregates, so it can run on a read replica and keep its long
        # GROUP BY scans off the primary that officers and caseworkers write to.
        self.reports_engine: Engine | None = None
        self.reports_factory = sessionmaker(expire_on_commit=False)
        self.reports_scoped = scoped_session(self.reports_factory, scopefunc=_context_key)

    @property
    def session(self) -> Session:
        """The current application context's session."""
        return self.scoped()

    @property
    def reports_session(self) -> Session:
        """The session monitoring reads through: the replica's if one is set, else the main one."""
        return self.session if self.reports_engine is None else self.reports_scoped()

    def init_app(self, app: Flask) -> None:
        echo = app.config.get("SQL_ECHO", False)
        self.engine = make_engine(app.config["DATABASE_URL"], echo=echo)
        self.factory.configure(bind=self.engine)
        replica = app.config.get("REPORTS_DATABASE_URL")
        self.reports_engine = make_engine(replica, echo=echo) if replica else None
        self.reports_factory.configure(bind=self.reports_engine)
        app.teardown_appcontext(self._remove)

    def refresh_statistics(self) -> None:
        """``refresh_statistics`` on the app's database, after work that changed many rows at once
        (an import, the demo data), in a transaction of its own once that work has committed."""
        session = self.session
        if session.get_bind().dialect.name != "sqlite":
            return  # nothing to do, so no transaction for it either
        refresh_statistics(session.connection())
        session.commit()

    def _remove(self, exc: BaseException | None) -> None:
        self.scoped.remove()
        # Read-only: closing rolls the replica's transaction back, which is all it ever needs.
        self.reports_scoped.remove()


def _context_key() -> int:
    # The app context object, so each request (and each CLI command) gets its own session.
    try:
        return id(g._get_current_object())
    except RuntimeError:
        return 0


def register_transaction(app: Flask, database: Database) -> None:
    @app.after_request
    def _commit(response: Any) -> Any:
        if response.status_code < 400:
            try:
                database.session.commit()
            except StaleDataError as error:
                # A change left to the commit's flush met a newer version: answered by the app's
                # handler for it (409), as if the view had raised it, not as a server error.
                database.session.rollback()
                return app.make_response(app.handle_user_exception(error))
        else:
            try:
                database.session.rollback()
            except SQLAlchemyError:
                # The database is gone (the response is already the 503 saying so); nothing to undo.
                app.logger.warning("Rollback failed", exc_info=True)
                return response
        _write_kept(app, database)
        return response


def _write_kept(app: Flask, database: Database) -> None:
    """Records that must outlive a refused request (``divert.auth.refusal``): their own short
    transaction, after the request's has been rolled back."""
    kept = g.pop(KEPT, [])
    if not kept:
        return
    session = database.session
    try:
        session.add_all(kept)
        session.commit()
    except SQLAlchemyError:
        session.rollback()
        app.logger.exception("Could not write %d audit entries of refused requests", len(kept))

"""The task queue: one Huey instance, configured from settings.

Huey keeps its queue in a SQLite file in ``instance/`` by default, so the embedded installation
runs background work with nothing more than ``flask --app divert worker``; ``JOBS_URL=redis://...``
moves it to Redis when several app servers share one queue. Tests run tasks at once, in the
calling thread (``JOBS_IMMEDIATE``), except those that start a real consumer.

Tasks (divert/background) run inside an app context of their own, so each has its own database
session and commits its own work. This module is plumbing only: it knows nothing of the models.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey
from huey.constants import EmptyData
from sqlalchemy import Connection, Engine, delete, event, insert, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql import column, table

P = ParamSpec("P")
R = TypeVar("R")

# Defaults for the queue built at import time (tasks register on it as their modules load);
# ``init_app`` points it at the app's own settings.
_URL = os.environ.get("JOBS_URL", "")
_INSTANCE = Path(os.environ.get("DIVERT_INSTANCE", Path(__file__).resolve().parents[2] / "instance"))


def make_huey(url: str, filename: Path) -> Huey:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("divert", url=url)
    # utc=True: every eta is UTC; periodic tasks are matched in London time (see background.sweep).
    # A fresh clone has no instance folder yet, and SQLite makes the file but not its folder.
    filename.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("divert", filename=str(filename))


huey: Huey = make_huey(_URL, _INSTANCE / "jobs.sqlite")
_state: dict[str, Flask] = {}


def init_app(app: Flask) -> None:
    """Bind the queue to ``app``: tasks run in its context; the settings choose the queue's file."""
    _state["app"] = app
    huey.immediate = bool(app.config.get("JOBS_IMMEDIATE", False))
    if isinstance(huey, SqliteHuey):
        wanted = str(app.config.get("JOBS_FILE") or _INSTANCE / "jobs.sqlite")
        if huey.storage_kwargs.get("filename") != wanted:
            use_file(wanted)


def use_file(filename: str) -> None:
    """Keep the queue in ``filename`` (a test's own file, or the installation's)."""
    Path(filename).parent.mkdir(parents=True, exist_ok=True)
    huey.storage_kwargs["filename"] = filename
    if not huey.immediate:
        huey.storage = huey.create_storage()


def current_app() -> Flask:
    try:
        return _state["app"]
    except KeyError:
        raise RuntimeError("The task queue is not bound to an app; call jobs.init_app(app).") from None


def in_app_context(func: Callable[P, R]) -> Callable[P, R]:
    """Run a task inside a new app context, so it has a database session of its own."""

    @wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with current_app().app_context():
            return func(*args, **kwargs)

    return run


def task(func: Callable[P, R]) -> Callable[P, Any]:
    """A task on the queue, run in an app context of its own. Calling it queues it (and returns
    Huey's result handle); in immediate mode it runs at once."""
    return cast(Callable[P, Any], huey.task()(in_app_context(func)))


def periodic(due: Callable[[datetime], bool]) -> Callable[[Callable[[], R]], Callable[[], Any]]:
    """A task the worker's scheduler starts each minute ``due`` says yes to."""

    def register(func: Callable[[], R]) -> Callable[[], Any]:
        return cast(Callable[[], Any], huey.periodic_task(due)(in_app_context(func)))

    return register


def queue_after_commit(session: Any, task: Callable[[int], Any], record_id: int) -> None:
    """Queue ``task(record_id)`` once ``session``'s transaction commits, never before: the worker, in
    another process, must never look for a row that is not there yet (and a rolled-back request
    queues nothing)."""

    def enqueue(committed: Any) -> None:
        task(record_id)

    event.listen(session, "after_commit", enqueue, once=True)


# Progress is kept in the queue's own store, not the app's database: an import writes in one
# long transaction, and on SQLite nothing else may write the database until it commits.
def put_progress(job_id: int | str, values: dict[str, Any]) -> None:
    huey.storage.put_data(f"progress:{job_id}", huey.serializer.serialize(values))


def progress(job_id: int | str) -> dict[str, Any]:
    raw = huey.storage.peek_data(f"progress:{job_id}")
    if raw is None or raw is EmptyData:
        return {}
    value = huey.serializer.deserialize(raw)
    return value if isinstance(value, dict) else {}


def clear_progress(job_id: int | str) -> None:
    huey.storage.pop_data(f"progress:{job_id}")


_locks = table("job_locks", column("name"), column("holder"), column("acquired_at"))
# A lock older than this belongs to a process that died holding it: the next run takes it over.
STALE_AFTER = timedelta(hours=6)


@contextmanager
def job_lock(engine: Engine | Connection, name: str) -> Iterator[bool]:
    """Hold the lock ``name`` for the block, across processes and machines; yields False if it is taken.

    The lock is a row in ``job_locks`` whose primary key is the name, inserted and committed on a
    connection of its own: a second inserter, in any process, waits for the first's commit and
    then fails on the key (PostgreSQL) or on SQLite's write lock then the key. Its own commit
    means the work inside the block, which commits separately, is never what holds it.
    """
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:100]
    now = datetime.now(UTC)
    acquired = _acquire(engine, name, holder, now)
    try:
        yield acquired
    finally:
        if acquired:
            with _transaction(engine) as conn:
                conn.execute(delete(_locks).where(_locks.c.name == name, _locks.c.holder == holder))


def _acquire(engine: Engine | Connection, name: str, holder: str, now: datetime) -> bool:
    stamp: Any = now.replace(tzinfo=None) if engine.dialect.name == "sqlite" else now
    stale: Any = now - STALE_AFTER
    if engine.dialect.name == "sqlite":  # naive UTC there, as UTCDateTime stores it
        stale = stale.replace(tzinfo=None)
    try:
        with _transaction(engine) as conn:
            conn.execute(insert(_locks).values(name=name, holder=holder, acquired_at=stamp))
        return True
    except sa_exc.IntegrityError:
        pass
    with _transaction(engine) as conn:
        taken = conn.execute(
            update(_locks)
            .where(_locks.c.name == name, _locks.c.acquired_at < stale)
            .values(holder=holder, acquired_at=stamp)
        )
        return bool(taken.rowcount)


@contextmanager
def _transaction(bind: Engine | Connection) -> Iterator[Connection]:
    """A committed transaction of its own on an engine; a savepoint on a connection already in one
    (the tests' rolled-back connection)."""
    if isinstance(bind, Connection):
        with bind.begin_nested():
            yield bind
    else:
        with bind.begin() as conn:
            yield conn

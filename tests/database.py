"""Test databases: SQLite by default, or a PostgreSQL database of the tests' own.

Set ``TEST_DATABASE_URL`` to a PostgreSQL server URL (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); the tests then create a database
with a unique name on that server, build it with the real migrations, and drop it afterwards.
They never touch a database they did not create.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from divert.app.db import make_engine


def server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@contextmanager
def scratch_database(tmp_dir: Path, label: str = "t") -> Iterator[tuple[str, Engine]]:
    """A new, empty database that is removed afterwards."""
    server = server_url()
    if server is None:
        path = tmp_dir / f"divert-{label}-{secrets.token_hex(4)}.sqlite"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        try:
            yield url, engine
        finally:
            engine.dispose()
        return
    name = f"divert_test_{label}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(server)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        yield url, engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

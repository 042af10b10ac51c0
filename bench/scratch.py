"""A throwaway PostgreSQL database for one benchmark run, built by the real migrations.

Every benchmark needs the same thing: a database nobody else uses, with exactly the schema the app
runs on, gone afterwards. The name is unique per process and call, so runs never collide and a
benchmark can never touch a database it did not create.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from divert.app import migrate
from divert.app.db import make_engine

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def default_server() -> str:
    """The server benchmarks create their databases on (``BENCH_DATABASE_URL``)."""
    return os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER)


@contextmanager
def scratch_database(server_url: str | None = None, keep: bool = False) -> Iterator[str]:
    """Create ``divert_bench_<pid>_<hex>``, migrate it to head, yield its URL, then drop it.

    With ``keep`` the database is left for inspection (EXPLAIN, psql) and its name printed; dropping
    it is then the caller's job.
    """
    server = server_url or default_server()
    name = f"divert_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = make_engine(server)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # The name is built above from digits and hex, never from input.
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        try:
            engine = make_engine(url)
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            yield url
        finally:
            if keep:
                print(f'kept database {name} (drop it yourself: DROP DATABASE "{name}")')
            else:
                with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    # FORCE ends connections a failed run left open, so nothing is left behind.
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()

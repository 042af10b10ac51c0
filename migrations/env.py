"""Alembic environment: runs against the connection divert hands it (see divert/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from divert.models import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through `flask --app divert db ...` so they use the app's database.")
run(connection)

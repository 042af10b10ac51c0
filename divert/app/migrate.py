"""Running Alembic from inside divert, on whatever engine the app (or a test) uses."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from divert.app.db import refresh_statistics

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _run(engine: Engine, action: str, *args: object, **kwargs: object) -> None:
    cfg = alembic_config(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # Batch mode rebuilds a table by copy-and-drop, which foreign keys would forbid while
            # other tables point at it. The pragma only works outside a transaction, so it is set
            # on the driver connection before SQLAlchemy begins one; integrity is checked after.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                getattr(command, action)(cfg, *args, **kwargs)
                if sqlite:
                    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if problems:
                        raise RuntimeError(f"migration left broken foreign keys: {problems[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
        if action == "upgrade":
            # SQLite asks for fresh statistics after a schema change (a new index has none); on
            # an empty database this only creates sqlite_stat1, to be filled as data arrives.
            refresh_statistics(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, "downgrade", revision)


def revision(engine: Engine, message: str) -> None:
    _run(engine, "revision", message=message, autogenerate=True)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()

"""The migrations and the models agree, and the migrations run up, down and up again."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from divert import migrate
from divert.models import Base

from .database import scratch_database


def test_models_match_migrations(database: tuple[str, Engine]) -> None:
    _, engine = database
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations disagree; run `flask --app divert db revision -m ...`"


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    with scratch_database(tmp_path, "cycle") as (_, engine):
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
        tables = set(inspect(engine).get_table_names())
        assert {
            "people",
            "encounters",
            "referrals",
            "referral_events",
            "audit_log",
            "change_history",
        } <= tables

        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

        migrate.upgrade(engine)
        assert set(inspect(engine).get_table_names()) == tables

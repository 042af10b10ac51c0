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


def test_upgrading_a_database_that_holds_data(tmp_path: Path) -> None:
    """Batch migrations on SQLite rebuild tables; rows and the foreign keys between them survive."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    with scratch_database(tmp_path, "data") as (_, engine):
        migrate.upgrade(engine, "0001")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO ethnicity_codes (code, scheme, label, ethnic_group, sort_order) VALUES ('W1', 'self_defined', 'White British', 'White', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO offence_categories (slug, label, active, sort_order) VALUES ('theft', 'Theft', true, 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO organisations (id, code, name, kind, created_at, updated_at) VALUES (1, 'f', 'Force', 'police_force', :t, :t)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO people (id, given_name, family_name, given_name_key, family_name_key, gender, "
                    "self_defined_ethnicity, created_at, updated_at, version_id) "
                    "VALUES (1, 'A', 'B', 'a', 'b', 'male', 'W1', :t, :t, 1)"
                ),
                {"t": now},
            )
            conn.execute(
                text(
                    "INSERT INTO encounters (id, person_id, occurred_at, location, setting, organisation_id, "
                    "offence_category, supply_suspected, admission, hate_crime, domestic_abuse, notes, "
                    "created_at, updated_at, version_id) "
                    "VALUES (1, 1, :t, '', 'street', 1, 'theft', false, 'admitted', false, false, '', :t, :t, 1)"
                ),
                {"t": now},
            )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT person_id, on_court_order, co_accused FROM encounters")).one()
        assert tuple(row) == (1, False, False)
        migrate.downgrade(engine, "0001")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM encounters")).scalar() == 1

"""The migrations and the models agree, and the migrations run up, down and up again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from divert.app import migrate
from divert.models import Base

from .database import scratch_database


def test_models_match_migrations(database: tuple[str, Engine]) -> None:
    _, engine = database
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "models and migrations disagree; run `flask --app divert db revision -m ...`"


def test_name_search_indexes_compare_byte_by_byte(database: tuple[str, Engine]) -> None:
    """Alembic compares no operator classes, so the test above cannot see these go missing: without
    text_pattern_ops PostgreSQL uses no index for a name prefix under a C.UTF-8 collation."""
    _, engine = database
    if engine.dialect.name != "postgresql":
        pytest.skip("operator classes are PostgreSQL's")
    with engine.connect() as connection:
        definitions = dict(
            connection.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'people'")
            ).all()
        )
    for name in ("ix_people_family_name_pattern", "ix_people_given_name_pattern"):
        assert definitions[name].count("text_pattern_ops") == 2, definitions[name]


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

    from sqlalchemy import column, table, text

    with scratch_database(tmp_path, "data") as (_, engine):
        migrate.upgrade(engine, "0001")
        now = datetime(2026, 1, 1, tzinfo=UTC)
        stamps = {"created_at": now, "updated_at": now}
        rows = [
            (
                "ethnicity_codes",
                {
                    "code": "W1",
                    "scheme": "self_defined",
                    "label": "White",
                    "ethnic_group": "White",
                    "sort_order": 1,
                },
            ),
            ("offence_categories", {"slug": "theft", "label": "Theft", "active": True, "sort_order": 1}),
            ("organisations", {"id": 1, "code": "f", "name": "Force", "kind": "police_force", **stamps}),
            (
                "people",
                {
                    "id": 1,
                    "given_name": "A",
                    "family_name": "B",
                    "given_name_key": "a",
                    "family_name_key": "b",
                    "gender": "male",
                    "self_defined_ethnicity": "W1",
                    "version_id": 1,
                    **stamps,
                },
            ),
            (
                "encounters",
                {
                    "id": 1,
                    "person_id": 1,
                    "occurred_at": now,
                    "location": "",
                    "setting": "street",
                    "organisation_id": 1,
                    "offence_category": "theft",
                    "supply_suspected": False,
                    "admission": "admitted",
                    "hate_crime": False,
                    "domestic_abuse": False,
                    "notes": "",
                    "version_id": 1,
                    **stamps,
                },
            ),
        ]
        with engine.begin() as conn:
            for name, values in rows:
                conn.execute(table(name, *(column(key) for key in values)).insert().values(**values))
        migrate.upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT person_id, on_court_order, co_accused FROM encounters")).one()
        assert tuple(row) == (1, False, False)
        migrate.downgrade(engine, "0001")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM encounters")).scalar() == 1

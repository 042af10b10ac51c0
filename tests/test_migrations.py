"""The migrations and the models agree, and the migrations run up, down and up again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    for name in (
        "ix_people_family_name_pattern",
        "ix_people_given_name_pattern",
        "ix_people_holder_given_name",
        "ix_people_holder_pnc",
    ):
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


def test_person_holders_are_backfilled_split_and_pncs_made_unique(tmp_path: Path) -> None:
    """0012: each record is held by the force of its earliest encounter; a record two forces
    shared is split into one each; one force's two live records of one PNC ID are merged."""
    from datetime import UTC, datetime

    from sqlalchemy import column, table

    def stamps(day: int) -> dict[str, Any]:
        at = datetime(2026, 1, day, tzinfo=UTC)
        return {"created_at": at, "updated_at": at}

    def person(id_: int, pnc: str | None = None, merged_into: int | None = None) -> dict[str, Any]:
        return {
            "id": id_,
            "given_name": f"Given{id_}",
            "family_name": "Family",
            "given_name_key": f"given{id_}",
            "family_name_key": "family",
            "pnc_id": pnc,
            "gender": "male",
            "self_defined_ethnicity": "W1",
            "merged_into_id": merged_into,
            "version_id": 3,
            **stamps(1),
        }

    def encounter(id_: int, person_id: int, organisation_id: int, day: int) -> dict[str, Any]:
        return {
            "id": id_,
            "person_id": person_id,
            "occurred_at": datetime(2026, 1, day, tzinfo=UTC),
            "location": "",
            "setting": "street",
            "organisation_id": organisation_id,
            "offence_category": "theft",
            "supply_suspected": False,
            "admission": "admitted",
            "hate_crime": False,
            "domestic_abuse": False,
            "notes": "",
            "version_id": 1,
            **stamps(day),
        }

    with scratch_database(tmp_path, "holder") as (_, engine):
        migrate.upgrade(engine, "0010")
        rows: list[tuple[str, dict[str, Any]]] = [
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
            ("organisations", {"id": 1, "code": "a", "name": "A", "kind": "police_force", **stamps(1)}),
            ("organisations", {"id": 2, "code": "b", "name": "B", "kind": "police_force", **stamps(1)}),
            ("people", person(1, "12/345678A")),  # met by B first, then by A
            ("people", person(2, "99/999999Z")),  # A's, twice over under one PNC ID
            ("people", person(3, "99/999999Z")),
            ("people", person(4, merged_into=1)),  # merged away, no encounters of its own
            ("encounters", encounter(1, 1, 2, 2)),
            ("encounters", encounter(2, 1, 1, 3)),
            ("encounters", encounter(3, 1, 1, 4)),
            ("encounters", encounter(4, 2, 1, 5)),
            ("encounters", encounter(5, 3, 1, 6)),
        ]
        with engine.begin() as conn:
            for name, values in rows:
                conn.execute(table(name, *(column(key) for key in values)).insert().values(**values))
            if engine.dialect.name == "postgresql":  # the rows above were given their ids
                conn.execute(text("SELECT setval(pg_get_serial_sequence('people', 'id'), 4)"))
        migrate.upgrade(engine)
        with engine.connect() as conn:
            people = {
                r.id: r
                for r in conn.execute(
                    text(
                        "SELECT id, organisation_id, given_name, pnc_id, merged_into_id, version_id "
                        "FROM people"
                    )
                )
            }
            holders = dict(conn.execute(text("SELECT id, person_id FROM encounters")).tuples().all())
            merges = conn.execute(text("SELECT survivor_id, merged_id, reason FROM person_merges")).all()
        # B met person 1 first: B holds it; A gets a copy of the details holding A's encounters.
        assert people[1].organisation_id == 2 and holders[1] == 1
        copy = next(p for p in people.values() if p.id > 4)
        assert (copy.organisation_id, copy.given_name, copy.pnc_id, copy.version_id) == (
            1,
            "Given1",
            "12/345678A",
            1,
        )
        assert holders[2] == holders[3] == copy.id
        assert people[4].organisation_id == 2  # its survivor's holder
        # A's two records of one PNC ID: the later merged into the earlier, with a record of it.
        assert people[3].merged_into_id == 2 and holders[5] == 2
        assert [(m.survivor_id, m.merged_id) for m in merges] == [(2, 3)]
        assert "99/999999Z" in merges[0].reason
        migrate.downgrade(engine, "0010")
        migrate.upgrade(engine)

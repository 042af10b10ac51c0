"""SQLite, the embedded default: statistics kept current, and plans that do not hang on them.

The statistics are the ones a 100,000-encounter database had after a full ANALYZE (the benchmark's,
docs/benchmarks.md), written into sqlite_stat1 of an empty database: SQLite plans from them as
from real ones, so these tests see the plans a database of that size gets, in milliseconds. Each
plan is also checked with no statistics at all, as on a database that never ran ANALYZE.

These run on SQLite whatever TEST_DATABASE_URL says: they are about SQLite's planner.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from divert.app import db as db_module
from divert.app import migrate
from divert.app.db import ANALYSIS_LIMIT, make_engine, refresh_statistics
from divert.pathways.people import search_people
from divert.queries.dashboards import officer_home

# (table, index, stat) as ANALYZE left them at 100,000 encounters: every generated encounter has
# no officer (imports have none either), so "officer_id = ?" looks like it matches every row.
SKEWED = [
    ("encounters", "ix_encounters_person_id", "100000 2"),
    ("encounters", "ix_encounters_officer_recent", "100000 100000 1"),
    ("encounters", "ix_encounters_occurred_at", "100000 1"),
    ("encounters", "ix_encounters_area", "100000 2703"),
    ("encounters", "ix_encounters_organisation_id", "100000 20000"),
    ("encounters", "ix_encounters_offence_category", "100000 8334"),
    ("people", "ix_people_pnc_id", "76658 2"),
    ("people", "ix_people_holder_pnc", "76658 15332 1 1 1"),
    ("people", "ix_people_holder_given_name", "76658 15332 20 2"),
    ("people", "ix_people_organisation_id", "76658 15332"),
    ("people", "ix_people_merged_into_id", "76658 76658"),
    ("people", "ix_people_identity", "76658 15332 18 2 1"),
    ("people", "ix_people_given_name_pattern", "76658 120 3 1"),
    ("people", "ix_people_date_of_birth", "76658 8"),
    ("people", "ix_people_postcode_district", "76658 1500"),
    ("people", "ix_people_family_name_key", "76658 90"),
    ("people", "uq_people_organisation_pnc", "51552 10310 1"),
    ("people", "ix_people_family_name_pattern", "76658 90 3 1"),
    ("referrals", "ix_referrals_person_id", "49516 2"),
    ("referrals", "ix_referrals_assigned_user_id", "49516 24758"),
    ("referral_parties", "ix_referral_parties_referral_id", "83108 2"),
    ("referral_parties", "ix_referral_parties_organisation_id", "83108 6926"),
    ("referral_parties", "sqlite_autoindex_referral_parties_1", "83108 2 1"),
]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.sqlite'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def _with_statistics(engine: Engine, rows: list[tuple[str, str, str]]) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM sqlite_stat1"))
        for table, index, stat in rows:
            connection.execute(
                text("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (:t, :i, :s)"),
                {"t": table, "i": index, "s": stat},
            )
    # The planner reads sqlite_stat1 when a connection opens.
    engine.dispose()


def _plans(engine: Engine, run: Callable[[Session], Any]) -> list[str]:
    """The query plan of every SELECT ``run`` sends, one string per statement."""
    sent: list[tuple[str, Any]] = []

    def seen(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        with Session(engine) as session:
            run(session)
            connection = session.connection()
            return [
                "\n".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {s}", p))
                for s, p in list(sent)
            ]
    finally:
        event.remove(engine, "before_cursor_execute", seen)


# A user as the queries read one: only these attributes are used.
OFFICER: Any = SimpleNamespace(id=7, organisation_id=1)


@pytest.mark.parametrize("statistics", [SKEWED, []], ids=["skewed statistics", "no statistics"])
def test_officers_home_reads_only_their_encounters(migrated: Engine, statistics: Any) -> None:
    """Not a walk of every encounter newest first until 20 of theirs turn up (163 ms at 100,000)."""
    _with_statistics(migrated, statistics)
    [plan] = _plans(migrated, lambda s: officer_home(s, OFFICER))
    assert "SEARCH encounters USING INDEX ix_encounters_officer_recent (officer_id=?)" in plan
    assert "TEMP B-TREE" not in plan  # read newest first from the index, not sorted


@pytest.mark.parametrize("statistics", [SKEWED, []], ids=["skewed statistics", "no statistics"])
@pytest.mark.parametrize("query", ["smi", "AB12/345678C"])
def test_person_search_reads_index_ranges(migrated: Engine, statistics: Any, query: str) -> None:
    """Every part of the search is an index range or probe: no part reads all the people."""
    _with_statistics(migrated, statistics)
    [plan] = _plans(migrated, lambda s: search_people(s, OFFICER, query))
    assert "SCAN people" not in plan, plan
    # Not every record the force holds, filtered: the organisation with a range or a PNC ID.
    people = [line for line in plan.splitlines() if line.startswith("SEARCH people USING")]
    assert not [line for line in people if line.endswith("(organisation_id=?)")], plan
    assert "family_name_key>? AND family_name_key<?" in plan, plan
    assert "given_name_key>? AND given_name_key<?" in plan, plan


def test_migrations_leave_statistics(migrated: Engine) -> None:
    """After a migration SQLite asks for fresh statistics; an empty database gets the table."""
    with migrated.connect() as connection:
        assert connection.execute(
            text("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'")
        ).scalar()


def _indexed_table(engine: Engine, rows: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)"))
        connection.execute(text("CREATE INDEX t_a ON t (a)"))
        connection.execute(
            text("INSERT INTO t (a, b) VALUES (:a, :b)"), [{"a": i % 50, "b": i} for i in range(rows)]
        )


def _stat1(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        try:
            return raw.execute("SELECT tbl, idx FROM sqlite_stat1 ORDER BY idx").fetchall()
        except sqlite3.OperationalError:  # no such table: nothing ever analyzed
            return []


def test_closing_a_connection_optimizes(tmp_path: Path) -> None:
    """PRAGMA optimize before a connection closes analyzes what its queries needed figures for."""
    path = tmp_path / "close.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    _indexed_table(engine, 2000)
    with engine.connect() as connection:
        connection.execute(text("SELECT b FROM t WHERE a = 3 AND b > 10")).all()
    assert _stat1(path) == []
    engine.dispose()  # closes the pooled connection
    assert ("t", "t_a") in _stat1(path)


def test_a_long_lived_connection_optimizes_now_and_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pooled connection handed back long enough after its last PRAGMA optimize runs another."""
    path = tmp_path / "checkin.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        _indexed_table(engine, 2000)
        with engine.connect() as connection:
            connection.execute(text("SELECT b FROM t WHERE a = 3 AND b > 10")).all()
        assert _stat1(path) == []  # handed back within the hour: nothing yet
        monkeypatch.setattr(db_module, "OPTIMIZE_EVERY_SECONDS", 0.0)
        with engine.connect() as connection:
            connection.execute(text("SELECT b FROM t WHERE a = 4 AND b > 10")).all()
        assert ("t", "t_a") in _stat1(path)  # still pooled, not closed
    finally:
        engine.dispose()


def test_bulk_loads_refresh_statistics(tmp_path: Path) -> None:
    path = tmp_path / "bulk.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    try:
        _indexed_table(engine, 5000)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA analysis_limit").scalar() == ANALYSIS_LIMIT
            refresh_statistics(connection)  # inside the transaction the PRAGMA read began
            connection.commit()
        assert ("t", "t_a") in _stat1(path)
    finally:
        engine.dispose()

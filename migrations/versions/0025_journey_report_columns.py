"""Journey rows carry what a report groups by, and one programme's rows are read from one index.

The person's self-defined and officer-defined ethnicity, gender and age at the encounter are copied
onto every journey row (monitoring/journeys.py ``person_columns``, kept current from then on), and
filled here from people. On PostgreSQL the (programme, day) index of ``monitoring_journeys``
becomes a covering index holding everything a report reads, so one programme's report is an
index-only scan of that programme's entries instead of thousands of scattered heap pages; and the
reason tables read cases and their steps from narrow indexes (docs/benchmarks.md,
"Reports near the flat-table limit"). Free-text columns are never INCLUDEd: a btree entry is
limited to about 2.7 kB, and typed words have no such limit (they are read from the row).

Revision ID: 0025
Revises: 0017
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLES = ("monitoring_journeys", "monitoring_encounters")
# What a report reads from a programme's rows besides the key (models/journey.py REPORT_COLUMNS).
INCLUDED = (
    "encounter_id",
    "organisation_id",
    "area",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "gender",
    "age",
    "eligible",
    "offered",
    "accepted",
    "engaged",
    "completed",
    "escalated",
    "formal_outcome",
    "decision_route",
    "diverted_again",
    "decision_formal",
)


def _ymd(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return (
            f"(extract(year FROM {column})::int * 10000 + extract(month FROM {column})::int * 100"
            f" + extract(day FROM {column})::int)"
        )
    return f"CAST(strftime('%Y%m%d', {column}) AS INTEGER)"


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("self_defined_ethnicity", sa.String(length=8), nullable=True))
            batch_op.add_column(sa.Column("officer_defined_ethnicity", sa.String(length=8), nullable=True))
            batch_op.add_column(sa.Column("gender", sa.String(length=12), nullable=True))
            batch_op.add_column(sa.Column("age", sa.SmallInteger(), nullable=True))
    dialect = op.get_bind().dialect.name
    # The same values as journeys.person_columns: whole years by YYYYMMDD integers, shifted so the
    # division floors for a date of birth after the encounter; the age floor once anonymised.
    dob = _ymd(dialect, "people.date_of_birth")
    for table in TABLES:
        age = f"coalesce({table}.age_floor, ({table}.encounter_day - {dob} + 1000000) / 10000 - 100)"
        op.execute(
            f"UPDATE {table} SET self_defined_ethnicity = people.self_defined_ethnicity, "  # noqa: S608
            f"officer_defined_ethnicity = people.officer_defined_ethnicity, gender = people.gender, "
            f"age = {age} FROM people WHERE people.id = {table}.person_id"
        )
    with op.batch_alter_table("monitoring_journeys", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_journeys_programme_day")
        batch_op.create_index(
            "ix_monitoring_journeys_programme_day",
            ["programme_id", "encounter_day"],
            unique=False,
            postgresql_include=list(INCLUDED),
        )
    _reason_indexes()


# The reason tables' reads (monitoring/breakdowns.py), as index-only scans on PostgreSQL.
OPEN_EXIT = "exit_reason IS NOT NULL AND completed_at IS NULL"
REASON_INDEXES = (
    ("ix_referrals_state_report", "referrals", ["state", "programme_id"], ["id", "encounter_id"], None),
    ("ix_referrals_exits", "referrals", ["programme_id"], ["encounter_id", "exit_reason"], OPEN_EXIT),
    (
        "ix_referral_events_latest",
        "referral_events",
        ["referral_id", "to_state", "id"],
        ["reason_code"],
        None,
    ),
)


def _reason_indexes() -> None:
    for name, table, columns, included, where in REASON_INDEXES:
        condition = sa.text(where) if where else None
        op.create_index(
            name,
            table,
            columns,
            unique=False,
            postgresql_include=included,
            postgresql_where=condition,
            sqlite_where=condition,
        )


def downgrade() -> None:
    for name, table, _, _, _ in REASON_INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("monitoring_journeys", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_journeys_programme_day")
        batch_op.create_index(
            "ix_monitoring_journeys_programme_day", ["programme_id", "encounter_day"], unique=False
        )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("age")
            batch_op.drop_column("gender")
            batch_op.drop_column("officer_defined_ethnicity")
            batch_op.drop_column("self_defined_ethnicity")

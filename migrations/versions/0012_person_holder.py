"""Every person record is held by one organisation; one live record per organisation and PNC ID.

Until now a person record belonged to nobody: a second force recording someone with the same
name and date of birth (or PNC ID) was attached to the first force's record, and so saw its
encounters. From here on each organisation holds its own records.

The upgrade, on the data already stored:

1. The holder is the organisation of the record's earliest encounter. A merged record with no
   encounters left takes its survivor's holder; a record with neither takes the organisation of
   whoever created it (the audit log), failing that the first organisation.
2. A record with encounters from several organisations is split: the holder keeps it, and each
   other organisation gets a copy of the person's details holding its own encounters, the cases
   that came from them and their monitoring rows. The change history and audit trail of the
   record stay with the original (they were written by whoever held it then).
3. Live records of one organisation sharing a PNC ID (parallel recordings could make them) are
   merged into the oldest, as a supervisor's merge does (a ``person_merges`` row saying so, with
   what moved), so that the unique index can be built.

The downgrade drops the column and the indexes; it does not join split records again.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:45:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

LIVE_PNC = "pnc_id IS NOT NULL AND merged_into_id IS NULL"
MONITORING = ("monitoring_journeys", "monitoring_encounters")


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organisation_id", sa.Integer(), nullable=True))
    connection = op.get_bind()
    _backfill(connection)
    _split(connection)
    _merge_shared_pncs(connection)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.alter_column("organisation_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_people_organisation_id_organisations"),
            "organisations",
            ["organisation_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_people_organisation_id"), ["organisation_id"], unique=False)
        batch_op.drop_index("ix_people_identity")
        batch_op.create_index(
            "ix_people_identity",
            ["organisation_id", "family_name_key", "given_name_key", "date_of_birth"],
            unique=False,
        )
        batch_op.create_index(
            "uq_people_organisation_pnc",
            ["organisation_id", "pnc_id"],
            unique=True,
            sqlite_where=sa.text(LIVE_PNC),
            postgresql_where=sa.text(LIVE_PNC),
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("uq_people_organisation_pnc")
        batch_op.drop_index("ix_people_identity")
        batch_op.create_index(
            "ix_people_identity", ["family_name_key", "given_name_key", "date_of_birth"], unique=False
        )
        batch_op.drop_index(batch_op.f("ix_people_organisation_id"))
        batch_op.drop_constraint(batch_op.f("fk_people_organisation_id_organisations"), type_="foreignkey")
        batch_op.drop_column("organisation_id")


def _backfill(connection: Any) -> None:
    connection.execute(
        sa.text(
            "UPDATE people SET organisation_id = (SELECT e.organisation_id FROM encounters e "
            "WHERE e.person_id = people.id ORDER BY e.occurred_at, e.id LIMIT 1)"
        )
    )
    # Merges can chain, so a survivor's holder is followed until nothing changes.
    while connection.execute(
        sa.text(
            "UPDATE people SET organisation_id = (SELECT s.organisation_id FROM people s "
            "WHERE s.id = people.merged_into_id) WHERE organisation_id IS NULL AND merged_into_id IS NOT NULL "
            "AND EXISTS (SELECT 1 FROM people s WHERE s.id = people.merged_into_id "
            "AND s.organisation_id IS NOT NULL)"
        )
    ).rowcount:
        pass
    connection.execute(
        sa.text(
            "UPDATE people SET organisation_id = (SELECT u.organisation_id FROM audit_log a "
            "JOIN users u ON u.id = a.user_id WHERE a.object_type = 'person' AND a.action = 'create' "
            "AND a.object_id = CAST(people.id AS VARCHAR(40)) ORDER BY a.id LIMIT 1) "
            "WHERE organisation_id IS NULL"
        )
    )
    connection.execute(
        sa.text(
            "UPDATE people SET organisation_id = (SELECT MIN(id) FROM organisations) WHERE organisation_id IS NULL"
        )
    )


def _split(connection: Any) -> None:
    shared = connection.execute(
        sa.text(
            "SELECT e.person_id, e.organisation_id FROM encounters e JOIN people p ON p.id = e.person_id "
            "WHERE e.organisation_id <> p.organisation_id GROUP BY e.person_id, e.organisation_id "
            "ORDER BY e.person_id, e.organisation_id"
        )
    ).all()
    if not shared:
        return
    skip = {"id", "organisation_id", "merged_into_id", "version_id"}
    columns = [c["name"] for c in sa.inspect(connection).get_columns("people") if c["name"] not in skip]
    listed = ", ".join(columns)
    for person_id, organisation_id in shared:
        copy = connection.execute(
            sa.text(
                f"INSERT INTO people (organisation_id, version_id, {listed}) "  # noqa: S608 - column names from the schema
                f"SELECT :organisation, 1, {listed} FROM people WHERE id = :person RETURNING id"
            ),
            {"organisation": organisation_id, "person": person_id},
        ).scalar_one()
        connection.execute(
            sa.text(
                "UPDATE encounters SET person_id = :copy WHERE person_id = :person AND organisation_id = :organisation"
            ),
            {"copy": copy, "person": person_id, "organisation": organisation_id},
        )
        _follow_encounters(connection, copy)


def _follow_encounters(connection: Any, person_id: int) -> None:
    """The cases and monitoring rows of the encounters now on ``person_id`` go with them."""
    for table in ("referrals", *MONITORING):
        connection.execute(
            sa.text(
                f"UPDATE {table} SET person_id = :person "  # noqa: S608 - table names are constants
                "WHERE encounter_id IN (SELECT id FROM encounters WHERE person_id = :person)"
            ),
            {"person": person_id},
        )


def _merge_shared_pncs(connection: Any) -> None:
    groups = connection.execute(
        sa.text(
            f"SELECT organisation_id, pnc_id, MIN(id) FROM people WHERE {LIVE_PNC} "  # noqa: S608 - a constant
            "GROUP BY organisation_id, pnc_id HAVING COUNT(*) > 1"
        )
    ).all()
    for organisation_id, pnc_id, survivor in groups:
        duplicates = connection.execute(
            sa.text(
                f"SELECT id FROM people WHERE {LIVE_PNC} AND organisation_id = :organisation "  # noqa: S608
                "AND pnc_id = :pnc AND id <> :survivor ORDER BY id"
            ),
            {"organisation": organisation_id, "pnc": pnc_id, "survivor": survivor},
        ).scalars()
        for duplicate in list(duplicates):
            ids = {"person": duplicate}
            encounters = connection.execute(
                sa.text("SELECT id FROM encounters WHERE person_id = :person ORDER BY id"), ids
            ).scalars()
            referrals = connection.execute(
                sa.text("SELECT id FROM referrals WHERE person_id = :person ORDER BY id"), ids
            ).scalars()
            moved = {"encounters": list(encounters), "referrals": list(referrals), "filled": {}}
            connection.execute(
                sa.text("UPDATE encounters SET person_id = :survivor WHERE person_id = :person"),
                {"survivor": survivor, "person": duplicate},
            )
            _follow_encounters(connection, survivor)
            connection.execute(
                sa.text("UPDATE people SET merged_into_id = :survivor WHERE id = :person"),
                {"survivor": survivor, "person": duplicate},
            )
            connection.execute(
                sa.text(
                    "INSERT INTO person_merges (survivor_id, merged_id, reason, moved, merged_at, undo_reason) "
                    "VALUES (:survivor, :person, :reason, :moved, CURRENT_TIMESTAMP, '')"
                ).bindparams(sa.bindparam("moved", type_=sa.JSON)),
                {
                    "survivor": survivor,
                    "person": duplicate,
                    "reason": f"Same PNC ID ({pnc_id}) held twice by one organisation; merged by migration 0011",
                    "moved": moved,
                },
            )

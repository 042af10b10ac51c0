"""Monitoring journeys: each encounter's decision points, kept for fast reports, and filled from existing rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 14:44:43.048607
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_encounters",
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("encounter_day", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.SmallInteger(), nullable=False),
        sa.Column("offered", sa.SmallInteger(), nullable=False),
        sa.Column("accepted", sa.SmallInteger(), nullable=False),
        sa.Column("engaged", sa.SmallInteger(), nullable=False),
        sa.Column("completed", sa.SmallInteger(), nullable=False),
        sa.Column("escalated", sa.SmallInteger(), nullable=False),
        sa.Column("formal_outcome", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_monitoring_encounters_encounter_id_encounters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_monitoring_encounters_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_monitoring_encounters_person_id_people")
        ),
        sa.PrimaryKeyConstraint("encounter_id", name=op.f("pk_monitoring_encounters")),
    )
    with op.batch_alter_table("monitoring_encounters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitoring_encounters_encounter_day"), ["encounter_day"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitoring_encounters_person_id"), ["person_id"], unique=False)

    op.create_table(
        "monitoring_journeys",
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("encounter_day", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.SmallInteger(), nullable=False),
        sa.Column("offered", sa.SmallInteger(), nullable=False),
        sa.Column("accepted", sa.SmallInteger(), nullable=False),
        sa.Column("engaged", sa.SmallInteger(), nullable=False),
        sa.Column("completed", sa.SmallInteger(), nullable=False),
        sa.Column("escalated", sa.SmallInteger(), nullable=False),
        sa.Column("formal_outcome", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_monitoring_journeys_encounter_id_encounters"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_monitoring_journeys_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_monitoring_journeys_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_monitoring_journeys_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("encounter_id", "programme_id", name=op.f("pk_monitoring_journeys")),
    )
    with op.batch_alter_table("monitoring_journeys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_journeys_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "ix_monitoring_journeys_programme_day", ["programme_id", "encounter_day"], unique=False
        )

    _backfill()


# Written out rather than imported from divert.monitoring.journeys, so that this revision keeps doing
# what it did when later code changes. The same rules: the effective (not overridden) decision per
# programme, a point only when its base point was reached, a formal outcome by outcome code 1-3.
_PROGRAMME_ROWS = """
INSERT INTO monitoring_journeys (encounter_id, programme_id, person_id, encounter_day, area,
    organisation_id, eligible, offered, accepted, engaged, completed, escalated, formal_outcome)
SELECT d.encounter_id, pv.programme_id, e.person_id, {day}, e.area, e.organisation_id,
    MAX(CASE WHEN d.eligible THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.engaged_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.engaged_at IS NOT NULL AND r.completed_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN d.eligible AND r.offered_at IS NOT NULL AND r.accepted_at IS NOT NULL
        AND r.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
    MAX(CASE WHEN r.outcome_code IN (1, 2, 3) THEN 1 ELSE 0 END)
FROM decisions d
JOIN programme_versions pv ON pv.id = d.programme_version_id
JOIN encounters e ON e.id = d.encounter_id
LEFT JOIN referrals r ON r.encounter_id = d.encounter_id AND r.programme_id = pv.programme_id
WHERE NOT EXISTS (SELECT 1 FROM decisions later WHERE later.overrides_id = d.id)
GROUP BY d.encounter_id, pv.programme_id, e.person_id, e.occurred_at, e.area, e.organisation_id
"""

_ENCOUNTER_ROWS = """
INSERT INTO monitoring_encounters (encounter_id, person_id, encounter_day, area, organisation_id,
    eligible, offered, accepted, engaged, completed, escalated, formal_outcome)
SELECT encounter_id, person_id, encounter_day, area, organisation_id, MAX(eligible), MAX(offered),
    MAX(accepted), MAX(engaged), MAX(completed), MAX(escalated), MAX(formal_outcome)
FROM monitoring_journeys
GROUP BY encounter_id, person_id, encounter_day, area, organisation_id
"""


def _backfill() -> None:
    if op.get_bind().dialect.name == "postgresql":
        day = "CAST(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYYMMDD') AS INTEGER)"
    else:  # SQLite keeps timestamps as naive UTC text (divert/models/base.py)
        day = "CAST(strftime('%Y%m%d', e.occurred_at) AS INTEGER)"
    op.execute(_PROGRAMME_ROWS.format(day=day))
    op.execute(_ENCOUNTER_ROWS)


def downgrade() -> None:
    with op.batch_alter_table("monitoring_journeys", schema=None) as batch_op:
        batch_op.drop_index("ix_monitoring_journeys_programme_day")
        batch_op.drop_index(batch_op.f("ix_monitoring_journeys_person_id"))

    op.drop_table("monitoring_journeys")
    with op.batch_alter_table("monitoring_encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_monitoring_encounters_person_id"))
        batch_op.drop_index(batch_op.f("ix_monitoring_encounters_encounter_day"))

    op.drop_table("monitoring_encounters")

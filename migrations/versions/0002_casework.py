"""Casework: decisions, contacts and sessions, needs, contracts, flags, person merges, programme operators.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:07:12.126390
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "programme_operators",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_programme_operators_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_programme_operators_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_operators")),
        sa.UniqueConstraint("programme_id", "organisation_id", name="operator"),
    )
    with op.batch_alter_table("programme_operators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_operators_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_programme_operators_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "person_merges",
        sa.Column("survivor_id", sa.Integer(), nullable=False),
        sa.Column("merged_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("merged_by_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by_id", sa.Integer(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_by_id"], ["users.id"], name=op.f("fk_person_merges_merged_by_id_users")
        ),
        sa.ForeignKeyConstraint(["merged_id"], ["people.id"], name=op.f("fk_person_merges_merged_id_people")),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["people.id"], name=op.f("fk_person_merges_survivor_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["users.id"], name=op.f("fk_person_merges_undone_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_merges")),
    )
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_merges_merged_id"), ["merged_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_merges_survivor_id"), ["survivor_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("programme_version_id", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("overrides_id", sa.Integer(), nullable=True),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_decisions_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_decisions_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["overrides_id"], ["decisions.id"], name=op.f("fk_decisions_overrides_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["programme_version_id"],
            ["programme_versions.id"],
            name=op.f("fk_decisions_programme_version_id_programme_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_decisions_programme_version_id"), ["programme_version_id"], unique=False
        )

    op.create_table(
        "case_contacts",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attendance", sa.String(length=12), nullable=False),
        sa.Column("missed_reason", sa.Text(), nullable=False),
        sa.Column("reason_acceptable", sa.Boolean(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "attendance IN ('scheduled', 'attended', 'late', 'missed', 'cancelled')",
            name=op.f("ck_case_contacts_attendance"),
        ),
        sa.CheckConstraint("kind IN ('contact', 'session', 'meeting')", name=op.f("ck_case_contacts_kind")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_case_contacts_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_case_contacts_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_contacts")),
    )
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_contacts_referral_id"), ["referral_id"], unique=False)

    op.create_table(
        "case_flags",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('non_engagement', 'first_contact_overdue', 'contract_expired')",
            name=op.f("ck_case_flags_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["users.id"], name=op.f("fk_case_flags_assigned_to_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_case_flags_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_case_flags_resolved_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_flags")),
        sa.UniqueConstraint("referral_id", "key", name="flag_key"),
    )
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_flags_referral_id"), ["referral_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_flags_resolved_at"), ["resolved_at"], unique=False)

    op.create_table(
        "contracts",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("voluntary_hours", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_contracts_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_contracts_referral_id")),
    )
    op.create_table(
        "needs_assessments",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("assessed_on", sa.Date(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"], ["users.id"], name=op.f("fk_needs_assessments_assessed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_needs_assessments_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs_assessments")),
    )
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_assessments_referral_id"), ["referral_id"], unique=False)

    op.create_table(
        "contract_conditions",
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("pathway", sa.String(length=30), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_reason", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('do_not_reoffend', 'victim', 'pathway', 'voluntary_work')",
            name=op.f("ck_contract_conditions_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_contract_conditions_contract_id_contracts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_conditions")),
    )
    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_conditions_contract_id"), ["contract_id"], unique=False)

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lives_in_area", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("offended_in_area", sa.Boolean(), nullable=True))
        # Existing rows get the defaults the model gives new ones.
        batch_op.add_column(
            sa.Column("on_court_order", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("co_accused", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(
            sa.Column("vulnerabilities", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_people_merged_into_id_people"), "people", ["merged_into_id"], ["id"]
        )

    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("exit_reason", sa.String(length=60), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_referrals_decision_id_decisions"), "decisions", ["decision_id"], ["id"]
        )


def downgrade() -> None:

    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_referrals_decision_id_decisions"), type_="foreignkey")
        batch_op.drop_column("exit_reason")
        batch_op.drop_column("decision_id")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_people_merged_into_id_people"), type_="foreignkey")
        batch_op.drop_column("merged_into_id")

    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_column("vulnerabilities")
        batch_op.drop_column("co_accused")
        batch_op.drop_column("on_court_order")
        batch_op.drop_column("offended_in_area")
        batch_op.drop_column("lives_in_area")

    with op.batch_alter_table("contract_conditions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_conditions_contract_id"))

    op.drop_table("contract_conditions")
    with op.batch_alter_table("needs_assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_assessments_referral_id"))

    op.drop_table("needs_assessments")
    op.drop_table("contracts")
    with op.batch_alter_table("case_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_flags_resolved_at"))
        batch_op.drop_index(batch_op.f("ix_case_flags_referral_id"))

    op.drop_table("case_flags")
    with op.batch_alter_table("case_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_contacts_referral_id"))

    op.drop_table("case_contacts")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_programme_version_id"))
        batch_op.drop_index(batch_op.f("ix_decisions_encounter_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("person_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_merges_survivor_id"))
        batch_op.drop_index(batch_op.f("ix_person_merges_merged_id"))

    op.drop_table("person_merges")
    with op.batch_alter_table("programme_operators", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_operators_programme_id"))
        batch_op.drop_index(batch_op.f("ix_programme_operators_organisation_id"))

    op.drop_table("programme_operators")

"""Initial schema: organisations, users, people, encounters, programmes, referrals, audit, reference data.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 09:59:45.759671
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "ethnicity_codes",
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("ethnic_group", sa.String(length=20), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "scheme IN ('self_defined', 'officer_defined')", name=op.f("ck_ethnicity_codes_scheme")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_ethnicity_codes")),
    )
    op.create_table(
        "offence_categories",
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_offence_categories")),
    )
    op.create_table(
        "organisations",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('police_force', 'yot', 'yju', 'provider', 'pcc')", name=op.f("ck_organisations_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("code", name=op.f("uq_organisations_code")),
    )
    op.create_table(
        "outcome_codes",
        sa.Column("code", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_outcome_codes")),
    )
    op.create_table(
        "programmes",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_table(
        "people",
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("given_name_key", sa.String(length=100), nullable=False),
        sa.Column("family_name_key", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("pnc_id", sa.String(length=20), nullable=True),
        sa.Column("gender", sa.String(length=12), nullable=False),
        sa.Column("self_defined_ethnicity", sa.String(length=8), nullable=False),
        sa.Column("officer_defined_ethnicity", sa.String(length=8), nullable=True),
        sa.Column("postcode_district", sa.String(length=8), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "gender IN ('male', 'female', 'other', 'not_stated')", name=op.f("ck_people_gender")
        ),
        sa.ForeignKeyConstraint(
            ["officer_defined_ethnicity"],
            ["ethnicity_codes.code"],
            name=op.f("fk_people_officer_defined_ethnicity_ethnicity_codes"),
        ),
        sa.ForeignKeyConstraint(
            ["self_defined_ethnicity"],
            ["ethnicity_codes.code"],
            name=op.f("fk_people_self_defined_ethnicity_ethnicity_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_date_of_birth"), ["date_of_birth"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_family_name_key"), ["family_name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_pnc_id"), ["pnc_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_postcode_district"), ["postcode_district"], unique=False)

    op.create_table(
        "programme_versions",
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_programme_versions_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programme_versions")),
        sa.UniqueConstraint("programme_id", "version", name="programme_version"),
    )
    with op.batch_alter_table("programme_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_programme_versions_programme_id"), ["programme_id"], unique=False
        )

    op.create_table(
        "teams",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_teams_organisation_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teams_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("last_signed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('officer', 'yot_caseworker', 'yju_decision_maker', 'navigator', 'coach', 'supervisor', 'analyst', 'admin')",
            name=op.f("ck_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisations.id"], name=op.f("fk_users_organisation_id_organisations")
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_users_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("path", sa.String(length=300), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_log_object", ["object_type", "object_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_user_id"), ["user_id"], unique=False)

    op.create_table(
        "change_history",
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_change_history_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_history")),
    )
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.create_index("ix_change_history_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "encounters",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("area", sa.String(length=8), nullable=True),
        sa.Column("setting", sa.String(length=12), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("offence_category", sa.String(length=60), nullable=False),
        sa.Column("offence_date", sa.Date(), nullable=True),
        sa.Column("drug_class", sa.String(length=1), nullable=True),
        sa.Column("drug_type", sa.String(length=80), nullable=True),
        sa.Column("personal_use", sa.Boolean(), nullable=True),
        sa.Column("supply_suspected", sa.Boolean(), nullable=False),
        sa.Column("admission", sa.String(length=12), nullable=False),
        sa.Column("hate_crime", sa.Boolean(), nullable=False),
        sa.Column("domestic_abuse", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "admission IN ('admitted', 'no_comment', 'denied', 'not_asked')",
            name=op.f("ck_encounters_admission"),
        ),
        sa.CheckConstraint(
            "drug_class IS NULL OR drug_class IN ('A', 'B', 'C')", name=op.f("ck_encounters_drug_class")
        ),
        sa.CheckConstraint(
            "setting IN ('street', 'custody', 'community')", name=op.f("ck_encounters_setting")
        ),
        sa.ForeignKeyConstraint(
            ["offence_category"],
            ["offence_categories.slug"],
            name=op.f("fk_encounters_offence_category_offence_categories"),
        ),
        sa.ForeignKeyConstraint(["officer_id"], ["users.id"], name=op.f("fk_encounters_officer_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_encounters_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_encounters_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_encounters_area"), ["area"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounters_occurred_at"), ["occurred_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_encounters_offence_category"), ["offence_category"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_encounters_officer_id"), ["officer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounters_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_encounters_person_id"), ["person_id"], unique=False)

    op.create_table(
        "referrals",
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("encounter_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.Column("programme_version_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("route", sa.String(length=40), nullable=True),
        sa.Column("assigned_user_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome_code", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"], ["users.id"], name=op.f("fk_referrals_assigned_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_referrals_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["outcome_code"], ["outcome_codes.code"], name=op.f("fk_referrals_outcome_code_outcome_codes")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_referrals_person_id_people")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_referrals_programme_id_programmes")
        ),
        sa.ForeignKeyConstraint(
            ["programme_version_id"],
            ["programme_versions.id"],
            name=op.f("fk_referrals_programme_version_id_programme_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("reference", name=op.f("uq_referrals_reference")),
    )
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referrals_assigned_user_id"), ["assigned_user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_encounter_id"), ["encounter_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_programme_id"), ["programme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_referrals_state"), ["state"], unique=False)

    op.create_table(
        "referral_events",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=40), nullable=True),
        sa.Column("to_state", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_referral_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_events_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_events")),
    )
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_events_referral_id"), ["referral_id"], unique=False)

    op.create_table(
        "referral_parties",
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "role IN ('police', 'receiving', 'yju', 'provider')", name=op.f("ck_referral_parties_role")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referral_parties_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_parties_referral_id_referrals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_parties")),
        sa.UniqueConstraint("referral_id", "organisation_id", name="party"),
    )
    with op.batch_alter_table("referral_parties", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_parties_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_referral_parties_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("referral_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_parties_referral_id"))
        batch_op.drop_index(batch_op.f("ix_referral_parties_organisation_id"))

    op.drop_table("referral_parties")
    with op.batch_alter_table("referral_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_events_referral_id"))

    op.drop_table("referral_events")
    with op.batch_alter_table("referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referrals_state"))
        batch_op.drop_index(batch_op.f("ix_referrals_programme_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_person_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_encounter_id"))
        batch_op.drop_index(batch_op.f("ix_referrals_assigned_user_id"))

    op.drop_table("referrals")
    with op.batch_alter_table("encounters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_encounters_person_id"))
        batch_op.drop_index(batch_op.f("ix_encounters_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_encounters_officer_id"))
        batch_op.drop_index(batch_op.f("ix_encounters_offence_category"))
        batch_op.drop_index(batch_op.f("ix_encounters_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_encounters_area"))

    op.drop_table("encounters")
    with op.batch_alter_table("change_history", schema=None) as batch_op:
        batch_op.drop_index("ix_change_history_object")

    op.drop_table("change_history")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_id"))
        batch_op.drop_index("ix_audit_log_object")
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_organisation_id"))

    op.drop_table("users")
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teams_organisation_id"))

    op.drop_table("teams")
    with op.batch_alter_table("programme_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_programme_versions_programme_id"))

    op.drop_table("programme_versions")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_postcode_district"))
        batch_op.drop_index(batch_op.f("ix_people_pnc_id"))
        batch_op.drop_index(batch_op.f("ix_people_family_name_key"))
        batch_op.drop_index(batch_op.f("ix_people_date_of_birth"))

    op.drop_table("people")
    op.drop_table("programmes")
    op.drop_table("outcome_codes")
    op.drop_table("organisations")
    op.drop_table("offence_categories")
    op.drop_table("ethnicity_codes")

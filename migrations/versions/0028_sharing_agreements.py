"""Information-sharing agreements, consent per referral, and people's records shared with another
force (issue 17).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 16:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("first_organisation_id", sa.Integer(), nullable=False),
        sa.Column("second_organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_second", sa.String(length=100), nullable=False),
        sa.Column("to_first", sa.String(length=100), nullable=False),
        sa.Column("programme_codes", sa.Text(), nullable=False),
        sa.Column("lawful_basis", sa.String(length=20), nullable=False),
        sa.Column("lawful_basis_text", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "first_organisation_id <> second_organisation_id", name=op.f("ck_sharing_agreements_two_parties")
        ),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from", name=op.f("ck_sharing_agreements_dates")
        ),
        sa.ForeignKeyConstraint(
            ["first_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sharing_agreements_first_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["second_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_sharing_agreements_second_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreements")),
    )
    for column in ("first_organisation_id", "second_organisation_id"):
        op.create_index(op.f(f"ix_sharing_agreements_{column}"), "sharing_agreements", [column])
    op.create_table(
        "sharing_agreement_programmes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreements.id"],
            name=op.f("fk_sharing_agreement_programmes_agreement_id_sharing_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["programmes.id"],
            name=op.f("fk_sharing_agreement_programmes_programme_id_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreement_programmes")),
        sa.UniqueConstraint("agreement_id", "programme_id", name="programme"),
    )
    for column in ("agreement_id", "programme_id"):
        op.create_index(
            op.f(f"ix_sharing_agreement_programmes_{column}"), "sharing_agreement_programmes", [column]
        )
    op.create_table(
        "referral_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_recorded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('referral', 'sharing')", name=op.f("ck_referral_consents_kind")),
        sa.CheckConstraint(
            "(kind = 'sharing') = (organisation_id IS NOT NULL)",
            name=op.f("ck_referral_consents_sharing_names_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referrals.id"], name=op.f("fk_referral_consents_referral_id_referrals")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_referral_consents_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_referral_consents_recorded_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_recorded_by_id"],
            ["users.id"],
            name=op.f("fk_referral_consents_withdrawn_recorded_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_consents")),
    )
    for column in ("referral_id", "organisation_id"):
        op.create_index(op.f(f"ix_referral_consents_{column}"), "referral_consents", [column])
    op.create_table(
        "person_shares",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_shares_person_id_people")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_person_shares_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["sharing_agreements.id"],
            name=op.f("fk_person_shares_agreement_id_sharing_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"], ["users.id"], name=op.f("fk_person_shares_shared_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_shares")),
        sa.UniqueConstraint("person_id", "organisation_id", name="person_share"),
    )
    for column in ("person_id", "organisation_id", "agreement_id"):
        op.create_index(op.f(f"ix_person_shares_{column}"), "person_shares", [column])


def downgrade() -> None:
    for table in ("person_shares", "referral_consents", "sharing_agreement_programmes", "sharing_agreements"):
        op.drop_table(table)

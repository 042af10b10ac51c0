"""People: the subjects of encounters and referrals. Sensitive data (DPA 2018 Part 3)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, validates

from divert.models.base import Base, IdMixin, TimestampMixin, VersionedMixin
from divert.rules.codes import GENDERS


def normalise_name(value: str) -> str:
    """Case-, accent- and punctuation-blind form of a name, used to find earlier records."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = [ch for ch in decomposed if ch.isalnum() or ch.isspace()]
    return " ".join("".join(letters).lower().split())


def name_key(given_name: str, family_name: str, date_of_birth: date | None) -> tuple[str, str, date] | None:
    """(given key, family key, date of birth) to find a record by, or None when there is none.

    A name that normalises to nothing ("!!! ???", emoji) says nothing about who someone is: every
    such name would otherwise have the same empty key and match every other. So it matches nothing.
    """
    given, family = normalise_name(given_name), normalise_name(family_name)
    if not given or not family or date_of_birth is None:
        return None
    return given, family, date_of_birth


# One live record per organisation and PNC ID (merged records keep theirs, so a merge can be undone).
LIVE_PNC = "pnc_id IS NOT NULL AND merged_into_id IS NULL"


class Person(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(f"gender IN {GENDERS!r}", name="gender"),
        # Finding "the same name and date of birth" among an organisation's records is one index lookup.
        Index("ix_people_identity", "organisation_id", "family_name_key", "given_name_key", "date_of_birth"),
        # Two parallel recordings of one PNC ID cannot both add a person (pathways/identity.py).
        Index(
            "uq_people_organisation_pnc",
            "organisation_id",
            "pnc_id",
            unique=True,
            sqlite_where=text(LIVE_PNC),
            postgresql_where=text(LIVE_PNC),
        ),
        # Searching by the start of a name (LIKE 'smi%'), in name order (pathways/people.py). Under the
        # database's collation (C.UTF-8) PostgreSQL can use a btree for a prefix only with
        # text_pattern_ops, which also gives the byte order the search sorts by; with the id, the
        # search reads nothing but the index. SQLite ignores the operator classes: plain indexes
        # there, kept so that the models and the migrations agree on both databases.
        Index(
            "ix_people_family_name_pattern",
            "family_name_key",
            "given_name_key",
            "id",
            postgresql_ops={"family_name_key": "text_pattern_ops", "given_name_key": "text_pattern_ops"},
        ),
        Index(
            "ix_people_given_name_pattern",
            "given_name_key",
            "family_name_key",
            "id",
            postgresql_ops={"given_name_key": "text_pattern_ops", "family_name_key": "text_pattern_ops"},
        ),
        # The organisation's own records by the start of a forename, and by PNC ID, in name order:
        # an equality and a range (or two equalities) in one index, so that no planner, with
        # statistics or without (SQLite's guess is 10 rows for any equality), prefers reading every
        # record the organisation holds in name order (ix_people_identity) and filtering them.
        Index(
            "ix_people_holder_given_name",
            "organisation_id",
            "given_name_key",
            "family_name_key",
            postgresql_ops={"given_name_key": "text_pattern_ops", "family_name_key": "text_pattern_ops"},
        ),
        Index(
            "ix_people_holder_pnc",
            "organisation_id",
            "pnc_id",
            "family_name_key",
            "given_name_key",
            postgresql_ops={"family_name_key": "text_pattern_ops", "given_name_key": "text_pattern_ops"},
        ),
    )
    # Field-level history is written for every change to these columns (see models/history.py).
    __history__ = True

    # The organisation that holds this record: it alone finds, matches, merges and edits it. Two
    # forces that meet the same person hold two records; others see it only as party to a case.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # Normalised copies are kept so matching is an indexed lookup rather than a table scan.
    given_name_key: Mapped[str] = mapped_column(String(100))
    family_name_key: Mapped[str] = mapped_column(String(100), index=True)
    date_of_birth: Mapped[date | None] = mapped_column(index=True)
    pnc_id: Mapped[str | None] = mapped_column(String(20), index=True)
    gender: Mapped[str] = mapped_column(String(12), default="not_stated")
    self_defined_ethnicity: Mapped[str] = mapped_column(ForeignKey("ethnicity_codes.code"), default="NS")
    officer_defined_ethnicity: Mapped[str | None] = mapped_column(ForeignKey("ethnicity_codes.code"))
    postcode_district: Mapped[str | None] = mapped_column(String(8), index=True)
    # Set when this record was merged into another; the record is kept so the merge can be undone.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # Retention and restriction (issue 17; pathways/retention.py, pathways/restriction.py).
    # When the record was anonymised: names, date of birth, PNC ID and free text are gone, the
    # age band (``age_band``) and postcode area are what is left.
    anonymised_at: Mapped[datetime | None]
    age_band: Mapped[str | None] = mapped_column(String(10))
    # Processing restricted (DPA 2018 s.47): no new steps on the person's cases until lifted.
    restricted_at: Mapped[datetime | None]
    restricted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    restricted_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    @validates("given_name", "family_name")
    def _keep_keys(self, key: str, value: str) -> str:
        setattr(self, f"{key}_key", normalise_name(value))
        return value.strip()

    @validates("pnc_id")
    def _normalise_pnc(self, key: str, value: str | None) -> str | None:
        return value.strip().upper() or None if value else None

    @validates("postcode_district")
    def _normalise_district(self, key: str, value: str | None) -> str | None:
        return value.strip().upper() or None if value else None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

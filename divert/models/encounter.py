"""Encounters: every time an officer deals with a person, diverted or not.

All encounters are kept, not only diverted ones, because monitoring asks who was *not* offered
diversion as much as who was.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, VersionedMixin
from divert.models.person import Person
from divert.rules.codes import ADMISSIONS, DRUG_CLASSES, SETTINGS


class Encounter(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "encounters"
    __table_args__ = (
        CheckConstraint(f"setting IN {SETTINGS!r}", name="setting"),
        CheckConstraint(f"admission IN {ADMISSIONS!r}", name="admission"),
        CheckConstraint(f"drug_class IS NULL OR drug_class IN {DRUG_CLASSES!r}", name="drug_class"),
        UniqueConstraint("organisation_id", "external_ref", name="external_ref"),
        # An officer's recent encounters (their home page) read newest first from one range, so
        # no planner can prefer walking every encounter in time order until it finds theirs; it
        # also serves any lookup by officer alone.
        Index("ix_encounters_officer_recent", "officer_id", "occurred_at"),
    )
    __history__ = True

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    location: Mapped[str] = mapped_column(String(200), default="")
    # Area for monitoring: the postcode district where it happened (never a full address).
    area: Mapped[str | None] = mapped_column(String(8), index=True)
    setting: Mapped[str] = mapped_column(String(12))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # None for a referral with no offence (a self-referral or a friend's referral to DIVERT): the
    # scheme takes people never arrested, and inventing an offence would corrupt the figures.
    offence_category: Mapped[str | None] = mapped_column(ForeignKey("offence_categories.slug"), index=True)
    # Who brought the person to the programme when no officer did (``codes.REFERRAL_SOURCES``).
    referral_source: Mapped[str | None] = mapped_column(String(20))
    offence_date: Mapped[date | None]
    drug_class: Mapped[str | None] = mapped_column(String(1))
    drug_type: Mapped[str | None] = mapped_column(String(80))
    personal_use: Mapped[bool | None] = mapped_column(Boolean)
    supply_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    admission: Mapped[str] = mapped_column(String(12), default="not_asked")
    hate_crime: Mapped[bool] = mapped_column(Boolean, default=False)
    domestic_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    # Facts some programmes' rules ask about (Checkpoint, Checkpoint Plus); None is "not recorded".
    lives_in_area: Mapped[bool | None] = mapped_column(Boolean)
    offended_in_area: Mapped[bool | None] = mapped_column(Boolean)
    on_court_order: Mapped[bool] = mapped_column(Boolean, default=False)
    co_accused: Mapped[bool] = mapped_column(Boolean, default=False)
    vulnerabilities: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Answers to the questions a programme declared for itself (victim consent, gravity score...), by
    # fact name: the definition, not this table, says what each means, so a new one needs no migration.
    declared_facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    notes: Mapped[str] = mapped_column(Text, default="")
    # A one-off key from the form, so a form submitted twice (a double tap, a retry on a bad
    # signal) records one encounter, not two.
    submission_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The recording system's own reference (bulk imports, partner systems): one encounter per
    # reference per organisation, so importing the same file twice changes nothing.
    external_ref: Mapped[str | None] = mapped_column(String(80))

    # Set when the person's record is anonymised: the lowest age of the band they were in at this
    # encounter (rules/retention.py ``age_floor``), which monitoring reads once the date of birth is gone.
    age_floor: Mapped[int | None] = mapped_column(SmallInteger)

    person: Mapped[Person] = relationship()

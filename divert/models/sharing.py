"""Information-sharing agreements, a participant's consent per referral, and a person's record
shared with another force (issue 17). The rules they carry are in ``rules/sharing.py``; the access
rule that reads them in ``auth/sharing.py``."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from divert.models.organisation import Organisation
from divert.models.person import Person
from divert.models.programme import Programme
from divert.models.referral import Referral
from divert.models.user import User
from divert.rules.sharing import CONSENT_KINDS, categories_from_text


class SharingAgreement(IdMixin, TimestampMixin, VersionedMixin, Base):
    """An agreement between two organisations: what flows each way, for which programmes, on what
    lawful basis, from and until when. Its categories are text (``identity,offence``) so that the
    field history records every change to what is shared."""

    __tablename__ = "sharing_agreements"
    __history__ = True
    __table_args__ = (
        CheckConstraint("first_organisation_id <> second_organisation_id", name="two_parties"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="dates"),
    )

    name: Mapped[str] = mapped_column(String(200))
    first_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    second_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # What the first organisation shares with the second, and what the second shares with the first.
    to_second: Mapped[str] = mapped_column(String(100), default="")
    to_first: Mapped[str] = mapped_column(String(100), default="")
    # The programme codes it covers, as text for the history; ``programme_links`` for the queries.
    programme_codes: Mapped[str] = mapped_column(Text, default="")
    lawful_basis: Mapped[str] = mapped_column(String(20))
    lawful_basis_text: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]

    first_organisation: Mapped[Organisation] = relationship(foreign_keys=[first_organisation_id])
    second_organisation: Mapped[Organisation] = relationship(foreign_keys=[second_organisation_id])
    programme_links: Mapped[list[SharingAgreementProgramme]] = relationship(
        back_populates="agreement", cascade="all, delete-orphan"
    )

    def categories_to(self, organisation_id: int) -> frozenset[str]:
        """What this agreement lets ``organisation_id`` see of the other party's cases."""
        if organisation_id == self.second_organisation_id:
            return categories_from_text(self.to_second)
        if organisation_id == self.first_organisation_id:
            return categories_from_text(self.to_first)
        return frozenset()

    def other_party(self, organisation_id: int) -> int:
        if organisation_id == self.first_organisation_id:
            return self.second_organisation_id
        return self.first_organisation_id


class SharingAgreementProgramme(IdMixin, Base):
    """A programme an agreement covers: one row each, so the access rule is an indexed join."""

    __tablename__ = "sharing_agreement_programmes"
    __table_args__ = (UniqueConstraint("agreement_id", "programme_id", name="programme"),)

    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreements.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)

    agreement: Mapped[SharingAgreement] = relationship(back_populates="programme_links")
    programme: Mapped[Programme] = relationship()


class ReferralConsent(IdMixin, Base):
    """The participant's consent to a referral, or to sharing it with one organisation: who recorded
    it and when, and its withdrawal. Consent given again after a withdrawal is a new row, so what
    was in force when stays readable."""

    __tablename__ = "referral_consents"
    __history__ = True
    __table_args__ = (
        CheckConstraint(f"kind IN {CONSENT_KINDS!r}", name="kind"),
        CheckConstraint(
            "(kind = 'sharing') = (organisation_id IS NOT NULL)", name="sharing_names_organisation"
        ),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The notice the participant was given, as it read then (the definition's may change later).
    notice: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None]
    withdrawn_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    referral: Mapped[Referral] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    withdrawn_recorded_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_recorded_by_id])


class PersonShare(IdMixin, Base):
    """A person's record shared with another force under a force-to-force agreement: who shared
    it, when, under which agreement. The receiving force sees the record while the agreement runs
    and allows identity; it never edits, matches or merges it (the holder alone does)."""

    __tablename__ = "person_shares"
    __table_args__ = (UniqueConstraint("person_id", "organisation_id", name="person_share"),)

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreements.id"), index=True)
    shared_at: Mapped[datetime] = mapped_column(default=utcnow)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    person: Mapped[Person] = relationship()
    organisation: Mapped[Organisation] = relationship()
    agreement: Mapped[SharingAgreement] = relationship()
    shared_by: Mapped[User | None] = relationship()

"""What happens on a case: contacts and sessions, needs, contracts and their conditions, flags."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from divert.models.referral import Referral
from divert.models.user import User
from divert.rules.codes import ATTENDANCE, CONTACT_KINDS, FLAG_KINDS, GOAL_KINDS, GOAL_STATUSES, VISIBILITIES


class CaseContact(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A contact, session or meeting, with its time (drop-out by time of day is reported)."""

    __tablename__ = "case_contacts"
    __history__ = True
    __table_args__ = (
        CheckConstraint(f"kind IN {CONTACT_KINDS!r}", name="kind"),
        CheckConstraint(f"attendance IN {ATTENDANCE!r}", name="attendance"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    scheduled_at: Mapped[datetime]
    attendance: Mapped[str] = mapped_column(String(12), default="scheduled")
    missed_reason: Mapped[str] = mapped_column(Text, default="")
    # Whether a missed session's reason is acceptable is a caseworker's judgement, recorded.
    reason_acceptable: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    referral: Mapped[Referral] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class NeedsAssessment(IdMixin, Base):
    __tablename__ = "needs_assessments"
    __table_args__ = (CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),)

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    assessed_on: Mapped[date]
    # [{"area": "housing", "level": "high", "notes": "..."}]; areas from the programme definition.
    needs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Needs are health and circumstances told in confidence: the working team only, unless shared.
    visibility: Mapped[str] = mapped_column(String(12), default="team", server_default="team")


class CaseGoal(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A goal in education, training, employment or a programme, and the placement that meets it."""

    __tablename__ = "case_goals"
    __history__ = True
    __table_args__ = (
        CheckConstraint(f"kind IN {GOAL_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {GOAL_STATUSES!r}", name="status"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    # The provider, course or employer: what monitoring cannot read from free text in a step's reason.
    placement: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(12), default="planned")
    started_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    referral: Mapped[Referral] = relationship()


class Contract(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "contracts"
    __history__ = True

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), unique=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    voluntary_hours: Mapped[int | None] = mapped_column(Integer)
    signed_on: Mapped[date | None]

    referral: Mapped[Referral] = relationship()
    conditions: Mapped[list[ContractCondition]] = relationship(
        back_populates="contract", order_by="ContractCondition.id"
    )


class ContractCondition(IdMixin, Base):
    """A condition; a variation removes one (with a reason) and adds another, never edits."""

    __tablename__ = "contract_conditions"
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    # The id of the condition group in the programme's definition (e.g. do_not_reoffend,
    # victim_restorative, pathway, voluntary_work): definitions name their groups, not the code.
    condition_group: Mapped[str] = mapped_column(String(40))
    pathway: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    removed_reason: Mapped[str] = mapped_column(Text, default="")

    contract: Mapped[Contract] = relationship(back_populates="conditions")


class CaseFlag(IdMixin, Base):
    """A flag and task for a person: raised by the sweep or a rule, resolved by a person."""

    __tablename__ = "case_flags"
    __table_args__ = (
        UniqueConstraint("referral_id", "key", name="flag_key"),
        CheckConstraint(f"kind IN {FLAG_KINDS!r}", name="kind"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    # The same condition must raise one flag however often the sweep runs.
    key: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_on: Mapped[date | None]
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[Referral] = relationship()


class PersonMerge(IdMixin, Base):
    """Two records found to be one person; what moved is kept so the merge can be undone."""

    __tablename__ = "person_merges"

    survivor_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    # {"encounters": [ids], "referrals": [ids], "filled": {field: value}}: exactly what undo restores.
    moved: Mapped[dict[str, Any]] = mapped_column(JSON)
    merged_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None]
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    undo_reason: Mapped[str] = mapped_column(Text, default="")


class ProgrammeOperator(IdMixin, Base):
    """Which organisations run (or receive referrals for) which programme."""

    __tablename__ = "programme_operators"
    __table_args__ = (UniqueConstraint("programme_id", "organisation_id", name="operator"),)

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # 'police' records encounters under it; 'receiving' gets its referrals (YOT, YJU, provider).
    role: Mapped[str] = mapped_column(String(20))
    route: Mapped[str | None] = mapped_column(String(40))
    # The assignment holds for encounters on these dates (UK dates, both ends included); open
    # ends hold for ever. Encounters are matched on the day they happened, not the day recorded.
    effective_from: Mapped[date | None]
    effective_to: Mapped[date | None]

"""Referrals (cases) and their append-only event timeline.

A case's status is the latest state, but what happened, when, by whom and why lives in the
events, which are never changed or deleted (see ``models/guards.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, VersionedMixin, utcnow
from divert.models.encounter import Encounter
from divert.models.organisation import Organisation
from divert.models.person import Person
from divert.models.programme import Programme, ProgrammeVersion
from divert.models.user import User

PARTY_ROLES = ("police", "receiving", "yju", "provider")


# The monitoring reason tables (monitoring/breakdowns.py) read these instead of the wide case rows:
# on PostgreSQL each holds what its query reads (INCLUDE), so the read is an index-only scan of
# narrow entries (docs/benchmarks.md, "Reports near the flat-table limit"; migration 0025).
_OPEN_EXIT = "exit_reason IS NOT NULL AND completed_at IS NULL"


class Referral(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "referrals"
    __history__ = True
    __table_args__ = (
        # Cases now in a not-offered or declined state, by programme.
        Index(
            "ix_referrals_state_report", "state", "programme_id", postgresql_include=["id", "encounter_id"]
        ),
        # Cases that ended without completing, with their exit reason.
        Index(
            "ix_referrals_exits",
            "programme_id",
            postgresql_include=["encounter_id", "exit_reason"],
            postgresql_where=text(_OPEN_EXIT),
            sqlite_where=text(_OPEN_EXIT),
        ),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    programme_version_id: Mapped[int] = mapped_column(ForeignKey("programme_versions.id"))
    state: Mapped[str] = mapped_column(String(40), index=True)
    route: Mapped[str | None] = mapped_column(String(40))
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    outcome_code: Mapped[int | None] = mapped_column(ForeignKey("outcome_codes.code"))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    # Why a case ended without completion (declined, no-show, out-of-hours, ...), for attrition reports.
    exit_reason: Mapped[str | None] = mapped_column(String(60))
    # When the case first reached each monitoring decision point (see pathways/cases.py). Kept on
    # the row so monitoring counts them with one GROUP BY instead of replaying every timeline.
    offered_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    engaged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    # Issue 13 (rules.definition.decision_milestones): routed to a decision maker (the YJU), who
    # diverted again; and a formal outcome, by the definition's rule rather than the outcome code.
    decision_route_at: Mapped[datetime | None]
    diverted_again_at: Mapped[datetime | None]
    formal_outcome_at: Mapped[datetime | None]
    # Outcomes the DIVERT reports count: the first placement started in education, training or
    # employment (``CaseGoal``), and the first new encounter for the person while the case was open.
    into_eet_at: Mapped[datetime | None]
    rearrested_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship()
    encounter: Mapped[Encounter] = relationship()
    programme: Mapped[Programme] = relationship()
    programme_version: Mapped[ProgrammeVersion] = relationship()
    assigned_user: Mapped[User | None] = relationship()
    parties: Mapped[list[ReferralParty]] = relationship(
        back_populates="referral", cascade="all, delete-orphan"
    )
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.occurred_at, ReferralEvent.id"
    )


class ReferralParty(IdMixin, Base):
    """An organisation that is party to a case; its users may see the case and its person."""

    __tablename__ = "referral_parties"
    __table_args__ = (
        UniqueConstraint("referral_id", "organisation_id", name="party"),
        CheckConstraint(f"role IN {PARTY_ROLES!r}", name="role"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    referral: Mapped[Referral] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class ReferralEvent(IdMixin, Base):
    """One thing that happened to a case: who, when, what, why. Append-only."""

    __tablename__ = "referral_events"
    __append_only__ = True
    __table_args__ = (
        # A case's latest step into a state, with its reason: the reason tables' lookup per case.
        Index(
            "ix_referral_events_latest",
            "referral_id",
            "to_state",
            "id",
            postgresql_include=["reason_code"],
        ),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text, default="")
    # The coded reason (the definition's reason_codes) where the step is one monitoring reports
    # (not offered, declined): what monitoring groups by. ``reason`` holds any words, for the case only.
    reason_code: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    referral: Mapped[Referral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

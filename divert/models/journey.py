"""Each encounter's journey through the monitoring decision points, kept for reporting.

Working the journey out from decisions and cases at report time means grouping every decision of
every encounter (an anti-join for overrides, a join to cases, then a GROUP BY per encounter) on
every report. These rows hold the answer instead, one per encounter and programme and one per
encounter for all programmes together, so a report reads one narrow row per encounter.

They are derived data, never edited by hand: monitoring/journeys.py keeps them in step. The
encounter's day, area and person are copied here so a report joins only to people; anything about
the person (ethnicity, gender, date of birth) is read from people, so correcting it needs nothing.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from divert.models.base import Base


class _JourneyColumns:
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # The encounter's UK date (clock.uk_date) as YYYYMMDD: the cohort it counts in, and the day
    # ages are taken at.
    encounter_day: Mapped[int]
    area: Mapped[str | None] = mapped_column(String(8))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # 1 when the point was reached, else 0: small integers so a report can SUM them directly.
    eligible: Mapped[int] = mapped_column(SmallInteger)
    offered: Mapped[int] = mapped_column(SmallInteger)
    accepted: Mapped[int] = mapped_column(SmallInteger)
    engaged: Mapped[int] = mapped_column(SmallInteger)
    completed: Mapped[int] = mapped_column(SmallInteger)
    escalated: Mapped[int] = mapped_column(SmallInteger)
    formal_outcome: Mapped[int] = mapped_column(SmallInteger)
    # Issue 13: the route to a decision maker (the YJU) and what it decided (monitoring/points.py).
    decision_route: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    diverted_again: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    decision_formal: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))


class ProgrammeJourney(_JourneyColumns, Base):
    """An encounter's journey on one programme: its effective decision and that programme's case."""

    __tablename__ = "monitoring_journeys"
    __table_args__ = (Index("ix_monitoring_journeys_programme_day", "programme_id", "encounter_day"),)

    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True
    )
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)


class EncounterJourney(_JourneyColumns, Base):
    """An encounter's journey on all programmes together: the furthest point reached on any."""

    __tablename__ = "monitoring_encounters"

    encounter_id: Mapped[int] = mapped_column(
        ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True
    )
    encounter_day: Mapped[int] = mapped_column(index=True)

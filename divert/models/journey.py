"""Each encounter's journey through the monitoring decision points, kept for reporting.

Working the journey out from decisions and cases at report time means grouping every decision of
every encounter (an anti-join for overrides, a join to cases, then a GROUP BY per encounter) on
every report. These rows hold the answer instead, one per encounter and programme and one per
encounter for all programmes together, so a report reads one narrow row per encounter.

They are derived data, never edited by hand: monitoring/journeys.py keeps them in step. The
encounter's day, area and person are copied here, and so is what a report groups by about the
person (ethnicity, gender, age at the encounter), so a report reads these rows alone and never the
765,000-row people table. Those copies are kept current: every change to a person's monitoring
fields (a correction, a merge filling a field, anonymisation) rewrites their rows in the same
transaction (monitoring/journeys.py ``refresh_people``).
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
    # The encounter's ``age_floor``: set only for anonymised people, whose date of birth is gone.
    age_floor: Mapped[int | None] = mapped_column(SmallInteger)
    # What a report groups by, from the person (journeys.person_columns, the one derivation). Codes,
    # not groups: an administrator may regroup a code, and the report maps codes at read time.
    self_defined_ethnicity: Mapped[str | None] = mapped_column(String(8))
    officer_defined_ethnicity: Mapped[str | None] = mapped_column(String(8))
    gender: Mapped[str | None] = mapped_column(String(12))
    # Whole years at the encounter (the age floor once anonymised); NULL when not known, negative
    # for a date of birth after the encounter (a recording error, counted as "Not known").
    age: Mapped[int | None] = mapped_column(SmallInteger)


# Everything a report reads from one programme's rows besides the (programme, day) key: held in
# that index on PostgreSQL (INCLUDE), so one programme's report is an index-only scan of its own
# entries rather than a visit to thousands of heap pages shared with every other programme's rows
# (docs/benchmarks.md, "Reports near the flat-table limit"; measured against CLUSTER).
REPORT_COLUMNS = (
    "encounter_id",
    "organisation_id",
    "area",
    "self_defined_ethnicity",
    "officer_defined_ethnicity",
    "gender",
    "age",
    "eligible",
    "offered",
    "accepted",
    "engaged",
    "completed",
    "escalated",
    "formal_outcome",
    "decision_route",
    "diverted_again",
    "decision_formal",
)


class ProgrammeJourney(_JourneyColumns, Base):
    """An encounter's journey on one programme: its effective decision and that programme's case."""

    __tablename__ = "monitoring_journeys"
    __table_args__ = (
        Index(
            "ix_monitoring_journeys_programme_day",
            "programme_id",
            "encounter_day",
            postgresql_include=list(REPORT_COLUMNS),
        ),
    )

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

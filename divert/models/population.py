"""Population baselines: the population by area, ethnic group, gender and age band, as uploaded.

A baseline is kept whole once uploaded (a new file is a new baseline), so a published comparison can
always be traced to the figures it used. Exactly one baseline is active at a time; the monitoring
page compares encounters with the active one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, utcnow


class PopulationBaseline(IdMixin, Base):
    __tablename__ = "population_baselines"

    name: Mapped[str] = mapped_column(String(200))
    source_note: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)

    rows: Mapped[list[PopulationBaselineRow]] = relationship(
        back_populates="baseline", cascade="all, delete-orphan", order_by="PopulationBaselineRow.id"
    )


class PopulationBaselineRow(IdMixin, Base):
    __tablename__ = "population_baseline_rows"
    __table_args__ = (
        UniqueConstraint("baseline_id", "area", "ethnic_group", "gender", "age_band"),
        CheckConstraint("population >= 0", name="population_not_negative"),
    )

    baseline_id: Mapped[int] = mapped_column(ForeignKey("population_baselines.id"), index=True)
    area: Mapped[str] = mapped_column(String(8))
    ethnic_group: Mapped[str] = mapped_column(String(20))
    gender: Mapped[str] = mapped_column(String(12))
    age_band: Mapped[str] = mapped_column(String(8))
    population: Mapped[int] = mapped_column(Integer)

    baseline: Mapped[PopulationBaseline] = relationship(back_populates="rows")

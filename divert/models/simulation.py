"""Policy simulations: who ran which draft against which history, when, and what it found.

A simulation reads stored decisions and writes only its own row: the result is counts (the
figures an analyst may see), kept so the Equality Impact Assessment annex can be made again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, utcnow
from divert.models.programme import ProgrammeVersion

SIMULATION_STATUSES = ("queued", "running", "done", "failed")


class Simulation(IdMixin, Base):
    __tablename__ = "simulations"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),)

    # The version replayed (a draft, or any stored version) and the one in force it is compared with.
    draft_version_id: Mapped[int] = mapped_column(ForeignKey("programme_versions.id"), index=True)
    baseline_version_id: Mapped[int | None] = mapped_column(ForeignKey("programme_versions.id"))
    # Whose figures: the organisation whose reach it was run in (none for a national run).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    date_from: Mapped[date | None]
    date_to: Mapped[date | None]
    dimension: Mapped[str] = mapped_column(String(30))
    reference: Mapped[str | None] = mapped_column(String(60))
    threshold: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    message: Mapped[str] = mapped_column(Text, default="")
    # On which data: how many stored decisions it read, and the newest decision it could see.
    decisions: Mapped[int] = mapped_column(Integer, default=0)
    latest_decision_id: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    draft_version: Mapped[ProgrammeVersion] = relationship(foreign_keys=[draft_version_id])
    baseline_version: Mapped[ProgrammeVersion | None] = relationship(foreign_keys=[baseline_version_id])

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

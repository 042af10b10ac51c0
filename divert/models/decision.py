"""Rule decisions, kept forever with the facts and the definition version they used.

An override is a new decision pointing at the one it overrides; both stay, so anyone can see what
the rules said and what a person decided instead, and why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, utcnow
from divert.models.encounter import Encounter
from divert.models.programme import ProgrammeVersion
from divert.models.user import User


class Decision(IdMixin, Base):
    __tablename__ = "decisions"
    __append_only__ = True

    encounter_id: Mapped[int] = mapped_column(ForeignKey("encounters.id"), index=True)
    programme_version_id: Mapped[int] = mapped_column(ForeignKey("programme_versions.id"), index=True)
    eligible: Mapped[bool] = mapped_column(Boolean)
    route: Mapped[str | None] = mapped_column(String(40))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # The exact facts the engine saw, so the decision can be replayed after records change.
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overrides_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    # An override's coded reason (the definition's reason_codes.override): what monitoring groups by.
    override_reason_code: Mapped[str | None] = mapped_column(String(40))
    # Whether the encounter is one the programme is for (its definition's population): only these
    # are in the programme's monitoring base. An override keeps it: discretion changes who is
    # eligible, never who the programme is for.
    in_population: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    encounter: Mapped[Encounter] = relationship()
    programme_version: Mapped[ProgrammeVersion] = relationship()
    decided_by: Mapped[User | None] = relationship()
    overrides: Mapped[Decision | None] = relationship(remote_side="Decision.id")

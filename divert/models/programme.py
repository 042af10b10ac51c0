"""Programmes and the stored versions of their definitions.

Every decision points at the version it used, so an old decision can be reproduced after the
definition has changed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, utcnow
from divert.rules import ProgrammeDefinition, definition_from_dict
from divert.rules.codes import learn_labels

# Parsed (and expression-compiled) definitions, keyed by version id and content, so each stored
# version is compiled once per process rather than once per decision.
_compiled: dict[tuple[int, str], ProgrammeDefinition] = {}

# A draft is stored so it can be compared (and, later, replayed) but never decides an encounter.
DRAFT, PUBLISHED = "draft", "published"
VERSION_STATUSES = (DRAFT, PUBLISHED)


class Programme(IdMixin, Base):
    __tablename__ = "programmes"

    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    versions: Mapped[list[ProgrammeVersion]] = relationship(
        back_populates="programme", order_by="ProgrammeVersion.version"
    )


class ProgrammeVersion(IdMixin, Base):
    __tablename__ = "programme_versions"
    __table_args__ = (
        UniqueConstraint("programme_id", "version", name="programme_version"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
    )

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date]
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=PUBLISHED, server_default=PUBLISHED)
    # Who uploaded it in the browser (files loaded by the command have nobody), and who published it.
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    programme: Mapped[Programme] = relationship(back_populates="versions")

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT


def compiled(version: ProgrammeVersion) -> ProgrammeDefinition:
    """The version's definition, parsed once per process: pathways decide with it, monitoring
    and pages read its states and reasons, so it sits with the stored version they all load."""
    key = (version.id, version.content_hash)
    if key not in _compiled:
        definition = definition_from_dict(version.definition, source=f"database:{version.id}")
        learn_labels({role.id: role.label for role in definition.roles})
        _compiled[key] = definition
    return _compiled[key]

"""Organisations (police forces, YOTs, providers) and the teams inside them."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin
from divert.rules.codes import ORGANISATION_KINDS


class Organisation(IdMixin, TimestampMixin, Base):
    __tablename__ = "organisations"
    __table_args__ = (CheckConstraint(f"kind IN {ORGANISATION_KINDS!r}", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))

    teams: Mapped[list[Team]] = relationship(back_populates="organisation", order_by="Team.name")


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    organisation: Mapped[Organisation] = relationship(back_populates="teams")

"""Users: one role each, one organisation each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin
from divert.models.organisation import Organisation, Team
from divert.rules.codes import label
from divert.rules.definition import ROLES as RULE_ROLES

# The roles are the rules engine's vocabulary (definitions say which role may take each step).
ROLES = RULE_ROLES


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_signed_in_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()
    team: Mapped[Team | None] = relationship()

    # Flask-Login's protocol, written out so the model does not inherit from a Flask class.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    @property
    def role_label(self) -> str:
        return label(self.role)

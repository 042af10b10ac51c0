"""Users: one role each, one organisation each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from divert.models.base import Base, IdMixin, TimestampMixin, utcnow
from divert.models.organisation import Organisation, Team
from divert.rules.codes import label
from divert.rules.definition import ROLES as RULE_ROLES

# The built-in roles are the rules engine's vocabulary (definitions say which role may take each
# step). A definition may declare more (issue 14), so the column is not limited to these: who may
# be given which role is checked when it is given (``pathways.users``).
ROLES = RULE_ROLES


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_signed_in_at: Mapped[datetime | None]
    # Copied into the session at sign-in and compared on every request: raising it ends every
    # copy of every session the user has (sign-out, a password change, an administrator).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

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


class SignInAttempt(IdMixin, Base):
    """A sign-in outcome, counted by ``divert.auth.throttle`` so limits hold across processes.

    Keys are keyed hashes (HMAC with the secret key) of an address or an email address, so the
    table holds no addresses an intruder could read back. A failure makes an ``address`` row and
    an ``account`` row; a success makes (or refreshes) an ``account`` row with ``succeeded`` set,
    remembering the address as one the account's owner uses.
    """

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        CheckConstraint("kind IN ('address', 'account')", name="kind"),
        Index("ix_sign_in_attempts_lookup", "kind", "key", "at"),
    )

    kind: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(64))
    # On account rows: the keyed hash of the address the attempt came from.
    address_key: Mapped[str | None] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

"""Reference tables loaded from ``seeds/reference``: codes other records point at."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from divert.models.base import Base

ETHNIC_GROUPS = ("White", "Mixed", "Asian", "Black", "Other", "Not stated")


class EthnicityCode(Base):
    """Self-defined (18+1 codes) and officer-defined (IC codes) ethnicity, each in its group."""

    __tablename__ = "ethnicity_codes"
    __history__ = True  # an administrator relabels codes; old labels stay readable (models/guards.py)
    __table_args__ = (CheckConstraint("scheme IN ('self_defined', 'officer_defined')", name="scheme"),)

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    scheme: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(120))
    # Officer-defined IC codes do not map one-to-one onto the five groups (IC5/IC6), so the group
    # is stored per code rather than derived from its first letter.
    ethnic_group: Mapped[str] = mapped_column(String(20))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class OutcomeCode(Base):
    """Home Office crime outcome codes (0-22)."""

    __tablename__ = "outcome_codes"
    __history__ = True

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class OffenceCategory(Base):
    """Offence categories; slugs are used by imports and the API, and a force can add more."""

    __tablename__ = "offence_categories"
    __history__ = True

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

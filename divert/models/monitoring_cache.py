"""What monitoring keeps between requests: the protected release of each scope, and when the data
it is counted from last changed.

The protected release (monitoring/release.py) costs dozens of counting queries and a proof search
that takes seconds at a force's size, and every page view and download of the same scope asks for
the same one. It is kept here, keyed on the scope and on a data version (monitoring/cache.py), and
used again until anything it is counted from changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from divert.models.base import Base, utcnow


class MonitoringChange(Base):
    """One row per transaction that changed what monitoring counts (encounters, decisions, cases,
    people, programmes, reference codes). Only inserted, never updated: a counter row updated by
    every such transaction would make them all wait for one another on PostgreSQL."""

    __tablename__ = "monitoring_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitoringCache(Base):
    """A computed monitoring result for one scope, valid while the data version is unchanged."""

    __tablename__ = "monitoring_cache"

    # sha256 of what the result is for (kind, reach, dates, threshold, ...): monitoring/cache.py.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    data_version: Mapped[str] = mapped_column(String(200))
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    seconds: Mapped[float]  # how long it took to compute, for the benchmarks and the lead
    # zlib-compressed JSON; aggregates only (counts and which cells are hidden), no personal data.
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)

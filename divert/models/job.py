"""Background work: what was asked for, by whom, how far it has got and what came of it.

The queue itself is Huey's (divert/app/jobs.py); this table is what pages and the API show, and
it outlives the queue's own records. ``job_locks`` holds one row per piece of work that must
never run twice at once (the sweep): the primary key is the lock, so it holds across processes
and machines on any database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column

from divert.models.base import Base, IdMixin, utcnow

JOB_KINDS = ("import", "sweep", "export")
JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(IdMixin, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("kind IN ('import', 'sweep', 'export')", name="kind"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # Whose work it is: only that organisation sees it (none for the system's own sweep).
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The uploaded file, held here (not on one machine's disk) so any worker can read it;
    # emptied once the job has finished.
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    # What an export was asked for (the search's filters), so the worker makes the same file.
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The file an export made, held until it is downloaded or the job is cleared.
    output: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class JobLock(Base):
    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)

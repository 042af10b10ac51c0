"""The non-engagement sweep as a periodic task, at ``SWEEP_AT`` London time, never twice at once.

Huey's scheduler runs in every consumer, so two workers (or a worker and someone typing
``flask sweep``) could start it together; the lock in ``job_locks`` lets only one of them run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine

from divert.app import jobs
from divert.app.clock import LONDON, today
from divert.app.extensions import db
from divert.models import Job, utcnow
from divert.pathways.sweep import SweepReport, sweep
from divert.rules import BANK_HOLIDAYS

LOCK = "sweep"


def _bind() -> Engine | Connection:
    # The session factory's bind, not db.engine: tests bind it to one rolled-back connection.
    bind = db.factory.kw.get("bind") or db.engine
    if bind is None:
        raise RuntimeError("The database is not configured.")
    return bind


def run_sweep(as_of: date | None = None, started_by_id: int | None = None) -> SweepReport | None:
    """Sweep as of ``as_of`` (default today in London) and record it as a job; None if a sweep
    was already running anywhere. Commits."""
    day = as_of or today()
    with jobs.job_lock(_bind(), LOCK) as held:
        if not held:
            return None
        session = db.session
        job = Job(
            kind="sweep",
            status="running",
            started_by_id=started_by_id,
            name=f"Sweep as of {day.isoformat()}",
            started_at=utcnow(),
        )
        session.add(job)
        session.commit()
        report = sweep(session, day, BANK_HOLIDAYS)
        job.status, job.finished_at = "done", utcnow()
        job.done = job.total = report.cases_checked
        job.message = f"{report.cases_checked} open cases checked; {report.flags_raised} flags raised"
        job.result = {"as_of": day.isoformat(), "flags_raised": report.flags_raised, **report.by_kind}
        session.commit()
        return report


def sweep_due(moment: datetime) -> bool:
    """Whether the scheduler's minute ``moment`` (naive UTC, Huey's clock) is ``SWEEP_AT`` in London."""
    at = str(jobs.current_app().config.get("SWEEP_AT", "02:00"))
    local = moment.replace(tzinfo=UTC).astimezone(LONDON)
    return local.strftime("%H:%M") == at


@jobs.periodic(sweep_due)
def nightly_sweep() -> None:
    run_sweep()

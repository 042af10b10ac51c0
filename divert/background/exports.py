"""Large exports in the background: the audit trail's CSV, written by the worker, downloaded later.

A search of a few thousand entries is written within the request; beyond that the file is made
here, so no request holds a long read (or a gunicorn timeout cuts it off), and the job page shows
how far it has got. The file is kept on the job (the database, not one machine's disk) so any app
server can hand it over.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from divert.app import jobs
from divert.app.clock import today
from divert.app.extensions import db
from divert.models import Job, User, audit, utcnow
from divert.queries.audit import AuditFilters, write_csv

AUDIT_CSV = "audit_csv"


def queue_audit_export(session: Session, actor: User, filters: AuditFilters, expected: int) -> Job:
    """A job that writes the audit search ``filters`` as CSV, queued once the caller commits."""
    params = {
        key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(filters).items()
    }
    job = Job(
        kind="export",
        status="queued",
        organisation_id=actor.organisation_id,
        started_by_id=actor.id,
        name=f"audit-{today().isoformat()}.csv",
        params={"export": AUDIT_CSV, "filters": params},
        total=expected,
        message="Waiting to start",
    )
    session.add(job)
    session.flush()
    audit.record(session, actor, "create", "job", str(job.id), detail=f"audit export; {filters.describe()}")
    jobs.queue_after_commit(session, run_export, job.id)
    return job


def filters_of(params: dict[str, Any]) -> AuditFilters:
    raw = dict(params)
    for key in ("from_day", "to_day"):
        if raw.get(key):
            raw[key] = date.fromisoformat(raw[key])
    return AuditFilters(**raw)


@jobs.task
def run_export(job_id: int) -> str:
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.status != "queued" or job.kind != "export" or not job.params:
        return "skipped"
    actor = session.get(User, job.started_by_id) if job.started_by_id else None
    if actor is None or not actor.active:
        # The export reads with its asker's scope: with no one to read as, nothing is written.
        _finish(session, job, "failed", "The person who asked for this export can no longer sign in", None, 0)
        return "failed"
    job.status, job.started_at, job.message = "running", utcnow(), "Writing the file"
    session.commit()
    audit.act_as(session, actor.id)
    filters = filters_of(job.params["filters"])

    def progress(written: int) -> None:
        jobs.put_progress(job_id, {"written": written})

    out = io.StringIO()
    try:
        written = write_csv(session, actor, filters, out, progress)
    except Exception:
        session.rollback()
        _finish(session, job, "failed", "The export stopped unexpectedly; try again", None, 0)
        raise
    _finish(session, job, "done", f"{written} entries written", out.getvalue().encode("utf-8"), written)
    return "done"


def _finish(
    session: Session, job: Job, status: str, message: str, output: bytes | None, written: int
) -> None:
    job = session.get(Job, job.id) or job
    job.status, job.message, job.output = status, message, output
    job.done = written
    job.result = {"entries": written}
    job.finished_at = utcnow()
    session.commit()
    jobs.clear_progress(job.id)

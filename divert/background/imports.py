"""The import of an uploaded file, in the background: checked, then written all or nothing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from divert.app import jobs
from divert.app.extensions import db
from divert.models import Job, User, audit, utcnow
from divert.pathways.importing import ImportFailed, import_file

PROBLEMS_KEPT = 500  # listed on the job page; the rest are counted
# Progress is written at most this often (in rows), so a 100,000-row file is a few hundred writes.
REPORT_EVERY = 1000


def queue_import(session: Session, data: bytes, filename: str, actor: User) -> Job:
    """Hold the file in a new job and queue its import once the caller's transaction commits
    (so the worker, in another process, can never look for a job that is not there yet)."""
    job = Job(
        kind="import",
        status="queued",
        organisation_id=actor.organisation_id,
        started_by_id=actor.id,
        name=filename,
        payload=data,
        message="Waiting to start",
    )
    session.add(job)
    session.flush()
    audit.record(session, actor, "create", "job", str(job.id), detail=f"import of {filename}")
    jobs.queue_after_commit(session, run_import, job.id)
    return job


class _Progress:
    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.counts: dict[str, int] = {"Checking": 0, "Writing": 0}
        self.totals: dict[str, int] = {"Checking": 0, "Writing": 0}
        self.last = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.counts[stage] = self.counts.get(stage, 0) + done
        self.totals[stage] = total
        seen = sum(self.counts.values())
        if seen - self.last >= REPORT_EVERY or self.counts[stage] >= total:
            self.last = seen
            jobs.put_progress(self.job_id, self.values())

    def values(self) -> dict[str, Any]:
        return {
            "checked": self.counts["Checking"],
            "rows": self.totals["Checking"],
            "written": self.counts["Writing"],
            "to_write": self.totals["Writing"],
        }


@jobs.task
def run_import(job_id: int) -> str:
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.status != "queued":
        return "skipped"
    job.status, job.started_at, job.message = "running", utcnow(), "Checking the rows"
    session.commit()
    actor = session.get(User, job.started_by_id) if job.started_by_id else None
    audit.act_as(session, actor.id if actor else None)
    tracker = _Progress(job_id)
    data, name, organisation_id = job.payload or b"", job.name, job.organisation_id
    if organisation_id is None:  # queue_import always sets it; a job made any other way is refused
        _finish(
            session, job_id, "failed", tracker, "The job names no organisation; nothing was imported", None
        )
        return "failed"
    try:
        result = import_file(
            session, data, name, organisation_id=organisation_id, actor=actor, progress=tracker
        )
    except ImportFailed as failed:
        session.rollback()
        problems = [asdict(problem) for problem in failed.problems]
        _finish(
            session,
            job_id,
            "failed",
            tracker,
            f"The file has {len(problems)} problem{'' if len(problems) == 1 else 's'}; nothing was imported",
            {"problems": problems[:PROBLEMS_KEPT], "problem_count": len(problems)},
        )
        return "failed"
    except Exception:
        session.rollback()
        _finish(
            session, job_id, "failed", tracker, "The import stopped unexpectedly; nothing was imported", None
        )
        raise
    # The job's result is committed with the rows it describes: one transaction, never one without the other.
    _finish(session, job_id, "done", tracker, result.summary(), asdict(result))
    # Thousands of new rows at once: the planner's figures are brought up to date now, not hours later.
    db.refresh_statistics()
    return "done"


def _finish(
    session: Session,
    job_id: int,
    status: str,
    tracker: _Progress,
    message: str,
    result: dict[str, Any] | None,
) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    values = tracker.values()
    job.status, job.message, job.result = status, message, result
    job.done, job.total = values["checked"], values["rows"]
    if result is not None and status == "done":
        job.result = {**result, **values}
    job.payload = None
    job.finished_at = utcnow()
    session.commit()
    jobs.clear_progress(job_id)

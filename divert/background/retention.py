"""Carrying out confirmed retention reviews in the background: anonymisation and erasure.

An administrator confirms the people due on the review page (or a scheduled ``flask retention
apply --confirm`` does); the job row holds who, as of when, why and whom, and the worker works
through them a batch at a time. Each batch commits with its progress, so the page shows how far
it has got and a failure leaves whole people done or untouched, never half a person.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from divert.app import jobs
from divert.app.extensions import db
from divert.models import Job, User, audit, utcnow
from divert.pathways.retention import apply_due, retention_from_settings

BATCH = 500  # people per commit: progress is this fine, and no transaction holds locks long


def start_retention(
    session: Session,
    actor: User | None,
    organisation_id: int | None,
    as_of: date,
    person_ids: list[int],
    reason: str,
) -> Job:
    """A job for the confirmed people; flushed, not queued (see ``queue_retention``)."""
    people = sorted(set(person_ids))
    job = Job(
        kind="retention",
        status="queued",
        organisation_id=organisation_id,
        started_by_id=None if actor is None else actor.id,
        name=f"Retention review as of {as_of.isoformat()}",
        total=len(people),
        message="Waiting to start",
        payload=json.dumps({"as_of": as_of.isoformat(), "people": people, "reason": reason}).encode(),
    )
    session.add(job)
    session.flush()
    audit.record(
        session, actor, "create", "job", str(job.id), detail=f"retention of {len(people)} people: {reason}"
    )
    return job


def queue_retention(session: Session, actor: User, as_of: date, person_ids: list[int], reason: str) -> Job:
    """Start a job for ``actor``'s organisation and queue it once the caller's transaction commits."""
    job = start_retention(session, actor, actor.organisation_id, as_of, person_ids, reason)
    jobs.queue_after_commit(session, run_retention, job.id)
    return job


def carry_out(job_id: int) -> str:
    """Work through a retention job; commits after each batch. Returns its final status."""
    session = db.session
    job = session.get(Job, job_id)
    if job is None or job.kind != "retention" or job.status != "queued":
        return "skipped"
    order: dict[str, Any] = json.loads((job.payload or b"{}").decode())
    people: list[int] = [int(i) for i in order.get("people", [])]
    as_of, reason = date.fromisoformat(order["as_of"]), str(order.get("reason", ""))
    organisation_id, actor_id = job.organisation_id, job.started_by_id
    job.status, job.started_at, job.message = "running", utcnow(), "Anonymising and erasing"
    session.commit()
    actor = session.get(User, actor_id) if actor_id else None
    audit.act_as(session, actor_id)
    retention = retention_from_settings(session, jobs.current_app().config)
    counts = {"anonymised": 0, "erased": 0, "no_longer_due": 0}
    try:
        for start in range(0, len(people), BATCH):
            batch = people[start : start + BATCH]
            applied = apply_due(session, actor, retention, as_of, batch, reason, organisation_id)
            counts["anonymised"] += applied.anonymised.people
            counts["erased"] += applied.erased.people
            counts["no_longer_due"] += len(batch) - applied.anonymised.people - applied.erased.people
            job = session.get(Job, job_id)
            assert job is not None
            job.done = start + len(batch)
            job.message = f"{job.done} of {len(people)} people reviewed"
            session.commit()
    except Exception:
        session.rollback()
        _finish(
            session, job_id, "failed", "Stopped unexpectedly; the people before this batch are done", counts
        )
        raise
    said = (
        f"{counts['anonymised']} anonymised, {counts['erased']} erased, "
        f"{counts['no_longer_due']} no longer due (kept)"
    )
    _finish(session, job_id, "done", said, counts)
    return "done"


def _finish(session: Session, job_id: int, status: str, message: str, counts: dict[str, int]) -> None:
    job = session.get(Job, job_id)
    if job is None:
        return
    job.status, job.message, job.result, job.finished_at = status, message, dict(counts), utcnow()
    # The list of people is no longer needed once the job has finished.
    job.payload = None
    session.commit()


run_retention = jobs.task(carry_out)

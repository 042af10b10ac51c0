"""Policy simulations: a draft version replayed against the real history, in the background.

``simulate`` is the one way a simulation is run (the worker's task, the command line and the
tests call it); it reads and never writes. The task stores the result on its own row
(``models.simulation``), so a simulation changes no case, decision or published figure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from divert.app import jobs
from divert.app.clock import today
from divert.app.db import reading_only
from divert.app.extensions import db
from divert.models import Decision, Organisation, Programme, ProgrammeVersion, Simulation, User, audit, utcnow
from divert.models.programme import compiled
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import Reach, Scope, reach_of
from divert.monitoring.simulation import SimulationResult, replay, stored_rows, summarise, to_json
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.pathways.programmes import version_in_force
from divert.rules.definition import ProgrammeDefinition


class SimulationRefused(ValueError):
    """A simulation that cannot be run as asked, with the reason in words and the input it is about."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def simulate(
    session: Session,
    draft: ProgrammeDefinition,
    scope: Scope,
    *,
    reference: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> SimulationResult:
    """Every stored rules decision of the draft's programme in ``scope``, decided again under the
    version in force today and under ``draft``, tallied by the scope's dimension."""
    programme = session.scalar(select(Programme).where(Programme.code == draft.code))
    if programme is None:
        raise SimulationRefused(
            f"No programme has the code '{draft.code}': a draft replays its own programme's history"
        )
    baseline = compiled(version_in_force(session, programme, today()))
    scope = Scope(
        dimension=scope.dimension,
        period=scope.period,
        programme=programme.code,
        date_from=scope.date_from,
        date_to=scope.date_to,
        reach=scope.reach,
    )
    tally = replay(stored_rows(session, programme.code, scope), baseline, draft, progress)
    return summarise(tally, scope.dimension, reference, threshold)


# ---------------------------------------------------------------------------------------------
# The stored simulation, run by the worker.

PROGRESS_EVERY = 20_000


def queue_simulation(
    session: Session,
    actor: User | None,
    draft: ProgrammeVersion,
    *,
    dimension: str,
    date_from: date | None,
    date_to: date | None,
    reference: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> Simulation:
    """A stored simulation, run by the worker once the caller's transaction commits."""
    if dimension not in DIMENSIONS:
        raise SimulationRefused(f"Choose a breakdown: one of {', '.join(DIMENSIONS)}", "dimension")
    if date_from and date_to and date_from > date_to:
        raise SimulationRefused("The start of the period must be on or before its end", "date_to")
    simulation = Simulation(
        draft_version_id=draft.id,
        organisation_id=actor.organisation_id if actor else None,
        started_by_id=actor.id if actor else None,
        date_from=date_from,
        date_to=date_to,
        dimension=dimension,
        reference=reference or None,
        threshold=threshold,
        status="queued",
        message="Waiting to start",
    )
    session.add(simulation)
    session.flush()
    audit.record(
        session,
        actor,
        "create",
        "simulation",
        simulation.id,
        detail=f"{draft.programme.code} version {draft.version}, {dimension}, {date_from} to {date_to}",
    )
    jobs.queue_after_commit(session, run_simulation, simulation.id)
    return simulation


def progress_key(simulation_id: int) -> str:
    return f"simulation:{simulation_id}"


@jobs.task
def run_simulation(simulation_id: int) -> str:
    session = db.session
    simulation = session.get(Simulation, simulation_id)
    if simulation is None or simulation.status != "queued":
        return "skipped"
    simulation.status, simulation.started_at, simulation.message = "running", utcnow(), "Replaying decisions"
    session.commit()
    actor = session.get(User, simulation.started_by_id) if simulation.started_by_id else None
    organisation = (
        session.get(Organisation, simulation.organisation_id) if simulation.organisation_id else None
    )
    draft = compiled(simulation.draft_version)
    reach: Reach | None = reach_of(session, organisation) if organisation is not None else None
    scope = Scope(
        dimension=simulation.dimension,
        programme=draft.code,
        date_from=simulation.date_from,
        date_to=simulation.date_to,
        reach=reach,
    )

    def progress(done: int) -> None:
        jobs.put_progress(progress_key(simulation_id), {"decisions": done})

    try:
        # Read without SQLite's write lock: a national replay takes a minute, and officers record
        # meanwhile. The result is written afterwards, in a transaction of its own.
        with reading_only():
            latest = session.scalar(select(func.max(Decision.id)))
            baseline = version_in_force(session, simulation.draft_version.programme, today())
            result = simulate(
                session,
                draft,
                scope,
                reference=simulation.reference,
                threshold=simulation.threshold,
                progress=progress,
            )
            session.rollback()
    except Exception as failure:  # any failure is the run's, and said on its page; nothing else changed
        session.rollback()
        found = session.get(Simulation, simulation_id)
        if found is not None:
            found.status, found.finished_at = "failed", utcnow()
            found.message = (
                str(failure)
                if isinstance(failure, SimulationRefused)
                else "The simulation stopped unexpectedly"
            )
            session.commit()
        jobs.clear_progress(progress_key(simulation_id))
        if isinstance(failure, SimulationRefused):
            return "failed"
        raise
    found = session.get(Simulation, simulation_id)
    assert found is not None
    found.status, found.finished_at = "done", utcnow()
    found.baseline_version_id = baseline.id
    found.decisions, found.latest_decision_id = result.decisions, latest
    found.result = to_json(result)
    found.message = f"{result.decisions} decisions replayed; {result.changed} would change"
    audit.act_as(session, actor.id if actor else None)
    session.commit()
    jobs.clear_progress(progress_key(simulation_id))
    return "done"

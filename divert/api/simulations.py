"""Policy simulations through the API: start one, then fetch its progress and result (aggregates
only, suppressed as published figures are), as the pages do."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import current_app, url_for
from flask_login import current_user
from pydantic import BaseModel, Field
from werkzeug.exceptions import NotFound

from divert.api import bp
from divert.api.errors import FieldProblem, Invalid
from divert.api.spec import operation
from divert.app.extensions import db
from divert.auth import can
from divert.background.simulations import SimulationRefused, queue_simulation
from divert.models import ProgrammeVersion, Simulation
from divert.monitoring.query import reach_of
from divert.monitoring.suppression import DEFAULT_THRESHOLD


class SimulationRequest(BaseModel):
    programme_version_id: int = Field(description="The version to replay: a draft or any stored version")
    dimension: str = Field("ethnicity_group", max_length=30, description="The breakdown, as in monitoring")
    date_from: date | None = Field(None, description="Encounters from this day (UK date)")
    date_to: date | None = Field(None, description="Encounters until this day (UK date)")


class SimulationOut(BaseModel):
    id: int
    status: str = Field(description="queued, running, done or failed")
    message: str
    programme: str
    version: int
    dimension: str
    date_from: date | None
    date_to: date | None
    decisions: int
    created_at: datetime
    finished_at: datetime | None
    result: dict[str, Any] | None = Field(description="Counts by group and point; null where suppressed")
    url: str


def _out(simulation: Simulation) -> SimulationOut:
    return SimulationOut(
        id=simulation.id,
        status=simulation.status,
        message=simulation.message,
        programme=simulation.draft_version.programme.code,
        version=simulation.draft_version.version,
        dimension=simulation.dimension,
        date_from=simulation.date_from,
        date_to=simulation.date_to,
        decisions=simulation.decisions,
        created_at=simulation.created_at,
        finished_at=simulation.finished_at,
        result=simulation.result,
        url=url_for("api.get_simulation", simulation_id=simulation.id, _external=True),
    )


@operation(
    bp,
    "/simulations",
    method="POST",
    status=202,
    summary="Replay a programme version against the history, in the background",
    ability="run_simulation",
    body=SimulationRequest,
    response=SimulationOut,
)
def start_simulation(body: SimulationRequest) -> SimulationOut:
    """Only versions of programmes in the token's organisation's figures; follow it at ``url``."""
    version = db.session.get(ProgrammeVersion, body.programme_version_id)
    codes = {code for code, _ in reach_of(db.session, current_user.organisation).programmes}
    if version is None or version.programme.code not in codes:
        raise Invalid(
            [FieldProblem("programme_version_id", "No such version in your organisation's figures")]
        )
    try:
        simulation = queue_simulation(
            db.session,
            current_user,
            version,
            dimension=body.dimension,
            date_from=body.date_from,
            date_to=body.date_to,
            threshold=int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)),
        )
    except SimulationRefused as refused:
        raise Invalid([FieldProblem(refused.field or "body", str(refused))]) from None
    return _out(simulation)


@operation(
    bp,
    "/simulations/<int:simulation_id>",
    summary="A simulation's progress and result",
    ability="run_simulation",
    response=SimulationOut,
)
def get_simulation(simulation_id: int) -> SimulationOut:
    """Only the token's organisation's simulations are found."""
    simulation = db.session.get(Simulation, simulation_id)
    if simulation is None or not can(current_user, "run_simulation", simulation):
        raise NotFound()
    return _out(simulation)

"""Policy simulation pages: run a draft version against the history, follow it, read what would
change, and download the Equality Impact Assessment annex.

Aggregates only, in the organisation's reach (the figures its monitoring page has), suppressed as
published figures are whoever reads them: a simulation's result is for a scrutiny panel too.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from divert.app import jobs
from divert.app.db import reads_only
from divert.app.extensions import db
from divert.auth import can, requires
from divert.background.simulations import SimulationRefused, progress_key, queue_simulation
from divert.models import Programme, ProgrammeVersion, Simulation, audit
from divert.monitoring.annex import annex_context, write_annex_xlsx
from divert.monitoring.pdf import render_pdf
from divert.monitoring.points import DIMENSIONS
from divert.monitoring.query import reach_of
from divert.monitoring.simulation import COLUMNS
from divert.monitoring.suppression import DEFAULT_THRESHOLD
from divert.web.forms.simulations import SimulationForm

bp = Blueprint("simulations", __name__, url_prefix="/monitoring/simulations")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _versions() -> list[ProgrammeVersion]:
    """Every stored version of the programmes in the organisation's figures, drafts first."""
    codes = [code for code, _ in reach_of(db.session, current_user.organisation).programmes]
    if not codes:
        return []
    return list(
        db.session.scalars(
            select(ProgrammeVersion)
            .join(Programme)
            .where(Programme.code.in_(codes))
            .order_by(Programme.name, ProgrammeVersion.version.desc())
        )
    )


def _form(versions: list[ProgrammeVersion]) -> SimulationForm:
    form = SimulationForm()
    form.version.choices = [("", "Select a version")] + [
        (
            str(v.id),
            f"{v.programme.name}, version {v.version}{' (draft)' if v.is_draft else ''}, "
            f"from {v.effective_from:%d %B %Y}",
        )
        for v in versions
    ]
    return form


@bp.route("", methods=["GET", "POST"])
@requires("run_simulation")
def index() -> str | tuple[str, int] | Response:
    versions = _versions()
    form = _form(versions)
    if request.method == "GET" and request.args.get("version"):
        # Linked from a draft's page: that version chosen already.
        form.version.data = request.args["version"]
    if request.method == "POST":
        if form.validate():
            chosen = next(v for v in versions if str(v.id) == form.version.data)
            try:
                simulation = queue_simulation(
                    db.session,
                    current_user,
                    chosen,
                    dimension=form.dimension.data or "ethnicity_group",
                    date_from=form.date_from.data,
                    date_to=form.date_to.data,
                    threshold=_threshold(),
                )
            except SimulationRefused as refused:
                form.version.errors = [str(refused)]
            else:
                return redirect(url_for("simulations.show", simulation_id=simulation.id))
        status = 400
    else:
        status = 200
    earlier = db.session.scalars(
        select(Simulation)
        .where(Simulation.organisation_id == current_user.organisation_id)
        .order_by(Simulation.id.desc())
        .limit(20)
    ).all()
    return render_template("simulations/index.html", form=form, earlier=earlier, versions=versions), status


def _threshold() -> int:
    return int(current_app.config.get("MONITORING_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))


def _own(simulation_id: int) -> Simulation:
    found = db.session.get(Simulation, simulation_id)
    # Another organisation's simulation is not there at all, as far as this user can tell.
    if found is None or not can(current_user, "run_simulation", found):
        abort(404)
    return found


@bp.route("/<int:simulation_id>")
@reads_only
@requires("run_simulation")
def show(simulation_id: int) -> str:
    simulation = _own(simulation_id)
    live = {} if simulation.finished else jobs.progress(progress_key(simulation.id))
    context = annex_context(simulation) if simulation.status == "done" else {"simulation": simulation}
    return render_template("simulations/show.html", live=live, dimensions=DIMENSIONS, **context)


def _export(simulation: Simulation, kind: str) -> None:
    if simulation.status != "done":
        abort(404)
    audit.record(db.session, current_user, "export", "simulation", simulation.id, detail=f"annex as {kind}")


def _filename(simulation: Simulation, ext: str) -> str:
    draft = simulation.draft_version
    return f"simulation-{simulation.id}-{draft.programme.code}-v{draft.version}.{ext}"


@bp.route("/<int:simulation_id>/annex.pdf")
@requires("run_simulation")
def annex_pdf(simulation_id: int) -> Response:
    simulation = _own(simulation_id)
    _export(simulation, "PDF")
    html = render_template("simulations/annex_pdf.html", **annex_context(simulation))
    response = Response(render_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(simulation, "pdf")}"'
    return response


@bp.route("/<int:simulation_id>/annex.xlsx")
@requires("run_simulation")
def annex_xlsx(simulation_id: int) -> Response:
    simulation = _own(simulation_id)
    _export(simulation, "XLSX")
    out = io.BytesIO()
    write_annex_xlsx(annex_context(simulation), out)
    response = Response(out.getvalue(), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(simulation, "xlsx")}"'
    return response


@bp.route("/<int:simulation_id>/result.csv")
@requires("run_simulation")
def result_csv(simulation_id: int) -> Response:
    simulation = _own(simulation_id)
    _export(simulation, "CSV")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in (simulation.result or {}).get("rows", []):
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in COLUMNS})
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_filename(simulation, "csv")}"'
    return response

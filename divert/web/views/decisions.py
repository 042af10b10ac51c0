"""A supervisor's override of a rule decision (and the list to find one in), and the correction of a
mistaken step."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from divert.app.extensions import db
from divert.auth import requires
from divert.models import Decision
from divert.models.programme import compiled
from divert.pathways.cases import correct_last_step, override_decision
from divert.pathways.errors import OperationError
from divert.queries.worklists import not_eligible
from divert.web.forms.decisions import CorrectionForm, OverrideForm
from divert.web.shown import audit_shown
from divert.web.views.cases import case_or_404

bp = Blueprint("decisions", __name__)


@bp.route("/decisions/not-eligible")
@requires("override_decision")
def not_eligible_list() -> str:
    """The force's encounters found not eligible, each with the link to override its decision."""
    result = not_eligible(db.session, current_user, page=request.args.get("page", 1, type=int))
    audit_shown(
        f"not-eligible encounters, page {result.page}", "encounter", (d.encounter_id for d in result.rows)
    )
    return render_template(
        "decisions/not_eligible.html",
        result=result,
        failed={
            d.id: [r["text"] for r in d.reasons if not r["passed"]] or [d.override_reason]
            for d in result.rows
        },
    )


@bp.route("/decisions/<int:decision_id>/override", methods=["GET", "POST"])
@requires("override_decision")
def override(decision_id: int) -> str | Response | tuple[str, int]:
    decision = db.session.get(Decision, decision_id)
    if decision is None or decision.encounter.organisation_id != current_user.organisation_id:
        abort(404)
    definition = compiled(decision.programme_version)
    form = OverrideForm()
    form.set_routes([(route.id, route.name) for route in definition.routes])
    form.set_reasons(definition)
    if form.validate_on_submit():
        try:
            override_decision(
                db.session,
                current_user,
                decision,
                reason=form.reason.data or "",
                reason_code=form.reason_code.data or None,
                **form.decision(),
            )
        except OperationError as error:
            form.reason.errors = [str(error)]
        else:
            flash("Decision overridden. The original decision is kept beside it.", "success")
            return redirect(url_for("encounters.show", encounter_id=decision.encounter_id))
    status = 400 if form.errors else 200
    return render_template(
        "decisions/override.html", form=form, decision=decision, definition=definition
    ), status


@bp.route("/cases/<int:case_id>/correct", methods=["GET", "POST"])
@requires("correct_step")
def correct(case_id: int) -> str | Response | tuple[str, int]:
    case = case_or_404(case_id)
    form = CorrectionForm()
    if request.method == "GET":
        form.version_id.data = str(case.version_id)
    if form.validate_on_submit():
        try:
            correct_last_step(
                db.session, current_user, case, form.reason.data, seen_version=form.version_id.version()
            )
        except OperationError as error:
            form.reason.errors = [str(error)]
        else:
            flash(
                "The last step was corrected. Both the step and its correction stay on the timeline.",
                "success",
            )
            return redirect(url_for("cases.show", case_id=case.id))
    state = compiled(case.programme_version).state(case.state)
    status = 400 if form.errors else 200
    return render_template("decisions/correct.html", form=form, case=case, state=state), status

"""Working a case from its page: the next step, appointments, attendance, needs, the contract.

Each handler validates, calls one operation and redirects back to the case; on a problem the case
page is shown again with the error and what was typed, and nothing is saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from divert.app.clock import today
from divert.app.extensions import db
from divert.app.ids import parse_id, parse_version
from divert.auth import requires
from divert.models import CaseContact, CaseGoal, Contract, ContractCondition, Referral, ReferralEvent
from divert.models.programme import compiled
from divert.pathways.casework import (
    add_note,
    record_attendance,
    record_goal,
    record_needs_assessment,
    schedule_contact,
    update_goal,
)
from divert.pathways.contracts import draw_up_contract, record_condition_progress, vary_contract
from divert.pathways.errors import OperationError, StaleEdit
from divert.pathways.steps import next_steps, take_step
from divert.rules.codes import phrase
from divert.web.filters import uk_datetime
from divert.web.forms.casework import AttendanceForm, ContactForm, NoteForm, StepForm
from divert.web.views.cases import CASE_PAGE, case_or_404, render_case

bp = Blueprint("casework", __name__)


def _back(case: Referral, message: str) -> Response:
    flash(message, "success")
    return redirect(url_for("cases.show", case_id=case.id))


def _again(case: Referral, problem: str | OperationError | None = None, **forms: Any) -> tuple[str, int]:
    """The case page again, with the problem, what was typed, and (if stale) what changed meanwhile."""
    db.session.rollback()
    fresh = case_or_404(case.id, *CASE_PAGE)
    problems = [str(problem)] if problem else []
    if isinstance(problem, StaleEdit):
        problems.append(latest_change(fresh))
    return render_case(fresh, forms, problems), 409 if isinstance(problem, StaleEdit) else 400


def latest_change(case: Referral) -> str:
    event = db.session.scalar(
        select(ReferralEvent)
        .where(ReferralEvent.referral_id == case.id)
        .order_by(ReferralEvent.id.desc())
        .limit(1)
    )
    state = compiled(case.programme_version).state(case.state).name
    if event is None:
        return f"The case is now '{state}'."
    who = event.actor.name if event.actor else "divert"
    what = phrase(event.kind)
    when = uk_datetime(event.occurred_at)
    return f"The case is now '{state}'. The latest change was a {what} by {who} at {when}."


@bp.route("/conditions/<int:condition_id>/progress", methods=["POST"])
@requires("work_case")
def condition_progress(condition_id: int) -> Response | tuple[str, int]:
    condition = db.session.get(ContractCondition, condition_id)
    if condition is None:
        abort(404)
    case = case_or_404(condition.contract.referral_id)
    try:
        record_condition_progress(
            db.session,
            current_user,
            condition,
            note=request.form.get("note", ""),
            met=request.form.get("met") == "yes",
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Progress recorded.")


@bp.route("/cases/<int:case_id>/notes", methods=["POST"])
@requires("work_case")
def note(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    form = NoteForm(prefix="note")
    if not form.validate_on_submit():
        return _again(case, note=form)
    try:
        add_note(db.session, current_user, case, form.text.data, form.visibility.data or "team")
    except OperationError as error:
        return _again(case, error, note=form)
    return _back(case, "Note added.")


@bp.route("/cases/<int:case_id>/goals", methods=["POST"])
@requires("work_case")
def goal(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    raw = (request.form.get("starts_on") or "").strip()
    try:
        starts_on = date.fromisoformat(raw) if raw else None
    except ValueError:
        return _again(case, "Enter the start date as a real date, for example 2026-12-14")
    try:
        record_goal(
            db.session,
            current_user,
            case,
            kind=request.form.get("kind", ""),
            placement=request.form.get("placement", ""),
            starts_on=starts_on,
            status=request.form.get("status", "planned"),
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Goal added.")


@bp.route("/goals/<int:goal_id>/status", methods=["POST"])
@requires("work_case")
def goal_status(goal_id: int) -> Response | tuple[str, int]:
    found = db.session.get(CaseGoal, goal_id)
    if found is None:
        abort(404)
    case = case_or_404(found.referral_id)
    seen = request.form.get("version_id", "")
    try:
        update_goal(
            db.session,
            current_user,
            found,
            request.form.get("status", ""),
            seen_version=int(seen) if seen.isdigit() else None,
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Goal updated.")


@bp.route("/cases/<int:case_id>/step", methods=["POST"])
@requires("work_case")
def step(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    form = StepForm(prefix="step")
    form.to_state.choices = [(s.to_state, s.label) for s in next_steps(case, current_user.role)]
    form.exit_reason.choices = [("", "")] + [
        (r, r) for r in compiled(case.programme_version).drop_out_reasons
    ]
    # A stale form is answered as stale first: its choices may no longer exist, and "someone else
    # changed this case" is the useful message, not "not a valid choice".
    seen = parse_version(form.version_id.data)
    if seen is not None and seen != case.version_id:
        return _again(case, StaleEdit("case"), step=form)
    if not form.validate_on_submit():
        return _again(case, step=form)
    try:
        take_step(
            db.session,
            current_user,
            case,
            form.to_state.data,
            form.reason.data or "",
            exit_reason=form.exit_reason.data or None,
            seen_version=form.version_id.version(),
        )
        db.session.flush()
    except StaleDataError:
        return _again(case, StaleEdit("case"), step=form)
    except OperationError as error:
        return _again(case, error, step=form)
    return _back(case, "Step saved.")


@bp.route("/cases/<int:case_id>/contacts", methods=["POST"])
@requires("work_case")
def book(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    form = ContactForm(prefix="book")
    if not form.validate_on_submit():
        return _again(case, contact=form)
    try:
        schedule_contact(
            db.session, current_user, case, kind=form.kind.data, scheduled_at=form.scheduled_at()
        )
    except OperationError as error:
        return _again(case, error, contact=form)
    return _back(case, "Appointment booked.")


@bp.route("/contacts/<int:contact_id>/attendance", methods=["POST"])
@requires("work_case")
def attendance(contact_id: int) -> Response | tuple[str, int]:
    contact = db.session.get(CaseContact, contact_id)
    if contact is None:
        abort(404)
    case = case_or_404(contact.referral_id)
    form = AttendanceForm(prefix=f"c{contact.id}")
    key = f"attendance-{contact.id}"
    if not form.validate_on_submit():
        return _again(case, **{key: form})
    try:
        record_attendance(
            db.session,
            current_user,
            contact,
            attendance=form.attendance.data,
            missed_reason=form.missed_reason.data or "",
            reason_acceptable=form.acceptable(),
            notes=form.notes.data or "",
            seen_version=form.version_id.version(),
        )
        db.session.flush()
    except StaleDataError:
        return _again(case, StaleEdit("appointment"), **{key: form})
    except OperationError as error:
        return _again(case, error, **{key: form})
    return _back(case, "Attendance saved.")


@bp.route("/cases/<int:case_id>/needs", methods=["POST"])
@requires("work_case")
def needs(case_id: int) -> Response | tuple[str, int]:
    # The areas come from the programme definition, so this form is built from data, not a class.
    case = case_or_404(case_id)
    areas = [
        {"area": key.removeprefix("need-"), "level": value}
        for key, value in request.form.items()
        if key.startswith("need-") and value
    ]
    try:
        record_needs_assessment(
            db.session,
            current_user,
            case,
            assessed_on=today(),
            needs=areas,
            summary=(request.form.get("summary") or "").strip(),
            # Left unset (an older page, a script), an assessment stays with the working team.
            visibility=request.form.get("visibility") or "team",
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Needs assessment saved.")


@bp.route("/cases/<int:case_id>/contract", methods=["POST"])
@requires("work_case")
def contract(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    definition = compiled(case.programme_version)
    if definition.contract is None:
        abort(404)
    conditions: list[dict[str, Any]] = []
    hours: int | None = None
    for group in definition.contract.conditions:
        if group.options:
            for pathway in request.form.getlist(f"group-{group.id}"):
                conditions.append({"group": group.id, "pathway": pathway, "description": ""})
        elif group.hours_min is not None or group.hours_max is not None:
            raw = (request.form.get(f"group-{group.id}") or "").strip()
            if raw:
                if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
                    return _again(case, f"Enter the hours of {group.label.lower()} as a whole number")
                hours = int(raw)
        elif group.min == 0 or group.max > 0:
            text = (request.form.get(f"group-{group.id}") or "").strip()
            if text and group.id != "do_not_reoffend":
                conditions.append({"group": group.id, "description": text})
    try:
        draw_up_contract(
            db.session,
            current_user,
            case,
            starts_on=today(),
            conditions=conditions,
            voluntary_hours=hours,
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Contract drawn up and signed.")


@bp.route("/contracts/<int:contract_id>/vary", methods=["POST"])
@requires("work_case")
def vary(contract_id: int) -> Response | tuple[str, int]:
    found = db.session.get(Contract, contract_id)
    if found is None:
        abort(404)
    case = case_or_404(found.referral_id)
    seen = parse_version(request.form.get("version_id") or "0")
    if seen is None:
        return _again(case, "Reload the page and try again: the version of the form is not valid")
    remove = [i for i in map(parse_id, request.form.getlist("remove")) if i is not None]
    add = []
    pathway = (request.form.get("add_pathway") or "").strip()
    if pathway:
        add.append({"group": request.form.get("add_group") or "", "pathway": pathway, "description": ""})
    try:
        vary_contract(
            db.session,
            current_user,
            found,
            remove_condition_ids=remove,
            add_conditions=add,
            reason=(request.form.get("reason") or "").strip(),
            seen_version=seen,
        )
        db.session.flush()
    except StaleDataError:
        return _again(case, StaleEdit("contract"))
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Contract varied.")

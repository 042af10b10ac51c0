"""Reminders and notices in the browser: a participant's agreement, moving an appointment, the
words of messages (administrators), and a member of staff dismissing a notice.

Each handler calls one operation and goes back to the case (or list); a problem shows the case page
again with the error summary, and nothing is saved.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from divert.app.clock import at_uk_time
from divert.app.extensions import db
from divert.auth import requires
from divert.models import CaseContact, StaffNotification, audit, utcnow
from divert.pathways.casework import move_contact
from divert.pathways.errors import OperationError
from divert.pathways.reminders import record_consent, save_wording, withdraw_consent
from divert.queries.messages import wording
from divert.rules import codes
from divert.rules.messages import LANGUAGES, MESSAGE_KINDS, fields_for
from divert.web.views.cases import case_or_404
from divert.web.views.casework import _again, _back

bp = Blueprint("messages", __name__)


@bp.route("/cases/<int:case_id>/reminders", methods=["POST"])
@requires("work_case")
def consent(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    form = request.form
    try:
        record_consent(
            db.session,
            current_user,
            case,
            channel=form.get("channel", ""),
            phone=form.get("phone", "")[:40],
            email=form.get("email", "")[:254],
            language=form.get("language", "en"),
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Reminders agreed.")


@bp.route("/cases/<int:case_id>/reminders/withdraw", methods=["POST"])
@requires("work_case")
def withdraw(case_id: int) -> Response | tuple[str, int]:
    case = case_or_404(case_id)
    try:
        withdraw_consent(db.session, current_user, case)
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Reminders stopped; those queued are cancelled.")


@bp.route("/contacts/<int:contact_id>/move", methods=["POST"])
@requires("work_case")
def move(contact_id: int) -> Response | tuple[str, int]:
    contact = db.session.get(CaseContact, contact_id)
    if contact is None:
        abort(404)
    case = case_or_404(contact.referral_id)
    try:
        day = date.fromisoformat(request.form.get("day", "")[:10])
        when = at_uk_time(day, codes.time_of_day(request.form.get("time", "")[:10]))
    except (ValueError, codes.InvalidValue):
        return _again(case, "Enter the new date as a real date and the time in the 24-hour clock, like 14:30")
    seen = request.form.get("version_id", "")
    try:
        move_contact(
            db.session,
            current_user,
            contact,
            scheduled_at=when,
            seen_version=int(seen) if seen.isdigit() else None,
        )
    except OperationError as error:
        return _again(case, error)
    return _back(case, "Appointment moved; its reminders follow it.")


@bp.route("/notices/<int:notice_id>/read", methods=["POST"])
@requires("use_service")
def read(notice_id: int) -> Response:
    notice = db.session.get(StaffNotification, notice_id)
    # Someone else's notice is as good as absent.
    if notice is None or notice.user_id != current_user.id:
        abort(404)
    notice.read_at = notice.read_at or utcnow()
    return redirect(url_for("main.home"))


@bp.route("/admin/messages", methods=["GET", "POST"])
@requires("manage_programmes")
def words() -> str | tuple[str, int]:
    problem = None
    if request.method == "POST":
        try:
            save_wording(
                db.session,
                current_user,
                kind=request.form.get("kind", ""),
                language=request.form.get("language", ""),
                programme_code=request.form.get("programme_code", "")[:60],
                subject=request.form.get("subject", "")[:1000],
                body=request.form.get("body", "")[:5000],
            )
        except OperationError as error:
            db.session.rollback()
            problem = str(error)
    audit.record(db.session, current_user, "view", "message_template", None, detail="wording")
    page = render_template(
        "messages/words.html",
        rows=wording(db.session),
        kinds=MESSAGE_KINDS,
        languages=LANGUAGES,
        fields_for=fields_for,
        problem=problem,
        saved=request.method == "POST" and problem is None,
    )
    return (page, 400) if problem else page

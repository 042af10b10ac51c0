"""Retention review for administrators, and restriction of a person's record.

The review lists what is due under the retention rules among the records the administrator's
organisation holds (counts by programme and kind, then the people), and on confirmation queues
the background job that anonymises and erases them (divert/background/retention.py).
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from divert.app.clock import today
from divert.app.extensions import db
from divert.auth import requires
from divert.auth.visibility import held_people
from divert.background.retention import queue_retention
from divert.models import Job, Person
from divert.pathways.errors import OperationError, StaleEdit
from divert.pathways.restriction import lift, restrict
from divert.pathways.retention import retention_from_settings, review
from divert.web.forms.retention import RestrictionForm, RetentionForm
from divert.web.shown import audit_shown

bp = Blueprint("retention", __name__)


def _as_of(text: str | None) -> date | None:
    if not text:
        return today()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@bp.route("/admin/retention", methods=["GET", "POST"])
@requires("review_retention")
def review_page() -> str | Response | tuple[str, int]:
    form = RetentionForm()
    as_of = _as_of(request.values.get("as_of"))
    if as_of is None:
        page_errors = [
            {"text": "Enter the review date as a real date, like 2032-04-01", "href": "#review-date"}
        ]
        return render_template("retention/review.html", form=form, found=None, page_errors=page_errors), 400
    try:
        rules = retention_from_settings(db.session, current_app.config)
    except OperationError as error:
        abort(500, str(error))
    found = review(db.session, rules, as_of, current_user.organisation_id)
    if request.method == "POST" and form.validate_on_submit():
        if not found.people:
            flash("Nothing is due for review as of that day.", "success")
            return redirect(url_for("retention.review_page", as_of=as_of.isoformat()))
        job = queue_retention(db.session, current_user, as_of, found.ids(), form.reason.data.strip())
        return redirect(url_for("retention.job", job_id=job.id))
    form.as_of.data = as_of.isoformat()
    audit_shown(f"retention review as of {as_of.isoformat()}", "person", found.ids())
    status = 400 if form.errors else 200
    return render_template("retention/review.html", form=form, found=found, page_errors=None), status


@bp.route("/admin/retention/jobs/<int:job_id>")
@requires("review_retention")
def job(job_id: int) -> str:
    found = db.session.get(Job, job_id)
    # Another organisation's job is not there at all, as far as this user can tell.
    if found is None or found.kind != "retention" or found.organisation_id != current_user.organisation_id:
        abort(404)
    return render_template("retention/job.html", job=found)


@bp.route("/people/<int:person_id>/restriction", methods=["GET", "POST"])
@requires("restrict_processing")
def restriction(person_id: int) -> str | Response | tuple[str, int]:
    person = db.session.scalar(held_people(current_user).where(Person.id == person_id))
    if person is None:
        abort(404)
    form = RestrictionForm()
    if request.method == "GET":
        form.version.data = str(person.version_id)
    if form.validate_on_submit():
        change = lift if person.restricted_at is not None else restrict
        try:
            change(db.session, current_user, person, form.reason.data, int(form.version.data or 0))
        except (StaleEdit, StaleDataError):
            db.session.rollback()
            abort(409)
        except OperationError as error:
            form.reason.errors = [str(error)]
        else:
            flash("Restriction lifted." if change is lift else "Processing restricted.", "success")
            return redirect(url_for("people.show", person_id=person.id))
    status = 400 if form.errors else 200
    return render_template("retention/restriction.html", form=form, person=person), status
